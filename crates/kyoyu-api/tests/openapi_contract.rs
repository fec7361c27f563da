//! The OpenAPI document is generated from the router and committed: documented and routed
//! operations match both ways, and no operationId ever published goes away.

mod common;

use common::spawn_demo;
use reqwest::Method;
use serde::Deserialize;
use std::collections::BTreeMap;

/// What this test reads of the OpenAPI document: each path's operations, by method.
#[derive(Deserialize)]
struct Document {
    openapi: String,
    paths: BTreeMap<String, BTreeMap<String, Operation>>,
}

#[derive(Deserialize)]
struct Operation {
    #[serde(rename = "operationId")]
    operation_id: String,
    /// `[{}]` for an operation that needs no credential.
    security: Option<Vec<serde_json::Map<String, serde_json::Value>>>,
}

#[tokio::test]
async fn the_document_holds_the_contract_and_matches_the_router() {
    let app = spawn_demo().await;
    let (status, doc) = app.request(Method::GET, "/api/openapi.json", None, None).await;
    assert_eq!(status, 200);
    let doc: Document = common::view(&doc);
    assert_eq!(doc.openapi, "3.1.0");
    let mut ids = Vec::new();
    let mut documented = Vec::new();
    for (path, operations) in &doc.paths {
        for (method, op) in operations {
            ids.push(op.operation_id.clone());
            let url = path.replace("{id}", "x").replace("{token_id}", "y").replace("{code}", "gas");
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            documented.push((url.clone(), m.clone()));
            let (status, body) = app.request(m, &url, None, None).await;
            let public = op.security.as_ref().is_some_and(|all| all.iter().all(|r| r.is_empty()));
            if public {
                assert!(status == 200 || status == 422, "{method} {path}: {status} {body}");
            } else {
                assert_eq!(status, 401, "{method} {path} is documented but answers {status}");
            }
        }
    }
    // Every operationId the contract has ever published is still there.
    for published in [
        "getOpenApi",
        "createSession",
        "getMe",
        "createReport",
        "listReports",
        "countReports",
        "getReport",
        "forwardReport",
        "previewForward",
        "createFollowUp",
        "shareReport",
        "recordDisclosureConsent",
        "publishReport",
        "listPublishedReports",
        "listOrgs",
        "listSectors",
        "listServiceLevelRules",
        "listSectorDependencies",
        "createOrg",
        "updateOrg",
        "listUsers",
        "createUser",
        "updateUser",
        "listTokens",
        "createToken",
        "revokeToken",
        "putSector",
        "putServiceLevelRule",
        "putSectorDependencies",
        "listAudit",
        "createAdvisory",
        "listAdvisories",
        "countAdvisories",
        "getAdvisory",
        "updateAdvisory",
        "issueAdvisory",
        "relayAdvisory",
        "acknowledgeAdvisory",
        "createAdvisoryFollowUp",
        "askAdvisoryQuestion",
        "listAdvisoryQuestions",
        "requestScopeWidening",
        "listScopeWidenings",
        "relayScopeWidening",
        "answerScopeWidening",
        "listNotifications",
        "markNotificationsRead",
        "getStatistics",
        "getNotificationSettings",
        "setNotificationSettings",
        "suggestRecipients",
        "listMailOutbox",
        "sendDigests",
        "getReportStix",
        "getReportCorrelations",
        "getAdvisoryStix",
        "importStixBundle",
        "unlockUser",
        "changePassword",
    ] {
        assert!(ids.iter().any(|i| i == published), "{published} is gone from the contract");
    }
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), ids.len(), "operationIds are unique");
    // Routed means documented: on a documented path, every other method answers 405, and an
    // undocumented path is not routed.
    for (url, _) in &documented {
        for m in [Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE] {
            if !documented.iter().any(|(u, dm)| u == url && dm == m) {
                let (status, _) = app.request(m.clone(), url, None, None).await;
                assert_eq!(status, 405, "{m} {url} is routed but not documented");
            }
        }
    }
    assert_eq!(app.request(Method::GET, "/api/v1/nothing-here", None, None).await.0, 404);
}

/// The committed document (`crates/kyoyu-api/openapi.json`) is the one the code generates, so
/// a change to the contract shows in review. To accept a change, run
/// `KYOYU_UPDATE_OPENAPI=1 cargo test -p kyoyu-api --test openapi_contract` and commit the file.
#[test]
fn the_committed_document_is_the_generated_one() {
    let generated = kyoyu_api::openapi::document_json();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.json");
    if std::env::var_os("KYOYU_UPDATE_OPENAPI").is_some() {
        std::fs::write(path, &generated).expect("write openapi.json");
    }
    let committed = std::fs::read_to_string(path).expect("openapi.json is committed");
    assert!(
        committed == generated,
        "crates/kyoyu-api/openapi.json differs from the generated contract; run \
         KYOYU_UPDATE_OPENAPI=1 cargo test -p kyoyu-api --test openapi_contract and review the diff"
    );
}

/// The JSON API has no route outside the contract: its router is built only from the
/// documented handlers (`openapi::router`), never with axum's `.route`.
#[test]
fn the_api_routes_only_through_the_contract() {
    let src = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
    for entry in std::fs::read_dir(src).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains(".route("), "{} adds a route outside the contract", path.display());
    }
}
