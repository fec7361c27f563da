//! Two kyoyu processes on one PostgreSQL database serve the same data consistently: under
//! concurrent receipt on both, identifiers are never duplicated and the audit log stays one
//! valid chain. Uses KYOYU_TEST_DATABASE_URL, or a throwaway cluster (`kyoyu_test_support`).

mod common;

use common::{get_json, Target};
use kyoyu_app::seed::{self, Passwords};
use kyoyu_app::views::{Count, ReportView};
use serde_json::json;
use std::collections::BTreeSet;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_number_uniquely_and_keep_one_audit_chain() {
    let url = kyoyu_test_support::postgres_url();
    let (target, store) = Target::new(Some(url)).await;
    let users = seed::seed_demo(&store, Passwords::TokensOnly).await.unwrap();
    store.close().await;
    let servers = [target.serve(), target.serve()];
    let operators: Vec<(String, String)> = users
        .iter()
        .filter(|u| u.login.ends_with(".ntk") && u.org_kind == kyoyu_domain::codes::OrgKind::Operator)
        .map(|u| (u.token.clone(), u.sector.clone().unwrap()))
        .collect();
    let client = reqwest::Client::new();
    let mut tasks = tokio::task::JoinSet::new();
    const REPORTS: usize = 120;
    for i in 0..REPORTS {
        let (token, sector) = operators[i % operators.len()].clone();
        let base = servers[i % 2].base.clone();
        let client = client.clone();
        // Urgent reports are numbered at once; direct ones only append to the audit log, so
        // both the counter and the audit head are contended.
        let route = if i % 2 == 0 { "urgent" } else { "direct" };
        tasks.spawn(async move {
            let body =
                json!({"route": route, "statutory": false, "tlp": "AMBER", "has_attachments": false, "sector": sector});
            let resp =
                client.post(format!("{base}/api/v1/reports")).bearer_auth(token).json(&body).send().await.unwrap();
            assert_eq!(resp.status().as_u16(), 201);
            resp.json::<ReportView>().await.unwrap().identifier
        });
    }
    let mut identifiers = BTreeSet::new();
    while let Some(ident) = tasks.join_next().await {
        if let Some(ident) = ident.unwrap() {
            assert!(identifiers.insert(ident), "an identifier was issued twice");
        }
    }
    assert_eq!(identifiers.len(), REPORTS / 2);
    // Both processes see the same data.
    let nisc = users.iter().find(|u| u.login == "nisc.cip").unwrap().token.clone();
    for s in &servers {
        let v: Count = get_json(&client, &format!("{}/api/v1/reports/count", s.base), &nisc).await;
        assert_eq!(v.count, (REPORTS / 2) as i64, "the coordinator's urgent copies");
    }
    drop(servers);
    let out = target.kyoyu(&["audit", "verify"]).output().unwrap();
    assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    target.drop_schema().await;
}
