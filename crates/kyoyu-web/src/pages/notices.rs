//! The user's notifications: deliveries, questions and widening requests, newest first. The API
//! lists only those whose item the user may still read.

use crate::call::{items, params};
use crate::form::FormData;
use crate::layout::{csrf, ok, page, see_other, WebResult};
use crate::session::Web;
use axum::extract::State;
use axum::Json;
use kyoyu_api::notifications as api;
use kyoyu_api::AppState;
use maud::html;
use serde_json::Value;

/// The page a notification points to.
fn link(n: &Value) -> String {
    let id = n["object_id"].as_str().unwrap_or("");
    match n["object_type"].as_str() {
        Some("advisory") => format!("/advisories/{id}"),
        Some("report") => format!("/reports/{id}"),
        _ => "/scope-widenings".into(),
    }
}

pub async fn list(State(state): State<AppState>, web: Web) -> WebResult {
    let Json(v) = api::list_notifications(State(state.clone()), web.caller.clone(), params(&[])).await?;
    let rows = items(&v);
    let body = html! {
        form.actions method="post" action="/notifications/read" {
            (csrf(&web)) button.secondary type="submit" { (web.t("すべて既読にする", "Mark all as read")) }
        }
        table {
            thead { tr { th { (web.t("日時", "Time")) } th { (web.t("件名", "Subject")) } th { (web.t("状態", "State")) } } }
            tbody {
                @for n in &rows {
                    tr {
                        td { (super::report_form::shown_time(n["created_at"].as_str().unwrap_or(""))) }
                        td { a href=(link(n)) { (n["subject"].as_str().unwrap_or("")) } }
                        td { @if n["read_at"].is_null() { strong { (web.t("未読", "unread")) } } @else { (web.t("既読", "read")) } }
                    }
                }
                @if rows.is_empty() { tr { td colspan="3" .muted { (web.t("通知はありません", "No notifications")) } } }
            }
        }
    };
    ok(page(&web, web.t("通知", "Notifications"), body))
}

pub async fn read_all(State(state): State<AppState>, web: Web, form: FormData) -> WebResult {
    web.check_csrf(&form)?;
    let _ = api::mark_all_read(State(state.clone()), web.caller.clone()).await?;
    see_other("/notifications")
}
