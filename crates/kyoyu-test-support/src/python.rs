//! Python peers from PyPI (aiosmtpd, stix2-validator, taxii2-client, misp-stix, medallion) for
//! tests and benchmarks, each in its own virtualenv under the target directory.

/// A Python with `packages` from PyPI: KYOYU_TEST_PYTHON if set, else a virtualenv under the
/// target directory's `tmp`, made once (`check` is the import that proves it ready).
pub fn python_with(venv: &str, packages: &[&str], check: &str) -> std::path::PathBuf {
    use std::process::Command;
    static INSTALLING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    if let Ok(p) = std::env::var("KYOYU_TEST_PYTHON") {
        return p.into();
    }
    let _one_at_a_time = INSTALLING.lock().unwrap_or_else(|e| e.into_inner());
    let venv = target_tmp().join(venv);
    let py = venv.join("bin/python");
    let ready = Command::new(&py).args(["-c", check]).status().is_ok_and(|s| s.success());
    if !ready {
        assert!(Command::new("python3").arg("-m").arg("venv").arg(&venv).status().unwrap().success());
        let pip = Command::new(&py).args(["-m", "pip", "install", "--quiet"]).args(packages).status().unwrap();
        assert!(pip.success(), "pip install {packages:?} failed");
    }
    py
}

/// `target/tmp`, found from the test binary (`target/<profile>/deps/<test>`), as Cargo's
/// CARGO_TARGET_TMPDIR is given only to test crates and not to this library.
fn target_tmp() -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    let target = exe.ancestors().nth(3).expect("a test binary under target/<profile>/deps");
    target.join("tmp")
}
