//! The one place that decides who may read and write what (domain.md §7).
//!
//! The rule: a user reads an item iff (their organisation took part in it as sender or
//! receiver, or it was shared to them) and they are inside its TLP ceiling. RED and AMBER
//! reach only need-to-know users.
//!
//! Storage cannot run an item query without a [`ReadScope`], and it stores only the reader
//! rows an [`AccessGrants`] value carries; both can be made only here. Reads then join on those
//! rows inside SQL, so no list loads items to filter them afterwards.

use kyoyu_domain::codes::{OrgKind, Role};
use kyoyu_domain::{FieldError, Tlp};

/// What the policy needs to know about an organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgFacts {
    pub id: String,
    pub kind: OrgKind,
    pub sector: Option<String>,
    /// A security institution the coordinator arranged with beforehand for analysis (表5 ※2).
    pub analysis_partner: bool,
}

/// An authenticated user with their organisation.
#[derive(Debug, Clone)]
pub struct Principal {
    pub user_id: String,
    pub org: OrgFacts,
    pub roles: Vec<Role>,
    pub need_to_know: bool,
}

impl Principal {
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// The officer who relays for the organisation: a ministry's liaison, a CEPTOAR's
    /// secretariat, the coordinator's CIP desk, or the organisation's admin. Any user of an
    /// operator acts for it.
    pub fn is_relay_officer(&self) -> bool {
        let officer = match self.org.kind {
            OrgKind::Ministry => Role::Liaison,
            OrgKind::Ceptoar => Role::Secretariat,
            OrgKind::Coordinator => Role::CipDesk,
            OrgKind::Operator => return true,
            _ => Role::Admin,
        };
        self.has_role(officer) || self.has_role(Role::Admin)
    }
}

/// Proof that a read is scoped to one user. Only [`read_scope`] makes one.
#[derive(Debug, Clone)]
pub struct ReadScope {
    org_id: String,
    user_id: String,
    need_to_know: bool,
}

impl ReadScope {
    pub fn org_id(&self) -> &str {
        &self.org_id
    }

    pub fn user_id(&self) -> &str {
        &self.user_id
    }

    /// Whether the user may read items that need need-to-know (RED, AMBER, AMBER+STRICT).
    pub fn need_to_know(&self) -> bool {
        self.need_to_know
    }
}

pub fn read_scope(p: &Principal) -> ReadScope {
    ReadScope { org_id: p.org.id.clone(), user_id: p.user_id.clone(), need_to_know: p.need_to_know }
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
}

impl RenditionFacts<'_> {
    fn is_named(&self, org: &str) -> bool {
        org == self.sender || org == self.receiver || org == self.originator || self.extras.iter().any(|e| e == org)
    }
}

/// Whether an organisation lies inside a report rendition's TLP ceiling (domain.md §7).
pub fn inside_ceiling(org: &OrgFacts, r: &RenditionFacts) -> bool {
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
    let mut ids: Vec<&str> = vec![r.sender, r.receiver, r.originator];
    ids.extend(r.extras.iter().map(String::as_str));
    ids.extend(r.shared_to.iter().map(String::as_str));
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
) -> Result<(), FieldError> {
    let field = "org_ids";
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
    if !inside_ceiling(target, r) {
        return Err(FieldError::new(
            field,
            format!("組織 {} は TLP:{} の共有範囲外です", target.id, r.tlp.code()),
            format!("organisation {} is outside the TLP:{} ceiling", target.id, r.tlp.code()),
        ));
    }
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    fn org(id: &str, kind: OrgKind, sector: Option<&str>) -> OrgFacts {
        OrgFacts { id: id.into(), kind, sector: sector.map(Into::into), analysis_partner: false }
    }

    fn facts(tlp: Tlp) -> RenditionFacts<'static> {
        RenditionFacts {
            tlp,
            sector: "gas",
            jurisdiction: Some("meti"),
            sender: "op1",
            receiver: "meti",
            originator: "op1",
            extras: &[],
            shared_to: &[],
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

    #[test]
    fn anonymous_sender_is_hidden_from_others() {
        assert!(!may_know_sender("meti", "op1", Some("op1"), Some("c")));
        assert!(may_know_sender("c", "op1", Some("op1"), Some("c")));
        assert!(may_know_sender("op1", "op1", Some("op1"), Some("c")));
        assert!(may_know_sender("meti", "c", Some("op1"), Some("c")));
        assert!(may_know_sender("meti", "op1", None, None));
    }
}
