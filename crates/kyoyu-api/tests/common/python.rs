//! Python peers from PyPI (aiosmtpd, stix2-validator, taxii2-client, misp-stix, medallion) for
//! tests and benchmarks, each in its own virtualenv under the target directory.

/// A Python with `packages` from PyPI: KYOYU_TEST_PYTHON if set, else a virtualenv under the
/// target directory, made once (`check` is the import that proves it ready).
pub fn python_with(venv: &str, packages: &[&str], check: &str) -> std::path::PathBuf {
    use std::process::Command;
    static INSTALLING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    if let Ok(p) = std::env::var("KYOYU_TEST_PYTHON") {
        return p.into();
    }
    let _one_at_a_time = INSTALLING.lock().unwrap_or_else(|e| e.into_inner());
    let venv = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(venv);
    let py = venv.join("bin/python");
    let ready = Command::new(&py).args(["-c", check]).status().is_ok_and(|s| s.success());
    if !ready {
        assert!(Command::new("python3").arg("-m").arg("venv").arg(&venv).status().unwrap().success());
        let pip = Command::new(&py).args(["-m", "pip", "install", "--quiet"]).args(packages).status().unwrap();
        assert!(pip.success(), "pip install {packages:?} failed");
    }
    py
}
