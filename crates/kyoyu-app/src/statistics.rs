//! Statistics (domain.md §13) of the chains the caller may read: by year, sector, event type,
//! cause, route, TLP and severity, and the time from discovery to the first report. Each
//! chain counts once, by its first readable rendition, and exercises are left out. The
//! counting runs over the caller's `ReadScope` in the store, so a count never includes what
//! the caller may not read.

use crate::{App, AppResult, Caller};
use kyoyu_domain::identifier::numbering_year;
use kyoyu_store::ChainFirst;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Which chains to count: those first sent in a JST calendar year, or in a period of JST days.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct StatisticsQuery {
    /// A calendar year (JST) / 年
    pub year: Option<i32>,
    /// From this JST day (YYYY-MM-DD) / この日から
    pub since: Option<String>,
    /// To this JST day, included (YYYY-MM-DD) / この日まで
    pub until: Option<String>,
}

/// How many chains fall under one key: a code (sector, event type, cause, route, TLP,
/// severity), a year, or a band of hours; "" where the report left it unset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Tally {
    pub key: String,
    pub count: usize,
}

/// The counts, each list in key order (the hour bands in their own order).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Statistics {
    /// Chains counted.
    pub chains: usize,
    pub by_year: Vec<Tally>,
    pub by_sector: Vec<Tally>,
    pub by_event_type: Vec<Tally>,
    /// A chain counts under each of its causes.
    pub by_cause: Vec<Tally>,
    pub by_route: Vec<Tally>,
    pub by_tlp: Vec<Tally>,
    pub by_severity: Vec<Tally>,
    /// Hours from discovery to the first report, in the bands of [`HOUR_BANDS`].
    pub hours_to_report: Vec<Tally>,
    pub median_hours_to_report: Option<f64>,
}

/// Upper limits (hours) of the bands of time from discovery to the first report, and their
/// keys.
pub const HOUR_BANDS: &[(f64, &str)] =
    &[(1.0, "1h"), (6.0, "6h"), (24.0, "24h"), (72.0, "72h"), (f64::INFINITY, "over_72h")];

/// The statistics of the chains the caller may read, first sent in the asked period.
pub async fn statistics(app: &App, caller: &Caller, q: &StatisticsQuery) -> AppResult<Statistics> {
    let (since, until) = period(q)?;
    let chains = app.store.chain_firsts(&caller.scope(), (since.as_deref(), until.as_deref()), true).await?;
    Ok(Statistics {
        chains: chains.len(),
        by_year: tally(chains.iter().map(|c| year_of(c).map(|y| y.to_string()).unwrap_or_default())),
        by_sector: tally(chains.iter().map(|c| c.sector.clone())),
        by_event_type: tally(chains.iter().map(|c| code(c.event_type.map(|e| e.code())))),
        by_cause: tally(chains.iter().flat_map(causes)),
        by_route: tally(chains.iter().map(|c| c.route.code().to_string())),
        by_tlp: tally(chains.iter().map(|c| c.tlp.code().to_string())),
        by_severity: tally(chains.iter().map(|c| code(c.severity.map(|s| s.code())))),
        hours_to_report: bands(chains.iter().filter_map(hours_to_report)),
        median_hours_to_report: median(chains.iter().filter_map(hours_to_report).collect()),
    })
}

/// How long the last 30 days' counts stay fresh for one read scope, at least; a count that
/// took long stays fresh ten times as long as it took, so counting costs at most a tenth of
/// the server's time.
pub const RECENT_KEPT: Duration = Duration::from_secs(60);

/// The last 30 days' counts per read scope (organisation and need-to-know), counted in the
/// background: at a million items counting takes seconds (bench/RESULTS.md), so a page never
/// waits for it. A page gets what was last counted, however old, and a count older than
/// [`RECENT_KEPT`] starts a new one; the first visit gets none yet.
#[derive(Default)]
pub struct RecentCache(Mutex<HashMap<(String, bool), Recent>>);

#[derive(Default)]
struct Recent {
    /// When the last count finished, how long it took, and what it found.
    counted: Option<(Instant, Duration, Statistics)>,
    counting: bool,
}

/// The coordinator's home charts: the last 30 days' chains by sector, severity and route
/// (nothing is read from the content), as last counted; `None` until the first count is done.
pub fn last_30_days(app: &App, caller: &Caller) -> Option<Statistics> {
    let scope = caller.scope();
    let key = (scope.org_id().to_string(), scope.need_to_know());
    // A cache is only a cache: one a panicking thread left behind is still good to use.
    let mut cache = app.recent.0.lock().unwrap_or_else(PoisonError::into_inner);
    let entry = cache.entry(key.clone()).or_default();
    let fresh = entry.counted.as_ref().is_some_and(|(at, took, _)| at.elapsed() < RECENT_KEPT.max(*took * 10));
    if !fresh && !entry.counting {
        entry.counting = true;
        let (app, caller) = (app.clone(), caller.clone());
        tokio::spawn(async move {
            let started = Instant::now();
            let counted = count_last_30_days(&app, &caller).await;
            let mut cache = app.recent.0.lock().unwrap_or_else(PoisonError::into_inner);
            let entry = cache.entry(key).or_default();
            entry.counting = false;
            match counted {
                Ok(stats) => entry.counted = Some((Instant::now(), started.elapsed(), stats)),
                Err(e) => tracing::warn!(error = %e, "counting the last 30 days"),
            }
        });
    }
    entry.counted.as_ref().map(|(_, _, stats)| stats.clone())
}

async fn count_last_30_days(app: &App, caller: &Caller) -> AppResult<Statistics> {
    let since = kyoyu_store::timestamp(chrono::Utc::now() - chrono::Duration::days(30));
    let chains = app.store.chain_firsts(&caller.scope(), (Some(&since), None), false).await?;
    Ok(Statistics {
        chains: chains.len(),
        by_year: Vec::new(),
        by_sector: tally(chains.iter().map(|c| c.sector.clone())),
        by_event_type: tally(chains.iter().map(|c| code(c.event_type.map(|e| e.code())))),
        by_cause: Vec::new(),
        by_route: tally(chains.iter().map(|c| c.route.code().to_string())),
        by_tlp: tally(chains.iter().map(|c| c.tlp.code().to_string())),
        by_severity: tally(chains.iter().map(|c| code(c.severity.map(|s| s.code())))),
        hours_to_report: Vec::new(),
        median_hours_to_report: None,
    })
}

/// The period as the UTC times the store compares: a year, or JST days (not both).
fn period(q: &StatisticsQuery) -> AppResult<(Option<String>, Option<String>)> {
    if let Some(year) = q.year {
        if q.since.is_some() || q.until.is_some() {
            let e = kyoyu_domain::FieldError::new(
                "year",
                "期間と同時には指定できません",
                "may not be given with since or until",
            );
            return Err(e.into());
        }
        if !(1900..=9999).contains(&year) {
            return Err(kyoyu_domain::FieldError::new(
                "year",
                "1900〜9999 の年を指定してください",
                "must be a year from 1900 to 9999",
            )
            .into());
        }
        let (first, last) = (format!("{year}-01-01"), format!("{year}-12-31"));
        return Ok(crate::reads::jst_days(Some(&first), Some(&last))?);
    }
    Ok(crate::reads::jst_days(q.since.as_deref(), q.until.as_deref())?)
}

fn code(c: Option<&str>) -> String {
    c.unwrap_or_default().to_string()
}

fn causes(c: &ChainFirst) -> Vec<String> {
    c.causes.iter().map(|c| c.code().to_string()).collect()
}

fn year_of(c: &ChainFirst) -> Option<i32> {
    let at = chrono::DateTime::parse_from_rfc3339(&c.created_at).ok()?;
    Some(numbering_year(at.with_timezone(&chrono::Utc)))
}

/// Counts by key, in key order.
fn tally(keys: impl Iterator<Item = String>) -> Vec<Tally> {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for k in keys {
        *counts.entry(k).or_default() += 1;
    }
    counts.into_iter().map(|(key, count)| Tally { key, count }).collect()
}

fn hours_to_report(c: &ChainFirst) -> Option<f64> {
    let discovered = c.discovered_at?;
    let sent = chrono::DateTime::parse_from_rfc3339(&c.created_at).ok()?;
    Some((sent - discovered).num_seconds().max(0) as f64 / 3600.0)
}

fn bands(hours: impl Iterator<Item = f64>) -> Vec<Tally> {
    let hours: Vec<f64> = hours.collect();
    HOUR_BANDS
        .iter()
        .enumerate()
        .map(|(i, (limit, key))| {
            let low = if i == 0 { f64::NEG_INFINITY } else { HOUR_BANDS[i - 1].0 };
            Tally { key: key.to_string(), count: hours.iter().filter(|h| **h > low && **h <= *limit).count() }
        })
        .collect()
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(v[n / 2]),
        _ => Some((v[n / 2 - 1] + v[n / 2]) / 2.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even() {
        assert_eq!(median(vec![]), None);
        assert_eq!(median(vec![3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), Some(2.5));
    }

    #[test]
    fn hours_fall_in_one_band_each() {
        let counts: Vec<usize> = bands([0.5, 1.0, 1.5, 30.0, 500.0].into_iter()).iter().map(|t| t.count).collect();
        assert_eq!(counts, [2, 1, 0, 1, 1]);
    }

    #[test]
    fn a_year_is_a_jst_calendar_year_and_excludes_a_period() {
        let (since, until) = period(&StatisticsQuery { year: Some(2026), ..Default::default() }).unwrap();
        assert_eq!(since.as_deref(), Some("2025-12-31T15:00:00.000000Z"));
        assert_eq!(until.as_deref(), Some("2026-12-31T15:00:00.000000Z"));
        let both = StatisticsQuery { year: Some(2026), since: Some("2026-01-01".into()), until: None };
        assert!(period(&both).is_err());
    }
}
