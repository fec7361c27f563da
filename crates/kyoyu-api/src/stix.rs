//! STIX in the JSON API: a reader can take an item's bundle, see what correlates with it, and
//! bring in bundles from outside. Reads go through the same policy rows as the items
//! themselves; what is kept as STIX, and when, is `kyoyu_app::stix`.

use crate::error::{ApiResult, ErrorBody};
use crate::extract::Caller;
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use kyoyu_app::exchange;
use kyoyu_app::views::{BundleType, Correlations, Imported, StixBundle};
use kyoyu_store::ItemRef;
use serde::Deserialize;
use serde_json::Value;

#[utoipa::path(
    get,
    path = "/api/v1/reports/{id}/stix",
    operation_id = "getReportStix",
    tag = "stix",
    summary = "The rendition as a STIX 2.1 bundle / 報告の STIX 出力",
    description = "incident, report, indicators, observed data, vulnerabilities, identities (never an anonymised operator) and relationships, as the caller may read them.",
    params(("id" = String, Path, description = "The item's id / ID")),
    responses((status = 200, description = "OK", body = StixBundle)),
)]
pub async fn report_bundle(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<StixBundle>> {
    Ok(Json(exchange::item_bundle(&state.app, &caller, ItemRef::Report(&id)).await?))
}

#[utoipa::path(
    get,
    path = "/api/v1/advisories/{id}/stix",
    operation_id = "getAdvisoryStix",
    tag = "stix",
    summary = "The advisory as a STIX 2.1 bundle / 情報提供の STIX 出力",
    params(("id" = String, Path, description = "The item's id / ID")),
    responses((status = 200, description = "OK", body = StixBundle)),
)]
pub async fn advisory_bundle(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<StixBundle>> {
    Ok(Json(exchange::item_bundle(&state.app, &caller, ItemRef::Advisory(&id)).await?))
}

/// What else the caller may read that names the same indicators as a report they may read.
#[utoipa::path(
    get,
    path = "/api/v1/reports/{id}/correlations",
    operation_id = "getReportCorrelations",
    tag = "stix",
    summary = "What else names the same indicators / 相関",
    description = "Objects in any collection (other reports, advisories, external information) that name an IP, domain, URL, hash, e-mail address or CVE id this report names; only those the caller may read.",
    params(("id" = String, Path, description = "The item's id / ID")),
    responses((status = 200, description = "OK", body = Correlations)),
)]
pub async fn report_correlations(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Correlations>> {
    Ok(Json(exchange::report_correlations(&state.app, &caller, &id).await?))
}

/// A STIX 2.1 bundle offered for import: its envelope is checked here, each object by the
/// STIX rules of `kyoyu_stix` (the 422 names the bad property's path).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct StixBundleInput {
    // Read only to refuse anything but a bundle, and to document the envelope.
    #[serde(rename = "type")]
    #[allow(dead_code)]
    kind: BundleType,
    #[allow(dead_code)]
    id: Option<String>,
    objects: Vec<serde_json::Map<String, Value>>,
}

/// Brings a STIX 2.1 bundle into the external collection. All or nothing: the first bad
/// object answers 422 with the path of its bad property, and nothing is kept.
#[utoipa::path(
    post,
    path = "/api/v1/stix/bundles",
    operation_id = "importStixBundle",
    tag = "stix",
    summary = "Bring in a STIX 2.1 bundle from outside / 外部情報の取り込み",
    description = "All or nothing. Each object's TLP marking decides who may read it here: WHITE, CLEAR and GREEN the community; AMBER, AMBER+STRICT and unmarked objects the importing organisation's need-to-know users; RED the importing user. The first bad object answers 422 with the path of its bad property (e.g. objects[2].pattern), and nothing is kept.",
    request_body(content = StixBundleInput, content_type = "application/json"),
    responses((status = 201, description = "OK", body = Imported), (status = 403, description = "the caller's role may not do this / 権限がありません", body = ErrorBody)),
)]
pub async fn import_bundle(
    State(state): State<AppState>,
    caller: Caller,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<Imported>)> {
    let bundle: StixBundleInput = crate::extract::parse_json(&body)?;
    let objects: Vec<Value> = bundle.objects.into_iter().map(Value::Object).collect();
    Ok((StatusCode::CREATED, Json(exchange::import_bundle(&state.app, &caller, objects).await?)))
}
