//! Advisories (情報提供): drafts, hops of delivery, acknowledgments, questions, scope
//! widening. Item reads take a [`ReadScope`] and join the reader rows the policy wrote.

use crate::{Result, Store, StoreError, Tx};
use kyoyu_domain::advisory::AdvisoryDraft;
use kyoyu_domain::Tlp;
use kyoyu_policy::{AccessGrants, ReadScope};
use serde::Serialize;
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection};

#[derive(Debug, Clone, PartialEq)]
pub struct AdvisoryRow {
    pub id: String,
    pub chain_id: String,
    pub chain_identifier: Option<String>,
    pub sequence: i64,
    pub status: String,
    pub author_org_id: String,
    pub draft: AdvisoryDraft,
    pub created_at: String,
    pub issued_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HopRow {
    pub id: String,
    pub from_org_id: String,
    pub to_org_id: String,
    pub tlp: Tlp,
    pub copy: bool,
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AckRow {
    pub org_id: String,
    pub user_id: String,
    pub status: String,
    pub comment: String,
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QuestionRow {
    pub id: String,
    pub author_org_id: String,
    pub text: String,
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct WideningRow {
    pub id: String,
    pub advisory_id: String,
    pub report_id: String,
    pub chain_id: String,
    pub status: String,
    pub requested_at: String,
    pub answered_at: Option<String>,
    pub answered_by: Option<String>,
    pub author_org_id: String,
    pub originator_org_id: String,
    pub secretariat_org_id: Option<String>,
}

/// Filters of `listAdvisories`.
#[derive(Debug, Clone, Default)]
pub struct AdvisoryFilter {
    pub identifier: Option<String>,
    pub tlp: Option<Tlp>,
    pub status: Option<String>,
    pub q: Option<String>,
}

const COLUMNS: &str =
    "SELECT v.id, v.chain_id, ch.identifier AS chain_identifier, v.sequence, v.status, v.author_org_id,
    v.draft, v.created_at, v.issued_at";
const FROM_SCOPED: &str = " FROM advisory_access a JOIN advisories v ON v.id = a.advisory_id
    JOIN advisory_chains ch ON ch.id = v.chain_id WHERE ";

fn scoped(select: &str, scope: &ReadScope) -> QueryBuilder<'static, Sqlite> {
    let mut qb = QueryBuilder::new(format!("{select}{FROM_SCOPED}"));
    qb.push("a.org_id = ")
        .push_bind(scope.org_id().to_string())
        .push(" AND (a.need_to_know = 0 OR ")
        .push_bind(scope.need_to_know())
        .push(")");
    qb
}

fn push_filter(qb: &mut QueryBuilder<'_, Sqlite>, f: &AdvisoryFilter) {
    if let Some(ident) = &f.identifier {
        match kyoyu_domain::identifier::parse_report_identifier(ident) {
            Some((chain, seq)) => {
                qb.push(" AND ch.identifier = ").push_bind(chain);
                if let Some(seq) = seq {
                    qb.push(" AND v.sequence = ").push_bind(seq);
                }
            }
            None => {
                qb.push(" AND 0");
            }
        }
    }
    if let Some(t) = f.tlp {
        qb.push(" AND v.tlp = ").push_bind(t.code());
    }
    if let Some(s) = &f.status {
        qb.push(" AND v.status = ").push_bind(s.clone());
    }
    if let Some(q) = f.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        let escaped = q.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
        qb.push(" AND v.search_text LIKE ").push_bind(format!("%{escaped}%")).push(" ESCAPE '\\'");
    }
}

fn advisory_from_row(r: &SqliteRow) -> Result<AdvisoryRow> {
    let draft: String = r.get("draft");
    Ok(AdvisoryRow {
        id: r.get("id"),
        chain_id: r.get("chain_id"),
        chain_identifier: r.get("chain_identifier"),
        sequence: r.get("sequence"),
        status: r.get("status"),
        author_org_id: r.get("author_org_id"),
        draft: serde_json::from_str(&draft).map_err(|e| StoreError::Corrupt(format!("advisory: {e}")))?,
        created_at: r.get("created_at"),
        issued_at: r.get("issued_at"),
    })
}

async fn get_advisory(c: &mut SqliteConnection, scope: &ReadScope, id: &str) -> Result<Option<AdvisoryRow>> {
    let mut qb = scoped(COLUMNS, scope);
    qb.push(" AND v.id = ").push_bind(id.to_string());
    let row = qb.build().fetch_optional(c).await?;
    row.as_ref().map(advisory_from_row).transpose()
}

fn hop_from_row(r: &SqliteRow) -> Result<HopRow> {
    let tlp: String = r.get("tlp");
    Ok(HopRow {
        id: r.get("id"),
        from_org_id: r.get("from_org_id"),
        to_org_id: r.get("to_org_id"),
        tlp: Tlp::parse(&tlp).ok_or_else(|| StoreError::Corrupt(format!("tlp {tlp}")))?,
        copy: r.get("copy"),
        created_at: r.get("created_at"),
    })
}

/// Joins a child table to the reader rows of its advisory, so children of what the scope
/// cannot read are never returned.
fn scoped_children(table: &str, scope: &ReadScope, advisory_id: &str) -> QueryBuilder<'static, Sqlite> {
    let mut qb = QueryBuilder::new(format!(
        "SELECT t.* FROM {table} t JOIN advisory_access a ON a.advisory_id = t.advisory_id WHERE a.org_id = "
    ));
    qb.push_bind(scope.org_id().to_string())
        .push(" AND (a.need_to_know = 0 OR ")
        .push_bind(scope.need_to_know())
        .push(") AND t.advisory_id = ")
        .push_bind(advisory_id.to_string());
    qb
}

async fn hops_of(c: &mut SqliteConnection, scope: &ReadScope, advisory_id: &str) -> Result<Vec<HopRow>> {
    let mut qb = scoped_children("advisory_hops", scope, advisory_id);
    qb.push(" ORDER BY t.created_at, t.to_org_id");
    qb.build().fetch_all(c).await?.iter().map(hop_from_row).collect()
}

impl Store {
    pub async fn get_advisory(&self, scope: &ReadScope, id: &str) -> Result<Option<AdvisoryRow>> {
        get_advisory(&mut *self.reader.acquire().await?, scope, id).await
    }

    pub async fn list_advisories(
        &self,
        scope: &ReadScope,
        f: &AdvisoryFilter,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<AdvisoryRow>> {
        let mut qb = scoped(COLUMNS, scope);
        push_filter(&mut qb, f);
        qb.push(" ORDER BY v.created_at DESC, v.id DESC LIMIT ")
            .push_bind(limit.clamp(1, crate::MAX_PAGE))
            .push(" OFFSET ")
            .push_bind(offset.max(0));
        qb.build().fetch_all(&self.reader).await?.iter().map(advisory_from_row).collect()
    }

    pub async fn count_advisories(&self, scope: &ReadScope, f: &AdvisoryFilter) -> Result<i64> {
        let mut qb = scoped("SELECT COUNT(*)", scope);
        push_filter(&mut qb, f);
        Ok(qb.build_query_scalar().fetch_one(&self.reader).await?)
    }

    pub async fn hops_of(&self, scope: &ReadScope, advisory_id: &str) -> Result<Vec<HopRow>> {
        hops_of(&mut *self.reader.acquire().await?, scope, advisory_id).await
    }

    pub async fn acks_of(&self, scope: &ReadScope, advisory_id: &str) -> Result<Vec<AckRow>> {
        let mut qb = scoped_children("advisory_acks", scope, advisory_id);
        qb.push(" ORDER BY t.created_at");
        Ok(qb
            .build()
            .fetch_all(&self.reader)
            .await?
            .iter()
            .map(|r| AckRow {
                org_id: r.get("org_id"),
                user_id: r.get("user_id"),
                status: r.get("status"),
                comment: r.get("comment"),
                created_at: r.get("created_at"),
            })
            .collect())
    }

    pub async fn questions_of(&self, scope: &ReadScope, advisory_id: &str) -> Result<Vec<QuestionRow>> {
        let mut qb = scoped_children("advisory_questions", scope, advisory_id);
        qb.push(" ORDER BY t.created_at, t.id");
        Ok(qb
            .build()
            .fetch_all(&self.reader)
            .await?
            .iter()
            .map(|r| QuestionRow {
                id: r.get("id"),
                author_org_id: r.get("author_org_id"),
                text: r.get("text"),
                created_at: r.get("created_at"),
            })
            .collect())
    }

    /// Scope-widening requests the scope's organisation takes part in: the advisory's author,
    /// the secretariat of an anonymised chain, and the originator once the request reaches it.
    pub async fn list_widenings(&self, scope: &ReadScope) -> Result<Vec<WideningRow>> {
        let rows = sqlx::query(WIDENING_SELECT_VISIBLE).bind(scope.org_id()).fetch_all(&self.reader).await?;
        Ok(rows.iter().map(widening_from_row).collect())
    }
}

const WIDENING_SELECT: &str = "SELECT w.*, v.author_org_id, c.originator_org_id, c.secretariat_org_id
    FROM scope_widenings w JOIN advisories v ON v.id = w.advisory_id JOIN chains c ON c.id = w.chain_id";

const WIDENING_SELECT_VISIBLE: &str = "SELECT w.*, v.author_org_id, c.originator_org_id, c.secretariat_org_id
    FROM scope_widenings w JOIN advisories v ON v.id = w.advisory_id JOIN chains c ON c.id = w.chain_id
    WHERE v.author_org_id = ?1 OR c.secretariat_org_id = ?1
       OR (c.originator_org_id = ?1 AND w.status != 'at_secretariat')
    ORDER BY w.requested_at DESC";

fn widening_from_row(r: &SqliteRow) -> WideningRow {
    WideningRow {
        id: r.get("id"),
        advisory_id: r.get("advisory_id"),
        report_id: r.get("report_id"),
        chain_id: r.get("chain_id"),
        status: r.get("status"),
        requested_at: r.get("requested_at"),
        answered_at: r.get("answered_at"),
        answered_by: r.get("answered_by"),
        author_org_id: r.get("author_org_id"),
        originator_org_id: r.get("originator_org_id"),
        secretariat_org_id: r.get("secretariat_org_id"),
    }
}

impl Tx {
    pub async fn get_advisory(&mut self, scope: &ReadScope, id: &str) -> Result<Option<AdvisoryRow>> {
        get_advisory(&mut self.inner, scope, id).await
    }

    pub async fn hops_of(&mut self, scope: &ReadScope, advisory_id: &str) -> Result<Vec<HopRow>> {
        hops_of(&mut self.inner, scope, advisory_id).await
    }

    /// Every advisory's id and form, for recomputing readers after reference data changed
    /// (not a read path: nothing here reaches a user).
    pub async fn all_advisory_forms(&mut self) -> Result<Vec<(String, AdvisoryDraft)>> {
        let rows = sqlx::query("SELECT id, draft FROM advisories").fetch_all(&mut *self.inner).await?;
        rows.iter()
            .map(|r| {
                let draft: String = r.get("draft");
                let d = serde_json::from_str(&draft).map_err(|e| StoreError::Corrupt(format!("advisory: {e}")))?;
                Ok((r.get("id"), d))
            })
            .collect()
    }

    /// Every hop of an advisory, for recomputing its readers (not a read path).
    pub async fn all_hops(&mut self, advisory_id: &str) -> Result<Vec<HopRow>> {
        let rows = sqlx::query("SELECT * FROM advisory_hops WHERE advisory_id = ? ORDER BY created_at")
            .bind(advisory_id)
            .fetch_all(&mut *self.inner)
            .await?;
        rows.iter().map(hop_from_row).collect()
    }

    pub async fn insert_advisory_chain(&mut self, id: &str, at: &str) -> Result<()> {
        sqlx::query("INSERT INTO advisory_chains (id, created_at) VALUES (?, ?)")
            .bind(id)
            .bind(at)
            .execute(&mut *self.inner)
            .await?;
        Ok(())
    }

    pub async fn max_advisory_sequence(&mut self, chain_id: &str) -> Result<i64> {
        let n: Option<i64> = sqlx::query_scalar("SELECT MAX(sequence) FROM advisories WHERE chain_id = ?")
            .bind(chain_id)
            .fetch_one(&mut *self.inner)
            .await?;
        Ok(n.unwrap_or(0))
    }

    /// Inserts or replaces the advisory's form and sources, and its readers.
    pub async fn save_advisory(&mut self, a: &AdvisoryRow, created_by: &str, grants: &AccessGrants) -> Result<()> {
        sqlx::query(
            "INSERT INTO advisories (id, chain_id, sequence, status, tlp, severity, urgent, draft, search_text,
               author_org_id, created_by, created_at, issued_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (id) DO UPDATE SET status = excluded.status, tlp = excluded.tlp, severity = excluded.severity,
               urgent = excluded.urgent, draft = excluded.draft, search_text = excluded.search_text,
               issued_at = excluded.issued_at",
        )
        .bind(&a.id)
        .bind(&a.chain_id)
        .bind(a.sequence)
        .bind(&a.status)
        .bind(a.draft.tlp.code())
        .bind(a.draft.severity.map(|s| s.code()))
        .bind(a.draft.urgent)
        .bind(serde_json::to_string(&a.draft).expect("draft serialises"))
        .bind(a.draft.search_text())
        .bind(&a.author_org_id)
        .bind(created_by)
        .bind(&a.created_at)
        .bind(&a.issued_at)
        .execute(&mut *self.inner)
        .await?;
        sqlx::query("DELETE FROM advisory_sources WHERE advisory_id = ?").bind(&a.id).execute(&mut *self.inner).await?;
        for report in &a.draft.source_report_ids {
            sqlx::query("INSERT INTO advisory_sources (advisory_id, report_id) VALUES (?, ?)")
                .bind(&a.id)
                .bind(report)
                .execute(&mut *self.inner)
                .await?;
        }
        self.replace_advisory_access(&a.id, grants).await
    }

    pub async fn replace_advisory_access(&mut self, advisory_id: &str, grants: &AccessGrants) -> Result<()> {
        sqlx::query("DELETE FROM advisory_access WHERE advisory_id = ?")
            .bind(advisory_id)
            .execute(&mut *self.inner)
            .await?;
        for (org_id, ntk) in grants.rows() {
            sqlx::query("INSERT INTO advisory_access (org_id, advisory_id, need_to_know) VALUES (?, ?, ?)")
                .bind(org_id)
                .bind(advisory_id)
                .bind(ntk)
                .execute(&mut *self.inner)
                .await?;
        }
        Ok(())
    }

    pub async fn set_advisory_chain_identifier(&mut self, chain_id: &str, identifier: &str) -> Result<()> {
        sqlx::query("UPDATE advisory_chains SET identifier = ? WHERE id = ? AND identifier IS NULL")
            .bind(identifier)
            .bind(chain_id)
            .execute(&mut *self.inner)
            .await?;
        Ok(())
    }

    pub async fn advisory_chain_identifier(&mut self, chain_id: &str) -> Result<Option<String>> {
        Ok(sqlx::query_scalar("SELECT identifier FROM advisory_chains WHERE id = ?")
            .bind(chain_id)
            .fetch_one(&mut *self.inner)
            .await?)
    }

    /// Records one delivery; false when the organisation already received this advisory.
    pub async fn insert_advisory_hop(&mut self, advisory_id: &str, hop: &HopRow) -> Result<bool> {
        let done = sqlx::query(
            "INSERT OR IGNORE INTO advisory_hops (id, advisory_id, from_org_id, to_org_id, tlp, copy, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&hop.id)
        .bind(advisory_id)
        .bind(&hop.from_org_id)
        .bind(&hop.to_org_id)
        .bind(hop.tlp.code())
        .bind(hop.copy)
        .bind(&hop.created_at)
        .execute(&mut *self.inner)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn upsert_ack(&mut self, advisory_id: &str, ack: &AckRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO advisory_acks (advisory_id, org_id, user_id, status, comment, created_at) VALUES (?, ?, ?, ?, ?, ?)
             ON CONFLICT (advisory_id, org_id) DO UPDATE SET user_id = excluded.user_id, status = excluded.status,
               comment = excluded.comment, created_at = excluded.created_at",
        )
        .bind(advisory_id)
        .bind(&ack.org_id)
        .bind(&ack.user_id)
        .bind(&ack.status)
        .bind(&ack.comment)
        .bind(&ack.created_at)
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }

    pub async fn insert_question(&mut self, advisory_id: &str, q: &QuestionRow, author_id: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO advisory_questions (id, advisory_id, author_org_id, author_id, text, created_at) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(&q.id)
        .bind(advisory_id)
        .bind(&q.author_org_id)
        .bind(author_id)
        .bind(&q.text)
        .bind(&q.created_at)
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }

    pub async fn insert_widening(&mut self, w: &WideningRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO scope_widenings (id, advisory_id, report_id, chain_id, status, requested_at) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(&w.id)
        .bind(&w.advisory_id)
        .bind(&w.report_id)
        .bind(&w.chain_id)
        .bind(&w.status)
        .bind(&w.requested_at)
        .execute(&mut *self.inner)
        .await
        .map_err(crate::conflict_on_unique("scope widening for this advisory and report"))?;
        Ok(())
    }

    /// One request, for the organisation that takes part in it (else None).
    pub async fn get_widening(&mut self, scope: &ReadScope, id: &str) -> Result<Option<WideningRow>> {
        let sql = format!(
            "{WIDENING_SELECT} WHERE w.id = ?2 AND (v.author_org_id = ?1 OR c.secretariat_org_id = ?1
               OR (c.originator_org_id = ?1 AND w.status != 'at_secretariat'))"
        );
        let row = sqlx::query(&sql).bind(scope.org_id()).bind(id).fetch_optional(&mut *self.inner).await?;
        Ok(row.as_ref().map(widening_from_row))
    }

    pub async fn set_widening_status(&mut self, id: &str, status: &str, answered: Option<(&str, &str)>) -> Result<()> {
        sqlx::query(
            "UPDATE scope_widenings SET status = ?, answered_at = COALESCE(?, answered_at), answered_by = COALESCE(?, answered_by)
             WHERE id = ?",
        )
        .bind(status)
        .bind(answered.map(|a| a.0))
        .bind(answered.map(|a| a.1))
        .bind(id)
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }

    /// Granted widenings of an advisory, by source report.
    pub async fn granted_widenings(&mut self, advisory_id: &str) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar("SELECT report_id FROM scope_widenings WHERE advisory_id = ? AND status = 'granted'")
            .bind(advisory_id)
            .fetch_all(&mut *self.inner)
            .await?)
    }
}
