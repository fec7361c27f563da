//! `kyoyu attachments rotate-key|verify`, the file arguments of `serve` and `demo`, and the
//! hidden `inspect-zip` worker the server runs to unpack sample zips.

use anyhow::{bail, Context};
use kyoyu_app::files::crypto::Keyring;
use kyoyu_app::files::maintain::{self, PAGE};
use kyoyu_app::files::FilesConfig;
use kyoyu_domain::attachment::{Limits, ZipLimits};
use kyoyu_store::Store;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where the master keys of attached files are, and the limits on files.
#[derive(clap::Args, Clone)]
pub struct FileArgs {
    /// The attachment master key file (created on first start; back it up apart from the
    /// database). Default: attachment.keys in the data directory
    #[arg(long, env = "KYOYU_ATTACHMENT_KEY_FILE")]
    pub attachment_key_file: Option<PathBuf>,
    /// Largest file, in MiB
    #[arg(long, default_value_t = 100)]
    pub max_file_mib: u64,
    /// Largest total of one item's files, in MiB
    #[arg(long, default_value_t = 500)]
    pub max_item_mib: u64,
    /// Most files on one item
    #[arg(long, default_value_t = 50)]
    pub max_item_files: u64,
}

impl FileArgs {
    pub fn key_file(&self, data_dir: &Path) -> PathBuf {
        self.attachment_key_file.clone().unwrap_or_else(|| data_dir.join("attachment.keys"))
    }

    /// The configuration `serve` runs with; this program unpacks sample zips.
    pub fn config(&self, data_dir: &Path) -> anyhow::Result<FilesConfig> {
        std::fs::create_dir_all(data_dir).with_context(|| format!("cannot create {}", data_dir.display()))?;
        let keyring = Keyring::load_or_create(&self.key_file(data_dir))?;
        let limits = Limits {
            file_bytes: self.max_file_mib.max(1) << 20,
            item_bytes: self.max_item_mib.max(1) << 20,
            item_files: self.max_item_files.max(1),
        };
        Ok(FilesConfig {
            keyring: Arc::new(keyring),
            inspector: std::env::current_exe().ok(),
            limits,
            zip: ZipLimits::default(),
        })
    }
}

#[derive(clap::Subcommand)]
pub enum AttachmentCommand {
    /// Wrap every file key with a new master key; the old key stays in the key file until
    /// --retire-old (run that once every server has restarted) / 鍵の更新
    RotateKey {
        #[command(flatten)]
        place: Place,
        /// Only drop master keys no file uses any more (after every server restarted)
        #[arg(long)]
        retire_old: bool,
    },
    /// Check that every stored file decrypts and matches its hash / 保存ファイルの検証
    Verify {
        #[command(flatten)]
        place: Place,
    },
}

/// Which installation.
#[derive(clap::Args, Clone)]
pub struct Place {
    /// Where the embedded (SQLite) database lives
    #[arg(long, default_value = "./kyoyu-data")]
    data_dir: PathBuf,
    /// A PostgreSQL database instead
    #[arg(long, env = "KYOYU_DATABASE_URL")]
    database: Option<String>,
    /// The attachment master key file (default: attachment.keys in the data directory)
    #[arg(long, env = "KYOYU_ATTACHMENT_KEY_FILE")]
    attachment_key_file: Option<PathBuf>,
}

impl Place {
    fn key_file(&self) -> PathBuf {
        self.attachment_key_file.clone().unwrap_or_else(|| self.data_dir.join("attachment.keys"))
    }

    async fn open(&self) -> anyhow::Result<(Store, Keyring)> {
        if self.database.is_none() && !self.data_dir.join("kyoyu.db").exists() {
            bail!("no kyoyu database in {}", self.data_dir.display());
        }
        let text = std::fs::read_to_string(self.key_file())
            .with_context(|| format!("cannot read the key file {}", self.key_file().display()))?;
        let ring = Keyring::parse(&text)?;
        Ok((crate::open(self.database.as_deref(), &self.data_dir).await?, ring))
    }
}

pub async fn run(command: AttachmentCommand) -> anyhow::Result<()> {
    match command {
        AttachmentCommand::RotateKey { place, retire_old: false } => rotate(&place).await,
        AttachmentCommand::RotateKey { place, retire_old: true } => retire(&place).await,
        AttachmentCommand::Verify { place } => verify(&place).await,
    }
}

/// Every blob, a page at a time, with a progress bar.
struct Pages<'a> {
    store: &'a Store,
    after: String,
    bar: indicatif::ProgressBar,
}

impl<'a> Pages<'a> {
    async fn new(store: &'a Store, message: &str) -> anyhow::Result<Pages<'a>> {
        let bar = indicatif::ProgressBar::new(store.count_blobs().await? as u64).with_message(message.to_string());
        let style = indicatif::ProgressStyle::with_template("{msg} {bar:40} {pos}/{len}");
        bar.set_style(style.unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()));
        Ok(Pages { store, after: String::new(), bar })
    }

    async fn next(&mut self) -> anyhow::Result<Option<Vec<kyoyu_store::BlobRow>>> {
        let page = self.store.blobs_after(&self.after, PAGE).await?;
        let Some(last) = page.last() else {
            self.bar.finish_and_clear();
            return Ok(None);
        };
        self.after = last.id.clone();
        self.bar.inc(page.len() as u64);
        Ok(Some(page))
    }
}

async fn rotate(place: &Place) -> anyhow::Result<()> {
    let (store, ring) = place.open().await?;
    // The new key is saved before any file uses it, so a crash at any point leaves every
    // file readable with the key file as it then stands.
    let ring = ring.with_new_key();
    ring.save(&place.key_file())?;
    let mut total = 0;
    let mut pages = Pages::new(&store, "re-wrapping file keys / 鍵を更新中").await?;
    while let Some(page) = pages.next().await? {
        total += maintain::rewrap(&store, &ring, &page).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    println!(
        "{total} file keys re-wrapped under master key {} / {total} 件の鍵を新しいマスター鍵で包み直しました",
        ring.current_id()
    );
    println!(
        "the old key stays in {} until `kyoyu attachments rotate-key --retire-old`, run after every server has restarted",
        place.key_file().display()
    );
    Ok(())
}

async fn retire(place: &Place) -> anyhow::Result<()> {
    let (store, ring) = place.open().await?;
    let current = ring.current_id().to_string();
    let mut stale = 0;
    let mut pages = Pages::new(&store, "checking keys / 鍵を確認中").await?;
    while let Some(page) = pages.next().await? {
        stale += page.iter().filter(|b| b.key_id != current).count();
    }
    if stale > 0 {
        bail!("{stale} files still use an older master key: run `kyoyu attachments rotate-key` first (after every server restarted)");
    }
    ring.current_only().save(&place.key_file())?;
    println!(
        "older master keys removed from {}; only {current} remains / 古いマスター鍵を削除しました",
        place.key_file().display()
    );
    Ok(())
}

async fn verify(place: &Place) -> anyhow::Result<()> {
    let (store, ring) = place.open().await?;
    let mut checked = 0;
    let mut bad: Vec<String> = Vec::new();
    let mut pages = Pages::new(&store, "verifying files / ファイルを検証中").await?;
    while let Some(page) = pages.next().await? {
        checked += page.len();
        for b in &page {
            if let Err(reason) = maintain::verify_blob(&store, &ring, b).await {
                bad.push(format!("{}: {reason}", b.id));
            }
        }
    }
    if bad.is_empty() {
        println!("{checked} stored files decrypt and match their hashes / {checked} 件のファイルは正常です");
        return Ok(());
    }
    for line in &bad {
        eprintln!("BAD {line}");
    }
    bail!("{} of {checked} stored files failed verification / {} 件のファイルに異常があります", bad.len(), bad.len())
}

/// The inspector process: a job line and a zip on stdin, the outcome as JSON on stdout.
pub fn inspect_zip() -> anyhow::Result<()> {
    let outcome = kyoyu_app::files::inspect::run_worker(std::io::stdin().lock());
    serde_json::to_writer(std::io::stdout().lock(), &outcome)?;
    Ok(())
}
