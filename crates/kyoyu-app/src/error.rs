//! The application layer's error: what an operation refuses and why, free of HTTP. The JSON
//! API, TAXII and the web map it to answers in one place each.

use kyoyu_domain::{FieldError, ValidationErrors};
use kyoyu_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("validation failed: {0}")]
    Validation(ValidationErrors),
    /// No valid credential: unknown, revoked or expired token, or a failed log-in (every kind
    /// of failure looks the same).
    #[error("unauthenticated")]
    Unauthenticated,
    /// The password was set by an administrator and serves only to choose a new one.
    #[error("password change required")]
    PasswordChangeRequired,
    #[error("forbidden: {en}")]
    Forbidden { ja: String, en: String },
    /// Also what every item the caller may not read answers, so existence never shows.
    #[error("not found")]
    NotFound,
    #[error("conflict: {en}")]
    Conflict { ja: String, en: String },
    /// Too many log-ins are waiting for password hashing: try again shortly.
    #[error("too many requests")]
    TooManyRequests,
    /// The writer stayed busy longer than a write may wait: try again shortly.
    #[error("the server is busy")]
    Busy,
    /// Something failed inside. The cause, with its own causes, goes to the log, never into
    /// the answer.
    #[error("internal error: {0}")]
    Internal(#[source] Cause),
}

pub type AppResult<T> = Result<T, AppError>;

/// What made an internal error, kept whole for the log.
pub type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;

/// An error with what was being done when it happened.
#[derive(Debug, thiserror::Error)]
#[error("{what}")]
struct Context {
    what: String,
    #[source]
    cause: Cause,
}

/// A cause with what was being done when it happened.
pub fn context(what: &str, cause: impl Into<Cause>) -> Cause {
    Box::new(Context { what: what.to_string(), cause: cause.into() })
}

impl AppError {
    pub fn field(field: &str, ja: impl Into<String>, en: impl Into<String>) -> AppError {
        AppError::Validation(FieldError::new(field, ja, en).into())
    }

    pub fn forbidden(ja: &str, en: &str) -> AppError {
        AppError::Forbidden { ja: ja.into(), en: en.into() }
    }

    pub fn conflict(ja: &str, en: &str) -> AppError {
        AppError::Conflict { ja: ja.into(), en: en.into() }
    }

    /// An internal failure, keeping what failed and why for the log (never for the answer).
    pub fn internal(what: &str, cause: impl Into<Cause>) -> AppError {
        AppError::Internal(context(what, cause))
    }

    /// Another request acted on the item first.
    pub fn already_done() -> AppError {
        AppError::conflict(
            "他の操作が先に行われました。最新の状態を確認してください",
            "another request acted on this first; reload to see its current state",
        )
    }
}

impl From<ValidationErrors> for AppError {
    fn from(e: ValidationErrors) -> Self {
        AppError::Validation(e)
    }
}

impl From<FieldError> for AppError {
    fn from(e: FieldError) -> Self {
        AppError::Validation(e.into())
    }
}

impl From<kyoyu_policy::Refusal> for AppError {
    fn from(r: kyoyu_policy::Refusal) -> Self {
        AppError::forbidden(r.ja, r.en)
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => AppError::NotFound,
            StoreError::WriterBusy => AppError::Busy,
            StoreError::BatchFailed(cause) if matches!(*cause, StoreError::ReferenceChanged) => AppError::Busy,
            StoreError::Conflict(what) => AppError::Conflict {
                ja: format!("既に存在します: {what}"),
                en: format!("already exists: {what}"),
            },
            other => AppError::Internal(Box::new(other)),
        }
    }
}
