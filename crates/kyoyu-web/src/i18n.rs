//! Japanese first, English second: the user's language and the labels of the code lists.

use kyoyu_domain::codes::{
    AckStatus, AdvisoryStatus, Cause, EventType, NotifyMode, OrgKind, Outlook, PressStatus, ReportStatus, Role, Route,
    Severity, SystemStatus, TriageState,
};
use kyoyu_domain::Tlp;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Ja,
    En,
}

impl Lang {
    /// The list separator of the language: 「、」 or ", ".
    pub fn join(self, items: &[String]) -> String {
        items.join(self.t("、", ", "))
    }

    pub const COOKIE: &'static str = "kyoyu_lang";

    pub fn parse(code: &str) -> Option<Lang> {
        match code {
            "ja" => Some(Lang::Ja),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::Ja => "ja",
            Lang::En => "en",
        }
    }

    pub fn other(self) -> Lang {
        match self {
            Lang::Ja => Lang::En,
            Lang::En => Lang::Ja,
        }
    }

    /// Picks the text in this language.
    pub fn t<'a>(self, ja: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Ja => ja,
            Lang::En => en,
        }
    }
}

/// A code's label for a reader: the Japanese of the code list, or its English code made
/// readable (the code lists carry English as codes only).
pub trait Label: Copy {
    fn code_str(self) -> &'static str;
    fn ja(self) -> &'static str;

    fn label(self, lang: Lang) -> String {
        match lang {
            Lang::Ja => self.ja().to_string(),
            Lang::En => readable(self.code_str()),
        }
    }
}

fn readable(code: &str) -> String {
    // Acronyms the generic rule would spell as words.
    let acronym = [("cip_desk", "CIP desk"), ("dos", "DoS"), ("csirt", "CSIRT"), ("ceptoar", "CEPTOAR")];
    if let Some((_, shown)) = acronym.iter().find(|(c, _)| *c == code) {
        return shown.to_string();
    }
    let spaced = code.replace('_', " ");
    let mut chars = spaced.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

macro_rules! labels {
    ($($t:ty),+) => {
        $(impl Label for $t {
            fn code_str(self) -> &'static str { self.code() }
            fn ja(self) -> &'static str { self.label_ja() }
        })+
    };
}

labels!(
    AckStatus,
    AdvisoryStatus,
    NotifyMode,
    Cause,
    EventType,
    OrgKind,
    Outlook,
    PressStatus,
    ReportStatus,
    TriageState,
    Role,
    Route,
    Severity,
    SystemStatus,
    Tlp
);

/// The label of a code given as JSON text, or the code itself when it is not one of `T`'s.
pub fn label_of<T: Label>(parse: fn(&str) -> Option<T>, code: &str, lang: Lang) -> String {
    parse(code).map(|c| c.label(lang)).unwrap_or_else(|| code.to_string())
}

/// A TLP's meaning for a reader: the handbook's Japanese label, or `meaning_en` (reports and
/// advisories differ in English; domain.md §7).
pub fn tlp_label(lang: Lang, code: &str, meaning_en: fn(Tlp) -> &'static str) -> String {
    match (Tlp::parse(code), lang) {
        (Some(t), Lang::Ja) => t.label_ja().to_string(),
        (Some(t), Lang::En) => meaning_en(t).to_string(),
        (None, _) => code.to_string(),
    }
}

/// What each TLP means for a report (domain.md §7), for English readers.
pub fn report_tlp_en(t: Tlp) -> &'static str {
    match t {
        Tlp::Red => "recipients only",
        Tlp::AmberStrict => "recipient organisations only, need to know",
        Tlp::Amber => "concerned sectors only, need to know",
        Tlp::Green => "critical-infrastructure community",
        Tlp::White | Tlp::Clear => "public",
    }
}

/// What each TLP means for an advisory (domain.md §7, 図7), for English readers.
pub fn advisory_tlp_en(t: Tlp) -> &'static str {
    match t {
        Tlp::Red => "recipient ministries only",
        Tlp::AmberStrict => "recipient organisations only",
        Tlp::Amber => "recipient ministries and sectors' CEPTOARs, need to know",
        Tlp::Green => "all ministries and CEPTOARs",
        Tlp::White | Tlp::Clear => "public",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_in_both_languages() {
        assert_eq!(EventType::NearMiss.label(Lang::Ja), "予兆・ヒヤリハット");
        assert_eq!(EventType::NearMiss.label(Lang::En), "Near miss");
        assert_eq!(label_of(Cause::parse, "dos", Lang::Ja), "DoS攻撃等の大量アクセス");
        assert_eq!(label_of(Cause::parse, "nope", Lang::En), "nope");
    }
}
