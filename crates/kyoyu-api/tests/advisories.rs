//! The 情報提供 chain over HTTP: draft, sanitisation gate, scope rule and widening consent,
//! issue and relay hop by hop, acknowledgments, questions, the urgent path, notifications,
//! service-level evaluation and recipient suggestions.

mod common;

use kyoyu_app::views::{
    AdvisoryView, NotificationList, OrgList, QuestionList, ReportView, Suggestion, UserList, WideningList, WideningView,
};
use kyoyu_domain::codes::{AckStatus, AdvisoryStatus, WideningStatus};

use common::{fields, spawn_demo, ErrorBody, TestApp};
use reqwest::Method;
use serde_json::{json, Value};

/// A report that reached the coordinator; returns the coordinator's rendition.
async fn report_at_coordinator(app: &TestApp, login: &str, route: &str, tlp: &str, extra: Value) -> ReportView {
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
        app.forward(&first.id, &format!("{sector}-ceptoar.secretariat"), json!({})).await
    } else {
        first
    };
    app.forward(&at_ministry.id, &format!("{ministry}.liaison"), json!({})).await
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

async fn draft(app: &TestApp, body: Value) -> AdvisoryView {
    app.post_as("/api/v1/advisories", "nisc.cip", body).await
}

fn issue_path(a: &AdvisoryView) -> String {
    format!("/api/v1/advisories/{}/issue", a.id)
}

async fn issue(app: &TestApp, a: &AdvisoryView) -> AdvisoryView {
    app.post_as(&issue_path(a), "nisc.cip", json!({})).await
}

/// Issuing `a`, expected to be refused.
async fn issue_refused(app: &TestApp, a: &AdvisoryView) -> (u16, ErrorBody) {
    app.post_refused(&issue_path(a), "nisc.cip", json!({})).await
}

fn sources(reports: &[&ReportView]) -> Value {
    json!({"source_report_ids": reports.iter().map(|r| r.id.as_str()).collect::<Vec<_>>()})
}

#[tokio::test]
async fn an_advisory_is_issued_relayed_hop_by_hop_and_acknowledged() {
    let app = spawn_demo().await;
    let source = report_at_coordinator(&app, "gas-a.ntk", "direct", "AMBER", json!({})).await;
    let a = draft(&app, advisory_body(&app, &[("meti", "gas")], "AMBER", sources(&[&source]))).await;
    let path = format!("/api/v1/advisories/{}", a.id);
    assert_eq!(a.status, AdvisoryStatus::Draft);
    assert_eq!(a.identifier, None);
    assert_eq!(app.get(&path, "meti.liaison").await.0, 404, "a draft is the coordinator's alone");
    assert_eq!(
        app.post("/api/v1/advisories", "meti.liaison", advisory_body(&app, &[], "AMBER", json!({}))).await.0,
        403
    );

    let issued = issue(&app, &a).await;
    let ident = issued.identifier.unwrap();
    assert!(ident.starts_with('T') && ident.ends_with("-0001"), "{ident}");
    assert_eq!(issued.banner.en, "TLP:AMBER / warning");
    assert_eq!(app.get(&path, "meti.liaison").await.0, 200);
    assert_eq!(app.get(&path, "meti.member").await.0, 404, "AMBER needs need-to-know");
    assert_eq!(app.get(&path, "gas-ceptoar.ntk").await.0, 404, "not relayed yet");
    assert_eq!(issue_refused(&app, &a).await.0, 409);

    let relay = |org: String, tlp: Option<&str>| {
        let mut b = json!({"org_ids": [org]});
        if let Some(t) = tlp {
            b["tlp"] = json!(t);
        }
        b
    };
    let (status, err) =
        app.post_refused(&format!("{path}/relay"), "meti.liaison", relay(app.org("water-ceptoar.admin"), None)).await;
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
        .post_refused(&format!("{path}/relay"), "gas-ceptoar.secretariat", relay(app.org("gas-b.admin"), Some("GREEN")))
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
    let (status, err) = app.post_refused(&format!("{path}/acknowledgments"), "gas-b.ntk", ack("ignored", "")).await;
    assert_eq!((status, fields(&err)), (422, vec!["status".to_string()]));
    assert_eq!(app.post(&format!("{path}/acknowledgments"), "nisc.cip", ack("received", "")).await.0, 403);

    let seen: AdvisoryView = app.typed(&path, "nisc.cip").await;
    assert_eq!(seen.deliveries.len(), 3);
    let to = |org: String| seen.deliveries.iter().find(|d| d.to_org_id == org).unwrap().clone();
    let ack_status = |org: String| to(org).acknowledgment.map(|a| a.status);
    assert_eq!(ack_status(app.org("meti.admin")), Some(AckStatus::Received));
    assert_eq!(ack_status(app.org("gas-ceptoar.admin")), Some(AckStatus::Acted));
    let cep = to(app.org("gas-ceptoar.admin"));
    assert_eq!(cep.from_org_id, app.org("meti.admin"));
    assert!(cep.acknowledgment.unwrap().seconds_to_acknowledge.unwrap() >= 0);
    assert!(to(app.org("gas-b.admin")).acknowledgment.is_none(), "gas-b has not acknowledged");
    let ministry_view: AdvisoryView = app.typed(&path, "meti.liaison").await;
    assert_eq!(ministry_view.deliveries.len(), 3, "its own hop in, and every hop down from it");
    let ceptoar_view: AdvisoryView = app.typed(&path, "gas-ceptoar.ntk").await;
    assert_eq!(ceptoar_view.deliveries.len(), 2, "not the coordinator's hop to the ministry");
    let member_view: AdvisoryView = app.typed(&path, "gas-b.ntk").await;
    assert!(member_view.draft.source_report_ids.is_empty(), "sources stay with the coordinator");
    assert!(member_view.awaiting, "gas-b has neither acknowledged nor relayed it");
    assert!(!ministry_view.awaiting && !ceptoar_view.awaiting, "acting takes it off the inbox");
    assert!(!seen.awaiting, "the coordinator received nothing");

    // A follow-up continues the numbering.
    let follow: AdvisoryView = app
        .post_as(&format!("{path}/follow-ups"), "nisc.cip", json!({"content": {"summary": "続報：対策を更新"}}))
        .await;
    assert_eq!(follow.sequence, 2);
    assert_eq!(issue(&app, &follow).await.identifier, Some(format!("{ident}-2")));
}

#[tokio::test]
async fn issuing_is_refused_while_text_identifies_a_source_operator() {
    let app = spawn_demo().await;
    let orgs: OrgList = app.typed("/api/v1/orgs", "ops.admin").await;
    let operator = orgs.items.into_iter().find(|o| o.id == app.org("gas-a.admin")).unwrap();
    let identity = operator.identity.clone().unwrap();
    let (alias, domain) = (identity.aliases[0].clone(), identity.domains[0].clone());
    for route in ["direct", "anonymised"] {
        let source = report_at_coordinator(&app, "gas-a.ntk", route, "GREEN", json!({})).await;
        let content = json!({"summary": format!("{alias}で検知された攻撃"), "countermeasures": format!("mail.{domain} からのメールを遮断。{alias} 参照")});
        let a = draft(
            &app,
            advisory_body(
                &app,
                &[("meti", "gas")],
                "GREEN",
                json!({"source_report_ids": [&source.id], "content": content}),
            ),
        )
        .await;
        let (status, err) = issue_refused(&app, &a).await;
        assert_eq!(status, 422, "{route}: {err:?}");
        assert_eq!(fields(&err), ["content.countermeasures", "content.summary"], "{route}");
        assert!(err.error.fields[0].en.starts_with("2 string"), "{err:?}");
        let text = serde_json::to_string(&err).unwrap();
        for secret in [&alias, &domain, &operator.name_ja, &operator.id] {
            assert!(!text.contains(secret.as_str()), "{route}: the refusal names {secret}");
        }
        let path = format!("/api/v1/advisories/{}", a.id);
        let clean =
            json!({"content": {"summary": "ガス事業者で検知された攻撃", "countermeasures": "不審な送信元を遮断"}});
        let _: AdvisoryView = app.patch_as(&path, "nisc.cip", clean).await;
        issue(&app, &a).await;
    }
}

#[tokio::test]
async fn a_wider_audience_needs_the_originators_consent() {
    let app = spawn_demo().await;
    let wide = [("meti", "gas"), ("mhlw", "water")];
    // Direct route: the coordinator asks the operator itself.
    let source = report_at_coordinator(&app, "gas-a.ntk", "direct", "AMBER", json!({})).await;
    let a = draft(&app, advisory_body(&app, &wide, "GREEN", sources(&[&source]))).await;
    let (status, err) = issue_refused(&app, &a).await;
    assert_eq!((status, fields(&err)), (422, vec!["source_report_ids[0]".to_string()]));
    let widen = format!("/api/v1/advisories/{}/scope-widenings", a.id);
    let w: WideningView = app.post_as(&widen, "nisc.cip", json!({"report_id": &source.id})).await;
    assert_eq!(w.status, WideningStatus::Pending);
    let answer = format!("/api/v1/scope-widenings/{}/answer", w.id);
    assert_eq!(app.post(&answer, "gas-b.admin", json!({"grant": true})).await.0, 404);
    assert_eq!(app.post(&answer, "meti.liaison", json!({"grant": true})).await.0, 404);
    let answered: WideningView = app.post_as(&answer, "gas-a.admin", json!({"grant": true})).await;
    assert_eq!(answered.status, WideningStatus::Granted);
    issue(&app, &a).await;

    // Anonymised route: the request goes through the secretariat; the coordinator never
    // learns who answered.
    let source = report_at_coordinator(&app, "water-a.ntk", "anonymised", "AMBER", json!({})).await;
    let a = draft(&app, advisory_body(&app, &wide, "GREEN", sources(&[&source]))).await;
    let widen = format!("/api/v1/advisories/{}/scope-widenings", a.id);
    let w: WideningView = app.post_as(&widen, "nisc.cip", json!({"report_id": &source.id})).await;
    assert_eq!(w.status, WideningStatus::AtSecretariat);
    let list: WideningList = app.typed("/api/v1/scope-widenings", "water-a.admin").await;
    assert!(list.items.is_empty(), "not yet relayed to the operator");
    let answer = format!("/api/v1/scope-widenings/{}/answer", w.id);
    assert_eq!(app.post(&answer, "water-a.admin", json!({"grant": true})).await.0, 404);
    let relay = format!("/api/v1/scope-widenings/{}/relay", w.id);
    let _: WideningView = app.post_as(&relay, "water-ceptoar.secretariat", json!({})).await;
    let answered: WideningView = app.post_as(&answer, "water-a.admin", json!({"grant": false})).await;
    assert_eq!(answered.status, WideningStatus::Refused);
    let (_, seen) = app.get("/api/v1/scope-widenings", "nisc.cip").await;
    let mine = common::view::<WideningList>(&seen).items.into_iter().find(|x| x.id == w.id).unwrap();
    assert_eq!(mine.status, WideningStatus::Refused);
    assert_eq!(mine.answered_by, None);
    assert!(!seen.to_string().contains(&app.org("water-a.admin")));
    let (_, notes) = app.get("/api/v1/notifications", "nisc.cip").await;
    assert!(!notes.to_string().contains(&app.org("water-a.admin")));
    assert_eq!(issue_refused(&app, &a).await.0, 422, "a refusal keeps the scope");

    // A structured permission for sanitised derivatives allows other sectors without asking.
    let source =
        report_at_coordinator(&app, "gas-b.ntk", "direct", "AMBER", json!({"sanitised_wider_use": true})).await;
    let a = draft(&app, advisory_body(&app, &wide, "GREEN", sources(&[&source]))).await;
    issue(&app, &a).await;
    let a = draft(&app, advisory_body(&app, &wide, "WHITE", sources(&[&source]))).await;
    assert_eq!(issue_refused(&app, &a).await.0, 422, "publication is beyond sanitised use");
}

#[tokio::test]
async fn only_ministries_inside_the_scope_ask_and_see_questions() {
    let app = spawn_demo().await;
    let a = draft(&app, advisory_body(&app, &[("meti", "gas")], "AMBER", json!({}))).await;
    issue(&app, &a).await;
    let path = format!("/api/v1/advisories/{}", a.id);
    app.post(&format!("{path}/relay"), "meti.liaison", json!({"org_ids": [app.org("gas-ceptoar.admin")]})).await;
    let (status, q) =
        app.post(&format!("{path}/questions"), "meti.liaison", json!({"text": "対象機器の型番は？"})).await;
    assert_eq!(status, 201, "{q}");
    let thread: QuestionList = app.typed(&format!("{path}/questions"), "nisc.cip").await;
    assert_eq!(thread.items[0].post.text, "対象機器の型番は？");
    assert_eq!((thread.items[0].answer, thread.items[0].answered, thread.unanswered()), (false, false, 1));
    assert_eq!(app.post(&format!("{path}/questions"), "nisc.cip", json!({"text": "型番は XX-100 です"})).await.0, 201);
    let thread: QuestionList = app.typed(&format!("{path}/questions"), "meti.liaison").await;
    let states: Vec<(bool, bool)> = thread.items.iter().map(|q| (q.answer, q.answered)).collect();
    assert_eq!(states, [(false, true), (true, false)], "the coordinator's post answers the question");
    for outsider in ["gas-ceptoar.ntk", "fsa.liaison", "gas-a.ntk"] {
        assert_eq!(app.post(&format!("{path}/questions"), outsider, json!({"text": "?"})).await.0, 404, "{outsider}");
        assert_eq!(app.get(&format!("{path}/questions"), outsider).await.0, 404, "{outsider}");
    }
    let asked = |notes: NotificationList| notes.items.iter().any(|n| n.kind == "advisory.question");
    assert!(asked(app.typed("/api/v1/notifications", "nisc.cip").await));
    assert!(asked(app.typed("/api/v1/notifications", "meti.liaison").await), "the answer reaches the ministry");
    let (status, err) = app.post_refused(&format!("{path}/questions"), "meti.liaison", json!({})).await;
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
    let issued = issue(&app, &a).await;
    let path = format!("/api/v1/advisories/{}", a.id);
    for reader in ["electricity-ceptoar.member", "railway-ceptoar.member", "meti.member", "mlit.member"] {
        assert_eq!(app.get(&path, reader).await.0, 200, "{reader}");
    }
    assert_eq!(issued.deliveries.len(), 4);
    assert_eq!(issued.deliveries.iter().filter(|d| d.copy).count(), 2, "the liaisons' copies");
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
    assert_eq!(issued.banner.ja, "TLP:GREEN 重要インフラ関係主体限り／警報");
}

#[tokio::test]
async fn notifications_reach_only_readers_and_follow_lost_rights() {
    let app = spawn_demo().await;
    let a = draft(&app, advisory_body(&app, &[("meti", "gas")], "AMBER", json!({}))).await;
    issue(&app, &a).await;
    let notes = |login: &'static str| app.typed::<NotificationList>("/api/v1/notifications", login);
    let has = |list: NotificationList| list.items.iter().any(|n| n.object_id == a.id);
    assert!(has(notes("meti.ntk").await));
    assert!(!has(notes("meti.member").await), "AMBER: not for a member without need-to-know");
    assert!(!has(notes("fsa.ntk").await));
    let subject = notes("meti.ntk").await.items[0].subject.clone();
    assert!(subject.starts_with("[TLP:AMBER][注意喚起/warning] T"), "{subject}");
    // The user loses need-to-know: the notification goes with the right to read.
    let users: UserList = app.typed("/api/v1/admin/users", "meti.admin").await;
    let ntk = users.items.into_iter().find(|u| u.login == "meti.ntk").unwrap().id;
    app.request(
        Method::PATCH,
        &format!("/api/v1/admin/users/{ntk}"),
        Some("meti.admin"),
        Some(json!({"need_to_know": false})),
    )
    .await;
    assert!(!has(notes("meti.ntk").await));
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
    let evaluation = |r: &ReportView| r.content.service_level_evaluation.clone().unwrap();
    assert!(evaluation(&r).deviated);
    assert!(evaluation(&r).statute.contains("電気関係報告規則"));
    assert_eq!(r.content.impact.service_level_deviation, Some(false), "the sender's answer stays");
    let r = app
        .file(
            "telecom-a.ntk",
            "direct",
            "AMBER",
            figures(json!({"service": "電気通信役務", "affected_users": 10000, "duration_minutes": 200})),
        )
        .await;
    assert!(!evaluation(&r).deviated);
    assert!(evaluation(&r).statute.contains("電気通信事業法"));
    let r = app
        .file("telecom-a.ntk", "direct", "AMBER", figures(json!({"service": "放送", "broadcast_stop_minutes": 20})))
        .await;
    assert!(evaluation(&r).deviated);
    assert!(evaluation(&r).statute.contains("放送法"));
    let r = app.file("gas-a.ntk", "direct", "AMBER", json!({})).await;
    assert!(r.content.service_level_evaluation.is_none());
    let body = common::report_body("gas", "direct", "AMBER", json!({"service_level_evaluation": {"deviated": true}}));
    let (status, err) = app.post_refused("/api/v1/reports", "gas-a.ntk", body).await;
    assert_eq!((status, fields(&err)), (422, vec!["service_level_evaluation".to_string()]));
}

async fn suggested(app: &TestApp, r: &ReportView) -> Suggestion {
    app.typed(&format!("/api/v1/reports/{}/suggested-recipients", r.id), "nisc.cip").await
}

#[tokio::test]
async fn recipients_are_suggested_from_the_dependency_graph() {
    let app = spawn_demo().await;
    let stopped = json!({"event_type": "service_unavailable", "impact": {"system_status": "stopped"}});
    let r = report_at_coordinator(&app, "water-a.ntk", "direct", "GREEN", stopped).await;
    assert_eq!(suggested(&app, &r).await.sectors, ["medical"]);
    let r = report_at_coordinator(
        &app,
        "electricity-a.ntk",
        "direct",
        "GREEN",
        json!({"causes": ["cross_sector_spillover"]}),
    )
    .await;
    assert_eq!(suggested(&app, &r).await.sectors.len(), 14, "every other sector depends on electricity");
    let r = report_at_coordinator(&app, "gas-a.ntk", "direct", "GREEN", json!({})).await;
    assert!(suggested(&app, &r).await.sectors.is_empty(), "nothing stopped");
    assert_eq!(app.get(&format!("/api/v1/reports/{}/suggested-recipients", r.id), "water-a.ntk").await.0, 404);
}

#[tokio::test]
async fn malformed_advisories_name_their_fields_and_refusals_write_nothing() {
    let app = spawn_demo().await;
    let (status, err) = app.post_refused("/api/v1/advisories", "nisc.cip", json!({"tlp": "BLUE"})).await;
    assert_eq!((status, fields(&err)), (422, vec!["tlp".to_string()]));
    let (status, err) = app.post_refused("/api/v1/advisories", "nisc.cip", json!({})).await;
    assert_eq!((status, fields(&err)), (422, vec!["tlp".to_string()]));
    let body = advisory_body(&app, &[("meti", "moon")], "AMBER", json!({}));
    let (status, err) = app.post_refused("/api/v1/advisories", "nisc.cip", body).await;
    assert_eq!((status, fields(&err)), (422, vec!["recipients[0].sector".to_string()]));
    let body = advisory_body(&app, &[("fsa", "gas")], "AMBER", json!({}));
    let (status, err) = app.post_refused("/api/v1/advisories", "nisc.cip", body).await;
    assert_eq!((status, fields(&err)), (422, vec!["recipients[0].ministry_org_id".to_string()]));
    let body = advisory_body(&app, &[("meti", "gas")], "AMBER", json!({"source_report_ids": ["not-a-report"]}));
    let (status, err) = app.post_refused("/api/v1/advisories", "nisc.cip", body).await;
    assert_eq!((status, fields(&err)), (422, vec!["source_report_ids[0]".to_string()]));
    let (status, _) = app.post("/api/v1/advisories", "nisc.cip", json!({"tlp": "AMBER", "urgent": "yes"})).await;
    assert_eq!(status, 422);

    // A refused issue leaves the draft as it was: no number, no delivery, no audit entry.
    let source = report_at_coordinator(&app, "gas-a.ntk", "direct", "RED", json!({})).await;
    let a = draft(&app, advisory_body(&app, &[("meti", "gas")], "AMBER", sources(&[&source]))).await;
    let before = app.audit_len().await;
    let (status, err) = issue_refused(&app, &a).await;
    assert_eq!((status, fields(&err)), (422, vec!["source_report_ids[0]".to_string()]));
    assert_eq!(app.audit_len().await, before);
    let still: AdvisoryView = app.typed(&format!("/api/v1/advisories/{}", a.id), "nisc.cip").await;
    assert_eq!((still.status, still.identifier), (AdvisoryStatus::Draft, None));
    assert!(still.deliveries.is_empty());
    assert_eq!(app.count_advisories("meti.liaison").await, 0);
    let empty = draft(&app, json!({"tlp": "GREEN"})).await;
    let (status, err) = issue_refused(&app, &empty).await;
    assert_eq!((status, fields(&err)), (422, vec!["recipients".to_string(), "content.summary".to_string()]));
}

/// An advisory carries what its reader may do; what it offers is accepted, and a relay
/// to someone it does not offer is refused.
#[tokio::test]
async fn an_advisory_offers_exactly_the_relays_its_reader_may_make() {
    let app = spawn_demo().await;
    let source = report_at_coordinator(&app, "gas-a.ntk", "direct", "AMBER", json!({})).await;
    let a = draft(&app, advisory_body(&app, &[("meti", "gas")], "AMBER", sources(&[&source]))).await;
    assert_eq!((a.actions.edit, a.actions.acknowledge), (true, false));
    let path = format!("/api/v1/advisories/{}", a.id);
    issue(&app, &a).await;

    let at_meti: AdvisoryView = app.typed(&path, "meti.liaison").await;
    let offered = at_meti.actions.relay_to;
    assert!(offered.contains(&app.org("gas-ceptoar.admin")), "{offered:?}");
    assert!(!offered.contains(&app.org("water-ceptoar.admin")), "another sector is not offered");
    assert!(at_meti.actions.acknowledge);
    let relay = format!("{path}/relay");
    let refused = app.post(&relay, "meti.liaison", json!({"org_ids": [app.org("water-ceptoar.admin")]})).await;
    assert_eq!(refused.0, 422);
    let after: AdvisoryView = app.post_as(&relay, "meti.liaison", json!({"org_ids": offered})).await;
    assert!(after.actions.relay_to.is_empty(), "everyone offered has it now");
}
