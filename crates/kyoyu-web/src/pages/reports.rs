//! Report pages: list, file (with follow-ups pre-filled), read, forward (with the
//! secretariat's anonymisation review), print and PDF.

use super::report_form::{self, fields, official, Mode, KINDS};
use crate::call::{body, items, params, Names};
use crate::form::{to_body, FormData, FormState};
use crate::i18n::{label_of, Lang};
use crate::layout::{banner, csrf, form_alert, ok, page, see_other, WebResult};
use crate::session::Web;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse};
use axum::Json;
use kyoyu_api::error::ApiError;
use kyoyu_api::reports as api;
use kyoyu_api::AppState;
use kyoyu_domain::codes::{EventType, OrgKind, ReportStatus};
use kyoyu_domain::Tlp;
use maud::{html, Markup};
use serde_json::{json, Value};
use std::collections::HashMap;

/// One report as the caller sees it (404 for anything it may not read).
pub async fn fetch(state: &AppState, web: &Web, id: &str) -> Result<Value, kyoyu_api::error::ApiError> {
    let Json(v) = api::get_report(State(state.clone()), web.caller.clone(), Path(id.to_string())).await?;
    Ok(v)
}

/// Readable renditions, newest first, with optional filters.
pub async fn list_of(
    state: &AppState,
    web: &Web,
    filters: &[(&str, &str)],
) -> Result<Vec<Value>, kyoyu_api::error::ApiError> {
    let mut q = vec![("limit", "100")];
    q.extend_from_slice(filters);
    let Json(v) = api::list_reports(State(state.clone()), web.caller.clone(), params(&q)).await?;
    Ok(items(&v))
}

/// A table of renditions with a link to each.
pub fn table(lang: Lang, rows: &[Value], names: &Names) -> Markup {
    html! {
        table {
            thead { tr {
                th { (lang.t("識別番号", "Identifier")) } th { (lang.t("報数", "No.")) } th { "TLP" }
                th { (lang.t("重要度", "Severity")) } th { (lang.t("分野", "Sector")) } th { (lang.t("事象", "Event")) }
                th { (lang.t("送信元 → 宛先", "From → to")) } th { (lang.t("状態", "Status")) } th { (lang.t("日時", "Sent")) }
            } }
            tbody {
                @for r in rows {
                    tr {
                        td { a href={ "/reports/" (r["id"].as_str().unwrap_or("")) } { (r["identifier"].as_str().unwrap_or(lang.t("（未採番）", "(unnumbered)"))) } }
                        td.num { (r["sequence"]) }
                        td { (crate::layout::tlp_tag(r["tlp"].as_str())) }
                        td { (label_of(kyoyu_domain::codes::Severity::parse, r["severity"].as_str().unwrap_or(""), lang)) }
                        td { (r["sector"].as_str().unwrap_or("")) }
                        td { (label_of(EventType::parse, r["event_type"].as_str().unwrap_or(""), lang)) }
                        td { (names.name(r["sender_org_id"].as_str(), lang)) " → " (names.name(r["receiver_org_id"].as_str(), lang)) }
                        td { (label_of(ReportStatus::parse, r["status"].as_str().unwrap_or(""), lang)) }
                        td { (report_form::shown_time(r["created_at"].as_str().unwrap_or(""))) }
                    }
                }
                @if rows.is_empty() { tr { td colspan="9" .muted { (lang.t("該当する報告はありません", "No reports")) } } }
            }
        }
    }
}

pub async fn list(State(state): State<AppState>, web: Web, Query(q): Query<HashMap<String, String>>) -> WebResult {
    let text = q.get("q").cloned().unwrap_or_default();
    let mut filters = vec![];
    if !text.is_empty() {
        filters.push(("q", text.as_str()));
    }
    let rows = list_of(&state, &web, &filters).await?;
    let names = Names::load(&state).await?;
    let body = html! {
        form.actions method="get" action="/reports" {
            input type="text" name="q" value=(text) placeholder=(web.t("本文を検索", "Search the text")) aria-label=(web.t("検索", "Search"));
            button type="submit" { (web.t("検索", "Search")) }
        }
        (table(web.lang, &rows, &names))
    };
    ok(page(&web, web.t("報告一覧", "Reports"), body))
}

/// Organisations the operator may name as extra recipients, by name.
fn org_choices(names: &Names, lang: Lang, me: &str) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = names
        .all()
        .filter(|o| o.id != me)
        .map(|o| (o.id.clone(), lang.t(&o.name_ja, &o.name_en).to_string()))
        .collect();
    v.sort_by(|a, b| a.1.cmp(&b.1));
    v
}

fn sender_defaults(st: &mut FormState, web: &Web) {
    let u = &web.caller.user;
    st.set("sender_contact.name", &u.display_name);
    st.set("sender_contact.email", u.email.as_deref().unwrap_or(""));
    st.set("sender_contact.phone", u.phone.as_deref().unwrap_or(""));
}

fn new_page(web: &Web, st: &FormState, follow_up: Option<&str>, names: &Names) -> Markup {
    let mode = if follow_up.is_some() { Mode::FollowUp } else { Mode::New };
    let title = if follow_up.is_some() {
        web.t("続報の作成", "File a follow-up")
    } else {
        web.t("情報連絡（新規報告）", "File a report")
    };
    let orgs = org_choices(names, web.lang, web.caller.org_id());
    let body = html! {
        (form_alert(web.lang, st))
        p.muted { (web.t("＊の項目は必須です。わかっていることだけを記入し、続報で補ってかまいません。", "Fields marked ＊ are required. Write what is known now; follow-ups can add the rest.")) }
        form method="post" action="/reports/new" novalidate {
            (csrf(web))
            @if let Some(id) = follow_up { input type="hidden" name="_follow_up" value=(id); }
            (fields(web.lang, st, mode, &orgs))
            div.actions { button type="submit" name="_action" value="file" { (web.t("送信する", "Send")) } }
        }
    };
    page(web, title, body)
}

pub async fn new_form(State(state): State<AppState>, web: Web, Query(q): Query<HashMap<String, String>>) -> WebResult {
    let names = Names::load(&state).await?;
    let follow_up = q.get("follow_up").cloned();
    let mut st = match &follow_up {
        Some(id) => {
            let mut prev = fetch(&state, &web, id).await?;
            prev.as_object_mut().map(|m| m.remove("sender_contact"));
            FormState::from_json(&prev)
        }
        None => FormState::default(),
    };
    st.set("sector", web.caller.org.sector.as_deref().unwrap_or(""));
    sender_defaults(&mut st, &web);
    ok(new_page(&web, &st, follow_up.as_deref(), &names))
}

pub async fn submit_new(State(state): State<AppState>, web: Web, form: FormData) -> WebResult {
    web.check_csrf(&form)?;
    let names = Names::load(&state).await?;
    let mut st = FormState::from_form(&form);
    let follow_up = form.get("_follow_up").map(str::to_string);
    if form.has("_add_row") {
        return ok(new_page(&web, &st, follow_up.as_deref(), &names));
    }
    let json = to_body(&form, KINDS);
    let result = match &follow_up {
        Some(id) => {
            async {
                api::create_follow_up(State(state.clone()), web.caller.clone(), Path(id.clone()), body(&json)?).await
            }
            .await
        }
        None => async { api::create_report(State(state.clone()), web.caller.clone(), body(&json)?).await }.await,
    };
    match result {
        Ok((_, Json(v))) => see_other(&format!("/reports/{}?done=filed", v["id"].as_str().unwrap_or(""))),
        Err(e) => {
            st.take_error(e)?;
            Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                Html(new_page(&web, &st, follow_up.as_deref(), &names).into_string()),
            )
                .into_response())
        }
    }
}

fn done_notice(lang: Lang, done: Option<&String>) -> Markup {
    let text = match done.map(String::as_str) {
        Some("filed") => Some(("報告を送信しました。", "The report has been sent.")),
        Some("forwarded") => Some(("報告を転送しました。", "The report has been forwarded.")),
        Some("shared") => Some(("報告を共有しました。", "The report has been shared.")),
        Some("consented") => Some(("開示への同意を記録しました。", "Your consent to disclosure has been recorded.")),
        Some("published") => Some(("報告を公開しました。", "The report has been published.")),
        _ => None,
    };
    html! { @if let Some((ja, en)) = text { div.notice role="status" { (lang.t(ja, en)) } } }
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

/// The report page with what the reader may do with it; `notice` sits on top.
async fn render(state: &AppState, web: &Web, id: &str, notice: Markup) -> Result<Markup, ApiError> {
    let v = fetch(state, web, id).await?;
    let names = Names::load(state).await?;
    let chain = list_of(state, web, &[("chain_id", v["chain_id"].as_str().unwrap_or(""))]).await?;
    let me = web.caller.org_id();
    let officer = web.caller.principal.is_relay_officer();
    let kind = web.caller.org.kind;
    let may_forward = v["receiver_org_id"] == me
        && v["status"] == ReportStatus::Sent.code()
        && officer
        && kind != OrgKind::Coordinator;
    let originator = kind == OrgKind::Operator && chain.iter().any(|r| r["sequence"] == 1 && r["sender_org_id"] == me);
    let publishable = kind == OrgKind::Coordinator
        && officer
        && matches!(v["tlp"].as_str(), Some("WHITE" | "CLEAR"))
        && v["disclosure_consent"] == true
        && v["published_at"].is_null();
    let body = html! {
        (notice)
        div.actions {
            @if may_forward { a.button href={ "/reports/" (id) "/forward" } { (web.t("確認して転送", "Review and forward")) } }
            @if originator { a.button href={ "/reports/new?follow_up=" (id) } { (web.t("続報を作成", "File a follow-up")) } }
            @if originator && officer && v["disclosure_consent"] != true { (action(web, id, "consent", web.t("開示に同意する", "Consent to disclosure"))) }
            @if publishable { (action(web, id, "publish", web.t("公開する", "Publish"))) }
            a.button.secondary href={ "/reports/" (id) "/print" } { (web.t("印刷用", "Print view")) }
            a.button.secondary href={ "/reports/" (id) "/pdf" } { "PDF" }
        }
        (official(web.lang, &v, &names))
        @if officer { (share_form(web, id, &v, &names)) }
        h2 { (web.t("この連絡の経路（閲覧できるもの）", "This chain (what you may read)")) }
        (table(web.lang, &chain, &names))
    };
    let title = v["identifier"].as_str().map(str::to_string).unwrap_or_else(|| web.t("報告", "Report").to_string());
    Ok(page(web, &title, body))
}

/// A one-button form posting to `/reports/{id}/{what}`.
fn action(web: &Web, id: &str, what: &str, label: &str) -> Markup {
    html! {
        form.inline method="post" action={ "/reports/" (id) "/" (what) } { (csrf(web)) button type="submit" { (label) } }
    }
}

/// Who this reader might pass the report to (domain.md §7 shares); the policy decides on submit.
fn share_candidates(web: &Web, v: &Value, names: &Names) -> Vec<(String, String)> {
    let me = &web.caller.org;
    let sector = v["sector"].as_str();
    let mut out: Vec<(String, String)> = names
        .all()
        .filter(|o| o.id != me.id)
        .filter(|o| match (me.kind, o.kind) {
            (OrgKind::Ministry, OrgKind::Ceptoar) => true,
            (OrgKind::Ceptoar, OrgKind::Operator) => o.sector == me.sector,
            (OrgKind::Operator, OrgKind::Ceptoar) => o.sector.as_deref() == sector,
            (OrgKind::Coordinator, _) => o.analysis_partner || o.kind != OrgKind::Operator,
            _ => false,
        })
        .map(|o| {
            (
                o.id.clone(),
                format!("{}（{}）", web.t(&o.name_ja, &o.name_en), crate::i18n::Label::label(o.kind, web.lang)),
            )
        })
        .collect();
    out.sort_by(|a, b| a.1.cmp(&b.1));
    out
}

fn share_form(web: &Web, id: &str, v: &Value, names: &Names) -> Markup {
    let candidates = share_candidates(web, v, names);
    html! {
        @if !candidates.is_empty() {
            details {
                summary { (web.t("共有する（情報共有範囲の内側の組織だけに共有できます）", "Share (only with organisations inside the sharing scope)")) }
                form method="post" action={ "/reports/" (id) "/share" } {
                    (csrf(web))
                    (crate::widgets::checks(web.lang, &FormState::default(), crate::widgets::req("org_ids", "共有先", "Share with"), &candidates))
                    button type="submit" { (web.t("共有する", "Share")) }
                }
            }
        }
    }
}

/// After an action on the report: back to it with a notice, or the page again with the
/// refusal in the reader's language.
async fn after<T>(state: &AppState, web: &Web, id: &str, result: Result<T, ApiError>, done: &str) -> WebResult {
    match result {
        Ok(_) => see_other(&format!("/reports/{id}?done={done}")),
        Err(e) => {
            let notice = crate::layout::refusal(web.lang, e)?;
            let html = render(state, web, id, notice).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(html.into_string())).into_response())
        }
    }
}

pub async fn share(State(state): State<AppState>, web: Web, Path(id): Path<String>, form: FormData) -> WebResult {
    web.check_csrf(&form)?;
    let targets: Vec<String> = form.all("org_ids").into_iter().filter(|s| !s.is_empty()).collect();
    let result = async {
        api::share_report(
            State(state.clone()),
            web.caller.clone(),
            Path(id.clone()),
            body(&json!({"org_ids": targets}))?,
        )
        .await
    }
    .await;
    after(&state, &web, &id, result, "shared").await
}

pub async fn consent(State(state): State<AppState>, web: Web, Path(id): Path<String>, form: FormData) -> WebResult {
    web.check_csrf(&form)?;
    let result = api::record_disclosure_consent(State(state.clone()), web.caller.clone(), Path(id.clone())).await;
    after(&state, &web, &id, result, "consented").await
}

pub async fn publish(State(state): State<AppState>, web: Web, Path(id): Path<String>, form: FormData) -> WebResult {
    web.check_csrf(&form)?;
    let result = api::publish_report(State(state.clone()), web.caller.clone(), Path(id.clone())).await;
    after(&state, &web, &id, result, "published").await
}

/// The form a receiver forwards: pre-filled with what it received, TLP keep-or-tighten, and
/// for an anonymised chain the list of what scrubbing will remove.
fn forward_page(web: &Web, id: &str, v: &Value, st: &FormState, preview: Option<&Value>, names: &Names) -> Markup {
    let received = v["tlp"].as_str().and_then(Tlp::parse).unwrap_or(Tlp::Red);
    let anonymised = v["route"] == "anonymised";
    let next = preview.map(|p| names.name(p["receiver_org_id"].as_str(), web.lang));
    html! {
        (banner(web.lang, v["tlp"].as_str().unwrap_or(""), v["severity"].as_str(), crate::i18n::report_tlp_en))
        (form_alert(web.lang, st))
        @if let Some(p) = preview {
            div.warning #review {
                h2 { (web.t("送信前の確認", "Before sending")) }
                p { (web.t("宛先: ", "Goes to: ")) strong { (next.clone().unwrap_or_default()) } }
                @let removed = p["removed"].as_array().cloned().unwrap_or_default();
                @if anonymised {
                    p { (web.t("匿名化により次の記載が削除されます。", "Anonymisation will remove the following.")) }
                    table {
                        thead { tr { th { (web.t("項目", "Field")) } th { (web.t("削除される記載", "Removed text")) } th { (web.t("件数", "Count")) } } }
                        tbody {
                            @for r in &removed { tr { td { (report_form::field_label(web.lang, r["field"].as_str().unwrap_or(""))) } td { del { (r["text"].as_str().unwrap_or("")) } } td.num { (r["count"]) } } }
                            @if removed.is_empty() { tr { td colspan="3" { (web.t("削除される記載はありません", "Nothing identifying was found")) } } }
                        }
                    }
                    p.muted { (web.t("事業者名欄は匿名化連絡では空欄になります。残したくない記載があれば下の欄で修正してください。", "The operator name is left blank on the anonymised route. Edit the fields below to remove anything else.")) }
                }
            }
        }
        form method="post" action={ "/reports/" (id) "/forward" } novalidate {
            (csrf(web))
            (fields(web.lang, st, Mode::Forward(received), &[]))
            div.actions {
                button.secondary type="submit" name="_action" value="preview" { (web.t("送信内容を確認", "Preview what is sent")) }
                @if preview.is_some() { button type="submit" name="_action" value="send" { (web.t("転送する", "Forward")) } }
            }
        }
    }
}

pub async fn forward_form(State(state): State<AppState>, web: Web, Path(id): Path<String>) -> WebResult {
    let v = fetch(&state, &web, &id).await?;
    let names = Names::load(&state).await?;
    let mut prefill = v.clone();
    prefill.as_object_mut().map(|m| m.remove("sender_contact"));
    let mut st = FormState::from_json(&prefill);
    sender_defaults(&mut st, &web);
    let preview = run_preview(&state, &web, &id, &to_body(&FormData(vec![]), KINDS), &mut st).await?;
    let title = web.t("確認して転送", "Review and forward");
    ok(page(&web, title, forward_page(&web, &id, &v, &st, preview.as_ref(), &names)))
}

async fn run_preview(
    state: &AppState,
    web: &Web,
    id: &str,
    json: &Value,
    st: &mut FormState,
) -> Result<Option<Value>, kyoyu_api::error::ApiError> {
    let result = async {
        api::preview_forward(State(state.clone()), web.caller.clone(), Path(id.to_string()), body(json)?)
            .await
            .map(|Json(v)| v)
    }
    .await;
    match result {
        Ok(v) => Ok(Some(v)),
        Err(e) => st.take_error(e).map(|_| None),
    }
}

pub async fn submit_forward(
    State(state): State<AppState>,
    web: Web,
    Path(id): Path<String>,
    form: FormData,
) -> WebResult {
    web.check_csrf(&form)?;
    let v = fetch(&state, &web, &id).await?;
    let names = Names::load(&state).await?;
    let mut st = FormState::from_form(&form);
    st.set("sector", v["sector"].as_str().unwrap_or(""));
    // The forward form offers only what a forward may change; emptied text is a deletion.
    let json = crate::form::to_body_keeping_empty_text(&form, KINDS);
    let title = web.t("確認して転送", "Review and forward");
    if form.has("_add_row") || form.get("_action") != Some("send") {
        let preview = if form.has("_add_row") { None } else { run_preview(&state, &web, &id, &json, &mut st).await? };
        let status = if st.has_errors() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
        return Ok((
            status,
            Html(page(&web, title, forward_page(&web, &id, &v, &st, preview.as_ref(), &names)).into_string()),
        )
            .into_response());
    }
    let result =
        async { api::forward_report(State(state.clone()), web.caller.clone(), Path(id.clone()), body(&json)?).await }
            .await;
    match result {
        Ok((_, Json(out))) => see_other(&format!("/reports/{}?done=forwarded", out["id"].as_str().unwrap_or(""))),
        Err(e) => {
            st.take_error(e)?;
            let html = page(&web, title, forward_page(&web, &id, &v, &st, None, &names));
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(html.into_string())).into_response())
        }
    }
}

/// The reader's copy of a report as JSON, for the print and PDF views.
pub async fn printable(state: &AppState, web: &Web, id: &str) -> Result<Markup, kyoyu_api::error::ApiError> {
    let v = fetch(state, web, id).await?;
    let names = Names::load(state).await?;
    Ok(official(web.lang, &v, &names))
}
