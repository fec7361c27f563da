//! SQLite's write-ahead log copied into the database beside the writer, not inside its commits.
//!
//! Left to SQLite, the writer checkpoints once the WAL holds 8,000 pages, inside the COMMIT
//! that crossed the mark: every request waiting for the writer waited while 32 MB were copied
//! and synced (the soak's stalls on a slow disk, 60–130 ms every two seconds). `kyoyu serve`
//! instead copies the WAL every [`COPY_EVERY`] on a connection of its own, in PASSIVE mode,
//! which never waits for the writer or a reader. Under steady writes a PASSIVE copy never ends
//! with the whole WAL copied, and only then may the next writer start the WAL again from its
//! beginning; so once it holds [`RESTART_AT`] pages, a RESTART checkpoint, with almost
//! nothing left to copy, holds off writers for that moment and has the WAL restarted. The
//! writer's own checkpoint stays, at 8,000 pages, for when this task cannot keep up.

use crate::{Backend, BackgroundTask, Result, Store};
use sqlx::{ConnectOptions, SqliteConnection};
use std::time::Duration;

/// Often enough that each copy is short.
const COPY_EVERY: Duration = Duration::from_millis(200);

/// Pages (4 KiB) in the WAL at which it is restarted: 8 MB.
const RESTART_AT: i64 = 2_000;

/// How long a RESTART waits for the writer's lock and then for the readers still in the WAL;
/// it holds off writers while it waits for readers, so a long read (an export) must not hold
/// them for the connection's usual ten seconds. Past it the round gives up, and the next tries.
const WAIT_AT_MOST: Duration = Duration::from_millis(50);

impl Store {
    /// On SQLite, starts the task that copies the WAL into the database until the answer is
    /// dropped; nothing on PostgreSQL.
    pub async fn copy_wal_in_background(&self) -> Result<Option<BackgroundTask>> {
        let Backend::Sqlite { writer, .. } = &self.backend else { return Ok(None) };
        let mut conn = (*writer.connect_options()).clone().busy_timeout(WAIT_AT_MOST).connect().await?;
        Ok(Some(BackgroundTask::spawn(async move {
            loop {
                tokio::time::sleep(COPY_EVERY).await;
                // A failure (the disk, a lock) is left to the next round or the writer's own.
                if let Err(e) = copy_wal(&mut conn, RESTART_AT).await {
                    tracing::debug!(error = %e, "a background checkpoint failed");
                }
            }
        })))
    }
}

/// One round: copies what it can, and restarts the WAL once it is long.
async fn copy_wal(conn: &mut SqliteConnection, restart_at: i64) -> Result<()> {
    let (_busy, pages, _copied): (i64, i64, i64) =
        sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)").fetch_one(&mut *conn).await?;
    if pages >= restart_at {
        sqlx::query("PRAGMA wal_checkpoint(RESTART)").execute(&mut *conn).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::Executor;

    async fn wal_pages(conn: &mut SqliteConnection) -> i64 {
        let (_, pages, _): (i64, i64, i64) =
            sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)").fetch_one(conn).await.unwrap();
        pages
    }

    /// A reader still in the WAL keeps a writer from restarting it, so a copy alone leaves the
    /// WAL growing; the round waits for the reader and has the next write start it over.
    #[tokio::test]
    async fn a_long_wal_is_restarted_once_its_readers_leave() {
        let dir = tempfile::tempdir().unwrap();
        let Backend::Sqlite { writer, .. } = Store::open(dir.path()).await.unwrap().backend else { unreachable!() };
        let options = writer.connect_options();
        let (mut write, mut copy, mut read) =
            (options.connect().await.unwrap(), options.connect().await.unwrap(), options.connect().await.unwrap());
        write.execute("CREATE TABLE t (v BLOB)").await.unwrap();
        for _ in 0..50 {
            write.execute("INSERT INTO t VALUES (zeroblob(8000))").await.unwrap();
        }
        // A reader that began before the WAL was copied reads it, not the database alone.
        read.execute("BEGIN").await.unwrap();
        read.execute("SELECT count(*) FROM t").await.unwrap();
        let long = wal_pages(&mut copy).await;
        let leaves = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            read.execute("COMMIT").await.unwrap();
        });
        copy_wal(&mut copy, long).await.unwrap();
        write.execute("INSERT INTO t VALUES (1)").await.unwrap();
        leaves.await.unwrap();
        let after = wal_pages(&mut copy).await;
        assert!(after < 10, "the WAL went on from {long} pages to {after} instead of starting over");
    }
}
