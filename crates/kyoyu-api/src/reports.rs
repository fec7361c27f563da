//! The reporting chain over HTTP: adapters over `kyoyu_app::reports`.

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Caller, JsonBody};
use crate::query::{Page, Params};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use kyoyu_app::reports::{self as ops, ShareRequest, TriageRequest};
use kyoyu_app::statistics::{Statistics, StatisticsQuery};
use kyoyu_app::views::{Count, ForwardPreview, Forwarded, PublishedList, ReportList, ReportView, Shared};
use kyoyu_domain::codes::{EventType, ReportStatus, Route};
use kyoyu_domain::report::ReportInput;
use kyoyu_domain::Tlp;
use kyoyu_store::ReportFilter;
use serde::Deserialize;
use utoipa::IntoParams;

#[utoipa::path(
    post,
    path = "/api/v1/reports",
    operation_id = "createReport",
    tag = "reports",
    summary = "File a report (第1報) on a route / 報告する",
    description = "direct: to the sector's ministry; anonymised: to the sector's CEPTOAR secretariat (refused when statutory); urgent: to the ministry with an immediate copy to the coordinator.",
    request_body(content = ReportInput, content_type = "application/json"),
    responses((status = 201, description = "OK", body = ReportView), (status = 403, description = "the caller's role may not do this / 権限がありません", body = ErrorBody)),
)]
pub async fn create_report(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(input): JsonBody<ReportInput>,
) -> ApiResult<(StatusCode, Json<ReportView>)> {
    Ok((StatusCode::CREATED, Json(ops::file_report(&state.app, &caller, input).await?)))
}

#[utoipa::path(
    post,
    path = "/api/v1/reports/{id}/follow-ups",
    operation_id = "createFollowUp",
    tag = "reports",
    summary = "File a follow-up (第n報) on the same chain and route / 続報",
    request_body(content = ReportInput, content_type = "application/json"),
    params(("id" = String, Path, description = "The item's id / ID")),
    responses((status = 201, description = "OK", body = ReportView), (status = 403, description = "the caller's role may not do this / 権限がありません", body = ErrorBody)),
)]
pub async fn create_follow_up(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<ReportInput>,
) -> ApiResult<(StatusCode, Json<ReportView>)> {
    Ok((StatusCode::CREATED, Json(ops::file_follow_up(&state.app, &caller, &id, input).await?)))
}

#[utoipa::path(
    post,
    path = "/api/v1/reports/{id}/forward",
    operation_id = "forwardReport",
    tag = "reports",
    summary = "Forward a received rendition up the chain, optionally edited / 転送",
    description = "A CEPTOAR secretariat forwards to the ministry (anonymising), a ministry's liaison to the coordinator. The body is optional.",
    request_body(content = Option<ReportInput>, content_type = "application/json"),
    params(("id" = String, Path, description = "The item's id / ID"), CarryQuery),
    responses((status = 201, description = "OK", body = Forwarded), (status = 403, description = "the caller's role may not do this / 権限がありません", body = ErrorBody), (status = 409, description = "the item is not in a state that allows this / 状態が合いません", body = ErrorBody)),
)]
pub async fn forward_report(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Params(carry): Params<CarryQuery>,
    JsonBody(edits): JsonBody<ReportInput>,
) -> ApiResult<(StatusCode, Json<Forwarded>)> {
    let chosen = carry.chosen();
    Ok((StatusCode::CREATED, Json(ops::forward_report(&state.app, &caller, &id, edits, chosen.as_deref()).await?)))
}

/// Which of the received rendition's files a forward carries on.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CarryQuery {
    /// File ids, comma-separated; empty for none. Absent: every file the forwarder reads /
    /// 転送するファイル（省略時はすべて）
    attachment_ids: Option<String>,
}

impl CarryQuery {
    fn chosen(&self) -> Option<Vec<String>> {
        self.attachment_ids
            .as_ref()
            .map(|ids| ids.split(',').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect())
    }
}

#[utoipa::path(
    post,
    path = "/api/v1/reports/{id}/forward-preview",
    operation_id = "previewForward",
    tag = "reports",
    summary = "What a forward would send and what anonymisation removes; writes nothing / 転送内容の確認",
    request_body(content = Option<ReportInput>, content_type = "application/json"),
    params(("id" = String, Path, description = "The item's id / ID"), CarryQuery),
    responses((status = 200, description = "OK", body = ForwardPreview), (status = 403, description = "the caller's role may not do this / 権限がありません", body = ErrorBody), (status = 409, description = "the item is not in a state that allows this / 状態が合いません", body = ErrorBody)),
)]
pub async fn preview_forward(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Params(carry): Params<CarryQuery>,
    JsonBody(edits): JsonBody<ReportInput>,
) -> ApiResult<Json<ForwardPreview>> {
    let chosen = carry.chosen();
    Ok(Json(ops::preview_forward(&state.app, &caller, &id, edits, chosen.as_deref()).await?))
}

#[utoipa::path(
    post,
    path = "/api/v1/reports/{id}/shares",
    operation_id = "shareReport",
    tag = "reports",
    summary = "Share with organisations inside the TLP ceiling / 共有",
    description = "A ministry shares with a CEPTOAR, a CEPTOAR with its members, an operator within its own CEPTOAR, the coordinator with an analysis partner. An operator may also report its own submission to a response agency of its choosing as a crime, at any TLP (別添2.2, 表5 ※1): only the operator and that agency ever learn of it. All or nothing.",
    request_body(content = ShareRequest, content_type = "application/json"),
    params(("id" = String, Path, description = "The item's id / ID")),
    responses((status = 200, description = "OK", body = Shared), (status = 403, description = "the caller's role may not do this / 権限がありません", body = ErrorBody)),
)]
pub async fn share_report(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(request): JsonBody<ShareRequest>,
) -> ApiResult<Json<Shared>> {
    Ok(Json(ops::share_report(&state.app, &caller, &id, request).await?))
}

#[utoipa::path(
    post,
    path = "/api/v1/reports/{id}/disclosure-consent",
    operation_id = "recordDisclosureConsent",
    tag = "reports",
    summary = "The originating operator consents to disclosure / 開示同意",
    params(("id" = String, Path, description = "The item's id / ID")),
    responses((status = 200, description = "OK", body = ReportView), (status = 403, description = "the caller's role may not do this / 権限がありません", body = ErrorBody)),
)]
pub async fn record_disclosure_consent(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<ReportView>> {
    Ok(Json(ops::consent_to_disclosure(&state.app, &caller, &id).await?))
}

#[utoipa::path(
    put,
    path = "/api/v1/reports/{id}/triage",
    operation_id = "setReportTriage",
    tag = "reports",
    summary = "The receiving organisation records where the rendition stands and who owns it / 対応状況",
    description = "Open, in progress or done, with an owner among the organisation's active users. Only the receiving organisation keeps (and sees) a rendition's triage; done takes it off the inbox.",
    request_body(content = TriageRequest, content_type = "application/json"),
    params(("id" = String, Path, description = "The item's id / ID")),
    responses((status = 200, description = "OK", body = ReportView), (status = 403, description = "the caller's role may not do this / 権限がありません", body = ErrorBody), (status = 422, description = "refused: the error names the field and the reason / 入力誤り", body = ErrorBody)),
)]
pub async fn set_report_triage(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(request): JsonBody<TriageRequest>,
) -> ApiResult<Json<ReportView>> {
    Ok(Json(ops::set_triage(&state.app, &caller, &id, request).await?))
}

#[utoipa::path(
    post,
    path = "/api/v1/reports/{id}/publish",
    operation_id = "publishReport",
    tag = "reports",
    summary = "The coordinator publishes a WHITE/CLEAR report with the originator's consent / 公開",
    params(("id" = String, Path, description = "The item's id / ID")),
    responses((status = 200, description = "OK", body = ReportView), (status = 403, description = "the caller's role may not do this / 権限がありません", body = ErrorBody), (status = 422, description = "refused: the error names the field and the reason / 入力誤り", body = ErrorBody)),
)]
pub async fn publish_report(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<ReportView>> {
    Ok(Json(ops::publish_report(&state.app, &caller, &id).await?))
}

#[utoipa::path(
    get,
    path = "/api/v1/reports/{id}",
    operation_id = "getReport",
    tag = "reports",
    summary = "One rendition / 1件",
    params(("id" = String, Path, description = "The item's id / ID")),
    responses((status = 200, description = "OK", body = ReportView)),
)]
pub async fn get_report(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<ReportView>> {
    Ok(Json(ops::get_report(&state.app, &caller, &id).await?))
}

/// The filters of the report list and count, and the list's page.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReportQuery {
    /// R2026-0001, or R2026-0001-2 for one report of a chain / 識別番号
    identifier: Option<String>,
    /// A sector code / 分野
    sector: Option<String>,
    /// One chain, in sequence order / 一連の報告
    chain_id: Option<String>,
    /// Free text in what the reader holds / キーワード
    q: Option<String>,
    #[param(inline)]
    event_type: Option<EventType>,
    #[param(inline)]
    tlp: Option<Tlp>,
    #[param(inline)]
    status: Option<ReportStatus>,
    #[param(inline)]
    route: Option<Route>,
    /// Only what still needs the caller's organisation: received, not forwarded, not done / 未対応の受信
    inbox: Option<bool>,
    /// Only what was shared through the CEPTOAR council (its board) / カウンシル経由の共有
    council: Option<bool>,
    /// Sent on or after this day (JST, YYYY-MM-DD) / 期間（開始日）
    #[param(format = Date)]
    since: Option<String>,
    /// Sent on or before this day (JST, YYYY-MM-DD) / 期間（終了日）
    #[param(format = Date)]
    until: Option<String>,
    #[param(minimum = 1, maximum = 100)]
    limit: Option<i64>,
    #[param(minimum = 0, maximum = 1_000_000)]
    offset: Option<i64>,
    /// The `next` of the previous page / 次のページ
    after: Option<String>,
    /// Newest first (the default) or oldest first / 並び順
    #[param(inline)]
    order: Option<ListOrder>,
}

/// The order of a list by the time each item reached the reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ListOrder {
    Newest,
    Oldest,
}

impl ReportQuery {
    fn filter(self) -> ApiResult<(ReportFilter, Page)> {
        let page = crate::query::page(self.limit, self.offset, self.after.as_deref())?;
        let (since, until) = kyoyu_app::reads::jst_days(self.since.as_deref(), self.until.as_deref())?;
        let filter = ReportFilter {
            identifier: self.identifier,
            sector: self.sector,
            chain_id: self.chain_id,
            q: self.q,
            event_type: self.event_type,
            tlp: self.tlp,
            status: self.status,
            route: self.route,
            inbox: self.inbox.unwrap_or(false),
            via_council: self.council.unwrap_or(false),
            since,
            until,
            oldest_first: self.order == Some(ListOrder::Oldest),
        };
        Ok((filter, page))
    }
}

#[utoipa::path(
    get,
    path = "/api/v1/reports",
    operation_id = "listReports",
    tag = "reports",
    summary = "Reports the caller may read, newest first / 一覧",
    params(ReportQuery),
    responses((status = 200, description = "OK", body = ReportList)),
)]
pub async fn list_reports(
    State(state): State<AppState>,
    caller: Caller,
    Params(query): Params<ReportQuery>,
) -> ApiResult<Json<ReportList>> {
    let (filter, page) = query.filter()?;
    Ok(Json(ops::list_reports(&state.app, &caller, &filter, page).await?))
}

#[utoipa::path(
    get,
    path = "/api/v1/statistics",
    operation_id = "getStatistics",
    tag = "reports",
    summary = "Chains the caller may read, counted by year, sector, event type, cause, route, TLP and severity, and the time to the first report; exercises left out / 統計",
    params(StatisticsQuery),
    responses((status = 200, description = "OK", body = Statistics)),
)]
pub async fn get_statistics(
    State(state): State<AppState>,
    caller: Caller,
    Params(query): Params<StatisticsQuery>,
) -> ApiResult<Json<Statistics>> {
    Ok(Json(kyoyu_app::statistics::statistics(&state.app, &caller, &query).await?))
}

#[utoipa::path(
    get,
    path = "/api/v1/reports/count",
    operation_id = "countReports",
    tag = "reports",
    summary = "How many reports the caller may read / 件数",
    params(ReportQuery),
    responses((status = 200, description = "OK", body = Count)),
)]
pub async fn count_reports(
    State(state): State<AppState>,
    caller: Caller,
    Params(query): Params<ReportQuery>,
) -> ApiResult<Json<Count>> {
    let (filter, _) = query.filter()?;
    Ok(Json(ops::count_reports(&state.app, &caller, &filter).await?))
}

/// Published reports, for anyone, no log-in needed.
#[utoipa::path(
    get,
    path = "/api/v1/public/reports",
    operation_id = "listPublishedReports",
    tag = "reports",
    summary = "Published reports, no log-in / 公開情報",
    responses((status = 200, description = "OK", body = PublishedList)),
    security(()),
)]
pub async fn list_published(State(state): State<AppState>) -> ApiResult<Json<PublishedList>> {
    Ok(Json(ops::list_published(&state.app).await?))
}
