//! Files in the web UI, over HTTP as a browser without JavaScript sends them: several files
//! attached in one form post, the list with hashes, download choices (samples only as
//! password zips), the CSRF check on uploads, outsiders, and the coordinator's sample grant.

mod common;

use common::{spawn_web, Session, WebApp};

async fn filed(app: &WebApp) -> String {
    let body = kyoyu_test_support::demo::report_body("gas", "direct", "AMBER", serde_json::json!({}));
    let client = kyoyu_test_support::Client::new(&app.base);
    let view: kyoyu_app::views::ReportView =
        client.post("/api/v1/reports", &app.user("gas-a.ntk").token, &body).await.unwrap();
    view.id
}

/// Posts the upload form: the token and kind first, then each file.
async fn attach(s: &Session, report: &str, csrf: &str, kind: &str, files: &[(&str, &[u8])]) -> (u16, String) {
    let mut form = reqwest::multipart::Form::new().text("_csrf", csrf.to_string()).text("kind", kind.to_string());
    form = form.text("tlp", "").text("password", "");
    for (name, bytes) in files {
        form = form.part("file", reqwest::multipart::Part::bytes(bytes.to_vec()).file_name(name.to_string()));
    }
    let r = s.http.post(format!("{}/reports/{report}/files", s.base)).multipart(form).send().await.unwrap();
    let status = r.status().as_u16();
    let location = r.headers().get("location").and_then(|v| v.to_str().ok()).map(str::to_string);
    (status, location.unwrap_or(r.text().await.unwrap()))
}

/// The download links of a page, in order.
fn download_links(page: &str) -> Vec<String> {
    page.split("href=\"/files/")
        .skip(1)
        .map(|rest| format!("/files/{}", rest.split('"').next().unwrap().replace("&amp;", "&")))
        .collect()
}

#[tokio::test]
async fn several_files_attach_in_one_post_and_show_with_their_hashes() {
    let app = spawn_web().await;
    let report = filed(&app).await;
    let op = app.client("gas-a.ntk", "ja").await;
    let (_, page) = op.get(&format!("/reports/{report}")).await;
    assert!(page.contains("data-upload") && page.contains("multiple"), "the sender is offered the upload form");
    let csrf = common::hidden(&page, "_csrf");

    let (status, _) = attach(&op, &report, "not-the-token", "attachment", &[("a.txt", b"x")]).await;
    assert_eq!(status, 403, "the CSRF check holds for uploads");
    let (status, location) = attach(
        &op,
        &report,
        &csrf,
        "attachment",
        &[("報道発表.pdf", b"%PDF-1.7 press"), ("fw.log", b"deny 203.0.113.9")],
    )
    .await;
    assert_eq!(status, 303, "{location}");
    assert_eq!(location, format!("/reports/{report}?done=attached&files=2"));
    let (status, location) = attach(&op, &report, &csrf, "sample", &[("dropper.exe", b"MZ sample")]).await;
    assert_eq!(status, 303, "{location}");

    // The ministry reads the list: names, kinds, hashes, and the download choices allowed.
    let ministry = app.client("meti.liaison", "ja").await;
    let (status, page) = ministry.get(&format!("/reports/{report}")).await;
    assert_eq!(status, 200);
    for shown in ["報道発表.pdf", "fw.log", "dropper.exe", "検体", "添付資料"] {
        assert!(page.contains(shown), "{shown} not on the page");
    }
    let press_sha = "SHA-256 ".to_string() + &hex::encode(<sha2::Sha256 as sha2::Digest>::digest(b"%PDF-1.7 press"));
    assert!(page.contains(&press_sha), "hashes are shown");
    assert!(!page.contains("data-upload"), "the receiver attaches nothing to the sender's rendition");
    let links = download_links(&page);
    // Two attachments offer raw, AES zip and ZipCrypto zip; the sample, last, only the zips.
    assert_eq!(links.len(), 8, "{links:?}");
    assert!(links[6..].iter().all(|l| l.contains("zip")), "a sample offers only zips: {links:?}");
    let raw = links.iter().find(|l| l.contains("as=raw")).expect("an attachment offers the raw file");
    let r = ministry.http.get(format!("{}{raw}", app.base)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-disposition"].to_str().unwrap().starts_with("attachment;"));
    assert_eq!(
        r.headers()["content-security-policy"],
        "default-src 'none'; sandbox",
        "the page's own CSP does not replace the download's"
    );
    assert_eq!(&r.bytes().await.unwrap()[..], b"%PDF-1.7 press");

    // In English too, and an outsider finds neither the report nor its files.
    let en = app.client("meti.liaison", "en").await;
    assert!(en.get(&format!("/reports/{report}")).await.1.contains("Files and samples"));
    let outsider = app.client("finance-a.ntk", "ja").await;
    assert_eq!(outsider.get(&format!("/reports/{report}")).await.0, 404);
    assert_eq!(outsider.get(&raw.clone()).await.0, 404);
}

#[tokio::test]
async fn the_coordinator_shares_a_sample_with_an_analysis_partner_from_the_page() {
    let app = spawn_web().await;
    let report = filed(&app).await;
    let op = app.client("gas-a.ntk", "ja").await;
    let csrf = common::hidden(&op.get(&format!("/reports/{report}")).await.1, "_csrf");
    attach(&op, &report, &csrf, "sample", &[("dropper.exe", b"MZ sample")]).await;
    let token = |login: &str| app.user(login).token.clone();
    let client = kyoyu_test_support::Client::new(&app.base);
    let fwd: kyoyu_app::views::Forwarded = client
        .post(&format!("/api/v1/reports/{report}/forward"), &token("meti.liaison"), &serde_json::json!({}))
        .await
        .unwrap();
    let nisc = app.client("nisc.cip", "ja").await;
    let (_, page) = nisc.get(&format!("/reports/{}", fwd.report.id)).await;
    assert!(page.contains("分析協力機関に共有"), "the coordinator is offered the grant");
    let file_id = download_links(&page)[0].trim_start_matches("/files/").split('/').next().unwrap().to_string();
    let csrf = common::hidden(&page, "_csrf");
    let partner = app.user("institute.ntk").org_id.clone();
    let back = format!("/reports/{}", fwd.report.id);
    let (status, location) = nisc
        .post_form(
            &format!("/files/{file_id}/grants"),
            &[("_csrf", &csrf), ("org_id", &partner), ("days", "7"), ("back", &back)],
        )
        .await;
    assert_eq!((status, location), (303, format!("{back}?done=granted")));
    let ministry = app.client("meti.liaison", "ja").await;
    assert!(
        !ministry.get(&format!("/reports/{report}")).await.1.contains("分析協力機関に共有"),
        "only the coordinator grants"
    );
}

#[tokio::test]
async fn the_secretariat_chooses_which_files_go_on_and_sees_their_names_as_they_arrive() {
    let app = spawn_web().await;
    let body = kyoyu_test_support::demo::report_body("gas", "anonymised", "AMBER", serde_json::json!({}));
    let client = kyoyu_test_support::Client::new(&app.base);
    let filed: kyoyu_app::views::ReportView =
        client.post("/api/v1/reports", &app.user("gas-a.ntk").token, &body).await.unwrap();
    let op = app.client("gas-a.ntk", "ja").await;
    let csrf = common::hidden(&op.get(&format!("/reports/{}", filed.id)).await.1, "_csrf");
    let files: [(&str, &[u8]); 2] = [("東都ガス株式会社_proxy.log", b"proxy"), ("internal-only.log", b"keep")];
    assert_eq!(attach(&op, &filed.id, &csrf, "attachment", &files).await.0, 303);

    let sec = app.client("gas-ceptoar.secretariat", "ja").await;
    let (_, page) = sec.get(&format!("/reports/{}/forward", filed.id)).await;
    assert!(page.contains("転送するファイル") && page.contains("internal-only.log"), "the files are listed to choose");
    let list: kyoyu_app::files::AttachmentList = client
        .get(&format!("/api/v1/attachments?item_id={}", filed.id), &app.user("gas-ceptoar.secretariat").token)
        .await
        .unwrap();
    let proxy = list.items.iter().find(|f| f.name.ends_with("proxy.log")).unwrap().id.clone();
    let csrf = common::hidden(&page, "_csrf");
    let form = |action: &'static str| {
        vec![
            ("_csrf", csrf.clone()),
            ("_action", action.to_string()),
            ("_files_listed", "1".to_string()),
            ("_attachment_ids", proxy.clone()),
            ("tlp", "AMBER".to_string()),
            ("sender_contact.name", "事務局".to_string()),
        ]
    };
    let preview_form = form("preview");
    let pairs: Vec<(&str, &str)> = preview_form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, review) = sec.post_form(&format!("/reports/{}/forward", filed.id), &pairs).await;
    assert_eq!(status, 200, "{review}");
    let sent_on = &review[review.find("送られるファイル").expect("the review names the files going on")..];
    let sent_on = &sent_on[..sent_on.find("</p>").unwrap()];
    assert!(
        sent_on.contains("proxy.log") && !sent_on.contains("東都ガス") && !sent_on.contains("internal-only"),
        "{sent_on}"
    );

    let send_form = form("send");
    let pairs: Vec<(&str, &str)> = send_form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, location) = sec.post_form(&format!("/reports/{}/forward", filed.id), &pairs).await;
    assert_eq!(status, 303, "{location}");
    let ministry = app.client("meti.liaison", "ja").await;
    let (_, page) = ministry.get(location.split('?').next().unwrap()).await;
    assert!(
        page.contains("proxy.log") && !page.contains("internal-only.log") && !page.contains("東都ガス株式会社_"),
        "only the chosen file, scrubbed"
    );
}

#[tokio::test]
async fn a_report_is_filed_with_its_files_from_the_report_form() {
    let app = spawn_web().await;
    let op = app.client("gas-a.ntk", "ja").await;
    let (_, page) = op.get("/reports/new").await;
    assert!(page.contains("enctype=\"multipart/form-data\"") && page.contains("type=\"file\""), "the form takes files");
    let csrf = common::hidden(&page, "_csrf");
    let fields = [
        ("_csrf", csrf.as_str()),
        ("route", "direct"),
        ("statutory", "false"),
        ("tlp", "AMBER"),
        ("has_attachments", "false"),
        ("sector", "gas"),
        ("summary.description", "不審な通信"),
        ("_files_kind", "attachment"),
    ];
    let mut form = reqwest::multipart::Form::new();
    for (k, v) in fields {
        form = form.text(k, v.to_string());
    }
    for (name, bytes) in [("fw.log", &b"deny"[..]), ("notice.pdf", &b"%PDF"[..])] {
        form = form.part("file", reqwest::multipart::Part::bytes(bytes.to_vec()).file_name(name));
    }
    let r = op.http.post(format!("{}/reports/new", app.base)).multipart(form).send().await.unwrap();
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let location = r.headers()["location"].to_str().unwrap().to_string();
    assert!(location.ends_with("?done=filed_with_files&files=2"), "{location}");
    let (_, page) = op.get(&location).await;
    assert!(page.contains("fw.log") && page.contains("notice.pdf"));
    let id = location.trim_start_matches("/reports/").split('?').next().unwrap().to_string();
    let client = kyoyu_test_support::Client::new(&app.base);
    let v: kyoyu_app::views::ReportView =
        client.get(&format!("/api/v1/reports/{id}"), &app.user("meti.liaison").token).await.unwrap();
    assert!(v.content.has_attachments, "別紙有無 follows from the files");
}

#[tokio::test]
async fn a_refused_file_says_why_with_a_way_back() {
    let app = spawn_web().await;
    let report = filed(&app).await;
    let op = app.client("gas-a.ntk", "en").await;
    let csrf = common::hidden(&op.get(&format!("/reports/{report}")).await.1, "_csrf");
    let client = kyoyu_test_support::Client::new(&app.base);
    let _: kyoyu_app::views::Forwarded = client
        .post(&format!("/api/v1/reports/{report}/forward"), &app.user("meti.liaison").token, &serde_json::json!({}))
        .await
        .unwrap();
    let (status, page) = attach(&op, &report, &csrf, "attachment", &[("late.log", b"late")]).await;
    assert_eq!(status, 422);
    assert!(page.contains("send them with a follow-up"), "the reason, in the user's language");
    assert!(page.contains(&format!("href=\"/reports/{report}\"")), "a way back");
}
