//! Files in headless Chromium: the sender attaches a file on the report page through the
//! JavaScript upload (with its progress bar), and the receiver sees it listed with its hashes
//! and its download choices.

mod common;

use common::browser::Browser;
use common::spawn_web;
use kyoyu_app::views::ReportView;
use kyoyu_test_support::demo::report_body;
use kyoyu_test_support::Client;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_attached_in_the_browser_reaches_the_receiver() {
    let app = spawn_web().await;
    let client = Client::new(&app.base);
    let body = report_body("gas", "direct", "AMBER", json!({}));
    let report: ReportView = client.post("/api/v1/reports", &app.user("gas-a.ntk").token, &body).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("firewall-2026.log");
    std::fs::write(&path, "deny 203.0.113.9\n".repeat(50_000)).unwrap();

    let mut b = Browser::start(&app.base, "files").await;
    b.login("gas-a.ntk", &app.password("gas-a.ntk")).await;
    b.open(&format!("/reports/{}", report.id)).await;
    b.find("form[data-upload] input[type=file]").await.send_keys(path.to_str().unwrap()).await.unwrap();
    b.click("form[data-upload] button[type=submit]").await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    // The script posts the form, then loads the report page again with a notice.
    while b.count(".notice").await == 0 && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(b.text(".notice").await.contains("ファイルを添付しました"), "{}", b.path().await);
    assert!(b.text("table.files").await.contains("firewall-2026.log"));
    b.shot("attached").await;
    b.logout().await;

    b.login("meti.liaison", &app.password("meti.liaison")).await;
    b.open(&format!("/reports/{}", report.id)).await;
    let listed = b.text("table.files").await;
    assert!(listed.contains("firewall-2026.log") && listed.contains("SHA-256"), "{listed}");
    assert_eq!(b.count("table.files a[download]").await, 3, "raw, AES zip and ZipCrypto zip");
    b.shot("received").await;
    b.close().await;
}
