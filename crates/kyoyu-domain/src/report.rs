//! The report form (情報連絡様式, domain.md §6): the content of one rendition, the request that
//! fills it, and its validation.

use crate::codes::{Cause, EventType, Outlook, PressStatus, Route, Severity, SystemStatus};
use crate::error::{FieldError, ValidationErrors};
use crate::service_level::{Evaluation, ImpactFigures};
use crate::tlp::Tlp;
use crate::FreeText;
use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

pub type Time = DateTime<FixedOffset>;

/// Limits on free text, documented in the OpenAPI description.
pub const MAX_TEXT: usize = 20_000;
pub const MAX_LIST: usize = 500;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Summary {
    pub description: Option<String>,
    pub discovered_at: Option<DateTime<FixedOffset>>,
    pub occurred_at: Option<DateTime<FixedOffset>>,
    pub occurred_note: Option<String>,
    pub affected_system: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Impact {
    pub service_level_deviation: Option<bool>,
    pub spread_possible: Option<bool>,
    pub system_status: Option<SystemStatus>,
    pub recovered_at: Option<DateTime<FixedOffset>>,
    pub notes: Option<String>,
    /// Structured figures the system evaluates against the sector's service level.
    pub figures: Option<ImpactFigures>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TimelineEntry {
    pub at: DateTime<FixedOffset>,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Press {
    pub status: PressStatus,
    pub at: Option<DateTime<FixedOffset>>,
    pub title: Option<String>,
}

/// The sender block of the form header: who at the sending organisation sent this rendition.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    pub department: Option<String>,
    pub name: Option<String>,
    pub phone: Option<String>,
    pub fax: Option<String>,
    pub email: Option<String>,
}

/// The content of one rendition of a report, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReportContent {
    pub severity: Option<Severity>,
    pub tlp: Tlp,
    pub tlp_note: Option<String>,
    pub has_attachments: bool,
    pub extra_recipient_org_ids: Vec<String>,
    pub event_type: Option<EventType>,
    pub causes: Vec<Cause>,
    pub sector: String,
    pub operator_name: Option<String>,
    pub summary: Summary,
    pub impact: Impact,
    pub timeline: Vec<TimelineEntry>,
    pub outlook: Option<Outlook>,
    pub lessons: Option<String>,
    pub press: Option<Press>,
    pub notified_parties: Vec<String>,
    pub sender_contact: Option<Contact>,
    /// May be shared with other sectors once identifying details are removed (表5 特記事項,
    /// as a structured permission beside the free-text note).
    #[serde(default)]
    pub sanitised_wider_use: bool,
    /// Set by the system from `impact.figures`; never by the sender.
    #[serde(default)]
    pub service_level_evaluation: Option<Evaluation>,
}

/// A report as a client sends it: to create one (every required field), or as the edits of a
/// forward (only the fields it changes). Every field is optional here so that a missing one is
/// reported by name.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "route": "direct",
    "statutory": false,
    "severity": "warning",
    "tlp": "AMBER",
    "has_attachments": false,
    "event_type": "malware_infection",
    "causes": ["suspicious_email"],
    "sector": "telecom",
    "summary": {
        "description": "業務端末でマルウェア感染を検知 / malware found on an office PC",
        "discovered_at": "2026-04-01T10:00:00+09:00",
        "occurred_at": "2026-04-01T09:30:00+09:00",
        "affected_system": "業務系端末"
    },
    "impact": {"service_level_deviation": false, "spread_possible": true, "system_status": "partial"},
    "timeline": [{"at": "2026-04-01T09:30:00+09:00", "text": "不審メール受信"}],
    "outlook": "investigating",
    "press": {"status": "none"}
}))]
pub struct ReportInput {
    pub route: Option<Route>,
    pub statutory: Option<bool>,
    /// An exercise (訓練・演習): numbered in its own series and left out of statistics.
    pub exercise: Option<bool>,
    pub severity: Option<Severity>,
    pub tlp: Option<Tlp>,
    pub tlp_note: Option<String>,
    pub has_attachments: Option<bool>,
    pub extra_recipient_org_ids: Option<Vec<String>>,
    pub event_type: Option<EventType>,
    pub causes: Option<Vec<Cause>>,
    pub sector: Option<String>,
    pub operator_name: Option<String>,
    pub summary: Option<Summary>,
    pub impact: Option<Impact>,
    pub timeline: Option<Vec<TimelineEntry>>,
    pub outlook: Option<Outlook>,
    pub lessons: Option<String>,
    pub press: Option<Press>,
    pub notified_parties: Option<Vec<String>>,
    pub sender_contact: Option<Contact>,
    pub sanitised_wider_use: Option<bool>,
}

/// A validated request to file a new report.
#[derive(Debug, Clone, PartialEq)]
pub struct NewReport {
    pub route: Route,
    pub statutory: bool,
    pub exercise: bool,
    pub content: ReportContent,
}

impl ReportInput {
    /// Validates a new report (domain.md §6 `*` fields are required).
    pub fn into_new_report(self) -> Result<NewReport, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let route = require(&mut errors, "route", self.route);
        let statutory = require(&mut errors, "statutory", self.statutory);
        let tlp = require(&mut errors, "tlp", self.tlp);
        let has_attachments = require(&mut errors, "has_attachments", self.has_attachments);
        let sector = require(&mut errors, "sector", self.sector.filter(|s| !s.trim().is_empty()));
        if route == Some(Route::Anonymised) && statutory == Some(true) {
            errors.push(FieldError::new(
                "route",
                "法令に基づく報告は匿名化連絡の経路では送れません",
                "a statutory report cannot take the anonymised route",
            ));
        }
        let (Some(route), Some(statutory), Some(tlp), Some(has_attachments), Some(sector)) =
            (route, statutory, tlp, has_attachments, sector)
        else {
            return Err(errors);
        };
        let content = ReportContent {
            severity: self.severity,
            tlp,
            tlp_note: self.tlp_note,
            has_attachments,
            extra_recipient_org_ids: self.extra_recipient_org_ids.unwrap_or_default(),
            event_type: self.event_type,
            causes: self.causes.unwrap_or_default(),
            sector,
            operator_name: self.operator_name,
            summary: self.summary.unwrap_or_default(),
            impact: self.impact.unwrap_or_default(),
            timeline: self.timeline.unwrap_or_default(),
            outlook: self.outlook,
            lessons: self.lessons,
            press: self.press,
            notified_parties: self.notified_parties.unwrap_or_default(),
            sender_contact: self.sender_contact,
            sanitised_wider_use: self.sanitised_wider_use.unwrap_or(false),
            service_level_evaluation: None,
        };
        check_content(&content, &mut errors);
        errors.into_result(NewReport { route, statutory, exercise: self.exercise.unwrap_or(false), content })
    }

    /// Applies the edits of a forward to the rendition it forwards. Route, statutory and sector
    /// belong to the chain and cannot change; the TLP may be kept or tightened, never loosened.
    pub fn apply_to(self, previous: &ReportContent) -> Result<ReportContent, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        for (field, given) in [
            ("route", self.route.is_some()),
            ("statutory", self.statutory.is_some()),
            ("exercise", self.exercise.is_some()),
            ("sector", self.sector.as_ref().is_some_and(|s| *s != previous.sector)),
        ] {
            if given {
                errors.push(FieldError::new(field, "転送時には変更できません", "cannot change on forward"));
            }
        }
        let mut next = previous.clone();
        if let Some(tlp) = self.tlp {
            if !tlp.keeps_or_tightens(previous.tlp) {
                errors.push(loosening_error("tlp", previous.tlp, tlp));
            }
            next.tlp = tlp;
        }
        replace(&mut next.severity, self.severity.map(Some));
        replace(&mut next.tlp_note, self.tlp_note.map(Some));
        replace(&mut next.has_attachments, self.has_attachments);
        replace(&mut next.extra_recipient_org_ids, self.extra_recipient_org_ids);
        replace(&mut next.event_type, self.event_type.map(Some));
        replace(&mut next.causes, self.causes);
        replace(&mut next.operator_name, self.operator_name.map(Some));
        replace(&mut next.summary, self.summary);
        replace(&mut next.impact, self.impact);
        replace(&mut next.timeline, self.timeline);
        replace(&mut next.outlook, self.outlook.map(Some));
        replace(&mut next.lessons, self.lessons.map(Some));
        replace(&mut next.press, self.press.map(Some));
        replace(&mut next.notified_parties, self.notified_parties);
        replace(&mut next.sender_contact, self.sender_contact.map(Some));
        if self.sanitised_wider_use == Some(true) && !previous.sanitised_wider_use {
            errors.push(FieldError::new(
                "sanitised_wider_use",
                "より広い利用を許可できるのは報告した事業者だけです",
                "only the reporting operator grants wider use",
            ));
        }
        replace(&mut next.sanitised_wider_use, self.sanitised_wider_use);
        check_content(&next, &mut errors);
        errors.into_result(next)
    }
}

/// The error for a relay that would loosen the scope it received.
pub fn loosening_error(field: &str, previous: Tlp, asked: Tlp) -> FieldError {
    FieldError::new(
        field,
        format!("共有範囲を緩めることはできません（{} → {}）", previous.code(), asked.code()),
        format!("cannot loosen the sharing scope ({} -> {})", previous.code(), asked.code()),
    )
}

fn require<T>(errors: &mut ValidationErrors, field: &str, value: Option<T>) -> Option<T> {
    if value.is_none() {
        errors.push(FieldError::required(field));
    }
    value
}

fn replace<T>(slot: &mut T, value: Option<T>) {
    if let Some(v) = value {
        *slot = v;
    }
}

/// Checks that hold for every rendition: time order and size limits.
/// Years a report's times may carry: STIX, PostgreSQL and every reader handle these.
const YEARS: std::ops::RangeInclusive<i32> = 1900..=9999;

/// How far ahead of this server's clock a sender's clock may run.
const CLOCK_SKEW: chrono::Duration = chrono::Duration::minutes(10);

/// Every time on the form lies in [`YEARS`]; what a report says happened (discovery,
/// occurrence, recovery, the timeline) lies in the past, and only a planned press release
/// may lie ahead. One error per field.
fn check_times(c: &ReportContent, errors: &mut ValidationErrors) {
    use chrono::Datelike;
    let latest = chrono::Utc::now() + CLOCK_SKEW;
    let mut times: Vec<(String, Option<Time>, bool)> = vec![
        ("summary.discovered_at".into(), c.summary.discovered_at, true),
        ("summary.occurred_at".into(), c.summary.occurred_at, true),
        ("impact.recovered_at".into(), c.impact.recovered_at, true),
        ("press.at".into(), c.press.as_ref().and_then(|p| p.at), false),
    ];
    times.extend(c.timeline.iter().enumerate().map(|(i, t)| (format!("timeline[{i}].at"), Some(t.at), true)));
    for (field, t, happened) in times {
        let Some(t) = t else { continue };
        // STIX and PostgreSQL hold times in UTC: judge the year there.
        if !YEARS.contains(&t.naive_utc().year()) {
            errors.push(FieldError::new(
                field,
                "日時は 1900 年から 9999 年の間で指定してください",
                "times must lie between the years 1900 and 9999",
            ));
        } else if happened && t > latest {
            errors.push(FieldError::new(field, "未来の日時は指定できません", "must not lie in the future"));
        }
    }
}

fn check_content(c: &ReportContent, errors: &mut ValidationErrors) {
    check_times(c, errors);
    if let (Some(occurred), Some(discovered)) = (c.summary.occurred_at, c.summary.discovered_at) {
        if occurred > discovered {
            errors.push(FieldError::new(
                "summary.occurred_at",
                "発生日時が判明日時より後になっています",
                "occurred_at is after discovered_at",
            ));
        }
    }
    if let (Some(recovered), Some(occurred)) = (c.impact.recovered_at, c.summary.occurred_at) {
        if recovered < occurred {
            errors.push(FieldError::new(
                "impact.recovered_at",
                "復旧日時が発生日時より前になっています",
                "recovered_at is before occurred_at",
            ));
        }
    }
    for (field, len) in [
        ("timeline", c.timeline.len()),
        ("causes", c.causes.len()),
        ("notified_parties", c.notified_parties.len()),
        ("extra_recipient_org_ids", c.extra_recipient_org_ids.len()),
    ] {
        if len > MAX_LIST {
            errors.push(FieldError::new(
                field,
                format!("{MAX_LIST}件を超えています"),
                format!("has more than {MAX_LIST} entries"),
            ));
        }
    }
    c.check_text_lengths(errors);
}

impl FreeText for ReportContent {
    fn for_each_text_mut(&mut self, mut f: impl FnMut(&str, &mut String)) {
        let mut opt = |path: &str, v: &mut Option<String>| {
            if let Some(s) = v.as_mut() {
                f(path, s);
            }
        };
        opt("tlp_note", &mut self.tlp_note);
        opt("operator_name", &mut self.operator_name);
        opt("summary.description", &mut self.summary.description);
        opt("summary.occurred_note", &mut self.summary.occurred_note);
        opt("summary.affected_system", &mut self.summary.affected_system);
        opt("impact.notes", &mut self.impact.notes);
        opt("lessons", &mut self.lessons);
        if let Some(p) = self.press.as_mut() {
            opt("press.title", &mut p.title);
        }
        if let Some(c) = self.sender_contact.as_mut() {
            opt("sender_contact.department", &mut c.department);
            opt("sender_contact.name", &mut c.name);
            opt("sender_contact.phone", &mut c.phone);
            opt("sender_contact.fax", &mut c.fax);
            opt("sender_contact.email", &mut c.email);
        }
        for (i, e) in self.timeline.iter_mut().enumerate() {
            f(&format!("timeline[{i}].text"), &mut e.text);
        }
        for (i, p) in self.notified_parties.iter_mut().enumerate() {
            f(&format!("notified_parties[{i}]"), p);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(json: serde_json::Value) -> ReportInput {
        serde_json::from_value(json).unwrap()
    }

    fn minimal() -> serde_json::Value {
        serde_json::json!({
            "route": "direct", "statutory": false, "tlp": "AMBER",
            "has_attachments": false, "sector": "electricity"
        })
    }

    #[test]
    fn names_every_missing_required_field() {
        let err = input(serde_json::json!({})).into_new_report().unwrap_err();
        let fields: Vec<&str> = err.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["route", "statutory", "tlp", "has_attachments", "sector"]);
    }

    #[test]
    fn refuses_anonymised_statutory() {
        let mut j = minimal();
        j["route"] = "anonymised".into();
        j["statutory"] = true.into();
        let err = input(j).into_new_report().unwrap_err();
        assert_eq!(err.0[0].field, "route");
    }

    #[test]
    fn refuses_occurred_after_discovered() {
        let mut j = minimal();
        j["summary"] = serde_json::json!({
            "discovered_at": "2026-01-01T00:00:00+09:00",
            "occurred_at": "2026-01-02T00:00:00+09:00"
        });
        let err = input(j).into_new_report().unwrap_err();
        assert_eq!(err.0[0].field, "summary.occurred_at");
    }

    #[test]
    fn refuses_a_recovery_in_the_future_but_not_a_planned_press_release() {
        let ahead = (chrono::Utc::now() + chrono::Duration::days(2)).to_rfc3339();
        let mut j = minimal();
        j["impact"] = serde_json::json!({"recovered_at": ahead});
        let err = input(j).into_new_report().unwrap_err();
        assert_eq!(err.0.iter().map(|e| e.field.as_str()).collect::<Vec<_>>(), ["impact.recovered_at"]);
        let mut j = minimal();
        j["press"] = serde_json::json!({"status": "planned", "at": ahead});
        assert!(input(j).into_new_report().is_ok(), "a press release may be planned ahead");
    }

    #[test]
    fn forward_may_tighten_but_not_loosen() {
        let report = input(minimal()).into_new_report().unwrap();
        let tightened = input(serde_json::json!({"tlp": "RED"})).apply_to(&report.content).unwrap();
        assert_eq!(tightened.tlp, Tlp::Red);
        let err = input(serde_json::json!({"tlp": "GREEN"})).apply_to(&report.content).unwrap_err();
        assert_eq!(err.0[0].field, "tlp");
    }
}
