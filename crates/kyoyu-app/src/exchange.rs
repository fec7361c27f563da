//! STIX in and out, for the JSON API and TAXII alike: an item's bundle, what correlates with
//! a report, outside objects offered for a collection, and the audit entry for reading secret
//! objects. Every read goes through the caller's scope, as the items themselves do.

use crate::reads::audit_secret_reads;
use crate::stix::{catch_up, EXTERNAL};
use crate::views::{Correlation, Correlations, Imported, ObjectVersion, StixBundle};
use crate::{App, AppError, AppResult, Caller};
use kyoyu_domain::FieldError;
use kyoyu_store::{AddOutcome, ItemRef, StixRow};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

/// The largest object brought in from outside, serialised.
pub const MAX_OBJECT_BYTES: usize = 256 * 1024;

/// Appends one audit entry for the RED and AMBER objects a user just read.
pub async fn audit_stix_reads(app: &App, caller: &Caller, rows: &[StixRow]) -> AppResult<()> {
    let secret: Vec<&StixRow> = rows.iter().filter(|r| r.tlp.is_some_and(|t| t.needs_need_to_know())).collect();
    // Who reads an anonymised chain's objects would tell who filed it.
    let concealed = secret.iter().find_map(|r| r.concealed.clone());
    let ids: Vec<&str> = secret.iter().map(|r| r.stix_id.as_str()).collect();
    audit_secret_reads(&app.store, caller, "stix.read", "stix", &ids, concealed).await
}

/// The item's objects with the definitions they refer to. A marking definition goes in only
/// where an object carries it: importers such as MISP's misp-stix tag the whole event with
/// every TLP definition a bundle holds.
fn bundle_of(rows: &[StixRow]) -> StixBundle {
    let mut objects: Vec<Map<String, Value>> = rows.iter().filter_map(|r| serde_json::from_str(&r.body).ok()).collect();
    let used: std::collections::HashSet<String> = objects
        .iter()
        .flat_map(|o| o.get("object_marking_refs").and_then(Value::as_array).cloned().unwrap_or_default())
        .filter_map(|m| m.as_str().map(str::to_string))
        .collect();
    let definitions = kyoyu_stix::extension::definitions().into_iter().filter_map(|o| match o.body {
        Value::Object(d) => Some(d),
        _ => None,
    });
    objects.extend(
        definitions
            .filter(|d| d["type"] != "marking-definition" || d["id"].as_str().is_some_and(|id| used.contains(id))),
    );
    StixBundle::new(objects)
}

/// A report or advisory the caller may read, as a STIX 2.1 bundle.
pub async fn item_bundle(app: &App, caller: &Caller, item: ItemRef<'_>) -> AppResult<StixBundle> {
    catch_up(app, caller).await?;
    let rows = app.store.stix_of_item(&caller.scope(), item).await?;
    if rows.is_empty() {
        return Err(AppError::NotFound);
    }
    audit_stix_reads(app, caller, &rows).await?;
    Ok(bundle_of(&rows))
}

/// Reports the caller may read (as a list shows them), as one STIX 2.1 bundle: an object that
/// several of them share comes once. Ids the caller may not read add nothing.
pub async fn reports_bundle(app: &App, caller: &Caller, ids: &[String]) -> AppResult<StixBundle> {
    catch_up(app, caller).await?;
    let mut rows = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for id in ids {
        for row in app.store.stix_of_item(&caller.scope(), ItemRef::Report(id)).await? {
            if seen.insert((row.stix_id.clone(), row.version.clone())) {
                rows.push(row);
            }
        }
    }
    audit_stix_reads(app, caller, &rows).await?;
    Ok(bundle_of(&rows))
}

/// What else the caller may read that names the same indicators as a report they may read.
pub async fn report_correlations(app: &App, caller: &Caller, id: &str) -> AppResult<Correlations> {
    let item = ItemRef::Report(id);
    if app.store.get_report(&caller.scope(), id).await?.is_none() {
        return Err(AppError::NotFound);
    }
    catch_up(app, caller).await?;
    let values = app.store.stix_values_of_item(item).await?;
    let found = app.store.stix_correlations(&caller.scope(), &values, item, 200).await?;
    let items = found
        .into_iter()
        .map(|(value, collection, r)| Correlation {
            value,
            collection,
            object: serde_json::from_str(&r.body).unwrap_or_default(),
            id: r.stix_id,
            kind: r.kind,
            version: r.version,
            tlp: r.tlp,
        })
        .collect();
    Ok(Correlations { values, items })
}

/// Brings a bundle's objects into the external collection. All or nothing: the first bad
/// object refuses the whole bundle with the path of its bad property.
pub async fn import_bundle(app: &App, caller: &Caller, objects: Vec<Value>) -> AppResult<Imported> {
    if !kyoyu_policy::may_import(caller.principal()) {
        return Err(AppError::forbidden(
            "外部情報を取り込めるのは組織の担当者です",
            "only an organisation's officers may bring in outside information",
        ));
    }
    let mut tx = app.store.begin(caller.actor()).await?;
    let outcome = offer_objects(&mut tx, caller, EXTERNAL, objects, &app.files.limits).await?;
    if let Some(problem) = outcome.problems.into_iter().next() {
        return Err(problem.into());
    }
    tx.audit("stix.import", "collection", EXTERNAL, json!({ "objects": outcome.successes.len() })).await?;
    tx.commit().await?;
    Ok(Imported { collection: EXTERNAL.to_string(), added: outcome.successes })
}

/// The length of `v` as JSON, counted without writing it out (an offer's objects are
/// checked one by one against the size limit).
fn encoded_len(v: &Value) -> usize {
    struct Counter(usize);
    impl std::io::Write for Counter {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut counter = Counter(0);
    serde_json::to_writer(&mut counter, v).map_or(usize::MAX, |()| counter.0)
}

/// The bytes an `artifact` carries in `payload_bin` (base64), decoded.
fn payload_bytes(v: &Value) -> u64 {
    let encoded = v.get("payload_bin").and_then(Value::as_str).map_or(0, str::len) as u64;
    encoded / 4 * 3
}

/// The outcome of offering objects, per object (TAXII shows it as a status resource).
#[derive(Default)]
pub struct Outcome {
    pub successes: Vec<ObjectVersion>,
    pub failures: Vec<ObjectFailure>,
    /// Each failure as a field error, with the path of the bad property.
    pub problems: Vec<FieldError>,
}

/// An object that was not added, and why (a TAXII status resource's failure).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObjectFailure {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default)]
    pub message: String,
}

impl Outcome {
    fn fail(&mut self, id: &str, version: Option<&str>, problem: FieldError) {
        self.failures.push(ObjectFailure {
            id: id.to_string(),
            version: version.map(str::to_string),
            message: format!("{}: {} / {}", problem.field, problem.ja, problem.en),
        });
        self.problems.push(problem);
    }
}

/// Keeps each acceptable object of `objects` in `collection` for the caller's organisation.
/// Bad objects are reported one by one (with the path of the bad property); good ones stay.
pub async fn offer_objects(
    tx: &mut kyoyu_store::Tx,
    caller: &Caller,
    collection: &str,
    objects: Vec<Value>,
    files: &kyoyu_domain::attachment::Limits,
) -> AppResult<Outcome> {
    let mut out = Outcome::default();
    let at = kyoyu_store::now();
    let mut offered = Vec::with_capacity(objects.len());
    let mut index_of = Vec::with_capacity(objects.len());
    // An object is no larger than a file may be, and the files an offer carries (artifacts'
    // payloads) no larger in all than an item's files: the file limits hold here too.
    let object_limit = MAX_OBJECT_BYTES.min(files.file_bytes as usize);
    let mut payloads = 0u64;
    for (i, v) in objects.into_iter().enumerate() {
        let id = v.get("id").and_then(Value::as_str).unwrap_or_default().to_string();
        if encoded_len(&v) > object_limit {
            out.fail(
                &id,
                None,
                FieldError::new(
                    format!("objects[{i}]"),
                    format!("オブジェクトが大きすぎます（上限 {object_limit} バイト）"),
                    format!("the object is over the limit of {object_limit} bytes"),
                ),
            );
            continue;
        }
        payloads += payload_bytes(&v);
        if payloads > files.item_bytes {
            out.fail(
                &id,
                None,
                FieldError::new(
                    format!("objects[{i}].payload_bin"),
                    format!("ファイルの合計が上限（{} MiB）を超えます", files.item_bytes >> 20),
                    format!("the files sent together exceed {} MiB", files.item_bytes >> 20),
                ),
            );
            continue;
        }
        match kyoyu_stix::import::check_object(v, &at) {
            Ok(c) => {
                let tlp = c.tlp.unwrap_or(kyoyu_policy::UNMARKED_OUTSIDE_TLP);
                let audience = kyoyu_policy::outside_audience(c.tlp, caller.principal());
                offered.push((c.object, tlp, audience));
                index_of.push(i);
            }
            Err(p) => {
                let path = if p.path.is_empty() { format!("objects[{i}]") } else { format!("objects[{i}].{}", p.path) };
                out.fail(&id, None, FieldError::new(&path, p.ja, p.en));
            }
        }
    }
    let outcomes = tx.add_outside_objects(collection, caller.org_id(), &caller.user().id, &offered, &at).await?;
    for ((o, tlp, _), (outcome, i)) in offered.iter().zip(outcomes.into_iter().zip(index_of)) {
        match outcome {
            AddOutcome::Added | AddOutcome::AlreadyHeld => {
                out.successes.push(ObjectVersion { id: o.id.clone(), version: o.version.clone() })
            }
            AddOutcome::WouldLoosen { held } => out.fail(
                &o.id,
                Some(&o.version),
                FieldError::new(
                    format!("objects[{i}].object_marking_refs"),
                    format!("TLP を {} から {} に広げることはできません", held.code(), tlp.code()),
                    format!("the scope may not widen from TLP:{} to TLP:{}", held.code(), tlp.code()),
                ),
            ),
        }
    }
    Ok(out)
}
