//! Regression tests named after the leak classes peer platforms suffered. Anything a user may
//! not read must answer exactly as if it did not exist.

mod common;

use common::{report_body, spawn_demo};
use serde_json::json;

#[tokio::test]
async fn leak_search_or_filter_reveals_an_unreadable_item() {
    let app = spawn_demo().await;
    let marker = "ZEBRAFISH-7731";
    let red = app.file("gas-a.ntk", "direct", "RED", json!({"lessons": marker})).await;
    let fwd = app.forward(red["id"].as_str().unwrap(), "meti.liaison", json!({})).await;
    let ident = fwd["identifier"].as_str().unwrap();
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
            format!("chain_id={}", fwd["chain_id"].as_str().unwrap()),
        ] {
            assert_eq!(app.count(prober, &query).await, 0, "{prober} counts {query}");
            assert!(app.list_ids(prober, &query).await.is_empty(), "{prober} lists {query}");
        }
        let (status, body) = app.get(&format!("/api/v1/reports/{}", fwd["id"].as_str().unwrap()), prober).await;
        assert_eq!(status, 404);
        assert_eq!(body["error"]["code"], "not_found");
    }
    // The same filters do find it for a reader, so the probes above could have failed.
    assert_eq!(app.count("nisc.cip", &format!("q={marker}")).await, 1);
    assert_eq!(app.count("nisc.cip", &format!("identifier={ident}")).await, 1);
    // An unknown id and an unreadable one answer the same.
    let (s1, b1) = app.get("/api/v1/reports/00000000-0000-0000-0000-000000000000", "gas-b.ntk").await;
    let (s2, b2) = app.get(&format!("/api/v1/reports/{}", red["id"].as_str().unwrap()), "gas-b.ntk").await;
    assert_eq!((s1, b1), (s2, b2));
}

#[tokio::test]
async fn leak_write_by_id_to_a_chain_the_caller_does_not_hold() {
    let app = spawn_demo().await;
    let report = app.file("aviation-a.ntk", "direct", "AMBER", json!({})).await;
    let rid = report["id"].as_str().unwrap();
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
    let (_, held) = app.get(&format!("/api/v1/reports/{rid}"), "mlit.liaison").await;
    assert_eq!(held["status"], "sent");
    assert_eq!(app.count("aviation-b.ntk", "").await, 0);
}

#[tokio::test]
async fn leak_relay_loosens_the_tlp() {
    let app = spawn_demo().await;
    let red = app.file("credit-a.ntk", "direct", "RED", json!({})).await;
    for loose in ["AMBER", "AMBER+STRICT", "GREEN", "WHITE", "CLEAR"] {
        let (status, err) = app
            .post(
                &format!("/api/v1/reports/{}/forward", red["id"].as_str().unwrap()),
                "meti.liaison",
                json!({"tlp": loose}),
            )
            .await;
        assert_eq!(status, 422, "{loose}");
        assert_eq!(err["error"]["fields"][0]["field"], "tlp");
    }
    assert_eq!(app.count("nisc.cip", "").await, 0);
    // Anonymised: the secretariat cannot loosen either.
    let amber = app.file("credit-a.ntk", "anonymised", "AMBER", json!({})).await;
    let (status, _) = app
        .post(
            &format!("/api/v1/reports/{}/forward", amber["id"].as_str().unwrap()),
            "credit-ceptoar.secretariat",
            json!({"tlp": "GREEN"}),
        )
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
    let (_, a) = app.post("/api/v1/advisories", "nisc.cip", advisory(&app, "AMBER", "digest-probe")).await;
    let (status, _) =
        app.post(&format!("/api/v1/advisories/{}/issue", a["id"].as_str().unwrap()), "nisc.cip", json!({})).await;
    assert_eq!(status, 200);
    // meti.ntk loses need-to-know before the digest goes out.
    let (_, users) = app.get("/api/v1/admin/users", "meti.admin").await;
    let ntk = users["items"].as_array().unwrap().iter().find(|u| u["login"] == "meti.ntk").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
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
        body["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| n["kind"] == "digest")
            .map(|n| n["subject"].as_str().unwrap().to_string())
            .collect()
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
    let (_, a) = app.post("/api/v1/advisories", "nisc.cip", advisory(&app, "RED", "ORCA-5512 攻撃")).await;
    app.post(&format!("/api/v1/advisories/{}/issue", a["id"].as_str().unwrap()), "nisc.cip", json!({})).await;
    let ident = {
        let (_, v) = app.get(&format!("/api/v1/advisories/{}", a["id"].as_str().unwrap()), "nisc.cip").await;
        v["identifier"].as_str().unwrap().to_string()
    };
    for prober in ["fsa.liaison", "gas-ceptoar.secretariat", "gas-a.ntk", "meti.member"] {
        for query in
            ["q=orca-5512".to_string(), format!("identifier={ident}"), "tlp=RED".into(), "status=issued".into()]
        {
            let (status, body) = app.get(&format!("/api/v1/advisories/count?{query}"), prober).await;
            assert_eq!((status, body["count"].as_i64()), (200, Some(0)), "{prober} {query}");
            let (_, list) = app.get(&format!("/api/v1/advisories?{query}"), prober).await;
            assert!(list["items"].as_array().unwrap().is_empty(), "{prober} {query}");
        }
        assert_eq!(
            app.get(&format!("/api/v1/advisories/{}/questions", a["id"].as_str().unwrap()), prober).await.0,
            404
        );
    }
    let (_, found) = app.get("/api/v1/advisories/count?q=orca-5512", "meti.liaison").await;
    assert_eq!(found["count"], 1, "the same search finds it for a reader");
}
