//! Traffic Light Protocol scopes (domain.md §7). TLP 2.0 names are accepted and kept as given:
//! CLEAR is WHITE; AMBER+STRICT is AMBER limited to the named organisations.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub enum Tlp {
    #[serde(rename = "RED")]
    Red,
    #[serde(rename = "AMBER+STRICT")]
    AmberStrict,
    #[serde(rename = "AMBER")]
    Amber,
    #[serde(rename = "GREEN")]
    Green,
    #[serde(rename = "WHITE")]
    White,
    #[serde(rename = "CLEAR")]
    Clear,
}

impl Tlp {
    pub const ALL: [Tlp; 6] = [Tlp::Red, Tlp::AmberStrict, Tlp::Amber, Tlp::Green, Tlp::White, Tlp::Clear];

    /// Tightness: a higher rank reaches fewer readers. WHITE and CLEAR are the same scope.
    pub fn rank(self) -> u8 {
        match self {
            Tlp::White | Tlp::Clear => 0,
            Tlp::Green => 1,
            Tlp::Amber => 2,
            Tlp::AmberStrict => 3,
            Tlp::Red => 4,
        }
    }

    /// True when `self` keeps or tightens `previous` (a relay may never loosen).
    pub fn keeps_or_tightens(self, previous: Tlp) -> bool {
        self.rank() >= previous.rank()
    }

    /// RED and both AMBERs reach only need-to-know users.
    pub fn needs_need_to_know(self) -> bool {
        self.rank() >= 2
    }

    pub fn code(self) -> &'static str {
        match self {
            Tlp::Red => "RED",
            Tlp::AmberStrict => "AMBER+STRICT",
            Tlp::Amber => "AMBER",
            Tlp::Green => "GREEN",
            Tlp::White => "WHITE",
            Tlp::Clear => "CLEAR",
        }
    }

    pub fn parse(code: &str) -> Option<Tlp> {
        Tlp::ALL.into_iter().find(|t| t.code() == code)
    }

    pub fn label_ja(self) -> &'static str {
        match self {
            Tlp::Red => "宛先限り",
            Tlp::AmberStrict | Tlp::Amber => "特定分野・関係者限り",
            Tlp::Green => "重要インフラ関係主体限り",
            Tlp::White | Tlp::Clear => "公開情報",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for t in Tlp::ALL {
            assert_eq!(Tlp::parse(t.code()), Some(t));
            let json = serde_json::to_string(&t).unwrap();
            assert_eq!(json, format!("\"{}\"", t.code()));
        }
        assert_eq!(Tlp::parse("amber"), None);
    }

    #[test]
    fn loosening_is_detected() {
        assert!(Tlp::Red.keeps_or_tightens(Tlp::Amber));
        assert!(Tlp::Clear.keeps_or_tightens(Tlp::White));
        assert!(!Tlp::Green.keeps_or_tightens(Tlp::Amber));
        assert!(!Tlp::Amber.keeps_or_tightens(Tlp::AmberStrict));
    }
}
