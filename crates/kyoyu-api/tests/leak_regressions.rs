//! Regression tests named after the leak classes peer platforms suffered. Anything a user may
//! not read must answer exactly as if it did not exist.

mod common;

use kyoyu_app::views::{AdvisoryList, AdvisoryView, Count, NotificationList, ReportView, UserList};
use kyoyu_domain::codes::ReportStatus;

use common::{fields, report_body, spawn_demo, ErrorBody};
use serde_json::json;

#[tokio::test]
async fn leak_search_or_filter_reveals_an_unreadable_item() {
    let app = spawn_demo().await;
    let marker = "ZEBRAFISH-7731";
    let red = app.file("gas-a.ntk", "direct", "RED", json!({"lessons": marker})).await;
    let fwd = app.forward(&red.id, "meti.liaison", json!({})).await;
    let ident = fwd.identifier.clone().unwrap();
    // A same-sector operator and an unrelated ministry probe with every filter.
    for prober in ["gas-b.ntk", "fsa.liaison", "gas-ceptoar.secretariat", "meti.member"] {
        for query in [
            format!("q={marker}"),
            format!("q={}", marker.to_lowercase()),
            format!("identifier={ident}"),
            "tlp=RED".to_string(),
            "sector=gas".to_string(),
            "event_type=malware_infection".to_string(),
            "status=forwarded".to_string(),
            format!("chain_id={}", fwd.chain_id),
        ] {
            assert_eq!(app.count(prober, &query).await, 0, "{prober} counts {query}");
            assert!(app.list_ids(prober, &query).await.is_empty(), "{prober} lists {query}");
        }
        let (status, body) = app.get(&format!("/api/v1/reports/{}", fwd.id), prober).await;
        assert_eq!(status, 404);
        assert_eq!(common::view::<ErrorBody>(&body).error.code, "not_found");
    }
    // The same filters do find it for a reader, so the probes above could have failed.
    assert_eq!(app.count("nisc.cip", &format!("q={marker}")).await, 1);
    assert_eq!(app.count("nisc.cip", &format!("identifier={ident}")).await, 1);
    // An unknown id and an unreadable one answer the same.
    let (s1, b1) = app.get("/api/v1/reports/00000000-0000-0000-0000-000000000000", "gas-b.ntk").await;
    let (s2, b2) = app.get(&format!("/api/v1/reports/{}", red.id), "gas-b.ntk").await;
    assert_eq!((s1, b1), (s2, b2));
}

#[tokio::test]
async fn leak_write_by_id_to_a_chain_the_caller_does_not_hold() {
    let app = spawn_demo().await;
    let report = app.file("aviation-a.ntk", "direct", "AMBER", json!({})).await;
    let rid = &report.id;
    let before = app.audit_len().await;
    let body = report_body("aviation", "direct", "AMBER", json!({}));
    for intruder in ["aviation-b.admin", "meti.liaison", "aviation-ceptoar.secretariat", "vendor.admin"] {
        for (path, b) in [
            ("forward", json!({})),
            ("forward-preview", json!({})),
            ("follow-ups", body.clone()),
            ("shares", json!({"org_ids": [app.org(intruder)]})),
            ("disclosure-consent", json!({})),
            ("publish", json!({})),
        ] {
            let (status, _) = app.post(&format!("/api/v1/reports/{rid}/{path}"), intruder, b).await;
            assert_eq!(status, 404, "{intruder} {path}");
        }
    }
    assert_eq!(app.audit_len().await, before, "nothing was written");
    let held: ReportView = app.typed(&format!("/api/v1/reports/{rid}"), "mlit.liaison").await;
    assert_eq!(held.status, ReportStatus::Sent);
    assert_eq!(app.count("aviation-b.ntk", "").await, 0);
}

#[tokio::test]
async fn leak_relay_loosens_the_tlp() {
    let app = spawn_demo().await;
    let red = app.file("credit-a.ntk", "direct", "RED", json!({})).await;
    for loose in ["AMBER", "AMBER+STRICT", "GREEN", "WHITE", "CLEAR"] {
        let forward = format!("/api/v1/reports/{}/forward", red.id);
        let (status, err) = app.post_refused(&forward, "meti.liaison", json!({"tlp": loose})).await;
        assert_eq!((status, fields(&err)), (422, vec!["tlp".to_string()]), "{loose}");
    }
    assert_eq!(app.count("nisc.cip", "").await, 0);
    // Anonymised: the secretariat cannot loosen either.
    let amber = app.file("credit-a.ntk", "anonymised", "AMBER", json!({})).await;
    let (status, _) = app
        .post(&format!("/api/v1/reports/{}/forward", amber.id), "credit-ceptoar.secretariat", json!({"tlp": "GREEN"}))
        .await;
    assert_eq!(status, 422);
    assert_eq!(app.count("meti.liaison", "").await, 1, "only the RED direct report");
}

#[tokio::test]
async fn leak_non_participating_organisation_lists_everything() {
    let app = spawn_demo().await;
    for (login, tlp) in
        [("gas-a.ntk", "GREEN"), ("water-a.ntk", "WHITE"), ("telecom-a.ntk", "AMBER"), ("port-b.ntk", "RED")]
    {
        app.file(login, "urgent", tlp, json!({})).await;
    }
    for outsider in
        ["police.ntk", "vendor.ntk", "institute.ntk", "finance-a.ntk", "finance-ceptoar.secretariat", "fsa.liaison"]
    {
        assert!(app.list_ids(outsider, "").await.is_empty(), "{outsider}");
        assert_eq!(app.count(outsider, "").await, 0, "{outsider}");
        assert_eq!(app.count(outsider, "tlp=GREEN").await, 0, "{outsider}");
    }
    // The coordinator received all four urgent copies.
    assert_eq!(app.count("nisc.cip", "").await, 4);
}

fn advisory(app: &common::TestApp, tlp: &str, summary: &str) -> serde_json::Value {
    json!({
        "tlp": tlp, "severity": "warning", "has_attachments": false,
        "recipients": [{"ministry_org_id": app.org("meti.liaison"), "sector": "gas"}],
        "content": {"summary": summary}
    })
}

#[tokio::test]
async fn leak_digest_notification_reveals_an_item_the_user_can_no_longer_read() {
    let app = spawn_demo().await;
    let a: AdvisoryView = app.post_as("/api/v1/advisories", "nisc.cip", advisory(&app, "AMBER", "digest-probe")).await;
    let _: AdvisoryView = app.post_as(&format!("/api/v1/advisories/{}/issue", a.id), "nisc.cip", json!({})).await;
    // meti.ntk loses need-to-know before the digest goes out.
    let users: UserList = app.typed("/api/v1/admin/users", "meti.admin").await;
    let ntk = users.items.into_iter().find(|u| u.login == "meti.ntk").unwrap().id;
    let (status, _) = app
        .request(
            reqwest::Method::PATCH,
            &format!("/api/v1/admin/users/{ntk}"),
            Some("meti.admin"),
            Some(json!({"need_to_know": false})),
        )
        .await;
    assert_eq!(status, 200);
    let (status, sent) = app.post("/api/v1/admin/digests", "ops.admin", json!({})).await;
    assert_eq!(status, 200, "{sent}");
    let digests = |body: &serde_json::Value| -> Vec<String> {
        let list: NotificationList = common::view(body);
        list.items.into_iter().filter(|n| n.kind == "digest").map(|n| n.subject).collect()
    };
    let (_, kept) = app.get("/api/v1/notifications", "meti.liaison").await;
    assert_eq!(digests(&kept), ["[kyoyu] 未読 1 件 / 1 unread"], "the reader's digest counts the item");
    let (_, lost) = app.get("/api/v1/notifications", "meti.ntk").await;
    assert!(digests(&lost).is_empty(), "no digest, not even a count, for what the user can no longer read: {lost}");
    assert!(!lost.to_string().contains("digest-probe"));
}

#[tokio::test]
async fn leak_advisory_search_reveals_an_unreadable_item() {
    let app = spawn_demo().await;
    let a: AdvisoryView = app.post_as("/api/v1/advisories", "nisc.cip", advisory(&app, "RED", "ORCA-5512 攻撃")).await;
    let issued: AdvisoryView = app.post_as(&format!("/api/v1/advisories/{}/issue", a.id), "nisc.cip", json!({})).await;
    let ident = issued.identifier.unwrap();
    for prober in ["fsa.liaison", "gas-ceptoar.secretariat", "gas-a.ntk", "meti.member"] {
        for query in
            ["q=orca-5512".to_string(), format!("identifier={ident}"), "tlp=RED".into(), "status=issued".into()]
        {
            let count: Count = app.typed(&format!("/api/v1/advisories/count?{query}"), prober).await;
            assert_eq!(count.count, 0, "{prober} {query}");
            let list: AdvisoryList = app.typed(&format!("/api/v1/advisories?{query}"), prober).await;
            assert!(list.items.is_empty(), "{prober} {query}");
        }
        assert_eq!(app.get(&format!("/api/v1/advisories/{}/questions", a.id), prober).await.0, 404);
    }
    let found: Count = app.typed("/api/v1/advisories/count?q=orca-5512", "meti.liaison").await;
    assert_eq!(found.count, 1, "the same search finds it for a reader");
}
