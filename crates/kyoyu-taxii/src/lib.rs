//! The TAXII 2.1 Collections Server (OASIS TAXII 2.1 §4–§5, §8.1.2) at `/taxii2/`.
//!
//! Collections are views over the policy: every page, filter, version list and `next` token
//! runs through [`kyoyu_store::Store::stix_page`], which reads only what the caller's
//! [`kyoyu_policy::ReadScope`] allows. An object the caller may not read answers 404, exactly
//! like one that does not exist. Reports and advisories are written through their forms and
//! only read here; the external collection takes objects from outside.

use axum::body::Bytes;
use axum::extract::FromRequestParts;
use axum::extract::{Path, Query, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use base64::Engine;
use kyoyu_api::error::{Answer, ApiError, ApiResult};
use kyoyu_api::extract::{Caller, ClientAddress};
use kyoyu_api::AppState;
pub use kyoyu_app::exchange::MAX_OBJECT_BYTES;
use kyoyu_app::exchange::{audit_stix_reads, offer_objects, Outcome};
use kyoyu_app::login::{Attempt, Door};
use kyoyu_domain::FieldError;
use kyoyu_store::{PagePosition, StixQuery, StixRow, VersionMatch};
use serde_json::{json, Value};
use std::collections::HashMap;

pub mod resources;
use resources::{ApiRootInfo, Collection, Collections, Discovery, ErrorMessage, ManifestEntry, Status};

pub const TAXII_MEDIA_TYPE: &str = "application/taxii+json;version=2.1";
pub const STIX_MEDIA_TYPE: &str = "application/stix+json;version=2.1";
pub const API_ROOT: &str = "kyoyu";
/// The largest POST of objects, in bytes (announced as `max_content_length`).
pub const MAX_CONTENT_LENGTH: usize = 16 * 1024 * 1024;
pub const DEFAULT_PAGE: i64 = 100;
pub const MAX_PAGE: i64 = 1000;

/// One collection: a fixed view over kyoyu's items, or the store of outside objects.
pub struct CollectionDef {
    pub id: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    /// Outside objects may be added (by users the policy lets import).
    pub writable: bool,
}

pub use kyoyu_app::stix::{ADVISORIES, DEFINITIONS, EXTERNAL, REPORTS};

pub const COLLECTIONS: [CollectionDef; 4] = [
    CollectionDef {
        id: REPORTS,
        title: "情報連絡 / Reports",
        description: "報告（情報連絡）を STIX にしたもの。読める報告の分だけ見えます / reports as STIX; you see the ones you may read",
        writable: false,
    },
    CollectionDef {
        id: ADVISORIES,
        title: "情報提供 / Advisories",
        description: "情報提供を STIX にしたもの / advisories as STIX",
        writable: false,
    },
    CollectionDef {
        id: EXTERNAL,
        title: "外部情報 / External information",
        description: "国内外の CERT・ISAC 等から取り込んだ情報。TLP で読める範囲が決まります / information from CERTs, ISACs and other kyoyu instances; its TLP decides who reads it",
        writable: true,
    },
    CollectionDef {
        id: DEFINITIONS,
        title: "定義 / Definitions",
        description: "kyoyu の STIX 拡張の定義、TLP 2.0 のマーキング定義 / kyoyu's STIX extension and the TLP 2.0 marking definitions",
        writable: false,
    },
];

pub fn collection(id: &str) -> ApiResult<&'static CollectionDef> {
    COLLECTIONS.iter().find(|c| c.id == id).ok_or(ApiError::NOT_FOUND)
}

pub fn routes() -> Router<AppState> {
    let root = format!("/taxii2/{API_ROOT}");
    Router::new()
        .route("/taxii2/", get(discovery))
        .route(&format!("{root}/"), get(api_root))
        .route(&format!("{root}/collections/"), get(list_collections))
        .route(&format!("{root}/collections/{{collection}}/"), get(get_collection))
        .route(&format!("{root}/collections/{{collection}}/manifest/"), get(manifest))
        .route(&format!("{root}/collections/{{collection}}/objects/"), get(get_objects).post(add_objects))
        .route(&format!("{root}/collections/{{collection}}/objects/{{object}}/"), get(get_object).delete(delete_object))
        .route(&format!("{root}/collections/{{collection}}/objects/{{object}}/versions/"), get(versions))
        .route(&format!("{root}/status/{{status}}/"), get(status))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_CONTENT_LENGTH))
}

/// A caller authenticated by a bearer token or, for TAXII clients, by HTTP Basic with their
/// log-in and password. Failures answer in TAXII's error shape.
pub struct BasicOrBearer(pub Caller);

impl FromRequestParts<AppState> for BasicOrBearer {
    type Rejection = TaxiiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        Ok(BasicOrBearer(basic_or_bearer(parts, state).await?))
    }
}

async fn basic_or_bearer(parts: &mut Parts, state: &AppState) -> Result<Caller, ApiError> {
    let value = parts.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).ok_or(ApiError::UNAUTHORIZED)?;
    if let Some(token) = value.strip_prefix("Bearer ") {
        return Ok(Caller::by_token(&state.app, token, false).await?);
    }
    let encoded = value.strip_prefix("Basic ").ok_or(ApiError::UNAUTHORIZED)?;
    let decoded =
        base64::engine::general_purpose::STANDARD.decode(encoded.trim()).map_err(|_| ApiError::UNAUTHORIZED)?;
    let text = String::from_utf8(decoded).map_err(|_| ApiError::UNAUTHORIZED)?;
    let (login, password) = text.split_once(':').ok_or(ApiError::UNAUTHORIZED)?;
    let address = ClientAddress::of(parts, state);
    let attempt = Attempt { login, password, code: None, address: &address.0, door: Door::Basic };
    Ok(Caller::by_password(&state.app, attempt).await?)
}

/// A TAXII answer: the media type, the date-added headers where a page has objects.
pub struct Taxii {
    status: StatusCode,
    /// JSON text: pages splice stored objects in as they are, without parsing them again.
    body: String,
    added: Option<(String, String)>,
}

impl Taxii {
    fn ok(body: &impl serde::Serialize) -> Taxii {
        Taxii::with_status(StatusCode::OK, body)
    }

    fn with_status(status: StatusCode, body: &impl serde::Serialize) -> Taxii {
        // serde_json cannot fail on these resources: strings, numbers and lists of them.
        Taxii { status, body: serde_json::to_string(body).unwrap_or_default(), added: None }
    }
}

impl IntoResponse for Taxii {
    fn into_response(self) -> Response {
        let mut r = (self.status, self.body).into_response();
        let h = r.headers_mut();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static(TAXII_MEDIA_TYPE));
        if let Some((first, last)) = self.added {
            if let (Ok(f), Ok(l)) = (HeaderValue::from_str(&first), HeaderValue::from_str(&last)) {
                h.insert("X-TAXII-Date-Added-First", f);
                h.insert("X-TAXII-Date-Added-Last", l);
            }
        }
        r
    }
}

/// Errors in TAXII's shape (§3.6.1). Bad parameters answer 400, as TAXII asks.
#[derive(Debug)]
pub enum TaxiiError {
    Api(ApiError),
    /// The body is not TAXII 2.1 JSON.
    UnsupportedMediaType,
    /// The client does not accept TAXII 2.1 JSON.
    NotAcceptable,
}

impl From<ApiError> for TaxiiError {
    fn from(e: ApiError) -> Self {
        TaxiiError::Api(e)
    }
}

impl From<kyoyu_app::AppError> for TaxiiError {
    fn from(e: kyoyu_app::AppError) -> Self {
        TaxiiError::Api(e.into())
    }
}

impl From<kyoyu_store::StoreError> for TaxiiError {
    fn from(e: kyoyu_store::StoreError) -> Self {
        TaxiiError::Api(e.into())
    }
}

impl From<FieldError> for TaxiiError {
    fn from(e: FieldError) -> Self {
        TaxiiError::Api(e.into())
    }
}

impl TaxiiError {
    fn answer(&self) -> Answer {
        let (status, code, ja, en) = match self {
            TaxiiError::Api(e) => return e.answer(),
            TaxiiError::UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                format!("Content-Type は {TAXII_MEDIA_TYPE} にしてください"),
                format!("Content-Type must be {TAXII_MEDIA_TYPE}"),
            ),
            TaxiiError::NotAcceptable => (
                StatusCode::NOT_ACCEPTABLE,
                "not_acceptable",
                format!("Accept に {TAXII_MEDIA_TYPE} を含めてください"),
                format!("Accept must allow {TAXII_MEDIA_TYPE}"),
            ),
        };
        Answer { status, code, ja, en, fields: Vec::new() }
    }
}

impl IntoResponse for TaxiiError {
    fn into_response(self) -> Response {
        let Answer { status, code, ja, en, fields } = self.answer();
        let status = if status == StatusCode::UNPROCESSABLE_ENTITY { StatusCode::BAD_REQUEST } else { status };
        let detail: Vec<String> = fields.iter().map(|f| format!("{}: {} / {}", f.field, f.ja, f.en)).collect();
        let body = ErrorMessage {
            title: en,
            description: if detail.is_empty() { ja } else { format!("{ja}: {}", detail.join("; ")) },
            error_code: code.to_string(),
            http_status: status.as_u16().to_string(),
        };
        let mut r = Taxii::with_status(status, &body).into_response();
        if status == StatusCode::UNAUTHORIZED {
            r.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"kyoyu TAXII\""));
        }
        r
    }
}

type TaxiiResult = Result<Taxii, TaxiiError>;

/// Refuses a client that cannot take TAXII 2.1 JSON (406). No `Accept` means anything.
fn check_accept(headers: &HeaderMap) -> Result<(), TaxiiError> {
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else { return Ok(()) };
    let fits = accept.split(',').map(|m| m.replace(' ', "").to_ascii_lowercase()).any(|m| {
        m.starts_with("*/*")
            || m.starts_with("application/*")
            || m == "application/taxii+json"
            || m.starts_with(TAXII_MEDIA_TYPE)
    });
    if fits {
        Ok(())
    } else {
        Err(TaxiiError::NotAcceptable)
    }
}

/// The authenticated caller, once the client is known to accept TAXII.
fn caller(headers: &HeaderMap, auth: BasicOrBearer) -> Result<Caller, TaxiiError> {
    check_accept(headers)?;
    Ok(auth.0)
}

fn base_url(headers: &HeaderMap) -> String {
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("127.0.0.1");
    let scheme = headers.get("x-forwarded-proto").and_then(|v| v.to_str().ok()).unwrap_or("http");
    format!("{scheme}://{host}")
}

async fn discovery(headers: HeaderMap, auth: BasicOrBearer) -> TaxiiResult {
    let root = format!("{}/taxii2/{API_ROOT}/", base_url(&headers));
    caller(&headers, auth)?;
    Ok(Taxii::ok(&Discovery {
        title: "kyoyu TAXII 2.1".into(),
        description: "重要インフラの情報共有 / critical-infrastructure information sharing".into(),
        api_roots: vec![root.clone()],
        default: root,
    }))
}

async fn api_root(headers: HeaderMap, auth: BasicOrBearer) -> TaxiiResult {
    caller(&headers, auth)?;
    Ok(Taxii::ok(&ApiRootInfo {
        title: "kyoyu".into(),
        description: "情報連絡・情報提供・外部情報 / reports, advisories and external information".into(),
        versions: vec![TAXII_MEDIA_TYPE.into()],
        max_content_length: MAX_CONTENT_LENGTH,
    }))
}

fn collection_view(c: &CollectionDef, caller: &Caller) -> Collection {
    Collection {
        id: c.id.into(),
        title: c.title.into(),
        description: c.description.into(),
        can_read: true,
        can_write: c.writable && kyoyu_policy::may_import(caller.principal()),
        media_types: vec![STIX_MEDIA_TYPE.into()],
    }
}

async fn list_collections(headers: HeaderMap, auth: BasicOrBearer) -> TaxiiResult {
    let caller = caller(&headers, auth)?;
    let collections = COLLECTIONS.iter().map(|c| collection_view(c, &caller)).collect();
    Ok(Taxii::ok(&Collections { collections }))
}

async fn get_collection(headers: HeaderMap, auth: BasicOrBearer, Path(id): Path<String>) -> TaxiiResult {
    let caller = caller(&headers, auth)?;
    Ok(Taxii::ok(&collection_view(collection(&id)?, &caller)))
}

/// Which filters an endpoint takes (§3.4).
#[derive(Clone, Copy)]
enum Endpoint {
    Objects,
    Object,
    Versions,
    Delete,
}

impl Endpoint {
    fn allowed(self) -> &'static [&'static str] {
        match self {
            Endpoint::Objects => {
                &["added_after", "limit", "next", "match[id]", "match[type]", "match[version]", "match[spec_version]"]
            }
            Endpoint::Object => &["added_after", "limit", "next", "match[version]", "match[spec_version]"],
            Endpoint::Versions => &["added_after", "limit", "next", "match[spec_version]"],
            Endpoint::Delete => &["match[version]", "match[spec_version]"],
        }
    }
}

fn bad(param: &str, ja: &str, en: &str) -> TaxiiError {
    TaxiiError::Api(ApiError::field(param, ja, en))
}

fn list(v: &str) -> Vec<String> {
    v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect()
}

fn timestamp(param: &str, v: &str) -> Result<String, TaxiiError> {
    if kyoyu_stix::import::is_timestamp(v) {
        Ok(kyoyu_stix::normalise_timestamp(v))
    } else {
        Err(bad(
            param,
            "RFC 3339 の UTC 時刻（末尾 Z）で指定してください",
            "must be an RFC 3339 UTC timestamp ending in Z",
        ))
    }
}

/// `next` is opaque to clients: the last object of the page (what the client has seen,
/// nothing more; never the installation-wide sequence).
fn next_token(row: &StixRow) -> String {
    let text = format!("{}|{}|{}", row.date_added, row.version, row.stix_id);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}

fn parse_next(v: &str) -> Result<PagePosition, TaxiiError> {
    let wrong =
        || bad("next", "前のページが返した値をそのまま指定してください", "must be the value a previous page returned");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(v).map_err(|_| wrong())?;
    let text = String::from_utf8(bytes).map_err(|_| wrong())?;
    let mut parts = text.splitn(3, '|');
    let (Some(d), Some(version), Some(id)) = (parts.next(), parts.next(), parts.next()) else { return Err(wrong()) };
    if !kyoyu_stix::import::is_timestamp(d) || id.is_empty() || id.contains('\0') {
        return Err(wrong());
    }
    Ok(PagePosition { date_added: d.into(), stix_id: id.into(), version: version.into() })
}

fn versions_filter(v: &str) -> Result<VersionMatch, TaxiiError> {
    let mut m = VersionMatch::default();
    for part in list(v) {
        match part.as_str() {
            "all" => m.all = true,
            "first" => m.first = true,
            "last" => m.last = true,
            t => m.at.push(timestamp("match[version]", t)?),
        }
    }
    Ok(m)
}

/// Reads the filters of one request into a query on `collection`.
fn query(collection: &str, params: &HashMap<String, String>, endpoint: Endpoint) -> Result<StixQuery, TaxiiError> {
    kyoyu_api::query::only(params, endpoint.allowed()).map_err(ApiError::from)?;
    let mut q = StixQuery {
        collection: collection.to_string(),
        limit: DEFAULT_PAGE,
        versions: VersionMatch { last: true, ..Default::default() },
        ..Default::default()
    };
    if matches!(endpoint, Endpoint::Versions | Endpoint::Delete) {
        q.versions = VersionMatch { all: true, ..Default::default() };
    }
    for (key, v) in params {
        match key.as_str() {
            "added_after" => q.added_after = Some(timestamp(key, v)?),
            "limit" => {
                let n: i64 =
                    v.parse().map_err(|_| bad(key, "正の整数で指定してください", "must be a positive integer"))?;
                if n < 1 {
                    return Err(bad(key, "正の整数で指定してください", "must be a positive integer"));
                }
                q.limit = n.min(MAX_PAGE);
            }
            "next" => q.after = Some(parse_next(v)?),
            "match[id]" => q.ids = list(v),
            "match[type]" => q.types = list(v),
            "match[version]" => q.versions = versions_filter(v)?,
            "match[spec_version]" => q.spec_versions = list(v),
            _ => {}
        }
    }
    Ok(q)
}

/// One page of rows, with `more` and `next` set together, and the date-added range.
struct PageOf {
    rows: Vec<StixRow>,
    more: bool,
    next: Option<String>,
}

/// A page stops early once its objects pass this size (a client follows `next`).
const PAGE_BYTES: usize = 4 * 1024 * 1024;

/// How many rows fit a page: at most `limit`, and no more bytes than [`PAGE_BYTES`] (at
/// least one row).
fn page_len(rows: &[StixRow], limit: usize) -> usize {
    let mut bytes = 0;
    rows.iter()
        .take(limit)
        .position(|r| {
            bytes += r.body.len();
            bytes > PAGE_BYTES
        })
        .map_or(rows.len().min(limit), |over| over.max(1))
}

async fn page(state: &AppState, caller: &Caller, q: &StixQuery) -> Result<PageOf, TaxiiError> {
    if q.collection == REPORTS {
        kyoyu_app::stix::catch_up(&state.app, caller).await?;
    }
    let mut rows = state.store.stix_page(&caller.scope(), q).await?;
    let keep = page_len(&rows, q.limit as usize);
    let more = rows.len() > keep;
    rows.truncate(keep);
    audit_stix_reads(&state.app, caller, &rows).await?;
    let next = if more { rows.last().map(next_token) } else { None };
    Ok(PageOf { rows, more, next })
}

fn envelope<T: serde::Serialize>(p: &PageOf, key: &str, items: &[T]) -> Taxii {
    let added = match (p.rows.first(), p.rows.last()) {
        (Some(f), Some(l)) => Some((f.date_added.clone(), l.date_added.clone())),
        _ => None,
    };
    // serde_json cannot fail on strings, lists of them and raw JSON.
    fn text<T: serde::Serialize + ?Sized>(v: &T) -> String {
        serde_json::to_string(v).unwrap_or_default()
    }
    let mut body = format!("{{\"more\":{}", p.more);
    if let Some(n) = &p.next {
        body.push_str(&format!(",\"next\":{}", text(n)));
    }
    if !items.is_empty() {
        body.push_str(&format!(",\"{key}\":{}", text(items)));
    }
    body.push('}');
    Taxii { status: StatusCode::OK, body, added }
}

/// The stored objects of a page as JSON, spliced in unparsed.
fn bodies(p: &PageOf) -> Vec<&serde_json::value::RawValue> {
    p.rows.iter().filter_map(|r| serde_json::from_str(&r.body).ok()).collect()
}

async fn get_objects(
    State(state): State<AppState>,
    headers: HeaderMap,
    auth: BasicOrBearer,
    Path(id): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> TaxiiResult {
    let caller = caller(&headers, auth)?;
    let q = query(collection(&id)?.id, &params, Endpoint::Objects)?;
    let p = page(&state, &caller, &q).await?;
    Ok(envelope(&p, "objects", &bodies(&p)))
}

async fn manifest(
    State(state): State<AppState>,
    headers: HeaderMap,
    auth: BasicOrBearer,
    Path(id): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> TaxiiResult {
    let caller = caller(&headers, auth)?;
    let q = StixQuery { without_bodies: true, ..query(collection(&id)?.id, &params, Endpoint::Objects)? };
    let p = page(&state, &caller, &q).await?;
    let entries: Vec<ManifestEntry<&str>> = p
        .rows
        .iter()
        .map(|r| ManifestEntry {
            id: r.stix_id.as_str(),
            date_added: r.date_added.as_str(),
            version: r.version.as_str(),
            media_type: STIX_MEDIA_TYPE,
        })
        .collect();
    Ok(envelope(&p, "objects", &entries))
}

/// A query for one object id; an id that is not a STIX id answers 404 (nothing can match).
fn object_query(
    collection_id: &str,
    object: &str,
    params: &HashMap<String, String>,
    e: Endpoint,
) -> Result<StixQuery, TaxiiError> {
    let mut q = query(collection(collection_id)?.id, params, e)?;
    if !kyoyu_stix::import::is_stix_id(object) {
        return Err(ApiError::NOT_FOUND.into());
    }
    q.ids = vec![object.to_string()];
    Ok(q)
}

/// A page of one object's versions; 404 when the caller may read none of them (a later page,
/// reached with `next`, may be empty).
async fn object_page(state: &AppState, caller: &Caller, q: &StixQuery) -> Result<PageOf, TaxiiError> {
    let p = page(state, caller, q).await?;
    if p.rows.is_empty() && q.after.is_none() {
        return Err(ApiError::NOT_FOUND.into());
    }
    Ok(p)
}

async fn get_object(
    State(state): State<AppState>,
    headers: HeaderMap,
    auth: BasicOrBearer,
    Path((id, object)): Path<(String, String)>,
    Query(params): Query<HashMap<String, String>>,
) -> TaxiiResult {
    let caller = caller(&headers, auth)?;
    let q = object_query(&id, &object, &params, Endpoint::Object)?;
    let p = object_page(&state, &caller, &q).await?;
    Ok(envelope(&p, "objects", &bodies(&p)))
}

async fn versions(
    State(state): State<AppState>,
    headers: HeaderMap,
    auth: BasicOrBearer,
    Path((id, object)): Path<(String, String)>,
    Query(params): Query<HashMap<String, String>>,
) -> TaxiiResult {
    let caller = caller(&headers, auth)?;
    let q = StixQuery { without_bodies: true, ..object_query(&id, &object, &params, Endpoint::Versions)? };
    let p = object_page(&state, &caller, &q).await?;
    let versions: Vec<&str> = p.rows.iter().map(|r| r.version.as_str()).collect();
    Ok(envelope(&p, "versions", &versions))
}

fn require_writable(c: &CollectionDef, caller: &Caller) -> Result<(), TaxiiError> {
    if c.writable && kyoyu_policy::may_import(caller.principal()) {
        Ok(())
    } else {
        Err(ApiError::forbidden("このコレクションには書き込めません", "you may not write to this collection").into())
    }
}

async fn delete_object(
    State(state): State<AppState>,
    headers: HeaderMap,
    auth: BasicOrBearer,
    Path((id, object)): Path<(String, String)>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<StatusCode, TaxiiError> {
    let caller = caller(&headers, auth)?;
    let q = StixQuery { limit: MAX_PAGE, ..object_query(&id, &object, &params, Endpoint::Delete)? };
    // Only versions the caller may read are touched; none readable is as if none existed.
    let readable = state.store.stix_page(&caller.scope(), &q).await?;
    if readable.is_empty() {
        return Err(ApiError::NOT_FOUND.into());
    }
    require_writable(collection(&id)?, &caller)?;
    let owned: Vec<String> = readable
        .iter()
        .filter(|r| r.owner_org_id.as_deref() == Some(caller.org_id()))
        .map(|r| r.version.clone())
        .collect();
    if owned.is_empty() {
        // Readable, but held by another organisation: only its owner removes it.
        return Err(ApiError::forbidden(
            "他の組織が取り込んだオブジェクトは削除できません",
            "only the organisation that added an object may delete it",
        )
        .into());
    }
    let mut tx = state.store.begin(caller.actor()).await?;
    let deleted = tx.delete_outside_object(&q.collection, caller.org_id(), &object, &owned).await?;
    tx.audit("stix.delete", "stix", &object, json!({ "collection": q.collection, "versions": deleted })).await?;
    tx.commit().await?;
    Ok(StatusCode::OK)
}

/// The outcome of an add as a TAXII status resource.
fn status_of(outcome: Outcome, id: &str, at: &str) -> Status {
    Status {
        id: id.into(),
        status: "complete".into(),
        request_timestamp: Some(at.into()),
        total_count: outcome.successes.len() + outcome.failures.len(),
        success_count: outcome.successes.len(),
        successes: outcome.successes,
        failure_count: outcome.failures.len(),
        failures: outcome.failures,
        pending_count: 0,
        pendings: Vec::new(),
    }
}

/// Reads `{"objects": [...]}`; anything else answers 400 naming what is wrong.
pub fn objects_of(bytes: &[u8]) -> ApiResult<Vec<Value>> {
    kyoyu_api::extract::refuse_nul(bytes)?;
    let mut v: Value = serde_json::from_slice(bytes).map_err(|e| ApiError::Malformed(e.to_string()))?;
    match v.get_mut("objects").map(Value::take) {
        Some(Value::Array(a)) => Ok(a),
        Some(_) => Err(ApiError::field("objects", "配列でなければなりません", "must be an array")),
        None => Err(ApiError::field("objects", "必須です", "is required")),
    }
}

async fn add_objects(
    State(state): State<AppState>,
    headers: HeaderMap,
    auth: BasicOrBearer,
    Path(id): Path<String>,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> TaxiiResult {
    // An oversized or broken body answers in TAXII's error shape, not axum's plain text.
    let body = body.map_err(|e| match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge(MAX_CONTENT_LENGTH),
        _ => ApiError::Malformed(e.body_text()),
    })?;
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let caller = caller(&headers, auth)?;
    let c = collection(&id)?;
    require_writable(c, &caller)?;
    if !content_type.replace(' ', "").to_ascii_lowercase().starts_with(TAXII_MEDIA_TYPE) {
        return Err(TaxiiError::UnsupportedMediaType);
    }
    let objects = objects_of(&body)?;
    let mut tx = state.store.begin(caller.actor()).await?;
    let outcome = offer_objects(&mut tx, &caller, c.id, objects, &state.app.files.limits).await?;
    let status_id = kyoyu_store::new_id();
    let at = kyoyu_store::now();
    let status = status_of(outcome, &status_id, &at);
    let stored = serde_json::to_string(&status).map_err(|e| ApiError::internal("TAXII status", e))?;
    tx.insert_taxii_status(&status_id, caller.org_id(), c.id, &at, &stored).await?;
    tx.audit(
        "stix.add",
        "collection",
        c.id,
        json!({ "status": status_id, "added": status.success_count, "failed": status.failure_count }),
    )
    .await?;
    tx.commit().await?;
    Ok(Taxii::with_status(StatusCode::ACCEPTED, &status))
}

async fn status(
    State(state): State<AppState>,
    headers: HeaderMap,
    auth: BasicOrBearer,
    Path(id): Path<String>,
) -> TaxiiResult {
    let caller = caller(&headers, auth)?;
    let (_, _, outcome) = state.store.taxii_status(&caller.scope(), &id).await?.ok_or(ApiError::NOT_FOUND)?;
    let stored: Status = serde_json::from_str(&outcome).map_err(|e| ApiError::internal("stored TAXII status", e))?;
    Ok(Taxii::ok(&stored))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn filters_are_read_and_bad_ones_named() {
        let q = query(
            EXTERNAL,
            &params(&[
                ("limit", "5000"),
                ("match[type]", "indicator,malware"),
                ("match[version]", "first,2016-11-02T12:34:34.123Z"),
            ]),
            Endpoint::Objects,
        )
        .unwrap();
        assert_eq!(q.limit, MAX_PAGE);
        assert_eq!(q.types, vec!["indicator", "malware"]);
        assert!(
            q.versions.first && !q.versions.last && q.versions.at == vec!["2016-11-02T12:34:34.123000Z".to_string()]
        );
        for (k, v) in [
            ("limit", "0"),
            ("limit", "x"),
            ("added_after", "yesterday"),
            ("next", "!!"),
            ("match[version]", "newest"),
            ("match[colour]", "red"),
        ] {
            let e = query(EXTERNAL, &params(&[(k, v)]), Endpoint::Objects)
                .err()
                .unwrap_or_else(|| panic!("{k}={v} accepted"));
            assert_eq!(e.answer().fields[0].field, k, "{k}={v}");
        }
        assert!(
            query(EXTERNAL, &params(&[("match[type]", "x")]), Endpoint::Object).is_err(),
            "match[type] is not a filter of one object"
        );
    }

    #[test]
    fn next_tokens_round_trip() {
        let row = StixRow {
            seq: 42,
            stix_id: "x".into(),
            kind: "x".into(),
            spec_version: "2.1".into(),
            version: "v".into(),
            date_added: "2026-11-22T00:00:00.000001Z".into(),
            tlp: None,
            owner_org_id: None,
            body: "{}".into(),
            concealed: None,
        };
        let position = parse_next(&next_token(&row)).unwrap();
        assert_eq!((position.date_added.as_str(), position.stix_id.as_str()), (row.date_added.as_str(), "x"));
        assert!(!String::from_utf8(base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(next_token(&row)).unwrap())
            .unwrap()
            .contains("42"));
    }
}
