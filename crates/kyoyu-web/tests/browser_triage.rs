//! Triage in headless Chromium: a received report sits on the receiver's board as open, moves
//! to in progress with an owner, and leaves the board when marked done or forwarded. Nobody but
//! the receiving organisation sees its triage.

mod common;

use common::browser::Browser;
use common::spawn_web;
use kyoyu_app::views::ReportView;
use kyoyu_test_support::demo::report_body;
use kyoyu_test_support::Client;
use serde_json::json;

async fn file(client: &Client, app: &common::WebApp, description: &str) -> ReportView {
    let body = report_body("gas", "direct", "GREEN", json!({"summary": {"description": description}}));
    client.post("/api/v1/reports", &app.user("gas-a.ntk").token, &body).await.unwrap()
}

fn card(id: &str) -> String {
    format!("article.card[data-report='{id}']")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn triage_states_move_a_report_across_the_board_and_off_it() {
    let app = spawn_web().await;
    let client = Client::new(&app.base);
    let first = file(&client, &app, "制御系端末の不審な通信").await;
    let second = file(&client, &app, "委託先からの不審メール").await;

    let mut b = Browser::start(&app.base, "triage").await;
    b.login("meti.liaison", &app.password("meti.liaison")).await;
    b.open("/").await;
    for r in [&first, &second] {
        assert_eq!(b.count(&format!("section[aria-labelledby=col-open] {}", card(&r.id))).await, 1, "{} is open", r.id);
    }
    assert!(b.text(&card(&first.id)).await.contains("制御系端末の不審な通信"), "the card shows the summary");
    b.shot("board-open").await;

    // In progress, owned by the liaison: the card moves column and shows its owner.
    b.open(&format!("/reports/{}", first.id)).await;
    b.set_value("select[name=state]", "in_progress").await;
    b.set_value("select[name=owner_user_id]", &app.user("meti.liaison").user_id).await;
    b.submit(".triage-form button[type=submit]").await;
    assert!(b.text(".notice").await.contains("対応状況を記録しました"));
    b.open("/").await;
    let moved = format!("section[aria-labelledby=col-in_progress] {}", card(&first.id));
    assert_eq!(b.count(&moved).await, 1, "{}", b.text(".board").await);
    let name = app.store.get_user(&app.user("meti.liaison").user_id).await.unwrap().unwrap().display_name;
    assert!(b.text(&moved).await.contains(&name), "the owner is shown");
    b.shot("board-in-progress").await;

    // Done: off the board and out of the "needs action" list, still in the full list.
    b.open(&format!("/reports/{}", first.id)).await;
    b.set_value("select[name=state]", "done").await;
    b.submit(".triage-form button[type=submit]").await;
    b.open("/").await;
    assert_eq!(b.count(&card(&first.id)).await, 0, "done leaves the board");
    b.open("/reports?inbox=true").await;
    assert_eq!(b.count(&format!("main table a[href='/reports/{}']", first.id)).await, 0, "not in needs-action");
    b.open("/reports").await;
    assert_eq!(b.count(&format!("main table a[href='/reports/{}']", first.id)).await, 1, "still listed");

    // Forwarding is acting on it too.
    let path = format!("/api/v1/reports/{}/forward", second.id);
    let _: kyoyu_app::views::Forwarded = client.post(&path, &app.user("meti.liaison").token, &json!({})).await.unwrap();
    b.open("/").await;
    assert_eq!(b.count(&card(&second.id)).await, 0, "forwarded leaves the board");
    b.shot("board-emptied").await;
    b.close().await;

    // The operator that sent it reads the rendition, but not the ministry's triage of it.
    let seen: ReportView =
        client.get(&format!("/api/v1/reports/{}", first.id), &app.user("gas-a.ntk").token).await.unwrap();
    assert!(seen.triage.is_none() && !seen.actions.unwrap().triage);
    let kept: ReportView =
        client.get(&format!("/api/v1/reports/{}", first.id), &app.user("meti.liaison").token).await.unwrap();
    assert_eq!(kept.triage.map(|t| t.state), Some(kyoyu_domain::codes::TriageState::Done));
    let path = format!("/api/v1/reports/{}/triage", first.id);
    let refused = client.put::<ReportView>(&path, &app.user("gas-a.ntk").token, &json!({"state": "open"})).await;
    assert_eq!(refused.map(|_| ()).unwrap_err().status, 403, "the sender keeps no triage of what it sent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consent_to_disclosure_is_explained_confirmed_and_then_shown() {
    let app = spawn_web().await;
    let client = Client::new(&app.base);
    let filed = file(&client, &app, "公表予定のフィッシングサイト").await;
    let mut b = Browser::start(&app.base, "consent").await;
    b.login("gas-a.admin", &app.password("gas-a.admin")).await;
    b.open(&format!("/reports/{}", filed.id)).await;
    b.submit(&format!("a[href='/reports/{}/consent']", filed.id)).await;
    assert!(b.text("main").await.contains("行政機関情報公開法"), "the page says what consent allows");
    assert_eq!(b.count(".consent-given").await, 0, "nothing recorded yet");
    b.shot("consent-confirm").await;
    b.submit("form input[name=confirmed] ~ button[type=submit]").await;
    assert!(b.text(".notice").await.contains("開示への同意を記録しました"));
    assert!(b.text(".consent-given").await.contains("開示に同意しています"), "the report shows it was given");
    assert_eq!(b.count(&format!("a[href='/reports/{}/consent']", filed.id)).await, 0, "not offered twice");
    b.shot("consent-given").await;
    b.close().await;
}
