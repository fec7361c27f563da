//! The web UI of kyoyu: server-rendered pages for every role, Japanese first, English second.
//!
//! Pages never reach the store on their own for items: they call the JSON API's handlers
//! in-process ([`call`]), so the policy, validation, transactions and audit are the API's.

pub mod call;
pub mod export;
pub mod form;
pub mod i18n;
pub mod layout;
pub mod pages;
pub mod session;
pub mod widgets;

use axum::http::{HeaderName, HeaderValue};
use axum::routing::{get, post};
use axum::Router;
use kyoyu_api::AppState;
use pages::{
    admin, advisories, board, confirm, council, files, home, login, notices, partner, print, relay, report_list,
    reports, statistics, widenings,
};
use tower_http::set_header::SetResponseHeaderLayer;

/// What every page forbids the browser: scripts, styles and frames from elsewhere, inline
/// scripts, forms posting away, and being framed (clickjacking).
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
     frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'";

fn header_layer(name: &'static str, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(HeaderName::from_static(name), HeaderValue::from_static(value))
}

/// The web UI's routes, merged beside the JSON API and TAXII.
pub fn routes() -> Router<AppState> {
    pages()
        .layer(header_layer("content-security-policy", CONTENT_SECURITY_POLICY))
        .layer(header_layer("x-content-type-options", "nosniff"))
        .layer(header_layer("referrer-policy", "same-origin"))
        .layer(header_layer("cache-control", "no-store"))
}

fn pages() -> Router<AppState> {
    Router::new()
        .route("/", get(home::home))
        .route("/static/style.css", get(|| async { layout::css() }))
        .route("/static/app.js", get(|| async { layout::js() }))
        .route("/login", get(login::show_login).post(login::submit_login))
        .route("/password", get(login::show_password).post(login::submit_password))
        .route("/logout", post(login::logout))
        .route("/lang/{code}", get(login::switch_lang))
        .route("/account", get(login::account))
        .route("/account/totp", post(login::enrol_totp))
        .route("/account/totp/remove", post(login::remove_totp))
        .route("/reports", get(report_list::list))
        .route("/reports/export.csv", get(report_list::export_csv))
        .route("/reports/export.stix.json", get(report_list::export_stix))
        .route("/reports/{id}/triage", post(board::save_triage))
        .route("/reports/new", get(reports::new_form).post(reports::submit_new))
        .route("/reports/{id}", get(reports::view))
        .route("/reports/{id}/forward", get(reports::forward_form).post(reports::submit_forward))
        .route("/reports/{id}/print", get(print::report_print))
        .route("/reports/{id}/pdf", get(print::report_pdf))
        .route("/advisories", get(advisories::list))
        .route("/advisories/new", get(advisories::new_form).post(advisories::submit_new))
        .route("/advisories/{id}", get(advisories::view).post(advisories::submit_draft))
        .route("/advisories/{id}/widening", post(advisories::request_widening))
        .route("/advisories/{id}/issue", get(confirm::issue_advisory).post(advisories::issue))
        .route("/advisories/{id}/ack", post(advisories::acknowledge))
        .route("/advisories/{id}/relay", post(relay::relay))
        .route("/advisories/{id}/questions", post(advisories::ask))
        .route("/advisories/{id}/follow-up", post(advisories::follow_up))
        .route("/reports/{id}/share", post(reports::share))
        .route("/reports/{id}/council-share", post(council::share))
        .route("/council", get(council::show))
        .route("/council/join", post(council::join))
        .route("/council/leave", post(council::leave))
        .route("/reports/{id}/consent", get(confirm::consent).post(reports::consent))
        .route("/reports/{id}/publish", get(confirm::publish).post(reports::publish))
        .route("/files/{id}/download", get(files::download))
        .route("/files/{id}/grants", post(files::grant))
        .route("/notifications", get(notices::list))
        .route("/notifications/read", post(notices::read_all))
        .route("/notifications/settings", post(notices::save_settings))
        .route("/advisories/{id}/print", get(print::advisory_print))
        .route("/advisories/{id}/pdf", get(print::advisory_pdf))
        .merge(uploads())
        .merge(statistics::routes())
        .merge(admin::routes())
        .merge(widenings::routes())
        .merge(partner::routes())
}

/// File uploads stream past the form body limit; the files' own limits apply as they arrive.
fn uploads() -> Router<AppState> {
    Router::new()
        .route("/reports/{id}/files", post(files::upload_to_report))
        .route("/advisories/{id}/files", post(files::upload_to_advisory))
        .route("/partner-information/{id}/files", post(files::upload_to_partner))
        .layer(axum::extract::DefaultBodyLimit::disable())
}

/// Everything served beside the JSON API: the web UI and the TAXII 2.1 server.
pub fn beside_api() -> Router<AppState> {
    routes().merge(kyoyu_taxii::routes())
}

/// Serves the JSON API, TAXII and the web UI on `listener` until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    store: kyoyu_store::Store,
    config: impl Into<kyoyu_api::ServerConfig>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    kyoyu_api::serve_with(listener, store, config, beside_api(), shutdown).await
}
