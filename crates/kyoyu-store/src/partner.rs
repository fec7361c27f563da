//! Partner information (情報の提供, 004 3.1): chains numbered P2026-0001, their items, the
//! coordinator's shares, and the reader rows the policy grants. Reads take a [`ReadScope`].

use crate::reports::{listed, push_identifier, push_newest_first, push_search, scoped, Cursor, Listed, Readers};
use crate::{Conn, Get, Result, Store, StoreError, Tx};
use kyoyu_domain::partner::PartnerContent;
use kyoyu_domain::{FreeText, Tlp};
use kyoyu_policy::{AccessGrants, ReadScope};
use sqlx::{Database, Encode, QueryBuilder, Type};
use std::collections::HashMap;

/// One item of partner information: the first of its chain, or a follow-up.
#[derive(Debug, Clone, PartialEq)]
pub struct PartnerRow {
    pub id: String,
    pub chain_id: String,
    pub identifier: String,
    pub sequence: i64,
    pub sender_org_id: String,
    pub content: PartnerContent,
    pub created_at: String,
}

/// Filters of `listPartnerInformation`.
#[derive(Debug, Clone, Default)]
pub struct PartnerFilter {
    pub identifier: Option<String>,
    pub tlp: Option<Tlp>,
    pub q: Option<String>,
}

const COLUMNS: &str = "SELECT p.id, p.chain_id, ch.identifier, p.sequence, ch.sender_org_id, p.content, p.created_at";
const FROM_SCOPED: &str = " FROM partner_access a JOIN partner_information p ON p.id = a.partner_id
    JOIN partner_chains ch ON ch.id = p.chain_id WHERE ";

fn push_filter<DB: Database>(qb: &mut QueryBuilder<'_, DB>, f: &PartnerFilter)
where
    for<'a> String: Encode<'a, DB> + Type<DB>,
    for<'a> i64: Encode<'a, DB> + Type<DB>,
{
    if let Some(ident) = &f.identifier {
        push_identifier(qb, "ch.identifier", "p.sequence", ident);
    }
    if let Some(t) = f.tlp {
        qb.push(" AND p.tlp = ").push_bind(t.code().to_string());
    }
    if let Some(q) = f.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        push_search(qb, "p.search_text", q);
    }
}

fn partner_from_row(r: &impl Get) -> Result<PartnerRow> {
    Ok(PartnerRow {
        id: r.text("id")?,
        chain_id: r.text("chain_id")?,
        identifier: r.text("identifier")?,
        sequence: r.int("sequence")?,
        sender_org_id: r.text("sender_org_id")?,
        content: serde_json::from_str(&r.text("content")?)
            .map_err(|e| StoreError::Corrupt(format!("partner information: {e}")))?,
        created_at: r.text("created_at")?,
    })
}

async fn get_partner(c: Conn<'_>, scope: &ReadScope, id: &str) -> Result<Option<PartnerRow>> {
    on!(c, c => {
        let mut qb = scoped(COLUMNS, FROM_SCOPED, scope);
        qb.push(" AND p.id = ").push_bind(id.to_string());
        qb.build().fetch_optional(&mut *c).await?.as_ref().map(partner_from_row).transpose()
    })
}

const SHARES: &str = "SELECT org_id FROM partner_shares WHERE partner_id = $1 ORDER BY org_id";

impl Store {
    pub async fn get_partner(&self, scope: &ReadScope, id: &str) -> Result<Option<PartnerRow>> {
        get_partner(self.read().await?.conn(), scope, id).await
    }

    /// A page of what the scope may read, newest first: from `offset`, or just after `after`.
    pub async fn list_partner(
        &self,
        scope: &ReadScope,
        f: &PartnerFilter,
        limit: i64,
        offset: i64,
        after: Option<&Cursor>,
    ) -> Result<Listed<PartnerRow>> {
        let limit = limit.clamp(1, crate::MAX_PAGE);
        on!(self.read().await?.conn(), c => {
            let mut qb = scoped(&format!("{COLUMNS}, a.created_at AS listed_at"), FROM_SCOPED, scope);
            push_filter(&mut qb, f);
            push_newest_first(&mut qb, ("a.created_at", "a.partner_id"), limit, offset, after);
            listed(qb.build().fetch_all(&mut *c).await?, limit, partner_from_row)
        })
    }

    pub async fn count_partner(&self, scope: &ReadScope, f: &PartnerFilter) -> Result<i64> {
        on!(self.read().await?.conn(), c => {
            let mut qb = scoped("SELECT COUNT(*)", FROM_SCOPED, scope);
            push_filter(&mut qb, f);
            Ok(qb.build_query_scalar().fetch_one(&mut *c).await?)
        })
    }

    /// Whom an item was shared with; ask only about one the caller read.
    pub async fn partner_shares(&self, id: &str) -> Result<Vec<String>> {
        on!(self.read().await?.conn(), c => Ok(sqlx::query_scalar(SHARES).bind(id).fetch_all(&mut *c).await?))
    }

    /// The shares of several items (a list's page) in one query; ask only about items the
    /// caller read.
    pub async fn partner_shares_of_many(&self, ids: &[&str]) -> Result<HashMap<String, Vec<String>>> {
        let mut by_item: HashMap<String, Vec<String>> = HashMap::new();
        if ids.is_empty() {
            return Ok(by_item);
        }
        let rows: Vec<(String, String)> = on!(self.read().await?.conn(), c => {
            let mut qb = QueryBuilder::new("SELECT partner_id, org_id FROM partner_shares WHERE partner_id IN (");
            let mut each = qb.separated(", ");
            for id in ids {
                each.push_bind(id.to_string());
            }
            qb.push(") ORDER BY 1, 2");
            qb.build_query_as().fetch_all(&mut *c).await?
        });
        for (id, org) in rows {
            by_item.entry(id).or_default().push(org);
        }
        Ok(by_item)
    }
}

impl Tx {
    pub async fn get_partner(&mut self, scope: &ReadScope, id: &str) -> Result<Option<PartnerRow>> {
        get_partner(self.conn().await?, scope, id).await
    }

    pub async fn partner_shares(&mut self, id: &str) -> Result<Vec<String>> {
        on!(self.conn().await?, c => Ok(sqlx::query_scalar(SHARES).bind(id).fetch_all(&mut *c).await?))
    }

    /// Holds the chain until commit, so follow-ups of one chain number one after another.
    pub async fn lock_partner_chain(&mut self, chain_id: &str) -> Result<()> {
        let sql = "UPDATE partner_chains SET identifier = identifier WHERE id = $1";
        on!(self.conn().await?, c => sqlx::query(sql).bind(chain_id).execute(&mut *c).await?.rows_affected());
        Ok(())
    }

    pub async fn insert_partner_chain(&mut self, id: &str, identifier: &str, sender: &str, at: &str) -> Result<()> {
        let sql = "INSERT INTO partner_chains (id, identifier, sender_org_id, created_at) VALUES ($1, $2, $3, $4)";
        on!(self.conn().await?, c => sqlx::query(sql).bind(id).bind(identifier).bind(sender).bind(at).execute(&mut *c).await?.rows_affected());
        Ok(())
    }

    pub async fn max_partner_sequence(&mut self, chain_id: &str) -> Result<i64> {
        let sql = "SELECT MAX(sequence) FROM partner_information WHERE chain_id = $1";
        let n: Option<i64> =
            on!(self.conn().await?, c => sqlx::query_scalar(sql).bind(chain_id).fetch_one(&mut *c).await?);
        Ok(n.unwrap_or(0))
    }

    /// Adds an item with exactly the readers the policy granted.
    pub async fn insert_partner(&mut self, row: &PartnerRow, created_by: &str, grants: &AccessGrants) -> Result<()> {
        let sql = "INSERT INTO partner_information (id, chain_id, sequence, tlp, content, search_text, created_by, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
        let content = serde_json::to_string(&row.content).expect("partner content serialises");
        let search = format!("{}\n{}", row.identifier.to_lowercase(), row.content.search_text());
        on!(self.conn().await?, c => sqlx::query(sql)
            .bind(&row.id)
            .bind(&row.chain_id)
            .bind(row.sequence)
            .bind(row.content.tlp.code())
            .bind(&content)
            .bind(&search)
            .bind(created_by)
            .bind(&row.created_at)
            .execute(&mut *c)
            .await?
            .rows_affected());
        self.replace_partner_access(&row.id, grants).await
    }

    pub async fn replace_partner_access(&mut self, id: &str, grants: &AccessGrants) -> Result<()> {
        self.replace_readers(Readers::Partner(id), grants).await
    }

    /// Records the coordinator's share; false when the organisation already had it.
    pub async fn insert_partner_share(&mut self, id: &str, org_id: &str, by_org: &str, at: &str) -> Result<bool> {
        let sql =
            "INSERT INTO partner_shares (partner_id, org_id, shared_by_org_id, created_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT DO NOTHING";
        let added = on!(self.conn().await?, c => sqlx::query(sql).bind(id).bind(org_id).bind(by_org).bind(at).execute(&mut *c).await?.rows_affected());
        Ok(added == 1)
    }
}
