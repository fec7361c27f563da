//! What pages share to call the application layer: form JSON parsed as a client's request
//! would be, and organisation names for display.

use kyoyu_api::error::ApiError;
use kyoyu_api::extract::parse_json;
use kyoyu_api::AppState;
use kyoyu_domain::codes::OrgKind;
use kyoyu_store::OrgRow;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::collections::HashMap;

/// A request parsed from a form's JSON exactly as a client's body would be (errors name the
/// field), for an operation of the application layer.
pub fn input<T: DeserializeOwned>(v: &Value) -> Result<T, ApiError> {
    let bytes = serde_json::to_vec(v).map_err(|e| ApiError::internal("form as JSON", e))?;
    parse_json(&bytes)
}

/// Organisation names for display (the directory every user may read).
pub struct Names(HashMap<String, OrgRow>);

impl Names {
    pub async fn load(state: &AppState) -> Result<Names, ApiError> {
        let orgs = state.store.list_orgs().await?;
        Ok(Names(orgs.into_iter().map(|o| (o.id.clone(), o)).collect()))
    }

    pub fn name(&self, id: Option<&str>, lang: crate::i18n::Lang) -> String {
        match id.and_then(|id| self.0.get(id)) {
            Some(o) => lang.t(&o.name_ja, &o.name_en).to_string(),
            None if id.is_none() => lang.t("（匿名）", "(anonymous)").to_string(),
            None => id.unwrap_or_default().to_string(),
        }
    }

    pub fn org(&self, id: &str) -> Option<&OrgRow> {
        self.0.get(id)
    }

    pub fn kind(&self, id: &str) -> Option<OrgKind> {
        self.0.get(id).map(|o| o.kind)
    }

    pub fn all(&self) -> impl Iterator<Item = &OrgRow> {
        self.0.values()
    }
}
