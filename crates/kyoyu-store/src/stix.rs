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
use std::collections::HashMap;

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
    /// For an object of an anonymised chain's rendition: whom a record of reading it conceals.
    pub concealed: Option<crate::Concealed>,
}

/// Where a page ended: the last object's date added, id and version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PagePosition {
    pub date_added: String,
    pub stix_id: String,
    pub version: String,
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
    /// Continue after the object (date_added, id, version) a previous page ended on, from a
    /// `next` token. The position is found again here, so the token never carries the
    /// installation-wide sequence (which would tell how much others wrote in between).
    pub after: Option<PagePosition>,
    pub ids: Vec<String>,
    pub types: Vec<String>,
    pub spec_versions: Vec<String>,
    pub versions: VersionMatch,
    pub limit: i64,
    /// Leave the objects' bodies out (manifests and version lists need only ids and times).
    pub without_bodies: bool,
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

const COLUMNS: &str = "SELECT o.seq, o.stix_id, o.type, o.spec_version, o.version, o.date_added, o.tlp, o.owner_org_id, o.body,
    c.originator_org_id AS conceal_org_id, c.secretariat_org_id AS conceal_secretariat_id
    FROM stix_objects o LEFT JOIN reports r ON r.id = o.report_id LEFT JOIN chains c ON c.id = r.chain_id AND c.route = 'anonymised'";
const COLUMNS_WITHOUT_BODY: &str = "SELECT o.seq, o.stix_id, o.type, o.spec_version, o.version, o.date_added, o.tlp, o.owner_org_id, '' AS body,
    c.originator_org_id AS conceal_org_id, c.secretariat_org_id AS conceal_secretariat_id
    FROM stix_objects o LEFT JOIN reports r ON r.id = o.report_id LEFT JOIN chains c ON c.id = r.chain_id AND c.route = 'anonymised'";

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
    qb.push(")) OR (o.report_id IS NULL AND o.advisory_id IS NULL AND ((o.audience_org_id IS NULL AND ")
        .push_bind(scope.reads_items())
        .push(") OR o.audience_org_id = ")
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
    if let Some(p) = &q.after {
        // Rows added at the same time are ordered by seq; the first row that is the object
        // the page ended on marks the place (a gone object restarts that instant: repeats, no gaps).
        qb.push(" AND (o.date_added > ").push_bind(p.date_added.clone());
        qb.push(" OR (o.date_added = ")
            .push_bind(p.date_added.clone())
            .push(" AND o.seq > COALESCE((SELECT MIN(p.seq) FROM stix_objects p WHERE p.collection = ");
        qb.push_bind(q.collection.clone()).push(" AND p.date_added = ").push_bind(p.date_added.clone());
        qb.push(" AND p.stix_id = ")
            .push_bind(p.stix_id.clone())
            .push(" AND p.version = ")
            .push_bind(p.version.clone());
        qb.push("), 0)))");
    }
    push_in(qb, "o.stix_id", &q.ids);
    push_in(qb, "o.type", &q.types);
    push_in(qb, "o.spec_version", &q.spec_versions);
    push_versions(qb, &q.versions);
}

fn row_from(r: &impl Get) -> Result<StixRow> {
    Ok(StixRow {
        seq: r.int("seq")?,
        stix_id: r.text("stix_id")?,
        kind: r.text("type")?,
        spec_version: r.text("spec_version")?,
        version: r.text("version")?,
        date_added: r.text("date_added")?,
        tlp: r.opt_text("tlp")?.map(|t| crate::directory::parse_code("tlp", &t, Tlp::parse)).transpose()?,
        owner_org_id: r.opt_text("owner_org_id")?,
        body: r.text("body")?,
        concealed: crate::concealed_from_row(r)?,
    })
}

fn push_item<DB: Database>(qb: &mut QueryBuilder<'_, DB>, item: ItemRef<'_>)
where
    for<'a> String: Encode<'a, DB> + Type<DB>,
{
    let (column, id) = match item {
        ItemRef::Report(r) => ("report_id", r),
        ItemRef::Advisory(a) => ("advisory_id", a),
    };
    qb.push(format!(" o.{column} = ")).push_bind(id.to_string());
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
        ItemRef::Advisory(id) => {
            qb.push(" COALESCE(o.advisory_id, '') = ").push_bind(id.to_string());
        }
    }
}

/// Where and for whom one object version is kept.
#[derive(Clone, Copy)]
pub(crate) struct Placing<'a> {
    pub(crate) collection: &'a str,
    pub(crate) date_added: &'a str,
    pub(crate) tlp: Option<Tlp>,
    pub(crate) item: Option<ItemRef<'a>>,
    pub(crate) owner_org_id: Option<&'a str>,
    pub(crate) audience: Option<&'a OutsideAudience>,
    pub(crate) latest: bool,
}

/// The STIX objects made from one report rendition or advisory, to keep in `collection` at the
/// item's TLP.
pub struct ObjectsOf<'a> {
    pub collection: &'a str,
    pub item: ItemRef<'a>,
    pub tlp: Tlp,
    pub date_added: &'a str,
    pub objects: Vec<StixObject>,
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
            qb.build().fetch_all(&mut *c).await?.iter().map(row_from).collect()
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
            let mut qb = QueryBuilder::new("SELECT v.value, o.collection, o.seq, o.stix_id, o.type, o.spec_version, o.version, o.date_added, o.tlp, o.owner_org_id, o.body, c.originator_org_id AS conceal_org_id, c.secretariat_org_id AS conceal_secretariat_id FROM stix_values v JOIN stix_objects o ON o.seq = v.seq LEFT JOIN reports r ON r.id = o.report_id LEFT JOIN chains c ON c.id = r.chain_id AND c.route = 'anonymised' WHERE o.latest AND NOT");
            push_same_item(&mut qb, besides);
            qb.push(" AND");
            push_readable(&mut qb, scope);
            push_in(&mut qb, "v.value", values);
            qb.push(" ORDER BY o.date_added DESC, o.seq DESC LIMIT ").push_bind(limit);
            qb.build().fetch_all(&mut *c).await?.iter().map(|r| Ok((r.text("value")?, r.text("collection")?, row_from(r)?))).collect()
        })
    }

    /// The outcome of one POST, if the reader's organisation made it.
    pub async fn taxii_status(&self, scope: &ReadScope, id: &str) -> Result<Option<(String, String, String)>> {
        let sql = "SELECT collection, created_at, outcome FROM taxii_status WHERE id = $1 AND org_id = $2";
        on!(self.read().await?.conn(), c => {
            let row = sqlx::query(sql).bind(id).bind(scope.org_id()).fetch_optional(&mut *c).await?;
            row.map(|r| Ok((r.text("collection")?, r.text("created_at")?, r.text("outcome")?))).transpose()
        })
    }
}

async fn page_on(c: Conn<'_>, scope: &ReadScope, q: &StixQuery) -> Result<Vec<StixRow>> {
    on!(c, c => {
        let mut qb = QueryBuilder::new(if q.without_bodies { COLUMNS_WITHOUT_BODY } else { COLUMNS });
        push_query(&mut qb, scope, q);
        qb.push(" ORDER BY o.date_added, o.seq LIMIT ").push_bind(q.limit + 1);
        qb.build().fetch_all(&mut *c).await?.iter().map(row_from).collect()
    })
}

impl Tx {
    /// [`Store::stix_page`] inside this transaction.
    pub async fn stix_page(&mut self, scope: &ReadScope, q: &StixQuery) -> Result<Vec<StixRow>> {
        page_on(self.conn().await?, scope, q).await
    }

    /// Keeps the objects made from a report or advisory, replacing any made before.
    pub async fn replace_item_objects(&mut self, made: ObjectsOf<'_>) -> Result<()> {
        let (column, id) = match made.item {
            ItemRef::Report(r) => ("report_id", r),
            ItemRef::Advisory(a) => ("advisory_id", a),
        };
        let values = format!("DELETE FROM stix_values WHERE seq IN (SELECT seq FROM stix_objects WHERE {column} = $1)");
        on!(self.conn().await?, c => sqlx::query(&values).bind(id).execute(&mut *c).await?.rows_affected());
        let objects_sql = format!("DELETE FROM stix_objects WHERE {column} = $1");
        on!(self.conn().await?, c => sqlx::query(&objects_sql).bind(id).execute(&mut *c).await?.rows_affected());
        self.insert_item_objects(made).await
    }

    /// Marks an item's objects added now: called when the item gains a reader, so that
    /// reader's TAXII client, polling with `added_after`, sees them.
    pub async fn redate_item_objects(&mut self, item: ItemRef<'_>) -> Result<()> {
        on!(self.conn().await?, c => {
            let mut qb = QueryBuilder::new("UPDATE stix_objects AS o SET date_added = ");
            qb.push_bind(crate::now()).push(" WHERE");
            push_item(&mut qb, item);
            qb.build().execute(&mut *c).await?.rows_affected()
        });
        Ok(())
    }

    /// Keeps the objects made from a new report rendition or advisory (written with the
    /// batch: see the store's `pending` module).
    pub async fn insert_item_objects(&mut self, made: ObjectsOf<'_>) -> Result<()> {
        self.pending.add_item_objects(made);
        Ok(())
    }

    /// Adds versions of outside objects for `owner_org_id`, each with its TLP and audience,
    /// answering per object. Versions of an object are kept per owner, so no organisation
    /// learns what another holds; a version that would reach further than one the owner already
    /// holds is refused. Only versions the importing user may read count as held: a
    /// colleague's RED version must not shape the answer.
    pub async fn add_outside_objects(
        &mut self,
        collection: &str,
        owner_org_id: &str,
        importer_user_id: &str,
        offered: &[(StixObject, Tlp, OutsideAudience)],
        date_added: &str,
    ) -> Result<Vec<AddOutcome>> {
        let mut held: HashMap<String, Vec<(String, Option<Tlp>)>> = HashMap::new();
        let ids: Vec<String> = offered.iter().map(|(o, _, _)| o.id.clone()).collect();
        for part in ids.chunks(500) {
            let rows: Vec<(String, String, Option<String>)> = on!(self.conn().await?, c => {
                let mut qb = QueryBuilder::new("SELECT o.stix_id, o.version, o.tlp FROM stix_objects o WHERE o.collection = ");
                qb.push_bind(collection.to_string()).push(" AND o.owner_org_id = ").push_bind(owner_org_id.to_string());
                qb.push(" AND (o.audience_user_id IS NULL OR o.audience_user_id = ").push_bind(importer_user_id.to_string()).push(")");
                push_in(&mut qb, "o.stix_id", part);
                qb.build_query_as().fetch_all(&mut *c).await?
            });
            for (id, version, tlp) in rows {
                held.entry(id).or_default().push((version, tlp.as_deref().and_then(Tlp::parse)));
            }
        }
        let mut outcomes = Vec::with_capacity(offered.len());
        let mut accepted: Vec<usize> = Vec::new();
        for (i, (o, tlp, _)) in offered.iter().enumerate() {
            let versions = held.entry(o.id.clone()).or_default();
            let outcome = if versions.iter().any(|(v, _)| *v == o.version) {
                AddOutcome::AlreadyHeld
            } else if let Some(tightest) =
                versions.iter().filter_map(|(_, t)| *t).max_by_key(|t| t.rank()).filter(|t| !tlp.keeps_or_tightens(*t))
            {
                AddOutcome::WouldLoosen { held: tightest }
            } else {
                versions.push((o.version.clone(), Some(*tlp)));
                accepted.push(i);
                AddOutcome::Added
            };
            outcomes.push(outcome);
        }
        // Each object's newest version, old or new, is its latest.
        let newest = |id: &str| held.get(id).and_then(|v| v.iter().map(|(v, _)| v.clone()).max()).unwrap_or_default();
        let superseded: Vec<String> =
            accepted.iter().map(|i| offered[*i].0.id.clone()).filter(|id| held[id].len() > 1).collect();
        for part in superseded.chunks(500) {
            on!(self.conn().await?, c => {
                let mut qb = QueryBuilder::new("UPDATE stix_objects SET latest = FALSE WHERE collection = ");
                qb.push_bind(collection.to_string()).push(" AND owner_org_id = ").push_bind(owner_org_id.to_string());
                qb.push(" AND (audience_user_id IS NULL OR audience_user_id = ").push_bind(importer_user_id.to_string()).push(")");
                push_in(&mut qb, "stix_id", part);
                qb.build().execute(&mut *c).await?.rows_affected()
            });
        }
        let rows: Vec<(&StixObject, Placing)> = accepted
            .iter()
            .map(|i| {
                let (o, tlp, audience) = &offered[*i];
                let at = Placing {
                    collection,
                    date_added,
                    tlp: Some(*tlp),
                    item: None,
                    owner_org_id: Some(owner_org_id),
                    audience: Some(audience),
                    latest: o.version == newest(&o.id),
                };
                (o, at)
            })
            .collect();
        insert_objects(self.conn().await?, &rows).await?;
        // A held version that stays newest keeps its flag.
        for part in superseded.chunks(500) {
            on!(self.conn().await?, c => {
                let mut qb = QueryBuilder::new("UPDATE stix_objects SET latest = TRUE WHERE seq IN (SELECT MAX(seq) FROM stix_objects o WHERE o.collection = ");
                qb.push_bind(collection.to_string()).push(" AND o.owner_org_id = ").push_bind(owner_org_id.to_string());
                qb.push(" AND (o.audience_user_id IS NULL OR o.audience_user_id = ").push_bind(importer_user_id.to_string()).push(")");
                push_in(&mut qb, "o.stix_id", part);
                qb.push(" AND o.version = (SELECT MAX(f.version) FROM stix_objects f WHERE ").push(SAME_OBJECT).push(") GROUP BY o.stix_id)");
                qb.build().execute(&mut *c).await?.rows_affected()
            });
        }
        Ok(outcomes)
    }

    /// Deletes the owner's `versions` of an object, keeping the newest remaining version marked
    /// latest. Returns how many were deleted.
    pub async fn delete_outside_object(
        &mut self,
        collection: &str,
        owner_org_id: &str,
        stix_id: &str,
        versions: &[String],
    ) -> Result<u64> {
        let mut deleted = 0;
        let sql = "SELECT seq, version FROM stix_objects WHERE collection = $1 AND stix_id = $2 AND owner_org_id = $3";
        let held: Vec<(i64, String)> = on!(self.conn().await?, c => sqlx::query_as(sql).bind(collection).bind(stix_id).bind(owner_org_id).fetch_all(&mut *c).await?);
        for (seq, version) in &held {
            if versions.contains(version) {
                on!(self.conn().await?, c => sqlx::query("DELETE FROM stix_values WHERE seq = $1").bind(*seq).execute(&mut *c).await?.rows_affected());
                deleted += on!(self.conn().await?, c => sqlx::query("DELETE FROM stix_objects WHERE seq = $1").bind(*seq).execute(&mut *c).await?.rows_affected());
            }
        }
        let newest = "UPDATE stix_objects SET latest = TRUE WHERE seq = (SELECT seq FROM stix_objects WHERE collection = $1 AND stix_id = $2 AND owner_org_id = $3 ORDER BY version DESC LIMIT 1)";
        on!(self.conn().await?, c => sqlx::query(newest).bind(collection).bind(stix_id).bind(owner_org_id).execute(&mut *c).await?.rows_affected());
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
        // Nothing reads it before the commit: written with the batch's other rows.
        self.pending.add_taxii_status([id, org_id, collection, at, outcome].map(str::to_string));
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
            let n: i64 = on!(self.conn().await?, c => sqlx::query_scalar(sql).bind(collection).bind(&o.id).bind(&o.version).fetch_one(&mut *c).await?);
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
                insert_objects(self.conn().await?, &[(o, at)]).await?;
            }
        }
        Ok(())
    }
}

/// Inserts object versions in a few multi-row statements, with their observable values.
pub(crate) async fn insert_objects(mut conn: Conn<'_>, rows: &[(&StixObject, Placing<'_>)]) -> Result<()> {
    // Parameters per statement stay well under SQLite's and PostgreSQL's limits.
    for chunk in crate::statement_parts(rows, 256) {
        let named = chunk.iter().any(|(o, _)| !o.values.is_empty());
        let returned: Vec<(i64, String, String)> = on!(conn.re(), c => {
            let mut qb = QueryBuilder::new(
                "INSERT INTO stix_objects (collection, stix_id, type, spec_version, version, date_added, tlp, body,
                 report_id, advisory_id, owner_org_id, audience_org_id, audience_user_id, need_to_know, latest) ",
            );
            // Borrowed binds: only the body is written out anew.
            qb.push_values(chunk, |mut b, (o, at)| {
                let (report, advisory) = match at.item {
                    Some(ItemRef::Report(r)) => (Some(r), None),
                    Some(ItemRef::Advisory(a)) => (None, Some(a)),
                    None => (None, None),
                };
                b.push_bind(at.collection)
                    .push_bind(o.id.as_str())
                    .push_bind(o.kind.as_str())
                    .push_bind(o.spec_version.as_str())
                    .push_bind(o.version.as_str())
                    .push_bind(at.date_added)
                    .push_bind(at.tlp.map(|t| t.code()))
                    .push_bind(o.body.to_string())
                    .push_bind(report)
                    .push_bind(advisory)
                    .push_bind(at.owner_org_id)
                    .push_bind(at.audience.and_then(|a| a.org_id()))
                    .push_bind(at.audience.and_then(|a| a.user_id()))
                    .push_bind(at.audience.is_some_and(|a| a.need_to_know()))
                    .push_bind(at.latest);
            });
            if named {
                qb.push(" RETURNING seq, stix_id, version");
                qb.build_query_as().fetch_all(&mut *c).await?
            } else {
                // Nothing to index for correlation: no need for the new rows' numbers.
                qb.build().execute(&mut *c).await?;
                Vec::new()
            }
        });
        // RETURNING need not keep the VALUES order; match rows back by id and version.
        let seq_of: std::collections::HashMap<(&str, &str), i64> =
            returned.iter().map(|(seq, id, v)| ((id.as_str(), v.as_str()), *seq)).collect();
        let values: Vec<(&str, i64)> = chunk
            .iter()
            .flat_map(|(o, _)| {
                let seq = seq_of.get(&(o.id.as_str(), o.version.as_str())).copied().unwrap_or_default();
                o.values.iter().map(move |v| (v.as_str(), seq))
            })
            .collect();
        for part in values.chunks(2000) {
            on!(conn.re(), c => {
                let mut qb = QueryBuilder::new("INSERT INTO stix_values (value, seq) ");
                qb.push_values(part, |mut b, (v, seq)| {
                    b.push_bind(*v).push_bind(*seq);
                });
                qb.push(" ON CONFLICT DO NOTHING");
                qb.build().execute(&mut *c).await?.rows_affected()
            });
        }
    }
    Ok(())
}

/// A rendition whose STIX objects are still to be made, with the identifier it was filed under.
#[derive(Debug, Clone)]
pub struct WaitingRendition {
    /// Its place in the backlog, for [`Tx::claim_waiting`].
    pub seq: i64,
    pub report: crate::ReportRow,
    pub identifier: Option<String>,
}

/// Waiting renditions joined to their rows; a scope, then [`WAITING_ORDER`], follow.
const WAITING_FROM: &str =
    " FROM stix_backlog b JOIN reports r ON r.id = b.report_id JOIN chains c ON c.id = r.chain_id";

const WAITING_ORDER: &str = " ORDER BY b.seq LIMIT ";

impl Store {
    /// Up to `limit` committed renditions still waiting for their STIX objects, oldest first:
    /// all of them, or (with a scope) only those the scope may read, so that a reader's wait
    /// never depends on what others filed. Read outside the writer, so that making their
    /// objects holds it only to claim them.
    pub async fn waiting_renditions(&self, scope: Option<&ReadScope>, limit: i64) -> Result<Vec<WaitingRendition>> {
        let select = format!("{}, b.seq AS backlog_seq, b.identifier AS filed_identifier", crate::reports::COLUMNS);
        on!(self.read().await?.conn(), c => {
            let mut qb = match scope {
                Some(scope) => crate::reports::scoped(
                    &select,
                    &format!("{WAITING_FROM} JOIN report_access a ON a.report_id = r.id WHERE "),
                    scope,
                ),
                None => QueryBuilder::new(format!("{select}{WAITING_FROM}")),
            };
            qb.push(WAITING_ORDER).push_bind(limit);
            qb.build().fetch_all(&mut *c).await?.iter().map(waiting_from).collect()
        })
    }
}

impl Tx {
    /// Asks for a new rendition's STIX objects to be made after its batch commits, so the
    /// objects' indexes stay off the hot write (see `stix_backlog` in the migrations).
    pub async fn defer_rendition_objects(&mut self, report_id: &str, identifier: Option<&str>) -> Result<()> {
        self.pending.add_backlog(report_id, identifier);
        Ok(())
    }

    /// Takes these renditions off the backlog, answering those this transaction took: one
    /// another process took first is left out (on PostgreSQL, skipped while it is being taken).
    pub async fn claim_waiting(&mut self, seqs: &[i64]) -> Result<Vec<i64>> {
        if seqs.is_empty() {
            return Ok(Vec::new());
        }
        let postgres = matches!(self.conn().await?, Conn::Postgres(_));
        on!(self.conn().await?, c => {
            let mut qb = QueryBuilder::new("DELETE FROM stix_backlog WHERE seq IN (");
            if postgres {
                qb.push("SELECT seq FROM stix_backlog WHERE seq IN (");
            }
            let mut list = qb.separated(", ");
            for seq in seqs {
                list.push_bind(*seq);
            }
            qb.push(if postgres { ") FOR UPDATE SKIP LOCKED) RETURNING seq" } else { ") RETURNING seq" });
            Ok(qb.build_query_scalar().fetch_all(&mut *c).await?)
        })
    }
}

fn waiting_from(r: &impl Get) -> Result<WaitingRendition> {
    Ok(WaitingRendition {
        seq: r.int("backlog_seq")?,
        report: crate::reports::report_from_row(r)?,
        identifier: r.opt_text("filed_identifier")?,
    })
}
