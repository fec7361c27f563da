//! What pages share to call the application layer: form JSON parsed as a client's request
//! would be, and organisation names for display.

use kyoyu_api::error::ApiError;
use kyoyu_api::extract::parse_json;
use kyoyu_api::AppState;
use kyoyu_domain::codes::OrgKind;
use kyoyu_store::{OrgRow, SectorRow};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::collections::HashMap;

/// A request parsed from a form's JSON exactly as a client's body would be (errors name the
/// field), for an operation of the application layer.
pub fn input<T: DeserializeOwned>(v: &Value) -> Result<T, ApiError> {
    let bytes = serde_json::to_vec(v).map_err(|e| ApiError::internal("form as JSON", e))?;
    parse_json(&bytes)
}

/// Organisation and sector names for display (the directory every user may read), so
/// pages show names and never codes.
pub struct Names {
    orgs: HashMap<String, OrgRow>,
    /// Sectors in the order of the reference data.
    sectors: Vec<SectorRow>,
}

impl Names {
    pub async fn load(state: &AppState) -> Result<Names, ApiError> {
        let orgs = state.store.list_orgs().await?;
        let mut sectors = state.store.list_sectors().await?;
        sectors.sort_by_key(|s| s.position);
        Ok(Names { orgs: orgs.into_iter().map(|o| (o.id.clone(), o)).collect(), sectors })
    }

    /// A sector's name; the code itself only for a sector the reference data lacks.
    pub fn sector(&self, code: &str, lang: crate::i18n::Lang) -> String {
        match self.sectors.iter().find(|s| s.code == code) {
            Some(s) => lang.t(&s.name_ja, &s.name_en).to_string(),
            None => code.to_string(),
        }
    }

    /// Every sector's code with its row, in reference order.
    pub fn sectors(&self) -> impl Iterator<Item = (&str, &SectorRow)> {
        self.sectors.iter().map(|s| (s.code.as_str(), s))
    }

    pub fn name(&self, id: Option<&str>, lang: crate::i18n::Lang) -> String {
        match id.and_then(|id| self.orgs.get(id)) {
            Some(o) => lang.t(&o.name_ja, &o.name_en).to_string(),
            None if id.is_none() => lang.t("（匿名）", "(anonymous)").to_string(),
            None => id.unwrap_or_default().to_string(),
        }
    }

    pub fn org(&self, id: &str) -> Option<&OrgRow> {
        self.orgs.get(id)
    }

    pub fn kind(&self, id: &str) -> Option<OrgKind> {
        self.orgs.get(id).map(|o| o.kind)
    }

    pub fn all(&self) -> impl Iterator<Item = &OrgRow> {
        self.orgs.values()
    }
}
