//! Advisories (情報提供, domain.md §8): draft, sanitisation gate, scope rule with widening
//! consent, issue and relay hop by hop, acknowledgments, questions, notifications.

use crate::error::{ApiError, ApiResult};
use crate::extract::{Caller, JsonBody};
use crate::notify::{self, Notice};
use crate::query::{audit_secret_reads, unknown_parameter, Page};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use kyoyu_app::world::World;
use kyoyu_domain::advisory::{AdvisoryDraft, AdvisoryInput};
use kyoyu_domain::codes::{AckStatus, AdvisoryStatus, OrgKind, WideningStatus};
use kyoyu_domain::identifier::{chain_identifier, numbering_year, report_identifier};
use kyoyu_domain::FreeText;
use kyoyu_domain::{FieldError, Tlp, ValidationErrors};
use kyoyu_policy::{AdvisoryFacts, OrgFacts, SourceAllowance};
use kyoyu_store::{new_id, now, AckRow, AdvisoryFilter, AdvisoryRow, HopRow, QuestionRow, Tx};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;

async fn readable(tx: &mut Tx, caller: &Caller, id: &str) -> ApiResult<AdvisoryRow> {
    tx.get_advisory(&caller.scope(), id).await?.ok_or(ApiError::NotFound)
}

fn facts<'a>(world: &'a World, draft: &'a AdvisoryDraft, tlp: Tlp) -> ApiResult<AdvisoryFacts<'a>> {
    Ok(AdvisoryFacts { tlp, recipients: &draft.recipients, coordinator: world.coordinator()? })
}

/// Writes the readers the policy grants: the author, and every hop's receiver.
pub async fn regrant(tx: &mut Tx, world: &World, id: &str, draft: &AdvisoryDraft) -> ApiResult<()> {
    let hops: Vec<(String, Tlp)> = tx.all_hops(id).await?.into_iter().map(|h| (h.to_org_id, h.tlp)).collect();
    let grants = kyoyu_policy::advisory_grants(&facts(world, draft, draft.tlp)?, &hops, world.facts_of());
    tx.replace_advisory_access(id, &grants).await?;
    Ok(())
}

/// Recipients name a ministry with jurisdiction over the sector; sources are reports the
/// coordinator holds.
async fn check_draft(tx: &mut Tx, world: &World, caller: &Caller, d: &AdvisoryDraft) -> ApiResult<()> {
    kyoyu_app::stix::check_citations(tx, caller, d).await?;
    let mut errors = ValidationErrors::default();
    for (i, r) in d.recipients.iter().enumerate() {
        if world.sector(&r.sector).is_none() {
            errors.push(FieldError::unknown_code(&format!("recipients[{i}].sector"), &r.sector));
        } else if world.ministry_of(&r.sector) != Some(r.ministry_org_id.as_str()) {
            errors.push(FieldError::new(
                format!("recipients[{i}].ministry_org_id"),
                format!("この省庁は分野 {} を所管していません", r.sector),
                format!("this ministry has no jurisdiction over sector {}", r.sector),
            ));
        }
    }
    for (i, id) in d.source_report_ids.iter().enumerate() {
        if tx.get_report(&caller.scope(), id).await?.is_none() {
            errors.push(FieldError::new(
                format!("source_report_ids[{i}]"),
                "参照できる報告ではありません",
                "no such report among those you hold",
            ));
        }
    }
    errors.into_result(()).map_err(ApiError::from)
}

/// The advisory as one reader sees it. The coordinator and relaying organisations also see
/// the hops they sent or received, with acknowledgments and how long each took.
async fn view(state: &AppState, caller: &Caller, id: &str) -> ApiResult<Value> {
    let scope = caller.scope();
    let a = state.store.get_advisory(&scope, id).await?.ok_or(ApiError::NotFound)?;
    let hops = state.store.hops_of(&scope, id).await?;
    let acks = state.store.acks_of(&scope, id).await?;
    let coordinator = caller.org.kind == OrgKind::Coordinator;
    let downstream = downstream_of(&hops, &caller.org.id);
    let deliveries: Vec<Value> = hops
        .iter()
        .filter(|h| coordinator || downstream.contains(&h.from_org_id) || h.to_org_id == caller.org.id)
        .map(|h| delivery(h, acks.iter().find(|k| k.org_id == h.to_org_id)))
        .collect();
    let d = &a.draft;
    let (sev_ja, sev_en) = d.severity.map(|s| (s.label_ja(), s.code())).unwrap_or(("重要度未設定", "no severity"));
    Ok(json!({
        "id": a.id,
        "identifier": a.chain_identifier.as_deref().filter(|_| a.status == AdvisoryStatus::Issued).map(|c| report_identifier(c, a.sequence)),
        "sequence": a.sequence,
        "chain_id": a.chain_id,
        "status": a.status,
        "severity": d.severity,
        "tlp": d.tlp,
        "tlp_note": d.tlp_note,
        "has_attachments": d.has_attachments,
        "recipients": d.recipients,
        "urgent": d.urgent,
        "content": d.content,
        "contact": d.contact,
        "source_report_ids": if coordinator { json!(d.source_report_ids) } else { json!([]) },
        "external_sources": d.external_sources,
        "created_at": a.created_at,
        "issued_at": a.issued_at,
        "banner": {"ja": format!("TLP:{} {}／{}", d.tlp.code(), d.tlp.label_ja(), sev_ja), "en": format!("TLP:{} / {}", d.tlp.code(), sev_en)},
        "deliveries": deliveries,
        "acknowledged": acks.iter().any(|k| k.org_id == caller.org.id),
    }))
}

/// The organisation and everyone its relays reached, directly or further down.
fn downstream_of(hops: &[HopRow], org: &str) -> std::collections::BTreeSet<String> {
    let mut seen = std::collections::BTreeSet::from([org.to_string()]);
    let mut frontier = vec![org.to_string()];
    while let Some(o) = frontier.pop() {
        for h in hops.iter().filter(|h| h.from_org_id == o) {
            if seen.insert(h.to_org_id.clone()) {
                frontier.push(h.to_org_id.clone());
            }
        }
    }
    seen
}

fn delivery(h: &HopRow, ack: Option<&AckRow>) -> Value {
    let took = ack.and_then(|k| {
        let from = chrono::DateTime::parse_from_rfc3339(&h.created_at).ok()?;
        let to = chrono::DateTime::parse_from_rfc3339(&k.created_at).ok()?;
        Some((to - from).num_seconds())
    });
    json!({
        "from_org_id": h.from_org_id,
        "to_org_id": h.to_org_id,
        "tlp": h.tlp,
        "copy": h.copy,
        "delivered_at": h.created_at,
        "acknowledgment": ack.map(|k| json!({"status": k.status, "comment": k.comment, "at": k.created_at, "seconds_to_acknowledge": took})),
    })
}

pub async fn create_advisory(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(input): JsonBody<AdvisoryInput>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    kyoyu_policy::check_coordinator_officer(&caller.principal)?;
    let draft = input.into_draft()?;
    let mut tx = state.store.begin(caller.actor()).await?;
    let world = state.app.world(&mut tx).await?;
    check_draft(&mut tx, &world, &caller, &draft).await?;
    let chain_id = new_id();
    tx.insert_advisory_chain(&chain_id, &now()).await?;
    let a = new_row(chain_id, 1, &caller, draft);
    save(&mut tx, &world, &a, &caller).await?;
    tx.audit("advisory.create", "advisory", &a.id, json!({"chain_id": a.chain_id})).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(view(&state, &caller, &a.id).await?)))
}

fn new_row(chain_id: String, sequence: i64, caller: &Caller, draft: AdvisoryDraft) -> AdvisoryRow {
    AdvisoryRow {
        id: new_id(),
        chain_id,
        chain_identifier: None,
        sequence,
        status: AdvisoryStatus::Draft,
        author_org_id: caller.org.id.clone(),
        draft,
        created_at: now(),
        issued_at: None,
    }
}

async fn save(tx: &mut Tx, world: &World, a: &AdvisoryRow, caller: &Caller) -> ApiResult<()> {
    let grants = kyoyu_policy::advisory_grants(&facts(world, &a.draft, a.draft.tlp)?, &[], world.facts_of());
    tx.save_advisory(a, &caller.user.id, &grants).await?;
    kyoyu_app::stix::keep_advisory(tx, world, a).await?;
    regrant(tx, world, &a.id, &a.draft).await
}

fn require_draft(a: &AdvisoryRow) -> ApiResult<()> {
    if a.status == AdvisoryStatus::Draft {
        Ok(())
    } else {
        Err(ApiError::conflict(
            "発出済みの情報提供は変更できません。続報を作成してください",
            "an issued advisory cannot change; create a follow-up",
        ))
    }
}

pub async fn update_advisory(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<AdvisoryInput>,
) -> ApiResult<Json<Value>> {
    let mut tx = state.store.begin(caller.actor()).await?;
    let mut a = readable(&mut tx, &caller, &id).await?;
    kyoyu_policy::check_coordinator_officer(&caller.principal)?;
    require_draft(&a)?;
    a.draft = input.apply_to(&a.draft)?;
    let world = state.app.world(&mut tx).await?;
    check_draft(&mut tx, &world, &caller, &a.draft).await?;
    save(&mut tx, &world, &a, &caller).await?;
    tx.audit("advisory.update", "advisory", &a.id, json!({})).await?;
    tx.commit().await?;
    Ok(Json(view(&state, &caller, &id).await?))
}

pub async fn create_follow_up(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<AdvisoryInput>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let mut tx = state.store.begin(caller.actor()).await?;
    let previous = readable(&mut tx, &caller, &id).await?;
    kyoyu_policy::check_coordinator_officer(&caller.principal)?;
    let draft = input.apply_to(&previous.draft)?;
    let world = state.app.world(&mut tx).await?;
    check_draft(&mut tx, &world, &caller, &draft).await?;
    let sequence = tx.max_advisory_sequence(&previous.chain_id).await? + 1;
    let a = new_row(previous.chain_id.clone(), sequence, &caller, draft);
    save(&mut tx, &world, &a, &caller).await?;
    tx.audit("advisory.follow_up", "advisory", &a.id, json!({"of": previous.id, "sequence": sequence})).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(view(&state, &caller, &a.id).await?)))
}

/// Refuses issue while any field still holds a string that identifies the operator behind a
/// source report. Names the field and the count, never the operator.
///
/// For an anonymised source the comparison runs over the whole anonymity set (every member of
/// the sector's CEPTOAR), so the refusal and its count are the same whichever member filed.
async fn sanitisation_gate(tx: &mut Tx, world: &World, caller: &Caller, d: &AdvisoryDraft) -> ApiResult<()> {
    let mut counts: HashMap<String, usize> = HashMap::new();
    for id in &d.source_report_ids {
        let Some(report) = tx.get_report(&caller.scope(), id).await? else { continue };
        let scrubber = world.chain_scrubber(tx, &report.chain).await?;
        d.clone().for_each_text_mut(|field, text| {
            let n = scrubber.count_in(text);
            if n > 0 {
                *counts.entry(field.to_string()).or_default() += n;
            }
        });
    }
    let mut fields: Vec<(String, usize)> = counts.into_iter().collect();
    fields.sort();
    let errors = ValidationErrors(
        fields
            .into_iter()
            .map(|(field, n)| {
                FieldError::new(
                    field,
                    format!("情報源を特定できる文字列が {n} 件残っています。サニタイズしてください"),
                    format!("{n} string(s) that identify a source remain; sanitise before issuing"),
                )
            })
            .collect(),
    );
    errors.into_result(()).map_err(ApiError::from)
}

/// Refuses issue when the audience goes beyond what a source allowed (its ceiling, its
/// sanitised-wider-use permission, or a granted widening).
async fn scope_rule(tx: &mut Tx, world: &World, caller: &Caller, a: &AdvisoryRow) -> ApiResult<()> {
    let f = facts(world, &a.draft, a.draft.tlp)?;
    let audience: Vec<OrgFacts> = world
        .orgs
        .values()
        .map(|o| o.facts())
        .filter(|o| o.id != f.coordinator && kyoyu_policy::inside_advisory_ceiling(o, &f))
        .collect();
    let public = matches!(a.draft.tlp, Tlp::White | Tlp::Clear);
    let widened = tx.granted_widenings(&a.id).await?;
    let mut errors = ValidationErrors::default();
    for (i, id) in a.draft.source_report_ids.iter().enumerate() {
        let Some(report) = tx.get_report(&caller.scope(), id).await? else { continue };
        let consented = widened.iter().any(|w| &w.report_id == id && consent_covers(w, &a.draft));
        let allowance = if consented {
            SourceAllowance::Widened
        } else if report.content.sanitised_wider_use {
            SourceAllowance::SanitisedWiderUse
        } else {
            SourceAllowance::Ceiling
        };
        let shared = tx.shares_of(&report.id).await?;
        if !kyoyu_policy::source_allows(&audience, public, &world.row_facts(&report, &shared), allowance) {
            errors.push(FieldError::new(
                format!("source_report_ids[{i}]"),
                format!(
                    "提供先がこの情報源の共有範囲（TLP:{}）を超えています。範囲拡大の同意が必要です",
                    report.content.tlp.code()
                ),
                format!(
                    "the audience goes beyond what this source allowed (TLP:{}); request widening consent",
                    report.content.tlp.code()
                ),
            ));
        }
    }
    errors.into_result(()).map_err(ApiError::from)
}

/// Whether a granted widening covers the draft as it is now: no wider TLP and no recipient
/// beyond those the operator was asked about.
fn consent_covers(w: &kyoyu_store::WideningRow, d: &AdvisoryDraft) -> bool {
    w.target_tlp.is_some_and(|asked| d.tlp.keeps_or_tightens(asked))
        && d.recipients.iter().all(|r| w.target_recipients.contains(r))
}

/// Records one hop of delivery; false when the organisation already had it.
async fn deliver(tx: &mut Tx, a: &AdvisoryRow, hop: &HopRow) -> ApiResult<bool> {
    if !tx.insert_advisory_hop(&a.id, hop).await? {
        return Ok(false);
    }
    tx.audit(
        "advisory.deliver",
        "advisory",
        &a.id,
        json!({"from": hop.from_org_id, "to": hop.to_org_id, "tlp": hop.tlp}),
    )
    .await?;
    Ok(true)
}

async fn notify_receivers(state: &AppState, tx: &mut Tx, a: &AdvisoryRow, hops: &[HopRow]) -> ApiResult<()> {
    let identifier = tx.advisory_chain_identifier(&a.chain_id).await?.map(|c| report_identifier(&c, a.sequence));
    for hop in hops {
        let users = tx.advisory_readers_in(&a.id, &hop.to_org_id).await?;
        let notice = Notice {
            kind: "advisory.delivered",
            object_type: "advisory",
            object_id: &a.id,
            subject: notify::subject(hop.tlp, a.draft.severity, identifier.as_deref(), "情報提供 / advisory"),
            body: advisory_text(&a.draft),
            tlp: hop.tlp,
            link_path: format!("/api/v1/advisories/{}", a.id),
        };
        notify::notify(tx, &state.app.mail, &users, &notice).await?;
    }
    Ok(())
}

fn advisory_text(d: &AdvisoryDraft) -> String {
    let part = |title: &str, v: &Option<String>| v.as_deref().map(|t| format!("{title}\n{t}\n")).unwrap_or_default();
    [
        part("(1) 概要 Summary", &d.content.summary),
        part("(2) 影響対象 Affected targets", &d.content.targets),
        part("(3) 対策 Countermeasures", &d.content.countermeasures),
        part("(4) その他 Other", &d.content.other),
    ]
    .concat()
}

pub async fn issue_advisory(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let mut tx = state.store.begin(caller.actor()).await?;
    let mut a = readable(&mut tx, &caller, &id).await?;
    kyoyu_policy::check_coordinator_officer(&caller.principal)?;
    require_draft(&a)?;
    a.draft.check_issuable()?;
    let world = state.app.world(&mut tx).await?;
    check_draft(&mut tx, &world, &caller, &a.draft).await?;
    sanitisation_gate(&mut tx, &world, &caller, &a.draft).await?;
    scope_rule(&mut tx, &world, &caller, &a).await?;
    // Concurrent issues of one draft: the first to move it acts, the others answer 409
    // before a number is drawn.
    if !tx.claim_issue(&a.id).await? {
        return Err(ApiError::already_done());
    }
    if tx.advisory_chain_identifier(&a.chain_id).await?.is_none() {
        let year = numbering_year(chrono::Utc::now());
        let seq = tx.next_counter("T", year).await?;
        tx.set_advisory_chain_identifier(&a.chain_id, &chain_identifier('T', year, seq)).await?;
    }
    a.status = AdvisoryStatus::Issued;
    a.issued_at = Some(now());
    save(&mut tx, &world, &a, &caller).await?;
    let coordinator = world.coordinator()?.to_string();
    let mut ministries: Vec<&str> = a.draft.recipients.iter().map(|r| r.ministry_org_id.as_str()).collect();
    ministries.dedup();
    let mut hops = Vec::new();
    let hop = |to: &str, copy: bool| HopRow {
        id: new_id(),
        from_org_id: coordinator.clone(),
        to_org_id: to.to_string(),
        tlp: a.draft.tlp,
        copy,
        created_at: now(),
    };
    if a.draft.urgent {
        // Urgent early warning: straight to the CEPTOARs, copied to the liaisons.
        for r in &a.draft.recipients {
            if let Some(c) = world.ceptoar_of(&r.sector) {
                hops.push(hop(c, false));
            }
        }
        hops.extend(ministries.iter().map(|m| hop(m, true)));
    } else {
        hops.extend(ministries.iter().map(|m| hop(m, false)));
    }
    let mut delivered = Vec::new();
    for h in hops {
        if deliver(&mut tx, &a, &h).await? {
            delivered.push(h);
        }
    }
    regrant(&mut tx, &world, &a.id, &a.draft).await?;
    notify_receivers(&state, &mut tx, &a, &delivered).await?;
    tx.audit("advisory.issue", "advisory", &a.id, json!({"hops": delivered.len()})).await?;
    tx.commit().await?;
    Ok(Json(view(&state, &caller, &id).await?))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RelayBody {
    org_ids: Option<Vec<String>>,
    tlp: Option<Tlp>,
}

pub async fn relay_advisory(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<RelayBody>,
) -> ApiResult<Json<Value>> {
    let targets = body.org_ids.filter(|t| !t.is_empty()).ok_or_else(|| FieldError::required("org_ids"))?;
    let mut tx = state.store.begin(caller.actor()).await?;
    let a = readable(&mut tx, &caller, &id).await?;
    // Concurrent relays of one advisory run one after the other.
    tx.lock_advisory(&a.id).await?;
    let hops = tx.all_hops(&a.id).await?;
    let received = hops.iter().find(|h| h.to_org_id == caller.org.id).ok_or_else(|| {
        ApiError::forbidden(
            "伝達できるのはこの情報提供を受け取った組織です",
            "only an organisation that received this advisory relays it",
        )
    })?;
    let tlp = body.tlp.unwrap_or(received.tlp);
    if !tlp.keeps_or_tightens(received.tlp) {
        return Err(kyoyu_domain::report::loosening_error("tlp", received.tlp, tlp).into());
    }
    let world = state.app.world(&mut tx).await?;
    let f = facts(&world, &a.draft, tlp)?;
    let mut errors = ValidationErrors::default();
    for target in &targets {
        let result = match world.org(target) {
            None => Err(FieldError::unknown_code("org_ids", target)),
            Some(org) => kyoyu_policy::check_relay(&caller.principal, &org.facts(), &f),
        };
        if let Err(e) = result {
            errors.push(e);
        }
    }
    errors.into_result(())?;
    // Relaying again to those who have it acts not at all, like a concurrent twin.
    if targets.iter().all(|t| hops.iter().any(|h| &h.to_org_id == t)) {
        return Err(ApiError::already_done());
    }
    let mut delivered = Vec::new();
    for target in &targets {
        let h = HopRow {
            id: new_id(),
            from_org_id: caller.org.id.clone(),
            to_org_id: target.clone(),
            tlp,
            copy: false,
            created_at: now(),
        };
        if deliver(&mut tx, &a, &h).await? {
            delivered.push(h);
        }
    }
    if delivered.is_empty() {
        return Err(ApiError::already_done());
    }
    regrant(&mut tx, &world, &a.id, &a.draft).await?;
    notify_receivers(&state, &mut tx, &a, &delivered).await?;
    tx.commit().await?;
    Ok(Json(view(&state, &caller, &id).await?))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AckBody {
    status: Option<AckStatus>,
    comment: Option<String>,
}

pub async fn acknowledge_advisory(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<AckBody>,
) -> ApiResult<Json<Value>> {
    let status = body.status.ok_or_else(|| FieldError::required("status"))?;
    let mut tx = state.store.begin(caller.actor()).await?;
    let a = readable(&mut tx, &caller, &id).await?;
    if !tx.all_hops(&a.id).await?.iter().any(|h| h.to_org_id == caller.org.id) {
        return Err(ApiError::forbidden(
            "受領確認はこの情報提供を受け取った組織が行います",
            "only a receiving organisation acknowledges",
        ));
    }
    let ack = AckRow {
        org_id: caller.org.id.clone(),
        user_id: caller.user.id.clone(),
        status,
        comment: body.comment.unwrap_or_default(),
        created_at: now(),
    };
    tx.upsert_ack(&a.id, &ack).await?;
    tx.audit("advisory.acknowledge", "advisory", &a.id, json!({"status": ack.status})).await?;
    tx.commit().await?;
    Ok(Json(view(&state, &caller, &id).await?))
}

pub async fn get_advisory(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let v = view(&state, &caller, &id).await?;
    if v["tlp"].as_str().and_then(Tlp::parse).is_some_and(Tlp::needs_need_to_know) {
        audit_secret_reads(&state, &caller, "advisory.read", "advisory", &[id.as_str()], None).await?;
    }
    Ok(Json(v))
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
) -> ApiResult<Json<Value>> {
    let (f, Page { limit, offset }) = parse_filter(&params)?;
    let rows = state.store.list_advisories(&caller.scope(), &f, limit, offset).await?;
    let secret: Vec<&str> = rows.iter().filter(|a| a.draft.tlp.needs_need_to_know()).map(|a| a.id.as_str()).collect();
    audit_secret_reads(&state, &caller, "advisory.list", "advisory", &secret, None).await?;
    let mut items = Vec::new();
    for a in &rows {
        items.push(view(&state, &caller, &a.id).await?);
    }
    Ok(Json(json!({"items": items, "limit": limit, "offset": offset})))
}

pub async fn count_advisories(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let (f, _) = parse_filter(&params)?;
    Ok(Json(json!({"count": state.store.count_advisories(&caller.scope(), &f).await?})))
}

/// Only the coordinator and ministries inside the advisory's scope take part in its thread;
/// for everyone else it does not exist.
async fn thread_member(tx: &mut Tx, caller: &Caller, id: &str) -> ApiResult<AdvisoryRow> {
    let a = readable(tx, caller, id).await?;
    if kyoyu_policy::in_question_thread(&caller.principal.org) && a.status == AdvisoryStatus::Issued {
        Ok(a)
    } else {
        Err(ApiError::NotFound)
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuestionBody {
    text: Option<String>,
}

pub async fn ask_question(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<QuestionBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let text = body.text.filter(|t| !t.trim().is_empty()).ok_or_else(|| FieldError::required("text"))?;
    if text.chars().count() > kyoyu_domain::report::MAX_TEXT {
        return Err(FieldError::new("text", "長すぎます", "is too long").into());
    }
    let mut tx = state.store.begin(caller.actor()).await?;
    let a = thread_member(&mut tx, &caller, &id).await?;
    let q = QuestionRow { id: new_id(), author_org_id: caller.org.id.clone(), text: text.clone(), created_at: now() };
    tx.insert_question(&a.id, &q, &caller.user.id).await?;
    tx.audit("advisory.question", "advisory", &a.id, json!({"question_id": q.id})).await?;
    // Everyone in the thread but the author hears of it.
    let world = state.app.world(&mut tx).await?;
    let identifier = tx.advisory_chain_identifier(&a.chain_id).await?.map(|c| report_identifier(&c, a.sequence));
    let mut members: Vec<String> = vec![world.coordinator()?.to_string()];
    members.extend(a.draft.recipients.iter().map(|r| r.ministry_org_id.clone()));
    members.sort();
    members.dedup();
    for org in members.iter().filter(|o| **o != caller.org.id) {
        let users = tx.advisory_readers_in(&a.id, org).await?;
        let notice = Notice {
            kind: "advisory.question",
            object_type: "advisory",
            object_id: &a.id,
            subject: notify::subject(a.draft.tlp, a.draft.severity, identifier.as_deref(), "質問 / question"),
            body: text.clone(),
            tlp: a.draft.tlp,
            link_path: format!("/api/v1/advisories/{}/questions", a.id),
        };
        notify::notify(&mut tx, &state.app.mail, &users, &notice).await?;
    }
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(json!(q))))
}

pub async fn list_questions(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let mut tx = state.store.begin(caller.actor()).await?;
    let a = thread_member(&mut tx, &caller, &id).await?;
    if a.draft.tlp.needs_need_to_know() {
        tx.audit("advisory.questions.read", "advisory", &a.id, json!({})).await?;
        tx.commit().await?;
    }
    Ok(Json(json!({"items": state.store.questions_of(&caller.scope(), &id).await?})))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WideningBody {
    report_id: Option<String>,
}

/// The widening request as one party sees it: the advisory's author never learns who
/// answered in the anonymised route.
fn widening_view(w: &kyoyu_store::WideningRow, reader_org: &str) -> Value {
    let anonymous = w.secretariat_org_id.is_some();
    let show_answerer = !(anonymous && reader_org == w.author_org_id);
    json!({
        "id": w.id,
        "advisory_id": w.advisory_id,
        "report_id": if reader_org == w.author_org_id { Some(&w.report_id) } else { None },
        "chain_id": w.chain_id,
        "status": w.status,
        "requested_at": w.requested_at,
        "answered_at": w.answered_at,
        "answered_by": if show_answerer { w.answered_by.as_deref() } else { None },
        // What consent is asked for: the advisory's scope and recipients when asked.
        "target_tlp": w.target_tlp,
        "target_recipients": w.target_recipients,
    })
}

/// Notifies the users of an organisation about a widening request (their organisation takes
/// part in it, so no reader rows apply).
async fn notify_widening(state: &AppState, tx: &mut Tx, org_id: &str, w_id: &str, what: &str) -> ApiResult<()> {
    let users: Vec<_> = tx.users_of(org_id).await?.into_iter().filter(|u| u.active && u.need_to_know).collect();
    let notice = Notice {
        kind: "scope_widening",
        object_type: "scope_widening",
        object_id: w_id,
        subject: format!("[kyoyu] 提供範囲の拡大 / scope widening: {what}"),
        body: String::new(),
        tlp: Tlp::Amber,
        link_path: "/api/v1/scope-widenings".into(),
    };
    Ok(notify::notify(tx, &state.app.mail, &users, &notice).await?)
}

pub async fn request_scope_widening(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<WideningBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let report_id = body.report_id.ok_or_else(|| FieldError::required("report_id"))?;
    let mut tx = state.store.begin(caller.actor()).await?;
    let a = readable(&mut tx, &caller, &id).await?;
    kyoyu_policy::check_coordinator_officer(&caller.principal)?;
    require_draft(&a)?;
    if !a.draft.source_report_ids.contains(&report_id) {
        return Err(FieldError::new(
            "report_id",
            "この情報提供の情報源ではありません",
            "is not a source of this advisory",
        )
        .into());
    }
    let report = tx.get_report(&caller.scope(), &report_id).await?.ok_or(ApiError::NotFound)?;
    if let Some(c) = report.chain.concealed() {
        tx.conceal(c);
    }
    let via_secretariat = report.chain.anonymous_originator().is_some();
    let w = kyoyu_store::WideningRow {
        id: new_id(),
        advisory_id: a.id.clone(),
        report_id: report.id.clone(),
        chain_id: report.chain.id.clone(),
        status: if via_secretariat { WideningStatus::AtSecretariat } else { WideningStatus::Pending },
        requested_at: now(),
        answered_at: None,
        answered_by: None,
        author_org_id: caller.org.id.clone(),
        originator_org_id: report.chain.originator_org_id.clone(),
        secretariat_org_id: report.chain.secretariat_org_id.clone(),
        target_tlp: Some(a.draft.tlp),
        target_recipients: a.draft.recipients.clone(),
    };
    tx.insert_widening(&w).await?;
    let first = w.secretariat_org_id.clone().filter(|_| via_secretariat).unwrap_or(w.originator_org_id.clone());
    notify_widening(&state, &mut tx, &first, &w.id, "依頼 request").await?;
    tx.audit("scope_widening.request", "scope_widening", &w.id, json!({"advisory_id": a.id})).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(widening_view(&w, &caller.org.id))))
}

async fn visible_widening(tx: &mut Tx, caller: &Caller, id: &str) -> ApiResult<kyoyu_store::WideningRow> {
    let w = tx.get_widening(&caller.scope(), id).await?.ok_or(ApiError::NotFound)?;
    if let Some(c) = w.concealed() {
        tx.conceal(c);
    }
    Ok(w)
}

/// The secretariat passes a request on to its member, keeping the coordinator from learning who.
pub async fn relay_scope_widening(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let mut tx = state.store.begin(caller.actor()).await?;
    let w = visible_widening(&mut tx, &caller, &id).await?;
    if w.secretariat_org_id.as_deref() != Some(caller.org.id.as_str()) || !caller.principal.is_relay_officer() {
        return Err(ApiError::forbidden(
            "依頼を伝達できるのはセプター事務局です",
            "only the CEPTOAR secretariat relays this request",
        ));
    }
    let (from, to) = (WideningStatus::AtSecretariat, WideningStatus::Pending);
    if w.status != from || !tx.set_widening_status(&w.id, from, to, None).await? {
        return Err(ApiError::conflict("この依頼は伝達済みです", "this request has already been relayed"));
    }
    notify_widening(&state, &mut tx, &w.originator_org_id, &w.id, "依頼 request").await?;
    tx.audit("scope_widening.relay", "scope_widening", &w.id, json!({})).await?;
    tx.commit().await?;
    widening_now(&state, &caller, &id).await
}

/// The request as the caller sees it after a change.
async fn widening_now(state: &AppState, caller: &Caller, id: &str) -> ApiResult<Json<Value>> {
    let rows = state.store.list_widenings(&caller.scope()).await?;
    let w = rows.iter().find(|w| w.id == id).ok_or(ApiError::NotFound)?;
    Ok(Json(widening_view(w, &caller.org.id)))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnswerBody {
    grant: Option<bool>,
}

pub async fn answer_scope_widening(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<AnswerBody>,
) -> ApiResult<Json<Value>> {
    let grant = body.grant.ok_or_else(|| FieldError::required("grant"))?;
    let mut tx = state.store.begin(caller.actor()).await?;
    let w = visible_widening(&mut tx, &caller, &id).await?;
    // Consent is informed and authorised: a need-to-know user of the operator, who can read
    // the report it is about.
    if w.originator_org_id != caller.org.id || !caller.principal.is_relay_officer() || !caller.principal.need_to_know {
        return Err(ApiError::forbidden(
            "回答できるのは報告した事業者の「知る必要」がある担当者です",
            "only a need-to-know user of the operator that reported answers",
        ));
    }
    let status = if grant { WideningStatus::Granted } else { WideningStatus::Refused };
    let answered = (now(), caller.user.id.clone());
    let from = WideningStatus::Pending;
    if w.status != from || !tx.set_widening_status(&w.id, from, status, Some((&answered.0, &answered.1))).await? {
        return Err(ApiError::conflict("この依頼には回答済みです", "this request has already been answered"));
    }
    notify_widening(&state, &mut tx, &w.author_org_id, &w.id, if grant { "同意 granted" } else { "不同意 refused" })
        .await?;
    tx.audit("scope_widening.answer", "scope_widening", &w.id, json!({"grant": grant})).await?;
    tx.commit().await?;
    widening_now(&state, &caller, &id).await
}

pub async fn list_scope_widenings(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Value>> {
    let rows = state.store.list_widenings(&caller.scope()).await?;
    Ok(Json(json!({"items": rows.iter().map(|w| widening_view(w, &caller.org.id)).collect::<Vec<_>>()})))
}
