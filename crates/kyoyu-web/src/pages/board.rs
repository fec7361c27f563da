//! The triage board of a receiving organisation (CEPTOAR, ministry, coordinator): what it
//! received and has not yet acted on, one column per triage state, most severe first. An item
//! leaves the board when it is forwarded or marked done.

use crate::call::{input, Names};
use crate::form::{FormData, FormState};
use crate::i18n::{Label, Lang};
use crate::layout::{csrf, see_other, tlp_tag, WebResult};
use crate::session::Web;
use crate::widgets::{self, f};
use axum::extract::{Path, State};
use kyoyu_api::error::ApiError;
use kyoyu_api::AppState;
use kyoyu_app::reads::Page;
use kyoyu_app::reports::{self as ops, TriageRequest};
use kyoyu_app::views::{ReportView, TriageView};
use kyoyu_domain::codes::{Severity, TriageState};
use kyoyu_store::ReportFilter;
use maud::{html, Markup};
use serde_json::json;

/// How many cards the board holds; the list behind "all" has the rest.
const BOARD_SIZE: i64 = 100;

/// The board: the organisation's inbox in columns by state.
pub async fn board(state: &AppState, web: &Web, names: &Names) -> Result<Markup, ApiError> {
    let filter = ReportFilter { inbox: true, ..Default::default() };
    let list = ops::list_reports(&state.app, &web.caller, &filter, Page::first(BOARD_SIZE)).await?;
    let total = super::report_list::Total::of(state, web, &filter).await?.shown(web.lang);
    let mut cards = list.items;
    cards.sort_by_key(|r| (severity_rank(r.content.severity), r.created_at.clone()));
    let lang = web.lang;
    let now = chrono::Utc::now();
    Ok(html! {
        p.list-summary {
            (lang.t(&format!("対応が必要な報告 {total}"), &format!("{total} reports need action")))
            " " a href="/reports?inbox=true" { (lang.t("一覧で見る", "See them as a list")) }
        }
        div.board.triage {
            @for column in [TriageState::Open, TriageState::InProgress] {
                @let here: Vec<&ReportView> = cards.iter().filter(|r| state_of(r) == column).collect();
                section aria-labelledby={ "col-" (column.code()) } {
                    h3 id={ "col-" (column.code()) } { (column.label(lang)) " (" (here.len()) ")" }
                    ul { @for r in here { li { (card(lang, r, names, now)) } } }
                }
            }
        }
    })
}

fn state_of(r: &ReportView) -> TriageState {
    r.triage.as_ref().map_or(TriageState::Open, |t| t.state)
}

/// Alerts first, then warnings, then the rest.
fn severity_rank(s: Option<Severity>) -> usize {
    s.and_then(|s| Severity::ALL.iter().position(|x| *x == s)).unwrap_or(Severity::ALL.len())
}

fn card(lang: Lang, r: &ReportView, names: &Names, now: chrono::DateTime<chrono::Utc>) -> Markup {
    let summary: String = r.content.summary.description.as_deref().unwrap_or("").chars().take(80).collect();
    let owner = r.triage.as_ref().and_then(|t| t.owner_name.clone());
    html! {
        article.card data-report=(r.id) {
            div.card-head {
                a href={ "/reports/" (r.id) } { (r.identifier.as_deref().unwrap_or(lang.t("（未採番）", "(unnumbered)"))) }
                " " (tlp_tag(Some(r.content.tlp.code())))
                @if let Some(s) = r.content.severity { " " span class={ "sev sev-" (s.code()) } { (s.label(lang)) } }
            }
            div { (names.sector(&r.content.sector, lang)) " · " (r.content.event_type.map(|e| e.label(lang)).unwrap_or_default()) }
            @if !summary.is_empty() { p.card-summary { (summary) } }
            div.muted {
                (lang.t("受信", "Received")) " " (super::report_form::shown_time(&r.created_at)) " JST · "
                (age(lang, &r.created_at, now))
                " · " (lang.t("担当", "Owner")) " " (owner.unwrap_or_else(|| lang.t("未定", "none").to_string()))
            }
        }
    }
}

/// How long ago `at` was: "35分前", "3時間前", "2日前".
fn age(lang: Lang, at: &str, now: chrono::DateTime<chrono::Utc>) -> String {
    let Ok(at) = chrono::DateTime::parse_from_rfc3339(at) else { return String::new() };
    let minutes = (now - at.with_timezone(&chrono::Utc)).num_minutes().max(0);
    let (n, ja, en) = match minutes {
        m if m < 60 => (m, "分前", "min ago"),
        m if m < 60 * 24 => (m / 60, "時間前", "h ago"),
        m => (m / (60 * 24), "日前", "d ago"),
    };
    match lang {
        Lang::Ja => format!("{n}{ja}"),
        Lang::En => format!("{n} {en}"),
    }
}

/// The triage form on a report page: state and owner, for the receiving organisation.
pub fn triage_form(web: &Web, id: &str, t: &TriageView) -> Markup {
    let lang = web.lang;
    let mut st = FormState::default();
    st.set("state", t.state.code());
    st.set("owner_user_id", t.owner_user_id.as_deref().unwrap_or(""));
    let people: Vec<(String, String)> = t.owner_candidates.iter().map(|p| (p.id.clone(), p.name.clone())).collect();
    html! {
        section.triage-form aria-labelledby="triage-title" {
            h2 #triage-title { (lang.t("対応状況", "Triage")) }
            form.filters method="post" action={ "/reports/" (id) "/triage" } {
                (csrf(web))
                div { (widgets::select_codes(lang, &st, widgets::req("state", "状態", "State"), TriageState::ALL)) }
                div { (widgets::select(lang, &st, f("owner_user_id", "担当者", "Owner"), &people)) }
                div.filter-buttons {
                    button type="submit" { (lang.t("記録する", "Save")) }
                    @if let Some(at) = &t.updated_at {
                        span.muted { (lang.t("最終更新", "Last changed")) " " (super::report_form::shown_time(at)) " JST" }
                    }
                }
            }
        }
    }
}

/// Saves the triage and goes back to the report.
pub async fn save_triage(State(state): State<AppState>, web: Web, Path(id): Path<String>, form: FormData) -> WebResult {
    web.check_csrf(&form)?;
    let owner = form.get("owner_user_id").filter(|o| !o.is_empty());
    let request: TriageRequest = input(&json!({"state": form.get("state"), "owner_user_id": owner}))?;
    ops::set_triage(&state.app, &web.caller, &id, request).await?;
    see_other(&format!("/reports/{id}?done=triage"))
}
