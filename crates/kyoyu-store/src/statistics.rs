//! Planner statistics on PostgreSQL when the database does not keep them.
//!
//! PostgreSQL plans from statistics that autovacuum gathers. With autovacuum off (as on some
//! managed and test servers) nothing gathers them: plans made while the tables were small stay
//! cached on each connection, and in the soak every list got slower by the minute (4 ms to
//! 40 ms in four minutes, then errors). One `ANALYZE` brought it back to 3 ms. So `kyoyu
//! serve` then gathers them itself, for the tables that grew since their last analysis.
//! SQLite needs nothing: its planner keeps to the indexes without statistics.

use crate::{Backend, Result, Store};
use std::time::Duration;

/// How often the keeper looks for grown tables.
pub const KEEP_EVERY: Duration = Duration::from_secs(20);

/// Decides growth from the table's size on disk against the size its last analysis saw, which
/// needs no activity counters (they reach the statistics views only seconds later). The margin
/// is autovacuum's: a tenth of the table, and more than a few pages.
const GROWN_TABLES: &str = "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = current_schema() AND c.relkind = 'r'
       AND pg_relation_size(c.oid) / current_setting('block_size')::bigint > GREATEST(c.relpages, 0) * 1.1 + 8
     ORDER BY c.relname";

/// Only one process at a time analyses a schema; the others skip that round.
const TAKE_TURN: &str = "SELECT pg_try_advisory_xact_lock(hashtext(current_schema() || '.kyoyu.statistics'))";

impl Store {
    /// False when the database's planner needs statistics that nothing else keeps (PostgreSQL
    /// with autovacuum off).
    pub async fn statistics_kept(&self) -> Result<bool> {
        let Backend::Postgres { pool, .. } = &self.backend else { return Ok(true) };
        let setting: String = sqlx::query_scalar("SELECT current_setting('autovacuum')").fetch_one(pool).await?;
        Ok(setting == "on")
    }

    /// Analyses the tables that grew by a tenth since their last analysis and answers their
    /// names; none on SQLite, or when another process is at it.
    pub async fn refresh_statistics(&self) -> Result<Vec<String>> {
        let Backend::Postgres { pool, .. } = &self.backend else { return Ok(Vec::new()) };
        let mut tx = pool.begin().await?;
        if !sqlx::query_scalar::<_, bool>(TAKE_TURN).fetch_one(&mut *tx).await? {
            return Ok(Vec::new());
        }
        let grown: Vec<String> = sqlx::query_scalar(GROWN_TABLES).fetch_all(&mut *tx).await?;
        for table in &grown {
            // A name read from the catalogue, quoted as an identifier.
            sqlx::query(&format!("ANALYZE \"{}\"", table.replace('"', "\"\""))).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(grown)
    }

    /// When the database keeps no statistics, starts a task that keeps them until the answer
    /// is dropped, and says so in the log.
    pub async fn keep_statistics(&self) -> Result<Option<BackgroundTask>> {
        if self.statistics_kept().await? {
            return Ok(None);
        }
        tracing::warn!("autovacuum is off in this PostgreSQL: kyoyu analyses its own tables as they grow");
        let store = self.clone();
        Ok(Some(BackgroundTask::spawn(async move {
            loop {
                match store.refresh_statistics().await {
                    Ok(tables) if !tables.is_empty() => tracing::debug!(?tables, "analysed"),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "gathering planner statistics"),
                }
                tokio::time::sleep(KEEP_EVERY).await;
            }
        })))
    }
}

/// A server's background task (statistics, STIX objects of new renditions); it stops when
/// this is dropped, so that it holds the store's connections no longer than the server.
pub struct BackgroundTask(tokio::task::JoinHandle<()>);

impl BackgroundTask {
    pub fn spawn(work: impl std::future::Future<Output = ()> + Send + 'static) -> BackgroundTask {
        BackgroundTask(tokio::spawn(work))
    }
}

impl Drop for BackgroundTask {
    fn drop(&mut self) {
        self.0.abort();
    }
}
