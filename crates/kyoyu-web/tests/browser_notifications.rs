//! A report's arrival, told to its receiver at every hop, in headless Chromium: the unread
//! badge in the navigation, the notification that links to the report, and nobody else told.

mod common;

use common::browser::Browser;
use common::spawn_web;
use kyoyu_app::views::{Forwarded, ReportView};
use kyoyu_test_support::demo::report_body;
use kyoyu_test_support::Client;
use serde_json::json;

/// Logs in, checks the badge and that the newest notification links to `report_id`; answers
/// the notification's subject.
async fn told(b: &mut Browser, app: &common::WebApp, login: &str, report_id: &str) -> String {
    b.login(login, &app.password(login)).await;
    assert_eq!(b.text("nav a[href='/notifications'] .badge").await, "1", "{login} sees one unread");
    b.open("/notifications").await;
    let link = format!("main table a[href='/reports/{report_id}']");
    assert_eq!(b.count(&link).await, 1, "{login} is told of {report_id}: {}", b.text("main table").await);
    let subject = b.text(&link).await;
    b.shot(&format!("told-{login}")).await;
    b.submit(&link).await;
    assert_eq!(b.path().await, format!("/reports/{report_id}"));
    b.logout().await;
    subject
}

async fn not_told(b: &mut Browser, app: &common::WebApp, login: &str) {
    b.login(login, &app.password(login)).await;
    assert_eq!(b.count("nav a[href='/notifications'] .badge").await, 0, "{login} has nothing unread");
    b.logout().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_receiver_is_told_when_a_report_reaches_it() {
    let app = spawn_web().await;
    let client = Client::new(&app.base);
    let token = |login: &str| app.user(login).token.clone();
    let mut b = Browser::start(&app.base, "notifications").await;

    let body = report_body("gas", "anonymised", "AMBER", json!({}));
    let filed: ReportView = client.post("/api/v1/reports", &token("gas-a.ntk"), &body).await.unwrap();
    told(&mut b, &app, "gas-ceptoar.secretariat", &filed.id).await;
    not_told(&mut b, &app, "gas-a.ntk").await;
    not_told(&mut b, &app, "meti.liaison").await;

    let path = format!("/api/v1/reports/{}/forward", filed.id);
    let at_ministry: Forwarded = client.post(&path, &token("gas-ceptoar.secretariat"), &json!({})).await.unwrap();
    told(&mut b, &app, "meti.liaison", &at_ministry.report.id).await;
    not_told(&mut b, &app, "nisc.cip").await;

    let path = format!("/api/v1/reports/{}/forward", at_ministry.report.id);
    let at_coordinator: Forwarded = client.post(&path, &token("meti.liaison"), &json!({})).await.unwrap();
    let subject = told(&mut b, &app, "nisc.cip", &at_coordinator.report.id).await;
    let identifier = at_coordinator.report.identifier.expect("numbered at the coordinator");
    assert!(subject.contains("TLP:AMBER") && subject.contains(&identifier), "{subject}");

    // Others of the sector never learn of it: not the other operator, not another sector.
    not_told(&mut b, &app, "gas-b.ntk").await;
    not_told(&mut b, &app, "finance-a.ntk").await;
    b.close().await;
}
