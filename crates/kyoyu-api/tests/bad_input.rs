//! Malformed requests answer with the field and the reason in Japanese and English, write
//! nothing, and the server keeps serving.

mod common;

use common::{report_body, spawn_demo, TestApp};
use reqwest::Method;
use serde_json::{json, Value};

async fn post_raw(app: &TestApp, login: &str, body: Vec<u8>) -> (u16, Value) {
    let resp = app
        .client
        .post(format!("{}/api/v1/reports", app.base))
        .bearer_auth(&app.user(login).token)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

fn fields(err: &Value) -> Vec<String> {
    err["error"]["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap().to_string()).collect()
}

fn assert_bilingual(err: &Value) {
    let m = &err["error"]["message"];
    assert!(
        m["ja"].as_str().is_some_and(|s| !s.is_empty()) && m["en"].as_str().is_some_and(|s| !s.is_empty()),
        "{err}"
    );
    for f in err["error"]["fields"].as_array().unwrap() {
        assert!(f["ja"].as_str().is_some() && f["en"].as_str().is_some(), "{f}");
    }
}

#[tokio::test]
async fn every_malformed_request_names_its_field_and_writes_nothing() {
    let app = spawn_demo().await;
    let before = app.audit_len().await;
    let op = "gas-a.ntk";

    let (status, err) = app.post("/api/v1/reports", op, json!({"route": "direct"})).await;
    assert_eq!(status, 422);
    assert_eq!(fields(&err), ["statutory", "tlp", "has_attachments", "sector"]);
    assert_bilingual(&err);

    let (status, err) = app
        .post("/api/v1/reports", op, report_body("gas", "direct", "AMBER", json!({"event_type": "alien_invasion"})))
        .await;
    assert_eq!(status, 422);
    assert_eq!(fields(&err), ["event_type"]);
    assert_bilingual(&err);

    let (status, err) =
        app.post("/api/v1/reports", op, report_body("gas", "direct", "AMBER", json!({"causes": ["dos", "bad"]}))).await;
    assert_eq!((status, fields(&err)), (422, vec!["causes[1]".to_string()]));

    let (status, err) = app.post("/api/v1/reports", op, report_body("gas", "direct", "PURPLE", json!({}))).await;
    assert_eq!((status, fields(&err)), (422, vec!["tlp".to_string()]));

    let times =
        json!({"summary": {"discovered_at": "2026-04-01T10:00:00+09:00", "occurred_at": "2026-04-02T10:00:00+09:00"}});
    let (status, err) = app.post("/api/v1/reports", op, report_body("gas", "direct", "AMBER", times)).await;
    assert_eq!((status, fields(&err)), (422, vec!["summary.occurred_at".to_string()]));

    let (status, err) = app
        .post(
            "/api/v1/reports",
            op,
            report_body("gas", "direct", "AMBER", json!({"summary": {"discovered_at": "yesterday"}})),
        )
        .await;
    assert_eq!((status, fields(&err)), (422, vec!["summary.discovered_at".to_string()]));

    let (status, err) =
        app.post("/api/v1/reports", op, report_body("gas", "direct", "AMBER", json!({"colour": "blue"}))).await;
    assert_eq!((status, fields(&err)), (422, vec!["colour".to_string()]));

    let (status, err) = app.post("/api/v1/reports", op, report_body("water", "direct", "AMBER", json!({}))).await;
    assert_eq!((status, fields(&err)), (422, vec!["sector".to_string()]));

    let (status, err) = post_raw(&app, op, b"{\"route\": \"direct\",".to_vec()).await;
    assert_eq!(status, 400);
    assert_eq!(err["error"]["code"], "malformed_request");
    assert_bilingual(&err);

    let mut huge = report_body("gas", "direct", "AMBER", json!({}));
    huge["lessons"] = Value::String("x".repeat(kyoyu_api::BODY_LIMIT + 10));
    let (status, err) = post_raw(&app, op, serde_json::to_vec(&huge).unwrap()).await;
    assert_eq!(status, 413);
    assert_bilingual(&err);

    let (status, err) = app.get("/api/v1/reports?tlp=PINK", op).await;
    assert_eq!((status, fields(&err)), (422, vec!["tlp".to_string()]));
    let (status, err) = app.get("/api/v1/reports?limit=100000", op).await;
    assert_eq!((status, fields(&err)), (422, vec!["limit".to_string()]));
    let (status, err) = app.get("/api/v1/reports?colour=blue", op).await;
    assert_eq!((status, fields(&err)), (422, vec!["colour".to_string()]));

    for (path, login, field) in [
        ("/api/v1/notifications?unread=maybe", op, "unread"),
        ("/api/v1/notifications?colour=blue", op, "colour"),
        ("/api/v1/admin/audit?offset=-1", "ops.admin", "offset"),
        ("/api/v1/admin/audit?limit=0", "ops.admin", "limit"),
        ("/api/v1/admin/mail-outbox?unsent=1", "ops.admin", "unsent"),
        ("/api/v1/advisories?status=sent", op, "status"),
    ] {
        let (status, err) = app.get(path, login).await;
        assert_eq!((status, fields(&err)), (422, vec![field.to_string()]), "{path}");
    }

    assert_eq!(app.audit_len().await, before, "no failed request wrote anything");
    assert_eq!(app.count("meti.liaison", "").await, 0);
    assert_eq!(app.get("/api/v1/me", op).await.0, 200, "the server keeps serving");
}

#[tokio::test]
async fn unknown_revoked_or_missing_tokens_answer_401() {
    let app = spawn_demo().await;
    for token in [Some("kyoyu_nonsense"), None, Some("")] {
        let (status, err) = app.request_with_token(Method::GET, "/api/v1/reports", token, None).await;
        assert_eq!(status, 401, "{token:?}");
        assert_bilingual(&err);
    }
    let user = app.user("gas-a.member").clone();
    let (status, created) = app.post(&format!("/api/v1/admin/users/{}/tokens", "x"), "gas-a.admin", json!({})).await;
    assert_eq!(status, 404, "{created}");
    // The member mints its own token; its organisation's admin revokes it.
    let uid = user.user_id.as_str();
    let (status, tok) =
        app.post(&format!("/api/v1/admin/users/{uid}/tokens"), "gas-a.member", json!({"label": "script"})).await;
    assert_eq!(status, 201);
    let token = tok["token"].as_str().unwrap();
    assert_eq!(app.request_with_token(Method::GET, "/api/v1/me", Some(token), None).await.0, 200);
    let (status, _) = app
        .request(
            Method::DELETE,
            &format!("/api/v1/admin/users/{uid}/tokens/{}", tok["id"].as_str().unwrap()),
            Some("gas-a.admin"),
            None,
        )
        .await;
    assert_eq!(status, 204);
    assert_eq!(app.request_with_token(Method::GET, "/api/v1/me", Some(token), None).await.0, 401);
    // An admin of another organisation cannot issue tokens for this user.
    assert_eq!(app.post(&format!("/api/v1/admin/users/{uid}/tokens"), "gas-b.admin", json!({})).await.0, 403);
}
