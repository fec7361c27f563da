//! Files on items (issue 15). A file is read through its item: whoever cannot read the item
//! cannot learn the file exists. A file may be marked tighter than its item; then only those
//! of the item's readers inside the ceiling at the file's TLP read it. Samples may also reach
//! an analysis partner by the coordinator's explicit, expiring grant.

use crate::partner::{inside_partner_ceiling, PartnerFacts};
use crate::{
    check_coordinator_officer, inside_advisory_ceiling, inside_ceiling, AdvisoryFacts, Denial, OrgFacts, Principal,
    Refusal, RenditionFacts,
};
use kyoyu_domain::codes::{DownloadAs, FileKind, OrgKind};
use kyoyu_domain::{FieldError, Tlp, ValidationErrors};

/// The longest a sample grant may run, in days.
pub const MAX_GRANT_DAYS: i64 = 90;

/// The item a file belongs to, as the policy sees it.
#[derive(Debug, Clone)]
pub enum ItemFacts<'a> {
    Report(RenditionFacts<'a>),
    Advisory(AdvisoryFacts<'a>),
    Partner(PartnerFacts<'a>),
}

impl ItemFacts<'_> {
    pub fn tlp(&self) -> Tlp {
        match self {
            ItemFacts::Report(r) => r.tlp,
            ItemFacts::Advisory(a) => a.tlp,
            ItemFacts::Partner(f) => f.tlp,
        }
    }

    fn inside_at(&self, org: &OrgFacts, tlp: Tlp) -> bool {
        match self {
            ItemFacts::Report(r) => inside_ceiling(org, &RenditionFacts { tlp, ..r.clone() }),
            ItemFacts::Advisory(a) => inside_advisory_ceiling(org, &AdvisoryFacts { tlp, ..a.clone() }),
            ItemFacts::Partner(f) => inside_partner_ceiling(org, &PartnerFacts { tlp, ..f.clone() }),
        }
    }
}

/// Whether `p`, who reads the item, reads a file on it marked `file_tlp`. A file at its item's
/// TLP reaches every reader of the item (the item's own reader rows decided that).
pub fn reads_file(p: &Principal, item: &ItemFacts, file_tlp: Tlp) -> bool {
    if file_tlp == item.tlp() {
        return true;
    }
    (!file_tlp.needs_need_to_know() || p.need_to_know) && item.inside_at(&p.org, file_tlp)
}

/// Who attaches files: the organisation that wrote the item (a rendition's sender, an
/// advisory's coordinator, partner information's sender), at the item's TLP or tighter.
pub fn check_attach(p: &Principal, author_org: &str, item: &ItemFacts, file_tlp: Tlp) -> Result<(), Denial> {
    if p.org.id != author_org || !crate::reads_items(&p.org) {
        return Err(Denial::Forbidden(Refusal {
            ja: "ファイルを添付できるのは、この報告・情報提供を作成した組織です",
            en: "only the organisation that wrote this item attaches files to it",
        }));
    }
    if !file_tlp.keeps_or_tightens(item.tlp()) {
        return Err(Denial::Invalid(ValidationErrors::from(FieldError::new(
            "tlp",
            format!("ファイルの TLP は項目の TLP:{} と同じか、より限定的にしてください", item.tlp().code()),
            format!("a file's TLP must be the item's TLP:{} or tighter", item.tlp().code()),
        ))));
    }
    if !reads_file(p, item, file_tlp) {
        return Err(Denial::Invalid(ValidationErrors::from(FieldError::new(
            "tlp",
            "この TLP では、添付する組織自身が読めなくなります",
            "at this TLP the attaching organisation could not read the file itself",
        ))));
    }
    Ok(())
}

/// Samples never leave as they are; the password zip they arrived in is handed out unchanged.
pub fn check_download_as(kind: FileKind, arrived_as_password_zip: bool, how: DownloadAs) -> Result<(), FieldError> {
    match (kind, how) {
        (FileKind::Sample, DownloadAs::Raw) => Err(FieldError::new(
            "as",
            "検体はそのままでは取得できません。パスワード付き ZIP を選んでください",
            "a sample is never downloaded as it is: choose a password zip",
        )),
        (_, DownloadAs::Original) if !arrived_as_password_zip => Err(FieldError::new(
            "as",
            "このファイルはパスワード付き ZIP として受け取ったものではありません",
            "this file did not arrive as a password zip",
        )),
        _ => Ok(()),
    }
}

/// Sharing a sample with an analysis partner (表5 ※2): the coordinator's officer, a sample,
/// a security institution arranged beforehand, for at most [`MAX_GRANT_DAYS`].
pub fn check_sample_grant(p: &Principal, kind: FileKind, partner: &OrgFacts, days: i64) -> Result<(), Denial> {
    check_coordinator_officer(p)?;
    let mut errors = ValidationErrors::default();
    if kind != FileKind::Sample {
        errors.push(FieldError::new(
            "attachment_id",
            "分析依頼で共有できるのは検体だけです",
            "only samples are shared with analysis partners",
        ));
    }
    if partner.kind != OrgKind::SecurityInstitution || !partner.analysis_partner {
        errors.push(FieldError::new(
            "org_id",
            format!("組織 {} は事前に取り決めた分析協力機関ではありません", partner.id),
            format!("organisation {} is not an analysis partner arranged beforehand", partner.id),
        ));
    }
    if !(1..=MAX_GRANT_DAYS).contains(&days) {
        errors.push(FieldError::new(
            "days",
            format!("期間は 1 日から {MAX_GRANT_DAYS} 日までです"),
            format!("must be between 1 and {MAX_GRANT_DAYS} days"),
        ));
    }
    errors.into_result(()).map_err(Denial::Invalid)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kyoyu_domain::codes::Role;

    use crate::tests::{facts, org};

    fn principal(id: &str, kind: OrgKind, sector: Option<&str>, need_to_know: bool) -> Principal {
        Principal { user_id: "u".into(), org: org(id, kind, sector), roles: vec![Role::Admin], need_to_know }
    }

    fn report(tlp: Tlp) -> ItemFacts<'static> {
        ItemFacts::Report(facts(tlp))
    }

    #[test]
    fn a_tighter_file_reaches_only_readers_inside_its_own_ceiling() {
        let ceptoar = principal("c", OrgKind::Ceptoar, Some("gas"), true);
        let other_op = principal("op2", OrgKind::Operator, Some("gas"), true);
        let meti = principal("meti", OrgKind::Ministry, None, true);
        let item = report(Tlp::Green);
        assert!(reads_file(&other_op, &item, Tlp::Green));
        assert!(!reads_file(&other_op, &item, Tlp::AmberStrict));
        assert!(reads_file(&ceptoar, &item, Tlp::AmberStrict));
        assert!(!reads_file(&ceptoar, &item, Tlp::Red));
        assert!(reads_file(&meti, &item, Tlp::Red));
        let meti_without_ntk = principal("meti", OrgKind::Ministry, None, false);
        assert!(!reads_file(&meti_without_ntk, &item, Tlp::Red));
    }

    #[test]
    fn only_the_author_attaches_and_never_wider_than_the_item() {
        let op = principal("op1", OrgKind::Operator, Some("gas"), true);
        let meti = principal("meti", OrgKind::Ministry, None, true);
        let item = report(Tlp::Amber);
        assert!(check_attach(&op, "op1", &item, Tlp::Amber).is_ok());
        assert!(check_attach(&op, "op1", &item, Tlp::Red).is_ok());
        assert!(matches!(check_attach(&op, "op1", &item, Tlp::Green), Err(Denial::Invalid(_))));
        assert!(matches!(check_attach(&meti, "op1", &item, Tlp::Amber), Err(Denial::Forbidden(_))));
    }

    #[test]
    fn samples_leave_only_zipped() {
        assert!(check_download_as(FileKind::Sample, false, DownloadAs::Raw).is_err());
        assert!(check_download_as(FileKind::Sample, false, DownloadAs::AesZip).is_ok());
        assert!(check_download_as(FileKind::Sample, false, DownloadAs::Original).is_err());
        assert!(check_download_as(FileKind::Sample, true, DownloadAs::Original).is_ok());
        assert!(check_download_as(FileKind::Attachment, false, DownloadAs::Raw).is_ok());
    }

    #[test]
    fn grants_go_to_arranged_partners_for_a_bounded_time() {
        let mut nisc = principal("nisc", OrgKind::Coordinator, None, true);
        nisc.roles = vec![Role::CipDesk];
        let mut partner =
            OrgFacts { id: "jpcert".into(), kind: OrgKind::SecurityInstitution, sector: None, analysis_partner: true };
        assert!(check_sample_grant(&nisc, FileKind::Sample, &partner, 30).is_ok());
        assert!(check_sample_grant(&nisc, FileKind::Sample, &partner, 91).is_err());
        assert!(check_sample_grant(&nisc, FileKind::Attachment, &partner, 30).is_err());
        partner.analysis_partner = false;
        assert!(check_sample_grant(&nisc, FileKind::Sample, &partner, 30).is_err());
        let op = principal("op1", OrgKind::Operator, Some("gas"), true);
        partner.analysis_partner = true;
        assert!(matches!(check_sample_grant(&op, FileKind::Sample, &partner, 30), Err(Denial::Forbidden(_))));
    }
}
