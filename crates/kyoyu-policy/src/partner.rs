//! Partner information (情報の提供, 004 3.1): what partners send the coordinator. It is read by
//! the sender, the coordinator, and whoever the coordinator shares it with inside its TLP;
//! only the sender and the coordinator learn who sent it. An advisory that cites it protects
//! it as a source: never beyond its TLP without the sender's consent, never naming it.

use crate::{check_coordinator_officer, reads_items, AccessGrants, Denial, OrgFacts, Principal, Refusal};
use kyoyu_domain::codes::OrgKind;
use kyoyu_domain::{FieldError, Tlp};

/// The kinds that send the coordinator information (004 3.1); operators report instead.
pub fn is_partner_kind(kind: OrgKind) -> bool {
    matches!(
        kind,
        OrgKind::Ministry
            | OrgKind::CyberMinistry
            | OrgKind::ResponseAgency
            | OrgKind::DisasterAgency
            | OrgKind::SecurityInstitution
            | OrgKind::CyberspaceVendor
    )
}

/// The facts that decide who reads one piece of partner information.
#[derive(Debug, Clone)]
pub struct PartnerFacts<'a> {
    pub tlp: Tlp,
    pub sender: &'a str,
    pub coordinator: &'a str,
    /// Sectors it concerns.
    pub sectors: &'a [String],
    /// The ministries with jurisdiction over those sectors.
    pub concerned_ministries: &'a [String],
    /// Organisations the coordinator shared it with.
    pub shared_to: &'a [String],
}

impl PartnerFacts<'_> {
    fn concerns(&self, org: &OrgFacts) -> bool {
        let sector = org.sector.as_ref().is_some_and(|s| self.sectors.contains(s));
        match org.kind {
            OrgKind::Ministry => self.concerned_ministries.contains(&org.id),
            OrgKind::Ceptoar | OrgKind::Operator => sector,
            OrgKind::SecurityInstitution => org.analysis_partner,
            _ => false,
        }
    }

    /// Whether `org` may learn which partner sent it.
    pub fn knows_sender(&self, org: &str) -> bool {
        org == self.sender || org == self.coordinator
    }
}

/// Whether an organisation lies inside the information's TLP ceiling: its sender and the
/// coordinator always; AMBER the concerned sectors' ministries, CEPTOARs and operators and
/// the analysis partners; GREEN and beyond the community. RED and AMBER+STRICT stay with
/// the sender and the coordinator.
pub fn inside_partner_ceiling(org: &OrgFacts, f: &PartnerFacts) -> bool {
    if !reads_items(org) {
        return false;
    }
    if f.knows_sender(&org.id) {
        return true;
    }
    match f.tlp {
        Tlp::Red | Tlp::AmberStrict => false,
        Tlp::Amber => f.concerns(org),
        Tlp::Green | Tlp::White | Tlp::Clear => true,
    }
}

/// The readers: the sender, the coordinator, and each share inside the ceiling.
pub fn partner_grants(f: &PartnerFacts, org_of: impl Fn(&str) -> Option<OrgFacts>) -> AccessGrants {
    let mut ids: Vec<&str> = vec![f.sender, f.coordinator];
    ids.extend(f.shared_to.iter().map(String::as_str));
    ids.sort_unstable();
    ids.dedup();
    let ntk = f.tlp.needs_need_to_know();
    let rows =
        ids.into_iter().filter_map(org_of).filter(|o| inside_partner_ceiling(o, f)).map(|o| (o.id, ntk)).collect();
    AccessGrants { rows }
}

/// Sending: any need-to-know user of a partner organisation (so that they read what they
/// sent at every TLP).
pub fn check_send(p: &Principal) -> Result<(), Refusal> {
    if !is_partner_kind(p.org.kind) {
        return Err(Refusal {
            ja: "情報の提供は関係省庁・関係機関・サイバー空間関連事業者が行います（事業者は報告様式で）",
            en: "partner information comes from ministries, agencies, institutions and vendors (operators report instead)",
        });
    }
    if !p.need_to_know {
        return Err(Refusal {
            ja: "情報の提供は要知の担当者が行います",
            en: "only a need-to-know user sends partner information",
        });
    }
    Ok(())
}

/// Follow-ups come from the sender.
pub fn check_follow_up(p: &Principal, f: &PartnerFacts) -> Result<(), Denial> {
    if p.org.id != f.sender {
        return Err(Denial::Forbidden(Refusal {
            ja: "続報を送れるのは最初に提供した組織です",
            en: "only the organisation that sent it sends follow-ups",
        }));
    }
    check_send(p).map_err(Denial::Forbidden)
}

/// Sharing: the coordinator's CIP desk, with an organisation inside the ceiling.
pub fn check_share(p: &Principal, target: &OrgFacts, f: &PartnerFacts) -> Result<(), Denial> {
    check_coordinator_officer(p)?;
    if !inside_partner_ceiling(target, f) {
        return Err(Denial::Invalid(
            FieldError::new(
                "org_ids",
                format!("組織 {} は TLP:{} の共有範囲外です", target.id, f.tlp.code()),
                format!("organisation {} is outside the TLP:{} ceiling", target.id, f.tlp.code()),
            )
            .into(),
        ));
    }
    Ok(())
}

/// What a reader may do with it.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct PartnerActions {
    pub follow_up: bool,
    /// Organisations the reader may share it with that do not read it yet.
    pub share_with: Vec<String>,
    /// Whether the reader may cite it as the source of an advisory (the coordinator's desk).
    pub cite: bool,
}

pub fn partner_actions<'o>(
    p: &Principal,
    f: &PartnerFacts,
    orgs: impl IntoIterator<Item = &'o OrgFacts>,
) -> PartnerActions {
    let reads = |id: &str| f.knows_sender(id) || f.shared_to.iter().any(|s| s == id);
    PartnerActions {
        follow_up: check_follow_up(p, f).is_ok(),
        share_with: orgs
            .into_iter()
            .filter(|o| !reads(&o.id) && check_share(p, o, f).is_ok())
            .map(|o| o.id.clone())
            .collect(),
        cite: check_coordinator_officer(p).is_ok(),
    }
}

/// Whether an advisory's audience (every organisation inside its ceiling; `public` when WHITE
/// or CLEAR) stays inside what the cited information allows: its ceiling, or with the
/// sender's consent to sanitised wider use, the community (the public only for public
/// information).
pub fn source_allows(audience: &[OrgFacts], public: bool, f: &PartnerFacts, consented: bool) -> bool {
    let public_ok = !public || matches!(f.tlp, Tlp::White | Tlp::Clear);
    public_ok && (consented || audience.iter().all(|o| inside_partner_ceiling(o, f)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::org;
    use kyoyu_domain::codes::Role;

    fn facts(tlp: Tlp) -> PartnerFacts<'static> {
        static SECTORS: std::sync::LazyLock<Vec<String>> = std::sync::LazyLock::new(|| vec!["gas".into()]);
        static MINISTRIES: std::sync::LazyLock<Vec<String>> = std::sync::LazyLock::new(|| vec!["meti".into()]);
        PartnerFacts {
            tlp,
            sender: "inst",
            coordinator: "nisc",
            sectors: &SECTORS,
            concerned_ministries: &MINISTRIES,
            shared_to: &[],
        }
    }

    fn user(o: OrgFacts, role: Role, need_to_know: bool) -> Principal {
        Principal { user_id: "u".into(), org: o, roles: vec![role], need_to_know }
    }

    #[test]
    fn amber_reaches_the_concerned_sector_and_red_nobody_beyond_sender_and_coordinator() {
        let gas_op = org("gas-a", OrgKind::Operator, Some("gas"));
        let water_op = org("water-a", OrgKind::Operator, Some("water"));
        let meti = org("meti", OrgKind::Ministry, None);
        let mlit = org("mlit", OrgKind::Ministry, None);
        let amber = facts(Tlp::Amber);
        assert!(inside_partner_ceiling(&gas_op, &amber) && inside_partner_ceiling(&meti, &amber));
        assert!(!inside_partner_ceiling(&water_op, &amber) && !inside_partner_ceiling(&mlit, &amber));
        for tlp in [Tlp::Red, Tlp::AmberStrict] {
            assert!(!inside_partner_ceiling(&gas_op, &facts(tlp)) && !inside_partner_ceiling(&meti, &facts(tlp)));
            assert!(inside_partner_ceiling(&org("nisc", OrgKind::Coordinator, None), &facts(tlp)));
        }
        assert!(inside_partner_ceiling(&water_op, &facts(Tlp::Green)));
        assert!(!inside_partner_ceiling(&org("ops", OrgKind::Operations, None), &facts(Tlp::Clear)));
    }

    #[test]
    fn partners_send_operators_report_and_only_the_coordinator_shares() {
        let inst = org("inst", OrgKind::SecurityInstitution, None);
        assert!(check_send(&user(inst.clone(), Role::Member, true)).is_ok());
        assert!(check_send(&user(inst, Role::Member, false)).is_err());
        assert!(check_send(&user(org("gas-a", OrgKind::Operator, Some("gas")), Role::Member, true)).is_err());
        let gas_op = org("gas-a", OrgKind::Operator, Some("gas"));
        let nisc = user(org("nisc", OrgKind::Coordinator, None), Role::CipDesk, true);
        assert!(check_share(&nisc, &gas_op, &facts(Tlp::Amber)).is_ok());
        assert!(matches!(check_share(&nisc, &gas_op, &facts(Tlp::Red)), Err(Denial::Invalid(_))));
        let meti = user(org("meti", OrgKind::Ministry, None), Role::Liaison, true);
        assert!(matches!(check_share(&meti, &gas_op, &facts(Tlp::Green)), Err(Denial::Forbidden(_))));
    }

    #[test]
    fn an_advisory_stays_inside_the_source_unless_the_sender_consented() {
        let gas = [org("meti", OrgKind::Ministry, None), org("gas-a", OrgKind::Operator, Some("gas"))];
        let wider = [org("water-a", OrgKind::Operator, Some("water"))];
        assert!(source_allows(&gas, false, &facts(Tlp::Amber), false));
        assert!(!source_allows(&wider, false, &facts(Tlp::Amber), false));
        assert!(source_allows(&wider, false, &facts(Tlp::Amber), true));
        assert!(!source_allows(&wider, true, &facts(Tlp::Green), true), "public only for public information");
    }
}
