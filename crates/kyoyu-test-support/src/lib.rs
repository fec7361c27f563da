//! What kyoyu's tests share.
//!
//! Every suite runs on SQLite by default and on PostgreSQL when `KYOYU_TEST_DATABASE_URL`
//! names a server. A test that needs PostgreSQL whatever the backend (two processes on one
//! database) asks [`postgres_url`]: the named server, or else a throwaway cluster started
//! from the installed PostgreSQL binaries, so `cargo test` needs no running database server.
//! [`serve`] starts the real server on port 0, as production does; [`Client`] speaks HTTP to it
//! as a client would and reads answers as their types.

mod client;
mod cluster;
pub mod demo;
mod python;
mod server;

pub use client::{Client, Refused};
pub use python::python_with;
pub use server::{serve, serve_router, Running};

use kyoyu_store::Store;

/// The PostgreSQL server tests may use: `KYOYU_TEST_DATABASE_URL`, else a throwaway cluster
/// this process starts once (and a watchdog removes when the process ends).
pub fn postgres_url() -> String {
    match std::env::var("KYOYU_TEST_DATABASE_URL") {
        Ok(url) => url,
        Err(_) => cluster::throwaway().url.clone(),
    }
}

/// The backend the suite runs on: `Some(url)` for PostgreSQL, `None` for SQLite.
pub fn backend_url() -> Option<String> {
    std::env::var("KYOYU_TEST_DATABASE_URL").ok()
}

/// A fresh store: its own PostgreSQL schema when the suite runs on PostgreSQL, else SQLite in
/// a fresh directory (kept as long as the directory).
pub async fn test_store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = store_in(dir.path()).await;
    (dir, store)
}

/// As [`test_store`], with SQLite in `dir`.
pub async fn store_in(dir: &std::path::Path) -> Store {
    match backend_url() {
        Some(url) => Store::connect_postgres_fresh_schema(&url).await.expect("PostgreSQL for tests").0,
        None => Store::open(dir).await.expect("SQLite for tests"),
    }
}

/// Two stores on one fresh database, as two processes would hold it.
pub async fn two_test_stores() -> (tempfile::TempDir, Store, Store) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let Some(url) = backend_url() else {
        let first = Store::open(dir.path()).await.expect("SQLite for tests");
        let second = Store::open(dir.path()).await.expect("SQLite for tests");
        return (dir, first, second);
    };
    let (first, schema) = Store::connect_postgres_fresh_schema(&url).await.expect("PostgreSQL for tests");
    let second = Store::connect_postgres_in_schema(&url, &schema).await.expect("PostgreSQL for tests");
    (dir, first, second)
}
