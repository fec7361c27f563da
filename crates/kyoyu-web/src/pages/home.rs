//! Home: each role's inbox.

use super::advisories::{self, table as advisory_table};
use super::reports::{list_of, table as report_table};
use crate::call::Names;
use crate::i18n::Lang;
use crate::layout::{ok, page, WebResult};
use crate::session::Web;
use axum::extract::State;
use kyoyu_api::AppState;
use kyoyu_app::views::AdvisoryView;
use kyoyu_domain::codes::OrgKind;
use maud::{html, Markup};

pub async fn home(State(state): State<AppState>, web: Web) -> WebResult {
    let names = Names::load(&state).await?;
    let reports = list_of(&state, &web, Default::default()).await?;
    let advisories = advisories::list_of(&state, &web, Default::default()).await?;
    let me = web.caller.org_id();
    let lang = web.lang;
    let widenings = super::widenings::described(&state, &web).await?;
    let open: Vec<_> = widenings.into_iter().filter(|(w, _)| w.status.is_open()).collect();
    let asked = match web.caller.org().kind {
        OrgKind::Ministry | OrgKind::Coordinator => Some(with_questions(&state, &web, &advisories).await),
        _ => None,
    };
    let body = match web.caller.org().kind {
        OrgKind::Operator => html! {
            div.actions { a.button href="/reports/new" { (lang.t("新規報告", "File a report")) } }
            h2 { (lang.t("自社の報告", "My reports")) }
            (report_table(lang, &reports.iter().filter(|r| r.sender_org_id.as_deref() == Some(me)).cloned().collect::<Vec<_>>(), &names))
            h2 { (lang.t("受領確認が済んでいない情報提供", "Advisories to acknowledge")) }
            (awaiting_table(lang, &advisories))
        },
        OrgKind::Ceptoar => html! {
            h2 { (lang.t("匿名化して転送する報告", "Reports to anonymise and forward")) }
            (super::board::board(&state, &web, &names).await?)
            h2 { (lang.t("構成員へ伝達する情報提供", "Advisories to relay to members")) }
            (awaiting_table(lang, &advisories))
        },
        OrgKind::Ministry => html! {
            h2 { (lang.t("転送する報告", "Reports to forward")) }
            (super::board::board(&state, &web, &names).await?)
            h2 { (lang.t("伝達する情報提供", "Advisories to relay")) }
            (awaiting_table(lang, &advisories))
        },
        OrgKind::Coordinator => html! {
            div.actions { a.button href="/advisories/new" { (lang.t("情報提供の作成", "New advisory")) } }
            h2 { (lang.t("受信した報告（トリアージ）", "Incoming reports (triage)")) }
            (super::board::board(&state, &web, &names).await?)
            (super::statistics::recent(lang, kyoyu_app::statistics::last_30_days(&state.app, &web.caller).as_ref(), &names))
            h2 { (lang.t("情報提供と受領確認", "Advisories and acknowledgments")) }
            (advisory_table(lang, &advisories))
        },
        _ => html! {
            h2 { (lang.t("閲覧できる報告", "Reports you may read")) }
            (report_table(lang, &reports, &names))
            h2 { (lang.t("情報提供", "Advisories")) }
            (advisory_table(lang, &advisories))
        },
    };
    let body = html! {
        (body)
        @if let Some(rows) = &asked { h2 { (lang.t("質問", "Questions")) } (questions_table(lang, rows)) }
        @if !open.is_empty() {
            h2 { (lang.t("対応中の範囲拡大の依頼", "Open scope-widening requests")) }
            (super::widenings::table(&web, &open))
        }
    };
    ok(page(
        &web,
        &format!("{} — {}", lang.t("ホーム", "Home"), lang.t(&web.caller.org().name_ja, &web.caller.org().name_en)),
        body,
    ))
}

/// The advisories the reader's organisation has yet to acknowledge or relay (acting takes
/// one off), with a link to all of them.
fn awaiting_table(lang: Lang, advisories: &[AdvisoryView]) -> Markup {
    let awaiting: Vec<AdvisoryView> = advisories.iter().filter(|a| a.awaiting).cloned().collect();
    html! {
        (advisory_table(lang, &awaiting))
        p { a href="/advisories" { (lang.t("すべての情報提供", "All advisories")) } }
    }
}

/// Issued advisories with questions the reader may see (the coordinator and ministries in
/// scope, as each advisory's actions say).
async fn with_questions(state: &AppState, web: &Web, advisories: &[AdvisoryView]) -> Vec<(AdvisoryView, usize)> {
    let mut out = Vec::new();
    for a in advisories {
        let n = advisories::questions_of(state, web, a).await.map(|q| q.unanswered()).unwrap_or(0);
        if n > 0 {
            out.push((a.clone(), n));
        }
    }
    out
}

fn questions_table(lang: Lang, rows: &[(AdvisoryView, usize)]) -> Markup {
    html! {
        table {
            thead { tr { th { (lang.t("情報提供", "Advisory")) } th { (lang.t("未回答の質問", "Questions not answered")) } } }
            tbody {
                @for (a, n) in rows {
                    tr {
                        td { a href={ "/advisories/" (a.id) } { (a.identifier.as_deref().unwrap_or("")) } }
                        td.num { (n) }
                    }
                }
                @if rows.is_empty() { tr { td colspan="2" .muted { (lang.t("未回答の質問はありません", "No questions waiting for an answer")) } } }
            }
        }
    }
}
