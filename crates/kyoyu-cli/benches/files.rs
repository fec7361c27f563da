//! Files: upload and download throughput of one large file, and the server's resident memory
//! while it streams (`bench/RESULTS.md` records runs).
//!
//! `cargo bench -p kyoyu --bench files -- [--backend sqlite|postgres|both] [--mb 50] [--runs 3]`
//!
//! The server is the release `kyoyu serve` in its own process, on a fresh demo installation.
//! Per backend it prints, for a file of `--mb` MiB (median of `--runs`): upload as an
//! attachment (encrypted and hashed as it arrives), download raw, download as an AES-256 zip,
//! and upload and download of the same bytes as a sample; each beside the server's resident
//! memory before and at its peak during the transfer (sampled every 20 ms). A server that held
//! the file whole would peak at least `--mb` above idle. Beside them, the same bytes written
//! to and read back from a file on the same disk, as the ceiling.

#[path = "../tests/common/mod.rs"]
mod common;

use common::{backends_flag, flag, rss_kb, Target};
use rand::{RngCore, SeedableRng};
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Args {
    backends: Vec<String>,
    mb: usize,
    runs: usize,
}

fn args() -> Args {
    let number = |name: &str, default: usize| flag(name).map_or(default, |v| v.parse().expect("a number"));
    Args { backends: backends_flag(), mb: number("--mb", 50), runs: number("--runs", 3) }
}

/// Samples a process's resident memory until stopped; answers the peak, in MB.
struct PeakRss {
    stop: Arc<AtomicBool>,
    peak: Arc<AtomicU64>,
    thread: std::thread::JoinHandle<()>,
}

impl PeakRss {
    fn start(pid: u32) -> PeakRss {
        let (stop, peak) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicU64::new(0)));
        let (s, p) = (stop.clone(), peak.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                p.fetch_max(rss_kb(pid), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        PeakRss { stop, peak, thread }
    }

    fn finish(self) -> f64 {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.thread.join();
        self.peak.load(Ordering::Relaxed) as f64 / 1024.0
    }
}

/// The file's bytes streamed from disk in 256 KiB pieces (the client holds no copy either).
fn file_body(path: &std::path::Path) -> reqwest::Body {
    let file = std::fs::File::open(path).unwrap();
    let stream = futures_util::stream::unfold(file, |mut file| async move {
        use std::io::Read;
        let mut buf = vec![0u8; 256 << 10];
        match file.read(&mut buf) {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok::<_, std::io::Error>(buf), file))
            }
            Err(e) => Some((Err(e), file)),
        }
    });
    reqwest::Body::wrap_stream(stream)
}

struct Measure {
    seconds: f64,
    peak_mb: f64,
}

async fn upload(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    report: &str,
    path: &std::path::Path,
    kind: &str,
    pid: u32,
) -> (Measure, String) {
    let len = std::fs::metadata(path).unwrap().len();
    let part = reqwest::multipart::Part::stream_with_length(file_body(path), len).file_name("big.bin");
    let form = reqwest::multipart::Form::new().text("kind", kind.to_string()).part("file", part);
    let peak = PeakRss::start(pid);
    let started = Instant::now();
    let r = http
        .post(format!("{base}/api/v1/reports/{report}/attachments"))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let id = r.json::<kyoyu_app::files::AttachmentView>().await.unwrap().id;
    let seconds = started.elapsed().as_secs_f64();
    (Measure { seconds, peak_mb: peak.finish() }, id)
}

async fn download(http: &reqwest::Client, base: &str, token: &str, id: &str, how: &str, pid: u32) -> Measure {
    use futures_util::StreamExt;
    let peak = PeakRss::start(pid);
    let started = Instant::now();
    let r =
        http.get(format!("{base}/api/v1/attachments/{id}/download?as={how}")).bearer_auth(token).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let mut stream = r.bytes_stream();
    let mut n = 0usize;
    while let Some(chunk) = stream.next().await {
        n += chunk.unwrap().len();
    }
    assert!(n > 0);
    Measure { seconds: started.elapsed().as_secs_f64(), peak_mb: peak.finish() }
}

fn median(mut v: Vec<Measure>) -> Measure {
    v.sort_by(|a, b| a.seconds.total_cmp(&b.seconds));
    v.swap_remove(v.len() / 2)
}

fn row(what: &str, mb: usize, m: &Measure, idle: f64) {
    println!(
        "| {what} | {:.0} MB/s ({:.2} s) | {:.1} MB (+{:.1} MB over idle) |",
        mb as f64 / m.seconds,
        m.seconds,
        m.peak_mb,
        m.peak_mb - idle
    );
}

/// The same bytes written to a file (synced) and read back on this disk: the ceiling.
fn disk_ceiling(dir: &std::path::Path, bytes: &[u8]) -> (f64, f64) {
    let path = dir.join("ceiling.bin");
    let started = Instant::now();
    let mut f = std::fs::File::create(&path).unwrap();
    f.write_all(bytes).unwrap();
    f.sync_all().unwrap();
    let write = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let back = std::fs::read(&path).unwrap();
    assert_eq!(back.len(), bytes.len());
    (write, started.elapsed().as_secs_f64())
}

async fn run_backend(backend: &str, a: &Args, path: &std::path::Path, bytes: &[u8]) {
    let url = (backend == "postgres").then(kyoyu_test_support::postgres_url);
    let (target, store) = Target::new(url).await;
    let users = kyoyu_app::seed::seed_demo(&store, kyoyu_app::seed::Passwords::TokensOnly).await.unwrap();
    store.close().await;
    let token = |login: &str| users.iter().find(|u| u.login == login).unwrap().token.clone();
    let server = target.serve();
    let pid = server.child.id();
    let http = reqwest::Client::new();
    let body = kyoyu_test_support::demo::report_body("gas", "direct", "AMBER", serde_json::json!({}));
    println!("\n## {} — one {} MiB file, median of {}\n", target.backend(), a.mb, a.runs);
    println!("| transfer | throughput | server resident memory, peak |");
    println!("|---|---|---|");
    let idle = rss_kb(pid) as f64 / 1024.0;
    let (mut up, mut raw, mut aes, mut sample_up, mut sample_zip) = (vec![], vec![], vec![], vec![], vec![]);
    for _ in 0..a.runs {
        // A fresh report each run: an item holds at most 500 MiB of files.
        let report: kyoyu_app::views::ReportView = http
            .post(format!("{}/api/v1/reports", server.base))
            .bearer_auth(token("gas-a.ntk"))
            .json(&body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let (m, id) = upload(&http, &server.base, &token("gas-a.ntk"), &report.id, path, "attachment", pid).await;
        up.push(m);
        raw.push(download(&http, &server.base, &token("meti.liaison"), &id, "raw", pid).await);
        aes.push(download(&http, &server.base, &token("meti.liaison"), &id, "aes-zip", pid).await);
        let (m, id) = upload(&http, &server.base, &token("gas-a.ntk"), &report.id, path, "sample", pid).await;
        sample_up.push(m);
        sample_zip.push(download(&http, &server.base, &token("meti.liaison"), &id, "aes-zip", pid).await);
    }
    println!("| (idle, before) | | {idle:.1} MB |");
    row("upload as an attachment (sealed, hashed)", a.mb, &median(up), idle);
    row("download raw (opened as it streams)", a.mb, &median(raw), idle);
    row("download as an AES-256 zip", a.mb, &median(aes), idle);
    row("upload as a sample", a.mb, &median(sample_up), idle);
    row("download a sample as an AES-256 zip", a.mb, &median(sample_zip), idle);
    let (write, read) = disk_ceiling(target.dir.path(), bytes);
    println!(
        "| ceiling: the same bytes written and synced / read back on this disk | {:.0} / {:.0} MB/s | |",
        a.mb as f64 / write,
        a.mb as f64 / read
    );
    drop(server);
    target.drop_schema().await;
}

#[tokio::main]
async fn main() {
    let a = args();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.bin");
    // Incompressible bytes, as samples and archives mostly are.
    let mut bytes = vec![0u8; a.mb << 20];
    rand::rngs::StdRng::seed_from_u64(15).fill_bytes(&mut bytes);
    std::fs::write(&path, &bytes).unwrap();
    for backend in &a.backends {
        run_backend(backend, &a, &path, &bytes).await;
    }
}
