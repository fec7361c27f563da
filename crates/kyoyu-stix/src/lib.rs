//! STIX 2.1 for kyoyu (issue #6): reports and advisories as STIX objects, TLP as data markings,
//! the kyoyu extension for the official forms' fields, indicators found in text, and the checks
//! a bundle from outside must pass before it is kept.

pub mod extension;
pub mod import;
pub mod mapping;
pub mod markings;
pub mod observables;

pub use mapping::{
    advisory_objects, file_objects, normalise_timestamp, rendition_objects, AdvisoryFacts, FileFacts, OrgRef,
    RenditionFacts, StixObject,
};

use serde_json::{json, Value};

/// A bundle of objects, as STIX 2.1 §8 frames them for transport.
pub fn bundle<'a>(objects: impl IntoIterator<Item = &'a Value>) -> Value {
    json!({
        "type": "bundle",
        "id": format!("bundle--{}", uuid::Uuid::new_v4()),
        "objects": objects.into_iter().collect::<Vec<_>>(),
    })
}
