//! The demo world served on port 0 with a fresh database, and a client that logs in as any of
//! its users: what the API, TAXII and policy tests share.

pub use kyoyu_api::error::ErrorBody;
use kyoyu_app::files::FilesConfig;
use kyoyu_app::seed::{self, Credential, Passwords};
use kyoyu_app::views::{AuditList, Count, Forwarded, ReportView};
use kyoyu_store::Store;
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::HashMap;

pub struct TestApp {
    pub base: String,
    pub users: HashMap<String, Credential>,
    pub client: reqwest::Client,
    pub data_dir: tempfile::TempDir,
    pub store: Store,
    /// Web session tokens made for users, by login (only `web` tokens open the web UI).
    web_tokens: std::sync::Mutex<HashMap<String, String>>,
    _server: crate::Running,
}

async fn start(dir: tempfile::TempDir, store: Store, users: Vec<Credential>) -> TestApp {
    start_with(dir, store, users, Default::default()).await
}

async fn start_with(dir: tempfile::TempDir, store: Store, users: Vec<Credential>, files: FilesConfig) -> TestApp {
    let config = kyoyu_api::ServerConfig { files, ..mail_config().into() };
    let server = crate::serve(store.clone(), config).await;
    test_app(server, dir, store, users)
}

/// The demo world with files kept as `files` says (a zip inspector, other limits or keys).
pub async fn spawn_demo_with_files(files: FilesConfig) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let store = test_store(dir.path()).await;
    let users = seed::seed_demo(&store, Passwords::TokensOnly).await.unwrap();
    start_with(dir, store, users, files).await
}

/// A download's status, headers and bytes.
pub struct Downloaded {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub bytes: Vec<u8>,
}

impl Downloaded {
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default()
    }
}

/// The demo world served by the bare API router, without the server's background tasks (so
/// nothing makes new renditions' STIX objects unless a read asks for them).
pub async fn spawn_demo_without_background() -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let store = test_store(dir.path()).await;
    let users = seed::seed_demo(&store, Passwords::TokensOnly).await.unwrap();
    let state = kyoyu_api::AppState::new(store.clone(), mail_config().into());
    let server = crate::serve_router(kyoyu_api::app_with(state, kyoyu_web::beside_api())).await;
    test_app(server, dir, store, users)
}

/// The fields an error names, in its order.
pub fn fields(error: &ErrorBody) -> Vec<String> {
    error.error.fields.iter().map(|f| f.field.clone()).collect()
}

/// An answer read as its view type: a renamed or missing field fails the test here.
pub fn view<T: serde::de::DeserializeOwned>(answer: &Value) -> T {
    serde_json::from_value(answer.clone())
        .unwrap_or_else(|e| panic!("the answer is not a {}: {e}\n{answer}", std::any::type_name::<T>()))
}

fn test_app(server: crate::Running, dir: tempfile::TempDir, store: Store, users: Vec<Credential>) -> TestApp {
    TestApp {
        base: server.base.clone(),
        users: users.into_iter().map(|u| (u.login.clone(), u)).collect(),
        client: reqwest::Client::new(),
        data_dir: dir,
        store,
        web_tokens: Default::default(),
        _server: server,
    }
}

/// Mail goes to the SMTP server a test names in KYOYU_TEST_SMTP_PORT (see `mail.rs`).
fn mail_config() -> kyoyu_api::notify::MailConfig {
    let mut config = kyoyu_api::notify::MailConfig {
        retry_base: std::time::Duration::from_millis(200),
        poll_every: std::time::Duration::from_millis(100),
        ..Default::default()
    };
    if let Some(port) = MAIL_PORT.with(|p| *p.borrow()) {
        config.smtp = Some(kyoyu_api::notify::SmtpConfig {
            host: "127.0.0.1".into(),
            port,
            tls: kyoyu_api::notify::SmtpTls::None,
            username: None,
            password: None,
            from: "kyoyu <kyoyu@example.jp>".into(),
        });
    }
    config
}

thread_local! {
    /// The SMTP port the next server started on this thread sends to.
    pub static MAIL_PORT: std::cell::RefCell<Option<u16>> = const { std::cell::RefCell::new(None) };
}

use crate::store_in as test_store;

/// The demo world (every sector, CEPTOARs, two operators each), with tokens but no passwords.
pub async fn spawn_demo() -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let store = test_store(dir.path()).await;
    let users = seed::seed_demo(&store, Passwords::TokensOnly).await.unwrap();
    start(dir, store, users).await
}

/// Reference data and one system administrator, logged in as "admin".
pub async fn spawn_bare() -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let store = test_store(dir.path()).await;
    seed::install_reference(&store).await.unwrap();
    let admin = seed::bootstrap_admin(&store).await.unwrap().unwrap();
    start(dir, store, vec![admin]).await
}

impl TestApp {
    /// Adds an organisation of `kind` (through system administration) with one need-to-know
    /// user, `login`, in `role`; answers the organisation's id.
    pub async fn add_org(&mut self, kind: &str, sector: Option<&str>, name: &str, login: &str, role: &str) -> String {
        let body = json!({"kind": kind, "name_ja": name, "name_en": name, "sector": sector});
        let org: kyoyu_app::views::OrgView = self.post_as("/api/v1/admin/orgs", "ops.admin", body).await;
        let body =
            json!({"org_id": org.id, "login": login, "display_name": login, "roles": [role], "need_to_know": true});
        let user: kyoyu_store::UserRow = self.post_as("/api/v1/admin/users", "ops.admin", body).await;
        let mut cred = self.user("ops.admin").clone();
        cred.token = self.token_for(&user.id).await;
        cred.user_id = user.id;
        cred.org_id = org.id.clone();
        cred.org_name = name.to_string();
        cred.org_kind = kyoyu_domain::codes::OrgKind::parse(kind).expect("a kind of domain.md §2");
        cred.sector = sector.map(str::to_string);
        cred.login = login.to_string();
        self.users.insert(login.to_string(), cred);
        org.id
    }

    /// Reads an answer as its view type, as `login` (see `crate::Client`).
    pub async fn typed<T: serde::de::DeserializeOwned>(&self, path: &str, login: &str) -> T {
        let client = crate::Client::new(&self.base);
        let token = &self.user(login).token;
        client.get(path, token).await.unwrap_or_else(|r| panic!("GET {path} as {login}: {} {}", r.status, r.body))
    }

    /// An API token for a user the test made, as its owner would mint it (only owners
    /// mint tokens through the API). A fixture, like the demo's seeded tokens.
    pub async fn token_for(&self, user_id: &str) -> String {
        self.token_of_kind(user_id, "api").await
    }

    /// The web session of a user, made once per test as its log-in would.
    pub async fn web_token(&self, login: &str) -> String {
        if let Some(t) = self.web_tokens.lock().unwrap().get(login) {
            return t.clone();
        }
        let token = self.token_of_kind(&self.user(login).user_id, "web").await;
        self.web_tokens.lock().unwrap().insert(login.to_string(), token.clone());
        token
    }

    async fn token_of_kind(&self, user_id: &str, kind: &str) -> String {
        let token = kyoyu_app::auth::new_token();
        let row = kyoyu_store::TokenRow {
            id: kyoyu_store::new_id(),
            user_id: user_id.into(),
            label: "test".into(),
            kind: kind.into(),
            expires_at: None,
            revoked_at: None,
            created_at: kyoyu_store::now(),
        };
        let mut tx = self.store.begin(kyoyu_store::Actor::default()).await.unwrap();
        tx.insert_token(&row, &kyoyu_app::auth::token_hash(&token)).await.unwrap();
        tx.commit().await.unwrap();
        token
    }

    pub fn user(&self, login: &str) -> &Credential {
        self.users.get(login).unwrap_or_else(|| panic!("no user {login}"))
    }

    pub fn org(&self, login: &str) -> String {
        self.user(login).org_id.clone()
    }

    pub async fn request(&self, method: Method, path: &str, login: Option<&str>, body: Option<Value>) -> (u16, Value) {
        let token = login.map(|l| self.user(l).token.clone());
        self.request_with_token(method, path, token.as_deref(), body).await
    }

    pub async fn request_with_token(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self.client.request(method, format!("{}{}", self.base, path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    /// A web UI page as the user sees it (the session cookie carries the user's token).
    pub async fn page(&self, path: &str, login: &str) -> (u16, String) {
        let cookie = format!("kyoyu_session={}", self.web_token(login).await);
        let resp = self.client.get(format!("{}{}", self.base, path)).header("cookie", cookie).send().await.unwrap();
        (resp.status().as_u16(), resp.text().await.unwrap())
    }

    /// A web UI form post as the user; answers the status.
    pub async fn post_page(&self, path: &str, login: &str, form: &[(&str, &str)]) -> u16 {
        let cookie = format!("kyoyu_session={}", self.web_token(login).await);
        let resp = self
            .client
            .post(format!("{}{}", self.base, path))
            .header("cookie", cookie)
            .form(form)
            .send()
            .await
            .unwrap();
        resp.status().as_u16()
    }

    /// A request expected to succeed, its answer read as `T`.
    pub async fn call<T: serde::de::DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        login: &str,
        body: Option<Value>,
    ) -> T {
        let (status, answer) = self.request(method.clone(), path, Some(login), body).await;
        assert!((200..300).contains(&status), "{method} {path} as {login}: {status} {answer}");
        view(&answer)
    }

    pub async fn post_as<T: serde::de::DeserializeOwned>(&self, path: &str, login: &str, body: Value) -> T {
        self.call(Method::POST, path, login, Some(body)).await
    }

    pub async fn patch_as<T: serde::de::DeserializeOwned>(&self, path: &str, login: &str, body: Value) -> T {
        self.call(Method::PATCH, path, login, Some(body)).await
    }

    /// A request expected to be refused: its status and its error, read as the API's error type.
    pub async fn refusal(&self, method: Method, path: &str, login: &str, body: Option<Value>) -> (u16, ErrorBody) {
        let (status, answer) = self.request(method.clone(), path, Some(login), body).await;
        assert!(!(200..300).contains(&status), "{method} {path} as {login} was accepted: {answer}");
        (status, view(&answer))
    }

    pub async fn post_refused(&self, path: &str, login: &str, body: Value) -> (u16, ErrorBody) {
        self.refusal(Method::POST, path, login, Some(body)).await
    }

    pub async fn get(&self, path: &str, login: &str) -> (u16, Value) {
        self.request(Method::GET, path, Some(login), None).await
    }

    pub async fn post(&self, path: &str, login: &str, body: Value) -> (u16, Value) {
        self.request(Method::POST, path, Some(login), Some(body)).await
    }

    /// Uploads `bytes` as the file `name` to `path` (an item's attachments), with the
    /// metadata parts first; answers the status and the answer.
    pub async fn upload(
        &self,
        path: &str,
        login: &str,
        parts: &[(&str, &str)],
        name: &str,
        bytes: Vec<u8>,
    ) -> (u16, Value) {
        let mut form = reqwest::multipart::Form::new();
        for (k, v) in parts {
            form = form.text(k.to_string(), v.to_string());
        }
        form = form.part("file", reqwest::multipart::Part::bytes(bytes).file_name(name.to_string()));
        let resp = self
            .client
            .post(format!("{}{}", self.base, path))
            .bearer_auth(&self.user(login).token)
            .multipart(form)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    /// Uploads a file onto a report, expecting success.
    pub async fn attach(
        &self,
        report_id: &str,
        login: &str,
        parts: &[(&str, &str)],
        name: &str,
        bytes: &[u8],
    ) -> kyoyu_app::files::AttachmentView {
        let (status, answer) =
            self.upload(&format!("/api/v1/reports/{report_id}/attachments"), login, parts, name, bytes.to_vec()).await;
        assert_eq!(status, 201, "upload of {name} as {login}: {answer}");
        view(&answer)
    }

    /// Downloads a file (`query` such as `as=raw`) as `login`.
    pub async fn download(&self, id: &str, login: &str, query: &str) -> Downloaded {
        let resp = self
            .client
            .get(format!("{}/api/v1/attachments/{id}/download?{query}", self.base))
            .bearer_auth(&self.user(login).token)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        Downloaded { status, headers, bytes: resp.bytes().await.unwrap().to_vec() }
    }

    /// Files a report, expecting success.
    pub async fn file(&self, login: &str, route: &str, tlp: &str, extra: Value) -> ReportView {
        let body = report_body(self.user(login).sector.as_deref().unwrap(), route, tlp, extra);
        let (status, answer) = self.post("/api/v1/reports", login, body).await;
        assert_eq!(status, 201, "{answer}");
        view(&answer)
    }

    /// Forwards a rendition, expecting success; answers the rendition it made.
    pub async fn forward(&self, id: &str, login: &str, edits: Value) -> ReportView {
        self.forwarded(id, login, edits).await.report
    }

    /// Forwards a rendition, expecting success; answers the rendition and what scrubbing removed.
    pub async fn forwarded(&self, id: &str, login: &str, edits: Value) -> Forwarded {
        let (status, answer) = self.post(&format!("/api/v1/reports/{id}/forward"), login, edits).await;
        assert_eq!(status, 201, "{answer}");
        view(&answer)
    }

    /// The ids of every rendition a user's list returns (all pages) for a query string.
    pub async fn list_ids(&self, login: &str, query: &str) -> Vec<String> {
        let mut ids = Vec::new();
        let mut offset = 0;
        loop {
            let sep = if query.is_empty() { "" } else { "&" };
            let page: kyoyu_app::views::ReportList =
                self.typed(&format!("/api/v1/reports?limit=100&offset={offset}{sep}{query}"), login).await;
            let count = page.items.len();
            ids.extend(page.items.into_iter().map(|r| r.id));
            if count < 100 {
                return ids;
            }
            offset += 100;
        }
    }

    pub async fn count(&self, login: &str, query: &str) -> i64 {
        self.typed::<Count>(&format!("/api/v1/reports/count?{query}"), login).await.count
    }

    pub async fn count_advisories(&self, login: &str) -> i64 {
        self.typed::<Count>("/api/v1/advisories/count", login).await.count
    }

    pub async fn audit_len(&self) -> usize {
        let audit: AuditList = self.typed("/api/v1/admin/audit?limit=1", "ops.admin").await;
        audit.items.first().map_or(0, |entry| entry.seq as usize)
    }
}

/// A complete report body for a sector.
pub fn report_body(sector: &str, route: &str, tlp: &str, extra: Value) -> Value {
    let mut body = json!({
        "route": route,
        "statutory": false,
        "severity": "warning",
        "tlp": tlp,
        "tlp_note": "",
        "has_attachments": false,
        "event_type": "malware_infection",
        "causes": ["suspicious_email"],
        "sector": sector,
        "summary": {
            "description": "業務端末でマルウェア感染を検知",
            "discovered_at": "2026-04-01T10:00:00+09:00",
            "occurred_at": "2026-04-01T09:30:00+09:00",
            "occurred_note": "サーバログから推定",
            "affected_system": "業務系端末"
        },
        "impact": {"service_level_deviation": false, "spread_possible": true, "system_status": "partial", "notes": ""},
        "timeline": [{"at": "2026-04-01T09:30:00+09:00", "text": "不審メール受信"}],
        "outlook": "investigating",
        "lessons": "",
        "press": {"status": "none"},
        "notified_parties": ["都道府県警察"]
    });
    if let (Value::Object(b), Value::Object(e)) = (&mut body, extra) {
        b.extend(e);
    }
    body
}
