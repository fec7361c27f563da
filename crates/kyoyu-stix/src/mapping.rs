//! Reports and advisories as STIX 2.1 objects.
//!
//! A rendition (the form as one sender gave it to one receiver) becomes a `report` about an
//! `incident`, with `indicator`, `observed-data` and `vulnerability` objects for what its text
//! names, `identity` objects for the organisations that sent and received it (never for an
//! anonymised reporter), and `relationship` objects tying them together. The official form's
//! fields that STIX lacks ride in the kyoyu extension ([`crate::extension`]). Each object
//! carries the rendition's TLP as a marking and belongs to that rendition alone, so its readers
//! are exactly the rendition's readers. What every item refers to (the extension's definition,
//! its author, the TLP 2.0 marking definitions) is in [`crate::extension::definitions`], once.

use crate::extension::kyoyu_extension;
use crate::markings::marking_id;
use crate::observables::{extract, Observable};
use kyoyu_domain::advisory::AdvisoryDraft;
use kyoyu_domain::attachment::Hashes;
use kyoyu_domain::codes::Route;
use kyoyu_domain::report::ReportContent;
use kyoyu_domain::tlp::Tlp;
use serde_json::{json, Map, Value};
use uuid::Uuid;

/// One STIX object as kyoyu keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct StixObject {
    pub id: String,
    pub kind: String,
    pub spec_version: String,
    /// `modified`, else `created`; for objects without either, the time they were added.
    pub version: String,
    pub body: Value,
    /// Observable values it names, compared when correlating.
    pub values: Vec<String>,
}

impl StixObject {
    /// Reads the fields kyoyu indexes from a STIX object already checked by [`crate::import`].
    pub fn from_body(body: Value, added_at: &str, values: Vec<String>) -> StixObject {
        let text = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_string);
        StixObject {
            id: text("id").unwrap_or_default(),
            kind: text("type").unwrap_or_default(),
            spec_version: text("spec_version").unwrap_or_else(|| "2.1".into()),
            version: normalise_timestamp(
                &text("modified").or_else(|| text("created")).unwrap_or_else(|| added_at.to_string()),
            ),
            values,
            body,
        }
    }
}

/// A timestamp in the one form kyoyu stores and compares: RFC 3339, UTC, microseconds, `Z`.
/// Text that is not a timestamp is returned unchanged.
pub fn normalise_timestamp(t: &str) -> String {
    match chrono::DateTime::parse_from_rfc3339(t) {
        Ok(d) => d.with_timezone(&chrono::Utc).to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        Err(_) => t.to_string(),
    }
}

/// An organisation as it may be named in STIX.
#[derive(Debug, Clone)]
pub struct OrgRef<'a> {
    pub id: &'a str,
    pub name: &'a str,
}

/// What the mapping needs to know of one rendition.
#[derive(Debug, Clone)]
pub struct RenditionFacts<'a> {
    pub rendition_id: &'a str,
    pub identifier: Option<&'a str>,
    pub sequence: i64,
    pub route: Route,
    pub statutory: bool,
    /// `None` where the sender is the operator of an anonymised chain.
    pub sender: Option<OrgRef<'a>>,
    /// `None` where the receiver is the operator of an anonymised chain.
    pub receiver: Option<OrgRef<'a>>,
    pub content: &'a ReportContent,
    pub created_at: &'a str,
}

/// What the mapping needs to know of one advisory.
#[derive(Debug, Clone)]
pub struct AdvisoryFacts<'a> {
    pub advisory_id: &'a str,
    pub identifier: Option<&'a str>,
    pub sequence: i64,
    pub author: OrgRef<'a>,
    pub draft: &'a AdvisoryDraft,
    pub status: kyoyu_domain::codes::AdvisoryStatus,
    pub created_at: &'a str,
    pub issued_at: Option<&'a str>,
}

/// Builds one item's objects: every object is marked with the item's TLP and the ids are fresh.
struct Builder {
    tlp: Tlp,
    created: String,
    created_by: Option<String>,
    objects: Vec<StixObject>,
    /// SCO ids are UUIDv5 scoped to the item, so a reader's view holds each object once.
    sco_namespace: Uuid,
}

impl Builder {
    fn new(tlp: Tlp, created: &str, item_id: &str) -> Builder {
        Builder {
            tlp,
            created: created.to_string(),
            created_by: None,
            objects: Vec::new(),
            sco_namespace: Uuid::new_v5(&Uuid::NAMESPACE_URL, format!("urn:kyoyu:item:{item_id}").as_bytes()),
        }
    }

    fn sdo_id(kind: &str) -> String {
        format!("{kind}--{}", Uuid::new_v4())
    }

    /// Adds a domain or relationship object with the common properties filled in.
    fn add(&mut self, kind: &str, props: Value, values: Vec<String>) -> String {
        self.add_as(Self::sdo_id(kind), kind, props, values)
    }

    fn add_as(&mut self, id: String, kind: &str, props: Value, values: Vec<String>) -> String {
        let mut body = Map::new();
        body.insert("type".into(), json!(kind));
        body.insert("spec_version".into(), json!("2.1"));
        body.insert("id".into(), json!(id));
        body.insert("created".into(), json!(self.created));
        body.insert("modified".into(), json!(self.created));
        if let Some(by) = &self.created_by {
            body.insert("created_by_ref".into(), json!(by));
        }
        if let Value::Object(p) = props {
            body.extend(p);
        }
        body.insert("object_marking_refs".into(), json!([marking_id(self.tlp)]));
        self.push(Value::Object(body), values);
        id
    }

    /// Adds a cyber-observable object; its id is derived from its value.
    fn add_sco(&mut self, kind: &str, props: Value, value: &str) -> String {
        let id = format!("{kind}--{}", Uuid::new_v5(&self.sco_namespace, format!("{kind}:{value}").as_bytes()));
        let mut body = Map::new();
        body.insert("type".into(), json!(kind));
        body.insert("spec_version".into(), json!("2.1"));
        body.insert("id".into(), json!(id));
        if let Value::Object(p) = props {
            body.extend(p);
        }
        body.insert("object_marking_refs".into(), json!([marking_id(self.tlp)]));
        self.push(Value::Object(body), vec![value.to_string()]);
        id
    }

    /// A `file` observable: its name and size, and every hash (each compared when correlating).
    fn add_file(&mut self, name: &str, size: u64, hashes: &Hashes) -> String {
        let props = json!({
            "name": name,
            "size": size,
            "hashes": { "SHA-256": hashes.sha256, "SHA-1": hashes.sha1, "MD5": hashes.md5 },
        });
        let id = self.add_sco("file", props, &hashes.sha256);
        if let Some(last) = self.objects.last_mut() {
            last.values = vec![hashes.sha256.clone(), hashes.sha1.clone(), hashes.md5.clone()];
        }
        id
    }

    fn push(&mut self, body: Value, values: Vec<String>) {
        let created = self.created.clone();
        self.objects.push(StixObject::from_body(body, &created, values));
    }

    fn identity(&mut self, org: &OrgRef) -> String {
        let props = json!({
            "name": org.name,
            "identity_class": "organization",
            "extensions": kyoyu_extension(json!({ "org_id": org.id })),
        });
        self.add("identity", props, Vec::new())
    }

    fn relate(&mut self, source: &str, target: &str) -> String {
        self.add(
            "relationship",
            json!({ "relationship_type": "related-to", "source_ref": source, "target_ref": target }),
            Vec::new(),
        )
    }

    /// Indicators, observed data and vulnerabilities for what `texts` name, related to `about`.
    fn observables(&mut self, texts: &[&str], about: &str, named_in: &str) -> Vec<String> {
        let mut refs = Vec::new();
        let mut observed = Vec::new();
        for o in extract(texts.iter().copied()) {
            if let Observable::Cve(cve) = &o {
                let v = self.add(
                    "vulnerability",
                    json!({ "name": cve, "external_references": [{ "source_name": "cve", "external_id": cve }] }),
                    vec![cve.clone()],
                );
                refs.push(v.clone());
                refs.push(self.relate(about, &v));
                continue;
            }
            let (sco_type, sco_props, pattern) = sco_of(&o);
            observed.push(self.add_sco(sco_type, sco_props, o.value()));
            let indicator = self.add(
                "indicator",
                json!({
                    "name": o.value(),
                    "description": format!("{named_in} の本文に記載 / named in the text of {named_in}"),
                    "indicator_types": ["malicious-activity"],
                    "pattern": pattern,
                    "pattern_type": "stix",
                    "valid_from": self.created,
                }),
                vec![o.value().to_string()],
            );
            refs.push(indicator.clone());
            refs.push(self.relate(&indicator, about));
        }
        if !observed.is_empty() {
            let seen = self.add(
                "observed-data",
                json!({
                    "first_observed": self.created,
                    "last_observed": self.created,
                    "number_observed": 1,
                    "object_refs": observed,
                }),
                Vec::new(),
            );
            refs.extend(observed);
            refs.push(seen.clone());
            refs.push(self.relate(&seen, about));
        }
        refs
    }

    fn finish(self) -> Vec<StixObject> {
        self.objects
    }
}

fn sco_of(o: &Observable) -> (&'static str, Value, String) {
    let quoted = o.value().replace('\\', "\\\\").replace('\'', "\\'");
    match o {
        Observable::Ipv4(v) => ("ipv4-addr", json!({ "value": v }), format!("[ipv4-addr:value = '{quoted}']")),
        Observable::Ipv6(v) => ("ipv6-addr", json!({ "value": v }), format!("[ipv6-addr:value = '{quoted}']")),
        Observable::Domain(v) => ("domain-name", json!({ "value": v }), format!("[domain-name:value = '{quoted}']")),
        Observable::Url(v) => ("url", json!({ "value": v }), format!("[url:value = '{quoted}']")),
        Observable::Email(v) => ("email-addr", json!({ "value": v }), format!("[email-addr:value = '{quoted}']")),
        Observable::Md5(v) => ("file", json!({ "hashes": { "MD5": v } }), format!("[file:hashes.MD5 = '{quoted}']")),
        Observable::Sha1(v) => {
            ("file", json!({ "hashes": { "SHA-1": v } }), format!("[file:hashes.'SHA-1' = '{quoted}']"))
        }
        Observable::Sha256(v) => {
            ("file", json!({ "hashes": { "SHA-256": v } }), format!("[file:hashes.'SHA-256' = '{quoted}']"))
        }
        Observable::Cve(_) => unreachable!("CVE ids become vulnerabilities"),
    }
}

/// The narrative fields of a report, where indicators are looked for.
fn report_texts(c: &ReportContent) -> Vec<&str> {
    let mut texts: Vec<&str> =
        [&c.summary.description, &c.summary.affected_system, &c.summary.occurred_note, &c.impact.notes, &c.lessons]
            .into_iter()
            .filter_map(|t| t.as_deref())
            .collect();
    texts.extend(c.timeline.iter().map(|e| e.text.as_str()));
    texts
}

fn to_value<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).expect("domain values serialise")
}

/// The objects of one rendition.
pub fn rendition_objects(f: &RenditionFacts) -> Vec<StixObject> {
    let c = f.content;
    let mut b = Builder::new(c.tlp, f.created_at, f.rendition_id);
    let sender = f.sender.as_ref().map(|o| b.identity(o));
    b.created_by = sender.clone();
    let receiver = f.receiver.as_ref().map(|o| b.identity(o));
    let title = match f.identifier {
        Some(id) => format!("情報連絡 {id}"),
        None => "情報連絡".to_string(),
    };
    let mut incident_props = json!({
        "name": c.summary.affected_system.clone().unwrap_or_else(|| title.clone()),
        "extensions": kyoyu_extension(json!({
            "identifier": f.identifier,
            "sequence": f.sequence,
            "route": f.route.code(),
            "statutory": f.statutory,
            "sector": c.sector,
            "tlp": c.tlp.code(),
            "tlp_note": c.tlp_note,
            "severity": c.severity.map(|s| s.code()),
            "event_type": c.event_type.map(|e| e.code()),
            "causes": c.causes.iter().map(|x| x.code()).collect::<Vec<_>>(),
            "outlook": c.outlook.map(|o| o.code()),
            "system_status": c.impact.system_status.map(|s| s.code()),
            "service_level_deviation": c.impact.service_level_deviation,
            "service_level_evaluation": c.service_level_evaluation.as_ref().map(to_value),
            "discovered_at": c.summary.discovered_at.map(|t| t.to_rfc3339()),
            "occurred_at": c.summary.occurred_at.map(|t| t.to_rfc3339()),
        })),
    });
    if let Some(d) = &c.summary.description {
        incident_props["description"] = json!(d);
    }
    let incident = b.add("incident", incident_props, Vec::new());
    let mut refs = vec![incident.clone()];
    refs.extend(b.observables(&report_texts(c), &incident, &title));
    for org in sender.iter().chain(receiver.iter()) {
        refs.push(org.clone());
        refs.push(b.relate(&incident, org));
    }
    let mut report =
        json!({ "name": title, "report_types": ["threat-report"], "published": f.created_at, "object_refs": refs });
    if let Some(d) = &c.summary.description {
        report["description"] = json!(d);
    }
    b.add("report", report, Vec::new());
    b.finish()
}

/// The objects of one advisory: a threat report, its observables and the objects it cites.
pub fn advisory_objects(f: &AdvisoryFacts) -> Vec<StixObject> {
    let d = f.draft;
    let mut b = Builder::new(d.tlp, f.created_at, f.advisory_id);
    let author = b.identity(&f.author);
    b.created_by = Some(author.clone());
    let title = match f.identifier {
        Some(id) => format!("情報提供 {id}"),
        None => "情報提供".to_string(),
    };
    let texts: Vec<&str> = [&d.content.summary, &d.content.targets, &d.content.countermeasures, &d.content.other]
        .into_iter()
        .filter_map(|t| t.as_deref())
        .collect();
    let report_id = Builder::sdo_id("report");
    let mut refs = vec![author.clone()];
    refs.extend(b.observables(&texts, &report_id, &title));
    refs.extend(d.external_sources.iter().filter(|s| crate::import::is_stix_id(s)).cloned());
    let mut report = json!({
        "name": title,
        "report_types": ["threat-report"],
        "published": f.issued_at.unwrap_or(f.created_at),
        "object_refs": refs,
        "extensions": kyoyu_extension(json!({
            "identifier": f.identifier,
            "sequence": f.sequence,
            "status": f.status,
            "tlp": d.tlp.code(),
            "tlp_note": d.tlp_note,
            "severity": d.severity.map(|s| s.code()),
            "urgent": d.urgent,
        })),
    });
    if let Some(s) = &d.content.summary {
        report["description"] = json!(s);
    }
    // The relationships above already point at the report, so it takes the id chosen for them.
    b.add_as(report_id, "report", report, Vec::new());
    b.finish()
}

/// One file on an item, as STIX sees it; `inside` lists what a sample's zip held.
pub struct FileFacts<'a> {
    pub name: &'a str,
    pub size: u64,
    pub hashes: &'a Hashes,
    pub inside: Vec<(&'a str, u64, &'a Hashes)>,
}

/// The `file` observables of an item's files (and of the files inside a sample's zip), with
/// the item's marking, so correlation and TAXII see their hashes. An observable's id follows
/// from the item and its SHA-256, so a file carried twice is one object.
pub fn file_objects(item_id: &str, tlp: Tlp, created: &str, files: &[FileFacts]) -> Vec<StixObject> {
    let mut b = Builder::new(tlp, created, item_id);
    let mut seen = std::collections::HashSet::new();
    let all = files.iter().flat_map(|f| {
        std::iter::once((f.name, f.size, f.hashes)).chain(
            f.inside.iter().map(|(path, size, hashes)| (path.rsplit('/').next().unwrap_or(path), *size, *hashes)),
        )
    });
    for (name, size, hashes) in all {
        if seen.insert(&hashes.sha256) {
            b.add_file(name, size, hashes);
        }
    }
    b.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use kyoyu_domain::report::Summary;

    fn content(tlp: Tlp) -> ReportContent {
        let mut c: ReportContent = serde_json::from_value(json!({
            "tlp": tlp, "sector": "electricity", "has_attachments": false, "sanitised_wider_use": false,
            "extra_recipient_org_ids": [], "causes": [], "timeline": [], "notified_parties": [],
            "summary": {}, "impact": {}
        }))
        .expect("minimal content");
        c.summary = Summary {
            description: Some("198.51.100.20 から不正ログイン。CVE-2024-3400 を悪用。".into()),
            ..Default::default()
        };
        c
    }

    fn facts<'a>(c: &'a ReportContent, sender: Option<OrgRef<'a>>) -> RenditionFacts<'a> {
        RenditionFacts {
            rendition_id: "r1",
            identifier: Some("R2026-0001"),
            sequence: 1,
            route: Route::Anonymised,
            statutory: false,
            sender,
            receiver: Some(OrgRef { id: "m1", name: "経済産業省" }),
            content: c,
            created_at: "2026-11-22T00:00:00.000000Z",
        }
    }

    #[test]
    fn every_object_carries_the_items_marking() {
        for tlp in Tlp::ALL {
            let c = content(tlp);
            for o in rendition_objects(&facts(&c, None)) {
                assert_eq!(o.body["object_marking_refs"], json!([marking_id(tlp)]), "{}", o.id);
            }
        }
    }

    #[test]
    fn an_anonymised_sender_has_no_identity() {
        let c = content(Tlp::Amber);
        let named = rendition_objects(&facts(&c, Some(OrgRef { id: "op", name: "電力A社" })));
        let anonymous = rendition_objects(&facts(&c, None));
        let identities = |v: &[StixObject]| v.iter().filter(|o| o.kind == "identity").count();
        assert_eq!(identities(&named), 2);
        assert_eq!(identities(&anonymous), 1);
        assert!(!serde_json::to_string(&anonymous.iter().map(|o| &o.body).collect::<Vec<_>>())
            .unwrap()
            .contains("電力A社"));
        assert!(anonymous.iter().all(|o| o.body.get("created_by_ref").is_none()));
    }

    #[test]
    fn text_indicators_become_objects_the_report_refers_to() {
        let c = content(Tlp::Green);
        let objects = rendition_objects(&facts(&c, None));
        let kinds: Vec<&str> = objects.iter().map(|o| o.kind.as_str()).collect();
        for k in ["incident", "report", "indicator", "observed-data", "ipv4-addr", "vulnerability", "relationship"] {
            assert!(kinds.contains(&k), "{k} missing from {kinds:?}");
        }
        let report = objects.iter().find(|o| o.kind == "report").unwrap();
        let refs = report.body["object_refs"].as_array().unwrap();
        for o in objects.iter().filter(|o| o.kind != "report") {
            assert!(refs.contains(&json!(o.id)), "{} not referred to", o.id);
        }
        let ext =
            &objects.iter().find(|o| o.kind == "incident").unwrap().body["extensions"][crate::extension::EXTENSION_ID];
        assert_eq!(ext["identifier"], "R2026-0001");
        assert_eq!(ext["route"], "anonymised");
    }
}
