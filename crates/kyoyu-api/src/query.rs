//! Query parameters: typed (`Params`), paging, and refusing unknown names.

use crate::error::ApiError;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use kyoyu_domain::{FieldError, ValidationErrors};
use kyoyu_store::MAX_PAGE;
use serde::de::DeserializeOwned;
use utoipa::IntoParams;

pub use kyoyu_app::reads::Page;

/// A page from `limit`, `offset` and a list's `next` cursor given back as `after`, each in its
/// range, or errors naming them.
pub fn page(limit: Option<i64>, offset: Option<i64>, after: Option<&str>) -> Result<Page, ValidationErrors> {
    let mut errors = ValidationErrors::default();
    let mut page = Page::default();
    match limit {
        None => {}
        Some(n) if (1..=MAX_PAGE).contains(&n) => page.limit = n,
        Some(_) => errors.push(FieldError::new(
            "limit",
            format!("1 から {MAX_PAGE} の整数で指定してください"),
            format!("must be an integer from 1 to {MAX_PAGE}"),
        )),
    }
    match offset {
        None => {}
        Some(n) if (0..=1_000_000).contains(&n) => page.offset = n,
        Some(_) => errors.push(FieldError::new(
            "offset",
            "0 から 1000000 の整数で指定してください",
            "must be an integer from 0 to 1000000",
        )),
    }
    match after.map(kyoyu_store::Cursor::decode) {
        None => {}
        Some(Some(cursor)) => page.after = Some(cursor),
        Some(None) => errors.push(FieldError::new(
            "after",
            "一覧が返した next の値を指定してください",
            "must be the next value a list answered",
        )),
    }
    errors.into_result(page)
}

/// Query parameters read into `T`: an unknown name, a repeated one, or a value of the wrong
/// type or code answers 422 naming it. `T` documents the same parameters (`IntoParams`), so
/// what is accepted is what is documented.
pub struct Params<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + IntoParams> FromRequestParts<S> for Params<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let raw = parts.uri.query().unwrap_or_default();
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(raw.as_bytes()));
        serde_path_to_error::deserialize(de).map(Params).map_err(|e| {
            let path = e.path().to_string();
            ApiError::from(crate::extract::data_error(&path, &e.into_inner().to_string()))
        })
    }
}

pub fn unknown_parameter(key: &str) -> FieldError {
    FieldError::new(key, "不明な検索条件です", "unknown query parameter")
}

/// Refuses any parameter not named in `allowed`.
pub fn only(params: &std::collections::HashMap<String, String>, allowed: &[&str]) -> Result<(), ValidationErrors> {
    let mut errors = ValidationErrors::default();
    for key in params.keys().filter(|k| !allowed.contains(&k.as_str())) {
        errors.push(unknown_parameter(key));
    }
    errors.into_result(())
}
