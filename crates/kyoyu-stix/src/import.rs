//! Checks on STIX 2.1 objects from outside (a national CERT feed, an ISAC, another kyoyu)
//! before they are kept. A failure names the property, e.g. `modified`, so callers can report
//! the path `objects[3].modified`.

use crate::mapping::StixObject;
use crate::markings::tightest_tlp;
use crate::observables::{extract, Observable};
use kyoyu_domain::tlp::Tlp;
use serde_json::Value;
use uuid::Uuid;

/// Cyber-observable types of STIX 2.1 §6: `spec_version`, `created` and `modified` are optional.
const SCO_TYPES: [&str; 18] = [
    "artifact",
    "autonomous-system",
    "directory",
    "domain-name",
    "email-addr",
    "email-message",
    "file",
    "ipv4-addr",
    "ipv6-addr",
    "mac-addr",
    "mutex",
    "network-traffic",
    "process",
    "software",
    "url",
    "user-account",
    "windows-registry-key",
    "x509-certificate",
];

/// Properties that hold a timestamp wherever they appear on a top-level object.
const TIMESTAMPS: [&str; 12] = [
    "created",
    "modified",
    "valid_from",
    "valid_until",
    "first_seen",
    "last_seen",
    "published",
    "first_observed",
    "last_observed",
    "start_time",
    "stop_time",
    "revoked_at",
];

/// A bad property: where (relative to the object) and why, in both languages.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub path: String,
    pub ja: String,
    pub en: String,
}

fn problem(path: &str, ja: &str, en: &str) -> Problem {
    Problem { path: path.to_string(), ja: ja.to_string(), en: en.to_string() }
}

/// An object that passed the checks, with the scope its markings give it.
#[derive(Debug, Clone)]
pub struct Checked {
    pub object: StixObject,
    /// The tightest TLP marking on it; `None` when it carries none.
    pub tlp: Option<Tlp>,
}

fn valid_type(t: &str) -> bool {
    (3..=250).contains(&t.len())
        && t.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !t.starts_with('-')
        && !t.ends_with('-')
        && !t.contains("--")
}

/// True for `type--uuid`.
pub fn is_stix_id(s: &str) -> bool {
    match s.split_once("--") {
        Some((t, u)) => valid_type(t) && u.len() == 36 && Uuid::parse_str(u).is_ok(),
        None => false,
    }
}

/// True for an RFC 3339 timestamp in UTC with the `Z` suffix, as STIX requires.
pub fn is_timestamp(s: &str) -> bool {
    s.ends_with('Z') && s.contains('T') && chrono::DateTime::parse_from_rfc3339(s).is_ok()
}

fn text<'a>(obj: &'a serde_json::Map<String, Value>, key: &str) -> Result<Option<&'a str>, Problem> {
    match obj.get(key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(problem(key, "文字列でなければなりません", "must be a string")),
    }
}

fn required<'a>(obj: &'a serde_json::Map<String, Value>, key: &str) -> Result<&'a str, Problem> {
    text(obj, key)?.ok_or_else(|| problem(key, "必須です", "is required"))
}

fn check_refs(obj: &serde_json::Map<String, Value>) -> Result<Vec<String>, Problem> {
    if let Some(by) = text(obj, "created_by_ref")? {
        if !by.starts_with("identity--") || !is_stix_id(by) {
            return Err(problem("created_by_ref", "identity の ID でなければなりません", "must be an identity id"));
        }
    }
    let Some(refs) = obj.get("object_marking_refs") else { return Ok(Vec::new()) };
    let Some(list) = refs.as_array() else {
        return Err(problem("object_marking_refs", "配列でなければなりません", "must be an array"));
    };
    list.iter()
        .enumerate()
        .map(|(i, r)| match r.as_str() {
            Some(s) if s.starts_with("marking-definition--") && is_stix_id(s) => Ok(s.to_string()),
            _ => Err(problem(
                &format!("object_marking_refs[{i}]"),
                "marking-definition の ID でなければなりません",
                "must be a marking-definition id",
            )),
        })
        .collect()
}

/// Checks one object and reads what kyoyu indexes from it.
pub fn check_object(v: Value, added_at: &str) -> Result<Checked, Problem> {
    let Some(obj) = v.as_object() else {
        return Err(problem("", "オブジェクトでなければなりません", "must be a JSON object"));
    };
    let kind = required(obj, "type")?;
    if !valid_type(kind) || kind == "bundle" {
        return Err(problem("type", "STIX の型名ではありません", "is not a STIX object type"));
    }
    let id = required(obj, "id")?;
    if !is_stix_id(id) || !id.strip_prefix(kind).is_some_and(|rest| rest.starts_with("--")) {
        return Err(problem(
            "id",
            "「型--UUID」の形で、型と一致しなければなりません",
            "must be `type--UUID` for this type",
        ));
    }
    let sco = SCO_TYPES.contains(&kind);
    match text(obj, "spec_version")? {
        Some("2.1") => {}
        Some(_) => return Err(problem("spec_version", "2.1 でなければなりません", "must be 2.1")),
        None if sco => {}
        None => return Err(problem("spec_version", "必須です", "is required")),
    }
    if !sco {
        required(obj, "created")?;
        if kind != "marking-definition" {
            required(obj, "modified")?;
        }
    }
    for key in TIMESTAMPS {
        if let Some(t) = text(obj, key)? {
            if !is_timestamp(t) {
                return Err(problem(
                    key,
                    "RFC 3339 の UTC 時刻（末尾 Z）でなければなりません",
                    "must be an RFC 3339 UTC timestamp ending in Z",
                ));
            }
        }
    }
    if let (Some(c), Some(m)) = (text(obj, "created")?, text(obj, "modified")?) {
        if parse(m) < parse(c) {
            return Err(problem("modified", "created より前にはできません", "must not be before created"));
        }
    }
    let markings = check_refs(obj)?;
    let tlp = tightest_tlp(markings.iter().map(String::as_str));
    let values = values_of(kind, obj);
    Ok(Checked { object: StixObject::from_body(v, added_at, values), tlp })
}

fn parse(t: &str) -> Option<chrono::DateTime<chrono::FixedOffset>> {
    chrono::DateTime::parse_from_rfc3339(t).ok()
}

/// The observable values an object names: an SCO's value or hashes, the literals of an
/// indicator's pattern, a vulnerability's CVE id.
fn values_of(kind: &str, obj: &serde_json::Map<String, Value>) -> Vec<String> {
    let mut values = Vec::new();
    if let Some(v) = obj.get("value").and_then(Value::as_str) {
        values.push(v.to_lowercase());
    }
    if let Some(h) = obj.get("hashes").and_then(Value::as_object) {
        values.extend(h.values().filter_map(Value::as_str).map(str::to_lowercase));
    }
    match kind {
        "indicator" => {
            let pattern = obj.get("pattern").and_then(Value::as_str).unwrap_or_default();
            let literals = pattern.split('\'').skip(1).step_by(2);
            values.extend(literals.flat_map(|l| extract([l])).map(|o| o.value().to_string()));
        }
        "vulnerability" => {
            let name = obj.get("name").and_then(Value::as_str).unwrap_or_default();
            values.extend(extract([name]).into_iter().filter_map(|o| match o {
                Observable::Cve(c) => Some(c),
                _ => None,
            }));
        }
        _ => {}
    }
    values.sort();
    values.dedup();
    values
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn indicator() -> Value {
        json!({
            "type": "indicator", "spec_version": "2.1",
            "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
            "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-02T00:00:00.000Z",
            "pattern": "[ipv4-addr:value = '198.51.100.9'] OR [domain-name:value = 'bad.example.org']",
            "pattern_type": "stix", "valid_from": "2026-01-01T00:00:00Z",
            "object_marking_refs": ["marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"]
        })
    }

    #[test]
    fn a_good_indicator_passes_with_its_marking_and_values() {
        let c = check_object(indicator(), "2026-11-22T00:00:00.000000Z").unwrap();
        assert_eq!(c.tlp, Some(Tlp::Amber));
        assert_eq!(c.object.version, "2026-01-02T00:00:00.000000Z");
        assert_eq!(c.object.values, vec!["198.51.100.9".to_string(), "bad.example.org".to_string()]);
    }

    #[test]
    fn each_bad_property_is_named() {
        let cases: [(&str, Value, &str); 6] = [
            ("type", json!(7), "type"),
            ("id", json!("indicator--not-a-uuid"), "id"),
            ("id", json!("malware--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"), "id"),
            ("spec_version", json!("2.0"), "spec_version"),
            ("modified", json!("yesterday"), "modified"),
            ("object_marking_refs", json!(["tlp:red"]), "object_marking_refs[0]"),
        ];
        for (key, bad, path) in cases {
            let mut o = indicator();
            o[key] = bad;
            assert_eq!(check_object(o, "x").unwrap_err().path, path, "{key}");
        }
        let mut o = indicator();
        o.as_object_mut().unwrap().remove("created");
        assert_eq!(check_object(o, "x").unwrap_err().path, "created");
        let mut o = indicator();
        o["modified"] = json!("2025-01-01T00:00:00Z");
        assert_eq!(check_object(o, "x").unwrap_err().path, "modified");
    }

    #[test]
    fn observables_need_no_spec_version_or_times() {
        let sco = json!({ "type": "ipv4-addr", "id": "ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd", "value": "198.51.100.3" });
        let c = check_object(sco, "2026-11-22T00:00:00.000000Z").unwrap();
        assert_eq!(c.tlp, None);
        assert_eq!(c.object.version, "2026-11-22T00:00:00.000000Z");
        assert_eq!(c.object.values, vec!["198.51.100.3".to_string()]);
    }
}
