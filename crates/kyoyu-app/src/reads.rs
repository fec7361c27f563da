//! What reads share: paging, and the audit entry for reading secret items.

use crate::{AppResult, Caller};
use kyoyu_store::{Concealed, Store};
use serde_json::json;

/// A page of a list: `limit` (1 to 100, default 50) and `offset`.
#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub limit: i64,
    pub offset: i64,
}

impl Default for Page {
    fn default() -> Self {
        Page { limit: 50, offset: 0 }
    }
}

/// Appends one audit entry for the RED and AMBER items a user just read.
pub async fn audit_secret_reads(
    store: &Store,
    caller: &Caller,
    action: &str,
    object_type: &str,
    ids: &[&str],
    concealed: Option<Concealed>,
) -> AppResult<()> {
    let Some(first) = ids.first() else { return Ok(()) };
    let mut tx = store.begin(caller.actor()).await?;
    if let Some(c) = concealed {
        tx.conceal(c);
    }
    tx.audit(action, object_type, first, json!({"ids": ids})).await?;
    tx.commit().await?;
    Ok(())
}
