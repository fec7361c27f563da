//! The CEPTOAR council (セプターカウンシル, 000 別紙5): CEPTOARs join and leave it by their own
//! decision (audited), and share what they hold through it; its board is the report list
//! filtered to what was shared through it (`ReportFilter::via_council`).

use crate::reports::{add_sorted, readable};
use crate::views::Shared;
use crate::world::World;
use crate::{App, AppError, AppResult, Caller};
use kyoyu_domain::codes::OrgKind;
use kyoyu_domain::FieldError;
use kyoyu_policy::council::{self, Council};
use kyoyu_policy::OrgFacts;
use kyoyu_store::now;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// The council as a caller sees it: who sits on it, and what the caller may do.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CouncilView {
    /// The council's organisation; null where none is registered.
    pub council_org_id: Option<String>,
    /// The CEPTOARs that sit on it now.
    pub member_org_ids: Vec<String>,
    /// Whether the caller's organisation sits on it.
    pub member: bool,
    pub actions: CouncilActions,
}

/// What the caller may do about the council, as the policy decides.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CouncilActions {
    pub join: bool,
    pub leave: bool,
}

/// What to share through the council.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CouncilShareRequest {
    /// A report (rendition) the caller's CEPTOAR holds / 共有する報告
    #[schema(required = true, nullable = false)]
    pub report_id: Option<String>,
}

/// The council and its members' facts, for the policy.
pub(crate) struct CouncilFacts {
    org: Option<OrgFacts>,
    members: Vec<OrgFacts>,
    /// Renditions of a page already shared through it.
    shared: Vec<String>,
}

impl CouncilFacts {
    fn of(world: &World, member_ids: &[String]) -> CouncilFacts {
        CouncilFacts {
            org: world.council().map(|o| o.facts()),
            members: member_ids.iter().filter_map(|id| world.org(id)).map(|o| o.facts()).collect(),
            shared: Vec::new(),
        }
    }

    /// What a page of renditions needs to offer sharing through the council: nothing to
    /// anyone but a CEPTOAR, so other readers cost no query.
    pub(crate) async fn for_page(app: &App, caller: &Caller, world: &World, ids: &[&str]) -> AppResult<CouncilFacts> {
        if caller.principal().org().kind != OrgKind::Ceptoar {
            return Ok(CouncilFacts { org: None, members: Vec::new(), shared: Vec::new() });
        }
        let mut facts = CouncilFacts::of(world, &app.store.council_member_ids().await?);
        facts.shared = app.store.shared_via_council(ids).await?;
        Ok(facts)
    }

    fn council(&self) -> Option<Council<'_>> {
        self.org.as_ref().map(|org| Council { org, members: &self.members })
    }

    /// The council to offer for one rendition: none once it was shared through it.
    pub(crate) fn offered_for(&self, report_id: &str) -> Option<Council<'_>> {
        self.council().filter(|_| !self.shared.iter().any(|s| s == report_id))
    }
}

fn view(caller: &Caller, world: &World, member_ids: Vec<String>) -> CouncilView {
    let member = member_ids.iter().any(|m| m == caller.org_id());
    let may = council::check_membership(caller.principal()).is_ok() && world.council().is_some();
    CouncilView {
        council_org_id: world.council().map(|o| o.id.clone()),
        member_org_ids: member_ids,
        member,
        actions: CouncilActions { join: may && !member, leave: may && member },
    }
}

/// The council, its members, and whether the caller may join or leave.
pub async fn get_council(app: &App, caller: &Caller) -> AppResult<CouncilView> {
    let world = caller.world(app).await?;
    Ok(view(caller, &world, app.store.council_member_ids().await?))
}

fn no_council() -> AppError {
    AppError::conflict("セプターカウンシルが登録されていません", "no CEPTOAR council is registered")
}

/// The caller's CEPTOAR joins (`true`) or leaves the council, by its own decision.
pub async fn set_membership(app: &App, caller: &Caller, join: bool) -> AppResult<CouncilView> {
    council::check_membership(caller.principal())?;
    let mut tx = app.store.begin(caller.actor()).await?;
    let world = app.world(&mut tx).await?;
    world.council().ok_or_else(no_council)?;
    let changed = if join {
        tx.join_council(caller.org_id(), &caller.user().id, &now()).await?
    } else {
        tx.leave_council(caller.org_id()).await?
    };
    if !changed {
        return Err(AppError::already_done());
    }
    let action = if join { "council.join" } else { "council.leave" };
    tx.audit(action, "org", caller.org_id(), json!({})).await?;
    let members = tx.council_member_ids().await?;
    tx.commit().await?;
    Ok(view(caller, &world, members))
}

/// Shares a rendition the caller's CEPTOAR holds through the council: with the council and the
/// member CEPTOARs inside its ceiling, as ordinary shares, and onto the council's board.
pub async fn share_to_council(app: &App, caller: &Caller, request: CouncilShareRequest) -> AppResult<Shared> {
    let id = request.report_id.filter(|id| !id.is_empty()).ok_or_else(|| FieldError::required("report_id"))?;
    let mut tx = app.store.begin(caller.actor()).await?;
    let row = readable(&mut tx, caller, &id).await?;
    tx.lock_report(&row.id).await?;
    let world = app.world(&mut tx).await?;
    let facts = CouncilFacts::of(&world, &tx.council_member_ids().await?);
    let council = facts.council().ok_or_else(no_council)?;
    let mut shares = tx.shares_of(&row.id).await?;
    let targets = council::council_share_targets(
        caller.principal(),
        &world.row_facts(&row, &shares),
        row.identifies_operator,
        &council,
    )?;
    let at = now();
    if !tx.insert_council_share(&row.id, caller.org_id(), &at).await? {
        return Err(AppError::already_done());
    }
    for target in &targets {
        tx.insert_share(&row.id, target, caller.org_id(), &at).await?;
    }
    add_sorted(&mut shares.community, &targets);
    let grants = kyoyu_policy::access_grants(&world.row_facts(&row, &shares), world.facts_of());
    tx.replace_access(&row.id, &grants).await?;
    tx.audit("report.share_to_council", "report", &row.id, json!({"org_ids": targets})).await?;
    crate::reports::notify_shared(app, &mut tx, &row, &grants, &targets).await?;
    tx.commit().await?;
    Ok(Shared { report_id: row.id, shared_with: targets })
}
