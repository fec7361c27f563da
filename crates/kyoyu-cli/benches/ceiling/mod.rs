//! The store's own ceiling for report ingestion: transactions of the shape a report write
//! has (a 2 KB row, three reader rows, a hash-chained audit append: read the head, insert the
//! entry, move the head), committed straight to the database with no HTTP and no kyoyu code
//! in between. SQLite is driven through rusqlite on one thread (it has one writer);
//! PostgreSQL through sqlx with one connection per client. `per_tx` reports share each
//! transaction: 1 is one report per commit, as a server without group commit writes.

use sha2::{Digest, Sha256};
use std::time::Instant;

const SCHEMA: &str = "
CREATE TABLE ceiling_reports (id TEXT PRIMARY KEY, body TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE ceiling_access (org_id TEXT NOT NULL, report_id TEXT NOT NULL, created_at TEXT NOT NULL,
    PRIMARY KEY (report_id, org_id));
CREATE INDEX ceiling_access_by_org ON ceiling_access (org_id, created_at);
CREATE TABLE ceiling_audit (seq BIGINT PRIMARY KEY, at TEXT NOT NULL, object_id TEXT NOT NULL,
    detail TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
CREATE TABLE ceiling_head (id INTEGER PRIMARY KEY, seq BIGINT NOT NULL, hash TEXT NOT NULL);
INSERT INTO ceiling_head (id, seq, hash) VALUES (1, 0, '');
";

fn body() -> String {
    "報告本文 report body ".repeat(2048 / 27 + 1)
}

fn chain_hash(prev: &str, seq: i64, id: &str) -> String {
    hex::encode(Sha256::digest(format!("{prev}|{seq}|{id}|report.file")))
}

/// Reports committed per second on SQLite, in WAL mode with `synchronous` as the server sets it.
pub fn sqlite(dir: &std::path::Path, reports: usize, per_tx: usize, synchronous: &str) -> f64 {
    let db = rusqlite::Connection::open(dir.join(format!("ceiling-{per_tx}.db"))).unwrap();
    db.pragma_update(None, "journal_mode", "WAL").unwrap();
    db.pragma_update(None, "synchronous", synchronous).unwrap();
    db.execute_batch(SCHEMA).unwrap();
    let body = body();
    let started = Instant::now();
    let mut done = 0;
    while done < reports {
        let tx = db.unchecked_transaction().unwrap();
        {
            let mut report = tx.prepare_cached("INSERT INTO ceiling_reports VALUES (?1, ?2, ?3)").unwrap();
            let mut access = tx
                .prepare_cached("INSERT INTO ceiling_access VALUES (?1, ?3, ?4), (?2, ?3, ?4), ('coordinator', ?3, ?4)")
                .unwrap();
            let mut audit = tx.prepare_cached("INSERT INTO ceiling_audit VALUES (?1, ?2, ?3, '{}', ?4, ?5)").unwrap();
            let (mut seq, mut prev): (i64, String) = tx
                .query_row("SELECT seq, hash FROM ceiling_head WHERE id = 1", [], |r| Ok((r.get(0)?, r.get(1)?)))
                .unwrap();
            for _ in 0..per_tx.min(reports - done) {
                let id = uuid::Uuid::new_v4().to_string();
                let at = kyoyu_store::now();
                report.execute((&id, &body, &at)).unwrap();
                access.execute(("operator", "ministry", &id, &at)).unwrap();
                seq += 1;
                let hash = chain_hash(&prev, seq, &id);
                audit.execute((seq, &at, &id, &prev, &hash)).unwrap();
                prev = hash;
                done += 1;
            }
            tx.execute("UPDATE ceiling_head SET seq = ?1, hash = ?2 WHERE id = 1", (seq, &prev)).unwrap();
        }
        tx.commit().unwrap();
    }
    reports as f64 / started.elapsed().as_secs_f64()
}

/// Reports committed per second on PostgreSQL (`synchronous_commit` as the server has it),
/// by `clients` connections at once, in a schema of its own that is dropped afterwards.
pub async fn postgres(url: &str, reports: usize, clients: usize, per_tx: usize) -> f64 {
    use sqlx::postgres::PgPoolOptions;
    let schema = format!("ceiling_{}", uuid::Uuid::new_v4().simple());
    let admin = PgPoolOptions::new().max_connections(1).connect(url).await.unwrap();
    sqlx::query(&format!("CREATE SCHEMA {schema}")).execute(&admin).await.unwrap();
    let pool = PgPoolOptions::new()
        .max_connections(clients as u32)
        .connect(&super::common::url_with_schema(url, &schema))
        .await
        .unwrap();
    sqlx::raw_sql(SCHEMA).execute(&pool).await.unwrap();
    let body = body();
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    let transactions = reports.div_ceil(per_tx);
    for c in 0..clients {
        let (pool, body) = (pool.clone(), body.clone());
        let mine = transactions / clients + usize::from(c < transactions % clients);
        tasks.spawn(async move {
            for _ in 0..mine {
                postgres_transaction(&pool, &body, per_tx).await;
            }
        });
    }
    while let Some(r) = tasks.join_next().await {
        r.unwrap();
    }
    let rate = (transactions * per_tx) as f64 / started.elapsed().as_secs_f64();
    pool.close().await;
    sqlx::query(&format!("DROP SCHEMA {schema} CASCADE")).execute(&admin).await.unwrap();
    rate
}

async fn postgres_transaction(pool: &sqlx::PgPool, body: &str, per_tx: usize) {
    let mut tx = pool.begin().await.unwrap();
    let at = kyoyu_store::now();
    let ids: Vec<String> = (0..per_tx).map(|_| uuid::Uuid::new_v4().to_string()).collect();
    let mut reports = sqlx::QueryBuilder::new("INSERT INTO ceiling_reports ");
    reports.push_values(&ids, |mut b, id| {
        b.push_bind(id).push_bind(body).push_bind(&at);
    });
    reports.build().execute(&mut *tx).await.unwrap();
    let readers: Vec<(&str, &String)> =
        ids.iter().flat_map(|id| ["operator", "ministry", "coordinator"].map(|org| (org, id))).collect();
    let mut access = sqlx::QueryBuilder::new("INSERT INTO ceiling_access ");
    access.push_values(&readers, |mut b, (org, id)| {
        b.push_bind(*org).push_bind(*id).push_bind(&at);
    });
    access.build().execute(&mut *tx).await.unwrap();
    let (mut seq, mut prev): (i64, String) =
        sqlx::query_as("SELECT seq, hash FROM ceiling_head WHERE id = 1 FOR UPDATE").fetch_one(&mut *tx).await.unwrap();
    let mut entries = Vec::new();
    for id in &ids {
        seq += 1;
        let hash = chain_hash(&prev, seq, id);
        entries.push((seq, id, std::mem::replace(&mut prev, hash.clone()), hash));
    }
    let mut audit = sqlx::QueryBuilder::new("INSERT INTO ceiling_audit ");
    audit.push_values(&entries, |mut b, (seq, id, prev, hash)| {
        b.push_bind(*seq).push_bind(&at).push_bind(*id).push_bind("{}").push_bind(prev).push_bind(hash);
    });
    audit.build().execute(&mut *tx).await.unwrap();
    sqlx::query("UPDATE ceiling_head SET seq = $1, hash = $2 WHERE id = 1")
        .bind(seq)
        .bind(&prev)
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}
