//! Partner information pages (情報の提供, 004 3.1): what ministries, agencies, institutions
//! and vendors send the coordinator. The list, the form, and the item with its files, the
//! sender's follow-up and the coordinator's shares. Who sent it shows only where the view
//! carries it (the sender and the coordinator).

use super::report_form::jst;
use crate::call::{input, Names};
use crate::form::{to_body, FormData, FormState, Kind};
use crate::i18n::{Label, Lang};
use crate::layout::{self, banner, csrf, form_alert, multiline, ok, page, see_other, WebResult};
use crate::session::Web;
use crate::widgets::{area, checks, choose, f, lines, radio_codes, req, text, yes_no};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse};
use kyoyu_api::error::ApiError;
use kyoyu_api::AppState;
use kyoyu_app::partner::{self as ops, PartnerView};
use kyoyu_app::reads::Page;
use kyoyu_app::reports::ShareRequest;
use kyoyu_domain::codes::{ItemType, PartnerInfoKind, Severity};
use kyoyu_domain::partner::PartnerInput;
use kyoyu_domain::Tlp;
use kyoyu_store::PartnerFilter;
use maud::{html, Markup};
use serde::Deserialize;
use std::collections::HashMap;

const KINDS: &[(&str, Kind)] = &[
    ("kind", Kind::Code),
    ("tlp", Kind::Code),
    ("severity", Kind::Code),
    ("sectors", Kind::Many),
    ("indicators", Kind::Lines),
    ("sanitised_wider_use", Kind::Bool),
];

pub fn routes() -> axum::Router<AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/partner-information", get(list))
        .route("/partner-information/new", get(new_form).post(submit_new))
        .route("/partner-information/{id}", get(view))
        .route("/partner-information/{id}/follow-up", post(follow_up))
        .route("/partner-information/{id}/share", post(share))
}

/// Up to 100 items the caller reads, newest first (for the list and the advisory form).
pub async fn list_of(state: &AppState, web: &Web, filter: &PartnerFilter) -> Result<Vec<PartnerView>, ApiError> {
    Ok(ops::list_partner_information(&state.app, &web.caller, filter, Page::first(100)).await?.items)
}

/// An item's one-line label: identifier, TLP and title.
pub fn label(v: &PartnerView) -> String {
    format!("{} TLP:{} — {}", v.identifier, v.content.tlp.code(), v.content.title.chars().take(40).collect::<String>())
}

#[derive(Deserialize)]
pub struct ListQuery {
    q: Option<String>,
}

pub async fn list(State(state): State<AppState>, web: Web, Query(q): Query<ListQuery>) -> WebResult {
    let rows = list_of(&state, &web, &PartnerFilter { q: q.q.clone(), ..Default::default() }).await?;
    let lang = web.lang;
    let body = html! {
        p { (web.t(
            "関係省庁・関係機関・サイバー空間関連事業者から内閣官房への情報の提供です。読めるのは提供元と内閣官房、内閣官房が TLP の範囲内で共有した組織だけで、提供元は提供元と内閣官房にしか表示されません。",
            "Information that ministries, agencies, institutions and vendors send the coordinator. Only the sender, the coordinator and those the coordinator shares it with inside its TLP read it; only the sender and the coordinator are shown who sent it.",
        )) }
        div.actions {
            @if ops::may_send(&web.caller) { a.button href="/partner-information/new" { (web.t("情報を提供する", "Send information")) } }
            form.inline method="get" action="/partner-information" role="search" {
                input type="search" name="q" value=(q.q.as_deref().unwrap_or("")) aria-label=(web.t("検索", "Search"));
                button.secondary type="submit" { (web.t("検索", "Search")) }
            }
        }
        table {
            thead { tr {
                th { (lang.t("識別番号", "Identifier")) } th { "TLP" } th { (lang.t("重要度", "Severity")) }
                th { (lang.t("種別", "Kind")) } th { (lang.t("件名", "Title")) } th { (lang.t("日時", "Sent")) }
            } }
            tbody {
                @for v in &rows {
                    tr {
                        td { a href={ "/partner-information/" (v.id) } { (v.identifier) } }
                        td { (crate::layout::tlp_tag(Some(v.content.tlp.code()))) }
                        td { (v.content.severity.label(lang)) }
                        td { (v.content.kind.label(lang)) }
                        td { (v.content.title.chars().take(60).collect::<String>()) }
                        td { (jst(&v.created_at)) }
                    }
                }
                @if rows.is_empty() { tr { td colspan="6" .muted { (lang.t("該当する情報はありません", "No partner information")) } } }
            }
        }
    };
    ok(page(&web, web.t("関係機関からの情報", "Partner information"), body))
}

/// What each TLP means for partner information, in the reader's language.
fn tlp_options(lang: Lang) -> Vec<(String, String)> {
    [Tlp::Red, Tlp::AmberStrict, Tlp::Amber, Tlp::Green, Tlp::Clear]
        .iter()
        .map(|t| {
            let (ja, en) = crate::i18n::partner_tlp(*t);
            (t.code().to_string(), format!("TLP:{} {}", t.code(), lang.t(ja, en)))
        })
        .collect()
}

/// The form, for a new item and for a follow-up (`action` differs).
fn form(web: &Web, st: &FormState, names: &Names, action: &str, submit: &str) -> Markup {
    let lang = web.lang;
    let sectors: Vec<(String, String)> =
        names.sectors().map(|(code, s)| (code.to_string(), lang.t(&s.name_ja, &s.name_en).to_string())).collect();
    html! {
        (form_alert(lang, st))
        form method="post" action=(action) novalidate {
            (csrf(web))
            (radio_codes(lang, st, req("kind", "種別", "Kind"), PartnerInfoKind::ALL))
            (choose(lang, st, req("tlp", "情報共有範囲", "Sharing scope (TLP)"), &tlp_options(lang)))
            (radio_codes(lang, st, req("severity", "重要度", "Severity"), Severity::ALL))
            (checks(lang, st, f("sectors", "関係する分野", "Sectors concerned"), &sectors))
            (text(lang, st, req("title", "件名", "Title")))
            (area(lang, st, req("content", "内容", "Content")))
            (lines(lang, st, f("indicators", "STIX パターン（1行に1件。例: [ipv4-addr:value = '198.51.100.7']）", "STIX patterns (one per line, e.g. [ipv4-addr:value = '198.51.100.7'])")))
            (yes_no(lang, st, f("sanitised_wider_use", "提供元が特定されないよう加工した上で、TLP を超えて情報提供に使うことに同意する", "Consent to its use, sanitised so the sender cannot be identified, in advisories beyond its TLP")))
            div.actions { button type="submit" { (submit) } }
        }
    }
}

pub async fn new_form(State(state): State<AppState>, web: Web) -> WebResult {
    let names = Names::load(&state).await?;
    let mut st = FormState::default();
    st.set("sanitised_wider_use", "false");
    let title = web.t("関係機関からの情報の提供", "Send partner information");
    ok(page(&web, title, form(&web, &st, &names, "/partner-information/new", web.t("提供する", "Send"))))
}

/// The form again with the refusal beside its fields.
async fn refused_form(state: &AppState, web: &Web, mut st: FormState, e: ApiError, action: &str) -> WebResult {
    st.take_error(e)?;
    let names = Names::load(state).await?;
    let (title, submit) = match action.ends_with("/new") {
        true => (web.t("関係機関からの情報の提供", "Send partner information"), web.t("提供する", "Send")),
        false => (web.t("続報", "Follow-up"), web.t("続報を送る", "Send the follow-up")),
    };
    let html = page(web, title, form(web, &st, &names, action, submit));
    Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(html.into_string())).into_response())
}

pub async fn submit_new(State(state): State<AppState>, web: Web, form: FormData) -> WebResult {
    web.check_csrf(&form)?;
    let sent = async {
        Ok::<_, ApiError>(
            ops::create_partner_information(&state.app, &web.caller, input(&to_body(&form, KINDS))?).await?,
        )
    };
    match sent.await {
        Ok(v) => see_other(&format!("/partner-information/{}?done=sent", v.id)),
        Err(e) => refused_form(&state, &web, FormState::from_form(&form), e, "/partner-information/new").await,
    }
}

pub async fn follow_up(State(state): State<AppState>, web: Web, Path(id): Path<String>, form: FormData) -> WebResult {
    web.check_csrf(&form)?;
    let body: PartnerInput = input(&to_body(&form, KINDS))?;
    match ops::create_partner_follow_up(&state.app, &web.caller, &id, body).await {
        Ok(v) => see_other(&format!("/partner-information/{}?done=followed_up", v.id)),
        Err(e) => {
            let action = format!("/partner-information/{id}/follow-up");
            refused_form(&state, &web, FormState::from_form(&form), e.into(), &action).await
        }
    }
}

pub async fn share(State(state): State<AppState>, web: Web, Path(id): Path<String>, form: FormData) -> WebResult {
    web.check_csrf(&form)?;
    let targets: Vec<String> = form.all("org_ids").into_iter().filter(|s| !s.is_empty()).collect();
    match ops::share_partner_information(&state.app, &web.caller, &id, ShareRequest { org_ids: Some(targets) }).await {
        Ok(_) => see_other(&format!("/partner-information/{id}?done=shared")),
        Err(e) => {
            let notice = crate::layout::refusal(web.lang, e.into())?;
            let html = render(&state, &web, &id, notice).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(html.into_string())).into_response())
        }
    }
}

fn done_notice(lang: Lang, done: Option<&String>) -> Markup {
    let text = match done.map(String::as_str) {
        Some("sent") => Some(("情報を提供しました。", "The information has been sent.")),
        Some("followed_up") => Some(("続報を送りました。", "The follow-up has been sent.")),
        Some("shared") => Some(("共有しました。", "It has been shared.")),
        other => super::files::done_text(other),
    };
    layout::done_notice(lang, text)
}

pub async fn view(
    State(state): State<AppState>,
    web: Web,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> WebResult {
    let notice = done_notice(web.lang, q.get("done"));
    ok(render(&state, &web, &id, notice).await?)
}

/// The item as its reader sees it, with what the view says the reader may do.
async fn render(state: &AppState, web: &Web, id: &str, notice: Markup) -> Result<Markup, ApiError> {
    let v = ops::get_partner_information(&state.app, &web.caller, id).await?;
    let names = Names::load(state).await?;
    let files = super::files::section(state, web, ItemType::Partner, id, &names).await?;
    let body = html! {
        (notice)
        @if v.actions.cite {
            div.actions { a.button href={ "/advisories/new?partner=" (v.id) } { (web.t("これを情報源に情報提供を作成", "Draft an advisory citing it")) } }
        }
        (details(web.lang, &v, &names))
        (files)
        @if v.actions.follow_up { (follow_up_form(web, &v, &names)?) }
        (super::reports::share_form(web, &format!("/partner-information/{id}/share"), &v.actions.share_with, &names))
    };
    Ok(page(web, &v.identifier, body))
}

fn details(lang: Lang, v: &PartnerView, names: &Names) -> Markup {
    let c = &v.content;
    let sectors: Vec<String> = c.sectors.iter().map(|s| names.sector(s, lang)).collect();
    let shared: Vec<String> = v.shared_with.iter().map(|o| names.name(Some(o), lang)).collect();
    html! {
        (banner(lang, c.tlp.code(), Some(c.severity.code()), |t| crate::i18n::partner_tlp(t).1))
        table.official { tbody {
            tr { th { (lang.t("識別番号", "Identifier")) } td { (v.identifier) } }
            @if let Some(sender) = &v.sender_org_id { tr { th { (lang.t("提供元", "Sender")) } td { (names.name(Some(sender), lang)) } } }
            tr { th { (lang.t("提供日時", "Sent at")) } td { (jst(&v.created_at)) } }
            tr { th { (lang.t("種別", "Kind")) } td { (c.kind.label(lang)) } }
            tr { th { (lang.t("重要度", "Severity")) } td { (c.severity.label(lang)) } }
            tr { th { (lang.t("関係する分野", "Sectors concerned")) } td { (lang.join(&sectors)) } }
            tr { th { (lang.t("件名", "Title")) } td { (c.title) } }
            tr { th { (lang.t("内容", "Content")) } td { (multiline(&c.content)) } }
            tr { th { (lang.t("STIX パターン", "STIX patterns")) } td { @for p in &c.indicators { code { (p) } br; } } }
            tr { th { (lang.t("加工の上での TLP を超えた利用", "Sanitised use beyond its TLP")) } td {
                (if c.sanitised_wider_use { lang.t("同意あり", "consented") } else { lang.t("同意なし", "not consented") })
            } }
            @if !shared.is_empty() { tr { th { (lang.t("共有先", "Shared with")) } td { (lang.join(&shared)) } } }
        } }
    }
}

/// The sender's follow-up, pre-filled with the item as it stands.
fn follow_up_form(web: &Web, v: &PartnerView, names: &Names) -> Result<Markup, ApiError> {
    let st = FormState::from_view(&v.content)?;
    let action = format!("/partner-information/{}/follow-up", v.id);
    Ok(html! {
        details {
            summary { (web.t("続報を送る（変えた項目が前報を置き換えます）", "Send a follow-up (what you change replaces the previous)")) }
            (form(web, &st, names, &action, web.t("続報を送る", "Send the follow-up")))
        }
    })
}
