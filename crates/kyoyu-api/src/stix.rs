//! STIX in the JSON API: a reader can take an item's bundle, see what correlates with it, and
//! bring in bundles from outside. Reads go through the same policy rows as the items
//! themselves; what is kept as STIX, and when, is `kyoyu_app::stix`.

use crate::error::{ApiError, ApiResult};
use crate::extract::Caller;
use crate::taxii::{self, EXTERNAL};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use kyoyu_store::{ItemRef, StixRow};
use serde_json::{json, Value};

/// The item's objects with the definitions they refer to. A marking definition goes in only
/// where an object carries it: importers such as MISP's misp-stix tag the whole event with
/// every TLP definition a bundle holds.
fn bundle_of(rows: &[StixRow]) -> Value {
    let mut objects: Vec<Value> = rows.iter().filter_map(|r| serde_json::from_str(&r.body).ok()).collect();
    let used: std::collections::HashSet<String> = objects
        .iter()
        .flat_map(|o| o["object_marking_refs"].as_array().cloned().unwrap_or_default())
        .filter_map(|m| m.as_str().map(str::to_string))
        .collect();
    let definitions = kyoyu_stix::extension::definitions().into_iter().map(|o| o.body);
    objects.extend(
        definitions
            .filter(|d| d["type"] != "marking-definition" || d["id"].as_str().is_some_and(|id| used.contains(id))),
    );
    kyoyu_stix::bundle(objects.iter())
}

async fn item_bundle(state: &AppState, caller: &Caller, item: ItemRef<'_>) -> ApiResult<Json<Value>> {
    kyoyu_app::stix::catch_up(&state.app, caller).await?;
    let rows = state.store.stix_of_item(&caller.scope(), item).await?;
    if rows.is_empty() {
        return Err(ApiError::NotFound);
    }
    taxii::audit_secret_reads(state, caller, &rows).await?;
    Ok(Json(bundle_of(&rows)))
}

pub async fn report_bundle(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    item_bundle(&state, &caller, ItemRef::Report(&id)).await
}

pub async fn advisory_bundle(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    item_bundle(&state, &caller, ItemRef::Advisory(&id)).await
}

/// What else the caller may read that names the same indicators as a report they may read.
pub async fn report_correlations(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let item = ItemRef::Report(&id);
    if state.store.get_report(&caller.scope(), &id).await?.is_none() {
        return Err(ApiError::NotFound);
    }
    kyoyu_app::stix::catch_up(&state.app, &caller).await?;
    let values = state.store.stix_values_of_item(item).await?;
    let found = state.store.stix_correlations(&caller.scope(), &values, item, 200).await?;
    let items: Vec<Value> = found
        .iter()
        .map(|(value, collection, r)| {
            json!({
                "value": value,
                "collection": collection,
                "id": r.stix_id,
                "type": r.kind,
                "version": r.version,
                "tlp": r.tlp.map(|t| t.code()),
                "object": serde_json::from_str::<Value>(&r.body).unwrap_or(Value::Null),
            })
        })
        .collect();
    Ok(Json(json!({ "values": values, "items": items })))
}

/// Brings a STIX 2.1 bundle into the external collection. All or nothing: the first bad
/// object answers 422 with the path of its bad property, and nothing is kept.
pub async fn import_bundle(
    State(state): State<AppState>,
    caller: Caller,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<Value>)> {
    if !kyoyu_policy::may_import(&caller.principal) {
        return Err(ApiError::forbidden(
            "外部情報を取り込めるのは組織の担当者です",
            "only an organisation's officers may bring in outside information",
        ));
    }
    let v: Value = serde_json::from_slice(&body).map_err(|e| ApiError::Malformed(e.to_string()))?;
    if v.get("type").and_then(Value::as_str) != Some("bundle") {
        return Err(ApiError::field("type", "bundle でなければなりません", "must be bundle"));
    }
    let objects = taxii::objects_of(&body)?;
    let mut tx = state.store.begin(caller.actor()).await?;
    let outcome = taxii::offer_objects(&mut tx, &caller, EXTERNAL, &objects).await?;
    if let Some(problem) = outcome.problems.into_iter().next() {
        return Err(problem.into());
    }
    tx.audit("stix.import", "collection", EXTERNAL, json!({ "objects": outcome.successes.len() })).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(json!({ "collection": EXTERNAL, "added": outcome.successes }))))
}
