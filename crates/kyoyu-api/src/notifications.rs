//! Notifications, digests, the mail outbox and suggested recipients over HTTP: adapters over
//! `kyoyu_app::notifications`.

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Caller, JsonBody};
use crate::query::Params;
use crate::AppState;
use axum::extract::{Path, State};
use axum::Json;
use kyoyu_app::notifications as ops;
use kyoyu_app::views::{
    Count, Done, NotificationList, NotificationSettings, NotificationSettingsRequest, OutboxList, Sent, Suggestion,
};
use serde::Deserialize;
use utoipa::IntoParams;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct NotificationQuery {
    /// Only unread notifications / 未読のみ
    unread: Option<bool>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct OutboxQuery {
    /// Only mail not yet sent / 未送信のみ
    unsent: Option<bool>,
}

#[utoipa::path(
    get,
    path = "/api/v1/notifications",
    operation_id = "listNotifications",
    tag = "notifications",
    summary = "The caller's notifications, only for items they may still read / 通知",
    params(NotificationQuery),
    responses((status = 200, description = "OK", body = NotificationList)),
)]
pub async fn list_notifications(
    State(state): State<AppState>,
    caller: Caller,
    Params(query): Params<NotificationQuery>,
) -> ApiResult<Json<NotificationList>> {
    Ok(Json(ops::list_notifications(&state.app, &caller, query.unread.unwrap_or(false)).await?))
}

#[utoipa::path(
    get,
    path = "/api/v1/notifications/count",
    operation_id = "countNotifications",
    tag = "notifications",
    summary = "How many notifications the list would show, counted up to 100 / 通知の件数",
    params(NotificationQuery),
    responses((status = 200, description = "OK", body = Count)),
)]
pub async fn count_notifications(
    State(state): State<AppState>,
    caller: Caller,
    Params(query): Params<NotificationQuery>,
) -> ApiResult<Json<Count>> {
    Ok(Json(ops::count_notifications(&state.app, &caller, query.unread.unwrap_or(false)).await?))
}

#[utoipa::path(
    get,
    path = "/api/v1/me/notification-settings",
    operation_id = "getNotificationSettings",
    tag = "notifications",
    summary = "How the caller is told by mail: at once, or only in the digest / 通知の受け取り方",
    responses((status = 200, description = "OK", body = NotificationSettings)),
)]
pub async fn get_notification_settings(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<NotificationSettings>> {
    Ok(Json(ops::notification_settings(&state.app, &caller).await?))
}

#[utoipa::path(
    put,
    path = "/api/v1/me/notification-settings",
    operation_id = "setNotificationSettings",
    tag = "notifications",
    summary = "The caller chooses mail at once or only the digest (in-app notifications either way) / 通知の受け取り方の設定",
    request_body(content = NotificationSettingsRequest, content_type = "application/json"),
    responses((status = 200, description = "OK", body = NotificationSettings)),
)]
pub async fn set_notification_settings(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<NotificationSettingsRequest>,
) -> ApiResult<Json<NotificationSettings>> {
    Ok(Json(ops::set_notification_settings(&state.app, &caller, body).await?))
}

#[utoipa::path(
    post,
    path = "/api/v1/notifications/read",
    operation_id = "markNotificationsRead",
    tag = "notifications",
    summary = "Mark all as read / 既読にする",
    responses((status = 200, description = "OK", body = Done)),
)]
pub async fn mark_all_read(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Done>> {
    Ok(Json(ops::mark_all_read(&state.app, &caller).await?))
}

#[utoipa::path(
    get,
    path = "/api/v1/admin/mail-outbox",
    operation_id = "listMailOutbox",
    tag = "notifications",
    summary = "Notification mail and its delivery attempts (coordinator) / 送信状況",
    params(OutboxQuery),
    responses((status = 200, description = "OK", body = OutboxList), (status = 403, description = "the caller's role may not do this / 権限がありません", body = ErrorBody)),
)]
pub async fn list_outbox(
    State(state): State<AppState>,
    caller: Caller,
    Params(query): Params<OutboxQuery>,
) -> ApiResult<Json<OutboxList>> {
    Ok(Json(ops::list_outbox(&state.app, &caller, query.unsent.unwrap_or(false)).await?))
}

#[utoipa::path(
    post,
    path = "/api/v1/admin/digests",
    operation_id = "sendDigests",
    tag = "notifications",
    summary = "Mail every user a digest of their unread notifications, by the same policy / ダイジェスト送信",
    responses((status = 200, description = "OK", body = Sent), (status = 403, description = "the caller's role may not do this / 権限がありません", body = ErrorBody)),
)]
pub async fn send_digests(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Sent>> {
    Ok(Json(ops::send_digests(&state.app, &caller).await?))
}

#[utoipa::path(
    get,
    path = "/api/v1/reports/{id}/suggested-recipients",
    operation_id = "suggestRecipients",
    tag = "reports",
    summary = "Downstream sectors from the dependency graph / 影響が及ぶ分野",
    params(("id" = String, Path, description = "The item's id / ID")),
    responses((status = 200, description = "OK", body = Suggestion)),
)]
pub async fn suggest_recipients(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Suggestion>> {
    Ok(Json(ops::suggest_recipients(&state.app, &caller, &id).await?))
}
