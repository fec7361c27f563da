//! Report chains and renditions. Every item read takes a [`ReadScope`] and joins on the
//! reader rows the policy wrote, so what a user cannot read is never loaded.

use crate::rows::*;
use crate::{Result, Store, StoreError, Tx};
use kyoyu_domain::codes::{EventType, ReportStatus, Route};
use kyoyu_domain::identifier::parse_report_identifier;
use kyoyu_domain::report::ReportContent;
use kyoyu_domain::Tlp;
use kyoyu_policy::{AccessGrants, ReadScope};
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection};

/// The largest page a list returns.
pub const MAX_PAGE: i64 = 100;

/// Filters of `listReports` and its count. Every one narrows what the scope already allows.
#[derive(Debug, Clone, Default)]
pub struct ReportFilter {
    pub identifier: Option<String>,
    pub sector: Option<String>,
    pub event_type: Option<EventType>,
    pub tlp: Option<Tlp>,
    pub status: Option<ReportStatus>,
    pub chain_id: Option<String>,
    /// Free text, matched in the text of the rendition the reader holds.
    pub q: Option<String>,
}

const COLUMNS: &str = "SELECT r.id, r.chain_id, r.sequence, r.parent_id, r.sender_org_id, r.receiver_org_id,
    r.status, r.identifies_operator, r.content, r.published_at, r.created_at,
    c.route, c.statutory, c.sector AS chain_sector, c.originator_org_id, c.secretariat_org_id, c.identifier,
    c.disclosure_consent_at, c.disclosure_consent_by, c.created_at AS chain_created_at";

/// Renditions joined to the reader rows; `push_scope` must follow.
const FROM_SCOPED: &str =
    " FROM report_access a JOIN reports r ON r.id = a.report_id JOIN chains c ON c.id = r.chain_id WHERE ";

fn scoped(select: &str, scope: &ReadScope) -> QueryBuilder<'static, Sqlite> {
    let mut qb = QueryBuilder::new(format!("{select}{FROM_SCOPED}"));
    push_scope(&mut qb, scope);
    qb
}

/// The access rule as SQL: the reader's organisation holds a grant, and the user has
/// need-to-know where the grant asks for it.
fn push_scope(qb: &mut QueryBuilder<'_, Sqlite>, scope: &ReadScope) {
    qb.push("a.org_id = ")
        .push_bind(scope.org_id().to_string())
        .push(" AND (a.need_to_know = 0 OR ")
        .push_bind(scope.need_to_know())
        .push(")");
}

fn push_filter(qb: &mut QueryBuilder<'_, Sqlite>, f: &ReportFilter) {
    if let Some(ident) = &f.identifier {
        match parse_report_identifier(ident) {
            Some((chain, seq)) => {
                qb.push(" AND c.identifier = ").push_bind(chain);
                if let Some(seq) = seq {
                    qb.push(" AND r.sequence = ").push_bind(seq);
                }
            }
            None => {
                qb.push(" AND 0");
            }
        }
    }
    if let Some(v) = &f.sector {
        qb.push(" AND r.sector = ").push_bind(v.clone());
    }
    if let Some(v) = f.event_type {
        qb.push(" AND r.event_type = ").push_bind(v.code());
    }
    if let Some(v) = f.tlp {
        qb.push(" AND r.tlp = ").push_bind(v.code());
    }
    if let Some(v) = f.status {
        qb.push(" AND r.status = ").push_bind(v.code());
    }
    if let Some(v) = &f.chain_id {
        qb.push(" AND r.chain_id = ").push_bind(v.clone());
    }
    if let Some(q) = f.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        let escaped = q.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
        qb.push(" AND r.search_text LIKE ").push_bind(format!("%{escaped}%")).push(" ESCAPE '\\'");
    }
}

fn chain_from_row(r: &SqliteRow, prefix_created: &str) -> Result<ChainRow> {
    let route: String = r.get("route");
    Ok(ChainRow {
        id: r.get("chain_id"),
        route: Route::parse(&route).ok_or_else(|| StoreError::Corrupt(format!("route {route}")))?,
        statutory: r.get("statutory"),
        sector: r.get("chain_sector"),
        originator_org_id: r.get("originator_org_id"),
        secretariat_org_id: r.get("secretariat_org_id"),
        identifier: r.get("identifier"),
        disclosure_consent_at: r.get("disclosure_consent_at"),
        disclosure_consent_by: r.get("disclosure_consent_by"),
        created_at: r.get(prefix_created),
    })
}

fn report_from_row(r: &SqliteRow) -> Result<ReportRow> {
    let status: String = r.get("status");
    let content: String = r.get("content");
    Ok(ReportRow {
        id: r.get("id"),
        chain: chain_from_row(r, "chain_created_at")?,
        sequence: r.get("sequence"),
        parent_id: r.get("parent_id"),
        sender_org_id: r.get("sender_org_id"),
        receiver_org_id: r.get("receiver_org_id"),
        status: ReportStatus::parse(&status).ok_or_else(|| StoreError::Corrupt(format!("status {status}")))?,
        identifies_operator: r.get("identifies_operator"),
        content: serde_json::from_str(&content).map_err(|e| StoreError::Corrupt(format!("content: {e}")))?,
        published_at: r.get("published_at"),
        created_at: r.get("created_at"),
    })
}

async fn get_report(c: &mut SqliteConnection, scope: &ReadScope, id: &str) -> Result<Option<ReportRow>> {
    let mut qb = scoped(COLUMNS, scope);
    qb.push(" AND r.id = ").push_bind(id.to_string());
    let row = qb.build().fetch_optional(c).await?;
    row.as_ref().map(report_from_row).transpose()
}

impl Store {
    /// One rendition, if the scope may read it.
    pub async fn get_report(&self, scope: &ReadScope, id: &str) -> Result<Option<ReportRow>> {
        get_report(&mut *self.reader.acquire().await?, scope, id).await
    }

    /// A page of what the scope may read, newest first (in chain order with `chain_id`).
    pub async fn list_reports(
        &self,
        scope: &ReadScope,
        f: &ReportFilter,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<ReportRow>> {
        let mut qb = scoped(COLUMNS, scope);
        push_filter(&mut qb, f);
        if f.chain_id.is_some() {
            qb.push(" ORDER BY r.sequence ASC, r.created_at ASC, r.id ASC");
        } else {
            qb.push(" ORDER BY r.created_at DESC, r.id DESC");
        }
        qb.push(" LIMIT ").push_bind(limit.clamp(1, MAX_PAGE)).push(" OFFSET ").push_bind(offset.max(0));
        let rows = qb.build().fetch_all(&self.reader).await?;
        rows.iter().map(report_from_row).collect()
    }

    pub async fn count_reports(&self, scope: &ReadScope, f: &ReportFilter) -> Result<i64> {
        let mut qb = scoped("SELECT COUNT(*)", scope);
        push_filter(&mut qb, f);
        Ok(qb.build_query_scalar().fetch_one(&self.reader).await?)
    }

    /// Renditions published to everyone (WHITE or CLEAR, with the originator's consent).
    pub async fn list_published(&self, limit: i64, offset: i64) -> Result<Vec<ReportRow>> {
        let sql = format!(
            "{COLUMNS} FROM reports r JOIN chains c ON c.id = r.chain_id
             WHERE r.published_at IS NOT NULL ORDER BY r.published_at DESC, r.id DESC LIMIT ? OFFSET ?"
        );
        let rows = sqlx::query(&sql).bind(limit.clamp(1, MAX_PAGE)).bind(offset.max(0)).fetch_all(&self.reader).await?;
        rows.iter().map(report_from_row).collect()
    }
}

/// What the policy needs to recompute a rendition's readers.
#[derive(Debug, Clone)]
pub struct AccessFactsRow {
    pub report_id: String,
    pub tlp: Tlp,
    pub sector: String,
    pub sender_org_id: String,
    pub receiver_org_id: String,
    pub originator_org_id: String,
    pub extras: Vec<String>,
    pub shared_to: Vec<String>,
}

impl Tx {
    pub async fn get_report(&mut self, scope: &ReadScope, id: &str) -> Result<Option<ReportRow>> {
        get_report(&mut self.inner, scope, id).await
    }

    pub async fn shares_of(&mut self, report_id: &str) -> Result<Vec<String>> {
        let rows = sqlx::query_scalar("SELECT org_id FROM report_shares WHERE report_id = ? ORDER BY org_id")
            .bind(report_id)
            .fetch_all(&mut *self.inner)
            .await?;
        Ok(rows)
    }

    pub async fn insert_chain(&mut self, c: &ChainRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO chains (id, route, statutory, sector, originator_org_id, secretariat_org_id, identifier, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&c.id)
        .bind(c.route.code())
        .bind(c.statutory)
        .bind(&c.sector)
        .bind(&c.originator_org_id)
        .bind(&c.secretariat_org_id)
        .bind(&c.identifier)
        .bind(&c.created_at)
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }

    pub async fn insert_rendition(&mut self, r: &NewRendition, grants: &AccessGrants) -> Result<()> {
        let content = serde_json::to_string(&r.content).expect("content serialises");
        sqlx::query(
            "INSERT INTO reports (id, chain_id, sequence, parent_id, sender_org_id, receiver_org_id, status, tlp, severity,
               event_type, sector, identifies_operator, content, search_text, created_by, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&r.id)
        .bind(&r.chain_id)
        .bind(r.sequence)
        .bind(&r.parent_id)
        .bind(&r.sender_org_id)
        .bind(&r.receiver_org_id)
        .bind(ReportStatus::Sent.code())
        .bind(r.content.tlp.code())
        .bind(r.content.severity.map(|s| s.code()))
        .bind(r.content.event_type.map(|e| e.code()))
        .bind(&r.content.sector)
        .bind(r.identifies_operator)
        .bind(content)
        .bind(r.content.search_text())
        .bind(&r.created_by)
        .bind(&r.created_at)
        .execute(&mut *self.inner)
        .await?;
        self.replace_access(&r.id, grants).await
    }

    /// Writes exactly the readers the policy granted, replacing any before.
    pub async fn replace_access(&mut self, report_id: &str, grants: &AccessGrants) -> Result<()> {
        sqlx::query("DELETE FROM report_access WHERE report_id = ?").bind(report_id).execute(&mut *self.inner).await?;
        for (org_id, ntk) in grants.rows() {
            sqlx::query("INSERT INTO report_access (org_id, report_id, need_to_know) VALUES (?, ?, ?)")
                .bind(org_id)
                .bind(report_id)
                .bind(ntk)
                .execute(&mut *self.inner)
                .await?;
        }
        Ok(())
    }

    pub async fn insert_share(&mut self, report_id: &str, org_id: &str, by_org: &str, at: &str) -> Result<()> {
        sqlx::query(
            "INSERT OR IGNORE INTO report_shares (report_id, org_id, shared_by_org_id, created_at) VALUES (?, ?, ?, ?)",
        )
        .bind(report_id)
        .bind(org_id)
        .bind(by_org)
        .bind(at)
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }

    pub async fn set_status(&mut self, report_id: &str, status: ReportStatus) -> Result<()> {
        sqlx::query("UPDATE reports SET status = ? WHERE id = ?")
            .bind(status.code())
            .bind(report_id)
            .execute(&mut *self.inner)
            .await?;
        Ok(())
    }

    pub async fn max_sequence(&mut self, chain_id: &str) -> Result<i64> {
        let n: Option<i64> = sqlx::query_scalar("SELECT MAX(sequence) FROM reports WHERE chain_id = ?")
            .bind(chain_id)
            .fetch_one(&mut *self.inner)
            .await?;
        Ok(n.unwrap_or(0))
    }

    /// The next number of a series in a year, starting at 1.
    pub async fn next_counter(&mut self, series: &str, year: i32) -> Result<i64> {
        let n = sqlx::query_scalar(
            "INSERT INTO counters (series, year, last) VALUES (?, ?, 1)
             ON CONFLICT (series, year) DO UPDATE SET last = last + 1 RETURNING last",
        )
        .bind(series)
        .bind(year)
        .fetch_one(&mut *self.inner)
        .await?;
        Ok(n)
    }

    /// Sets the chain's identifier unless it has one; true when this call set it.
    pub async fn assign_chain_identifier(&mut self, chain_id: &str, identifier: &str) -> Result<bool> {
        let done = sqlx::query("UPDATE chains SET identifier = ? WHERE id = ? AND identifier IS NULL")
            .bind(identifier)
            .bind(chain_id)
            .execute(&mut *self.inner)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn chain_identifier(&mut self, chain_id: &str) -> Result<Option<String>> {
        Ok(sqlx::query_scalar("SELECT identifier FROM chains WHERE id = ?")
            .bind(chain_id)
            .fetch_one(&mut *self.inner)
            .await?)
    }

    pub async fn set_disclosure_consent(&mut self, chain_id: &str, at: &str, by_user: &str) -> Result<()> {
        sqlx::query("UPDATE chains SET disclosure_consent_at = ?, disclosure_consent_by = ? WHERE id = ?")
            .bind(at)
            .bind(by_user)
            .bind(chain_id)
            .execute(&mut *self.inner)
            .await?;
        Ok(())
    }

    pub async fn set_published(&mut self, report_id: &str, at: &str) -> Result<()> {
        sqlx::query("UPDATE reports SET published_at = ? WHERE id = ?")
            .bind(at)
            .bind(report_id)
            .execute(&mut *self.inner)
            .await?;
        Ok(())
    }

    /// The facts of every rendition, for recomputing readers after reference data changed.
    pub async fn all_access_facts(&mut self) -> Result<Vec<AccessFactsRow>> {
        let rows = sqlx::query(
            "SELECT r.id, r.tlp, r.sector, r.sender_org_id, r.receiver_org_id, r.content, c.originator_org_id,
               (SELECT json_group_array(org_id) FROM report_shares s WHERE s.report_id = r.id) AS shared
             FROM reports r JOIN chains c ON c.id = r.chain_id",
        )
        .fetch_all(&mut *self.inner)
        .await?;
        rows.iter()
            .map(|r| {
                let tlp: String = r.get("tlp");
                let content: ReportContent =
                    serde_json::from_str(r.get("content")).map_err(|e| StoreError::Corrupt(format!("content: {e}")))?;
                let shared: String = r.get("shared");
                Ok(AccessFactsRow {
                    report_id: r.get("id"),
                    tlp: Tlp::parse(&tlp).ok_or_else(|| StoreError::Corrupt(format!("tlp {tlp}")))?,
                    sector: r.get("sector"),
                    sender_org_id: r.get("sender_org_id"),
                    receiver_org_id: r.get("receiver_org_id"),
                    originator_org_id: r.get("originator_org_id"),
                    extras: content.extra_recipient_org_ids,
                    shared_to: serde_json::from_str(&shared)
                        .map_err(|e| StoreError::Corrupt(format!("shares: {e}")))?,
                })
            })
            .collect()
    }
}
