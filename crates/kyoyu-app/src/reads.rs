//! What reads share: paging, and the audit entry for reading secret items.

use crate::{AppResult, Caller};
use kyoyu_domain::codes::OrgKind;
use kyoyu_domain::{FieldError, ValidationErrors};
use kyoyu_store::{Concealed, Cursor, Store};
use serde_json::json;

/// A page of a list: `limit` (1 to 100, default 50), and where it starts: just after the
/// cursor a previous page answered as `next` (keyset), or else `offset` items in.
#[derive(Debug, Clone)]
pub struct Page {
    pub limit: i64,
    pub offset: i64,
    pub after: Option<Cursor>,
}

impl Default for Page {
    fn default() -> Self {
        Page { limit: 50, offset: 0, after: None }
    }
}

impl Page {
    /// The first `limit` items.
    pub fn first(limit: i64) -> Page {
        Page { limit, ..Page::default() }
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
    // A response agency reads secret items only through an operator's crime report, which
    // nobody else may learn of: its reads show nobody who read.
    let agency = caller.principal().org().kind == OrgKind::ResponseAgency;
    let concealed =
        concealed.or_else(|| agency.then(|| Concealed { org_id: caller.org_id().into(), secretariat_id: None }));
    if let Some(c) = concealed {
        tx.conceal(c);
    }
    tx.audit(action, object_type, first, json!({"ids": ids})).await?;
    tx.commit().await?;
    Ok(())
}

/// A period of JST calendar days, both ends included, as the UTC times a filter compares:
/// `[since 00:00 JST, the day after until 00:00 JST)`. A malformed day, or an end before
/// the start, is an error naming the field.
pub fn jst_days(
    since: Option<&str>,
    until: Option<&str>,
) -> Result<(Option<String>, Option<String>), ValidationErrors> {
    let mut errors = ValidationErrors::default();
    let mut day = |field: &str, value: Option<&str>| -> Option<chrono::NaiveDate> {
        // An empty value is malformed, not absent: the parameter is left out when unwanted.
        let value = value?.trim();
        let parsed = chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d").ok();
        if parsed.is_none() {
            errors.push(FieldError::new(
                field,
                "YYYY-MM-DD 形式の日付で指定してください",
                "must be a date as YYYY-MM-DD",
            ));
        }
        parsed
    };
    let (start, end) = (day("since", since), day("until", until));
    if let (Some(s), Some(e)) = (start, end) {
        if e < s {
            errors.push(FieldError::new("until", "開始日より前の日付は指定できません", "must not be before since"));
        }
    }
    let midnight = |d: chrono::NaiveDate| {
        let jst = chrono::FixedOffset::east_opt(9 * 3600).expect("JST is a valid offset");
        let local = d.and_hms_opt(0, 0, 0).expect("midnight exists").and_local_timezone(jst).single();
        kyoyu_store::timestamp(local.expect("a fixed offset has one midnight").with_timezone(&chrono::Utc))
    };
    let range = (start.map(midnight), end.and_then(|e| e.succ_opt()).map(midnight));
    errors.into_result(range)
}

#[cfg(test)]
mod tests {
    use super::jst_days;

    #[test]
    fn a_jst_day_starts_at_15_00_utc_the_day_before() {
        let (since, until) = jst_days(Some("2026-04-01"), Some("2026-04-01")).unwrap();
        assert_eq!(since.unwrap(), "2026-03-31T15:00:00.000000Z");
        assert_eq!(until.unwrap(), "2026-04-01T15:00:00.000000Z");
    }

    #[test]
    fn malformed_or_reversed_days_name_their_field() {
        let fields = |e: kyoyu_domain::ValidationErrors| e.0.iter().map(|f| f.field.clone()).collect::<Vec<_>>();
        assert_eq!(fields(jst_days(Some("4/1"), None).unwrap_err()), ["since"]);
        assert_eq!(fields(jst_days(None, Some("")).unwrap_err()), ["until"]);
        assert_eq!(fields(jst_days(Some("2026-04-02"), Some("2026-04-01")).unwrap_err()), ["until"]);
    }
}
