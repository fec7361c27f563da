//! The 情報連絡 chain end to end over HTTP: routes, forwarding, numbering, follow-ups,
//! shares, TLP tightening and disclosure consent.

mod common;

use kyoyu_app::views::{ForwardPreview, Me, OrgList, PublishedList, ReportList, ReportView};
use kyoyu_domain::codes::ReportStatus;
use kyoyu_domain::Tlp;

use common::{fields, report_body, spawn_demo};
use serde_json::json;

fn assert_identifier_shape(ident: &str) {
    let parts: Vec<&str> = ident.split('-').collect();
    assert!(parts[0].starts_with('R') && parts[0].len() == 5, "{ident}");
    assert_eq!(parts[1].len(), 4, "{ident}");
}

#[tokio::test]
async fn direct_route_reaches_the_ministry_and_the_coordinator_numbers_it() {
    let app = spawn_demo().await;
    let first = app.file("gas-a.ntk", "direct", "AMBER", json!({})).await;
    assert_eq!(first.identifier, None);
    assert_eq!(first.receiver_org_id, app.org("meti.liaison"));
    let rid = first.id;

    assert_eq!(app.get(&format!("/api/v1/reports/{rid}"), "meti.liaison").await.0, 200);
    assert_eq!(app.get(&format!("/api/v1/reports/{rid}"), "nisc.cip").await.0, 404, "not sent to the coordinator yet");
    assert_eq!(app.list_ids("nisc.cip", "").await.len(), 0);

    let fwd = app.forward(&rid, "meti.liaison", json!({})).await;
    let ident = fwd.identifier.clone().unwrap();
    assert_identifier_shape(&ident);
    assert!(ident.ends_with("-0001"), "{ident}");
    assert_eq!(fwd.sender_org_id, Some(app.org("meti.liaison")));
    assert_eq!(fwd.receiver_org_id, app.org("nisc.cip"));

    let coord_view: ReportView = app.typed(&format!("/api/v1/reports/{}", fwd.id), "nisc.cip").await;
    assert_eq!(coord_view.identifier.as_deref(), Some(ident.as_str()));
    for login in ["meti.liaison", "gas-a.ntk"] {
        let body: ReportView = app.typed(&format!("/api/v1/reports/{rid}"), login).await;
        assert_eq!(body.identifier.as_deref(), Some(ident.as_str()), "{login} sees the identifier");
        assert_eq!(body.status, ReportStatus::Forwarded);
    }
    // The originator reads the coordinator's rendition of its own report.
    assert_eq!(app.get(&format!("/api/v1/reports/{}", fwd.id), "gas-a.ntk").await.0, 200);

    let second = app.file("water-a.ntk", "direct", "GREEN", json!({})).await;
    let fwd2 = app.forward(&second.id, "mhlw.liaison", json!({})).await;
    assert!(fwd2.identifier.unwrap().ends_with("-0002"));
}

#[tokio::test]
async fn urgent_route_copies_the_coordinator_at_once() {
    let app = spawn_demo().await;
    let first = app.file("railway-a.ntk", "urgent", "AMBER", json!({})).await;
    assert_eq!(first.receiver_org_id, app.org("mlit.liaison"));
    let ident = first.identifier.clone().expect("numbered on the coordinator's receipt");
    let coord = app.list_ids("nisc.cip", "").await;
    assert_eq!(coord.len(), 1);
    let copy: ReportView = app.typed(&format!("/api/v1/reports/{}", coord[0]), "nisc.cip").await;
    assert_eq!(copy.sender_org_id, Some(app.org("railway-a.ntk")));
    assert_eq!(copy.identifier, Some(ident));
    assert_eq!(app.list_ids("mlit.liaison", "").await, vec![first.id]);
}

#[tokio::test]
async fn anonymised_statutory_report_is_refused() {
    let app = spawn_demo().await;
    let body = report_body("gas", "anonymised", "AMBER", json!({"statutory": true}));
    let (status, err) = app.post_refused("/api/v1/reports", "gas-a.ntk", body).await;
    assert_eq!((status, fields(&err)), (422, vec!["route".to_string()]));
    assert_eq!(app.list_ids("gas-ceptoar.secretariat", "").await.len(), 0);
}

#[tokio::test]
async fn anonymised_route_hides_the_operator_from_ministry_and_coordinator() {
    let app = spawn_demo().await;
    let login = "electricity-a.ntk";
    let org_name = app.typed::<Me>("/api/v1/me", login).await.org.name_ja;
    let orgs: OrgList = app.typed("/api/v1/orgs", "ops.admin").await;
    let profile = orgs.items.into_iter().find(|o| o.id == app.org(login)).unwrap().identity.unwrap();
    let (domain, phone) = (profile.domains[0].clone(), profile.phones[0].clone());
    let text = format!("{org_name}の制御系で異常。連絡は {login} 宛、csirt@{domain}、電話 {phone}");
    let extra = json!({
        "operator_name": org_name,
        "summary": {"description": text, "discovered_at": "2026-04-01T10:00:00+09:00"},
        "timeline": [{"at": "2026-04-01T09:00:00+09:00", "text": format!("{org_name} SOC が検知")}],
        "lessons": format!("www.{domain} の設定を見直す"),
    });
    let first = app.file(login, "anonymised", "AMBER", extra).await;
    let ceptoar = app.org("electricity-ceptoar.secretariat");
    assert_eq!(first.receiver_org_id, ceptoar);

    // The secretariat knows the operator and sees what will be removed before it sends.
    let secretariat = "electricity-ceptoar.secretariat";
    let held: ReportView = app.typed(&format!("/api/v1/reports/{}", first.id), secretariat).await;
    assert_eq!(held.sender_org_id, Some(app.org(login)));
    let preview: ForwardPreview =
        app.post_as(&format!("/api/v1/reports/{}/forward-preview", first.id), secretariat, json!({})).await;
    let removed: Vec<String> = preview.removed.into_iter().map(|r| r.field).collect();
    for field in ["operator_name", "summary.description", "timeline[0].text", "lessons"] {
        assert!(removed.iter().any(|f| f == field), "{field} not in {removed:?}");
    }

    let to_ministry = app.forward(&first.id, "electricity-ceptoar.secretariat", json!({})).await;
    let to_coordinator = app.forward(&to_ministry.id, "meti.liaison", json!({})).await;
    let secrets = [org_name.as_str(), login, domain.as_str(), phone.as_str(), &app.org(login)];
    for (reader, rid) in [("meti.liaison", to_ministry.id), ("nisc.cip", to_coordinator.id)] {
        let (status, body) = app.get(&format!("/api/v1/reports/{rid}"), reader).await;
        assert_eq!(status, 200);
        assert_eq!(common::view::<ReportView>(&body).content.operator_name, None);
        let (_, list) = app.get("/api/v1/reports?limit=100", reader).await;
        for text in [body.to_string(), list.to_string()] {
            for s in secrets {
                assert!(!text.contains(s), "{reader} sees {s}: {text}");
            }
        }
        // The operator's own rendition stays out of their reach.
        assert_eq!(app.get(&format!("/api/v1/reports/{}", first.id), reader).await.0, 404);
    }
    let ident = to_coordinator.identifier.expect("numbered at the coordinator");

    // A follow-up takes the same route and keeps the chain; only the secretariat knows who.
    let follow: ReportView = app
        .post_as(
            &format!("/api/v1/reports/{}/follow-ups", first.id),
            login,
            report_body("electricity", "anonymised", "AMBER", json!({})),
        )
        .await;
    assert_eq!(follow.sequence, 2);
    assert_eq!(follow.receiver_org_id, ceptoar);
    assert_eq!(follow.identifier, Some(format!("{ident}-2")));
    let fwd = app.forward(&follow.id, secretariat, json!({})).await;
    let ministry_view: ReportView = app.typed(&format!("/api/v1/reports/{}", fwd.id), "meti.liaison").await;
    assert_eq!(ministry_view.chain_id, to_ministry.chain_id);
    assert_eq!(ministry_view.identifier, Some(format!("{ident}-2")));
}

#[tokio::test]
async fn follow_ups_are_numbered_and_seen_in_order() {
    let app = spawn_demo().await;
    let first = app.file("finance-a.ntk", "direct", "AMBER", json!({})).await;
    let fwd = app.forward(&first.id, "fsa.liaison", json!({})).await;
    let ident = fwd.identifier.clone().unwrap();
    for n in 2..=3 {
        let f: ReportView = app
            .post_as(
                &format!("/api/v1/reports/{}/follow-ups", first.id),
                "finance-a.ntk",
                report_body("finance", "direct", "AMBER", json!({})),
            )
            .await;
        assert_eq!(f.sequence, n);
        assert_eq!(f.identifier, Some(format!("{ident}-{n}")));
        app.forward(&f.id, "fsa.liaison", json!({})).await;
    }
    let chain = &fwd.chain_id;
    for reader in ["nisc.cip", "fsa.liaison", "finance-a.ntk"] {
        let list: ReportList = app.typed(&format!("/api/v1/reports?chain_id={chain}"), reader).await;
        let seqs: Vec<i64> = list.items.iter().map(|i| i.sequence).collect();
        let mut sorted = seqs.clone();
        sorted.sort();
        assert_eq!(seqs, sorted, "{reader}");
        assert_eq!(*seqs.last().unwrap(), 3, "{reader}");
    }
    // Only the original sender files follow-ups.
    let body = report_body("finance", "direct", "AMBER", json!({}));
    assert_eq!(app.post(&format!("/api/v1/reports/{}/follow-ups", first.id), "fsa.liaison", body.clone()).await.0, 403);
    assert_eq!(app.post(&format!("/api/v1/reports/{}/follow-ups", first.id), "finance-b.ntk", body).await.0, 404);
}

#[tokio::test]
async fn a_forward_may_tighten_the_tlp_but_never_loosen_it() {
    let app = spawn_demo().await;
    let first = app.file("gas-a.ntk", "direct", "AMBER", json!({})).await;
    let (status, err) = app
        .post_refused(&format!("/api/v1/reports/{}/forward", first.id), "meti.liaison", json!({"tlp": "GREEN"}))
        .await;
    assert_eq!((status, fields(&err)), (422, vec!["tlp".to_string()]));
    assert_eq!(app.list_ids("nisc.cip", "").await.len(), 0, "a refused forward writes nothing");
    let fwd =
        app.forward(&first.id, "meti.liaison", json!({"tlp": "RED", "summary": {"description": "省庁で要約"}})).await;
    assert_eq!(fwd.content.tlp, Tlp::Red);
    assert_eq!(fwd.content.summary.description.as_deref(), Some("省庁で要約"));
    // Only the receiver's liaison forwards.
    let other = app.file("gas-a.ntk", "direct", "AMBER", json!({})).await;
    assert_eq!(app.post(&format!("/api/v1/reports/{}/forward", other.id), "meti.ntk", json!({})).await.0, 403);
    assert_eq!(app.post(&format!("/api/v1/reports/{}/forward", other.id), "gas-a.ntk", json!({})).await.0, 403);
}

#[tokio::test]
async fn shares_reach_only_organisations_inside_the_ceiling() {
    let app = spawn_demo().await;
    let amber = app.file("gas-a.ntk", "direct", "AMBER", json!({})).await;
    let rid = amber.id;
    let share = |org: String| json!({"org_ids": [org]});
    // Ministry -> the CEPTOAR of the concerned sector.
    let (status, body) = app
        .post(&format!("/api/v1/reports/{rid}/shares"), "meti.liaison", share(app.org("gas-ceptoar.secretariat")))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(app.get(&format!("/api/v1/reports/{rid}"), "gas-ceptoar.ntk").await.0, 200);
    assert_eq!(
        app.get(&format!("/api/v1/reports/{rid}"), "gas-ceptoar.member").await.0,
        404,
        "AMBER needs need-to-know"
    );
    // A CEPTOAR of another sector is outside AMBER.
    let (status, err) = app
        .post_refused(
            &format!("/api/v1/reports/{rid}/shares"),
            "meti.liaison",
            share(app.org("water-ceptoar.secretariat")),
        )
        .await;
    assert_eq!((status, fields(&err)), (422, vec!["org_ids".to_string()]));
    // The CEPTOAR relays to a member operator.
    assert_eq!(app.get(&format!("/api/v1/reports/{rid}"), "gas-b.ntk").await.0, 404);
    assert_eq!(
        app.post(&format!("/api/v1/reports/{rid}/shares"), "gas-ceptoar.secretariat", share(app.org("gas-b.ntk")))
            .await
            .0,
        200
    );
    assert_eq!(app.get(&format!("/api/v1/reports/{rid}"), "gas-b.ntk").await.0, 200);

    // RED reaches the two ends only, but the coordinator may share with an analysis partner.
    let red = app.file("gas-a.ntk", "direct", "RED", json!({})).await;
    assert_eq!(
        app.post(
            &format!("/api/v1/reports/{}/shares", red.id),
            "meti.liaison",
            share(app.org("gas-ceptoar.secretariat"))
        )
        .await
        .0,
        422
    );
    let fwd = app.forward(&red.id, "meti.liaison", json!({})).await;
    assert_eq!(
        app.post(&format!("/api/v1/reports/{}/shares", fwd.id), "nisc.cip", share(app.org("vendor.admin"))).await.0,
        422
    );
    assert_eq!(
        app.post(&format!("/api/v1/reports/{}/shares", fwd.id), "nisc.cip", share(app.org("institute.admin"))).await.0,
        200
    );
    assert_eq!(app.get(&format!("/api/v1/reports/{}", fwd.id), "institute.ntk").await.0, 200);
    assert_eq!(app.get(&format!("/api/v1/reports/{}", fwd.id), "institute.member").await.0, 404);

    // An operator shares a GREEN report within its own CEPTOAR, not beyond it.
    let green = app.file("water-a.ntk", "direct", "GREEN", json!({})).await;
    let gid = green.id;
    assert_eq!(
        app.post(&format!("/api/v1/reports/{gid}/shares"), "water-a.member", share(app.org("water-ceptoar.admin")))
            .await
            .0,
        200
    );
    assert_eq!(
        app.get(&format!("/api/v1/reports/{gid}"), "water-ceptoar.member").await.0,
        200,
        "GREEN reaches every user"
    );
    assert_eq!(
        app.post(&format!("/api/v1/reports/{gid}/shares"), "water-a.member", share(app.org("gas-ceptoar.admin")))
            .await
            .0,
        422
    );
    // All or nothing.
    let both = json!({"org_ids": [app.org("water-b.admin"), app.org("gas-b.admin")]});
    assert_eq!(app.post(&format!("/api/v1/reports/{gid}/shares"), "water-a.member", both).await.0, 422);
    assert_eq!(app.get(&format!("/api/v1/reports/{gid}"), "water-b.member").await.0, 404);
}

#[tokio::test]
async fn named_extra_recipients_read_beyond_the_scope() {
    let app = spawn_demo().await;
    let police = app.org("police.admin");
    let red = app.file("port-a.ntk", "direct", "RED", json!({"extra_recipient_org_ids": [police]})).await;
    assert_eq!(app.get(&format!("/api/v1/reports/{}", red.id), "police.ntk").await.0, 200);
    assert_eq!(app.get(&format!("/api/v1/reports/{}", red.id), "police.member").await.0, 404);
    let (status, err) = app
        .post_refused(
            "/api/v1/reports",
            "port-a.ntk",
            report_body("port", "direct", "RED", json!({"extra_recipient_org_ids": ["nope"]})),
        )
        .await;
    assert_eq!((status, fields(&err)), (422, vec!["extra_recipient_org_ids[0]".to_string()]));
}

#[tokio::test]
async fn disclosure_needs_the_originators_consent() {
    let app = spawn_demo().await;
    let white = app.file("medical-a.ntk", "direct", "WHITE", json!({})).await;
    let fwd = app.forward(&white.id, "mhlw.liaison", json!({})).await;
    let publish = format!("/api/v1/reports/{}/publish", fwd.id);
    let (status, err) = app.post_refused(&publish, "nisc.cip", json!({})).await;
    assert_eq!((status, fields(&err)), (422, vec!["disclosure_consent".to_string()]));
    let public = || async {
        let (_, list) = app.request(reqwest::Method::GET, "/api/v1/public/reports", None, None).await;
        common::view::<PublishedList>(&list).items
    };
    assert!(public().await.is_empty());

    let consent = format!("/api/v1/reports/{}/disclosure-consent", white.id);
    assert_eq!(app.post(&consent, "mhlw.liaison", json!({})).await.0, 403);
    assert_eq!(app.post(&consent, "medical-b.admin", json!({})).await.0, 404);
    let consented: ReportView = app.post_as(&consent, "medical-a.admin", json!({})).await;
    assert!(consented.disclosure_consent);

    assert_eq!(app.post(&publish, "mhlw.liaison", json!({})).await.0, 403);
    assert_eq!(app.post(&publish, "nisc.cip", json!({})).await.0, 200);
    assert_eq!(public().await[0].id, fwd.id);

    // Consent does not make a non-WHITE report publishable.
    let green = app.file("medical-a.ntk", "direct", "GREEN", json!({})).await;
    let gf = app.forward(&green.id, "mhlw.liaison", json!({})).await;
    app.post(&format!("/api/v1/reports/{}/disclosure-consent", green.id), "medical-a.admin", json!({})).await;
    assert_eq!(app.post(&format!("/api/v1/reports/{}/publish", gf.id), "nisc.cip", json!({})).await.0, 422);
}

fn offered(view: &ReportView) -> Vec<String> {
    view.actions.clone().expect("an item's actions").share_with
}

/// A report carries what its reader may do with it, and the operations accept exactly that.
#[tokio::test]
async fn a_report_offers_exactly_the_actions_its_reader_may_take() {
    let app = spawn_demo().await;
    let filed = app.file("gas-a.ntk", "direct", "GREEN", json!({})).await;
    let rid = filed.id.clone();
    let path = format!("/api/v1/reports/{rid}");
    let actions = filed.actions.clone().expect("an item's actions");
    assert!(actions.follow_up && actions.consent_to_disclosure);
    assert!(!actions.forward && !actions.publish);
    let targets = offered(&filed);
    assert!(targets.contains(&app.org("gas-b.ntk")), "an operator shares within its own sector: {targets:?}");
    assert!(targets.contains(&app.org("gas-ceptoar.secretariat")), "{targets:?}");
    assert!(!targets.contains(&app.org("meti.liaison")), "the receiver reads it already");
    assert!(!targets.contains(&app.org("water-a.ntk")), "another sector's operator is not offered");

    let shares = format!("{path}/shares");
    let refused = app.post(&shares, "gas-a.ntk", json!({"org_ids": [app.org("water-a.ntk")]})).await;
    assert_eq!(refused.0, 422, "{}", refused.1);
    let accepted = app.post(&shares, "gas-a.ntk", json!({"org_ids": targets})).await;
    assert_eq!(accepted.0, 200, "{}", accepted.1);
    assert_eq!(
        offered(&app.typed(&path, "gas-a.ntk").await),
        Vec::<String>::new(),
        "shared ones are not offered again"
    );

    // Read as their types: a renamed field fails here, not as a silent null.
    let as_member: ReportView = app.typed(&path, "meti.member").await;
    assert!(!as_member.actions.expect("an item's actions").forward);
    assert_eq!(app.post(&format!("{path}/forward"), "meti.member", json!({})).await.0, 403);
    let as_liaison: ReportView = app.typed(&path, "meti.liaison").await;
    let liaison_actions = as_liaison.actions.expect("an item's actions");
    assert!(liaison_actions.forward);
    // A list's items carry the same actions as the item itself.
    let list: ReportList =
        app.typed(&format!("/api/v1/reports?chain_id={}", as_liaison.chain_id), "meti.liaison").await;
    let listed = list.items.into_iter().find(|r| r.id == rid).expect("listed");
    assert_eq!(listed.actions, Some(liaison_actions));
    app.forward(&rid, "meti.liaison", json!({})).await;
    let forwarded: ReportView = app.typed(&path, "meti.liaison").await;
    assert!(!forwarded.actions.unwrap().forward, "forwarded once");
}
