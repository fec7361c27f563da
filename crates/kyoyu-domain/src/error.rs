//! Validation errors that name the field and give the reason in Japanese and English.

use serde::{Deserialize, Serialize};

/// One field that failed validation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FieldError {
    pub field: String,
    pub ja: String,
    pub en: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, ja: impl Into<String>, en: impl Into<String>) -> Self {
        Self { field: field.into(), ja: ja.into(), en: en.into() }
    }

    pub fn required(field: &str) -> Self {
        Self::new(field, "必須項目です", "is required")
    }

    pub fn unknown_code(field: &str, code: &str) -> Self {
        Self::new(field, format!("不明なコードです: {code}"), format!("unknown code: {code}"))
    }
}

/// All the field errors of one request; empty means valid.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ValidationErrors(pub Vec<FieldError>);

impl ValidationErrors {
    pub fn push(&mut self, e: FieldError) {
        self.0.push(e);
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok(value)` when no error was pushed.
    pub fn into_result<T>(self, value: T) -> Result<T, ValidationErrors> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(self)
        }
    }
}

impl From<FieldError> for ValidationErrors {
    fn from(e: FieldError) -> Self {
        Self(vec![e])
    }
}

impl std::fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self.0.iter().map(|e| format!("{}: {}", e.field, e.en)).collect();
        write!(f, "{}", parts.join("; "))
    }
}

impl std::error::Error for ValidationErrors {}
