//! The HTTP layer of kyoyu: the JSON API under `/api/v1` and its OpenAPI document.
//!
//! [`serve`] builds the app on a listener it is given, so tests start the real server on
//! port 0 exactly as production does.

pub mod admin;
pub mod advisories;
pub mod attachments;
pub mod council;
pub mod error;
pub mod extract;
pub mod notifications;
pub mod openapi;
pub mod partner;
/// Notifications and the mail outbox, from the application layer.
pub use kyoyu_app::notify;
pub mod query;
pub mod reports;
mod shape;
pub mod stix;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Router;
use kyoyu_store::Store;
use std::future::Future;
use tokio::net::TcpListener;
use tower_http::trace::TraceLayer;

/// The largest request body accepted, in bytes (documented in the OpenAPI description).
pub const BODY_LIMIT: usize = 1024 * 1024;

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    /// The application layer every operation moved out of the handlers runs in.
    pub app: kyoyu_app::App,
    /// Reverse proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: std::sync::Arc<Vec<std::net::IpAddr>>,
}

/// How a server runs: mail, and the reverse proxies it trusts for client addresses.
#[derive(Clone, Default)]
pub struct ServerConfig {
    pub mail: notify::MailConfig,
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Where file keys come from, the zip inspector, and the limits on files.
    pub files: kyoyu_app::files::FilesConfig,
}

impl From<notify::MailConfig> for ServerConfig {
    fn from(mail: notify::MailConfig) -> Self {
        ServerConfig { mail, trusted_proxies: Vec::new(), files: Default::default() }
    }
}

impl AppState {
    pub fn new(store: Store, config: ServerConfig) -> AppState {
        AppState {
            app: kyoyu_app::App::with_files(store.clone(), config.mail, config.files),
            store,
            trusted_proxies: std::sync::Arc::new(config.trusted_proxies),
        }
    }
}

pub fn app(state: AppState) -> Router {
    app_with(state, Router::new())
}

/// The app with `extra` routes (the web UI) beside the JSON API and TAXII.
pub fn app_with(state: AppState, extra: Router<AppState>) -> Router {
    let (api, _) = openapi::router().split_for_parts();
    Router::new()
        .merge(api)
        .merge(extra)
        .fallback(not_found)
        .layer(axum::middleware::from_fn(extract::refuse_nul_in_uri))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// An unknown path: the JSON error for API clients, a page for browsers (the web UI is served
/// beside the API, and a mistyped address should not answer JSON to a person).
async fn not_found(headers: axum::http::HeaderMap) -> axum::response::Response {
    let wants_html = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|a| a.contains("text/html"));
    if !wants_html {
        return error::ApiError::NOT_FOUND.into_response();
    }
    let page = "<!DOCTYPE html><html lang=\"ja\"><head><meta charset=\"utf-8\"><title>404</title>\
        <link rel=\"stylesheet\" href=\"/static/style.css\"></head><body><main class=\"error-page\"><h1>404</h1>\
        <p lang=\"ja\">ページが見つかりません</p><p lang=\"en\">page not found</p>\
        <p><a href=\"/\">ホームへ / Home</a></p></main></body></html>";
    (StatusCode::NOT_FOUND, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], page).into_response()
}

/// Serves on `listener` until `shutdown` completes, with the mail worker and the maker of
/// new renditions' STIX objects beside it.
pub async fn serve(
    listener: TcpListener,
    store: Store,
    config: impl Into<ServerConfig>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(listener, store, config, Router::new(), shutdown).await
}

/// As [`serve`], with `extra` routes (the web UI) beside the API.
pub async fn serve_with(
    listener: TcpListener,
    store: Store,
    config: impl Into<ServerConfig>,
    extra: Router<AppState>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let config = config.into();
    kyoyu_app::stix::install_definitions(&store).await.map_err(|e| std::io::Error::other(e.to_string()))?;
    notify::spawn_worker(store.clone(), config.mail.clone());
    let _statistics = store.keep_statistics().await.map_err(|e| std::io::Error::other(e.to_string()))?;
    let _checkpoints = store.copy_wal_in_background().await.map_err(|e| std::io::Error::other(e.to_string()))?;
    let state = AppState::new(store, config);
    let _follower = kyoyu_app::stix::spawn_follower(state.app.clone());
    let app = app_with(state, extra);
    axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await
}
