//! Narrow screens in headless Chromium: at 390 CSS pixels (a phone), no page of any role
//! scrolls sideways (`document.documentElement.scrollWidth <= 390`).

mod common;

use common::browser::Browser;
use common::spawn_web;
use kyoyu_app::views::{Forwarded, ReportView};
use kyoyu_test_support::demo::report_body;
use kyoyu_test_support::Client;
use serde_json::json;

const WIDTH: u32 = 390;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_page_scrolls_sideways_at_390_px() {
    let app = spawn_web().await;
    let client = Client::new(&app.base);
    let long = "長い説明文".repeat(40) + "https://example.jp/a/very/long/path/without/any/break/points/at/all";
    let body = report_body("gas", "direct", "AMBER", json!({"summary": {"description": long}}));
    let filed: ReportView = client.post("/api/v1/reports", &app.user("gas-a.ntk").token, &body).await.unwrap();
    let path = format!("/api/v1/reports/{}/forward", filed.id);
    let forwarded: Forwarded = client.post(&path, &app.user("meti.liaison").token, &json!({})).await.unwrap();
    let at_coordinator = forwarded.report.id;
    let pattern = format!("[url:value = 'https://example.jp/{}']", "a".repeat(120));
    let info = json!({
        "kind": "threat_intelligence", "tlp": "GREEN", "severity": "warning", "sectors": ["gas"],
        "title": "長い件名".repeat(20), "content": long, "indicators": [pattern]
    });
    let partner: kyoyu_app::partner::PartnerView =
        client.post("/api/v1/partner-information", &app.user("institute.ntk").token, &info).await.unwrap();

    let mut b = Browser::start(&app.base, "narrow").await;
    b.viewport(WIDTH, 844).await;
    let pages: &[(&str, Vec<String>)] = &[
        ("gas-a.ntk", vec!["/".into(), "/reports/new".into(), format!("/reports/{}", filed.id)]),
        (
            "institute.ntk",
            vec![
                "/partner-information".into(),
                "/partner-information/new".into(),
                format!("/partner-information/{}", partner.id),
            ],
        ),
        (
            "nisc.cip",
            vec![
                "/".into(),
                "/reports".into(),
                format!("/reports/{at_coordinator}"),
                format!("/reports/{at_coordinator}/print"),
                "/advisories/new".into(),
                format!("/partner-information/{}", partner.id),
                "/notifications".into(),
                "/statistics".into(),
            ],
        ),
        ("ops.admin", vec!["/admin".into(), "/admin/audit".into()]),
    ];
    let mut wide = Vec::new();
    for (login, paths) in pages {
        b.login(login, &app.password(login)).await;
        for path in paths {
            b.open(path).await;
            let (scroll, culprits) = b.overflow(WIDTH).await;
            if scroll > WIDTH as i64 {
                wide.push(format!("{login} {path}: {scroll} px ({})", culprits.join(", ")));
                b.shot(&format!("wide-{}", path.replace('/', "_"))).await;
            }
        }
        b.logout().await;
    }
    b.close().await;
    assert!(wide.is_empty(), "pages wider than {WIDTH} px:\n{}", wide.join("\n"));
}
