//! The one HTTP error type. Internal causes are logged, never returned. Every message is in
//! Japanese and English, and validation errors name their fields.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use kyoyu_app::AppError;
use kyoyu_domain::{FieldError, ValidationErrors};
use kyoyu_store::StoreError;
use serde::{Deserialize, Serialize};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// What an operation refused, or failed at.
    #[error(transparent)]
    App(#[from] AppError),
    #[error("malformed request: {0}")]
    Malformed(String),
    #[error("payload too large")]
    PayloadTooLarge(usize),
    #[error("unsupported media type")]
    UnsupportedMediaType,
}

pub use kyoyu_app::Cause;

/// An error and each of its causes, as one line for the log.
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut line = e.to_string();
    let mut next = e.source();
    while let Some(cause) = next {
        let text = cause.to_string();
        // `#[error(transparent)]` wrappers repeat their source's text.
        if !line.ends_with(&text) {
            line = format!("{line}: {text}");
        }
        next = cause.source();
    }
    line
}

pub type ApiResult<T> = Result<T, ApiError>;

/// The application layer's helpers and conversions, for what the handlers still hold
/// themselves: each builds the `AppError` and maps it, so the two layers cannot drift.
impl ApiError {
    pub const NOT_FOUND: ApiError = ApiError::App(AppError::NotFound);
    pub const UNAUTHORIZED: ApiError = ApiError::App(AppError::Unauthenticated);

    pub fn field(field: &str, ja: impl Into<String>, en: impl Into<String>) -> ApiError {
        AppError::field(field, ja, en).into()
    }

    pub fn forbidden(ja: &str, en: &str) -> ApiError {
        AppError::forbidden(ja, en).into()
    }

    pub fn conflict(ja: &str, en: &str) -> ApiError {
        AppError::conflict(ja, en).into()
    }

    /// An internal failure, keeping what failed and why for the log (never for the answer).
    pub fn internal(what: &str, cause: impl Into<Cause>) -> ApiError {
        AppError::internal(what, cause).into()
    }

    /// Another request acted on the item first.
    pub fn already_done() -> ApiError {
        AppError::already_done().into()
    }
}

macro_rules! through_app_error {
    ($($t:ty),+) => {
        $(impl From<$t> for ApiError {
            fn from(e: $t) -> Self {
                AppError::from(e).into()
            }
        })+
    };
}

through_app_error!(ValidationErrors, kyoyu_policy::Refusal, FieldError, StoreError);

/// An error as answered: status, a stable code, the message in both languages, and fields.
pub struct Answer {
    pub status: StatusCode,
    pub code: &'static str,
    pub ja: String,
    pub en: String,
    pub fields: Vec<FieldError>,
}

impl ApiError {
    /// The one mapping of errors to HTTP, shared by the JSON API and TAXII.
    pub fn answer(&self) -> Answer {
        let (status, code, ja, en, fields) = match self {
            ApiError::Malformed(detail) => (
                StatusCode::BAD_REQUEST,
                "malformed_request",
                format!("リクエストの形式が正しくありません（JSON として読めません）: {detail}"),
                format!("the request is malformed (not valid JSON): {detail}"),
                vec![],
            ),
            ApiError::App(AppError::Validation(errors)) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
                "入力内容に誤りがあります".into(),
                "the request has invalid fields".into(),
                errors.0.clone(),
            ),
            ApiError::App(AppError::Unauthenticated) => (
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "認証が必要です。有効なトークンを Authorization: Bearer で送ってください".into(),
                "authentication required: send a valid token as Authorization: Bearer".into(),
                vec![],
            ),
            ApiError::App(AppError::Forbidden { ja, en }) => {
                (StatusCode::FORBIDDEN, "forbidden", ja.clone(), en.clone(), vec![])
            }
            ApiError::App(AppError::NotFound) => {
                (StatusCode::NOT_FOUND, "not_found", "見つかりません".into(), "not found".into(), vec![])
            }
            ApiError::App(AppError::Conflict { ja, en }) => {
                (StatusCode::CONFLICT, "conflict", ja.clone(), en.clone(), vec![])
            }
            ApiError::PayloadTooLarge(limit) => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!("リクエストが大きすぎます（上限 {limit} バイト）"),
                format!("the request body is over the limit of {limit} bytes"),
                vec![],
            ),
            ApiError::UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "Content-Type は application/json にしてください".into(),
                "Content-Type must be application/json".into(),
                vec![],
            ),
            ApiError::App(AppError::PasswordChangeRequired) => (
                StatusCode::FORBIDDEN,
                "password_change_required",
                "管理者が設定したパスワードです。POST /api/v1/password で新しいパスワードを設定してください".into(),
                "this password was set by an administrator; choose a new one with POST /api/v1/password".into(),
                vec![],
            ),
            ApiError::App(AppError::TooManyRequests) => (
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_requests",
                "ログインの処理が混み合っています。しばらくしてから再度お試しください".into(),
                "too many log-ins are being checked; try again shortly".into(),
                vec![],
            ),
            ApiError::App(AppError::Busy) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "busy",
                "書き込みが混み合っています。しばらくしてから再度お試しください".into(),
                "the server is busy with other writes; try again shortly".into(),
                vec![],
            ),
            ApiError::App(AppError::Internal(cause)) => {
                tracing::error!(cause = %chain(cause.as_ref()), "internal error");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal_error",
                    "サーバ内部でエラーが発生しました。変更は保存されていません".into(),
                    "internal server error; nothing was changed".into(),
                    vec![],
                )
            }
        };
        Answer { status, code, ja, en, fields }
    }
}

/// Every error the JSON API answers.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// `validation_failed`, `not_found`, `forbidden` …
    pub code: String,
    pub message: Message,
    /// Each invalid field, named by its path (`summary.occurred_at`, `items[2].sector`).
    pub fields: Vec<FieldError>,
}

/// A message in Japanese and English.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Message {
    pub ja: String,
    pub en: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let Answer { status, code, ja, en, fields } = self.answer();
        let body = ErrorBody { error: ErrorDetail { code: code.to_string(), message: Message { ja, en }, fields } };
        (status, Json(body)).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_internal_error_keeps_its_causes_for_the_log_and_not_the_answer() {
        let io = std::io::Error::new(std::io::ErrorKind::PermissionDenied, "disk says no");
        let e = ApiError::internal("PDF work directory", io);
        assert_eq!(chain(&e), "internal error: PDF work directory: disk says no");
        let Answer { status, ja, en, .. } = e.answer();
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!ja.contains("disk") && !en.contains("disk"), "{en}");
    }

    #[test]
    fn a_store_error_stays_the_source() {
        let e = ApiError::from(StoreError::Corrupt("status x".into()));
        let source = std::error::Error::source(&e).expect("a source");
        assert!(source.downcast_ref::<StoreError>().is_some());
    }
}
