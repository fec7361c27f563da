//! The OpenAPI document names the contract's operations, and every documented operation is
//! really routed (unauthenticated, each answers 401 or its own error, never "no such route").

mod common;

use common::spawn_demo;
use reqwest::Method;

#[tokio::test]
async fn the_document_holds_the_contract_and_matches_the_router() {
    let app = spawn_demo().await;
    let (status, doc) = app.request(Method::GET, "/api/openapi.json", None, None).await;
    assert_eq!(status, 200);
    assert_eq!(doc["openapi"], "3.1.0");
    let mut ids = Vec::new();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            ids.push(op["operationId"].as_str().unwrap().to_string());
            let url = path.replace("{id}", "x").replace("{token_id}", "y").replace("{code}", "gas");
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let (status, body) = app.request(m, &url, None, None).await;
            let public = op.get("security").is_some_and(|s| s.as_array().is_some_and(|a| a.is_empty()));
            if public {
                assert!(status == 200 || status == 422, "{method} {path}: {status} {body}");
            } else {
                assert_eq!(status, 401, "{method} {path} is documented but answers {status}");
            }
        }
    }
    for required in [
        "getMe",
        "createReport",
        "getReport",
        "listReports",
        "forwardReport",
        "shareReport",
        "createFollowUp",
        "recordDisclosureConsent",
        "createAdvisory",
        "updateAdvisory",
        "issueAdvisory",
        "getAdvisory",
        "listAdvisories",
        "relayAdvisory",
        "acknowledgeAdvisory",
        "createAdvisoryFollowUp",
        "requestScopeWidening",
        "answerScopeWidening",
        "askAdvisoryQuestion",
        "listNotifications",
        "suggestRecipients",
        "getReportStix",
        "getReportCorrelations",
        "getAdvisoryStix",
        "importStixBundle",
    ] {
        assert!(ids.iter().any(|i| i == required), "{required} missing");
    }
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), ids.len(), "operationIds are unique");
    // An undocumented path is not routed.
    assert_eq!(app.request(Method::GET, "/api/v1/nothing-here", None, None).await.0, 404);
}
