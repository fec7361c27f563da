//! The page shell, the banners every item shows, form widgets, and the one mapping of errors
//! to pages.

use crate::form::FormState;
use crate::i18n::Lang;
use crate::session::Web;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use kyoyu_api::error::ApiError;
use kyoyu_domain::codes::{OrgKind, Role};
use maud::{html, Markup, PreEscaped, DOCTYPE};

pub type WebResult = Result<Response, WebError>;

/// A page's failure: log-in again, not found, or the API error's message in both languages.
#[derive(Debug)]
pub struct WebError(pub ApiError);

impl From<ApiError> for WebError {
    fn from(e: ApiError) -> Self {
        WebError(e)
    }
}

impl From<kyoyu_store::StoreError> for WebError {
    fn from(e: kyoyu_store::StoreError) -> Self {
        WebError(e.into())
    }
}

impl From<kyoyu_app::AppError> for WebError {
    fn from(e: kyoyu_app::AppError) -> Self {
        WebError(e.into())
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        if matches!(self.0, ApiError::App(kyoyu_app::AppError::Unauthenticated)) {
            return Redirect::to("/login").into_response();
        }
        let a = self.0.answer();
        let body = html! {
            (DOCTYPE)
            html lang="ja" {
                head { meta charset="utf-8"; title { "kyoyu" } link rel="stylesheet" href="/static/style.css"; }
                body { main.error-page {
                    h1 { (a.status.as_u16()) }
                    p lang="ja" { (a.ja) }
                    p lang="en" { (a.en) }
                    @for f in &a.fields { p.field-error { (f.field) ": " (f.ja) " / " (f.en) } }
                    p { a href="/" { "ホームへ / Home" } }
                } }
            }
        };
        (a.status, Html(body.into_string())).into_response()
    }
}

pub fn ok(markup: Markup) -> WebResult {
    Ok(Html(markup.into_string()).into_response())
}

pub fn see_other(to: &str) -> WebResult {
    Ok(Redirect::to(to).into_response())
}

/// A page for a logged-in user.
pub fn page(web: &Web, title: &str, body: Markup) -> Markup {
    shell(web.lang, title, Some(nav(web)), body)
}

/// The outer HTML of every page; `nav` is absent on the log-in page.
pub fn shell(lang: Lang, title: &str, nav: Option<Markup>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " — kyoyu 共有" }
                link rel="stylesheet" href="/static/style.css";
                script src="/static/app.js" defer {}
            }
            body {
                a.skip-link href="#main" { (lang.t("本文へ移動", "Skip to content")) }
                header.top {
                    a.brand href="/" { "kyoyu 共有" }
                    @if let Some(n) = nav { (n) }
                    a.lang-toggle href={ "/lang/" (lang.other().code()) } hreflang=(lang.other().code()) {
                        (lang.t("English", "日本語"))
                    }
                }
                main #main tabindex="-1" { h1 { (title) } (body) }
            }
        }
    }
}

fn nav(web: &Web) -> Markup {
    let p = web.caller.principal();
    let kind = web.caller.org().kind;
    let admin = p.has_role(Role::Admin) || p.has_role(Role::SystemAdmin);
    html! {
        nav {
            a href="/" { (web.t("ホーム", "Home")) }
            a href="/reports" { (web.t("報告", "Reports")) }
            @if kind == OrgKind::Operator { a href="/reports/new" { (web.t("新規報告", "New report")) } }
            a href="/advisories" { (web.t("情報提供", "Advisories")) }
            @if kind == OrgKind::Coordinator { a href="/advisories/new" { (web.t("情報提供の作成", "New advisory")) } }
            a href="/partner-information" { (web.t("関係機関からの情報", "Partner information")) }
            a href="/scope-widenings" { (web.t("範囲拡大", "Widening")) }
            @if matches!(kind, OrgKind::Ceptoar | OrgKind::CeptoarCouncil) { a href="/council" { (web.t("カウンシル", "Council")) } }
            a href="/notifications" {
                (web.t("通知", "Notifications"))
                @if web.unread > 0 {
                    " "
                    span.badge aria-label=(unread_label(web)) { (unread_text(web.unread)) }
                }
            }
            a href="/statistics" { (web.t("統計", "Statistics")) }
            @if admin { a href="/admin" { (web.t("管理", "Administration")) } }
            a href="/account" title=(web.t(&web.caller.org().name_ja, &web.caller.org().name_en)) { (web.caller.user().login) }
            form.inline method="post" action="/logout" {
                (csrf(web))
                button type="submit" { (web.t("ログアウト", "Log out")) }
            }
        }
    }
}

/// The badge's figure: "99+" past what the count counts.
fn unread_text(n: i64) -> String {
    if n >= kyoyu_app::notifications::COUNT_CAP {
        format!("{}+", kyoyu_app::notifications::COUNT_CAP - 1)
    } else {
        n.to_string()
    }
}

fn unread_label(web: &Web) -> String {
    let n = unread_text(web.unread);
    web.lang.t(&format!("未読 {n} 件"), &format!("{n} unread")).to_string()
}

/// The line that says an action was done (`?done=…` after a redirect), when there is one.
pub fn done_notice(lang: Lang, text: Option<(&str, &str)>) -> Markup {
    html! { @if let Some((ja, en)) = text { div.notice role="status" { (lang.t(ja, en)) } } }
}

pub fn csrf(web: &Web) -> Markup {
    html! { input type="hidden" name="_csrf" value=(web.csrf); }
}

/// The CSS class of a TLP's colour (`AMBER+STRICT` → `tlp-amber-strict`).
fn tlp_class(tlp: &str) -> String {
    format!("tlp-{}", tlp.to_ascii_lowercase().replace('+', "-"))
}

/// A TLP code in its colour, for tables and cards.
pub fn tlp_tag(tlp: Option<&str>) -> Markup {
    let tlp = tlp.unwrap_or("");
    html! { span class={ "tag " (tlp_class(tlp)) } { (tlp) } }
}

/// The TLP banner in FIRST's colours, with the severity beside it (別添 3.2(1)).
pub fn banner(
    lang: Lang,
    tlp: &str,
    severity: Option<&str>,
    meaning_en: fn(kyoyu_domain::Tlp) -> &'static str,
) -> Markup {
    let class = tlp_class(tlp);
    let tlp_label = crate::i18n::tlp_label(lang, tlp, meaning_en);
    let sev = severity.map(|s| crate::i18n::label_of(kyoyu_domain::codes::Severity::parse, s, lang));
    html! {
        div class={ "banner " (class) } role="note" {
            span.tlp { "TLP:" (tlp) }
            span { (tlp_label) }
            span.severity class={ "sev-" (severity.unwrap_or("none")) } {
                (sev.unwrap_or_else(|| lang.t("重要度未設定", "no severity").to_string()))
            }
        }
    }
}

/// The messages beside one field, in the reader's language.
pub fn field_errors(lang: Lang, state: &FormState, name: &str) -> Markup {
    let errors = state.errors_for(name);
    html! {
        @if !errors.is_empty() {
            div.field-errors id=(crate::widgets::errors_id(name)) {
                @for e in errors {
                    p.field-error data-field=(e.field) { (lang.t(&e.ja, &e.en)) }
                }
            }
        }
    }
}

/// The summary at the top of a form that failed.
pub fn form_alert(lang: Lang, state: &FormState) -> Markup {
    html! {
        @if state.has_errors() {
            div.alert role="alert" {
                @if let Some((ja, en)) = &state.general { p { (lang.t(ja, en)) } }
                @if !state.errors.is_empty() {
                    p { (lang.t("入力内容に誤りがあります。各項目の表示を確認してください。", "Some fields need attention; see the messages beside them.")) }
                    ul.error-summary {
                        @for e in &state.errors {
                            @if e.field.is_empty() {
                                li { (lang.t(&e.ja, &e.en)) }
                            } @else {
                                li { a href={ "#" (crate::widgets::id_of(&crate::form::normalise_path(&e.field))) } {
                                    // Each message with the field it is about, not a fragment.
                                    (crate::pages::report_form::field_label(lang, &e.field)) "：" (lang.t(&e.ja, &e.en))
                                } }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The refusal of an action, on top of the page it was taken from: an API error as the user's
/// input caused it (validation, forbidden, conflict); anything else stays an error.
pub fn refusal(lang: Lang, e: ApiError) -> Result<Markup, ApiError> {
    let mut st = FormState::default();
    st.take_error(e)?;
    Ok(html! {
        div.alert role="alert" {
            @if let Some((ja, en)) = &st.general { p { (lang.t(ja, en)) } }
            @for e in &st.errors { p.field-error data-field=(e.field) { (lang.t(&e.ja, &e.en)) } }
        }
    })
}

/// The required mark of the official forms (＊).
pub fn required(lang: Lang) -> Markup {
    html! { abbr.required title=(lang.t("必須", "required")) { "＊" } }
}

/// Text with line breaks kept.
pub fn multiline(text: &str) -> Markup {
    html! { @for (i, line) in text.lines().enumerate() { @if i > 0 { br; } (line) } }
}

pub fn css() -> Response {
    ([("content-type", "text/css; charset=utf-8")], include_str!("../static/style.css")).into_response()
}

pub fn js() -> Response {
    ([("content-type", "text/javascript; charset=utf-8")], include_str!("../static/app.js")).into_response()
}

pub fn not_found() -> WebError {
    WebError(ApiError::NOT_FOUND)
}

pub fn status_page(status: StatusCode, lang: Lang, ja: &str, en: &str) -> Response {
    (status, Html(shell(lang, lang.t(ja, en), None, PreEscaped(String::new())).into_string())).into_response()
}
