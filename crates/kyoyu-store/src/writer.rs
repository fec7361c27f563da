//! Group commit. Every write transaction of a process joins the batch open on a writer
//! connection, runs inside a savepoint of its own, and is acknowledged only once the batch
//! that holds it has committed.
//!
//! * A [`Tx`] holds its lane from `begin` to `commit`, so transactions of one lane run one
//!   after the other, as SQLite's single writer did before.
//! * A batch gathers in memory and begins on the lane's connection only when one of its
//!   transactions runs a statement, or when it commits. So while one batch commits (and
//!   syncs), the next gathers: a filing runs no statement of its own.
//! * A batch that follows closely assumes the reference version the last one ended with,
//!   and checks it when it begins, under the lock that then lasts until its commit (PostgreSQL); if another
//!   process changed the reference data in between, the batch fails with
//!   [`StoreError::ReferenceChanged`] and its writers may try again.
//! * A transaction that fails, or is dropped, is rolled back to its savepoint; the others in
//!   the batch are untouched.
//! * On `commit`, when others wait for the lane, the lane passes to them with the batch
//!   still open, and the lane's committer closes it once they are done. When nobody waits,
//!   the batch commits at once, or as soon as the batch before has committed.
//! * Audit entries are kept in memory until the batch commits, then chained and inserted
//!   together: the head is read (and on PostgreSQL locked) once per batch.
//! * So are the rows of new items (`pending`), written before the next statement of the
//!   batch or at its commit; a transaction runs a savepoint only when it runs a statement.
//!
//! No crate offers group commit over sqlx, hence this module.

use crate::audit::PendingAudit;
use crate::pending::Pending;
use crate::{Actor, Conn, Result, StoreError};
use sqlx::pool::PoolConnection;
use sqlx::{PgPool, Postgres, Sqlite, SqlitePool};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};
use tokio::sync::{watch, Mutex, Notify, OwnedMutexGuard};

/// The lane's writer connection, while a batch has begun on it.
type Line = OwnedMutexGuard<Option<WriterConn>>;

/// Ends a member's savepoint, keeping its work in the batch.
const RELEASE: &str = "RELEASE SAVEPOINT kyoyu_tx";

/// At most this many transactions share one commit, bounding how long the first one waits.
const MAX_BATCH: usize = 256;

/// How long a write waits for its lane before it gives up with [`StoreError::WriterBusy`].
pub(crate) const MAX_WAIT: Duration = Duration::from_secs(30);

/// How long after a batch closes the next may assume its reference version. Batches that
/// follow each other under load (when gathering during the last commit pays) stay within
/// it; a process idle for longer reads the version afresh, so that a change another process
/// made meanwhile does not fail its next batch.
const ASSUME_VERSION_FOR: Duration = Duration::from_millis(100);

/// What a batch's members learn once it ends.
type Outcome = Option<Result<(), Arc<StoreError>>>;

#[derive(Clone)]
pub(crate) enum WriterPool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

enum WriterConn {
    Sqlite(PoolConnection<Sqlite>),
    Postgres(PoolConnection<Postgres>),
}

impl WriterConn {
    fn conn(&mut self) -> Conn<'_> {
        match self {
            WriterConn::Sqlite(c) => Conn::Sqlite(c),
            WriterConn::Postgres(c) => Conn::Postgres(c),
        }
    }

    /// A connection whose transaction state is unknown must not serve again.
    fn discard(self) {
        match self {
            WriterConn::Sqlite(mut c) => c.close_on_drop(),
            WriterConn::Postgres(mut c) => c.close_on_drop(),
        }
    }
}

async fn execute(conn: &mut WriterConn, sql: &str) -> Result<()> {
    on!(conn.conn(), c => sqlx::query(sql).execute(&mut *c).await?.rows_affected());
    Ok(())
}

/// The writer connections of this process: one lane on SQLite, one or more on PostgreSQL.
#[derive(Clone)]
pub(crate) struct Writer {
    lanes: Arc<[Arc<Lane>]>,
    next: Arc<AtomicUsize>,
    counters: Arc<Counters>,
}

/// How many batches this process committed, and how many transactions they held.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct WriteStats {
    pub batches: u64,
    pub transactions: u64,
}

#[derive(Default)]
struct Counters {
    batches: AtomicU64,
    transactions: AtomicU64,
}

pub(crate) struct Lane {
    slot: Arc<Mutex<Slot>>,
    /// Transactions waiting to begin on this lane.
    waiting: AtomicUsize,
    wake_committer: Arc<Notify>,
}

impl Drop for Lane {
    fn drop(&mut self) {
        // Lets the committer notice the lane is gone and end.
        self.wake_committer.notify_one();
    }
}

pub(crate) struct Slot {
    pool: WriterPool,
    counters: Arc<Counters>,
    /// The writer connection; a committing batch holds it while the next one gathers.
    line: Arc<Mutex<Option<WriterConn>>>,
    /// The connection, once the gathering batch has begun on it.
    held_line: Option<Line>,
    batch: Option<Batch>,
    /// The reference version the last batch ended with and when it closed: the next batch
    /// assumes it if it gathers within [`ASSUME_VERSION_FOR`].
    last_version: Option<(i64, Instant)>,
    /// A transaction was dropped inside its savepoint: roll that back before anything else.
    abandoned: bool,
}

struct Batch {
    members: usize,
    audit: Vec<PendingAudit>,
    /// New rows of finished members, written at commit or before the next statement.
    pending: Pending,
    done: watch::Sender<Outcome>,
    /// The reference version this batch's writers use: read in it (its lock, on PostgreSQL,
    /// lasting until commit), or assumed from the batch before until it begins.
    reference_version: Option<i64>,
}

/// A batch taken off its lane to commit, with the connection it began on.
pub(crate) struct Closed {
    line: Line,
    batch: Batch,
    counters: Arc<Counters>,
}

impl Writer {
    pub(crate) fn new(pool: WriterPool, lanes: usize) -> Writer {
        let counters = Arc::new(Counters::default());
        let lanes: Vec<Arc<Lane>> = (0..lanes.max(1))
            .map(|_| {
                let counters = counters.clone();
                let slot = Slot {
                    pool: pool.clone(),
                    counters,
                    line: Arc::new(Mutex::new(None)),
                    held_line: None,
                    batch: None,
                    last_version: None,
                    abandoned: false,
                };
                let lane = Arc::new(Lane {
                    slot: Arc::new(Mutex::new(slot)),
                    waiting: AtomicUsize::new(0),
                    wake_committer: Arc::new(Notify::new()),
                });
                tokio::spawn(committer(Arc::downgrade(&lane), lane.wake_committer.clone()));
                lane
            })
            .collect();
        Writer { lanes: lanes.into(), next: Arc::new(AtomicUsize::new(0)), counters }
    }

    pub(crate) fn stats(&self) -> WriteStats {
        WriteStats {
            batches: self.counters.batches.load(Ordering::Relaxed),
            transactions: self.counters.transactions.load(Ordering::Relaxed),
        }
    }

    /// Starts a transaction on the least busy lane, joining its open batch.
    pub(crate) async fn begin(&self, actor: Actor) -> Result<crate::Tx> {
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        let lane = (0..self.lanes.len())
            .map(|i| &self.lanes[(start + i) % self.lanes.len()])
            .min_by_key(|l| l.waiting.load(Ordering::Relaxed))
            .expect("a writer has at least one lane")
            .clone();
        let mut slot = {
            let _queued = Queued::new(&lane.waiting);
            tokio::time::timeout(MAX_WAIT, lane.slot.clone().lock_owned()).await.map_err(|_| StoreError::WriterBusy)?
        };
        slot.recover().await;
        slot.gather();
        Ok(crate::Tx::new(Held { slot: Some(slot), lane, in_savepoint: false }, actor))
    }
}

impl Writer {
    /// Commits what is open and hands the connections back, so their pools can close.
    pub(crate) async fn close(&self) {
        for lane in self.lanes.iter() {
            let mut slot = lane.slot.clone().lock_owned().await;
            slot.recover().await;
            if let Some(batch) = slot.close(true).await {
                batch.commit().await;
            }
            *slot.line.clone().lock_owned().await = None;
        }
    }
}

/// Counts a transaction as waiting for its lane while it waits, even if it is cancelled.
struct Queued<'a>(&'a AtomicUsize);

impl<'a> Queued<'a> {
    fn new(n: &'a AtomicUsize) -> Self {
        n.fetch_add(1, Ordering::SeqCst);
        Queued(n)
    }
}

impl Drop for Queued<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Commits batches that were left open for transactions that have since ended, once the
/// connection is free of the batch before.
async fn committer(lane: Weak<Lane>, wake: Arc<Notify>) {
    loop {
        wake.notified().await;
        let Some(lane) = lane.upgrade() else { return };
        let mut slot = lane.slot.clone().lock_owned().await;
        slot.recover().await;
        if let Some(batch) = slot.close(false).await {
            drop(slot);
            batch.commit().await;
            // The next batch may have gathered meanwhile.
            wake.notify_one();
        }
    }
}

impl Slot {
    /// Opens a batch in memory unless one is gathering; it begins on the connection later.
    fn gather(&mut self) {
        if self.batch.is_none() {
            let (done, _) = watch::channel(None);
            self.batch = Some(Batch {
                members: 0,
                audit: Vec::new(),
                pending: Pending::default(),
                done,
                reference_version: self
                    .last_version
                    .filter(|(_, at)| at.elapsed() < ASSUME_VERSION_FOR)
                    .map(|(v, _)| v),
            });
        }
    }

    /// Begins the gathering batch on the connection, waiting for the batch before to commit.
    async fn begin(&mut self) -> Result<()> {
        if self.held_line.is_none() {
            let line = self.line.clone().lock_owned().await;
            self.begin_on(line).await?;
        }
        Ok(())
    }

    /// Begins the gathering batch on `line`, checking the reference version it assumed.
    async fn begin_on(&mut self, mut line: Line) -> Result<()> {
        if line.is_none() {
            *line = Some(match &self.pool {
                WriterPool::Sqlite(p) => WriterConn::Sqlite(p.acquire().await?),
                WriterPool::Postgres(p) => WriterConn::Postgres(p.acquire().await?),
            });
        }
        let conn = line.as_mut().expect("acquired above");
        // IMMEDIATE takes SQLite's write lock now, so a later write cannot find it taken.
        let begin = if matches!(conn, WriterConn::Sqlite(_)) { "BEGIN IMMEDIATE" } else { "BEGIN" };
        if let Err(e) = execute(conn, begin).await {
            if let Some(c) = line.take() {
                c.discard();
            }
            return Err(e);
        }
        self.held_line = Some(line);
        let assumed = self.batch.as_ref().and_then(|b| b.reference_version);
        let Some(assumed) = assumed else { return Ok(()) };
        match crate::reports::read_reference_version(self.conn().conn()).await {
            Ok(version) if version == assumed => Ok(()),
            Ok(_) => Err(StoreError::BatchFailed(self.fail(StoreError::ReferenceChanged).await)),
            Err(e) => Err(StoreError::BatchFailed(self.fail(e).await)),
        }
    }

    fn conn(&mut self) -> &mut WriterConn {
        self.held_line.as_mut().and_then(|l| l.as_mut()).expect("a batch has begun on the connection")
    }

    /// Writes the rows of the batch's finished members; a failure fails the whole batch.
    async fn write_pending(&mut self) -> Result<()> {
        let Some(batch) = self.batch.as_mut() else { return Ok(()) };
        let pending = std::mem::take(&mut batch.pending);
        if pending.is_empty() {
            return Ok(());
        }
        if let Err(e) = pending.write(self.conn().conn(), Vec::new(), None).await {
            return Err(StoreError::BatchFailed(self.fail(e).await));
        }
        Ok(())
    }

    /// Rolls back what a dropped transaction left in its savepoint.
    async fn recover(&mut self) {
        if !std::mem::take(&mut self.abandoned) {
            return;
        }
        if let Err(e) = self.leave_savepoint(false).await {
            let _ = self.fail(e).await;
        }
    }

    /// Ends the current savepoint, keeping its work or not.
    async fn leave_savepoint(&mut self, keep: bool) -> Result<()> {
        if !keep {
            execute(self.conn(), "ROLLBACK TO SAVEPOINT kyoyu_tx").await?;
            // Locks taken inside the savepoint were released with it.
            if let Some(b) = self.batch.as_mut() {
                b.reference_version = None;
            }
        }
        execute(self.conn(), RELEASE).await
    }

    /// Takes the gathering batch off the lane to commit, once it has members and the
    /// connection is free of the batch before (waiting for that only `if_busy_wait`).
    async fn close(&mut self, if_busy_wait: bool) -> Option<Closed> {
        let members = self.batch.as_ref()?.members;
        if members == 0 {
            self.drop_empty_batch().await;
            return None;
        }
        if self.held_line.is_none() {
            let line = match self.line.clone().try_lock_owned() {
                Ok(line) => line,
                Err(_) if if_busy_wait => self.line.clone().lock_owned().await,
                Err(_) => return None,
            };
            if let Err(e) = self.begin_on(line).await {
                // Its members would wait for a commit nobody retries; tell them (a failed
                // check of the reference version has told them already).
                if self.batch.is_some() {
                    self.fail(e).await;
                }
                return None;
            }
        }
        let batch = self.batch.take()?;
        self.last_version = batch.reference_version.map(|v| (v, Instant::now()));
        Some(Closed { line: self.held_line.take()?, batch, counters: self.counters.clone() })
    }

    /// Ends a batch whose every transaction was dropped.
    async fn drop_empty_batch(&mut self) {
        self.batch = None;
        if let Some(mut line) = self.held_line.take() {
            self.last_version = None;
            abandon(&mut line).await;
        }
    }

    /// Rolls the whole batch back after a failure, telling its members.
    async fn fail(&mut self, error: StoreError) -> Arc<StoreError> {
        tracing::error!(error = %error, "a write batch failed; none of it was kept");
        if let Some(mut line) = self.held_line.take() {
            abandon(&mut line).await;
        }
        self.last_version = None;
        let error = Arc::new(error);
        if let Some(batch) = self.batch.take() {
            batch.done.send_replace(Some(Err(error.clone())));
        }
        error
    }
}

/// Rolls back whatever is open on the connection, or discards a connection that cannot.
async fn abandon(line: &mut Line) {
    if let Some(mut conn) = line.take() {
        if execute(&mut conn, "ROLLBACK").await.is_ok() {
            **line = Some(conn);
        } else {
            conn.discard();
        }
    }
}

impl Closed {
    /// Commits the batch and tells its members how it went; the connection is free after.
    pub(crate) async fn commit(mut self) {
        let started = Instant::now();
        let members = self.batch.members;
        let outcome = self.write_and_commit().await;
        match &outcome {
            Ok(head_read) => {
                let (head_ms, total_ms) = (head_read.as_secs_f64() * 1e3, started.elapsed().as_secs_f64() * 1e3);
                tracing::debug!(members, head_ms, total_ms, "write batch committed");
                self.counters.batches.fetch_add(1, Ordering::Relaxed);
                self.counters.transactions.fetch_add(members as u64, Ordering::Relaxed);
            }
            Err(e) => {
                tracing::error!(error = %e, members, "a write batch failed; none of it was kept");
                abandon(&mut self.line).await;
            }
        }
        drop(self.line);
        self.batch.done.send_replace(Some(outcome.map(|_| ()).map_err(Arc::new)));
    }

    /// Writes the batch's rows and commits, on SQLite in one execution; answers how long
    /// reading the audit head took.
    async fn write_and_commit(&mut self) -> Result<Duration> {
        let started = Instant::now();
        let conn = self.line.as_mut().expect("a batch closes on its connection");
        let pending = std::mem::take(&mut self.batch.pending);
        let audit = crate::audit::chain(conn.conn(), std::mem::take(&mut self.batch.audit)).await?;
        let head_read = started.elapsed();
        pending.write(conn.conn(), crate::audit::inserts(&audit), Some("COMMIT")).await?;
        Ok(head_read)
    }
}

/// A transaction's hold on its lane.
pub(crate) struct Held {
    slot: Option<OwnedMutexGuard<Slot>>,
    lane: Arc<Lane>,
    in_savepoint: bool,
}

impl Held {
    /// The connection, inside this transaction's savepoint, with the rows of the batch's
    /// finished members written first (outside it: they are theirs, not this one's).
    pub(crate) async fn conn(&mut self) -> Result<Conn<'_>> {
        let slot = self.slot.as_mut().expect("a transaction holds its lane until it ends");
        if !self.in_savepoint {
            slot.begin().await?;
            slot.write_pending().await?;
            execute(slot.conn(), "SAVEPOINT kyoyu_tx").await?;
            self.in_savepoint = true;
        }
        Ok(slot.conn().conn())
    }

    pub(crate) fn reference_version(&mut self) -> Option<i64> {
        self.slot.as_ref().and_then(|s| s.batch.as_ref()).and_then(|b| b.reference_version)
    }

    /// Remembers the reference version for the rest of the batch, or forgets it (`None`).
    pub(crate) fn remember_reference_version(&mut self, version: Option<i64>) {
        if let Some(b) = self.slot.as_mut().and_then(|s| s.batch.as_mut()) {
            b.reference_version = version;
        }
    }

    /// Keeps this transaction's work in the batch and waits until the batch commits.
    pub(crate) async fn commit(mut self, audit: Vec<PendingAudit>, pending: Pending) -> Result<()> {
        let mut slot = self.slot.take().expect("a transaction commits once");
        let mut pending = pending;
        if std::mem::take(&mut self.in_savepoint) {
            // Inside its savepoint, so that rows that fail leave the batch as it was; the
            // savepoint is released in the same run.
            let release = Some(RELEASE);
            if let Err(e) = std::mem::take(&mut pending).write(slot.conn().conn(), Vec::new(), release).await {
                slot.abandoned = true;
                self.hand_on(slot).await;
                return Err(e);
            }
        }
        let Some(batch) = slot.batch.as_mut() else {
            return Err(StoreError::Config("the batch of this transaction has already failed".into()));
        };
        batch.pending.absorb(pending);
        batch.audit.extend(audit);
        batch.members += 1;
        let mut done = batch.done.subscribe();
        self.hand_on(slot).await;
        let outcome = done.wait_for(Option::is_some).await.map(|o| o.clone());
        match outcome {
            Ok(Some(Ok(()))) => Ok(()),
            Ok(Some(Err(e))) => Err(StoreError::BatchFailed(e)),
            _ => Err(StoreError::Config("the writer stopped before the batch committed".into())),
        }
    }
}

impl Held {
    /// Commits the batch now when nobody waits for the lane (or it is full) and the batch
    /// before has committed; else passes the lane on with the batch open, for the committer
    /// to close after the others, or after the batch before.
    async fn hand_on(&self, mut slot: OwnedMutexGuard<Slot>) {
        let full = slot.batch.as_ref().is_some_and(|b| b.members >= MAX_BATCH);
        if full || self.lane.waiting.load(Ordering::SeqCst) == 0 {
            slot.recover().await;
            if let Some(batch) = slot.close(full).await {
                drop(slot);
                batch.commit().await;
                self.lane.wake_committer.notify_one();
            }
        } else {
            drop(slot);
            self.lane.wake_committer.notify_one();
        }
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        if let Some(mut slot) = self.slot.take() {
            slot.abandoned = self.in_savepoint;
            drop(slot);
            self.lane.wake_committer.notify_one();
        }
    }
}
