//! The whole community (issue #16): operators' crime reports to response agencies, the CEPTOAR
//! council, and information from partners, over HTTP.

mod common;

use common::{spawn_demo, TestApp};
use kyoyu_app::council::CouncilView;
use kyoyu_app::partner::{PartnerList, PartnerView};
use kyoyu_app::views::ReportView;
use kyoyu_app::views::{AdvisoryView, Count};
use serde_json::{json, Value};

/// What the ministry, the coordinator and system administration get about a report.
async fn others_answers(app: &TestApp, report_id: &str) -> Vec<(u16, Value)> {
    let mut answers = Vec::new();
    for login in ["meti.liaison", "nisc.cip", "ops.admin", "gas-ceptoar.secretariat"] {
        for path in [
            format!("/api/v1/reports/{report_id}"),
            "/api/v1/reports".to_string(),
            "/api/v1/reports/count".to_string(),
            "/api/v1/notifications".to_string(),
            format!("/api/v1/attachments?item_id={report_id}"),
        ] {
            answers.push(app.get(&path, login).await);
        }
    }
    answers
}

/// Whether `login` has a notification about item `id`.
async fn notified(app: &TestApp, login: &str, id: &str) -> bool {
    let list: Value = app.typed("/api/v1/notifications", login).await;
    list["items"].as_array().unwrap().iter().any(|n| n["object_id"] == id)
}

fn share(org: &str) -> Value {
    json!({"org_ids": [org]})
}

#[tokio::test]
async fn a_crime_share_reaches_the_chosen_agency_and_nobody_else() {
    let mut app = spawn_demo().await;
    let coast_guard = app.add_org("response_agency", None, "海上保安庁", "jcg.ntk", "member").await;
    for (route, tlp) in [("direct", "RED"), ("anonymised", "AMBER")] {
        let filed = app.file("gas-a.ntk", route, tlp, json!({})).await;
        let path = format!("/api/v1/reports/{}", filed.id);
        app.attach(&filed.id, "gas-a.ntk", &[], "evidence.log", b"log lines").await;
        // The operator is offered both agencies: its own decision which, if any.
        let mine: ReportView = app.typed(&path, "gas-a.ntk").await;
        let offered = mine.actions.unwrap().report_crime_to;
        assert!(offered.contains(&app.org("police.ntk")) && offered.contains(&coast_guard), "{offered:?}");
        let before = others_answers(&app, &filed.id).await;
        assert_eq!(app.get(&path, "police.ntk").await.0, 404);
        let audit_before = app.audit_len().await;

        let (status, body) = app.post(&format!("{path}/shares"), "gas-a.ntk", share(&app.org("police.ntk"))).await;
        assert_eq!(status, 200, "{body}");
        let read: ReportView = app.typed(&path, "police.ntk").await;
        assert_eq!(read.id, filed.id);
        let files: Value = app.typed(&format!("/api/v1/attachments?item_id={}", filed.id), "police.ntk").await;
        assert_eq!(files["items"].as_array().unwrap().len(), 1, "{files}");
        assert_eq!(app.get(&path, "police.member").await.0, 404, "{tlp} needs need-to-know");
        assert!(notified(&app, "police.ntk", &filed.id).await, "the agency is told");
        assert!(!notified(&app, "police.member", &filed.id).await, "only its readers");
        assert_eq!(app.get(&path, "jcg.ntk").await.0, 404, "only the chosen agency");
        // Sharing again adds no one.
        assert_eq!(app.post(&format!("{path}/shares"), "gas-a.ntk", share(&app.org("police.ntk"))).await.0, 409);

        // Nobody else learns of it: their answers are as before, and the audit shows no agency.
        assert_eq!(others_answers(&app, &filed.id).await, before, "{route}");
        // Newest first: the entries since the share began.
        let audit: Value = app.typed("/api/v1/admin/audit?limit=100", "ops.admin").await;
        let added = &audit["items"].as_array().unwrap()[..app.audit_len().await - audit_before];
        assert!(added.iter().any(|e| e["action"] == "report.share"), "{added:?}");
        let text = serde_json::to_string(added).unwrap();
        assert!(!text.contains(&app.org("police.ntk")) && !text.contains("crime"), "{text}");
        // The receiver may not pass it to an agency, and its refusal is the same either way.
        let receiver = if route == "direct" { "meti.liaison" } else { "gas-ceptoar.secretariat" };
        let refusals = [
            app.post_refused(&format!("{path}/shares"), receiver, share(&app.org("police.ntk"))).await,
            app.post_refused(&format!("{path}/shares"), receiver, share(&coast_guard)).await,
        ];
        let police = app.org("police.ntk");
        let [(s0, e0), (s1, e1)] = refusals.map(|(s, e)| (s, serde_json::to_string(&e).unwrap()));
        assert_eq!((s0, e0.replace(&police, "AGENCY")), (s1, e1.replace(&coast_guard, "AGENCY")));
        assert_eq!(s0, 422);
    }
}

/// A report of `tlp` that the gas CEPTOAR holds: filed by a gas operator, shared to the
/// CEPTOAR by its ministry (RED cannot be, and is only filed).
async fn held_by_gas_ceptoar(app: &TestApp, tlp: &str) -> String {
    let filed = app.file("gas-a.ntk", "direct", tlp, json!({})).await;
    let path = format!("/api/v1/reports/{}/shares", filed.id);
    let status = app.post(&path, "meti.liaison", share(&app.org("gas-ceptoar.secretariat"))).await.0;
    assert_eq!(status, if tlp == "RED" { 422 } else { 200 });
    filed.id
}

async fn set_membership(app: &TestApp, login: &str, join: bool) -> CouncilView {
    let path = if join { "/api/v1/council/join" } else { "/api/v1/council/leave" };
    app.post_as(path, login, json!({})).await
}

async fn share_to_council(app: &TestApp, login: &str, report_id: &str) -> (u16, Value) {
    app.post("/api/v1/council/shares", login, json!({"report_id": report_id})).await
}

/// Which of `logins` read the report.
async fn who_reads(app: &TestApp, id: &str, logins: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    for login in logins {
        if app.get(&format!("/api/v1/reports/{id}"), login).await.0 == 200 {
            out.push(login.to_string());
        }
    }
    out
}

const CEPTOARS: &[&str] = &["council.ntk", "city-gas-ceptoar.ntk", "water-ceptoar.ntk", "finance-ceptoar.ntk"];

#[tokio::test]
async fn shares_through_the_council_reach_its_members_inside_the_ceiling() {
    let mut app = spawn_demo().await;
    // A second CEPTOAR of the gas sector (a sector may have several).
    app.add_org("ceptoar", Some("gas"), "都市ガスセプター", "city-gas-ceptoar.ntk", "secretariat").await;
    assert_eq!(app.post("/api/v1/council/join", "gas-a.ntk", json!({})).await.0, 403, "an operator does not sit on it");
    for login in ["gas-ceptoar.secretariat", "city-gas-ceptoar.ntk", "water-ceptoar.secretariat"] {
        let view = set_membership(&app, login, true).await;
        assert!(view.member && view.actions.leave && !view.actions.join, "{view:?}");
    }
    assert_eq!(app.post("/api/v1/council/join", "water-ceptoar.secretariat", json!({})).await.0, 409);
    let council: CouncilView = app.typed("/api/v1/council", "finance-ceptoar.secretariat").await;
    assert_eq!(council.member_org_ids.len(), 3);
    assert!(!council.member && council.actions.join);
    assert_eq!(council.council_org_id, Some(app.org("council.ntk")));

    // GREEN: the council and every member; not a CEPTOAR that stayed out.
    let green = held_by_gas_ceptoar(&app, "GREEN").await;
    let offered: ReportView = app.typed(&format!("/api/v1/reports/{green}"), "gas-ceptoar.secretariat").await;
    assert!(offered.actions.unwrap().share_to_council);
    assert_eq!(share_to_council(&app, "gas-ceptoar.secretariat", &green).await.0, 200);
    assert_eq!(who_reads(&app, &green, CEPTOARS).await, ["council.ntk", "city-gas-ceptoar.ntk", "water-ceptoar.ntk"]);
    assert_eq!(share_to_council(&app, "gas-ceptoar.secretariat", &green).await.0, 409, "once");
    let shared: ReportView = app.typed(&format!("/api/v1/reports/{green}"), "gas-ceptoar.secretariat").await;
    assert!(!shared.actions.unwrap().share_to_council);

    // AMBER: only the member CEPTOARs of the concerned sector.
    let amber = held_by_gas_ceptoar(&app, "AMBER").await;
    assert_eq!(share_to_council(&app, "gas-ceptoar.secretariat", &amber).await.0, 200);
    assert_eq!(who_reads(&app, &amber, CEPTOARS).await, ["city-gas-ceptoar.ntk"]);
    assert!(notified(&app, "city-gas-ceptoar.ntk", &amber).await, "members reached are told");
    assert!(!notified(&app, "water-ceptoar.ntk", &amber).await);

    // RED never reaches a CEPTOAR; a report it does not hold answers as if it did not exist.
    let red = held_by_gas_ceptoar(&app, "RED").await;
    assert_eq!(share_to_council(&app, "gas-ceptoar.secretariat", &red).await.0, 404);
    let unseen = app.file("water-a.ntk", "direct", "GREEN", json!({})).await;
    assert_eq!(share_to_council(&app, "gas-ceptoar.secretariat", &unseen.id).await.0, 404);
    let (status, body) = share_to_council(&app, "gas-ceptoar.secretariat", "").await;
    assert_eq!(status, 422, "{body}");

    // A member relays to its own operators under the usual rules.
    let relay = format!("/api/v1/reports/{green}/shares");
    assert_eq!(app.post(&relay, "water-ceptoar.secretariat", share(&app.org("water-a.ntk"))).await.0, 200);
    assert_eq!(app.get(&format!("/api/v1/reports/{green}"), "water-a.ntk").await.0, 200);

    // The board: what was shared through the council, as each reads it.
    assert_eq!(app.list_ids("council.ntk", "council=true").await, std::slice::from_ref(&green));
    let mut board = app.list_ids("city-gas-ceptoar.ntk", "council=true").await;
    board.sort();
    let mut both = vec![green.clone(), amber.clone()];
    both.sort();
    assert_eq!(board, both);

    // A CEPTOAR that left receives nothing more; what reached it before stays.
    let view = set_membership(&app, "water-ceptoar.secretariat", false).await;
    assert!(!view.member && view.actions.join);
    let later = held_by_gas_ceptoar(&app, "GREEN").await;
    assert_eq!(share_to_council(&app, "gas-ceptoar.secretariat", &later).await.0, 200);
    assert_eq!(who_reads(&app, &later, CEPTOARS).await, ["council.ntk", "city-gas-ceptoar.ntk"]);
    assert!(notified(&app, "council.ntk", &later).await && !notified(&app, "water-ceptoar.ntk", &later).await);
    assert_eq!(app.get(&format!("/api/v1/reports/{green}"), "water-ceptoar.ntk").await.0, 200);
    assert_eq!(share_to_council(&app, "water-ceptoar.secretariat", &green).await.0, 409, "only members share");
}

fn partner_body(tlp: &str, title: &str) -> Value {
    json!({
        "kind": "vulnerability", "tlp": tlp, "severity": "warning", "sectors": ["gas"],
        "title": title, "content": "遠隔から認証を回避できる / authentication can be bypassed remotely",
        "indicators": ["[ipv4-addr:value = '198.51.100.7']"]
    })
}

async fn send_partner(app: &TestApp, login: &str, body: Value) -> PartnerView {
    app.post_as("/api/v1/partner-information", login, body).await
}

fn advisory_citing(app: &TestApp, partner_id: &str, sector_login: &str, sector: &str, summary: &str) -> Value {
    json!({
        "severity": "warning", "tlp": "AMBER", "has_attachments": false,
        "recipients": [{"ministry_org_id": app.org(sector_login), "sector": sector}],
        "source_partner_ids": [partner_id], "content": {"summary": summary}
    })
}

#[tokio::test]
async fn a_security_institutions_information_is_numbered_followed_up_shared_and_cited() {
    let app = spawn_demo().await;
    let info = send_partner(&app, "institute.ntk", partner_body("AMBER", "ガス制御装置の脆弱性")).await;
    assert!(regex::Regex::new(r"^P\d{4}-\d{4}$").unwrap().is_match(&info.identifier), "{}", info.identifier);
    assert_eq!(info.sender_org_id, Some(app.org("institute.ntk")));
    let path = format!("/api/v1/partner-information/{}", info.id);

    // It reaches the coordinator, who knows the sender; nobody else reads it yet.
    let at_nisc: PartnerView = app.typed(&path, "nisc.cip").await;
    assert_eq!(
        (at_nisc.sender_org_id.clone(), at_nisc.identifier.clone()),
        (info.sender_org_id.clone(), info.identifier.clone())
    );
    let listed: PartnerList = app.typed("/api/v1/partner-information", "nisc.cip").await;
    assert!(listed.items.iter().any(|i| i.id == info.id));
    let by_identifier = format!("/api/v1/partner-information/count?identifier={}", info.identifier);
    let counted: Count = app.typed(&by_identifier, "nisc.cip").await;
    assert_eq!(counted.count, 1);
    let bad_page = format!("{by_identifier}&offset=-1");
    assert_eq!(app.get(&bad_page, "nisc.cip").await.0, 422, "a count checks the page as the list does");
    for login in ["meti.liaison", "gas-ceptoar.secretariat", "gas-a.ntk", "ops.admin", "institute.member"] {
        assert_eq!(app.get(&path, login).await.0, 404, "{login}");
        assert_eq!(app.typed::<Count>(&by_identifier, login).await.count, 0, "{login}");
    }
    let notices: Value = app.typed("/api/v1/notifications", "nisc.cip").await;
    assert!(notices.to_string().contains(&info.identifier), "the coordinator is told: {notices}");

    // Follow-ups come from the sender, numbered -2, and replace only what they name.
    let follow = format!("{path}/follow-ups");
    let second: PartnerView = app.post_as(&follow, "institute.ntk", json!({"content": "修正版が公開された"})).await;
    assert_eq!(second.identifier, format!("{}-2", info.identifier));
    assert_eq!((second.content.title.as_str(), second.content.tlp), (info.content.title.as_str(), info.content.tlp));
    assert_eq!(app.post(&follow, "nisc.cip", json!({"content": "x"})).await.0, 403);

    // The coordinator shares inside the ceiling; the reader does not learn the sender.
    let shares = format!("/api/v1/partner-information/{}/shares", second.id);
    let offered: PartnerView = app.typed(&format!("/api/v1/partner-information/{}", second.id), "nisc.cip").await;
    assert!(offered.actions.share_with.contains(&app.org("meti.liaison")));
    assert!(!offered.actions.share_with.contains(&app.org("mlit.liaison")), "outside AMBER's sectors");
    let (status, err) = app.post_refused(&shares, "nisc.cip", share(&app.org("water-ceptoar.secretariat"))).await;
    assert_eq!((status, common::fields(&err)), (422, vec!["org_ids".to_string()]));
    assert_eq!(app.post(&shares, "meti.liaison", share(&app.org("meti.liaison"))).await.0, 404, "unread yet");
    assert_eq!(app.post(&shares, "nisc.cip", share(&app.org("meti.liaison"))).await.0, 200);
    assert_eq!(app.post(&shares, "meti.liaison", share(&app.org("gas-ceptoar.secretariat"))).await.0, 403);
    let shared: PartnerView = app.typed(&format!("/api/v1/partner-information/{}", second.id), "meti.liaison").await;
    assert_eq!((shared.sender_org_id, shared.shared_with.len()), (None, 0), "the sender stays with the coordinator");
    assert_eq!(app.get(&path, "meti.liaison").await.0, 404, "a share reaches the item shared, not its chain");

    // An advisory cites it: refused while it names the institution, issued once it does not.
    let body = advisory_citing(
        &app,
        &second.id,
        "meti.liaison",
        "gas",
        "サイバーセキュリティ分析機関（分析協力先）によると脆弱性あり",
    );
    let draft: AdvisoryView = app.post_as("/api/v1/advisories", "nisc.cip", body).await;
    let issue = format!("/api/v1/advisories/{}/issue", draft.id);
    let (status, err) = app.post_refused(&issue, "nisc.cip", json!({})).await;
    assert_eq!((status, common::fields(&err)), (422, vec!["content.summary".to_string()]));
    let edit = json!({"content": {"summary": "ガス制御装置に脆弱性。修正版を適用してください"}});
    app.patch_as::<AdvisoryView>(&format!("/api/v1/advisories/{}", draft.id), "nisc.cip", edit).await;
    let issued: AdvisoryView = app.post_as(&issue, "nisc.cip", json!({})).await;
    assert_eq!(issued.draft.source_partner_ids, vec![second.id.clone()]);
    let received: AdvisoryView = app.typed(&format!("/api/v1/advisories/{}", draft.id), "meti.liaison").await;
    assert!(received.draft.source_partner_ids.is_empty(), "recipients never learn the source");

    // Beyond the source's TLP (another sector) without the sender's consent: refused.
    let body = advisory_citing(&app, &second.id, "fsa.liaison", "finance", "脆弱性の注意喚起");
    let wider: AdvisoryView = app.post_as("/api/v1/advisories", "nisc.cip", body).await;
    let (status, err) =
        app.post_refused(&format!("/api/v1/advisories/{}/issue", wider.id), "nisc.cip", json!({})).await;
    assert_eq!((status, common::fields(&err)), (422, vec!["source_partner_ids[0]".to_string()]));
    // With it, the advisory may reach further (still sanitised).
    let consented = send_partner(&app, "institute.ntk", {
        let mut b = partner_body("AMBER", "別の脆弱性");
        b["sanitised_wider_use"] = json!(true);
        b
    })
    .await;
    let body = advisory_citing(&app, &consented.id, "fsa.liaison", "finance", "脆弱性の注意喚起");
    let wider: AdvisoryView = app.post_as("/api/v1/advisories", "nisc.cip", body).await;
    assert_eq!(app.post(&format!("/api/v1/advisories/{}/issue", wider.id), "nisc.cip", json!({})).await.0, 200);
}

#[tokio::test]
async fn partner_information_refuses_who_may_not_send_and_what_is_malformed() {
    let app = spawn_demo().await;
    for login in ["gas-a.ntk", "institute.member", "gas-ceptoar.secretariat", "ops.admin"] {
        let (status, body) = app.post("/api/v1/partner-information", login, partner_body("GREEN", "t")).await;
        assert_eq!(status, 403, "{login}: {body}");
    }
    for login in ["vendor.ntk", "police.ntk", "cyber.ntk", "disaster.ntk", "meti.liaison"] {
        let sent = send_partner(&app, login, partner_body("GREEN", "t")).await;
        assert_eq!(sent.sender_org_id, Some(app.org(login)));
    }
    let (status, err) = app.post_refused("/api/v1/partner-information", "institute.ntk", json!({"tlp": "GREEN"})).await;
    assert_eq!(
        (status, common::fields(&err)),
        (422, vec!["kind", "severity", "title", "content"].into_iter().map(String::from).collect::<Vec<_>>())
    );
    let mut bad = partner_body("GREEN", "t");
    bad["sectors"] = json!(["no-such-sector"]);
    bad["indicators"] = json!(["198.51.100.7"]);
    let (status, err) = app.post_refused("/api/v1/partner-information", "institute.ntk", bad.clone()).await;
    assert_eq!((status, common::fields(&err)), (422, vec!["indicators[0]".to_string()]));
    bad["indicators"] = json!([]);
    let (status, err) = app.post_refused("/api/v1/partner-information", "institute.ntk", bad).await;
    assert_eq!((status, common::fields(&err)), (422, vec!["sectors[0]".to_string()]));
    // RED stays with the sender and the coordinator.
    let red = send_partner(&app, "institute.ntk", partner_body("RED", "t")).await;
    let shares = format!("/api/v1/partner-information/{}/shares", red.id);
    assert_eq!(app.post(&shares, "nisc.cip", share(&app.org("meti.liaison"))).await.0, 422);
    let at_nisc: PartnerView = app.typed(&format!("/api/v1/partner-information/{}", red.id), "nisc.cip").await;
    assert!(at_nisc.actions.share_with.is_empty());
    assert_eq!(app.get(&format!("/api/v1/partner-information/{}", red.id), "nisc.member").await.0, 404, "need-to-know");
}

#[tokio::test]
async fn files_on_partner_information_reach_its_readers_without_naming_who_sent_them() {
    let app = spawn_demo().await;
    let info = send_partner(&app, "institute.ntk", partner_body("AMBER", "検体付きの攻撃情報")).await;
    let upload = format!("/api/v1/partner-information/{}/attachments", info.id);
    let (status, file) =
        app.upload(&upload, "institute.ntk", &[("kind", "attachment")], "ioc.txt", b"ioc".to_vec()).await;
    assert_eq!(status, 201, "{file}");
    let file_id = file["id"].as_str().unwrap().to_string();
    // Only the sender attaches: the coordinator and outsiders are refused, outsiders as if absent.
    let (status, _) = app.upload(&upload, "nisc.cip", &[], "x.txt", b"x".to_vec()).await;
    assert_eq!(status, 403);
    let (status, _) = app.upload(&upload, "gas-a.ntk", &[], "x.txt", b"x".to_vec()).await;
    assert_eq!(status, 404);

    let listing = format!("/api/v1/attachments?item_id={}", info.id);
    let at_nisc: Value = app.typed(&listing, "nisc.cip").await;
    assert_eq!(at_nisc["items"][0]["uploader_org_id"], json!(app.org("institute.ntk")), "the coordinator knows");
    let file_path = format!("/api/v1/attachments/{file_id}");
    for login in ["meti.liaison", "gas-a.ntk"] {
        assert_eq!(app.get(&file_path, login).await.0, 404, "{login} reads nothing before a share");
        assert_eq!(app.get(&listing, login).await.0, 404, "{login}");
    }
    let shares = format!("/api/v1/partner-information/{}/shares", info.id);
    assert_eq!(app.post(&shares, "nisc.cip", share(&app.org("meti.liaison"))).await.0, 200);
    let at_meti: Value = app.typed(&listing, "meti.liaison").await;
    assert_eq!(at_meti["items"][0]["id"], json!(file_id));
    assert_eq!(at_meti["items"][0]["uploader_org_id"], Value::Null, "a shared reader is not told the sender");
    let (status, bytes) = app.get(&format!("{file_path}/download?as=raw"), "meti.liaison").await;
    assert_eq!((status, bytes), (200, Value::String("ioc".into())));
    assert_eq!(app.get(&file_path, "gas-a.ntk").await.0, 404, "still not the operator's");
}
