//! Scrubbing what identifies an operator from a report (domain.md §6, anonymised route).
//!
//! The profile holds the operator's names, aliases, domains, e-mail addresses, phone and fax
//! numbers, and its users' names, logins and e-mail addresses. Text is compared in Unicode
//! NFKC form (full- and half-width forms, ㈱ and the like fold together) without invisible
//! characters and without regard to case; a name matches with spaces between its characters,
//! and with the company form (株式会社, (株), 有限会社, (有)) on either side; phone numbers
//! match whatever separators sit between digits. Scrubbed text keeps its own characters
//! (full-width punctuation stays full-width); only what was found is replaced.

use crate::report::ReportContent;
use crate::FreeText;
use regex::{Regex, RegexBuilder};
use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

/// What replaces an identifying string: no letters or digits, so it can never itself match
/// an identifying string (which must hold at least one).
pub const REDACTED: &str = "■■■";

/// Strings shorter than this are too common to scrub safely.
const MIN_LEN: usize = 2;
/// Fewer digits than this are not a phone number.
const MIN_PHONE_DIGITS: usize = 6;

/// Everything that identifies one operator.
#[derive(Debug, Clone, Default)]
pub struct IdentityProfile {
    pub texts: Vec<String>,
    pub phones: Vec<String>,
}

/// One kind of string removed from one field; the secretariat sees these before it sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Removal {
    pub field: String,
    pub text: String,
    pub count: usize,
}

pub struct Scrubber {
    /// Alternations of identifying strings, longest first across all of them; applied in turn.
    patterns: Vec<Regex>,
}

/// Alternatives per compiled pattern, so that even a large profile compiles within the regex
/// crate's size limit.
const PER_PATTERN: usize = 64;

impl Scrubber {
    pub fn new(profile: &IdentityProfile) -> Scrubber {
        let mut alternatives: Vec<(usize, String)> = Vec::new();
        for t in &profile.texts {
            let t = fold_width(t.trim());
            let letters: Vec<char> = t.chars().filter(|c| !c.is_whitespace()).collect();
            if letters.len() >= MIN_LEN && t.chars().any(char::is_alphanumeric) {
                alternatives.push((letters.len(), name_pattern(&letters)));
            }
        }
        for p in &profile.phones {
            if let Some(re) = phone_pattern(p) {
                alternatives.push((usize::MAX, re));
            }
        }
        // Longest first, so "Tokai Power Co." is removed whole rather than leaving "Co.".
        alternatives.sort_by_key(|a| std::cmp::Reverse(a.0));
        alternatives.dedup_by(|a, b| a.1 == b.1);
        let patterns = alternatives
            .chunks(PER_PATTERN)
            .filter_map(|chunk| {
                let joined: Vec<&str> = chunk.iter().map(|(_, r)| r.as_str()).collect();
                let built = RegexBuilder::new(&joined.join("|")).case_insensitive(true).size_limit(64 << 20).build();
                if let Err(e) = &built {
                    // Identity strings are length-limited where they are entered; this is a bug.
                    eprintln!("kyoyu: an identity pattern did not compile: {e}");
                }
                built.ok()
            })
            .collect();
        Scrubber { patterns }
    }

    /// The text with every identifying string replaced, and the strings found (as folded).
    /// Matching runs on the folded text; the replacement is made in the original, piece by
    /// piece, so the rest keeps its own characters.
    fn scrub_text(&self, text: &str) -> (String, Vec<String>) {
        let mut pieces = pieces(text);
        let mut found = Vec::new();
        for re in &self.patterns {
            let (folded, starts) = joined(&pieces);
            let spans: Vec<(usize, usize)> = re
                .find_iter(&folded)
                .map(|m| {
                    found.push(m.as_str().to_string());
                    (m.start(), m.end())
                })
                .collect();
            if !spans.is_empty() {
                pieces = redact(pieces, &starts, &spans);
            }
        }
        (pieces.iter().map(|p| p.original.as_str()).collect(), found)
    }

    /// Removes every identifying string from every text field, and the operator name. Returns
    /// what was removed, field by field.
    pub fn scrub(&self, content: &mut ReportContent) -> Vec<Removal> {
        let mut removals = Vec::new();
        if let Some(name) = content.operator_name.take() {
            removals.push(Removal { field: "operator_name".into(), text: name, count: 1 });
        }
        content.for_each_text_mut(|field, text| {
            let (clean, here) = self.scrub_field(field, text);
            *text = clean;
            removals.extend(here);
        });
        removals
    }

    /// One text (a field, a file name) with every identifying string replaced, and what was
    /// removed from it as `field`.
    pub fn scrub_field(&self, field: &str, text: &str) -> (String, Vec<Removal>) {
        let (clean, found) = self.scrub_text(text);
        let mut here: Vec<Removal> = Vec::new();
        for f in found {
            match here.iter_mut().find(|r| r.text == f) {
                Some(r) => r.count += 1,
                None => here.push(Removal { field: field.to_string(), text: f, count: 1 }),
            }
        }
        (clean, here)
    }

    /// Counts identifying strings left in each field (empty when the content is clean).
    pub fn matches(&self, content: &ReportContent) -> Vec<(String, usize)> {
        let mut out = Vec::new();
        content.clone().for_each_text_mut(|field, text| {
            let n = self.count_in(text);
            if n > 0 {
                out.push((field.to_string(), n));
            }
        });
        out
    }

    /// How many identifying strings one text holds.
    pub fn count_in(&self, text: &str) -> usize {
        self.scrub_text(text).1.len()
    }
}

/// A run of the original text that folds on its own: a character with the marks that
/// combine with it (NFKC composes only within such a run), and its folded form.
#[derive(Clone)]
struct Piece {
    original: String,
    folded: String,
}

/// The text cut into [`Piece`]s.
fn pieces(text: &str) -> Vec<Piece> {
    let mut runs: Vec<String> = Vec::new();
    for c in text.chars() {
        let joins = unicode_normalization::char::is_combining_mark(c)
            || is_invisible(c)
            || matches!(c, '\u{FF9E}' | '\u{FF9F}');
        match runs.last_mut() {
            Some(run) if joins => run.push(c),
            _ => runs.push(c.to_string()),
        }
    }
    runs.into_iter().map(|original| Piece { folded: fold_width(&original), original }).collect()
}

/// The folded text of `pieces`, and where each piece starts in it.
fn joined(pieces: &[Piece]) -> (String, Vec<usize>) {
    let mut folded = String::new();
    let mut starts = Vec::with_capacity(pieces.len());
    for p in pieces {
        starts.push(folded.len());
        folded.push_str(&p.folded);
    }
    (folded, starts)
}

/// `pieces` with every piece a span (sorted, apart) touches replaced, one [`REDACTED`] per span.
fn redact(pieces: Vec<Piece>, starts: &[usize], spans: &[(usize, usize)]) -> Vec<Piece> {
    let mut out = Vec::with_capacity(pieces.len());
    let mut spans = spans.iter().peekable();
    let mut i = 0;
    while i < pieces.len() {
        let end = starts[i] + pieces[i].folded.len();
        match spans.peek() {
            Some(&&(from, to)) if end > from && starts[i] < to => {
                while i < pieces.len() && starts[i] < to {
                    i += 1;
                }
                out.push(Piece { original: REDACTED.into(), folded: REDACTED.into() });
                spans.next();
            }
            _ => {
                out.push(pieces[i].clone());
                i += 1;
            }
        }
    }
    out
}

/// Text in the form it is compared in: NFKC (full-width ASCII, half-width kana, ㈱ and the
/// ideographic space fold to one form) without invisible characters that could split a name.
pub fn fold_width(s: &str) -> String {
    s.nfkc().filter(|c| !is_invisible(*c)).collect()
}

/// Zero-width spaces and joiners, the word joiner, the byte-order mark and the soft hyphen.
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}' | '\u{00AD}' | '\u{180E}')
}

/// Company forms that stay with a name: removing the name but leaving ㈱ beside it still tells
/// what kind of body it was.
const COMPANY_FORMS: &str = r"(?:株式会社|\(株\)|有限会社|\(有\)|合同会社|\(同\))";

/// A name (its letters without spaces) matched with any spaces between letters, and its
/// company form on either side.
fn name_pattern(letters: &[char]) -> String {
    let body: Vec<String> = letters.iter().map(|c| regex::escape(&c.to_string())).collect();
    format!(r"(?:{COMPANY_FORMS}\s*)?{}(?:\s*{COMPANY_FORMS})?", body.join(r"\s*"))
}

/// A phone number as a pattern that allows any separators, and +81 for a leading 0.
fn phone_pattern(phone: &str) -> Option<String> {
    let digits: Vec<char> = fold_width(phone).chars().filter(|c| c.is_ascii_digit()).collect();
    if digits.len() < MIN_PHONE_DIGITS {
        return None;
    }
    let sep = r"[\s\-‐‑–—−ー().]*";
    let body = |ds: &[char]| ds.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(sep);
    Some(if digits[0] == '0' { format!(r"(?:(?:\+?81{sep})|0){sep}{}", body(&digits[1..])) } else { body(&digits) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::ReportInput;
    use proptest::prelude::*;

    fn content(description: &str) -> ReportContent {
        let input: ReportInput = serde_json::from_value(serde_json::json!({
            "route": "anonymised", "statutory": false, "tlp": "AMBER", "has_attachments": false,
            "sector": "gas", "operator_name": "東都ガス株式会社",
            "summary": {"description": description},
            "timeline": [{"at": "2026-01-01T00:00:00+09:00", "text": description}]
        }))
        .unwrap();
        input.into_new_report().unwrap().content
    }

    fn profile() -> IdentityProfile {
        IdentityProfile {
            texts: vec!["東都ガス株式会社".into(), "東都ガス".into(), "toto-gas.example.jp".into(), "Toto Gas".into()],
            phones: vec!["03-1234-5678".into()],
        }
    }

    #[test]
    fn scrubs_names_domains_and_phones_everywhere() {
        let s = Scrubber::new(&profile());
        let mut c = content("東都ガスのサーバ(www.TOTO-GAS.example.jp)が停止。連絡先 +81 3 1234 5678、ＴＯＴＯ ＧＡＳ");
        let removed = s.scrub(&mut c);
        assert!(s.matches(&c).is_empty(), "{c:?}");
        assert_eq!(c.operator_name, None);
        let d = c.summary.description.unwrap();
        assert!(d.contains("のサーバ(www.") && d.contains(REDACTED), "{d}");
        assert!(removed.iter().any(|r| r.field == "timeline[0].text"));
    }

    #[test]
    fn spaced_invisible_half_width_and_company_forms_are_scrubbed() {
        let mut p = profile();
        p.texts.push("トウトガス".into());
        let s = Scrubber::new(&p);
        for text in
            ["東都 ガス 株式会社の件", "東\u{200B}都ガスの件", "ﾄｳﾄｶﾞｽの件", "東都ガス㈱の件", "（株）東都ガスの件"]
        {
            let mut c = content(text);
            s.scrub(&mut c);
            let d = c.summary.description.clone().unwrap();
            assert_eq!(d, format!("{REDACTED}の件"), "{text}");
        }
    }

    #[test]
    fn the_rest_of_the_text_keeps_its_own_characters() {
        let s = Scrubber::new(&profile());
        for (text, kept) in [
            ("東都ガスの障害（復旧済み）。ＡＢＣ対応：完了", "■■■の障害（復旧済み）。ＡＢＣ対応：完了"),
            ("ﾄｳﾄ ﾀﾞｲﾔ、東都ガス㈱！", "ﾄｳﾄ ﾀﾞｲﾔ、■■■！"),
        ] {
            let mut c = content(text);
            s.scrub(&mut c);
            assert_eq!(c.summary.description.as_deref(), Some(kept), "{text}");
        }
    }

    #[test]
    fn a_large_profile_still_scrubs_everything() {
        let texts: Vec<String> = (0..1000).map(|i| format!("別名{i}号")).collect();
        let s = Scrubber::new(&IdentityProfile { texts: texts.clone(), phones: vec![] });
        let mut c = content(&format!("{} と {}", texts[3], texts[999]));
        s.scrub(&mut c);
        assert!(s.matches(&c).is_empty(), "{c:?}");
    }

    #[test]
    fn short_strings_are_not_scrubbed() {
        let s = Scrubber::new(&IdentityProfile { texts: vec!["A".into()], phones: vec!["110".into()] });
        let mut c = content("A 110");
        s.scrub(&mut c);
        assert_eq!(c.summary.description.as_deref(), Some("A 110"));
    }

    proptest! {
        #[test]
        fn nothing_identifying_survives(
            name in "[A-Za-z\u{3041}-\u{3093}\u{4e00}-\u{4e50}]{2,12}",
            alias in "[A-Za-z]{2,8}",
            phone in "0[0-9]{1,3}-[0-9]{2,4}-[0-9]{4}",
            filler in "[a-z \u{3041}-\u{3093}]{0,20}",
        ) {
            let p = IdentityProfile { texts: vec![name.clone(), alias.clone()], phones: vec![phone.clone()] };
            let s = Scrubber::new(&p);
            let text = format!("{filler}{name}{filler}{}{filler}{phone}{}", alias.to_uppercase(), phone.replace('-', " "));
            let mut c = content(&text);
            s.scrub(&mut c);
            prop_assert!(s.matches(&c).is_empty());
            let all = c.search_text();
            prop_assert!(!all.contains(&name.to_lowercase()));
            prop_assert!(!all.contains(&alias.to_lowercase()));
        }
    }
}
