//! Lists over HTTP: keyset pages that meet every item once, search that finds identifiers,
//! the date and route filters, and refusals that name the parameter.

mod common;

use common::{fields, spawn_demo};
use kyoyu_app::views::{AdvisoryList, ReportList};
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn keyset_pages_meet_every_report_once_in_order() {
    let app = spawn_demo().await;
    let mut filed = Vec::new();
    for _ in 0..7 {
        filed.push(app.file("gas-a.ntk", "direct", "GREEN", json!({})).await.id);
    }
    let mut seen = Vec::new();
    let mut path = "/api/v1/reports?limit=3".to_string();
    loop {
        let page: ReportList = app.typed(&path, "meti.liaison").await;
        assert!(page.items.len() <= 3);
        seen.extend(page.items.into_iter().map(|r| r.id));
        match page.next {
            Some(next) => path = format!("/api/v1/reports?limit=3&after={}", urlencode(&next)),
            None => break,
        }
    }
    let mut oldest_first = Vec::new();
    let mut path = "/api/v1/reports?limit=3&order=oldest".to_string();
    loop {
        let page: ReportList = app.typed(&path, "meti.liaison").await;
        oldest_first.extend(page.items.into_iter().map(|r| r.id));
        match page.next {
            Some(next) => path = format!("/api/v1/reports?limit=3&order=oldest&after={}", urlencode(&next)),
            None => break,
        }
    }
    assert_eq!(oldest_first, filed, "oldest first, each once");
    filed.reverse();
    assert_eq!(seen, filed, "newest first, each once");
}

#[tokio::test]
async fn search_finds_an_identifier_and_the_period_and_route_filters_narrow() {
    let app = spawn_demo().await;
    let first = app.file("gas-a.ntk", "direct", "GREEN", json!({})).await;
    let forwarded = app.forward(&first.id, "meti.liaison", json!({})).await;
    let identifier = forwarded.identifier.expect("numbered at the coordinator");
    app.file("gas-a.ntk", "direct", "GREEN", json!({})).await;

    let found: ReportList = app.typed(&format!("/api/v1/reports?q={identifier}"), "nisc.cip").await;
    assert_eq!(found.items.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), [forwarded.id.as_str()]);

    let today = chrono::Utc::now().with_timezone(&chrono::FixedOffset::east_opt(9 * 3600).unwrap()).date_naive();
    let day = |d: chrono::NaiveDate| d.format("%Y-%m-%d").to_string();
    let app = &app;
    let count = |q: String| async move {
        app.typed::<ReportList>(&format!("/api/v1/reports?{q}"), "meti.liaison").await.items.len()
    };
    // The ministry holds both filed renditions and the one it forwarded.
    assert_eq!(count(format!("since={}&until={}", day(today), day(today))).await, 3);
    assert_eq!(count(format!("until={}", day(today.pred_opt().unwrap()))).await, 0);
    assert_eq!(count("route=direct".into()).await, 3);
    assert_eq!(count("route=anonymised".into()).await, 0);
}

#[tokio::test]
async fn malformed_list_parameters_are_refused_naming_them() {
    let app = spawn_demo().await;
    for (query, field) in [
        ("after=not-a-cursor", "after"),
        ("until=", "until"),
        ("since=2026-02-30", "since"),
        ("since=2026-04-02&until=2026-04-01", "until"),
        ("route=pigeon", "route"),
    ] {
        let (status, err) = app.refusal(Method::GET, &format!("/api/v1/reports?{query}"), "meti.liaison", None).await;
        assert_eq!((status, fields(&err)), (422, vec![field.to_string()]), "{query}");
    }
    let (status, err) = app.refusal(Method::GET, "/api/v1/advisories?after=x", "nisc.cip", None).await;
    assert_eq!((status, fields(&err)), (422, vec!["after".to_string()]));
    let list: AdvisoryList = app.typed("/api/v1/advisories", "nisc.cip").await;
    assert!(list.next.is_none(), "a page short of its limit is the last");
}

fn urlencode(v: &str) -> String {
    form_urlencoded::byte_serialize(v.as_bytes()).collect()
}
