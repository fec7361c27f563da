//! The advisory form (情報提供様式, domain.md §8) and its validation.

use crate::codes::Severity;
use crate::error::{FieldError, ValidationErrors};
use crate::tlp::Tlp;
use crate::FreeText;
use serde::{Deserialize, Serialize};

/// One recipient of an advisory: a ministry and one of its sectors.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Recipient {
    pub ministry_org_id: String,
    pub sector: String,
}

/// (1) summary, (2) affected targets, (3) countermeasures, (4) other.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdvisoryContent {
    pub summary: Option<String>,
    pub targets: Option<String>,
    pub countermeasures: Option<String>,
    pub other: Option<String>,
}

/// The contact at the coordinator.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdvisoryContact {
    pub name: Option<String>,
    pub phone: Option<String>,
    pub fax: Option<String>,
    pub email: Option<String>,
}

/// An advisory as drafted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AdvisoryDraft {
    pub severity: Option<Severity>,
    pub tlp: Tlp,
    pub tlp_note: Option<String>,
    pub has_attachments: bool,
    pub recipients: Vec<Recipient>,
    pub urgent: bool,
    pub content: AdvisoryContent,
    pub contact: AdvisoryContact,
    pub source_report_ids: Vec<String>,
    /// Partner information (情報の提供) the advisory draws on; protected as sources are.
    #[serde(default)]
    pub source_partner_ids: Vec<String>,
    pub external_sources: Vec<String>,
}

/// A client's advisory: every field optional so a missing one is named.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "severity": "warning",
    "tlp": "GREEN",
    "content": {
        "summary": "VPN 装置の脆弱性を悪用する攻撃 / attacks on a VPN appliance flaw",
        "countermeasures": "修正版を適用してください / apply the fixed version"
    }
}))]
pub struct AdvisoryInput {
    pub severity: Option<Severity>,
    pub tlp: Option<Tlp>,
    pub tlp_note: Option<String>,
    pub has_attachments: Option<bool>,
    pub recipients: Option<Vec<Recipient>>,
    pub urgent: Option<bool>,
    pub content: Option<AdvisoryContent>,
    pub contact: Option<AdvisoryContact>,
    pub source_report_ids: Option<Vec<String>>,
    pub source_partner_ids: Option<Vec<String>>,
    pub external_sources: Option<Vec<String>>,
}

impl AdvisoryInput {
    /// A new draft: the TLP is required; the rest may follow before issue.
    pub fn into_draft(self) -> Result<AdvisoryDraft, ValidationErrors> {
        let Some(tlp) = self.tlp else {
            return Err(FieldError::required("tlp").into());
        };
        let empty = AdvisoryDraft {
            severity: None,
            tlp,
            tlp_note: None,
            has_attachments: false,
            recipients: vec![],
            urgent: false,
            content: AdvisoryContent::default(),
            contact: AdvisoryContact::default(),
            source_report_ids: vec![],
            source_partner_ids: vec![],
            external_sources: vec![],
        };
        self.apply_to(&empty)
    }

    /// Replaces the fields given.
    pub fn apply_to(self, previous: &AdvisoryDraft) -> Result<AdvisoryDraft, ValidationErrors> {
        let mut d = previous.clone();
        if let Some(v) = self.severity {
            d.severity = Some(v);
        }
        if let Some(v) = self.tlp {
            d.tlp = v;
        }
        if let Some(v) = self.tlp_note {
            d.tlp_note = Some(v);
        }
        if let Some(v) = self.has_attachments {
            d.has_attachments = v;
        }
        if let Some(v) = self.recipients {
            d.recipients = v;
        }
        if let Some(v) = self.urgent {
            d.urgent = v;
        }
        if let Some(v) = self.content {
            d.content = v;
        }
        if let Some(v) = self.contact {
            d.contact = v;
        }
        if let Some(v) = self.source_report_ids {
            d.source_report_ids = v;
        }
        if let Some(v) = self.source_partner_ids {
            d.source_partner_ids = v;
        }
        if let Some(v) = self.external_sources {
            d.external_sources = v;
        }
        d.recipients.sort();
        d.recipients.dedup();
        d.source_report_ids.sort();
        d.source_report_ids.dedup();
        d.source_partner_ids.sort();
        d.source_partner_ids.dedup();
        let mut errors = ValidationErrors::default();
        d.check_text_lengths(&mut errors);
        errors.into_result(d)
    }
}

impl FreeText for AdvisoryDraft {
    fn for_each_text_mut(&mut self, mut f: impl FnMut(&str, &mut String)) {
        let mut opt = |path: &str, v: &mut Option<String>| {
            if let Some(s) = v.as_mut() {
                f(path, s);
            }
        };
        opt("tlp_note", &mut self.tlp_note);
        opt("content.summary", &mut self.content.summary);
        opt("content.targets", &mut self.content.targets);
        opt("content.countermeasures", &mut self.content.countermeasures);
        opt("content.other", &mut self.content.other);
        opt("contact.name", &mut self.contact.name);
        opt("contact.phone", &mut self.contact.phone);
        opt("contact.fax", &mut self.contact.fax);
        opt("contact.email", &mut self.contact.email);
        for (i, s) in self.external_sources.iter_mut().enumerate() {
            f(&format!("external_sources[{i}]"), s);
        }
    }
}

impl AdvisoryDraft {
    /// What issuing requires beyond a draft (domain.md §8 `*`).
    pub fn check_issuable(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        if self.recipients.is_empty() {
            errors.push(FieldError::required("recipients"));
        }
        if self.content.summary.as_deref().is_none_or(|s| s.trim().is_empty()) {
            errors.push(FieldError::required("content.summary"));
        }
        errors.into_result(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_draft_needs_a_tlp_and_issuing_needs_recipients_and_a_summary() {
        let input: AdvisoryInput = serde_json::from_value(serde_json::json!({})).unwrap();
        assert_eq!(input.into_draft().unwrap_err().0[0].field, "tlp");
        let input: AdvisoryInput = serde_json::from_value(serde_json::json!({"tlp": "AMBER"})).unwrap();
        let draft = input.into_draft().unwrap();
        let fields: Vec<String> = draft.check_issuable().unwrap_err().0.into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["recipients", "content.summary"]);
    }

    #[test]
    fn edits_replace_only_what_they_name() {
        let draft: AdvisoryInput = serde_json::from_value(serde_json::json!({
            "tlp": "GREEN", "content": {"summary": "s"}, "recipients": [{"ministry_org_id": "m", "sector": "gas"}]
        }))
        .unwrap();
        let draft = draft.into_draft().unwrap();
        let edit: AdvisoryInput = serde_json::from_value(serde_json::json!({"tlp": "AMBER"})).unwrap();
        let edited = edit.apply_to(&draft).unwrap();
        assert_eq!(edited.tlp, Tlp::Amber);
        assert_eq!(edited.recipients, draft.recipients);
        assert!(edited.check_issuable().is_ok());
    }
}
