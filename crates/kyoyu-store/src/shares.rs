//! Shares of renditions beyond their hop: the community's shares (inside the ceiling, known to
//! the rendition's readers) and operators' crime reports to response agencies, which only the
//! operator and the agency learn of. Both become reader rows only through the policy.

use crate::{Conn, Result, Store, Tx};
use sqlx::QueryBuilder;
use std::collections::HashMap;

/// Whom one rendition was shared with, by kind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Shares {
    pub community: Vec<String>,
    /// Response agencies the originating operator reported it to as a crime.
    pub crime: Vec<String>,
}

/// Both kinds in one query: (rendition, organisation, whether a crime share).
const SHARES: &str = "SELECT report_id, org_id, FALSE AS crime FROM report_shares WHERE report_id IN (";
const CRIME: &str = " UNION ALL SELECT report_id, org_id, TRUE AS crime FROM crime_shares WHERE report_id IN (";

async fn shares_of_many(c: Conn<'_>, report_ids: &[&str]) -> Result<HashMap<String, Shares>> {
    let mut by_report: HashMap<String, Shares> = HashMap::new();
    if report_ids.is_empty() {
        return Ok(by_report);
    }
    let rows: Vec<(String, String, bool)> = on!(c, c => {
        let mut qb = QueryBuilder::new(SHARES);
        for head in [CRIME, ""] {
            let mut ids = qb.separated(", ");
            for id in report_ids {
                ids.push_bind(id.to_string());
            }
            qb.push(")").push(head);
        }
        qb.push(" ORDER BY 1, 2");
        qb.build_query_as().fetch_all(&mut *c).await?
    });
    for (report_id, org_id, crime) in rows {
        let shares = by_report.entry(report_id).or_default();
        if crime {
            shares.crime.push(org_id)
        } else {
            shares.community.push(org_id)
        }
    }
    Ok(by_report)
}

async fn shares_of(c: Conn<'_>, report_id: &str) -> Result<Shares> {
    Ok(shares_of_many(c, &[report_id]).await?.remove(report_id).unwrap_or_default())
}

impl Store {
    /// Whom a rendition was shared with; ask only about one the caller read.
    pub async fn shares_of(&self, report_id: &str) -> Result<Shares> {
        shares_of(self.read().await?.conn(), report_id).await
    }

    /// The shares of several renditions (a list's page) in one query. Ask only about
    /// renditions the caller read.
    pub async fn shares_of_many(&self, report_ids: &[&str]) -> Result<HashMap<String, Shares>> {
        shares_of_many(self.read().await?.conn(), report_ids).await
    }
}

impl Tx {
    pub async fn shares_of(&mut self, report_id: &str) -> Result<Shares> {
        shares_of(self.conn().await?, report_id).await
    }

    /// Records a community share; false when the organisation already had it.
    pub async fn insert_share(&mut self, report_id: &str, org_id: &str, by_org: &str, at: &str) -> Result<bool> {
        let sql = "INSERT INTO report_shares (report_id, org_id, shared_by_org_id, created_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT DO NOTHING";
        let added = on!(self.conn().await?, c => sqlx::query(sql).bind(report_id).bind(org_id).bind(by_org).bind(at).execute(&mut *c).await?.rows_affected());
        Ok(added == 1)
    }

    /// Records an operator's crime report of its submission to a response agency; false when
    /// the agency already had it.
    pub async fn insert_crime_share(&mut self, report_id: &str, org_id: &str, by_user: &str, at: &str) -> Result<bool> {
        let sql = "INSERT INTO crime_shares (report_id, org_id, shared_by_user_id, created_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT DO NOTHING";
        let added = on!(self.conn().await?, c => sqlx::query(sql).bind(report_id).bind(org_id).bind(by_user).bind(at).execute(&mut *c).await?.rows_affected());
        Ok(added == 1)
    }
}

const MEMBERS: &str = "SELECT org_id FROM council_members ORDER BY org_id";

/// The CEPTOAR council's members and its board.
impl Store {
    /// The CEPTOARs that sit on the council now.
    pub async fn council_member_ids(&self) -> Result<Vec<String>> {
        on!(self.read().await?.conn(), c => Ok(sqlx::query_scalar(MEMBERS).fetch_all(&mut *c).await?))
    }

    /// Which of these renditions (ones the caller read) were shared through the council.
    pub async fn shared_via_council(&self, report_ids: &[&str]) -> Result<Vec<String>> {
        if report_ids.is_empty() {
            return Ok(Vec::new());
        }
        on!(self.read().await?.conn(), c => {
            let mut qb = QueryBuilder::new("SELECT report_id FROM council_shares WHERE report_id IN (");
            let mut ids = qb.separated(", ");
            for id in report_ids {
                ids.push_bind(id.to_string());
            }
            qb.push(")");
            Ok(qb.build_query_scalar().fetch_all(&mut *c).await?)
        })
    }
}

impl Tx {
    pub async fn council_member_ids(&mut self) -> Result<Vec<String>> {
        on!(self.conn().await?, c => Ok(sqlx::query_scalar(MEMBERS).fetch_all(&mut *c).await?))
    }

    /// Seats a CEPTOAR on the council; false when it sat there already.
    pub async fn join_council(&mut self, org_id: &str, by_user: &str, at: &str) -> Result<bool> {
        let sql =
            "INSERT INTO council_members (org_id, joined_by, joined_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING";
        let added = on!(self.conn().await?, c => sqlx::query(sql).bind(org_id).bind(by_user).bind(at).execute(&mut *c).await?.rows_affected());
        Ok(added == 1)
    }

    /// Takes a CEPTOAR off the council; false when it did not sit there.
    pub async fn leave_council(&mut self, org_id: &str) -> Result<bool> {
        let sql = "DELETE FROM council_members WHERE org_id = $1";
        let removed =
            on!(self.conn().await?, c => sqlx::query(sql).bind(org_id).execute(&mut *c).await?.rows_affected());
        Ok(removed == 1)
    }

    /// Puts a rendition on the council's board; false when it was shared through it before.
    pub async fn insert_council_share(&mut self, report_id: &str, by_org: &str, at: &str) -> Result<bool> {
        let sql = "INSERT INTO council_shares (report_id, shared_by_org_id, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING";
        let added = on!(self.conn().await?, c => sqlx::query(sql).bind(report_id).bind(by_org).bind(at).execute(&mut *c).await?.rows_affected());
        Ok(added == 1)
    }
}
