//! Confirmation before what cannot be undone: issuing an advisory, consenting to disclosure,
//! publishing a report. Each shows what will happen, to whom and at which TLP, and only its
//! form (carrying `confirmed=yes`) acts; a post without it comes back here.

use super::advisories::fetch as fetch_advisory;
use super::reports::fetch as fetch_report;
use crate::call::Names;
use crate::form::FormData;
use crate::i18n::{Label, Lang};
use crate::layout::{banner, csrf, ok, page, see_other, WebResult};
use crate::session::Web;
use axum::extract::{Path, State};
use kyoyu_api::AppState;
use kyoyu_app::views::{AdvisoryView, ReportView};
use kyoyu_policy::ReportActions;
use maud::{html, Markup};

/// Whether a post came from a confirmation page.
pub fn confirmed(form: &FormData) -> bool {
    form.get("confirmed") == Some("yes")
}

/// The page: what will happen (`what`), then the button that does it and a way back.
fn confirmation(web: &Web, title: &str, what: Markup, action: &str, button: &str, back: &str) -> Markup {
    confirmation_with(web, title, what, (action, &[]), button, back)
}

/// The warning above what cannot be undone.
const IRREVERSIBLE: (&str, &str) =
    ("この操作は取り消せません。内容を確認してください。", "This cannot be undone. Check what it does.");

/// As [`confirmation`], re-posting the choices made on the previous form (`carried`).
pub fn confirmation_with(
    web: &Web,
    title: &str,
    what: Markup,
    target: (&str, &[(String, String)]),
    button: &str,
    back: &str,
) -> Markup {
    confirmation_warning(web, (title, IRREVERSIBLE), what, target, button, back)
}

/// As [`confirmation_with`], under its own warning `(ja, en)` (for what can be undone later
/// but acts at once, such as deactivating a user).
pub fn confirmation_warning(
    web: &Web,
    (title, (warning_ja, warning_en)): (&str, (&str, &str)),
    what: Markup,
    (action, carried): (&str, &[(String, String)]),
    button: &str,
    back: &str,
) -> Markup {
    let body = html! {
        div.warning role="note" { p { (web.t(warning_ja, warning_en)) } }
        (what)
        form.actions method="post" action=(action) {
            (csrf(web))
            @for (name, value) in carried { input type="hidden" name=(name) value=(value); }
            input type="hidden" name="confirmed" value="yes";
            button type="submit" { (button) }
            a.button.secondary href=(back) { (web.t("戻る", "Back")) }
        }
    };
    page(web, title, body)
}

pub async fn issue_advisory(State(state): State<AppState>, web: Web, Path(id): Path<String>) -> WebResult {
    let v = fetch_advisory(&state, &web, &id).await?;
    if !v.actions.edit {
        return see_other(&format!("/advisories/{id}"));
    }
    let names = Names::load(&state).await?;
    let what = advisory_summary(web.lang, &v, &names);
    let title = web.t("情報提供の発出の確認", "Confirm issuing the advisory");
    let button = web.t("発出する", "Issue");
    ok(confirmation(&web, title, what, &format!("/advisories/{id}/issue"), button, &format!("/advisories/{id}")))
}

/// To whom the advisory goes, at which TLP, and what it says.
fn advisory_summary(lang: Lang, v: &AdvisoryView, names: &Names) -> Markup {
    let d = &v.draft;
    html! {
        (banner(lang, d.tlp.code(), d.severity.map(|s| s.code()), crate::i18n::advisory_tlp_en))
        table.official {
            tr { th { (lang.t("情報共有範囲", "Sharing scope")) } td { (crate::i18n::tlp_label(lang, d.tlp.code(), crate::i18n::advisory_tlp_en)) } }
            tr { th { (lang.t("宛先（所管省庁・分野）", "Recipients (ministry and sector)")) } td { ul {
                @for r in &d.recipients {
                    li { (names.name(Some(&r.ministry_org_id), lang)) " · " (names.sector(&r.sector, lang)) }
                }
            } } }
            tr { th { (lang.t("経路", "Path")) } td {
                @if d.urgent {
                    (lang.t("緊急：各分野のセプターへ直接届け、所管省庁のリエゾンへ写しを送ります。", "Urgent: straight to each sector's CEPTOAR, copied to the ministries' liaisons."))
                } @else {
                    (lang.t("所管省庁のリエゾンへ届け、リエゾンがセプターへ伝達します。", "To the ministries' liaisons, who relay to the CEPTOARs."))
                }
            } }
            tr { th { (lang.t("(1) 概要", "(1) Summary")) } td { (d.content.summary.as_deref().unwrap_or("")) } }
        }
    }
}

/// One irreversible step on a report: whether the view allows it, what it does, and its
/// title and button, each in both languages.
struct ReportStep {
    path: &'static str,
    allowed: fn(&ReportActions) -> bool,
    explains: (&'static str, &'static str),
    title: (&'static str, &'static str),
    button: (&'static str, &'static str),
}

const CONSENT: ReportStep = ReportStep {
    path: "consent",
    allowed: |a| a.consent_to_disclosure,
    explains: (
        "報告は非開示情報として扱われています（行政機関情報公開法 第5条第2号ロ）。同意すると、調整機関と所管省庁はこの報告の一連の内容を開示でき、TLP:WHITE／CLEAR の報告は調整機関が公開できるようになります。",
        "Reports are non-disclosure information (Act on Access to Information Held by Administrative Organs, art. 5(2)(b)). With your consent, the coordinator and the ministry may disclose this chain of reports, and the coordinator may publish those marked TLP:WHITE or CLEAR.",
    ),
    title: ("開示への同意の確認", "Confirm consent to disclosure"),
    button: ("開示に同意する", "Consent to disclosure"),
};

const PUBLISH: ReportStep = ReportStep {
    path: "publish",
    allowed: |a| a.publish,
    explains: (
        "公開すると、この報告はログインなしで誰でも閲覧できる公開一覧に載ります。",
        "Once published, this report is on the public list that anyone may read without signing in.",
    ),
    title: ("報告の公開の確認", "Confirm publishing the report"),
    button: ("公開する", "Publish"),
};

pub async fn consent(State(state): State<AppState>, web: Web, Path(id): Path<String>) -> WebResult {
    report_step(&state, &web, &id, &CONSENT).await
}

pub async fn publish(State(state): State<AppState>, web: Web, Path(id): Path<String>) -> WebResult {
    report_step(&state, &web, &id, &PUBLISH).await
}

/// The confirmation of `step`, or back to the report when its actions do not offer it.
async fn report_step(state: &AppState, web: &Web, id: &str, step: &ReportStep) -> WebResult {
    let v = fetch_report(state, web, id).await?;
    if !v.actions.as_ref().is_some_and(step.allowed) {
        return see_other(&format!("/reports/{id}"));
    }
    let lang = web.lang;
    let what = html! { (report_line(lang, &v)) p { (lang.t(step.explains.0, step.explains.1)) } };
    let (title, button) = (lang.t(step.title.0, step.title.1), lang.t(step.button.0, step.button.1));
    let action = format!("/reports/{id}/{}", step.path);
    ok(confirmation(web, title, what, &action, button, &format!("/reports/{id}")))
}

fn report_line(lang: Lang, v: &ReportView) -> Markup {
    html! {
        (banner(lang, v.content.tlp.code(), v.content.severity.map(|s| s.code()), crate::i18n::report_tlp_en))
        p {
            strong { (v.identifier.as_deref().unwrap_or(lang.t("（未採番）", "(unnumbered)"))) }
            " " (v.content.event_type.map(|e| e.label(lang)).unwrap_or_default())
            " — " (v.content.summary.description.as_deref().unwrap_or(""))
        }
    }
}

/// A post without confirmation goes to the confirmation page instead of acting.
pub fn unless_confirmed(form: &FormData, page: &str) -> Option<WebResult> {
    (!confirmed(form)).then(|| see_other(page))
}
