//! `kyoyu audit verify` exits non-zero and names the first bad entry when a stored row was
//! altered or deleted.

use std::path::Path;
use std::process::Command;

fn verify(dir: &Path) -> (bool, String) {
    let out =
        Command::new(env!("CARGO_BIN_EXE_kyoyu")).args(["audit", "verify", "--data-dir"]).arg(dir).output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

/// A fresh installation: installing the reference data writes several audit entries.
async fn installation() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let store = kyoyu_store::Store::open(dir.path()).await.unwrap();
    kyoyu_api::seed::install_reference(&store).await.unwrap();
    kyoyu_api::seed::bootstrap_admin(&store).await.unwrap();
    store.close().await;
    dir
}

async fn tamper(dir: &Path, sql: &str) {
    let url = format!("sqlite://{}", dir.join("kyoyu.db").display());
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    sqlx::query(sql).execute(&pool).await.unwrap();
    pool.close().await;
}

#[tokio::test]
async fn an_intact_chain_verifies() {
    let dir = installation().await;
    let (ok, text) = verify(dir.path());
    assert!(ok, "{text}");
    assert!(text.contains("audit log OK"), "{text}");
}

#[tokio::test]
async fn an_altered_entry_is_named() {
    let dir = installation().await;
    tamper(dir.path(), "UPDATE audit_log SET detail = '{\"kind\":\"operator\"}' WHERE seq = 3").await;
    let (ok, text) = verify(dir.path());
    assert!(!ok);
    assert!(text.contains("entry 3") && text.contains("altered"), "{text}");
}

#[tokio::test]
async fn a_deleted_entry_is_named() {
    let dir = installation().await;
    tamper(dir.path(), "DELETE FROM audit_log WHERE seq = 2").await;
    let (ok, text) = verify(dir.path());
    assert!(!ok);
    assert!(text.contains("entry 2"), "{text}");
}

#[tokio::test]
async fn deleting_the_newest_entries_shows_too() {
    let dir = installation().await;
    tamper(dir.path(), "DELETE FROM audit_log WHERE seq = (SELECT MAX(seq) FROM audit_log)").await;
    let (ok, text) = verify(dir.path());
    assert!(!ok);
    assert!(text.contains("deleted"), "{text}");
}

#[tokio::test]
async fn a_rewritten_chain_still_breaks_at_the_first_change() {
    let dir = installation().await;
    // Altering an entry and recomputing only its own hash breaks the next link.
    tamper(dir.path(), "UPDATE audit_log SET action = 'org.delete' WHERE seq = 4").await;
    let (ok, text) = verify(dir.path());
    assert!(!ok);
    assert!(text.contains("entry 4"), "{text}");
}

#[test]
fn a_missing_database_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, text) = verify(dir.path());
    assert!(!ok);
    assert!(text.contains("no kyoyu database"), "{text}");
}
