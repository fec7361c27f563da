//! Anonymity as a property of every answer (issue #11, domain.md §6 route 2): for an
//! anonymised chain, every answer given to users outside the operator and its secretariat is
//! the same whichever member of the sector's CEPTOAR filed it.
//!
//! Each case builds two demo worlds that differ only in the filer (gas-a in one, gas-b in the
//! other, both members of the gas CEPTOAR), runs the same random script in both (a report whose
//! texts name members in many spellings, the secretariat's and the ministry's forwards with
//! their previews, an advisory drawn from it that the sanitisation gate refuses or lets pass, a
//! scope-widening request answered by the filer), and records every answer the ministry, the
//! coordinator and system administration get: JSON endpoints, TAXII, STIX, and web pages.
//! The two records must be equal once each id is replaced by a label: a known organisation or
//! user by its name (so a revealed filer still shows), any other id by its order of
//! appearance, and times by a placeholder.

mod common;

use common::{report_body, spawn_demo, TestApp};
use kyoyu_app::views::{AdvisoryView, ReportView, WideningView};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use regex::Regex;
use serde_json::{json, Value};
use std::collections::HashMap;

/// Ways a text may name a member of the gas CEPTOAR (both demo operators).
const NAMES: &[&str] = &[
    "東都ガス株式会社",
    "西海ガス株式会社",
    "東都ガス",
    "西海 ガス",
    "Toto Gas",
    "SAIKAI GAS",
    "toto-gas.example.jp",
    "csirt@saikai-gas.example.jp",
    "西海ガス㈱",
];

#[derive(Debug, Clone)]
struct Script {
    tlp: &'static str,
    /// Names put in the report's texts, the forwards' lessons and the advisory's summary.
    report_names: Vec<usize>,
    forward_names: Vec<usize>,
    advisory_names: Vec<usize>,
    /// Whether the advisory reaches beyond the source's scope (asks for widening).
    wider: bool,
    grant: bool,
}

fn script() -> impl Strategy<Value = Script> {
    let names = || prop::collection::vec(0..NAMES.len(), 0..4);
    (prop::sample::select(vec!["GREEN", "AMBER", "RED"]), names(), names(), names(), any::<bool>(), any::<bool>())
        .prop_map(|(tlp, report_names, forward_names, advisory_names, wider, grant)| Script {
            tlp,
            report_names,
            forward_names,
            advisory_names,
            wider,
            grant,
        })
}

fn text(names: &[usize]) -> String {
    let named: Vec<&str> = names.iter().map(|i| NAMES[*i]).collect();
    format!("制御系で不審な通信 {} を確認", named.join(" と "))
}

/// Replaces ids and times so that two worlds compare: known organisations and users by name,
/// other ids by order of first appearance, times and one-off secrets by placeholders.
struct Masker {
    known: HashMap<String, String>,
    uuid: Regex,
    time: Regex,
    secret: Regex,
    hours: Regex,
    /// The coordinator's 30-day charts, counted in the background: whether a page shows them
    /// yet depends on timing (their counts are compared through getStatistics instead).
    recent: Regex,
}

impl Masker {
    fn new(app: &TestApp) -> Masker {
        let mut known = HashMap::new();
        for c in app.users.values() {
            for (id, label) in [(&c.user_id, format!("user:{}", c.login)), (&c.org_id, format!("org:{}", c.org_name))] {
                // Pages show ids shortened to their last eight characters.
                known.insert(id[id.len() - 8..].to_string(), label.clone());
                known.insert(id.clone(), label);
            }
        }
        Masker {
            known,
            uuid: Regex::new(r"[0-9a-f]{8}(-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})?").unwrap(),
            time: Regex::new(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?").unwrap(),
            // Hash-chain values and one-off tokens (CSRF) differ between any two worlds.
            secret: Regex::new(r"(^|[^0-9a-f-])[0-9a-f]{12,}").unwrap(),
            // Durations up to now (the statistics' median age) move with the clock between
            // the two worlds' runs.
            hours: Regex::new(r#"\d+\.\d h\b|"median_hours_to_report":[0-9.e+-]+"#).unwrap(),
            recent: Regex::new(r"(?s)<h2>(過去30日の報告|Reports in the last 30 days)</h2>.*?(<h2>|</main>)").unwrap(),
        }
    }

    fn mask(&self, answer: &str) -> String {
        let mut order: HashMap<String, usize> = HashMap::new();
        let answer = self.recent.replace_all(answer, "<recent/>$2");
        let answer = self.hours.replace_all(&answer, "<hours>");
        let answer = self.secret.replace_all(&answer, "$1<secret>");
        let out = self.uuid.replace_all(&answer, |c: &regex::Captures| {
            let id = &c[0];
            match self.known.get(id) {
                Some(label) => label.clone(),
                None => {
                    let n = order.len();
                    format!("id{}", order.entry(id.to_string()).or_insert(n))
                }
            }
        });
        self.time.replace_all(&out, "<time>").into_owned()
    }
}

/// Every answer the outside observers get, in order, masked.
struct Record<'a> {
    app: &'a TestApp,
    masker: Masker,
    answers: Vec<(String, String)>,
}

impl Record<'_> {
    fn note(&mut self, what: &str, status: u16, body: &str) {
        let masked = self.masker.mask(body);
        self.answers.push((what.to_string(), format!("{status} {masked}")));
    }

    async fn get(&mut self, path: &str, login: &str) -> Value {
        let (status, body) = self.app.get(path, login).await;
        self.note(&format!("GET {path} as {login}"), status, &without_volatile(&body).to_string());
        body
    }

    async fn post(&mut self, path: &str, login: &str, body: Value) -> (u16, Value) {
        let (status, answer) = self.app.post(path, login, body).await;
        self.note(&format!("POST {path} as {login}"), status, &answer.to_string());
        (status, answer)
    }

    async fn page(&mut self, path: &str, login: &str) {
        let (status, page) = self.app.page(path, login).await;
        self.note(&format!("page {path} as {login}"), status, &page);
    }
}

/// Mail delivery attempts depend on the mail worker's timing, not on who filed.
fn without_volatile(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, _)| !matches!(k.as_str(), "attempts" | "last_error"))
                .map(|(k, v)| (k.clone(), without_volatile(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(without_volatile).collect()),
        other => other.clone(),
    }
}

const OBSERVERS: &[&str] = &["meti.liaison", "nisc.cip", "nisc.admin", "ops.admin"];

/// Runs the script with `filer` as the anonymous operator; answers what the observers saw.
async fn run(script: &Script, filer: &str) -> Vec<(String, String)> {
    // No SMTP here: delivery attempts (and their audit rows) follow the mail worker's timing,
    // not the filer. The outbox's concealment is tested in side_channels.rs.
    common::MAIL_PORT.with(|p| *p.borrow_mut() = None);
    let app = spawn_demo().await;
    let mut r = Record { masker: Masker::new(&app), app: &app, answers: Vec::new() };
    let filer_ntk = format!("{filer}.ntk");
    let extra = json!({
        "summary": {"description": text(&script.report_names), "discovered_at": "2026-04-01T10:00:00+09:00"},
        "lessons": text(&script.report_names),
        "timeline": [{"at": "2026-04-01T09:30:00+09:00", "text": text(&script.report_names)}],
    });
    let filed: ReportView =
        app.post_as("/api/v1/reports", &filer_ntk, report_body("gas", "anonymised", script.tlp, extra)).await;
    let edits = json!({"lessons": text(&script.forward_names)});
    let at_ceptoar = filed.id;
    // A file whose name names members, and a sample: the same bytes in both worlds.
    let log_name = format!("{}.log", text(&script.report_names));
    app.attach(&at_ceptoar, &filer_ntk, &[], &log_name, b"same log bytes").await;
    app.attach(&at_ceptoar, &filer_ntk, &[("kind", "sample")], "dropper.exe", b"MZ same sample").await;
    // The filer reads its own report, by id, in a list and as STIX (each read is audited).
    for path in [
        format!("/api/v1/reports/{at_ceptoar}"),
        "/api/v1/reports".into(),
        format!("/api/v1/reports/{at_ceptoar}/stix"),
    ] {
        assert_eq!(app.get(&path, &filer_ntk).await.0, 200, "{path}");
    }
    let at_ministry = app.forward(&at_ceptoar, "gas-ceptoar.secretariat", edits.clone()).await.id;
    made_objects(&app, &at_ministry, "gas-ceptoar.secretariat").await;
    r.post(&format!("/api/v1/reports/{at_ministry}/forward-preview"), "meti.liaison", edits.clone()).await;
    let (_, at_nisc) = r.post(&format!("/api/v1/reports/{at_ministry}/forward"), "meti.liaison", edits).await;
    let at_nisc = common::view::<ReportView>(&at_nisc).id;
    made_objects(&app, &at_nisc, "meti.liaison").await;

    // The coordinator drafts from it; the gate may refuse; widening may be asked and answered.
    let recipients = if script.wider {
        json!([{"ministry_org_id": app.org("fsa.liaison"), "sector": "finance"}])
    } else {
        json!([{"ministry_org_id": app.org("meti.liaison"), "sector": "gas"}])
    };
    let draft = json!({
        "severity": "warning", "tlp": script.tlp, "has_attachments": false, "recipients": recipients,
        "source_report_ids": [at_nisc], "content": {"summary": text(&script.advisory_names)}
    });
    let (_, draft) = r.post("/api/v1/advisories", "nisc.cip", draft).await;
    let advisory = common::view::<AdvisoryView>(&draft).id;
    let (issued, _) = r.post(&format!("/api/v1/advisories/{advisory}/issue"), "nisc.cip", json!({})).await;
    if script.wider && issued == 422 {
        let path = format!("/api/v1/advisories/{advisory}/scope-widenings");
        let (_, w) = r.post(&path, "nisc.cip", json!({"report_id": at_nisc})).await;
        let w = common::view::<WideningView>(&w).id;
        assert_eq!(
            app.post(&format!("/api/v1/scope-widenings/{w}/relay"), "gas-ceptoar.secretariat", json!({})).await.0,
            200
        );
        let answer = json!({"grant": script.grant});
        assert_eq!(app.post(&format!("/api/v1/scope-widenings/{w}/answer"), &filer_ntk, answer).await.0, 200);
        r.post(&format!("/api/v1/advisories/{advisory}/issue"), "nisc.cip", json!({})).await;
    }

    for login in OBSERVERS {
        for path in [
            "/api/v1/reports".to_string(),
            "/api/v1/reports/count".to_string(),
            "/api/v1/reports?q=ガス".to_string(),
            format!("/api/v1/reports/{at_ministry}"),
            format!("/api/v1/reports/{at_nisc}"),
            format!("/api/v1/reports/{at_ceptoar}"),
            format!("/api/v1/reports/{at_nisc}/stix"),
            format!("/api/v1/reports/{at_nisc}/correlations"),
            format!("/api/v1/reports/{at_nisc}/suggested-recipients"),
            "/api/v1/advisories".to_string(),
            format!("/api/v1/advisories/{advisory}"),
            format!("/api/v1/advisories/{advisory}/stix"),
            "/api/v1/scope-widenings".to_string(),
            "/api/v1/notifications".to_string(),
            "/api/v1/notifications/count?unread=true".to_string(),
            "/api/v1/reports?route=anonymised&limit=1".to_string(),
            "/api/v1/reports?inbox=true".to_string(),
            "/api/v1/statistics".to_string(),
            "/api/v1/orgs".to_string(),
            "/api/v1/admin/audit?limit=100".to_string(),
            // A filter on the acting organisation must not find the filer's concealed entries.
            format!("/api/v1/admin/audit?limit=100&actor_org_id={}", app.org("gas-a.ntk")),
            format!("/api/v1/admin/audit?limit=100&actor_org_id={}", app.org("gas-b.ntk")),
            "/api/v1/admin/mail-outbox".to_string(),
            format!("/api/v1/attachments?item_id={at_ministry}"),
            format!("/api/v1/attachments?item_id={at_nisc}"),
            format!("/api/v1/attachments?item_id={at_ceptoar}"),
            "/api/v1/attachments".to_string(),
        ] {
            r.get(&path, login).await;
        }
        for path in [
            "/".to_string(),
            "/reports".to_string(),
            "/reports?q=ガス&route=anonymised".to_string(),
            "/reports/export.csv".to_string(),
            "/reports/export.stix.json".to_string(),
            format!("/reports/{at_ministry}"),
            format!("/reports/{at_nisc}"),
            format!("/reports/{at_nisc}/print"),
            format!("/reports/{at_ceptoar}"),
            "/advisories".to_string(),
            format!("/advisories/{advisory}"),
            "/scope-widenings".to_string(),
            "/notifications".to_string(),
            "/statistics".to_string(),
            "/statistics.csv".to_string(),
            "/admin/audit".to_string(),
            format!("/admin/audit?actor_org_id={}", app.org("gas-a.ntk")),
        ] {
            r.page(&path, login).await;
        }
    }
    // The coordinator shares its copy with each member in turn: a refusal or an offer that
    // singled out the filer would name it.
    for member in ["gas-a.ntk", "gas-b.ntk"] {
        let share = json!({"org_ids": [app.org(member)]});
        r.post(&format!("/api/v1/reports/{at_nisc}/shares"), "nisc.cip", share).await;
    }
    let taxii = app
        .client
        .get(format!("{}/taxii2/kyoyu/collections/", app.base))
        .bearer_auth(&app.user("nisc.cip").token)
        .header("accept", "application/taxii+json;version=2.1")
        .send()
        .await
        .unwrap();
    let collections: kyoyu_taxii::resources::Collections = taxii.json().await.unwrap();
    for c in collections.collections {
        let path = format!("/taxii2/kyoyu/collections/{}/objects/", c.id);
        for login in OBSERVERS {
            let resp = app
                .client
                .get(format!("{}{path}", app.base))
                .bearer_auth(&app.user(login).token)
                .header("accept", "application/taxii+json;version=2.1")
                .send()
                .await
                .unwrap();
            let status = resp.status().as_u16();
            r.note(&format!("TAXII {path} as {login}"), status, &resp.text().await.unwrap());
        }
    }
    r.answers
}

/// A forward's carried files get their STIX objects at once, its own objects when the
/// background follower comes round (or a reader catches up): a STIX read by the forwarder
/// fixes that order here, so TAXII lists compare across worlds whatever the follower's timing.
async fn made_objects(app: &TestApp, report: &str, forwarder: &str) {
    assert_eq!(app.get(&format!("/api/v1/reports/{report}/stix"), forwarder).await.0, 200);
}

#[test]
fn no_answer_to_others_depends_on_which_member_filed() {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(6);
    let mut runner = TestRunner::new(Config { cases, max_shrink_iters: 16, ..Config::default() });
    let rt = tokio::runtime::Runtime::new().unwrap();
    runner
        .run(&script(), |script| {
            rt.block_on(async {
                let a = run(&script, "gas-a").await;
                let b = run(&script, "gas-b").await;
                compare(&a, &b, ("gas-a filed", "gas-b filed"))
            })
        })
        .unwrap();
}

/// The part of `s` around where it first differs from `other`.
fn excerpt(s: &str, other: &str) -> String {
    let at = s.chars().zip(other.chars()).take_while(|(x, y)| x == y).count();
    let chars: Vec<char> = s.chars().collect();
    let from = at.saturating_sub(200);
    chars[from..(at + 300).min(chars.len())].iter().collect()
}

/// Ways an advisory may name the two security institutions of the partner worlds.
const PARTNER_NAMES: &[&str] = &[
    "サイバーセキュリティ分析機関（分析協力先）",
    "Security analysis institute (analysis partner)",
    "インシデント対応調整センター",
];

/// The second security institution both partner worlds add beside the demo's.
const SECOND_INSTITUTION: (&str, &str) = ("インシデント対応調整センター", "csirt-cc.ntk");

#[derive(Debug, Clone)]
struct PartnerScript {
    tlp: &'static str,
    advisory_names: Vec<usize>,
    /// The coordinator shares the information itself with the ministry.
    share: bool,
    /// The advisory reaches another sector (beyond AMBER's), and whether the sender consented.
    wider: bool,
    consent: bool,
}

fn partner_script() -> impl Strategy<Value = PartnerScript> {
    let names = prop::collection::vec(0..PARTNER_NAMES.len(), 0..3);
    (prop::sample::select(vec!["GREEN", "AMBER"]), names, any::<bool>(), any::<bool>(), any::<bool>()).prop_map(
        |(tlp, advisory_names, share, wider, consent)| PartnerScript { tlp, advisory_names, share, wider, consent },
    )
}

const RECIPIENTS: &[&str] =
    &["meti.liaison", "fsa.liaison", "gas-ceptoar.secretariat", "gas-a.ntk", "vendor.ntk", "ops.admin"];

/// `sender` sends information; the coordinator may share it and cites it in an advisory;
/// answers what everyone but the sender and the coordinator saw.
async fn run_partner(script: &PartnerScript, sender: &str) -> Vec<(String, String)> {
    common::MAIL_PORT.with(|p| *p.borrow_mut() = None);
    let mut app = spawn_demo().await;
    let (name, login) = SECOND_INSTITUTION;
    app.add_org("security_institution", None, name, login, "member").await;
    let mut r = Record { masker: Masker::new(&app), app: &app, answers: Vec::new() };
    let body = json!({
        "kind": "vulnerability", "tlp": script.tlp, "severity": "warning", "sectors": ["gas"],
        "title": "ガス制御装置の脆弱性", "content": "遠隔から認証を回避できる",
        "indicators": ["[ipv4-addr:value = '198.51.100.7']"], "sanitised_wider_use": script.consent
    });
    let sent: kyoyu_app::partner::PartnerView = app.post_as("/api/v1/partner-information", sender, body).await;
    let upload = format!("/api/v1/partner-information/{}/attachments", sent.id);
    assert_eq!(app.upload(&upload, sender, &[], "ioc.txt", b"ioc".to_vec()).await.0, 201);
    // The coordinator knows the sender: its own answers are not compared, only what it did.
    if script.share {
        let share = json!({"org_ids": [app.org("meti.liaison")]});
        let path = format!("/api/v1/partner-information/{}/shares", sent.id);
        assert_eq!(app.post(&path, "nisc.cip", share).await.0, 200);
    }
    let (ministry, sector) = if script.wider { ("fsa.liaison", "finance") } else { ("meti.liaison", "gas") };
    let summary = format!(
        "制御装置の脆弱性 {}",
        script.advisory_names.iter().map(|i| PARTNER_NAMES[*i]).collect::<Vec<_>>().join(" ")
    );
    let draft = json!({
        "severity": "warning", "tlp": "AMBER", "has_attachments": false,
        "recipients": [{"ministry_org_id": app.org(ministry), "sector": sector}],
        "source_partner_ids": [sent.id], "content": {"summary": summary}
    });
    let draft: AdvisoryView = app.post_as("/api/v1/advisories", "nisc.cip", draft).await;
    let advisory = draft.id;
    let (issued, _) = app.post(&format!("/api/v1/advisories/{advisory}/issue"), "nisc.cip", json!({})).await;
    r.note("issue", issued, "");
    for login in RECIPIENTS {
        for path in [
            "/api/v1/partner-information".to_string(),
            format!("/api/v1/partner-information/{}", sent.id),
            format!("/api/v1/attachments?item_id={}", sent.id),
            "/api/v1/advisories".to_string(),
            format!("/api/v1/advisories/{advisory}"),
            format!("/api/v1/advisories/{advisory}/stix"),
            "/api/v1/notifications".to_string(),
            "/api/v1/notifications/count?unread=true".to_string(),
            "/api/v1/orgs".to_string(),
            "/api/v1/admin/audit?limit=100".to_string(),
            format!("/api/v1/admin/audit?limit=100&actor_org_id={}", app.org("institute.ntk")),
            format!("/api/v1/admin/audit?limit=100&actor_org_id={}", app.org(login)),
            "/api/v1/admin/mail-outbox".to_string(),
        ] {
            r.get(&path, login).await;
        }
        for path in [
            "/".to_string(),
            "/partner-information".to_string(),
            format!("/partner-information/{}", sent.id),
            "/advisories".to_string(),
            format!("/advisories/{advisory}"),
            "/notifications".to_string(),
            "/admin/audit".to_string(),
        ] {
            r.page(&path, login).await;
        }
    }
    r.answers
}

#[test]
fn no_answer_to_recipients_depends_on_which_partner_contributed() {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(4);
    let mut runner = TestRunner::new(Config { cases, max_shrink_iters: 8, ..Config::default() });
    let rt = tokio::runtime::Runtime::new().unwrap();
    runner
        .run(&partner_script(), |script| {
            rt.block_on(async {
                let a = run_partner(&script, "institute.ntk").await;
                let b = run_partner(&script, SECOND_INSTITUTION.1).await;
                compare(&a, &b, ("the institute sent", "the second institution sent"))
            })
        })
        .unwrap();
}

/// Two worlds' records must be equal answer by answer; the first difference fails with both.
fn compare(
    a: &[(String, String)],
    b: &[(String, String)],
    (label_a, label_b): (&str, &str),
) -> Result<(), TestCaseError> {
    prop_assert_eq!(a.len(), b.len());
    for ((what, in_a), (_, in_b)) in a.iter().zip(b) {
        if in_a != in_b {
            return Err(TestCaseError::fail(format!(
                "{what} differs:\n  {label_a}: {}\n  {label_b}: {}",
                excerpt(in_a, in_b),
                excerpt(in_b, in_a)
            )));
        }
    }
    Ok(())
}
