//! The reporting chain (情報連絡, domain.md §6-§7): file, read, forward, follow up, share,
//! disclosure consent and publication.

use crate::notify::{self, Notice};
use crate::reads::{audit_secret_reads, Page};
use crate::views::{Count, ForwardPreview, Forwarded, PublishedList, ReportList, ReportView, Shared, TriageView};
use crate::world::{Hop, World};
use crate::{App, AppError, AppResult, Caller};
use kyoyu_domain::anonymise::Removal;
use kyoyu_domain::codes::{OrgKind, Route, TriageState};
use kyoyu_domain::identifier::{chain_identifier, numbering_year};
use kyoyu_domain::report::{ReportContent, ReportInput};
use kyoyu_domain::{FieldError, ValidationErrors};
use kyoyu_policy::{Denial, ReportState, ShareKind};
use kyoyu_store::{new_id, now, ChainRow, NewRendition, ReportFilter, ReportRow, Shares, TriageRow, Tx, MAX_PAGE};
use serde::Deserialize;
use serde_json::json;

/// Whom to share a rendition with.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShareRequest {
    #[schema(required = true, nullable = false, min_items = 1)]
    pub org_ids: Option<Vec<String>>,
}

impl From<Denial> for AppError {
    fn from(d: Denial) -> Self {
        match d {
            Denial::Forbidden(r) => r.into(),
            Denial::Conflict(r) => AppError::conflict(r.ja, r.en),
            Denial::Invalid(errors) => errors.into(),
        }
    }
}

/// The facts the policy decides a rendition's actions by.
fn state_of<'a>(world: &'a World, row: &'a ReportRow, shared: &'a Shares) -> ReportState<'a> {
    ReportState {
        facts: world.row_facts(row, shared),
        status: row.status,
        identifies_operator: row.identifies_operator,
        disclosure_consented: row.chain.disclosure_consent_at.is_some(),
        published: row.published_at.is_some(),
        council: None,
    }
}

/// Loads a rendition the caller may read, inside the write's transaction; 404 otherwise,
/// whatever the reason, so a write by id reveals nothing either.
pub(crate) async fn readable(tx: &mut Tx, caller: &Caller, id: &str) -> AppResult<ReportRow> {
    let row = tx.get_report(&caller.scope(), id).await?.ok_or(AppError::NotFound)?;
    // Whatever this write records about an anonymised chain is concealed from others.
    if let Some(c) = row.chain.concealed() {
        tx.conceal(c);
    }
    Ok(row)
}

/// The rendition as the caller now sees it, with what the caller may do with it.
async fn view_for(app: &App, caller: &Caller, row: &ReportRow) -> AppResult<ReportView> {
    Ok(views_for(app, caller, std::slice::from_ref(row)).await?.remove(0))
}

/// The views of a page of renditions with the caller's actions and, where the caller's
/// organisation received them, its triage: one query each for shares, triage and staff.
async fn views_for(app: &App, caller: &Caller, rows: &[ReportRow]) -> AppResult<Vec<ReportView>> {
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    let shares = app.store.shares_of_many(&ids).await?;
    let received: Vec<&str> =
        rows.iter().filter(|r| r.receiver_org_id == caller.org_id()).map(|r| r.id.as_str()).collect();
    let triage = app.store.triage_of_many(&received).await?;
    let staff = if received.is_empty() { Vec::new() } else { app.store.list_users(Some(caller.org_id())).await? };
    let world = caller.world(app).await?;
    let directory = world.directory();
    let council = crate::council::CouncilFacts::for_page(app, caller, &world, &ids).await?;
    let none = Shares::default();
    let views = rows.iter().map(|r| {
        let shared = shares.get(&r.id).unwrap_or(&none);
        let mut view = ReportView::new(r, Some(caller.org_id()));
        let state = ReportState { council: council.offered_for(&r.id), ..state_of(&world, r, shared) };
        let actions = kyoyu_policy::report_actions(caller.principal(), &state, directory);
        if actions.triage {
            view.triage = Some(TriageView::new(triage.iter().find(|t| t.report_id == r.id), &staff));
        }
        view.actions = Some(actions);
        view
    });
    Ok(views.collect())
}

/// Answers with the rendition as the caller now sees it, after a write.
async fn respond(app: &App, caller: &Caller, id: &str) -> AppResult<ReportView> {
    let row = app.store.get_report(&caller.scope(), id).await?.ok_or(AppError::NotFound)?;
    view_for(app, caller, &row).await
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
    app: &App,
    tx: &mut Tx,
    world: &World,
    at: Placement<'_>,
    content: ReportContent,
    caller: &Caller,
) -> AppResult<String> {
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
        created_by: caller.user().id.clone(),
        created_at: now(),
    };
    tx.insert_rendition(&rendition, &grants).await?;
    let identifier = if Some(hop.receiver) == world.coordinator().ok() {
        Some(assign_identifier(tx, chain).await?)
    } else {
        chain.identifier.clone()
    };
    tx.defer_rendition_objects(&rendition.id, identifier.as_deref()).await?;
    notify_arrival(app, tx, &rendition, chain.route, &grants, identifier.as_deref()).await?;
    Ok(rendition.id)
}

/// Tells the receiving organisation's readers that a rendition reached them, in the write's
/// transaction (concealed with it on the anonymised route). The subject names the item by
/// TLP, severity and identifier, never by who sent it; RED and AMBER mail carries only a link.
async fn notify_arrival(
    app: &App,
    tx: &mut Tx,
    rendition: &NewRendition,
    route: Route,
    grants: &kyoyu_policy::AccessGrants,
    identifier: Option<&str>,
) -> AppResult<()> {
    let c = &rendition.content;
    let what = match route {
        Route::Urgent => ("報告（緊急連絡）", "report (urgent)"),
        _ => ("報告", "report"),
    };
    let identifier = identifier.map(|chain| kyoyu_domain::identifier::report_identifier(chain, rendition.sequence));
    let notice = Notice {
        kind: "report.received",
        object_type: "report",
        object_id: &rendition.id,
        subject: notify::subject(c.tlp, c.severity, identifier.as_deref(), what),
        body: c.summary.description.clone().unwrap_or_default(),
        tlp: c.tlp,
        link_path: format!("/reports/{}", rendition.id),
    };
    let world = app.world(tx).await?;
    notify::notify_readers(tx, &world, &app.mail, grants, std::slice::from_ref(&rendition.receiver_org_id), &notice)
        .await
}

/// Tells the readers of the organisations a share brought a rendition to (`orgs`), as an
/// arrival is told: by TLP, severity and identifier, never by who shared or sent it.
pub(crate) async fn notify_shared(
    app: &App,
    tx: &mut Tx,
    row: &ReportRow,
    grants: &kyoyu_policy::AccessGrants,
    orgs: &[String],
) -> AppResult<()> {
    let c = &row.content;
    let identifier =
        row.chain.identifier.as_deref().map(|chain| kyoyu_domain::identifier::report_identifier(chain, row.sequence));
    let notice = Notice {
        kind: "report.shared",
        object_type: "report",
        object_id: &row.id,
        subject: notify::subject(c.tlp, c.severity, identifier.as_deref(), ("共有された報告", "shared report")),
        body: c.summary.description.clone().unwrap_or_default(),
        tlp: c.tlp,
        link_path: format!("/reports/{}", row.id),
    };
    let world = app.world(tx).await?;
    notify::notify_readers(tx, &world, &app.mail, grants, orgs, &notice).await
}

/// The chain's identifier, given on the coordinator's first receipt; exercises have their
/// own series (E…).
async fn assign_identifier(tx: &mut Tx, chain: &ChainRow) -> AppResult<String> {
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
async fn file_hops(
    app: &App,
    tx: &mut Tx,
    world: &World,
    chain: &ChainRow,
    sequence: i64,
    mut content: ReportContent,
    caller: &Caller,
) -> AppResult<Vec<String>> {
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
        content.operator_name = Some(caller.org().name_ja.clone());
    }
    let receivers = world.first_receivers(chain.route, &chain.sector)?;
    let mut ids = Vec::new();
    for receiver in &receivers {
        let hop = Hop { sender: caller.org_id(), receiver, originator: &chain.originator_org_id };
        let at = Placement { chain, sequence, parent_id: None, hop };
        ids.push(insert_hop(app, tx, world, at, content.clone(), caller).await?);
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

/// Files the first report of a new chain (第1報).
pub async fn file_report(app: &App, caller: &Caller, input: ReportInput) -> AppResult<ReportView> {
    if caller.org().kind != OrgKind::Operator {
        return Err(AppError::forbidden("報告を作成できるのは重要インフラ事業者等です", "only operators file reports"));
    }
    let new = input.into_new_report()?;
    let mut tx = app.store.begin(caller.actor()).await?;
    let world = app.world(&mut tx).await?;
    let chain = ChainRow {
        id: new_id(),
        route: new.route,
        statutory: new.statutory,
        exercise: new.exercise,
        sector: caller.org().sector.clone().unwrap_or_default(),
        originator_org_id: caller.org().id.clone(),
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
    let ids = file_hops(app, &mut tx, &world, &chain, 1, new.content, caller).await?;
    tx.commit().await?;
    respond(app, caller, &ids[0]).await
}

/// Files the next report (第n報) of the chain `id` belongs to.
pub async fn file_follow_up(app: &App, caller: &Caller, id: &str, mut input: ReportInput) -> AppResult<ReportView> {
    let mut tx = app.store.begin(caller.actor()).await?;
    let row = readable(&mut tx, caller, id).await?;
    let world = app.world(&mut tx).await?;
    kyoyu_policy::check_follow_up(caller.principal(), &state_of(&world, &row, &Shares::default()))?;
    let chain = row.chain.clone();
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
    // Concurrent follow-ups of one chain number themselves one after the other.
    tx.lock_chain(&chain.id).await?;
    let sequence = tx.max_sequence(&chain.id).await? + 1;
    let ids = file_hops(app, &mut tx, &world, &chain, sequence, new.content, caller).await?;
    tx.commit().await?;
    respond(app, caller, &ids[0]).await
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
) -> AppResult<Forward> {
    let shared = tx.shares_of(&row.id).await?;
    kyoyu_policy::check_forward(caller.principal(), &state_of(world, row, &shared))?;
    let receiver = world.next_receiver(&row.receiver_org_id, &row.content.sector)?;
    let contact = edits.sender_contact.clone();
    let mut content = edits.apply_to(&row.content)?;
    // The sender block names whoever sends this hop, never the previous sender.
    content.sender_contact = contact;
    let mut errors = ValidationErrors::default();
    check_extras(world, &content, &mut errors);
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

/// Forwards a received rendition to the next receiver up the chain, scrubbed on the
/// anonymised route.
/// `attachment_ids` chooses the files carried on (None: every file the forwarder reads).
pub async fn forward_report(
    app: &App,
    caller: &Caller,
    id: &str,
    edits: ReportInput,
    attachment_ids: Option<&[String]>,
) -> AppResult<Forwarded> {
    let mut tx = app.store.begin(caller.actor()).await?;
    let row = readable(&mut tx, caller, id).await?;
    let world = app.world(&mut tx).await?;
    let fwd = prepare_forward(&mut tx, &world, caller, &row, edits).await?;
    // Concurrent forwards of one rendition: the first to mark it acts, the others answer 409.
    if !tx.claim_forward(&row.id).await? {
        return Err(AppError::already_done());
    }
    // Forwarding is acting on it: it leaves the receiver's board, owner kept.
    let owner = app.store.triage_of_many(&[row.id.as_str()]).await?.pop().and_then(|t| t.owner_user_id);
    record_triage(&mut tx, caller, &row.id, TriageState::Done, owner).await?;
    let hop = Hop { sender: caller.org_id(), receiver: &fwd.receiver, originator: &row.chain.originator_org_id };
    let tlp = fwd.content.tlp;
    let new_id = insert_hop(
        app,
        &mut tx,
        &world,
        Placement { chain: &row.chain, sequence: row.sequence, parent_id: Some(&row.id), hop },
        fwd.content,
        caller,
    )
    .await?;
    let files = crate::files::carry_forward(&mut tx, caller, &world, &row, &new_id, tlp, attachment_ids).await?;
    tx.audit(
        "report.forward",
        "report",
        &new_id,
        json!({"from": row.id, "receiver": fwd.receiver, "removed_count": fwd.removed.len(), "files": files}),
    )
    .await?;
    tx.commit().await?;
    Ok(Forwarded { report: respond(app, caller, &new_id).await?, removed: fwd.removed })
}

/// What a forward would send, without sending it: the secretariat checks the scrubbing.
pub async fn preview_forward(
    app: &App,
    caller: &Caller,
    id: &str,
    edits: ReportInput,
    attachment_ids: Option<&[String]>,
) -> AppResult<ForwardPreview> {
    let mut tx = app.store.begin(caller.actor()).await?;
    let row = readable(&mut tx, caller, id).await?;
    let world = app.world(&mut tx).await?;
    let fwd = prepare_forward(&mut tx, &world, caller, &row, edits).await?;
    let attachments = crate::files::preview_carried(&mut tx, caller, &world, &row, attachment_ids).await?;
    // Nothing is written but the audit entry of reading a secret item.
    if row.content.tlp.needs_need_to_know() {
        tx.audit("report.preview", "report", &row.id, json!({})).await?;
        tx.commit().await?;
    }
    Ok(ForwardPreview { receiver_org_id: fwd.receiver, rendition: fwd.content, removed: fwd.removed, attachments })
}

/// Shares a rendition with organisations inside its ceiling, all or none. An operator's
/// share of its own submission with a response agency is a crime report: kept apart and
/// concealed from everyone but the two of them.
pub async fn share_report(app: &App, caller: &Caller, id: &str, request: ShareRequest) -> AppResult<Shared> {
    let targets = request.org_ids.filter(|ids| !ids.is_empty()).ok_or_else(|| FieldError::required("org_ids"))?;
    let mut tx = app.store.begin(caller.actor()).await?;
    let row = readable(&mut tx, caller, id).await?;
    // Concurrent shares of one rendition compute its readers one after the other.
    tx.lock_report(&row.id).await?;
    let world = app.world(&mut tx).await?;
    let mut shares = tx.shares_of(&row.id).await?;
    let kinds = check_share_targets(&world, caller, &row, &shares, &targets)?;
    let (crime, community): (Vec<_>, Vec<_>) = targets.iter().zip(kinds).partition(|(_, k)| *k == ShareKind::Crime);
    let community: Vec<String> = community.into_iter().map(|(t, _)| t.clone()).collect();
    let crime: Vec<String> = crime.into_iter().map(|(t, _)| t.clone()).collect();
    let at = now();
    let mut added = Vec::new();
    for target in &community {
        if tx.insert_share(&row.id, target, caller.org_id(), &at).await? {
            added.push(target.clone());
        }
    }
    for target in &crime {
        if tx.insert_crime_share(&row.id, target, &caller.user().id, &at).await? {
            added.push(target.clone());
        }
    }
    if added.is_empty() {
        return Err(AppError::already_done());
    }
    add_sorted(&mut shares.community, &community);
    add_sorted(&mut shares.crime, &crime);
    let grants = kyoyu_policy::access_grants(&world.row_facts(&row, &shares), world.facts_of());
    tx.replace_access(&row.id, &grants).await?;
    if !community.is_empty() {
        tx.audit("report.share", "report", &row.id, json!({"org_ids": community})).await?;
    }
    if !crime.is_empty() {
        // Who reported what to whom stays with the operator; others see only that a share happened.
        tx.conceal(kyoyu_store::Concealed { org_id: caller.org_id().to_string(), secretariat_id: None });
        tx.audit("report.share", "report", &row.id, json!({"org_ids": crime, "crime": true})).await?;
    }
    notify_shared(app, &mut tx, &row, &grants, &added).await?;
    tx.commit().await?;
    Ok(Shared { report_id: row.id, shared_with: targets })
}

pub(crate) fn add_sorted(ids: &mut Vec<String>, more: &[String]) {
    ids.extend_from_slice(more);
    ids.sort();
    ids.dedup();
}

/// All or nothing: one refused receiver refuses the share. Answers how each is kept.
fn check_share_targets(
    world: &World,
    caller: &Caller,
    row: &ReportRow,
    shares: &Shares,
    targets: &[String],
) -> AppResult<Vec<ShareKind>> {
    let facts = world.row_facts(row, shares);
    let mut errors = ValidationErrors::default();
    let mut kinds = Vec::with_capacity(targets.len());
    for target in targets {
        let result = match world.org(target) {
            None => Err(FieldError::new(
                "org_ids",
                format!("組織 {target} は登録されていません"),
                format!("organisation {target} does not exist"),
            )),
            Some(org) => kyoyu_policy::check_share(caller.principal(), &org.facts(), &facts, row.identifies_operator),
        };
        match result {
            Ok(kind) => kinds.push(kind),
            Err(e) => errors.push(e),
        }
    }
    Ok(errors.into_result(kinds)?)
}

/// Records the reporting operator's consent to disclosure of its chain.
pub async fn consent_to_disclosure(app: &App, caller: &Caller, id: &str) -> AppResult<ReportView> {
    let mut tx = app.store.begin(caller.actor()).await?;
    let row = readable(&mut tx, caller, id).await?;
    let world = app.world(&mut tx).await?;
    kyoyu_policy::check_disclosure_consent(caller.principal(), &state_of(&world, &row, &Shares::default()))?;
    tx.set_disclosure_consent(&row.chain.id, &now(), &caller.user().id).await?;
    tx.audit("report.disclosure_consent", "chain", &row.chain.id, json!({"report_id": row.id})).await?;
    tx.commit().await?;
    respond(app, caller, id).await
}

/// Where a received rendition stands, and who owns it.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TriageRequest {
    #[schema(required = true, nullable = false)]
    pub state: Option<TriageState>,
    /// One of the receiving organisation's active users; absent or null for nobody.
    pub owner_user_id: Option<String>,
}

/// Records the receiving organisation's triage of a rendition: its state and owner.
pub async fn set_triage(app: &App, caller: &Caller, id: &str, request: TriageRequest) -> AppResult<ReportView> {
    let state = request.state.ok_or_else(|| FieldError::new("state", "必須項目です", "is required"))?;
    let mut tx = app.store.begin(caller.actor()).await?;
    let row = readable(&mut tx, caller, id).await?;
    let world = app.world(&mut tx).await?;
    kyoyu_policy::check_triage(caller.principal(), &state_of(&world, &row, &Shares::default()))?;
    if let Some(owner) = &request.owner_user_id {
        let staff = tx.users_of(caller.org_id()).await?;
        if !staff.iter().any(|u| &u.id == owner && u.active) {
            return Err(FieldError::new(
                "owner_user_id",
                "自組織の有効な利用者を指定してください",
                "must be an active user of your organisation",
            )
            .into());
        }
    }
    record_triage(&mut tx, caller, &row.id, state, request.owner_user_id).await?;
    tx.commit().await?;
    respond(app, caller, id).await
}

async fn record_triage(
    tx: &mut Tx,
    caller: &Caller,
    id: &str,
    state: TriageState,
    owner: Option<String>,
) -> AppResult<()> {
    let row = TriageRow {
        report_id: id.to_string(),
        state,
        owner_user_id: owner,
        updated_by: caller.user().id.clone(),
        updated_at: now(),
    };
    tx.set_triage(&row).await?;
    tx.audit("report.triage", "report", id, json!({"state": state, "owner": row.owner_user_id})).await?;
    Ok(())
}

/// Publishes a WHITE or CLEAR rendition to everyone.
pub async fn publish_report(app: &App, caller: &Caller, id: &str) -> AppResult<ReportView> {
    let mut tx = app.store.begin(caller.actor()).await?;
    let row = readable(&mut tx, caller, id).await?;
    let world = app.world(&mut tx).await?;
    kyoyu_policy::check_publish(caller.principal(), &state_of(&world, &row, &Shares::default()))?;
    tx.set_published(&row.id, &now()).await?;
    tx.audit("report.publish", "report", &row.id, json!({})).await?;
    tx.commit().await?;
    respond(app, caller, id).await
}

/// Records reads of RED and AMBER items in the audit log.
async fn audit_reads(app: &App, caller: &Caller, rows: &[ReportRow], action: &str) -> AppResult<()> {
    let secret: Vec<&ReportRow> = rows.iter().filter(|r| r.content.tlp.needs_need_to_know()).collect();
    // One read of an anonymised chain conceals the entry: who read it would tell who filed.
    let concealed = secret.iter().find_map(|r| r.chain.concealed());
    let ids: Vec<&str> = secret.iter().map(|r| r.id.as_str()).collect();
    audit_secret_reads(&app.store, caller, action, "report", &ids, concealed).await
}

/// One rendition the caller may read, with what the caller may do with it.
pub async fn get_report(app: &App, caller: &Caller, id: &str) -> AppResult<ReportView> {
    let row = app.store.get_report(&caller.scope(), id).await?.ok_or(AppError::NotFound)?;
    audit_reads(app, caller, std::slice::from_ref(&row), "report.read").await?;
    view_for(app, caller, &row).await
}

/// A page of what the caller may read, newest first (in chain order with a chain filter).
pub async fn list_reports(app: &App, caller: &Caller, filter: &ReportFilter, page: Page) -> AppResult<ReportList> {
    let listed =
        app.store.list_reports_after(&caller.scope(), filter, page.limit, page.offset, page.after.as_ref()).await?;
    let rows = listed.rows;
    audit_reads(app, caller, &rows, "report.list").await?;
    let items = views_for(app, caller, &rows).await?;
    Ok(ReportList { items, limit: page.limit, offset: page.offset, next: listed.next.map(|c| c.encode()) })
}

/// How many renditions the list would show, counted no further than `cap` (pages show
/// "N or more" past it).
pub async fn count_reports_up_to(app: &App, caller: &Caller, filter: &ReportFilter, cap: i64) -> AppResult<Count> {
    Ok(Count { count: app.store.count_reports_up_to(&caller.scope(), filter, cap).await? })
}

pub async fn count_reports(app: &App, caller: &Caller, filter: &ReportFilter) -> AppResult<Count> {
    Ok(Count { count: app.store.count_reports(&caller.scope(), filter).await? })
}

/// Published reports, for anyone, no log-in needed.
pub async fn list_published(app: &App) -> AppResult<PublishedList> {
    let rows = app.store.list_published(MAX_PAGE, 0).await?;
    Ok(PublishedList { items: rows.iter().map(|r| ReportView::new(r, None)).collect() })
}
