//! Extractors: JSON bodies whose errors name the field, and the authenticated caller.

use crate::error::ApiError;
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use kyoyu_domain::FieldError;
use serde::de::DeserializeOwned;
use std::net::{IpAddr, SocketAddr};

/// A JSON body. Syntax errors answer 400; a value of the wrong type or code answers 422
/// naming its path; an empty or `null` body is `T::default()`.
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Default> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let route = req.extensions().get::<axum::extract::MatchedPath>().map(|p| p.as_str().to_string());
        let method = req.method().to_string();
        let json_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.starts_with("application/json"));
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge(crate::BODY_LIMIT)
            } else {
                ApiError::Malformed(e.body_text())
            }
        })?;
        // No body, or `null`: the request's defaults (the contract documents such bodies as
        // optional or nullable).
        if bytes.iter().all(u8::is_ascii_whitespace) || bytes.trim_ascii() == b"null" {
            return Ok(JsonBody(T::default()));
        }
        if json_type == Some(false) {
            return Err(ApiError::UnsupportedMediaType);
        }
        // Every body is an object; serde would also read a struct from an array of its fields.
        if bytes.trim_ascii_start().first() != Some(&b'{') {
            return Err(ApiError::field("", "JSON のオブジェクトを送ってください", "the body must be a JSON object"));
        }
        if let Some(route) = route {
            // Syntax errors are parse_json's to name, below.
            if let Ok(value) = serde_json::from_slice::<serde_json::Value>(&bytes) {
                crate::shape::check_body(&route, &method, &value).map_err(ApiError::from)?;
            }
        }
        parse_json(&bytes).map(JsonBody)
    }
}

/// Parses JSON; public for the handlers that read bodies another way.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    refuse_nul(bytes)?;
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut *de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            return ApiError::Malformed(inner.to_string());
        }
        ApiError::from(data_error(&path, &inner.to_string()))
    })?;
    de.end().map_err(|e| ApiError::Malformed(e.to_string()))?;
    Ok(value)
}

/// Refuses a JSON text with a NUL character in any string (PostgreSQL text cannot hold one,
/// and no field needs one), naming where it is.
pub fn refuse_nul(bytes: &[u8]) -> Result<(), ApiError> {
    if !bytes.windows(6).any(|w| w.eq_ignore_ascii_case(b"\\u0000")) {
        return Ok(());
    }
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(bytes) else { return Ok(()) };
    match nul_at(&value, String::new()) {
        None => Ok(()),
        Some(path) => {
            Err(ApiError::field(&path, "NUL 文字（\\u0000）は使えません", "the NUL character (\\u0000) is not allowed"))
        }
    }
}

fn nul_at(v: &serde_json::Value, path: String) -> Option<String> {
    use serde_json::Value;
    let join = |key: &str| if path.is_empty() { key.to_string() } else { format!("{path}.{key}") };
    match v {
        Value::String(s) if s.contains('\0') => Some(path),
        Value::Array(items) => items.iter().enumerate().find_map(|(i, x)| nul_at(x, format!("{path}[{i}]"))),
        Value::Object(m) => {
            m.iter().find_map(|(k, x)| if k.contains('\0') { Some(join("")) } else { nul_at(x, join(k)) })
        }
        _ => None,
    }
}

/// Refuses a path or query holding an encoded NUL (`%00`) before any handler sees it.
pub async fn refuse_nul_in_uri(req: Request, next: axum::middleware::Next) -> axum::response::Response {
    use axum::response::IntoResponse;
    let uri = req.uri().to_string();
    if uri.to_ascii_lowercase().contains("%00") {
        return ApiError::field(
            "path",
            "パスやクエリに NUL 文字（%00）は使えません",
            "the path or query holds a NUL (%00)",
        )
        .into_response();
    }
    next.run(req).await
}

/// Turns a serde data error into a field error with a bilingual reason.
pub(crate) fn data_error(path: &str, message: &str) -> FieldError {
    let quoted = message.split('`').nth(1).unwrap_or_default();
    // serde_path_to_error already ends the path with an unknown field's name.
    let join = |name: &str| match path {
        "." | "" => name.to_string(),
        p if p == name || p.ends_with(&format!(".{name}")) => p.to_string(),
        p => format!("{p}.{name}"),
    };
    let field = if path == "." { String::new() } else { path.to_string() };
    let short = message.split(" at line").next().unwrap_or(message);
    if message.starts_with("missing field") {
        FieldError::required(&join(quoted))
    } else if message.starts_with("unknown variant") {
        FieldError::new(field, format!("不明なコードです: {quoted}"), short)
    } else if message.starts_with("unknown field") {
        FieldError::new(join(quoted), "不明な項目です", "unknown field")
    } else if message.starts_with("invalid type") || message.starts_with("invalid value") {
        FieldError::new(field, format!("値の型が正しくありません（{short}）"), short)
    } else if message.starts_with("premature end") || message.contains("input contains invalid characters") {
        FieldError::new(field, "日時は RFC 3339 形式で指定してください", "times must be RFC 3339")
    } else {
        FieldError::new(field, format!("値が正しくありません（{short}）"), short)
    }
}

/// The authenticated user, from the application layer: any handler that takes one cannot run
/// without a valid token.
pub use kyoyu_app::Caller;

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or(ApiError::UNAUTHORIZED)?;
        Ok(Caller::by_token(&state.app, token, false).await?)
    }
}

/// The client's address, for log-in throttling: the peer, or, when the peer is a trusted
/// reverse proxy (`kyoyu serve --trusted-proxy`), the last address its `X-Forwarded-For` adds.
pub struct ClientAddress(pub String);

impl ClientAddress {
    pub fn of(parts: &Parts, state: &AppState) -> ClientAddress {
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
        let forwarded = || {
            let header = parts.headers.get("x-forwarded-for")?.to_str().ok()?;
            header.rsplit(',').next()?.trim().parse::<IpAddr>().ok()
        };
        let address = match peer {
            Some(ip) if state.trusted_proxies.contains(&ip) => forwarded().unwrap_or(ip),
            Some(ip) => ip,
            None => return ClientAddress("unknown".into()),
        };
        ClientAddress(address.to_string())
    }
}

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        Ok(ClientAddress::of(parts, state))
    }
}
