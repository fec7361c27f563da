//! What list endpoints share: paging parameters, and the audit entry for reading secret items.

use crate::error::ApiResult;
use crate::extract::Caller;
use crate::AppState;
use kyoyu_domain::{FieldError, ValidationErrors};
use kyoyu_store::MAX_PAGE;

pub use kyoyu_app::reads::Page;

/// Takes `limit` (1 to 100) or `offset` (0 to 1,000,000) into `page`; false for any other
/// parameter.
pub fn take_page(page: &mut Page, key: &str, value: &str, errors: &mut ValidationErrors) -> bool {
    match key {
        "limit" => match value.parse::<i64>() {
            Ok(n) if (1..=MAX_PAGE).contains(&n) => page.limit = n,
            _ => errors.push(FieldError::new(
                "limit",
                format!("1 から {MAX_PAGE} の整数で指定してください"),
                format!("must be an integer from 1 to {MAX_PAGE}"),
            )),
        },
        "offset" => match value.parse::<i64>() {
            Ok(n) if (0..=1_000_000).contains(&n) => page.offset = n,
            _ => errors.push(FieldError::new(
                "offset",
                "0 以上の整数で指定してください",
                "must be a non-negative integer",
            )),
        },
        _ => return false,
    }
    true
}

pub fn unknown_parameter(key: &str) -> FieldError {
    FieldError::new(key, "不明な検索条件です", "unknown query parameter")
}

/// Appends one audit entry for the RED and AMBER items a user just read.
pub async fn audit_secret_reads(
    state: &AppState,
    caller: &Caller,
    action: &str,
    object_type: &str,
    ids: &[&str],
    concealed: Option<kyoyu_store::Concealed>,
) -> ApiResult<()> {
    Ok(kyoyu_app::reads::audit_secret_reads(&state.store, caller, action, object_type, ids, concealed).await?)
}

/// Refuses any parameter not named in `allowed`.
pub fn only(params: &std::collections::HashMap<String, String>, allowed: &[&str]) -> Result<(), ValidationErrors> {
    let mut errors = ValidationErrors::default();
    for key in params.keys().filter(|k| !allowed.contains(&k.as_str())) {
        errors.push(unknown_parameter(key));
    }
    errors.into_result(())
}

/// A `true`/`false` parameter; absent is false.
pub fn flag(params: &std::collections::HashMap<String, String>, key: &str) -> Result<bool, FieldError> {
    match params.get(key).map(String::as_str) {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(_) => Err(FieldError::new(key, "true または false で指定してください", "must be true or false")),
    }
}

/// Only paging parameters.
pub fn page_only(params: &std::collections::HashMap<String, String>) -> Result<Page, ValidationErrors> {
    let mut page = Page::default();
    let mut errors = ValidationErrors::default();
    for (key, value) in params {
        if !take_page(&mut page, key, value, &mut errors) {
            errors.push(unknown_parameter(key));
        }
    }
    errors.into_result(page)
}
