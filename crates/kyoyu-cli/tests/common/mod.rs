//! Where a CLI test keeps its database: SQLite in a directory, or a fresh PostgreSQL schema
//! when KYOYU_TEST_DATABASE_URL is set.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Target {
    pub dir: tempfile::TempDir,
    /// `postgres://…` with the schema in `options`, when on PostgreSQL.
    pub database: Option<String>,
    /// The server URL and the schema, when on PostgreSQL.
    pub postgres: Option<(String, String)>,
}

/// A URL that selects `schema` through the connection's search_path.
pub fn url_with_schema(url: &str, schema: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}options=-c%20search_path%3D{schema}")
}

impl Target {
    pub async fn new(postgres_url: Option<String>) -> (Target, kyoyu_store::Store) {
        let dir = tempfile::tempdir().unwrap();
        match postgres_url {
            Some(url) => {
                let (store, schema) =
                    kyoyu_store::Store::connect_postgres_fresh_schema(&url).await.expect("PostgreSQL for tests");
                let database = Some(url_with_schema(&url, &schema));
                (Target { dir, database, postgres: Some((url, schema)) }, store)
            }
            None => {
                let store = kyoyu_store::Store::open(dir.path()).await.unwrap();
                (Target { dir, database: None, postgres: None }, store)
            }
        }
    }

    /// The database's name, for reports.
    pub fn backend(&self) -> &'static str {
        if self.postgres.is_some() {
            "PostgreSQL"
        } else {
            "SQLite"
        }
    }

    pub async fn from_env() -> (Target, kyoyu_store::Store) {
        Self::new(kyoyu_test_support::backend_url()).await
    }

    /// `kyoyu ARGS --data-dir DIR` or `… --database URL`.
    pub fn kyoyu(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_kyoyu"));
        cmd.args(args);
        match &self.database {
            Some(url) => cmd.arg("--database").arg(url),
            None => cmd.arg("--data-dir").arg(self.dir.path()),
        };
        cmd
    }

    /// Drops a PostgreSQL schema with everything in it (an SQLite directory goes with `dir`).
    pub async fn drop_schema(&self) {
        if let Some((url, schema)) = &self.postgres {
            let pool = sqlx::PgPool::connect(url).await.unwrap();
            sqlx::query(&format!("DROP SCHEMA {schema} CASCADE")).execute(&pool).await.unwrap();
            pool.close().await;
        }
    }

    /// Reads one number with raw SQL behind the server's back (a SQLite reader is read-only).
    pub async fn read_number(&self, sql: &str) -> i64 {
        match &self.database {
            Some(url) => {
                let pool = sqlx::PgPool::connect(url).await.unwrap();
                let n = sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap();
                pool.close().await;
                n
            }
            None => {
                let url = format!("sqlite://{}?mode=ro", self.dir.path().join("kyoyu.db").display());
                let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
                let n = sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap();
                pool.close().await;
                n
            }
        }
    }

    /// Runs raw SQL on the database behind the server's back.
    pub async fn tamper(&self, sql: &str) {
        match &self.database {
            Some(url) => {
                let pool = sqlx::PgPool::connect(url).await.unwrap();
                sqlx::query(sql).execute(&pool).await.unwrap();
                pool.close().await;
            }
            None => {
                let url = format!("sqlite://{}", self.dir.path().join("kyoyu.db").display());
                let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
                sqlx::query(sql).execute(&pool).await.unwrap();
                pool.close().await;
            }
        }
    }
}

/// A `kyoyu serve` process on an ephemeral port, killed when dropped.
pub struct Server {
    pub child: Child,
    pub base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Target {
    /// Starts `kyoyu serve` on this database and waits until it listens.
    pub fn serve(&self) -> Server {
        let mut child = self
            .kyoyu(&["serve", "--listen", "127.0.0.1:0"])
            // KYOYU_SERVE_LOG (a RUST_LOG filter) shows the server's log, for diagnosis.
            .env("RUST_LOG", std::env::var("KYOYU_SERVE_LOG").unwrap_or_else(|_| "error".into()))
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let base = loop {
            let line = lines.next().expect("kyoyu serve exited").unwrap();
            if let Some(rest) = line.split("serving on ").nth(1) {
                break rest.split_whitespace().next().unwrap().to_string();
            }
        };
        // Keep draining stderr so the server never blocks on a full pipe.
        let show = std::env::var("KYOYU_SERVE_LOG").is_ok();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                if show {
                    eprintln!("{line}");
                }
            }
        });
        Server { child, base }
    }
}

/// GET a JSON document with a bearer token.
/// A GET answer read as its view type.
pub async fn get_json<T: serde::de::DeserializeOwned>(client: &reqwest::Client, url: &str, token: &str) -> T {
    client.get(url).bearer_auth(token).send().await.unwrap().json().await.unwrap()
}

/// The value given after `--name` on a benchmark's command line, if any.
pub fn flag(name: &str) -> Option<String> {
    let argv: Vec<String> = std::env::args().collect();
    argv.windows(2).find(|pair| pair[0] == name).map(|pair| pair[1].clone())
}

/// The backends a benchmark runs on: `--backend sqlite|postgres|both` (both by default).
pub fn backends_flag() -> Vec<String> {
    match flag("--backend").as_deref() {
        None | Some("both") => vec!["sqlite".into(), "postgres".into()],
        Some(one) => vec![one.to_string()],
    }
}

/// Resident memory of a process, in kB (Linux).
pub fn rss_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

pub struct FloodOutcome {
    pub statuses: std::collections::BTreeMap<u16, usize>,
    pub token_latencies: Vec<Duration>,
    pub token_failures: usize,
}

/// Floods `base` with bad Basic log-ins from `clients` tasks for `period` while one client
/// lists reports with `token`.
pub async fn flood(base: &str, token: &str, clients: usize, period: Duration) -> FloodOutcome {
    let client = reqwest::Client::builder().pool_max_idle_per_host(clients + 1).build().unwrap();
    let until = Instant::now() + period;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..clients {
        let (client, url) = (client.clone(), format!("{base}/taxii2/"));
        tasks.spawn(async move {
            let mut seen = Vec::new();
            let mut n = 0;
            while Instant::now() < until {
                // Half name a real account (soon throttled), half unknown ones (always hashed).
                let login = if i % 2 == 0 { "gas-a.ntk".to_string() } else { format!("nobody{i}-{n}") };
                n += 1;
                let r = client
                    .get(&url)
                    .basic_auth(login, Some("wrong password"))
                    .header("accept", "application/taxii+json;version=2.1")
                    .send()
                    .await;
                seen.push(r.map(|r| r.status().as_u16()).unwrap_or(0));
            }
            seen
        });
    }
    let mut token_latencies = Vec::new();
    let mut token_failures = 0;
    while Instant::now() < until {
        let started = Instant::now();
        let r = client.get(format!("{base}/api/v1/reports?limit=20")).bearer_auth(token).send().await;
        match r {
            Ok(r) if r.status().is_success() => {
                let _ = r.bytes().await;
                token_latencies.push(started.elapsed());
            }
            _ => token_failures += 1,
        }
    }
    let mut statuses = std::collections::BTreeMap::new();
    while let Some(seen) = tasks.join_next().await {
        for s in seen.unwrap() {
            *statuses.entry(s).or_insert(0) += 1;
        }
    }
    token_latencies.sort();
    FloodOutcome { statuses, token_latencies, token_failures }
}
