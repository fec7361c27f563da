//! Sample zips unpacked by the isolated inspector (`kyoyu inspect-zip`), and the
//! `kyoyu attachments rotate-key|verify` commands, on either backend.

mod common;

use common::Target;
use kyoyu_app::files::crypto::Keyring;
use kyoyu_app::files::{AttachmentList, AttachmentView, FilesConfig};
use kyoyu_domain::attachment::ZipLimits;
use kyoyu_domain::codes::DownloadAs;
use kyoyu_test_support::demo::{fields, spawn_demo_with_files, view, TestApp};
use serde_json::json;
use sha2::Digest;
use std::io::Write;
use std::sync::Arc;

fn sha256(bytes: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(bytes))
}

fn zip_of(files: &[(&str, &[u8])], password: Option<&str>) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, bytes) in files {
        let mut options = zip::write::SimpleFileOptions::default();
        if let Some(p) = password {
            options = options.with_aes_encryption(zip::AesMode::Aes256, p);
        }
        w.start_file(*name, options).unwrap();
        w.write_all(bytes).unwrap();
    }
    w.finish().unwrap().into_inner()
}

fn inspecting() -> FilesConfig {
    FilesConfig {
        inspector: Some(env!("CARGO_BIN_EXE_kyoyu").into()),
        zip: ZipLimits { unpacked_bytes: 64 << 20, ..ZipLimits::default() },
        ..FilesConfig::default()
    }
}

async fn upload_sample(
    app: &TestApp,
    report: &str,
    parts: &[(&str, &str)],
    name: &str,
    bytes: Vec<u8>,
) -> (u16, serde_json::Value) {
    let mut all = vec![("kind", "sample")];
    all.extend_from_slice(parts);
    app.upload(&format!("/api/v1/reports/{report}/attachments"), "gas-a.ntk", &all, name, bytes).await
}

#[tokio::test]
async fn a_password_zipped_sample_is_hashed_by_its_contents_and_leaves_as_it_came() {
    let app = spawn_demo_with_files(inspecting()).await;
    let report = app.file("gas-a.ntk", "direct", "AMBER", json!({})).await;
    let (dropper, note) = (b"MZ\x90\x00dropper".to_vec(), "読んでください".as_bytes().to_vec());
    let zip = zip_of(&[("dropper.exe", &dropper), ("readme.txt", &note)], Some("infected"));
    let (status, body) = upload_sample(&app, &report.id, &[], "sample.zip", zip.clone()).await;
    assert_eq!(status, 201, "{body}");
    let file: AttachmentView = view(&body);
    assert_eq!(file.hashes.sha256, sha256(&zip), "the zip's own hash is kept too");
    let packed = file.packed.clone().expect("what the zip holds");
    assert_eq!(packed.password.as_deref(), Some("infected"));
    let inner: Vec<(&str, &str)> = packed.files.iter().map(|f| (f.path.as_str(), f.hashes.sha256.as_str())).collect();
    assert_eq!(inner, [("dropper.exe", sha256(&dropper).as_str()), ("readme.txt", sha256(&note).as_str())]);
    assert!(file.download.contains(&DownloadAs::Original));
    let original = app.download(&file.id, "meti.liaison", "as=original").await;
    assert_eq!((original.status, original.bytes), (200, zip), "not re-zipped");

    // A password of its own is given beside it; without it the zip is refused, and kept nowhere.
    let secret = zip_of(&[("x.bin", b"x")], Some("s3cret-pw"));
    let (status, body) = upload_sample(&app, &report.id, &[], "secret.zip", secret.clone()).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(fields(&view(&body)), ["file"]);
    let (status, body) = upload_sample(&app, &report.id, &[("password", "s3cret-pw")], "secret.zip", secret).await;
    assert_eq!(status, 201, "{body}");
    let list: AttachmentList = app.typed(&format!("/api/v1/attachments?item_id={}", report.id), "gas-a.ntk").await;
    assert_eq!(list.items.len(), 2);
    assert_eq!(app.store.count_blobs().await.unwrap(), 2, "the refused upload left no blob");
}

#[tokio::test]
async fn zip_bombs_and_crowded_zips_are_refused_with_a_clear_error() {
    let app = spawn_demo_with_files(inspecting()).await;
    let report = app.file("gas-a.ntk", "direct", "AMBER", json!({})).await;
    let zeros = vec![0u8; 100 << 20];
    let bomb = zip_of(&[("zeros.bin", &zeros)], Some("infected"));
    assert!(bomb.len() < 1 << 20, "{} bytes packed", bomb.len());
    let nested = zip_of(&[("inner.zip", &zip_of(&[("zeros.bin", &zeros)], None))], None);
    let names: Vec<String> = (0..10_000).map(|i| format!("f{i:05}.txt")).collect();
    let many: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b""[..])).collect();
    let crowded = zip_of(&many, None);
    for (name, zip, says) in
        [("bomb.zip", bomb, "zip bomb"), ("nested.zip", nested, "zip bomb"), ("many.zip", crowded, "too many files")]
    {
        let (status, body) = upload_sample(&app, &report.id, &[], name, zip).await;
        assert_eq!(status, 422, "{name}: {body}");
        let e: kyoyu_api::error::ErrorBody = view(&body);
        assert_eq!(fields(&e), ["file"], "{name}");
        let named = &e.error.fields[0];
        assert!(named.en.contains(says) && !named.ja.is_empty(), "{name}: {named:?}");
    }
    assert_eq!(app.store.count_blobs().await.unwrap(), 0, "nothing half-stored");
}

/// The demo on `target`'s database, served with the key file in its directory.
async fn serve_target(
    target: &Target,
    store: &kyoyu_store::Store,
    seed: bool,
) -> (kyoyu_test_support::Running, String) {
    let token = if seed {
        let users = kyoyu_app::seed::seed_demo(store, kyoyu_app::seed::Passwords::TokensOnly).await.unwrap();
        users.into_iter().find(|u| u.login == "gas-a.ntk").unwrap().token
    } else {
        String::new()
    };
    let ring = Keyring::load_or_create(&target.dir.path().join("attachment.keys")).unwrap();
    let files = FilesConfig { keyring: Arc::new(ring), ..FilesConfig::default() };
    let config = kyoyu_api::ServerConfig { files, ..Default::default() };
    (kyoyu_test_support::serve(store.clone(), config).await, token)
}

fn run(target: &Target, args: &[&str]) -> (bool, String) {
    let key = target.dir.path().join("attachment.keys");
    let out = target.kyoyu(args).arg("--attachment-key-file").arg(&key).output().unwrap();
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

#[tokio::test]
async fn rotating_the_master_key_keeps_every_file_readable_and_verify_finds_tampering() {
    let (target, store) = Target::from_env().await;
    let (server, token) = serve_target(&target, &store, true).await;
    let client = kyoyu_test_support::Client::new(&server.base);
    let body = kyoyu_test_support::demo::report_body("gas", "direct", "AMBER", json!({}));
    let report: kyoyu_app::views::ReportView = client.post("/api/v1/reports", &token, &body).await.unwrap();
    let http = reqwest::Client::new();
    let mut files = Vec::new();
    for i in 0..3 {
        let bytes: Vec<u8> = (0..200_000u32).map(|n| ((n * (i + 7)) % 251) as u8).collect();
        let form = reqwest::multipart::Form::new()
            .part("file", reqwest::multipart::Part::bytes(bytes.clone()).file_name(format!("{i}.bin")));
        let resp = http
            .post(format!("{}/api/v1/reports/{}/attachments", server.base, report.id))
            .bearer_auth(&token)
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 201);
        files.push((resp.json::<AttachmentView>().await.unwrap().id, bytes));
    }
    drop(server);
    store.close().await;
    let key_file = target.dir.path().join("attachment.keys");
    let first_key = Keyring::parse(&std::fs::read_to_string(&key_file).unwrap()).unwrap().current_id().to_string();

    let (ok, text) = run(&target, &["attachments", "verify"]);
    assert!(ok && text.contains("3 stored files"), "{text}");
    let (ok, text) = run(&target, &["attachments", "rotate-key"]);
    assert!(ok && text.contains("3 file keys re-wrapped"), "{text}");
    let ring = Keyring::parse(&std::fs::read_to_string(&key_file).unwrap()).unwrap();
    assert_eq!(ring.ids().len(), 2);
    assert_ne!(ring.current_id(), first_key);
    let (ok, text) = run(&target, &["attachments", "rotate-key", "--retire-old"]);
    assert!(ok, "{text}");
    let ring = Keyring::parse(&std::fs::read_to_string(&key_file).unwrap()).unwrap();
    assert_eq!(ring.ids(), [ring.current_id()], "only the new key remains");
    let (ok, text) = run(&target, &["attachments", "verify"]);
    assert!(ok, "{text}");

    // Files written before the rotation download whole under the new key alone.
    let store = match &target.database {
        Some(url) => kyoyu_store::Store::connect_postgres(url).await.unwrap(),
        None => kyoyu_store::Store::open(target.dir.path()).await.unwrap(),
    };
    let (server, _) = serve_target(&target, &store, false).await;
    for (id, bytes) in &files {
        let resp = http
            .get(format!("{}/api/v1/attachments/{id}/download?as=raw", server.base))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(&resp.bytes().await.unwrap()[..], &bytes[..]);
    }
    drop(server);

    // An altered stored byte is found and named.
    let blob = store.blobs_after("", 1).await.unwrap().remove(0);
    store.close().await;
    match store.blob_path(&blob.id) {
        Some(path) => {
            let mut stored = std::fs::read(&path).unwrap();
            stored[100] ^= 0x20;
            std::fs::write(&path, stored).unwrap();
        }
        None => {
            target
                .tamper(&format!(
                "UPDATE attachment_chunks SET bytes = decode('00', 'hex') || bytes WHERE blob_id = '{}' AND seq = 0",
                blob.id
            ))
                .await
        }
    }
    let (ok, text) = run(&target, &["attachments", "verify"]);
    assert!(!ok, "{text}");
    assert!(text.contains(&blob.id) && text.contains("1 of 3"), "{text}");
    target.drop_schema().await;
}
