//! The whole community (issue #16): operators' crime reports to response agencies, the CEPTOAR
//! council, and information from partners, over HTTP.

mod common;

use common::{spawn_demo, TestApp};
use kyoyu_app::views::{OrgView, ReportView};
use kyoyu_store::UserRow;
use serde_json::{json, Value};

/// Adds an organisation of `kind` with one need-to-know member, `login`.
async fn add_org(app: &mut TestApp, kind: &str, name: &str, login: &str) -> String {
    let body = json!({"kind": kind, "name_ja": name, "name_en": name});
    let org: OrgView = app.post_as("/api/v1/admin/orgs", "ops.admin", body).await;
    let body =
        json!({"org_id": org.id, "login": login, "display_name": login, "roles": ["member"], "need_to_know": true});
    let user: UserRow = app.post_as("/api/v1/admin/users", "ops.admin", body).await;
    let mut cred = app.user("ops.admin").clone();
    cred.token = app.token_for(&user.id).await;
    cred.user_id = user.id;
    cred.org_id = org.id.clone();
    cred.org_name = name.to_string();
    cred.org_kind = kyoyu_domain::codes::OrgKind::parse(kind).unwrap();
    cred.sector = None;
    cred.login = login.to_string();
    app.users.insert(login.to_string(), cred);
    org.id
}

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

fn share(org: &str) -> Value {
    json!({"org_ids": [org]})
}

#[tokio::test]
async fn a_crime_share_reaches_the_chosen_agency_and_nobody_else() {
    let mut app = spawn_demo().await;
    let coast_guard = add_org(&mut app, "response_agency", "海上保安庁", "jcg.ntk").await;
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
