//! Soak (issue #12): the release `kyoyu serve` under a steady mixed load for a long time.
//! Prints, every minute, the requests sent, the errors, the latency of reads and of writes,
//! the server's resident memory (and on SQLite the size of the write-ahead log), the reports
//! stored and the renditions waiting for the STIX follower (its backlog); at the end
//! the audit chain is verified. It fails (exit 1) on any error, on a broken audit chain, when
//! memory at the end is more than 10 % above the middle minute's, or when the WAL ever passed
//! 256 MB. Memory is judged from the middle because SQLite's page caches (up to 2 MiB per
//! connection) fill during the first minutes: a leak goes on growing through the second half,
//! a cache does not.
//!
//! `cargo bench -p kyoyu --bench soak -- [--minutes 30] [--rate 480] [--writes 30]`
//! (rate: requests per second in all; writes: the percentage that file reports). With
//! KYOYU_TEST_DATABASE_URL set it runs on PostgreSQL.

#[path = "../tests/common/mod.rs"]
mod common;

use common::{rss_kb, Target};
use kyoyu_app::seed::{self, Passwords};
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{Mutex, Semaphore};

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// What one minute saw.
#[derive(Default)]
struct Minute {
    reads: Vec<Duration>,
    writes: Vec<Duration>,
    errors: Vec<String>,
}

fn p(sorted: &[Duration], q: f64) -> f64 {
    sorted.get(((sorted.len() as f64 - 1.0) * q).round() as usize).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let (minutes, rate, writes) = (arg("--minutes", 30), arg("--rate", 480).max(1), arg("--writes", 30).min(100));
    let (target, store) = Target::from_env().await;
    let users = seed::seed_demo(&store, Passwords::TokensOnly).await.unwrap();
    store.close().await;
    let server = target.serve();
    let pid = server.child.id();
    let operators: Vec<(String, String)> = users
        .iter()
        .filter(|u| u.login.ends_with(".ntk") && u.org_kind == kyoyu_domain::codes::OrgKind::Operator)
        .map(|u| (u.token.clone(), u.sector.clone().unwrap()))
        .collect();
    let client = reqwest::Client::builder().pool_max_idle_per_host(64).build().unwrap();
    let in_flight = Arc::new(Semaphore::new(64));
    let minute = Arc::new(Mutex::new(Minute::default()));
    println!("soak: {minutes} min at {rate} requests/s, {writes} % writes ({} backend)", target.backend());
    println!(
        "{:>4} {:>8} {:>7} {:>11} {:>11} {:>12} {:>12} {:>8} {:>8} {:>9} {:>8}",
        "min",
        "sent",
        "errors",
        "read p50",
        "read p99",
        "write p50",
        "write p99",
        "rss MB",
        "wal MB",
        "reports",
        "backlog"
    );
    // SQLite's write-ahead log must be checkpointed and restarted, not grow with the load.
    let wal_mb = || std::fs::metadata(target.dir.path().join("kyoyu.db-wal")).map(|m| m.len() >> 20).unwrap_or(0);
    let mut largest_wal = 0;
    let started = Instant::now();
    let mut first_rss = 0;
    let middle = (minutes / 2).max(1);
    let mut middle_rss = 0;
    let mut failed = false;
    let mut n: u64 = 0;
    let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / rate));
    for m in 1..=minutes {
        let until = started + Duration::from_secs(60 * m);
        let mut sent = 0;
        while Instant::now() < until {
            tick.tick().await;
            n += 1;
            sent += 1;
            let (token, sector) = operators[(n as usize) % operators.len()].clone();
            let write = n % 100 < writes;
            let (client, base, minute) = (client.clone(), server.base.clone(), minute.clone());
            let Ok(permit) = in_flight.clone().try_acquire_owned() else {
                minute.lock().await.errors.push("64 requests already in flight: the server fell behind".into());
                continue;
            };
            tokio::spawn(async move {
                let t = Instant::now();
                let sent = if write {
                    let body = json!({"route": "direct", "statutory": false, "tlp": "AMBER", "has_attachments": false,
                        "sector": sector, "summary": {"description": format!("203.0.113.{} 不審な通信 {n}", n % 250)}});
                    client.post(format!("{base}/api/v1/reports")).bearer_auth(&token).json(&body).send().await
                } else {
                    client.get(format!("{base}/api/v1/reports?limit=20")).bearer_auth(&token).send().await
                };
                let outcome = match sent {
                    Ok(r) if r.status().is_success() => r.bytes().await.map(|_| ()).map_err(|e| e.to_string()),
                    Ok(r) => Err(format!("HTTP {}", r.status())),
                    Err(e) => Err(e.to_string()),
                };
                let mut m = minute.lock().await;
                match outcome {
                    Ok(()) if write => m.writes.push(t.elapsed()),
                    Ok(()) => m.reads.push(t.elapsed()),
                    Err(e) => m.errors.push(e),
                }
                drop(permit);
            });
        }
        let mut seen = std::mem::take(&mut *minute.lock().await);
        seen.reads.sort();
        seen.writes.sort();
        let (rss, wal) = (rss_kb(pid) / 1024, wal_mb());
        let reports = target.read_number("SELECT count(*) FROM reports").await;
        let backlog = target.read_number("SELECT count(*) FROM stix_backlog").await;
        largest_wal = largest_wal.max(wal);
        if m == 1 {
            first_rss = rss;
        }
        if m == middle {
            middle_rss = rss;
        }
        println!(
            "{m:>4} {sent:>8} {:>7} {:>9.2}ms {:>9.2}ms {:>10.2}ms {:>10.2}ms {rss:>8} {wal:>8} {reports:>9} {backlog:>8}",
            seen.errors.len(),
            p(&seen.reads, 0.5),
            p(&seen.reads, 0.99),
            p(&seen.writes, 0.5),
            p(&seen.writes, 0.99)
        );
        if let Some(e) = seen.errors.first() {
            println!("     first error: {e}");
            failed = true;
        }
    }
    let _ = in_flight.acquire_many(64).await;
    let last_rss = rss_kb(pid) / 1024;
    drop(server);
    let verify = target.kyoyu(&["audit", "verify"]).output().unwrap();
    let chain_ok = verify.status.success();
    println!(
        "audit chain: {}; resident memory {first_rss} MB after minute 1, {middle_rss} MB after minute {middle}, {last_rss} MB at the end; largest WAL {largest_wal} MB",
        if chain_ok { "valid" } else { "BROKEN" }
    );
    target.drop_schema().await;
    if failed || !chain_ok || last_rss * 10 > middle_rss * 11 || largest_wal > 256 {
        println!("soak: FAILED");
        std::process::exit(1);
    }
    println!("soak: passed");
}
