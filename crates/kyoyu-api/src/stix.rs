//! STIX in the JSON API: a reader can take an item's bundle, see what correlates with it, and
//! bring in bundles from outside. Reads go through the same policy rows as the items
//! themselves; what is kept as STIX, and when, is `kyoyu_app::stix`.

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::Caller;
use crate::taxii::{self, EXTERNAL};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use kyoyu_app::views::{BundleType, Correlation, Correlations, Imported, StixBundle};
use kyoyu_store::{ItemRef, StixRow};
use serde::Deserialize;
use serde_json::{json, Value};

/// The item's objects with the definitions they refer to. A marking definition goes in only
/// where an object carries it: importers such as MISP's misp-stix tag the whole event with
/// every TLP definition a bundle holds.
fn bundle_of(rows: &[StixRow]) -> StixBundle {
    type Object = serde_json::Map<String, Value>;
    let mut objects: Vec<Object> = rows.iter().filter_map(|r| serde_json::from_str(&r.body).ok()).collect();
    let used: std::collections::HashSet<String> = objects
        .iter()
        .flat_map(|o| o["object_marking_refs"].as_array().cloned().unwrap_or_default())
        .filter_map(|m| m.as_str().map(str::to_string))
        .collect();
    let definitions = kyoyu_stix::extension::definitions().into_iter().filter_map(|o| match o.body {
        Value::Object(d) => Some(d),
        _ => None,
    });
    objects.extend(
        definitions
            .filter(|d| d["type"] != "marking-definition" || d["id"].as_str().is_some_and(|id| used.contains(id))),
    );
    StixBundle::new(objects)
}

async fn item_bundle(state: &AppState, caller: &Caller, item: ItemRef<'_>) -> ApiResult<Json<StixBundle>> {
    kyoyu_app::stix::catch_up(&state.app, caller).await?;
    let rows = state.store.stix_of_item(&caller.scope(), item).await?;
    if rows.is_empty() {
        return Err(ApiError::NOT_FOUND);
    }
    taxii::audit_secret_reads(state, caller, &rows).await?;
    Ok(Json(bundle_of(&rows)))
}

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
    item_bundle(&state, &caller, ItemRef::Report(&id)).await
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
    item_bundle(&state, &caller, ItemRef::Advisory(&id)).await
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
    let item = ItemRef::Report(&id);
    if state.store.get_report(&caller.scope(), &id).await?.is_none() {
        return Err(ApiError::NOT_FOUND);
    }
    kyoyu_app::stix::catch_up(&state.app, &caller).await?;
    let values = state.store.stix_values_of_item(item).await?;
    let found = state.store.stix_correlations(&caller.scope(), &values, item, 200).await?;
    let items = found
        .into_iter()
        .map(|(value, collection, r)| Correlation {
            value,
            collection,
            object: serde_json::from_str(&r.body).unwrap_or_default(),
            id: r.stix_id,
            kind: r.kind,
            version: r.version,
            tlp: r.tlp,
        })
        .collect();
    Ok(Json(Correlations { values, items }))
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
    if !kyoyu_policy::may_import(caller.principal()) {
        return Err(ApiError::forbidden(
            "外部情報を取り込めるのは組織の担当者です",
            "only an organisation's officers may bring in outside information",
        ));
    }
    let bundle: StixBundleInput = crate::extract::parse_json(&body)?;
    let objects: Vec<Value> = bundle.objects.into_iter().map(Value::Object).collect();
    let mut tx = state.store.begin(caller.actor()).await?;
    let outcome = taxii::offer_objects(&mut tx, &caller, EXTERNAL, &objects).await?;
    if let Some(problem) = outcome.problems.into_iter().next() {
        return Err(problem.into());
    }
    tx.audit("stix.import", "collection", EXTERNAL, json!({ "objects": outcome.successes.len() })).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(Imported { collection: EXTERNAL.to_string(), added: outcome.successes })))
}
