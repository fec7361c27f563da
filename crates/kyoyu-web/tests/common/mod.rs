//! Starts the real server (API, TAXII and web UI) on port 0 with the demo world, and drives
//! it as a browser would: over HTTP with cookies, or in headless Chromium through
//! chromedriver.
#![allow(dead_code)]

pub mod browser;

use kyoyu_app::seed::{self, Credential, Passwords};
use kyoyu_store::Store;
use std::collections::HashMap;
use std::path::PathBuf;

/// The users the web tests log in as: one per role along both chains.
pub const WEB_USERS: &[&str] = &[
    "gas-a.ntk",
    "gas-a.admin",
    "gas-a.member",
    "gas-b.ntk",
    "gas-ceptoar.secretariat",
    "meti.liaison",
    "nisc.cip",
    "ops.admin",
    "finance-a.ntk",
    "fsa.liaison",
    "police.ntk",
    "council.ntk",
    "institute.ntk",
];

pub struct WebApp {
    pub base: String,
    pub users: HashMap<String, Credential>,
    pub store: Store,
    _dir: tempfile::TempDir,
    _server: kyoyu_test_support::Running,
}

/// The store a test runs on (see `kyoyu_test_support`).
pub use kyoyu_test_support::store_in as test_store;

pub async fn spawn_web() -> WebApp {
    let dir = tempfile::tempdir().unwrap();
    let store = test_store(dir.path()).await;
    let users = seed::seed_demo(&store, Passwords::For(WEB_USERS)).await.unwrap();
    let server = kyoyu_test_support::serve(store.clone(), Default::default()).await;
    let users = users.into_iter().map(|u| (u.login.clone(), u)).collect();
    WebApp { base: server.base.clone(), users, store, _dir: dir, _server: server }
}

impl WebApp {
    pub fn user(&self, login: &str) -> &Credential {
        self.users.get(login).unwrap_or_else(|| panic!("no user {login}"))
    }

    pub fn password(&self, login: &str) -> String {
        let p = self.user(login).password.clone();
        assert!(!p.is_empty(), "{login} has no password; add it to WEB_USERS");
        p
    }

    /// An HTTP client logged in through the log-in form (cookies kept), in `lang`.
    pub async fn client(&self, login: &str, lang: &str) -> Session {
        let http =
            reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let s = Session { http, base: self.base.clone() };
        s.get(&format!("/lang/{lang}")).await;
        let page = s.get("/login").await.1;
        let csrf = hidden(&page, "_csrf");
        let (status, _) =
            s.post_form("/login", &[("_csrf", &csrf), ("login", login), ("password", &self.password(login))]).await;
        assert_eq!(status, 303, "log-in of {login} failed");
        s
    }
}

/// A logged-in HTTP session.
pub struct Session {
    pub http: reqwest::Client,
    pub base: String,
}

impl Session {
    pub async fn get(&self, path: &str) -> (u16, String) {
        let r = self.http.get(format!("{}{}", self.base, path)).send().await.unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }

    pub async fn get_bytes(&self, path: &str) -> (u16, Vec<u8>) {
        let r = self.http.get(format!("{}{}", self.base, path)).send().await.unwrap();
        (r.status().as_u16(), r.bytes().await.unwrap().to_vec())
    }

    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> (u16, String) {
        let r = self.http.post(format!("{}{}", self.base, path)).form(form).send().await.unwrap();
        let status = r.status().as_u16();
        let location = r.headers().get("location").and_then(|v| v.to_str().ok()).map(str::to_string);
        let text = r.text().await.unwrap();
        (status, location.unwrap_or(text))
    }

    /// The CSRF token of any logged-in page.
    pub async fn csrf(&self) -> String {
        hidden(&self.get("/account").await.1, "_csrf")
    }
}

/// The value of a hidden input in a page.
pub fn hidden(page: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page.find(&marker).unwrap_or_else(|| panic!("no hidden {name} in page")) + marker.len();
    page[start..].split('"').next().unwrap().to_string()
}

/// Where screenshots and PDFs of a test are kept (CI keeps them as artefacts).
pub fn artefacts(test: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("web-artefacts").join(test);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
