//! Advisories over HTTP: adapters over `kyoyu_app::advisories`.

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Caller, JsonBody};
use crate::query::{Page, Params};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use kyoyu_app::advisories::{self as ops, AckRequest, AnswerRequest, QuestionRequest, RelayRequest, WideningRequest};
use kyoyu_app::views::{AdvisoryList, AdvisoryView, Count, QuestionList, WideningList, WideningView};
use kyoyu_domain::advisory::AdvisoryInput;
use kyoyu_domain::codes::AdvisoryStatus;
use kyoyu_domain::Tlp;
use kyoyu_store::{AdvisoryFilter, QuestionRow};
use serde::Deserialize;
use utoipa::IntoParams;

#[utoipa::path(
    post,
    path = "/api/v1/advisories",
    operation_id = "createAdvisory",
    tag = "advisories",
    summary = "Draft an advisory (coordinator) / 情報提供の起案",
    request_body(content = AdvisoryInput, content_type = "application/json"),
    responses((status = 201, description = "OK", body = AdvisoryView), (status = 403, description = "the caller's role may not do this / 権限がありません", body = ErrorBody)),
)]
pub async fn create_advisory(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(input): JsonBody<AdvisoryInput>,
) -> ApiResult<(StatusCode, Json<AdvisoryView>)> {
    Ok((StatusCode::CREATED, Json(ops::create_advisory(&state.app, &caller, input).await?)))
}

#[utoipa::path(
    patch,
    path = "/api/v1/advisories/{id}",
    operation_id = "updateAdvisory",
    tag = "advisories",
    summary = "Edit a draft / 起案の編集",
    request_body(content = Option<AdvisoryInput>, content_type = "application/json"),
    params(("id" = String, Path, description = "The item's id / ID")),
    responses((status = 200, description = "OK", body = AdvisoryView), (status = 403, description = "the caller's role may not do this / 権限がありません", body = ErrorBody), (status = 409, description = "the item is not in a state that allows this / 状態が合いません", body = ErrorBody)),
)]
pub async fn update_advisory(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<AdvisoryInput>,
) -> ApiResult<Json<AdvisoryView>> {
    Ok(Json(ops::update_advisory(&state.app, &caller, &id, input).await?))
}

#[utoipa::path(
    post,
    path = "/api/v1/advisories/{id}/follow-ups",
    operation_id = "createAdvisoryFollowUp",
    tag = "advisories",
    summary = "Draft a follow-up (-2, -3 …) from an advisory / 続報の起案",
    request_body(content = Option<AdvisoryInput>, content_type = "application/json"),
    params(("id" = String, Path, description = "The item's id / ID")),
    responses((status = 201, description = "OK", body = AdvisoryView), (status = 403, description = "the caller's role may not do this / 権限がありません", body = ErrorBody)),
)]
pub async fn create_follow_up(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<AdvisoryInput>,
) -> ApiResult<(StatusCode, Json<AdvisoryView>)> {
    Ok((StatusCode::CREATED, Json(ops::create_follow_up(&state.app, &caller, &id, input).await?)))
}

#[utoipa::path(
    post,
    path = "/api/v1/advisories/{id}/issue",
    operation_id = "issueAdvisory",
    tag = "advisories",
    summary = "Issue: sanitisation gate, scope rule, numbering, delivery / 発出",
    description = "Refused (422) while a field holds a string that identifies a source's operator (the error names the field and the count), or while the audience goes beyond what a source allowed.",
    params(("id" = String, Path, description = "The item's id / ID")),
    responses((status = 200, description = "OK", body = AdvisoryView), (status = 403, description = "the caller's role may not do this / 権限がありません", body = ErrorBody), (status = 409, description = "the item is not in a state that allows this / 状態が合いません", body = ErrorBody), (status = 422, description = "refused: the error names the field and the reason / 入力誤り", body = ErrorBody)),
)]
pub async fn issue_advisory(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<AdvisoryView>> {
    Ok(Json(ops::issue_advisory(&state.app, &caller, &id).await?))
}

#[utoipa::path(
    post,
    path = "/api/v1/advisories/{id}/relay",
    operation_id = "relayAdvisory",
    tag = "advisories",
    summary = "Relay to the next hop, keeping or tightening the TLP / 伝達",
    request_body(content = RelayRequest, content_type = "application/json"),
    params(("id" = String, Path, description = "The item's id / ID")),
    responses((status = 200, description = "OK", body = AdvisoryView), (status = 403, description = "the caller's role may not do this / 権限がありません", body = ErrorBody)),
)]
pub async fn relay_advisory(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<RelayRequest>,
) -> ApiResult<Json<AdvisoryView>> {
    Ok(Json(ops::relay_advisory(&state.app, &caller, &id, body).await?))
}

#[utoipa::path(
    post,
    path = "/api/v1/advisories/{id}/acknowledgments",
    operation_id = "acknowledgeAdvisory",
    tag = "advisories",
    summary = "Acknowledge receipt / 受領確認",
    request_body(content = AckRequest, content_type = "application/json"),
    params(("id" = String, Path, description = "The item's id / ID")),
    responses((status = 200, description = "OK", body = AdvisoryView), (status = 403, description = "the caller's role may not do this / 権限がありません", body = ErrorBody)),
)]
pub async fn acknowledge_advisory(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<AckRequest>,
) -> ApiResult<Json<AdvisoryView>> {
    Ok(Json(ops::acknowledge_advisory(&state.app, &caller, &id, body).await?))
}

#[utoipa::path(
    get,
    path = "/api/v1/advisories/{id}",
    operation_id = "getAdvisory",
    tag = "advisories",
    summary = "One advisory / 1件",
    params(("id" = String, Path, description = "The item's id / ID")),
    responses((status = 200, description = "OK", body = AdvisoryView)),
)]
pub async fn get_advisory(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<AdvisoryView>> {
    Ok(Json(ops::get_advisory(&state.app, &caller, &id).await?))
}

/// The filters of the advisory list and count, and the list's page.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AdvisoryQuery {
    /// A2026-0001, or A2026-0001-2 for one advisory of a chain / 識別番号
    identifier: Option<String>,
    /// Free text / キーワード
    q: Option<String>,
    #[param(inline)]
    tlp: Option<Tlp>,
    #[param(inline)]
    status: Option<AdvisoryStatus>,
    #[param(minimum = 1, maximum = 100)]
    limit: Option<i64>,
    #[param(minimum = 0, maximum = 1_000_000)]
    offset: Option<i64>,
    /// The `next` of the previous page / 次のページ
    after: Option<String>,
}

impl AdvisoryQuery {
    fn filter(self) -> ApiResult<(AdvisoryFilter, Page)> {
        let page = crate::query::page(self.limit, self.offset, self.after.as_deref())?;
        Ok((AdvisoryFilter { identifier: self.identifier, tlp: self.tlp, status: self.status, q: self.q }, page))
    }
}

#[utoipa::path(
    get,
    path = "/api/v1/advisories",
    operation_id = "listAdvisories",
    tag = "advisories",
    summary = "Advisories the caller may read / 一覧",
    params(AdvisoryQuery),
    responses((status = 200, description = "OK", body = AdvisoryList)),
)]
pub async fn list_advisories(
    State(state): State<AppState>,
    caller: Caller,
    Params(query): Params<AdvisoryQuery>,
) -> ApiResult<Json<AdvisoryList>> {
    let (filter, page) = query.filter()?;
    Ok(Json(ops::list_advisories(&state.app, &caller, &filter, page).await?))
}

#[utoipa::path(
    get,
    path = "/api/v1/advisories/count",
    operation_id = "countAdvisories",
    tag = "advisories",
    summary = "How many advisories the caller may read / 件数",
    params(AdvisoryQuery),
    responses((status = 200, description = "OK", body = Count)),
)]
pub async fn count_advisories(
    State(state): State<AppState>,
    caller: Caller,
    Params(query): Params<AdvisoryQuery>,
) -> ApiResult<Json<Count>> {
    let (filter, _) = query.filter()?;
    Ok(Json(ops::count_advisories(&state.app, &caller, &filter).await?))
}

#[utoipa::path(
    post,
    path = "/api/v1/advisories/{id}/questions",
    operation_id = "askAdvisoryQuestion",
    tag = "advisories",
    summary = "Ask or answer in the thread (coordinator and ministries in scope only) / 質問",
    request_body(content = QuestionRequest, content_type = "application/json"),
    params(("id" = String, Path, description = "The item's id / ID")),
    responses((status = 201, description = "OK", body = QuestionRow), (status = 403, description = "the caller's role may not do this / 権限がありません", body = ErrorBody)),
)]
pub async fn ask_question(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<QuestionRequest>,
) -> ApiResult<(StatusCode, Json<QuestionRow>)> {
    Ok((StatusCode::CREATED, Json(ops::ask_question(&state.app, &caller, &id, body).await?)))
}

#[utoipa::path(
    get,
    path = "/api/v1/advisories/{id}/questions",
    operation_id = "listAdvisoryQuestions",
    tag = "advisories",
    summary = "The question thread / 質問一覧",
    params(("id" = String, Path, description = "The item's id / ID")),
    responses((status = 200, description = "OK", body = QuestionList)),
)]
pub async fn list_questions(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<QuestionList>> {
    Ok(Json(ops::list_questions(&state.app, &caller, &id).await?))
}

#[utoipa::path(
    post,
    path = "/api/v1/advisories/{id}/scope-widenings",
    operation_id = "requestScopeWidening",
    tag = "widenings",
    summary = "Ask a source's originator to allow a wider audience / 範囲拡大の依頼",
    request_body(content = WideningRequest, content_type = "application/json"),
    params(("id" = String, Path, description = "The item's id / ID")),
    responses((status = 201, description = "OK", body = WideningView), (status = 403, description = "the caller's role may not do this / 権限がありません", body = ErrorBody), (status = 409, description = "the item is not in a state that allows this / 状態が合いません", body = ErrorBody)),
)]
pub async fn request_scope_widening(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<WideningRequest>,
) -> ApiResult<(StatusCode, Json<WideningView>)> {
    Ok((StatusCode::CREATED, Json(ops::request_scope_widening(&state.app, &caller, &id, body).await?)))
}

#[utoipa::path(
    post,
    path = "/api/v1/scope-widenings/{id}/relay",
    operation_id = "relayScopeWidening",
    tag = "widenings",
    summary = "The secretariat passes the request to its member / 事務局から事業者へ伝達",
    params(("id" = String, Path, description = "The item's id / ID")),
    responses((status = 200, description = "OK", body = WideningView), (status = 403, description = "the caller's role may not do this / 権限がありません", body = ErrorBody), (status = 409, description = "the item is not in a state that allows this / 状態が合いません", body = ErrorBody)),
)]
pub async fn relay_scope_widening(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<WideningView>> {
    Ok(Json(ops::relay_scope_widening(&state.app, &caller, &id).await?))
}

#[utoipa::path(
    post,
    path = "/api/v1/scope-widenings/{id}/answer",
    operation_id = "answerScopeWidening",
    tag = "widenings",
    summary = "The originator grants or refuses / 同意・不同意",
    request_body(content = AnswerRequest, content_type = "application/json"),
    params(("id" = String, Path, description = "The item's id / ID")),
    responses((status = 200, description = "OK", body = WideningView), (status = 403, description = "the caller's role may not do this / 権限がありません", body = ErrorBody), (status = 409, description = "the item is not in a state that allows this / 状態が合いません", body = ErrorBody)),
)]
pub async fn answer_scope_widening(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<AnswerRequest>,
) -> ApiResult<Json<WideningView>> {
    Ok(Json(ops::answer_scope_widening(&state.app, &caller, &id, body).await?))
}

#[utoipa::path(
    get,
    path = "/api/v1/scope-widenings",
    operation_id = "listScopeWidenings",
    tag = "widenings",
    summary = "Widening requests the caller takes part in / 範囲拡大の依頼一覧",
    responses((status = 200, description = "OK", body = WideningList)),
)]
pub async fn list_scope_widenings(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<WideningList>> {
    Ok(Json(ops::list_scope_widenings(&state.app, &caller).await?))
}
