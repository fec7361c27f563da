//! Partner information over HTTP (情報の提供, 004 3.1): adapters over `kyoyu_app::partner`.

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Caller, JsonBody};
use crate::query::{Page, Params};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use kyoyu_app::partner::{self as ops, PartnerList, PartnerView};
use kyoyu_app::reports::ShareRequest;
use kyoyu_app::views::Count;
use kyoyu_domain::partner::PartnerInput;
use kyoyu_domain::Tlp;
use kyoyu_store::PartnerFilter;
use serde::Deserialize;
use utoipa::IntoParams;

#[utoipa::path(
    post,
    path = "/api/v1/partner-information",
    operation_id = "createPartnerInformation",
    tag = "partner-information",
    summary = "Send the coordinator what the caller's organisation knows / 情報の提供",
    description = "Ministries, cybersecurity-related ministries, response and disaster agencies, security institutions and cyberspace vendors (need-to-know users) send a vulnerability, an attack or its announcement, a disaster forecast or threat intelligence. Numbered P2026-0001 at once. Read by the sender, the coordinator, and whoever the coordinator shares it with inside its TLP; only the sender and the coordinator learn who sent it.",
    request_body(content = PartnerInput, content_type = "application/json"),
    responses(
        (status = 201, description = "OK", body = PartnerView),
        (status = 403, description = "the caller's role may not do this / 権限がありません", body = ErrorBody),
    ),
)]
pub async fn create_partner_information(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(input): JsonBody<PartnerInput>,
) -> ApiResult<(StatusCode, Json<PartnerView>)> {
    Ok((StatusCode::CREATED, Json(ops::create_partner_information(&state.app, &caller, input).await?)))
}

/// Filters and paging of `listPartnerInformation`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PartnerQuery {
    /// P2026-0001, or P2026-0001-2 for one item of a chain / 識別番号
    identifier: Option<String>,
    /// Free text / キーワード
    q: Option<String>,
    #[param(inline)]
    tlp: Option<Tlp>,
    #[param(minimum = 1, maximum = 100)]
    limit: Option<i64>,
    #[param(minimum = 0, maximum = 1_000_000)]
    offset: Option<i64>,
    /// The `next` of the previous page / 次のページ
    after: Option<String>,
}

#[utoipa::path(
    get,
    path = "/api/v1/partner-information",
    operation_id = "listPartnerInformation",
    tag = "partner-information",
    summary = "Partner information the caller may read, newest first / 一覧",
    params(PartnerQuery),
    responses((status = 200, description = "OK", body = PartnerList)),
)]
pub async fn list_partner_information(
    State(state): State<AppState>,
    caller: Caller,
    Params(query): Params<PartnerQuery>,
) -> ApiResult<Json<PartnerList>> {
    let (filter, page) = query.filter()?;
    Ok(Json(ops::list_partner_information(&state.app, &caller, &filter, page).await?))
}

impl PartnerQuery {
    /// The filter and the page, both checked (a count checks the page it ignores, as
    /// `countReports` does, so that one query string means the same on both).
    fn filter(&self) -> ApiResult<(PartnerFilter, Page)> {
        let page = crate::query::page(self.limit, self.offset, self.after.as_deref())?;
        Ok((PartnerFilter { identifier: self.identifier.clone(), tlp: self.tlp, q: self.q.clone() }, page))
    }
}

#[utoipa::path(
    get,
    path = "/api/v1/partner-information/count",
    operation_id = "countPartnerInformation",
    tag = "partner-information",
    summary = "How many items of partner information the caller may read / 件数",
    params(PartnerQuery),
    responses((status = 200, description = "OK", body = Count)),
)]
pub async fn count_partner_information(
    State(state): State<AppState>,
    caller: Caller,
    Params(query): Params<PartnerQuery>,
) -> ApiResult<Json<Count>> {
    let (filter, _) = query.filter()?;
    Ok(Json(ops::count_partner_information(&state.app, &caller, &filter).await?))
}

#[utoipa::path(
    get,
    path = "/api/v1/partner-information/{id}",
    operation_id = "getPartnerInformation",
    tag = "partner-information",
    summary = "One item / 詳細",
    params(("id" = String, Path, description = "The item's id / ID")),
    responses((status = 200, description = "OK", body = PartnerView)),
)]
pub async fn get_partner_information(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<PartnerView>> {
    Ok(Json(ops::get_partner_information(&state.app, &caller, &id).await?))
}

#[utoipa::path(
    post,
    path = "/api/v1/partner-information/{id}/follow-ups",
    operation_id = "createPartnerFollowUp",
    tag = "partner-information",
    summary = "The sender follows it up (-2, -3 …) / 続報",
    description = "The fields given replace the previous ones; at least one must change. The coordinator's shares carry over where the new TLP still allows them.",
    request_body(content = PartnerInput, content_type = "application/json"),
    params(("id" = String, Path, description = "The item's id / ID")),
    responses(
        (status = 201, description = "OK", body = PartnerView),
        (status = 403, description = "the caller's role may not do this / 権限がありません", body = ErrorBody),
        (status = 422, description = "refused: the error names the field and the reason / 入力誤り", body = ErrorBody),
    ),
)]
pub async fn create_partner_follow_up(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<PartnerInput>,
) -> ApiResult<(StatusCode, Json<PartnerView>)> {
    Ok((StatusCode::CREATED, Json(ops::create_partner_follow_up(&state.app, &caller, &id, input).await?)))
}

#[utoipa::path(
    post,
    path = "/api/v1/partner-information/{id}/shares",
    operation_id = "sharePartnerInformation",
    tag = "partner-information",
    summary = "The coordinator shares it inside its TLP / 共有",
    description = "The coordinator's CIP desk shares with organisations inside the ceiling: AMBER the concerned sectors' ministries, CEPTOARs and operators (and the analysis partners), GREEN and beyond the community; RED and AMBER+STRICT nobody. Those it reaches never learn who sent it. All or nothing.",
    request_body(content = ShareRequest, content_type = "application/json"),
    params(("id" = String, Path, description = "The item's id / ID")),
    responses(
        (status = 200, description = "OK", body = PartnerView),
        (status = 403, description = "the caller's role may not do this / 権限がありません", body = ErrorBody),
        (status = 409, description = "every organisation named reads it already / 共有済み", body = ErrorBody),
    ),
)]
pub async fn share_partner_information(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(request): JsonBody<ShareRequest>,
) -> ApiResult<Json<PartnerView>> {
    Ok(Json(ops::share_partner_information(&state.app, &caller, &id, request).await?))
}
