//! Statistics (domain.md §13): chains by year, sector, event type, cause and route, and the
//! time from discovery to first report, as SVG charts with tables beside them. Only chains
//! the reader may read are counted (the reader's `ReadScope`), and exercises are left out.

use crate::i18n::{label_of, Lang};
use crate::layout::{ok, page, WebResult};
use crate::session::Web;
use axum::extract::State;
use axum::routing::get;
use axum::Router;
use kyoyu_api::AppState;
use kyoyu_domain::codes::{Cause, EventType, Route};
use kyoyu_store::{ReportFilter, ReportRow, MAX_PAGE};
use maud::{html, Markup};
use std::collections::BTreeMap;

pub fn routes() -> Router<AppState> {
    Router::new().route("/statistics", get(statistics))
}

/// The first readable rendition of each chain the reader may read, exercises left out.
async fn readable_chains(state: &AppState, web: &Web) -> Result<Vec<ReportRow>, kyoyu_api::error::ApiError> {
    let scope = web.caller.scope();
    let mut first: BTreeMap<String, ReportRow> = BTreeMap::new();
    let mut offset = 0;
    loop {
        let rows = state.store.list_reports(&scope, &ReportFilter::default(), MAX_PAGE, offset).await?;
        let n = rows.len() as i64;
        for r in rows.into_iter().filter(|r| !r.chain.exercise) {
            let keep = first.get(&r.chain.id).is_none_or(|k| (r.sequence, &r.created_at) < (k.sequence, &k.created_at));
            if keep {
                first.insert(r.chain.id.clone(), r);
            }
        }
        if n < MAX_PAGE {
            break;
        }
        offset += MAX_PAGE;
    }
    Ok(first.into_values().collect())
}

/// Counts by key, in key order.
fn tally<K: Ord>(keys: impl Iterator<Item = K>) -> BTreeMap<K, usize> {
    let mut out = BTreeMap::new();
    for k in keys {
        *out.entry(k).or_default() += 1;
    }
    out
}

/// Hours from discovery to the first report, in bands.
const BANDS: &[(f64, &str, &str)] = &[
    (1.0, "1時間以内", "within 1 h"),
    (6.0, "1〜6時間", "1–6 h"),
    (24.0, "6〜24時間", "6–24 h"),
    (72.0, "1〜3日", "1–3 days"),
    (f64::INFINITY, "3日超", "over 3 days"),
];

fn hours_to_report(r: &ReportRow) -> Option<f64> {
    let discovered = r.content.summary.discovered_at?;
    let sent = chrono::DateTime::parse_from_rfc3339(&r.created_at).ok()?;
    Some((sent - discovered).num_seconds().max(0) as f64 / 3600.0)
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

/// A horizontal bar chart; bars scale to the largest count.
pub fn bar_chart(title: &str, rows: &[(String, usize)]) -> Markup {
    let max = rows.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
    let (label_w, bar_w, row_h) = (220.0, 300.0, 24.0);
    let height = row_h * rows.len().max(1) as f64 + 10.0;
    html! {
        svg.chart xmlns="http://www.w3.org/2000/svg" viewBox={ "0 0 " (label_w + bar_w + 50.0) " " (height) } role="img" aria-label=(title) {
            title { (title) }
            @for (i, (label, n)) in rows.iter().enumerate() {
                @let y = 5.0 + row_h * i as f64;
                text x=(label_w - 6.0) y=(y + 16.0) text-anchor="end" { (label) }
                rect.bar x=(label_w) y=(y + 3.0) width=(bar_w * *n as f64 / max as f64) height=(row_h - 6.0) {}
                text x=(label_w + bar_w * *n as f64 / max as f64 + 4.0) y=(y + 16.0) { (n) }
            }
        }
    }
}

fn section(lang: Lang, title_ja: &str, title_en: &str, rows: &[(String, usize)]) -> Markup {
    let title = lang.t(title_ja, title_en);
    html! {
        h2 { (title) }
        @if rows.iter().all(|(_, n)| *n == 0) {
            p.muted { (lang.t("該当する連絡はありません", "No chains to count")) }
        } @else {
        div.chart-row {
            (bar_chart(title, rows))
            table {
                thead { tr { th { (title) } th { (lang.t("件数", "Chains")) } } }
                tbody { @for (label, n) in rows { tr { td { (label) } td.num { (n) } } } }
            }
        }
        }
    }
}

fn labelled<K: Ord>(counts: BTreeMap<K, usize>, label: impl Fn(&K) -> String) -> Vec<(String, usize)> {
    counts.into_iter().map(|(k, n)| (label(&k), n)).collect()
}

pub async fn statistics(State(state): State<AppState>, web: Web) -> WebResult {
    let chains = readable_chains(&state, &web).await?;
    let lang = web.lang;
    let year = tally(chains.iter().map(|r| {
        let at = chrono::DateTime::parse_from_rfc3339(&r.created_at).map(|t| t.with_timezone(&chrono::Utc));
        at.map(|t| kyoyu_domain::identifier::numbering_year(t).to_string()).unwrap_or_default()
    }));
    let sectors = state.store.list_sectors().await?;
    let sector_name = |code: &String| {
        sectors
            .iter()
            .find(|s| &s.code == code)
            .map(|s| lang.t(&s.name_ja, &s.name_en).to_string())
            .unwrap_or(code.clone())
    };
    let by_sector = tally(chains.iter().map(|r| r.chain.sector.clone()));
    let by_event = tally(chains.iter().map(|r| r.content.event_type.map(|e| e.code()).unwrap_or("")));
    let by_cause = tally(chains.iter().flat_map(|r| r.content.causes.iter().map(|c| c.code())));
    let by_route = tally(chains.iter().map(|r| r.chain.route.code()));
    let hours: Vec<f64> = chains.iter().filter_map(hours_to_report).collect();
    let bands: Vec<(String, usize)> = BANDS
        .iter()
        .enumerate()
        .map(|(i, (limit, ja, en))| {
            let low = if i == 0 { f64::NEG_INFINITY } else { BANDS[i - 1].0 };
            (lang.t(ja, en).to_string(), hours.iter().filter(|h| **h > low && **h <= *limit).count())
        })
        .collect();
    let unset = lang.t("未記入", "not given").to_string();
    let body = html! {
        p.muted { (lang.t(
            "閲覧できる連絡（チェーン）だけを数えています。訓練・演習は含みません。各連絡は第1報で数えます。",
            "Only the chains you may read are counted; exercises are left out. Each chain counts once, by its first report."
        )) " " (lang.t("対象", "Chains")) ": " strong { (chains.len()) } }
        (section(lang, "年別", "By year", &labelled(year, |y| y.clone())))
        (section(lang, "分野別", "By sector", &labelled(by_sector, sector_name)))
        (section(lang, "事象の分類別", "By event type", &labelled(by_event, |c| if c.is_empty() { unset.clone() } else { label_of(EventType::parse, c, lang) })))
        (section(lang, "原因別（複数計上）", "By cause (a chain may count under several)", &labelled(by_cause, |c| label_of(Cause::parse, c, lang))))
        (section(lang, "連絡経路別", "By route", &labelled(by_route, |c| label_of(Route::parse, c, lang))))
        (section(lang, "判明から第1報までの時間", "Time from discovery to first report", &bands))
        p { (lang.t("中央値", "Median")) ": " (median(hours).map(|h| format!("{h:.1} h")).unwrap_or_else(|| "—".into())) }
    };
    ok(page(&web, lang.t("統計", "Statistics"), body))
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
    fn bars_scale_to_the_largest() {
        let svg = bar_chart("t", &[("a".into(), 2), ("b".into(), 1)]).into_string();
        assert!(svg.contains(r#"width="300""#), "{svg}");
        assert!(svg.contains(r#"width="150""#), "{svg}");
    }
}
