//! Report pages: list, file (with follow-ups pre-filled), read, forward (with the
//! secretariat's anonymisation review), print and PDF.

use super::report_form::{self, fields, official, Mode, KINDS};
use crate::call::{input, Names};
use crate::form::{to_body, FormData, FormState};
use crate::i18n::Label;
use crate::i18n::Lang;
use crate::layout::{self, banner, csrf, form_alert, ok, page, see_other, WebResult};
use crate::session::Web;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse};
use kyoyu_api::error::ApiError;
use kyoyu_api::AppState;
use kyoyu_app::files::AttachmentList;
use kyoyu_app::reads::Page;
use kyoyu_app::reports::{self as ops, ShareRequest};
use kyoyu_app::views::{ForwardPreview, ReportView};
use kyoyu_domain::codes::{ItemType, OrgKind, Route};
use kyoyu_domain::report::ReportInput;
use kyoyu_store::ReportFilter;
use maud::{html, Markup};
use serde_json::Value;
use std::collections::HashMap;

/// One report as the caller sees it (404 for anything it may not read).
pub async fn fetch(state: &AppState, web: &Web, id: &str) -> Result<ReportView, ApiError> {
    Ok(ops::get_report(&state.app, &web.caller, id).await?)
}

/// Readable renditions, newest first (in chain order with a chain filter).
pub async fn list_of(state: &AppState, web: &Web, filter: ReportFilter) -> Result<Vec<ReportView>, ApiError> {
    Ok(ops::list_reports(&state.app, &web.caller, &filter, Page::first(100)).await?.items)
}

/// Every rendition of one chain the caller may read.
pub async fn chain_of(state: &AppState, web: &Web, chain_id: &str) -> Result<Vec<ReportView>, ApiError> {
    list_of(state, web, ReportFilter { chain_id: Some(chain_id.to_string()), ..Default::default() }).await
}

/// A table of renditions with a link to each.
pub fn table(lang: Lang, rows: &[ReportView], names: &Names) -> Markup {
    table_with(lang, rows, names, html! { (lang.t("日時", "Sent")) })
}

/// As [`table`], with the time column's heading given (a list makes it sort).
pub fn table_with(lang: Lang, rows: &[ReportView], names: &Names, time_heading: Markup) -> Markup {
    html! {
        table {
            thead { tr {
                th { (lang.t("識別番号", "Identifier")) } th { (lang.t("報数", "No.")) } th { "TLP" }
                th { (lang.t("重要度", "Severity")) } th { (lang.t("分野", "Sector")) } th { (lang.t("事象", "Event")) }
                th { (lang.t("送信元 → 宛先", "From → to")) } th { (lang.t("状態", "Status")) } th { (time_heading) }
            } }
            tbody {
                @for r in rows {
                    tr {
                        td {
                            a href={ "/reports/" (r.id) } { (r.identifier.as_deref().unwrap_or(lang.t("（未採番）", "(unnumbered)"))) }
                            @if is_urgent_copy(r, names) { " " span.state { (lang.t("調整機関への写し", "copy to the coordinator")) } }
                        }
                        td.num { (r.sequence) }
                        td { (crate::layout::tlp_tag(Some(r.content.tlp.code()))) }
                        td { (r.content.severity.map(|s| s.label(lang)).unwrap_or_default()) }
                        td { (names.sector(&r.content.sector, lang)) }
                        td { (r.content.event_type.map(|e| e.label(lang)).unwrap_or_default()) }
                        td { (names.name(r.sender_org_id.as_deref(), lang)) " → " (names.name(Some(&r.receiver_org_id), lang)) }
                        td { (r.status.label(lang)) }
                        td { (report_form::jst(&r.created_at)) }
                    }
                }
                @if rows.is_empty() { tr { td colspan="9" .muted { (lang.t("該当する報告はありません", "No reports")) } } }
            }
        }
    }
}

/// The urgent route's copy straight to the coordinator, beside the hop to the ministry (both
/// carry the report's one identifier).
fn is_urgent_copy(r: &ReportView, names: &Names) -> bool {
    r.route == Route::Urgent
        && r.parent_id.is_none()
        && names.org(&r.receiver_org_id).is_some_and(|o| o.kind == OrgKind::Coordinator)
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
    let u = &web.caller.user();
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
        form method="post" action="/reports/new" enctype="multipart/form-data" novalidate {
            (csrf(web))
            @if let Some(id) = follow_up { input type="hidden" name="_follow_up" value=(id); }
            (fields(web.lang, st, mode, &orgs))
            (super::files::files_on_form(web))
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
            // The form takes the report's fields, not what the reader may do with it.
            (prev.content.sender_contact, prev.actions) = (None, None);
            FormState::from_view(&prev)?
        }
        None => FormState::default(),
    };
    st.set("sector", web.caller.org().sector.as_deref().unwrap_or(""));
    sender_defaults(&mut st, &web);
    ok(new_page(&web, &st, follow_up.as_deref(), &names))
}

/// The report form, with files (multipart) or without (a plain form post).
pub async fn submit_new(State(state): State<AppState>, web: Web, request: axum::extract::Request) -> WebResult {
    let multipart = request
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("multipart/form-data"));
    if !multipart {
        let form = <FormData as axum::extract::FromRequest<AppState>>::from_request(request, &state).await?;
        return submit_form(&state, &web, form, None).await;
    }
    let mut parts = <axum::extract::Multipart as axum::extract::FromRequest<AppState>>::from_request(request, &state)
        .await
        .map_err(|e| ApiError::field("file", e.body_text(), e.body_text()))?;
    let form = super::files::fields_before_files(&mut parts).await?;
    submit_form(&state, &web, form, Some(&mut parts)).await
}

/// Files the report the form describes; then its files, when the form sent some.
async fn submit_form(
    state: &AppState,
    web: &Web,
    form: FormData,
    files: Option<&mut axum::extract::Multipart>,
) -> WebResult {
    web.check_csrf(&form)?;
    let names = Names::load(state).await?;
    let mut st = FormState::from_form(&form);
    let follow_up = form.get("_follow_up").map(str::to_string);
    if form.has("_add_row") {
        return ok(new_page(web, &st, follow_up.as_deref(), &names));
    }
    match file(state, web, follow_up.as_deref(), &to_body(&form, KINDS)).await {
        Ok(v) => match files {
            None => see_other(&format!("/reports/{}?done=filed", v.id)),
            Some(parts) => super::files::after_filing(state, web, &v.id, &form, parts).await,
        },
        Err(e) => {
            st.take_error(e)?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(new_page(web, &st, follow_up.as_deref(), &names).into_string()))
                .into_response())
        }
    }
}

/// Files a first report, or a follow-up of the chain `follow_up` belongs to.
async fn file(state: &AppState, web: &Web, follow_up: Option<&str>, json: &Value) -> Result<ReportView, ApiError> {
    let report: ReportInput = input(json)?;
    Ok(match follow_up {
        Some(id) => ops::file_follow_up(&state.app, &web.caller, id, report).await?,
        None => ops::file_report(&state.app, &web.caller, report).await?,
    })
}

fn done_notice(lang: Lang, done: Option<&String>) -> Markup {
    let text = match done.map(String::as_str) {
        Some("filed") => Some(("報告を送信しました。", "The report has been sent.")),
        Some("forwarded") => Some(("報告を転送しました。", "The report has been forwarded.")),
        Some("shared") => Some(("報告を共有しました。", "The report has been shared.")),
        Some("consented") => Some(("開示への同意を記録しました。", "Your consent to disclosure has been recorded.")),
        Some("published") => Some(("報告を公開しました。", "The report has been published.")),
        Some("triage") => Some(("対応状況を記録しました。", "The triage has been recorded.")),
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

/// The report page with what the reader may do with it; `notice` sits on top.
async fn render(state: &AppState, web: &Web, id: &str, notice: Markup) -> Result<Markup, ApiError> {
    let v = fetch(state, web, id).await?;
    let names = Names::load(state).await?;
    let chain = chain_of(state, web, &v.chain_id).await?;
    let files = super::files::section(state, web, ItemType::Report, id, &names).await?;
    let may = v.actions.clone().unwrap_or_default();
    let body = html! {
        (notice)
        div.actions {
            @if may.forward { a.button href={ "/reports/" (id) "/forward" } { (web.t("確認して転送", "Review and forward")) } }
            @if may.follow_up { a.button href={ "/reports/new?follow_up=" (id) } { (web.t("続報を作成", "File a follow-up")) } }
            @if may.consent_to_disclosure { a.button href={ "/reports/" (id) "/consent" } { (web.t("開示への同意…", "Consent to disclosure…")) } }
            @if may.publish { a.button href={ "/reports/" (id) "/publish" } { (web.t("公開…", "Publish…")) } }
            a.button.secondary href={ "/reports/" (id) "/print" } { (web.t("印刷用", "Print view")) }
            a.button.secondary href={ "/reports/" (id) "/pdf" } { "PDF" }
        }
        @if let Some(at) = &v.disclosure_consent_at {
            p.consent-given { (web.t("報告した事業者は開示に同意しています", "The reporting operator has consented to disclosure")) "（" (report_form::shown_time(at)) " JST）" }
        }
        @if let Some(t) = &v.triage { (super::board::triage_form(web, id, t)) }
        @if let Some(before) = previous_report(&v, &chain) { (changed_since(web, before, &v)) }
        (official(web.lang, &v, &names))
        (files)
        (share_form(web, &format!("/reports/{id}/share"), &may.share_with, &names))
        (crime_report_form(web, id, &may.report_crime_to, &names))
        @if may.share_to_council {
            form method="post" action={ "/reports/" (id) "/council-share" } {
                (csrf(web))
                button.secondary type="submit" { (web.t("セプターカウンシルで共有する（範囲内の参加セプターへ）", "Share through the CEPTOAR council (members inside the scope)")) }
            }
        }
        h2 { (web.t("この連絡の経路（閲覧できるもの）", "This chain (what you may read)")) }
        (table(web.lang, &chain, &names))
    };
    let title = v.identifier.clone().unwrap_or_else(|| web.t("報告", "Report").to_string());
    Ok(page(web, &title, body))
}

/// The report before a follow-up in its chain, as the reader holds it: the rendition of the
/// previous number that reached the same organisation, else any the reader may read.
fn previous_report<'c>(v: &ReportView, chain: &'c [ReportView]) -> Option<&'c ReportView> {
    let earlier: Vec<&ReportView> = chain.iter().filter(|r| r.sequence + 1 == v.sequence).collect();
    earlier.iter().find(|r| r.receiver_org_id == v.receiver_org_id).or(earlier.first()).copied()
}

/// What changed since the report before (a follow-up's 続報 differences).
fn changed_since(web: &Web, before: &ReportView, now: &ReportView) -> Markup {
    let changes = report_form::changes(web.lang, &before.content, &now.content);
    let before_name = before
        .identifier
        .clone()
        .unwrap_or_else(|| format!("{}{}{}", web.t("第", "No. "), before.sequence, web.t("報", "")));
    html! {
        details.changes open {
            summary { (web.t("前報からの変更", "Changes since the previous report")) "（" (before_name) "）" }
            @if changes.is_empty() {
                p.muted { (web.t("前報から変更された項目はありません。", "Nothing changed since the previous report.")) }
            } @else {
                table {
                    thead { tr { th { (web.t("項目", "Field")) } th { (web.t("前報", "Before")) } th { (web.t("今回", "Now")) } } }
                    tbody { @for (field, was, is) in &changes { tr { td { (field) } td { del { (was) } } td { ins { (is) } } } } }
                }
            }
        }
    }
}

/// The policy's share targets, by name and kind.
fn share_choices(web: &Web, targets: &[String], names: &Names) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = targets
        .iter()
        .filter_map(|id| names.org(id))
        .map(|o| (o.id.clone(), format!("{}（{}）", web.t(&o.name_ja, &o.name_en), o.kind.label(web.lang))))
        .collect();
    out.sort_by(|a, b| a.1.cmp(&b.1));
    out
}

/// Checkboxes of the organisations the view says the reader may share with, posting to `action`.
pub(crate) fn share_form(web: &Web, action: &str, targets: &[String], names: &Names) -> Markup {
    let candidates = share_choices(web, targets, names);
    html! {
        @if !candidates.is_empty() {
            details {
                summary { (web.t("共有する（情報共有範囲の内側の組織だけに共有できます）", "Share (only with organisations inside the sharing scope)")) }
                form method="post" action=(action) {
                    (csrf(web))
                    (crate::widgets::checks(web.lang, &FormState::default(), crate::widgets::req("org_ids", "共有先", "Share with"), &candidates))
                    button type="submit" { (web.t("共有する", "Share")) }
                }
            }
        }
    }
}

/// The operator's report of its own submission to a response agency as a crime (別添2.2):
/// a share like the others, that nobody but the agency learns of.
fn crime_report_form(web: &Web, id: &str, agencies: &[String], names: &Names) -> Markup {
    let candidates = share_choices(web, agencies, names);
    html! {
        @if !candidates.is_empty() {
            details {
                summary { (web.t("犯罪被害として事案対処省庁へ通報する（任意）", "Report to a response agency as a crime (optional)")) }
                p.muted { (web.t(
                    "この報告を選んだ機関だけに共有します。TLP の範囲外でも届きます。通報したことは、貴組織と通報先のほかには誰にも表示されません。",
                    "Shares this report with the agencies you choose, even beyond its TLP. Nobody but your organisation and the agency is shown that you did.",
                )) }
                form method="post" action={ "/reports/" (id) "/share" } {
                    (csrf(web))
                    (crate::widgets::checks(web.lang, &FormState::default(), crate::widgets::req("org_ids", "通報先", "Report to"), &candidates))
                    button type="submit" { (web.t("通報する", "Report")) }
                }
            }
        }
    }
}

/// After an action on the report: back to it with a notice, or the page again with the
/// refusal in the reader's language.
pub(crate) async fn after<T>(
    state: &AppState,
    web: &Web,
    id: &str,
    result: Result<T, ApiError>,
    done: &str,
) -> WebResult {
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
    let result = ops::share_report(&state.app, &web.caller, &id, ShareRequest { org_ids: Some(targets) }).await;
    after(&state, &web, &id, result.map_err(ApiError::from), "shared").await
}

pub async fn consent(State(state): State<AppState>, web: Web, Path(id): Path<String>, form: FormData) -> WebResult {
    web.check_csrf(&form)?;
    if let Some(to_confirm) = super::confirm::unless_confirmed(&form, &format!("/reports/{id}/consent")) {
        return to_confirm;
    }
    let result = ops::consent_to_disclosure(&state.app, &web.caller, &id).await;
    after(&state, &web, &id, result.map_err(ApiError::from), "consented").await
}

pub async fn publish(State(state): State<AppState>, web: Web, Path(id): Path<String>, form: FormData) -> WebResult {
    web.check_csrf(&form)?;
    if let Some(to_confirm) = super::confirm::unless_confirmed(&form, &format!("/reports/{id}/publish")) {
        return to_confirm;
    }
    let result = ops::publish_report(&state.app, &web.caller, &id).await;
    after(&state, &web, &id, result.map_err(ApiError::from), "published").await
}

/// The form a receiver forwards: pre-filled with what it received, TLP keep-or-tighten, and
/// for an anonymised chain the list of what scrubbing will remove.
#[allow(clippy::too_many_arguments)]
fn forward_page(
    web: &Web,
    id: &str,
    v: &ReportView,
    st: &FormState,
    preview: Option<&ForwardPreview>,
    names: &Names,
    files: &AttachmentList,
    chosen: Option<&[String]>,
) -> Markup {
    let received = v.content.tlp;
    html! {
        (banner(web.lang, received.code(), v.content.severity.map(|s| s.code()), crate::i18n::report_tlp_en))
        (form_alert(web.lang, st))
        @if let Some(p) = preview { (review_box(web, v, p, names)) }
        form method="post" action={ "/reports/" (id) "/forward" } novalidate {
            (csrf(web))
            (carried_files(web, files, chosen))
            (fields(web.lang, st, Mode::Forward(received), &[]))
            div.actions {
                button type="submit" name="_action" value="preview" { (web.t("送信内容を確認", "Preview what is sent")) }
            }
        }
    }
}

/// The received rendition's files, each chosen to go on or not (all, at first).
fn carried_files(web: &Web, files: &AttachmentList, chosen: Option<&[String]>) -> Markup {
    html! {
        @if !files.items.is_empty() {
            fieldset {
                legend { (web.t("転送するファイル", "Files sent on")) }
                input type="hidden" name="_files_listed" value="1";
                @for f in &files.items {
                    label.check {
                        input type="checkbox" name="_attachment_ids" value=(f.id) checked[chosen.is_none_or(|c| c.contains(&f.id))];
                        " " (f.name) " (" (f.kind.label(web.lang)) ", TLP:" (f.tlp.code()) ")"
                    }
                }
                p.muted { (web.t("ファイルの中身は匿名化されません。転送する前に確認してください。", "File contents are not anonymised: check them before sending them on.")) }
            }
        }
    }
}

/// The files a forward form chose: None when it listed none (every file goes on).
fn chosen_files(form: &FormData) -> Option<Vec<String>> {
    form.has("_files_listed").then(|| form.all("_attachment_ids").into_iter().filter(|id| !id.is_empty()).collect())
}

/// Where the forward goes and, on the anonymised route, what scrubbing removes.
fn review_box(web: &Web, v: &ReportView, p: &ForwardPreview, names: &Names) -> Markup {
    let removed = &p.removed;
    html! {
        div.warning #review {
            h2 { (web.t("送信前の確認", "Before sending")) }
            p { (web.t("宛先: ", "Goes to: ")) strong { (names.name(Some(&p.receiver_org_id), web.lang)) } }
            @if v.route == Route::Anonymised {
                p { (web.t("匿名化により次の記載が削除されます。", "Anonymisation will remove the following.")) }
                table {
                    thead { tr { th { (web.t("項目", "Field")) } th { (web.t("削除される記載", "Removed text")) } th { (web.t("件数", "Count")) } } }
                    tbody {
                        @for r in removed { tr { td { (report_form::field_label(web.lang, &r.field)) } td { del { (r.text) } } td.num { (r.count) } } }
                        @if removed.is_empty() { tr { td colspan="3" { (web.t("削除される記載はありません", "Nothing identifying was found")) } } }
                    }
                }
                p.muted { (web.t("事業者名欄は匿名化連絡では空欄になります。残したくない記載があれば修正してください。", "The operator name is left blank on the anonymised route. Edit the fields to remove anything else.")) }
            }
            @if !p.attachments.is_empty() {
                p { (web.t("送られるファイル（受け取る側での名前）: ", "Files sent on (named as they arrive): "))
                    @for (i, name) in p.attachments.iter().enumerate() { @if i > 0 { "、" } strong { (name) } } }
            }
        }
    }
}

/// The forward as the next hop will receive it, read-only, with the choices made carried in
/// hidden fields: send it, or go back and edit.
fn review_page(web: &Web, id: &str, v: &ReportView, p: &ForwardPreview, form: &FormData, names: &Names) -> Markup {
    let mut next = v.clone();
    next.content = p.rendition.clone();
    next.receiver_org_id = p.receiver_org_id.clone();
    next.sender_org_id = Some(web.caller.org_id().to_string());
    let carried = form
        .0
        .iter()
        .filter(|(name, _)| !name.starts_with('_') || name == "_attachment_ids" || name == "_files_listed");
    html! {
        (review_box(web, v, p, names))
        h2 { (web.t("次の宛先が受け取る内容", "What the next recipient receives")) }
        (official(web.lang, &next, names))
        form.actions method="post" action={ "/reports/" (id) "/forward" } {
            (csrf(web))
            @for (name, value) in carried { input type="hidden" name=(name) value=(value); }
            button type="submit" name="_action" value="send" { (web.t("転送する", "Forward")) }
            button.secondary type="submit" name="_action" value="edit" { (web.t("修正する", "Edit")) }
        }
    }
}

pub async fn forward_form(State(state): State<AppState>, web: Web, Path(id): Path<String>) -> WebResult {
    let v = fetch(&state, &web, &id).await?;
    let names = Names::load(&state).await?;
    let mut prefill = v.clone();
    (prefill.content.sender_contact, prefill.actions) = (None, None);
    let mut st = FormState::from_view(&prefill)?;
    sender_defaults(&mut st, &web);
    let preview = run_preview(&state, &web, &id, &to_body(&FormData(vec![]), KINDS), None, &mut st).await?;
    let files = kyoyu_app::files::list_attachments(&state.app, &web.caller, Some(&id)).await?;
    let title = web.t("確認して転送", "Review and forward");
    ok(page(&web, title, forward_page(&web, &id, &v, &st, preview.as_ref(), &names, &files, None)))
}

async fn run_preview(
    state: &AppState,
    web: &Web,
    id: &str,
    json: &Value,
    chosen: Option<&[String]>,
    st: &mut FormState,
) -> Result<Option<ForwardPreview>, ApiError> {
    match ops::preview_forward(&state.app, &web.caller, id, input(json)?, chosen).await.map_err(ApiError::from) {
        Ok(v) => Ok(Some(v)),
        Err(e) => st.take_error(e).map(|_| None),
    }
}

async fn forward(
    state: &AppState,
    web: &Web,
    id: &str,
    json: &Value,
    chosen: Option<&[String]>,
) -> Result<ReportView, ApiError> {
    Ok(ops::forward_report(&state.app, &web.caller, id, input(json)?, chosen).await?.report)
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
    st.set("sector", &v.content.sector);
    // The forward form offers only what a forward may change; emptied text is a deletion.
    let json = crate::form::to_body_keeping_empty_text(&form, KINDS);
    let chosen = chosen_files(&form);
    let files = kyoyu_app::files::list_attachments(&state.app, &web.caller, Some(&id)).await?;
    let title = web.t("確認して転送", "Review and forward");
    if form.has("_add_row") || form.get("_action") != Some("send") {
        let preview = match form.has("_add_row") {
            true => None,
            false => run_preview(&state, &web, &id, &json, chosen.as_deref(), &mut st).await?,
        };
        if let (Some(p), Some("preview"), false) = (&preview, form.get("_action"), st.has_errors()) {
            let title = web.t("送信内容の確認", "Review what is sent");
            return ok(page(&web, title, review_page(&web, &id, &v, p, &form, &names)));
        }
        let status = if st.has_errors() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
        return Ok((
            status,
            Html(
                page(
                    &web,
                    title,
                    forward_page(&web, &id, &v, &st, preview.as_ref(), &names, &files, chosen.as_deref()),
                )
                .into_string(),
            ),
        )
            .into_response());
    }
    match forward(&state, &web, &id, &json, chosen.as_deref()).await {
        Ok(out) => see_other(&format!("/reports/{}?done=forwarded", out.id)),
        Err(e) => {
            st.take_error(e)?;
            let html = page(&web, title, forward_page(&web, &id, &v, &st, None, &names, &files, chosen.as_deref()));
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(html.into_string())).into_response())
        }
    }
}

/// The reader's copy of a report laid out as the form, for the print and PDF views.
pub async fn printable(state: &AppState, web: &Web, v: &ReportView) -> Result<Markup, ApiError> {
    let names = Names::load(state).await?;
    Ok(official(web.lang, v, &names))
}
