//! Regressions of issue #11, one per reproduction: each side channel through which a ministry,
//! the coordinator or an administrator learned which member operator filed an anonymised
//! report, or acted beyond its duty. In the demo, gas-a (東都ガス) and gas-b (西海ガス) are both
//! members of the gas CEPTOAR: every answer outside the two of them and the secretariat must
//! be the same whichever of them filed.

mod common;

use kyoyu_app::views::{
    AdvisoryView, AuditList, ForwardPreview, ReportView, SessionView, UserList, WideningList, WideningView,
};
use kyoyu_domain::Tlp;
use kyoyu_store::UserRow;

use common::ErrorBody;

use common::{fields, spawn_demo, TestApp};
use reqwest::Method;
use serde_json::{json, Value};

/// Files an anonymised report as `login` and has the secretariat forward it to the ministry;
/// answers the ministry's rendition id.
async fn at_ministry(app: &TestApp, login: &str, tlp: &str) -> String {
    let filed = app.file(login, "anonymised", tlp, json!({})).await;
    app.forward(&filed.id, "gas-ceptoar.secretariat", json!({})).await.id
}

/// The ministry forwards on to the coordinator; answers the coordinator's rendition id.
async fn at_coordinator(app: &TestApp, login: &str, tlp: &str) -> String {
    let id = at_ministry(app, login, tlp).await;
    app.forward(&id, "meti.liaison", json!({})).await.id
}

/// The coordinator drafts a GREEN advisory for the finance sector from `source` and asks the
/// source's operator to consent to that wider audience; answers the request.
async fn ask_widening(app: &TestApp, source: &str) -> WideningView {
    let body = json!({
        "severity": "warning", "tlp": "GREEN", "has_attachments": false,
        "recipients": [{"ministry_org_id": app.org("fsa.liaison"), "sector": "finance"}],
        "source_report_ids": [source], "content": {"summary": "注意喚起"}
    });
    let draft: AdvisoryView = app.post_as("/api/v1/advisories", "nisc.cip", body).await;
    let path = format!("/api/v1/advisories/{}/scope-widenings", draft.id);
    app.post_as(&path, "nisc.cip", json!({"report_id": source})).await
}

/// An answer with its ids and times taken out, for comparing two worlds.
fn masked(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, _)| !(k.ends_with("id") || k.ends_with("_at") || k.ends_with("identifier")))
                .map(|(k, v)| (k.clone(), masked(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(masked).collect()),
        other => other.clone(),
    }
}

const CANDIDATES: &str = "東都ガス株式会社 と 西海ガス株式会社 と Toto Gas";

#[tokio::test]
async fn forward_preview_is_not_an_oracle() {
    let app = spawn_demo().await;
    let mut answers = Vec::new();
    for filer in ["gas-a.ntk", "gas-b.ntk"] {
        let id = at_ministry(&app, filer, "GREEN").await;
        let (status, preview) = app
            .post(&format!("/api/v1/reports/{id}/forward-preview"), "meti.liaison", json!({"lessons": CANDIDATES}))
            .await;
        assert_eq!(status, 200, "{preview}");
        let removed: Vec<String> =
            common::view::<ForwardPreview>(&preview).removed.into_iter().map(|r| r.text).collect();
        assert!(removed.len() >= 3, "every member's name is removed alike: {removed:?}");
        answers.push(masked(&preview));
        // The real forward and the rendition it makes answer alike too.
        let fwd = app.forward(&id, "meti.liaison", json!({"lessons": CANDIDATES})).await;
        answers.push(masked(&serde_json::to_value(fwd).unwrap()));
    }
    assert_eq!(answers[0], answers[2], "the preview is the same whichever member filed");
    assert_eq!(answers[1], answers[3], "the forward is the same whichever member filed");
}

#[tokio::test]
async fn sanitisation_gate_is_not_an_oracle() {
    let app = spawn_demo().await;
    let mut refusals = Vec::new();
    for filer in ["gas-a.ntk", "gas-b.ntk"] {
        let source = at_coordinator(&app, filer, "GREEN").await;
        let body = json!({
            "severity": "warning", "tlp": "GREEN", "has_attachments": false,
            "recipients": [{"ministry_org_id": app.org("meti.liaison"), "sector": "gas"}],
            "source_report_ids": [source],
            "content": {"summary": "東都ガス 東都ガス 東都ガス 西海ガス の件"}
        });
        let draft: AdvisoryView = app.post_as("/api/v1/advisories", "nisc.cip", body).await;
        let path = format!("/api/v1/advisories/{}/issue", draft.id);
        let (status, refusal) = app.post(&path, "nisc.cip", json!({})).await;
        assert_eq!(status, 422, "{refusal}");
        refusals.push(refusal);
    }
    assert_eq!(refusals[0], refusals[1], "the refusal and its count do not depend on who filed");
    assert!(refusals[0].to_string().contains("4"), "every member's name counts: {}", refusals[0]);
}

#[tokio::test]
async fn mail_outbox_and_audit_do_not_show_the_operator() {
    // Mail is queued (to a port where nothing listens, so it stays in the outbox).
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    common::MAIL_PORT.with(|p| *p.borrow_mut() = Some(port));
    let app = spawn_demo().await;
    let source = at_coordinator(&app, "gas-a.ntk", "AMBER").await;
    // A widening request travels to the operator through its secretariat.
    let w = ask_widening(&app, &source).await;
    let relay = format!("/api/v1/scope-widenings/{}/relay", w.id);
    assert_eq!(app.post(&relay, "gas-ceptoar.secretariat", json!({})).await.0, 200);
    // The coordinator no longer reads the outbox; system administration sees none of it.
    assert_eq!(app.get("/api/v1/admin/mail-outbox", "nisc.cip").await.0, 403);
    let (status, outbox) = app.get("/api/v1/admin/mail-outbox", "ops.admin").await;
    assert_eq!(status, 200);
    assert!(!outbox.to_string().contains("toto-gas"), "{outbox}");
    let (_, audit) = app.get("/api/v1/admin/audit?limit=100", "ops.admin").await;
    let operator = app.org("gas-a.ntk");
    assert!(!audit.to_string().contains(&operator), "no audit row names the anonymous operator");
    let audit: AuditList = common::view(&audit);
    let actions: Vec<&str> = audit.items.iter().map(|e| e.action.as_str()).collect();
    let filed = audit.items.iter().find(|e| e.action == "report.file");
    let filed = filed.unwrap_or_else(|| panic!("{actions:?}"));
    assert!(filed.actor_org_id.is_none() && filed.detail == json!({"concealed": true}), "{filed:?}");
    // Nor does a filter on the acting organisation find what it did on the anonymised chain.
    let by_operator: AuditList =
        app.typed(&format!("/api/v1/admin/audit?limit=100&actor_org_id={operator}"), "ops.admin").await;
    assert!(by_operator.items.is_empty(), "the filter names the operator: {:?}", by_operator.items);
    let filings: AuditList = app.typed("/api/v1/admin/audit?action=report.file", "ops.admin").await;
    assert_eq!(filings.items.len(), 1, "the action filter finds the filing, concealed");
}

#[tokio::test]
async fn system_administration_is_its_own_organisation_and_reads_no_items() {
    let app = spawn_demo().await;
    let admin = app.user("ops.admin");
    assert_eq!(admin.org_kind.code(), "operations");
    assert!(admin.roles.iter().any(|r| r.code() == "system_admin"));
    assert!(!app.user("nisc.admin").roles.iter().any(|r| r.code() == "system_admin"), "not at the coordinator");
    app.file("gas-a.ntk", "direct", "GREEN", json!({})).await;
    assert_eq!(app.count("ops.admin", "").await, 0);
    assert!(app.list_ids("ops.admin", "").await.is_empty());
    // System administration cannot be granted to a user of the coordinator.
    let nisc_users: UserList =
        app.typed(&format!("/api/v1/admin/users?org_id={}", app.org("nisc.cip")), "ops.admin").await;
    let cip = nisc_users.items.into_iter().find(|u| u.login == "nisc.cip").unwrap();
    let path = format!("/api/v1/admin/users/{}", cip.id);
    let (status, err) = app
        .request(Method::PATCH, &path, Some("ops.admin"), Some(json!({"roles": ["cip_desk", "system_admin"]})))
        .await;
    assert_eq!(status, 422, "{err}");
}

#[tokio::test]
async fn admins_cannot_mint_tokens_for_other_users() {
    let app = spawn_demo().await;
    for (admin, target) in [("gas-a.admin", "gas-a.ntk"), ("ops.admin", "gas-ceptoar.secretariat")] {
        let path = format!("/api/v1/admin/users/{}/tokens", app.user(target).user_id);
        let (status, body) = app.post(&path, admin, json!({})).await;
        assert_eq!(status, 403, "{admin} for {target}: {body}");
        assert!(body.get("token").is_none());
    }
    let own = format!("/api/v1/admin/users/{}/tokens", app.user("gas-a.ntk").user_id);
    assert_eq!(app.post(&own, "gas-a.ntk", json!({})).await.0, 201, "the owner mints its own");
}

#[tokio::test]
async fn a_relay_cannot_widen_through_named_recipients() {
    let app = spawn_demo().await;
    let filed = app.file("gas-a.ntk", "direct", "RED", json!({})).await;
    let vendor = app.org("vendor.admin");
    let other_sector = app.org("finance-a.ntk");
    let path = format!("/api/v1/reports/{}/forward", filed.id);
    let (status, err) =
        app.post_refused(&path, "meti.liaison", json!({"extra_recipient_org_ids": [vendor, other_sector]})).await;
    assert_eq!(status, 422, "{err:?}");
    assert_eq!(fields(&err), ["extra_recipient_org_ids[0]", "extra_recipient_org_ids[1]"]);
    assert!(app.list_ids("vendor.admin", "").await.is_empty() && app.list_ids("finance-a.ntk", "").await.is_empty());
}

#[tokio::test]
async fn consent_needs_a_need_to_know_user_and_shows_what_it_widens() {
    let app = spawn_demo().await;
    let source = app.file("gas-a.ntk", "urgent", "AMBER", json!({})).await.id;
    let ids = app.list_ids("nisc.cip", "").await;
    let at_nisc = ids.iter().find(|id| **id != source).unwrap().clone();
    let w = ask_widening(&app, &at_nisc).await;
    let listed: WideningList = app.typed("/api/v1/scope-widenings", "gas-a.ntk").await;
    let seen = &listed.items[0];
    assert_eq!(seen.target_tlp, Some(Tlp::Green), "{seen:?}");
    assert_eq!(seen.target_recipients[0].sector, "finance");
    let answer = format!("/api/v1/scope-widenings/{}/answer", w.id);
    assert_eq!(app.post(&answer, "gas-a.member", json!({"grant": true})).await.0, 403, "no need-to-know");
    assert_eq!(app.post(&answer, "gas-a.ntk", json!({"grant": true})).await.0, 200);
}

#[tokio::test]
async fn concurrent_forwards_issues_shares_relays_and_follow_ups_act_once() {
    let app = spawn_demo().await;
    let filed = app.file("gas-a.ntk", "direct", "GREEN", json!({}));
    let path = format!("/api/v1/reports/{}/forward", filed.await.id);
    let forwards = futures_all((0..10).map(|_| app.post(&path, "meti.liaison", json!({})))).await;
    assert_once(&forwards, 201);
    let body = json!({
        "severity": "info", "tlp": "GREEN", "has_attachments": false,
        "recipients": [{"ministry_org_id": app.org("meti.liaison"), "sector": "gas"}], "content": {"summary": "x"}
    });
    let draft: AdvisoryView = app.post_as("/api/v1/advisories", "nisc.cip", body.clone()).await;
    let issue = format!("/api/v1/advisories/{}/issue", draft.id);
    let issues = futures_all((0..8).map(|_| app.post(&issue, "nisc.cip", json!({})))).await;
    assert_once(&issues, 200);
    let next: AdvisoryView = app.post_as("/api/v1/advisories", "nisc.cip", body).await;
    let next: AdvisoryView = app.post_as(&format!("/api/v1/advisories/{}/issue", next.id), "nisc.cip", json!({})).await;
    let number = next.identifier.unwrap();
    assert!(number.ends_with("-0002"), "no number burned: {number}");
    // Shares of one rendition and relays of one advisory to the same organisation act once.
    let ceptoar = app.org("gas-ceptoar.secretariat");
    let share = format!("/api/v1/reports/{}/shares", app.list_ids("meti.liaison", "").await[0]);
    let shares = futures_all((0..6).map(|_| app.post(&share, "meti.liaison", json!({"org_ids": [ceptoar]})))).await;
    assert_once(&shares, 200);
    let relay = format!("/api/v1/advisories/{}/relay", draft.id);
    let relays = futures_all((0..6).map(|_| app.post(&relay, "meti.liaison", json!({"org_ids": [ceptoar]})))).await;
    assert_once(&relays, 200);
    // Concurrent follow-ups of one chain each take their own sequence number.
    let first = app.file("gas-a.ntk", "direct", "GREEN", json!({})).await;
    let follow = format!("/api/v1/reports/{}/follow-ups", first.id);
    let body = || common::report_body("gas", "direct", "GREEN", json!({}));
    let follow_ups = futures_all((0..6).map(|_| app.post(&follow, "gas-a.ntk", body()))).await;
    let mut sequences: Vec<i64> = follow_ups
        .iter()
        .map(|(s, v)| {
            assert_eq!(*s, 201, "{v}");
            common::view::<ReportView>(v).sequence
        })
        .collect();
    sequences.sort();
    assert_eq!(sequences, [2, 3, 4, 5, 6, 7]);
}

/// Exactly one answer has `ok`; every other one is 409.
fn assert_once(answers: &[(u16, Value)], ok: u16) {
    let statuses: Vec<u16> = answers.iter().map(|(s, _)| *s).collect();
    assert_eq!(statuses.iter().filter(|s| **s == ok).count(), 1, "{answers:?}");
    assert!(statuses.iter().all(|s| *s == ok || *s == 409), "{answers:?}");
}

/// Runs the futures at once and collects their answers in order.
async fn futures_all<F: std::future::Future<Output = (u16, Value)>>(fs: impl Iterator<Item = F>) -> Vec<(u16, Value)> {
    let mut pinned: Vec<std::pin::Pin<Box<F>>> = fs.map(Box::pin).collect();
    let mut done: Vec<Option<(u16, Value)>> = pinned.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        for (i, f) in pinned.iter_mut().enumerate() {
            if done[i].is_none() {
                if let std::task::Poll::Ready(v) = f.as_mut().poll(cx) {
                    done[i] = Some(v);
                }
            }
        }
        if done.iter().all(Option::is_some) {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
    done.into_iter().map(Option::unwrap).collect()
}

#[tokio::test]
async fn failed_basic_polls_do_not_lock_the_log_in_and_a_password_change_ends_other_sessions() {
    let app = spawn_demo().await;
    own_password(&app, "gas-a.ntk", "gas-a.admin", "first-pass-1").await;
    let client = reqwest::Client::new();
    for _ in 0..8 {
        let r = client
            .get(format!("{}/taxii2/", app.base))
            .basic_auth("gas-a.ntk", Some("wrong"))
            .header("accept", "application/taxii+json;version=2.1")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 401);
    }
    let session = |password: &'static str| {
        let client = client.clone();
        let url = format!("{}/api/v1/session", app.base);
        async move {
            let r = client.post(url).json(&json!({"login": "GAS-A.ntk", "password": password})).send().await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap_or_default())
        }
    };
    let (status, first) = session("first-pass-1").await;
    assert_eq!(status, 201, "Basic failures do not lock the JSON log-in: {first}");
    let token = common::view::<SessionView>(&first).token;
    assert_eq!(app.request_with_token(Method::GET, "/api/v1/me", Some(&token), None).await.0, 200);
    own_password(&app, "gas-a.ntk", "gas-a.admin", "second-pass-2").await;
    assert_eq!(app.request_with_token(Method::GET, "/api/v1/me", Some(&token), None).await.0, 401, "session ended");
    assert_eq!(session("first-pass-1").await.0, 401);
    assert_eq!(session("second-pass-2").await.0, 201);
}

#[tokio::test]
async fn a_remembered_basic_credential_is_forgotten_with_its_password() {
    let app = spawn_demo().await;
    let path = format!("/api/v1/admin/users/{}", app.user("gas-b.ntk").user_id);
    own_password(&app, "gas-b.ntk", "gas-b.admin", "first-pass-1").await;
    let basic = |password: &'static str| {
        let request = app
            .client
            .get(format!("{}/taxii2/", app.base))
            .basic_auth("gas-b.ntk", Some(password))
            .header("accept", "application/taxii+json;version=2.1");
        async move { request.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(basic("first-pass-1").await, 200);
    assert_eq!(basic("first-pass-1").await, 200, "remembered");
    own_password(&app, "gas-b.ntk", "gas-b.admin", "second-pass-2").await;
    assert_eq!(basic("first-pass-1").await, 401, "forgotten with the old password");
    assert_eq!(basic("second-pass-2").await, 200);
    // Deactivation ends it too.
    assert_eq!(app.request(Method::PATCH, &path, Some("gas-b.admin"), Some(json!({"active": false}))).await.0, 200);
    assert_eq!(basic("second-pass-2").await, 401);
}

/// The organisation's admin gives `login` a temporary password, and the user replaces it with
/// one of its own (a password an administrator set serves only for that).
async fn own_password(app: &TestApp, login: &str, admin: &str, password: &str) {
    let path = format!("/api/v1/admin/users/{}", app.user(login).user_id);
    let temporary = json!({"password": "temporary-password"});
    assert_eq!(app.request(Method::PATCH, &path, Some(admin), Some(temporary)).await.0, 200);
    let body = json!({"login": login, "password": "temporary-password", "new_password": password});
    let (status, answer) = app.request(Method::POST, "/api/v1/password", None, Some(body)).await;
    assert_eq!(status, 200, "{answer}");
}

#[tokio::test]
async fn an_administrator_cannot_log_in_with_a_password_it_set() {
    let app = spawn_demo().await;
    let path = format!("/api/v1/admin/users/{}", app.user("gas-a.ntk").user_id);
    let user: UserRow = app.patch_as(&path, "gas-a.admin", json!({"password": "chosen-by-admin"})).await;
    assert!(user.password_must_change, "{user:?}");
    let log_in = |password: &str| json!({"login": "gas-a.ntk", "password": password});
    let (status, refusal) = app.request(Method::POST, "/api/v1/session", None, Some(log_in("chosen-by-admin"))).await;
    assert_eq!((status, common::view::<ErrorBody>(&refusal).error.code), (403, "password_change_required".into()));
    let basic = app
        .client
        .get(format!("{}/taxii2/", app.base))
        .basic_auth("gas-a.ntk", Some("chosen-by-admin"))
        .header("accept", "application/taxii+json;version=2.1");
    assert_eq!(basic.send().await.unwrap().status().as_u16(), 403);
    // Only the user's own new password opens a session; the administrator's no longer works.
    let change = json!({"login": "gas-a.ntk", "password": "chosen-by-admin", "new_password": "chosen-by-admin"});
    let (status, err) = app.request(Method::POST, "/api/v1/password", None, Some(change)).await;
    assert_eq!((status, fields(&common::view(&err))), (422, vec!["new_password".to_string()]));
    let change = json!({"login": "gas-a.ntk", "password": "chosen-by-admin", "new_password": "chosen-by-user"});
    assert_eq!(app.request(Method::POST, "/api/v1/password", None, Some(change)).await.0, 200);
    assert_eq!(app.request(Method::POST, "/api/v1/session", None, Some(log_in("chosen-by-admin"))).await.0, 401);
    assert_eq!(app.request(Method::POST, "/api/v1/session", None, Some(log_in("chosen-by-user"))).await.0, 201);
    // A user the administrator creates with a password chooses its own at first log-in too.
    let org = app.org("gas-a.ntk");
    let b = json!({"org_id": org, "login": "gas-a.new", "display_name": "新任", "password": "chosen-by-admin"});
    let created: UserRow = app.post_as("/api/v1/admin/users", "gas-a.admin", b).await;
    assert!(created.password_must_change);
}

#[tokio::test]
async fn a_totp_code_is_accepted_once() {
    let app = spawn_demo().await;
    let user = app.user("gas-b.ntk").user_id.clone();
    own_password(&app, "gas-b.ntk", "gas-b.admin", "pass-word-123").await;
    let secret = kyoyu_app::login::new_totp_secret();
    let mut tx = app.store.begin(kyoyu_store::Actor::default()).await.unwrap();
    tx.set_totp_secret(&user, Some(&secret), &kyoyu_store::now()).await.unwrap();
    tx.commit().await.unwrap();
    let code = kyoyu_app::login::totp(&secret, "gas-b.ntk").unwrap().generate_current().unwrap();
    let body = json!({"login": "gas-b.ntk", "password": "pass-word-123", "totp": code});
    assert_eq!(app.request(Method::POST, "/api/v1/session", None, Some(body.clone())).await.0, 201);
    assert_eq!(app.request(Method::POST, "/api/v1/session", None, Some(body)).await.0, 401, "replayed");
}

#[tokio::test]
async fn smaller_findings_answer_as_they_should() {
    let app = spawn_demo().await;
    // A NUL in a text, a query or a path is refused with 4xx naming where, never a 500.
    let body = common::report_body("gas", "direct", "GREEN", json!({"summary": {"description": "a\u{0}b"}}));
    let (status, err) = app.post_refused("/api/v1/reports", "gas-a.ntk", body).await;
    assert_eq!((status, fields(&err)), (422, vec!["summary.description".to_string()]));
    assert_eq!(app.get("/api/v1/reports?q=%00", "gas-a.ntk").await.0, 422);
    assert_eq!(app.get("/api/v1/reports/%00", "gas-a.ntk").await.0, 422);
    // Years beyond 9999 are refused, naming the field.
    let far = json!({"summary": {"description": "x", "discovered_at": "9999-12-31T23:00:00-09:00"}});
    let (status, err) =
        app.post_refused("/api/v1/reports", "gas-a.ntk", common::report_body("gas", "direct", "GREEN", far)).await;
    assert_eq!((status, fields(&err)), (422, vec!["summary.discovered_at".to_string()]));
    // Look-alike log-ins cannot be made.
    let org = app.org("gas-a.ntk");
    for login in ["Gas-A.x", "gаs-a.x", "gas\u{200B}a.x", "ｇａｓ.x"] {
        let b = json!({"org_id": org, "login": login, "display_name": "x"});
        let (status, err) = app.post_refused("/api/v1/admin/users", "gas-a.admin", b).await;
        assert_eq!((status, fields(&err)), (422, vec!["login".to_string()]), "{login}");
    }
    // An oversized TAXII POST answers 413 in TAXII's error shape.
    let collection = "c3d4e5f6-a7b8-4c9d-8e0f-1a2b3c4d5e6f";
    let huge = format!("{{\"objects\": [\"{}\"]}}", "x".repeat(17 * 1024 * 1024));
    let r = reqwest::Client::new()
        .post(format!("{}/taxii2/kyoyu/collections/{collection}/objects/", app.base))
        .bearer_auth(&app.user("gas-a.ntk").token)
        .header("accept", "application/taxii+json;version=2.1")
        .header("content-type", "application/taxii+json;version=2.1")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 413);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("application/taxii+json"));
    assert_eq!(r.json::<kyoyu_taxii::resources::ErrorMessage>().await.unwrap().http_status, "413");
}

#[tokio::test]
async fn a_published_report_shows_no_personal_contact() {
    let app = spawn_demo().await;
    let contact =
        json!({"sender_contact": {"name": "山田太郎", "phone": "03-1111-2222", "email": "yamada@meti.example.go.jp"}});
    let filed = app.file("gas-a.ntk", "direct", "WHITE", json!({}));
    let id = filed.await.id;
    let consent = format!("/api/v1/reports/{id}/disclosure-consent");
    assert_eq!(app.post(&consent, "gas-a.ntk", json!({})).await.0, 200);
    let at_nisc = app.forward(&id, "meti.liaison", contact).await.id;
    let (status, published) = app.post(&format!("/api/v1/reports/{at_nisc}/publish"), "nisc.cip", json!({})).await;
    assert_eq!(status, 200, "{published}");
    let (_, public) = app.request(Method::GET, "/api/v1/public/reports", None, None).await;
    assert_eq!(common::view::<kyoyu_app::views::PublishedList>(&public).items.len(), 1);
    assert!(!public.to_string().contains("山田") && !public.to_string().contains("1111"), "{public}");
}
