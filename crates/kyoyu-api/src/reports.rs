//! The reporting chain (情報連絡, domain.md §6-§7): file, read, forward, follow up, share,
//! disclosure consent and publication.

use crate::error::{ApiError, ApiResult};
use crate::extract::{Caller, JsonBody};
use crate::query::{unknown_parameter, Page};
use crate::view;
use crate::world::{Hop, World};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use kyoyu_domain::anonymise::Removal;
use kyoyu_domain::codes::{EventType, OrgKind, ReportStatus, Route};
use kyoyu_domain::identifier::{chain_identifier, numbering_year};
use kyoyu_domain::report::{ReportContent, ReportInput};
use kyoyu_domain::{FieldError, Tlp, ValidationErrors};
use kyoyu_store::{new_id, now, ChainRow, NewRendition, ReportFilter, ReportRow, Tx, MAX_PAGE};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;

/// Loads a rendition the caller may read, inside the write's transaction; 404 otherwise,
/// whatever the reason, so a write by id reveals nothing either.
async fn readable(tx: &mut Tx, caller: &Caller, id: &str) -> ApiResult<ReportRow> {
    let row = tx.get_report(&caller.scope(), id).await?.ok_or(ApiError::NotFound)?;
    // Whatever this write records about an anonymised chain is concealed from others.
    if let Some(c) = row.chain.concealed() {
        tx.conceal(c);
    }
    Ok(row)
}

/// Answers with the rendition as the caller now sees it.
async fn respond(state: &AppState, caller: &Caller, id: &str) -> ApiResult<Value> {
    let row = state.store.get_report(&caller.scope(), id).await?.ok_or(ApiError::NotFound)?;
    Ok(view::report(&row, Some(caller.org_id())))
}

/// Where a new rendition sits: its chain, its report's sequence, the rendition it forwards,
/// and the ends of its hop.
struct Placement<'a> {
    chain: &'a ChainRow,
    sequence: i64,
    parent_id: Option<&'a str>,
    hop: Hop<'a>,
}

/// Inserts one hop with exactly the readers the policy grants, and numbers the chain on the
/// coordinator's first receipt.
async fn insert_hop(
    tx: &mut Tx,
    world: &World,
    at: Placement<'_>,
    content: ReportContent,
    caller: &Caller,
) -> ApiResult<String> {
    let Placement { chain, sequence, parent_id, hop } = at;
    let mut content = content;
    content.service_level_evaluation = world.evaluate_service_level(&content);
    let identifies_operator = chain.route == Route::Anonymised && content.operator_name.is_some();
    let grants = kyoyu_policy::access_grants(&world.facts(hop, &content, &[]), world.facts_of());
    let rendition = NewRendition {
        id: new_id(),
        chain_id: chain.id.clone(),
        sequence,
        parent_id: parent_id.map(str::to_string),
        sender_org_id: hop.sender.to_string(),
        receiver_org_id: hop.receiver.to_string(),
        identifies_operator,
        content,
        created_by: caller.user.id.clone(),
        created_at: now(),
    };
    tx.insert_rendition(&rendition, &grants).await?;
    let identifier = if Some(hop.receiver) == world.coordinator().ok() {
        Some(assign_identifier(tx, chain).await?)
    } else {
        chain.identifier.clone()
    };
    tx.defer_rendition_objects(&rendition.id, identifier.as_deref()).await?;
    Ok(rendition.id)
}

/// The chain's identifier, given on the coordinator's first receipt; exercises have their
/// own series (E…).
async fn assign_identifier(tx: &mut Tx, chain: &ChainRow) -> ApiResult<String> {
    let chain_id = chain.id.as_str();
    if let Some(identifier) = tx.chain_identifier(chain_id).await? {
        return Ok(identifier);
    }
    let year = numbering_year(chrono::Utc::now());
    let prefix = if chain.exercise { 'E' } else { 'R' };
    let seq = tx.next_counter(&prefix.to_string(), year).await?;
    let identifier = chain_identifier(prefix, year, seq);
    tx.assign_chain_identifier(chain_id, &identifier).await?;
    tx.audit("report.number", "chain", chain_id, json!({"identifier": identifier})).await?;
    Ok(identifier)
}

fn check_extras(world: &World, content: &ReportContent, errors: &mut ValidationErrors) {
    for (i, id) in content.extra_recipient_org_ids.iter().enumerate() {
        if world.org(id).is_none() {
            errors.push(FieldError::new(
                format!("extra_recipient_org_ids[{i}]"),
                format!("組織 {id} は登録されていません"),
                format!("organisation {id} does not exist"),
            ));
        }
    }
}

/// Relays only tighten: a named recipient of a forward must lie inside the ceiling of the
/// rendition the relay received (its own named recipients included).
fn check_relay_extras(
    world: &World,
    content: &ReportContent,
    received: &kyoyu_policy::RenditionFacts,
    errors: &mut ValidationErrors,
) {
    for (i, id) in content.extra_recipient_org_ids.iter().enumerate() {
        let Some(org) = world.org(id) else { continue };
        if let Err(e) = kyoyu_policy::check_named_recipient(&org.facts(), received) {
            errors.push(FieldError { field: format!("extra_recipient_org_ids[{i}]"), ..e });
        }
    }
}

/// Files the first hops of one report of a chain (第n報) along the chain's route.
async fn file_report(
    tx: &mut Tx,
    world: &World,
    chain: &ChainRow,
    sequence: i64,
    mut content: ReportContent,
    caller: &Caller,
) -> ApiResult<Vec<String>> {
    let mut errors = ValidationErrors::default();
    if content.sector != chain.sector {
        errors.push(FieldError::new(
            "sector",
            "自組織の分野を指定してください",
            "must be the sector of your organisation",
        ));
    }
    check_extras(world, &content, &mut errors);
    errors.into_result(())?;
    if content.operator_name.as_deref().is_none_or(|n| n.trim().is_empty()) {
        content.operator_name = Some(caller.org.name_ja.clone());
    }
    let receivers = world.first_receivers(chain.route, &chain.sector)?;
    let mut ids = Vec::new();
    for receiver in &receivers {
        let hop = Hop { sender: caller.org_id(), receiver, originator: &chain.originator_org_id };
        let at = Placement { chain, sequence, parent_id: None, hop };
        ids.push(insert_hop(tx, world, at, content.clone(), caller).await?);
    }
    tx.audit(
        "report.file",
        "report",
        &ids[0],
        json!({"chain_id": chain.id, "sequence": sequence, "renditions": ids, "receivers": receivers}),
    )
    .await?;
    Ok(ids)
}

pub async fn create_report(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(input): JsonBody<ReportInput>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    if caller.org.kind != OrgKind::Operator {
        return Err(ApiError::forbidden("報告を作成できるのは重要インフラ事業者等です", "only operators file reports"));
    }
    let new = input.into_new_report()?;
    let mut tx = state.store.begin(caller.actor()).await?;
    let world = World::current(&state.world, &mut tx).await?;
    let chain = ChainRow {
        id: new_id(),
        route: new.route,
        statutory: new.statutory,
        exercise: new.exercise,
        sector: caller.org.sector.clone().unwrap_or_default(),
        originator_org_id: caller.org.id.clone(),
        secretariat_org_id: (new.route == Route::Anonymised)
            .then(|| world.ceptoar_of(&new.content.sector).map(str::to_string))
            .flatten(),
        identifier: None,
        disclosure_consent_at: None,
        disclosure_consent_by: None,
        created_at: now(),
    };
    tx.insert_chain(&chain).await?;
    if let Some(c) = chain.concealed() {
        tx.conceal(c);
    }
    let ids = file_report(&mut tx, &world, &chain, 1, new.content, &caller).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(respond(&state, &caller, &ids[0]).await?)))
}

pub async fn create_follow_up(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(mut input): JsonBody<ReportInput>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let mut tx = state.store.begin(caller.actor()).await?;
    let row = readable(&mut tx, &caller, &id).await?;
    let chain = row.chain.clone();
    if chain.originator_org_id != caller.org.id {
        return Err(ApiError::forbidden(
            "続報を作成できるのは最初に報告した事業者です",
            "only the operator that filed the first report files follow-ups",
        ));
    }
    let mut errors = ValidationErrors::default();
    for (field, differs) in [
        ("route", input.route.is_some_and(|r| r != chain.route)),
        ("statutory", input.statutory.is_some_and(|s| s != chain.statutory)),
        ("exercise", input.exercise.is_some_and(|s| s != chain.exercise)),
    ] {
        if differs {
            errors.push(FieldError::new(
                field,
                "続報は第1報と同じ経路で送ります",
                "a follow-up takes the route of the first report",
            ));
        }
    }
    errors.into_result(())?;
    input.route = Some(chain.route);
    input.statutory = Some(chain.statutory);
    input.exercise = Some(chain.exercise);
    input.sector.get_or_insert_with(|| chain.sector.clone());
    let new = input.into_new_report()?;
    let world = World::current(&state.world, &mut tx).await?;
    // Concurrent follow-ups of one chain number themselves one after the other.
    tx.lock_chain(&chain.id).await?;
    let sequence = tx.max_sequence(&chain.id).await? + 1;
    let ids = file_report(&mut tx, &world, &chain, sequence, new.content, &caller).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(respond(&state, &caller, &ids[0]).await?)))
}

/// The rendition a forward would send, with what scrubbing removed.
struct Forward {
    receiver: String,
    content: ReportContent,
    removed: Vec<Removal>,
}

async fn prepare_forward(
    tx: &mut Tx,
    world: &World,
    caller: &Caller,
    row: &ReportRow,
    edits: ReportInput,
) -> ApiResult<Forward> {
    if row.receiver_org_id != caller.org.id {
        return Err(ApiError::forbidden(
            "転送できるのはこの報告の受信者です",
            "only the receiver of this report may forward it",
        ));
    }
    kyoyu_policy::check_relay_officer(&caller.principal)?;
    if row.status == ReportStatus::Forwarded {
        return Err(ApiError::conflict("この報告は転送済みです", "this report has already been forwarded"));
    }
    let receiver = world.next_receiver(&row.receiver_org_id, &row.content.sector)?;
    let contact = edits.sender_contact.clone();
    let mut content = edits.apply_to(&row.content)?;
    // The sender block names whoever sends this hop, never the previous sender.
    content.sender_contact = contact;
    let mut errors = ValidationErrors::default();
    check_extras(world, &content, &mut errors);
    let shared = tx.shares_of(&row.id).await?;
    check_relay_extras(world, &content, &world.row_facts(row, &shared), &mut errors);
    errors.into_result(())?;
    let mut removed = Vec::new();
    if row.chain.anonymous_originator().is_some() {
        removed = world.chain_scrubber(tx, &row.chain).await?.scrub(&mut content);
        // A member of the anonymity set named as a recipient could point back at the operator.
        content.extra_recipient_org_ids.retain(|id| !world.in_anonymity_set(id, &row.chain));
    }
    Ok(Forward { receiver, content, removed })
}

pub async fn forward_report(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(edits): JsonBody<ReportInput>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let mut tx = state.store.begin(caller.actor()).await?;
    let row = readable(&mut tx, &caller, &id).await?;
    let world = World::current(&state.world, &mut tx).await?;
    let fwd = prepare_forward(&mut tx, &world, &caller, &row, edits).await?;
    // Concurrent forwards of one rendition: the first to mark it acts, the others answer 409.
    if !tx.claim_forward(&row.id).await? {
        return Err(ApiError::already_done());
    }
    let hop = Hop { sender: caller.org_id(), receiver: &fwd.receiver, originator: &row.chain.originator_org_id };
    let new_id = insert_hop(
        &mut tx,
        &world,
        Placement { chain: &row.chain, sequence: row.sequence, parent_id: Some(&row.id), hop },
        fwd.content,
        &caller,
    )
    .await?;
    tx.audit(
        "report.forward",
        "report",
        &new_id,
        json!({"from": row.id, "receiver": fwd.receiver, "removed_count": fwd.removed.len()}),
    )
    .await?;
    tx.commit().await?;
    let mut out = respond(&state, &caller, &new_id).await?;
    out["removed"] = view::removals(&fwd.removed);
    Ok((StatusCode::CREATED, Json(out)))
}

/// What a forward would send, without sending it: the secretariat checks the scrubbing.
pub async fn preview_forward(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(edits): JsonBody<ReportInput>,
) -> ApiResult<Json<Value>> {
    let mut tx = state.store.begin(caller.actor()).await?;
    let row = readable(&mut tx, &caller, &id).await?;
    let world = World::current(&state.world, &mut tx).await?;
    let fwd = prepare_forward(&mut tx, &world, &caller, &row, edits).await?;
    // Nothing is written but the audit entry of reading a secret item.
    if row.content.tlp.needs_need_to_know() {
        tx.audit("report.preview", "report", &row.id, json!({})).await?;
        tx.commit().await?;
    }
    Ok(Json(json!({
        "receiver_org_id": fwd.receiver,
        "rendition": fwd.content,
        "removed": view::removals(&fwd.removed),
    })))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShareBody {
    org_ids: Option<Vec<String>>,
}

pub async fn share_report(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<ShareBody>,
) -> ApiResult<Json<Value>> {
    let targets = body.org_ids.filter(|ids| !ids.is_empty()).ok_or_else(|| FieldError::required("org_ids"))?;
    let mut tx = state.store.begin(caller.actor()).await?;
    let row = readable(&mut tx, &caller, &id).await?;
    // Concurrent shares of one rendition compute its readers one after the other.
    tx.lock_report(&row.id).await?;
    let world = World::current(&state.world, &mut tx).await?;
    let mut shared = tx.shares_of(&row.id).await?;
    {
        let facts = world.row_facts(&row, &shared);
        let mut errors = ValidationErrors::default();
        for target in &targets {
            let result = match world.org(target) {
                None => Err(FieldError::new(
                    "org_ids",
                    format!("組織 {target} は登録されていません"),
                    format!("organisation {target} does not exist"),
                )),
                Some(org) => {
                    kyoyu_policy::check_share(&caller.principal, &org.facts(), &facts, row.identifies_operator)
                }
            };
            if let Err(e) = result {
                errors.push(e);
            }
        }
        // All or nothing: one refused receiver refuses the share.
        errors.into_result(())?;
    }
    let at = now();
    let mut added = 0;
    for target in &targets {
        added += usize::from(tx.insert_share(&row.id, target, caller.org_id(), &at).await?);
    }
    if added == 0 {
        return Err(ApiError::already_done());
    }
    shared.extend(targets.iter().cloned());
    shared.sort();
    shared.dedup();
    let grants = kyoyu_policy::access_grants(&world.row_facts(&row, &shared), world.facts_of());
    tx.replace_access(&row.id, &grants).await?;
    tx.audit("report.share", "report", &row.id, json!({"org_ids": targets})).await?;
    tx.commit().await?;
    Ok(Json(json!({"report_id": row.id, "shared_with": targets})))
}

pub async fn record_disclosure_consent(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let mut tx = state.store.begin(caller.actor()).await?;
    let row = readable(&mut tx, &caller, &id).await?;
    if row.chain.originator_org_id != caller.org.id {
        return Err(ApiError::forbidden(
            "開示への同意は報告した事業者が行います",
            "only the operator that reported may consent to disclosure",
        ));
    }
    kyoyu_policy::check_relay_officer(&caller.principal)?;
    tx.set_disclosure_consent(&row.chain.id, &now(), &caller.user.id).await?;
    tx.audit("report.disclosure_consent", "chain", &row.chain.id, json!({"report_id": row.id})).await?;
    tx.commit().await?;
    Ok(Json(respond(&state, &caller, &id).await?))
}

/// Publishes a WHITE or CLEAR rendition to everyone: only the coordinator, and only with the
/// originator's consent (domain.md §6 Handling; §7 WHITE).
pub async fn publish_report(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let mut tx = state.store.begin(caller.actor()).await?;
    let row = readable(&mut tx, &caller, &id).await?;
    if caller.org.kind != OrgKind::Coordinator {
        return Err(ApiError::forbidden("公開できるのは調整機関です", "only the coordinator publishes"));
    }
    kyoyu_policy::check_relay_officer(&caller.principal)?;
    let mut errors = ValidationErrors::default();
    if !matches!(row.content.tlp, Tlp::White | Tlp::Clear) {
        errors.push(FieldError::new(
            "tlp",
            "公開できるのは TLP:WHITE／CLEAR の報告だけです",
            "only TLP:WHITE or CLEAR reports may be published",
        ));
    }
    if row.chain.disclosure_consent_at.is_none() {
        errors.push(FieldError::new(
            "disclosure_consent",
            "報告した事業者の開示同意がありません",
            "the reporting operator has not consented to disclosure",
        ));
    }
    if row.identifies_operator {
        errors.push(FieldError::new(
            "operator_name",
            "匿名化前の報告は公開できません",
            "this rendition identifies an anonymous operator",
        ));
    }
    errors.into_result(())?;
    tx.set_published(&row.id, &now()).await?;
    tx.audit("report.publish", "report", &row.id, json!({})).await?;
    tx.commit().await?;
    Ok(Json(respond(&state, &caller, &id).await?))
}

/// Records reads of RED and AMBER items in the audit log.
async fn audit_secret_reads(state: &AppState, caller: &Caller, rows: &[ReportRow], action: &str) -> ApiResult<()> {
    let secret: Vec<&ReportRow> = rows.iter().filter(|r| r.content.tlp.needs_need_to_know()).collect();
    // One read of an anonymised chain conceals the entry: who read it would tell who filed.
    let concealed = secret.iter().find_map(|r| r.chain.concealed());
    let ids: Vec<&str> = secret.iter().map(|r| r.id.as_str()).collect();
    crate::query::audit_secret_reads(state, caller, action, "report", &ids, concealed).await
}

pub async fn get_report(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let row = state.store.get_report(&caller.scope(), &id).await?.ok_or(ApiError::NotFound)?;
    audit_secret_reads(&state, &caller, std::slice::from_ref(&row), "report.read").await?;
    Ok(Json(view::report(&row, Some(caller.org_id()))))
}

/// Parses the list filters; an unknown code or parameter answers 422 naming it.
fn parse_filter(params: &HashMap<String, String>) -> ApiResult<(ReportFilter, Page)> {
    let mut f = ReportFilter::default();
    let mut errors = ValidationErrors::default();
    let mut page = Page::default();
    for (key, value) in params {
        if page.take(key, value, &mut errors) {
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
) -> ApiResult<Json<Value>> {
    let (filter, Page { limit, offset }) = parse_filter(&params)?;
    let rows = state.store.list_reports(&caller.scope(), &filter, limit, offset).await?;
    audit_secret_reads(&state, &caller, &rows, "report.list").await?;
    let items: Vec<Value> = rows.iter().map(|r| view::report(r, Some(caller.org_id()))).collect();
    Ok(Json(json!({"items": items, "limit": limit, "offset": offset})))
}

pub async fn count_reports(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let (filter, _) = parse_filter(&params)?;
    let count = state.store.count_reports(&caller.scope(), &filter).await?;
    Ok(Json(json!({"count": count})))
}

/// Published reports, for anyone, no log-in needed.
pub async fn list_published(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    let rows = state.store.list_published(MAX_PAGE, 0).await?;
    let items: Vec<Value> = rows.iter().map(|r| view::report(r, None)).collect();
    Ok(Json(json!({"items": items})))
}
