//! What operations answer: typed views shaped for the one reader who asked. Who may see the
//! sender, and what the reader may do next, are decided here by the policy, beside the view.

use kyoyu_domain::anonymise::Removal;
use kyoyu_domain::codes::{ReportStatus, Route};
use kyoyu_domain::identifier::report_identifier;
use kyoyu_domain::report::ReportContent;
use kyoyu_policy::ReportActions;
use kyoyu_store::ReportRow;
use serde::Serialize;

/// The banner every item shows: its TLP and severity at a glance (別添 3.2(1)).
#[derive(Debug, Clone, Serialize)]
pub struct Banner {
    pub ja: String,
    pub en: String,
}

impl Banner {
    pub fn of(row: &ReportRow) -> Banner {
        let tlp = row.content.tlp;
        let (sev_ja, sev_en) =
            row.content.severity.map(|s| (s.label_ja(), s.code())).unwrap_or(("重要度未設定", "no severity"));
        Banner {
            ja: format!("TLP:{} {}／{}", tlp.code(), tlp.label_ja(), sev_ja),
            en: format!("TLP:{} / {}", tlp.code(), sev_en),
        }
    }
}

/// One rendition of a report as its reader sees it.
#[derive(Debug, Clone, Serialize)]
pub struct ReportView {
    #[serde(flatten)]
    pub content: ReportContent,
    pub id: String,
    /// The report's identifier (R2026-0001-2 for the second report of a chain), once numbered.
    pub identifier: Option<String>,
    pub chain_identifier: Option<String>,
    pub sequence: i64,
    pub chain_id: String,
    pub parent_id: Option<String>,
    pub status: ReportStatus,
    pub route: Route,
    pub statutory: bool,
    pub exercise: bool,
    /// Null where the reader must not learn who the anonymous operator is.
    pub sender_org_id: Option<String>,
    pub receiver_org_id: String,
    pub disclosure_consent: bool,
    pub disclosure_consent_at: Option<String>,
    pub published_at: Option<String>,
    pub created_at: String,
    pub banner: Banner,
    /// What the reader may do with this rendition; on answers about one item, not in lists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actions: Option<ReportActions>,
}

impl ReportView {
    /// The rendition for a reader in `reader_org`, or for the public (None), who never sees
    /// who at the sending organisation sent it.
    pub fn new(row: &ReportRow, reader_org: Option<&str>) -> ReportView {
        let chain = &row.chain;
        let knows_sender = match reader_org {
            Some(org) => kyoyu_policy::may_know_sender(
                org,
                &row.sender_org_id,
                chain.anonymous_originator(),
                chain.secretariat_org_id.as_deref(),
            ),
            None => chain.anonymous_originator().is_none(),
        };
        let mut content = row.content.clone();
        if reader_org.is_none() {
            content.sender_contact = None;
        }
        ReportView {
            content,
            id: row.id.clone(),
            identifier: chain.identifier.as_deref().map(|c| report_identifier(c, row.sequence)),
            chain_identifier: chain.identifier.clone(),
            sequence: row.sequence,
            chain_id: chain.id.clone(),
            parent_id: row.parent_id.clone(),
            status: row.status,
            route: chain.route,
            statutory: chain.statutory,
            exercise: chain.exercise,
            sender_org_id: knows_sender.then(|| row.sender_org_id.clone()),
            receiver_org_id: row.receiver_org_id.clone(),
            disclosure_consent: chain.disclosure_consent_at.is_some(),
            disclosure_consent_at: chain.disclosure_consent_at.clone(),
            published_at: row.published_at.clone(),
            created_at: row.created_at.clone(),
            banner: Banner::of(row),
            actions: None,
        }
    }
}

/// A page of renditions.
#[derive(Debug, Clone, Serialize)]
pub struct ReportList {
    pub items: Vec<ReportView>,
    pub limit: i64,
    pub offset: i64,
}

/// Published renditions, for anyone.
#[derive(Debug, Clone, Serialize)]
pub struct PublishedList {
    pub items: Vec<ReportView>,
}

/// How many items match.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Count {
    pub count: i64,
}

/// The rendition a forward made, with what scrubbing removed from it.
#[derive(Debug, Clone, Serialize)]
pub struct Forwarded {
    #[serde(flatten)]
    pub report: ReportView,
    pub removed: Vec<Removal>,
}

/// What a forward would send, without sending it.
#[derive(Debug, Clone, Serialize)]
pub struct ForwardPreview {
    pub receiver_org_id: String,
    pub rendition: ReportContent,
    pub removed: Vec<Removal>,
}

/// Who a share added.
#[derive(Debug, Clone, Serialize)]
pub struct Shared {
    pub report_id: String,
    pub shared_with: Vec<String>,
}
