//! Files on reports and advisories over HTTP (issue 15): every route, the policy on files,
//! the anonymised route's uploader, tighter TLPs, samples only in password zips (opened with
//! pyzipper), grants to analysis partners, limits, and bytes at rest.

mod common;

use common::{fields, python_with, spawn_demo, spawn_demo_with_files, view};
use kyoyu_app::files::{AttachmentList, AttachmentView, FilesConfig, GrantView};
use kyoyu_app::views::{ForwardPreview, ReportView};
use kyoyu_domain::codes::{DownloadAs, FileKind};
use kyoyu_domain::Tlp;
use serde_json::json;
use sha2::Digest;

fn sha256(bytes: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(bytes))
}

/// A log that repeats a marker, so its plaintext is easy to look for at rest.
fn log_bytes(marker: &str, lines: usize) -> Vec<u8> {
    (0..lines).flat_map(|i| format!("{i} {marker} 不審な通信を検知\n").into_bytes()).collect()
}

fn list_path(item: &str) -> String {
    format!("/api/v1/attachments?item_id={item}")
}

#[tokio::test]
async fn files_travel_with_reports_on_every_route_and_download_whole() {
    let app = spawn_demo().await;
    let cases = [
        ("direct", "gas-a.ntk", vec!["meti.liaison", "nisc.cip"]),
        ("anonymised", "electricity-a.ntk", vec!["electricity-ceptoar.secretariat", "meti.liaison", "nisc.cip"]),
        ("urgent", "railway-a.ntk", vec!["mlit.liaison"]),
    ];
    for (route, operator, chain) in cases {
        let report = app.file(operator, route, "AMBER", json!({})).await;
        assert!(!report.content.has_attachments);
        let bytes = log_bytes(route, 20_000);
        let file = app.attach(&report.id, operator, &[], "firewall.log", &bytes).await;
        assert_eq!((file.kind, file.tlp, file.size as usize), (FileKind::Attachment, Tlp::Amber, bytes.len()));
        assert_eq!(file.hashes.sha256, sha256(&bytes), "{route}");
        assert_eq!(file.hashes.md5.len(), 32);
        let report: ReportView = app.typed(&format!("/api/v1/reports/{}", report.id), operator).await;
        assert!(report.content.has_attachments, "別紙有無 follows from the files");

        // Up the chain: each hop's receiver reads the file, and forwards carry it on.
        let mut at = report.id.clone();
        for (i, reader) in chain.iter().enumerate() {
            let list: AttachmentList = app.typed(&list_path(&at), reader).await;
            assert_eq!(list.items.len(), 1, "{route}: {reader}");
            let got = app.download(&list.items[0].id, reader, "as=raw").await;
            assert_eq!(got.status, 200, "{route}: {reader}");
            assert_eq!(sha256(&got.bytes), file.hashes.sha256, "{route}: {reader} gets the bytes whole");
            if i + 1 < chain.len() {
                at = app.forward(&at, reader, json!({})).await.id;
            }
        }
    }
}

#[tokio::test]
async fn downloads_never_open_in_a_browser() {
    let app = spawn_demo().await;
    let report = app.file("gas-a.ntk", "direct", "GREEN", json!({})).await;
    let html = b"<html><script>alert(1)</script></html>".to_vec();
    let file = app.attach(&report.id, "gas-a.ntk", &[], "<notice>.html", &html).await;
    assert_eq!(file.name, "<notice>.html");
    let got = app.download(&file.id, "meti.liaison", "as=raw").await;
    assert_eq!(got.status, 200);
    assert!(got.header("content-disposition").starts_with("attachment;"), "{}", got.header("content-disposition"));
    assert!(!got.header("content-disposition").contains('<'));
    assert_eq!(got.header("content-type"), "application/octet-stream");
    assert_eq!(got.header("x-content-type-options"), "nosniff");
    assert!(got.header("content-security-policy").contains("sandbox"));
    assert_eq!(got.bytes, html);
}

#[tokio::test]
async fn outsiders_get_404_for_files_and_find_nothing() {
    let app = spawn_demo().await;
    let report = app.file("gas-a.ntk", "direct", "AMBER", json!({})).await;
    let file = app.attach(&report.id, "gas-a.ntk", &[], "a.log", b"secret log").await;
    for outsider in ["water-a.ntk", "gas-b.ntk", "mhlw.liaison", "institute.ntk", "ops.admin", "nisc.cip"] {
        assert_eq!(app.get(&format!("/api/v1/attachments/{}", file.id), outsider).await.0, 404, "{outsider}");
        assert_eq!(app.download(&file.id, outsider, "as=raw").await.status, 404, "{outsider}");
        assert_eq!(app.get(&list_path(&report.id), outsider).await.0, 404, "{outsider}");
        let granted: AttachmentList = app.typed("/api/v1/attachments", outsider).await;
        assert!(granted.items.is_empty(), "{outsider}");
    }
    // An unknown id and an unreadable one answer alike.
    let unknown = app.get("/api/v1/attachments/00000000-0000-4000-8000-000000000000", "water-a.ntk").await;
    let hidden = app.get(&format!("/api/v1/attachments/{}", file.id), "water-a.ntk").await;
    assert_eq!(unknown, hidden);
    // Nobody but the sender attaches, and only to its own rendition.
    let (status, _) = app
        .upload(&format!("/api/v1/reports/{}/attachments", report.id), "meti.liaison", &[], "x.txt", b"x".to_vec())
        .await;
    assert_eq!(status, 403);
    let (status, _) = app
        .upload(&format!("/api/v1/reports/{}/attachments", report.id), "water-a.ntk", &[], "x.txt", b"x".to_vec())
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_file_marked_tighter_than_its_report_reaches_only_readers_inside_its_ceiling() {
    let app = spawn_demo().await;
    let report = app.file("gas-a.ntk", "direct", "GREEN", json!({})).await;
    let ceptoar = app.org("gas-ceptoar.secretariat");
    let _: serde_json::Value =
        app.post_as(&format!("/api/v1/reports/{}/shares", report.id), "gas-a.ntk", json!({"org_ids": [ceptoar]})).await;
    let open = app.attach(&report.id, "gas-a.ntk", &[], "notice.pdf", b"%PDF open").await;
    let red = app.attach(&report.id, "gas-a.ntk", &[("tlp", "RED")], "detail.log", b"red detail").await;
    assert_eq!(red.tlp, Tlp::Red);
    let seen = |list: AttachmentList| list.items.into_iter().map(|f| f.id).collect::<Vec<_>>();
    assert_eq!(seen(app.typed(&list_path(&report.id), "gas-ceptoar.secretariat").await), [open.id.as_str()]);
    assert_eq!(app.download(&red.id, "gas-ceptoar.secretariat", "as=raw").await.status, 404);
    assert_eq!(seen(app.typed(&list_path(&report.id), "meti.liaison").await), [open.id.as_str(), red.id.as_str()]);
    // A member without need-to-know reads the GREEN report, but not its RED file.
    assert_eq!(seen(app.typed(&list_path(&report.id), "meti.member").await), [open.id.as_str()]);
    // Never wider than the item.
    let (status, body) = app
        .upload(
            &format!("/api/v1/reports/{}/attachments", report.id),
            "gas-a.ntk",
            &[("tlp", "CLEAR")],
            "x",
            b"x".to_vec(),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(fields(&view(&body)), ["tlp"]);
}

#[tokio::test]
async fn the_anonymised_route_hides_the_uploader_and_scrubs_file_names() {
    let app = spawn_demo().await;
    let mut seen_by_ministry = Vec::new();
    for operator in ["electricity-a.ntk", "electricity-b.ntk"] {
        let report = app.file(operator, "anonymised", "AMBER", json!({})).await;
        let company =
            if operator.ends_with("-a.ntk") { "東都電力株式会社" } else { "西海電力株式会社" };
        let mine = app.attach(&report.id, operator, &[], &format!("{company}_proxy.log"), b"same bytes").await;
        assert_eq!(mine.uploader_org_id.as_deref(), Some(app.org(operator).as_str()));
        let secretariat = "electricity-ceptoar.secretariat";
        let at_ceptoar: AttachmentList = app.typed(&list_path(&report.id), secretariat).await;
        assert_eq!(at_ceptoar.items[0].uploader_org_id, Some(app.org(operator)), "the secretariat knows its member");
        let preview: ForwardPreview =
            app.post_as(&format!("/api/v1/reports/{}/forward-preview", report.id), secretariat, json!({})).await;
        assert_eq!(preview.attachments.len(), 1);
        assert!(!preview.attachments[0].contains(company), "{:?}", preview.attachments);
        let to_ministry = app.forward(&report.id, secretariat, json!({})).await;
        let to_nisc = app.forward(&to_ministry.id, "meti.liaison", json!({})).await;
        for (reader, item) in [("meti.liaison", &to_ministry.id), ("nisc.cip", &to_nisc.id)] {
            let list: AttachmentList = app.typed(&list_path(item), reader).await;
            let f = &list.items[0];
            assert_ne!(f.uploader_org_id.as_deref(), Some(app.org(operator).as_str()), "{reader}");
            assert!(!f.name.contains(company), "{reader}: {}", f.name);
            let meta: AttachmentView = app.typed(&format!("/api/v1/attachments/{}", f.id), reader).await;
            assert_eq!(&meta, f);
        }
        let list: AttachmentList = app.typed(&list_path(&to_ministry.id), "meti.liaison").await;
        seen_by_ministry.push(list.items[0].clone());
    }
    // Which member filed changes nothing the ministry sees but ids and times.
    let strip = |mut f: AttachmentView| {
        (f.id, f.item_id, f.created_at) = (String::new(), None, String::new());
        f
    };
    let [a, b] = <[AttachmentView; 2]>::try_from(seen_by_ministry).unwrap();
    assert_eq!(strip(a), strip(b));
}

#[tokio::test]
async fn samples_leave_only_inside_password_zips_that_open_with_the_shown_password() {
    let app = spawn_demo().await;
    let report = app.file("gas-a.ntk", "direct", "AMBER", json!({})).await;
    let payload = b"MZ\x90\x00 not really malware, but treated as such".to_vec();
    let sample = app.attach(&report.id, "gas-a.ntk", &[("kind", "sample")], "dropper.exe", &payload).await;
    assert_eq!(sample.kind, FileKind::Sample);
    assert_eq!(sample.download, [DownloadAs::AesZip, DownloadAs::ZipcryptoZip]);
    let raw = app.download(&sample.id, "meti.liaison", "as=raw").await;
    assert_eq!(raw.status, 422);
    let raw: kyoyu_api::error::ErrorBody = serde_json::from_slice(&raw.bytes).unwrap();
    assert_eq!(fields(&raw), ["as"]);

    let py = python_with("pyzipper-venv", &["pyzipper"], "import pyzipper");
    for (query, password) in
        [("as=aes-zip", "infected"), ("as=aes-zip&password=kyoyu-2026", "kyoyu-2026"), ("as=zipcrypto-zip", "infected")]
    {
        let got = app.download(&sample.id, "meti.liaison", query).await;
        assert_eq!(got.status, 200, "{query}");
        assert_eq!(got.header("content-type"), "application/zip");
        let dir = tempfile::tempdir().unwrap();
        let zip = dir.path().join("s.zip");
        std::fs::write(&zip, &got.bytes).unwrap();
        let script = "import sys, pyzipper, hashlib, json\n\
            z = pyzipper.AESZipFile(sys.argv[1]); z.setpassword(sys.argv[2].encode())\n\
            print(json.dumps({n: (hashlib.sha256(z.read(n)).hexdigest(), z.read(n).decode('utf-8', 'replace')) for n in z.namelist()}))";
        let out = std::process::Command::new(&py).args(["-c", script]).arg(&zip).arg(password).output().unwrap();
        assert!(out.status.success(), "{query}: {}", String::from_utf8_lossy(&out.stderr));
        let opened: std::collections::BTreeMap<String, (String, String)> = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(opened["dropper.exe"].0, sha256(&payload), "{query}");
        let note = &opened["dropper.exe.txt"].1;
        assert!(
            note.contains("dropper.exe") && note.contains(&sha256(&payload)) && note.contains(&sample.hashes.md5),
            "{note}"
        );
        // The wrong password does not open it.
        let wrong = std::process::Command::new(&py).args(["-c", script]).arg(&zip).arg("wrong").output().unwrap();
        assert!(!wrong.status.success(), "{query}");
    }
}

#[tokio::test]
async fn samples_reach_analysis_partners_only_by_an_audited_grant() {
    let app = spawn_demo().await;
    let report = app.file("gas-a.ntk", "anonymised", "AMBER", json!({})).await;
    let sample = app.attach(&report.id, "gas-a.ntk", &[("kind", "sample")], "a.exe", b"MZ sample").await;
    let at_ministry = app.forward(&report.id, "gas-ceptoar.secretariat", json!({})).await;
    let at_nisc = app.forward(&at_ministry.id, "meti.liaison", json!({})).await;
    let nisc_file = app.typed::<AttachmentList>(&list_path(&at_nisc.id), "nisc.cip").await.items.remove(0);
    let partner = app.org("institute.ntk");
    assert_eq!(app.download(&nisc_file.id, "institute.ntk", "as=aes-zip").await.status, 404, "not before the grant");

    // Only the coordinator grants, only samples, only to an arranged partner, for a bounded time.
    let grants = format!("/api/v1/attachments/{}/grants", nisc_file.id);
    assert_eq!(app.post_refused(&grants, "meti.liaison", json!({"org_id": partner, "days": 7})).await.0, 403);
    let (status, e) =
        app.post_refused(&grants, "nisc.cip", json!({"org_id": app.org("police.ntk"), "days": 400})).await;
    assert_eq!((status, fields(&e)), (422, vec!["org_id".to_string(), "days".to_string()]));
    let _ = sample;
    let before = app.audit_len().await;
    let grant: GrantView = app.post_as(&grants, "nisc.cip", json!({"org_id": partner, "days": 7})).await;
    assert_eq!(grant.org_id, partner);

    let granted: AttachmentList = app.typed("/api/v1/attachments", "institute.ntk").await;
    assert_eq!(granted.items.len(), 1);
    let seen = &granted.items[0];
    assert_eq!(
        (seen.item_id.as_ref(), seen.uploader_org_id.as_ref()),
        (None, None),
        "the partner learns no item and no sender"
    );
    assert_eq!(app.download(&nisc_file.id, "institute.ntk", "as=aes-zip").await.status, 200);
    assert_eq!(app.download(&nisc_file.id, "institute.ntk", "as=raw").await.status, 422);
    assert_eq!(
        app.get(&format!("/api/v1/reports/{}", at_nisc.id), "institute.ntk").await.0,
        404,
        "the grant opens the file, not the report"
    );
    assert_eq!(app.download(&nisc_file.id, "institute.member", "as=aes-zip").await.status, 200);
    let audit: kyoyu_app::views::AuditList = app.typed("/api/v1/admin/audit?limit=10", "ops.admin").await;
    let actions: Vec<&str> =
        audit.items.iter().filter(|e| e.seq as usize > before).map(|e| e.action.as_str()).collect();
    assert!(actions.contains(&"attachment.grant"), "{actions:?}");
    assert!(actions.iter().filter(|a| **a == "attachment.download").count() >= 2, "{actions:?}");
}

#[tokio::test]
async fn limits_refuse_large_files_and_keep_nothing() {
    let files = FilesConfig {
        limits: kyoyu_domain::attachment::Limits { file_bytes: 1 << 20, item_bytes: 3 << 20, item_files: 3 },
        ..FilesConfig::default()
    };
    let app = spawn_demo_with_files(files).await;
    let report = app.file("gas-a.ntk", "direct", "AMBER", json!({})).await;
    let path = format!("/api/v1/reports/{}/attachments", report.id);
    let (status, body) = app.upload(&path, "gas-a.ntk", &[], "big.bin", vec![7u8; (1 << 20) + 1]).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(fields(&view(&body)), ["file"]);
    assert!(app.typed::<AttachmentList>(&list_path(&report.id), "gas-a.ntk").await.items.is_empty());
    assert_eq!(app.store.count_blobs().await.unwrap(), 0, "no blob row");
    if let Some(dir) = app.store.blob_path("x").and_then(|p| p.parent().map(|d| d.to_path_buf())) {
        assert_eq!(std::fs::read_dir(dir).unwrap().count(), 0, "no bytes left behind");
    }
    for i in 0..3 {
        app.attach(&report.id, "gas-a.ntk", &[], &format!("{i}.bin"), &vec![1u8; 1 << 19]).await;
    }
    let (status, body) = app.upload(&path, "gas-a.ntk", &[], "4.bin", b"one too many".to_vec()).await;
    assert_eq!(status, 422, "{body}");
    // Bad parts are named.
    let (status, body) = app.upload(&path, "gas-a.ntk", &[("kind", "virus")], "x", b"x".to_vec()).await;
    assert_eq!((status, fields(&view(&body))), (422, vec!["kind".to_string()]));
    let (status, body) = app.upload(&path, "gas-a.ntk", &[], "", b"x".to_vec()).await;
    assert_eq!((status, fields(&view(&body))), (422, vec!["file".to_string()]));
    let (status, _) = app.post(&path, "gas-a.ntk", json!({})).await;
    assert_eq!(status, 422, "JSON is not a multipart upload");
}

#[tokio::test]
async fn stored_bytes_are_not_the_plaintext() {
    let app = spawn_demo().await;
    let report = app.file("gas-a.ntk", "direct", "AMBER", json!({})).await;
    let marker = "KYOYU-PLAINTEXT-MARKER";
    let bytes = log_bytes(marker, 5_000);
    let file = app.attach(&report.id, "gas-a.ntk", &[], "p.log", &bytes).await;
    let blob = app.store.blobs_after("", 10).await.unwrap().remove(0);
    assert_eq!(blob.sha256, file.hashes.sha256);
    let Some(path) = app.store.blob_path(&blob.id) else { return }; // PostgreSQL keeps chunks in rows
    let stored = std::fs::read(path).unwrap();
    assert!(stored.len() >= bytes.len());
    assert!(!stored.windows(marker.len()).any(|w| w == marker.as_bytes()), "the marker shows at rest");
}

fn advisory_body(app: &common::TestApp) -> serde_json::Value {
    json!({
        "severity": "warning", "tlp": "GREEN", "tlp_note": "", "has_attachments": false,
        "recipients": [{"ministry_org_id": app.org("meti.liaison"), "sector": "gas"}],
        "content": {"summary": "不審メールに注意", "targets": "ガス制御系", "countermeasures": "添付を開かない", "other": ""},
        "contact": {"name": "NISC", "phone": "03-0000-0000", "fax": "", "email": "cip@example.go.jp"},
        "external_sources": []
    })
}

#[tokio::test]
async fn advisories_carry_files_to_their_readers() {
    let app = spawn_demo().await;
    let draft: kyoyu_app::views::AdvisoryView =
        app.post_as("/api/v1/advisories", "nisc.cip", advisory_body(&app)).await;
    let path = format!("/api/v1/advisories/{}/attachments", draft.id);
    let (status, body) = app.upload(&path, "nisc.cip", &[], "press-release.pdf", b"%PDF release".to_vec()).await;
    assert_eq!(status, 201, "{body}");
    let file: AttachmentView = view(&body);
    assert_eq!(app.get(&list_path(&draft.id), "meti.liaison").await.0, 404, "a draft is the coordinator's");
    let _: kyoyu_app::views::AdvisoryView =
        app.post_as(&format!("/api/v1/advisories/{}/issue", draft.id), "nisc.cip", json!({})).await;
    let list: AttachmentList = app.typed(&list_path(&draft.id), "meti.liaison").await;
    assert_eq!(list.items, vec![AttachmentView { item_id: Some(draft.id.clone()), ..file.clone() }]);
    assert_eq!(app.download(&file.id, "meti.liaison", "as=raw").await.bytes, b"%PDF release");
    let (status, _) = app.upload(&path, "nisc.cip", &[], "late.pdf", b"late".to_vec()).await;
    assert_eq!(status, 409, "issued advisories take no more files");
}

#[tokio::test]
async fn stix_import_keeps_the_file_limits_for_artifacts() {
    let files = FilesConfig {
        limits: kyoyu_domain::attachment::Limits { file_bytes: 64 << 10, item_bytes: 100 << 10, item_files: 50 },
        ..FilesConfig::default()
    };
    let app = spawn_demo_with_files(files).await;
    let artifact = |kib: usize| {
        use base64::Engine;
        json!({
            "type": "artifact", "spec_version": "2.1", "id": format!("artifact--{}", uuid::Uuid::new_v4()),
            "mime_type": "application/octet-stream",
            "payload_bin": base64::engine::general_purpose::STANDARD.encode(vec![7u8; kib << 10]),
        })
    };
    let bundle = |objects: Vec<serde_json::Value>| json!({"type": "bundle", "id": format!("bundle--{}", uuid::Uuid::new_v4()), "objects": objects});
    let (status, e) = app.post_refused("/api/v1/stix/bundles", "gas-a.ntk", bundle(vec![artifact(80)])).await;
    assert_eq!((status, fields(&e)), (422, vec!["objects[0]".to_string()]), "one artifact over the file limit");
    let (status, e) = app
        .post_refused("/api/v1/stix/bundles", "gas-a.ntk", bundle(vec![artifact(40), artifact(40), artifact(40)]))
        .await;
    assert_eq!((status, fields(&e)), (422, vec!["objects[2].payload_bin".to_string()]), "together over the item limit");
    let (status, body) = app.post("/api/v1/stix/bundles", "gas-a.ntk", bundle(vec![artifact(40), artifact(40)])).await;
    assert_eq!(status, 201, "{body}");
}
