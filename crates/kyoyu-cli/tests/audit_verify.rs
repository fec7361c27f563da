//! `kyoyu audit verify` exits non-zero and names the first bad entry when a stored row was
//! altered or deleted, on either backend.

mod common;

use common::Target;

fn verify(target: &Target) -> (bool, String) {
    let out = target.kyoyu(&["audit", "verify"]).output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

/// A fresh installation: installing the reference data writes several audit entries.
async fn installation() -> Target {
    let (target, store) = Target::from_env().await;
    kyoyu_app::seed::install_reference(&store).await.unwrap();
    kyoyu_app::seed::bootstrap_admin(&store).await.unwrap();
    store.close().await;
    target
}

#[tokio::test]
async fn an_intact_chain_verifies() {
    let target = installation().await;
    let (ok, text) = verify(&target);
    assert!(ok, "{text}");
    assert!(text.contains("audit log OK"), "{text}");
}

#[tokio::test]
async fn an_altered_entry_is_named() {
    let target = installation().await;
    target.tamper("UPDATE audit_log SET detail = '{\"kind\":\"operator\"}' WHERE seq = 3").await;
    let (ok, text) = verify(&target);
    assert!(!ok);
    assert!(text.contains("entry 3") && text.contains("altered"), "{text}");
}

#[tokio::test]
async fn a_deleted_entry_is_named() {
    let target = installation().await;
    target.tamper("DELETE FROM audit_log WHERE seq = 2").await;
    let (ok, text) = verify(&target);
    assert!(!ok);
    assert!(text.contains("entry 2"), "{text}");
}

#[tokio::test]
async fn deleting_the_newest_entries_shows_too() {
    let target = installation().await;
    target.tamper("DELETE FROM audit_log WHERE seq = (SELECT MAX(seq) FROM audit_log)").await;
    let (ok, text) = verify(&target);
    assert!(!ok);
    assert!(text.contains("deleted"), "{text}");
}

#[tokio::test]
async fn a_rewritten_chain_still_breaks_at_the_first_change() {
    let target = installation().await;
    target.tamper("UPDATE audit_log SET action = 'org.delete' WHERE seq = 4").await;
    let (ok, text) = verify(&target);
    assert!(!ok);
    assert!(text.contains("entry 4"), "{text}");
}

#[test]
fn a_missing_database_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kyoyu"))
        .args(["audit", "verify", "--data-dir"])
        .arg(dir.path())
        .env_remove("KYOYU_DATABASE_URL")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no kyoyu database"));
}
