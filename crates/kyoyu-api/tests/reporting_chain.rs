//! The 情報連絡 chain end to end over HTTP: routes, forwarding, numbering, follow-ups,
//! shares, TLP tightening and disclosure consent.

mod common;

use kyoyu_app::views::{ReportList, ReportView};

use common::{report_body, spawn_demo};
use serde_json::{json, Value};

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

fn assert_identifier_shape(ident: &str) {
    let parts: Vec<&str> = ident.split('-').collect();
    assert!(parts[0].starts_with('R') && parts[0].len() == 5, "{ident}");
    assert_eq!(parts[1].len(), 4, "{ident}");
}

#[tokio::test]
async fn direct_route_reaches_the_ministry_and_the_coordinator_numbers_it() {
    let app = spawn_demo().await;
    let first = app.file("gas-a.ntk", "direct", "AMBER", json!({})).await;
    assert_eq!(first["identifier"], Value::Null);
    assert_eq!(first["receiver_org_id"], app.org("meti.liaison"));
    let rid = id(&first);

    assert_eq!(app.get(&format!("/api/v1/reports/{rid}"), "meti.liaison").await.0, 200);
    assert_eq!(app.get(&format!("/api/v1/reports/{rid}"), "nisc.cip").await.0, 404, "not sent to the coordinator yet");
    assert_eq!(app.list_ids("nisc.cip", "").await.len(), 0);

    let fwd = app.forward(&rid, "meti.liaison", json!({})).await;
    let ident = fwd["identifier"].as_str().unwrap().to_string();
    assert_identifier_shape(&ident);
    assert!(ident.ends_with("-0001"), "{ident}");
    assert_eq!(fwd["sender_org_id"], app.org("meti.liaison"));
    assert_eq!(fwd["receiver_org_id"], app.org("nisc.cip"));

    let (_, coord_view) = app.get(&format!("/api/v1/reports/{}", id(&fwd)), "nisc.cip").await;
    assert_eq!(coord_view["identifier"], ident.as_str());
    for login in ["meti.liaison", "gas-a.ntk"] {
        let (status, body) = app.get(&format!("/api/v1/reports/{rid}"), login).await;
        assert_eq!(status, 200);
        assert_eq!(body["identifier"], ident.as_str(), "{login} sees the identifier");
        assert_eq!(body["status"], "forwarded");
    }
    // The originator reads the coordinator's rendition of its own report.
    assert_eq!(app.get(&format!("/api/v1/reports/{}", id(&fwd)), "gas-a.ntk").await.0, 200);

    let second = app.file("water-a.ntk", "direct", "GREEN", json!({})).await;
    let fwd2 = app.forward(&id(&second), "mhlw.liaison", json!({})).await;
    assert!(fwd2["identifier"].as_str().unwrap().ends_with("-0002"));
}

#[tokio::test]
async fn urgent_route_copies_the_coordinator_at_once() {
    let app = spawn_demo().await;
    let first = app.file("railway-a.ntk", "urgent", "AMBER", json!({})).await;
    assert_eq!(first["receiver_org_id"], app.org("mlit.liaison"));
    let ident = first["identifier"].as_str().expect("numbered on the coordinator's receipt").to_string();
    let coord = app.list_ids("nisc.cip", "").await;
    assert_eq!(coord.len(), 1);
    let (_, copy) = app.get(&format!("/api/v1/reports/{}", coord[0]), "nisc.cip").await;
    assert_eq!(copy["sender_org_id"], app.org("railway-a.ntk"));
    assert_eq!(copy["identifier"], ident.as_str());
    assert_eq!(app.list_ids("mlit.liaison", "").await, vec![id(&first)]);
}

#[tokio::test]
async fn anonymised_statutory_report_is_refused() {
    let app = spawn_demo().await;
    let body = report_body("gas", "anonymised", "AMBER", json!({"statutory": true}));
    let (status, err) = app.post("/api/v1/reports", "gas-a.ntk", body).await;
    assert_eq!(status, 422);
    assert_eq!(err["error"]["fields"][0]["field"], "route");
    assert_eq!(app.list_ids("gas-ceptoar.secretariat", "").await.len(), 0);
}

#[tokio::test]
async fn anonymised_route_hides_the_operator_from_ministry_and_coordinator() {
    let app = spawn_demo().await;
    let login = "electricity-a.ntk";
    let (_, me) = app.get("/api/v1/me", login).await;
    let org_name = me["org"]["name_ja"].as_str().unwrap().to_string();
    let (_, orgs) = app.get("/api/v1/orgs", "ops.admin").await;
    let profile = orgs["items"].as_array().unwrap().iter().find(|o| o["id"] == app.org(login)).unwrap().clone();
    let domain = profile["identity"]["domains"][0].as_str().unwrap().to_string();
    let phone = profile["identity"]["phones"][0].as_str().unwrap().to_string();
    let text = format!("{org_name}の制御系で異常。連絡は {login} 宛、csirt@{domain}、電話 {phone}");
    let extra = json!({
        "operator_name": org_name,
        "summary": {"description": text, "discovered_at": "2026-04-01T10:00:00+09:00"},
        "timeline": [{"at": "2026-04-01T09:00:00+09:00", "text": format!("{org_name} SOC が検知")}],
        "lessons": format!("www.{domain} の設定を見直す"),
    });
    let first = app.file(login, "anonymised", "AMBER", extra).await;
    let ceptoar = app.org("electricity-ceptoar.secretariat");
    assert_eq!(first["receiver_org_id"], ceptoar);

    // The secretariat knows the operator and sees what will be removed before it sends.
    let (status, held) = app.get(&format!("/api/v1/reports/{}", id(&first)), "electricity-ceptoar.secretariat").await;
    assert_eq!(status, 200);
    assert_eq!(held["sender_org_id"], app.org(login));
    let (status, preview) = app
        .post(&format!("/api/v1/reports/{}/forward-preview", id(&first)), "electricity-ceptoar.secretariat", json!({}))
        .await;
    assert_eq!(status, 200, "{preview}");
    let removed: Vec<String> =
        preview["removed"].as_array().unwrap().iter().map(|r| r["field"].as_str().unwrap().to_string()).collect();
    for field in ["operator_name", "summary.description", "timeline[0].text", "lessons"] {
        assert!(removed.iter().any(|f| f == field), "{field} not in {removed:?}");
    }

    let to_ministry = app.forward(&id(&first), "electricity-ceptoar.secretariat", json!({})).await;
    let to_coordinator = app.forward(&id(&to_ministry), "meti.liaison", json!({})).await;
    let secrets = [org_name.as_str(), login, domain.as_str(), phone.as_str(), &app.org(login)];
    for (reader, rid) in [("meti.liaison", id(&to_ministry)), ("nisc.cip", id(&to_coordinator))] {
        let (status, body) = app.get(&format!("/api/v1/reports/{rid}"), reader).await;
        assert_eq!(status, 200);
        assert_eq!(body["operator_name"], Value::Null);
        let (_, list) = app.get("/api/v1/reports?limit=100", reader).await;
        for text in [body.to_string(), list.to_string()] {
            for s in secrets {
                assert!(!text.contains(s), "{reader} sees {s}: {text}");
            }
        }
        // The operator's own rendition stays out of their reach.
        assert_eq!(app.get(&format!("/api/v1/reports/{}", id(&first)), reader).await.0, 404);
    }
    assert!(to_coordinator["identifier"].is_string());

    // A follow-up takes the same route and keeps the chain; only the secretariat knows who.
    let (status, follow) = app
        .post(
            &format!("/api/v1/reports/{}/follow-ups", id(&first)),
            login,
            report_body("electricity", "anonymised", "AMBER", json!({})),
        )
        .await;
    assert_eq!(status, 201, "{follow}");
    assert_eq!(follow["sequence"], 2);
    assert_eq!(follow["receiver_org_id"], ceptoar);
    let ident = to_coordinator["identifier"].as_str().unwrap();
    assert_eq!(follow["identifier"], format!("{ident}-2"));
    let fwd = app.forward(&id(&follow), "electricity-ceptoar.secretariat", json!({})).await;
    let (_, ministry_view) = app.get(&format!("/api/v1/reports/{}", id(&fwd)), "meti.liaison").await;
    assert_eq!(ministry_view["chain_id"], to_ministry["chain_id"]);
    assert_eq!(ministry_view["identifier"], format!("{ident}-2"));
}

#[tokio::test]
async fn follow_ups_are_numbered_and_seen_in_order() {
    let app = spawn_demo().await;
    let first = app.file("finance-a.ntk", "direct", "AMBER", json!({})).await;
    let fwd = app.forward(&id(&first), "fsa.liaison", json!({})).await;
    let ident = fwd["identifier"].as_str().unwrap().to_string();
    for n in 2..=3 {
        let (status, f) = app
            .post(
                &format!("/api/v1/reports/{}/follow-ups", id(&first)),
                "finance-a.ntk",
                report_body("finance", "direct", "AMBER", json!({})),
            )
            .await;
        assert_eq!(status, 201, "{f}");
        assert_eq!(f["sequence"], n);
        assert_eq!(f["identifier"], format!("{ident}-{n}"));
        app.forward(&id(&f), "fsa.liaison", json!({})).await;
    }
    let chain = fwd["chain_id"].as_str().unwrap();
    for reader in ["nisc.cip", "fsa.liaison", "finance-a.ntk"] {
        let (_, list) = app.get(&format!("/api/v1/reports?chain_id={chain}"), reader).await;
        let seqs: Vec<i64> =
            list["items"].as_array().unwrap().iter().map(|i| i["sequence"].as_i64().unwrap()).collect();
        let mut sorted = seqs.clone();
        sorted.sort();
        assert_eq!(seqs, sorted, "{reader}");
        assert_eq!(*seqs.last().unwrap(), 3, "{reader}");
    }
    // Only the original sender files follow-ups.
    let body = report_body("finance", "direct", "AMBER", json!({}));
    assert_eq!(
        app.post(&format!("/api/v1/reports/{}/follow-ups", id(&first)), "fsa.liaison", body.clone()).await.0,
        403
    );
    assert_eq!(app.post(&format!("/api/v1/reports/{}/follow-ups", id(&first)), "finance-b.ntk", body).await.0, 404);
}

#[tokio::test]
async fn a_forward_may_tighten_the_tlp_but_never_loosen_it() {
    let app = spawn_demo().await;
    let first = app.file("gas-a.ntk", "direct", "AMBER", json!({})).await;
    let (status, err) =
        app.post(&format!("/api/v1/reports/{}/forward", id(&first)), "meti.liaison", json!({"tlp": "GREEN"})).await;
    assert_eq!(status, 422);
    assert_eq!(err["error"]["fields"][0]["field"], "tlp");
    assert_eq!(app.list_ids("nisc.cip", "").await.len(), 0, "a refused forward writes nothing");
    let fwd =
        app.forward(&id(&first), "meti.liaison", json!({"tlp": "RED", "summary": {"description": "省庁で要約"}})).await;
    assert_eq!(fwd["tlp"], "RED");
    assert_eq!(fwd["summary"]["description"], "省庁で要約");
    // Only the receiver's liaison forwards.
    let other = app.file("gas-a.ntk", "direct", "AMBER", json!({})).await;
    assert_eq!(app.post(&format!("/api/v1/reports/{}/forward", id(&other)), "meti.ntk", json!({})).await.0, 403);
    assert_eq!(app.post(&format!("/api/v1/reports/{}/forward", id(&other)), "gas-a.ntk", json!({})).await.0, 403);
}

#[tokio::test]
async fn shares_reach_only_organisations_inside_the_ceiling() {
    let app = spawn_demo().await;
    let amber = app.file("gas-a.ntk", "direct", "AMBER", json!({})).await;
    let rid = id(&amber);
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
        .post(&format!("/api/v1/reports/{rid}/shares"), "meti.liaison", share(app.org("water-ceptoar.secretariat")))
        .await;
    assert_eq!(status, 422);
    assert_eq!(err["error"]["fields"][0]["field"], "org_ids");
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
            &format!("/api/v1/reports/{}/shares", id(&red)),
            "meti.liaison",
            share(app.org("gas-ceptoar.secretariat"))
        )
        .await
        .0,
        422
    );
    let fwd = app.forward(&id(&red), "meti.liaison", json!({})).await;
    assert_eq!(
        app.post(&format!("/api/v1/reports/{}/shares", id(&fwd)), "nisc.cip", share(app.org("vendor.admin"))).await.0,
        422
    );
    assert_eq!(
        app.post(&format!("/api/v1/reports/{}/shares", id(&fwd)), "nisc.cip", share(app.org("institute.admin")))
            .await
            .0,
        200
    );
    assert_eq!(app.get(&format!("/api/v1/reports/{}", id(&fwd)), "institute.ntk").await.0, 200);
    assert_eq!(app.get(&format!("/api/v1/reports/{}", id(&fwd)), "institute.member").await.0, 404);

    // An operator shares a GREEN report within its own CEPTOAR, not beyond it.
    let green = app.file("water-a.ntk", "direct", "GREEN", json!({})).await;
    let gid = id(&green);
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
    assert_eq!(app.get(&format!("/api/v1/reports/{}", id(&red)), "police.ntk").await.0, 200);
    assert_eq!(app.get(&format!("/api/v1/reports/{}", id(&red)), "police.member").await.0, 404);
    let (status, err) = app
        .post(
            "/api/v1/reports",
            "port-a.ntk",
            report_body("port", "direct", "RED", json!({"extra_recipient_org_ids": ["nope"]})),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(err["error"]["fields"][0]["field"], "extra_recipient_org_ids[0]");
}

#[tokio::test]
async fn disclosure_needs_the_originators_consent() {
    let app = spawn_demo().await;
    let white = app.file("medical-a.ntk", "direct", "WHITE", json!({})).await;
    let fwd = app.forward(&id(&white), "mhlw.liaison", json!({})).await;
    let publish = format!("/api/v1/reports/{}/publish", id(&fwd));
    let (status, err) = app.post(&publish, "nisc.cip", json!({})).await;
    assert_eq!(status, 422);
    assert_eq!(err["error"]["fields"][0]["field"], "disclosure_consent");
    let (_, public) = app.request(reqwest::Method::GET, "/api/v1/public/reports", None, None).await;
    assert_eq!(public["items"].as_array().unwrap().len(), 0);

    let consent = format!("/api/v1/reports/{}/disclosure-consent", id(&white));
    assert_eq!(app.post(&consent, "mhlw.liaison", json!({})).await.0, 403);
    assert_eq!(app.post(&consent, "medical-b.admin", json!({})).await.0, 404);
    let (status, body) = app.post(&consent, "medical-a.admin", json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["disclosure_consent"], true);

    assert_eq!(app.post(&publish, "mhlw.liaison", json!({})).await.0, 403);
    assert_eq!(app.post(&publish, "nisc.cip", json!({})).await.0, 200);
    let (_, public) = app.request(reqwest::Method::GET, "/api/v1/public/reports", None, None).await;
    assert_eq!(public["items"][0]["id"], id(&fwd));

    // Consent does not make a non-WHITE report publishable.
    let green = app.file("medical-a.ntk", "direct", "GREEN", json!({})).await;
    let gf = app.forward(&id(&green), "mhlw.liaison", json!({})).await;
    app.post(&format!("/api/v1/reports/{}/disclosure-consent", id(&green)), "medical-a.admin", json!({})).await;
    assert_eq!(app.post(&format!("/api/v1/reports/{}/publish", id(&gf)), "nisc.cip", json!({})).await.0, 422);
}

fn offered(view: &Value) -> Vec<String> {
    view["actions"]["share_with"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect()
}

/// A report carries what its reader may do with it, and the operations accept exactly that.
#[tokio::test]
async fn a_report_offers_exactly_the_actions_its_reader_may_take() {
    let app = spawn_demo().await;
    let filed = app.file("gas-a.ntk", "direct", "GREEN", json!({})).await;
    let rid = id(&filed);
    let path = format!("/api/v1/reports/{rid}");
    for (action, expected) in
        [("follow_up", true), ("consent_to_disclosure", true), ("forward", false), ("publish", false)]
    {
        assert_eq!(filed["actions"][action], expected, "{action}");
    }
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
        offered(&app.get(&path, "gas-a.ntk").await.1),
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
    assert_eq!(app.get(&path, "meti.liaison").await.1["actions"]["forward"], false, "forwarded once");
}
