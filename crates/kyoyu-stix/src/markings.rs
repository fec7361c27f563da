//! TLP as STIX data markings. Items named with TLP 1.0 words (WHITE, GREEN, AMBER, RED) carry
//! the marking definitions built into STIX 2.1 (§7.2.1.4); items named with TLP 2.0 words
//! (CLEAR, AMBER+STRICT) carry the OASIS TLP 2.0 marking definitions, which are not built in,
//! so their definition objects travel with the objects that use them.

use kyoyu_domain::tlp::Tlp;
use serde_json::{json, Value};

const TLP1_WHITE: &str = "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9";
const TLP1_GREEN: &str = "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da";
const TLP1_AMBER: &str = "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82";
const TLP1_RED: &str = "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed";
const TLP2_CLEAR: &str = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487";
const TLP2_GREEN: &str = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb";
const TLP2_AMBER: &str = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421";
const TLP2_AMBER_STRICT: &str = "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003";
const TLP2_RED: &str = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1";

/// The OASIS extension that defines the TLP 2.0 marking definitions.
const TLP2_EXTENSION: &str = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d";

/// Every known marking id and the scope it means, TLP 1.0 and 2.0 alike.
const KNOWN: [(&str, Tlp); 9] = [
    (TLP1_WHITE, Tlp::White),
    (TLP1_GREEN, Tlp::Green),
    (TLP1_AMBER, Tlp::Amber),
    (TLP1_RED, Tlp::Red),
    (TLP2_CLEAR, Tlp::Clear),
    (TLP2_GREEN, Tlp::Green),
    (TLP2_AMBER, Tlp::Amber),
    (TLP2_AMBER_STRICT, Tlp::AmberStrict),
    (TLP2_RED, Tlp::Red),
];

/// The marking-definition id kyoyu writes for a scope.
pub fn marking_id(tlp: Tlp) -> &'static str {
    match tlp {
        Tlp::White => TLP1_WHITE,
        Tlp::Green => TLP1_GREEN,
        Tlp::Amber => TLP1_AMBER,
        Tlp::Red => TLP1_RED,
        Tlp::Clear => TLP2_CLEAR,
        Tlp::AmberStrict => TLP2_AMBER_STRICT,
    }
}

/// The scope a marking id stands for, if it is a TLP marking.
pub fn tlp_of_marking(id: &str) -> Option<Tlp> {
    KNOWN.iter().find(|(m, _)| *m == id).map(|(_, t)| *t)
}

/// True for the marking ids every STIX 2.1 consumer knows without a definition object.
pub fn is_builtin(id: &str) -> bool {
    [TLP1_WHITE, TLP1_GREEN, TLP1_AMBER, TLP1_RED].contains(&id)
}

/// The tightest TLP among an object's marking refs; `None` when it carries no TLP marking.
pub fn tightest_tlp<'a>(refs: impl IntoIterator<Item = &'a str>) -> Option<Tlp> {
    refs.into_iter().filter_map(tlp_of_marking).max_by_key(|t| t.rank())
}

/// The definition object of a TLP 2.0 marking, as OASIS publishes it; `None` for built-ins.
pub fn definition_object(tlp: Tlp) -> Option<Value> {
    let id = marking_id(tlp);
    if is_builtin(id) {
        return None;
    }
    let word = match tlp {
        Tlp::Clear => "clear",
        Tlp::AmberStrict => "amber+strict",
        _ => unreachable!("only CLEAR and AMBER+STRICT use TLP 2.0 ids"),
    };
    Some(json!({
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": id,
        "created": "2022-10-01T00:00:00.000Z",
        "name": format!("TLP:{}", word.to_uppercase()),
        "extensions": { TLP2_EXTENSION: { "extension_type": "property-extension", "tlp_2_0": word } }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scope_round_trips_through_its_marking() {
        for t in Tlp::ALL {
            assert_eq!(tlp_of_marking(marking_id(t)), Some(t));
        }
    }

    #[test]
    fn tlp2_words_have_definitions_and_tlp1_words_are_builtin() {
        for t in Tlp::ALL {
            let builtin = is_builtin(marking_id(t));
            assert_eq!(definition_object(t).is_none(), builtin, "{t:?}");
            assert_eq!(builtin, !matches!(t, Tlp::Clear | Tlp::AmberStrict));
        }
    }

    #[test]
    fn the_tightest_marking_wins() {
        assert_eq!(tightest_tlp([TLP1_GREEN, TLP2_AMBER_STRICT, TLP1_WHITE]), Some(Tlp::AmberStrict));
        assert_eq!(tightest_tlp(["marking-definition--00000000-0000-4000-8000-000000000000"]), None);
    }
}
