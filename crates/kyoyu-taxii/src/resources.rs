//! TAXII 2.1's resources as types (§4–§5): what the server answers, and what a client
//! (the tests, a federation peer) reads back. Pages of objects are written by splicing the
//! stored JSON in unparsed (see `envelope`), so [`Envelope`] is for reading them.

use kyoyu_app::exchange::ObjectFailure;
use kyoyu_app::views::ObjectVersion;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The discovery resource (§4.1).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Discovery {
    pub title: String,
    pub description: String,
    pub default: String,
    pub api_roots: Vec<String>,
}

/// The API root resource (§4.2).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApiRootInfo {
    pub title: String,
    pub description: String,
    pub versions: Vec<String>,
    pub max_content_length: usize,
}

/// A collection (§5.2).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Collection {
    pub id: String,
    pub title: String,
    pub description: String,
    pub can_read: bool,
    pub can_write: bool,
    pub media_types: Vec<String>,
}

/// The collections resource (§5.1).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Collections {
    pub collections: Vec<Collection>,
}

/// The status of an add (§4.3). kyoyu's are complete when they answer; another server's
/// may still be pending, and may leave out the optional lists.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Status {
    pub id: String,
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_timestamp: Option<String>,
    pub total_count: usize,
    pub success_count: usize,
    #[serde(default)]
    pub successes: Vec<ObjectVersion>,
    pub failure_count: usize,
    #[serde(default)]
    pub failures: Vec<ObjectFailure>,
    pub pending_count: usize,
    #[serde(default)]
    pub pendings: Vec<ObjectVersion>,
}

/// An error message (§3.6.1).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ErrorMessage {
    pub title: String,
    pub description: String,
    pub error_code: String,
    pub http_status: String,
}

/// A page of objects or manifest entries (§3.7), as a client reads it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Envelope<T = Value> {
    #[serde(default)]
    pub more: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    #[serde(default = "Vec::new")]
    pub objects: Vec<T>,
}

/// A page of one object's versions (§5.7).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Versions {
    #[serde(default)]
    pub more: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    #[serde(default)]
    pub versions: Vec<String>,
}

/// One manifest entry (§5.3).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ManifestEntry<S = String> {
    pub id: S,
    pub date_added: S,
    pub version: S,
    pub media_type: S,
}
