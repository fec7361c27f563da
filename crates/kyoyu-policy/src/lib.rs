//! The one place that decides who may read and write what (domain.md §7).
//!
//! The rule: a user reads an item iff (their organisation took part in it as sender or
//! receiver, or it was shared to them) and they are inside its TLP ceiling. RED and AMBER
//! reach only need-to-know users.
//!
//! Storage cannot run an item query without a [`ReadScope`], and it stores only the reader
//! rows an [`AccessGrants`] value carries; both can be made only here. Reads then join on those
//! rows inside SQL, so no list loads items to filter them afterwards.

use kyoyu_domain::codes::{OrgKind, ReportStatus, Role};
use kyoyu_domain::{FieldError, Tlp, ValidationErrors};

pub mod council;
pub mod files;
pub mod partner;
mod principal;
pub use principal::{Account, Authority, Principal, ReadScope};

/// What the policy needs to know about an organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgFacts {
    pub id: String,
    pub kind: OrgKind,
    pub sector: Option<String>,
    /// A security institution the coordinator arranged with beforehand for analysis (表5 ※2).
    pub analysis_partner: bool,
}

/// Separation of duties: system administration (its own organisation kind) runs the
/// installation but reads no item and learns no anonymous originator. Every ceiling, share
/// and relay leaves it out.
pub fn reads_items(org: &OrgFacts) -> bool {
    org.kind != OrgKind::Operations
}

/// The facts about one rendition of a report that decide who may read it.
#[derive(Debug, Clone)]
pub struct RenditionFacts<'a> {
    pub tlp: Tlp,
    pub sector: &'a str,
    /// The ministry with jurisdiction over the sector, if any.
    pub jurisdiction: Option<&'a str>,
    pub sender: &'a str,
    pub receiver: &'a str,
    pub originator: &'a str,
    pub extras: &'a [String],
    pub shared_to: &'a [String],
    /// Response agencies the originating operator reported this rendition to as a crime
    /// (別添2.2, a named recipient of 表5 ※1, so beyond the ceiling if need be). Only the
    /// operator and the agency ever learn of it: judging anyone else's action, the policy
    /// leaves these out ([`RenditionFacts::seen_by`]).
    pub crime_shares: &'a [String],
    /// The secretariat of an anonymised chain: only it and the operator know who filed.
    /// Shares and offered actions are judged with it; reader grants do not use it, so the
    /// writes that compute grants leave it None.
    pub secretariat: Option<&'a str>,
}

impl<'a> RenditionFacts<'a> {
    fn is_named(&self, org: &str) -> bool {
        org == self.sender
            || org == self.receiver
            || org == self.originator
            || self.extras.iter().any(|e| e == org)
            || self.crime_shares.iter().any(|e| e == org)
    }

    /// The facts as `org` may weigh them: crime shares count only for the operator that made
    /// them, so no answer to anyone else differs with whether there were any.
    pub fn seen_by(&self, org: &str) -> RenditionFacts<'a> {
        let crime_shares = if org == self.originator { self.crime_shares } else { &[] };
        RenditionFacts { crime_shares, ..self.clone() }
    }

    /// Whether `org` may know which operator filed the chain.
    fn knows_originator(&self, org: &str) -> bool {
        self.secretariat.is_none_or(|s| s == org) || org == self.originator
    }

    /// Whether `org` is one of the operators an anonymised chain's filer hides among.
    fn in_anonymity_set(&self, org: &OrgFacts) -> bool {
        self.secretariat.is_some() && org.kind == OrgKind::Operator && org.sector.as_deref() == Some(self.sector)
    }
}

/// Whether an organisation lies inside a report rendition's TLP ceiling (domain.md §7).
pub fn inside_ceiling(org: &OrgFacts, r: &RenditionFacts) -> bool {
    if !reads_items(org) {
        return false;
    }
    if r.is_named(&org.id) {
        return true;
    }
    let coordinator = org.kind == OrgKind::Coordinator;
    let concerned_ministry = org.kind == OrgKind::Ministry && r.jurisdiction == Some(org.id.as_str());
    let same_sector = org.sector.as_deref() == Some(r.sector);
    let partner = org.kind == OrgKind::SecurityInstitution && org.analysis_partner;
    match r.tlp {
        Tlp::Red => coordinator || concerned_ministry || partner,
        Tlp::AmberStrict => {
            coordinator || concerned_ministry || partner || (org.kind == OrgKind::Ceptoar && same_sector)
        }
        Tlp::Amber => {
            coordinator
                || concerned_ministry
                || partner
                || (matches!(org.kind, OrgKind::Ceptoar | OrgKind::Operator) && same_sector)
        }
        Tlp::Green | Tlp::White | Tlp::Clear => true,
    }
}

/// The organisations that may read one rendition, each with whether its users need
/// need-to-know. Only [`access_grants`] makes one; storage writes exactly these rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessGrants {
    rows: Vec<(String, bool)>,
}

impl AccessGrants {
    pub fn rows(&self) -> &[(String, bool)] {
        &self.rows
    }
}

/// Everyone who took part in the rendition and lies inside its ceiling. `org_of` looks up an
/// organisation; one it cannot find reads nothing.
pub fn access_grants(r: &RenditionFacts, org_of: impl Fn(&str) -> Option<OrgFacts>) -> AccessGrants {
    let mut ids = participants(r);
    ids.sort_unstable();
    ids.dedup();
    let ntk = r.tlp.needs_need_to_know();
    let rows =
        ids.into_iter().filter_map(org_of).filter(|org| inside_ceiling(org, r)).map(|org| (org.id, ntk)).collect();
    AccessGrants { rows }
}

/// Whether `sharer` may share a rendition it reads with `target` (domain.md §7): a ministry
/// with a CEPTOAR, a CEPTOAR with its members, an operator within its own CEPTOAR, the
/// coordinator with anyone inside the ceiling (an analysis partner above all). Every target
/// must lie inside the ceiling. A rendition that names the operator of an anonymised chain
/// is shared by nobody but that operator.
pub fn check_share(
    sharer: &Principal,
    target: &OrgFacts,
    r: &RenditionFacts,
    names_anonymous_operator: bool,
) -> Result<ShareKind, FieldError> {
    let field = "org_ids";
    let r = &r.seen_by(&sharer.org.id);
    if is_crime_report(sharer, target, r) {
        return Ok(ShareKind::Crime);
    }
    if !sharer.is_relay_officer() {
        return Err(FieldError::new(
            field,
            "共有できるのは組織の連絡担当者（リエゾン、事務局、防護担当）または管理者です",
            "only the organisation's liaison, secretariat, CIP desk or admin may share",
        ));
    }
    if names_anonymous_operator && sharer.org.id != r.originator {
        return Err(FieldError::new(
            field,
            "匿名化前の報告は共有できません。匿名化した版を共有してください",
            "this rendition identifies the anonymous operator; share the anonymised rendition",
        ));
    }
    let same_sector = sharer.org.sector.is_some() && target.sector == sharer.org.sector;
    let pattern_allows = match sharer.org.kind {
        OrgKind::Coordinator => true,
        OrgKind::Ministry => target.kind == OrgKind::Ceptoar,
        OrgKind::Ceptoar => target.kind == OrgKind::Operator && same_sector,
        OrgKind::Operator => matches!(target.kind, OrgKind::Ceptoar | OrgKind::Operator) && same_sector,
        _ => false,
    };
    if !pattern_allows {
        return Err(FieldError::new(
            field,
            format!("{} からこの組織（{}）へは共有できません", sharer.org.kind.label_ja(), target.id),
            format!("a {} may not share with organisation {}", sharer.org.kind.code(), target.id),
        ));
    }
    // The filer is one of these members and is named in the ceiling, so any answer about one
    // of them from someone who may not know the filer could single it out: all are refused
    // alike, and the sector's CEPTOAR passes the report on to its members.
    if r.in_anonymity_set(target) && !r.knows_originator(&sharer.org.id) {
        return Err(FieldError::new(
            field,
            "匿名化された報告を同じ分野の事業者へ共有できるのは、その分野のセプターです",
            "an anonymised report reaches the operators of its sector only through their CEPTOAR",
        ));
    }
    if !inside_ceiling(target, r) {
        return Err(FieldError::new(
            field,
            format!("組織 {} は TLP:{} の共有範囲外です", target.id, r.tlp.code()),
            format!("organisation {} is outside the TLP:{} ceiling", target.id, r.tlp.code()),
        ));
    }
    Ok(ShareKind::Community)
}

/// How an accepted share is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShareKind {
    /// A share among the community, inside the ceiling, known to the rendition's readers.
    Community,
    /// An operator's crime report to a response agency (別添2.2): its own decision, made on
    /// the submission it sent, reaching the agency at any TLP as a named recipient (表5 ※1),
    /// and concealed from everyone but the two of them.
    Crime,
}

/// Whether sharing with `target` is the operator reporting its own submission as a crime.
fn is_crime_report(sharer: &Principal, target: &OrgFacts, r: &RenditionFacts) -> bool {
    target.kind == OrgKind::ResponseAgency
        && sharer.org.kind == OrgKind::Operator
        && sharer.org.id == r.originator
        && sharer.org.id == r.sender
}

/// Relays only tighten: a recipient a relay names must already lie inside the ceiling of the
/// rendition it received (whose own named recipients count as inside). Only the operator's
/// first report may name recipients beyond its scope (表5 ※1).
pub fn check_named_recipient(target: &OrgFacts, received: &RenditionFacts) -> Result<(), FieldError> {
    // Relays never come from the operator itself, so its crime shares never count.
    if inside_ceiling(target, &received.seen_by("")) {
        return Ok(());
    }
    Err(FieldError::new(
        "extra_recipient_org_ids",
        format!(
            "組織 {} は受け取った報告の共有範囲（TLP:{}）の外です。転送で範囲を広げることはできません",
            target.id,
            received.tlp.code()
        ),
        format!(
            "organisation {} is outside the TLP:{} scope of the report received; a relay may not widen it",
            target.id,
            received.tlp.code()
        ),
    ))
}

/// Whether a reader may learn who sent a rendition. In an anonymised chain only the operator
/// itself and its secretariat know the operator.
pub fn may_know_sender(
    reader_org: &str,
    sender: &str,
    anonymous_originator: Option<&str>,
    secretariat: Option<&str>,
) -> bool {
    match anonymous_originator {
        Some(op) if op == sender => reader_org == op || Some(reader_org) == secretariat,
        _ => true,
    }
}

/// What the policy needs to know about one rendition to decide what its reader may do.
#[derive(Debug, Clone)]
pub struct ReportState<'a> {
    pub facts: RenditionFacts<'a>,
    pub status: ReportStatus,
    /// The rendition names the operator of an anonymised chain (it has not been anonymised).
    pub identifies_operator: bool,
    pub disclosure_consented: bool,
    pub published: bool,
    /// The council, where the rendition has not been shared through it yet.
    pub council: Option<council::Council<'a>>,
}

/// Why the policy refuses an action on an item: not the caller's to take (403), already
/// taken or impossible in the item's state (409), or invalid for the item (422).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denial {
    Forbidden(Refusal),
    Conflict(Refusal),
    Invalid(ValidationErrors),
}

impl From<Refusal> for Denial {
    fn from(r: Refusal) -> Self {
        Denial::Forbidden(r)
    }
}

/// Forwarding a rendition up the chain (a CEPTOAR to its ministry, a ministry to the
/// coordinator): its receiver's officer, once.
pub fn check_forward(p: &Principal, r: &ReportState) -> Result<(), Denial> {
    if r.facts.receiver != p.org.id {
        return Err(Denial::Forbidden(Refusal {
            ja: "転送できるのはこの報告の受信者です",
            en: "only the receiver of this report may forward it",
        }));
    }
    check_relay_officer(p)?;
    if r.status == ReportStatus::Forwarded {
        return Err(Denial::Conflict(Refusal {
            ja: "この報告は転送済みです",
            en: "this report has already been forwarded",
        }));
    }
    if !matches!(p.org.kind, OrgKind::Ceptoar | OrgKind::Ministry) {
        return Err(Denial::Conflict(Refusal {
            ja: "この報告の転送先はありません（連絡経路の終点です）",
            en: "there is no one further up the chain to forward this report to",
        }));
    }
    Ok(())
}

/// Follow-ups (第n報) come from the operator that filed the first report.
pub fn check_follow_up(p: &Principal, r: &ReportState) -> Result<(), Denial> {
    if r.facts.originator != p.org.id {
        return Err(Denial::Forbidden(Refusal {
            ja: "続報を作成できるのは最初に報告した事業者です",
            en: "only the operator that filed the first report files follow-ups",
        }));
    }
    Ok(())
}

/// Triage (state and owner) is the receiving organisation's own record of its work: only its
/// users keep it, and nobody else sees it.
pub fn check_triage(p: &Principal, r: &ReportState) -> Result<(), Denial> {
    if r.facts.receiver != p.org.id || !reads_items(&p.org) {
        return Err(Denial::Forbidden(Refusal {
            ja: "対応状況を記録できるのは受信した組織です",
            en: "only the receiving organisation keeps a report's triage",
        }));
    }
    Ok(())
}

/// Consent to disclosure: the reporting operator's officer.
pub fn check_disclosure_consent(p: &Principal, r: &ReportState) -> Result<(), Denial> {
    if r.facts.originator != p.org.id {
        return Err(Denial::Forbidden(Refusal {
            ja: "開示への同意は報告した事業者が行います",
            en: "only the operator that reported may consent to disclosure",
        }));
    }
    check_relay_officer(p)?;
    Ok(())
}

/// Publication to everyone: the coordinator's officer, a WHITE or CLEAR rendition that is
/// anonymised, with the originator's consent (domain.md §6 Handling; §7 WHITE).
pub fn check_publish(p: &Principal, r: &ReportState) -> Result<(), Denial> {
    if p.org.kind != OrgKind::Coordinator {
        return Err(Denial::Forbidden(Refusal {
            ja: "公開できるのは調整機関です",
            en: "only the coordinator publishes",
        }));
    }
    check_relay_officer(p)?;
    let mut errors = ValidationErrors::default();
    if !matches!(r.facts.tlp, Tlp::White | Tlp::Clear) {
        errors.push(FieldError::new(
            "tlp",
            "公開できるのは TLP:WHITE／CLEAR の報告だけです",
            "only TLP:WHITE or CLEAR reports may be published",
        ));
    }
    if !r.disclosure_consented {
        errors.push(FieldError::new(
            "disclosure_consent",
            "報告した事業者の開示同意がありません",
            "the reporting operator has not consented to disclosure",
        ));
    }
    if r.identifies_operator {
        errors.push(FieldError::new(
            "operator_name",
            "匿名化前の報告は公開できません",
            "this rendition identifies an anonymous operator",
        ));
    }
    errors.into_result(()).map_err(Denial::Invalid)
}

/// What a reader may do with a rendition, and with whom it may share it: the same rules the
/// operations check, so a page offers exactly what would be accepted.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ReportActions {
    pub forward: bool,
    pub follow_up: bool,
    pub consent_to_disclosure: bool,
    pub publish: bool,
    /// Set the rendition's triage state and owner (its receiving organisation's own).
    pub triage: bool,
    /// Organisations the reader may share the rendition with that do not read it yet.
    pub share_with: Vec<String>,
    /// Response agencies the operator may report its own submission to as a crime (a share
    /// only the two of them learn of), that do not have it yet.
    pub report_crime_to: Vec<String>,
    /// Share it through the CEPTOAR council (`shareToCouncil`).
    pub share_to_council: bool,
}

/// The actions `p` may take on a rendition; `orgs` is the directory to find share targets in,
/// in the order they are offered.
pub fn report_actions<'o>(
    p: &Principal,
    r: &ReportState,
    orgs: impl IntoIterator<Item = &'o OrgFacts>,
) -> ReportActions {
    let facts = r.facts.seen_by(&p.org.id);
    let readers = participants(&facts);
    let mut share_with = Vec::new();
    let mut report_crime_to = Vec::new();
    for o in orgs.into_iter().filter(|o| o.id != p.org.id && !readers.contains(&o.id.as_str())) {
        match check_share(p, o, &r.facts, r.identifies_operator) {
            Ok(ShareKind::Community) => share_with.push(o.id.clone()),
            Ok(ShareKind::Crime) => report_crime_to.push(o.id.clone()),
            Err(_) => {}
        }
    }
    ReportActions {
        forward: check_forward(p, r).is_ok(),
        follow_up: check_follow_up(p, r).is_ok(),
        consent_to_disclosure: !r.disclosure_consented && check_disclosure_consent(p, r).is_ok(),
        publish: !r.published && check_publish(p, r).is_ok(),
        triage: check_triage(p, r).is_ok(),
        share_with,
        report_crime_to,
        share_to_council: r
            .council
            .is_some_and(|c| council::council_share_targets(p, &r.facts, r.identifies_operator, &c).is_ok()),
    }
}

/// The organisations a rendition already reaches by taking part or by a share.
fn participants<'a>(r: &RenditionFacts<'a>) -> Vec<&'a str> {
    let mut ids: Vec<&str> = vec![r.sender, r.receiver, r.originator];
    ids.extend(r.extras.iter().map(String::as_str));
    ids.extend(r.shared_to.iter().map(String::as_str));
    ids.extend(r.crime_shares.iter().map(String::as_str));
    ids
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn org(id: &str, kind: OrgKind, sector: Option<&str>) -> OrgFacts {
        OrgFacts { id: id.into(), kind, sector: sector.map(Into::into), analysis_partner: false }
    }

    /// A gas operator's rendition to its ministry.
    pub(crate) fn facts(tlp: Tlp) -> RenditionFacts<'static> {
        RenditionFacts {
            tlp,
            sector: "gas",
            jurisdiction: Some("meti"),
            sender: "op1",
            receiver: "meti",
            originator: "op1",
            extras: &[],
            shared_to: &[],
            crime_shares: &[],
            secretariat: None,
        }
    }

    #[test]
    fn red_reaches_only_the_ends_and_the_coordinator() {
        let r = facts(Tlp::Red);
        assert!(inside_ceiling(&org("nisc", OrgKind::Coordinator, None), &r));
        assert!(inside_ceiling(&org("meti", OrgKind::Ministry, None), &r));
        assert!(!inside_ceiling(&org("fsa", OrgKind::Ministry, None), &r));
        assert!(!inside_ceiling(&org("gas-ceptoar", OrgKind::Ceptoar, Some("gas")), &r));
        assert!(!inside_ceiling(&org("op2", OrgKind::Operator, Some("gas")), &r));
    }

    #[test]
    fn amber_reaches_the_concerned_sector_and_strict_only_its_ceptoar() {
        let amber = facts(Tlp::Amber);
        let strict = facts(Tlp::AmberStrict);
        let member = org("op2", OrgKind::Operator, Some("gas"));
        let ceptoar = org("c", OrgKind::Ceptoar, Some("gas"));
        assert!(inside_ceiling(&member, &amber));
        assert!(!inside_ceiling(&member, &strict));
        assert!(inside_ceiling(&ceptoar, &strict));
        assert!(!inside_ceiling(&org("op3", OrgKind::Operator, Some("water")), &amber));
        assert!(inside_ceiling(&org("op3", OrgKind::Operator, Some("water")), &facts(Tlp::Green)));
    }

    #[test]
    fn grants_only_participants_inside_the_ceiling() {
        let shared = vec!["op2".to_string(), "fsa".to_string()];
        let r = RenditionFacts { shared_to: &shared, ..facts(Tlp::Amber) };
        let world = |id: &str| match id {
            "op1" | "op2" => Some(org(id, OrgKind::Operator, Some("gas"))),
            "meti" | "fsa" => Some(org(id, OrgKind::Ministry, None)),
            _ => None,
        };
        let grants = access_grants(&r, world);
        let ids: Vec<&str> = grants.rows().iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(ids, ["meti", "op1", "op2"]);
        assert!(grants.rows().iter().all(|(_, ntk)| *ntk));
    }

    #[test]
    fn share_patterns() {
        let ministry = Principal {
            user_id: "u".into(),
            org: org("meti", OrgKind::Ministry, None),
            roles: vec![Role::Liaison],
            need_to_know: true,
        };
        let r = facts(Tlp::Amber);
        assert!(check_share(&ministry, &org("c", OrgKind::Ceptoar, Some("gas")), &r, false).is_ok());
        assert!(check_share(&ministry, &org("c2", OrgKind::Ceptoar, Some("water")), &r, false).is_err());
        assert!(check_share(&ministry, &org("op2", OrgKind::Operator, Some("gas")), &r, false).is_err());
        let member = Principal { roles: vec![Role::Member], ..ministry.clone() };
        assert!(check_share(&member, &org("c", OrgKind::Ceptoar, Some("gas")), &r, false).is_err());
        assert!(check_share(&ministry, &org("c", OrgKind::Ceptoar, Some("gas")), &r, true).is_err());
    }

    fn state(facts: RenditionFacts<'_>) -> ReportState<'_> {
        ReportState {
            facts,
            status: ReportStatus::Sent,
            identifies_operator: false,
            disclosure_consented: false,
            published: false,
            council: None,
        }
    }

    fn officer(id: &str, kind: OrgKind, sector: Option<&str>, role: Role) -> Principal {
        Principal { user_id: "u".into(), org: org(id, kind, sector), roles: vec![role], need_to_know: true }
    }

    #[test]
    fn an_operator_is_offered_its_ceptoar_and_the_operators_of_its_sector() {
        let filer = officer("op1", OrgKind::Operator, Some("gas"), Role::Member);
        let orgs = [
            org("op1", OrgKind::Operator, Some("gas")),
            org("op2", OrgKind::Operator, Some("gas")),
            org("c", OrgKind::Ceptoar, Some("gas")),
            org("op3", OrgKind::Operator, Some("water")),
            org("meti", OrgKind::Ministry, None),
        ];
        let actions = report_actions(&filer, &state(facts(Tlp::Amber)), &orgs);
        assert_eq!(actions.share_with, ["op2", "c"]);
        assert!(actions.follow_up && actions.consent_to_disclosure);
        assert!(!actions.forward && !actions.publish);
    }

    #[test]
    fn the_receivers_officer_forwards_once_and_the_coordinator_never() {
        let liaison = officer("meti", OrgKind::Ministry, None, Role::Liaison);
        let mut at_meti = state(facts(Tlp::Amber));
        assert!(report_actions(&liaison, &at_meti, []).forward);
        at_meti.status = ReportStatus::Forwarded;
        assert!(matches!(check_forward(&liaison, &at_meti), Err(Denial::Conflict(_))));
        let member = officer("meti", OrgKind::Ministry, None, Role::Member);
        assert!(matches!(check_forward(&member, &state(facts(Tlp::Amber))), Err(Denial::Forbidden(_))));
        let desk = officer("nisc", OrgKind::Coordinator, None, Role::CipDesk);
        let at_nisc = state(RenditionFacts { sender: "meti", receiver: "nisc", ..facts(Tlp::Amber) });
        assert!(matches!(check_forward(&desk, &at_nisc), Err(Denial::Conflict(_))));
    }

    #[test]
    fn nobody_who_may_not_know_the_filer_shares_with_its_fellow_members() {
        let desk = officer("nisc", OrgKind::Coordinator, None, Role::CipDesk);
        let members = [org("op1", OrgKind::Operator, Some("gas")), org("op2", OrgKind::Operator, Some("gas"))];
        for tlp in [Tlp::Red, Tlp::Amber, Tlp::Green] {
            let at_nisc = RenditionFacts { sender: "meti", receiver: "nisc", secretariat: Some("c"), ..facts(tlp) };
            let refusals: Vec<_> = members.iter().map(|m| check_share(&desk, m, &at_nisc, false)).collect();
            assert!(refusals[0].is_err() && refusals[0] == refusals[1], "{tlp:?}: {refusals:?}");
            assert_eq!(report_actions(&desk, &state(at_nisc), &members).share_with, Vec::<String>::new());
        }
    }

    #[test]
    fn an_operator_reports_its_own_submission_as_a_crime_at_any_tlp() {
        let filer = officer("op1", OrgKind::Operator, Some("gas"), Role::Member);
        let police = org("npa", OrgKind::ResponseAgency, None);
        for tlp in [Tlp::Red, Tlp::Amber, Tlp::Green] {
            assert_eq!(check_share(&filer, &police, &facts(tlp), false), Ok(ShareKind::Crime), "{tlp:?}");
        }
        let at_nisc = RenditionFacts { sender: "meti", receiver: "nisc", ..facts(Tlp::Red) };
        assert!(check_share(&filer, &police, &at_nisc, false).is_err(), "only the submission it sent");
        let other = officer("op2", OrgKind::Operator, Some("gas"), Role::Member);
        assert!(check_share(&other, &police, &facts(Tlp::Red), false).is_err());
        let liaison = officer("meti", OrgKind::Ministry, None, Role::Liaison);
        assert!(check_share(&liaison, &police, &facts(Tlp::Green), false).is_err());
    }

    #[test]
    fn a_crime_share_reaches_the_agency_and_no_other_answer_changes() {
        let police = org("npa", OrgKind::ResponseAgency, None);
        let crime = vec!["npa".to_string()];
        let without = facts(Tlp::Red);
        let with = RenditionFacts { crime_shares: &crime, ..facts(Tlp::Red) };
        assert!(inside_ceiling(&police, &with) && !inside_ceiling(&police, &without));
        let world = |id: &str| match id {
            "npa" => Some(police.clone()),
            "meti" => Some(org(id, OrgKind::Ministry, None)),
            "op1" => Some(org(id, OrgKind::Operator, Some("gas"))),
            _ => None,
        };
        let readers: Vec<String> = access_grants(&with, world).rows().iter().map(|(id, _)| id.clone()).collect();
        assert_eq!(readers, ["meti", "npa", "op1"]);
        let orgs = [police.clone(), org("c", OrgKind::Ceptoar, Some("gas")), org("nisc", OrgKind::Coordinator, None)];
        let desk = officer("nisc", OrgKind::Coordinator, None, Role::CipDesk);
        for p in [officer("meti", OrgKind::Ministry, None, Role::Liaison), desk] {
            for target in &orgs {
                assert_eq!(check_share(&p, target, &with, false), check_share(&p, target, &without, false));
            }
            assert_eq!(
                report_actions(&p, &state(with.clone()), &orgs),
                report_actions(&p, &state(without.clone()), &orgs)
            );
        }
        assert_eq!(check_named_recipient(&police, &with), check_named_recipient(&police, &without));
        assert!(!source_allows(std::slice::from_ref(&police), false, &with, SourceAllowance::Ceiling));
        let filer = officer("op1", OrgKind::Operator, Some("gas"), Role::Member);
        assert_eq!(report_actions(&filer, &state(without), &orgs).report_crime_to, ["npa"]);
        assert_eq!(report_actions(&filer, &state(with), &orgs).report_crime_to, Vec::<String>::new());
    }

    #[test]
    fn anonymous_sender_is_hidden_from_others() {
        assert!(!may_know_sender("meti", "op1", Some("op1"), Some("c")));
        assert!(may_know_sender("c", "op1", Some("op1"), Some("c")));
        assert!(may_know_sender("op1", "op1", Some("op1"), Some("c")));
        assert!(may_know_sender("meti", "c", Some("op1"), Some("c")));
        assert!(may_know_sender("meti", "op1", None, None));
    }
}

/// The facts that decide who may read an advisory (domain.md §7, "Scope of an advisory").
#[derive(Debug, Clone)]
pub struct AdvisoryFacts<'a> {
    pub tlp: Tlp,
    pub recipients: &'a [kyoyu_domain::advisory::Recipient],
    pub coordinator: &'a str,
}

impl AdvisoryFacts<'_> {
    fn recipient_ministry(&self, org: &str) -> bool {
        self.recipients.iter().any(|r| r.ministry_org_id == org)
    }

    fn recipient_sector(&self, sector: Option<&str>) -> bool {
        sector.is_some_and(|s| self.recipients.iter().any(|r| r.sector == s))
    }
}

/// Whether an organisation lies inside an advisory's TLP ceiling.
pub fn inside_advisory_ceiling(org: &OrgFacts, a: &AdvisoryFacts) -> bool {
    if !reads_items(org) {
        return false;
    }
    if org.id == a.coordinator {
        return true;
    }
    let ministry = org.kind == OrgKind::Ministry && a.recipient_ministry(&org.id);
    let ceptoar = org.kind == OrgKind::Ceptoar && a.recipient_sector(org.sector.as_deref());
    let member = org.kind == OrgKind::Operator && a.recipient_sector(org.sector.as_deref());
    match a.tlp {
        Tlp::Red => ministry,
        Tlp::AmberStrict => ministry || ceptoar,
        Tlp::Amber => ministry || ceptoar || member,
        Tlp::Green => matches!(org.kind, OrgKind::Ministry | OrgKind::Ceptoar | OrgKind::Operator),
        Tlp::White | Tlp::Clear => true,
    }
}

/// The readers of an advisory: its author and every organisation a hop delivered it to, each
/// judged against the ceiling at the TLP of its own hop. Only issued advisories have hops; a
/// draft is the coordinator's alone.
pub fn advisory_grants(
    a: &AdvisoryFacts,
    hops: &[(String, Tlp)],
    org_of: impl Fn(&str) -> Option<OrgFacts>,
) -> AccessGrants {
    let mut rows: Vec<(String, bool)> = vec![(a.coordinator.to_string(), a.tlp.needs_need_to_know())];
    for (org_id, tlp) in hops {
        if rows.iter().any(|(id, _)| id == org_id) {
            continue;
        }
        let facts = AdvisoryFacts { tlp: *tlp, ..a.clone() };
        if org_of(org_id).is_some_and(|org| inside_advisory_ceiling(&org, &facts)) {
            rows.push((org_id.clone(), tlp.needs_need_to_know()));
        }
    }
    AccessGrants { rows }
}

/// Whether `relayer` may pass an advisory on to `target` at the relay's TLP: a ministry to the
/// CEPTOARs or operators of its recipient sectors, a CEPTOAR to its member operators, the
/// coordinator to any recipient. The target must lie inside the ceiling.
pub fn check_relay(relayer: &Principal, target: &OrgFacts, a: &AdvisoryFacts) -> Result<(), FieldError> {
    let field = "org_ids";
    if !relayer.is_relay_officer() {
        return Err(FieldError::new(
            field,
            "伝達できるのは組織の連絡担当者（リエゾン、事務局、防護担当）または管理者です",
            "only the organisation's liaison, secretariat, CIP desk or admin may relay",
        ));
    }
    let ministry_sector = |sector: Option<&str>| {
        a.recipients.iter().any(|r| r.ministry_org_id == relayer.org.id && Some(r.sector.as_str()) == sector)
    };
    let allowed = match relayer.org.kind {
        OrgKind::Coordinator => true,
        OrgKind::Ministry => {
            matches!(target.kind, OrgKind::Ceptoar | OrgKind::Operator) && ministry_sector(target.sector.as_deref())
        }
        OrgKind::Ceptoar => {
            target.kind == OrgKind::Operator && target.sector.is_some() && target.sector == relayer.org.sector
        }
        _ => false,
    };
    if !allowed {
        return Err(FieldError::new(
            field,
            format!("{} から組織 {} へは伝達できません", relayer.org.kind.label_ja(), target.id),
            format!("a {} may not relay to organisation {}", relayer.org.kind.code(), target.id),
        ));
    }
    if !inside_advisory_ceiling(target, a) {
        return Err(FieldError::new(
            field,
            format!("組織 {} は TLP:{} の提供範囲外です", target.id, a.tlp.code()),
            format!("organisation {} is outside the TLP:{} scope", target.id, a.tlp.code()),
        ));
    }
    Ok(())
}

/// What the policy needs to know about one advisory to decide what its reader may do.
#[derive(Debug, Clone)]
pub struct AdvisoryState<'a> {
    pub facts: AdvisoryFacts<'a>,
    pub issued: bool,
    /// The TLP of the hop that brought it to the reader's organisation, if one did.
    pub received: Option<Tlp>,
    /// Every organisation a hop has reached.
    pub delivered_to: &'a [String],
}

/// What a reader may do with an advisory, and to whom it may relay it.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct AdvisoryActions {
    /// Edit or issue the draft.
    pub edit: bool,
    pub follow_up: bool,
    pub acknowledge: bool,
    pub ask: bool,
    /// Organisations not yet reached that the reader may relay to, at the TLP it received.
    pub relay_to: Vec<String>,
}

/// The actions `p` may take on an advisory; `orgs` is the directory, in the order offered.
pub fn advisory_actions<'o>(
    p: &Principal,
    a: &AdvisoryState,
    orgs: impl IntoIterator<Item = &'o OrgFacts>,
) -> AdvisoryActions {
    let author = check_coordinator_officer(p).is_ok();
    let relay_to = match a.received {
        Some(tlp) => {
            let facts = AdvisoryFacts { tlp, ..a.facts.clone() };
            orgs.into_iter()
                .filter(|o| o.id != p.org.id && !a.delivered_to.contains(&o.id))
                .filter(|o| check_relay(p, o, &facts).is_ok())
                .map(|o| o.id.clone())
                .collect()
        }
        None => Vec::new(),
    };
    AdvisoryActions {
        edit: author && !a.issued,
        follow_up: author,
        acknowledge: a.received.is_some(),
        ask: a.issued && in_question_thread(&p.org),
        relay_to,
    }
}

/// Passing a scope-widening request on to the operator: the secretariat of its chain.
pub fn check_widening_relay(p: &Principal, secretariat: Option<&str>) -> Result<(), Refusal> {
    if secretariat == Some(p.org.id.as_str()) && p.is_relay_officer() {
        return Ok(());
    }
    Err(Refusal {
        ja: "依頼を伝達できるのはセプター事務局です",
        en: "only the CEPTOAR secretariat relays this request",
    })
}

/// Answering a scope-widening request: consent is informed and authorised, so a need-to-know
/// officer of the operator that reported, who can read the report it is about.
pub fn check_widening_answer(p: &Principal, originator: &str) -> Result<(), Refusal> {
    if originator == p.org.id && p.is_relay_officer() && p.need_to_know {
        return Ok(());
    }
    Err(Refusal {
        ja: "回答できるのは報告した事業者の「知る必要」がある担当者です",
        en: "only a need-to-know user of the operator that reported answers",
    })
}

/// Whether a reader of an advisory takes part in its question thread: only the coordinator
/// and the ministries inside its scope (domain.md §8). Everyone else is answered as if the
/// thread did not exist.
pub fn in_question_thread(reader: &OrgFacts) -> bool {
    matches!(reader.kind, OrgKind::Coordinator | OrgKind::Ministry)
}

/// What a source report allows an advisory drawn on it to reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceAllowance {
    /// Its own TLP ceiling.
    Ceiling,
    /// Any audience of the community once identifying details are removed (the structured
    /// permission beside the special note).
    SanitisedWiderUse,
    /// The originator consented to widening for this advisory.
    Widened,
}

/// Whether an advisory's audience lies inside what one source allowed. The audience is every
/// organisation inside the advisory's ceiling; `public` when it is WHITE or CLEAR.
pub fn source_allows(audience: &[OrgFacts], public: bool, source: &RenditionFacts, allowance: SourceAllowance) -> bool {
    match allowance {
        SourceAllowance::Widened => true,
        SourceAllowance::SanitisedWiderUse => !public || matches!(source.tlp, Tlp::White | Tlp::Clear),
        SourceAllowance::Ceiling => {
            (!public || matches!(source.tlp, Tlp::White | Tlp::Clear))
                && audience.iter().all(|org| inside_ceiling(org, &source.seen_by("")))
        }
    }
}

/// Who may read an object brought in from outside (a STIX bundle, a TAXII feed, another
/// kyoyu). Only [`outside_audience`] makes one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutsideAudience {
    org_id: Option<String>,
    user_id: Option<String>,
    need_to_know: bool,
}

impl OutsideAudience {
    /// `None`: every organisation of this installation.
    pub fn org_id(&self) -> Option<&str> {
        self.org_id.as_deref()
    }

    /// `None`: every reader in the organisation (subject to need-to-know).
    pub fn user_id(&self) -> Option<&str> {
        self.user_id.as_deref()
    }

    pub fn need_to_know(&self) -> bool {
        self.need_to_know
    }
}

/// The scope an outside object's TLP marking gives it here. The scope only ever tightens on
/// the way in: WHITE, CLEAR and GREEN reach the community; AMBER and AMBER+STRICT reach the
/// importing organisation's need-to-know users; RED reaches the importing user alone. An
/// object without a TLP marking is held as AMBER.
pub fn outside_audience(tlp: Option<Tlp>, importer: &Principal) -> OutsideAudience {
    match tlp {
        Some(Tlp::White | Tlp::Clear | Tlp::Green) => {
            OutsideAudience { org_id: None, user_id: None, need_to_know: false }
        }
        Some(Tlp::Red) => OutsideAudience {
            org_id: Some(importer.org.id.clone()),
            user_id: Some(importer.user_id.clone()),
            need_to_know: true,
        },
        Some(Tlp::Amber | Tlp::AmberStrict) | None => {
            OutsideAudience { org_id: Some(importer.org.id.clone()), user_id: None, need_to_know: true }
        }
    }
}

/// The scope of kyoyu's own definitions (its identity, its STIX extension, the TLP 2.0 marking
/// definitions): every user.
pub fn definitions_audience() -> OutsideAudience {
    OutsideAudience { org_id: None, user_id: None, need_to_know: false }
}

/// The scope an unmarked outside object is held at.
pub const UNMARKED_OUTSIDE_TLP: Tlp = Tlp::Amber;

/// Whether a user may bring outside objects in: any officer of their organisation (liaison,
/// secretariat, CIP desk, admin), or any user of an operator. Other members only read.
pub fn may_import(p: &Principal) -> bool {
    reads_items(&p.org) && p.is_relay_officer()
}

/// Why the policy refuses a caller an action, in Japanese and English (answered 403).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal {
    pub ja: &'static str,
    pub en: &'static str,
}

/// System administration: organisations, users, mail and digests. It reads no item.
pub fn check_system_admin(p: &Principal) -> Result<(), Refusal> {
    if p.has_role(Role::SystemAdmin) {
        Ok(())
    } else {
        Err(Refusal { ja: "システム管理者の権限が必要です", en: "system administrator role required" })
    }
}

/// Managing an organisation's users and their tokens: its admin, or system administration.
pub fn check_user_admin(p: &Principal, org_id: &str) -> Result<(), Refusal> {
    if (p.has_role(Role::Admin) && p.org.id == org_id) || p.has_role(Role::SystemAdmin) {
        return Ok(());
    }
    Err(Refusal {
        ja: "この組織の管理者権限が必要です", en: "administrator role for this organisation required"
    })
}

/// Acting for the organisation on an item (forward, share, relay): its officer.
pub fn check_relay_officer(p: &Principal) -> Result<(), Refusal> {
    if p.is_relay_officer() {
        Ok(())
    } else {
        Err(Refusal {
            ja: "この操作は組織の連絡担当者（リエゾン、事務局、防護担当）または管理者が行います",
            en: "only the organisation's liaison, secretariat, CIP desk or admin may do this",
        })
    }
}

/// Writing and issuing advisories: the coordinator's CIP desk.
pub fn check_coordinator_officer(p: &Principal) -> Result<(), Refusal> {
    if p.org.kind == OrgKind::Coordinator && p.is_relay_officer() {
        Ok(())
    } else {
        Err(Refusal {
            ja: "この操作は調整機関（NISC）の防護担当が行います",
            en: "only the coordinator's CIP desk may do this",
        })
    }
}

/// Whether an object may leave this installation for another (federation): RED and
/// AMBER+STRICT stay, as MISP keeps "your organisation only" items off its sync.
pub fn may_federate(tlp: Option<Tlp>) -> bool {
    !matches!(tlp.unwrap_or(UNMARKED_OUTSIDE_TLP), Tlp::Red | Tlp::AmberStrict)
}

#[cfg(test)]
mod outside_tests {
    use super::*;

    #[test]
    fn role_checks_follow_the_officer_rule() {
        let mut p = importer();
        assert!(check_relay_officer(&p).is_ok());
        assert!(check_coordinator_officer(&p).is_err(), "a CEPTOAR secretariat writes no advisory");
        assert!(check_system_admin(&p).is_err());
        p.roles = vec![Role::Member];
        assert!(check_relay_officer(&p).is_err());
        p.org.kind = OrgKind::Coordinator;
        p.roles = vec![Role::CipDesk];
        assert!(check_coordinator_officer(&p).is_ok());
        p.roles = vec![Role::SystemAdmin];
        assert!(check_system_admin(&p).is_ok());
    }

    fn importer() -> Principal {
        Principal {
            user_id: "u1".into(),
            org: OrgFacts {
                id: "isac".into(),
                kind: OrgKind::Ceptoar,
                sector: Some("finance".into()),
                analysis_partner: false,
            },
            roles: vec![Role::Secretariat],
            need_to_know: true,
        }
    }

    #[test]
    fn outside_scopes_never_reach_further_than_their_marking() {
        let p = importer();
        let community = outside_audience(Some(Tlp::Green), &p);
        assert_eq!((community.org_id(), community.need_to_know()), (None, false));
        for t in [Some(Tlp::Amber), Some(Tlp::AmberStrict), None] {
            let a = outside_audience(t, &p);
            assert_eq!((a.org_id(), a.user_id(), a.need_to_know()), (Some("isac"), None, true), "{t:?}");
        }
        let red = outside_audience(Some(Tlp::Red), &p);
        assert_eq!((red.org_id(), red.user_id()), (Some("isac"), Some("u1")));
    }

    #[test]
    fn red_and_strict_stay_home() {
        assert!(may_federate(Some(Tlp::Green)) && may_federate(Some(Tlp::Amber)) && may_federate(None));
        assert!(!may_federate(Some(Tlp::Red)) && !may_federate(Some(Tlp::AmberStrict)));
    }
}

#[cfg(test)]
mod advisory_tests {
    use super::*;
    use kyoyu_domain::advisory::Recipient;

    fn org(id: &str, kind: OrgKind, sector: Option<&str>) -> OrgFacts {
        OrgFacts { id: id.into(), kind, sector: sector.map(Into::into), analysis_partner: false }
    }

    fn recipients() -> Vec<Recipient> {
        vec![Recipient { ministry_org_id: "meti".into(), sector: "gas".into() }]
    }

    #[test]
    fn a_receiver_is_offered_the_relays_it_may_make_and_the_author_the_draft() {
        let r = recipients();
        let facts = AdvisoryFacts { tlp: Tlp::Amber, recipients: &r, coordinator: "nisc" };
        let liaison = Principal {
            user_id: "u".into(),
            org: org("meti", OrgKind::Ministry, None),
            roles: vec![Role::Liaison],
            need_to_know: true,
        };
        let orgs = [
            org("gc", OrgKind::Ceptoar, Some("gas")),
            org("go", OrgKind::Operator, Some("gas")),
            org("go2", OrgKind::Operator, Some("gas")),
            org("wc", OrgKind::Ceptoar, Some("water")),
        ];
        let delivered = ["meti".to_string(), "go2".to_string()];
        let received =
            AdvisoryState { facts: facts.clone(), issued: true, received: Some(Tlp::Amber), delivered_to: &delivered };
        let actions = advisory_actions(&liaison, &received, &orgs);
        assert_eq!(actions.relay_to, ["gc", "go"]);
        assert!(actions.acknowledge && actions.ask && !actions.edit && !actions.follow_up);
        let strict = AdvisoryState { received: Some(Tlp::AmberStrict), ..received.clone() };
        assert_eq!(advisory_actions(&liaison, &strict, &orgs).relay_to, ["gc"], "tightened on the way down");

        let desk = Principal { org: org("nisc", OrgKind::Coordinator, None), roles: vec![Role::CipDesk], ..liaison };
        let draft = AdvisoryState { facts, issued: false, received: None, delivered_to: &[] };
        let actions = advisory_actions(&desk, &draft, &orgs);
        assert!(actions.edit && actions.follow_up && !actions.acknowledge && !actions.ask);
        assert!(actions.relay_to.is_empty());
    }

    #[test]
    fn advisory_ceilings_follow_the_table() {
        let r = recipients();
        let at = |tlp| AdvisoryFacts { tlp, recipients: &r, coordinator: "nisc" };
        let meti = org("meti", OrgKind::Ministry, None);
        let fsa = org("fsa", OrgKind::Ministry, None);
        let gas_c = org("gc", OrgKind::Ceptoar, Some("gas"));
        let gas_op = org("go", OrgKind::Operator, Some("gas"));
        let water_op = org("wo", OrgKind::Operator, Some("water"));
        let vendor = org("v", OrgKind::CyberspaceVendor, None);
        assert!(inside_advisory_ceiling(&meti, &at(Tlp::Red)) && !inside_advisory_ceiling(&gas_c, &at(Tlp::Red)));
        assert!(
            inside_advisory_ceiling(&gas_c, &at(Tlp::AmberStrict))
                && !inside_advisory_ceiling(&gas_op, &at(Tlp::AmberStrict))
        );
        assert!(
            inside_advisory_ceiling(&gas_op, &at(Tlp::Amber)) && !inside_advisory_ceiling(&water_op, &at(Tlp::Amber))
        );
        assert!(!inside_advisory_ceiling(&fsa, &at(Tlp::Amber)) && inside_advisory_ceiling(&fsa, &at(Tlp::Green)));
        assert!(
            inside_advisory_ceiling(&water_op, &at(Tlp::Green)) && !inside_advisory_ceiling(&vendor, &at(Tlp::Green))
        );
        assert!(inside_advisory_ceiling(&vendor, &at(Tlp::White)));
    }

    #[test]
    fn relays_follow_the_route() {
        let r = recipients();
        let a = AdvisoryFacts { tlp: Tlp::Amber, recipients: &r, coordinator: "nisc" };
        let liaison = Principal {
            user_id: "u".into(),
            org: org("meti", OrgKind::Ministry, None),
            roles: vec![Role::Liaison],
            need_to_know: true,
        };
        assert!(check_relay(&liaison, &org("gc", OrgKind::Ceptoar, Some("gas")), &a).is_ok());
        assert!(check_relay(&liaison, &org("wc", OrgKind::Ceptoar, Some("water")), &a).is_err());
        let strict = AdvisoryFacts { tlp: Tlp::AmberStrict, ..a.clone() };
        assert!(check_relay(&liaison, &org("go", OrgKind::Operator, Some("gas")), &strict).is_err());
    }

    #[test]
    fn an_amber_source_does_not_allow_a_green_audience_without_consent() {
        let source = RenditionFacts {
            tlp: Tlp::Amber,
            sector: "gas",
            jurisdiction: Some("meti"),
            sender: "op",
            receiver: "meti",
            originator: "op",
            extras: &[],
            shared_to: &[],
            crime_shares: &[],
            secretariat: None,
        };
        let inside = [org("meti", OrgKind::Ministry, None), org("go", OrgKind::Operator, Some("gas"))];
        let wider = [org("fsa", OrgKind::Ministry, None)];
        assert!(source_allows(&inside, false, &source, SourceAllowance::Ceiling));
        assert!(!source_allows(&wider, false, &source, SourceAllowance::Ceiling));
        assert!(source_allows(&wider, false, &source, SourceAllowance::SanitisedWiderUse));
        assert!(!source_allows(&wider, true, &source, SourceAllowance::SanitisedWiderUse));
        assert!(source_allows(&wider, true, &source, SourceAllowance::Widened));
    }
}
