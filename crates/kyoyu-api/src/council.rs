//! The CEPTOAR council over HTTP: membership by each CEPTOAR's own decision, and shares
//! through it. Adapters over `kyoyu_app::council`; the board is `listReports?council=true`.

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Caller, JsonBody};
use crate::AppState;
use axum::extract::State;
use axum::Json;
use kyoyu_app::council::{self as ops, CouncilShareRequest, CouncilView};
use kyoyu_app::views::Shared;

#[utoipa::path(
    get,
    path = "/api/v1/council",
    operation_id = "getCouncil",
    tag = "council",
    summary = "The CEPTOAR council and its members / セプターカウンシル",
    responses((status = 200, description = "OK", body = CouncilView)),
)]
pub async fn get_council(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<CouncilView>> {
    Ok(Json(ops::get_council(&state.app, &caller).await?))
}

#[utoipa::path(
    post,
    path = "/api/v1/council/join",
    operation_id = "joinCouncil",
    tag = "council",
    summary = "The caller's CEPTOAR joins the council, by its own decision / 参加",
    description = "Only a CEPTOAR's secretariat or admin. Audited.",
    responses(
        (status = 200, description = "OK", body = CouncilView),
        (status = 403, description = "the caller's role may not do this / 権限がありません", body = ErrorBody),
        (status = 409, description = "already a member / 参加済み", body = ErrorBody),
    ),
)]
pub async fn join_council(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<CouncilView>> {
    Ok(Json(ops::set_membership(&state.app, &caller, true).await?))
}

#[utoipa::path(
    post,
    path = "/api/v1/council/leave",
    operation_id = "leaveCouncil",
    tag = "council",
    summary = "The caller's CEPTOAR leaves the council; nothing more reaches it through it / 脱退",
    description = "Only a CEPTOAR's secretariat or admin. Audited. What reached it before stays readable.",
    responses(
        (status = 200, description = "OK", body = CouncilView),
        (status = 403, description = "the caller's role may not do this / 権限がありません", body = ErrorBody),
        (status = 409, description = "not a member / 未参加", body = ErrorBody),
    ),
)]
pub async fn leave_council(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<CouncilView>> {
    Ok(Json(ops::set_membership(&state.app, &caller, false).await?))
}

#[utoipa::path(
    post,
    path = "/api/v1/council/shares",
    operation_id = "shareToCouncil",
    tag = "council",
    summary = "Share a report through the council / カウンシルで共有",
    description = "A member CEPTOAR shares a report it holds: GREEN reaches the council and every member CEPTOAR, AMBER only the members of the concerned sector, RED never. Members then relay to their own operators with shareReport. The council's board is listReports with council=true.",
    request_body(content = CouncilShareRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "OK", body = Shared),
        (status = 403, description = "the caller's role may not do this / 権限がありません", body = ErrorBody),
        (status = 404, description = "no such report the caller reads / 見つかりません", body = ErrorBody),
        (status = 409, description = "not a member, or shared through it before / 未参加・共有済み", body = ErrorBody),
        (status = 422, description = "RED, or no member inside the ceiling / 範囲外", body = ErrorBody),
    ),
)]
pub async fn share_to_council(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(request): JsonBody<CouncilShareRequest>,
) -> ApiResult<Json<Shared>> {
    Ok(Json(ops::share_to_council(&state.app, &caller, request).await?))
}
