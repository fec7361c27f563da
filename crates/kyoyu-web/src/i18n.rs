//! Japanese first, English second: the user's language and the labels of the code lists.

use kyoyu_domain::codes::{
    AckStatus, Cause, EventType, OrgKind, Outlook, PressStatus, ReportStatus, Role, Route, Severity, SystemStatus,
};
use kyoyu_domain::Tlp;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Ja,
    En,
}

impl Lang {
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
    Cause,
    EventType,
    OrgKind,
    Outlook,
    PressStatus,
    ReportStatus,
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
