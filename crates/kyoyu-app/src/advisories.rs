//! Advisories (情報提供, domain.md §8): draft, sanitisation gate, scope rule with widening
//! consent, issue and relay hop by hop, acknowledgments, questions, notifications.

use crate::notify::{self, Notice};
use crate::reads::{audit_secret_reads, Page};
use crate::views::{
    AckView, AdvisoryList, AdvisoryView, Count, DeliveryView, QuestionList, WideningList, WideningView,
};
use crate::world::World;
use crate::{App, AppError, AppResult, Caller};
use kyoyu_domain::advisory::{AdvisoryDraft, AdvisoryInput};
use kyoyu_domain::codes::{AckStatus, AdvisoryStatus, OrgKind, WideningStatus};
use kyoyu_domain::identifier::{chain_identifier, numbering_year, report_identifier};
use kyoyu_domain::FreeText;
use kyoyu_domain::{FieldError, Tlp, ValidationErrors};
use kyoyu_policy::{AdvisoryActions, AdvisoryFacts, AdvisoryState, OrgFacts, SourceAllowance};
use kyoyu_store::{new_id, now, AckRow, AdvisoryFilter, AdvisoryRow, HopRow, QuestionRow, Tx};
use serde::Deserialize;
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;

async fn readable(tx: &mut Tx, caller: &Caller, id: &str) -> AppResult<AdvisoryRow> {
    tx.get_advisory(&caller.scope(), id).await?.ok_or(AppError::NotFound)
}

fn facts<'a>(world: &'a World, draft: &'a AdvisoryDraft, tlp: Tlp) -> AppResult<AdvisoryFacts<'a>> {
    Ok(AdvisoryFacts { tlp, recipients: &draft.recipients, coordinator: world.coordinator()? })
}

/// Writes the readers the policy grants: the author, and every hop's receiver.
pub async fn regrant(tx: &mut Tx, world: &World, id: &str, draft: &AdvisoryDraft) -> AppResult<()> {
    let hops: Vec<(String, Tlp)> = tx.all_hops(id).await?.into_iter().map(|h| (h.to_org_id, h.tlp)).collect();
    let grants = kyoyu_policy::advisory_grants(&facts(world, draft, draft.tlp)?, &hops, world.facts_of());
    tx.replace_advisory_access(id, &grants).await?;
    Ok(())
}

/// Recipients name a ministry with jurisdiction over the sector; sources are reports the
/// coordinator holds.
async fn check_draft(tx: &mut Tx, world: &World, caller: &Caller, d: &AdvisoryDraft) -> AppResult<()> {
    crate::stix::check_citations(tx, caller, d).await?;
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
    for (i, id) in d.source_partner_ids.iter().enumerate() {
        if tx.get_partner(&caller.scope(), id).await?.is_none() {
            errors.push(FieldError::new(
                format!("source_partner_ids[{i}]"),
                "参照できる関係機関からの情報ではありません",
                "no such partner information among what you hold",
            ));
        }
    }
    errors.into_result(()).map_err(AppError::from)
}

/// The advisory as one reader sees it. The coordinator and relaying organisations also see
/// the hops they sent or received, with acknowledgments and how long each took.
async fn view(app: &App, caller: &Caller, id: &str) -> AppResult<AdvisoryView> {
    let scope = caller.scope();
    let a = app.store.get_advisory(&scope, id).await?.ok_or(AppError::NotFound)?;
    let hops = app.store.hops_of(&scope, id).await?;
    let acks = app.store.acks_of(&scope, id).await?;
    assemble(&*caller.world(app).await?, caller, a, &hops, &acks)
}

/// The view of an advisory the caller may read, from its deliveries and acknowledgments.
fn assemble(
    world: &World,
    caller: &Caller,
    a: AdvisoryRow,
    hops: &[HopRow],
    acks: &[AckRow],
) -> AppResult<AdvisoryView> {
    let coordinator = caller.org().kind == OrgKind::Coordinator;
    let downstream = downstream_of(hops, &caller.org().id);
    let deliveries = hops
        .iter()
        .filter(|h| coordinator || downstream.contains(&h.from_org_id) || h.to_org_id == caller.org().id)
        .map(|h| delivery(h, acks.iter().find(|k| k.org_id == h.to_org_id)))
        .collect();
    let acknowledged = acks.iter().any(|k| k.org_id == caller.org().id);
    let actions = actions_on(world, caller, &a, hops)?;
    let awaiting = awaits_action(hops, &caller.org().id, acknowledged);
    Ok(AdvisoryView::new(a, coordinator, deliveries, (acknowledged, awaiting), actions))
}

/// Whether `org` received the advisory and has yet to act on it: neither acknowledged it nor
/// relayed it onward (either takes it off the organisation's inbox).
fn awaits_action(hops: &[HopRow], org: &str, acknowledged: bool) -> bool {
    let received = hops.iter().any(|h| h.to_org_id == org);
    let relayed = hops.iter().any(|h| h.from_org_id == org);
    received && !acknowledged && !relayed
}

/// What the caller may do with the advisory, as the policy decides.
fn actions_on(world: &World, caller: &Caller, a: &AdvisoryRow, hops: &[HopRow]) -> AppResult<AdvisoryActions> {
    let delivered_to: Vec<String> = hops.iter().map(|h| h.to_org_id.clone()).collect();
    let state = AdvisoryState {
        facts: facts(world, &a.draft, a.draft.tlp)?,
        issued: a.status == AdvisoryStatus::Issued,
        received: hops.iter().find(|h| h.to_org_id == caller.org().id).map(|h| h.tlp),
        delivered_to: &delivered_to,
    };
    Ok(kyoyu_policy::advisory_actions(caller.principal(), &state, world.directory()))
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

fn delivery(h: &HopRow, ack: Option<&AckRow>) -> DeliveryView {
    let took = ack.and_then(|k| {
        let from = chrono::DateTime::parse_from_rfc3339(&h.created_at).ok()?;
        let to = chrono::DateTime::parse_from_rfc3339(&k.created_at).ok()?;
        Some((to - from).num_seconds())
    });
    DeliveryView {
        from_org_id: h.from_org_id.clone(),
        to_org_id: h.to_org_id.clone(),
        tlp: h.tlp,
        copy: h.copy,
        delivered_at: h.created_at.clone(),
        acknowledgment: ack.map(|k| AckView {
            status: k.status,
            comment: k.comment.clone(),
            at: k.created_at.clone(),
            seconds_to_acknowledge: took,
        }),
    }
}

/// Drafts a new advisory (第1報).
pub async fn create_advisory(app: &App, caller: &Caller, input: AdvisoryInput) -> AppResult<AdvisoryView> {
    kyoyu_policy::check_coordinator_officer(caller.principal())?;
    let draft = input.into_draft()?;
    let mut tx = app.store.begin(caller.actor()).await?;
    let world = app.world(&mut tx).await?;
    check_draft(&mut tx, &world, caller, &draft).await?;
    let chain_id = new_id();
    tx.insert_advisory_chain(&chain_id, &now()).await?;
    let a = new_row(chain_id, 1, caller, draft);
    save(&mut tx, &world, &a, caller).await?;
    tx.audit("advisory.create", "advisory", &a.id, json!({"chain_id": a.chain_id})).await?;
    tx.commit().await?;
    view(app, caller, &a.id).await
}

fn new_row(chain_id: String, sequence: i64, caller: &Caller, draft: AdvisoryDraft) -> AdvisoryRow {
    AdvisoryRow {
        id: new_id(),
        chain_id,
        chain_identifier: None,
        sequence,
        status: AdvisoryStatus::Draft,
        author_org_id: caller.org().id.clone(),
        draft,
        created_at: now(),
        issued_at: None,
    }
}

async fn save(tx: &mut Tx, world: &World, a: &AdvisoryRow, caller: &Caller) -> AppResult<()> {
    let grants = kyoyu_policy::advisory_grants(&facts(world, &a.draft, a.draft.tlp)?, &[], world.facts_of());
    tx.save_advisory(a, &caller.user().id, &grants).await?;
    crate::stix::keep_advisory(tx, world, a).await?;
    regrant(tx, world, &a.id, &a.draft).await
}

fn require_draft(a: &AdvisoryRow) -> AppResult<()> {
    if a.status == AdvisoryStatus::Draft {
        Ok(())
    } else {
        Err(AppError::conflict(
            "発出済みの情報提供は変更できません。続報を作成してください",
            "an issued advisory cannot change; create a follow-up",
        ))
    }
}

/// Edits a draft.
pub async fn update_advisory(app: &App, caller: &Caller, id: &str, input: AdvisoryInput) -> AppResult<AdvisoryView> {
    let mut tx = app.store.begin(caller.actor()).await?;
    let mut a = readable(&mut tx, caller, id).await?;
    kyoyu_policy::check_coordinator_officer(caller.principal())?;
    require_draft(&a)?;
    a.draft = input.apply_to(&a.draft)?;
    let world = app.world(&mut tx).await?;
    check_draft(&mut tx, &world, caller, &a.draft).await?;
    save(&mut tx, &world, &a, caller).await?;
    tx.audit("advisory.update", "advisory", &a.id, json!({})).await?;
    tx.commit().await?;
    view(app, caller, id).await
}

/// Drafts the next advisory of a chain, from the one given.
pub async fn create_follow_up(app: &App, caller: &Caller, id: &str, input: AdvisoryInput) -> AppResult<AdvisoryView> {
    let mut tx = app.store.begin(caller.actor()).await?;
    let previous = readable(&mut tx, caller, id).await?;
    kyoyu_policy::check_coordinator_officer(caller.principal())?;
    let draft = input.apply_to(&previous.draft)?;
    let world = app.world(&mut tx).await?;
    check_draft(&mut tx, &world, caller, &draft).await?;
    let sequence = tx.max_advisory_sequence(&previous.chain_id).await? + 1;
    let a = new_row(previous.chain_id.clone(), sequence, caller, draft);
    save(&mut tx, &world, &a, caller).await?;
    tx.audit("advisory.follow_up", "advisory", &a.id, json!({"of": previous.id, "sequence": sequence})).await?;
    tx.commit().await?;
    view(app, caller, &a.id).await
}

/// Refuses issue while any field still holds a string that identifies the operator behind a
/// source report. Names the field and the count, never the operator.
///
/// For an anonymised source the comparison runs over the whole anonymity set (every member of
/// the sector's CEPTOAR), so the refusal and its count are the same whichever member filed.
async fn sanitisation_gate(tx: &mut Tx, world: &World, caller: &Caller, d: &AdvisoryDraft) -> AppResult<()> {
    let mut counts: HashMap<String, usize> = HashMap::new();
    let mut count = |scrubber: &kyoyu_domain::anonymise::Scrubber| {
        d.clone().for_each_text_mut(|field, text| {
            let n = scrubber.count_in(text);
            if n > 0 {
                *counts.entry(field.to_string()).or_default() += n;
            }
        })
    };
    for id in &d.source_report_ids {
        let Some(report) = tx.get_report(&caller.scope(), id).await? else { continue };
        count(&world.chain_scrubber(tx, &report.chain).await?);
    }
    // A partner is protected among every partner of its kind, so neither the refusal nor its
    // count tells which one contributed.
    for id in &d.source_partner_ids {
        let Some(info) = tx.get_partner(&caller.scope(), id).await? else { continue };
        let Some(sender) = world.org(&info.sender_org_id) else { continue };
        count(&world.kind_scrubber(tx, sender.kind).await?);
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
    errors.into_result(()).map_err(AppError::from)
}

/// Refuses issue when the audience goes beyond what a source allowed (its ceiling, its
/// sanitised-wider-use permission, or a granted widening).
async fn scope_rule(tx: &mut Tx, world: &World, caller: &Caller, a: &AdvisoryRow) -> AppResult<()> {
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
    for (i, id) in a.draft.source_partner_ids.iter().enumerate() {
        let Some(info) = tx.get_partner(&caller.scope(), id).await? else { continue };
        let facts = crate::partner::Facts::of(world, &info.content, tx.partner_shares(&info.id).await?)?;
        let consented = info.content.sanitised_wider_use;
        if !kyoyu_policy::partner::source_allows(&audience, public, &facts.of_row(&info), consented) {
            errors.push(FieldError::new(
                format!("source_partner_ids[{i}]"),
                format!(
                    "提供先がこの情報源の共有範囲（TLP:{}）を超えています。提供元の同意がありません",
                    info.content.tlp.code()
                ),
                format!(
                    "the audience goes beyond what this source allowed (TLP:{}) and its sender has not consented",
                    info.content.tlp.code()
                ),
            ));
        }
    }
    errors.into_result(()).map_err(AppError::from)
}

/// Whether a granted widening covers the draft as it is now: no wider TLP and no recipient
/// beyond those the operator was asked about.
fn consent_covers(w: &kyoyu_store::WideningRow, d: &AdvisoryDraft) -> bool {
    w.target_tlp.is_some_and(|asked| d.tlp.keeps_or_tightens(asked))
        && d.recipients.iter().all(|r| w.target_recipients.contains(r))
}

/// Records one hop of delivery; false when the organisation already had it.
async fn deliver(tx: &mut Tx, a: &AdvisoryRow, hop: &HopRow) -> AppResult<bool> {
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

async fn notify_receivers(app: &App, tx: &mut Tx, a: &AdvisoryRow, hops: &[HopRow]) -> AppResult<()> {
    let identifier = tx.advisory_chain_identifier(&a.chain_id).await?.map(|c| report_identifier(&c, a.sequence));
    for hop in hops {
        let users = tx.advisory_readers_in(&a.id, &hop.to_org_id).await?;
        let notice = Notice {
            kind: "advisory.delivered",
            object_type: "advisory",
            object_id: &a.id,
            subject: notify::subject(hop.tlp, a.draft.severity, identifier.as_deref(), ("情報提供", "advisory")),
            body: advisory_text(&a.draft),
            tlp: hop.tlp,
            link_path: format!("/api/v1/advisories/{}", a.id),
        };
        notify::notify(tx, &app.mail, &users, &notice).await?;
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

/// Issues a draft past the sanitisation gate and the scope rule, to the first hops.
/// Whether the draft would issue now, without issuing it: the same checks, in a transaction
/// that is rolled back (so a page can confirm before anything is sent).
pub async fn check_issue(app: &App, caller: &Caller, id: &str) -> AppResult<()> {
    let mut tx = app.store.begin(caller.actor()).await?;
    issuable(app, &mut tx, caller, id).await.map(|_| ())
}

/// Whether a draft stays within its sources' scope (the scope rule alone, as issuing checks
/// it), so the author is told on saving, before the draft is complete enough to issue.
pub async fn check_scope(app: &App, caller: &Caller, id: &str) -> AppResult<()> {
    let mut tx = app.store.begin(caller.actor()).await?;
    let a = readable(&mut tx, caller, id).await?;
    kyoyu_policy::check_coordinator_officer(caller.principal())?;
    require_draft(&a)?;
    let world = app.world(&mut tx).await?;
    scope_rule(&mut tx, &world, caller, &a).await
}

/// The draft and the world it issues in, once every check before issuing has passed.
async fn issuable(app: &App, tx: &mut Tx, caller: &Caller, id: &str) -> AppResult<(AdvisoryRow, Arc<World>)> {
    let a = readable(tx, caller, id).await?;
    kyoyu_policy::check_coordinator_officer(caller.principal())?;
    require_draft(&a)?;
    a.draft.check_issuable()?;
    let world = app.world(tx).await?;
    check_draft(tx, &world, caller, &a.draft).await?;
    sanitisation_gate(tx, &world, caller, &a.draft).await?;
    scope_rule(tx, &world, caller, &a).await?;
    Ok((a, world))
}

pub async fn issue_advisory(app: &App, caller: &Caller, id: &str) -> AppResult<AdvisoryView> {
    let mut tx = app.store.begin(caller.actor()).await?;
    let (mut a, world) = issuable(app, &mut tx, caller, id).await?;
    // Concurrent issues of one draft: the first to move it acts, the others answer 409
    // before a number is drawn.
    if !tx.claim_issue(&a.id).await? {
        return Err(AppError::already_done());
    }
    if tx.advisory_chain_identifier(&a.chain_id).await?.is_none() {
        let year = numbering_year(chrono::Utc::now());
        let seq = tx.next_counter("T", year).await?;
        tx.set_advisory_chain_identifier(&a.chain_id, &chain_identifier('T', year, seq)).await?;
    }
    a.status = AdvisoryStatus::Issued;
    a.issued_at = Some(now());
    save(&mut tx, &world, &a, caller).await?;
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
    notify_receivers(app, &mut tx, &a, &delivered).await?;
    tx.audit("advisory.issue", "advisory", &a.id, json!({"hops": delivered.len()})).await?;
    tx.commit().await?;
    view(app, caller, id).await
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RelayRequest {
    #[schema(required = true, nullable = false, min_items = 1)]
    pub org_ids: Option<Vec<String>>,
    pub tlp: Option<Tlp>,
}

/// Relays a received advisory one hop down, keeping or tightening its TLP.
pub async fn relay_advisory(app: &App, caller: &Caller, id: &str, body: RelayRequest) -> AppResult<AdvisoryView> {
    let targets = body.org_ids.filter(|t| !t.is_empty()).ok_or_else(|| FieldError::required("org_ids"))?;
    let mut tx = app.store.begin(caller.actor()).await?;
    let a = readable(&mut tx, caller, id).await?;
    // Concurrent relays of one advisory run one after the other.
    tx.lock_advisory(&a.id).await?;
    let hops = tx.all_hops(&a.id).await?;
    let received = hops.iter().find(|h| h.to_org_id == caller.org().id).ok_or_else(|| {
        AppError::forbidden(
            "伝達できるのはこの情報提供を受け取った組織です",
            "only an organisation that received this advisory relays it",
        )
    })?;
    let tlp = body.tlp.unwrap_or(received.tlp);
    if !tlp.keeps_or_tightens(received.tlp) {
        return Err(kyoyu_domain::report::loosening_error("tlp", received.tlp, tlp).into());
    }
    let world = app.world(&mut tx).await?;
    let f = facts(&world, &a.draft, tlp)?;
    let mut errors = ValidationErrors::default();
    for target in &targets {
        let result = match world.org(target) {
            None => Err(FieldError::unknown_code("org_ids", target)),
            Some(org) => kyoyu_policy::check_relay(caller.principal(), &org.facts(), &f),
        };
        if let Err(e) = result {
            errors.push(e);
        }
    }
    errors.into_result(())?;
    // Relaying again to those who have it acts not at all, like a concurrent twin.
    if targets.iter().all(|t| hops.iter().any(|h| &h.to_org_id == t)) {
        return Err(AppError::already_done());
    }
    let mut delivered = Vec::new();
    for target in &targets {
        let h = HopRow {
            id: new_id(),
            from_org_id: caller.org().id.clone(),
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
        return Err(AppError::already_done());
    }
    regrant(&mut tx, &world, &a.id, &a.draft).await?;
    notify_receivers(app, &mut tx, &a, &delivered).await?;
    tx.commit().await?;
    view(app, caller, id).await
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AckRequest {
    #[schema(required = true, nullable = false)]
    pub status: Option<AckStatus>,
    pub comment: Option<String>,
}

/// Records a receiving organisation's acknowledgment.
pub async fn acknowledge_advisory(app: &App, caller: &Caller, id: &str, body: AckRequest) -> AppResult<AdvisoryView> {
    let status = body.status.ok_or_else(|| FieldError::required("status"))?;
    let mut tx = app.store.begin(caller.actor()).await?;
    let a = readable(&mut tx, caller, id).await?;
    if !tx.all_hops(&a.id).await?.iter().any(|h| h.to_org_id == caller.org().id) {
        return Err(AppError::forbidden(
            "受領確認はこの情報提供を受け取った組織が行います",
            "only a receiving organisation acknowledges",
        ));
    }
    let ack = AckRow {
        org_id: caller.org().id.clone(),
        user_id: caller.user().id.clone(),
        status,
        comment: body.comment.unwrap_or_default(),
        created_at: now(),
    };
    tx.upsert_ack(&a.id, &ack).await?;
    tx.audit("advisory.acknowledge", "advisory", &a.id, json!({"status": ack.status})).await?;
    tx.commit().await?;
    view(app, caller, id).await
}

/// One advisory the caller may read.
pub async fn get_advisory(app: &App, caller: &Caller, id: &str) -> AppResult<AdvisoryView> {
    let v = view(app, caller, id).await?;
    if v.draft.tlp.needs_need_to_know() {
        audit_secret_reads(&app.store, caller, "advisory.read", "advisory", &[id], None).await?;
    }
    Ok(v)
}

/// A page of the advisories the caller may read, newest first.
pub async fn list_advisories(app: &App, caller: &Caller, f: &AdvisoryFilter, page: Page) -> AppResult<AdvisoryList> {
    let Page { limit, offset, after } = page;
    let listed = app.store.list_advisories(&caller.scope(), f, limit, offset, after.as_ref()).await?;
    let rows = listed.rows;
    let secret: Vec<&str> = rows.iter().filter(|a| a.draft.tlp.needs_need_to_know()).map(|a| a.id.as_str()).collect();
    audit_secret_reads(&app.store, caller, "advisory.list", "advisory", &secret, None).await?;
    // One query each for the page's deliveries and acknowledgments, not three per item.
    let ids: Vec<&str> = rows.iter().map(|a| a.id.as_str()).collect();
    let scope = caller.scope();
    let hops = app.store.hops_of_many(&scope, &ids).await?;
    let acks = app.store.acks_of_many(&scope, &ids).await?;
    let world = caller.world(app).await?;
    let of = |id: &str| -> (Vec<HopRow>, Vec<AckRow>) {
        let hops = hops.iter().filter(|(a, _)| a == id).map(|(_, h)| h.clone()).collect();
        (hops, acks.iter().filter(|(a, _)| a == id).map(|(_, k)| k.clone()).collect())
    };
    let items = rows
        .into_iter()
        .map(|a| {
            let (hops, acks) = of(&a.id);
            assemble(&world, caller, a, &hops, &acks)
        })
        .collect::<AppResult<_>>()?;
    Ok(AdvisoryList { items, limit, offset, next: listed.next.map(|c| c.encode()) })
}

pub async fn count_advisories(app: &App, caller: &Caller, f: &AdvisoryFilter) -> AppResult<Count> {
    Ok(Count { count: app.store.count_advisories(&caller.scope(), f).await? })
}

/// Only the coordinator and ministries inside the advisory's scope take part in its thread;
/// for everyone else it does not exist.
async fn thread_member(tx: &mut Tx, caller: &Caller, id: &str) -> AppResult<AdvisoryRow> {
    let a = readable(tx, caller, id).await?;
    if kyoyu_policy::in_question_thread(caller.principal().org()) && a.status == AdvisoryStatus::Issued {
        Ok(a)
    } else {
        Err(AppError::NotFound)
    }
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuestionRequest {
    #[schema(required = true, nullable = false, min_length = 1)]
    pub text: Option<String>,
}

/// Asks a question in an issued advisory's thread (the coordinator and ministries in scope).
pub async fn ask_question(app: &App, caller: &Caller, id: &str, body: QuestionRequest) -> AppResult<QuestionRow> {
    let text = body.text.filter(|t| !t.trim().is_empty()).ok_or_else(|| FieldError::required("text"))?;
    if text.chars().count() > kyoyu_domain::report::MAX_TEXT {
        return Err(FieldError::new("text", "長すぎます", "is too long").into());
    }
    let mut tx = app.store.begin(caller.actor()).await?;
    let a = thread_member(&mut tx, caller, id).await?;
    let q = QuestionRow { id: new_id(), author_org_id: caller.org().id.clone(), text: text.clone(), created_at: now() };
    tx.insert_question(&a.id, &q, &caller.user().id).await?;
    tx.audit("advisory.question", "advisory", &a.id, json!({"question_id": q.id})).await?;
    // Everyone in the thread but the author hears of it.
    let world = app.world(&mut tx).await?;
    let identifier = tx.advisory_chain_identifier(&a.chain_id).await?.map(|c| report_identifier(&c, a.sequence));
    let mut members: Vec<String> = vec![world.coordinator()?.to_string()];
    members.extend(a.draft.recipients.iter().map(|r| r.ministry_org_id.clone()));
    members.sort();
    members.dedup();
    for org in members.iter().filter(|o| **o != caller.org().id) {
        let users = tx.advisory_readers_in(&a.id, org).await?;
        let notice = Notice {
            kind: "advisory.question",
            object_type: "advisory",
            object_id: &a.id,
            subject: notify::subject(a.draft.tlp, a.draft.severity, identifier.as_deref(), ("質問", "question")),
            body: text.clone(),
            tlp: a.draft.tlp,
            link_path: format!("/api/v1/advisories/{}/questions", a.id),
        };
        notify::notify(&mut tx, &app.mail, &users, &notice).await?;
    }
    tx.commit().await?;
    Ok(q)
}

pub async fn list_questions(app: &App, caller: &Caller, id: &str) -> AppResult<QuestionList> {
    let mut tx = app.store.begin(caller.actor()).await?;
    let a = thread_member(&mut tx, caller, id).await?;
    if a.draft.tlp.needs_need_to_know() {
        tx.audit("advisory.questions.read", "advisory", &a.id, json!({})).await?;
        tx.commit().await?;
    }
    let posts = app.store.questions_of(&caller.scope(), id).await?;
    Ok(QuestionList::new(posts, caller.world(app).await?.coordinator()?))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WideningRequest {
    #[schema(required = true, nullable = false)]
    pub report_id: Option<String>,
}

/// Notifies the users of an organisation about a widening request (their organisation takes
/// part in it, so no reader rows apply).
async fn notify_widening(app: &App, tx: &mut Tx, org_id: &str, w_id: &str, what: (&str, &str)) -> AppResult<()> {
    let users: Vec<_> = tx.users_of(org_id).await?.into_iter().filter(|u| u.active && u.need_to_know).collect();
    let notice = Notice {
        kind: "scope_widening",
        object_type: "scope_widening",
        object_id: w_id,
        subject: notify::Subject {
            both: format!("[kyoyu] 提供範囲の拡大 / scope widening: {} / {}", what.0, what.1),
            en: format!("[kyoyu] scope widening: {}", what.1),
        },
        body: String::new(),
        tlp: Tlp::Amber,
        link_path: "/api/v1/scope-widenings".into(),
    };
    notify::notify(tx, &app.mail, &users, &notice).await
}

/// Asks a source's operator (through its secretariat on the anonymised route) to let the
/// advisory reach further than the source allowed.
pub async fn request_scope_widening(
    app: &App,
    caller: &Caller,
    id: &str,
    body: WideningRequest,
) -> AppResult<WideningView> {
    let report_id = body.report_id.ok_or_else(|| FieldError::required("report_id"))?;
    let mut tx = app.store.begin(caller.actor()).await?;
    let a = readable(&mut tx, caller, id).await?;
    kyoyu_policy::check_coordinator_officer(caller.principal())?;
    require_draft(&a)?;
    if !a.draft.source_report_ids.contains(&report_id) {
        return Err(FieldError::new(
            "report_id",
            "この情報提供の情報源ではありません",
            "is not a source of this advisory",
        )
        .into());
    }
    let report = tx.get_report(&caller.scope(), &report_id).await?.ok_or(AppError::NotFound)?;
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
        author_org_id: caller.org().id.clone(),
        originator_org_id: report.chain.originator_org_id.clone(),
        secretariat_org_id: report.chain.secretariat_org_id.clone(),
        target_tlp: Some(a.draft.tlp),
        target_recipients: a.draft.recipients.clone(),
    };
    tx.insert_widening(&w).await?;
    let first = w.secretariat_org_id.clone().filter(|_| via_secretariat).unwrap_or(w.originator_org_id.clone());
    notify_widening(app, &mut tx, &first, &w.id, ("依頼", "request")).await?;
    tx.audit("scope_widening.request", "scope_widening", &w.id, json!({"advisory_id": a.id})).await?;
    tx.commit().await?;
    Ok(WideningView::new(&w, caller.principal()))
}

async fn visible_widening(tx: &mut Tx, caller: &Caller, id: &str) -> AppResult<kyoyu_store::WideningRow> {
    let w = tx.get_widening(&caller.scope(), id).await?.ok_or(AppError::NotFound)?;
    if let Some(c) = w.concealed() {
        tx.conceal(c);
    }
    Ok(w)
}

/// The secretariat passes a request on to its member, keeping the coordinator from learning who.
pub async fn relay_scope_widening(app: &App, caller: &Caller, id: &str) -> AppResult<WideningView> {
    let mut tx = app.store.begin(caller.actor()).await?;
    let w = visible_widening(&mut tx, caller, id).await?;
    kyoyu_policy::check_widening_relay(caller.principal(), w.secretariat_org_id.as_deref())?;
    let (from, to) = (WideningStatus::AtSecretariat, WideningStatus::Pending);
    if w.status != from || !tx.set_widening_status(&w.id, from, to, None).await? {
        return Err(AppError::conflict("この依頼は伝達済みです", "this request has already been relayed"));
    }
    notify_widening(app, &mut tx, &w.originator_org_id, &w.id, ("依頼", "request")).await?;
    tx.audit("scope_widening.relay", "scope_widening", &w.id, json!({})).await?;
    tx.commit().await?;
    widening_now(app, caller, id).await
}

/// The request as the caller sees it after a change.
async fn widening_now(app: &App, caller: &Caller, id: &str) -> AppResult<WideningView> {
    let rows = app.store.list_widenings(&caller.scope()).await?;
    let w = rows.iter().find(|w| w.id == id).ok_or(AppError::NotFound)?;
    Ok(WideningView::new(w, caller.principal()))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerRequest {
    #[schema(required = true, nullable = false)]
    pub grant: Option<bool>,
}

/// The operator's answer to a widening request: consent is informed and authorised.
pub async fn answer_scope_widening(
    app: &App,
    caller: &Caller,
    id: &str,
    body: AnswerRequest,
) -> AppResult<WideningView> {
    let grant = body.grant.ok_or_else(|| FieldError::required("grant"))?;
    let mut tx = app.store.begin(caller.actor()).await?;
    let w = visible_widening(&mut tx, caller, id).await?;
    kyoyu_policy::check_widening_answer(caller.principal(), &w.originator_org_id)?;
    let status = if grant { WideningStatus::Granted } else { WideningStatus::Refused };
    let answered = (now(), caller.user().id.clone());
    let from = WideningStatus::Pending;
    if w.status != from || !tx.set_widening_status(&w.id, from, status, Some((&answered.0, &answered.1))).await? {
        return Err(AppError::conflict("この依頼には回答済みです", "this request has already been answered"));
    }
    notify_widening(
        app,
        &mut tx,
        &w.author_org_id,
        &w.id,
        if grant { ("同意", "granted") } else { ("不同意", "refused") },
    )
    .await?;
    tx.audit("scope_widening.answer", "scope_widening", &w.id, json!({"grant": grant})).await?;
    tx.commit().await?;
    widening_now(app, caller, id).await
}

pub async fn list_scope_widenings(app: &App, caller: &Caller) -> AppResult<WideningList> {
    let rows = app.store.list_widenings(&caller.scope()).await?;
    Ok(WideningList { items: rows.iter().map(|w| WideningView::new(w, caller.principal())).collect() })
}
