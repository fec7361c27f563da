//! Where the sealed bytes of files live: a folder in the data directory on SQLite, and the
//! database itself on PostgreSQL (`attachment_chunks`), so that several processes share the
//! files and one backup holds everything. Bytes arrive already encrypted; this module never
//! sees plaintext. A blob's bytes are written before the transaction that records its row,
//! and removed again if that transaction fails.

use crate::{Result, StoreError};
use sqlx::PgPool;
use std::path::{Path, PathBuf};
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader, BufWriter};

/// Sealed chunks sent to PostgreSQL per statement.
const PG_CHUNKS_PER_INSERT: usize = 16;

#[derive(Clone)]
pub(crate) enum Blobs {
    Folder(PathBuf),
    Postgres(PgPool),
}

fn io(what: &str) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |e| StoreError::Config(format!("{what}: {e}"))
}

/// Blob ids are our own UUIDs; anything else never reaches the file system.
fn checked(id: &str) -> Result<&str> {
    match uuid::Uuid::parse_str(id) {
        Ok(_) => Ok(id),
        Err(_) => Err(StoreError::Corrupt(format!("blob id {id:?} is not a UUID"))),
    }
}

impl Blobs {
    pub(crate) fn folder(data_dir: &Path) -> Result<Blobs> {
        let dir = data_dir.join("attachments");
        std::fs::create_dir_all(&dir).map_err(io("cannot create the attachments folder"))?;
        Ok(Blobs::Folder(dir))
    }
}

enum Sink {
    File { out: BufWriter<tokio::fs::File>, part: PathBuf, done: PathBuf },
    Postgres { pool: PgPool, id: String, next_seq: i64, pending: Vec<Vec<u8>> },
}

/// Writes one blob's sealed chunks in order. Dropped unfinished, it leaves a part file (or
/// rows) that [`crate::Store::discard_blob`] removes.
pub struct BlobWriter {
    sink: Sink,
}

impl BlobWriter {
    pub async fn push(&mut self, sealed: &[u8]) -> Result<()> {
        match &mut self.sink {
            Sink::File { out, .. } => {
                let len = u32::try_from(sealed.len()).map_err(|_| StoreError::Config("chunk too large".into()))?;
                out.write_all(&len.to_be_bytes()).await.map_err(io("cannot write a file"))?;
                out.write_all(sealed).await.map_err(io("cannot write a file"))?;
            }
            Sink::Postgres { pending, .. } => {
                pending.push(sealed.to_vec());
                if pending.len() >= PG_CHUNKS_PER_INSERT {
                    self.flush_pg().await?;
                }
            }
        }
        Ok(())
    }

    async fn flush_pg(&mut self) -> Result<()> {
        let Sink::Postgres { pool, id, next_seq, pending } = &mut self.sink else { return Ok(()) };
        if pending.is_empty() {
            return Ok(());
        }
        let mut qb = sqlx::QueryBuilder::new("INSERT INTO attachment_chunks (blob_id, seq, bytes) ");
        let rows = std::mem::take(pending);
        let first = *next_seq;
        *next_seq += rows.len() as i64;
        qb.push_values(rows.into_iter().enumerate(), |mut b, (i, bytes)| {
            b.push_bind(id.clone()).push_bind(first + i as i64).push_bind(bytes);
        });
        qb.build().execute(&*pool).await?;
        Ok(())
    }

    /// Makes the bytes durable (synced to disk, or committed) before the row that names them.
    pub async fn finish(mut self) -> Result<()> {
        self.flush_pg().await?;
        if let Sink::File { mut out, part, done } = self.sink {
            out.flush().await.map_err(io("cannot write a file"))?;
            let file = out.into_inner();
            file.sync_all().await.map_err(io("cannot sync a file"))?;
            tokio::fs::rename(&part, &done).await.map_err(io("cannot store a file"))?;
            // The rename itself survives a power loss only once the folder is synced.
            if let Some(dir) = done.parent() {
                sync_dir(dir).await?;
            }
        }
        Ok(())
    }
}

async fn sync_dir(dir: &Path) -> Result<()> {
    let dir = dir.to_path_buf();
    tokio::task::spawn_blocking(move || std::fs::File::open(&dir).and_then(|d| d.sync_all()))
        .await
        .map_err(|e| StoreError::Config(e.to_string()))?
        .map_err(io("cannot sync the folder"))
}

enum Source {
    File(BufReader<tokio::fs::File>),
    Postgres { pool: PgPool, id: String, next_seq: i64, buffered: std::collections::VecDeque<Vec<u8>> },
}

/// Reads one blob's sealed chunks in order.
pub struct BlobReader {
    source: Source,
    left: i64,
}

impl BlobReader {
    /// The next sealed chunk, or None after the last of the `chunks` the row records. A blob
    /// shorter than its row says is corrupt.
    pub async fn next(&mut self) -> Result<Option<Vec<u8>>> {
        if self.left == 0 {
            return Ok(None);
        }
        self.left -= 1;
        let chunk = match &mut self.source {
            Source::File(file) => {
                let mut len = [0u8; 4];
                file.read_exact(&mut len)
                    .await
                    .map_err(|_| StoreError::Corrupt("a stored file is cut short".into()))?;
                let mut chunk = vec![0; u32::from_be_bytes(len) as usize];
                file.read_exact(&mut chunk)
                    .await
                    .map_err(|_| StoreError::Corrupt("a stored file is cut short".into()))?;
                chunk
            }
            Source::Postgres { pool, id, next_seq, buffered } => {
                if buffered.is_empty() {
                    let sql =
                        "SELECT bytes FROM attachment_chunks WHERE blob_id = $1 AND seq >= $2 ORDER BY seq LIMIT $3";
                    let rows: Vec<Vec<u8>> = sqlx::query_scalar(sql)
                        .bind(&*id)
                        .bind(*next_seq)
                        .bind(PG_CHUNKS_PER_INSERT as i64)
                        .fetch_all(&*pool)
                        .await?;
                    buffered.extend(rows);
                }
                *next_seq += 1;
                buffered.pop_front().ok_or_else(|| StoreError::Corrupt("a stored file is cut short".into()))?
            }
        };
        Ok(Some(chunk))
    }
}

impl crate::Store {
    /// Starts writing the sealed chunks of a new blob.
    pub async fn blob_writer(&self, id: &str) -> Result<BlobWriter> {
        let id = checked(id)?;
        let sink = match &self.blobs {
            Blobs::Folder(dir) => {
                let part = dir.join(format!("{id}.part"));
                let file = tokio::fs::File::create(&part).await.map_err(io("cannot create a file"))?;
                Sink::File { out: BufWriter::with_capacity(256 << 10, file), part, done: dir.join(id) }
            }
            Blobs::Postgres(pool) => {
                Sink::Postgres { pool: pool.clone(), id: id.to_string(), next_seq: 0, pending: Vec::new() }
            }
        };
        Ok(BlobWriter { sink })
    }

    /// Reads back the `chunks` sealed chunks of a blob.
    pub async fn blob_reader(&self, id: &str, chunks: i64) -> Result<BlobReader> {
        let id = checked(id)?;
        let source = match &self.blobs {
            Blobs::Folder(dir) => {
                let file = tokio::fs::File::open(dir.join(id))
                    .await
                    .map_err(|e| StoreError::Corrupt(format!("the bytes of file {id} are missing: {e}")))?;
                Source::File(BufReader::with_capacity(256 << 10, file))
            }
            Blobs::Postgres(pool) => {
                Source::Postgres { pool: pool.clone(), id: id.to_string(), next_seq: 0, buffered: Default::default() }
            }
        };
        Ok(BlobReader { source, left: chunks })
    }

    /// Removes a blob's bytes (a failed upload's, or an orphan's).
    pub async fn discard_blob(&self, id: &str) -> Result<()> {
        let id = checked(id)?;
        match &self.blobs {
            Blobs::Folder(dir) => {
                for path in [dir.join(format!("{id}.part")), dir.join(id)] {
                    match tokio::fs::remove_file(&path).await {
                        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                            return Err(io("cannot remove a file")(e))
                        }
                        _ => {}
                    }
                }
            }
            Blobs::Postgres(pool) => {
                sqlx::query("DELETE FROM attachment_chunks WHERE blob_id = $1").bind(id).execute(pool).await?;
            }
        }
        Ok(())
    }

    /// Where the bytes of a blob lie on disk, on SQLite (for tests that read them raw).
    pub fn blob_path(&self, id: &str) -> Option<PathBuf> {
        match &self.blobs {
            Blobs::Folder(dir) => Some(dir.join(id)),
            Blobs::Postgres(_) => None,
        }
    }
}
