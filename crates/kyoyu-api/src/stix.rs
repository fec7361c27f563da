//! STIX in the JSON API: every report rendition and advisory is kept as STIX objects when it
//! is written; a reader can take an item's bundle, see what correlates with it, and bring in
//! bundles from outside. Reads go through the same policy rows as the items themselves.

use crate::error::{ApiError, ApiResult};
use crate::extract::Caller;
use crate::taxii::{self, ADVISORIES, DEFINITIONS, EXTERNAL, REPORTS};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use kyoyu_app::world::World;
use kyoyu_domain::advisory::AdvisoryDraft;
use kyoyu_policy::ReadScope;
use kyoyu_stix::{OrgRef, StixObject};
use kyoyu_store::{
    AdvisoryRow, BackgroundTask, ItemRef, ObjectsOf, StixQuery, StixRow, Store, Tx, VersionMatch, WaitingRendition,
};
use serde_json::{json, Value};
use std::collections::HashSet;
use std::time::Duration;

fn org_ref<'a>(world: &'a World, id: &str) -> Option<OrgRef<'a>> {
    world.org(id).map(|o| OrgRef { id: &o.id, name: &o.name_ja })
}

/// Most renditions one round makes objects for, in one transaction.
const ROUND: i64 = 256;

/// How long a STIX read waits for renditions another process is making objects for.
const CATCH_UP_PATIENCE: Duration = Duration::from_secs(5);

/// The STIX objects of one rendition. The operator of an anonymised chain is never named.
fn rendition_objects(world: &World, waiting: &WaitingRendition) -> Vec<StixObject> {
    let r = &waiting.report;
    let named = |org: &str| if r.chain.anonymous_originator() == Some(org) { None } else { org_ref(world, org) };
    let facts = kyoyu_stix::RenditionFacts {
        rendition_id: &r.id,
        identifier: waiting.identifier.as_deref(),
        sequence: r.sequence,
        route: r.chain.route,
        statutory: r.chain.statutory,
        sender: named(&r.sender_org_id),
        receiver: named(&r.receiver_org_id),
        content: &r.content,
        created_at: &r.created_at,
    };
    kyoyu_stix::rendition_objects(&facts)
}

/// Makes the objects of up to [`ROUND`] renditions waiting for them (with a scope, only those
/// it may read), in one transaction, and answers how many this process made. Their
/// `date_added` is now: a TAXII client polling with `added_after` sees them whenever they come.
pub async fn make_waiting_objects(state: &AppState, scope: Option<&ReadScope>) -> ApiResult<usize> {
    let waiting = state.store.waiting_renditions(scope, ROUND).await?;
    if waiting.is_empty() {
        return Ok(0);
    }
    let mut tx = state.store.begin(kyoyu_store::Actor::default()).await?;
    let world = state.app.world(&mut tx).await?;
    let seqs: Vec<i64> = waiting.iter().map(|w| w.seq).collect();
    let claimed: HashSet<i64> = tx.claim_waiting(&seqs).await?.into_iter().collect();
    let date_added = kyoyu_store::now();
    for w in waiting.iter().filter(|w| claimed.contains(&w.seq)) {
        let made = ObjectsOf {
            collection: REPORTS,
            item: ItemRef::Report(&w.report.id),
            tlp: w.report.content.tlp,
            date_added: &date_added,
            objects: rendition_objects(&world, w),
        };
        tx.insert_item_objects(made).await?;
    }
    tx.commit().await?;
    Ok(claimed.len())
}

/// Before a STIX read, makes the waiting objects of every report the caller may read, so it
/// sees them all; others' waiting renditions are left to the follower, so the read's time
/// tells nothing of what others filed. Renditions another process is taking are waited for a
/// while; past that the read goes on without them.
pub async fn catch_up(state: &AppState, caller: &Caller) -> ApiResult<()> {
    let scope = caller.scope();
    let deadline = tokio::time::Instant::now() + CATCH_UP_PATIENCE;
    loop {
        if make_waiting_objects(state, Some(&scope)).await? > 0 {
            continue;
        }
        if state.store.waiting_renditions(Some(&scope), 1).await?.is_empty() {
            return Ok(());
        }
        if tokio::time::Instant::now() > deadline {
            tracing::warn!("STIX objects of some renditions are still being made elsewhere");
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Makes waiting objects in the background, a round at a time, until the returned task is
/// dropped with the server.
pub fn spawn_follower(state: AppState) -> BackgroundTask {
    BackgroundTask::spawn(async move {
        loop {
            match make_waiting_objects(&state, None).await {
                Ok(n) if n as i64 == ROUND => continue,
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "making STIX objects of new renditions"),
            }
            tokio::time::sleep(FOLLOW_EVERY).await;
        }
    })
}

/// How often the follower looks for new renditions: often enough that TAXII clients see
/// new reports within a second, seldom enough that each round takes many.
const FOLLOW_EVERY: Duration = Duration::from_millis(250);

/// Keeps an advisory (as saved now) as STIX objects, replacing those of its earlier saves.
pub async fn keep_advisory(tx: &mut Tx, world: &World, a: &AdvisoryRow) -> ApiResult<()> {
    let identifier = tx.advisory_chain_identifier(&a.chain_id).await?;
    let author =
        org_ref(world, &a.author_org_id).ok_or_else(|| ApiError::Internal("advisory author unknown".into()))?;
    let saved_at = kyoyu_store::now();
    let facts = kyoyu_stix::AdvisoryFacts {
        advisory_id: &a.id,
        identifier: identifier.as_deref(),
        sequence: a.sequence,
        author,
        draft: &a.draft,
        status: a.status,
        created_at: &saved_at,
        issued_at: a.issued_at.as_deref(),
    };
    let objects = kyoyu_stix::advisory_objects(&facts);
    let made = ObjectsOf {
        collection: ADVISORIES,
        item: ItemRef::Advisory(&a.id),
        tlp: a.draft.tlp,
        date_added: &saved_at,
        objects,
    };
    tx.replace_item_objects(made).await?;
    Ok(())
}

/// Keeps kyoyu's own definitions (readable by every user) once, at start-up.
pub async fn install_definitions(store: &Store) -> ApiResult<()> {
    let mut tx = store.begin(kyoyu_store::Actor::default()).await?;
    let objects: Vec<StixObject> = kyoyu_stix::extension::definitions();
    tx.ensure_shared_objects(DEFINITIONS, &objects, &kyoyu_store::now(), &kyoyu_policy::definitions_audience()).await?;
    tx.commit().await?;
    Ok(())
}

/// Checks the STIX ids an advisory cites among its external sources: each must be an outside
/// object the author may read, and the advisory may not reach further than any of them.
pub async fn check_citations(tx: &mut Tx, caller: &Caller, draft: &AdvisoryDraft) -> ApiResult<()> {
    let mut errors = kyoyu_domain::ValidationErrors::default();
    for (i, cited) in draft.external_sources.iter().enumerate() {
        if !kyoyu_stix::import::is_stix_id(cited) {
            continue;
        }
        let field = format!("external_sources[{i}]");
        let q = StixQuery {
            collection: EXTERNAL.into(),
            ids: vec![cited.clone()],
            versions: VersionMatch { last: true, ..Default::default() },
            limit: 100,
            ..Default::default()
        };
        let rows = tx.stix_page(&caller.scope(), &q).await?;
        if rows.is_empty() {
            errors.push(kyoyu_domain::FieldError::new(
                &field,
                "外部情報にありません",
                "is not in the external information you may read",
            ));
        } else if let Some(t) = rows.iter().filter_map(|r| r.tlp).find(|t| !draft.tlp.keeps_or_tightens(*t)) {
            errors.push(kyoyu_domain::FieldError::new(
                &field,
                format!("引用元は TLP:{} です。情報提供の TLP をそれより広くできません", t.code()),
                format!("the cited object is TLP:{}; the advisory may not reach further", t.code()),
            ));
        }
    }
    errors.into_result(()).map_err(ApiError::from)
}

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
    catch_up(state, caller).await?;
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
    catch_up(&state, &caller).await?;
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
