//! Scope-widening requests (domain.md §8): the coordinator asks a source's originator to let an
//! advisory reach further; in the anonymised route the CEPTOAR secretariat relays the request,
//! so the coordinator never learns who answered.

use super::report_form::shown_time;
use super::reports::chain_of;
use crate::call::{body, items};
use crate::i18n::Lang;
use crate::layout::{csrf, ok, page, see_other, WebResult};
use crate::session::Web;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use kyoyu_api::advisories as api;
use kyoyu_api::error::ApiError;
use kyoyu_api::AppState;
use kyoyu_domain::codes::WideningStatus;
use maud::{html, Markup};
use serde_json::{json, Value};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/scope-widenings", get(list))
        .route("/scope-widenings/{id}/relay", post(relay))
        .route("/scope-widenings/{id}/answer", post(answer))
}

/// The requests the caller takes part in.
pub async fn visible(state: &AppState, web: &Web) -> Result<Vec<Value>, ApiError> {
    let Json(v) = api::list_scope_widenings(State(state.clone()), web.caller.clone()).await?;
    Ok(items(&v))
}

/// A request's status, from the API's answer.
pub fn widening_status(w: &Value) -> Option<WideningStatus> {
    w["status"].as_str().and_then(WideningStatus::parse)
}

fn status_label(lang: Lang, status: Option<WideningStatus>) -> &'static str {
    let Some(status) = status else { return "" };
    let en = match status {
        WideningStatus::AtSecretariat => "with the CEPTOAR secretariat",
        WideningStatus::Pending => "awaiting the operator's answer",
        WideningStatus::Granted => "granted",
        WideningStatus::Refused => "refused",
    };
    lang.t(status.label_ja(), en)
}

/// The report the request is about, as this reader may see it.
async fn about(state: &AppState, web: &Web, w: &Value) -> Result<Markup, ApiError> {
    let chain = w["chain_id"].as_str().unwrap_or("");
    let renditions = chain_of(state, web, chain).await?;
    Ok(match renditions.last() {
        Some(r) => html! {
            a href={ "/reports/" (r.id) } {
                (r.identifier.as_deref().unwrap_or(web.t("（未採番）", "(unnumbered)")))
            }
            " " (r.content.summary.description.as_deref().unwrap_or("").chars().take(40).collect::<String>())
        },
        None => {
            html! { a href={ "/advisories/" (w["advisory_id"].as_str().unwrap_or("")) } { (web.t("情報提供", "Advisory")) } }
        }
    })
}

pub fn table(web: &Web, rows: &[(Value, Markup)]) -> Markup {
    let lang = web.lang;
    html! {
        table {
            thead { tr { th { (lang.t("依頼日時", "Requested")) } th { (lang.t("対象", "About")) } th { (lang.t("状態", "Status")) } th {} } }
            tbody { @for (w, about) in rows {
                @let id = w["id"].as_str().unwrap_or("");
                @let status = widening_status(w);
                tr {
                    td { (shown_time(w["requested_at"].as_str().unwrap_or(""))) }
                    td { (about) }
                    td { (status_label(lang, status)) }
                    td {
                        @if status == Some(WideningStatus::AtSecretariat) {
                            form.inline method="post" action={ "/scope-widenings/" (id) "/relay" } {
                                (csrf(web)) button type="submit" { (lang.t("事業者へ伝達", "Pass to the operator")) }
                            }
                        }
                        @if status == Some(WideningStatus::Pending) {
                            form.inline method="post" action={ "/scope-widenings/" (id) "/answer" } {
                                (csrf(web))
                                button type="submit" name="grant" value="true" { (lang.t("同意する", "Grant")) } " "
                                button.secondary type="submit" name="grant" value="false" { (lang.t("同意しない", "Refuse")) }
                            }
                        }
                    }
                }
            } }
            @if rows.is_empty() { tr { td colspan="4" .muted { (lang.t("依頼はありません", "No requests")) } } }
        }
    }
}

/// What consent is asked for: the advisory's TLP and its recipients (ministry, sector).
fn asked(web: &Web, w: &Value, names: &crate::call::Names, sectors: &[kyoyu_store::SectorRow]) -> Markup {
    let sector_name = |code: &str| {
        sectors
            .iter()
            .find(|s| s.code == code)
            .map(|s| web.t(&s.name_ja, &s.name_en).to_string())
            .unwrap_or_else(|| code.to_string())
    };
    let recipients: Vec<String> = w["target_recipients"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            let ministry = names.name(r["ministry_org_id"].as_str(), web.lang);
            format!("{ministry}（{}）", sector_name(r["sector"].as_str().unwrap_or("")))
        })
        .collect();
    html! {
        div.muted {
            (web.t("求める提供範囲: ", "Consent asked for: "))
            (crate::layout::tlp_tag(w["target_tlp"].as_str())) " " (recipients.join("、"))
        }
    }
}

/// Each visible request with what it is about and what it asks.
pub async fn described(state: &AppState, web: &Web) -> Result<Vec<(Value, Markup)>, ApiError> {
    let names = crate::call::Names::load(state).await?;
    let sectors = state.store.list_sectors().await?;
    let mut out = Vec::new();
    for w in visible(state, web).await? {
        let a = about(state, web, &w).await?;
        let a = html! { (a) (asked(web, &w, &names, &sectors)) };
        out.push((w, a));
    }
    Ok(out)
}

pub async fn list(State(state): State<AppState>, web: Web) -> WebResult {
    let rows = described(&state, &web).await?;
    let body = html! {
        p.muted { (web.t(
            "情報提供をより広い範囲に提供するための、情報源への同意の依頼です。匿名化連絡ではセプター事務局が事業者へ伝達します。",
            "Requests to a source for consent to let an advisory reach further. On the anonymised route the CEPTOAR secretariat passes them to the operator."
        )) }
        (table(&web, &rows))
    };
    ok(page(&web, web.t("範囲拡大の依頼", "Scope-widening requests"), body))
}

pub async fn relay(
    State(state): State<AppState>,
    web: Web,
    Path(id): Path<String>,
    form: crate::form::FormData,
) -> WebResult {
    web.check_csrf(&form)?;
    let _ = api::relay_scope_widening(State(state.clone()), web.caller.clone(), Path(id)).await?;
    see_other("/scope-widenings")
}

pub async fn answer(
    State(state): State<AppState>,
    web: Web,
    Path(id): Path<String>,
    form: crate::form::FormData,
) -> WebResult {
    web.check_csrf(&form)?;
    let grant = form.get("grant") == Some("true");
    let _ =
        api::answer_scope_widening(State(state.clone()), web.caller.clone(), Path(id), body(&json!({"grant": grant}))?)
            .await?;
    see_other("/scope-widenings")
}
