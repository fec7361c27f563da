//! The CEPTOAR council (セプターカウンシル): who sits on it, joining and leaving by the
//! CEPTOAR's own decision, and its board (the report list of what was shared through it).

use crate::call::Names;
use crate::form::FormData;
use crate::layout::{csrf, ok, page, see_other, WebResult};
use crate::session::Web;
use axum::extract::{Path, State};
use kyoyu_api::error::ApiError;
use kyoyu_api::AppState;
use kyoyu_app::council::{self as ops, CouncilShareRequest};
use maud::html;

pub async fn show(State(state): State<AppState>, web: Web) -> WebResult {
    let council = ops::get_council(&state.app, &web.caller).await.map_err(ApiError::from)?;
    let names = Names::load(&state).await?;
    let body = html! {
        p { (web.t(
            "セプターカウンシルは、各セプターが自らの判断で参加する独立した協議会です。参加セプターはカウンシルを通じて分野を越えて共有できます（GREEN は全参加セプターへ、AMBER は関係分野の参加セプターだけへ、RED は共有できません）。",
            "The CEPTOAR council is an independent council that each CEPTOAR joins by its own decision. Members share across sectors through it (GREEN to every member, AMBER only to the members of the concerned sectors, RED never).",
        )) }
        @if council.council_org_id.is_none() {
            p.muted { (web.t("カウンシルが登録されていません。", "No council is registered.")) }
        }
        h2 { (web.t("参加セプター", "Members")) }
        ul {
            @for id in &council.member_org_ids { li { (names.name(Some(id), web.lang)) } }
            @if council.member_org_ids.is_empty() { li.muted { (web.t("参加しているセプターはありません", "No CEPTOAR sits on it")) } }
        }
        div.actions {
            @if council.actions.join {
                form.inline method="post" action="/council/join" {
                    (csrf(&web)) button type="submit" { (web.t("このセプターとして参加する", "Join as this CEPTOAR")) }
                }
            }
            @if council.actions.leave {
                form.inline method="post" action="/council/leave" {
                    (csrf(&web)) button.secondary type="submit" { (web.t("脱退する（以後の共有は届きません）", "Leave (nothing more reaches you through it)")) }
                }
            }
            a.button.secondary href="/reports?council=true" { (web.t("カウンシル経由の共有（ボード）", "Shared through the council (board)")) }
        }
    };
    ok(page(&web, web.t("セプターカウンシル", "CEPTOAR council"), body))
}

async fn set_membership(state: AppState, web: Web, form: FormData, join: bool) -> WebResult {
    web.check_csrf(&form)?;
    ops::set_membership(&state.app, &web.caller, join).await.map_err(ApiError::from)?;
    see_other("/council")
}

pub async fn join(State(state): State<AppState>, web: Web, form: FormData) -> WebResult {
    set_membership(state, web, form, true).await
}

pub async fn leave(State(state): State<AppState>, web: Web, form: FormData) -> WebResult {
    set_membership(state, web, form, false).await
}

/// Shares the report on the page through the council, then back to it.
pub async fn share(State(state): State<AppState>, web: Web, Path(id): Path<String>, form: FormData) -> WebResult {
    web.check_csrf(&form)?;
    let request = CouncilShareRequest { report_id: Some(id.clone()) };
    let result = ops::share_to_council(&state.app, &web.caller, request).await;
    super::reports::after(&state, &web, &id, result.map_err(ApiError::from), "shared").await
}
