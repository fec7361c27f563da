//! The performance baseline, on SQLite and on PostgreSQL (`bench/RESULTS.md` records runs).
//!
//! `cargo bench -p kyoyu --bench baseline -- [--backend sqlite|postgres|both] [--sizes 10000,100000,1000000]
//!  [--ingest 4000] [--clients 32]`
//!
//! Prints, per backend:
//! 1. report ingestion through the HTTP API (each report its own transaction with its audit
//!    entry) with N concurrent clients: reports/s, p50/p99;
//! 2. `listReports` first page for an operator who may read about 1% of the items, at each size;
//! 3. get by id, for readable and for unreadable items;
//! 4. the coordinator's home page (its triage board) and report list page in the web UI;
//! 5. the resident memory of the idle server after loading the largest size.
//!
//! The server is the real `kyoyu serve` binary in its own process; the world is generated
//! straight into the store (15 sectors, 150 operators, every TLP and route, forwards,
//! follow-ups and shares), with the policy computing every item's readers as in production.

mod ceiling;
#[path = "../tests/common/mod.rs"]
mod common;

use common::{backends_flag, flag, get_json, Server, Target};
use kyoyu_app::views::{Count, ReportList};
use kyoyu_domain::codes::{OrgKind, Role, Route};
use kyoyu_domain::report::{ReportContent, ReportInput};
use kyoyu_domain::Tlp;
use kyoyu_store::{new_id, now, ChainRow, NewRendition, OrgIdentity, OrgRow, Store, TokenRow, UserRow};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::HashMap;
use std::time::{Duration, Instant};

const OPERATORS_PER_SECTOR: usize = 10;

struct Args {
    backends: Vec<String>,
    sizes: Vec<usize>,
    ingest: usize,
    clients: usize,
}

fn args() -> Args {
    let sizes = |v: String| v.split(',').map(|s| s.parse().expect("--sizes takes numbers")).collect();
    let number = |name: &str, default: usize| flag(name).map_or(default, |v| v.parse().expect("a number"));
    Args {
        backends: backends_flag(),
        sizes: flag("--sizes").map_or(vec![10_000, 100_000, 1_000_000], sizes),
        ingest: number("--ingest", 4000),
        clients: number("--clients", 32),
    }
}

/// The generated world: organisations, and one need-to-know user's token per organisation.
struct World {
    orgs: HashMap<String, OrgRow>,
    operators: Vec<String>,
    ceptoar: HashMap<String, String>,
    ministry: HashMap<String, String>,
    coordinator: String,
    tokens: HashMap<String, String>,
    users: HashMap<String, String>,
}

async fn build_world(store: &Store) -> World {
    kyoyu_app::seed::install_reference(store).await.unwrap();
    let mut tx = store.begin(Default::default()).await.unwrap();
    let sectors = tx.list_sectors().await.unwrap();
    for s in &sectors {
        let c = org(OrgKind::Ceptoar, &format!("{} CEPTOAR", s.name_en), Some(&s.code));
        tx.insert_org(&c).await.unwrap();
        for i in 0..OPERATORS_PER_SECTOR {
            tx.insert_org(&org(OrgKind::Operator, &format!("{} operator {i}", s.name_en), Some(&s.code)))
                .await
                .unwrap();
        }
    }
    let orgs: HashMap<String, OrgRow> = tx.list_orgs().await.unwrap().into_iter().map(|o| (o.id.clone(), o)).collect();
    let mut w = World {
        operators: vec![],
        ceptoar: HashMap::new(),
        ministry: sectors.iter().map(|s| (s.code.clone(), s.ministry_org_id.clone().unwrap())).collect(),
        coordinator: String::new(),
        tokens: HashMap::new(),
        users: HashMap::new(),
        orgs: HashMap::new(),
    };
    let mut sorted: Vec<&OrgRow> = orgs.values().collect();
    sorted.sort_by(|a, b| a.name_en.cmp(&b.name_en));
    for o in sorted {
        match o.kind {
            OrgKind::Operator => w.operators.push(o.id.clone()),
            OrgKind::Ceptoar => {
                w.ceptoar.insert(o.sector.clone().unwrap(), o.id.clone());
            }
            OrgKind::Coordinator => w.coordinator = o.id.clone(),
            _ => {}
        }
        let role = match o.kind {
            OrgKind::Ministry => Role::Liaison,
            OrgKind::Ceptoar => Role::Secretariat,
            OrgKind::Coordinator => Role::CipDesk,
            _ => Role::Admin,
        };
        let user = UserRow {
            id: new_id(),
            password_must_change: false,
            org_id: o.id.clone(),
            login: format!("bench-{}", o.id),
            display_name: "bench".into(),
            email: None,
            phone: None,
            password_hash: None,
            roles: vec![role],
            need_to_know: true,
            active: true,
            created_at: now(),
        };
        tx.save_user(&user).await.unwrap();
        let token = kyoyu_app::auth::new_token();
        let t = TokenRow {
            id: new_id(),
            kind: "api".into(),
            user_id: user.id.clone(),
            label: "bench".into(),
            expires_at: None,
            revoked_at: None,
            created_at: now(),
        };
        tx.insert_token(&t, &kyoyu_app::auth::token_hash(&token)).await.unwrap();
        w.tokens.insert(o.id.clone(), token);
        w.users.insert(o.id.clone(), user.id);
    }
    tx.commit().await.unwrap();
    w.orgs = orgs;
    w
}

fn org(kind: OrgKind, name: &str, sector: Option<&str>) -> OrgRow {
    OrgRow {
        id: new_id(),
        kind,
        name_ja: name.into(),
        name_en: name.into(),
        sector: sector.map(Into::into),
        analysis_partner: false,
        identity: OrgIdentity::default(),
        created_at: now(),
    }
}

fn template() -> ReportContent {
    let input: ReportInput = serde_json::from_value(serde_json::json!({
        "route": "direct", "statutory": false, "tlp": "AMBER", "has_attachments": false, "sector": "gas",
        "severity": "warning", "event_type": "malware_infection", "causes": ["suspicious_email"],
        "summary": {"description": "業務端末でマルウェア感染を検知", "affected_system": "業務系端末"},
        "impact": {"system_status": "partial"}, "outlook": "investigating"
    }))
    .unwrap();
    input.into_new_report().unwrap().content
}

const TLPS: [(Tlp, u32); 6] =
    [(Tlp::Red, 10), (Tlp::Amber, 35), (Tlp::AmberStrict, 5), (Tlp::Green, 35), (Tlp::White, 10), (Tlp::Clear, 5)];

fn pick_tlp(rng: &mut StdRng) -> Tlp {
    let mut n = rng.gen_range(0..100);
    for (t, w) in TLPS {
        if n < w {
            return t;
        }
        n -= w;
    }
    Tlp::Green
}

/// Generates renditions until the store holds `to` of them; returns the ids written.
async fn load(store: &Store, w: &World, rng: &mut StdRng, from: usize, to: usize, chain_no: &mut usize) -> Vec<String> {
    let bar = indicatif::ProgressBar::new((to - from) as u64).with_message(format!("loading to {to} items"));
    bar.set_style(indicatif::ProgressStyle::with_template("{msg} {bar:40} {pos}/{len} {per_sec} eta {eta}").unwrap());
    let facts = |id: &str| w.orgs.get(id).map(OrgRow::facts);
    let base = template();
    let mut ids = Vec::new();
    let mut count = from;
    while count < to {
        let mut tx = store.begin(Default::default()).await.unwrap();
        for _ in 0..200 {
            if count >= to {
                break;
            }
            let operator = &w.operators[rng.gen_range(0..w.operators.len())];
            let sector = w.orgs[operator].sector.clone().unwrap();
            let route = match rng.gen_range(0..100) {
                0..60 => Route::Direct,
                60..85 => Route::Anonymised,
                _ => Route::Urgent,
            };
            *chain_no += 1;
            let reaches_coordinator = route == Route::Urgent || rng.gen_bool(0.7);
            let chain = ChainRow {
                id: new_id(),
                route,
                statutory: false,
                exercise: false,
                sector: sector.clone(),
                originator_org_id: operator.clone(),
                secretariat_org_id: (route == Route::Anonymised).then(|| w.ceptoar[&sector].clone()),
                identifier: reaches_coordinator.then(|| format!("R2026-{:07}", *chain_no)),
                disclosure_consent_at: None,
                disclosure_consent_by: None,
                created_at: now(),
            };
            tx.insert_chain(&chain).await.unwrap();
            let sequences = if rng.gen_bool(0.2) { 2 } else { 1 };
            for sequence in 1..=sequences {
                let mut content = base.clone();
                content.tlp = pick_tlp(rng);
                content.sector = sector.clone();
                content.summary.description =
                    Some(format!("事象 {} 第{sequence}報 word{}", *chain_no, rng.gen_range(0..10_000)));
                let ministry = w.ministry[&sector].clone();
                let mut hops: Vec<(String, String)> = match route {
                    Route::Direct => vec![(operator.clone(), ministry.clone())],
                    Route::Anonymised => vec![
                        (operator.clone(), w.ceptoar[&sector].clone()),
                        (w.ceptoar[&sector].clone(), ministry.clone()),
                    ],
                    Route::Urgent => {
                        vec![(operator.clone(), ministry.clone()), (operator.clone(), w.coordinator.clone())]
                    }
                };
                if reaches_coordinator && route != Route::Urgent {
                    hops.push((ministry.clone(), w.coordinator.clone()));
                }
                for (sender, receiver) in hops {
                    let mut shared = Vec::new();
                    if rng.gen_bool(0.1) {
                        let candidate = if rng.gen_bool(0.5) {
                            w.ceptoar[&sector].clone()
                        } else {
                            let same: Vec<&String> = w
                                .operators
                                .iter()
                                .filter(|o| w.orgs[*o].sector.as_deref() == Some(sector.as_str()))
                                .collect();
                            same[rng.gen_range(0..same.len())].clone()
                        };
                        shared.push(candidate);
                    }
                    let rendition_facts = kyoyu_policy::RenditionFacts {
                        tlp: content.tlp,
                        sector: &sector,
                        jurisdiction: Some(&ministry),
                        sender: &sender,
                        receiver: &receiver,
                        originator: operator,
                        extras: &[],
                        shared_to: &shared,
                        crime_shares: &[],
                        secretariat: None,
                    };
                    let grants = kyoyu_policy::access_grants(&rendition_facts, facts);
                    let r = NewRendition {
                        id: new_id(),
                        chain_id: chain.id.clone(),
                        sequence,
                        parent_id: None,
                        sender_org_id: sender.clone(),
                        receiver_org_id: receiver.clone(),
                        identifies_operator: route == Route::Anonymised && sender == *operator,
                        content: content.clone(),
                        created_by: w.users[&sender].clone(),
                        created_at: now(),
                    };
                    tx.insert_rendition(&r, &grants).await.unwrap();
                    for s in &shared {
                        tx.insert_share(&r.id, s, &receiver, &now()).await.unwrap();
                    }
                    ids.push(r.id);
                    count += 1;
                    bar.inc(1);
                }
            }
        }
        tx.commit().await.unwrap();
    }
    bar.finish_and_clear();
    ids
}

/// Resident memory of a server process, from /proc.
fn rss_mb(server: &Server) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", server.child.id())).unwrap_or_default();
    let kb: f64 = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    kb / 1024.0
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

fn summary(mut d: Vec<Duration>) -> (f64, f64) {
    d.sort();
    (percentile(&d, 0.5), percentile(&d, 0.99))
}

async fn timed_gets(client: &reqwest::Client, url: &str, token: &str, n: usize, expect: u16) -> (f64, f64) {
    timed(|| client.get(url).bearer_auth(token), url, n, expect).await
}

/// p50 and p99 of `n` requests made by `request`, after ten to warm up.
async fn timed(request: impl Fn() -> reqwest::RequestBuilder, what: &str, n: usize, expect: u16) -> (f64, f64) {
    for _ in 0..10 {
        request().send().await.unwrap().bytes().await.unwrap();
    }
    let mut times = Vec::new();
    for _ in 0..n {
        let t = Instant::now();
        let resp = request().send().await.unwrap();
        assert_eq!(resp.status().as_u16(), expect, "{what}");
        resp.bytes().await.unwrap();
        times.push(t.elapsed());
    }
    summary(times)
}

/// A web session for the coordinator's benchmark user, as its log-in would make.
async fn coordinator_session(store: &Store, w: &World) -> String {
    let token = kyoyu_app::auth::new_token();
    let t = TokenRow {
        id: new_id(),
        kind: "web".into(),
        user_id: w.users[&w.coordinator].clone(),
        label: "bench".into(),
        expires_at: None,
        revoked_at: None,
        created_at: now(),
    };
    let mut tx = store.begin(Default::default()).await.unwrap();
    tx.insert_token(&t, &kyoyu_app::auth::token_hash(&token)).await.unwrap();
    tx.commit().await.unwrap();
    format!("kyoyu_session={token}")
}

/// The coordinator's home (its triage board) and report list, as a browser asks for them.
async fn time_pages(client: &reqwest::Client, base: &str, cookie: &str, size: usize) {
    let readable = {
        let resp = client.get(format!("{base}/reports")).header("cookie", cookie).send().await.unwrap();
        let page = resp.text().await.unwrap();
        let after = page.split("class=\"list-summary\"").nth(1).unwrap_or("");
        after.split('>').nth(1).and_then(|s| s.split('<').next()).unwrap_or("").trim().to_string()
    };
    // The first visit starts counting the last 30 days for the charts, in the background;
    // the charts show once it is done.
    let first = Instant::now();
    let home = client.get(format!("{base}/")).header("cookie", cookie).send().await.unwrap();
    assert_eq!(home.status().as_u16(), 200);
    home.bytes().await.unwrap();
    let first_ms = first.elapsed().as_secs_f64() * 1000.0;
    loop {
        let page = client.get(format!("{base}/")).header("cookie", cookie).send().await.unwrap().text().await.unwrap();
        if page.contains("対象: <strong>") || first.elapsed() > Duration::from_secs(300) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let counted_s = first.elapsed().as_secs_f64();
    println!("| coordinator's home page, first visit at {size} items (starts counting the last 30 days) | {first_ms:.0} ms; charts counted in {counted_s:.1} s |");
    for (name, path) in [("home page (triage board, 30-day charts)", "/"), ("report list page", "/reports")] {
        let url = format!("{base}{path}");
        let (p50, p99) = timed(|| client.get(&url).header("cookie", cookie), &url, 100, 200).await;
        println!("| coordinator's {name} at {size} items ({readable}) | p50 {p50:.2} ms, p99 {p99:.2} ms |");
    }
}

async fn ingest(server: &Server, w: &World, n: usize, clients: usize) -> (f64, f64, f64) {
    let client = reqwest::Client::new();
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    let per_client = n / clients;
    for c in 0..clients {
        let client = client.clone();
        let base = server.base.clone();
        let operator = w.operators[c % w.operators.len()].clone();
        let token = w.tokens[&operator].clone();
        let sector = w.orgs[&operator].sector.clone().unwrap();
        tasks.spawn(async move {
            let body = serde_json::json!({"route": "direct", "statutory": false, "tlp": "GREEN", "has_attachments": false,
                "sector": sector, "summary": {"description": "ingestion benchmark"}});
            let mut times = Vec::new();
            for _ in 0..per_client {
                let t = Instant::now();
                let resp = client.post(format!("{base}/api/v1/reports")).bearer_auth(&token).json(&body).send().await.unwrap();
                assert_eq!(resp.status().as_u16(), 201);
                resp.bytes().await.unwrap();
                times.push(t.elapsed());
            }
            times
        });
    }
    let mut all = Vec::new();
    while let Some(t) = tasks.join_next().await {
        all.extend(t.unwrap());
    }
    let rate = all.len() as f64 / started.elapsed().as_secs_f64();
    let (p50, p99) = summary(all);
    (rate, p50, p99)
}

async fn run(backend: &str, a: &Args) {
    let pg = (backend == "postgres").then(|| {
        std::env::var("KYOYU_TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1/test".into())
    });
    let (target, store) = Target::new(pg).await;
    let w = build_world(&store).await;
    println!("\n## {backend}\n");
    println!("| measure | value |\n|---|---|");

    let cookie = coordinator_session(&store, &w).await;
    let server = target.serve();
    let (rate, p50, p99) = ingest(&server, &w, a.ingest, a.clients).await;
    println!(
        "| ingestion through HTTP, {} reports, {} clients | {rate:.0} reports/s, p50 {p50:.1} ms, p99 {p99:.1} ms |",
        a.ingest, a.clients
    );
    drop(server);
    store_ceiling(&target, a, rate).await;

    // The benchmark reader: one operator, who reads its own chains and what was shared to it.
    let reader = w.operators[0].clone();
    let token = w.tokens[&reader].clone();
    let client = reqwest::Client::new();
    let mut rng = StdRng::seed_from_u64(42);
    let mut chain_no = 0;
    let mut loaded = 0;
    let mut all_ids: Vec<String> = Vec::new();
    for &size in &a.sizes {
        let started = Instant::now();
        all_ids.extend(load(&store, &w, &mut rng, loaded, size, &mut chain_no).await);
        loaded = size;
        let load_secs = started.elapsed().as_secs_f64();
        let server = target.serve();
        let count: Count = get_json(&client, &format!("{}/api/v1/reports/count", server.base), &token).await;
        let readable = count.count;
        let (p50, p99) =
            timed_gets(&client, &format!("{}/api/v1/reports?limit=50", server.base), &token, 200, 200).await;
        println!(
            "| listReports first page at {size} items (reader holds {readable}, {:.2}%; loaded in {load_secs:.0} s) | p50 {p50:.2} ms, p99 {p99:.2} ms |",
            readable as f64 * 100.0 / size as f64
        );
        let page: ReportList = get_json(&client, &format!("{}/api/v1/reports?limit=50", server.base), &token).await;
        let readable_id = page.items[0].id.clone();
        // Most items are unreadable to a 1% reader: take the newest that answers 404.
        let mut unreadable_id = None;
        for candidate in all_ids.iter().rev().take(200) {
            let status = client
                .get(format!("{}/api/v1/reports/{candidate}", server.base))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap()
                .status();
            if status.as_u16() == 404 {
                unreadable_id = Some(candidate.clone());
                break;
            }
        }
        let unreadable_id = unreadable_id.expect("an item the reader may not read");
        let (g50, g99) =
            timed_gets(&client, &format!("{}/api/v1/reports/{readable_id}", server.base), &token, 200, 200).await;
        let (n50, n99) =
            timed_gets(&client, &format!("{}/api/v1/reports/{unreadable_id}", server.base), &token, 200, 404).await;
        println!("| getReport at {size} items, readable (200) | p50 {g50:.2} ms, p99 {g99:.2} ms |");
        println!("| getReport at {size} items, unreadable (404) | p50 {n50:.2} ms, p99 {n99:.2} ms |");
        time_pages(&client, &server.base, &cookie, size).await;
        tokio::time::sleep(Duration::from_secs(1)).await;
        println!("| server resident memory, idle, at {size} items | {:.1} MB |", rss_mb(&server));
    }
    store.close().await;
    target.drop_schema().await;
}

/// The store's own ceiling beside the ingestion just measured (see `ceiling`).
async fn store_ceiling(target: &Target, a: &Args, ingestion: f64) {
    for per_tx in [1, 16] {
        let rate = match &target.postgres {
            Some((url, _)) => ceiling::postgres(url, a.ingest, a.clients, per_tx).await,
            None => {
                let (dir, n) = (target.dir.path().to_path_buf(), a.ingest);
                let synchronous = kyoyu_store::SQLITE_SYNCHRONOUS;
                tokio::task::spawn_blocking(move || ceiling::sqlite(&dir, n, per_tx, synchronous)).await.unwrap()
            }
        };
        println!(
            "| store ceiling without HTTP, {per_tx} report(s) per transaction, {} | {rate:.0} reports/s (ingestion is {:.2}x of it) |",
            if target.postgres.is_some() { format!("{} clients", a.clients) } else { "one writer".into() },
            ingestion / rate
        );
    }
}

#[tokio::main]
async fn main() {
    let a = args();
    println!("# kyoyu baseline\n");
    println!(
        "machine: {} cores, {}",
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        std::env::consts::ARCH
    );
    for backend in &a.backends {
        run(backend, &a).await;
    }
}
