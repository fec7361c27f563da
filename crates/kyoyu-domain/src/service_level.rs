//! Service-maintenance levels (domain.md §4): whether a disruption deviates, judged from the
//! structured impact figures of a report against the sector's rule.

use crate::codes::SystemStatus;
use serde::{Deserialize, Serialize};

/// What a report says of the disruption, in numbers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImpactFigures {
    /// The critical service concerned, as named in the rule (e.g. 電気通信役務, 放送).
    pub service: Option<String>,
    pub affected_users: Option<i64>,
    pub duration_minutes: Option<i64>,
    pub interrupted_kw: Option<i64>,
    pub affected_households: Option<i64>,
    pub broadcast_stop_minutes: Option<i64>,
}

/// A rule's thresholds; those left `None` do not apply, and none at all means any disruption.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Thresholds {
    pub min_users: Option<i64>,
    pub min_duration_minutes: Option<i64>,
    pub min_interrupted_kw: Option<i64>,
    pub min_households: Option<i64>,
}

/// The system's judgement, kept with the rule and statute it used. It never replaces the
/// sender's own yes/no answer (`impact.service_level_deviation`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Evaluation {
    pub deviated: bool,
    pub rule: String,
    pub service: String,
    pub condition_ja: String,
    pub condition_en: String,
    pub statute: String,
}

fn at_least(value: Option<i64>, min: Option<i64>) -> bool {
    match min {
        None => true,
        Some(m) => value.is_some_and(|v| v >= m),
    }
}

/// Whether the figures cross the thresholds (別紙2; 注2 where there are none).
pub fn deviates(t: &Thresholds, f: &ImpactFigures, status: Option<SystemStatus>) -> bool {
    let none_set = t.min_users.is_none()
        && t.min_duration_minutes.is_none()
        && t.min_interrupted_kw.is_none()
        && t.min_households.is_none();
    if none_set {
        let disrupted = matches!(status, Some(SystemStatus::Stopped | SystemStatus::Partial));
        let numbers =
            [f.affected_users, f.duration_minutes, f.interrupted_kw, f.affected_households, f.broadcast_stop_minutes];
        return disrupted || numbers.iter().any(|n| n.is_some_and(|v| v > 0));
    }
    let duration = f.broadcast_stop_minutes.or(f.duration_minutes);
    at_least(f.affected_users, t.min_users)
        && at_least(duration, t.min_duration_minutes)
        && at_least(f.interrupted_kw, t.min_interrupted_kw)
        && at_least(f.affected_households, t.min_households)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figures(users: i64, minutes: i64) -> ImpactFigures {
        ImpactFigures { affected_users: Some(users), duration_minutes: Some(minutes), ..Default::default() }
    }

    #[test]
    fn telecom_needs_both_users_and_duration() {
        let t = Thresholds { min_users: Some(30_000), min_duration_minutes: Some(120), ..Default::default() };
        assert!(deviates(&t, &figures(30_000, 120), None));
        assert!(!deviates(&t, &figures(29_999, 600), None));
        assert!(!deviates(&t, &figures(50_000, 119), None));
        assert!(!deviates(&t, &ImpactFigures::default(), Some(SystemStatus::Stopped)));
    }

    #[test]
    fn electricity_and_gas() {
        let e = Thresholds { min_interrupted_kw: Some(100_000), min_duration_minutes: Some(10), ..Default::default() };
        let f = ImpactFigures { interrupted_kw: Some(120_000), duration_minutes: Some(10), ..Default::default() };
        assert!(deviates(&e, &f, None));
        let g = Thresholds { min_households: Some(30), ..Default::default() };
        assert!(!deviates(&g, &ImpactFigures { affected_households: Some(29), ..Default::default() }, None));
        assert!(deviates(&g, &ImpactFigures { affected_households: Some(30), ..Default::default() }, None));
    }

    #[test]
    fn without_thresholds_any_disruption_deviates() {
        let t = Thresholds::default();
        assert!(deviates(&t, &ImpactFigures::default(), Some(SystemStatus::Stopped)));
        assert!(!deviates(&t, &ImpactFigures::default(), Some(SystemStatus::Unaffected)));
        assert!(deviates(&t, &figures(0, 5), None));
    }

    #[test]
    fn broadcast_uses_stop_minutes() {
        let t = Thresholds { min_duration_minutes: Some(15), ..Default::default() };
        let f = ImpactFigures { broadcast_stop_minutes: Some(15), duration_minutes: Some(1), ..Default::default() };
        assert!(deviates(&t, &f, None));
    }
}
