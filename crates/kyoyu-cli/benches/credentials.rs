//! What credentials cost (issue #11, item 9), on the release `kyoyu serve`:
//!
//! 1. A TAXII page (`objects/?limit=100` of the Reports collection) with a bearer token and with
//!    HTTP Basic as the OASIS client sends it, side by side: Basic is remembered after its
//!    first check, so it should stay within 2x of the token (the ceiling printed beside it).
//! 2. A flood: 64 clients sending wrong Basic credentials as fast as they can while one client
//!    lists reports with a token. Prints the token list's p50 and p99 beside the 10 ms
//!    ceiling, the answers the flood got (401, 429; never a 5xx), and resident memory before
//!    and after (the ceiling is 50 MB above where it started).
//!
//! `cargo bench -p kyoyu --bench credentials -- [--samples 200] [--seconds 10]`

#[path = "../tests/common/mod.rs"]
mod common;

use common::{flood, rss_kb, Target};
use kyoyu_app::seed::{self, Passwords};
use kyoyu_app::stix::REPORTS;
use serde_json::json;
use std::time::{Duration, Instant};

const MEDIA: &str = "application/taxii+json;version=2.1";

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted.get(((sorted.len() as f64 - 1.0) * p).round() as usize).copied().unwrap_or_default()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Times `samples` first-page reads of the Reports collection with one way of logging in.
async fn page_times(
    client: &reqwest::Client,
    url: &str,
    samples: u64,
    auth: impl Fn(reqwest::RequestBuilder) -> reqwest::RequestBuilder,
) -> Vec<Duration> {
    let mut times = Vec::new();
    for _ in 0..samples {
        let started = Instant::now();
        let r = auth(client.get(url).header("accept", MEDIA)).send().await.unwrap();
        assert!(r.status().is_success(), "{}", r.status());
        let _ = r.bytes().await.unwrap();
        times.push(started.elapsed());
    }
    times.sort();
    times
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let samples = arg("--samples", 200);
    let seconds = arg("--seconds", 10);
    let (target, store) = Target::new(None).await;
    let users = seed::seed_demo(&store, Passwords::For(&["gas-a.ntk"])).await.unwrap();
    store.close().await;
    let server = target.serve();
    let client = reqwest::Client::new();
    let operator = users.iter().find(|u| u.login == "gas-a.ntk").unwrap().clone();
    for i in 0..150 {
        let body = json!({"route": "direct", "statutory": false, "tlp": "GREEN", "has_attachments": false,
            "sector": "gas", "summary": {"description": format!("198.51.100.{} からの不審な通信 {i}", i % 250)}});
        let r = client.post(format!("{}/api/v1/reports", server.base)).bearer_auth(&operator.token).json(&body);
        assert_eq!(r.send().await.unwrap().status().as_u16(), 201);
    }
    let url = format!("{}/taxii2/kyoyu/collections/{REPORTS}/objects/?limit=100", server.base);
    let token = page_times(&client, &url, samples, |r| r.bearer_auth(&operator.token)).await;
    let basic = page_times(&client, &url, samples, |r| r.basic_auth(&operator.login, Some(&operator.password))).await;
    println!("TAXII objects/?limit=100, {samples} samples each (release kyoyu serve, SQLite):");
    println!("  {:<28} {:>9} {:>9}", "", "p50 ms", "p99 ms");
    for (name, t) in [("bearer token", &token), ("HTTP Basic (OASIS client)", &basic)] {
        println!("  {name:<28} {:>9.2} {:>9.2}", ms(percentile(t, 0.5)), ms(percentile(t, 0.99)));
    }
    let ratio = ms(percentile(&basic, 0.5)) / ms(percentile(&token, 0.5));
    println!("  Basic / token at p50: {ratio:.2}x (ceiling 2x)");

    let nisc = users.iter().find(|u| u.login == "nisc.cip").unwrap().token.clone();
    let pid = server.child.id();
    let before = rss_kb(pid);
    let out = flood(&server.base, &nisc, 64, Duration::from_secs(seconds)).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = rss_kb(pid);
    let t = &out.token_latencies;
    println!("Flood: 64 clients with wrong Basic credentials for {seconds} s, one client listing with a token:");
    println!("  flood answers by status: {:?}", out.statuses);
    println!(
        "  token list: {} requests, {} failed, p50 {:.2} ms (ceiling 10 ms), p99 {:.2} ms",
        t.len(),
        out.token_failures,
        ms(percentile(t, 0.5)),
        ms(percentile(t, 0.99))
    );
    println!(
        "  resident memory: {} MB before, {} MB after (ceiling {} MB)",
        before / 1024,
        after / 1024,
        before / 1024 + 50
    );
}
