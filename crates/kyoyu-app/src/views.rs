//! What operations answer: typed views shaped for the one reader who asked. Who may see the
//! sender, and what the reader may do next, are decided here by the policy, beside the view.

use kyoyu_domain::advisory::{AdvisoryDraft, Recipient};
use kyoyu_domain::anonymise::Removal;
use kyoyu_domain::codes::OrgKind;
use kyoyu_domain::codes::{AckStatus, AdvisoryStatus, ReportStatus, Route, TriageState, WideningStatus};
use kyoyu_domain::identifier::report_identifier;
use kyoyu_domain::report::ReportContent;
use kyoyu_domain::Tlp;
use kyoyu_policy::{AdvisoryActions, ReportActions};
use kyoyu_store::{
    AdvisoryRow, AuditEntry, NotificationRow, OrgIdentity, OrgRow, QuestionRow, ReportRow, SectorRow,
    ServiceLevelRuleRow, TokenRow, TriageRow, UserRow, WideningRow,
};
use serde::{Deserialize, Serialize};

/// The banner every item shows: its TLP and severity at a glance (別添 3.2(1)).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Banner {
    pub ja: String,
    pub en: String,
}

impl Banner {
    pub fn of(row: &ReportRow) -> Banner {
        Banner::for_item(row.content.tlp, row.content.severity)
    }
}

/// One rendition of a report as its reader sees it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
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
    /// What the reader may do with this rendition; absent only on the public list.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actions: Option<ReportActions>,
    /// Where the rendition stands with the receiving organisation: present only for its
    /// own users.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub triage: Option<TriageView>,
}

/// A received rendition's triage: state, owner, when it last changed, and whom it may be
/// given to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TriageView {
    pub state: TriageState,
    pub owner_user_id: Option<String>,
    pub owner_name: Option<String>,
    /// Absent while nobody has touched it (open since it arrived).
    pub updated_at: Option<String>,
    /// The receiving organisation's active users, who may own it.
    pub owner_candidates: Vec<Person>,
}

/// A user as others see them: id and display name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Person {
    pub id: String,
    pub name: String,
}

impl TriageView {
    /// The triage from its row (none: open), with the organisation's `staff`.
    pub fn new(row: Option<&TriageRow>, staff: &[UserRow]) -> TriageView {
        let name_of = |id: &str| staff.iter().find(|u| u.id == id).map(|u| u.display_name.clone());
        let owner_user_id = row.and_then(|t| t.owner_user_id.clone());
        TriageView {
            state: row.map_or(TriageState::Open, |t| t.state),
            owner_name: owner_user_id.as_deref().and_then(name_of),
            owner_user_id,
            updated_at: row.map(|t| t.updated_at.clone()),
            owner_candidates: staff
                .iter()
                .filter(|u| u.active)
                .map(|u| Person { id: u.id.clone(), name: u.display_name.clone() })
                .collect(),
        }
    }
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
            triage: None,
        }
    }
}

/// A page of renditions.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReportList {
    pub items: Vec<ReportView>,
    pub limit: i64,
    pub offset: i64,
    /// Pass as `after` for the next page; absent on the last page.
    pub next: Option<String>,
}

/// Published renditions, for anyone.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PublishedList {
    pub items: Vec<ReportView>,
}

/// How many items match.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Count {
    pub count: i64,
}

/// The rendition a forward made, with what scrubbing removed from it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Forwarded {
    #[serde(flatten)]
    pub report: ReportView,
    pub removed: Vec<Removal>,
}

/// What a forward would send, without sending it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ForwardPreview {
    pub receiver_org_id: String,
    pub rendition: ReportContent,
    pub removed: Vec<Removal>,
    /// The names of the files it would carry, as they would arrive (scrubbed on the
    /// anonymised route).
    pub attachments: Vec<String>,
}

/// Who a share added.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Shared {
    pub report_id: String,
    pub shared_with: Vec<String>,
}

impl Banner {
    /// The banner of an item with this TLP and severity.
    pub fn for_item(tlp: kyoyu_domain::Tlp, severity: Option<kyoyu_domain::codes::Severity>) -> Banner {
        let (sev_ja, sev_en) = severity.map(|s| (s.label_ja(), s.code())).unwrap_or(("重要度未設定", "no severity"));
        Banner {
            ja: format!("TLP:{} {}／{}", tlp.code(), tlp.label_ja(), sev_ja),
            en: format!("TLP:{} / {}", tlp.code(), sev_en),
        }
    }
}

/// An advisory as one reader sees it. The coordinator and relaying organisations also see
/// the hops they sent or received, with acknowledgments and how long each took.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AdvisoryView {
    pub id: String,
    /// T2026-0001 (-n for follow-ups), once issued.
    pub identifier: Option<String>,
    pub sequence: i64,
    pub chain_id: String,
    pub status: AdvisoryStatus,
    /// The form's fields; `source_report_ids` and `source_partner_ids` only for the
    /// coordinator, empty for others.
    #[serde(flatten)]
    pub draft: AdvisoryDraft,
    pub created_at: String,
    pub issued_at: Option<String>,
    pub banner: Banner,
    pub deliveries: Vec<DeliveryView>,
    /// The reader's organisation has acknowledged it.
    pub acknowledged: bool,
    /// The reader's organisation received it and has yet to act on it (acknowledge it, or
    /// relay it onward). Inboxes show these; acting takes it off them.
    pub awaiting: bool,
    /// What the reader may do with it, decided by the policy.
    pub actions: AdvisoryActions,
}

impl AdvisoryView {
    pub fn new(
        a: AdvisoryRow,
        coordinator: bool,
        deliveries: Vec<DeliveryView>,
        (acknowledged, awaiting): (bool, bool),
        actions: AdvisoryActions,
    ) -> AdvisoryView {
        let mut draft = a.draft;
        if !coordinator {
            draft.source_report_ids.clear();
            draft.source_partner_ids.clear();
        }
        AdvisoryView {
            identifier: a
                .chain_identifier
                .as_deref()
                .filter(|_| a.status == AdvisoryStatus::Issued)
                .map(|c| report_identifier(c, a.sequence)),
            id: a.id,
            sequence: a.sequence,
            chain_id: a.chain_id,
            status: a.status,
            banner: Banner::for_item(draft.tlp, draft.severity),
            draft,
            created_at: a.created_at,
            issued_at: a.issued_at,
            deliveries,
            acknowledged,
            awaiting,
            actions,
        }
    }
}

/// One hop of an advisory's delivery.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DeliveryView {
    pub from_org_id: String,
    pub to_org_id: String,
    pub tlp: Tlp,
    /// A copy for information (the liaison's copy of an urgent warning).
    pub copy: bool,
    pub delivered_at: String,
    pub acknowledgment: Option<AckView>,
}

/// A receiving organisation's acknowledgment of one hop.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AckView {
    pub status: AckStatus,
    pub comment: String,
    pub at: String,
    pub seconds_to_acknowledge: Option<i64>,
}

/// A page of advisories.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AdvisoryList {
    pub items: Vec<AdvisoryView>,
    pub limit: i64,
    pub offset: i64,
    /// Pass as `after` for the next page; absent on the last page.
    pub next: Option<String>,
}

/// An advisory's question thread, oldest first.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct QuestionList {
    pub items: Vec<QuestionView>,
}

/// One post of a thread: a question from a ministry in scope, or the coordinator's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct QuestionView {
    #[serde(flatten)]
    pub post: QuestionRow,
    /// Posted by the coordinator: an answer.
    pub answer: bool,
    /// A question the coordinator has posted after (answered); false on an answer.
    pub answered: bool,
}

impl QuestionList {
    /// The thread from its posts, oldest first; `coordinator` is the coordinator's id.
    pub fn new(posts: Vec<QuestionRow>, coordinator: &str) -> QuestionList {
        let last_answer = posts.iter().rposition(|q| q.author_org_id == coordinator);
        let items = posts
            .into_iter()
            .enumerate()
            .map(|(i, post)| {
                let answer = post.author_org_id == coordinator;
                QuestionView { answered: !answer && last_answer.is_some_and(|a| a > i), answer, post }
            })
            .collect();
        QuestionList { items }
    }

    /// Questions not answered yet.
    pub fn unanswered(&self) -> usize {
        self.items.iter().filter(|q| !q.answer && !q.answered).count()
    }
}

/// A scope-widening request as one party sees it: the advisory's author never learns who
/// answered in the anonymised route, and only the author sees which report it is about.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WideningView {
    pub id: String,
    pub advisory_id: String,
    pub report_id: Option<String>,
    pub chain_id: String,
    pub status: WideningStatus,
    pub requested_at: String,
    pub answered_at: Option<String>,
    pub answered_by: Option<String>,
    /// What consent is asked for: the advisory's scope and recipients when asked.
    pub target_tlp: Option<Tlp>,
    pub target_recipients: Vec<Recipient>,
    /// What the reader may do with the request now, decided by the policy.
    pub actions: WideningActions,
}

/// Pass the request on to the operator (its secretariat), or answer it (the operator).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WideningActions {
    pub relay: bool,
    pub answer: bool,
}

impl WideningView {
    pub fn new(w: &WideningRow, reader: &kyoyu_policy::Principal) -> WideningView {
        let anonymous = w.secretariat_org_id.is_some();
        let author = reader.org().id == w.author_org_id;
        let actions = WideningActions {
            relay: w.status == WideningStatus::AtSecretariat
                && kyoyu_policy::check_widening_relay(reader, w.secretariat_org_id.as_deref()).is_ok(),
            answer: w.status == WideningStatus::Pending
                && kyoyu_policy::check_widening_answer(reader, &w.originator_org_id).is_ok(),
        };
        WideningView {
            id: w.id.clone(),
            advisory_id: w.advisory_id.clone(),
            report_id: author.then(|| w.report_id.clone()),
            chain_id: w.chain_id.clone(),
            status: w.status,
            requested_at: w.requested_at.clone(),
            answered_at: w.answered_at.clone(),
            answered_by: w.answered_by.clone().filter(|_| !(anonymous && author)),
            target_tlp: w.target_tlp,
            target_recipients: w.target_recipients.clone(),
            actions,
        }
    }
}

/// Scope-widening requests.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WideningList {
    pub items: Vec<WideningView>,
}

/// How a user is told by mail.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NotificationSettings {
    pub mode: kyoyu_domain::codes::NotifyMode,
}

/// A user's choice of how they are told by mail.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NotificationSettingsRequest {
    #[schema(required = true, nullable = false)]
    pub mode: Option<kyoyu_domain::codes::NotifyMode>,
}

/// The user's notifications.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NotificationList {
    pub items: Vec<NotificationRow>,
}

/// An action that answers nothing but that it was done.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Done {
    pub ok: bool,
}

/// One mail in the outbox, for system administration.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OutboxView {
    pub id: String,
    pub to_address: String,
    pub subject: String,
    pub attempts: i64,
    pub next_attempt_at: String,
    pub last_error: Option<String>,
    pub sent_at: Option<String>,
    pub created_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OutboxList {
    pub items: Vec<OutboxView>,
}

/// How many digests went out.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Sent {
    pub digests: usize,
}

/// Sectors suggested as an advisory's recipients from a report: its own, and those that
/// depend on it when it stopped a service or spilled over.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Suggestion {
    pub report_id: String,
    pub sector: String,
    pub sectors: Vec<String>,
}

/// An organisation in the directory. What identifies it beyond its names (and when it was
/// made) is for system administrators only, and absent for everyone else.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OrgView {
    pub id: String,
    pub kind: OrgKind,
    pub name_ja: String,
    pub name_en: String,
    pub sector: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub analysis_partner: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity: Option<OrgIdentity>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
}

impl OrgView {
    pub fn new(o: OrgRow, full: bool) -> OrgView {
        OrgView {
            id: o.id,
            kind: o.kind,
            name_ja: o.name_ja,
            name_en: o.name_en,
            sector: o.sector,
            analysis_partner: full.then_some(o.analysis_partner),
            identity: full.then_some(o.identity),
            created_at: full.then_some(o.created_at),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OrgList {
    pub items: Vec<OrgView>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct UserList {
    pub items: Vec<UserRow>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TokenList {
    pub items: Vec<TokenRow>,
}

/// A token just minted: its secret is shown this once.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NewToken {
    pub id: String,
    pub token: String,
    pub label: String,
    pub expires_at: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Unlocked {
    pub user_id: String,
    pub throttles_lifted: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AuditList {
    pub items: Vec<AuditEntry>,
}

/// Who the caller is: the user, their organisation, and whether they relay for their sector.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Me {
    pub user: UserRow,
    pub org: OrgView,
    pub relay_officer: bool,
}

/// A session token, shown this once.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SessionView {
    pub token: String,
    pub expires_at: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PasswordChanged {
    pub user_id: String,
    pub changed: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SectorList {
    pub items: Vec<SectorRow>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ServiceLevelRuleList {
    pub items: Vec<ServiceLevelRuleRow>,
}

/// One sector depending on another (the failure of `depends_on` spreads to `sector`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Dependency {
    pub sector: String,
    pub depends_on: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DependencyList {
    pub items: Vec<Dependency>,
}

/// Always `bundle`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, utoipa::ToSchema)]
pub enum BundleType {
    #[serde(rename = "bundle")]
    Bundle,
}

/// A STIX 2.1 bundle. Its objects follow STIX 2.1 (the tests check them with stix2-validator);
/// the contract describes only the envelope.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StixBundle {
    #[serde(rename = "type")]
    pub kind: BundleType,
    pub id: String,
    pub objects: Vec<serde_json::Map<String, serde_json::Value>>,
}

impl StixBundle {
    pub fn new(objects: Vec<serde_json::Map<String, serde_json::Value>>) -> StixBundle {
        StixBundle { kind: BundleType::Bundle, id: format!("bundle--{}", uuid::Uuid::new_v4()), objects }
    }
}

/// An object the reader may read that names one of the item's indicator values.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Correlation {
    pub value: String,
    pub collection: String,
    /// The STIX id.
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub version: String,
    pub tlp: Option<Tlp>,
    pub object: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Correlations {
    /// The item's indicator values.
    pub values: Vec<String>,
    pub items: Vec<Correlation>,
}

/// One version of a STIX object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ObjectVersion {
    pub id: String,
    pub version: String,
}

/// What an imported bundle added.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Imported {
    pub collection: String,
    pub added: Vec<ObjectVersion>,
}
