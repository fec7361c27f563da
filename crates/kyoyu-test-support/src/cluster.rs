//! A throwaway PostgreSQL cluster: `initdb` in a temporary directory, `pg_ctl start` on a free
//! port, and a watchdog process that stops it and removes the directory once the test
//! process has gone (a test binary has no hook at exit; `Drop` never runs for a static).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

pub struct Cluster {
    pub url: String,
}

/// The one cluster of this process, started on first use.
pub fn throwaway() -> &'static Cluster {
    static CLUSTER: OnceLock<Cluster> = OnceLock::new();
    CLUSTER.get_or_init(|| start().unwrap_or_else(|e| panic!("{e}")))
}

/// Where `initdb` and `pg_ctl` are: on PATH, or Debian's /usr/lib/postgresql/<version>/bin.
fn bin_dir() -> Result<PathBuf, String> {
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .find(|d| d.join("initdb").is_file() && d.join("pg_ctl").is_file());
    if let Some(dir) = on_path {
        return Ok(dir);
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|entries| entries.filter_map(|e| e.ok()).map(|e| e.path().join("bin")).collect())
        .unwrap_or_default();
    versions.retain(|d| d.join("initdb").is_file());
    versions.sort();
    versions.pop().ok_or_else(|| {
        "tests need PostgreSQL: set KYOYU_TEST_DATABASE_URL, or install the server binaries \
         (Debian: apt-get install postgresql) so a throwaway cluster can be started"
            .to_string()
    })
}

/// `initdb` refuses to run as root: as root, the cluster runs as the `postgres` user.
fn as_cluster_user(program: &Path) -> Command {
    let root = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    if root {
        let mut cmd = Command::new("runuser");
        cmd.args(["-u", "postgres", "--"]).arg(program);
        cmd
    } else {
        Command::new(program)
    }
}

fn run(mut cmd: Command, what: &str) -> Result<(), String> {
    let out = cmd.stdin(Stdio::null()).output().map_err(|e| format!("{what}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("{what} failed: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
    }
}

fn start() -> Result<Cluster, String> {
    let bin = bin_dir()?;
    let dir = tempfile::Builder::new().prefix("kyoyu-pg-").tempdir().map_err(|e| e.to_string())?.keep();
    // Readable by the cluster's user when running as root.
    std::fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o777)).map_err(|e| e.to_string())?;
    let data = dir.join("data");
    let mut initdb = as_cluster_user(&bin.join("initdb"));
    initdb.arg("-D").arg(&data).args(["-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8", "--locale=C"]);
    run(initdb, "initdb")?;
    let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map_err(|e| e.to_string())?.port();
    let options = format!(
        "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off",
        dir.display()
    );
    let mut pg_ctl = as_cluster_user(&bin.join("pg_ctl"));
    pg_ctl.arg("-D").arg(&data).args(["-o", &options, "-w", "-l"]).arg(dir.join("log")).arg("start");
    run(pg_ctl, "pg_ctl start")?;
    watch(&bin, &dir, &data)?;
    Ok(Cluster { url: format!("postgres://postgres@127.0.0.1:{port}/postgres") })
}

/// Stops the cluster and removes its directory when this process ends.
fn watch(bin: &Path, dir: &Path, data: &Path) -> Result<(), String> {
    let stop = as_cluster_user(&bin.join("pg_ctl"));
    let stop = format!(
        "{} -D {} -m immediate stop",
        std::iter::once(stop.get_program())
            .chain(stop.get_args())
            .map(|a| a.to_string_lossy())
            .collect::<Vec<_>>()
            .join(" "),
        data.display()
    );
    let script =
        format!("tail --pid={} -f /dev/null; {stop} >/dev/null 2>&1; rm -rf {}", std::process::id(), dir.display());
    Command::new("sh")
        .args(["-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map(|_| ())
        .map_err(|e| format!("the cluster's watchdog: {e}"))
}
