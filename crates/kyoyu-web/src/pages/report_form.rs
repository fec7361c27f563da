//! The report form (情報連絡様式, 図4/図5): the same fields in the official order for a new
//! report, a follow-up and a forward, and the read-only layout used on screen and in print.

use crate::call::Names;
use crate::form::{FormState, Kind};
use crate::i18n::{Label, Lang};
use crate::layout::{banner, field_errors, multiline};
use crate::widgets::{
    area, check_codes, checks, f, id_of, lines, radio_codes, req, select_codes, text, time, yes_no, F,
};
use kyoyu_app::views::ReportView;
use kyoyu_domain::codes::{Cause, EventType, Outlook, PressStatus, Route, Severity, SystemStatus};
use kyoyu_domain::report::{ReportContent, Time};
use kyoyu_domain::Tlp;
use maud::{html, Markup};

/// How the form's inputs become the API's JSON.
pub const KINDS: &[(&str, Kind)] = &[
    ("route", Kind::Code),
    ("tlp", Kind::Code),
    ("severity", Kind::Code),
    ("event_type", Kind::Code),
    ("system_status", Kind::Code),
    ("outlook", Kind::Code),
    ("status", Kind::Code),
    ("sector", Kind::Code),
    ("statutory", Kind::Bool),
    ("exercise", Kind::Bool),
    ("has_attachments", Kind::Bool),
    ("sanitised_wider_use", Kind::Bool),
    ("service_level_deviation", Kind::Bool),
    ("spread_possible", Kind::Bool),
    ("discovered_at", Kind::Time),
    ("occurred_at", Kind::Time),
    ("recovered_at", Kind::Time),
    ("at", Kind::Time),
    ("causes", Kind::Many),
    ("extra_recipient_org_ids", Kind::Many),
    ("notified_parties", Kind::Lines),
    ("affected_users", Kind::Number),
    ("duration_minutes", Kind::Number),
    ("interrupted_kw", Kind::Number),
    ("affected_households", Kind::Number),
    ("broadcast_stop_minutes", Kind::Number),
];

/// The free-text fields, named once: the form shows them and the anonymisation review names
/// what it removes from them by the same labels.
const SENDER_CONTACT_DEPARTMENT: F = f("sender_contact.department", "部局名", "Department");
const SENDER_CONTACT_NAME: F = f("sender_contact.name", "担当者名", "Person");
const SENDER_CONTACT_PHONE: F = f("sender_contact.phone", "電話番号", "Phone");
const SENDER_CONTACT_FAX: F = f("sender_contact.fax", "FAX番号", "Fax");
const SENDER_CONTACT_EMAIL: F = f("sender_contact.email", "電子メールアドレス", "E-mail");
const TLP_NOTE: F = f("tlp_note", "特記事項", "Special note");
const OPERATOR_NAME: F = f("operator_name", "④事象が発生した重要インフラ事業者等名", "(4) Operator name");
const SUMMARY_DESCRIPTION: F = f("summary.description", "発生事象の概要", "What happened");
const SUMMARY_OCCURRED_NOTE: F = f(
    "summary.occurred_note",
    "発生日時の補足（例: サーバログから推定）",
    "Note on the time (e.g. estimated from server logs)",
);
const SUMMARY_AFFECTED_SYSTEM: F =
    f("summary.affected_system", "事象が発生したシステム・委託先業者等", "Affected system / contractor");
const IMPACT_NOTES: F = f("impact.notes", "補足情報", "Supplementary notes");
const IMPACT_FIGURES_SERVICE: F = f("impact.figures.service", "サービス", "Service");
const LESSONS: F = f("lessons", "得られた教訓等", "Lessons learned");
const PRESS_TITLE: F = f("press.title", "件名", "Title");
const NOTIFIED_PARTIES: F = f(
    "notified_parties",
    "NISC以外に連絡を行った先（1行に1件）",
    "Others notified besides the coordinator (one per line)",
);
const TEXT_FIELDS: &[F] = &[
    SENDER_CONTACT_DEPARTMENT,
    SENDER_CONTACT_NAME,
    SENDER_CONTACT_PHONE,
    SENDER_CONTACT_FAX,
    SENDER_CONTACT_EMAIL,
    TLP_NOTE,
    OPERATOR_NAME,
    SUMMARY_DESCRIPTION,
    SUMMARY_OCCURRED_NOTE,
    SUMMARY_AFFECTED_SYSTEM,
    IMPACT_NOTES,
    IMPACT_FIGURES_SERVICE,
    LESSONS,
    PRESS_TITLE,
    NOTIFIED_PARTIES,
];

/// How one field of a report is shown.
type Shown = fn(&ReportContent, Lang) -> String;

/// The figures a report gives of the disruption, those given only.
fn figures_text(lang: Lang, f: &kyoyu_domain::service_level::ImpactFigures) -> Markup {
    let numbers = [
        (lang.t("利用者数", "users"), f.affected_users),
        (lang.t("継続時間（分）", "minutes"), f.duration_minutes),
        (lang.t("供給支障電力（kW）", "kW interrupted"), f.interrupted_kw),
        (lang.t("戸数", "households"), f.affected_households),
        (lang.t("放送停止（分）", "broadcast stopped, minutes"), f.broadcast_stop_minutes),
    ];
    html! {
        (lang.t("影響の数値", "Figures")) "："
        @if let Some(s) = &f.service { (s) " " }
        @for (label, n) in numbers.iter().filter_map(|(l, n)| n.map(|n| (l, n))) { (label) " " (n) "　" }
    }
}

/// The system's own judgement of the service level, beside the sender's answer, with the
/// rule and statute it used.
fn evaluation_text(lang: Lang, e: &kyoyu_domain::service_level::Evaluation) -> Markup {
    html! {
        span.evaluation {
            (lang.t("システムによる判定", "The system's evaluation")) "："
            strong { @if e.deviated { (lang.t("逸脱あり", "deviated")) } @else { (lang.t("逸脱なし", "not deviated")) } }
            "（" (e.service) "：" (lang.t(&e.condition_ja, &e.condition_en)) "／" (e.statute) "）"
        }
    }
}

/// What a follow-up changed since the report before it: each field that differs, labelled
/// as the form labels it, with the earlier and the new value as shown.
pub fn changes(lang: Lang, before: &ReportContent, now: &ReportContent) -> Vec<(String, String, String)> {
    let coded: [(&str, &str, Shown); 9] = [
        ("TLP", "TLP", |c, _| c.tlp.code().to_string()),
        ("重要度", "Severity", |c, l| c.severity.map(|s| s.label(l)).unwrap_or_default()),
        ("①事象", "(1) Event", |c, l| c.event_type.map(|e| e.label(l)).unwrap_or_default()),
        ("②原因", "(2) Causes", |c, l| l.join(&c.causes.iter().map(|x| x.label(l)).collect::<Vec<_>>())),
        ("システムの状況", "System status", |c, l| {
            c.impact.system_status.map(|s| s.label(l)).unwrap_or_default()
        }),
        ("復旧日時", "Recovered at", |c, _| shown(c.impact.recovered_at.as_ref())),
        ("今後の見通し", "Outlook", |c, l| c.outlook.map(|o| o.label(l)).unwrap_or_default()),
        ("報道発表", "Press release", |c, l| c.press.as_ref().map(|p| p.status.label(l)).unwrap_or_default()),
        ("⑦当該事象に係る推移等", "(7) Timeline", |c, _| {
            c.timeline.iter().map(|t| format!("{} {}", shown(Some(&t.at)), t.text)).collect::<Vec<_>>().join(" / ")
        }),
    ];
    let mut out: Vec<(String, String, String)> =
        coded.iter().map(|(ja, en, show)| (lang.t(ja, en).to_string(), show(before, lang), show(now, lang))).collect();
    let (before_json, now_json) =
        (serde_json::to_value(before).unwrap_or_default(), serde_json::to_value(now).unwrap_or_default());
    let text_at = |v: &serde_json::Value, path: &str| {
        let found = path.split('.').try_fold(v, |v, key| v.get(key));
        match found {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(serde_json::Value::Array(lines)) => {
                lines.iter().filter_map(|l| l.as_str()).collect::<Vec<_>>().join(" / ")
            }
            _ => String::new(),
        }
    };
    out.extend(
        TEXT_FIELDS
            .iter()
            .map(|f| (lang.t(f.ja, f.en).to_string(), text_at(&before_json, f.name), text_at(&now_json, f.name))),
    );
    out.retain(|(_, was, is)| was != is);
    out
}

/// The label of a JSON path as the form shows it (timeline rows by their column).
pub fn field_label(lang: Lang, path: &str) -> String {
    let norm = crate::form::normalise_path(path);
    if let Some(field) = TEXT_FIELDS.iter().find(|f| f.name == norm) {
        return lang.t(field.ja, field.en).to_string();
    }
    // Without list positions (`recipients.0.sector` is a recipient's sector).
    let bare: Vec<&str> = norm.split('.').filter(|part| part.parse::<usize>().is_err()).collect();
    if let Some((_, ja, en)) = OTHER_FIELDS.iter().find(|f| f.0 == bare.join(".")) {
        return lang.t(ja, en).to_string();
    }
    if norm.starts_with("timeline.") {
        return lang.t("⑦当該事象に係る推移等", "(7) Timeline").to_string();
    }
    norm
}

/// The fields of the forms that are not free text, by the labels the forms give them (an
/// error summary names each field so).
const OTHER_FIELDS: &[(&str, &str, &str)] = &[
    ("route", "連絡経路", "Route"),
    ("statutory", "法令に基づく報告", "Required by statute"),
    ("exercise", "訓練・演習", "Exercise"),
    ("tlp", "情報共有範囲", "Sharing scope (TLP)"),
    ("severity", "重要度", "Severity"),
    ("has_attachments", "別紙有無", "Attachments"),
    ("sector", "③分野名", "(3) Sector"),
    ("event_type", "①事象", "(1) Event"),
    ("causes", "②原因", "(2) Causes"),
    ("summary.discovered_at", "判明日時", "Discovered at"),
    ("summary.occurred_at", "発生日時", "Occurred at"),
    ("impact.recovered_at", "復旧日時", "Recovered at"),
    ("impact.system_status", "システムの稼働状況", "System status"),
    ("impact.service_level_deviation", "サービス維持レベル逸脱の有無", "Service level deviated"),
    ("impact.spread_possible", "他の事業者等への波及の可能性", "May spread"),
    ("timeline.at", "⑦推移の日時", "(7) Timeline time"),
    ("outlook", "⑧今後の予定", "(8) Outlook"),
    ("press.status", "報道発表", "Press release"),
    ("press.at", "報道発表の日時", "Press release time"),
    ("extra_recipient_org_ids", "追加の宛先", "Further recipients"),
    ("recipients", "宛先（所管省庁・分野）", "Recipients (ministry, sector)"),
    ("recipients.sector", "宛先の分野", "Recipient sector"),
    ("recipients.ministry_org_id", "宛先の省庁", "Recipient ministry"),
    ("source_report_ids", "情報源とする報告", "Source reports"),
    ("external_sources", "外部の STIX オブジェクト", "Outside STIX objects"),
    ("source_partner_ids", "情報源とする関係機関からの情報", "Source partner information"),
    ("kind", "種別", "Kind"),
    ("sectors", "関係する分野", "Sectors concerned"),
    ("title", "件名", "Title"),
    ("content", "内容", "Content"),
    ("indicators", "STIX パターン", "STIX patterns"),
    ("sanitised_wider_use", "加工の上での TLP を超えた利用", "Sanitised use beyond its TLP"),
    ("content.summary", "(1) 概要", "(1) Summary"),
    ("content.targets", "(2) 影響対象", "(2) Affected targets"),
    ("content.countermeasures", "(3) 対策", "(3) Countermeasures"),
    ("content.other", "(4) その他", "(4) Other"),
    ("org_ids", "宛先", "Recipients"),
    ("text", "本文", "Text"),
    ("login", "ログイン名", "Log-in name"),
    ("display_name", "氏名", "Name"),
    ("roles", "役割", "Roles"),
    ("password", "パスワード", "Password"),
    ("new_password", "新しいパスワード", "New password"),
    ("since", "期間（開始日）", "From (date)"),
    ("until", "期間（終了日）", "To (date)"),
];

/// Which form this is: the fields a forward may not change are not offered on it.
#[derive(Clone, Copy, PartialEq)]
pub enum Mode {
    New,
    FollowUp,
    /// A forward may keep or tighten the TLP it received.
    Forward(Tlp),
}

const TLP_ORDER: &[Tlp] = &[Tlp::Red, Tlp::AmberStrict, Tlp::Amber, Tlp::Green, Tlp::White, Tlp::Clear];

/// TLP choices with the official meaning beside each code.
fn tlp_choices(lang: Lang, at_most: Option<Tlp>) -> Vec<(String, String)> {
    TLP_ORDER
        .iter()
        .filter(|t| at_most.is_none_or(|limit| t.keeps_or_tightens(limit)))
        .map(|t| (t.code().to_string(), format!("TLP:{} {}{}", t.code(), t.label_ja(), english(lang, *t))))
        .collect()
}

fn english(lang: Lang, t: Tlp) -> String {
    match lang {
        Lang::Ja => String::new(),
        Lang::En => format!(" ({})", crate::i18n::report_tlp_en(t)),
    }
}

/// The fields of the form, in the order of 図4.
pub fn fields(lang: Lang, st: &FormState, mode: Mode, orgs: &[(String, String)]) -> Markup {
    let received = match mode {
        Mode::Forward(t) => Some(t),
        _ => None,
    };
    html! {
        @if mode == Mode::New {
            fieldset {
                legend { (lang.t("連絡経路", "Route")) }
                (radio_codes(lang, st, req("route", "連絡経路", "Route"), Route::ALL))
                (yes_no(lang, st, req("statutory", "法令に基づく報告", "Required by statute")))
                p.muted { (lang.t("法令に基づく報告は匿名化連絡では送れません。", "A statutory report cannot take the anonymised route.")) }
                (yes_no(lang, st, f("exercise", "訓練・演習（統計から除外、別番号）", "Exercise (numbered apart, left out of statistics)")))
            }
        }
        fieldset {
            legend { (lang.t("情報連絡元", "Sender")) }
            (text(lang, st, SENDER_CONTACT_DEPARTMENT))
            (text(lang, st, SENDER_CONTACT_NAME))
            (text(lang, st, SENDER_CONTACT_PHONE))
            (text(lang, st, SENDER_CONTACT_FAX))
            (text(lang, st, SENDER_CONTACT_EMAIL))
        }
        fieldset {
            legend { (lang.t("重要度・情報共有範囲・別紙", "Severity, sharing scope, attachments")) }
            (radio_codes(lang, st, f("severity", "重要度", "Severity"), Severity::ALL))
            (crate::widgets::choose(lang, st, req("tlp", "情報共有範囲", "Sharing scope (TLP)"), &tlp_choices(lang, received)))
            @if let Some(t) = received {
                p.muted { (lang.t("受け取った範囲より広げることはできません（受領時: TLP:", "You may keep or tighten the scope you received (received: TLP:")) (t.code()) ")" }
            }
            (area(lang, st, TLP_NOTE))
            @if received.is_none() {
                (crate::widgets::choose(lang, st, f("sanitised_wider_use", "識別情報を除けば他分野と共有してよい", "May be shared with other sectors once identifying details are removed"),
                    &[("true".into(), lang.t("はい", "yes").into()), ("false".into(), lang.t("いいえ", "no").into())]))
            }
            (yes_no(lang, st, req("has_attachments", "別紙有無", "Attachments")))
            @if !orgs.is_empty() {
                (checks(lang, st, f("extra_recipient_org_ids", "範囲外の追加宛先（表5 ※1）", "Named recipients beyond the scope"), orgs))
            }
        }
        fieldset {
            legend { (lang.t("◆情報連絡の内容", "Contents")) }
            (select_codes(lang, st, f("event_type", "①発生した事象の分類（最初に検知した事象を1つ）", "(1) Event type (the first detected)"), EventType::ALL))
            (check_codes(lang, st, f("causes", "②原因（複数選択可）", "(2) Causes (any number)"), Cause::ALL))
            @if received.is_some() {
                p { (lang.t("③分野名", "(3) Sector")) ": " (st.value("sector")) }
            } @else {
                input type="hidden" name="sector" value=(st.value("sector"));
                p { (lang.t("③分野名", "(3) Sector")) (crate::layout::required(lang)) ": " strong { (st.value("sector")) } }
                (field_errors(lang, st, "sector"))
            }
            (text(lang, st, OPERATOR_NAME))
        }
        fieldset {
            legend { (lang.t("⑤概要", "(5) Summary")) }
            (area(lang, st, SUMMARY_DESCRIPTION))
            (time(lang, st, f("summary.discovered_at", "判明日時", "Discovered at")))
            (time(lang, st, f("summary.occurred_at", "発生日時", "Occurred at")))
            (text(lang, st, SUMMARY_OCCURRED_NOTE))
            (text(lang, st, SUMMARY_AFFECTED_SYSTEM))
        }
        fieldset {
            legend { (lang.t("⑥重要インフラサービス等への影響", "(6) Impact on the critical service")) }
            (yes_no(lang, st, f("impact.service_level_deviation", "サービス維持レベル逸脱の有無", "Service level deviated")))
            (yes_no(lang, st, f("impact.spread_possible", "他の事業者等への波及の可能性", "May spread to other operators")))
            (radio_codes(lang, st, f("impact.system_status", "システムの稼働状況", "System status"), SystemStatus::ALL))
            (time(lang, st, f("impact.recovered_at", "復旧日時", "Recovered at")))
            (area(lang, st, IMPACT_NOTES))
            details {
                summary { (lang.t("影響の数値（サービス維持レベルの自動評価に使用）", "Impact figures (evaluated against the service level)")) }
                (text(lang, st, IMPACT_FIGURES_SERVICE))
                (crate::widgets::input(lang, st, f("impact.figures.affected_users", "影響利用者数", "Affected users"), "number"))
                (crate::widgets::input(lang, st, f("impact.figures.duration_minutes", "継続時間（分）", "Duration (minutes)"), "number"))
                (crate::widgets::input(lang, st, f("impact.figures.interrupted_kw", "供給支障電力（kW）", "Interrupted supply (kW)"), "number"))
                (crate::widgets::input(lang, st, f("impact.figures.affected_households", "影響戸数", "Affected households"), "number"))
                (crate::widgets::input(lang, st, f("impact.figures.broadcast_stop_minutes", "停波時間（分）", "Broadcast stopped (minutes)"), "number"))
            }
        }
        (timeline(lang, st))
        fieldset {
            legend { (lang.t("⑧今後の予定", "(8) Outlook")) }
            (radio_codes(lang, st, f("outlook", "今後の予定", "Outlook"), Outlook::ALL))
        }
        fieldset {
            legend { (lang.t("⑨その他", "(9) Other")) }
            (area(lang, st, LESSONS))
            (radio_codes(lang, st, f("press.status", "報道発表、報道等への掲載", "Press release / coverage"), PressStatus::ALL))
            (time(lang, st, f("press.at", "日時（済・予定有の場合）", "Time (if done or planned)")))
            (text(lang, st, PRESS_TITLE))
            (lines(lang, st, NOTIFIED_PARTIES))
        }
    }
}

/// ⑦ rows of (time, event), as many as typed plus one blank; more by the "add row" button.
fn timeline(lang: Lang, st: &FormState) -> Markup {
    let rows = st.rows("timeline") + usize::from(st.has_value("_add_row", "timeline")) + 1;
    html! {
        fieldset {
            legend { (lang.t("⑦当該事象に係る推移等", "(7) Timeline")) }
            (field_errors(lang, st, "timeline"))
            table {
                thead { tr { th { (lang.t("日時", "Time")) } th { (lang.t("事象・対応状況等", "Event or action")) } } }
                tbody #timeline-rows {
                    @for i in 0..rows {
                        @let at = format!("timeline.{i}.at");
                        @let what = format!("timeline.{i}.text");
                        tr {
                            td { @let (bad, described) = crate::widgets::invalid(st, &at); input id=(id_of(&at)) type="datetime-local" name=(at) value=(st.value(&at)) aria-invalid=[bad] aria-describedby=[described]; (field_errors(lang, st, &at)) }
                            td { @let (bad, described) = crate::widgets::invalid(st, &what); input id=(id_of(&what)) type="text" name=(what) value=(st.value(&what)) aria-invalid=[bad] aria-describedby=[described]; (field_errors(lang, st, &what)) }
                        }
                    }
                }
            }
            button.secondary type="submit" name="_add_row" value="timeline" data-add-row="timeline-rows" formnovalidate {
                (lang.t("行を追加", "Add a row"))
            }
        }
    }
}

/// Every choice of a code as on the printed form: ■ for what was chosen, □ for the rest.
pub fn grid<T: Label + PartialEq>(lang: Lang, all: &[T], chosen: &[T]) -> Markup {
    html! {
        span.grid-choices {
            @for c in all {
                span.choice { (if chosen.contains(c) { "■" } else { "□" }) (c.label(lang)) }
            }
        }
    }
}

/// The TLP choices with what each means (図4, 図7): ■ for the item's.
pub fn tlp_grid(lang: Lang, chosen: Tlp, meaning_en: fn(Tlp) -> &'static str) -> Markup {
    let shown = [Tlp::Red, Tlp::Amber, Tlp::Green, Tlp::White];
    html! {
        span.grid-choices.tlp-choices {
            @for t in shown.iter().copied().chain((!shown.contains(&chosen)).then_some(chosen)) {
                span.choice {
                    (if t == chosen { "■" } else { "□" }) "TLP:" (t.code()) " = " (crate::i18n::tlp_label(lang, t.code(), meaning_en))
                }
            }
        }
    }
}

/// A heading cell with the form's required mark (＊).
fn required_th(text: &str) -> Markup {
    html! { th { (text) span.required-mark { "＊" } } }
}

fn yes_no_text(lang: Lang, v: Option<bool>) -> &'static str {
    match v {
        Some(true) => lang.t("有", "yes"),
        Some(false) => lang.t("無", "no"),
        None => "",
    }
}

/// A stored time as shown on the form: JST, to the minute.
pub fn shown_time(t: &str) -> String {
    crate::form::form_time(t).map(|x| x.replace('T', " ")).unwrap_or_else(|| t.to_string())
}

/// A stored time as shown in tables and notes: JST to the minute, labelled; blank when unset.
pub fn jst(t: &str) -> String {
    if t.is_empty() {
        String::new()
    } else {
        format!("{} JST", shown_time(t))
    }
}

/// A time of the report's content as shown on the form; blank when unknown.
fn shown(t: Option<&Time>) -> String {
    t.map(|t| shown_time(&t.to_rfc3339())).unwrap_or_default()
}

/// The label of an optional code; blank when unset.
fn label<T: Label>(code: Option<T>, lang: Lang) -> String {
    code.map(|c| c.label(lang)).unwrap_or_default()
}

/// The rendition laid out like 図4/図5, for the screen and for print.
pub fn official(lang: Lang, v: &ReportView, names: &Names) -> Markup {
    let row = |th: &str, td: Markup| html! { tr { th { (th) } td { (td) } } };
    let section = |title: &str| html! { tr { th.section colspan="2" { (title) } } };
    let c = &v.content;
    let contact = c.sender_contact.clone().unwrap_or_default();
    let text = |t: &Option<String>| t.clone().unwrap_or_default();
    let tlp = c.tlp.code();
    let required = |th: &str, td: Markup| html! { tr { (required_th(th)) td { (td) } } };
    html! {
        p.form-title { (lang.t("情報連絡様式", "Report form")) }
        p.form-note { (lang.t("（＊が付与された項目は必須事項）", "(items marked ＊ are required)")) }
        (banner(lang, tlp, c.severity.map(|s| s.code()), crate::i18n::report_tlp_en))
        table.official {
            tbody {
                (required(lang.t("報数", "Report"), html! { (lang.t("第", "No. ")) (v.sequence) (lang.t("報", "")) }))
                (required(lang.t("識別番号", "Identifier"), html! { @match &v.identifier { Some(i) => (i), None => span.muted { (lang.t("（第1報の識別番号は空欄）", "(not yet numbered)")) } } }))
                (required(lang.t("情報連絡日時", "Sent at"), html! { (shown_time(&v.created_at)) " JST" }))
                (row(lang.t("連絡経路", "Route"), html! {
                    (grid(lang, Route::ALL, &[v.route])) br;
                    "（" (names.name(v.sender_org_id.as_deref(), lang)) " → " (names.name(Some(&v.receiver_org_id), lang)) "）"
                }))
                (required(lang.t("情報連絡元", "Sender"), html! {
                    (names.name(v.sender_org_id.as_deref(), lang)) " → " (names.name(Some(&v.receiver_org_id), lang)) br;
                    (lang.t("部局名", "Department")) "：" (text(&contact.department)) "　"
                    (lang.t("担当者名", "Person")) "：" (text(&contact.name)) br;
                    (lang.t("電話番号", "Phone")) "：" (text(&contact.phone)) "　"
                    (lang.t("FAX番号", "Fax")) "：" (text(&contact.fax)) "　"
                    (lang.t("電子メールアドレス", "E-mail")) "：" (text(&contact.email))
                }))
                (required(lang.t("重要度", "Severity"), html! { (grid(lang, Severity::ALL, c.severity.as_slice())) }))
                (required(lang.t("情報共有範囲", "Sharing scope"), html! { (tlp_grid(lang, c.tlp, crate::i18n::report_tlp_en)) @if let Some(note) = c.tlp_note.as_deref().filter(|n| !n.is_empty()) { br; (lang.t("特記事項", "Special note")) "：" (note) } }))
                (row(lang.t("別紙有無", "Attachments"), html! { (yes_no_text(lang, Some(c.has_attachments))) }))
                (section(lang.t("◆情報連絡の内容", "Contents")))
                (row(lang.t("①発生した事象の分類", "(1) Event type"), html! { (grid(lang, EventType::ALL, c.event_type.as_slice())) }))
                (row(lang.t("②原因", "(2) Causes"), html! { (grid(lang, Cause::ALL, &c.causes)) }))
                (row(lang.t("③分野名", "(3) Sector"), html! { (names.sector(&c.sector, lang)) }))
                (row(lang.t("④事象が発生した重要インフラ事業者等名", "(4) Operator"), html! { (text(&c.operator_name)) }))
                (row(lang.t("⑤概要", "(5) Summary"), html! {
                    (lang.t("発生事象の概要", "What happened")) "：" (multiline(&text(&c.summary.description))) br;
                    (lang.t("判明日時", "Discovered")) "：" (shown(c.summary.discovered_at.as_ref())) "　"
                    (lang.t("発生日時", "Occurred")) "：" (shown(c.summary.occurred_at.as_ref())) " " (text(&c.summary.occurred_note)) br;
                    (lang.t("事象が発生したシステム・委託先業者等", "Affected system / contractor")) "：" (text(&c.summary.affected_system))
                }))
                (row(lang.t("⑥重要インフラサービス等への影響", "(6) Impact"), html! {
                    (lang.t("サービス維持レベル逸脱の有無", "Service level deviated")) "：" (yes_no_text(lang, c.impact.service_level_deviation)) br;
                    @if let Some(figures) = &c.impact.figures { (figures_text(lang, figures)) br; }
                    @if let Some(e) = &c.service_level_evaluation { (evaluation_text(lang, e)) br; }
                    (lang.t("他の事業者等への波及の可能性", "May spread")) "：" (yes_no_text(lang, c.impact.spread_possible)) br;
                    (lang.t("システムの稼働状況", "System status")) "：" (label(c.impact.system_status, lang))
                    @if let Some(at) = &c.impact.recovered_at { "（" (lang.t("復旧", "recovered")) " " (shown(Some(at))) "）" }
                    br; (multiline(&text(&c.impact.notes)))
                }))
                (row(lang.t("⑦当該事象に係る推移等", "(7) Timeline"), html! {
                    @for e in &c.timeline {
                        (shown(Some(&e.at))) "　" (e.text) br;
                    }
                }))
                (row(lang.t("⑧今後の予定", "(8) Outlook"), html! { (label(c.outlook, lang)) }))
                (row(lang.t("⑨その他", "(9) Other"), html! {
                    (lang.t("得られた教訓等", "Lessons")) "：" (multiline(&text(&c.lessons))) br;
                    (lang.t("報道発表、報道等への掲載", "Press")) "：" (label(c.press.as_ref().map(|p| p.status), lang)) " "
                    (shown(c.press.as_ref().and_then(|p| p.at.as_ref()))) " " (c.press.as_ref().map(|p| text(&p.title)).unwrap_or_default()) br;
                    (lang.t("NISC以外に連絡を行った先", "Others notified")) "："
                    (lang.join(&c.notified_parties))
                }))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removed_fields_are_named_by_their_form_labels() {
        assert_eq!(field_label(Lang::Ja, "summary.description"), "発生事象の概要");
        assert_eq!(field_label(Lang::En, "sender_contact.email"), "E-mail");
        assert_eq!(field_label(Lang::Ja, "timeline[1].text"), "⑦当該事象に係る推移等");
        assert_eq!(field_label(Lang::En, "something.else"), "something.else");
        assert_eq!(field_label(Lang::En, "recipients[0].sector"), "Recipient sector");
        assert_eq!(field_label(Lang::Ja, "tlp"), "情報共有範囲");
    }

    fn content(extra: serde_json::Value) -> ReportContent {
        let mut body = serde_json::json!({
            "route": "direct", "statutory": false, "tlp": "AMBER", "has_attachments": false, "sector": "gas",
            "severity": "warning", "summary": {"description": "制御系で不審な通信"}
        });
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        let input: kyoyu_domain::report::ReportInput = serde_json::from_value(body).unwrap();
        input.into_new_report().unwrap().content
    }

    #[test]
    fn a_follow_up_lists_only_what_changed_with_both_values_shown() {
        let before = content(serde_json::json!({}));
        let now =
            content(serde_json::json!({"severity": "alert", "summary": {"description": "制御系を停止して調査中"}}));
        let changes = changes(Lang::Ja, &before, &now);
        let fields: Vec<&str> = changes.iter().map(|(f, _, _)| f.as_str()).collect();
        assert_eq!(fields, ["重要度", "発生事象の概要"]);
        assert_eq!(
            (changes[0].1.as_str(), changes[0].2.as_str()),
            (Severity::Warning.label_ja(), Severity::Alert.label_ja())
        );
        assert_eq!(changes[1].2, "制御系を停止して調査中");
        assert!(super::changes(Lang::En, &before, &before).is_empty());
    }
}
