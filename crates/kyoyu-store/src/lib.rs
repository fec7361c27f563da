//! Storage of kyoyu on SQLite through sqlx.
//!
//! * Every write runs inside a [`Tx`], which commits the change together with its audit
//!   entry or not at all.
//! * Item reads require a [`kyoyu_policy::ReadScope`] and join on the reader rows that only
//!   [`kyoyu_policy::AccessGrants`] can write, so the policy runs inside SQL.
//! * Writes go through one connection (SQLite has one writer anyway); reads use a pool.
//!
//! Domain and policy code know nothing of SQL: a PostgreSQL backend is another
//! implementation of these same functions.

mod advisories;
mod audit;
mod directory;
mod notify;
mod reports;
mod rows;

pub use advisories::{AckRow, AdvisoryFilter, AdvisoryRow, HopRow, QuestionRow, WideningRow};
pub use audit::{AuditEntry, AuditProblem};
pub use notify::{MailRow, NotificationRow};
pub use reports::{AccessFactsRow, ReportFilter, MAX_PAGE};
pub use rows::*;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool, Transaction};
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
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
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

pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

#[derive(Clone)]
pub struct Store {
    reader: SqlitePool,
    writer: SqlitePool,
}

/// Who makes a change, for the audit log.
#[derive(Debug, Clone, Default)]
pub struct Actor {
    pub user_id: Option<String>,
    pub org_id: Option<String>,
}

impl Store {
    /// Opens (creating if needed) the database in `data_dir` and applies the migrations.
    pub async fn open(data_dir: &Path) -> Result<Store> {
        std::fs::create_dir_all(data_dir).map_err(|e| StoreError::Corrupt(format!("data dir: {e}")))?;
        let url = format!("sqlite://{}", data_dir.join("kyoyu.db").display());
        let options = SqliteConnectOptions::from_str(&url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let writer = SqlitePoolOptions::new().max_connections(1).connect_with(options.clone()).await?;
        sqlx::migrate!("./migrations/sqlite").run(&writer).await?;
        let reader = SqlitePoolOptions::new().max_connections(8).connect_with(options.read_only(true)).await?;
        Ok(Store { reader, writer })
    }

    /// Starts a write transaction on behalf of `actor`.
    pub async fn begin(&self, actor: Actor) -> Result<Tx> {
        Ok(Tx { inner: self.writer.begin().await?, actor })
    }

    pub async fn close(&self) {
        self.reader.close().await;
        self.writer.close().await;
    }
}

/// One write transaction. Dropped without [`Tx::commit`], it rolls back.
pub struct Tx {
    inner: Transaction<'static, Sqlite>,
    actor: Actor,
}

impl Tx {
    pub async fn commit(self) -> Result<()> {
        self.inner.commit().await?;
        Ok(())
    }

    pub fn actor(&self) -> &Actor {
        &self.actor
    }
}
