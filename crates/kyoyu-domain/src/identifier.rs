//! Report identifiers: `R<year>-<4-digit seq>`, follow-ups `-<n>` (domain.md §6).

use chrono::{DateTime, Datelike, FixedOffset, Utc};

/// The year of numbering is the Japanese calendar year of receipt (JST, UTC+9).
pub fn numbering_year(at: DateTime<Utc>) -> i32 {
    let jst = FixedOffset::east_opt(9 * 3600).expect("valid offset");
    at.with_timezone(&jst).year()
}

/// `R2026-0001`.
pub fn chain_identifier(prefix: char, year: i32, seq: i64) -> String {
    format!("{prefix}{year}-{seq:04}")
}

/// The identifier of one report in a chain: the chain's for the first, `-n` after it.
pub fn report_identifier(chain: &str, sequence: i64) -> String {
    if sequence <= 1 {
        chain.to_string()
    } else {
        format!("{chain}-{sequence}")
    }
}

/// Splits `R2026-0001-2` into the chain identifier and the sequence; `R2026-0001` has none.
pub fn parse_report_identifier(s: &str) -> Option<(String, Option<i64>)> {
    let parts: Vec<&str> = s.trim().split('-').collect();
    let valid_head = parts.len() >= 2
        && parts[0].len() == 5
        && parts[0][1..].chars().all(|c| c.is_ascii_digit())
        && parts[1].chars().all(|c| c.is_ascii_digit())
        && !parts[1].is_empty();
    match parts.len() {
        2 if valid_head => Some((s.trim().to_string(), None)),
        3 if valid_head => {
            let seq = parts[2].parse().ok()?;
            Some((format!("{}-{}", parts[0], parts[1]), Some(seq)))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn formats() {
        assert_eq!(chain_identifier('R', 2026, 1), "R2026-0001");
        assert_eq!(chain_identifier('R', 2026, 12345), "R2026-12345");
        assert_eq!(report_identifier("R2026-0001", 1), "R2026-0001");
        assert_eq!(report_identifier("R2026-0001", 3), "R2026-0001-3");
    }

    #[test]
    fn parses_identifiers() {
        assert_eq!(parse_report_identifier("R2026-0001"), Some(("R2026-0001".into(), None)));
        assert_eq!(parse_report_identifier("R2026-0001-3"), Some(("R2026-0001".into(), Some(3))));
        assert_eq!(parse_report_identifier("R2026"), None);
        assert_eq!(parse_report_identifier("R2026-0001-x"), None);
    }

    #[test]
    fn year_turns_at_jst_midnight() {
        let before = Utc.with_ymd_and_hms(2026, 12, 31, 14, 59, 59).unwrap();
        let after = Utc.with_ymd_and_hms(2026, 12, 31, 15, 0, 0).unwrap();
        assert_eq!(numbering_year(before), 2026);
        assert_eq!(numbering_year(after), 2027);
    }
}
