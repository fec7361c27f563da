//! Form inputs with their label, required mark and errors, named by JSON path.

use crate::form::FormState;
use crate::i18n::{Label, Lang};
use crate::layout::{field_errors, required};
use maud::{html, Markup};

/// One field: its JSON path and its label in both languages.
#[derive(Clone, Copy)]
pub struct F {
    pub name: &'static str,
    pub ja: &'static str,
    pub en: &'static str,
    pub required: bool,
}

pub const fn f(name: &'static str, ja: &'static str, en: &'static str) -> F {
    F { name, ja, en, required: false }
}

pub const fn req(name: &'static str, ja: &'static str, en: &'static str) -> F {
    F { name, ja, en, required: true }
}

/// The input's id: its path with dots made safe for CSS selectors.
pub fn id_of(name: &str) -> String {
    format!("f-{}", name.replace('.', "-"))
}

/// The id of the messages beside a field, which the field names in `aria-describedby`.
pub fn errors_id(name: &str) -> String {
    format!("e-{}", name.replace('.', "-"))
}

/// `aria-invalid` and `aria-describedby` for a field: present only when it has errors.
pub fn invalid(st: &FormState, name: &str) -> (Option<&'static str>, Option<String>) {
    match st.errors_for(name).is_empty() {
        true => (None, None),
        false => (Some("true"), Some(errors_id(name))),
    }
}

fn label(lang: Lang, field: F) -> Markup {
    html! { label for=(id_of(field.name)) { (lang.t(field.ja, field.en)) @if field.required { (required(lang)) } } }
}

pub fn text(lang: Lang, st: &FormState, field: F) -> Markup {
    input(lang, st, field, "text")
}

pub fn input(lang: Lang, st: &FormState, field: F, kind: &str) -> Markup {
    html! {
        (label(lang, field))
        @let (bad, described) = invalid(st, field.name);
        input id=(id_of(field.name)) type=(kind) name=(field.name) value=(st.value(field.name)) aria-invalid=[bad] aria-describedby=[described];
        (field_errors(lang, st, field.name))
    }
}

pub fn time(lang: Lang, st: &FormState, field: F) -> Markup {
    input(lang, st, field, "datetime-local")
}

pub fn area(lang: Lang, st: &FormState, field: F) -> Markup {
    html! {
        (label(lang, field))
        @let (bad, described) = invalid(st, field.name);
        textarea id=(id_of(field.name)) name=(field.name) aria-invalid=[bad] aria-describedby=[described] { (st.value(field.name)) }
        (field_errors(lang, st, field.name))
    }
}

/// A textarea whose lines are the list's elements.
pub fn lines(lang: Lang, st: &FormState, field: F) -> Markup {
    let joined = st.values.get(field.name).map(|v| v.join("\n")).unwrap_or_default();
    html! {
        (label(lang, field))
        @let (bad, described) = invalid(st, field.name);
        textarea id=(id_of(field.name)) name=(field.name) aria-invalid=[bad] aria-describedby=[described] { (joined) }
        (field_errors(lang, st, field.name))
    }
}

/// 有／無 as two radio buttons (the forms' □ 有 □ 無).
pub fn yes_no(lang: Lang, st: &FormState, field: F) -> Markup {
    let choices = [("true", "有", "yes"), ("false", "無", "no")];
    choose(lang, st, field, &choices.map(|(v, ja, en)| (v.to_string(), lang.t(ja, en).to_string())))
}

/// Radio buttons for one code of a list.
pub fn radio_codes<T: Label>(lang: Lang, st: &FormState, field: F, all: &[T]) -> Markup {
    let choices: Vec<(String, String)> = all.iter().map(|c| (c.code_str().to_string(), c.label(lang))).collect();
    choose(lang, st, field, &choices)
}

pub fn choose(lang: Lang, st: &FormState, field: F, choices: &[(String, String)]) -> Markup {
    html! {
        @let (bad, described) = invalid(st, field.name);
        fieldset.choice id=(id_of(field.name)) aria-invalid=[bad] aria-describedby=[described] {
            legend { (lang.t(field.ja, field.en)) @if field.required { (required(lang)) } }
            @for (value, text) in choices {
                label.inline {
                    input type="radio" name=(field.name) value=(value) checked[st.has_value(field.name, value)];
                    " " (text)
                }
            }
            (field_errors(lang, st, field.name))
        }
    }
}

/// Checkboxes for any number of codes; an empty hidden value says "none chosen".
pub fn check_codes<T: Label>(lang: Lang, st: &FormState, field: F, all: &[T]) -> Markup {
    let choices: Vec<(String, String)> = all.iter().map(|c| (c.code_str().to_string(), c.label(lang))).collect();
    checks(lang, st, field, &choices)
}

pub fn checks(lang: Lang, st: &FormState, field: F, choices: &[(String, String)]) -> Markup {
    html! {
        @let (bad, described) = invalid(st, field.name);
        fieldset.choice id=(id_of(field.name)) aria-invalid=[bad] aria-describedby=[described] {
            legend { (lang.t(field.ja, field.en)) @if field.required { (required(lang)) } }
            input type="hidden" name=(field.name) value="";
            @for (value, text) in choices {
                label.inline {
                    input type="checkbox" name=(field.name) value=(value) checked[st.has_value(field.name, value)];
                    " " (text)
                }
            }
            (field_errors(lang, st, field.name))
        }
    }
}

/// A drop-down of codes, with an empty first choice when the field may be left out.
pub fn select_codes<T: Label>(lang: Lang, st: &FormState, field: F, all: &[T]) -> Markup {
    let choices: Vec<(String, String)> = all.iter().map(|c| (c.code_str().to_string(), c.label(lang))).collect();
    select(lang, st, field, &choices)
}

pub fn select(lang: Lang, st: &FormState, field: F, choices: &[(String, String)]) -> Markup {
    html! {
        (label(lang, field))
        @let (bad, described) = invalid(st, field.name);
        select id=(id_of(field.name)) name=(field.name) aria-invalid=[bad] aria-describedby=[described] {
            @if !field.required { option value="" { "—" } }
            @for (value, text) in choices {
                option value=(value) selected[st.has_value(field.name, value)] { (text) }
            }
        }
        (field_errors(lang, st, field.name))
    }
}
