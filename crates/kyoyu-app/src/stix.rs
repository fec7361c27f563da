//! What kyoyu keeps as STIX 2.1 objects: a rendition's objects, made after its write by a
//! follower and before every STIX read; an advisory's, replaced with each save; kyoyu's own
//! definitions; and the checks on outside objects an advisory cites.

use crate::world::World;
use crate::{App, AppError, AppResult, Caller};
use kyoyu_domain::advisory::AdvisoryDraft;
use kyoyu_policy::ReadScope;
use kyoyu_stix::{OrgRef, StixObject};
use kyoyu_store::{
    AdvisoryRow, BackgroundTask, ItemRef, ObjectsOf, StixQuery, Store, Tx, VersionMatch, WaitingRendition,
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
        let mut pace = Pace::new(app.store.write_stats().transactions, Instant::now());
        loop {
            if pace.may_run(app.store.write_stats().transactions, Instant::now()) {
                match make_waiting_objects(&app, None).await {
                    Ok(n) => {
                        pace.ran(n > 0, Instant::now());
                        if n as i64 == ROUND {
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

/// Other writes a second above which the follower waits: the writer is then taking a burst,
/// and a round (a transaction of up to a thousand objects on random pages of their indexes)
/// would take a third of its time from the filings. Steady use is far below this.
const BUSY_WRITES_PER_SECOND: f64 = 200.0;

/// The longest the follower waits for a burst to pass before making one round anyway.
const MAX_DEFER: Duration = Duration::from_secs(10);

/// When the follower may make a round: whenever the writer was quiet since it last looked,
/// and at least every [`MAX_DEFER`]. Deferring is safe because objects are only ever read
/// after `catch_up`, and a deferred object's `date_added` is still the time it is made.
struct Pace {
    writes_seen: u64,
    looked_at: Instant,
    last_round: Instant,
}

impl Pace {
    fn new(writes: u64, now: Instant) -> Pace {
        Pace { writes_seen: writes, looked_at: now, last_round: now }
    }

    /// `writes` is the writer's count of committed transactions so far.
    fn may_run(&mut self, writes: u64, now: Instant) -> bool {
        let others = writes.saturating_sub(self.writes_seen) as f64;
        let elapsed = now.saturating_duration_since(self.looked_at).as_secs_f64().max(0.001);
        self.writes_seen = writes;
        self.looked_at = now;
        others / elapsed < BUSY_WRITES_PER_SECOND || now.saturating_duration_since(self.last_round) >= MAX_DEFER
    }

    /// After a round; its own transaction (if it made any objects) is not another's write.
    fn ran(&mut self, wrote: bool, now: Instant) {
        self.writes_seen += u64::from(wrote);
        self.last_round = now;
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
    use super::{Pace, BUSY_WRITES_PER_SECOND, MAX_DEFER};
    use std::time::{Duration, Instant};

    const TICK: Duration = Duration::from_millis(250);

    fn writes_in_a_tick(per_second: f64) -> u64 {
        (per_second * TICK.as_secs_f64()) as u64
    }

    #[test]
    fn runs_while_the_writer_is_quiet() {
        let start = Instant::now();
        let mut pace = Pace::new(1_000, start);
        let quiet = writes_in_a_tick(BUSY_WRITES_PER_SECOND / 2.0);
        assert!(pace.may_run(1_000 + quiet, start + TICK));
        let round_done = start + TICK + Duration::from_millis(2);
        pace.ran(true, round_done);
        let right_after = round_done + Duration::from_millis(1);
        assert!(pace.may_run(1_000 + quiet + 1, right_after), "its own round is not a burst");
    }

    #[test]
    fn waits_for_a_burst_but_not_longer_than_the_deferral() {
        let start = Instant::now();
        let mut pace = Pace::new(0, start);
        let burst = writes_in_a_tick(BUSY_WRITES_PER_SECOND * 2.0);
        let mut writes = 0;
        let mut now = start;
        let mut waited = Duration::ZERO;
        loop {
            writes += burst;
            now += TICK;
            if pace.may_run(writes, now) {
                break;
            }
            waited += TICK;
            assert!(waited < MAX_DEFER + TICK, "never deferred past the limit");
        }
        assert!(waited >= MAX_DEFER - TICK, "deferred during the burst: {waited:?}");
        pace.ran(true, now);
        assert!(!pace.may_run(writes + burst, now + TICK), "the burst goes on, so it waits again");
    }
}
