//! STIX objects and TAXII collections. An object made from a report or advisory is read through
//! that item's reader rows; an object from outside carries the audience the policy gave it
//! ([`kyoyu_policy::OutsideAudience`]). Every read takes a [`ReadScope`] and applies
//! [`push_readable`] inside SQL, so pages, filters, versions and correlations only ever see what
//! the reader may read.

use crate::reports::push_scope;
use crate::{Conn, Get, Result, Store, Tx};
use kyoyu_domain::Tlp;
use kyoyu_policy::{OutsideAudience, ReadScope};
use kyoyu_stix::StixObject;
use sqlx::{Database, Encode, QueryBuilder, Type};

/// One stored version of one object.
#[derive(Debug, Clone, PartialEq)]
pub struct StixRow {
    pub seq: i64,
    pub stix_id: String,
    pub kind: String,
    pub spec_version: String,
    pub version: String,
    pub date_added: String,
    pub tlp: Option<Tlp>,
    pub owner_org_id: Option<String>,
    pub body: String,
}

/// Which versions of each object a page holds (TAXII `match[version]`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VersionMatch {
    pub all: bool,
    pub first: bool,
    pub last: bool,
    /// Exact versions, as stored (RFC 3339, microseconds, `Z`).
    pub at: Vec<String>,
}

/// A TAXII page request, already parsed and normalised.
#[derive(Debug, Clone, Default)]
pub struct StixQuery {
    pub collection: String,
    /// Only objects added after this time (stored form).
    pub added_after: Option<String>,
    /// Continue after this (date_added, seq), from a `next` token.
    pub after: Option<(String, i64)>,
    pub ids: Vec<String>,
    pub types: Vec<String>,
    pub spec_versions: Vec<String>,
    pub versions: VersionMatch,
    pub limit: i64,
}

/// What became of one object offered for a collection.
#[derive(Debug, Clone, PartialEq)]
pub enum AddOutcome {
    Added,
    /// The same version from the same organisation is already held.
    AlreadyHeld,
    /// A version that would reach further than one the organisation already holds.
    WouldLoosen {
        held: Tlp,
    },
}

const COLUMNS: &str = "SELECT o.seq, o.stix_id, o.type, o.spec_version, o.version, o.date_added, o.tlp, o.owner_org_id, o.body FROM stix_objects o";

/// The read rule for STIX objects, as SQL on `o`.
pub(crate) fn push_readable<DB: Database>(qb: &mut QueryBuilder<'_, DB>, scope: &ReadScope)
where
    for<'a> String: Encode<'a, DB> + Type<DB>,
    for<'a> bool: Encode<'a, DB> + Type<DB>,
{
    qb.push(
        " ((o.report_id IS NOT NULL AND EXISTS (SELECT 1 FROM report_access a WHERE a.report_id = o.report_id AND ",
    );
    push_scope(qb, scope);
    qb.push(")) OR (o.advisory_id IS NOT NULL AND EXISTS (SELECT 1 FROM advisory_access a WHERE a.advisory_id = o.advisory_id AND ");
    push_scope(qb, scope);
    qb.push(
        ")) OR (o.report_id IS NULL AND o.advisory_id IS NULL AND (o.audience_org_id IS NULL OR o.audience_org_id = ",
    )
    .push_bind(scope.org_id().to_string())
    .push(") AND (o.audience_user_id IS NULL OR o.audience_user_id = ")
    .push_bind(scope.user_id().to_string())
    .push(") AND (NOT o.need_to_know OR ")
    .push_bind(scope.need_to_know())
    .push(")))");
}

fn push_in<DB: Database>(qb: &mut QueryBuilder<'_, DB>, column: &str, values: &[String])
where
    for<'a> String: Encode<'a, DB> + Type<DB>,
{
    if values.is_empty() {
        return;
    }
    qb.push(format!(" AND {column} IN ("));
    let mut list = qb.separated(", ");
    for v in values {
        list.push_bind(v.clone());
    }
    qb.push(")");
}

const SAME_OBJECT: &str = "f.collection = o.collection AND f.stix_id = o.stix_id AND COALESCE(f.owner_org_id, '') = COALESCE(o.owner_org_id, '')";

fn push_versions<DB: Database>(qb: &mut QueryBuilder<'_, DB>, v: &VersionMatch)
where
    for<'a> String: Encode<'a, DB> + Type<DB>,
{
    if v.all {
        return;
    }
    qb.push(" AND (FALSE");
    if v.last {
        qb.push(" OR o.latest");
    }
    if v.first {
        qb.push(format!(" OR NOT EXISTS (SELECT 1 FROM stix_objects f WHERE {SAME_OBJECT} AND f.version < o.version)"));
    }
    if !v.at.is_empty() {
        qb.push(" OR o.version IN (");
        let mut list = qb.separated(", ");
        for t in &v.at {
            list.push_bind(t.clone());
        }
        qb.push(")");
    }
    qb.push(")");
}

fn push_query<DB: Database>(qb: &mut QueryBuilder<'_, DB>, scope: &ReadScope, q: &StixQuery)
where
    for<'a> String: Encode<'a, DB> + Type<DB>,
    for<'a> bool: Encode<'a, DB> + Type<DB>,
    for<'a> i64: Encode<'a, DB> + Type<DB>,
{
    qb.push(" WHERE o.collection = ").push_bind(q.collection.clone()).push(" AND");
    push_readable(qb, scope);
    if let Some(t) = &q.added_after {
        qb.push(" AND o.date_added > ").push_bind(t.clone());
    }
    if let Some((d, s)) = &q.after {
        qb.push(" AND (o.date_added > ").push_bind(d.clone());
        qb.push(" OR (o.date_added = ").push_bind(d.clone()).push(" AND o.seq > ").push_bind(*s).push("))");
    }
    push_in(qb, "o.stix_id", &q.ids);
    push_in(qb, "o.type", &q.types);
    push_in(qb, "o.spec_version", &q.spec_versions);
    push_versions(qb, &q.versions);
}

fn row_from(r: &impl Get) -> StixRow {
    StixRow {
        seq: r.int("seq"),
        stix_id: r.text("stix_id"),
        kind: r.text("type"),
        spec_version: r.text("spec_version"),
        version: r.text("version"),
        date_added: r.text("date_added"),
        tlp: r.opt_text("tlp").and_then(|t| Tlp::parse(&t)),
        owner_org_id: r.opt_text("owner_org_id"),
        body: r.text("body"),
    }
}

fn push_item<DB: Database>(qb: &mut QueryBuilder<'_, DB>, item: ItemRef<'_>)
where
    for<'a> String: Encode<'a, DB> + Type<DB>,
{
    let (column, id) = match item {
        ItemRef::Report(r) => ("report_id", r),
        ItemRef::Advisory(a) => ("advisory_id", a),
    };
    qb.push(format!(" COALESCE(o.{column}, '') = ")).push_bind(id.to_string());
}

/// Objects of the item, or for a report, of any rendition of its chain.
fn push_same_item<DB: Database>(qb: &mut QueryBuilder<'_, DB>, item: ItemRef<'_>)
where
    for<'a> String: Encode<'a, DB> + Type<DB>,
{
    match item {
        ItemRef::Report(id) => {
            qb.push(" COALESCE(o.report_id, '') IN (SELECT r2.id FROM reports r2 JOIN reports r1 ON r1.chain_id = r2.chain_id WHERE r1.id = ")
                .push_bind(id.to_string())
                .push(")");
        }
        ItemRef::Advisory(_) => push_item(qb, item),
    }
}

/// Where and for whom one object version is kept.
#[derive(Clone, Copy)]
struct Placing<'a> {
    collection: &'a str,
    date_added: &'a str,
    tlp: Option<Tlp>,
    item: Option<ItemRef<'a>>,
    owner_org_id: Option<&'a str>,
    audience: Option<&'a OutsideAudience>,
    latest: bool,
}

/// The item an object was made from.
#[derive(Debug, Clone, Copy)]
pub enum ItemRef<'a> {
    Report(&'a str),
    Advisory(&'a str),
}

impl Store {
    /// One page of a collection in the order objects were added, with up to `q.limit` rows
    /// plus one more when more follow.
    pub async fn stix_page(&self, scope: &ReadScope, q: &StixQuery) -> Result<Vec<StixRow>> {
        page_on(self.read().await?.conn(), scope, q).await
    }

    /// The objects made from one item, if the scope may read them.
    pub async fn stix_of_item(&self, scope: &ReadScope, item: ItemRef<'_>) -> Result<Vec<StixRow>> {
        on!(self.read().await?.conn(), c => {
            let mut qb = QueryBuilder::new(COLUMNS);
            qb.push(" WHERE");
            push_item(&mut qb, item);
            qb.push(" AND");
            push_readable(&mut qb, scope);
            qb.push(" ORDER BY o.seq");
            Ok(qb.build().fetch_all(&mut *c).await?.iter().map(row_from).collect())
        })
    }

    /// The observable values named by one item's objects.
    pub async fn stix_values_of_item(&self, item: ItemRef<'_>) -> Result<Vec<String>> {
        on!(self.read().await?.conn(), c => {
            let mut qb = QueryBuilder::new("SELECT DISTINCT v.value FROM stix_values v JOIN stix_objects o ON o.seq = v.seq WHERE");
            push_item(&mut qb, item);
            qb.push(" ORDER BY v.value");
            Ok(qb.build_query_scalar().fetch_all(&mut *c).await?)
        })
    }

    /// Readable objects in any collection that name one of `values`, newest first: the
    /// correlations of an item. Objects of `besides` itself (for a report, of every rendition
    /// of its chain) are left out.
    pub async fn stix_correlations(
        &self,
        scope: &ReadScope,
        values: &[String],
        besides: ItemRef<'_>,
        limit: i64,
    ) -> Result<Vec<(String, String, StixRow)>> {
        if values.is_empty() {
            return Ok(Vec::new());
        }
        on!(self.read().await?.conn(), c => {
            let mut qb = QueryBuilder::new("SELECT v.value, o.collection, o.seq, o.stix_id, o.type, o.spec_version, o.version, o.date_added, o.tlp, o.owner_org_id, o.body FROM stix_values v JOIN stix_objects o ON o.seq = v.seq WHERE o.latest AND NOT");
            push_same_item(&mut qb, besides);
            qb.push(" AND");
            push_readable(&mut qb, scope);
            push_in(&mut qb, "v.value", values);
            qb.push(" ORDER BY o.date_added DESC, o.seq DESC LIMIT ").push_bind(limit);
            Ok(qb.build().fetch_all(&mut *c).await?.iter().map(|r| (r.text("value"), r.text("collection"), row_from(r))).collect())
        })
    }

    /// The outcome of one POST, if the reader's organisation made it.
    pub async fn taxii_status(&self, scope: &ReadScope, id: &str) -> Result<Option<(String, String, String)>> {
        let sql = "SELECT collection, created_at, outcome FROM taxii_status WHERE id = $1 AND org_id = $2";
        on!(self.read().await?.conn(), c => {
            let row = sqlx::query(sql).bind(id).bind(scope.org_id()).fetch_optional(&mut *c).await?;
            Ok(row.map(|r| (r.text("collection"), r.text("created_at"), r.text("outcome"))))
        })
    }
}

async fn page_on(c: Conn<'_>, scope: &ReadScope, q: &StixQuery) -> Result<Vec<StixRow>> {
    on!(c, c => {
        let mut qb = QueryBuilder::new(COLUMNS);
        push_query(&mut qb, scope, q);
        qb.push(" ORDER BY o.date_added, o.seq LIMIT ").push_bind(q.limit + 1);
        Ok(qb.build().fetch_all(&mut *c).await?.iter().map(row_from).collect())
    })
}

impl Tx {
    /// [`Store::stix_page`] inside this transaction.
    pub async fn stix_page(&mut self, scope: &ReadScope, q: &StixQuery) -> Result<Vec<StixRow>> {
        page_on(self.conn(), scope, q).await
    }

    async fn insert_object(&mut self, o: &StixObject, at: &Placing<'_>) -> Result<()> {
        let Placing { collection, date_added, tlp, item, owner_org_id, audience, latest } = *at;
        let (report, advisory) = match item {
            Some(ItemRef::Report(r)) => (Some(r), None),
            Some(ItemRef::Advisory(a)) => (None, Some(a)),
            None => (None, None),
        };
        let sql = "INSERT INTO stix_objects (collection, stix_id, type, spec_version, version, date_added, tlp, body,
                report_id, advisory_id, owner_org_id, audience_org_id, audience_user_id, need_to_know, latest)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING seq";
        let body = o.body.to_string();
        let seq: i64 = on!(self.conn(), c => sqlx::query_scalar(sql)
            .bind(collection)
            .bind(&o.id)
            .bind(&o.kind)
            .bind(&o.spec_version)
            .bind(&o.version)
            .bind(date_added)
            .bind(tlp.map(|t| t.code()))
            .bind(&body)
            .bind(report)
            .bind(advisory)
            .bind(owner_org_id)
            .bind(audience.and_then(|a| a.org_id()))
            .bind(audience.and_then(|a| a.user_id()))
            .bind(audience.is_some_and(|a| a.need_to_know()))
            .bind(latest)
            .fetch_one(&mut *c)
            .await?);
        for v in &o.values {
            let sql = "INSERT INTO stix_values (value, seq) VALUES ($1, $2) ON CONFLICT DO NOTHING";
            on!(self.conn(), c => sqlx::query(sql).bind(v).bind(seq).execute(&mut *c).await?.rows_affected());
        }
        Ok(())
    }

    /// Keeps the objects made from a report or advisory, replacing any made before.
    pub async fn replace_item_objects(
        &mut self,
        collection: &str,
        item: ItemRef<'_>,
        tlp: Tlp,
        date_added: &str,
        objects: &[StixObject],
    ) -> Result<()> {
        let (column, id) = match item {
            ItemRef::Report(r) => ("report_id", r),
            ItemRef::Advisory(a) => ("advisory_id", a),
        };
        let values = format!("DELETE FROM stix_values WHERE seq IN (SELECT seq FROM stix_objects WHERE {column} = $1)");
        on!(self.conn(), c => sqlx::query(&values).bind(id).execute(&mut *c).await?.rows_affected());
        let objects_sql = format!("DELETE FROM stix_objects WHERE {column} = $1");
        on!(self.conn(), c => sqlx::query(&objects_sql).bind(id).execute(&mut *c).await?.rows_affected());
        let at = Placing {
            collection,
            date_added,
            tlp: Some(tlp),
            item: Some(item),
            owner_org_id: None,
            audience: None,
            latest: true,
        };
        for o in objects {
            self.insert_object(o, &at).await?;
        }
        Ok(())
    }

    /// Adds one version of an outside object for `owner_org_id`. Versions of an object are
    /// kept per owner, so no organisation learns what another holds; a version that would
    /// reach further than one the owner already holds is refused.
    pub async fn add_outside_object(
        &mut self,
        collection: &str,
        owner_org_id: &str,
        o: &StixObject,
        tlp: Tlp,
        audience: &OutsideAudience,
        date_added: &str,
    ) -> Result<AddOutcome> {
        let sql = "SELECT version, tlp FROM stix_objects WHERE collection = $1 AND stix_id = $2 AND owner_org_id = $3";
        let held: Vec<(String, Option<String>)> = on!(self.conn(), c => sqlx::query_as(sql).bind(collection).bind(&o.id).bind(owner_org_id).fetch_all(&mut *c).await?);
        if held.iter().any(|(v, _)| *v == o.version) {
            return Ok(AddOutcome::AlreadyHeld);
        }
        if let Some(tightest) =
            held.iter().filter_map(|(_, t)| t.as_deref().and_then(Tlp::parse)).max_by_key(|t| t.rank())
        {
            if !tlp.keeps_or_tightens(tightest) {
                return Ok(AddOutcome::WouldLoosen { held: tightest });
            }
        }
        let newest = held.iter().all(|(v, _)| *v < o.version);
        if newest {
            let sql =
                "UPDATE stix_objects SET latest = FALSE WHERE collection = $1 AND stix_id = $2 AND owner_org_id = $3";
            on!(self.conn(), c => sqlx::query(sql).bind(collection).bind(&o.id).bind(owner_org_id).execute(&mut *c).await?.rows_affected());
        }
        let at = Placing {
            collection,
            date_added,
            tlp: Some(tlp),
            item: None,
            owner_org_id: Some(owner_org_id),
            audience: Some(audience),
            latest: newest,
        };
        self.insert_object(o, &at).await?;
        Ok(AddOutcome::Added)
    }

    /// Deletes the owner's versions of an object (all, or those in `versions`), keeping the
    /// newest remaining version marked latest. Returns how many were deleted.
    pub async fn delete_outside_object(
        &mut self,
        collection: &str,
        owner_org_id: &str,
        stix_id: &str,
        versions: &[String],
    ) -> Result<u64> {
        let mut deleted = 0;
        let sql = "SELECT seq, version FROM stix_objects WHERE collection = $1 AND stix_id = $2 AND owner_org_id = $3";
        let held: Vec<(i64, String)> = on!(self.conn(), c => sqlx::query_as(sql).bind(collection).bind(stix_id).bind(owner_org_id).fetch_all(&mut *c).await?);
        for (seq, version) in &held {
            if versions.is_empty() || versions.contains(version) {
                on!(self.conn(), c => sqlx::query("DELETE FROM stix_values WHERE seq = $1").bind(*seq).execute(&mut *c).await?.rows_affected());
                deleted += on!(self.conn(), c => sqlx::query("DELETE FROM stix_objects WHERE seq = $1").bind(*seq).execute(&mut *c).await?.rows_affected());
            }
        }
        let newest = "UPDATE stix_objects SET latest = TRUE WHERE seq = (SELECT seq FROM stix_objects WHERE collection = $1 AND stix_id = $2 AND owner_org_id = $3 ORDER BY version DESC LIMIT 1)";
        on!(self.conn(), c => sqlx::query(newest).bind(collection).bind(stix_id).bind(owner_org_id).execute(&mut *c).await?.rows_affected());
        Ok(deleted)
    }

    /// Records the outcome of one POST of objects.
    pub async fn insert_taxii_status(
        &mut self,
        id: &str,
        org_id: &str,
        collection: &str,
        at: &str,
        outcome: &str,
    ) -> Result<()> {
        let sql = "INSERT INTO taxii_status (id, org_id, collection, created_at, outcome) VALUES ($1, $2, $3, $4, $5)";
        on!(self.conn(), c => sqlx::query(sql).bind(id).bind(org_id).bind(collection).bind(at).bind(outcome).execute(&mut *c).await?.rows_affected());
        Ok(())
    }

    /// Keeps the objects every user may read (kyoyu's identity, its extension, the TLP 2.0
    /// marking definitions) once in `collection`.
    pub async fn ensure_shared_objects(
        &mut self,
        collection: &str,
        objects: &[StixObject],
        date_added: &str,
        audience: &OutsideAudience,
    ) -> Result<()> {
        for o in objects {
            let sql = "SELECT COUNT(*) FROM stix_objects WHERE collection = $1 AND stix_id = $2 AND version = $3";
            let n: i64 = on!(self.conn(), c => sqlx::query_scalar(sql).bind(collection).bind(&o.id).bind(&o.version).fetch_one(&mut *c).await?);
            if n == 0 {
                let at = Placing {
                    collection,
                    date_added,
                    tlp: None,
                    item: None,
                    owner_org_id: None,
                    audience: Some(audience),
                    latest: true,
                };
                self.insert_object(o, &at).await?;
            }
        }
        Ok(())
    }
}
