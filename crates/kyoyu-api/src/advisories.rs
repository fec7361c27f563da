//! Advisories over HTTP: adapters over `kyoyu_app::advisories`.

use crate::error::{ApiError, ApiResult};
use crate::extract::{Caller, JsonBody};
use crate::query::{unknown_parameter, Page};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use kyoyu_app::advisories::{self as ops, AckRequest, AnswerRequest, QuestionRequest, RelayRequest, WideningRequest};
use kyoyu_app::views::{AdvisoryList, AdvisoryView, Count, QuestionList, WideningList, WideningView};
use kyoyu_domain::advisory::AdvisoryInput;
use kyoyu_domain::codes::AdvisoryStatus;
use kyoyu_domain::{FieldError, Tlp, ValidationErrors};
use kyoyu_store::{AdvisoryFilter, QuestionRow};
use std::collections::HashMap;

pub async fn create_advisory(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(input): JsonBody<AdvisoryInput>,
) -> ApiResult<(StatusCode, Json<AdvisoryView>)> {
    Ok((StatusCode::CREATED, Json(ops::create_advisory(&state.app, &caller, input).await?)))
}

pub async fn update_advisory(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<AdvisoryInput>,
) -> ApiResult<Json<AdvisoryView>> {
    Ok(Json(ops::update_advisory(&state.app, &caller, &id, input).await?))
}

pub async fn create_follow_up(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<AdvisoryInput>,
) -> ApiResult<(StatusCode, Json<AdvisoryView>)> {
    Ok((StatusCode::CREATED, Json(ops::create_follow_up(&state.app, &caller, &id, input).await?)))
}

pub async fn issue_advisory(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<AdvisoryView>> {
    Ok(Json(ops::issue_advisory(&state.app, &caller, &id).await?))
}

pub async fn relay_advisory(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<RelayRequest>,
) -> ApiResult<Json<AdvisoryView>> {
    Ok(Json(ops::relay_advisory(&state.app, &caller, &id, body).await?))
}

pub async fn acknowledge_advisory(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<AckRequest>,
) -> ApiResult<Json<AdvisoryView>> {
    Ok(Json(ops::acknowledge_advisory(&state.app, &caller, &id, body).await?))
}

pub async fn get_advisory(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<AdvisoryView>> {
    Ok(Json(ops::get_advisory(&state.app, &caller, &id).await?))
}

fn parse_filter(params: &HashMap<String, String>) -> ApiResult<(AdvisoryFilter, Page)> {
    let mut f = AdvisoryFilter::default();
    let mut errors = ValidationErrors::default();
    let mut page = Page::default();
    for (key, value) in params {
        if crate::query::take_page(&mut page, key, value, &mut errors) {
            continue;
        }
        match key.as_str() {
            "identifier" => f.identifier = Some(value.clone()),
            "q" => f.q = Some(value.clone()),
            "tlp" => match Tlp::parse(value) {
                Some(t) => f.tlp = Some(t),
                None => errors.push(FieldError::unknown_code(key, value)),
            },
            "status" => match AdvisoryStatus::parse(value) {
                Some(s) => f.status = Some(s),
                None => errors.push(FieldError::unknown_code(key, value)),
            },
            _ => errors.push(unknown_parameter(key)),
        }
    }
    errors.into_result((f, page)).map_err(ApiError::from)
}

pub async fn list_advisories(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<HashMap<String, String>>,
) -> ApiResult<Json<AdvisoryList>> {
    let (filter, page) = parse_filter(&params)?;
    Ok(Json(ops::list_advisories(&state.app, &caller, &filter, page).await?))
}

pub async fn count_advisories(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<HashMap<String, String>>,
) -> ApiResult<Json<Count>> {
    let (filter, _) = parse_filter(&params)?;
    Ok(Json(ops::count_advisories(&state.app, &caller, &filter).await?))
}

pub async fn ask_question(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<QuestionRequest>,
) -> ApiResult<(StatusCode, Json<QuestionRow>)> {
    Ok((StatusCode::CREATED, Json(ops::ask_question(&state.app, &caller, &id, body).await?)))
}

pub async fn list_questions(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<QuestionList>> {
    Ok(Json(ops::list_questions(&state.app, &caller, &id).await?))
}

pub async fn request_scope_widening(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<WideningRequest>,
) -> ApiResult<(StatusCode, Json<WideningView>)> {
    Ok((StatusCode::CREATED, Json(ops::request_scope_widening(&state.app, &caller, &id, body).await?)))
}

pub async fn relay_scope_widening(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<WideningView>> {
    Ok(Json(ops::relay_scope_widening(&state.app, &caller, &id).await?))
}

pub async fn answer_scope_widening(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<AnswerRequest>,
) -> ApiResult<Json<WideningView>> {
    Ok(Json(ops::answer_scope_widening(&state.app, &caller, &id, body).await?))
}

pub async fn list_scope_widenings(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<WideningList>> {
    Ok(Json(ops::list_scope_widenings(&state.app, &caller).await?))
}
