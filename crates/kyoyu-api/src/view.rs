//! Reports as JSON, shaped for the one reader who asked.

use kyoyu_domain::anonymise::Removal;
use kyoyu_domain::identifier::report_identifier;
use kyoyu_store::ReportRow;
use serde_json::{json, Map, Value};

/// The banner every item shows: its TLP and severity at a glance (別添 3.2(1)).
pub fn banner(row: &ReportRow) -> Value {
    let tlp = row.content.tlp;
    let (sev_ja, sev_en) =
        row.content.severity.map(|s| (s.label_ja(), s.code())).unwrap_or(("重要度未設定", "no severity"));
    json!({
        "ja": format!("TLP:{} {}／{}", tlp.code(), tlp.label_ja(), sev_ja),
        "en": format!("TLP:{} / {}", tlp.code(), sev_en),
    })
}

/// One rendition for a reader in `reader_org` (None for the public). The sender is null where
/// the reader must not learn who the anonymous operator is.
pub fn report(row: &ReportRow, reader_org: Option<&str>) -> Value {
    let chain = &row.chain;
    let knows_sender = match reader_org {
        Some(org) => kyoyu_policy::may_know_sender(
            org,
            &row.sender_org_id,
            chain.anonymous_originator(),
            chain.secretariat_org_id.as_deref(),
        ),
        None => chain.anonymous_originator().is_none(),
    };
    let mut out = match serde_json::to_value(&row.content) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    };
    let meta = json!({
        "id": row.id,
        "identifier": chain.identifier.as_deref().map(|c| report_identifier(c, row.sequence)),
        "chain_identifier": chain.identifier,
        "sequence": row.sequence,
        "chain_id": chain.id,
        "parent_id": row.parent_id,
        "status": row.status,
        "route": chain.route,
        "statutory": chain.statutory,
        "exercise": chain.exercise,
        "sender_org_id": knows_sender.then_some(&row.sender_org_id),
        "receiver_org_id": row.receiver_org_id,
        "disclosure_consent": chain.disclosure_consent_at.is_some(),
        "disclosure_consent_at": chain.disclosure_consent_at,
        "published_at": row.published_at,
        "created_at": row.created_at,
        "banner": banner(row),
    });
    if let Value::Object(m) = meta {
        out.extend(m);
    }
    if reader_org.is_none() {
        // The public never sees who at the sending organisation sent it (name, phone, mail).
        out.remove("sender_contact");
    }
    Value::Object(out)
}

pub fn removals(removed: &[Removal]) -> Value {
    serde_json::to_value(removed).unwrap_or(Value::Null)
}
