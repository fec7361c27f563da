//! Information from partners to the coordinator (情報の提供, 004 3.1): what a ministry, a
//! cybersecurity-related ministry, a response or disaster agency, a security institution or a
//! cyberspace vendor knows of a vulnerability, an attack, a disaster or a threat. Numbered in
//! its own series (`P2026-0001`), followed up like a report.

use crate::codes::Severity;
use crate::error::{FieldError, ValidationErrors};
use crate::report::MAX_LIST;
use crate::tlp::Tlp;
use crate::FreeText;
use serde::{Deserialize, Serialize};

/// The form as kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PartnerContent {
    pub kind: crate::codes::PartnerInfoKind,
    pub tlp: Tlp,
    pub severity: Severity,
    /// Sectors the information concerns (codes); empty when it concerns none in particular.
    pub sectors: Vec<String>,
    pub title: String,
    pub content: String,
    /// STIX 2.1 patterns of indicators, e.g. `[ipv4-addr:value = '198.51.100.7']`.
    pub indicators: Vec<String>,
    /// The sender lets the coordinator use it, sanitised, beyond its TLP (its consent).
    pub sanitised_wider_use: bool,
}

/// A client's form: every field optional so a missing one is named.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "kind": "vulnerability",
    "tlp": "AMBER",
    "severity": "warning",
    "sectors": ["electricity"],
    "title": "制御装置の脆弱性 / a flaw in a controller",
    "content": "遠隔から認証を回避できる / authentication can be bypassed remotely",
    "indicators": ["[ipv4-addr:value = '198.51.100.7']"]
}))]
pub struct PartnerInput {
    pub kind: Option<crate::codes::PartnerInfoKind>,
    pub tlp: Option<Tlp>,
    pub severity: Option<Severity>,
    pub sectors: Option<Vec<String>>,
    pub title: Option<String>,
    pub content: Option<String>,
    pub indicators: Option<Vec<String>>,
    pub sanitised_wider_use: Option<bool>,
}

fn non_empty(field: &str, v: Option<String>, errors: &mut ValidationErrors) -> String {
    match v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty()) {
        Some(s) => s,
        None => {
            errors.push(FieldError::required(field));
            String::new()
        }
    }
}

/// Whether a pattern has the shape of a STIX pattern: one or more bracketed comparisons.
/// The full grammar is STIX's; consumers that evaluate patterns parse it themselves.
fn looks_like_stix_pattern(p: &str) -> bool {
    let p = p.trim();
    p.starts_with('[') && p.ends_with(']') && p.contains(':') && p.matches('[').count() == p.matches(']').count()
}

impl PartnerInput {
    /// The first of a chain: every field required but sectors, indicators and the consent.
    pub fn into_content(self) -> Result<PartnerContent, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        if self.kind.is_none() {
            errors.push(FieldError::required("kind"));
        }
        if self.tlp.is_none() {
            errors.push(FieldError::required("tlp"));
        }
        if self.severity.is_none() {
            errors.push(FieldError::required("severity"));
        }
        let title = non_empty("title", self.title, &mut errors);
        let content = non_empty("content", self.content, &mut errors);
        let (Some(kind), Some(tlp), Some(severity)) = (self.kind, self.tlp, self.severity) else {
            return Err(errors);
        };
        let mut c = PartnerContent {
            kind,
            tlp,
            severity,
            sectors: self.sectors.unwrap_or_default(),
            title,
            content,
            indicators: self.indicators.unwrap_or_default(),
            sanitised_wider_use: self.sanitised_wider_use.unwrap_or(false),
        };
        c.sectors.sort();
        c.sectors.dedup();
        c.check(&mut errors);
        errors.into_result(c)
    }

    /// A follow-up: the fields given replace the previous ones, and at least one must change.
    pub fn follow_up_of(self, previous: &PartnerContent) -> Result<PartnerContent, ValidationErrors> {
        let p = previous.clone();
        let next = PartnerInput {
            kind: self.kind.or(Some(p.kind)),
            tlp: self.tlp.or(Some(p.tlp)),
            severity: self.severity.or(Some(p.severity)),
            sectors: self.sectors.or(Some(p.sectors)),
            title: self.title.or(Some(p.title)),
            content: self.content.or(Some(p.content)),
            indicators: self.indicators.or(Some(p.indicators)),
            sanitised_wider_use: self.sanitised_wider_use.or(Some(p.sanitised_wider_use)),
        }
        .into_content()?;
        if &next == previous {
            let mut errors = ValidationErrors::default();
            errors.push(FieldError::new(
                "",
                "続報は前報から少なくとも一つの項目を変えてください",
                "a follow-up must change at least one field of the previous one",
            ));
            return Err(errors);
        }
        Ok(next)
    }
}

impl PartnerContent {
    fn check(&self, errors: &mut ValidationErrors) {
        self.check_text_lengths(errors);
        for (field, n) in [("sectors", self.sectors.len()), ("indicators", self.indicators.len())] {
            if n > MAX_LIST {
                errors.push(FieldError::new(
                    field,
                    format!("{MAX_LIST}件を超えています"),
                    format!("holds more than {MAX_LIST} entries"),
                ));
            }
        }
        for (i, p) in self.indicators.iter().enumerate() {
            if !looks_like_stix_pattern(p) {
                errors.push(FieldError::new(
                    format!("indicators[{i}]"),
                    "STIX パターンの形式ではありません（例: [ipv4-addr:value = '198.51.100.7']）",
                    "is not a STIX pattern (e.g. [ipv4-addr:value = '198.51.100.7'])",
                ));
            }
        }
    }
}

impl FreeText for PartnerContent {
    fn for_each_text_mut(&mut self, mut f: impl FnMut(&str, &mut String)) {
        f("title", &mut self.title);
        f("content", &mut self.content);
        for (i, s) in self.indicators.iter_mut().enumerate() {
            f(&format!("indicators[{i}]"), s);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn input(v: serde_json::Value) -> PartnerInput {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn every_missing_field_is_named() {
        let fields: Vec<String> = input(json!({})).into_content().unwrap_err().0.into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["kind", "tlp", "severity", "title", "content"]);
    }

    #[test]
    fn indicators_must_be_stix_patterns() {
        let err = input(json!({
            "kind": "attack", "tlp": "GREEN", "severity": "info", "title": "t", "content": "c",
            "indicators": ["[domain-name:value = 'bad.example']", "198.51.100.7"]
        }))
        .into_content()
        .unwrap_err();
        assert_eq!(err.0.len(), 1);
        assert_eq!(err.0[0].field, "indicators[1]");
    }

    #[test]
    fn a_follow_up_keeps_what_it_does_not_name() {
        let first = input(json!({
            "kind": "attack", "tlp": "AMBER", "severity": "warning", "title": "t", "content": "c", "sectors": ["gas"]
        }))
        .into_content()
        .unwrap();
        let next = input(json!({"content": "more"})).follow_up_of(&first).unwrap();
        assert_eq!(
            (next.content.as_str(), next.tlp, next.sectors.clone()),
            ("more", Tlp::Amber, vec!["gas".to_string()])
        );
    }

    #[test]
    fn a_follow_up_that_changes_nothing_is_refused() {
        let first = input(json!({
            "kind": "attack", "tlp": "AMBER", "severity": "warning", "title": "t", "content": "c"
        }))
        .into_content()
        .unwrap();
        assert!(input(json!({})).follow_up_of(&first).is_err());
        assert!(input(json!({"content": "c"})).follow_up_of(&first).is_err());
        assert!(input(json!({"content": "d"})).follow_up_of(&first).is_ok());
    }
}
