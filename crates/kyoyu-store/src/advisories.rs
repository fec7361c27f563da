//! Advisories (情報提供): drafts, hops of delivery, acknowledgments, questions, scope
//! widening. Item reads take a [`ReadScope`] and join the reader rows the policy wrote.

use crate::directory::{json_column, parse_code};
use crate::reports::{listed, push_identifier, push_newest_first, push_scope, push_search, scoped, Cursor, Listed};
use crate::{Conn, Get, Result, Store, StoreError, Tx};
use kyoyu_domain::advisory::AdvisoryDraft;
use kyoyu_domain::codes::{AckStatus, AdvisoryStatus, WideningStatus};
use kyoyu_domain::FreeText;
use kyoyu_domain::Tlp;
use kyoyu_policy::{AccessGrants, ReadScope};
use serde::{Deserialize, Serialize};
use sqlx::{Database, Encode, QueryBuilder, Type};

#[derive(Debug, Clone, PartialEq)]
pub struct AdvisoryRow {
    pub id: String,
    pub chain_id: String,
    pub chain_identifier: Option<String>,
    pub sequence: i64,
    pub status: AdvisoryStatus,
    pub author_org_id: String,
    pub draft: AdvisoryDraft,
    pub created_at: String,
    pub issued_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct HopRow {
    pub id: String,
    pub from_org_id: String,
    pub to_org_id: String,
    pub tlp: Tlp,
    pub copy: bool,
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AckRow {
    pub org_id: String,
    pub user_id: String,
    pub status: AckStatus,
    pub comment: String,
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
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
    pub status: WideningStatus,
    pub requested_at: String,
    pub answered_at: Option<String>,
    pub answered_by: Option<String>,
    pub author_org_id: String,
    pub originator_org_id: String,
    pub secretariat_org_id: Option<String>,
    /// What the request asks consent for: the advisory's TLP and recipients when asked.
    pub target_tlp: Option<Tlp>,
    pub target_recipients: Vec<kyoyu_domain::advisory::Recipient>,
}

impl WideningRow {
    /// What must be concealed about the request outside the operator and its secretariat.
    pub fn concealed(&self) -> Option<crate::Concealed> {
        self.secretariat_org_id
            .as_ref()
            .map(|s| crate::Concealed { org_id: self.originator_org_id.clone(), secretariat_id: Some(s.clone()) })
    }
}

/// Filters of `listAdvisories`.
#[derive(Debug, Clone, Default)]
pub struct AdvisoryFilter {
    pub identifier: Option<String>,
    pub tlp: Option<Tlp>,
    pub status: Option<AdvisoryStatus>,
    pub q: Option<String>,
}

const COLUMNS: &str =
    "SELECT v.id, v.chain_id, ch.identifier AS chain_identifier, v.sequence, v.status, v.author_org_id,
    v.draft, v.created_at, v.issued_at";
const FROM_SCOPED: &str = " FROM advisory_access a JOIN advisories v ON v.id = a.advisory_id
    JOIN advisory_chains ch ON ch.id = v.chain_id WHERE ";

fn push_filter<DB: Database>(qb: &mut QueryBuilder<'_, DB>, f: &AdvisoryFilter)
where
    for<'a> String: Encode<'a, DB> + Type<DB>,
    for<'a> i64: Encode<'a, DB> + Type<DB>,
{
    if let Some(ident) = &f.identifier {
        push_identifier(qb, "ch.identifier", "v.sequence", ident);
    }
    if let Some(t) = f.tlp {
        qb.push(" AND v.tlp = ").push_bind(t.code().to_string());
    }
    if let Some(s) = f.status {
        qb.push(" AND v.status = ").push_bind(s.code().to_string());
    }
    if let Some(q) = f.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        push_search(qb, "v.search_text", q);
    }
}

fn advisory_from_row(r: &impl Get) -> Result<AdvisoryRow> {
    Ok(AdvisoryRow {
        id: r.text("id")?,
        chain_id: r.text("chain_id")?,
        chain_identifier: r.opt_text("chain_identifier")?,
        sequence: r.int("sequence")?,
        status: parse_code("advisory status", &r.text("status")?, AdvisoryStatus::parse)?,
        author_org_id: r.text("author_org_id")?,
        draft: serde_json::from_str(&r.text("draft")?).map_err(|e| StoreError::Corrupt(format!("advisory: {e}")))?,
        created_at: r.text("created_at")?,
        issued_at: r.opt_text("issued_at")?,
    })
}

async fn get_advisory(c: Conn<'_>, scope: &ReadScope, id: &str) -> Result<Option<AdvisoryRow>> {
    on!(c, c => {
        let mut qb = scoped(COLUMNS, FROM_SCOPED, scope);
        qb.push(" AND v.id = ").push_bind(id.to_string());
        qb.build().fetch_optional(&mut *c).await?.as_ref().map(advisory_from_row).transpose()
    })
}

fn hop_from_row(r: &impl Get) -> Result<HopRow> {
    let tlp = r.text("tlp")?;
    Ok(HopRow {
        id: r.text("id")?,
        from_org_id: r.text("from_org_id")?,
        to_org_id: r.text("to_org_id")?,
        tlp: Tlp::parse(&tlp).ok_or_else(|| StoreError::Corrupt(format!("tlp {tlp}")))?,
        copy: r.flag("copy")?,
        created_at: r.text("created_at")?,
    })
}

/// Joins a child table to the reader rows of its advisory, so children of what the scope
/// cannot read are never returned.
fn scoped_children<DB: Database>(table: &str, scope: &ReadScope, advisory_ids: &[&str]) -> QueryBuilder<'static, DB>
where
    for<'a> String: Encode<'a, DB> + Type<DB>,
    for<'a> bool: Encode<'a, DB> + Type<DB>,
{
    let mut qb = QueryBuilder::new(format!(
        "SELECT t.* FROM {table} t JOIN advisory_access a ON a.advisory_id = t.advisory_id WHERE "
    ));
    push_scope(&mut qb, scope);
    qb.push(" AND t.advisory_id IN (");
    let mut ids = qb.separated(", ");
    for id in advisory_ids {
        ids.push_bind(id.to_string());
    }
    qb.push(")");
    qb
}

/// Children of several advisories, each with its advisory's id.
type Children<T> = Vec<(String, T)>;

/// The children of one advisory, without its id.
fn only_of<T>(children: Children<T>) -> Vec<T> {
    children.into_iter().map(|(_, child)| child).collect()
}

fn ack_from_row(r: &impl Get) -> Result<AckRow> {
    Ok(AckRow {
        org_id: r.text("org_id")?,
        user_id: r.text("user_id")?,
        status: parse_code("acknowledgment status", &r.text("status")?, AckStatus::parse)?,
        comment: r.text("comment")?,
        created_at: r.text("created_at")?,
    })
}

fn question_from_row(r: &impl Get) -> Result<QuestionRow> {
    Ok(QuestionRow {
        id: r.text("id")?,
        author_org_id: r.text("author_org_id")?,
        text: r.text("text")?,
        created_at: r.text("created_at")?,
    })
}

async fn hops_of(c: Conn<'_>, scope: &ReadScope, advisory_ids: &[&str]) -> Result<Children<HopRow>> {
    if advisory_ids.is_empty() {
        return Ok(Vec::new());
    }
    on!(c, c => {
        let mut qb = scoped_children("advisory_hops", scope, advisory_ids);
        qb.push(" ORDER BY t.created_at, t.to_org_id");
        qb.build().fetch_all(&mut *c).await?.iter().map(|r| Ok((r.text("advisory_id")?, hop_from_row(r)?))).collect()
    })
}

async fn acks_of(c: Conn<'_>, scope: &ReadScope, advisory_ids: &[&str]) -> Result<Children<AckRow>> {
    if advisory_ids.is_empty() {
        return Ok(Vec::new());
    }
    on!(c, c => {
        let mut qb = scoped_children("advisory_acks", scope, advisory_ids);
        qb.push(" ORDER BY t.created_at");
        qb.build().fetch_all(&mut *c).await?.iter().map(|r| Ok((r.text("advisory_id")?, ack_from_row(r)?))).collect()
    })
}

impl Store {
    pub async fn get_advisory(&self, scope: &ReadScope, id: &str) -> Result<Option<AdvisoryRow>> {
        get_advisory(self.read().await?.conn(), scope, id).await
    }

    /// A page of what the scope may read, newest first: from `offset`, or just after
    /// `after` (keyset).
    pub async fn list_advisories(
        &self,
        scope: &ReadScope,
        f: &AdvisoryFilter,
        limit: i64,
        offset: i64,
        after: Option<&Cursor>,
    ) -> Result<Listed<AdvisoryRow>> {
        let limit = limit.clamp(1, crate::MAX_PAGE);
        on!(self.read().await?.conn(), c => {
            let mut qb = scoped(&format!("{COLUMNS}, a.created_at AS listed_at"), FROM_SCOPED, scope);
            push_filter(&mut qb, f);
            push_newest_first(&mut qb, ("a.created_at", "a.advisory_id"), limit, offset, after);
            listed(qb.build().fetch_all(&mut *c).await?, limit, advisory_from_row)
        })
    }

    pub async fn count_advisories(&self, scope: &ReadScope, f: &AdvisoryFilter) -> Result<i64> {
        on!(self.read().await?.conn(), c => {
            let mut qb = scoped("SELECT COUNT(*)", FROM_SCOPED, scope);
            push_filter(&mut qb, f);
            Ok(qb.build_query_scalar().fetch_one(&mut *c).await?)
        })
    }

    pub async fn hops_of(&self, scope: &ReadScope, advisory_id: &str) -> Result<Vec<HopRow>> {
        hops_of(self.read().await?.conn(), scope, &[advisory_id]).await.map(only_of)
    }

    /// The deliveries of several advisories in one query (a list's page), each with its id.
    pub async fn hops_of_many(&self, scope: &ReadScope, advisory_ids: &[&str]) -> Result<Children<HopRow>> {
        hops_of(self.read().await?.conn(), scope, advisory_ids).await
    }

    pub async fn acks_of(&self, scope: &ReadScope, advisory_id: &str) -> Result<Vec<AckRow>> {
        acks_of(self.read().await?.conn(), scope, &[advisory_id]).await.map(only_of)
    }

    /// The acknowledgments of several advisories in one query, each with its advisory's id.
    pub async fn acks_of_many(&self, scope: &ReadScope, advisory_ids: &[&str]) -> Result<Children<AckRow>> {
        acks_of(self.read().await?.conn(), scope, advisory_ids).await
    }

    pub async fn questions_of(&self, scope: &ReadScope, advisory_id: &str) -> Result<Vec<QuestionRow>> {
        on!(self.read().await?.conn(), c => {
            let mut qb = scoped_children("advisory_questions", scope, &[advisory_id]);
            qb.push(" ORDER BY t.created_at, t.id");
            qb.build().fetch_all(&mut *c).await?.iter().map(question_from_row).collect()
        })
    }

    /// Scope-widening requests the scope's organisation takes part in: the advisory's author,
    /// the secretariat of an anonymised chain, and the originator once the request reaches it.
    pub async fn list_widenings(&self, scope: &ReadScope) -> Result<Vec<WideningRow>> {
        let sql = format!("{WIDENING_SELECT} WHERE {WIDENING_VISIBLE} ORDER BY w.requested_at DESC");
        on!(self.read().await?.conn(), c => sqlx::query(&sql).bind(scope.org_id()).fetch_all(&mut *c).await?.iter().map(widening_from_row).collect())
    }
}

const WIDENING_SELECT: &str = "SELECT w.*, v.author_org_id, c.originator_org_id, c.secretariat_org_id
    FROM scope_widenings w JOIN advisories v ON v.id = w.advisory_id JOIN chains c ON c.id = w.chain_id";

/// Who takes part in a widening request ($1 is the organisation; the operator from the
/// moment its secretariat passes the request on).
const WIDENING_VISIBLE: &str = "(v.author_org_id = $1 OR c.secretariat_org_id = $1
       OR (c.originator_org_id = $1 AND w.status != 'at_secretariat'))";

fn widening_from_row(r: &impl Get) -> Result<WideningRow> {
    Ok(WideningRow {
        id: r.text("id")?,
        advisory_id: r.text("advisory_id")?,
        report_id: r.text("report_id")?,
        chain_id: r.text("chain_id")?,
        status: parse_code("widening status", &r.text("status")?, WideningStatus::parse)?,
        requested_at: r.text("requested_at")?,
        answered_at: r.opt_text("answered_at")?,
        answered_by: r.opt_text("answered_by")?,
        author_org_id: r.text("author_org_id")?,
        originator_org_id: r.text("originator_org_id")?,
        secretariat_org_id: r.opt_text("secretariat_org_id")?,
        target_tlp: r.opt_text("target_tlp")?.map(|t| parse_code("tlp", &t, Tlp::parse)).transpose()?,
        target_recipients: r
            .opt_text("target_recipients")?
            .map(|t| json_column("widening recipients", &t))
            .transpose()?
            .unwrap_or_default(),
    })
}

impl Tx {
    pub async fn get_advisory(&mut self, scope: &ReadScope, id: &str) -> Result<Option<AdvisoryRow>> {
        get_advisory(self.conn().await?, scope, id).await
    }

    pub async fn hops_of(&mut self, scope: &ReadScope, advisory_id: &str) -> Result<Vec<HopRow>> {
        hops_of(self.conn().await?, scope, &[advisory_id]).await.map(only_of)
    }

    /// Every advisory's id and form, for recomputing readers after reference data changed
    /// (not a read path: nothing here reaches a user).
    pub async fn all_advisory_forms(&mut self) -> Result<Vec<(String, AdvisoryDraft)>> {
        let rows: Vec<(String, String)> =
            on!(self.conn().await?, c => sqlx::query_as("SELECT id, draft FROM advisories").fetch_all(&mut *c).await?);
        rows.into_iter()
            .map(|(id, draft)| {
                let d = serde_json::from_str(&draft).map_err(|e| StoreError::Corrupt(format!("advisory: {e}")))?;
                Ok((id, d))
            })
            .collect()
    }

    /// Every hop of an advisory, for recomputing its readers (not a read path).
    pub async fn all_hops(&mut self, advisory_id: &str) -> Result<Vec<HopRow>> {
        let sql = "SELECT * FROM advisory_hops WHERE advisory_id = $1 ORDER BY created_at";
        on!(self.conn().await?, c => sqlx::query(sql).bind(advisory_id).fetch_all(&mut *c).await?.iter().map(hop_from_row).collect())
    }

    pub async fn insert_advisory_chain(&mut self, id: &str, at: &str) -> Result<()> {
        let sql = "INSERT INTO advisory_chains (id, created_at) VALUES ($1, $2)";
        on!(self.conn().await?, c => sqlx::query(sql).bind(id).bind(at).execute(&mut *c).await?.rows_affected());
        Ok(())
    }

    pub async fn max_advisory_sequence(&mut self, chain_id: &str) -> Result<i64> {
        let sql = "SELECT MAX(sequence) FROM advisories WHERE chain_id = $1";
        let n: Option<i64> =
            on!(self.conn().await?, c => sqlx::query_scalar(sql).bind(chain_id).fetch_one(&mut *c).await?);
        Ok(n.unwrap_or(0))
    }

    /// Inserts or replaces the advisory's form and sources, and its readers.
    pub async fn save_advisory(&mut self, a: &AdvisoryRow, created_by: &str, grants: &AccessGrants) -> Result<()> {
        let sql = "INSERT INTO advisories (id, chain_id, sequence, status, tlp, severity, urgent, draft, search_text,
               author_org_id, created_by, created_at, issued_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
             ON CONFLICT (id) DO UPDATE SET status = excluded.status, tlp = excluded.tlp, severity = excluded.severity,
               urgent = excluded.urgent, draft = excluded.draft, search_text = excluded.search_text,
               issued_at = excluded.issued_at";
        let draft = serde_json::to_string(&a.draft).expect("draft serialises");
        let search = a.draft.search_text();
        on!(self.conn().await?, c => sqlx::query(sql)
            .bind(&a.id)
            .bind(&a.chain_id)
            .bind(a.sequence)
            .bind(a.status.code())
            .bind(a.draft.tlp.code())
            .bind(a.draft.severity.map(|s| s.code()))
            .bind(a.draft.urgent)
            .bind(&draft)
            .bind(&search)
            .bind(&a.author_org_id)
            .bind(created_by)
            .bind(&a.created_at)
            .bind(&a.issued_at)
            .execute(&mut *c)
            .await?
            .rows_affected());
        on!(self.conn().await?, c => sqlx::query("DELETE FROM advisory_sources WHERE advisory_id = $1").bind(&a.id).execute(&mut *c).await?.rows_affected());
        for report in &a.draft.source_report_ids {
            let sql = "INSERT INTO advisory_sources (advisory_id, report_id) VALUES ($1, $2)";
            on!(self.conn().await?, c => sqlx::query(sql).bind(&a.id).bind(report).execute(&mut *c).await?.rows_affected());
        }
        self.replace_advisory_access(&a.id, grants).await
    }

    pub async fn replace_advisory_access(&mut self, advisory_id: &str, grants: &AccessGrants) -> Result<()> {
        self.replace_readers(crate::reports::Readers::Item(crate::ItemRef::Advisory(advisory_id)), grants).await
    }

    pub async fn set_advisory_chain_identifier(&mut self, chain_id: &str, identifier: &str) -> Result<()> {
        let sql = "UPDATE advisory_chains SET identifier = $1 WHERE id = $2 AND identifier IS NULL";
        on!(self.conn().await?, c => sqlx::query(sql).bind(identifier).bind(chain_id).execute(&mut *c).await?.rows_affected());
        Ok(())
    }

    pub async fn advisory_chain_identifier(&mut self, chain_id: &str) -> Result<Option<String>> {
        let sql = "SELECT identifier FROM advisory_chains WHERE id = $1";
        on!(self.conn().await?, c => Ok(sqlx::query_scalar(sql).bind(chain_id).fetch_one(&mut *c).await?))
    }

    /// Records one delivery; false when the organisation already received this advisory.
    pub async fn insert_advisory_hop(&mut self, advisory_id: &str, hop: &HopRow) -> Result<bool> {
        let sql = "INSERT INTO advisory_hops (id, advisory_id, from_org_id, to_org_id, tlp, copy, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING";
        let n = on!(self.conn().await?, c => sqlx::query(sql)
            .bind(&hop.id)
            .bind(advisory_id)
            .bind(&hop.from_org_id)
            .bind(&hop.to_org_id)
            .bind(hop.tlp.code())
            .bind(hop.copy)
            .bind(&hop.created_at)
            .execute(&mut *c)
            .await?
            .rows_affected());
        Ok(n == 1)
    }

    pub async fn upsert_ack(&mut self, advisory_id: &str, ack: &AckRow) -> Result<()> {
        let sql = "INSERT INTO advisory_acks (advisory_id, org_id, user_id, status, comment, created_at) VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (advisory_id, org_id) DO UPDATE SET user_id = excluded.user_id, status = excluded.status,
               comment = excluded.comment, created_at = excluded.created_at";
        on!(self.conn().await?, c => sqlx::query(sql)
            .bind(advisory_id)
            .bind(&ack.org_id)
            .bind(&ack.user_id)
            .bind(ack.status.code())
            .bind(&ack.comment)
            .bind(&ack.created_at)
            .execute(&mut *c)
            .await?
            .rows_affected());
        Ok(())
    }

    pub async fn insert_question(&mut self, advisory_id: &str, q: &QuestionRow, author_id: &str) -> Result<()> {
        let sql = "INSERT INTO advisory_questions (id, advisory_id, author_org_id, author_id, text, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)";
        on!(self.conn().await?, c => sqlx::query(sql)
            .bind(&q.id)
            .bind(advisory_id)
            .bind(&q.author_org_id)
            .bind(author_id)
            .bind(&q.text)
            .bind(&q.created_at)
            .execute(&mut *c)
            .await?
            .rows_affected());
        Ok(())
    }

    pub async fn insert_widening(&mut self, w: &WideningRow) -> Result<()> {
        let sql = "INSERT INTO scope_widenings (id, advisory_id, report_id, chain_id, status, requested_at, target_tlp, target_recipients)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
        let recipients = serde_json::to_string(&w.target_recipients).expect("recipients serialise");
        on!(self.conn().await?, c => sqlx::query(sql)
            .bind(&w.id)
            .bind(&w.advisory_id)
            .bind(&w.report_id)
            .bind(&w.chain_id)
            .bind(w.status.code())
            .bind(&w.requested_at)
            .bind(w.target_tlp.map(Tlp::code))
            .bind(&recipients)
            .execute(&mut *c)
            .await
            .map_err(crate::conflict_on_unique("scope widening for this advisory and report"))?
            .rows_affected());
        Ok(())
    }

    /// One request, for the organisation that takes part in it (else None).
    pub async fn get_widening(&mut self, scope: &ReadScope, id: &str) -> Result<Option<WideningRow>> {
        let sql = format!("{WIDENING_SELECT} WHERE w.id = $2 AND {WIDENING_VISIBLE}");
        on!(self.conn().await?, c => sqlx::query(&sql).bind(scope.org_id()).bind(id).fetch_optional(&mut *c).await?.as_ref().map(widening_from_row).transpose())
    }

    /// Moves a request from status `from` to `status`; false when another request moved it
    /// first (the caller answers 409), so concurrent answers act once.
    pub async fn set_widening_status(
        &mut self,
        id: &str,
        from: WideningStatus,
        status: WideningStatus,
        answered: Option<(&str, &str)>,
    ) -> Result<bool> {
        let sql = "UPDATE scope_widenings SET status = $1, answered_at = COALESCE($2, answered_at),
               answered_by = COALESCE($3, answered_by) WHERE id = $4 AND status = $5";
        let n = on!(self.conn().await?, c => sqlx::query(sql)
            .bind(status.code())
            .bind(answered.map(|a| a.0))
            .bind(answered.map(|a| a.1))
            .bind(id)
            .bind(from.code())
            .execute(&mut *c)
            .await?
            .rows_affected());
        Ok(n == 1)
    }

    /// Granted widenings of an advisory, with what each consented to.
    pub async fn granted_widenings(&mut self, advisory_id: &str) -> Result<Vec<WideningRow>> {
        let sql = format!("{WIDENING_SELECT} WHERE w.advisory_id = $1 AND w.status = $2");
        on!(self.conn().await?, c => sqlx::query(&sql).bind(advisory_id).bind(WideningStatus::Granted.code()).fetch_all(&mut *c).await?.iter().map(widening_from_row).collect())
    }

    /// Moves a draft to issued; false when a concurrent issue got there first.
    pub async fn claim_issue(&mut self, advisory_id: &str) -> Result<bool> {
        let sql = "UPDATE advisories SET status = $2 WHERE id = $1 AND status = $3";
        let (issued, draft) = (AdvisoryStatus::Issued.code(), AdvisoryStatus::Draft.code());
        Ok(
            on!(self.conn().await?, c => sqlx::query(sql).bind(advisory_id).bind(issued).bind(draft).execute(&mut *c).await?.rows_affected())
                == 1,
        )
    }

    /// Locks the advisory's row for the rest of the transaction (a no-op update), so
    /// concurrent relays of one advisory run one after the other.
    pub async fn lock_advisory(&mut self, advisory_id: &str) -> Result<()> {
        let sql = "UPDATE advisories SET status = status WHERE id = $1";
        on!(self.conn().await?, c => sqlx::query(sql).bind(advisory_id).execute(&mut *c).await?.rows_affected());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_visibility_rule_names_a_status_that_exists() {
        let code = WideningStatus::AtSecretariat.code();
        assert!(WIDENING_VISIBLE.contains(&format!("w.status != '{code}'")));
    }
}
