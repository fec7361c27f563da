//! The web UI over HTTP, as a browser without JavaScript would use it: log-in protection,
//! CSRF, TOTP, validation errors in both languages, printable forms and PDFs, statistics.

mod common;

use common::{artefacts, hidden, spawn_web, WebApp};
use serde_json::json;

async fn raw_login(app: &WebApp, login: &str, password: &str, totp: &str) -> (u16, String, Option<String>) {
    let http =
        reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let page = http.get(format!("{}/login", app.base)).send().await.unwrap().text().await.unwrap();
    let csrf = hidden(&page, "_csrf");
    let form = [("_csrf", csrf.as_str()), ("login", login), ("password", password), ("totp", totp)];
    let r = http.post(format!("{}/login", app.base)).form(&form).send().await.unwrap();
    let cookie = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("kyoyu_session="))
        .map(str::to_string);
    let status = r.status().as_u16();
    (status, r.text().await.unwrap(), cookie)
}

#[tokio::test]
async fn login_cookie_is_secure_and_unknown_user_looks_like_wrong_password() {
    let app = spawn_web().await;
    let (status, _, cookie) = raw_login(&app, "gas-a.ntk", &app.password("gas-a.ntk"), "").await;
    assert_eq!(status, 303);
    let cookie = cookie.expect("a session cookie");
    for flag in ["Secure", "HttpOnly", "SameSite=Strict"] {
        assert!(cookie.contains(flag), "{flag} missing from {cookie}");
    }
    let (s1, unknown, c1) = raw_login(&app, "nobody.here", "x", "").await;
    let (s2, wrong, c2) = raw_login(&app, "gas-b.ntk", "x", "").await;
    assert_eq!((s1, s2), (401, 401));
    assert!(c1.is_none() && c2.is_none());
    // Same page but for the log-in name typed back and the form's own CSRF token.
    let same = |page: &str, login: &str| page.replace(login, "L").replace(&hidden(page, "_csrf"), "T");
    assert_eq!(same(&unknown, "nobody.here"), same(&wrong, "gas-b.ntk"));
}

#[tokio::test]
async fn pages_forbid_framing_inline_scripts_and_caching() {
    let app = spawn_web().await;
    let r = reqwest::get(format!("{}/login", app.base)).await.unwrap();
    let header = |name: &str| r.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    assert!(header("content-security-policy").contains("frame-ancestors 'none'"));
    assert!(header("content-security-policy").contains("script-src 'self'"));
    assert_eq!(header("x-content-type-options"), "nosniff");
    assert_eq!(header("cache-control"), "no-store");
}

#[tokio::test]
async fn unknown_addresses_answer_a_page_to_browsers_and_json_to_clients() {
    let app = spawn_web().await;
    let client = reqwest::Client::new();
    let page = client.get(format!("{}/no-such-page", app.base)).header("accept", "text/html").send().await.unwrap();
    assert_eq!(page.status().as_u16(), 404);
    assert!(page.text().await.unwrap().contains("ページが見つかりません"));
    let api = client.get(format!("{}/api/v1/nothing", app.base)).send().await.unwrap();
    assert_eq!(api.status().as_u16(), 404);
    assert!(api.text().await.unwrap().contains(r#""code":"not_found""#));
}

#[tokio::test]
async fn repeated_failures_slow_this_door_only_and_an_admin_lifts_it() {
    let app = spawn_web().await;
    for _ in 0..kyoyu_app::login::FREE_FAILURES {
        assert_eq!(raw_login(&app, "gas-b.ntk", "wrong", "").await.0, 401);
    }
    let (status, page, cookie) = raw_login(&app, "gas-b.ntk", &app.password("gas-b.ntk"), "").await;
    assert_eq!(status, 401, "slowed down: even the right password waits");
    assert!(cookie.is_none());
    assert!(page.contains("待たされます"), "the message says log-ins are slowed after failures");
    // Failures at the web form do not lock the JSON API's log-in (another door).
    let r = reqwest::Client::new()
        .post(format!("{}/api/v1/session", app.base))
        .json(&json!({"login": "gas-b.ntk", "password": app.password("gas-b.ntk")}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    // Another account is not affected.
    assert_eq!(raw_login(&app, "gas-a.ntk", &app.password("gas-a.ntk"), "").await.0, 303);
    // The organisation's administrator lifts the throttle.
    let user_id = app.user("gas-b.ntk").user_id.clone();
    let r = reqwest::Client::new()
        .post(format!("{}/api/v1/admin/users/{user_id}/unlock", app.base))
        .bearer_auth(&app.user("gas-b.admin").token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(raw_login(&app, "gas-b.ntk", &app.password("gas-b.ntk"), "").await.0, 303);
}

#[tokio::test]
async fn forms_without_the_csrf_token_are_refused() {
    let app = spawn_web().await;
    let s = app.client("gas-a.ntk", "ja").await;
    let (status, _) = s.post_form("/reports/new", &[("route", "direct")]).await;
    assert_eq!(status, 403);
    let (status, _) = s.post_form("/reports/new", &[("_csrf", "forged"), ("route", "direct")]).await;
    assert_eq!(status, 403);
    // Nothing was filed.
    let (_, list) = s.get("/reports").await;
    assert!(list.contains("該当する報告はありません"));
    // Log-in without the cookie half of its token is refused too.
    let r = reqwest::Client::new()
        .post(format!("{}/login", app.base))
        .form(&[("_csrf", "x"), ("login", "gas-a.ntk"), ("password", &app.password("gas-a.ntk"))])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
}

#[tokio::test]
async fn totp_enrolment_then_log_in_needs_the_code() {
    let app = spawn_web().await;
    let s = app.client("gas-a.ntk", "en").await;
    let (_, account) = s.get("/account").await;
    assert!(account.contains("<svg"), "QR code shown");
    let secret = hidden(&account, "secret");
    let csrf = hidden(&account, "_csrf");
    let (status, page) =
        s.post_form("/account/totp", &[("_csrf", &csrf), ("secret", &secret), ("code", "000000")]).await;
    assert_eq!(status, 200);
    assert!(page.contains("does not match"));
    let code = kyoyu_app::login::totp(&secret, "gas-a.ntk").unwrap().generate_current().unwrap();
    let (_, page) = s.post_form("/account/totp", &[("_csrf", &csrf), ("secret", &secret), ("code", &code)]).await;
    assert!(page.contains("Two-factor authentication is on"));
    let password = app.password("gas-a.ntk");
    assert_eq!(raw_login(&app, "gas-a.ntk", &password, "").await.0, 401, "the code is needed");
    assert_eq!(raw_login(&app, "gas-a.ntk", &password, "123").await.0, 401);
    let code = kyoyu_app::login::totp(&secret, "gas-a.ntk").unwrap().generate_current().unwrap();
    assert_eq!(raw_login(&app, "gas-a.ntk", &password, &code).await.0, 303);
    assert_eq!(raw_login(&app, "gas-a.ntk", &password, &code).await.0, 401, "a code is accepted once");
    // A session alone does not turn the second factor off: the password and a code do.
    let (_, account) = s.get("/account").await;
    let csrf = hidden(&account, "_csrf");
    let (status, _) = s.post_form("/account/totp/remove", &[("_csrf", &csrf)]).await;
    assert_eq!(status, 401);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let next = kyoyu_app::login::totp(&secret, "gas-a.ntk").unwrap().generate(now + 30);
    let form = [("_csrf", csrf.as_str()), ("password", password.as_str()), ("code", next.as_str())];
    assert_eq!(s.post_form("/account/totp/remove", &form).await.0, 303);
    assert_eq!(raw_login(&app, "gas-a.ntk", &password, "").await.0, 303, "no code needed any more");
}

async fn validation_page(app: &WebApp, lang: &str) -> String {
    let s = app.client("gas-a.ntk", lang).await;
    let csrf = s.csrf().await;
    let form = [
        ("_csrf", csrf.as_str()),
        ("route", "anonymised"),
        ("statutory", "true"),
        ("summary.description", "入力した説明は残る"),
        ("summary.discovered_at", "2026-04-01T09:00"),
        ("summary.occurred_at", "2026-04-01T10:00"),
        ("timeline.0.at", "2026-04-01T10:00"),
        ("timeline.0.text", "入力した推移"),
    ];
    let r = s.http.post(format!("{}/reports/new", app.base)).form(&form).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 422);
    r.text().await.unwrap()
}

#[tokio::test]
async fn validation_errors_sit_beside_their_fields_in_the_users_language_and_input_is_kept() {
    let app = spawn_web().await;
    let ja = validation_page(&app, "ja").await;
    let en = validation_page(&app, "en").await;
    for (page, required, order) in [
        (&ja, "必須項目です", "法令に基づく報告は匿名化連絡の経路では送れません"),
        (&en, "is required", "a statutory report cannot take the anonymised route"),
    ] {
        assert!(page.contains(&format!(r#"data-field="tlp">{required}"#)), "TLP error beside TLP");
        assert!(page.contains(&format!(r#"data-field="has_attachments">{required}"#)));
        assert!(
            page.contains(&format!(r#"data-field="route">{order}"#)),
            "statutory on the anonymised route is refused"
        );
        assert!(page.contains("入力した説明は残る") && page.contains("入力した推移"), "typed data kept");
        assert!(page.contains(r#"value="2026-04-01T09:00""#));
    }
    assert!(!en.contains("必須項目です") && !ja.contains("is required"), "one language per page");
    // Assistive technology: the field says it is invalid and names its message; the summary
    // links to each field; a skip link leads past the navigation.
    assert!(ja.contains(r#"id="f-tlp" aria-invalid="true" aria-describedby="e-tlp""#), "{ja}");
    assert!(ja.contains(r#"<div class="field-errors" id="e-tlp">"#));
    assert!(
        ja.contains(r##"<ul class="error-summary"><li><a href="#f-"##) && ja.contains(r##"href="#f-has_attachments""##)
    );
    // Each summary line names its field, not only the reason.
    assert!(en.contains(r##"href="#f-tlp">Sharing scope (TLP)："##), "{en}");
    assert!(ja.contains(r##"href="#f-has_attachments">別紙有無：必須項目です"##), "{ja}");
    assert!(ja.contains(r##"<a class="skip-link" href="#main">本文へ移動</a>"##) && ja.contains(r#"<main id="main""#));
    assert!(!ja.contains(r#"id="f-summary-description" aria-invalid"#), "a valid field is not marked");
    std::fs::write(artefacts("validation").join("ja.html"), &ja).unwrap();
    std::fs::write(artefacts("validation").join("en.html"), &en).unwrap();
}

/// The text of a PDF, by Debian's pdftotext (poppler-utils).
fn pdf_text(bytes: &[u8], name: &str) -> String {
    let path = artefacts("pdf").join(name);
    std::fs::write(&path, bytes).unwrap();
    let out = std::process::Command::new("pdftotext")
        .args(["-layout", path.to_str().unwrap(), "-"])
        .output()
        .expect("pdftotext (Debian's poppler-utils) is needed");
    assert!(out.status.success());
    let info = std::process::Command::new("pdfinfo").arg(&path).output().expect("pdfinfo (poppler-utils)");
    let info = String::from_utf8_lossy(&info.stdout);
    assert!(info.contains("(A4)"), "{name} is not A4: {info}");
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_official_forms_print_and_render_as_pdf_with_their_labels() {
    let app = spawn_web().await;
    let operator = app.client("gas-a.ntk", "ja").await;
    let csrf = operator.csrf().await;
    let form = [
        ("_csrf", csrf.as_str()),
        ("route", "direct"),
        ("statutory", "false"),
        ("tlp", "GREEN"),
        ("has_attachments", "false"),
        ("sector", "gas"),
        ("event_type", "intrusion"),
        ("summary.description", "外部からの不正侵入を検知"),
    ];
    let (status, location) = operator.post_form("/reports/new", &form).await;
    assert_eq!(status, 303, "{location}");
    let id = location.trim_start_matches("/reports/").split('?').next().unwrap().to_string();
    let (status, print) = operator.get(&format!("/reports/{id}/print")).await;
    assert_eq!(status, 200);
    assert!(print.contains("/static/style.css") && print.contains("情報連絡様式"));
    let (_, css) = operator.get("/static/style.css").await;
    assert!(css.contains("@page { size: A4"), "A4 print CSS");
    let (status, pdf) = operator.get_bytes(&format!("/reports/{id}/pdf")).await;
    assert_eq!(status, 200);
    assert!(pdf.starts_with(b"%PDF"));
    let text = pdf_text(&pdf, "report.pdf");
    for label in ["情報連絡様式", "情報共有範囲", "①発生した事象の分類", "⑤概要", "⑨その他", "外部からの不正侵入を検知"]
    {
        assert!(text.contains(label), "{label} missing from the report PDF:\n{text}");
    }

    let coordinator = app.client("nisc.cip", "ja").await;
    let csrf = coordinator.csrf().await;
    let recipient = format!("{}|gas", app.user("meti.liaison").org_id);
    let form = [
        ("_csrf", csrf.as_str()),
        ("_action", "save"),
        ("_recipient", recipient.as_str()),
        ("tlp", "GREEN"),
        ("has_attachments", "false"),
        ("content.summary", "ガス分野への注意喚起"),
    ];
    let (status, location) = coordinator.post_form("/advisories/new", &form).await;
    assert_eq!(status, 303, "{location}");
    let id = location.trim_start_matches("/advisories/").split('?').next().unwrap().to_string();
    let (status, pdf) = coordinator.get_bytes(&format!("/advisories/{id}/pdf")).await;
    assert_eq!(status, 200);
    let text = pdf_text(&pdf, "advisory.pdf");
    for label in ["情報提供様式", "情報共有範囲", "(1) 概要", "(3) 対策", "問合せ先", "ガス分野への注意喚起"]
    {
        assert!(text.contains(label), "{label} missing from the advisory PDF:\n{text}");
    }
    // Someone who may not read the report gets no PDF of it either.
    let other = app.client("finance-a.ntk", "ja").await;
    let (status, _) = other.get_bytes(&format!("/advisories/{id}/pdf")).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn statistics_leave_out_exercises_and_count_only_readable_chains() {
    let app = spawn_web().await;
    let s = app.client("gas-a.ntk", "en").await;
    let csrf = s.csrf().await;
    for (exercise, tlp) in [("false", "GREEN"), ("true", "GREEN"), ("false", "RED")] {
        let form = [
            ("_csrf", csrf.as_str()),
            ("route", "direct"),
            ("statutory", "false"),
            ("exercise", exercise),
            ("tlp", tlp),
            ("has_attachments", "false"),
            ("sector", "gas"),
            ("event_type", "intrusion"),
        ];
        assert_eq!(s.post_form("/reports/new", &form).await.0, 303);
    }
    let (_, mine) = s.get("/statistics").await;
    assert!(mine.contains("<strong>2</strong>"), "two real chains, the exercise left out");
    assert!(mine.contains("<svg"), "charts");
    // Another gas operator reads neither the RED chain nor the GREEN one (not shared to it).
    let other = app.client("gas-b.ntk", "en").await;
    let (_, theirs) = other.get("/statistics").await;
    assert!(theirs.contains("<strong>0</strong>"), "nothing readable, nothing counted");
    // A year narrows it; TLP is counted; the same counts download as CSV.
    let year = chrono::Utc::now().with_timezone(&chrono::FixedOffset::east_opt(9 * 3600).unwrap()).format("%Y");
    let (_, this_year) = s.get(&format!("/statistics?year={year}")).await;
    assert!(this_year.contains("<strong>2</strong>") && this_year.contains("By TLP"), "{this_year}");
    assert!(this_year.contains("TLP:RED") && this_year.contains("TLP:GREEN"));
    let (_, long_ago) = s.get("/statistics?year=1999").await;
    assert!(long_ago.contains("<strong>0</strong>"), "no chain of 1999");
    let (status, csv) = s.get(&format!("/statistics.csv?year={year}")).await;
    assert_eq!(status, 200);
    assert!(csv.contains("By TLP,TLP:RED,1") && csv.contains("By TLP,TLP:GREEN,1"), "{csv}");
    assert_eq!(s.get("/statistics?year=soon").await.0, 422, "a year that is not one is named");
}

/// Issue #11: any API token worked as the web session cookie. Only a web log-in's does now;
/// and a user mints its own API tokens from its account page.
#[tokio::test]
async fn an_api_token_does_not_open_the_web_ui() {
    let app = spawn_web().await;
    let r = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!("{}/", app.base))
        .header("cookie", format!("kyoyu_session={}", app.user("gas-a.ntk").token))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(r.headers()["location"], "/login");
    let s = app.client("gas-a.member", "en").await;
    let (_, account) = s.get("/account").await;
    let mine = format!("/admin/users/{}/tokens", app.user("gas-a.member").user_id);
    assert!(account.contains(&mine), "the account page links to the user's own tokens");
    let csrf = s.csrf().await;
    let (status, page) = s.post_form(&mine, &[("_csrf", &csrf), ("label", "script")]).await;
    assert_eq!(status, 200);
    assert!(page.contains("id=\"new-token\">kyoyu_"), "the owner's token is shown once");
}

/// Nobody logs in with a password someone else chose: after an administrator sets one, the
/// log-in page asks the user to replace it, and only the user's own then opens a session.
#[tokio::test]
async fn a_password_an_administrator_set_only_serves_to_choose_ones_own() {
    let app = spawn_web().await;
    let uid = app.user("gas-a.member").user_id.clone();
    let r = reqwest::Client::new()
        .patch(format!("{}/api/v1/admin/users/{uid}", app.base))
        .bearer_auth(&app.user("gas-a.admin").token)
        .json(&json!({"password": "set-by-admin-1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let (status, page, cookie) = raw_login(&app, "gas-a.member", "set-by-admin-1", "").await;
    assert_eq!(status, 200);
    assert!(cookie.is_none(), "no session with the administrator's password");
    assert!(page.contains(r#"action="/password""#), "the log-in asks for a new password");
    let http =
        reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let form = http.get(format!("{}/password", app.base)).send().await.unwrap().text().await.unwrap();
    let csrf = hidden(&form, "_csrf");
    let change = |new: &'static str, again: &'static str| {
        let fields = [
            ("_csrf", csrf.clone()),
            ("login", "gas-a.member".to_string()),
            ("password", "set-by-admin-1".to_string()),
            ("new_password", new.to_string()),
            ("new_password_again", again.to_string()),
        ];
        http.post(format!("{}/password", app.base)).form(&fields).send()
    };
    let r = change("my-own-pass-1", "my-own-pass-2").await.unwrap();
    assert_eq!(r.status().as_u16(), 422);
    assert!(r.text().await.unwrap().contains("一致しません"));
    let r = change("my-own-pass-1", "my-own-pass-1").await.unwrap();
    assert_eq!(r.status().as_u16(), 303, "changed, and logged in");
    assert_eq!(raw_login(&app, "gas-a.member", "set-by-admin-1", "").await.0, 401);
    assert_eq!(raw_login(&app, "gas-a.member", "my-own-pass-1", "").await.0, 303);
}

/// A PDF's text in content order with all whitespace gone, so labels that wrap inside their
/// table cell still read whole.
fn squeezed_text(name: &str) -> String {
    let path = artefacts("pdf").join(name);
    let out = std::process::Command::new("pdftotext").args(["-raw", path.to_str().unwrap(), "-"]).output().unwrap();
    String::from_utf8(out.stdout).unwrap().split_whitespace().collect()
}

/// Checks that every page of a PDF's text carries the TLP, the identifier and "n / N".
fn every_page_carries(text: &str, tlp: &str, identifier: &str, what: &str) -> usize {
    let pages: Vec<&str> = text.split('\u{c}').filter(|p| !p.trim().is_empty()).collect();
    let total = pages.len();
    for (i, page) in pages.iter().enumerate() {
        let n = i + 1;
        assert!(page.contains(&format!("TLP:{tlp}")), "{what} page {n} lacks its TLP:\n{page}");
        assert!(page.contains(identifier), "{what} page {n} lacks {identifier}:\n{page}");
        // pdftotext may drop the spaces around the slash.
        let squeezed = page.replace(' ', "");
        assert!(squeezed.contains(&format!("{n}/{total}")), "{what} page {n} lacks \"{n} / {total}\":\n{page}");
    }
    total
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_pdf_page_carries_tlp_identifier_and_page_number_and_the_forms_grids() {
    use kyoyu_app::views::{AdvisoryView, Forwarded, ReportView};
    let app = spawn_web().await;
    let client = kyoyu_test_support::Client::new(&app.base);
    let token = |login: &str| app.user(login).token.clone();
    let timeline: Vec<_> = (0..150)
        .map(|i| json!({"at": format!("2026-04-01T{:02}:{:02}:00+09:00", 10 + i / 60, i % 60), "text": format!("対応記録 {i}：端末の隔離と調査を継続")}))
        .collect();
    let body = kyoyu_test_support::demo::report_body("gas", "direct", "AMBER", json!({"timeline": timeline}));
    let filed: ReportView = client.post("/api/v1/reports", &token("gas-a.ntk"), &body).await.unwrap();
    let path = format!("/api/v1/reports/{}/forward", filed.id);
    let at_coordinator: Forwarded = client.post(&path, &token("meti.liaison"), &json!({})).await.unwrap();
    let identifier = at_coordinator.report.identifier.clone().unwrap();

    let coordinator = app.client("nisc.cip", "ja").await;
    let (status, pdf) = coordinator.get_bytes(&format!("/reports/{}/pdf", at_coordinator.report.id)).await;
    assert_eq!(status, 200);
    let text = pdf_text(&pdf, "long-report.pdf");
    let pages = every_page_carries(&text, "AMBER", &identifier, "report");
    assert!(pages >= 4, "a long report runs over several pages, got {pages}");
    for label in [
        "（＊が付与された項目は必須事項）",
        "■マルウェア等の感染",
        "□情報の漏えい",
        "■不審メール等の受信",
        "□機器等の故障",
        "■注意喚起",
        "□警報",
        "■TLP:AMBER",
        "□TLP:RED",
        "■直接連絡",
        "ガス",
    ] {
        assert!(squeezed_text("long-report.pdf").contains(label), "{label} missing from the report PDF:\n{text}");
    }

    let recipients = json!([{"ministry_org_id": app.user("meti.liaison").org_id, "sector": "gas"}]);
    let draft = json!({
        "severity": "alert", "tlp": "GREEN", "has_attachments": false, "recipients": recipients,
        "content": {"summary": "制御系への攻撃に注意", "countermeasures": "更新を適用する"},
        "contact": {"name": "担当", "email": "cip@example.go.jp"}
    });
    let advisory: AdvisoryView = client.post("/api/v1/advisories", &token("nisc.cip"), &draft).await.unwrap();
    let issue = format!("/api/v1/advisories/{}/issue", advisory.id);
    let issued: AdvisoryView = client.post(&issue, &token("nisc.cip"), &json!({})).await.unwrap();
    let (status, pdf) = coordinator.get_bytes(&format!("/advisories/{}/pdf", advisory.id)).await;
    assert_eq!(status, 200);
    let text = pdf_text(&pdf, "advisory-grids.pdf");
    every_page_carries(&text, "GREEN", issued.identifier.as_deref().unwrap(), "advisory");
    for label in [
        "本件問合せ先（情報共有範囲からの問合せに限る。）",
        "■警報",
        "□注意喚起",
        "■TLP:GREEN",
        "□TLP:AMBER",
        "（＊が付与された項目は必須事項）",
    ] {
        assert!(squeezed_text("advisory-grids.pdf").contains(label), "{label} missing from the advisory PDF:\n{text}");
    }
}
