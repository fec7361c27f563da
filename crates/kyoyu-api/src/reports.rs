//! The reporting chain over HTTP: adapters over `kyoyu_app::reports`.

use crate::error::{ApiError, ApiResult};
use crate::extract::{Caller, JsonBody};
use crate::query::{take_page, unknown_parameter, Page};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use kyoyu_app::reports::{self as ops, ShareRequest};
use kyoyu_app::views::{Count, ForwardPreview, Forwarded, PublishedList, ReportList, ReportView, Shared};
use kyoyu_domain::codes::{EventType, ReportStatus};
use kyoyu_domain::report::ReportInput;
use kyoyu_domain::{FieldError, Tlp, ValidationErrors};
use kyoyu_store::ReportFilter;
use std::collections::HashMap;

pub async fn create_report(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(input): JsonBody<ReportInput>,
) -> ApiResult<(StatusCode, Json<ReportView>)> {
    Ok((StatusCode::CREATED, Json(ops::file_report(&state.app, &caller, input).await?)))
}

pub async fn create_follow_up(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<ReportInput>,
) -> ApiResult<(StatusCode, Json<ReportView>)> {
    Ok((StatusCode::CREATED, Json(ops::file_follow_up(&state.app, &caller, &id, input).await?)))
}

pub async fn forward_report(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(edits): JsonBody<ReportInput>,
) -> ApiResult<(StatusCode, Json<Forwarded>)> {
    Ok((StatusCode::CREATED, Json(ops::forward_report(&state.app, &caller, &id, edits).await?)))
}

pub async fn preview_forward(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(edits): JsonBody<ReportInput>,
) -> ApiResult<Json<ForwardPreview>> {
    Ok(Json(ops::preview_forward(&state.app, &caller, &id, edits).await?))
}

pub async fn share_report(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(request): JsonBody<ShareRequest>,
) -> ApiResult<Json<Shared>> {
    Ok(Json(ops::share_report(&state.app, &caller, &id, request).await?))
}

pub async fn record_disclosure_consent(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<ReportView>> {
    Ok(Json(ops::consent_to_disclosure(&state.app, &caller, &id).await?))
}

pub async fn publish_report(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<ReportView>> {
    Ok(Json(ops::publish_report(&state.app, &caller, &id).await?))
}

pub async fn get_report(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<ReportView>> {
    Ok(Json(ops::get_report(&state.app, &caller, &id).await?))
}

/// Parses the list filters; an unknown code or parameter answers 422 naming it.
fn parse_filter(params: &HashMap<String, String>) -> ApiResult<(ReportFilter, Page)> {
    let mut f = ReportFilter::default();
    let mut errors = ValidationErrors::default();
    let mut page = Page::default();
    for (key, value) in params {
        if take_page(&mut page, key, value, &mut errors) {
            continue;
        }
        let bad = |errors: &mut ValidationErrors| errors.push(FieldError::unknown_code(key, value));
        match key.as_str() {
            "identifier" => f.identifier = Some(value.clone()),
            "sector" => f.sector = Some(value.clone()),
            "chain_id" => f.chain_id = Some(value.clone()),
            "q" => f.q = Some(value.clone()),
            "event_type" => match EventType::parse(value) {
                Some(v) => f.event_type = Some(v),
                None => bad(&mut errors),
            },
            "tlp" => match Tlp::parse(value) {
                Some(v) => f.tlp = Some(v),
                None => bad(&mut errors),
            },
            "status" => match ReportStatus::parse(value) {
                Some(v) => f.status = Some(v),
                None => bad(&mut errors),
            },
            _ => errors.push(unknown_parameter(key)),
        }
    }
    errors.into_result((f, page)).map_err(ApiError::from)
}

pub async fn list_reports(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<HashMap<String, String>>,
) -> ApiResult<Json<ReportList>> {
    let (filter, page) = parse_filter(&params)?;
    Ok(Json(ops::list_reports(&state.app, &caller, &filter, page).await?))
}

pub async fn count_reports(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<HashMap<String, String>>,
) -> ApiResult<Json<Count>> {
    let (filter, _) = parse_filter(&params)?;
    Ok(Json(ops::count_reports(&state.app, &caller, &filter).await?))
}

/// Published reports, for anyone, no log-in needed.
pub async fn list_published(State(state): State<AppState>) -> ApiResult<Json<PublishedList>> {
    Ok(Json(ops::list_published(&state.app).await?))
}
