//! Notifications, digests, the mail outbox and suggested recipients over HTTP: adapters over
//! `kyoyu_app::notifications`.

use crate::error::ApiResult;
use crate::extract::Caller;
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::Json;
use kyoyu_app::notifications as ops;
use kyoyu_app::views::{Done, NotificationList, OutboxList, Sent, Suggestion};
use std::collections::HashMap;

pub async fn list_notifications(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<NotificationList>> {
    crate::query::only(&q, &["unread"])?;
    let unread = crate::query::flag(&q, "unread")?;
    Ok(Json(ops::list_notifications(&state.app, &caller, unread).await?))
}

pub async fn mark_all_read(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Done>> {
    Ok(Json(ops::mark_all_read(&state.app, &caller).await?))
}

pub async fn list_outbox(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<OutboxList>> {
    crate::query::only(&q, &["unsent"])?;
    let unsent = crate::query::flag(&q, "unsent")?;
    Ok(Json(ops::list_outbox(&state.app, &caller, unsent).await?))
}

pub async fn send_digests(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Sent>> {
    Ok(Json(ops::send_digests(&state.app, &caller).await?))
}

pub async fn suggest_recipients(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Suggestion>> {
    Ok(Json(ops::suggest_recipients(&state.app, &caller, &id).await?))
}
