//! Information from partners to the coordinator (情報の提供, 004 3.1): sent by ministries,
//! agencies, institutions and vendors, numbered P2026-0001, followed up by its sender, and
//! shared by the coordinator inside its TLP. Only the sender and the coordinator learn who
//! sent it: shared readers, notices and the audit log (outside those two) never say.

use crate::notify::{self, Notice};
use crate::reads::{audit_secret_reads, Page};
use crate::reports::{add_sorted, ShareRequest};
use crate::views::{Banner, Count};
use crate::world::World;
use crate::{App, AppError, AppResult, Caller};
use kyoyu_domain::identifier::{chain_identifier, numbering_year, report_identifier};
use kyoyu_domain::partner::{PartnerContent, PartnerInput};
use kyoyu_domain::{FieldError, ValidationErrors};
use kyoyu_policy::partner::{self as policy, PartnerActions, PartnerFacts};
use kyoyu_store::{new_id, now, Concealed, PartnerFilter, PartnerRow, Tx};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// One item of partner information as its reader sees it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PartnerView {
    pub id: String,
    /// P2026-0001, `-n` for follow-ups.
    pub identifier: String,
    pub chain_id: String,
    pub sequence: i64,
    /// Who sent it: only for the sender and the coordinator, null for everyone else.
    pub sender_org_id: Option<String>,
    #[serde(flatten)]
    pub content: PartnerContent,
    pub created_at: String,
    pub banner: Banner,
    /// Whom the coordinator shared it with: only for the sender and the coordinator.
    pub shared_with: Vec<String>,
    pub actions: PartnerActions,
}

/// A page of partner information.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PartnerList {
    pub items: Vec<PartnerView>,
    pub limit: i64,
    pub offset: i64,
    /// Pass as `after` for the next page; absent on the last page.
    pub next: Option<String>,
}

/// The facts of one item, for the policy.
pub(crate) struct Facts {
    coordinator: String,
    concerned_ministries: Vec<String>,
    shared_to: Vec<String>,
}

impl Facts {
    pub(crate) fn of(world: &World, content: &PartnerContent, shared_to: Vec<String>) -> AppResult<Facts> {
        let mut concerned_ministries: Vec<String> =
            content.sectors.iter().filter_map(|s| world.ministry_of(s)).map(str::to_string).collect();
        concerned_ministries.sort();
        concerned_ministries.dedup();
        Ok(Facts { coordinator: world.coordinator()?.to_string(), concerned_ministries, shared_to })
    }

    pub(crate) fn coordinator(&self) -> &str {
        &self.coordinator
    }

    pub(crate) fn of_row<'a>(&'a self, row: &'a PartnerRow) -> PartnerFacts<'a> {
        PartnerFacts {
            tlp: row.content.tlp,
            sender: &row.sender_org_id,
            coordinator: &self.coordinator,
            sectors: &row.content.sectors,
            concerned_ministries: &self.concerned_ministries,
            shared_to: &self.shared_to,
        }
    }
}

/// Who acted on or read an item is for the sender and the coordinator to see.
pub(crate) fn concealed(row: &PartnerRow, coordinator: &str) -> Concealed {
    Concealed { org_id: row.sender_org_id.clone(), secretariat_id: Some(coordinator.to_string()) }
}

fn view(world: &World, caller: &Caller, row: PartnerRow, facts: &Facts) -> PartnerView {
    let f = facts.of_row(&row);
    let knows = f.knows_sender(caller.org_id());
    let actions = policy::partner_actions(caller.principal(), &f, world.directory());
    let c = row.content;
    PartnerView {
        identifier: report_identifier(&row.identifier, row.sequence),
        id: row.id,
        chain_id: row.chain_id,
        sequence: row.sequence,
        sender_org_id: knows.then_some(row.sender_org_id),
        banner: Banner::for_item(c.tlp, Some(c.severity)),
        content: c,
        created_at: row.created_at,
        shared_with: if knows { facts.shared_to.clone() } else { Vec::new() },
        actions,
    }
}

fn check_sectors(world: &World, content: &PartnerContent) -> AppResult<()> {
    let mut errors = ValidationErrors::default();
    for (i, s) in content.sectors.iter().enumerate() {
        if world.sector(s).is_none() {
            errors.push(FieldError::unknown_code(&format!("sectors[{i}]"), s));
        }
    }
    errors.into_result(()).map_err(AppError::from)
}

/// Writes one item with the readers the policy grants, its audit entry and the notices.
async fn insert(
    app: &App,
    tx: &mut Tx,
    world: &World,
    caller: &Caller,
    row: &PartnerRow,
    shares: Vec<String>,
) -> AppResult<()> {
    let facts = Facts::of(world, &row.content, shares)?;
    let grants = policy::partner_grants(&facts.of_row(row), world.facts_of());
    tx.insert_partner(row, &caller.user().id, &grants).await?;
    for org in &facts.shared_to {
        tx.insert_partner_share(&row.id, org, &facts.coordinator, &row.created_at).await?;
    }
    tx.conceal(concealed(row, &facts.coordinator));
    let action = if row.sequence == 1 { "partner.create" } else { "partner.follow_up" };
    tx.audit(action, "partner", &row.id, json!({"identifier": report_identifier(&row.identifier, row.sequence)}))
        .await?;
    let readers: Vec<String> = grants.rows().iter().map(|(o, _)| o.clone()).filter(|o| o != caller.org_id()).collect();
    notify_readers(app, tx, row, &grants, &readers).await
}

/// Tells `orgs`' readers an item reached them. The subject names it by TLP, severity and
/// identifier, never by its sender; RED and AMBER mail carries only a link.
async fn notify_readers(
    app: &App,
    tx: &mut Tx,
    row: &PartnerRow,
    grants: &kyoyu_policy::AccessGrants,
    orgs: &[String],
) -> AppResult<()> {
    let identifier = report_identifier(&row.identifier, row.sequence);
    let notice = Notice {
        kind: "partner.received",
        object_type: "partner",
        object_id: &row.id,
        subject: notify::subject(
            row.content.tlp,
            Some(row.content.severity),
            Some(&identifier),
            ("関係機関からの情報", "partner information"),
        ),
        body: row.content.title.clone(),
        tlp: row.content.tlp,
        link_path: format!("/partner-information/{}", row.id),
    };
    let world = app.world(tx).await?;
    notify::notify_readers(tx, &world, &app.mail, grants, orgs, &notice).await
}

/// A partner sends the coordinator what it knows; numbered at once in the P series.
pub async fn create_partner_information(app: &App, caller: &Caller, input: PartnerInput) -> AppResult<PartnerView> {
    policy::check_send(caller.principal())?;
    let content = input.into_content()?;
    let mut tx = app.store.begin(caller.actor()).await?;
    let world = app.world(&mut tx).await?;
    check_sectors(&world, &content)?;
    let at = now();
    let seq = tx.next_counter("P", numbering_year(chrono::Utc::now())).await?;
    let identifier = chain_identifier('P', numbering_year(chrono::Utc::now()), seq);
    let chain_id = new_id();
    tx.insert_partner_chain(&chain_id, &identifier, caller.org_id(), &at).await?;
    let row = PartnerRow {
        id: new_id(),
        chain_id,
        identifier,
        sequence: 1,
        sender_org_id: caller.org_id().to_string(),
        content,
        created_at: at,
    };
    insert(app, &mut tx, &world, caller, &row, Vec::new()).await?;
    tx.commit().await?;
    get(app, caller, &row.id).await
}

/// The sender follows an item up: the fields given replace the previous ones; the
/// coordinator's shares carry over where the new TLP still allows them.
pub async fn create_partner_follow_up(
    app: &App,
    caller: &Caller,
    id: &str,
    input: PartnerInput,
) -> AppResult<PartnerView> {
    let mut tx = app.store.begin(caller.actor()).await?;
    let previous = tx.get_partner(&caller.scope(), id).await?.ok_or(AppError::NotFound)?;
    tx.lock_partner_chain(&previous.chain_id).await?;
    let world = app.world(&mut tx).await?;
    let shares = tx.partner_shares(&previous.id).await?;
    let facts = Facts::of(&world, &previous.content, shares.clone())?;
    policy::check_follow_up(caller.principal(), &facts.of_row(&previous))?;
    let content = input.follow_up_of(&previous.content)?;
    check_sectors(&world, &content)?;
    let row = PartnerRow {
        id: new_id(),
        sequence: tx.max_partner_sequence(&previous.chain_id).await? + 1,
        content,
        created_at: now(),
        ..previous
    };
    let kept = Facts::of(&world, &row.content, shares.clone())?;
    let inside =
        |o: &String| world.org(o).is_some_and(|org| policy::inside_partner_ceiling(&org.facts(), &kept.of_row(&row)));
    let shares: Vec<String> = shares.iter().filter(|o| inside(o)).cloned().collect();
    insert(app, &mut tx, &world, caller, &row, shares).await?;
    tx.commit().await?;
    get(app, caller, &row.id).await
}

/// The coordinator shares an item with organisations inside its ceiling (all or nothing).
pub async fn share_partner_information(
    app: &App,
    caller: &Caller,
    id: &str,
    request: ShareRequest,
) -> AppResult<PartnerView> {
    let targets = request.org_ids.filter(|ids| !ids.is_empty()).ok_or_else(|| FieldError::required("org_ids"))?;
    let mut tx = app.store.begin(caller.actor()).await?;
    let row = tx.get_partner(&caller.scope(), id).await?.ok_or(AppError::NotFound)?;
    tx.lock_partner_chain(&row.chain_id).await?;
    let world = app.world(&mut tx).await?;
    let mut facts = Facts::of(&world, &row.content, tx.partner_shares(&row.id).await?)?;
    let mut errors = ValidationErrors::default();
    for target in &targets {
        let Some(org) = world.org(target) else {
            errors.push(FieldError::new(
                "org_ids",
                format!("組織 {target} は登録されていません"),
                format!("organisation {target} is not registered"),
            ));
            continue;
        };
        match policy::check_share(caller.principal(), &org.facts(), &facts.of_row(&row)) {
            Ok(()) => {}
            Err(kyoyu_policy::Denial::Invalid(e)) => errors.0.extend(e.0),
            Err(denial) => return Err(denial.into()),
        }
    }
    errors.into_result(()).map_err(AppError::from)?;
    let at = now();
    let mut added = Vec::new();
    // The sender and the coordinator read it already: a share adds nobody there.
    for target in targets.iter().filter(|t| !facts.of_row(&row).knows_sender(t)) {
        if tx.insert_partner_share(&row.id, target, caller.org_id(), &at).await? {
            added.push(target.clone());
        }
    }
    if added.is_empty() {
        return Err(AppError::already_done());
    }
    add_sorted(&mut facts.shared_to, &added);
    let grants = policy::partner_grants(&facts.of_row(&row), world.facts_of());
    tx.replace_partner_access(&row.id, &grants).await?;
    tx.conceal(concealed(&row, &facts.coordinator));
    tx.audit("partner.share", "partner", &row.id, json!({"org_ids": added})).await?;
    notify_readers(app, &mut tx, &row, &grants, &added).await?;
    tx.commit().await?;
    get(app, caller, &row.id).await
}

async fn get(app: &App, caller: &Caller, id: &str) -> AppResult<PartnerView> {
    let row = app.store.get_partner(&caller.scope(), id).await?.ok_or(AppError::NotFound)?;
    let world = caller.world(app).await?;
    let facts = Facts::of(&world, &row.content, app.store.partner_shares(&row.id).await?)?;
    Ok(view(&world, caller, row, &facts))
}

async fn audit_reads(app: &App, caller: &Caller, action: &str, rows: &[&PartnerRow]) -> AppResult<()> {
    let world = caller.world(app).await?;
    let coordinator = world.coordinator()?;
    for row in rows.iter().filter(|r| r.content.tlp.needs_need_to_know()) {
        audit_secret_reads(&app.store, caller, action, "partner", &[&row.id], Some(concealed(row, coordinator)))
            .await?;
    }
    Ok(())
}

/// One item the caller may read (secret reads audited).
pub async fn get_partner_information(app: &App, caller: &Caller, id: &str) -> AppResult<PartnerView> {
    let row = app.store.get_partner(&caller.scope(), id).await?.ok_or(AppError::NotFound)?;
    audit_reads(app, caller, "partner.read", &[&row]).await?;
    get(app, caller, id).await
}

/// How many items [`list_partner_information`] would list, by the same scope and filter.
pub async fn count_partner_information(app: &App, caller: &Caller, f: &PartnerFilter) -> AppResult<Count> {
    Ok(Count { count: app.store.count_partner(&caller.scope(), f).await? })
}

/// A page of what the caller may read, newest first.
pub async fn list_partner_information(
    app: &App,
    caller: &Caller,
    f: &PartnerFilter,
    page: Page,
) -> AppResult<PartnerList> {
    let Page { limit, offset, after } = page;
    let listed = app.store.list_partner(&caller.scope(), f, limit, offset, after.as_ref()).await?;
    audit_reads(app, caller, "partner.list", &listed.rows.iter().collect::<Vec<_>>()).await?;
    let world = caller.world(app).await?;
    let ids: Vec<&str> = listed.rows.iter().map(|r| r.id.as_str()).collect();
    let mut shares = app.store.partner_shares_of_many(&ids).await?;
    let mut items = Vec::with_capacity(listed.rows.len());
    for row in listed.rows {
        let facts = Facts::of(&world, &row.content, shares.remove(&row.id).unwrap_or_default())?;
        items.push(view(&world, caller, row, &facts));
    }
    Ok(PartnerList { items, limit, offset, next: listed.next.map(|c| c.encode()) })
}

/// Whether the caller may send partner information (the web offers the form).
pub fn may_send(caller: &Caller) -> bool {
    policy::check_send(caller.principal()).is_ok()
}
