//! The report list: filters, search by text or identifier, a total, keyset pages, and a CSV
//! export of what the list shows. Every row comes from the application layer under the
//! caller's read scope, so the total, the pages and the export hold only what it may read.

use super::reports::table_with;
use crate::call::Names;
use crate::export::CsvFile;
use crate::form::FormState;
use crate::i18n::{Label, Lang};
use crate::layout::{form_alert, ok, page, WebResult};
use crate::session::Web;
use crate::widgets::{self, f};
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use kyoyu_api::error::ApiError;
use kyoyu_api::AppState;
use kyoyu_app::reads::{jst_days, Page};
use kyoyu_app::reports as ops;
use kyoyu_app::views::ReportView;
use kyoyu_domain::codes::{EventType, ReportStatus, Route};
use kyoyu_domain::{FieldError, Tlp, ValidationErrors};
use kyoyu_store::{Cursor, ReportFilter, MAX_PAGE};
use maud::{html, Markup};

/// The filters of the list, in the order the form shows them.
const FILTERS: [&str; 11] =
    ["q", "sector", "event_type", "tlp", "status", "route", "since", "until", "inbox", "council", "sort"];

/// The most rows one export holds; narrow the filters for more.
pub const MAX_EXPORT: usize = 100_000;

/// The most reports one STIX export holds (each brings its objects); narrow the filters for more.
pub const MAX_STIX_EXPORT: usize = 1_000;

type Pairs = Query<Vec<(String, String)>>;

pub async fn list(State(state): State<AppState>, web: Web, Query(pairs): Pairs) -> WebResult {
    let mut st = FormState::from_pairs(&pairs);
    let names = Names::load(&state).await?;
    let (rows, total, next) = match filter_of(&st) {
        Ok(filter) => {
            let page = Page { limit: MAX_PAGE, offset: 0, after: cursor_of(&st) };
            let list = ops::list_reports(&state.app, &web.caller, &filter, page).await?;
            let total = Total::of(&state, &web, &filter).await?;
            (list.items, total, list.next)
        }
        Err(e) => {
            st.errors = e.0;
            (Vec::new(), Total::default(), None)
        }
    };
    let before: i64 = st.value("n").parse().unwrap_or(0);
    let body = html! {
        (form_alert(web.lang, &st))
        (filter_form(web.lang, &st, &names))
        (summary(web.lang, before, rows.len(), total))
        (table_with(web.lang, &rows, &names, time_heading(web.lang, &st)))
        (pager(web.lang, &st, before + rows.len() as i64, next.as_deref()))
    };
    ok(page(&web, web.t("報告一覧", "Reports"), body))
}

/// The renditions the list shows, as CSV (UTF-8 with a byte-order mark, so spreadsheet
/// software reads the Japanese), every page of them up to [`MAX_EXPORT`].
pub async fn export_csv(State(state): State<AppState>, web: Web, Query(pairs): Pairs) -> Result<Response, ApiError> {
    let filter = filter_of(&FormState::from_pairs(&pairs))?;
    let names = Names::load(&state).await?;
    let mut out = CsvFile::new(&csv_header(web.lang))?;
    each_listed(&state, &web, &filter, MAX_EXPORT, |r| out.row(csv_row(web.lang, r, &names))).await?;
    out.download("kyoyu-reports.csv")
}

/// The renditions the list shows as one STIX 2.1 bundle, up to [`MAX_STIX_EXPORT`] of them.
pub async fn export_stix(State(state): State<AppState>, web: Web, Query(pairs): Pairs) -> Result<Response, ApiError> {
    let filter = filter_of(&FormState::from_pairs(&pairs))?;
    let mut ids = Vec::new();
    each_listed(&state, &web, &filter, MAX_STIX_EXPORT, |r| {
        ids.push(r.id.clone());
        Ok(())
    })
    .await?;
    let bundle = kyoyu_app::exchange::reports_bundle(&state.app, &web.caller, &ids).await?;
    let body = serde_json::to_vec(&bundle).map_err(|e| ApiError::internal("STIX bundle", e))?;
    let headers = [
        ("content-type", "application/stix+json;version=2.1"),
        ("content-disposition", "attachment; filename=\"kyoyu-reports.stix.json\""),
    ];
    Ok((headers, body).into_response())
}

/// Runs `each` over every rendition the list's filters find, page after page (one page in
/// memory at a time), up to `at_most`.
async fn each_listed(
    state: &AppState,
    web: &Web,
    filter: &ReportFilter,
    at_most: usize,
    mut each: impl FnMut(&ReportView) -> Result<(), ApiError>,
) -> Result<(), ApiError> {
    let mut page = Page::first(MAX_PAGE);
    let mut done = 0;
    loop {
        let list = ops::list_reports(&state.app, &web.caller, filter, page.clone()).await?;
        for r in list.items.iter().take(at_most - done) {
            each(r)?;
        }
        done += list.items.len().min(at_most - done);
        match list.next.as_deref().and_then(Cursor::decode) {
            Some(next) if done < at_most => page.after = Some(next),
            _ => return Ok(()),
        }
    }
}

fn csv_header(lang: Lang) -> Vec<&'static str> {
    let both = [
        ("識別番号", "Identifier"),
        ("報数", "No."),
        ("TLP", "TLP"),
        ("重要度", "Severity"),
        ("分野", "Sector"),
        ("事象", "Event"),
        ("送信元", "From"),
        ("宛先", "To"),
        ("状態", "Status"),
        ("日時（JST）", "Sent (JST)"),
    ];
    both.iter().map(|(ja, en)| lang.t(ja, en)).collect()
}

fn csv_row(lang: Lang, r: &ReportView, names: &Names) -> Vec<String> {
    vec![
        r.identifier.clone().unwrap_or_default(),
        r.sequence.to_string(),
        r.content.tlp.code().to_string(),
        r.content.severity.map(|s| s.label(lang)).unwrap_or_default(),
        names.sector(&r.content.sector, lang),
        r.content.event_type.map(|e| e.label(lang)).unwrap_or_default(),
        names.name(r.sender_org_id.as_deref(), lang),
        names.name(Some(&r.receiver_org_id), lang),
        r.status.label(lang),
        super::report_form::shown_time(&r.created_at),
    ]
}

/// The filter the form's values ask for, or the errors naming the fields that are wrong.
fn filter_of(st: &FormState) -> Result<ReportFilter, ValidationErrors> {
    let mut errors = ValidationErrors::default();
    let given = |name: &str| Some(st.value(name).trim().to_string()).filter(|v| !v.is_empty());
    let mut code = |name: &str, parsed: Option<bool>| {
        if parsed == Some(false) {
            errors.push(FieldError::new(name, "選択肢から選んでください", "must be one of the choices"));
        }
    };
    let event_type = given("event_type").map(|v| EventType::parse(&v));
    let tlp = given("tlp").map(|v| Tlp::parse(&v));
    let status = given("status").map(|v| ReportStatus::parse(&v));
    let route = given("route").map(|v| Route::parse(&v));
    code("event_type", event_type.map(|v| v.is_some()));
    code("tlp", tlp.map(|v| v.is_some()));
    code("status", status.map(|v| v.is_some()));
    code("route", route.map(|v| v.is_some()));
    let (since, until) = match jst_days(given("since").as_deref(), given("until").as_deref()) {
        Ok(range) => range,
        Err(e) => {
            errors.0.extend(e.0);
            (None, None)
        }
    };
    let filter = ReportFilter {
        q: given("q"),
        sector: given("sector"),
        event_type: event_type.flatten(),
        tlp: tlp.flatten(),
        status: status.flatten(),
        route: route.flatten(),
        since,
        until,
        inbox: st.value("inbox") == "true",
        via_council: st.value("council") == "true",
        oldest_first: st.value("sort") == "oldest",
        ..Default::default()
    };
    errors.into_result(filter)
}

/// The time column's heading: a link that turns the order, from the first page.
fn time_heading(lang: Lang, st: &FormState) -> Markup {
    let oldest = st.value("sort") == "oldest";
    let others: Vec<&str> = FILTERS.iter().copied().filter(|f| *f != "sort").collect();
    let (arrow, now, turn) = if oldest {
        ("▲", lang.t("古い順", "oldest first"), "newest")
    } else {
        ("▼", lang.t("新しい順", "newest first"), "oldest")
    };
    html! {
        a href={ "/reports?" (query(st, &others)) "&sort=" (turn) } title=(lang.t("並び順を変える", "Change the order")) {
            (lang.t("日時（JST）", "Sent (JST)")) " " span aria-hidden="true" { (arrow) } span.sr-only { "（" (now) "）" }
        }
    }
}

fn cursor_of(st: &FormState) -> Option<Cursor> {
    Cursor::decode(st.value("after"))
}

fn filter_form(lang: Lang, st: &FormState, names: &Names) -> Markup {
    let sectors: Vec<(String, String)> =
        names.sectors().map(|(code, _)| (code.to_string(), names.sector(code, lang))).collect();
    let statuses = [ReportStatus::Sent, ReportStatus::Forwarded];
    html! {
        form.filters method="get" action="/reports" role="search" {
            div.filter-q {
                (widgets::text(lang, st, f("q", "キーワードまたは識別番号", "Text or identifier")))
            }
            div { (widgets::select(lang, st, f("sector", "分野", "Sector"), &sectors)) }
            div { (widgets::select_codes(lang, st, f("event_type", "事象", "Event"), EventType::ALL)) }
            div { (widgets::select_codes(lang, st, f("tlp", "TLP", "TLP"), &Tlp::ALL)) }
            div { (widgets::select_codes(lang, st, f("status", "状態", "Status"), &statuses)) }
            div { (widgets::select_codes(lang, st, f("route", "経路", "Route"), Route::ALL)) }
            div { (widgets::input(lang, st, f("since", "期間（開始日）", "From (date)"), "date")) }
            div { (widgets::input(lang, st, f("until", "期間（終了日）", "To (date)"), "date")) }
            div.filter-check {
                label.inline { input type="checkbox" name="inbox" value="true" checked[st.value("inbox") == "true"]; " " (lang.t("対応が必要なものだけ", "Needs action only")) }
                label.inline { input type="checkbox" name="council" value="true" checked[st.value("council") == "true"]; " " (lang.t("カウンシル経由の共有だけ", "Shared through the council only")) }
            }
            @if !st.value("sort").is_empty() { input type="hidden" name="sort" value=(st.value("sort")); }
            div.filter-buttons {
                button type="submit" { (lang.t("絞り込む", "Filter")) }
                a href="/reports" { (lang.t("条件を解除", "Clear")) }
                a href={ "/reports/export.csv?" (query(st, &FILTERS)) } download { (lang.t("CSV で書き出す", "Export CSV")) }
                a href={ "/reports/export.stix.json?" (query(st, &FILTERS)) } download { (lang.t("STIX で書き出す", "Export STIX")) }
            }
        }
    }
}

/// How many a list holds, counted up to [`Total::CAP`] so the total costs the same at a
/// million items as at a hundred (counting 10,000 rows took the coordinator's page from
/// 30 to 120 ms at a million items; bench/RESULTS.md).
#[derive(Debug, Clone, Copy, Default)]
pub struct Total {
    count: i64,
}

impl Total {
    pub const CAP: i64 = 1_000;

    pub async fn of(state: &AppState, web: &Web, filter: &ReportFilter) -> Result<Total, ApiError> {
        let count = ops::count_reports_up_to(&state.app, &web.caller, filter, Total::CAP + 1).await?.count;
        Ok(Total { count })
    }

    /// "123 件", or "1,000 件以上" / "1,000 or more" past the cap.
    pub fn shown(self, lang: Lang) -> String {
        match (self.count > Total::CAP, lang) {
            (true, Lang::Ja) => "1,000 件以上".to_string(),
            (true, Lang::En) => "1,000 or more".to_string(),
            (false, Lang::Ja) => format!("{} 件", self.count),
            (false, Lang::En) => self.count.to_string(),
        }
    }
}

/// "全 N 件中 a–b 件目".
fn summary(lang: Lang, before: i64, shown: usize, total: Total) -> Markup {
    let (from, to) = (before + 1, before + shown as i64);
    let total = total.shown(lang);
    html! {
        p.list-summary aria-live="polite" {
            @if shown == 0 {
                (lang.t(&format!("全 {total}"), &format!("{total} in all")))
            } @else {
                (lang.t(&format!("全 {total}中 {from}–{to} 件目"), &format!("{from}–{to} of {total}")))
            }
        }
    }
}

/// Links to the first page and the next one (keyset: the next page starts after this one).
fn pager(lang: Lang, st: &FormState, shown_through: i64, next: Option<&str>) -> Markup {
    let filters = query(st, &FILTERS);
    let first_page = st.value("after").is_empty();
    html! {
        @if next.is_some() || !first_page {
            nav.pager aria-label=(lang.t("ページ", "Pages")) {
                @if !first_page { a href={ "/reports?" (filters) } { (lang.t("« 最初のページ", "« First page")) } }
                @if let Some(next) = next {
                    a rel="next" href={ "/reports?" (filters) "&after=" (encode(next)) "&n=" (shown_through) } {
                        (lang.t("次のページ »", "Next page »"))
                    }
                }
            }
        }
    }
}

/// The form's values of `names` as a query string.
fn query(st: &FormState, names: &[&str]) -> String {
    let mut q = form_urlencoded::Serializer::new(String::new());
    for name in names {
        let v = st.value(name);
        if !v.is_empty() {
            q.append_pair(name, v);
        }
    }
    q.finish()
}

fn encode(v: &str) -> String {
    form_urlencoded::byte_serialize(v.as_bytes()).collect()
}
