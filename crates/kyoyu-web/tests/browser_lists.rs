//! Finding things in headless Chromium: the report list past its first 100 items, a total,
//! and an old report found by its identifier.

mod common;

use common::browser::Browser;
use common::spawn_web;
use kyoyu_app::views::{Forwarded, ReportView};
use kyoyu_test_support::demo::report_body;
use kyoyu_test_support::Client;
use serde_json::json;

/// Files `n` direct reports as gas-a.ntk and forwards each to the coordinator through the
/// ministry; answers the coordinator's renditions, oldest first.
async fn reports_at_coordinator(client: &Client, app: &common::WebApp, n: usize) -> Vec<ReportView> {
    let (operator, liaison) = (&app.user("gas-a.ntk").token, &app.user("meti.liaison").token);
    let mut at_coordinator = Vec::new();
    for i in 0..n {
        let body = report_body("gas", "direct", "GREEN", json!({"summary": {"description": format!("定期点検 {i}")}}));
        let filed: ReportView = client.post("/api/v1/reports", operator, &body).await.unwrap();
        let path = format!("/api/v1/reports/{}/forward", filed.id);
        let forwarded: Forwarded = client.post(&path, liaison, &json!({})).await.unwrap();
        at_coordinator.push(forwarded.report);
    }
    at_coordinator
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_list_pages_past_100_and_finds_an_old_report_by_identifier() {
    let app = spawn_web().await;
    let client = Client::new(&app.base);
    let filed = reports_at_coordinator(&client, &app, 125).await;
    let oldest = filed.first().unwrap();
    let identifier = oldest.identifier.clone().expect("the coordinator's rendition is numbered");

    let mut b = Browser::start(&app.base, "lists").await;
    b.login("nisc.cip", &app.password("nisc.cip")).await;
    b.open("/reports").await;
    assert_eq!(b.count("main table tbody tr").await, 100);
    assert!(b.text(".list-summary").await.contains("全 125 件中 1–100 件目"), "{}", b.text(".list-summary").await);
    assert!(!b.source().await.contains(&identifier), "the oldest is not on the first page");
    b.shot("first-page").await;

    b.submit("nav.pager a[rel=next]").await;
    assert_eq!(b.count("main table tbody tr").await, 25);
    assert!(b.text(".list-summary").await.contains("全 125 件中 101–125 件目"));
    assert!(b.text("main table").await.contains(&identifier), "the oldest is on the second page");
    assert_eq!(b.count("nav.pager a[rel=next]").await, 0, "the last page offers no next");
    b.shot("second-page").await;

    b.open("/reports").await;
    b.fill("input[name=q]", &identifier).await;
    b.submit("form.filters button[type=submit]").await;
    assert_eq!(b.count("main table tbody tr").await, 1, "{}", b.text("main table").await);
    assert!(b.text("main table").await.contains(&identifier));
    assert!(b.text(".list-summary").await.contains("全 1 件"));
    b.shot("found-by-identifier").await;

    // A filter that nothing matches empties the list; a malformed date is named, not a 500.
    b.open("/reports?tlp=RED").await;
    assert!(b.text(".list-summary").await.contains("全 0 件"));
    b.open("/reports?since=2026-13-01").await;
    assert_eq!(b.count(".field-error[data-field=since]").await, 1, "{}", b.source().await);
    b.close().await;
}

#[tokio::test]
async fn the_csv_export_holds_every_page_of_what_the_list_shows_and_nothing_else() {
    let app = spawn_web().await;
    let client = Client::new(&app.base);
    let filed = reports_at_coordinator(&client, &app, 105).await;
    let coordinator = app.client("nisc.cip", "ja").await;
    let (status, csv) = coordinator.get("/reports/export.csv").await;
    assert_eq!(status, 200);
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].trim_start_matches('\u{feff}').starts_with("識別番号,報数,TLP"), "{}", lines[0]);
    assert_eq!(lines.len(), 1 + 105, "a header and every rendition, past the first page");
    for r in &filed {
        assert!(csv.contains(r.identifier.as_deref().unwrap()), "{:?} is exported", r.identifier);
    }
    assert!(csv.contains("ガス"), "sectors by name, not code");
    assert!(!csv.contains(",gas,"));

    // Another sector's operator reads none of them, in the list or the export.
    let outsider = app.client("finance-a.ntk", "ja").await;
    let (status, csv) = outsider.get("/reports/export.csv").await;
    assert_eq!(status, 200);
    assert_eq!(csv.lines().count(), 1, "only the header: {csv}");
}
