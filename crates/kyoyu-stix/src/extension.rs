//! The kyoyu extension: the official forms' fields that STIX 2.1 has no property for (event type,
//! causes, outlook, service-level evaluation, route, identifiers ...), as a STIX
//! `extension-definition` (§7.3). Its meaning is documented in `docs/stix-extension.md`.

use crate::mapping::StixObject;
use crate::markings::definition_object;
use kyoyu_domain::tlp::Tlp;
use serde_json::{json, Map, Value};

pub const EXTENSION_ID: &str = "extension-definition--2b7c4a8e-6f1d-4c3a-9e52-8d0f7a1b3c64";
/// kyoyu itself, as the author of its extension.
pub const KYOYU_IDENTITY: &str = "identity--5f0e8c2a-1b7d-4e93-a6c4-3d2f9b8e7a10";
const DEFINED_AT: &str = "2026-11-22T00:00:00.000Z";

/// `extensions` holding the kyoyu property extension; unset and empty properties are left out,
/// as STIX forbids null and empty values.
pub fn kyoyu_extension(props: Value) -> Value {
    let mut ext = Map::new();
    ext.insert("extension_type".into(), json!("property-extension"));
    if let Value::Object(p) = props {
        for (k, v) in p {
            let empty = v.is_null() || v.as_array().is_some_and(Vec::is_empty);
            if !empty {
                ext.insert(k, v);
            }
        }
    }
    json!({ EXTENSION_ID: ext })
}

/// What every kyoyu object may refer to: kyoyu's identity, the extension's definition and the
/// TLP 2.0 marking definitions. They are readable by every user.
pub fn definitions() -> Vec<StixObject> {
    let identity = json!({
        "type": "identity",
        "spec_version": "2.1",
        "id": KYOYU_IDENTITY,
        "created": DEFINED_AT,
        "modified": DEFINED_AT,
        "name": "kyoyu",
        "description": "kyoyu: critical-infrastructure information sharing (重要インフラ情報共有)",
        "identity_class": "system",
    });
    let definition = json!({
        "type": "extension-definition",
        "spec_version": "2.1",
        "id": EXTENSION_ID,
        "created_by_ref": KYOYU_IDENTITY,
        "created": DEFINED_AT,
        "modified": DEFINED_AT,
        "name": "kyoyu official form fields",
        "description": "Fields of Japan's critical-infrastructure report form (情報連絡様式) and advisory form (情報提供様式) that STIX 2.1 lacks: identifier, sequence, route, statutory, sector, tlp, tlp_note, severity, event_type, causes, outlook, system_status, service_level_deviation, service_level_evaluation, discovered_at, occurred_at (incident); identifier, sequence, status, severity, urgent (advisory report); org_id (identity). Codes are those of kyoyu's domain reference.",
        "schema": "kyoyu docs/stix-extension.md: every property, its type and its codes",
        "version": "1.0.0",
        "extension_types": ["property-extension"],
    });
    let mut all = vec![identity, definition];
    all.extend([Tlp::Clear, Tlp::AmberStrict].into_iter().filter_map(definition_object));
    all.into_iter().map(|body| StixObject::from_body(body, DEFINED_AT, Vec::new())).collect()
}
