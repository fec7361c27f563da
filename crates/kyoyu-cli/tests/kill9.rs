//! A report is acknowledged only once it is committed with its audit entry (issue #12's
//! durability promise): clients file reports concurrently, the server is killed with SIGKILL
//! mid-way and started again; every report that got a 201 is there, no identifier is issued
//! twice, and `kyoyu audit verify` passes. On SQLite, or PostgreSQL with
//! KYOYU_TEST_DATABASE_URL.

mod common;

use common::{get_json, Target};
use kyoyu_app::seed::{self, Passwords};
use kyoyu_app::views::{ReportList, ReportView};
use serde_json::json;
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_report_survives_a_kill() {
    let (target, store) = Target::from_env().await;
    let users = seed::seed_demo(&store, Passwords::TokensOnly).await.unwrap();
    store.close().await;
    let operators: Vec<(String, String)> = users
        .iter()
        .filter(|u| u.login.ends_with(".ntk") && u.org_kind == kyoyu_domain::codes::OrgKind::Operator)
        .map(|u| (u.token.clone(), u.sector.clone().unwrap()))
        .collect();
    let mut server = target.serve();
    let client = reqwest::Client::new();
    let killed = Arc::new(AtomicBool::new(false));
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..16 {
        let (token, sector) = operators[i % operators.len()].clone();
        let (client, base, killed) = (client.clone(), server.base.clone(), killed.clone());
        tasks.spawn(async move {
            let mut acknowledged = Vec::new();
            while !killed.load(Ordering::SeqCst) {
                // Urgent reports are numbered at once, so identifiers are drawn under load.
                let body = json!({"route": "urgent", "statutory": false, "tlp": "AMBER", "has_attachments": false, "sector": sector});
                let sent = client.post(format!("{base}/api/v1/reports")).bearer_auth(&token).json(&body).send().await;
                match sent {
                    Ok(r) if r.status().as_u16() == 201 => {
                        if let Ok(v) = r.json::<ReportView>().await {
                            acknowledged.push((token.clone(), v.id));
                        }
                    }
                    Ok(r) => assert!(killed.load(Ordering::SeqCst), "before the kill every report is taken: {}", r.status()),
                    Err(_) => break,
                }
            }
            acknowledged
        });
    }
    tokio::time::sleep(Duration::from_millis(2500)).await;
    server.child.kill().unwrap();
    killed.store(true, Ordering::SeqCst);
    let _ = server.child.wait();
    let mut acknowledged = Vec::new();
    while let Some(done) = tasks.join_next().await {
        acknowledged.extend(done.unwrap());
    }
    assert!(acknowledged.len() > 10, "the clients got some reports in before the kill: {}", acknowledged.len());

    let server = target.serve();
    for (token, id) in &acknowledged {
        let r = client.get(format!("{}/api/v1/reports/{id}", server.base)).bearer_auth(token).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 200, "acknowledged report {id} is there after the kill");
    }
    let nisc = users.iter().find(|u| u.login == "nisc.cip").unwrap().token.clone();
    let mut identifiers = BTreeSet::new();
    let mut offset = 0;
    loop {
        let page: ReportList =
            get_json(&client, &format!("{}/api/v1/reports?limit=100&offset={offset}", server.base), &nisc).await;
        let items = page.items;
        for item in &items {
            let identifier = item.identifier.clone().expect("urgent reports are numbered at once");
            assert!(identifiers.insert(identifier.clone()), "identifier {identifier} issued twice");
        }
        if items.len() < 100 {
            break;
        }
        offset += 100;
    }
    assert!(
        identifiers.len() >= acknowledged.len(),
        "{} numbered, {} acknowledged",
        identifiers.len(),
        acknowledged.len()
    );
    drop(server);
    let out = target.kyoyu(&["audit", "verify"]).output().unwrap();
    assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    target.drop_schema().await;
}
