//! Scope-widening requests (domain.md §8): the coordinator asks a source's originator to let an
//! advisory reach further; in the anonymised route the CEPTOAR secretariat relays the request,
//! so the coordinator never learns who answered.

use super::report_form::jst;
use super::reports::chain_of;
use crate::i18n::Lang;
use crate::layout::{csrf, ok, page, see_other, WebResult};
use crate::session::Web;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::Router;
use kyoyu_api::error::ApiError;
use kyoyu_api::AppState;
use kyoyu_app::advisories::{self as ops, AnswerRequest};
use kyoyu_app::views::WideningView;
use kyoyu_domain::codes::WideningStatus;
use maud::{html, Markup};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/scope-widenings", get(list))
        .route("/scope-widenings/{id}/relay", post(relay))
        .route("/scope-widenings/{id}/answer", post(answer))
}

/// The requests the caller takes part in.
pub async fn visible(state: &AppState, web: &Web) -> Result<Vec<WideningView>, ApiError> {
    Ok(ops::list_scope_widenings(&state.app, &web.caller).await?.items)
}

fn status_label(lang: Lang, status: WideningStatus) -> &'static str {
    let en = match status {
        WideningStatus::AtSecretariat => "with the CEPTOAR secretariat",
        WideningStatus::Pending => "awaiting the operator's answer",
        WideningStatus::Granted => "granted",
        WideningStatus::Refused => "refused",
    };
    lang.t(status.label_ja(), en)
}

/// The report the request is about, as this reader may see it.
async fn about(state: &AppState, web: &Web, w: &WideningView) -> Result<Markup, ApiError> {
    let renditions = chain_of(state, web, &w.chain_id).await?;
    Ok(match renditions.last() {
        Some(r) => html! {
            a href={ "/reports/" (r.id) } {
                (r.identifier.as_deref().unwrap_or(web.t("（未採番）", "(unnumbered)")))
            }
            " " (r.content.summary.description.as_deref().unwrap_or("").chars().take(40).collect::<String>())
        },
        None => {
            html! { a href={ "/advisories/" (w.advisory_id) } { (web.t("情報提供", "Advisory")) } }
        }
    })
}

pub fn table(web: &Web, rows: &[(WideningView, Markup)]) -> Markup {
    let lang = web.lang;
    html! {
        table {
            thead { tr { th { (lang.t("依頼日時", "Requested")) } th { (lang.t("対象", "About")) } th { (lang.t("状態", "Status")) } th {} } }
            tbody { @for (w, about) in rows {
                @let id = &w.id;
                tr {
                    td { (jst(&w.requested_at)) }
                    td { (about) }
                    td { (status_label(lang, w.status)) }
                    td {
                        @if w.actions.relay {
                            form.inline method="post" action={ "/scope-widenings/" (id) "/relay" } {
                                (csrf(web)) button type="submit" { (lang.t("事業者へ伝達", "Pass to the operator")) }
                            }
                        }
                        @if w.actions.answer {
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
fn asked(web: &Web, w: &WideningView, names: &crate::call::Names) -> Markup {
    let recipients: Vec<String> = w
        .target_recipients
        .iter()
        .map(|r| format!("{}（{}）", names.name(Some(&r.ministry_org_id), web.lang), names.sector(&r.sector, web.lang)))
        .collect();
    html! {
        div.muted {
            (web.t("求める提供範囲: ", "Consent asked for: "))
            (crate::layout::tlp_tag(w.target_tlp.map(|t| t.code()))) " " (web.lang.join(&recipients))
        }
    }
}

/// Each visible request with what it is about and what it asks.
pub async fn described(state: &AppState, web: &Web) -> Result<Vec<(WideningView, Markup)>, ApiError> {
    let names = crate::call::Names::load(state).await?;
    let mut out = Vec::new();
    for w in visible(state, web).await? {
        let a = about(state, web, &w).await?;
        let a = html! { (a) (asked(web, &w, &names)) };
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
    ops::relay_scope_widening(&state.app, &web.caller, &id).await.map_err(ApiError::from)?;
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
    let request = AnswerRequest { grant: Some(grant) };
    ops::answer_scope_widening(&state.app, &web.caller, &id, request).await.map_err(ApiError::from)?;
    see_other("/scope-widenings")
}
