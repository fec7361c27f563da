//! STIX 2.1 and TAXII 2.1 over HTTP: the mapping checked by OASIS's stix2-validator, the
//! collections as views over the policy, every filter, outside markings kept and enforced,
//! and correlations that never show what the caller may not read.
//!
//! TAXII resources and kyoyu's views are read as their types; STIX objects are read as the
//! JSON they are (their schema is STIX 2.1's, and stix2-validator checks it here).

use kyoyu_app::views::{AdvisoryView, Correlations, ReportView, StixBundle};
use kyoyu_taxii::resources::{Discovery, Envelope, ErrorMessage, ManifestEntry, Status, Versions};
use kyoyu_test_support::demo::{fields, spawn_bare, spawn_demo, spawn_demo_without_background, view, TestApp};
use kyoyu_test_support::python_with;
use reqwest::Method;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::Command;

const MEDIA: &str = "application/taxii+json;version=2.1";
const REPORTS: &str = "5f5b1f8e-3d5a-4f0e-9a43-2f6d1c7b9e01";
const ADVISORIES: &str = "8a4b2c1d-3e5f-4a6b-8c7d-9e0f1a2b3c4d";
const EXTERNAL: &str = "c3d4e5f6-a7b8-4c9d-8e0f-1a2b3c4d5e6f";
const AMBER: &str = "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82";
const GREEN: &str = "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da";
const RED: &str = "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed";
const WHITE: &str = "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9";

fn python() -> PathBuf {
    python_with(
        "py-stix",
        &["stix2-validator==3.2.0", "taxii2-client", "stix2", "misp-stix"],
        "import stix2validator, taxii2client, stix2, misp_stix_converter",
    )
}

struct Reply {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Value,
}

async fn taxii(app: &TestApp, method: Method, path: &str, login: &str, body: Option<Value>) -> Reply {
    let mut req = app
        .client
        .request(method, format!("{}/taxii2/kyoyu/{path}", app.base))
        .bearer_auth(&app.user(login).token)
        .header("Accept", MEDIA);
    if let Some(b) = body {
        req = req.header("Content-Type", MEDIA).body(b.to_string());
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let text = resp.text().await.unwrap();
    Reply { status, headers, body: serde_json::from_str(&text).unwrap_or(Value::String(text)) }
}

async fn objects(app: &TestApp, collection: &str, login: &str, query: &str) -> Vec<Value> {
    let r = taxii(app, Method::GET, &format!("collections/{collection}/objects/?{query}"), login, None).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    view::<Envelope>(&r.body).objects
}

/// A STIX object's string property.
fn property<'o>(object: &'o Value, key: &str) -> &'o str {
    object.get(key).and_then(Value::as_str).unwrap_or_else(|| panic!("no {key} in {object}"))
}

/// The objects of a bundle kyoyu made, as STIX JSON.
fn bundle_objects(bundle: &Value) -> Vec<Value> {
    view::<StixBundle>(bundle).objects.into_iter().map(Value::Object).collect()
}

fn ids(objects: &[Value]) -> Vec<String> {
    objects.iter().map(|o| property(o, "id").to_string()).collect()
}

fn uuid() -> String {
    let n: u128 = rand_u128();
    let s = format!("{n:032x}");
    format!("{}-{}-4{}-8{}-{}", &s[0..8], &s[8..12], &s[13..16], &s[17..20], &s[20..32])
}

fn rand_u128() -> u128 {
    use std::time::{SystemTime, UNIX_EPOCH};
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    let t = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos();
    let c = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed) as u128;
    t.wrapping_mul(6364136223846793005).wrapping_add(c.wrapping_mul(1442695040888963407)) ^ (c << 64)
}

fn indicator(id: &str, modified: &str, marking: Option<&str>, ip: &str) -> Value {
    let mut o = json!({
        "type": "indicator", "spec_version": "2.1", "id": id,
        "created": "2026-01-01T00:00:00.000Z", "modified": modified,
        "name": format!("C2 {ip}"), "pattern": format!("[ipv4-addr:value = '{ip}']"),
        "pattern_type": "stix", "valid_from": "2026-01-01T00:00:00Z"
    });
    if let Some(m) = marking {
        o["object_marking_refs"] = json!([m]);
    }
    o
}

async fn add(app: &TestApp, login: &str, objects: Vec<Value>) -> Status {
    let r = taxii(
        app,
        Method::POST,
        &format!("collections/{EXTERNAL}/objects/"),
        login,
        Some(json!({ "objects": objects })),
    )
    .await;
    assert_eq!(r.status, 202, "{:?}", r.body);
    view(&r.body)
}

/// Files a report naming `text`'s indicators and forwards it to the coordinator.
async fn numbered_report(app: &TestApp, login: &str, tlp: &str, text: &str) -> ReportView {
    let filed = app.file(login, "direct", tlp, json!({"summary": {"description": text}})).await;
    let ministry = if login.starts_with("gas") { "meti.liaison" } else { "fsa.liaison" };
    app.forward(&filed.id, ministry, json!({})).await
}

/// Runs stix2-validator once over every bundle (it is slow to start).
fn validate(bundles: &[(String, Value)]) {
    let dir = tempfile::tempdir().unwrap();
    for (name, bundle) in bundles {
        std::fs::write(dir.path().join(format!("{name}.json")), bundle.to_string()).unwrap();
    }
    let out = Command::new(python())
        .args(["-m", "stix2validator.scripts.stix2_validator", "--version", "2.1", "--strict"])
        .arg(dir.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        text.matches("STIX JSON: Valid").count(),
        bundles.len(),
        "not all valid STIX 2.1:\n{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success());
}

#[tokio::test]
async fn every_bundle_kyoyu_emits_passes_the_strict_validator() {
    let app = spawn_demo().await;
    let text = "C2 203.0.113.50 と evil.example.com へ通信。https://evil.example.com/gate.php、\
                添付の SHA-256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855、\
                差出人 phisher@bad.example.net、CVE-2024-3400 を悪用。";
    let mut bundles = Vec::new();
    for tlp in ["RED", "AMBER+STRICT", "AMBER", "GREEN", "CLEAR"] {
        let fwd = numbered_report(&app, "gas-a.ntk", tlp, text).await;
        let (s, bundle) = app.get(&format!("/api/v1/reports/{}/stix", fwd.id), "nisc.cip").await;
        assert_eq!(s, 200, "{bundle:?}");
        bundles.push((format!("report-{tlp}"), bundle));
    }
    // An anonymised report's bundle names no operator.
    let anon = app.file("gas-a.ntk", "anonymised", "AMBER", json!({"summary": {"description": text}})).await;
    let (s, bundle) = app.get(&format!("/api/v1/reports/{}/stix", anon.id), "gas-a.ntk").await;
    assert_eq!(s, 200);
    bundles.push(("anonymised".into(), bundle.clone()));
    let operator_name = app.user("gas-a.ntk").org_name.clone();
    assert!(!bundle.to_string().contains(&operator_name), "the anonymised operator is named");
    let identities = bundle_objects(&bundle)
        .iter()
        .filter(|o| property(o, "type") == "identity" && property(o, "name") != "kyoyu")
        .count();
    assert_eq!(identities, 1, "only the receiving secretariat is an identity");
    // Files become `file` observables of the rendition that carries them, and correlate with
    // the reports whose text names their hash (an empty file's SHA-256 above).
    let empty_sha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    let filed = app.file("gas-b.ntk", "direct", "AMBER", json!({})).await;
    app.attach(&filed.id, "gas-b.ntk", &[], "empty.txt", b"").await;
    app.attach(&filed.id, "gas-b.ntk", &[("tlp", "RED")], "red.txt", b"red only").await;
    let carried = app.forward(&filed.id, "meti.liaison", json!({})).await;
    let (s, bundle) = app.get(&format!("/api/v1/reports/{}/stix", carried.id), "nisc.cip").await;
    assert_eq!(s, 200);
    let files: Vec<Value> = bundle_objects(&bundle).into_iter().filter(|o| property(o, "type") == "file").collect();
    assert_eq!(files.len(), 1, "the RED file stays out of the AMBER rendition's objects: {files:?}");
    assert_eq!(files[0]["hashes"]["SHA-256"], empty_sha256);
    assert_eq!(files[0]["name"], "empty.txt");
    bundles.push(("files".into(), bundle));
    let found: kyoyu_app::views::Correlations =
        app.typed(&format!("/api/v1/reports/{}/correlations", carried.id), "nisc.cip").await;
    assert!(found.values.contains(&empty_sha256.to_string()), "{:?}", found.values);
    assert!(found.items.iter().any(|c| c.value == empty_sha256 && c.kind == "indicator"), "{:?}", found.items.len());
    // Advisories and every TAXII page, too.
    let advisory: AdvisoryView =
        app.post_as("/api/v1/advisories", "nisc.cip", json!({"tlp": "CLEAR", "content": {"summary": text}})).await;
    let (s, bundle) = app.get(&format!("/api/v1/advisories/{}/stix", advisory.id), "nisc.cip").await;
    assert_eq!(s, 200, "{bundle:?}");
    bundles.push(("advisory".into(), bundle));
    // The report list exported as one bundle, as the web UI offers it.
    let (s, export) = app.page("/reports/export.stix.json", "nisc.cip").await;
    assert_eq!(s, 200, "{export}");
    let export: Value = serde_json::from_str(&export).unwrap();
    let reports = bundle_objects(&export).iter().filter(|o| property(o, "type") == "report").count();
    assert_eq!(reports, 6, "one report object per rendition the coordinator holds (five, and the one with files)");
    bundles.push(("list-export".into(), export));
    for collection in [REPORTS, ADVISORIES] {
        let page = objects(&app, collection, "nisc.cip", "limit=1000").await;
        assert!(!page.is_empty());
        bundles.push((
            format!("page-{collection}"),
            json!({"type": "bundle", "id": format!("bundle--{}", uuid()), "objects": page}),
        ));
    }
    validate(&bundles);
}

#[tokio::test]
async fn a_relayed_advisory_reaches_a_poller_that_asks_only_for_what_is_new() {
    let app = spawn_demo().await;
    let body = json!({
        "severity": "warning", "tlp": "GREEN", "tlp_note": "", "has_attachments": false,
        "recipients": [{"ministry_org_id": app.org("meti.liaison"), "sector": "gas"}],
        "content": {"summary": "198.51.100.90 からの攻撃に注意", "targets": "ガス制御系", "countermeasures": "遮断", "other": ""},
        "contact": {"name": "NISC", "phone": "03-0000-0000", "fax": "", "email": "cip@example.go.jp"}
    });
    let a: AdvisoryView = app.post_as("/api/v1/advisories", "nisc.cip", body).await;
    let path = format!("/api/v1/advisories/{}", a.id);
    assert_eq!(app.post(&format!("{path}/issue"), "nisc.cip", json!({})).await.0, 200);
    // The ministry has it; the CEPTOAR has polled and seen nothing yet.
    let page = taxii(&app, Method::GET, &format!("collections/{ADVISORIES}/objects/"), "meti.liaison", None).await;
    let polled = page.headers["X-TAXII-Date-Added-Last"].to_str().unwrap().to_string();
    assert!(objects(&app, ADVISORIES, "gas-ceptoar.secretariat", "").await.is_empty());
    let relay = json!({"org_ids": [app.org("gas-ceptoar.admin")]});
    assert_eq!(app.post(&format!("{path}/relay"), "meti.liaison", relay).await.0, 200);
    let new = objects(&app, ADVISORIES, "gas-ceptoar.secretariat", &format!("added_after={polled}")).await;
    assert!(new.iter().any(|o| property(o, "type") == "report"), "the relayed advisory is new to the CEPTOAR's poller");
}

#[tokio::test]
async fn http_basic_with_a_log_in_and_password_works_as_a_token_does() {
    let app = spawn_bare().await;
    let admin = app.user("admin");
    let url = format!("{}/taxii2/", app.base);
    let r = app
        .client
        .get(&url)
        .basic_auth(&admin.login, Some(&admin.password))
        .header("Accept", MEDIA)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let discovery: Discovery = r.json().await.unwrap();
    assert!(discovery.api_roots[0].ends_with("/taxii2/kyoyu/"));
    let r = app.client.get(&url).basic_auth(&admin.login, Some("not the password")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let r = app.client.get(&url).basic_auth("nobody", Some(&admin.password)).send().await.unwrap();
    assert_eq!(r.status(), 401, "an unknown log-in answers like a wrong password");
}

#[tokio::test]
async fn misp_reads_the_tlp_of_every_bundle_right() {
    let app = spawn_demo().await;
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for tlp in ["RED", "AMBER+STRICT", "AMBER", "GREEN", "WHITE", "CLEAR"] {
        let fwd = numbered_report(&app, "gas-a.ntk", tlp, "203.0.113.80 から不審な通信").await;
        let (s, bundle) = app.get(&format!("/api/v1/reports/{}/stix", fwd.id), "nisc.cip").await;
        assert_eq!(s, 200);
        let file = dir.path().join(format!("{tlp}.json"));
        std::fs::write(&file, bundle.to_string()).unwrap();
        files.push(file);
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/misp_reads_markings.py");
    let out = Command::new(python()).arg(script).args(&files).output().unwrap();
    assert!(out.status.success(), "misp-stix failed: {}", String::from_utf8_lossy(&out.stderr));
    let seen: std::collections::HashMap<String, Vec<String>> = serde_json::from_slice(&out.stdout).unwrap();
    for tlp in ["RED", "AMBER+STRICT", "AMBER", "GREEN", "WHITE", "CLEAR"] {
        assert_eq!(
            seen[&format!("{tlp}.json")],
            [format!("tlp:{}", tlp.to_lowercase())],
            "MISP reads {tlp} as {seen:?}"
        );
    }
}

#[tokio::test]
async fn collections_show_only_what_the_reader_may_read() {
    let app = spawn_demo().await;
    let marker_ip = "198.51.100.77";
    let red = numbered_report(&app, "gas-a.ntk", "RED", &format!("{marker_ip} から侵入")).await;
    let (_, bundle) = app.get(&format!("/api/v1/reports/{}/stix", red.id), "nisc.cip").await;
    let red_ids: Vec<String> = ids(&bundle_objects(&bundle))
        .into_iter()
        .filter(|i| {
            !i.starts_with("identity--5f0e")
                && !i.starts_with("extension-definition")
                && !i.starts_with("marking-definition")
        })
        .collect();
    let report_id = red_ids.iter().find(|i| i.starts_with("report--")).unwrap().clone();
    // The reader sees them; so the probes below could have found them.
    assert!(ids(&objects(&app, REPORTS, "nisc.cip", "limit=1000").await).contains(&report_id));
    for prober in ["gas-b.ntk", "fsa.liaison", "gas-ceptoar.secretariat", "meti.member"] {
        let all = ids(&objects(&app, REPORTS, prober, "match[version]=all&limit=1000").await);
        assert!(red_ids.iter().all(|i| !all.contains(i)), "{prober} lists a RED object");
        let by_id = objects(&app, REPORTS, prober, &format!("match[id]={report_id}")).await;
        assert!(by_id.is_empty(), "{prober} finds it by id");
        let manifest =
            taxii(&app, Method::GET, &format!("collections/{REPORTS}/manifest/?match[id]={report_id}"), prober, None)
                .await;
        assert!(view::<Envelope<ManifestEntry>>(&manifest.body).objects.is_empty(), "{prober} sees it in the manifest");
        let unknown = taxii(
            &app,
            Method::GET,
            &format!("collections/{REPORTS}/objects/indicator--00000000-0000-4000-8000-000000000000/"),
            prober,
            None,
        )
        .await;
        let hidden =
            taxii(&app, Method::GET, &format!("collections/{REPORTS}/objects/{report_id}/"), prober, None).await;
        assert_eq!((unknown.status, &unknown.body), (404, &hidden.body), "{prober}: hidden differs from unknown");
        let versions =
            taxii(&app, Method::GET, &format!("collections/{REPORTS}/objects/{report_id}/versions/"), prober, None)
                .await;
        assert_eq!(versions.status, 404);
        let (s, _) = app.get(&format!("/api/v1/reports/{}/stix", red.id), prober).await;
        assert_eq!(s, 404);
        let (s, _) = app.get(&format!("/api/v1/reports/{}/correlations", red.id), prober).await;
        assert_eq!(s, 404);
    }
    // Reading a RED object is a read of a secret item: it is audited.
    let (_, audit) = app.get("/api/v1/admin/audit?limit=100", "ops.admin").await;
    assert!(audit.to_string().contains("stix.read"), "secret reads through TAXII are not audited");
}

#[tokio::test]
async fn correlations_never_reveal_what_the_caller_cannot_read() {
    let app = spawn_demo().await;
    let ip = "192.0.2.200";
    let green = numbered_report(&app, "gas-a.ntk", "GREEN", &format!("{ip} からの不審な通信")).await;
    let red = numbered_report(&app, "gas-b.ntk", "RED", &format!("同じ {ip} を確認")).await;
    // An outside feed names it too, AMBER to the coordinator alone.
    add(
        &app,
        "nisc.cip",
        vec![indicator(&format!("indicator--{}", uuid()), "2026-01-01T00:00:00.000Z", Some(AMBER), ip)],
    )
    .await;
    let path = format!("/api/v1/reports/{}/correlations", green.id);
    let (s, coordinator) = app.get(&path, "nisc.cip").await;
    assert_eq!(s, 200);
    let found = |v: &Value, collection: &str| {
        view::<Correlations>(v).items.iter().any(|i| i.collection == collection && i.value == ip)
    };
    assert!(found(&coordinator, REPORTS), "the coordinator reads both reports: {coordinator}");
    assert!(found(&coordinator, EXTERNAL));
    // gas-a reads its own GREEN report but neither the RED one nor the coordinator's feed.
    let (s, operator) = app.get(&path, "gas-a.ntk").await;
    assert_eq!(s, 200);
    assert!(view::<Correlations>(&operator).items.is_empty(), "gas-a sees a correlation it may not read: {operator}");
    let _ = red;
}

#[tokio::test]
async fn outside_markings_are_kept_and_enforced() {
    let app = spawn_demo().await;
    let (green, amber, red, unmarked) = (
        format!("indicator--{}", uuid()),
        format!("indicator--{}", uuid()),
        format!("indicator--{}", uuid()),
        format!("indicator--{}", uuid()),
    );
    let status = add(
        &app,
        "finance-ceptoar.secretariat",
        vec![
            indicator(&green, "2026-01-01T00:00:00.000Z", Some(GREEN), "198.51.100.1"),
            indicator(&amber, "2026-01-01T00:00:00.000Z", Some(AMBER), "198.51.100.2"),
            indicator(&red, "2026-01-01T00:00:00.000Z", Some(RED), "198.51.100.3"),
            indicator(&unmarked, "2026-01-01T00:00:00.000Z", None, "198.51.100.4"),
        ],
    )
    .await;
    assert_eq!(status.success_count, 4, "{status:?}");
    let seen = |login: &'static str| {
        let app = &app;
        async move { ids(&objects(app, EXTERNAL, login, "limit=1000").await) }
    };
    let importer = seen("finance-ceptoar.secretariat").await;
    assert!([&green, &amber, &red, &unmarked].iter().all(|i| importer.contains(i)));
    // Another user of the same organisation: AMBER and unmarked (held as AMBER) if need-to-know, never RED.
    let colleague_login = app
        .users
        .keys()
        .find(|l| l.starts_with("finance-ceptoar.") && *l != "finance-ceptoar.secretariat" && app.user(l).need_to_know)
        .cloned();
    if let Some(colleague) = colleague_login {
        let r = ids(&objects(&app, EXTERNAL, &colleague, "limit=1000").await);
        assert!(r.contains(&amber) && r.contains(&unmarked) && !r.contains(&red), "{colleague}: {r:?}");
    }
    for other in ["nisc.cip", "gas-a.ntk", "fsa.liaison"] {
        let r = seen(other).await;
        assert!(r.contains(&green), "{other} misses GREEN");
        assert!(
            !r.contains(&amber) && !r.contains(&red) && !r.contains(&unmarked),
            "{other} reads the importer's AMBER/RED: {r:?}"
        );
    }
    // The kept object still carries its marking exactly.
    let kept = objects(&app, EXTERNAL, "finance-ceptoar.secretariat", &format!("match[id]={amber}")).await;
    assert_eq!(kept[0].get("object_marking_refs"), Some(&json!([AMBER])));
    // A later version may not loosen the scope.
    let loosen = add(
        &app,
        "finance-ceptoar.secretariat",
        vec![indicator(&amber, "2026-02-01T00:00:00.000Z", Some(WHITE), "198.51.100.2")],
    )
    .await;
    assert_eq!(loosen.failure_count, 1, "{loosen:?}");
    assert!(loosen.failures[0].message.contains("AMBER"));
    // Someone else's object: unreadable answers 404, readable but not theirs 403.
    let r = taxii(&app, Method::DELETE, &format!("collections/{EXTERNAL}/objects/{amber}/"), "nisc.cip", None).await;
    assert_eq!(r.status, 404);
    let r = taxii(&app, Method::DELETE, &format!("collections/{EXTERNAL}/objects/{green}/"), "nisc.cip", None).await;
    assert_eq!(r.status, 403);
    // A colleague's delete reaches only the versions the colleague may read: a RED version
    // (the importing user's alone) stays.
    let tightened = format!("indicator--{}", uuid());
    add(
        &app,
        "finance-ceptoar.secretariat",
        vec![indicator(&tightened, "2026-01-01T00:00:00.000Z", Some(GREEN), "198.51.100.5")],
    )
    .await;
    add(
        &app,
        "finance-ceptoar.secretariat",
        vec![indicator(&tightened, "2026-02-01T00:00:00.000Z", Some(RED), "198.51.100.5")],
    )
    .await;
    let r = taxii(
        &app,
        Method::DELETE,
        &format!("collections/{EXTERNAL}/objects/{tightened}/"),
        "finance-ceptoar.admin",
        None,
    )
    .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let left =
        objects(&app, EXTERNAL, "finance-ceptoar.secretariat", &format!("match[id]={tightened}&match[version]=all"))
            .await;
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].get("object_marking_refs"), Some(&json!([RED])));
    // The same id from another organisation is its own object: no one learns what others hold.
    let same =
        add(&app, "nisc.cip", vec![indicator(&amber, "2026-01-01T00:00:00.000Z", Some(GREEN), "198.51.100.2")]).await;
    assert_eq!(same.success_count, 1, "{same:?}");
    // Members without an officer's role only read.
    let r = taxii(
        &app,
        Method::POST,
        &format!("collections/{EXTERNAL}/objects/"),
        "meti.member",
        Some(json!({"objects": []})),
    )
    .await;
    assert_eq!(r.status, 403);
    let r =
        taxii(&app, Method::POST, &format!("collections/{REPORTS}/objects/"), "nisc.cip", Some(json!({"objects": []})))
            .await;
    assert_eq!(r.status, 403, "reports are written through the form, not TAXII");
}

#[tokio::test]
async fn every_filter_paging_and_version_endpoint() {
    let app = spawn_demo().await;
    let who = "nisc.cip";
    let id = format!("indicator--{}", uuid());
    let versions = ["2026-01-15T00:00:00.000Z", "2026-02-01T00:00:00.000Z", "2026-03-01T00:00:00.000Z"];
    for v in versions {
        add(&app, who, vec![indicator(&id, v, Some(GREEN), "203.0.113.9")]).await;
    }
    // An older version arriving late is the first, not the last.
    let oldest = "2026-01-01T00:00:00.000Z";
    let late = add(&app, who, vec![indicator(&id, oldest, Some(GREEN), "203.0.113.9")]).await;
    assert_eq!(late.success_count, 1, "{late:?}");
    let mut others = Vec::new();
    for i in 0..7 {
        let o = format!("indicator--{}", uuid());
        add(&app, who, vec![indicator(&o, "2026-01-01T00:00:00.000Z", Some(GREEN), &format!("203.0.113.{}", 20 + i))])
            .await;
        others.push(o);
    }
    let sco = json!({"type": "ipv4-addr", "spec_version": "2.1", "id": "ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd", "value": "203.0.113.99", "object_marking_refs": [GREEN]});
    add(&app, who, vec![sco]).await;
    // Default is the last version of each; all gives every version.
    let last = objects(&app, EXTERNAL, who, &format!("match[id]={id}")).await;
    assert_eq!(last.len(), 1);
    assert_eq!(property(&last[0], "modified"), versions[2]);
    assert_eq!(objects(&app, EXTERNAL, who, &format!("match[id]={id}&match[version]=all")).await.len(), 4);
    let first = objects(&app, EXTERNAL, who, &format!("match[id]={id}&match[version]=first")).await;
    assert_eq!(property(&first[0], "modified"), oldest);
    let exact = objects(&app, EXTERNAL, who, &format!("match[id]={id}&match[version]=2026-02-01T00:00:00Z")).await;
    assert_eq!(property(&exact[0], "modified"), versions[1]);
    let both = objects(&app, EXTERNAL, who, &format!("match[id]={id}&match[version]=first,last")).await;
    assert_eq!(both.len(), 2);
    assert_eq!(objects(&app, EXTERNAL, who, "match[type]=ipv4-addr").await.len(), 1);
    assert_eq!(objects(&app, EXTERNAL, who, "match[spec_version]=2.0").await.len(), 0);
    // Paging: more and next together, no object twice, sorted by date added.
    let mut seen = Vec::new();
    let mut query = "limit=3".to_string();
    let mut last_added = String::new();
    loop {
        let r = taxii(&app, Method::GET, &format!("collections/{EXTERNAL}/objects/?{query}"), who, None).await;
        assert_eq!(r.status, 200);
        let page: Envelope = view(&r.body);
        assert!(page.objects.len() <= 3);
        let first_added = r.headers["X-TAXII-Date-Added-First"].to_str().unwrap().to_string();
        assert!(first_added >= last_added, "pages go back in time");
        last_added = r.headers["X-TAXII-Date-Added-Last"].to_str().unwrap().to_string();
        assert_eq!(r.headers["content-type"], MEDIA);
        seen.extend(ids(&page.objects));
        if page.more {
            query = format!("limit=3&next={}", page.next.expect("next set whenever more is true"));
        } else {
            assert!(page.next.is_none());
            break;
        }
    }
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(seen.len(), unique.len(), "an object appears on two pages");
    assert_eq!(seen.len(), 9);
    // added_after excludes what came before.
    let manifest =
        taxii(&app, Method::GET, &format!("collections/{EXTERNAL}/manifest/?match[id]={}", others[3]), who, None).await;
    let manifest: Envelope<ManifestEntry> = view(&manifest.body);
    let cut = manifest.objects[0].date_added.clone();
    let after = ids(&objects(&app, EXTERNAL, who, &format!("added_after={cut}")).await);
    assert!(!after.contains(&others[3]) && after.contains(&others[4]) && !after.contains(&others[0]));
    assert_eq!(manifest.objects[0].media_type, "application/stix+json;version=2.1");
    // Versions, one object, delete of one version then all.
    let v = taxii(&app, Method::GET, &format!("collections/{EXTERNAL}/objects/{id}/versions/"), who, None).await;
    assert_eq!(view::<Versions>(&v.body).versions.len(), 4);
    let one = taxii(&app, Method::GET, &format!("collections/{EXTERNAL}/objects/{id}/"), who, None).await;
    assert_eq!(view::<Envelope>(&one.body).objects.len(), 1);
    // `first` deletes the oldest version only (the late one, 2026-01-01).
    let d =
        taxii(&app, Method::DELETE, &format!("collections/{EXTERNAL}/objects/{id}/?match[version]=first"), who, None)
            .await;
    assert_eq!(d.status, 200);
    let first = objects(&app, EXTERNAL, who, &format!("match[id]={id}&match[version]=first")).await;
    assert_eq!(property(&first[0], "modified"), versions[0], "only the first version went");
    assert_eq!(objects(&app, EXTERNAL, who, &format!("match[id]={id}&match[version]=all")).await.len(), 3);
    let d = taxii(
        &app,
        Method::DELETE,
        &format!("collections/{EXTERNAL}/objects/{id}/?match[version]=2026-03-01T00:00:00.000Z"),
        who,
        None,
    )
    .await;
    assert_eq!(d.status, 200);
    let now_last = objects(&app, EXTERNAL, who, &format!("match[id]={id}")).await;
    assert_eq!(property(&now_last[0], "modified"), versions[1], "the newest remaining version is the last");
    let d = taxii(&app, Method::DELETE, &format!("collections/{EXTERNAL}/objects/{id}/"), who, None).await;
    assert_eq!(d.status, 200);
    assert_eq!(taxii(&app, Method::GET, &format!("collections/{EXTERNAL}/objects/{id}/"), who, None).await.status, 404);
    // Status resources belong to the organisation that posted.
    let posted =
        add(&app, who, vec![indicator(&format!("indicator--{}", uuid()), versions[0], Some(GREEN), "203.0.113.1")])
            .await;
    let sid = &posted.id;
    let status = taxii(&app, Method::GET, &format!("status/{sid}/"), who, None).await;
    assert_eq!(view::<Status>(&status.body).status, "complete");
    assert_eq!(taxii(&app, Method::GET, &format!("status/{sid}/"), "gas-a.ntk", None).await.status, 404);
}

#[tokio::test]
async fn malformed_requests_are_refused_with_the_reason() {
    let app = spawn_demo().await;
    let who = "nisc.cip";
    for q in ["limit=0", "limit=ten", "added_after=yesterday", "next=%%%", "match[version]=newest", "colour=red"] {
        let r = taxii(&app, Method::GET, &format!("collections/{EXTERNAL}/objects/?{q}"), who, None).await;
        assert_eq!(r.status, 400, "{q}: {:?}", r.body);
        let error: ErrorMessage = view(&r.body);
        assert_eq!(error.http_status, "400");
        assert!(error.description.contains(q.split('=').next().unwrap()), "{q}: {error:?}");
    }
    // Wrong media types, no credentials, wrong password, unknown collection.
    let url = format!("{}/taxii2/kyoyu/collections/{EXTERNAL}/objects/", app.base);
    let token = &app.user(who).token;
    let r = app.client.get(&url).bearer_auth(token).header("Accept", "application/xml").send().await.unwrap();
    assert_eq!(r.status(), 406);
    let r = app
        .client
        .post(&url)
        .bearer_auth(token)
        .header("Content-Type", "application/json")
        .body("{\"objects\":[]}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);
    let r = app.client.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.headers().contains_key("www-authenticate"));
    let r = app.client.get(&url).basic_auth(who, Some("wrong")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let r = taxii(&app, Method::GET, "collections/00000000-0000-4000-8000-000000000000/objects/", who, None).await;
    assert_eq!(r.status, 404);
    let r = app.client.get(format!("{}/taxii2/trustgroup2/", app.base)).bearer_auth(token).send().await.unwrap();
    assert_eq!(r.status(), 404, "an API root that does not exist");
    // A TAXII POST may be larger than the JSON API's 1 MiB.
    let big: Vec<Value> = (0..3000)
        .map(|i| {
            indicator(
                &format!("indicator--{}", uuid()),
                "2026-01-01T00:00:00.000Z",
                Some(GREEN),
                &format!("10.9.{}.{}", i / 256, i % 256),
            )
        })
        .collect();
    assert!(json!({ "objects": big }).to_string().len() > kyoyu_api::BODY_LIMIT);
    assert_eq!(add(&app, who, big).await.success_count, 3000);
    // A bad object in a TAXII POST fails alone, with the path of the bad property.
    let good = indicator(&format!("indicator--{}", uuid()), "2026-01-01T00:00:00.000Z", Some(GREEN), "198.51.100.8");
    let mut bad = good.clone();
    bad["id"] = json!(format!("indicator--{}", uuid()));
    bad["modified"] = json!("last tuesday");
    let status = add(&app, who, vec![good, bad]).await;
    assert_eq!((status.success_count, status.failure_count), (1, 1));
    assert!(status.failures[0].message.starts_with("objects[1].modified"), "{status:?}");
    // The bundle import is all or nothing, naming the path.
    let fresh = format!("indicator--{}", uuid());
    let mut broken = indicator(&format!("indicator--{}", uuid()), "2026-01-01T00:00:00.000Z", None, "198.51.100.9");
    broken["object_marking_refs"] = json!(["TLP:RED"]);
    let bundle = json!({"type": "bundle", "id": format!("bundle--{}", uuid()), "objects": [indicator(&fresh, "2026-01-01T00:00:00.000Z", None, "198.51.100.10"), broken]});
    let (s, err) = app.post_refused("/api/v1/stix/bundles", who, bundle).await;
    assert_eq!((s, fields(&err)), (422, vec!["objects[1].object_marking_refs[0]".to_string()]));
    assert!(objects(&app, EXTERNAL, who, &format!("match[id]={fresh}")).await.is_empty(), "half a bundle was kept");
    let (s, _) = app.post("/api/v1/stix/bundles", who, json!({"type": "report"})).await;
    assert_eq!(s, 422);
}

#[tokio::test]
async fn advisories_cite_outside_objects_only_within_their_scope() {
    let app = spawn_demo().await;
    let amber = format!("indicator--{}", uuid());
    add(&app, "nisc.cip", vec![indicator(&amber, "2026-01-01T00:00:00.000Z", Some(AMBER), "198.51.100.60")]).await;
    let (s, err) =
        app.post_refused("/api/v1/advisories", "nisc.cip", json!({"tlp": "GREEN", "external_sources": [amber]})).await;
    assert_eq!((s, fields(&err)), (422, vec!["external_sources[0]".to_string()]));
    let cited: AdvisoryView =
        app.post_as("/api/v1/advisories", "nisc.cip", json!({"tlp": "AMBER", "external_sources": [amber]})).await;
    let (_, bundle) = app.get(&format!("/api/v1/advisories/{}/stix", cited.id), "nisc.cip").await;
    let report = bundle_objects(&bundle).into_iter().find(|o| property(o, "type") == "report").unwrap();
    assert!(report.get("object_refs").and_then(Value::as_array).unwrap().contains(&json!(amber)));
    // Someone else's AMBER object cannot be cited: it does not exist for the author.
    let theirs = format!("indicator--{}", uuid());
    add(
        &app,
        "finance-ceptoar.secretariat",
        vec![indicator(&theirs, "2026-01-01T00:00:00.000Z", Some(AMBER), "198.51.100.61")],
    )
    .await;
    let (s, body) =
        app.post("/api/v1/advisories", "nisc.cip", json!({"tlp": "RED", "external_sources": [theirs]})).await;
    assert_eq!(s, 422, "{body}");
}

#[tokio::test]
async fn oasis_taxii2_client_round_trips() {
    let app = spawn_demo().await;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/taxii_client_round_trip.py");
    let py = python();
    let base = app.base.clone();
    let token = app.user("nisc.cip").token.clone();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(py).arg(script).arg(format!("{base}/taxii2/")).arg(token).arg(EXTERNAL).output().unwrap()
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "taxii2-client round trip failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Issue #11: whether a colleague holds a RED version of an object showed through the answer
/// to a TAXII POST ("may not widen from TLP:RED"). Only versions the poster may read count.
#[tokio::test]
async fn a_colleagues_red_object_does_not_show_through_a_post() {
    let app = spawn_demo().await;
    let id = format!("indicator--{}", uuid());
    let held = add(&app, "gas-a.ntk", vec![indicator(&id, "2026-02-01T00:00:00.000Z", Some(RED), "203.0.113.9")]).await;
    assert_eq!(held.success_count, 1, "{held:?}");
    let fresh = format!("indicator--{}", uuid());
    let mut answers = Vec::new();
    for object_id in [&id, &fresh] {
        let later = indicator(object_id, "2026-03-01T00:00:00.000Z", Some(GREEN), "203.0.113.9");
        let status = add(&app, "gas-a.admin", vec![later]).await;
        answers.push((status.success_count, status.failure_count, status.failures));
    }
    assert_eq!(answers[0], answers[1], "a colleague's RED version changes nothing in the answer");
    assert_eq!(answers[0].0, 1);
}

/// Issue #11: outside objects had no size limit (ten 15 MiB notes made a 157 MB page).
#[tokio::test]
async fn an_outside_object_over_the_size_limit_is_refused_by_its_place() {
    let app = spawn_demo().await;
    let mut big = indicator(&format!("indicator--{}", uuid()), "2026-02-01T00:00:00.000Z", Some(GREEN), "203.0.113.7");
    big["description"] = json!("x".repeat(kyoyu_app::exchange::MAX_OBJECT_BYTES));
    let small = indicator(&format!("indicator--{}", uuid()), "2026-02-01T00:00:00.000Z", Some(GREEN), "203.0.113.8");
    let status = add(&app, "gas-a.ntk", vec![small, big]).await;
    assert_eq!((status.success_count, status.failure_count), (1, 1), "{status:?}");
    assert!(status.failures[0].message.contains("objects[1]"), "{status:?}");
}

#[tokio::test]
async fn a_new_reports_objects_are_made_after_its_write_and_seen_by_the_next_read() {
    let app = spawn_demo_without_background().await;
    numbered_report(&app, "gas-a.ntk", "AMBER", "198.51.100.7 から侵入").await;
    // Nothing made them yet: the rendition waits in the backlog, not in the collection.
    assert!(!app.store.waiting_renditions(None, 10).await.unwrap().is_empty());
    // An outsider's read leaves them waiting: its time must not depend on others' filings.
    assert!(objects(&app, REPORTS, "finance-ceptoar.secretariat", "").await.is_empty());
    assert_eq!(app.store.waiting_renditions(None, 10).await.unwrap().len(), 2, "both hops still wait");
    // A reader's read makes the objects of what it may read, and it sees them at once.
    let seen = objects(&app, REPORTS, "nisc.cip", "").await;
    assert!(seen.iter().any(|o| o.to_string().contains("198.51.100.7")), "{seen:?}");
    assert_eq!(app.store.waiting_renditions(None, 10).await.unwrap().len(), 1, "the ministry's hop is not NISC's");
    assert!(!objects(&app, REPORTS, "meti.liaison", "").await.is_empty());
    assert!(app.store.waiting_renditions(None, 10).await.unwrap().is_empty());
}

#[tokio::test]
async fn the_server_makes_new_reports_objects_without_being_asked() {
    let app = spawn_demo().await;
    numbered_report(&app, "gas-a.ntk", "AMBER", "198.51.100.8 から侵入").await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !app.store.waiting_renditions(None, 10).await.unwrap().is_empty() {
        assert!(std::time::Instant::now() < deadline, "the follower never made the objects");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let seen = objects(&app, REPORTS, "nisc.cip", "").await;
    assert!(seen.iter().any(|o| o.to_string().contains("198.51.100.8")), "{seen:?}");
}
