//! Rows as the rest of kyoyu sees them.

use kyoyu_domain::codes::{OrgKind, ReportStatus, Role, Route, TriageState};
use kyoyu_domain::report::ReportContent;
use serde::{Deserialize, Serialize};

/// What identifies an organisation besides its names; scrubbed in the anonymised route.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct OrgIdentity {
    pub aliases: Vec<String>,
    pub domains: Vec<String>,
    pub emails: Vec<String>,
    pub phones: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OrgRow {
    pub id: String,
    pub kind: OrgKind,
    pub name_ja: String,
    pub name_en: String,
    pub sector: Option<String>,
    pub analysis_partner: bool,
    pub identity: OrgIdentity,
    pub created_at: String,
}

impl OrgRow {
    pub fn facts(&self) -> kyoyu_policy::OrgFacts {
        kyoyu_policy::OrgFacts {
            id: self.id.clone(),
            kind: self.kind,
            sector: self.sector.clone(),
            analysis_partner: self.analysis_partner,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct UserRow {
    pub id: String,
    pub org_id: String,
    pub login: String,
    pub display_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    #[serde(skip)]
    pub password_hash: Option<String>,
    pub roles: Vec<Role>,
    pub need_to_know: bool,
    pub active: bool,
    pub created_at: String,
    /// The password was set by someone else (an administrator): it serves only to choose a
    /// new one (`POST /api/v1/password`).
    pub password_must_change: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TokenRow {
    pub id: String,
    pub user_id: String,
    pub label: String,
    /// `web` (a browser session), `session` (a JSON API log-in) or `api` (a token its owner
    /// made): only `web` opens the web UI.
    pub kind: String,
    pub expires_at: Option<String>,
    pub revoked_at: Option<String>,
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SectorRow {
    pub code: String,
    pub name_ja: String,
    pub name_en: String,
    pub ministry_org_id: Option<String>,
    pub position: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ServiceLevelRuleRow {
    pub id: String,
    pub sector: String,
    pub service: String,
    pub condition_ja: String,
    pub condition_en: String,
    pub statute: String,
    pub min_users: Option<i64>,
    pub min_duration_minutes: Option<i64>,
    pub min_interrupted_kw: Option<i64>,
    pub min_households: Option<i64>,
    pub position: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ChainRow {
    pub id: String,
    pub route: Route,
    pub statutory: bool,
    /// An exercise chain: numbered E…, left out of statistics.
    pub exercise: bool,
    pub sector: String,
    pub originator_org_id: String,
    pub secretariat_org_id: Option<String>,
    pub identifier: Option<String>,
    pub disclosure_consent_at: Option<String>,
    pub disclosure_consent_by: Option<String>,
    pub created_at: String,
}

impl ChainRow {
    /// The operator to keep hidden, in the anonymised route.
    pub fn anonymous_originator(&self) -> Option<&str> {
        (self.route == Route::Anonymised).then_some(self.originator_org_id.as_str())
    }

    /// What must be concealed about this chain outside its operator and secretariat.
    pub fn concealed(&self) -> Option<crate::Concealed> {
        self.anonymous_originator()
            .map(|org| crate::Concealed { org_id: org.to_string(), secretariat_id: self.secretariat_org_id.clone() })
    }
}

/// Where a received rendition stands with its receiving organisation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TriageRow {
    pub report_id: String,
    pub state: TriageState,
    pub owner_user_id: Option<String>,
    pub updated_by: String,
    pub updated_at: String,
}

/// One rendition with its chain.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportRow {
    pub id: String,
    pub chain: ChainRow,
    pub sequence: i64,
    pub parent_id: Option<String>,
    pub sender_org_id: String,
    pub receiver_org_id: String,
    pub status: ReportStatus,
    pub identifies_operator: bool,
    pub content: ReportContent,
    pub published_at: Option<String>,
    pub created_at: String,
}

/// A rendition to insert.
#[derive(Debug, Clone)]
pub struct NewRendition {
    pub id: String,
    pub chain_id: String,
    pub sequence: i64,
    pub parent_id: Option<String>,
    pub sender_org_id: String,
    pub receiver_org_id: String,
    pub identifies_operator: bool,
    pub content: ReportContent,
    pub created_by: String,
    pub created_at: String,
}
