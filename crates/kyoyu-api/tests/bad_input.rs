//! Malformed requests answer with the field and the reason in Japanese and English, write
//! nothing, and the server keeps serving.

mod common;

use common::{report_body, spawn_demo, ErrorBody, TestApp};
use kyoyu_app::views::NewToken;
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

/// The fields a refusal names; the answer must be the API's error type.
fn fields(err: &Value) -> Vec<String> {
    common::fields(&common::view(err))
}

fn assert_bilingual(err: &Value) {
    let err: ErrorBody = common::view(err);
    let message = &err.error.message;
    assert!(!message.ja.is_empty() && !message.en.is_empty(), "{err:?}");
    for f in &err.error.fields {
        assert!(!f.ja.is_empty() && !f.en.is_empty(), "{f:?}");
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

    // serde would read a struct from an array of its fields; the schema says object.
    let (status, err) =
        app.post("/api/v1/reports", op, report_body("gas", "direct", "AMBER", json!({"summary": ["x"]}))).await;
    assert_eq!((status, fields(&err)), (422, vec!["summary".to_string()]));
    let (status, err) =
        app.post("/api/v1/advisories", "nisc.cip", json!({"tlp": "GREEN", "recipients": [["m", "gas"]]})).await;
    assert_eq!((status, fields(&err)), (422, vec!["recipients[0]".to_string()]));

    let (status, err) = post_raw(&app, op, b"{\"route\": \"direct\",".to_vec()).await;
    assert_eq!(status, 400);
    assert_eq!(common::view::<ErrorBody>(&err).error.code, "malformed_request");
    assert_bilingual(&err);

    let huge = report_body("gas", "direct", "AMBER", json!({"lessons": "x".repeat(kyoyu_api::BODY_LIMIT + 10)}));
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
    let tok: NewToken =
        app.post_as(&format!("/api/v1/admin/users/{uid}/tokens"), "gas-a.member", json!({"label": "script"})).await;
    let token = tok.token.as_str();
    assert_eq!(app.request_with_token(Method::GET, "/api/v1/me", Some(token), None).await.0, 200);
    let (status, _) = app
        .request(Method::DELETE, &format!("/api/v1/admin/users/{uid}/tokens/{}", tok.id), Some("gas-a.admin"), None)
        .await;
    assert_eq!(status, 204);
    assert_eq!(app.request_with_token(Method::GET, "/api/v1/me", Some(token), None).await.0, 401);
    // An admin of another organisation cannot issue tokens for this user.
    assert_eq!(app.post(&format!("/api/v1/admin/users/{uid}/tokens"), "gas-b.admin", json!({})).await.0, 403);
}
