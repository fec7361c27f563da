//! Advisory pages (情報提供, 図7/図8): authoring with sources, recipient suggestions,
//! sanitisation and scope checks and widening requests; reading with banners,
//! acknowledgments, relays and questions.

use super::report_form::{self, jst};
use crate::call::{input, Names};
use crate::form::{to_body, FormData, FormState, Kind};
use crate::i18n::{Label, Lang};
use crate::layout::{self, banner, csrf, field_errors, form_alert, multiline, ok, page, see_other, WebResult};
use crate::session::Web;
use crate::widgets::{area, checks, choose, f, lines, radio_codes, req, text, yes_no};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse};
use kyoyu_api::error::ApiError;
use kyoyu_api::AppState;
use kyoyu_app::advisories::{self as ops, AckRequest, QuestionRequest, WideningRequest};
use kyoyu_app::reads::Page;
use kyoyu_app::views::{AdvisoryView, QuestionList};
use kyoyu_domain::advisory::AdvisoryInput;
use kyoyu_domain::codes::{AckStatus, ItemType, OrgKind, Severity};
use kyoyu_domain::Tlp;
use kyoyu_store::AdvisoryFilter;
use maud::{html, Markup};
use serde_json::{json, Value};
use std::collections::{BTreeSet, HashMap};

const KINDS: &[(&str, Kind)] = &[
    ("tlp", Kind::Code),
    ("severity", Kind::Code),
    ("has_attachments", Kind::Bool),
    ("urgent", Kind::Bool),
    ("source_report_ids", Kind::Many),
    ("source_partner_ids", Kind::Many),
    ("external_sources", Kind::Lines),
];

/// The value of a recipient checkbox: ministry and sector.
fn recipient_value(ministry: &str, sector: &str) -> String {
    format!("{ministry}|{sector}")
}

/// The JSON body of the authoring form: recipients come from `_recipient` pairs.
fn draft_body(form: &FormData) -> Value {
    let mut v = to_body(form, KINDS);
    let recipients: Vec<Value> = form
        .all("_recipient")
        .iter()
        .filter_map(|r| r.split_once('|'))
        .map(|(m, s)| json!({"ministry_org_id": m, "sector": s}))
        .collect();
    if let Value::Object(fields) = &mut v {
        fields.insert("recipients".to_string(), Value::Array(recipients));
    }
    v
}

pub async fn fetch(state: &AppState, web: &Web, id: &str) -> Result<AdvisoryView, ApiError> {
    Ok(ops::get_advisory(&state.app, &web.caller, id).await?)
}

pub async fn list_of(state: &AppState, web: &Web, filter: AdvisoryFilter) -> Result<Vec<AdvisoryView>, ApiError> {
    Ok(ops::list_advisories(&state.app, &web.caller, &filter, Page::first(100)).await?.items)
}

/// The questions of an advisory's thread, for those who take part in it.
pub async fn questions_of(state: &AppState, web: &Web, v: &AdvisoryView) -> Result<QuestionList, ApiError> {
    if !v.actions.ask {
        return Ok(QuestionList { items: Vec::new() });
    }
    Ok(ops::list_questions(&state.app, &web.caller, &v.id).await?)
}

/// Acknowledged deliveries out of all the reader may see.
fn ack_count(v: &AdvisoryView) -> (usize, usize) {
    (v.deliveries.iter().filter(|d| d.acknowledgment.is_some()).count(), v.deliveries.len())
}

pub fn table(lang: Lang, rows: &[AdvisoryView]) -> Markup {
    html! {
        table {
            thead { tr {
                th { (lang.t("識別番号", "Identifier")) } th { "TLP" } th { (lang.t("重要度", "Severity")) }
                th { (lang.t("概要", "Summary")) } th { (lang.t("状態", "Status")) } th { (lang.t("受領確認", "Acknowledged")) }
            } }
            tbody {
                @for a in rows {
                    @let (acked, total) = ack_count(a);
                    tr {
                        td { a href={ "/advisories/" (a.id) } { (a.identifier.as_deref().unwrap_or(lang.t("（下書き）", "(draft)"))) } }
                        td { (crate::layout::tlp_tag(Some(a.draft.tlp.code()))) }
                        td { (a.draft.severity.map(|s| s.label(lang)).unwrap_or_default()) }
                        td { (a.draft.content.summary.as_deref().unwrap_or("").chars().take(60).collect::<String>()) }
                        td { (a.status.label(lang)) }
                        td.num { (acked) " / " (total) }
                    }
                }
                @if rows.is_empty() { tr { td colspan="6" .muted { (lang.t("該当する情報提供はありません", "No advisories")) } } }
            }
        }
    }
}

pub async fn list(State(state): State<AppState>, web: Web) -> WebResult {
    let rows = list_of(&state, &web, Default::default()).await?;
    ok(page(&web, web.t("情報提供一覧", "Advisories"), table(web.lang, &rows)))
}

/// What the authoring form offers: recipient pairs, candidate sources and suggestions.
struct Choices {
    recipients: Vec<(String, String)>,
    sources: Vec<(String, String)>,
    /// Partner information the author may cite.
    partner_sources: Vec<(String, String)>,
    suggested: BTreeSet<String>,
}

async fn choices(state: &AppState, web: &Web, st: &FormState, names: &Names) -> Result<Choices, ApiError> {
    let lang = web.lang;
    let sectors = state.store.list_sectors().await?;
    let mut suggested = BTreeSet::new();
    for id in st.values.get("source_report_ids").into_iter().flatten().filter(|s| !s.is_empty()) {
        if let Ok(v) = kyoyu_app::notifications::suggest_recipients(&state.app, &web.caller, id).await {
            suggested.insert(v.sector);
            suggested.extend(v.sectors);
        }
    }
    let recipients = sectors
        .iter()
        .filter_map(|s| {
            let m = s.ministry_org_id.as_deref()?;
            let mark = if suggested.contains(&s.code) { lang.t(" ★推奨", " ★ suggested") } else { "" };
            Some((
                recipient_value(m, &s.code),
                format!("{}（{}）{mark}", lang.t(&s.name_ja, &s.name_en), names.name(Some(m), lang)),
            ))
        })
        .collect();
    let received = super::reports::list_of(state, web, Default::default()).await?;
    let sources = received
        .iter()
        .filter(|r| r.receiver_org_id == web.caller.org_id())
        .map(|r| {
            let label = format!(
                "{} TLP:{} {} — {}",
                r.identifier.as_deref().unwrap_or(lang.t("（未採番）", "(unnumbered)")),
                r.content.tlp.code(),
                r.content.sector,
                r.content.summary.description.as_deref().unwrap_or("").chars().take(40).collect::<String>()
            );
            (r.id.clone(), label)
        })
        .collect();
    let partner_sources = super::partner::list_of(state, web, &Default::default())
        .await?
        .iter()
        .filter(|v| v.actions.cite)
        .map(|v| (v.id.clone(), super::partner::label(v)))
        .collect();
    Ok(Choices { recipients, sources, partner_sources, suggested })
}

pub(super) fn tlp_options(lang: Lang) -> Vec<(String, String)> {
    [Tlp::Red, Tlp::AmberStrict, Tlp::Amber, Tlp::Green, Tlp::White, Tlp::Clear]
        .iter()
        .map(|t| (t.code().to_string(), format!("TLP:{} {}", t.code(), t.label(Lang::Ja)) + &lang_suffix(lang, *t)))
        .collect()
}

fn lang_suffix(lang: Lang, t: Tlp) -> String {
    match lang {
        Lang::Ja => String::new(),
        Lang::En => format!(" ({})", crate::i18n::advisory_tlp_en(t)),
    }
}

/// The authoring form, in the order of the advisory form (情報提供様式).
fn draft_form(web: &Web, st: &FormState, c: &Choices, action: &str, widenings: &[String]) -> Markup {
    let lang = web.lang;
    html! {
        (form_alert(lang, st))
        form method="post" action=(action) novalidate {
            (csrf(web))
            fieldset {
                legend { (lang.t("情報源", "Sources")) }
                (checks(lang, st, f("source_report_ids", "情報源とする報告", "Source reports"), &c.sources))
                @if !c.partner_sources.is_empty() {
                    (checks(lang, st, f("source_partner_ids", "情報源とする関係機関からの情報（提供元は受信者に示されません）", "Source partner information (recipients are never told who sent it)"), &c.partner_sources))
                }
                (lines(lang, st, f("external_sources", "外部の STIX オブジェクト ID（1行に1件）", "Outside STIX object ids (one per line)")))
                button.secondary type="submit" name="_action" value="suggest" { (lang.t("宛先の推奨を更新", "Update recipient suggestions")) }
                @if !c.suggested.is_empty() { p.muted { (lang.t("★は情報源の分野と依存関係から推奨される宛先です。", "★ marks recipients suggested from the sources' sectors and dependencies.")) } }
            }
            fieldset {
                legend { (lang.t("宛先・重要度・情報共有範囲", "Recipients, severity, scope")) }
                (checks(lang, st, req("_recipient", "宛先（所管省庁・分野）", "Recipients (ministry and sector)"), &c.recipients))
                (field_errors(lang, st, "recipients"))
                (radio_codes(lang, st, f("severity", "重要度", "Severity"), Severity::ALL))
                (choose(lang, st, req("tlp", "情報共有範囲", "Sharing scope (TLP)"), &tlp_options(lang)))
                (area(lang, st, f("tlp_note", "特記事項", "Special note")))
                (yes_no(lang, st, req("has_attachments", "別紙有無", "Attachments")))
                (yes_no(lang, st, f("urgent", "緊急（セプターへ直接、リエゾンへ写し）", "Urgent (straight to CEPTOARs, copied to liaisons)")))
            }
            fieldset {
                legend { (lang.t("◆情報提供の内容", "Contents")) }
                (area(lang, st, f("content.summary", "(1) 概要", "(1) Summary")))
                (area(lang, st, f("content.targets", "(2) 影響対象", "(2) Affected targets")))
                (area(lang, st, f("content.countermeasures", "(3) 対策", "(3) Countermeasures")))
                (area(lang, st, f("content.other", "(4) その他", "(4) Other")))
            }
            fieldset {
                legend { (lang.t("問合せ先", "Contact")) }
                (text(lang, st, f("contact.name", "担当者名", "Name")))
                (text(lang, st, f("contact.phone", "電話番号", "Phone")))
                (text(lang, st, f("contact.fax", "FAX番号", "Fax")))
                (text(lang, st, f("contact.email", "電子メールアドレス", "E-mail")))
            }
            div.actions {
                button.secondary type="submit" name="_action" value="save" { (lang.t("下書きを保存", "Save draft")) }
                @if action != "/advisories/new" { button type="submit" name="_action" value="issue" { (lang.t("確認して発出", "Check and issue")) } }
            }
        }
        @for (i, report_id) in widenings.iter().enumerate() {
            form method="post" action={ (action) "/widening" } {
                (csrf(web))
                input type="hidden" name="report_id" value=(report_id);
                button.secondary type="submit" { (lang.t("情報源に範囲拡大の同意を求める", "Ask the source to consent to a wider scope")) " (" (i + 1) ")" }
            }
        }
    }
}

pub async fn new_form(State(state): State<AppState>, web: Web, Query(q): Query<HashMap<String, String>>) -> WebResult {
    let names = Names::load(&state).await?;
    let mut st = FormState::default();
    if let Some(source) = q.get("source") {
        st.set("source_report_ids", source);
    }
    if let Some(partner) = q.get("partner") {
        st.set("source_partner_ids", partner);
    }
    st.set("contact.name", &web.caller.user().display_name);
    st.set("contact.email", web.caller.user().email.as_deref().unwrap_or(""));
    let c = choices(&state, &web, &st, &names).await?;
    ok(page(&web, web.t("情報提供の作成", "New advisory"), draft_form(&web, &st, &c, "/advisories/new", &[])))
}

async fn rerender(
    state: &AppState,
    web: &Web,
    st: &FormState,
    action: &str,
    widenings: &[String],
    status: StatusCode,
) -> WebResult {
    let names = Names::load(state).await?;
    let c = choices(state, web, st, &names).await?;
    let html = page(web, web.t("情報提供の作成", "New advisory"), draft_form(web, st, &c, action, widenings));
    Ok((status, Html(html.into_string())).into_response())
}

/// Recipients typed into the form show as the checkbox values.
fn with_recipients(mut st: FormState, v: &AdvisoryView) -> FormState {
    let pairs: Vec<String> =
        v.draft.recipients.iter().map(|r| recipient_value(&r.ministry_org_id, &r.sector)).collect();
    st.values.insert("_recipient".into(), pairs);
    st
}

pub async fn submit_new(State(state): State<AppState>, web: Web, form: FormData) -> WebResult {
    web.check_csrf(&form)?;
    let mut st = FormState::from_form(&form);
    if form.get("_action") == Some("suggest") {
        return rerender(&state, &web, &st, "/advisories/new", &[], StatusCode::OK).await;
    }
    match create(&state, &web, &draft_body(&form)).await {
        Ok(v) => see_other(&format!("/advisories/{}?done=saved", v.id)),
        Err(e) => {
            st.take_error(e)?;
            rerender(&state, &web, &st, "/advisories/new", &[], StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

async fn create(state: &AppState, web: &Web, json: &Value) -> Result<AdvisoryView, ApiError> {
    Ok(ops::create_advisory(&state.app, &web.caller, input::<AdvisoryInput>(json)?).await?)
}

/// Saves a draft's edits.
async fn save(state: &AppState, web: &Web, id: &str, json: &Value) -> Result<(), ApiError> {
    ops::update_advisory(&state.app, &web.caller, id, input::<AdvisoryInput>(json)?).await?;
    Ok(())
}

/// Saves a draft's edits; "check and issue" then shows what issuing would do (see
/// `confirm::issue_advisory`). Errors come back beside their fields.
pub async fn submit_draft(
    State(state): State<AppState>,
    web: Web,
    Path(id): Path<String>,
    form: FormData,
) -> WebResult {
    web.check_csrf(&form)?;
    let action = format!("/advisories/{id}");
    let st = FormState::from_form(&form);
    if form.get("_action") == Some("suggest") {
        return rerender(&state, &web, &st, &action, &[], StatusCode::OK).await;
    }
    let issue = form.get("_action") == Some("issue");
    let saved = save(&state, &web, &id, &draft_body(&form)).await;
    // "Check and issue" runs every check first, so refusals show on the draft, not after.
    let checked = match saved {
        Ok(()) if issue => ops::check_issue(&state.app, &web.caller, &id).await.map_err(ApiError::from),
        other => other,
    };
    match checked {
        Ok(()) if issue => see_other(&format!("/advisories/{id}/issue")),
        Ok(()) => see_other(&format!("/advisories/{id}?done=saved")),
        Err(e) => refused(&state, &web, st, &action, e).await,
    }
}

/// The draft form again with the refusal beside its fields, and a widening request offered
/// for each source out of scope.
async fn refused(state: &AppState, web: &Web, mut st: FormState, action: &str, e: ApiError) -> WebResult {
    st.take_error(e)?;
    let out_of_scope = sources_out_of_scope(&st);
    rerender(state, web, &st, action, &out_of_scope, StatusCode::UNPROCESSABLE_ENTITY).await
}

/// Issues a confirmed draft; a refusal (sanitisation, scope) shows on the draft form.
pub async fn issue(State(state): State<AppState>, web: Web, Path(id): Path<String>, form: FormData) -> WebResult {
    web.check_csrf(&form)?;
    if let Some(to_confirm) = super::confirm::unless_confirmed(&form, &format!("/advisories/{id}/issue")) {
        return to_confirm;
    }
    match ops::issue_advisory(&state.app, &web.caller, &id).await {
        Ok(_) => see_other(&format!("/advisories/{id}?done=issued")),
        Err(e) => {
            let v = fetch(&state, &web, &id).await?;
            let st = with_recipients(FormState::from_view(&v)?, &v);
            refused(&state, &web, st, &format!("/advisories/{id}"), e.into()).await
        }
    }
}

/// The sources a saved draft already reaches beyond (the scope check issuing makes, run at
/// once so the author hears of it before issuing), marked beside their field; other checks
/// wait for "check and issue" (a new draft is not yet complete).
async fn scope_warnings(state: &AppState, web: &Web, id: &str, st: &mut FormState) -> Result<Vec<String>, ApiError> {
    let Err(e) = ops::check_scope(&state.app, &web.caller, id).await else { return Ok(Vec::new()) };
    let mut checked = FormState::default();
    checked.take_error(e.into())?;
    st.errors.extend(checked.errors.into_iter().filter(|e| e.field.starts_with("source_report_ids[")));
    Ok(sources_out_of_scope(st))
}

/// The source reports the scope rule refused (`source_report_ids[i]`).
fn sources_out_of_scope(st: &FormState) -> Vec<String> {
    let sources = st.values.get("source_report_ids").cloned().unwrap_or_default();
    let chosen: Vec<&String> = sources.iter().filter(|s| !s.is_empty()).collect();
    st.errors
        .iter()
        .filter_map(|e| e.field.strip_prefix("source_report_ids[")?.strip_suffix(']')?.parse::<usize>().ok())
        .filter_map(|i| chosen.get(i).map(|s| s.to_string()))
        .collect()
}

pub async fn request_widening(
    State(state): State<AppState>,
    web: Web,
    Path(id): Path<String>,
    form: FormData,
) -> WebResult {
    web.check_csrf(&form)?;
    let request = WideningRequest { report_id: form.get("report_id").map(str::to_string) };
    ops::request_scope_widening(&state.app, &web.caller, &id, request).await.map_err(ApiError::from)?;
    see_other(&format!("/advisories/{id}?done=widening"))
}

fn done_notice(lang: Lang, done: Option<&String>) -> Markup {
    let text = match done.map(String::as_str) {
        Some("saved") => Some(("下書きを保存しました。", "The draft has been saved.")),
        Some("issued") => Some(("情報提供を発出しました。", "The advisory has been issued.")),
        Some("relayed") => Some(("情報提供を伝達しました。", "The advisory has been relayed.")),
        Some("acknowledged") => Some(("受領確認を送りました。", "Your acknowledgment has been recorded.")),
        Some("asked") => Some(("質問を送りました。", "Your question has been sent.")),
        Some("widening") => Some(("範囲拡大の同意を求めました。", "Scope widening has been requested.")),
        other => super::files::done_text(other),
    };
    layout::done_notice(lang, text)
}

/// The advisory laid out like 図7/図8.
pub fn official(lang: Lang, v: &AdvisoryView, names: &Names) -> Markup {
    let text = |t: &Option<String>| t.clone().unwrap_or_default();
    let recipients: Vec<String> = v
        .draft
        .recipients
        .iter()
        .map(|r| format!("{}（{}）", names.name(Some(&r.ministry_org_id), lang), names.sector(&r.sector, lang)))
        .collect();
    let (content, contact) = (&v.draft.content, &v.draft.contact);
    let tlp = v.draft.tlp.code();
    html! {
        p.form-title { (lang.t("情報提供様式", "Advisory form")) }
        p.form-note { (lang.t("（＊が付与された項目は必須事項）", "(items marked ＊ are required)")) }
        (banner(lang, tlp, v.draft.severity.map(|s| s.code()), crate::i18n::advisory_tlp_en))
        table.official { tbody {
            tr { th { (lang.t("報数", "Sequence")) } td { (lang.t("第", "No. ")) (v.sequence) (lang.t("報", "")) @if v.draft.urgent { " " strong { (lang.t("【緊急】", "[URGENT]")) } } } }
            tr { th { (lang.t("識別番号", "Identifier")) } td { (v.identifier.as_deref().unwrap_or("")) } }
            tr { th { (lang.t("情報提供日時", "Issued at")) } td { (jst(v.issued_at.as_deref().unwrap_or(""))) } }
            tr { th { (lang.t("情報提供先", "Recipients")) } td { (lang.join(&recipients)) } }
            tr { th { (lang.t("重要度", "Severity")) } td { (report_form::grid(lang, Severity::ALL, v.draft.severity.as_slice())) } }
            tr { th { (lang.t("情報共有範囲", "Sharing scope")) span.required-mark { "＊" } } td { (report_form::tlp_grid(lang, v.draft.tlp, crate::i18n::advisory_tlp_en)) @if let Some(n) = &v.draft.tlp_note { br; (lang.t("特記事項", "Special note")) "：" (n) } } }
            tr { th { (lang.t("別紙有無", "Attachments")) } td { (if v.draft.has_attachments { lang.t("有", "yes") } else { lang.t("無", "no") }) } }
            tr { th.section colspan="2" { (lang.t("◆情報提供の内容", "Contents")) } }
            tr { th { (lang.t("(1) 概要", "(1) Summary")) } td { (multiline(&text(&content.summary))) } }
            tr { th { (lang.t("(2) 影響対象", "(2) Affected targets")) } td { (multiline(&text(&content.targets))) } }
            tr { th { (lang.t("(3) 対策", "(3) Countermeasures")) } td { (multiline(&text(&content.countermeasures))) } }
            tr { th { (lang.t("(4) その他", "(4) Other")) } td { (multiline(&text(&content.other))) } }
            tr { th { (lang.t("本件問合せ先（情報共有範囲からの問合せに限る。）", "Contact for this advisory (questions from within its sharing scope only)")) } td {
                (lang.t("担当者名", "Name")) "：" (text(&contact.name)) "　" (lang.t("電話番号", "Phone")) "：" (text(&contact.phone)) "　"
                (lang.t("FAX番号", "Fax")) "：" (text(&contact.fax)) "　" (lang.t("電子メールアドレス", "E-mail")) "：" (text(&contact.email))
            } }
        } }
    }
}

pub async fn printable(state: &AppState, web: &Web, v: &AdvisoryView) -> Result<Markup, ApiError> {
    let names = Names::load(state).await?;
    Ok(official(web.lang, v, &names))
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

/// The advisory page: the draft form for its author, else the reading view with what the
/// reader may do (acknowledge, relay, ask); `notice` sits on top.
async fn render(state: &AppState, web: &Web, id: &str, notice: Markup) -> Result<Markup, ApiError> {
    let v = fetch(state, web, id).await?;
    let names = Names::load(state).await?;
    if v.actions.edit {
        let mut st = with_recipients(FormState::from_view(&v)?, &v);
        let out_of_scope = scope_warnings(state, web, id, &mut st).await?;
        let c = choices(state, web, &st, &names).await?;
        let warning = html! {
            @if !out_of_scope.is_empty() {
                div.warning role="note" { p { (web.t(
                    "この下書きは情報源の報告の共有範囲を超えています。このままでは発出できません。範囲を狭めるか、情報源に同意を求めてください。",
                    "This draft reaches beyond a source report's sharing scope and cannot be issued as it is. Narrow it, or ask the source to consent."
                )) } }
            }
        };
        let files = super::files::section(state, web, ItemType::Advisory, id, &names).await?;
        let body = html! { (notice) (warning) (draft_form(web, &st, &c, &format!("/advisories/{id}"), &out_of_scope)) (files) };
        return Ok(page(web, web.t("情報提供の下書き", "Advisory draft"), body));
    }
    let questions = questions_of(state, web, &v).await?;
    let title = v.identifier.clone().unwrap_or_else(|| web.t("情報提供", "Advisory").to_string());
    let body = html! {
        (notice)
        div.actions {
            @if v.actions.follow_up {
                form.inline method="post" action={ "/advisories/" (id) "/follow-up" } {
                    (csrf(web)) button type="submit" { (web.t("続報を作成", "Draft a follow-up")) }
                }
            }
            a.button.secondary href={ "/advisories/" (id) "/print" } { (web.t("印刷用", "Print view")) }
            a.button.secondary href={ "/advisories/" (id) "/pdf" } { "PDF" }
        }
        (official(web.lang, &v, &names))
        (super::files::section(state, web, ItemType::Advisory, id, &names).await?)
        @if v.actions.acknowledge { (ack_form(web, id, &v)) }
        (super::relay::relay_form(web, id, &v, &names))
        (deliveries(web, &v, &names))
        @if v.actions.ask { (questions_block(web, id, &questions, &names)) }
    };
    Ok(page(web, &title, body))
}

/// After an action on the advisory: back to it with a notice, or the page again with the
/// refusal in the reader's language (not found and internal errors stay errors).
pub(super) async fn after<T>(
    state: &AppState,
    web: &Web,
    id: &str,
    result: Result<T, ApiError>,
    done: &str,
) -> WebResult {
    let e = match result {
        Ok(_) => return see_other(&format!("/advisories/{id}?done={done}")),
        Err(e) => e,
    };
    let notice = crate::layout::refusal(web.lang, e)?;
    let html = render(state, web, id, notice).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(html.into_string())).into_response())
}

fn ack_form(web: &Web, id: &str, v: &AdvisoryView) -> Markup {
    html! {
        h2 { (web.t("受領確認", "Acknowledge")) }
        @if v.acknowledged { p.muted { (web.t("受領確認済みです。状態を更新できます。", "Acknowledged; you may update the status.")) } }
        form.actions method="post" action={ "/advisories/" (id) "/ack" } {
            (csrf(web))
            input type="text" name="comment" placeholder=(web.t("コメント（任意）", "Comment (optional)")) aria-label=(web.t("コメント", "Comment"));
            @for s in AckStatus::ALL { button type="submit" name="status" value=(s.code()) { (s.label(web.lang)) } }
        }
    }
}

fn deliveries(web: &Web, v: &AdvisoryView, names: &Names) -> Markup {
    let rows = &v.deliveries;
    html! {
        @if !rows.is_empty() {
            h2 { (web.t("伝達と受領確認", "Deliveries and acknowledgments")) }
            table {
                thead { tr { th { (web.t("送信元", "From")) } th { (web.t("宛先", "To")) } th { "TLP" } th { (web.t("伝達日時", "Delivered")) } th { (web.t("受領確認", "Acknowledgment")) } th { (web.t("所要時間（秒）", "Seconds")) } } }
                tbody { @for d in rows {
                    tr {
                        td { (names.name(Some(&d.from_org_id), web.lang)) }
                        td { (names.name(Some(&d.to_org_id), web.lang)) @if d.copy { " " (web.t("（写し）", "(copy)")) } }
                        td { (d.tlp.code()) }
                        td { (jst(&d.delivered_at)) }
                        td { @match &d.acknowledgment { None => span.muted { (web.t("未確認", "pending")) }, Some(ack) => { (ack.status.label(web.lang)) " " (ack.comment) } } }
                        td.num { (d.acknowledgment.as_ref().and_then(|a| a.seconds_to_acknowledge).map(|s| s.to_string()).unwrap_or_default()) }
                    }
                } }
            }
        }
    }
}

fn questions_block(web: &Web, id: &str, thread: &QuestionList, names: &Names) -> Markup {
    // The coordinator's posts are the answers.
    let answering = web.caller.org().kind == OrgKind::Coordinator;
    let (label, button) = if answering {
        (
            web.t(
                "回答する（範囲内の省庁と調整機関だけが読めます）",
                "Answer (read by the coordinator and ministries in scope only)",
            ),
            web.t("回答を送信", "Send the answer"),
        )
    } else {
        (
            web.t(
                "質問する（範囲内の省庁と調整機関だけが読めます）",
                "Ask a question (read by the coordinator and ministries in scope only)",
            ),
            web.t("質問を送信", "Send the question"),
        )
    };
    html! {
        h2 { (web.t("質問と回答", "Questions and answers")) }
        @for q in &thread.items {
            div.card.answer[q.answer] {
                p.muted {
                    (names.name(Some(&q.post.author_org_id), web.lang)) "　" (jst(&q.post.created_at)) "　"
                    @if q.answer { span.state { (web.t("回答", "Answer")) } }
                    @else if q.answered { span.state { (web.t("回答済み", "Answered")) } }
                    @else { span.state.pending { (web.t("未回答", "Not answered yet")) } }
                }
                p { (multiline(&q.post.text)) }
            }
        }
        form method="post" action={ "/advisories/" (id) "/questions" } {
            (csrf(web))
            label for="question" { (label) }
            textarea #question name="text" required {}
            button type="submit" { (button) }
        }
    }
}

pub async fn acknowledge(State(state): State<AppState>, web: Web, Path(id): Path<String>, form: FormData) -> WebResult {
    web.check_csrf(&form)?;
    let json =
        json!({"status": form.get("status").unwrap_or_default(), "comment": form.get("comment").unwrap_or_default()});
    let result = acknowledge_with(&state, &web, &id, &json).await;
    after(&state, &web, &id, result, "acknowledged").await
}

async fn acknowledge_with(state: &AppState, web: &Web, id: &str, json: &Value) -> Result<AdvisoryView, ApiError> {
    Ok(ops::acknowledge_advisory(&state.app, &web.caller, id, input::<AckRequest>(json)?).await?)
}

pub async fn ask(State(state): State<AppState>, web: Web, Path(id): Path<String>, form: FormData) -> WebResult {
    web.check_csrf(&form)?;
    let question = QuestionRequest { text: form.get("text").map(str::to_string) };
    let result = ops::ask_question(&state.app, &web.caller, &id, question).await.map_err(ApiError::from);
    after(&state, &web, &id, result, "asked").await
}

/// Starts the next advisory of the chain (`T…-2`) from this one, as a draft.
pub async fn follow_up(State(state): State<AppState>, web: Web, Path(id): Path<String>, form: FormData) -> WebResult {
    web.check_csrf(&form)?;
    match ops::create_follow_up(&state.app, &web.caller, &id, AdvisoryInput::default()).await {
        Ok(v) => see_other(&format!("/advisories/{}?done=saved", v.id)),
        Err(e) => after::<()>(&state, &web, &id, Err(e.into()), "").await,
    }
}
