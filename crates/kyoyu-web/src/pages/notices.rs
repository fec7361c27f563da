//! The user's notifications: deliveries, questions and widening requests, newest first. The API
//! lists only those whose item the user may still read.

use crate::form::FormData;
use crate::i18n::Label;
use crate::layout::{csrf, ok, page, see_other, WebResult};
use crate::session::Web;
use axum::extract::State;
use kyoyu_api::error::ApiError;
use kyoyu_api::AppState;
use kyoyu_app::notifications as ops;
use kyoyu_app::views::NotificationSettingsRequest;
use kyoyu_domain::codes::NotifyMode;
use kyoyu_store::NotificationRow;
use maud::{html, Markup};

/// The page a notification points to.
fn link(n: &NotificationRow) -> String {
    match kyoyu_domain::codes::ItemType::parse(&n.object_type) {
        Some(item_type) => super::files::item_path(item_type, &n.object_id),
        None => "/scope-widenings".into(),
    }
}

pub async fn list(State(state): State<AppState>, web: Web) -> WebResult {
    let rows = ops::list_notifications(&state.app, &web.caller, false).await.map_err(ApiError::from)?.items;
    let settings = ops::notification_settings(&state.app, &web.caller).await.map_err(ApiError::from)?;
    let body = html! {
        (settings_form(&web, settings.mode))
        form.actions method="post" action="/notifications/read" {
            (csrf(&web)) button.secondary type="submit" { (web.t("すべて既読にする", "Mark all as read")) }
        }
        table {
            thead { tr { th { (web.t("日時", "Time")) } th { (web.t("件名", "Subject")) } th { (web.t("状態", "State")) } } }
            tbody {
                @for n in &rows {
                    tr {
                        td { (super::report_form::jst(&n.created_at)) }
                        td { a href=(link(n)) { (web.t(&n.subject, n.subject_en.as_deref().unwrap_or(&n.subject))) } }
                        td { @if n.read_at.is_none() { strong { (web.t("未読", "unread")) } } @else { (web.t("既読", "read")) } }
                    }
                }
                @if rows.is_empty() { tr { td colspan="3" .muted { (web.t("通知はありません", "No notifications")) } } }
            }
        }
    };
    ok(page(&web, web.t("通知", "Notifications"), body))
}

/// The user's own choice: mail at once for every notification, or only the digest.
fn settings_form(web: &Web, current: NotifyMode) -> Markup {
    html! {
        details.settings {
            summary { (web.t("メール通知の受け取り方", "How you are told by mail")) "：" (current.label(web.lang)) }
            form method="post" action="/notifications/settings" {
                (csrf(web))
                fieldset {
                    legend { (web.t("受け取り方（画面上の通知はどちらでも届きます）", "Mail (notifications on screen arrive either way)")) }
                    @for mode in NotifyMode::ALL {
                        label.choice {
                            input type="radio" name="mode" value=(mode.code()) checked[*mode == current];
                            " " (mode.label(web.lang))
                        }
                    }
                }
                button type="submit" { (web.t("保存", "Save")) }
            }
        }
    }
}

pub async fn save_settings(State(state): State<AppState>, web: Web, form: FormData) -> WebResult {
    web.check_csrf(&form)?;
    let mode = form.get("mode").and_then(NotifyMode::parse);
    let request = NotificationSettingsRequest { mode };
    ops::set_notification_settings(&state.app, &web.caller, request).await.map_err(ApiError::from)?;
    see_other("/notifications")
}

pub async fn read_all(State(state): State<AppState>, web: Web, form: FormData) -> WebResult {
    web.check_csrf(&form)?;
    ops::mark_all_read(&state.app, &web.caller).await.map_err(ApiError::from)?;
    see_other("/notifications")
}
