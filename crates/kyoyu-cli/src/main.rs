//! The `kyoyu` command. Thin: everything it runs lives in the library crates.

mod attachments;
mod taxii;

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use kyoyu_api::ServerConfig;
use kyoyu_app::seed::{self, Credential};
use kyoyu_store::Store;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

#[derive(Parser)]
#[command(
    name = "kyoyu",
    version,
    about = "kyoyu（共有）: critical-infrastructure cybersecurity information sharing / 重要インフラ情報共有サーバ"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Where notification mail goes (without --smtp-host, notifications stay in the app), and
/// which reverse proxies are trusted to name the client's address.
#[derive(clap::Args, Clone)]
struct MailArgs {
    /// A reverse proxy (IP address) whose X-Forwarded-For names the client, for log-in
    /// throttling per address; repeat for several
    #[arg(long = "trusted-proxy")]
    trusted_proxies: Vec<std::net::IpAddr>,
    /// Base URL that links in mail point to
    #[arg(long)]
    public_url: Option<String>,
    /// SMTP server host
    #[arg(long)]
    smtp_host: Option<String>,
    /// SMTP server port
    #[arg(long, default_value_t = 587)]
    smtp_port: u16,
    /// none, starttls or tls
    #[arg(long, default_value = "starttls")]
    smtp_tls: kyoyu_api::notify::SmtpTls,
    /// SMTP user name
    #[arg(long)]
    smtp_user: Option<String>,
    /// SMTP password
    #[arg(long, env = "KYOYU_SMTP_PASSWORD", hide_env_values = true)]
    smtp_password: Option<String>,
    /// Sender address of notification mail
    #[arg(long, default_value = "kyoyu <kyoyu@localhost>")]
    smtp_from: String,
    /// Seconds before the first retry of a failed mail (doubling up to an hour)
    #[arg(long, default_value_t = 30)]
    mail_retry_seconds: u64,
    /// How often the outbox is checked, in seconds
    #[arg(long, default_value_t = 5)]
    mail_poll_seconds: u64,
}

impl MailArgs {
    fn config(&self, listen: SocketAddr) -> ServerConfig {
        let mail = kyoyu_api::notify::MailConfig {
            public_url: self.public_url.clone().unwrap_or_else(|| format!("http://{listen}")),
            smtp: self.smtp_host.clone().map(|host| kyoyu_api::notify::SmtpConfig {
                host,
                port: self.smtp_port,
                tls: self.smtp_tls,
                username: self.smtp_user.clone(),
                password: self.smtp_password.clone(),
                from: self.smtp_from.clone(),
            }),
            retry_base: std::time::Duration::from_secs(self.mail_retry_seconds.max(1)),
            poll_every: std::time::Duration::from_secs(self.mail_poll_seconds.max(1)),
        };
        ServerConfig { mail, trusted_proxies: self.trusted_proxies.clone(), files: Default::default() }
    }
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API on an installation (created on first start) / サーバを起動する
    Serve {
        /// Where the embedded (SQLite) database lives
        #[arg(long, default_value = "./kyoyu-data")]
        data_dir: PathBuf,
        /// Use PostgreSQL instead: postgres://user@host/database
        #[arg(long, env = "KYOYU_DATABASE_URL")]
        database: Option<String>,
        /// Address to listen on
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        #[command(flatten)]
        mail: MailArgs,
        #[command(flatten)]
        files: attachments::FileArgs,
    },
    /// Build and serve a demo installation with sample organisations for every sector / デモを起動する
    Demo {
        /// Where the demo database lives (default: a fresh temporary directory)
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Use an empty PostgreSQL database instead: postgres://user@host/database
        #[arg(long, env = "KYOYU_DATABASE_URL")]
        database: Option<String>,
        /// Address to listen on
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Also write the log-ins as JSON to this file
        #[arg(long)]
        credentials_out: Option<PathBuf>,
        #[command(flatten)]
        mail: MailArgs,
        #[command(flatten)]
        files: attachments::FileArgs,
    },
    /// Files on reports and advisories: key rotation and verification / 添付ファイル
    Attachments {
        #[command(subcommand)]
        command: attachments::AttachmentCommand,
    },
    /// The isolated worker the server runs to unpack a sample zip (reads stdin)
    #[command(hide = true)]
    InspectZip,
    /// Audit log tools / 監査ログ
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Exchange with other TAXII 2.1 servers, other kyoyu instances included / TAXII 連携
    Taxii {
        #[command(subcommand)]
        command: TaxiiCommand,
    },
}

#[derive(Subcommand)]
enum TaxiiCommand {
    /// Bring objects from a remote TAXII 2.1 collection (--from) into a local one (--to) / 取り込む
    Pull(taxii::CopyArgs),
    /// Send a local collection's objects (--from) to a remote TAXII 2.1 collection (--to);
    /// RED and AMBER+STRICT objects never leave / 送り出す
    Push(taxii::CopyArgs),
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check the hash chain; exits non-zero naming the first bad entry / ハッシュ連鎖を検証する
    Verify {
        /// Where the embedded (SQLite) database lives
        #[arg(long, default_value = "./kyoyu-data")]
        data_dir: PathBuf,
        /// Verify a PostgreSQL database instead
        #[arg(long, env = "KYOYU_DATABASE_URL")]
        database: Option<String>,
    },
}

#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        // A clear message and a non-zero exit; no backtrace for a user's mistake.
        eprintln!("kyoyu: {e:#}");
        std::process::exit(1);
    }
}

async fn run() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "kyoyu=info,tower_http=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match Cli::parse().command {
        Command::Serve { data_dir, database, listen, mail, files } => {
            let config = ServerConfig { files: files.config(&data_dir)?, ..mail.config(listen) };
            serve(database.as_deref(), &data_dir, listen, config).await
        }
        Command::Demo { data_dir, database, listen, credentials_out, mail, files } => {
            demo(database.as_deref(), data_dir, listen, credentials_out, mail.config(listen), files).await
        }
        Command::Attachments { command } => attachments::run(command).await,
        Command::InspectZip => attachments::inspect_zip(),
        Command::Audit { command: AuditCommand::Verify { data_dir, database } } => {
            verify(database.as_deref(), &data_dir).await
        }
        Command::Taxii { command: TaxiiCommand::Pull(args) | TaxiiCommand::Push(args) } => taxii::run(args).await,
    }
}

pub(crate) async fn open(database: Option<&str>, data_dir: &Path) -> anyhow::Result<Store> {
    let place = database.map(redact).unwrap_or_else(|| data_dir.display().to_string());
    Store::open_any(database, data_dir).await.with_context(|| format!("cannot open the database at {place}"))
}

/// A database URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{}{}@{}", &url[..scheme + 3], user, &url[at + 1..])
        }
        _ => url.to_string(),
    }
}

async fn listen_and_serve(store: Store, listen: SocketAddr, mail: ServerConfig) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("cannot listen on {listen}"))?;
    eprintln!("kyoyu: serving on http://{} (Ctrl-C stops)", listener.local_addr()?);
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    kyoyu_web::serve(listener, store, mail, shutdown).await?;
    Ok(())
}

async fn serve(database: Option<&str>, data_dir: &Path, listen: SocketAddr, mail: ServerConfig) -> anyhow::Result<()> {
    let store = open(database, data_dir).await?;
    if seed::install_reference(&store).await.map_err(|e| anyhow::anyhow!("{e}"))? {
        eprintln!("kyoyu: installed the reference data");
    }
    seed::ensure_operations_org(&store).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    if let Some(admin) = seed::bootstrap_admin(&store).await.map_err(|e| anyhow::anyhow!("{e}"))? {
        eprintln!("kyoyu: first start; system administrator (shown once):");
        eprintln!("  login: {}  password: {}  token: {}", admin.login, admin.password, admin.token);
    }
    listen_and_serve(store, listen, mail).await
}

async fn demo(
    database: Option<&str>,
    data_dir: Option<PathBuf>,
    listen: SocketAddr,
    credentials_out: Option<PathBuf>,
    mail: ServerConfig,
    files: attachments::FileArgs,
) -> anyhow::Result<()> {
    let temp = match (&data_dir, database) {
        (None, None) => Some(tempfile::Builder::new().prefix("kyoyu-demo-").tempdir()?),
        _ => None,
    };
    let dir = data_dir.unwrap_or_else(|| temp.as_ref().map(|t| t.path().to_path_buf()).unwrap_or_default());
    let mail = ServerConfig { files: files.config(&dir)?, ..mail };
    let store = open(database, &dir).await?;
    if !store.is_empty().await? {
        bail!("that database already holds an installation; use `kyoyu serve` for it, or an empty one");
    }
    let bar = indicatif::ProgressBar::new_spinner().with_message("building the demo installation (hashing passwords)…");
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    let users = seed::seed_demo(&store, seed::Passwords::Generate).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    bar.finish_and_clear();
    let base_url = format!("http://{listen}");
    let place = database.map(redact).unwrap_or_else(|| dir.display().to_string());
    print_logins(&base_url, &place, &users);
    if let Some(path) = credentials_out {
        let json = serde_json::json!({"base_url": base_url, "users": users});
        std::fs::write(&path, serde_json::to_vec_pretty(&json)?)
            .with_context(|| format!("cannot write {}", path.display()))?;
        println!("Log-ins written to {}", path.display());
    }
    listen_and_serve(store, listen, mail).await
}

fn print_logins(base_url: &str, place: &str, users: &[Credential]) {
    println!("kyoyu demo / デモ環境  {base_url}  (data: {place})");
    println!("Web UI / ウェブ画面: {base_url}/   (log in with a login and password below / 下記のログイン名とパスワードでログイン)");
    println!("API: {base_url}/api/openapi.json   Authorization: Bearer <token>");
    println!("{:<34} {:<18} {:<22} {:<4} {:<20} token", "login", "password", "org kind / sector", "NTK", "roles");
    for u in users {
        let kind = match &u.sector {
            Some(s) => format!("{}/{}", u.org_kind, s),
            None => u.org_kind.to_string(),
        };
        let roles: Vec<&str> = u.roles.iter().map(|r| r.code()).collect();
        let ntk = if u.need_to_know { "yes" } else { "no" };
        println!("{:<34} {:<18} {:<22} {:<4} {:<20} {}", u.login, u.password, kind, ntk, roles.join(","), u.token);
    }
}

async fn verify(database: Option<&str>, data_dir: &Path) -> anyhow::Result<()> {
    if database.is_none() && !data_dir.join("kyoyu.db").exists() {
        bail!("no kyoyu database in {}", data_dir.display());
    }
    let store = open(database, data_dir).await?;
    let bar = indicatif::ProgressBar::new(0);
    let result = store
        .verify_audit(|done, total| {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        })
        .await?;
    bar.finish_and_clear();
    match result {
        Ok(n) => {
            println!("audit log OK: {n} entries, chain intact / 監査ログは正常です（{n} 件）");
            Ok(())
        }
        Err(p) => {
            eprintln!(
                "audit log BROKEN at entry {}: {} / 監査ログの改ざんを検出しました（{} 件目）",
                p.seq, p.reason, p.seq
            );
            std::process::exit(1);
        }
    }
}
