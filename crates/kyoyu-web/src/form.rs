//! HTML forms to and from the JSON the API handlers take: a form's fields are named by their
//! JSON path (`summary.description`, `timeline.2.at`), so an error's field is the input it
//! belongs beside.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use kyoyu_api::error::ApiError;
use kyoyu_app::AppError;
use kyoyu_domain::{FieldError, ValidationErrors};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// The time zone forms are typed in (JST); `datetime-local` inputs carry no offset.
pub const FORM_OFFSET: &str = "+09:00";

/// A submitted form, in order, with repeated names kept.
#[derive(Debug, Clone, Default)]
pub struct FormData(pub Vec<(String, String)>);

impl<S: Send + Sync> FromRequest<S> for FormData {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = Bytes::from_request(req, state).await.map_err(|e| ApiError::Malformed(e.body_text()))?;
        Ok(FormData(form_urlencoded::parse(&bytes).into_owned().collect()))
    }
}

impl FormData {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    pub fn all(&self, name: &str) -> Vec<String> {
        self.0.iter().filter(|(k, _)| k == name).map(|(_, v)| v.clone()).collect()
    }

    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }
}

/// How a field's text becomes JSON.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    Text,
    /// One code of a list; never sent empty.
    Code,
    Bool,
    Time,
    Number,
    /// Checkboxes or a multiple select: each value one element.
    Many,
    /// A textarea: each non-empty line one element.
    Lines,
}

/// The kind of a field by its path; `kinds` lists the form's non-text fields by their last
/// segments or full paths.
fn kind_of(path: &str, kinds: &[(&str, Kind)]) -> Kind {
    let last = path.rsplit('.').next().unwrap_or(path);
    kinds.iter().find(|(name, _)| *name == path || *name == last).map(|(_, k)| *k).unwrap_or(Kind::Text)
}

fn to_json(text: &str, kind: Kind) -> Option<Value> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    Some(match kind {
        Kind::Text | Kind::Code | Kind::Many | Kind::Lines => Value::String(text.to_string()),
        Kind::Bool => match text {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            other => Value::String(other.to_string()),
        },
        // Kept as text when not a number, so the API names the field in its error.
        Kind::Number => text.parse::<i64>().map(Value::from).unwrap_or_else(|_| Value::String(text.to_string())),
        Kind::Time => Value::String(with_offset(text)),
    })
}

/// `2026-11-22T10:30` (as a browser sends it) becomes RFC 3339 in JST.
fn with_offset(text: &str) -> String {
    match text.len() {
        16 => format!("{text}:00{FORM_OFFSET}"),
        19 => format!("{text}{FORM_OFFSET}"),
        _ => text.to_string(),
    }
}

/// Builds the JSON body from a form; empty inputs are left out, and objects left empty too.
pub fn to_body(form: &FormData, kinds: &[(&str, Kind)]) -> Value {
    build(form, kinds, false)
}

/// As [`to_body`], but an emptied free-text input is sent as "" so that an edit can delete
/// text (a forward replaces only the fields it sends). Text inside `press` stays out: the
/// press block is all or nothing.
pub fn to_body_keeping_empty_text(form: &FormData, kinds: &[(&str, Kind)]) -> Value {
    build(form, kinds, true)
}

fn build(form: &FormData, kinds: &[(&str, Kind)], keep_empty_text: bool) -> Value {
    let mut root = Value::Object(Map::new());
    for (name, text) in &form.0 {
        if name.starts_with('_') {
            continue;
        }
        let kind = kind_of(name, kinds);
        let keep =
            keep_empty_text && kind == Kind::Text && !name.starts_with("press.") && !name.starts_with("timeline.");
        let values: Vec<Value> = match kind {
            Kind::Lines => text.lines().filter_map(|l| to_json(l, kind)).collect(),
            _ if keep && text.trim().is_empty() => vec![Value::String(String::new())],
            _ => to_json(text, kind).into_iter().collect(),
        };
        for value in values {
            insert(&mut root, name, value, matches!(kind, Kind::Many | Kind::Lines));
        }
        if matches!(kind, Kind::Many | Kind::Lines) {
            ensure_array(&mut root, name);
        }
    }
    compact(&mut root);
    root
}

fn slot<'a>(root: &'a mut Value, path: &str) -> &'a mut Value {
    let mut at = root;
    for seg in path.split('.') {
        if let Ok(i) = seg.parse::<usize>() {
            if !at.is_array() {
                *at = Value::Array(vec![]);
            }
            let arr = at.as_array_mut().expect("made an array above");
            while arr.len() <= i {
                arr.push(Value::Object(Map::new()));
            }
            at = &mut arr[i];
        } else {
            if !at.is_object() {
                *at = Value::Object(Map::new());
            }
            at = at.as_object_mut().expect("made an object above").entry(seg).or_insert(Value::Null);
        }
    }
    at
}

fn insert(root: &mut Value, path: &str, value: Value, many: bool) {
    let at = slot(root, path);
    if many {
        if !at.is_array() {
            *at = Value::Array(vec![]);
        }
        at.as_array_mut().expect("made an array above").push(value);
    } else {
        *at = value;
    }
}

fn ensure_array(root: &mut Value, path: &str) {
    let at = slot(root, path);
    if at.is_null() {
        *at = Value::Array(vec![]);
    }
}

/// Drops nulls, empty objects, and array rows that are empty objects (blank timeline rows).
fn compact(v: &mut Value) -> bool {
    match v {
        Value::Null => false,
        Value::Object(m) => {
            m.retain(|_, x| compact(x));
            !m.is_empty()
        }
        Value::Array(a) => {
            a.retain_mut(|x| !x.is_object() || compact(x));
            true
        }
        _ => true,
    }
}

/// What a form shows: the values typed (or pre-filled) by field path, and errors by field.
#[derive(Debug, Clone, Default)]
pub struct FormState {
    pub values: BTreeMap<String, Vec<String>>,
    pub errors: Vec<FieldError>,
    /// An error not tied to one field (forbidden, conflict).
    pub general: Option<(String, String)>,
}

impl FormState {
    pub fn from_form(form: &FormData) -> FormState {
        FormState::from_pairs(&form.0)
    }

    /// From name–value pairs in order (a form or a query string), repeated names kept.
    pub fn from_pairs(pairs: &[(String, String)]) -> FormState {
        let mut values: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (k, v) in pairs {
            values.entry(k.clone()).or_default().push(v.clone());
        }
        FormState { values, ..Default::default() }
    }

    /// Pre-fills from JSON (a previous report), named as the form names its fields.
    /// A form filled from a typed view (a report to follow up or forward).
    pub fn from_view(view: &impl serde::Serialize) -> Result<FormState, kyoyu_api::error::ApiError> {
        let v = serde_json::to_value(view).map_err(|e| kyoyu_api::error::ApiError::internal("view as form", e))?;
        Ok(FormState::from_json(&v))
    }

    pub fn from_json(v: &Value) -> FormState {
        let mut state = FormState::default();
        flatten(v, String::new(), &mut state.values);
        state
    }

    pub fn value(&self, name: &str) -> &str {
        self.values.get(name).and_then(|v| v.first()).map(String::as_str).unwrap_or("")
    }

    pub fn has_value(&self, name: &str, value: &str) -> bool {
        self.values.get(name).is_some_and(|vs| vs.iter().any(|v| v == value))
    }

    pub fn set(&mut self, name: &str, value: &str) {
        self.values.insert(name.to_string(), vec![value.to_string()]);
    }

    /// Errors for this field and the fields inside it.
    pub fn errors_for(&self, name: &str) -> Vec<&FieldError> {
        self.errors
            .iter()
            .filter(|e| {
                let f = normalise_path(&e.field);
                f == name || f.starts_with(&format!("{name}."))
            })
            .collect()
    }

    /// Takes an API error into the form: field errors beside their fields, anything else on
    /// top. Answers the error back when it is not the user's input (401, 404, 500).
    pub fn take_error(&mut self, e: ApiError) -> Result<(), ApiError> {
        match e {
            ApiError::App(AppError::Validation(ValidationErrors(errors))) => self.errors = errors,
            ApiError::App(AppError::Forbidden { ja, en } | AppError::Conflict { ja, en }) => {
                self.general = Some((ja, en))
            }
            ApiError::Malformed(detail) => self.general = Some((detail.clone(), detail)),
            other => return Err(other),
        }
        Ok(())
    }

    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty() || self.general.is_some()
    }

    /// How many timeline-like rows the form holds under `prefix` (`timeline` → `timeline.N.*`).
    pub fn rows(&self, prefix: &str) -> usize {
        let start = format!("{prefix}.");
        self.values
            .keys()
            .filter_map(|k| k.strip_prefix(&start)?.split('.').next()?.parse::<usize>().ok())
            .map(|i| i + 1)
            .max()
            .unwrap_or(0)
    }
}

/// `timeline[0].at` (serde's paths) and `timeline.0.at` (the form's) name the same field.
pub fn normalise_path(path: &str) -> String {
    path.replace('[', ".").replace(']', "").trim_start_matches('.').to_string()
}

fn flatten(v: &Value, path: String, out: &mut BTreeMap<String, Vec<String>>) {
    let join = |k: &str| if path.is_empty() { k.to_string() } else { format!("{path}.{k}") };
    match v {
        Value::Object(m) => m.iter().for_each(|(k, x)| flatten(x, join(k), out)),
        Value::Array(a) if a.iter().all(|x| !x.is_object()) => {
            for x in a {
                flatten(x, path.clone(), out);
            }
        }
        Value::Array(a) => a.iter().enumerate().for_each(|(i, x)| flatten(x, join(&i.to_string()), out)),
        Value::Null => {}
        Value::String(s) => out.entry(path).or_default().push(form_time(s).unwrap_or_else(|| s.clone())),
        other => out.entry(path).or_default().push(other.to_string()),
    }
}

/// An RFC 3339 time as a `datetime-local` input shows it, in JST.
pub fn form_time(s: &str) -> Option<String> {
    let t = chrono::DateTime::parse_from_rfc3339(s).ok()?;
    let jst = chrono::FixedOffset::east_opt(9 * 3600)?;
    Some(t.with_timezone(&jst).format("%Y-%m-%dT%H:%M").to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn form(pairs: &[(&str, &str)]) -> FormData {
        FormData(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
    }

    const KINDS: &[(&str, Kind)] =
        &[("statutory", Kind::Bool), ("at", Kind::Time), ("causes", Kind::Many), ("notified_parties", Kind::Lines)];

    #[test]
    fn builds_nested_json_and_drops_blanks() {
        let f = form(&[
            ("_csrf", "x"),
            ("statutory", "false"),
            ("summary.description", "説明"),
            ("summary.affected_system", " "),
            ("causes", "dos"),
            ("causes", "insider"),
            ("timeline.0.at", "2026-11-22T10:30"),
            ("timeline.0.text", "検知"),
            ("timeline.1.at", ""),
            ("timeline.1.text", ""),
            ("notified_parties", "警察\n\n監督官庁"),
        ]);
        let body = to_body(&f, KINDS);
        assert_eq!(
            body,
            json!({
                "statutory": false,
                "summary": {"description": "説明"},
                "causes": ["dos", "insider"],
                "timeline": [{"at": "2026-11-22T10:30:00+09:00", "text": "検知"}],
                "notified_parties": ["警察", "監督官庁"],
            })
        );
    }

    #[test]
    fn unchecked_multi_fields_become_empty_lists() {
        let body = to_body(&form(&[("causes", "")]), KINDS);
        assert_eq!(body, json!({"causes": []}));
    }

    #[test]
    fn prefill_round_trips_names_and_times() {
        let v = json!({"summary": {"discovered_at": "2026-11-22T01:30:00Z"}, "causes": ["dos"], "timeline": [{"at": "2026-11-22T10:30:00+09:00", "text": "a"}]});
        let s = FormState::from_json(&v);
        assert_eq!(s.value("summary.discovered_at"), "2026-11-22T10:30");
        assert!(s.has_value("causes", "dos"));
        assert_eq!(s.value("timeline.0.text"), "a");
        assert_eq!(s.rows("timeline"), 1);
    }

    #[test]
    fn serde_paths_match_form_names() {
        let mut s = FormState::default();
        s.errors.push(FieldError::new("timeline[0].at", "j", "e"));
        assert_eq!(s.errors_for("timeline.0.at").len(), 1);
        assert_eq!(s.errors_for("timeline").len(), 1);
        assert!(s.errors_for("timeline.1.at").is_empty());
    }
}
