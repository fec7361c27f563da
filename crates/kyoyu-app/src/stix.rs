//! What kyoyu keeps as STIX 2.1 objects: a rendition's objects, made after its write by a
//! follower and before every STIX read; an advisory's, replaced with each save; kyoyu's own
//! definitions; and the checks on outside objects an advisory cites.

use crate::world::World;
use crate::{App, AppError, AppResult, Caller};
use kyoyu_domain::advisory::AdvisoryDraft;
use kyoyu_policy::ReadScope;
use kyoyu_stix::{OrgRef, StixObject};
use kyoyu_store::{
    AdvisoryRow, BackgroundTask, ItemRef, ObjectsOf, StixQuery, Store, Tx, VersionMatch, WaitingRendition, WriteStats,
};
use std::collections::HashSet;
use std::time::{Duration, Instant};

/// The TAXII collections kyoyu serves, by id.
pub const REPORTS: &str = "5f5b1f8e-3d5a-4f0e-9a43-2f6d1c7b9e01";
pub const ADVISORIES: &str = "8a4b2c1d-3e5f-4a6b-8c7d-9e0f1a2b3c4d";
pub const EXTERNAL: &str = "c3d4e5f6-a7b8-4c9d-8e0f-1a2b3c4d5e6f";
pub const DEFINITIONS: &str = "0e1f2a3b-4c5d-4e6f-8a7b-8c9d0e1f2a3b";

pub fn org_ref<'a>(world: &'a World, id: &str) -> Option<OrgRef<'a>> {
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
pub async fn make_waiting_objects(app: &App, scope: Option<&ReadScope>) -> AppResult<usize> {
    let waiting = app.store.waiting_renditions(scope, ROUND).await?;
    if waiting.is_empty() {
        return Ok(0);
    }
    let mut tx = app.store.begin(kyoyu_store::Actor::default()).await?;
    let world = app.world(&mut tx).await?;
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
pub async fn catch_up(app: &App, caller: &Caller) -> AppResult<()> {
    let scope = caller.scope();
    let deadline = tokio::time::Instant::now() + CATCH_UP_PATIENCE;
    loop {
        if make_waiting_objects(app, Some(&scope)).await? > 0 {
            continue;
        }
        if app.store.waiting_renditions(Some(&scope), 1).await?.is_empty() {
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
/// dropped with the server. It gives way to a burst of other writes (see [`Pace`]): the
/// burst's renditions get their objects once the writer is quiet, and a STIX read in between
/// makes those it may read itself.
pub fn spawn_follower(app: App) -> BackgroundTask {
    BackgroundTask::spawn(async move {
        let mut pace = Pace::new(app.store.write_stats(), Instant::now());
        loop {
            if pace.may_run(app.store.write_stats(), Instant::now()) {
                match make_waiting_objects(&app, None).await {
                    Ok(n) => {
                        let full = n as i64 == ROUND;
                        pace.ran(full, Instant::now());
                        if full {
                            continue;
                        }
                    }
                    Err(e) => tracing::error!(error = %e, "making STIX objects of new renditions"),
                }
            }
            tokio::time::sleep(FOLLOW_EVERY).await;
        }
    })
}

/// How often the follower looks for new renditions: often enough that TAXII clients see
/// new reports within a second, seldom enough that each round takes many.
const FOLLOW_EVERY: Duration = Duration::from_millis(250);

/// Transactions a committed batch holds on average, at or above which the writer is taking a
/// burst: batches gather several members only when writes arrive faster than commits end.
/// Steady use, however many transactions a second, commits them one or two a batch. During a
/// burst a round (a transaction of up to a thousand objects on random pages of their indexes)
/// would take a third of the writer's time from the filings.
const BUSY_MEMBERS_PER_BATCH: u64 = 4;

/// The longest the follower waits for a burst to pass; then it makes rounds until none is
/// left waiting, so the backlog never holds more than this long's filings.
const MAX_DEFER: Duration = Duration::from_secs(10);

/// When the follower may make a round: whenever the writer was not taking a burst since it
/// last looked, and at least every [`MAX_DEFER`]. Deferring is safe because objects are only
/// ever read after `catch_up`, and a deferred object's `date_added` is the time it is made.
struct Pace {
    seen: WriteStats,
    last_round: Instant,
    /// Overdue: making rounds until one comes back less than full.
    draining: bool,
}

impl Pace {
    fn new(stats: WriteStats, now: Instant) -> Pace {
        Pace { seen: stats, last_round: now, draining: false }
    }

    /// `stats` is the writer's count of committed batches and transactions so far.
    fn may_run(&mut self, stats: WriteStats, now: Instant) -> bool {
        let batches = stats.batches.saturating_sub(self.seen.batches);
        let members = stats.transactions.saturating_sub(self.seen.transactions);
        self.seen = stats;
        let burst = batches > 0 && members >= BUSY_MEMBERS_PER_BATCH * batches;
        if burst && !self.draining && now.saturating_duration_since(self.last_round) >= MAX_DEFER {
            self.draining = true;
        }
        !burst || self.draining
    }

    /// After a round; a full one leaves more waiting.
    fn ran(&mut self, full: bool, now: Instant) {
        self.last_round = now;
        self.draining &= full;
    }
}

/// Keeps an advisory (as saved now) as STIX objects, replacing those of its earlier saves.
pub async fn keep_advisory(tx: &mut Tx, world: &World, a: &AdvisoryRow) -> AppResult<()> {
    let identifier = tx.advisory_chain_identifier(&a.chain_id).await?;
    let author =
        org_ref(world, &a.author_org_id).ok_or_else(|| AppError::Internal("advisory author unknown".into()))?;
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
    let mut objects = kyoyu_stix::advisory_objects(&facts);
    let files = tx.files_on_item(&a.id).await?;
    objects.extend(crate::files::file_objects(&a.id, a.draft.tlp, &files));
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
pub async fn install_definitions(store: &Store) -> AppResult<()> {
    let mut tx = store.begin(kyoyu_store::Actor::default()).await?;
    let objects: Vec<StixObject> = kyoyu_stix::extension::definitions();
    tx.ensure_shared_objects(DEFINITIONS, &objects, &kyoyu_store::now(), &kyoyu_policy::definitions_audience()).await?;
    tx.commit().await?;
    Ok(())
}

/// Checks the STIX ids an advisory cites among its external sources: each must be an outside
/// object the author may read, and the advisory may not reach further than any of them.
pub async fn check_citations(tx: &mut Tx, caller: &Caller, draft: &AdvisoryDraft) -> AppResult<()> {
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
    errors.into_result(()).map_err(AppError::from)
}

#[cfg(test)]
mod pace_tests {
    use super::{Pace, BUSY_MEMBERS_PER_BATCH, MAX_DEFER};
    use kyoyu_store::WriteStats;
    use std::time::{Duration, Instant};

    const TICK: Duration = Duration::from_millis(250);

    /// The writer's counts after `batches` more batches of `members` transactions each.
    fn after(stats: WriteStats, batches: u64, members: u64) -> WriteStats {
        WriteStats { batches: stats.batches + batches, transactions: stats.transactions + batches * members }
    }

    #[test]
    fn runs_under_steady_use_however_many_transactions() {
        let start = Instant::now();
        let mut stats = WriteStats { batches: 10, transactions: 12 };
        let mut pace = Pace::new(stats, start);
        // A thousand transactions a second, committed one a batch: busy, but no burst.
        stats = after(stats, 250, 1);
        assert!(pace.may_run(stats, start + TICK));
        stats = after(stats, 125, BUSY_MEMBERS_PER_BATCH - 1);
        assert!(pace.may_run(stats, start + TICK * 2));
        assert!(pace.may_run(stats, start + TICK * 3), "nothing written since");
    }

    #[test]
    fn waits_for_a_burst_then_drains_and_waits_again() {
        let start = Instant::now();
        let mut stats = WriteStats::default();
        let mut pace = Pace::new(stats, start);
        let mut now = start;
        let mut waited = Duration::ZERO;
        loop {
            stats = after(stats, 20, 12);
            now += TICK;
            if pace.may_run(stats, now) {
                break;
            }
            waited += TICK;
            assert!(waited < MAX_DEFER + TICK, "never deferred past the limit");
        }
        assert!(waited >= MAX_DEFER - TICK, "deferred during the burst: {waited:?}");
        // Overdue, it goes on while its rounds come back full, burst or not.
        pace.ran(true, now);
        stats = after(stats, 20, 12);
        assert!(pace.may_run(stats, now + Duration::from_millis(50)));
        pace.ran(false, now + Duration::from_millis(60));
        stats = after(stats, 20, 12);
        assert!(!pace.may_run(stats, now + TICK), "drained, and the burst goes on: it waits again");
    }
}
