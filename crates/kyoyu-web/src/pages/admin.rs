//! Administration pages.
use axum::Router;
use kyoyu_api::AppState;
pub fn routes() -> Router<AppState> {
    Router::new()
}
