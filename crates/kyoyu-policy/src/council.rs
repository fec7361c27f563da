//! The CEPTOAR council (セプターカウンシル, 000 別紙5): an independent council, under no
//! government body, that CEPTOARs join and leave by their own decision and through which they
//! share across sectors. A share through it reaches the member CEPTOARs inside the item's
//! ceiling (GREEN: every member and the council itself; AMBER: the members of the concerned
//! sectors; RED: nobody), and they relay to their own members under the usual rules.

use crate::{inside_ceiling, Denial, OrgFacts, Principal, Refusal, RenditionFacts};
use kyoyu_domain::codes::OrgKind;
use kyoyu_domain::{FieldError, Tlp, ValidationErrors};

/// The council and the CEPTOARs that sit on it now.
#[derive(Debug, Clone, Copy)]
pub struct Council<'a> {
    pub org: &'a OrgFacts,
    pub members: &'a [OrgFacts],
}

impl Council<'_> {
    pub fn has_member(&self, org_id: &str) -> bool {
        self.members.iter().any(|m| m.id == org_id)
    }
}

/// Only a CEPTOAR decides, through its secretariat or admin, whether it sits on the council.
pub fn check_membership(p: &Principal) -> Result<(), Refusal> {
    if p.org.kind == OrgKind::Ceptoar && p.is_relay_officer() {
        return Ok(());
    }
    Err(Refusal {
        ja: "カウンシルへの参加・脱退を決められるのは、セプターの事務局または管理者です",
        en: "only a CEPTOAR's secretariat or admin decides whether it sits on the council",
    })
}

/// The organisations a share of rendition `r` through the council reaches, besides those that
/// read it already: the council and its members (the sharer aside) inside the ceiling. Only a
/// member CEPTOAR's officer shares, never RED, and never a rendition that names the operator
/// of an anonymised chain.
pub fn council_share_targets(
    p: &Principal,
    r: &RenditionFacts,
    names_anonymous_operator: bool,
    council: &Council,
) -> Result<Vec<String>, Denial> {
    check_membership(p).map_err(Denial::Forbidden)?;
    if !council.has_member(&p.org.id) {
        return Err(Denial::Conflict(Refusal {
            ja: "このセプターはカウンシルに参加していません。参加してから共有してください",
            en: "this CEPTOAR does not sit on the council; join it before sharing through it",
        }));
    }
    let r = r.seen_by(&p.org.id);
    let refuse =
        |ja: String, en: String| Err(Denial::Invalid(ValidationErrors::from(FieldError::new("report_id", ja, en))));
    if r.tlp == Tlp::Red {
        return refuse(
            "TLP:RED の報告はカウンシルで共有できません（宛先限り）".into(),
            "a TLP:RED report is never shared through the council (named recipients only)".into(),
        );
    }
    if names_anonymous_operator {
        return refuse(
            "匿名化前の報告は共有できません。匿名化した版を共有してください".into(),
            "this rendition identifies the anonymous operator; share the anonymised rendition".into(),
        );
    }
    let targets: Vec<String> = std::iter::once(council.org)
        .chain(council.members.iter())
        .filter(|o| o.id != p.org.id && inside_ceiling(o, &r))
        .map(|o| o.id.clone())
        .collect();
    if targets.is_empty() {
        return refuse(
            format!("TLP:{} の範囲内にカウンシルも他の参加セプターもありません", r.tlp.code()),
            format!("neither the council nor another member CEPTOAR lies inside the TLP:{} ceiling", r.tlp.code()),
        );
    }
    Ok(targets)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::{facts, org};
    use kyoyu_domain::codes::Role;

    fn secretariat(id: &str, sector: &str) -> Principal {
        Principal {
            user_id: "u".into(),
            org: org(id, OrgKind::Ceptoar, Some(sector)),
            roles: vec![Role::Secretariat],
            need_to_know: true,
        }
    }

    fn members() -> Vec<OrgFacts> {
        vec![
            org("gas-c", OrgKind::Ceptoar, Some("gas")),
            org("gas-c2", OrgKind::Ceptoar, Some("gas")),
            org("water-c", OrgKind::Ceptoar, Some("water")),
        ]
    }

    #[test]
    fn green_reaches_every_member_and_amber_only_the_concerned_sector() {
        let council_org = org("council", OrgKind::CeptoarCouncil, None);
        let members = members();
        let council = Council { org: &council_org, members: &members };
        let p = secretariat("gas-c", "gas");
        let green = council_share_targets(&p, &facts(Tlp::Green), false, &council).unwrap();
        assert_eq!(green, ["council", "gas-c2", "water-c"]);
        let amber = council_share_targets(&p, &facts(Tlp::Amber), false, &council).unwrap();
        assert_eq!(amber, ["gas-c2"]);
        assert!(matches!(council_share_targets(&p, &facts(Tlp::Red), false, &council), Err(Denial::Invalid(_))));
        assert!(matches!(council_share_targets(&p, &facts(Tlp::Green), true, &council), Err(Denial::Invalid(_))));
    }

    #[test]
    fn only_a_member_ceptoars_officer_shares_through_it() {
        let council_org = org("council", OrgKind::CeptoarCouncil, None);
        let members = members();
        let council = Council { org: &council_org, members: &members[1..] };
        let r = facts(Tlp::Green);
        let outsider = secretariat("gas-c", "gas");
        assert!(matches!(council_share_targets(&outsider, &r, false, &council), Err(Denial::Conflict(_))));
        let member = Principal { roles: vec![Role::Member], ..secretariat("gas-c2", "gas") };
        assert!(matches!(council_share_targets(&member, &r, false, &council), Err(Denial::Forbidden(_))));
        let operator = Principal { org: org("op1", OrgKind::Operator, Some("gas")), ..secretariat("x", "gas") };
        assert!(check_membership(&operator).is_err());
        assert!(check_membership(&secretariat("gas-c", "gas")).is_ok());
    }
}
