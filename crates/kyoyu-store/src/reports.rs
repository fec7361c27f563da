//! Report chains and renditions. Every item read takes a [`ReadScope`] and joins on the
//! reader rows the policy wrote, so what a user cannot read is never loaded.

use crate::directory::parse_code;
use crate::rows::*;
use crate::{Conn, Get, Result, Store, StoreError, Tx};
use kyoyu_domain::codes::{EventType, ReportStatus, Route, Severity, TriageState};
use kyoyu_domain::identifier::parse_report_identifier;
use kyoyu_domain::report::ReportContent;
use kyoyu_domain::Tlp;
use kyoyu_policy::{AccessGrants, ReadScope};
use sqlx::{Database, Encode, QueryBuilder, Type};

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
    pub route: Option<Route>,
    /// Sent at or after this time (RFC 3339, UTC).
    pub since: Option<String>,
    /// Sent before this time (RFC 3339, UTC).
    pub until: Option<String>,
    /// Only what still needs the reader's organisation: renditions it received, has not
    /// forwarded, and has not marked done.
    pub inbox: bool,
    /// Only renditions shared through the CEPTOAR council (its board).
    pub via_council: bool,
    /// Free text, matched in the text of the rendition the reader holds; a report identifier
    /// (`R2026-0001`, `R2026-0001-2`) finds that chain or report instead.
    pub q: Option<String>,
    /// Oldest first instead of newest first (a `next` cursor keeps to the order it came from).
    pub oldest_first: bool,
}

/// Where a keyset page starts: just after the item the reader got at `at` with id `id`
/// (lists run newest first). Deep pages cost what the first does, unlike an offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub at: String,
    pub id: String,
}

impl Cursor {
    /// The cursor as one opaque string for a URL (`at` is RFC 3339 and holds no `~`).
    pub fn encode(&self) -> String {
        format!("{}~{}", self.at, self.id)
    }

    pub fn decode(s: &str) -> Option<Cursor> {
        let (at, id) = s.split_once('~')?;
        let valid = chrono::DateTime::parse_from_rfc3339(at).is_ok() && !id.is_empty();
        valid.then(|| Cursor { at: at.to_string(), id: id.to_string() })
    }
}

/// The items whose reader rows [`Tx::replace_readers`] writes.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Readers<'a> {
    /// A report or advisory, whose STIX objects a new reader re-dates.
    Item(crate::ItemRef<'a>),
    Partner(&'a str),
}

/// One page of a list, and where the next starts when there may be more.
#[derive(Debug, Clone)]
pub struct Listed<T> {
    pub rows: Vec<T>,
    pub next: Option<Cursor>,
}

pub(crate) const COLUMNS: &str = "SELECT r.id, r.chain_id, r.sequence, r.parent_id, r.sender_org_id, r.receiver_org_id,
    r.status, r.identifies_operator, r.content, r.published_at, r.created_at,
    c.route, c.statutory, c.exercise, c.sector AS chain_sector, c.originator_org_id, c.secretariat_org_id, c.identifier,
    c.disclosure_consent_at, c.disclosure_consent_by, c.created_at AS chain_created_at";

/// Renditions joined to the reader rows; `push_scope` must follow.
const FROM_SCOPED: &str =
    " FROM report_access a JOIN reports r ON r.id = a.report_id JOIN chains c ON c.id = r.chain_id WHERE ";

/// `select` from the items joined to their reader rows (`from`, ending in `WHERE`), kept to
/// those the scope may read.
pub(crate) fn scoped<DB: Database>(select: &str, from: &str, scope: &ReadScope) -> QueryBuilder<'static, DB>
where
    for<'a> String: Encode<'a, DB> + Type<DB>,
    for<'a> bool: Encode<'a, DB> + Type<DB>,
{
    let mut qb = QueryBuilder::new(format!("{select}{from}"));
    push_scope(&mut qb, scope);
    qb
}

/// The access rule as SQL: the reader's organisation holds a grant, and the user has
/// need-to-know where the grant asks for it.
pub(crate) fn push_scope<DB: Database>(qb: &mut QueryBuilder<'_, DB>, scope: &ReadScope)
where
    for<'a> String: Encode<'a, DB> + Type<DB>,
    for<'a> bool: Encode<'a, DB> + Type<DB>,
{
    qb.push("a.org_id = ")
        .push_bind(scope.org_id().to_string())
        .push(" AND (NOT a.need_to_know OR ")
        .push_bind(scope.need_to_know())
        .push(")");
}

/// `LIKE` on the lower-cased search text, with the user's `%` and `_` taken literally.
pub(crate) fn like_pattern(q: &str) -> String {
    let escaped = q.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%{escaped}%")
}

fn push_filter<DB: Database>(qb: &mut QueryBuilder<'_, DB>, f: &ReportFilter, scope: &ReadScope)
where
    for<'a> String: Encode<'a, DB> + Type<DB>,
    for<'a> i64: Encode<'a, DB> + Type<DB>,
{
    if f.inbox {
        qb.push(" AND r.receiver_org_id = ")
            .push_bind(scope.org_id().to_string())
            .push(" AND r.status = 'sent' AND NOT EXISTS (SELECT 1 FROM report_triage t WHERE t.report_id = r.id AND t.state = 'done')");
    }
    if f.via_council {
        qb.push(" AND EXISTS (SELECT 1 FROM council_shares cs WHERE cs.report_id = r.id)");
    }
    if let Some(ident) = &f.identifier {
        push_identifier(qb, "c.identifier", "r.sequence", ident);
    }
    if let Some(v) = &f.sector {
        qb.push(" AND r.sector = ").push_bind(v.clone());
    }
    if let Some(v) = f.event_type {
        qb.push(" AND r.event_type = ").push_bind(v.code().to_string());
    }
    if let Some(v) = f.tlp {
        qb.push(" AND r.tlp = ").push_bind(v.code().to_string());
    }
    if let Some(v) = f.status {
        qb.push(" AND r.status = ").push_bind(v.code().to_string());
    }
    if let Some(v) = &f.chain_id {
        qb.push(" AND r.chain_id = ").push_bind(v.clone());
    }
    if let Some(v) = f.route {
        qb.push(" AND c.route = ").push_bind(v.code().to_string());
    }
    if let Some(v) = &f.since {
        qb.push(" AND r.created_at >= ").push_bind(v.clone());
    }
    if let Some(v) = &f.until {
        qb.push(" AND r.created_at < ").push_bind(v.clone());
    }
    match f.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        Some(q) if parse_report_identifier(q).is_some() => push_identifier(qb, "c.identifier", "r.sequence", q),
        Some(q) => push_search(qb, "r.search_text", q),
        None => {}
    }
}

/// A list's page, newest first by the reader row's (time, id): just after `after` when
/// given (keyset), else from `offset`. The select must name the time `listed_at`.
pub(crate) fn push_newest_first<DB: Database>(
    qb: &mut QueryBuilder<'_, DB>,
    cols: (&str, &str),
    limit: i64,
    offset: i64,
    after: Option<&Cursor>,
) where
    for<'a> String: Encode<'a, DB> + Type<DB>,
    for<'a> i64: Encode<'a, DB> + Type<DB>,
{
    push_keyset(qb, cols, false, (limit, offset), after)
}

/// A keyset page by `(at_col, id_col)`, newest first or (`oldest_first`) oldest first.
pub(crate) fn push_keyset<DB: Database>(
    qb: &mut QueryBuilder<'_, DB>,
    (at_col, id_col): (&str, &str),
    oldest_first: bool,
    (limit, offset): (i64, i64),
    after: Option<&Cursor>,
) where
    for<'a> String: Encode<'a, DB> + Type<DB>,
    for<'a> i64: Encode<'a, DB> + Type<DB>,
{
    let (beyond, order) = if oldest_first { (">", "ASC") } else { ("<", "DESC") };
    let offset = match after {
        Some(after) => {
            qb.push(format!(" AND ({at_col} {beyond} "))
                .push_bind(after.at.clone())
                .push(format!(" OR ({at_col} = "))
                .push_bind(after.at.clone())
                .push(format!(" AND {id_col} {beyond} "))
                .push_bind(after.id.clone())
                .push("))");
            0
        }
        None => offset.max(0),
    };
    qb.push(format!(" ORDER BY {at_col} {order}, {id_col} {order} LIMIT "))
        .push_bind(limit)
        .push(" OFFSET ")
        .push_bind(offset);
}

/// The rows of a newest-first page, with the cursor after its last row when it is full.
pub(crate) fn listed<R: Get, T>(found: Vec<R>, limit: i64, from_row: impl Fn(&R) -> Result<T>) -> Result<Listed<T>> {
    let next = match found.last() {
        Some(last) if found.len() as i64 == limit => Some(Cursor { at: last.text("listed_at")?, id: last.text("id")? }),
        _ => None,
    };
    Ok(Listed { rows: found.iter().map(from_row).collect::<Result<_>>()?, next })
}

/// `AND chain = …[AND sequence = n]` for `X2026-0001[-n]`; matches nothing when malformed.
pub(crate) fn push_identifier<DB: Database>(qb: &mut QueryBuilder<'_, DB>, chain_col: &str, seq_col: &str, ident: &str)
where
    for<'a> String: Encode<'a, DB> + Type<DB>,
    for<'a> i64: Encode<'a, DB> + Type<DB>,
{
    match parse_report_identifier(ident) {
        Some((chain, seq)) => {
            qb.push(format!(" AND {chain_col} = ")).push_bind(chain);
            if let Some(seq) = seq {
                qb.push(format!(" AND {seq_col} = ")).push_bind(seq);
            }
        }
        None => {
            qb.push(" AND FALSE");
        }
    }
}

/// Free text, matched in the lower-cased text the reader holds.
pub(crate) fn push_search<DB: Database>(qb: &mut QueryBuilder<'_, DB>, column: &str, q: &str)
where
    for<'a> String: Encode<'a, DB> + Type<DB>,
{
    qb.push(format!(" AND {column} LIKE ")).push_bind(like_pattern(q)).push(" ESCAPE '\\'");
}

fn chain_from_row(r: &impl Get) -> Result<ChainRow> {
    let route = r.text("route")?;
    Ok(ChainRow {
        id: r.text("chain_id")?,
        route: Route::parse(&route).ok_or_else(|| StoreError::Corrupt(format!("route {route}")))?,
        statutory: r.flag("statutory")?,
        exercise: r.flag("exercise")?,
        sector: r.text("chain_sector")?,
        originator_org_id: r.text("originator_org_id")?,
        secretariat_org_id: r.opt_text("secretariat_org_id")?,
        identifier: r.opt_text("identifier")?,
        disclosure_consent_at: r.opt_text("disclosure_consent_at")?,
        disclosure_consent_by: r.opt_text("disclosure_consent_by")?,
        created_at: r.text("chain_created_at")?,
    })
}

fn triage_from_row(r: &impl Get) -> Result<TriageRow> {
    let state = r.text("state")?;
    Ok(TriageRow {
        report_id: r.text("report_id")?,
        state: TriageState::parse(&state).ok_or_else(|| StoreError::Corrupt(format!("triage state {state}")))?,
        owner_user_id: r.opt_text("owner_user_id")?,
        updated_by: r.text("updated_by")?,
        updated_at: r.text("updated_at")?,
    })
}

/// A chain as statistics count it: the facts of its first readable rendition.
#[derive(Debug, Clone)]
pub struct ChainFirst {
    pub sector: String,
    pub route: Route,
    pub tlp: Tlp,
    pub severity: Option<Severity>,
    pub event_type: Option<EventType>,
    pub created_at: String,
    /// From the content, when asked for (the rest of the content is not kept: a count over
    /// hundreds of thousands of chains must not hold them all).
    pub causes: Vec<kyoyu_domain::codes::Cause>,
    pub discovered_at: Option<kyoyu_domain::report::Time>,
}

fn chain_first_from_row(r: &impl Get, with_content: bool) -> Result<ChainFirst> {
    let code = |col: &str| r.opt_text(col);
    let content: Option<ReportContent> = match with_content {
        true => {
            Some(serde_json::from_str(&r.text("content")?).map_err(|e| StoreError::Corrupt(format!("content: {e}")))?)
        }
        false => None,
    };
    let (causes, discovered_at) = content.map(|c| (c.causes, c.summary.discovered_at)).unwrap_or_default();
    Ok(ChainFirst {
        sector: r.text("chain_sector")?,
        route: parse_code("route", &r.text("route")?, Route::parse)?,
        tlp: parse_code("tlp", &r.text("tlp")?, Tlp::parse)?,
        severity: code("severity")?.map(|s| parse_code("severity", &s, Severity::parse)).transpose()?,
        event_type: code("event_type")?.map(|s| parse_code("event type", &s, EventType::parse)).transpose()?,
        created_at: r.text("created_at")?,
        causes,
        discovered_at,
    })
}

pub(crate) fn report_from_row(r: &impl Get) -> Result<ReportRow> {
    let status = r.text("status")?;
    Ok(ReportRow {
        id: r.text("id")?,
        chain: chain_from_row(r)?,
        sequence: r.int("sequence")?,
        parent_id: r.opt_text("parent_id")?,
        sender_org_id: r.text("sender_org_id")?,
        receiver_org_id: r.text("receiver_org_id")?,
        status: ReportStatus::parse(&status).ok_or_else(|| StoreError::Corrupt(format!("status {status}")))?,
        identifies_operator: r.flag("identifies_operator")?,
        content: serde_json::from_str(&r.text("content")?).map_err(|e| StoreError::Corrupt(format!("content: {e}")))?,
        published_at: r.opt_text("published_at")?,
        created_at: r.text("created_at")?,
    })
}

async fn get_report(c: Conn<'_>, scope: &ReadScope, id: &str) -> Result<Option<ReportRow>> {
    on!(c, c => {
        let mut qb = scoped(COLUMNS, FROM_SCOPED, scope);
        qb.push(" AND r.id = ").push_bind(id.to_string());
        qb.build().fetch_optional(&mut *c).await?.as_ref().map(report_from_row).transpose()
    })
}

impl Store {
    /// The triage of several renditions in one query (a list's page).
    pub async fn triage_of_many(&self, report_ids: &[&str]) -> Result<Vec<TriageRow>> {
        if report_ids.is_empty() {
            return Ok(Vec::new());
        }
        on!(self.read().await?.conn(), c => {
            let mut qb = QueryBuilder::new(
                "SELECT report_id, state, owner_user_id, updated_by, updated_at FROM report_triage WHERE report_id IN (",
            );
            let mut ids = qb.separated(", ");
            for id in report_ids {
                ids.push_bind(id.to_string());
            }
            qb.push(")");
            qb.build().fetch_all(&mut *c).await?.iter().map(triage_from_row).collect()
        })
    }

    /// The version of the reference data as a reader sees it.
    pub async fn reference_version(&self) -> Result<i64> {
        let sql = "SELECT version FROM reference_version WHERE id = 1";
        on!(self.read().await?.conn(), c => Ok(sqlx::query_scalar(sql).fetch_one(&mut *c).await?))
    }

    /// One rendition, if the scope may read it.
    pub async fn get_report(&self, scope: &ReadScope, id: &str) -> Result<Option<ReportRow>> {
        get_report(self.read().await?.conn(), scope, id).await
    }

    /// A page of what the scope may read, newest first (in chain order with `chain_id`).
    /// A page of what the scope may read: newest first from `offset`, or from just after
    /// `after` (keyset); a chain filter lists the chain in sequence order.
    pub async fn list_reports(
        &self,
        scope: &ReadScope,
        f: &ReportFilter,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<ReportRow>> {
        Ok(self.list_reports_after(scope, f, limit, offset, None).await?.rows)
    }

    pub async fn list_reports_after(
        &self,
        scope: &ReadScope,
        f: &ReportFilter,
        limit: i64,
        offset: i64,
        after: Option<&Cursor>,
    ) -> Result<Listed<ReportRow>> {
        let limit = limit.clamp(1, MAX_PAGE);
        let keyset = f.chain_id.is_none();
        on!(self.read().await?.conn(), c => {
            let mut qb = scoped(&format!("{COLUMNS}, a.created_at AS listed_at"), FROM_SCOPED, scope);
            push_filter(&mut qb, f, scope);
            if !keyset {
                qb.push(" ORDER BY r.sequence ASC, r.created_at ASC, r.id ASC LIMIT ").push_bind(limit).push(" OFFSET ").push_bind(offset.max(0));
                let rows = qb.build().fetch_all(&mut *c).await?.iter().map(report_from_row).collect::<Result<_>>()?;
                return Ok(Listed { rows, next: None });
            }
            push_keyset(&mut qb, ("a.created_at", "a.report_id"), f.oldest_first, (limit, offset), after);
            listed(qb.build().fetch_all(&mut *c).await?, limit, report_from_row)
        })
    }

    /// As [`Store::count_reports`], counting no further than `cap`: a page that shows a
    /// total stays as fast at a million items as at a hundred.
    pub async fn count_reports_up_to(&self, scope: &ReadScope, f: &ReportFilter, cap: i64) -> Result<i64> {
        on!(self.read().await?.conn(), c => {
            let mut qb = scoped("SELECT COUNT(*) FROM (SELECT 1", FROM_SCOPED, scope);
            push_filter(&mut qb, f, scope);
            qb.push(" LIMIT ").push_bind(cap.max(0)).push(") capped");
            Ok(qb.build_query_scalar().fetch_one(&mut *c).await?)
        })
    }

    pub async fn count_reports(&self, scope: &ReadScope, f: &ReportFilter) -> Result<i64> {
        on!(self.read().await?.conn(), c => {
            let mut qb = scoped("SELECT COUNT(*)", FROM_SCOPED, scope);
            push_filter(&mut qb, f, scope);
            Ok(qb.build_query_scalar().fetch_one(&mut *c).await?)
        })
    }

    /// Each chain the reader may read, by its first readable rendition (lowest number, then
    /// earliest), exercises left out, first sent in `[since, until)` (RFC 3339, either open).
    /// The content comes along only `with_content` (statistics of causes and times need it;
    /// charts by sector, route or TLP do not).
    pub async fn chain_firsts(
        &self,
        scope: &ReadScope,
        (since, until): (Option<&str>, Option<&str>),
        with_content: bool,
    ) -> Result<Vec<ChainFirst>> {
        let content = if with_content { ", r.content" } else { "" };
        let select = format!(
            "SELECT * FROM (SELECT c.sector AS chain_sector, c.route, r.tlp, r.severity, r.event_type, r.created_at{content},
                ROW_NUMBER() OVER (PARTITION BY r.chain_id ORDER BY r.sequence, r.created_at, r.id) AS nth"
        );
        on!(self.read().await?.conn(), c => {
            let mut qb = scoped(&select, FROM_SCOPED, scope);
            qb.push(" AND NOT c.exercise) firsts WHERE nth = 1");
            if let Some(since) = since {
                qb.push(" AND created_at >= ").push_bind(since.to_string());
            }
            if let Some(until) = until {
                qb.push(" AND created_at < ").push_bind(until.to_string());
            }
            qb.build().fetch_all(&mut *c).await?.iter().map(|r| chain_first_from_row(r, with_content)).collect()
        })
    }

    /// Renditions published to everyone (WHITE or CLEAR, with the originator's consent).
    pub async fn list_published(&self, limit: i64, offset: i64) -> Result<Vec<ReportRow>> {
        let sql = format!(
            "{COLUMNS} FROM reports r JOIN chains c ON c.id = r.chain_id
             WHERE r.published_at IS NOT NULL ORDER BY r.published_at DESC, r.id DESC LIMIT $1 OFFSET $2"
        );
        let (limit, offset) = (limit.clamp(1, MAX_PAGE), offset.max(0));
        on!(self.read().await?.conn(), c => sqlx::query(&sql).bind(limit).bind(offset).fetch_all(&mut *c).await?.iter().map(report_from_row).collect())
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
    pub shares: crate::Shares,
}

impl Tx {
    pub async fn get_report(&mut self, scope: &ReadScope, id: &str) -> Result<Option<ReportRow>> {
        get_report(self.conn().await?, scope, id).await
    }

    /// Records where a rendition stands with its receiver (one row per rendition).
    pub async fn set_triage(&mut self, t: &TriageRow) -> Result<()> {
        let sql = "INSERT INTO report_triage (report_id, state, owner_user_id, updated_by, updated_at)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (report_id) DO UPDATE SET state = excluded.state, owner_user_id = excluded.owner_user_id,
               updated_by = excluded.updated_by, updated_at = excluded.updated_at";
        on!(self.conn().await?, c => sqlx::query(sql)
            .bind(&t.report_id)
            .bind(t.state.code())
            .bind(&t.owner_user_id)
            .bind(&t.updated_by)
            .bind(&t.updated_at)
            .execute(&mut *c)
            .await?
            .rows_affected());
        Ok(())
    }

    /// Adds a new chain (written with the batch: see the store's `pending` module).
    pub async fn insert_chain(&mut self, ch: &ChainRow) -> Result<()> {
        self.pending.add_chain(ch);
        Ok(())
    }

    /// Adds a new rendition with exactly the readers the policy granted (written with the
    /// batch: see the store's `pending` module).
    pub async fn insert_rendition(&mut self, r: &NewRendition, grants: &AccessGrants) -> Result<()> {
        self.pending.add_rendition(r, grants);
        Ok(())
    }

    /// Writes exactly the readers the policy granted, replacing any before. Each reader row
    /// carries its item's time, so lists walk an index newest first.
    pub async fn replace_access(&mut self, report_id: &str, grants: &AccessGrants) -> Result<()> {
        self.replace_readers(Readers::Item(crate::ItemRef::Report(report_id)), grants).await
    }

    /// Replaces an item's reader rows with `grants`, each carrying the item's time. A reader
    /// that is new re-dates the item's STIX objects, so TAXII clients polling by date see them.
    pub(crate) async fn replace_readers(&mut self, readers: Readers<'_>, grants: &AccessGrants) -> Result<()> {
        let (table, column, items, id) = match readers {
            Readers::Item(crate::ItemRef::Report(id)) => ("report_access", "report_id", "reports", id),
            Readers::Item(crate::ItemRef::Advisory(id)) => ("advisory_access", "advisory_id", "advisories", id),
            Readers::Partner(id) => ("partner_access", "partner_id", "partner_information", id),
        };
        let sql = format!("SELECT org_id FROM {table} WHERE {column} = $1");
        let before: Vec<String> =
            on!(self.conn().await?, c => sqlx::query_scalar(&sql).bind(id).fetch_all(&mut *c).await?);
        if let Readers::Item(item) = readers {
            if grants.rows().iter().any(|(org, _)| !before.contains(org)) {
                self.redate_item_objects(item).await?;
            }
        }
        let sql = format!("DELETE FROM {table} WHERE {column} = $1");
        on!(self.conn().await?, c => sqlx::query(&sql).bind(id).execute(&mut *c).await?.rows_affected());
        if grants.rows().is_empty() {
            return Ok(());
        }
        on!(self.conn().await?, c => {
            let mut qb = QueryBuilder::new(format!(
                "INSERT INTO {table} (org_id, {column}, need_to_know, created_at)
                 SELECT v.column1, i.id, v.column2, i.created_at FROM ("
            ));
            qb.push_values(grants.rows(), |mut b, (org_id, ntk)| {
                b.push_bind(org_id.clone()).push_bind(*ntk);
            });
            qb.push(format!(") AS v, {items} i WHERE i.id = ")).push_bind(id.to_string());
            qb.build().execute(&mut *c).await?.rows_affected()
        });
        Ok(())
    }

    /// The version of the reference data, held shared until commit on PostgreSQL so that a
    /// change to who is where cannot interleave with computing readers.
    pub async fn reference_version(&mut self) -> Result<i64> {
        // Read once per batch (or assumed from the batch before, and checked when the batch
        // begins): on PostgreSQL its lock lasts until the batch commits.
        if let Some(version) = self.held.reference_version() {
            return Ok(version);
        }
        let version = read_reference_version(self.conn().await?).await?;
        self.held.remember_reference_version(Some(version));
        Ok(version)
    }

    /// Marks the reference data changed (and, on PostgreSQL, waits for writers using it).
    pub async fn bump_reference_version(&mut self) -> Result<()> {
        let sql = "UPDATE reference_version SET version = version + 1 WHERE id = 1";
        on!(self.conn().await?, c => sqlx::query(sql).execute(&mut *c).await?.rows_affected());
        self.held.remember_reference_version(None);
        Ok(())
    }

    /// Locks the rendition's row for the rest of the transaction (a no-op update), so
    /// concurrent shares of one rendition compute its readers one after the other.
    pub async fn lock_report(&mut self, report_id: &str) -> Result<()> {
        let sql = "UPDATE reports SET status = status WHERE id = $1";
        on!(self.conn().await?, c => sqlx::query(sql).bind(report_id).execute(&mut *c).await?.rows_affected());
        Ok(())
    }

    /// Locks a chain's row for the rest of the transaction (a no-op update), so concurrent
    /// follow-ups of one chain take their sequence numbers one after the other.
    pub async fn lock_chain(&mut self, chain_id: &str) -> Result<()> {
        let sql = "UPDATE chains SET route = route WHERE id = $1";
        on!(self.conn().await?, c => sqlx::query(sql).bind(chain_id).execute(&mut *c).await?.rows_affected());
        Ok(())
    }

    /// Marks a rendition forwarded; false when a concurrent forward got there first.
    pub async fn claim_forward(&mut self, report_id: &str) -> Result<bool> {
        let sql = "UPDATE reports SET status = $1 WHERE id = $2 AND status <> $1";
        let n = on!(self.conn().await?, c => sqlx::query(sql).bind(ReportStatus::Forwarded.code()).bind(report_id).execute(&mut *c).await?.rows_affected());
        Ok(n == 1)
    }

    pub async fn set_status(&mut self, report_id: &str, status: ReportStatus) -> Result<()> {
        let sql = "UPDATE reports SET status = $1 WHERE id = $2";
        on!(self.conn().await?, c => sqlx::query(sql).bind(status.code()).bind(report_id).execute(&mut *c).await?.rows_affected());
        Ok(())
    }

    pub async fn max_sequence(&mut self, chain_id: &str) -> Result<i64> {
        let sql = "SELECT MAX(sequence) FROM reports WHERE chain_id = $1";
        let n: Option<i64> =
            on!(self.conn().await?, c => sqlx::query_scalar(sql).bind(chain_id).fetch_one(&mut *c).await?);
        Ok(n.unwrap_or(0))
    }

    /// The next number of a series in a year, starting at 1; atomic under concurrent writers.
    pub async fn next_counter(&mut self, series: &str, year: i32) -> Result<i64> {
        let sql = "INSERT INTO counters (series, year, last) VALUES ($1, $2, 1)
             ON CONFLICT (series, year) DO UPDATE SET last = counters.last + 1 RETURNING last";
        let year = i64::from(year);
        on!(self.conn().await?, c => Ok(sqlx::query_scalar(sql).bind(series).bind(year).fetch_one(&mut *c).await?))
    }

    /// Sets the chain's identifier unless it has one; true when this call set it.
    pub async fn assign_chain_identifier(&mut self, chain_id: &str, identifier: &str) -> Result<bool> {
        let sql = "UPDATE chains SET identifier = $1 WHERE id = $2 AND identifier IS NULL";
        let n = on!(self.conn().await?, c => sqlx::query(sql).bind(identifier).bind(chain_id).execute(&mut *c).await?.rows_affected());
        Ok(n == 1)
    }

    pub async fn chain_identifier(&mut self, chain_id: &str) -> Result<Option<String>> {
        let sql = "SELECT identifier FROM chains WHERE id = $1";
        on!(self.conn().await?, c => Ok(sqlx::query_scalar(sql).bind(chain_id).fetch_one(&mut *c).await?))
    }

    pub async fn set_disclosure_consent(&mut self, chain_id: &str, at: &str, by_user: &str) -> Result<()> {
        let sql = "UPDATE chains SET disclosure_consent_at = $1, disclosure_consent_by = $2 WHERE id = $3";
        on!(self.conn().await?, c => sqlx::query(sql).bind(at).bind(by_user).bind(chain_id).execute(&mut *c).await?.rows_affected());
        Ok(())
    }

    pub async fn set_published(&mut self, report_id: &str, at: &str) -> Result<()> {
        let sql = "UPDATE reports SET published_at = $1 WHERE id = $2";
        on!(self.conn().await?, c => sqlx::query(sql).bind(at).bind(report_id).execute(&mut *c).await?.rows_affected());
        Ok(())
    }

    /// The facts of every rendition, for recomputing readers after reference data changed.
    pub async fn all_access_facts(&mut self) -> Result<Vec<AccessFactsRow>> {
        let sql = "SELECT r.id, r.tlp, r.sector, r.sender_org_id, r.receiver_org_id, r.content, c.originator_org_id
             FROM reports r JOIN chains c ON c.id = r.chain_id";
        let rows: Vec<(String, String, String, String, String, String, String)> =
            on!(self.conn().await?, c => sqlx::query_as(sql).fetch_all(&mut *c).await?);
        let mut out = Vec::new();
        for (id, tlp, sector, sender, receiver, content, originator) in rows {
            let content: ReportContent =
                serde_json::from_str(&content).map_err(|e| StoreError::Corrupt(format!("content: {e}")))?;
            out.push(AccessFactsRow {
                shares: self.shares_of(&id).await?,
                report_id: id,
                tlp: Tlp::parse(&tlp).ok_or_else(|| StoreError::Corrupt(format!("tlp {tlp}")))?,
                sector,
                sender_org_id: sender,
                receiver_org_id: receiver,
                originator_org_id: originator,
                extras: content.extra_recipient_org_ids,
            });
        }
        Ok(out)
    }
}

/// The reference version inside a write, locked shared until commit on PostgreSQL.
pub(crate) async fn read_reference_version(conn: Conn<'_>) -> Result<i64> {
    Ok(match conn {
        Conn::Sqlite(c) => {
            sqlx::query_scalar("SELECT version FROM reference_version WHERE id = 1").fetch_one(&mut *c).await?
        }
        Conn::Postgres(c) => {
            sqlx::query_scalar("SELECT version FROM reference_version WHERE id = 1 FOR SHARE")
                .fetch_one(&mut *c)
                .await?
        }
    })
}
