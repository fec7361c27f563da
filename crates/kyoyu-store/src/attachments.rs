//! Files on items: their metadata rows, the wrapped keys of their blobs, and sample grants.
//! Every read of a file joins the reader rows of its item for the caller's scope (or, for an
//! analysis partner, an unexpired grant), so a file of an unreadable item is never loaded.

use crate::{Conn, Get, Result, Store, StoreError, Tx};
use kyoyu_domain::attachment::{Hashes, Packed};
use kyoyu_domain::codes::{FileKind, ItemType};
use kyoyu_domain::Tlp;
use kyoyu_policy::ReadScope;

/// A file as one item carries it.
#[derive(Debug, Clone, PartialEq)]
pub struct AttachmentRow {
    pub id: String,
    pub item_type: ItemType,
    pub item_id: String,
    pub blob_id: String,
    pub kind: FileKind,
    pub tlp: Tlp,
    pub name: String,
    pub media_type: String,
    pub size: i64,
    pub hashes: Hashes,
    pub packed: Option<Packed>,
    pub uploader_org_id: String,
    pub uploader_user_id: String,
    pub carried_from: Option<String>,
    pub created_at: String,
}

/// The encryption facts of stored bytes: the blob key wrapped by the master key `key_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobRow {
    pub id: String,
    pub key_id: String,
    pub wrapped_key: Vec<u8>,
    pub nonce_prefix: Vec<u8>,
    /// Plaintext bytes.
    pub size: i64,
    /// Sealed chunks stored.
    pub chunks: i64,
    pub sha256: String,
    pub created_at: String,
}

const COLUMNS: &str = "f.id, f.item_type, f.item_id, f.blob_id, f.kind, f.tlp, f.name, f.media_type, f.size,
    f.sha256, f.sha1, f.md5, f.packed, f.uploader_org_id, f.uploader_user_id, f.carried_from, f.created_at";

/// The item's reader rows for the scope ($1 organisation, $2 need-to-know).
const ITEM_READABLE: &str = "(
    (f.item_type = 'report' AND EXISTS (SELECT 1 FROM report_access a
       WHERE a.report_id = f.item_id AND a.org_id = $1 AND (NOT a.need_to_know OR $2)))
    OR (f.item_type = 'advisory' AND EXISTS (SELECT 1 FROM advisory_access a
       WHERE a.advisory_id = f.item_id AND a.org_id = $1 AND (NOT a.need_to_know OR $2)))
    OR (f.item_type = 'partner' AND EXISTS (SELECT 1 FROM partner_access a
       WHERE a.partner_id = f.item_id AND a.org_id = $1 AND (NOT a.need_to_know OR $2))))";

/// An unexpired grant of the file to the organisation $1, at $2.
const GRANTED: &str = "EXISTS (SELECT 1 FROM sample_grants g
    WHERE g.attachment_id = f.id AND g.org_id = $1 AND g.expires_at > $2)";

fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(format!("unknown {what} in attachments"))
}

fn attachment_from_row(r: &impl Get) -> Result<AttachmentRow> {
    let packed = r.opt_text("packed")?.map(|j| serde_json::from_str(&j)).transpose().map_err(|_| corrupt("packed"))?;
    Ok(AttachmentRow {
        id: r.text("id")?,
        item_type: ItemType::parse(&r.text("item_type")?).ok_or_else(|| corrupt("item_type"))?,
        item_id: r.text("item_id")?,
        blob_id: r.text("blob_id")?,
        kind: FileKind::parse(&r.text("kind")?).ok_or_else(|| corrupt("kind"))?,
        tlp: Tlp::parse(&r.text("tlp")?).ok_or_else(|| corrupt("tlp"))?,
        name: r.text("name")?,
        media_type: r.text("media_type")?,
        size: r.int("size")?,
        hashes: Hashes { sha256: r.text("sha256")?, sha1: r.text("sha1")?, md5: r.text("md5")? },
        packed,
        uploader_org_id: r.text("uploader_org_id")?,
        uploader_user_id: r.text("uploader_user_id")?,
        carried_from: r.opt_text("carried_from")?,
        created_at: r.text("created_at")?,
    })
}

macro_rules! blob_from_row {
    ($r:expr) => {{
        let r = $r;
        BlobRow {
            id: sqlx::Row::try_get(&r, "id")?,
            key_id: sqlx::Row::try_get(&r, "key_id")?,
            wrapped_key: sqlx::Row::try_get(&r, "wrapped_key")?,
            nonce_prefix: sqlx::Row::try_get(&r, "nonce_prefix")?,
            size: sqlx::Row::try_get(&r, "size")?,
            chunks: sqlx::Row::try_get(&r, "chunks")?,
            sha256: sqlx::Row::try_get(&r, "sha256")?,
            created_at: sqlx::Row::try_get(&r, "created_at")?,
        }
    }};
}

async fn files_of(c: Conn<'_>, scope: &ReadScope, item_id: &str) -> Result<Vec<AttachmentRow>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM attachments f WHERE f.item_id = $3 AND {ITEM_READABLE} ORDER BY f.created_at, f.id"
    );
    on!(c, c => sqlx::query(&sql).bind(scope.org_id()).bind(scope.need_to_know()).bind(item_id)
        .fetch_all(&mut *c).await?.iter().map(attachment_from_row).collect())
}

async fn file_through_item(c: Conn<'_>, scope: &ReadScope, id: &str) -> Result<Option<AttachmentRow>> {
    let sql = format!("SELECT {COLUMNS} FROM attachments f WHERE f.id = $3 AND {ITEM_READABLE}");
    on!(c, c => sqlx::query(&sql).bind(scope.org_id()).bind(scope.need_to_know()).bind(id)
        .fetch_optional(&mut *c).await?.as_ref().map(attachment_from_row).transpose())
}

async fn file_by_grant(c: Conn<'_>, scope: &ReadScope, id: &str, at: &str) -> Result<Option<AttachmentRow>> {
    if !scope.reads_items() {
        return Ok(None);
    }
    let sql = format!("SELECT {COLUMNS} FROM attachments f WHERE f.id = $3 AND {GRANTED}");
    on!(c, c => sqlx::query(&sql).bind(scope.org_id()).bind(at).bind(id)
        .fetch_optional(&mut *c).await?.as_ref().map(attachment_from_row).transpose())
}

impl Store {
    /// The files on an item whose reader rows admit the scope (the policy then judges each
    /// file's own TLP).
    pub async fn attachments_of(&self, scope: &ReadScope, item_id: &str) -> Result<Vec<AttachmentRow>> {
        files_of(self.read().await?.conn(), scope, item_id).await
    }

    /// Numbers of files on each of several items the scope reads, for lists.
    pub async fn attachment_counts(&self, scope: &ReadScope, item_ids: &[&str]) -> Result<Vec<(String, i64)>> {
        if item_ids.is_empty() {
            return Ok(Vec::new());
        }
        let marks: Vec<String> = (0..item_ids.len()).map(|i| format!("${}", i + 3)).collect();
        let sql = format!(
            "SELECT f.item_id, COUNT(*) AS n FROM attachments f WHERE f.item_id IN ({}) AND {ITEM_READABLE} GROUP BY f.item_id",
            marks.join(", ")
        );
        on!(self.read().await?.conn(), c => {
            let mut q = sqlx::query(&sql).bind(scope.org_id()).bind(scope.need_to_know());
            for id in item_ids {
                q = q.bind(*id);
            }
            q.fetch_all(&mut *c).await?.iter().map(|r| Ok((r.text("item_id")?, r.int("n")?))).collect()
        })
    }

    /// The samples granted to the scope's organisation and not expired at `at`.
    pub async fn granted_samples(&self, scope: &ReadScope, at: &str) -> Result<Vec<AttachmentRow>> {
        if !scope.reads_items() {
            return Ok(Vec::new());
        }
        let sql = format!("SELECT {COLUMNS} FROM attachments f WHERE {GRANTED} ORDER BY f.created_at DESC, f.id");
        on!(self.read().await?.conn(), c => sqlx::query(&sql).bind(scope.org_id()).bind(at)
            .fetch_all(&mut *c).await?.iter().map(attachment_from_row).collect())
    }

    /// Every blob, a page at a time in id order after `after`, for verification and rotation.
    pub async fn blobs_after(&self, after: &str, limit: i64) -> Result<Vec<BlobRow>> {
        let sql = "SELECT * FROM attachment_blobs WHERE id > $1 ORDER BY id LIMIT $2";
        on!(self.read().await?.conn(), c => {
            let rows = sqlx::query(sql).bind(after).bind(limit).fetch_all(&mut *c).await?;
            rows.into_iter().map(|r| Ok(blob_from_row!(r))).collect()
        })
    }

    /// (files, bytes) already on an item, for its limits.
    pub async fn item_file_totals(&self, item_id: &str) -> Result<(i64, i64)> {
        file_totals(self.read().await?.conn(), item_id).await
    }

    pub async fn count_blobs(&self) -> Result<i64> {
        on!(self.read().await?.conn(), c => Ok(sqlx::query_scalar("SELECT COUNT(*) FROM attachment_blobs").fetch_one(&mut *c).await?))
    }

    pub async fn blob(&self, id: &str) -> Result<Option<BlobRow>> {
        on!(self.read().await?.conn(), c => {
            let row = sqlx::query("SELECT * FROM attachment_blobs WHERE id = $1").bind(id).fetch_optional(&mut *c).await?;
            Ok(match row { Some(r) => Some(blob_from_row!(r)), None => None })
        })
    }
}

async fn file_totals(c: Conn<'_>, item_id: &str) -> Result<(i64, i64)> {
    let sql =
        "SELECT COUNT(*) AS n, CAST(COALESCE(SUM(size), 0) AS BIGINT) AS bytes FROM attachments WHERE item_id = $1";
    on!(c, c => {
        let r = sqlx::query(sql).bind(item_id).fetch_one(&mut *c).await?;
        Ok((r.int("n")?, r.int("bytes")?))
    })
}

impl Tx {
    /// (files, bytes) already on an item, for its limits.
    pub async fn item_file_totals(&mut self, item_id: &str) -> Result<(i64, i64)> {
        file_totals(self.conn().await?, item_id).await
    }

    /// A report rendition's form as it now stands (別紙有無 once files arrive).
    pub async fn set_report_content(&mut self, id: &str, content: &kyoyu_domain::report::ReportContent) -> Result<()> {
        let json = serde_json::to_string(content).expect("content serialises");
        on!(self.conn().await?, c => sqlx::query("UPDATE reports SET content = $2 WHERE id = $1")
            .bind(id).bind(json).execute(&mut *c).await?.rows_affected());
        Ok(())
    }

    /// An advisory's form as it now stands (別紙有無 once files arrive).
    pub async fn set_advisory_draft(&mut self, id: &str, draft: &kyoyu_domain::advisory::AdvisoryDraft) -> Result<()> {
        let json = serde_json::to_string(draft).expect("draft serialises");
        on!(self.conn().await?, c => sqlx::query("UPDATE advisories SET draft = $2 WHERE id = $1")
            .bind(id).bind(json).execute(&mut *c).await?.rows_affected());
        Ok(())
    }

    /// Every file on an item, for its STIX objects (which are then read through the item's
    /// reader rows); never for answering a reader directly.
    pub async fn files_on_item(&mut self, item_id: &str) -> Result<Vec<AttachmentRow>> {
        let sql = format!("SELECT {COLUMNS} FROM attachments f WHERE f.item_id = $1 ORDER BY f.created_at, f.id");
        on!(self.conn().await?, c => sqlx::query(&sql).bind(item_id)
            .fetch_all(&mut *c).await?.iter().map(attachment_from_row).collect())
    }

    /// One file, if the scope reads its item.
    pub async fn attachment(&mut self, scope: &ReadScope, id: &str) -> Result<Option<AttachmentRow>> {
        file_through_item(self.conn().await?, scope, id).await
    }

    /// One sample granted to the scope's organisation and unexpired at `at`.
    pub async fn granted_attachment(&mut self, scope: &ReadScope, id: &str, at: &str) -> Result<Option<AttachmentRow>> {
        file_by_grant(self.conn().await?, scope, id, at).await
    }

    /// The files on an item the scope reads.
    pub async fn attachments_of(&mut self, scope: &ReadScope, item_id: &str) -> Result<Vec<AttachmentRow>> {
        files_of(self.conn().await?, scope, item_id).await
    }

    pub async fn blob(&mut self, id: &str) -> Result<Option<BlobRow>> {
        on!(self.conn().await?, c => {
            let row = sqlx::query("SELECT * FROM attachment_blobs WHERE id = $1").bind(id).fetch_optional(&mut *c).await?;
            Ok(match row { Some(r) => Some(blob_from_row!(r)), None => None })
        })
    }

    pub async fn insert_blob(&mut self, b: &BlobRow) -> Result<()> {
        let sql =
            "INSERT INTO attachment_blobs (id, key_id, wrapped_key, nonce_prefix, size, chunks, sha256, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
        on!(self.conn().await?, c => sqlx::query(sql)
            .bind(&b.id).bind(&b.key_id).bind(&b.wrapped_key).bind(&b.nonce_prefix)
            .bind(b.size).bind(b.chunks).bind(&b.sha256).bind(&b.created_at)
            .execute(&mut *c).await?.rows_affected());
        Ok(())
    }

    /// Re-wraps a blob's key (key rotation); only if it is still wrapped by `old_key_id`.
    pub async fn rewrap_blob(&mut self, id: &str, old_key_id: &str, key_id: &str, wrapped_key: &[u8]) -> Result<bool> {
        let sql = "UPDATE attachment_blobs SET key_id = $3, wrapped_key = $4 WHERE id = $1 AND key_id = $2";
        let n = on!(self.conn().await?, c => sqlx::query(sql).bind(id).bind(old_key_id).bind(key_id).bind(wrapped_key)
            .execute(&mut *c).await?.rows_affected());
        Ok(n == 1)
    }

    pub async fn insert_attachment(&mut self, f: &AttachmentRow) -> Result<()> {
        let packed = f.packed.as_ref().map(|p| serde_json::to_string(p).expect("serialisable"));
        let sql = "INSERT INTO attachments (id, item_type, item_id, blob_id, kind, tlp, name, media_type, size,
               sha256, sha1, md5, packed, uploader_org_id, uploader_user_id, carried_from, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)";
        on!(self.conn().await?, c => sqlx::query(sql)
            .bind(&f.id).bind(f.item_type.code()).bind(&f.item_id).bind(&f.blob_id).bind(f.kind.code())
            .bind(f.tlp.code()).bind(&f.name).bind(&f.media_type).bind(f.size)
            .bind(&f.hashes.sha256).bind(&f.hashes.sha1).bind(&f.hashes.md5).bind(packed)
            .bind(&f.uploader_org_id).bind(&f.uploader_user_id).bind(&f.carried_from).bind(&f.created_at)
            .execute(&mut *c).await?.rows_affected());
        Ok(())
    }

    pub async fn insert_sample_grant(
        &mut self,
        attachment_id: &str,
        org_id: &str,
        expires_at: &str,
        by: &str,
    ) -> Result<String> {
        let id = crate::new_id();
        let sql = "INSERT INTO sample_grants (id, attachment_id, org_id, expires_at, granted_by, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)";
        on!(self.conn().await?, c => sqlx::query(sql).bind(&id).bind(attachment_id).bind(org_id).bind(expires_at)
            .bind(by).bind(crate::now()).execute(&mut *c).await?.rows_affected());
        Ok(id)
    }
}
