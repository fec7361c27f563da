//! Storage of kyoyu through sqlx, on SQLite (embedded, the default) or PostgreSQL.
//!
//! * Every write runs inside a [`Tx`], which commits the change together with its audit
//!   entry or not at all.
//! * Item reads require a [`kyoyu_policy::ReadScope`] and join on the reader rows that only
//!   [`kyoyu_policy::AccessGrants`] can write, so the policy runs inside SQL.
//! * Writes are group-committed (`writer`): each [`Tx`] joins the batch open on a writer
//!   connection, inside a savepoint of its own, and [`Tx::commit`] returns once the batch has
//!   committed. Reads use a pool. The audit head is read (on PostgreSQL locked) once per batch,
//!   so several kyoyu processes on one PostgreSQL database keep one chain.
//!
//! Every statement is written once, in SQL both databases accept (`$N` parameters), and run
//! on whichever connection [`Conn`] holds through the `on!` macro. Each backend has its own
//! versioned migrations.

/// Runs one statement on whichever database `$conn` is: the body is compiled once per backend.
macro_rules! on {
    ($conn:expr, $c:ident => $body:expr) => {
        match $conn {
            $crate::Conn::Sqlite($c) => $body,
            $crate::Conn::Postgres($c) => $body,
        }
    };
}

mod advisories;
mod attachments;
mod audit;
mod blobs;
mod checkpoint;
mod directory;
mod inserts;
mod login;
mod notify;
mod partner;
mod pending;
mod reports;
mod rows;
mod shares;
mod statistics;
mod stix;
mod writer;

pub use advisories::{AckRow, AdvisoryFilter, AdvisoryRow, HopRow, QuestionRow, WideningRow};
pub use attachments::{AttachmentRow, BlobRow};
pub use audit::{AuditEntry, AuditFilter, AuditProblem};
pub use blobs::{BlobReader, BlobWriter};
pub use directory::TokenHolder;
pub use login::{LoginKey, LoginSubject, Throttle};
pub use notify::{MailRow, NotificationRow};
pub use partner::{PartnerFilter, PartnerRow};
pub use reports::{AccessFactsRow, ChainFirst, Cursor, Listed, ReportFilter, MAX_PAGE};
pub use rows::*;
pub use shares::Shares;
pub use statistics::BackgroundTask;
pub use stix::{AddOutcome, ItemRef, ObjectsOf, PagePosition, StixQuery, StixRow, VersionMatch, WaitingRendition};
pub use writer::WriteStats;

use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgConnection, PgPool, Postgres, Sqlite, SqliteConnection, SqlitePool};
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("stored data is not valid: {0}")]
    Corrupt(String),
    #[error("{0}")]
    Config(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// No writer lane came free within 30 s (`writer::MAX_WAIT`): the server is overloaded, or a
    /// write waits on itself (a second `begin` while holding a `Tx`).
    #[error("the writer stayed busy")]
    WriterBusy,
    /// The batch this transaction committed in failed as a whole; none of it was kept.
    #[error("the write batch failed: {0}")]
    BatchFailed(std::sync::Arc<StoreError>),
    /// Another process changed the reference data while a batch gathered on the version
    /// before; its writes were computed against that and none was kept. Trying again works.
    #[error("the reference data changed while the write was prepared")]
    ReferenceChanged,
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Maps a unique-constraint violation to [`StoreError::Conflict`], so the HTTP layer can
/// answer 409 rather than 500.
pub(crate) fn conflict_on_unique(what: &str) -> impl FnOnce(sqlx::Error) -> StoreError + '_ {
    move |e| match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(what.to_string()),
        _ => StoreError::Database(e),
    }
}

/// The current time as stored: RFC 3339, UTC, microseconds.
pub fn now() -> String {
    timestamp(chrono::Utc::now())
}

pub fn timestamp(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// Splits rows for multi-row statements into parts whose sizes are powers of two (at most
/// `max`), so that a table sees only a few distinct statements, each prepared once and kept
/// in the connection's statement cache, whatever the batch's size.
pub(crate) fn statement_parts<T>(rows: &[T], max: usize) -> impl Iterator<Item = &[T]> {
    let mut rest = rows;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let size = 1 << rest.len().min(max).ilog2();
        let (part, tail) = rest.split_at(size);
        rest = tail;
        Some(part)
    })
}

/// A new id, UUIDv4. Not v7, though time-ordered ids would append to the indexes: an id
/// carries its time, and a chain's or a parent rendition's id would tell the recipients of an
/// anonymised report when the operator filed it, which the secretariat's relay hides.
pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// A new id in time order (UUIDv7: the millisecond, then random bits, no counter), for rows
/// whose time everyone who sees the id is shown anyway: a notification, seen only by its
/// user beside its time. New ones append to the end of the id index instead of landing on a
/// random page of it.
pub fn new_id_in_time_order() -> String {
    let millis = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64);
    let random = uuid::Uuid::new_v4();
    let tail: &[u8; 10] = random.as_bytes()[6..].try_into().expect("16 bytes hold 10");
    uuid::Builder::from_unix_timestamp_millis(millis, tail).into_uuid().to_string()
}

/// SQLite's `synchronous` setting: FULL syncs the WAL at every commit, so an acknowledged
/// write survives a power loss, not just a killed process. Group commit makes that one sync
/// per batch (ARCHITECTURE.md, "Durability").
pub const SQLITE_SYNCHRONOUS: &str = "FULL";

#[derive(Clone)]
enum Backend {
    Sqlite { reader: SqlitePool, writer: SqlitePool },
    Postgres { pool: PgPool, writer: PgPool },
}

#[derive(Clone)]
pub struct Store {
    backend: Backend,
    writes: writer::Writer,
    blobs: blobs::Blobs,
}

/// A connection to either database; statements run on it through `on!`.
pub enum Conn<'a> {
    Sqlite(&'a mut SqliteConnection),
    Postgres(&'a mut PgConnection),
}

impl Conn<'_> {
    /// Borrows the connection again, for the next statement.
    pub(crate) fn re(&mut self) -> Conn<'_> {
        match self {
            Conn::Sqlite(c) => Conn::Sqlite(c),
            Conn::Postgres(c) => Conn::Postgres(c),
        }
    }
}

/// A read connection taken from the pool.
pub(crate) enum Pooled {
    Sqlite(PoolConnection<Sqlite>),
    Postgres(PoolConnection<Postgres>),
}

impl Pooled {
    pub(crate) fn conn(&mut self) -> Conn<'_> {
        match self {
            Pooled::Sqlite(c) => Conn::Sqlite(c),
            Pooled::Postgres(c) => Conn::Postgres(c),
        }
    }
}

/// Column access that reads the same on both databases. A column that is missing or of
/// another type is an error (`StoreError::Database`), never a panic.
pub(crate) trait Get {
    fn text(&self, col: &str) -> Result<String>;
    fn opt_text(&self, col: &str) -> Result<Option<String>>;
    fn int(&self, col: &str) -> Result<i64>;
    fn opt_int(&self, col: &str) -> Result<Option<i64>>;
    fn flag(&self, col: &str) -> Result<bool>;
}

macro_rules! impl_get {
    ($row:ty) => {
        impl Get for $row {
            fn text(&self, col: &str) -> Result<String> {
                Ok(sqlx::Row::try_get(self, col)?)
            }
            fn opt_text(&self, col: &str) -> Result<Option<String>> {
                Ok(sqlx::Row::try_get(self, col)?)
            }
            fn int(&self, col: &str) -> Result<i64> {
                Ok(sqlx::Row::try_get(self, col)?)
            }
            fn opt_int(&self, col: &str) -> Result<Option<i64>> {
                Ok(sqlx::Row::try_get(self, col)?)
            }
            fn flag(&self, col: &str) -> Result<bool> {
                Ok(sqlx::Row::try_get(self, col)?)
            }
        }
    };
}
impl_get!(sqlx::sqlite::SqliteRow);
impl_get!(sqlx::postgres::PgRow);

/// The anonymous operator a row concerns (`conceal_org_id`, `conceal_secretariat_id`).
pub(crate) fn concealed_from_row(r: &impl Get) -> Result<Option<Concealed>> {
    let Some(org_id) = r.opt_text("conceal_org_id")? else { return Ok(None) };
    Ok(Some(Concealed { org_id, secretariat_id: r.opt_text("conceal_secretariat_id")? }))
}

/// Who makes a change, for the audit log.
#[derive(Debug, Clone, Default)]
pub struct Actor {
    pub user_id: Option<String>,
    pub org_id: Option<String>,
}

/// The anonymous operator (and its secretariat) an audit entry, notification or mail
/// concerns: only those two organisations may see who acted or was addressed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Concealed {
    pub org_id: String,
    pub secretariat_id: Option<String>,
}

impl Concealed {
    /// Whether a viewer in `org` may see what is concealed.
    pub fn visible_to(&self, org: &str) -> bool {
        org == self.org_id || Some(org) == self.secretariat_id.as_deref()
    }
}

impl Store {
    /// Opens (creating if needed) the SQLite database in `data_dir` and applies the migrations.
    pub async fn open(data_dir: &Path) -> Result<Store> {
        std::fs::create_dir_all(data_dir)
            .map_err(|e| StoreError::Config(format!("cannot create the data directory: {e}")))?;
        let url = format!("sqlite://{}", data_dir.join("kyoyu.db").display());
        let options = SqliteConnectOptions::from_str(&url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::from_str(SQLITE_SYNCHRONOUS).expect("a known setting"))
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        // A local file's connections do not go stale: no ping before each use.
        let pool = || SqlitePoolOptions::new().test_before_acquire(false);
        // The writer keeps its savepoints' journal in memory. It also checkpoints the WAL
        // itself, after its commits (SQLite's default): a checkpoint on another connection
        // rarely finds the WAL fully copied just as a write starts, so the WAL never restarts
        // and grows without bound (6.7 GB in three minutes of the soak). Checkpointing on
        // another connection beside the writer's did not raise ingestion: the disk is the limit.
        // It checkpoints once the WAL holds 8,000 pages (32 MB), not SQLite's 1,000: a batch
        // writes hundreds of pages, so at 1,000 nearly every other commit also copied the WAL
        // into the database, and pages written again by the next batches were copied each
        // time (bench/RESULTS.md: ingestion rose by a fifth). Commits still sync the WAL.
        // This is now the fallback: `kyoyu serve` copies and restarts the WAL from beside the
        // writer (`checkpoint`), which keeps the commits from stalling on a 32 MB copy.
        let writer_options = options.clone().pragma("temp_store", "MEMORY").pragma("wal_autocheckpoint", "8000");
        let writer = pool().max_connections(1).connect_with(writer_options).await?;
        sqlx::migrate!("./migrations/sqlite").run(&writer).await?;
        let reader = pool().max_connections(8).connect_with(options.read_only(true)).await?;
        // SQLite has one writer: one lane.
        let writes = writer::Writer::new(writer::WriterPool::Sqlite(writer.clone()), 1);
        Ok(Store { backend: Backend::Sqlite { reader, writer }, writes, blobs: blobs::Blobs::folder(data_dir)? })
    }

    /// Connects to PostgreSQL (`postgres://…`) and applies the migrations.
    pub async fn connect_postgres(url: &str) -> Result<Store> {
        let options = PgConnectOptions::from_str(url)?;
        Self::connect_postgres_with(options).await
    }

    pub async fn connect_postgres_with(options: PgConnectOptions) -> Result<Store> {
        let pool = PgPoolOptions::new().max_connections(16).connect_with(options.clone()).await?;
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        let lanes = writer_lanes();
        let writer = PgPoolOptions::new().max_connections(lanes as u32).connect_lazy_with(options);
        let writes = writer::Writer::new(writer::WriterPool::Postgres(writer.clone()), lanes);
        Ok(Store {
            backend: Backend::Postgres { pool: pool.clone(), writer },
            writes,
            blobs: blobs::Blobs::Postgres(pool),
        })
    }

    /// A fresh schema in the PostgreSQL database at `url`, migrated and used through
    /// `search_path`: each test gets an isolated database this way.
    pub async fn connect_postgres_fresh_schema(url: &str) -> Result<(Store, String)> {
        let schema = format!("kyoyu_{}", uuid::Uuid::new_v4().simple());
        let admin = PgPoolOptions::new().max_connections(1).connect(url).await?;
        sqlx::query(&format!("CREATE SCHEMA {schema}")).execute(&admin).await?;
        admin.close().await;
        Ok((Self::connect_postgres_in_schema(url, &schema).await?, schema))
    }

    /// Connects to PostgreSQL at `url`, using `schema` through `search_path`.
    pub async fn connect_postgres_in_schema(url: &str, schema: &str) -> Result<Store> {
        let options = PgConnectOptions::from_str(url)?.options([("search_path", schema)]);
        Self::connect_postgres_with(options).await
    }

    /// `postgres://…` connects to PostgreSQL; anything else is an SQLite data directory.
    pub async fn open_any(database: Option<&str>, data_dir: &Path) -> Result<Store> {
        match database {
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                Self::connect_postgres(url).await
            }
            Some(other) => Err(StoreError::Config(format!("unsupported database URL {other:?}: use postgres://…"))),
            None => Self::open(data_dir).await,
        }
    }

    pub(crate) async fn read(&self) -> Result<Pooled> {
        Ok(match &self.backend {
            Backend::Sqlite { reader, .. } => Pooled::Sqlite(reader.acquire().await?),
            Backend::Postgres { pool, .. } => Pooled::Postgres(pool.acquire().await?),
        })
    }

    /// Starts a write transaction on behalf of `actor`. It joins the batch open on the
    /// writer (see the `writer` module) and holds the writer until it commits or is dropped.
    pub async fn begin(&self, actor: Actor) -> Result<Tx> {
        self.writes.begin(actor).await
    }

    /// Batches committed by this process so far, and the transactions they held.
    pub fn write_stats(&self) -> WriteStats {
        self.writes.stats()
    }

    pub async fn close(&self) {
        self.writes.close().await;
        match &self.backend {
            Backend::Sqlite { reader, writer } => {
                reader.close().await;
                writer.close().await;
            }
            Backend::Postgres { pool, writer } => {
                pool.close().await;
                writer.close().await;
            }
        }
    }
}

/// How many writer connections (lanes) each process keeps on PostgreSQL:
/// `KYOYU_WRITER_LANES`, 1 by default. One lane serialises this process's writes, so its
/// batches cannot deadlock on each other's row locks.
fn writer_lanes() -> usize {
    std::env::var("KYOYU_WRITER_LANES").ok().and_then(|v| v.parse().ok()).filter(|n| (1..=16).contains(n)).unwrap_or(1)
}

/// One write transaction. Dropped without [`Tx::commit`], it rolls back (to its savepoint:
/// the rest of the batch goes on).
pub struct Tx {
    held: writer::Held,
    actor: Actor,
    concealed: Option<Concealed>,
    audit: Vec<audit::PendingAudit>,
    /// New rows this transaction added, not yet written.
    pending: pending::Pending,
}

impl Tx {
    pub(crate) fn new(held: writer::Held, actor: Actor) -> Tx {
        Tx { held, actor, concealed: None, audit: Vec::new(), pending: pending::Pending::default() }
    }

    /// Returns once the batch holding this transaction has committed, with its audit entries.
    pub async fn commit(self) -> Result<()> {
        self.held.commit(self.audit, self.pending).await
    }

    /// The connection, with every row added before in the batch written, so that any
    /// statement sees them.
    pub(crate) async fn conn(&mut self) -> Result<Conn<'_>> {
        let own = std::mem::take(&mut self.pending);
        let mut conn = self.held.conn().await?;
        own.write(conn.re(), Vec::new(), None).await?;
        Ok(conn)
    }

    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    /// Marks this transaction as touching an anonymised chain: every audit entry,
    /// notification and mail it writes from now on is concealed for that operator.
    pub fn conceal(&mut self, c: Concealed) {
        self.concealed = Some(c);
    }

    /// The concealment rows written now carry (see [`Tx::conceal`]).
    pub(crate) fn concealment(&self) -> Option<Concealed> {
        self.concealed.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::{new_id_in_time_order, statement_parts};

    #[test]
    fn ids_in_time_order_are_uuid_v7_and_sort_by_their_millisecond() {
        let first = new_id_in_time_order();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let second = new_id_in_time_order();
        let parsed = uuid::Uuid::parse_str(&first).unwrap();
        assert_eq!(parsed.get_version_num(), 7);
        assert!(first < second, "{first} {second}");
    }

    #[test]
    fn statement_parts_are_powers_of_two_and_cover_every_row_in_order() {
        for n in 0..300usize {
            let rows: Vec<usize> = (0..n).collect();
            let parts: Vec<&[usize]> = statement_parts(&rows, 64).collect();
            assert!(parts.iter().all(|p| p.len().is_power_of_two() && p.len() <= 64), "{n}: {parts:?}");
            assert_eq!(parts.concat(), rows);
        }
    }
}
