//! Statistics (domain.md §13): chains by year, sector, event type, cause, route, TLP and
//! severity, and the time from discovery to first report, as SVG charts with tables beside
//! them, for a year or all years, and as CSV. The counting is the application layer's
//! (`kyoyu_app::statistics`), over the reader's `ReadScope`; exercises are left out.

use crate::call::Names;
use crate::export::CsvFile;
use crate::i18n::{label_of, Lang};
use crate::layout::{ok, page, WebResult};
use crate::session::Web;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use kyoyu_api::error::ApiError;
use kyoyu_api::AppState;
use kyoyu_app::statistics::{self as ops, Statistics, StatisticsQuery, Tally};
use kyoyu_domain::codes::{Cause, EventType, Route, Severity};
use maud::{html, Markup};
use std::collections::HashMap;

pub fn routes() -> Router<AppState> {
    Router::new().route("/statistics", get(statistics)).route("/statistics.csv", get(export_csv))
}

/// The hour bands' labels, in the order of `kyoyu_app::statistics::HOUR_BANDS`.
const BAND_LABELS: &[(&str, &str, &str)] = &[
    ("1h", "1時間以内", "within 1 h"),
    ("6h", "1〜6時間", "1–6 h"),
    ("24h", "6〜24時間", "6–24 h"),
    ("72h", "1〜3日", "1–3 days"),
    ("over_72h", "3日超", "over 3 days"),
];

/// One section of the page (and of the CSV): its title and its labelled counts.
struct Section {
    title: String,
    rows: Vec<(String, usize)>,
}

/// Every section, each key shown by its name.
fn sections(lang: Lang, s: &Statistics, names: &Names) -> Vec<Section> {
    let unset = lang.t("未記入", "not given").to_string();
    let or_unset = |label: String, key: &str| if key.is_empty() { unset.clone() } else { label };
    let rows = |tallies: &[Tally], label: &dyn Fn(&str) -> String| {
        tallies.iter().map(|t| (or_unset(label(&t.key), &t.key), t.count)).collect::<Vec<_>>()
    };
    let band = |key: &str| {
        BAND_LABELS.iter().find(|b| b.0 == key).map(|b| lang.t(b.1, b.2).to_string()).unwrap_or(key.to_string())
    };
    let section = |ja: &str, en: &str, rows: Vec<(String, usize)>| Section { title: lang.t(ja, en).to_string(), rows };
    vec![
        section("年別", "By year", rows(&s.by_year, &|k| k.to_string())),
        section("分野別", "By sector", rows(&s.by_sector, &|k| names.sector(k, lang))),
        section("事象の分類別", "By event type", rows(&s.by_event_type, &|k| label_of(EventType::parse, k, lang))),
        section(
            "原因別（複数計上）",
            "By cause (a chain may count under several)",
            rows(&s.by_cause, &|k| label_of(Cause::parse, k, lang)),
        ),
        section("連絡経路別", "By route", rows(&s.by_route, &|k| label_of(Route::parse, k, lang))),
        section("TLP 別", "By TLP", rows(&s.by_tlp, &|k| format!("TLP:{k}"))),
        section("重要度別", "By severity", rows(&s.by_severity, &|k| label_of(Severity::parse, k, lang))),
        section("判明から第1報までの時間", "Time from discovery to first report", rows(&s.hours_to_report, &band)),
    ]
}

/// The coordinator's home: the last 30 days by sector, severity and route, side by side.
pub fn recent(lang: Lang, stats: Option<&Statistics>, names: &Names) -> Markup {
    let Some(stats) = stats else {
        return html! {
            h2 { (lang.t("過去30日の報告", "Reports in the last 30 days")) }
            p.muted { (lang.t("集計中です。しばらくしてから再読み込みしてください。", "Being counted; reload in a moment.")) }
        };
    };
    let all = sections(lang, stats, names);
    let wanted = [lang.t("分野別", "By sector"), lang.t("重要度別", "By severity"), lang.t("連絡経路別", "By route")];
    html! {
        h2 { (lang.t("過去30日の報告", "Reports in the last 30 days")) }
        p.muted { (lang.t("閲覧できる連絡（チェーン）を第1報で数えています（およそ1分ごとに集計）。", "Chains you may read, each counted by its first report (counted about every minute).")) " " (lang.t("対象", "Chains")) ": " strong { (stats.chains) } " · " a href="/statistics" { (lang.t("統計", "Statistics")) } }
        div.recent {
            @for s in all.iter().filter(|s| wanted.contains(&s.title.as_str())) {
                figure {
                    (bar_chart(&s.title, &s.rows))
                    figcaption { (s.title) }
                    table.sr-only {
                        thead { tr { th { (s.title) } th { (lang.t("件数", "Chains")) } } }
                        tbody { @for (label, n) in &s.rows { tr { td { (label) } td.num { (n) } } } }
                    }
                }
            }
        }
    }
}

/// The year chooser: every year the reader has chains in, or all years.
fn year_form(lang: Lang, q: &StatisticsQuery, years: &[Tally]) -> Markup {
    html! {
        form.actions method="get" action="/statistics" {
            label for="year" { (lang.t("年", "Year")) }
            select #year name="year" {
                option value="" selected[q.year.is_none()] { (lang.t("すべての年", "All years")) }
                @for y in years.iter().rev() {
                    option value=(y.key) selected[q.year.map(|v| v.to_string()) == Some(y.key.clone())] { (y.key) }
                }
            }
            button.secondary type="submit" { (lang.t("表示", "Show")) }
            a.button.secondary href={ "/statistics.csv" @if let Some(y) = q.year { "?year=" (y) } } { (lang.t("CSV で保存", "Download CSV")) }
        }
    }
}

/// The page's query: a year, or all years when none (or the chooser's blank) is given.
fn query_of(pairs: &HashMap<String, String>) -> Result<StatisticsQuery, ApiError> {
    let year = match pairs.get("year").map(|y| y.trim()).filter(|y| !y.is_empty()) {
        Some(y) => {
            Some(y.parse().map_err(|_| ApiError::field("year", "年を数字で指定してください", "must be a year"))?)
        }
        None => None,
    };
    Ok(StatisticsQuery { year, ..Default::default() })
}

pub async fn statistics(
    State(state): State<AppState>,
    web: Web,
    Query(pairs): Query<HashMap<String, String>>,
) -> WebResult {
    let lang = web.lang;
    let q = query_of(&pairs)?;
    let stats = ops::statistics(&state.app, &web.caller, &q).await.map_err(ApiError::from)?;
    // The chooser offers every year, whichever one is shown.
    let all_years = match q.year {
        Some(_) => {
            ops::statistics(&state.app, &web.caller, &StatisticsQuery::default()).await.map_err(ApiError::from)?.by_year
        }
        None => stats.by_year.clone(),
    };
    let names = Names::load(&state).await?;
    let body = html! {
        (year_form(lang, &q, &all_years))
        p.muted { (lang.t(
            "閲覧できる連絡（チェーン）だけを数えています。訓練・演習は含みません。各連絡は第1報で数えます。",
            "Only the chains you may read are counted; exercises are left out. Each chain counts once, by its first report."
        )) " " (lang.t("対象", "Chains")) ": " strong { (stats.chains) } }
        @for s in sections(lang, &stats, &names) { (section(lang, &s)) }
        p { (lang.t("中央値", "Median")) ": " (stats.median_hours_to_report.map(|h| format!("{h:.1} h")).unwrap_or_else(|| "—".into())) }
    };
    ok(page(&web, lang.t("統計", "Statistics"), body))
}

/// The same counts as CSV: section, item, chains.
pub async fn export_csv(
    State(state): State<AppState>,
    web: Web,
    Query(pairs): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let lang = web.lang;
    let q = query_of(&pairs)?;
    let stats = ops::statistics(&state.app, &web.caller, &q).await?;
    let names = Names::load(&state).await?;
    let mut out = CsvFile::new(&[lang.t("区分", "Section"), lang.t("項目", "Item"), lang.t("件数", "Chains")])?;
    for s in sections(lang, &stats, &names) {
        for (label, n) in &s.rows {
            out.row([s.title.as_str(), label.as_str(), &n.to_string()])?;
        }
    }
    let name = match q.year {
        Some(y) => format!("kyoyu-statistics-{y}.csv"),
        None => "kyoyu-statistics.csv".to_string(),
    };
    out.download(&name)
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

fn section(lang: Lang, s: &Section) -> Markup {
    html! {
        h2 { (s.title) }
        @if s.rows.iter().all(|(_, n)| *n == 0) {
            p.muted { (lang.t("該当する連絡はありません", "No chains to count")) }
        } @else {
        div.chart-row {
            (bar_chart(&s.title, &s.rows))
            table {
                thead { tr { th { (s.title) } th { (lang.t("件数", "Chains")) } } }
                tbody { @for (label, n) in &s.rows { tr { td { (label) } td.num { (n) } } } }
            }
        }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_largest() {
        let svg = bar_chart("t", &[("a".into(), 2), ("b".into(), 1)]).into_string();
        assert!(svg.contains(r#"width="300""#), "{svg}");
        assert!(svg.contains(r#"width="150""#), "{svg}");
    }
}
