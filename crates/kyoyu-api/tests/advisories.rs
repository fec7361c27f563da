//! The 情報提供 chain over HTTP: draft, sanitisation gate, scope rule and widening consent,
//! issue and relay hop by hop, acknowledgments, questions, the urgent path, notifications,
//! service-level evaluation and recipient suggestions.

mod common;

use kyoyu_app::views::AdvisoryView;

use common::{spawn_demo, TestApp};
use reqwest::Method;
use serde_json::{json, Value};

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

/// A report that reached the coordinator; returns the coordinator's rendition.
async fn report_at_coordinator(app: &TestApp, login: &str, route: &str, tlp: &str, extra: Value) -> Value {
    let first = app.file(login, route, tlp, extra).await;
    let sector = app.user(login).sector.clone().unwrap();
    let ministry = match sector.as_str() {
        "gas" | "electricity" | "chemical" | "credit" | "petroleum" => "meti",
        "water" | "medical" => "mhlw",
        "finance" => "fsa",
        "telecom" | "government" => "mic",
        _ => "mlit",
    };
    let at_ministry = if route == "anonymised" {
        app.forward(&id(&first), &format!("{sector}-ceptoar.secretariat"), json!({})).await
    } else {
        first
    };
    app.forward(&id(&at_ministry), &format!("{ministry}.liaison"), json!({})).await
}

fn advisory_body(app: &TestApp, recipients: &[(&str, &str)], tlp: &str, extra: Value) -> Value {
    let recipients: Vec<Value> = recipients
        .iter()
        .map(|(m, s)| json!({"ministry_org_id": app.org(&format!("{m}.liaison")), "sector": s}))
        .collect();
    let mut body = json!({
        "severity": "warning",
        "tlp": tlp,
        "tlp_note": "",
        "has_attachments": false,
        "recipients": recipients,
        "content": {"summary": "制御系を狙う不審メールに注意", "targets": "ガス制御系", "countermeasures": "添付ファイルを開かない", "other": ""},
        "contact": {"name": "NISC 重要インフラ担当", "phone": "03-0000-0000", "fax": "", "email": "cip@example.go.jp"},
        "external_sources": ["JPCERT/CC 注意喚起"]
    });
    if let (Value::Object(b), Value::Object(e)) = (&mut body, extra) {
        b.extend(e);
    }
    body
}

async fn draft(app: &TestApp, body: Value) -> Value {
    let (status, a) = app.post("/api/v1/advisories", "nisc.cip", body).await;
    assert_eq!(status, 201, "{a}");
    common::view::<AdvisoryView>(&a);
    a
}

async fn issue(app: &TestApp, a: &Value) -> (u16, Value) {
    let (status, answer) = app.post(&format!("/api/v1/advisories/{}/issue", id(a)), "nisc.cip", json!({})).await;
    if status == 200 {
        common::view::<AdvisoryView>(&answer);
    }
    (status, answer)
}

fn fields(err: &Value) -> Vec<String> {
    err["error"]["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn an_advisory_is_issued_relayed_hop_by_hop_and_acknowledged() {
    let app = spawn_demo().await;
    let source = report_at_coordinator(&app, "gas-a.ntk", "direct", "AMBER", json!({})).await;
    let a = draft(&app, advisory_body(&app, &[("meti", "gas")], "AMBER", json!({"source_report_ids": [id(&source)]})))
        .await;
    let path = format!("/api/v1/advisories/{}", id(&a));
    assert_eq!(a["status"], "draft");
    assert_eq!(a["identifier"], Value::Null);
    assert_eq!(app.get(&path, "meti.liaison").await.0, 404, "a draft is the coordinator's alone");
    assert_eq!(
        app.post("/api/v1/advisories", "meti.liaison", advisory_body(&app, &[], "AMBER", json!({}))).await.0,
        403
    );

    let (status, issued) = issue(&app, &a).await;
    assert_eq!(status, 200, "{issued}");
    let ident = issued["identifier"].as_str().unwrap().to_string();
    assert!(ident.starts_with('T') && ident.ends_with("-0001"), "{ident}");
    assert_eq!(issued["banner"]["en"], "TLP:AMBER / warning");
    assert_eq!(app.get(&path, "meti.liaison").await.0, 200);
    assert_eq!(app.get(&path, "meti.member").await.0, 404, "AMBER needs need-to-know");
    assert_eq!(app.get(&path, "gas-ceptoar.ntk").await.0, 404, "not relayed yet");
    assert_eq!(issue(&app, &a).await.0, 409);

    let relay = |org: String, tlp: Option<&str>| {
        let mut b = json!({"org_ids": [org]});
        if let Some(t) = tlp {
            b["tlp"] = json!(t);
        }
        b
    };
    let (status, err) =
        app.post(&format!("{path}/relay"), "meti.liaison", relay(app.org("water-ceptoar.admin"), None)).await;
    assert_eq!((status, fields(&err)), (422, vec!["org_ids".to_string()]));
    assert_eq!(
        app.post(&format!("{path}/relay"), "meti.member", relay(app.org("gas-ceptoar.admin"), None)).await.0,
        404
    );
    let (status, body) =
        app.post(&format!("{path}/relay"), "meti.liaison", relay(app.org("gas-ceptoar.admin"), None)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(app.get(&path, "gas-ceptoar.ntk").await.0, 200);
    let (status, err) = app
        .post(&format!("{path}/relay"), "gas-ceptoar.secretariat", relay(app.org("gas-b.admin"), Some("GREEN")))
        .await;
    assert_eq!((status, fields(&err)), (422, vec!["tlp".to_string()]));
    assert_eq!(
        app.post(&format!("{path}/relay"), "gas-ceptoar.secretariat", relay(app.org("gas-b.admin"), None)).await.0,
        200
    );
    assert_eq!(app.get(&path, "gas-b.ntk").await.0, 200);
    for outsider in ["water-a.ntk", "fsa.liaison", "vendor.ntk", "gas-b.member"] {
        assert_eq!(app.get(&path, outsider).await.0, 404, "{outsider}");
        assert_eq!(app.count_advisories(outsider).await, 0, "{outsider}");
    }

    let ack = |status: &str, comment: &str| json!({"status": status, "comment": comment});
    assert_eq!(app.post(&format!("{path}/acknowledgments"), "meti.liaison", ack("received", "")).await.0, 200);
    assert_eq!(
        app.post(&format!("{path}/acknowledgments"), "gas-ceptoar.ntk", ack("acted", "会員へ周知済み")).await.0,
        200
    );
    let (status, err) = app.post(&format!("{path}/acknowledgments"), "gas-b.ntk", ack("ignored", "")).await;
    assert_eq!((status, fields(&err)), (422, vec!["status".to_string()]));
    assert_eq!(app.post(&format!("{path}/acknowledgments"), "nisc.cip", ack("received", "")).await.0, 403);

    let (_, seen) = app.get(&path, "nisc.cip").await;
    let deliveries = seen["deliveries"].as_array().unwrap();
    assert_eq!(deliveries.len(), 3);
    let to = |org: String| deliveries.iter().find(|d| d["to_org_id"] == org.as_str()).unwrap().clone();
    assert_eq!(to(app.org("meti.admin"))["acknowledgment"]["status"], "received");
    let cep = to(app.org("gas-ceptoar.admin"));
    assert_eq!(cep["acknowledgment"]["status"], "acted");
    assert_eq!(cep["from_org_id"], app.org("meti.admin"));
    assert!(cep["acknowledgment"]["seconds_to_acknowledge"].as_i64().unwrap() >= 0);
    assert_eq!(to(app.org("gas-b.admin"))["acknowledgment"], Value::Null, "gas-b has not acknowledged");
    let (_, ministry_view) = app.get(&path, "meti.liaison").await;
    assert_eq!(ministry_view["deliveries"].as_array().unwrap().len(), 3, "its own hop in, and every hop down from it");
    let (_, ceptoar_view) = app.get(&path, "gas-ceptoar.ntk").await;
    assert_eq!(ceptoar_view["deliveries"].as_array().unwrap().len(), 2, "not the coordinator's hop to the ministry");
    let (_, member_view) = app.get(&path, "gas-b.ntk").await;
    assert_eq!(member_view["source_report_ids"], json!([]), "sources stay with the coordinator");

    // A follow-up continues the numbering.
    let (status, follow) =
        app.post(&format!("{path}/follow-ups"), "nisc.cip", json!({"content": {"summary": "続報：対策を更新"}})).await;
    assert_eq!(status, 201, "{follow}");
    assert_eq!(follow["sequence"], 2);
    let (_, issued2) = issue(&app, &follow).await;
    assert_eq!(issued2["identifier"], format!("{ident}-2"));
}

#[tokio::test]
async fn issuing_is_refused_while_text_identifies_a_source_operator() {
    let app = spawn_demo().await;
    let (_, orgs) = app.get("/api/v1/orgs", "ops.admin").await;
    let operator =
        orgs["items"].as_array().unwrap().iter().find(|o| o["id"] == app.org("gas-a.admin")).unwrap().clone();
    let alias = operator["identity"]["aliases"][0].as_str().unwrap().to_string();
    let domain = operator["identity"]["domains"][0].as_str().unwrap().to_string();
    for route in ["direct", "anonymised"] {
        let source = report_at_coordinator(&app, "gas-a.ntk", route, "GREEN", json!({})).await;
        let content = json!({"summary": format!("{alias}で検知された攻撃"), "countermeasures": format!("mail.{domain} からのメールを遮断。{alias} 参照")});
        let a = draft(
            &app,
            advisory_body(
                &app,
                &[("meti", "gas")],
                "GREEN",
                json!({"source_report_ids": [id(&source)], "content": content}),
            ),
        )
        .await;
        let (status, err) = issue(&app, &a).await;
        assert_eq!(status, 422, "{route}: {err}");
        assert_eq!(fields(&err), ["content.countermeasures", "content.summary"], "{route}");
        assert!(err["error"]["fields"][0]["en"].as_str().unwrap().starts_with("2 string"), "{err}");
        let text = err.to_string();
        for secret in
            [alias.as_str(), domain.as_str(), operator["name_ja"].as_str().unwrap(), operator["id"].as_str().unwrap()]
        {
            assert!(!text.contains(secret), "{route}: the refusal names {secret}");
        }
        let path = format!("/api/v1/advisories/{}", id(&a));
        let clean =
            json!({"content": {"summary": "ガス事業者で検知された攻撃", "countermeasures": "不審な送信元を遮断"}});
        assert_eq!(app.request(Method::PATCH, &path, Some("nisc.cip"), Some(clean)).await.0, 200);
        assert_eq!(issue(&app, &a).await.0, 200, "{route}");
    }
}

#[tokio::test]
async fn a_wider_audience_needs_the_originators_consent() {
    let app = spawn_demo().await;
    let wide = [("meti", "gas"), ("mhlw", "water")];
    // Direct route: the coordinator asks the operator itself.
    let source = report_at_coordinator(&app, "gas-a.ntk", "direct", "AMBER", json!({})).await;
    let a = draft(&app, advisory_body(&app, &wide, "GREEN", json!({"source_report_ids": [id(&source)]}))).await;
    let (status, err) = issue(&app, &a).await;
    assert_eq!((status, fields(&err)), (422, vec!["source_report_ids[0]".to_string()]));
    let widen = format!("/api/v1/advisories/{}/scope-widenings", id(&a));
    let (status, w) = app.post(&widen, "nisc.cip", json!({"report_id": id(&source)})).await;
    assert_eq!(status, 201, "{w}");
    assert_eq!(w["status"], "pending");
    let answer = format!("/api/v1/scope-widenings/{}/answer", id(&w));
    assert_eq!(app.post(&answer, "gas-b.admin", json!({"grant": true})).await.0, 404);
    assert_eq!(app.post(&answer, "meti.liaison", json!({"grant": true})).await.0, 404);
    let (status, answered) = app.post(&answer, "gas-a.admin", json!({"grant": true})).await;
    assert_eq!((status, answered["status"].as_str()), (200, Some("granted")));
    assert_eq!(issue(&app, &a).await.0, 200);

    // Anonymised route: the request goes through the secretariat; the coordinator never
    // learns who answered.
    let source = report_at_coordinator(&app, "water-a.ntk", "anonymised", "AMBER", json!({})).await;
    let a = draft(&app, advisory_body(&app, &wide, "GREEN", json!({"source_report_ids": [id(&source)]}))).await;
    let widen = format!("/api/v1/advisories/{}/scope-widenings", id(&a));
    let (_, w) = app.post(&widen, "nisc.cip", json!({"report_id": id(&source)})).await;
    assert_eq!(w["status"], "at_secretariat");
    let (_, list) = app.get("/api/v1/scope-widenings", "water-a.admin").await;
    assert!(list["items"].as_array().unwrap().is_empty(), "not yet relayed to the operator");
    let answer = format!("/api/v1/scope-widenings/{}/answer", id(&w));
    assert_eq!(app.post(&answer, "water-a.admin", json!({"grant": true})).await.0, 404);
    assert_eq!(
        app.post(&format!("/api/v1/scope-widenings/{}/relay", id(&w)), "water-ceptoar.secretariat", json!({})).await.0,
        200
    );
    let (status, answered) = app.post(&answer, "water-a.admin", json!({"grant": false})).await;
    assert_eq!((status, answered["status"].as_str()), (200, Some("refused")));
    let (_, seen) = app.get("/api/v1/scope-widenings", "nisc.cip").await;
    let mine = seen["items"].as_array().unwrap().iter().find(|x| x["id"] == w["id"]).unwrap().clone();
    assert_eq!(mine["status"], "refused");
    assert_eq!(mine["answered_by"], Value::Null);
    assert!(!seen.to_string().contains(&app.org("water-a.admin")));
    let (_, notes) = app.get("/api/v1/notifications", "nisc.cip").await;
    assert!(!notes.to_string().contains(&app.org("water-a.admin")));
    assert_eq!(issue(&app, &a).await.0, 422, "a refusal keeps the scope");

    // A structured permission for sanitised derivatives allows other sectors without asking.
    let source =
        report_at_coordinator(&app, "gas-b.ntk", "direct", "AMBER", json!({"sanitised_wider_use": true})).await;
    let a = draft(&app, advisory_body(&app, &wide, "GREEN", json!({"source_report_ids": [id(&source)]}))).await;
    assert_eq!(issue(&app, &a).await.0, 200);
    let a = draft(&app, advisory_body(&app, &wide, "WHITE", json!({"source_report_ids": [id(&source)]}))).await;
    assert_eq!(issue(&app, &a).await.0, 422, "publication is beyond sanitised use");
}

#[tokio::test]
async fn only_ministries_inside_the_scope_ask_and_see_questions() {
    let app = spawn_demo().await;
    let a = draft(&app, advisory_body(&app, &[("meti", "gas")], "AMBER", json!({}))).await;
    issue(&app, &a).await;
    let path = format!("/api/v1/advisories/{}", id(&a));
    app.post(&format!("{path}/relay"), "meti.liaison", json!({"org_ids": [app.org("gas-ceptoar.admin")]})).await;
    let (status, q) =
        app.post(&format!("{path}/questions"), "meti.liaison", json!({"text": "対象機器の型番は？"})).await;
    assert_eq!(status, 201, "{q}");
    let (status, thread) = app.get(&format!("{path}/questions"), "nisc.cip").await;
    assert_eq!((status, thread["items"][0]["text"].as_str()), (200, Some("対象機器の型番は？")));
    assert_eq!(app.post(&format!("{path}/questions"), "nisc.cip", json!({"text": "型番は XX-100 です"})).await.0, 201);
    for outsider in ["gas-ceptoar.ntk", "fsa.liaison", "gas-a.ntk"] {
        assert_eq!(app.post(&format!("{path}/questions"), outsider, json!({"text": "?"})).await.0, 404, "{outsider}");
        assert_eq!(app.get(&format!("{path}/questions"), outsider).await.0, 404, "{outsider}");
    }
    let (_, notes) = app.get("/api/v1/notifications", "nisc.cip").await;
    assert!(notes["items"].as_array().unwrap().iter().any(|n| n["kind"] == "advisory.question"));
    let (_, notes) = app.get("/api/v1/notifications", "meti.liaison").await;
    assert!(
        notes["items"].as_array().unwrap().iter().any(|n| n["kind"] == "advisory.question"),
        "the answer reaches the ministry"
    );
    let (status, err) = app.post(&format!("{path}/questions"), "meti.liaison", json!({})).await;
    assert_eq!((status, fields(&err)), (422, vec!["text".to_string()]));
}

#[tokio::test]
async fn an_urgent_early_warning_goes_straight_to_the_ceptoars_with_a_copy_to_the_liaisons() {
    let app = spawn_demo().await;
    let a = draft(
        &app,
        advisory_body(
            &app,
            &[("meti", "electricity"), ("mlit", "railway")],
            "GREEN",
            json!({"urgent": true, "severity": "alert"}),
        ),
    )
    .await;
    let (status, issued) = issue(&app, &a).await;
    assert_eq!(status, 200, "{issued}");
    let path = format!("/api/v1/advisories/{}", id(&a));
    for reader in ["electricity-ceptoar.member", "railway-ceptoar.member", "meti.member", "mlit.member"] {
        assert_eq!(app.get(&path, reader).await.0, 200, "{reader}");
    }
    let deliveries = issued["deliveries"].as_array().unwrap();
    assert_eq!(deliveries.len(), 4);
    let copies: Vec<bool> = deliveries.iter().map(|d| d["copy"].as_bool().unwrap()).collect();
    assert_eq!(copies.iter().filter(|c| **c).count(), 2, "the liaisons' copies");
    assert_eq!(app.get(&path, "electricity-a.member").await.0, 404, "until the CEPTOAR relays it");
    let (status, _) = app
        .post(
            &format!("{path}/relay"),
            "electricity-ceptoar.secretariat",
            json!({"org_ids": [app.org("electricity-a.admin")]}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(app.get(&path, "electricity-a.member").await.0, 200, "GREEN reaches every user");
    assert_eq!(issued["banner"]["ja"], "TLP:GREEN 重要インフラ関係主体限り／警報");
}

#[tokio::test]
async fn notifications_reach_only_readers_and_follow_lost_rights() {
    let app = spawn_demo().await;
    let a = draft(&app, advisory_body(&app, &[("meti", "gas")], "AMBER", json!({}))).await;
    issue(&app, &a).await;
    let has = |body: &Value| body["items"].as_array().unwrap().iter().any(|n| n["object_id"] == a["id"]);
    assert!(has(&app.get("/api/v1/notifications", "meti.ntk").await.1));
    assert!(
        !has(&app.get("/api/v1/notifications", "meti.member").await.1),
        "AMBER: not for a member without need-to-know"
    );
    assert!(!has(&app.get("/api/v1/notifications", "fsa.ntk").await.1));
    let (_, list) = app.get("/api/v1/notifications", "meti.ntk").await;
    let subject = list["items"][0]["subject"].as_str().unwrap();
    assert!(subject.starts_with("[TLP:AMBER][注意喚起/warning] T"), "{subject}");
    // The user loses need-to-know: the notification goes with the right to read.
    let (_, users) = app.get("/api/v1/admin/users", "meti.admin").await;
    let ntk = users["items"].as_array().unwrap().iter().find(|u| u["login"] == "meti.ntk").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.request(
        Method::PATCH,
        &format!("/api/v1/admin/users/{ntk}"),
        Some("meti.admin"),
        Some(json!({"need_to_know": false})),
    )
    .await;
    assert!(!has(&app.get("/api/v1/notifications", "meti.ntk").await.1));
}

#[tokio::test]
async fn the_service_level_is_evaluated_beside_the_senders_own_answer() {
    let app = spawn_demo().await;
    let figures =
        |f: Value| json!({"impact": {"service_level_deviation": false, "system_status": "stopped", "figures": f}});
    let r = app
        .file(
            "electricity-a.ntk",
            "direct",
            "AMBER",
            figures(json!({"interrupted_kw": 150000, "duration_minutes": 12})),
        )
        .await;
    assert_eq!(r["service_level_evaluation"]["deviated"], true);
    assert!(r["service_level_evaluation"]["statute"].as_str().unwrap().contains("電気関係報告規則"));
    assert_eq!(r["impact"]["service_level_deviation"], false, "the sender's answer stays");
    let r = app
        .file(
            "telecom-a.ntk",
            "direct",
            "AMBER",
            figures(json!({"service": "電気通信役務", "affected_users": 10000, "duration_minutes": 200})),
        )
        .await;
    assert_eq!(r["service_level_evaluation"]["deviated"], false);
    assert!(r["service_level_evaluation"]["statute"].as_str().unwrap().contains("電気通信事業法"));
    let r = app
        .file("telecom-a.ntk", "direct", "AMBER", figures(json!({"service": "放送", "broadcast_stop_minutes": 20})))
        .await;
    assert_eq!(r["service_level_evaluation"]["deviated"], true);
    assert!(r["service_level_evaluation"]["statute"].as_str().unwrap().contains("放送法"));
    let r = app.file("gas-a.ntk", "direct", "AMBER", json!({})).await;
    assert_eq!(r["service_level_evaluation"], Value::Null);
    let mut body = common::report_body("gas", "direct", "AMBER", json!({}));
    body["service_level_evaluation"] = json!({"deviated": true});
    let (status, err) = app.post("/api/v1/reports", "gas-a.ntk", body).await;
    assert_eq!((status, fields(&err)), (422, vec!["service_level_evaluation".to_string()]));
}

#[tokio::test]
async fn recipients_are_suggested_from_the_dependency_graph() {
    let app = spawn_demo().await;
    let stopped = json!({"event_type": "service_unavailable", "impact": {"system_status": "stopped"}});
    let r = report_at_coordinator(&app, "water-a.ntk", "direct", "GREEN", stopped).await;
    let (status, s) = app.get(&format!("/api/v1/reports/{}/suggested-recipients", id(&r)), "nisc.cip").await;
    assert_eq!(status, 200);
    assert_eq!(s["sectors"], json!(["medical"]));
    let r = report_at_coordinator(
        &app,
        "electricity-a.ntk",
        "direct",
        "GREEN",
        json!({"causes": ["cross_sector_spillover"]}),
    )
    .await;
    let (_, s) = app.get(&format!("/api/v1/reports/{}/suggested-recipients", id(&r)), "nisc.cip").await;
    assert_eq!(s["sectors"].as_array().unwrap().len(), 14, "every other sector depends on electricity");
    let r = report_at_coordinator(&app, "gas-a.ntk", "direct", "GREEN", json!({})).await;
    let (_, s) = app.get(&format!("/api/v1/reports/{}/suggested-recipients", id(&r)), "nisc.cip").await;
    assert_eq!(s["sectors"], json!([]), "nothing stopped");
    assert_eq!(app.get(&format!("/api/v1/reports/{}/suggested-recipients", id(&r)), "water-a.ntk").await.0, 404);
}

#[tokio::test]
async fn malformed_advisories_name_their_fields_and_refusals_write_nothing() {
    let app = spawn_demo().await;
    let (status, err) = app.post("/api/v1/advisories", "nisc.cip", json!({"tlp": "BLUE"})).await;
    assert_eq!((status, fields(&err)), (422, vec!["tlp".to_string()]));
    let (status, err) = app.post("/api/v1/advisories", "nisc.cip", json!({})).await;
    assert_eq!((status, fields(&err)), (422, vec!["tlp".to_string()]));
    let body = advisory_body(&app, &[("meti", "moon")], "AMBER", json!({}));
    let (status, err) = app.post("/api/v1/advisories", "nisc.cip", body).await;
    assert_eq!((status, fields(&err)), (422, vec!["recipients[0].sector".to_string()]));
    let body = advisory_body(&app, &[("fsa", "gas")], "AMBER", json!({}));
    let (status, err) = app.post("/api/v1/advisories", "nisc.cip", body).await;
    assert_eq!((status, fields(&err)), (422, vec!["recipients[0].ministry_org_id".to_string()]));
    let body = advisory_body(&app, &[("meti", "gas")], "AMBER", json!({"source_report_ids": ["not-a-report"]}));
    let (status, err) = app.post("/api/v1/advisories", "nisc.cip", body).await;
    assert_eq!((status, fields(&err)), (422, vec!["source_report_ids[0]".to_string()]));
    let (status, _) = app.post("/api/v1/advisories", "nisc.cip", json!({"tlp": "AMBER", "urgent": "yes"})).await;
    assert_eq!(status, 422);

    // A refused issue leaves the draft as it was: no number, no delivery, no audit entry.
    let source = report_at_coordinator(&app, "gas-a.ntk", "direct", "RED", json!({})).await;
    let a = draft(&app, advisory_body(&app, &[("meti", "gas")], "AMBER", json!({"source_report_ids": [id(&source)]})))
        .await;
    let before = app.audit_len().await;
    let (status, err) = issue(&app, &a).await;
    assert_eq!((status, fields(&err)), (422, vec!["source_report_ids[0]".to_string()]));
    assert_eq!(app.audit_len().await, before);
    let (_, still) = app.get(&format!("/api/v1/advisories/{}", id(&a)), "nisc.cip").await;
    assert_eq!((still["status"].as_str(), still["identifier"].as_str()), (Some("draft"), None));
    assert!(still["deliveries"].as_array().unwrap().is_empty());
    assert_eq!(app.count_advisories("meti.liaison").await, 0);
    let empty = draft(&app, json!({"tlp": "GREEN"})).await;
    let (status, err) = issue(&app, &empty).await;
    assert_eq!((status, fields(&err)), (422, vec!["recipients".to_string(), "content.summary".to_string()]));
}

/// An advisory carries what its reader may do; what it offers is accepted, and a relay
/// to someone it does not offer is refused.
#[tokio::test]
async fn an_advisory_offers_exactly_the_relays_its_reader_may_make() {
    let app = spawn_demo().await;
    let source = report_at_coordinator(&app, "gas-a.ntk", "direct", "AMBER", json!({})).await;
    let a = draft(&app, advisory_body(&app, &[("meti", "gas")], "AMBER", json!({"source_report_ids": [id(&source)]})))
        .await;
    assert_eq!((a["actions"]["edit"].clone(), a["actions"]["acknowledge"].clone()), (json!(true), json!(false)));
    let path = format!("/api/v1/advisories/{}", id(&a));
    assert_eq!(issue(&app, &a).await.0, 200);

    let at_meti: AdvisoryView = app.typed(&path, "meti.liaison").await;
    let offered = at_meti.actions.relay_to;
    assert!(offered.contains(&app.org("gas-ceptoar.admin")), "{offered:?}");
    assert!(!offered.contains(&app.org("water-ceptoar.admin")), "another sector is not offered");
    assert!(at_meti.actions.acknowledge);
    let relay = format!("{path}/relay");
    let refused = app.post(&relay, "meti.liaison", json!({"org_ids": [app.org("water-ceptoar.admin")]})).await;
    assert_eq!(refused.0, 422);
    let (status, after) = app.post(&relay, "meti.liaison", json!({"org_ids": offered})).await;
    assert_eq!(status, 200, "{after}");
    assert_eq!(after["actions"]["relay_to"], json!([]), "everyone offered has it now");
}
