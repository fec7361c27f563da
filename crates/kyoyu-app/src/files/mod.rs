//! Files on reports, advisories and partner information (issues 15, 16): upload, list,
//! metadata, download, carrying on forward, sample grants, and the key rotation and
//! verification the CLI runs.
//!
//! A file is read through its item: the store joins the item's reader rows for the caller,
//! and the policy (`kyoyu_policy::files`) judges a file marked tighter than its item. Bytes
//! are sealed before they reach the store (`crypto`); samples are unpacked only in a
//! separate process (`inspect`) and leave only inside a password zip (`pack`).

pub mod crypto;
pub mod inspect;
pub mod maintain;
mod pack;

use crate::world::World;
use crate::{App, AppError, AppResult, Caller};
use bytes::Bytes;
use crypto::{BlobKey, Keyring, Opener, Sealer};
use futures_util::Stream;
use inspect::{Hasher, Job, Outcome};
use kyoyu_domain::attachment::{self, Hashes, Limits, Packed, ZipLimits};
use kyoyu_domain::codes::{DownloadAs, FileKind, ItemType};
use kyoyu_domain::{FieldError, Tlp};
use kyoyu_policy::files::ItemFacts;
use kyoyu_policy::AdvisoryFacts;
use kyoyu_store::{AdvisoryRow, AttachmentRow, BlobRow, Concealed, PartnerRow, ReportRow, Shares, Tx};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;

/// How files are kept: the master keys, the inspector program, and the limits.
#[derive(Clone)]
pub struct FilesConfig {
    pub keyring: Arc<Keyring>,
    /// The program run as `PROGRAM inspect-zip` to unpack sample zips; without one, sample
    /// zips are refused with a clear message.
    pub inspector: Option<PathBuf>,
    pub limits: Limits,
    pub zip: ZipLimits,
}

impl Default for FilesConfig {
    /// A fresh key held in memory (tests), no inspector, the default limits.
    fn default() -> Self {
        FilesConfig {
            keyring: Arc::new(Keyring::generate()),
            inspector: None,
            limits: Limits::default(),
            zip: ZipLimits::default(),
        }
    }
}

/// A file as one reader sees it, with the ways the policy lets them download it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AttachmentView {
    pub id: String,
    pub item_type: ItemType,
    /// Absent for an analysis partner reading a sample it was granted (it cannot read the item).
    pub item_id: Option<String>,
    pub kind: FileKind,
    pub tlp: Tlp,
    pub name: String,
    pub media_type: String,
    pub size: i64,
    #[serde(flatten)]
    pub hashes: Hashes,
    /// What a sample's zip held, hashed one by one.
    pub packed: Option<Packed>,
    /// Null where the reader may not learn who uploaded it (an anonymous operator).
    pub uploader_org_id: Option<String>,
    pub created_at: String,
    /// The download forms open to this reader.
    pub download: Vec<DownloadAs>,
    /// Whether the reader may share this sample with an analysis partner.
    pub grantable: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AttachmentList {
    pub items: Vec<AttachmentView>,
    /// Whether the reader may attach files to the item.
    pub may_attach: bool,
}

/// Sharing a sample with an analysis partner for some days.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantRequest {
    pub org_id: String,
    /// 1 to 90.
    pub days: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct GrantView {
    pub id: String,
    pub attachment_id: String,
    pub org_id: String,
    pub expires_at: String,
}

/// What an uploader says of a file beside its bytes.
#[derive(Debug, Clone, Default)]
pub struct UploadRequest {
    pub kind: Option<FileKind>,
    /// The item's TLP when absent; otherwise it or tighter.
    pub tlp: Option<Tlp>,
    pub name: String,
    pub media_type: Option<String>,
    /// The password of a sample sent as a password zip, when it is not a usual one.
    pub password: Option<String>,
}

/// The bytes of an upload as they arrive.
pub trait Upload: Send {
    fn chunk(&mut self) -> impl std::future::Future<Output = AppResult<Option<Bytes>>> + Send;
}

/// A download: what to call it and its bytes, streamed.
pub struct Download {
    pub file_name: String,
    pub content_type: &'static str,
    pub length: Option<u64>,
    pub body: Pin<Box<dyn Stream<Item = std::io::Result<Bytes>> + Send>>,
}

/// The item a file hangs on, as the caller reads it.
enum Item {
    Report { row: Box<ReportRow>, shared: Shares },
    Advisory(Box<AdvisoryRow>),
    Partner { row: Box<PartnerRow>, facts: crate::partner::Facts },
}

impl Item {
    fn facts<'a>(&'a self, world: &'a World) -> AppResult<ItemFacts<'a>> {
        Ok(match self {
            Item::Report { row, shared } => ItemFacts::Report(world.row_facts(row, shared)),
            Item::Advisory(a) => ItemFacts::Advisory(AdvisoryFacts {
                tlp: a.draft.tlp,
                recipients: &a.draft.recipients,
                coordinator: world.coordinator()?,
            }),
            Item::Partner { row, facts } => ItemFacts::Partner(facts.of_row(row)),
        })
    }

    fn author(&self) -> &str {
        match self {
            Item::Report { row, .. } => &row.sender_org_id,
            Item::Advisory(a) => &a.author_org_id,
            Item::Partner { row, .. } => &row.sender_org_id,
        }
    }

    fn concealed(&self) -> Option<Concealed> {
        match self {
            Item::Report { row, .. } => row.chain.concealed(),
            Item::Advisory(_) => None,
            Item::Partner { row, facts } => Some(crate::partner::concealed(row, facts.coordinator())),
        }
    }

    /// Files are added while the item is still its author's: a report until it is forwarded
    /// (later files go in a follow-up), an advisory while it is a draft. Partner information
    /// stays its sender's (there is no hop to pass).
    fn check_open(&self) -> AppResult<()> {
        let open = match self {
            Item::Report { row, .. } => row.status != kyoyu_domain::codes::ReportStatus::Forwarded,
            Item::Advisory(a) => a.status == kyoyu_domain::codes::AdvisoryStatus::Draft,
            Item::Partner { .. } => true,
        };
        if open {
            return Ok(());
        }
        Err(AppError::conflict(
            "転送済みの報告・発出済みの情報提供にはファイルを追加できません（続報で送ってください）",
            "files cannot be added once a report is forwarded or an advisory issued: send them with a follow-up",
        ))
    }
}

async fn load_item(app: &App, caller: &Caller, item_type: ItemType, id: &str) -> AppResult<Item> {
    let (store, scope) = (&app.store, caller.scope());
    Ok(match item_type {
        ItemType::Report => {
            let row = store.get_report(&scope, id).await?.ok_or(AppError::NotFound)?;
            Item::Report { shared: store.shares_of(&row.id).await?, row: Box::new(row) }
        }
        ItemType::Advisory => {
            Item::Advisory(Box::new(store.get_advisory(&scope, id).await?.ok_or(AppError::NotFound)?))
        }
        ItemType::Partner => {
            let row = store.get_partner(&scope, id).await?.ok_or(AppError::NotFound)?;
            let shared = store.partner_shares(&row.id).await?;
            partner_item(&*caller.world(app).await?, row, shared)?
        }
    })
}

fn partner_item(world: &World, row: PartnerRow, shared: Vec<String>) -> AppResult<Item> {
    let facts = crate::partner::Facts::of(world, &row.content, shared)?;
    Ok(Item::Partner { row: Box::new(row), facts })
}

/// As [`load_item`], inside a transaction, concealing what it records about an anonymised
/// chain or a partner's item.
async fn load_item_tx(tx: &mut Tx, app: &App, caller: &Caller, item_type: ItemType, id: &str) -> AppResult<Item> {
    let scope = caller.scope();
    let item = match item_type {
        ItemType::Report => {
            let row = tx.get_report(&scope, id).await?.ok_or(AppError::NotFound)?;
            Item::Report { shared: tx.shares_of(&row.id).await?, row: Box::new(row) }
        }
        ItemType::Advisory => Item::Advisory(Box::new(tx.get_advisory(&scope, id).await?.ok_or(AppError::NotFound)?)),
        ItemType::Partner => {
            let row = tx.get_partner(&scope, id).await?.ok_or(AppError::NotFound)?;
            let shared = tx.partner_shares(&row.id).await?;
            partner_item(&*app.world(tx).await?, row, shared)?
        }
    };
    if let Some(c) = item.concealed() {
        tx.conceal(c);
    }
    Ok(item)
}

/// The view of a file for the caller, who reads its item (`item` Some) or holds a grant.
fn view_of(caller: &Caller, f: &AttachmentRow, item: Option<&Item>) -> AttachmentView {
    let concealed = item.and_then(Item::concealed);
    let uploader_known = match (&concealed, item) {
        (_, None) => false,
        (Some(c), _) => c.org_id != f.uploader_org_id || c.visible_to(caller.org_id()),
        (None, _) => true,
    };
    let download = DownloadAs::ALL
        .iter()
        .copied()
        .filter(|how| kyoyu_policy::files::check_download_as(f.kind, arrived_zipped(f), *how).is_ok())
        .collect();
    AttachmentView {
        id: f.id.clone(),
        item_type: f.item_type,
        item_id: item.map(|_| f.item_id.clone()),
        kind: f.kind,
        tlp: f.tlp,
        name: f.name.clone(),
        media_type: f.media_type.clone(),
        size: f.size,
        hashes: f.hashes.clone(),
        packed: f.packed.clone(),
        uploader_org_id: uploader_known.then(|| f.uploader_org_id.clone()),
        created_at: f.created_at.clone(),
        download,
        grantable: f.kind == FileKind::Sample
            && item.is_some()
            && kyoyu_policy::check_coordinator_officer(caller.principal()).is_ok(),
    }
}

/// Whether the file arrived as a password zip (and may leave as it came).
fn arrived_zipped(f: &AttachmentRow) -> bool {
    f.packed.as_ref().is_some_and(|p| p.password.is_some())
}

/// The files of an item the caller reads, each judged at its own TLP.
fn readable_files(
    caller: &Caller,
    world: &World,
    item: &Item,
    rows: Vec<AttachmentRow>,
) -> AppResult<Vec<AttachmentView>> {
    let facts = item.facts(world)?;
    Ok(rows
        .iter()
        .filter(|f| kyoyu_policy::files::reads_file(caller.principal(), &facts, f.tlp))
        .map(|f| view_of(caller, f, Some(item)))
        .collect())
}

/// The files on an item (`item_id`), or, without one, the samples granted to the caller's
/// organisation.
pub async fn list_attachments(app: &App, caller: &Caller, item_id: Option<&str>) -> AppResult<AttachmentList> {
    let scope = caller.scope();
    let Some(item_id) = item_id else {
        let rows = app.store.granted_samples(&scope, &kyoyu_store::now()).await?;
        return Ok(AttachmentList {
            items: rows.iter().map(|f| view_of(caller, f, None)).collect(),
            may_attach: false,
        });
    };
    let item = find_item(app, caller, item_id).await?;
    let rows = app.store.attachments_of(&scope, item_id).await?;
    let world = caller.world(app).await?;
    let may_attach = item.check_open().is_ok()
        && kyoyu_policy::files::check_attach(
            caller.principal(),
            item.author(),
            &item.facts(&world)?,
            item.facts(&world)?.tlp(),
        )
        .is_ok();
    Ok(AttachmentList { items: readable_files(caller, &world, &item, rows)?, may_attach })
}

/// The item an id names (a report, an advisory or partner information), if the caller reads it.
async fn find_item(app: &App, caller: &Caller, id: &str) -> AppResult<Item> {
    for item_type in ItemType::ALL {
        match load_item(app, caller, *item_type, id).await {
            Err(AppError::NotFound) => continue,
            other => return other,
        }
    }
    Err(AppError::NotFound)
}

/// A file the caller may read, through its item or a grant; 404 otherwise, whatever the reason.
async fn readable_file(tx: &mut Tx, app: &App, caller: &Caller, id: &str) -> AppResult<(AttachmentRow, Option<Item>)> {
    let scope = caller.scope();
    if let Some(f) = tx.attachment(&scope, id).await? {
        let item = load_item_tx(tx, app, caller, f.item_type, &f.item_id).await?;
        let world = app.world(tx).await?;
        if kyoyu_policy::files::reads_file(caller.principal(), &item.facts(&world)?, f.tlp) {
            return Ok((f, Some(item)));
        }
    }
    match tx.granted_attachment(&scope, id, &kyoyu_store::now()).await? {
        Some(f) => Ok((f, None)),
        None => Err(AppError::NotFound),
    }
}

/// One file's metadata and hashes.
pub async fn get_attachment(app: &App, caller: &Caller, id: &str) -> AppResult<AttachmentView> {
    let mut tx = app.store.begin(caller.actor()).await?;
    let (f, item) = readable_file(&mut tx, app, caller, id).await?;
    if f.tlp.needs_need_to_know() || item.is_none() {
        tx.audit("attachment.read", "attachment", &f.id, json!({})).await?;
        tx.commit().await?;
    }
    Ok(view_of(caller, &f, item.as_ref()))
}

/// The bytes of a file, in the form asked for (`password` for an AES zip; `infected` when
/// none is given). Every download is audited.
pub async fn download(
    app: &App,
    caller: &Caller,
    id: &str,
    how: DownloadAs,
    password: Option<String>,
) -> AppResult<Download> {
    let password = check_password(password)?;
    let mut tx = app.store.begin(caller.actor()).await?;
    let (f, _) = readable_file(&mut tx, app, caller, id).await?;
    kyoyu_policy::files::check_download_as(f.kind, arrived_zipped(&f), how)?;
    tx.audit("attachment.download", "attachment", &f.id, json!({"as": how.code()})).await?;
    tx.commit().await?;
    let blob = app.store.blob(&f.blob_id).await?.ok_or_else(|| AppError::internal("a file", "its blob is missing"))?;
    let plain = plaintext(app, &blob).await?;
    match how {
        DownloadAs::Raw | DownloadAs::Original => Ok(Download {
            file_name: f.name.clone(),
            content_type: if how == DownloadAs::Original { "application/zip" } else { "application/octet-stream" },
            length: Some(f.size as u64),
            body: plain,
        }),
        DownloadAs::AesZip => zipped(&f, plain, pack::Scheme::Aes256, &password).await,
        DownloadAs::ZipcryptoZip => zipped(&f, plain, pack::Scheme::ZipCrypto, attachment::CONVENTIONAL_PASSWORD).await,
    }
}

fn check_password(password: Option<String>) -> AppResult<String> {
    match password.filter(|p| !p.is_empty()) {
        None => Ok(attachment::CONVENTIONAL_PASSWORD.to_string()),
        Some(p) if p.chars().count() <= 128 && !p.chars().any(char::is_control) => Ok(p),
        Some(_) => Err(AppError::field(
            "password",
            "パスワードは制御文字を含まない 128 文字以内にしてください",
            "must be at most 128 characters without control characters",
        )),
    }
}

/// A blob's plaintext, opened chunk by chunk as it is read.
async fn plaintext(app: &App, blob: &BlobRow) -> AppResult<Pin<Box<dyn Stream<Item = std::io::Result<Bytes>> + Send>>> {
    let key = app
        .files
        .keyring
        .unwrap(&blob.key_id, &blob.wrapped_key, &blob.id)
        .map_err(|e| AppError::internal("a file key", e))?;
    let opener = Opener::new(&key, &blob.nonce_prefix, &blob.id).map_err(|e| AppError::internal("a file", e))?;
    let reader = app.store.blob_reader(&blob.id, blob.chunks).await?;
    let total = blob.chunks;
    let stream =
        futures_util::stream::try_unfold((reader, opener, 0i64), move |(mut reader, mut opener, n)| async move {
            let Some(sealed) = reader.next().await.map_err(std::io::Error::other)? else { return Ok(None) };
            let plain = opener.open(&sealed, n + 1 == total).map_err(std::io::Error::other)?;
            Ok(Some((Bytes::from(plain), (reader, opener, n + 1))))
        });
    Ok(Box::pin(stream))
}

/// The note beside a file in its download zip: the original name and hashes.
fn note(f: &AttachmentRow) -> String {
    let mut text = format!(
        "ファイル名 / name: {}\n種別 / kind: {} ({})\nTLP: {}\n大きさ / size: {} bytes\nSHA-256: {}\nSHA-1: {}\nMD5: {}\n",
        f.name,
        f.kind.label_ja(),
        f.kind.code(),
        f.tlp.code(),
        f.size,
        f.hashes.sha256,
        f.hashes.sha1,
        f.hashes.md5
    );
    if let Some(p) = &f.packed {
        text.push_str("\nZIP の中身 / inside the zip:\n");
        for inner in &p.files {
            text.push_str(&format!(
                "{}  {} bytes  SHA-256 {}  SHA-1 {}  MD5 {}\n",
                inner.path, inner.size, inner.hashes.sha256, inner.hashes.sha1, inner.hashes.md5
            ));
        }
    }
    text
}

/// The file and its note in a password zip, written to a temporary file on a blocking
/// thread while the plaintext streams in, then streamed out.
async fn zipped(
    f: &AttachmentRow,
    mut plain: Pin<Box<dyn Stream<Item = std::io::Result<Bytes>> + Send>>,
    scheme: pack::Scheme,
    password: &str,
) -> AppResult<Download> {
    use futures_util::StreamExt;
    let (send, receive) = tokio::sync::mpsc::channel::<Vec<u8>>(4);
    let (name, note, password) = (f.name.clone(), note(f), password.to_string());
    let writer = tokio::task::spawn_blocking(move || {
        let out = tempfile::tempfile()?;
        pack::write_zip(out, &name, &note, scheme, &password, receive).map_err(std::io::Error::other)
    });
    while let Some(chunk) = plain.next().await {
        let chunk = chunk.map_err(|e| AppError::internal("reading a file", e))?;
        if send.send(chunk.to_vec()).await.is_err() {
            break;
        }
    }
    drop(send);
    let file = writer
        .await
        .map_err(|e| AppError::internal("zipping a file", e))?
        .map_err(|e| AppError::internal("zipping a file", e))?;
    let length = file.metadata().map(|m| m.len()).ok();
    let file = tokio::fs::File::from_std(file);
    let body = futures_util::stream::try_unfold(file, |mut file| async move {
        use tokio::io::AsyncReadExt;
        let mut buf = vec![0u8; 64 * 1024];
        let n = file.read(&mut buf).await?;
        buf.truncate(n);
        Ok((n > 0).then(|| (Bytes::from(buf), file)))
    });
    Ok(Download { file_name: format!("{}.zip", f.name), content_type: "application/zip", length, body: Box::pin(body) })
}

/// Refuses a file or an item beyond the limits.
fn over_limit(limits: &Limits, file_bytes: u64, item_bytes: u64) -> Option<AppError> {
    if file_bytes > limits.file_bytes {
        return Some(AppError::field(
            "file",
            format!("ファイルが大きすぎます（1 ファイル {} MiB まで）", limits.file_bytes >> 20),
            format!("the file is too large (at most {} MiB a file)", limits.file_bytes >> 20),
        ));
    }
    if item_bytes > limits.item_bytes {
        return Some(AppError::field(
            "file",
            format!("この項目のファイルの合計が上限（{} MiB）を超えます", limits.item_bytes >> 20),
            format!("the files of this item would exceed {} MiB in all", limits.item_bytes >> 20),
        ));
    }
    None
}

/// A media type as the uploader named it, if it looks like one.
fn media_type(given: Option<&str>) -> String {
    let ok = |t: &&str| {
        t.len() <= 100
            && t.split_once('/').is_some_and(|(a, b)| !a.is_empty() && !b.is_empty())
            && t.chars().all(|c| c.is_ascii_alphanumeric() || "/.+-_".contains(c))
    };
    given.map(str::trim).filter(ok).unwrap_or("application/octet-stream").to_ascii_lowercase()
}

/// What was stored of an upload's bytes before its row is written.
struct Stored {
    blob: BlobRow,
    hashes: Hashes,
    size: u64,
}

/// Seals and stores the upload's bytes as they arrive, within the limits.
async fn store_bytes(app: &App, source: &mut impl Upload, blob_id: &str, already: u64) -> AppResult<(Stored, Vec<u8>)> {
    let key = BlobKey::generate();
    let prefix = crypto::nonce_prefix();
    let mut sealer = Sealer::new(&key, &prefix, blob_id);
    let mut hasher = Hasher::default();
    let mut head = Vec::new();
    let mut writer = app.store.blob_writer(blob_id).await?;
    while let Some(chunk) = source.chunk().await? {
        hasher.update(&chunk);
        if let Some(e) = over_limit(&app.files.limits, hasher.bytes, already + hasher.bytes) {
            return Err(e);
        }
        if head.len() < 4 {
            head.extend(chunk.iter().take(4 - head.len()));
        }
        for sealed in sealer.push(&chunk) {
            writer.push(&sealed).await?;
        }
    }
    let size = hasher.bytes;
    let (last, chunks) = sealer.finish();
    writer.push(&last).await?;
    writer.finish().await?;
    let hashes = hasher.finish();
    let (key_id, wrapped_key) = app.files.keyring.wrap(&key, blob_id);
    let blob = BlobRow {
        id: blob_id.to_string(),
        key_id,
        wrapped_key,
        nonce_prefix: prefix,
        size: size as i64,
        chunks,
        sha256: hashes.sha256.clone(),
        created_at: kyoyu_store::now(),
    };
    Ok((Stored { blob, hashes, size }, head))
}

/// Checks that the caller may attach a file at `tlp` to the item, and that it has room.
fn check_attach(
    caller: &Caller,
    world: &World,
    item: &Item,
    tlp: Tlp,
    totals: (i64, i64),
    limits: &Limits,
) -> AppResult<()> {
    item.check_open()?;
    kyoyu_policy::files::check_attach(caller.principal(), item.author(), &item.facts(world)?, tlp)?;
    if totals.0 as u64 >= limits.item_files {
        return Err(AppError::field(
            "file",
            format!("1 つの項目に添付できるのは {} ファイルまでです", limits.item_files),
            format!("an item carries at most {} files", limits.item_files),
        ));
    }
    Ok(())
}

/// An upload whose bytes are stored (and, for a sample zip, inspected) but not yet
/// recorded: [`commit_upload`] records it, [`discard_upload`] removes the bytes.
pub struct Staged {
    item_type: ItemType,
    item_id: String,
    name: String,
    kind: FileKind,
    tlp: Tlp,
    media_type: String,
    stored: Stored,
    packed: Option<Packed>,
}

/// Uploads one file onto an item the caller wrote. Nothing is kept unless all of it is.
pub async fn upload(
    app: &App,
    caller: &Caller,
    item_type: ItemType,
    item_id: &str,
    request: UploadRequest,
    source: &mut impl Upload,
) -> AppResult<AttachmentView> {
    let staged = stage_upload(app, caller, item_type, item_id, request, source).await?;
    commit_upload(app, caller, staged).await
}

/// Checks the caller may attach to the item, then seals and stores the bytes as they arrive
/// (inspecting a sample's zip). On any error the bytes are removed again.
pub async fn stage_upload(
    app: &App,
    caller: &Caller,
    item_type: ItemType,
    item_id: &str,
    request: UploadRequest,
    source: &mut impl Upload,
) -> AppResult<Staged> {
    let name = attachment::clean_name(&request.name)?;
    let kind = request.kind.unwrap_or(FileKind::Attachment);
    let item = load_item(app, caller, item_type, item_id).await?;
    let world = caller.world(app).await?;
    let tlp = request.tlp.unwrap_or(item.facts(&world)?.tlp());
    let totals = app.store.item_file_totals(item_id).await?;
    check_attach(caller, &world, &item, tlp, totals, &app.files.limits)?;
    let blob_id = kyoyu_store::new_id();
    let staged = async {
        let (stored, head) = store_bytes(app, source, &blob_id, totals.1 as u64).await?;
        let packed = match kind == FileKind::Sample && attachment::looks_like_zip(&head) {
            true => Some(inspect_zip(app, &stored.blob, request.password).await?),
            false => None,
        };
        let media_type = media_type(request.media_type.as_deref());
        Ok(Staged { item_type, item_id: item_id.to_string(), name, kind, tlp, media_type, stored, packed })
    }
    .await;
    if staged.is_err() {
        discard_bytes(app, &blob_id).await;
    }
    staged
}

async fn discard_bytes(app: &App, blob_id: &str) {
    if let Err(e) = app.store.discard_blob(blob_id).await {
        tracing::warn!(error = %e, blob = %blob_id, "could not remove the bytes of a failed upload");
    }
}

/// Drops a staged upload, removing its bytes.
pub async fn discard_upload(app: &App, staged: Staged) {
    discard_bytes(app, &staged.stored.blob.id).await;
}

/// Records a staged upload on its item, checking again inside the transaction.
pub async fn commit_upload(app: &App, caller: &Caller, staged: Staged) -> AppResult<AttachmentView> {
    let blob_id = staged.stored.blob.id.clone();
    let result = record_upload(app, caller, staged).await;
    if result.is_err() {
        discard_bytes(app, &blob_id).await;
    }
    result
}

async fn record_upload(app: &App, caller: &Caller, staged: Staged) -> AppResult<AttachmentView> {
    let Staged { item_type, item_id, name, kind, tlp, media_type, stored, packed } = staged;
    let mut tx = app.store.begin(caller.actor()).await?;
    let item = load_item_tx(&mut tx, app, caller, item_type, &item_id).await?;
    let world = app.world(&mut tx).await?;
    let totals = tx.item_file_totals(&item_id).await?;
    check_attach(caller, &world, &item, tlp, totals, &app.files.limits)?;
    if let Some(e) = over_limit(&app.files.limits, stored.size, totals.1 as u64 + stored.size) {
        return Err(e);
    }
    let row = AttachmentRow {
        id: kyoyu_store::new_id(),
        item_type,
        item_id: item_id.clone(),
        blob_id: stored.blob.id.clone(),
        kind,
        tlp,
        name,
        media_type,
        size: stored.size as i64,
        hashes: stored.hashes,
        packed,
        uploader_org_id: caller.org_id().to_string(),
        uploader_user_id: caller.user().id.clone(),
        carried_from: None,
        created_at: kyoyu_store::now(),
    };
    tx.insert_blob(&stored.blob).await?;
    tx.insert_attachment(&row).await?;
    after_upload(&mut tx, &world, &item, &row).await?;
    tx.audit(
        "attachment.upload",
        "attachment",
        &row.id,
        json!({"item_type": item_type.code(), "item_id": item_id, "kind": kind.code(), "size": row.size}),
    )
    .await?;
    tx.commit().await?;
    Ok(view_of(caller, &row, Some(&item)))
}

/// The STIX `file` observables of an item's files at the item's own TLP (a file marked
/// tighter stays out: the item's readers would all see its hashes).
pub(crate) fn file_objects(item_id: &str, tlp: Tlp, files: &[AttachmentRow]) -> Vec<kyoyu_stix::StixObject> {
    let facts: Vec<kyoyu_stix::FileFacts> = files
        .iter()
        .filter(|f| f.tlp == tlp)
        .map(|f| kyoyu_stix::FileFacts {
            name: &f.name,
            size: f.size as u64,
            hashes: &f.hashes,
            inside: f.packed.iter().flat_map(|p| &p.files).map(|i| (i.path.as_str(), i.size, &i.hashes)).collect(),
        })
        .collect();
    kyoyu_stix::file_objects(item_id, tlp, &kyoyu_store::now(), &facts)
}

/// Adds the observables of new files on a report rendition to its STIX objects.
async fn keep_report_files(tx: &mut Tx, report_id: &str, tlp: Tlp, files: &[AttachmentRow]) -> AppResult<()> {
    let objects = file_objects(report_id, tlp, files);
    if objects.is_empty() {
        return Ok(());
    }
    let now = kyoyu_store::now();
    let made = kyoyu_store::ObjectsOf {
        collection: crate::stix::REPORTS,
        item: kyoyu_store::ItemRef::Report(report_id),
        tlp,
        date_added: &now,
        objects,
    };
    tx.insert_item_objects(made).await?;
    Ok(())
}

/// 別紙有無 follows from the files: the first file marks the item as having attachments.
/// Its STIX objects gain the new file's observables.
async fn after_upload(tx: &mut Tx, world: &World, item: &Item, file: &AttachmentRow) -> AppResult<()> {
    match item {
        Item::Report { row, .. } => {
            if !row.content.has_attachments {
                let mut content = row.content.clone();
                content.has_attachments = true;
                tx.set_report_content(&row.id, &content).await?;
            }
            keep_report_files(tx, &row.id, row.content.tlp, std::slice::from_ref(file)).await
        }
        Item::Advisory(a) => {
            let mut saved = AdvisoryRow::clone(a);
            if !saved.draft.has_attachments {
                saved.draft.has_attachments = true;
                tx.set_advisory_draft(&a.id, &saved.draft).await?;
            }
            crate::stix::keep_advisory(tx, world, &saved).await
        }
        // Partner information has no 別紙有無 and is not published as STIX.
        Item::Partner { .. } => Ok(()),
    }
}

/// Hashes what a sample's zip holds, in the inspector process, within the time limit.
async fn inspect_zip(app: &App, blob: &BlobRow, password: Option<String>) -> AppResult<Packed> {
    let refuse = |ja: &str, en: &str| AppError::field("file", ja, en);
    let Some(program) = &app.files.inspector else {
        return Err(refuse(
            "このサーバでは ZIP の検体を検査できません（検査プロセスが設定されていません）",
            "this server cannot inspect sample zips (no inspector is configured)",
        ));
    };
    let mut passwords: Vec<String> = password.into_iter().filter(|p| !p.is_empty()).collect();
    passwords.extend(attachment::USUAL_PASSWORDS.iter().map(|p| p.to_string()));
    let job = Job { passwords, limits: app.files.zip, max_input: app.files.limits.file_bytes };
    let limit = std::time::Duration::from_secs(app.files.zip.seconds);
    let outcome = tokio::time::timeout(limit, run_inspector(app, program, &job, blob)).await;
    match outcome {
        Err(_) => Err(refuse(
            "ZIP の検査が時間内に終わりませんでした。ZIP 爆弾の可能性があります",
            "inspecting the zip took too long: a zip bomb, perhaps",
        )),
        Ok(Err(e)) => Err(e),
        Ok(Ok(Outcome::Packed(p))) => Ok(p),
        Ok(Ok(Outcome::Refused(r))) => Err(AppError::field("file", r.ja, r.en)),
    }
}

async fn run_inspector(app: &App, program: &std::path::Path, job: &Job, blob: &BlobRow) -> AppResult<Outcome> {
    use futures_util::StreamExt;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let failed = |e: std::io::Error| AppError::internal("the zip inspector", e);
    let mut child = tokio::process::Command::new(program)
        .arg("inspect-zip")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(failed)?;
    let mut stdin = child.stdin.take().expect("piped");
    let mut stdout = child.stdout.take().expect("piped");
    let mut line = serde_json::to_vec(job).expect("serialisable");
    line.push(b'\n');
    let mut plain = plaintext(app, blob).await?;
    let feed = async move {
        stdin.write_all(&line).await?;
        while let Some(chunk) = plain.next().await {
            stdin.write_all(&chunk?).await?;
        }
        stdin.shutdown().await
    };
    let mut answer = Vec::new();
    let read = stdout.read_to_end(&mut answer);
    // The worker may stop reading early (a refusal); its answer still counts.
    let (_, read) = tokio::join!(feed, read);
    read.map_err(failed)?;
    child.wait().await.map_err(failed)?;
    serde_json::from_slice(&answer).map_err(|e| AppError::internal("the zip inspector's answer", e))
}

/// Shares a sample with an analysis partner until the grant expires.
pub async fn grant_sample_access(app: &App, caller: &Caller, id: &str, request: GrantRequest) -> AppResult<GrantView> {
    let mut tx = app.store.begin(caller.actor()).await?;
    let (f, item) = readable_file(&mut tx, app, caller, id).await?;
    if item.is_none() {
        return Err(AppError::NotFound);
    }
    let world = app.world(&mut tx).await?;
    let partner = world.facts_of()(&request.org_id).ok_or_else(|| {
        AppError::Validation(FieldError::new("org_id", "その組織はありません", "no such organisation").into())
    })?;
    kyoyu_policy::files::check_sample_grant(caller.principal(), f.kind, &partner, request.days)?;
    let expires_at = kyoyu_store::timestamp(chrono::Utc::now() + chrono::Duration::days(request.days));
    let grant_id = tx.insert_sample_grant(&f.id, &partner.id, &expires_at, &caller.user().id).await?;
    tx.audit("attachment.grant", "attachment", &f.id, json!({"org_id": partner.id, "expires_at": expires_at})).await?;
    tx.commit().await?;
    Ok(GrantView { id: grant_id, attachment_id: f.id, org_id: partner.id, expires_at })
}

/// Carries the chosen files of a rendition onto its forward (all the forwarder reads when
/// `chosen` is None), as sent by the forwarder, names scrubbed like the text, never looser
/// than the new rendition.
pub(crate) async fn carry_forward(
    tx: &mut Tx,
    caller: &Caller,
    world: &World,
    parent: &ReportRow,
    new_id: &str,
    new_tlp: Tlp,
    chosen: Option<&[String]>,
) -> AppResult<usize> {
    let files = carried(tx, caller, world, parent, chosen).await?;
    let names = carried_names(tx, world, parent, &files).await?;
    let mut rows = Vec::with_capacity(files.len());
    for (f, name) in files.iter().zip(names) {
        let row = AttachmentRow {
            id: kyoyu_store::new_id(),
            item_id: new_id.to_string(),
            tlp: if f.tlp.keeps_or_tightens(new_tlp) { f.tlp } else { new_tlp },
            name,
            uploader_org_id: caller.org_id().to_string(),
            uploader_user_id: caller.user().id.clone(),
            carried_from: Some(f.id.clone()),
            created_at: kyoyu_store::now(),
            ..f.clone()
        };
        tx.insert_attachment(&row).await?;
        rows.push(row);
    }
    keep_report_files(tx, new_id, new_tlp, &rows).await?;
    Ok(rows.len())
}

/// The parent's files the forwarder reads, narrowed to `chosen`; a chosen id that is not
/// among them is an error naming it.
async fn carried(
    tx: &mut Tx,
    caller: &Caller,
    world: &World,
    parent: &ReportRow,
    chosen: Option<&[String]>,
) -> AppResult<Vec<AttachmentRow>> {
    let shared = tx.shares_of(&parent.id).await?;
    let facts = ItemFacts::Report(world.row_facts(parent, &shared));
    let readable: Vec<AttachmentRow> = tx
        .attachments_of(&caller.scope(), &parent.id)
        .await?
        .into_iter()
        .filter(|f| kyoyu_policy::files::reads_file(caller.principal(), &facts, f.tlp))
        .collect();
    let Some(chosen) = chosen else { return Ok(readable) };
    if let Some((i, _)) = chosen.iter().enumerate().find(|(_, id)| !readable.iter().any(|f| &f.id == *id)) {
        return Err(AppError::field(
            &format!("attachment_ids[{i}]"),
            "受け取った報告のファイルではありません",
            "not a file of the report received",
        ));
    }
    Ok(readable.into_iter().filter(|f| chosen.contains(&f.id)).collect())
}

/// The files of a rendition a forward preview would carry, named as they would arrive.
pub(crate) async fn preview_carried(
    tx: &mut Tx,
    caller: &Caller,
    world: &World,
    parent: &ReportRow,
    chosen: Option<&[String]>,
) -> AppResult<Vec<String>> {
    let files = carried(tx, caller, world, parent, chosen).await?;
    carried_names(tx, world, parent, &files).await
}

/// The names files arrive under: scrubbed like the text on the anonymised route.
async fn carried_names(
    tx: &mut Tx,
    world: &World,
    parent: &ReportRow,
    files: &[AttachmentRow],
) -> AppResult<Vec<String>> {
    if parent.chain.anonymous_originator().is_none() {
        return Ok(files.iter().map(|f| f.name.clone()).collect());
    }
    let scrubber = world.chain_scrubber(tx, &parent.chain).await?;
    Ok(files.iter().map(|f| scrubber.scrub_field("name", &f.name).0).collect())
}
