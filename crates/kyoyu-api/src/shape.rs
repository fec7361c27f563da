//! Request bodies checked against the contract's own schema for the one thing serde lets
//! through: serde reads a struct from an array of its fields (`{"content": ["…"]}` for an
//! object), which the schema forbids. Each body is walked beside its operation's request
//! schema in the generated document, and an array where an object belongs (or an object
//! where an array belongs) is refused, naming its path. Written here because no maintained
//! crate validates against utoipa's schemas without pulling in a whole JSON Schema engine.

use kyoyu_domain::FieldError;
use serde_json::Value;

/// The generated document as JSON, for walking schemas.
fn document() -> &'static Value {
    static DOCUMENT: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    DOCUMENT.get_or_init(|| serde_json::from_str(&crate::openapi::document_json()).unwrap_or_default())
}

/// The request schema of the operation at `route` (the router's path template) and `method`.
fn request_schema(route: &str, method: &str) -> Option<&'static Value> {
    document()
        .get("paths")?
        .get(route)?
        .get(method.to_ascii_lowercase())?
        .get("requestBody")?
        .get("content")?
        .get("application/json")?
        .get("schema")
}

/// Checks `body` against the request schema of `route` and `method`, if the contract has one.
pub fn check_body(route: &str, method: &str, body: &Value) -> Result<(), FieldError> {
    match request_schema(route, method) {
        Some(schema) => check(body, schema, ""),
        None => Ok(()),
    }
}

/// A `$ref` to a component schema followed; anything else as it is.
fn resolve(schema: &Value) -> &Value {
    let target = schema.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix("#/components/schemas/"));
    match target.and_then(|name| document().get("components")?.get("schemas")?.get(name)) {
        Some(found) => resolve(found),
        None => schema,
    }
}

/// Whether the schema's `type` (a name or a list of names) includes `name`.
fn allows(schema: &Value, name: &str) -> bool {
    match schema.get("type") {
        Some(Value::String(t)) => t == name,
        Some(Value::Array(ts)) => ts.iter().any(|t| t == name),
        _ => false,
    }
}

fn at(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn check(value: &Value, schema: &Value, path: &str) -> Result<(), FieldError> {
    let schema = resolve(schema);
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        return all.iter().try_for_each(|part| check(value, part, path));
    }
    if let Some(one) = schema.get("oneOf").and_then(Value::as_array) {
        // `oneOf: [null, X]` is how an optional X is written: check against X.
        let kinds: Vec<&Value> = one.iter().filter(|s| !allows(resolve(s), "null")).collect();
        return match (value, kinds.as_slice()) {
            (Value::Null, _) => Ok(()),
            (_, [only]) => check(value, only, path),
            _ => Ok(()),
        };
    }
    match value {
        Value::Array(items) if allows(schema, "object") && !allows(schema, "array") => {
            Err(FieldError::new(path, "配列ではなくオブジェクトで指定してください", "must be an object, not an array"))
        }
        Value::Object(_) if allows(schema, "array") && !allows(schema, "object") => {
            Err(FieldError::new(path, "オブジェクトではなく配列で指定してください", "must be an array, not an object"))
        }
        Value::Array(items) => match schema.get("items") {
            Some(item) => items.iter().enumerate().try_for_each(|(i, v)| check(v, item, &format!("{path}[{i}]"))),
            None => Ok(()),
        },
        Value::Object(fields) => match schema.get("properties") {
            Some(properties) => fields
                .iter()
                .filter_map(|(k, v)| properties.get(k).map(|s| (k, v, s)))
                .try_for_each(|(k, v, s)| check(v, s, &at(path, k))),
            None => Ok(()),
        },
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_array_where_an_object_belongs_is_named() {
        let body = json!({"tlp": "GREEN", "content": ["a summary"]});
        let e = check_body("/api/v1/advisories", "POST", &body).unwrap_err();
        assert_eq!(e.field, "content");
        let nested = json!({"tlp": "GREEN", "recipients": [["meti", "gas"]]});
        assert_eq!(check_body("/api/v1/advisories", "POST", &nested).unwrap_err().field, "recipients[0]");
    }

    #[test]
    fn a_well_shaped_body_and_an_unknown_route_pass() {
        let body = json!({"tlp": "GREEN", "content": {"summary": "x"}, "recipients": [{"ministry_org_id": "m", "sector": "gas"}]});
        assert!(check_body("/api/v1/advisories", "POST", &body).is_ok());
        assert!(check_body("/nowhere", "POST", &json!([1])).is_ok());
    }
}
