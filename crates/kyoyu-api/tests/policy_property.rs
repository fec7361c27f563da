//! Property test of the access rule over HTTP. Random worlds (organisations of every kind,
//! users with and without need-to-know, reports on every route with random TLPs, forwards,
//! follow-ups, shares, crime reports to response agencies, the CEPTOAR council's members and
//! shares through it, partner information sent to the coordinator and shared by it) are built through the API; then, for every user and every read
//! endpoint (get, list with filters, count), what comes back must be exactly what the rule of
//! domain.md §7 allows. The oracle below is written from the rule's table, not from the code.

mod common;

use common::{report_body, spawn_bare, TestApp};
use kyoyu_app::statistics::Statistics;
use kyoyu_app::views::{
    AdvisoryList, AdvisoryView, NotificationList, OrgList, OrgView, ReportList, ReportView, SectorList, StixBundle,
};
use kyoyu_store::UserRow;
use kyoyu_taxii::resources::Envelope;
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, TestCaseError, TestRunner};
use serde_json::{json, Value};
use std::collections::{BTreeSet, HashMap};

const SECTOR_POOL: [&str; 4] = ["gas", "water", "finance", "railway"];
const TLPS: [&str; 6] = ["RED", "AMBER+STRICT", "AMBER", "GREEN", "WHITE", "CLEAR"];
const ROUTES: [&str; 3] = ["direct", "anonymised", "urgent"];

#[derive(Debug, Clone)]
enum Op {
    File {
        operator: usize,
        route: usize,
        tlp: usize,
    },
    Forward {
        rendition: usize,
        tighten: usize,
    },
    Share {
        rendition: usize,
        by_receiver: bool,
        target: usize,
    },
    /// The sender of a rendition shares it with the response agency (a crime report when the
    /// sender is the operator that filed it).
    ShareWithAgency {
        rendition: usize,
    },
    /// A CEPTOAR joins or leaves the council.
    Council {
        ceptoar: usize,
        join: bool,
    },
    /// A CEPTOAR shares a rendition through the council.
    ShareToCouncil {
        rendition: usize,
        ceptoar: usize,
    },
    FollowUp {
        rendition: usize,
    },
    Advise {
        recipients: u8,
        tlp: usize,
        urgent: bool,
    },
    RelayAdvisory {
        advisory: usize,
        by: usize,
        target: usize,
        tighten: usize,
    },
    ToggleNeedToKnow {
        user: usize,
    },
    Attach {
        rendition: usize,
        tighten: usize,
    },
    /// Some organisation's officer (or a member) sends partner information.
    SendPartner {
        org: usize,
        officer: bool,
        tlp: usize,
        sectors: u8,
    },
    /// The coordinator shares partner information with some organisation.
    SharePartner {
        item: usize,
        target: usize,
    },
}

#[derive(Debug, Clone)]
struct Spec {
    sectors: usize,
    operators: Vec<usize>,
    partner: bool,
    ntk: Vec<(bool, bool)>,
    /// Which CEPTOARs sit on the council from the start (by sector order).
    council: Vec<bool>,
    ops: Vec<Op>,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0..8usize, 0..3usize, 0..6usize).prop_map(|(operator, route, tlp)| Op::File { operator, route, tlp }),
        4 => (0..64usize, 0..3usize).prop_map(|(rendition, tighten)| Op::Forward { rendition, tighten }),
        5 => (0..64usize, any::<bool>(), 0..32usize).prop_map(|(rendition, by_receiver, target)| Op::Share { rendition, by_receiver, target }),
        1 => (0..64usize).prop_map(|rendition| Op::FollowUp { rendition }),
        2 => (0..64usize).prop_map(|rendition| Op::ShareWithAgency { rendition }),
        3 => (0..8usize, prop::bool::weighted(0.8)).prop_map(|(ceptoar, join)| Op::Council { ceptoar, join }),
        4 => (0..64usize, 0..8usize).prop_map(|(rendition, ceptoar)| Op::ShareToCouncil { rendition, ceptoar }),
        2 => (1..8u8, 0..6usize, any::<bool>()).prop_map(|(recipients, tlp, urgent)| Op::Advise { recipients, tlp, urgent }),
        4 => (0..16usize, 0..8usize, 0..32usize, 0..3usize)
            .prop_map(|(advisory, by, target, tighten)| Op::RelayAdvisory { advisory, by, target, tighten }),
        1 => (0..96usize).prop_map(|user| Op::ToggleNeedToKnow { user }),
        3 => (0..64usize, 0..3usize).prop_map(|(rendition, tighten)| Op::Attach { rendition, tighten }),
        4 => (0..64usize, prop::bool::weighted(0.8), 0..6usize, 1..16u8)
            .prop_map(|(org, officer, tlp, sectors)| Op::SendPartner { org, officer, tlp, sectors }),
        8 => (0..16usize, 0..64usize).prop_map(|(item, target)| Op::SharePartner { item, target }),
    ]
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        1..=3usize,
        prop::collection::vec(1..=2usize, 3),
        any::<bool>(),
        prop::collection::vec(any::<(bool, bool)>(), 32),
        prop::collection::vec(prop::bool::weighted(0.7), 4),
        prop::collection::vec(op(), 6..22),
    )
        .prop_map(|(sectors, operators, partner, ntk, council, ops)| Spec {
            sectors,
            operators,
            partner,
            ntk,
            council,
            ops,
        })
}

#[derive(Debug, Clone)]
struct Org {
    id: String,
    kind: String,
    sector: Option<String>,
    partner: bool,
}

#[derive(Debug, Clone)]
struct User {
    id: String,
    login: String,
    org: usize,
    ntk: bool,
}

#[derive(Debug, Clone)]
struct Rendition {
    id: String,
    chain_id: String,
    route: String,
    sender: String,
    receiver: String,
    originator: String,
    tlp: String,
    sector: String,
    shares: BTreeSet<String>,
    /// Response agencies the operator reported this submission to as a crime.
    crime: BTreeSet<String>,
    /// Shared through the CEPTOAR council (once at most).
    via_council: bool,
    forwarded: bool,
    marker: String,
}

#[derive(Debug, Clone)]
struct Advisory {
    id: String,
    tlp: String,
    /// (ministry, sector) pairs.
    recipients: Vec<(String, String)>,
    /// (from, to, tlp) of every delivery.
    hops: Vec<(String, String, String)>,
}

/// A file on a rendition: uploaded (its id known) or carried on by a forward.
#[derive(Debug, Clone)]
struct FileRec {
    id: Option<String>,
    item: String,
    tlp: String,
}

/// Partner information as the oracle keeps it.
#[derive(Debug, Clone)]
struct PartnerRec {
    id: String,
    sender: String,
    tlp: String,
    sectors: Vec<String>,
    shares: BTreeSet<String>,
    /// The sender's file on it, with the file's TLP (the item's or tighter).
    file: Option<(String, String)>,
}

struct World {
    partners: Vec<PartnerRec>,
    /// The CEPTOARs on the council now.
    council_members: BTreeSet<String>,
    app: TestApp,
    files: Vec<FileRec>,
    orgs: Vec<Org>,
    users: Vec<User>,
    jurisdiction: HashMap<String, String>,
    renditions: Vec<Rendition>,
    advisories: Vec<Advisory>,
    /// (login, advisory id) of every delivery notification, as the rule allowed at the time.
    notified: BTreeSet<(String, String)>,
}

fn secret(tlp: &str) -> bool {
    matches!(tlp, "RED" | "AMBER" | "AMBER+STRICT")
}

fn rank(tlp: &str) -> usize {
    match tlp {
        "RED" => 4,
        "AMBER+STRICT" => 3,
        "AMBER" => 2,
        "GREEN" => 1,
        _ => 0,
    }
}

impl World {
    fn org(&self, id: &str) -> &Org {
        self.orgs.iter().find(|o| o.id == id).unwrap()
    }

    fn of_kind(&self, kind: &str, sector: Option<&str>) -> Option<&Org> {
        self.orgs.iter().find(|o| o.kind == kind && (sector.is_none() || o.sector.as_deref() == sector))
    }

    /// The TLP ceiling of a report (domain.md §7, the table "Scope of a report").
    fn inside(&self, org: &Org, r: &Rendition) -> bool {
        // Separation of duties: system administration is inside no ceiling.
        if org.kind == "operations" {
            return false;
        }
        if [&r.sender, &r.receiver, &r.originator].contains(&&org.id) || r.crime.contains(&org.id) {
            return true;
        }
        let coordinator = org.kind == "coordinator";
        let ministry = org.kind == "ministry" && self.jurisdiction.get(&r.sector) == Some(&org.id);
        let partner = org.kind == "security_institution" && org.partner;
        let same_sector = org.sector.as_deref() == Some(r.sector.as_str());
        match r.tlp.as_str() {
            "RED" => coordinator || ministry || partner,
            "AMBER+STRICT" => coordinator || ministry || partner || (org.kind == "ceptoar" && same_sector),
            "AMBER" => {
                coordinator || ministry || partner || ((org.kind == "ceptoar" || org.kind == "operator") && same_sector)
            }
            _ => true,
        }
    }

    /// The rule: took part (sender, receiver, originator, or shared to) and inside the ceiling;
    /// RED and AMBER only for need-to-know users.
    fn may_read(&self, user: &User, r: &Rendition) -> bool {
        let org = &self.orgs[user.org];
        let took_part = [&r.sender, &r.receiver, &r.originator].contains(&&org.id)
            || r.shares.contains(&org.id)
            || r.crime.contains(&org.id);
        took_part && self.inside(org, r) && (!secret(&r.tlp) || user.ntk)
    }

    /// A file is read by readers of its rendition; one marked tighter only by those inside
    /// the ceiling at its own TLP (with need-to-know if that TLP is secret).
    fn may_read_file(&self, user: &User, f: &FileRec) -> bool {
        let r = self.renditions.iter().find(|r| r.id == f.item).unwrap();
        let at_file = Rendition { tlp: f.tlp.clone(), ..r.clone() };
        self.may_read(user, r)
            && (f.tlp == r.tlp || (self.inside(&self.orgs[user.org], &at_file) && (!secret(&f.tlp) || user.ntk)))
    }

    /// The user of an organisation who relays for it, with need-to-know.
    fn officer(&self, org_id: &str) -> &User {
        let idx = self.orgs.iter().position(|o| o.id == org_id).unwrap();
        self.users.iter().find(|u| u.org == idx && u.login.ends_with("officer")).unwrap()
    }

    /// The TLP ceiling of an advisory (domain.md §7, "Scope of an advisory").
    fn inside_advisory(&self, org: &Org, a: &Advisory, tlp: &str) -> bool {
        if org.kind == "operations" {
            return false;
        }
        let ministry = org.kind == "ministry" && a.recipients.iter().any(|(m, _)| *m == org.id);
        let in_sector = a.recipients.iter().any(|(_, s)| Some(s) == org.sector.as_ref());
        match tlp {
            "RED" => ministry,
            "AMBER+STRICT" => ministry || (org.kind == "ceptoar" && in_sector),
            "AMBER" => ministry || ((org.kind == "ceptoar" || org.kind == "operator") && in_sector),
            "GREEN" => ["ministry", "ceptoar", "operator"].contains(&org.kind.as_str()),
            _ => true,
        }
    }

    /// The author reads; every other organisation through the hop that reached it.
    fn may_read_advisory(&self, user: &User, a: &Advisory) -> bool {
        let org = &self.orgs[user.org];
        if org.kind == "coordinator" {
            return !secret(&a.tlp) || user.ntk;
        }
        a.hops
            .iter()
            .find(|(_, to, _)| *to == org.id)
            .is_some_and(|(_, _, tlp)| self.inside_advisory(org, a, tlp) && (!secret(tlp) || user.ntk))
    }

    /// Records the notifications a delivery to `org_id` sends: to its users who may read.
    fn record_notifications(&mut self, advisory: usize, org_id: &str) {
        let a = &self.advisories[advisory];
        let readers: Vec<(String, String)> = self
            .users
            .iter()
            .filter(|u| self.orgs[u.org].id == org_id && self.may_read_advisory(u, a))
            .map(|u| (u.login.clone(), a.id.clone()))
            .collect();
        self.notified.extend(readers);
    }

    /// The ceiling of partner information: its sender and the coordinator; AMBER the
    /// concerned sectors' ministries, CEPTOARs and operators and the analysis partners;
    /// GREEN and beyond everyone; RED and AMBER+STRICT nobody else.
    fn inside_partner(&self, org: &Org, p: &PartnerRec) -> bool {
        if org.kind == "operations" {
            return false;
        }
        if org.id == p.sender || org.kind == "coordinator" {
            return true;
        }
        let in_sector = org.sector.as_ref().is_some_and(|s| p.sectors.contains(s));
        let ministry = org.kind == "ministry" && p.sectors.iter().any(|s| self.jurisdiction.get(s) == Some(&org.id));
        match p.tlp.as_str() {
            "RED" | "AMBER+STRICT" => false,
            "AMBER" => {
                ministry
                    || ((org.kind == "ceptoar" || org.kind == "operator") && in_sector)
                    || (org.kind == "security_institution" && org.partner)
            }
            _ => true,
        }
    }

    /// The sender and the coordinator read it, and whoever it was shared with inside it.
    fn may_read_partner(&self, user: &User, p: &PartnerRec) -> bool {
        let org = &self.orgs[user.org];
        let reached = org.id == p.sender || org.kind == "coordinator" || p.shares.contains(&org.id);
        reached && self.inside_partner(org, p) && (!secret(&p.tlp) || user.ntk)
    }

    /// A file on partner information: its readers, and at a tighter TLP only those of them
    /// inside the ceiling at the file's TLP.
    fn may_read_partner_file(&self, user: &User, p: &PartnerRec, tlp: &str) -> bool {
        let at_file = PartnerRec { tlp: tlp.to_string(), ..p.clone() };
        self.may_read_partner(user, p)
            && (tlp == p.tlp || (self.inside_partner(&self.orgs[user.org], &at_file) && (!secret(tlp) || user.ntk)))
    }

    fn relay_pattern_allows(&self, relayer: &Org, target: &Org, a: &Advisory) -> bool {
        match relayer.kind.as_str() {
            "coordinator" => true,
            "ministry" => {
                (target.kind == "ceptoar" || target.kind == "operator")
                    && a.recipients.iter().any(|(m, s)| *m == relayer.id && Some(s) == target.sector.as_ref())
            }
            "ceptoar" => target.kind == "operator" && target.sector.is_some() && target.sector == relayer.sector,
            _ => false,
        }
    }

    fn share_pattern_allows(&self, sharer: &Org, target: &Org) -> bool {
        let same = sharer.sector.is_some() && sharer.sector == target.sector;
        match sharer.kind.as_str() {
            "coordinator" => true,
            "ministry" => target.kind == "ceptoar",
            "ceptoar" => target.kind == "operator" && same,
            "operator" => (target.kind == "ceptoar" || target.kind == "operator") && same,
            _ => false,
        }
    }
}

async fn build(spec: &Spec) -> World {
    let app = spawn_bare().await;
    let orgs: OrgList = app.typed("/api/v1/orgs", "admin").await;
    let mut world_orgs: Vec<Org> = orgs
        .items
        .into_iter()
        .map(|o| Org { id: o.id, kind: o.kind.code().into(), sector: None, partner: false })
        .collect();
    let sectors: SectorList = app.typed("/api/v1/sectors", "admin").await;
    let jurisdiction = sectors.items.into_iter().map(|s| (s.code, s.ministry_org_id.expect("a ministry"))).collect();
    let mut to_create: Vec<(String, Option<String>, bool)> = Vec::new();
    for (i, sector) in SECTOR_POOL.iter().take(spec.sectors).enumerate() {
        to_create.push(("ceptoar".into(), Some(sector.to_string()), false));
        for _ in 0..spec.operators[i] {
            to_create.push(("operator".into(), Some(sector.to_string()), false));
        }
    }
    to_create.push(("security_institution".into(), None, spec.partner));
    to_create.push(("cyberspace_vendor".into(), None, false));
    to_create.push(("ceptoar_council".into(), None, false));
    to_create.push(("response_agency".into(), None, false));
    for (n, (kind, sector, partner)) in to_create.into_iter().enumerate() {
        let body = json!({"kind": kind, "name_ja": format!("組織{n}"), "name_en": format!("Org {n} {kind}"), "sector": sector, "analysis_partner": partner});
        let org: OrgView = app.post_as("/api/v1/admin/orgs", "admin", body).await;
        world_orgs.push(Org { id: org.id, kind, sector, partner });
    }
    let mut app = app;
    let mut users = Vec::new();
    for (i, org) in world_orgs.iter().enumerate() {
        let officer_role = match org.kind.as_str() {
            "ministry" => "liaison",
            "ceptoar" => "secretariat",
            "coordinator" => "cip_desk",
            _ => "admin",
        };
        let (ntk1, ntk2) = spec.ntk[i % spec.ntk.len()];
        for (suffix, role, ntk) in [("officer", officer_role, true), ("m1", "member", ntk1), ("m2", "member", ntk2)] {
            let login = format!("o{i}-{suffix}");
            let body =
                json!({"org_id": org.id, "login": login, "display_name": login, "roles": [role], "need_to_know": ntk});
            let user: UserRow = app.post_as("/api/v1/admin/users", "admin", body).await;
            let token = app.token_for(&user.id).await;
            let mut cred = app.user("admin").clone();
            cred.user_id = user.id.clone();
            cred.login = login.clone();
            cred.token = token;
            app.users.insert(login.clone(), cred);
            users.push(User { id: user.id, login, org: i, ntk });
        }
    }
    let mut w = World {
        app,
        orgs: world_orgs,
        users,
        jurisdiction,
        renditions: Vec::new(),
        advisories: Vec::new(),
        notified: BTreeSet::new(),
        files: Vec::new(),
        council_members: BTreeSet::new(),
        partners: Vec::new(),
    };
    let ceptoars: Vec<String> = w.orgs.iter().filter(|o| o.kind == "ceptoar").map(|o| o.id.clone()).collect();
    for (ceptoar, _) in ceptoars.into_iter().zip(&spec.council).filter(|(_, join)| **join) {
        let login = w.officer(&ceptoar).login.clone();
        assert_eq!(w.app.post("/api/v1/council/join", &login, json!({})).await.0, 200);
        w.council_members.insert(ceptoar);
    }
    w
}

/// Learns the renditions a filing created, from the originator's own view of the chain.
async fn learn_new_renditions(
    w: &mut World,
    first: &Value,
    originator: &str,
    marker: &str,
) -> Result<(), TestCaseError> {
    let first: ReportView = common::view(first);
    let chain_id = first.chain_id.clone();
    let route = first.route.code().to_string();
    let officer = w.officer(originator).login.clone();
    let list: ReportList = w.app.typed(&format!("/api/v1/reports?chain_id={chain_id}&limit=100"), &officer).await;
    let mut receivers = Vec::new();
    for item in list.items {
        if item.sequence != first.sequence || item.sender_org_id.as_deref() != Some(originator) {
            continue;
        }
        if w.renditions.iter().any(|r| r.id == item.id) {
            continue;
        }
        receivers.push(item.receiver_org_id.clone());
        w.renditions.push(Rendition {
            id: item.id,
            chain_id: chain_id.clone(),
            route: route.clone(),
            sender: originator.into(),
            receiver: item.receiver_org_id,
            originator: originator.into(),
            tlp: item.content.tlp.code().into(),
            sector: item.content.sector,
            shares: BTreeSet::new(),
            crime: BTreeSet::new(),
            via_council: false,
            forwarded: false,
            marker: marker.into(),
        });
    }
    let sector = first.content.sector.as_str();
    let ministry = w.jurisdiction[sector].clone();
    let mut expected = match route.as_str() {
        "direct" => vec![ministry],
        "urgent" => vec![ministry, w.of_kind("coordinator", None).unwrap().id.clone()],
        _ => vec![w.of_kind("ceptoar", Some(sector)).unwrap().id.clone()],
    };
    expected.sort();
    receivers.sort();
    prop_assert_eq!(receivers, expected, "first hops of route {}", route);
    Ok(())
}

async fn apply(w: &mut World, n: usize, op: &Op) -> Result<(), TestCaseError> {
    let operators: Vec<Org> = w.orgs.iter().filter(|o| o.kind == "operator").cloned().collect();
    match *op {
        Op::File { operator, route, tlp } => {
            let org = &operators[operator % operators.len()];
            let marker = format!("MK{n}X");
            let body = report_body(
                org.sector.as_deref().unwrap(),
                ROUTES[route],
                TLPS[tlp],
                json!({"summary": {"description": format!("incident {marker}")}}),
            );
            let login = w.officer(&org.id).login.clone();
            let (status, first) = w.app.post("/api/v1/reports", &login, body).await;
            prop_assert_eq!(status, 201, "{}", first);
            learn_new_renditions(w, &first, &org.id.clone(), &marker).await?;
        }
        Op::FollowUp { rendition } if !w.renditions.is_empty() => {
            let r = w.renditions[rendition % w.renditions.len()].clone();
            let user = w.officer(&r.originator).clone();
            let body = report_body(
                &r.sector,
                &r.route,
                "AMBER",
                json!({"summary": {"description": format!("follow-up {}", r.marker)}}),
            );
            let (status, first) = w.app.post(&format!("/api/v1/reports/{}/follow-ups", r.id), &user.login, body).await;
            let expected = if w.may_read(&user, &r) { 201 } else { 404 };
            prop_assert_eq!(status, expected, "follow-up on {:?}: {}", r, first);
            if status == 201 {
                learn_new_renditions(w, &first, &r.originator, &r.marker).await?;
            }
        }
        Op::Forward { rendition, tighten } if !w.renditions.is_empty() => {
            let idx = rendition % w.renditions.len();
            let r = w.renditions[idx].clone();
            let user = w.officer(&r.receiver).clone();
            let new_tlp = TLPS
                .iter()
                .copied()
                .filter(|t| rank(t) >= rank(&r.tlp))
                .nth(tighten)
                .unwrap_or(r.tlp.as_str())
                .to_string();
            let (status, body) =
                w.app.post(&format!("/api/v1/reports/{}/forward", r.id), &user.login, json!({"tlp": new_tlp})).await;
            let receiver_kind = w.org(&r.receiver).kind.clone();
            let expected = if !w.may_read(&user, &r) {
                404
            } else if r.forwarded || !(receiver_kind == "ceptoar" || receiver_kind == "ministry") {
                409
            } else {
                201
            };
            prop_assert_eq!(status, expected, "forward of {:?}: {}", r, body);
            if status == 201 {
                w.renditions[idx].forwarded = true;
                let next = if receiver_kind == "ceptoar" {
                    w.jurisdiction[&r.sector].clone()
                } else {
                    w.of_kind("coordinator", None).unwrap().id.clone()
                };
                let made: ReportView = common::view(&body);
                prop_assert_eq!(&made.receiver_org_id, &next);
                let carried: Vec<FileRec> = w
                    .files
                    .iter()
                    .filter(|f| f.item == r.id && w.may_read_file(&user, f))
                    .map(|f| FileRec {
                        id: None,
                        item: made.id.clone(),
                        tlp: if rank(&f.tlp) >= rank(&new_tlp) { f.tlp.clone() } else { new_tlp.clone() },
                    })
                    .collect();
                w.files.extend(carried);
                w.renditions.push(Rendition {
                    id: made.id,
                    sender: r.receiver.clone(),
                    receiver: next,
                    tlp: new_tlp,
                    shares: BTreeSet::new(),
                    crime: BTreeSet::new(),
                    via_council: false,
                    forwarded: false,
                    ..r
                });
            }
        }
        Op::Attach { rendition, tighten } if !w.renditions.is_empty() => {
            let r = w.renditions[rendition % w.renditions.len()].clone();
            let user = w.officer(&r.sender).clone();
            let tlp = TLPS.iter().copied().filter(|t| rank(t) >= rank(&r.tlp)).nth(tighten).unwrap_or(r.tlp.as_str());
            let path = format!("/api/v1/reports/{}/attachments", r.id);
            let (status, body) =
                w.app.upload(&path, &user.login, &[("tlp", tlp)], "evidence.log", b"log".to_vec()).await;
            let expected = if !w.may_read(&user, &r) {
                404
            } else if r.forwarded {
                409
            } else if tlp != r.tlp && secret(tlp) && !user.ntk {
                422
            } else {
                201
            };
            prop_assert_eq!(status, expected, "attach {} to {:?} as {:?}: {}", tlp, r, user, body);
            if status == 201 {
                let made: kyoyu_app::files::AttachmentView = common::view(&body);
                w.files.push(FileRec { id: Some(made.id), item: r.id.clone(), tlp: tlp.to_string() });
            }
        }
        Op::Share { rendition, by_receiver, target } if !w.renditions.is_empty() => {
            let target = w.orgs[target % w.orgs.len()].clone();
            share(w, rendition % w.renditions.len(), by_receiver, target).await?;
        }
        Op::ShareWithAgency { rendition } if !w.renditions.is_empty() => {
            let agency = w.of_kind("response_agency", None).unwrap().clone();
            share(w, rendition % w.renditions.len(), false, agency).await?;
        }
        Op::Advise { recipients, tlp, urgent } => {
            let sectors: Vec<String> =
                w.orgs.iter().filter(|o| o.kind == "ceptoar").filter_map(|o| o.sector.clone()).collect();
            let chosen: Vec<(String, String)> = sectors
                .iter()
                .enumerate()
                .filter(|(i, _)| recipients & (1 << i) != 0)
                .map(|(_, s)| (w.jurisdiction[s].clone(), s.clone()))
                .collect();
            if chosen.is_empty() {
                return Ok(());
            }
            let body = json!({
                "tlp": TLPS[tlp], "has_attachments": false, "urgent": urgent,
                "recipients": chosen.iter().map(|(m, s)| json!({"ministry_org_id": m, "sector": s})).collect::<Vec<_>>(),
                "content": {"summary": format!("advisory {n}")}
            });
            let coordinator = w.of_kind("coordinator", None).unwrap().id.clone();
            let officer = w.officer(&coordinator).login.clone();
            let a: AdvisoryView = w.app.post_as("/api/v1/advisories", &officer, body).await;
            let a: AdvisoryView =
                w.app.post_as(&format!("/api/v1/advisories/{}/issue", a.id), &officer, json!({})).await;
            let mut ministries: Vec<String> = chosen.iter().map(|(m, _)| m.clone()).collect();
            ministries.sort();
            ministries.dedup();
            let mut hops: Vec<(String, String, String)> = Vec::new();
            if urgent {
                for (_, s) in &chosen {
                    hops.push((
                        coordinator.clone(),
                        w.of_kind("ceptoar", Some(s)).unwrap().id.clone(),
                        TLPS[tlp].into(),
                    ));
                }
            }
            hops.extend(ministries.into_iter().map(|m| (coordinator.clone(), m, TLPS[tlp].to_string())));
            let mut seen: Vec<String> = a.deliveries.iter().map(|d| d.to_org_id.clone()).collect();
            let mut expected: Vec<String> = hops.iter().map(|h| h.1.clone()).collect();
            seen.sort();
            expected.sort();
            prop_assert_eq!(seen, expected, "first hops of the advisory");
            let receivers: Vec<String> = hops.iter().map(|h| h.1.clone()).collect();
            w.advisories.push(Advisory { id: a.id, tlp: TLPS[tlp].into(), recipients: chosen, hops });
            for org in receivers {
                w.record_notifications(w.advisories.len() - 1, &org);
            }
        }
        Op::RelayAdvisory { advisory, by, target, tighten } if !w.advisories.is_empty() => {
            let idx = advisory % w.advisories.len();
            let a = w.advisories[idx].clone();
            let (_, relayer_org, received_tlp) = a.hops[by % a.hops.len()].clone();
            let user = w.officer(&relayer_org).clone();
            let target = w.orgs[target % w.orgs.len()].clone();
            let tlp = TLPS
                .iter()
                .copied()
                .filter(|t| rank(t) >= rank(&received_tlp))
                .nth(tighten)
                .unwrap_or(received_tlp.as_str())
                .to_string();
            let (status, body) = w
                .app
                .post(
                    &format!("/api/v1/advisories/{}/relay", a.id),
                    &user.login,
                    json!({"org_ids": [target.id], "tlp": tlp}),
                )
                .await;
            let expected = if !w.may_read_advisory(&user, &a) {
                404
            } else if !w.relay_pattern_allows(w.org(&relayer_org), &target, &a) || !w.inside_advisory(&target, &a, &tlp)
            {
                422
            } else if a.hops.iter().any(|h| h.1 == target.id) {
                // It has it already: a relay that adds no one acts not at all.
                409
            } else {
                200
            };
            prop_assert_eq!(
                status,
                expected,
                "relay of {:?} by {} to {:?} at {}: {}",
                a,
                user.login,
                target,
                tlp,
                body
            );
            if status == 200 {
                w.advisories[idx].hops.push((relayer_org, target.id.clone(), tlp));
                w.record_notifications(idx, &target.id);
            }
        }
        Op::Council { ceptoar, join } => {
            let ceptoars: Vec<String> = w.orgs.iter().filter(|o| o.kind == "ceptoar").map(|o| o.id.clone()).collect();
            let org = ceptoars[ceptoar % ceptoars.len()].clone();
            let login = w.officer(&org).login.clone();
            let path = if join { "/api/v1/council/join" } else { "/api/v1/council/leave" };
            let (status, body) = w.app.post(path, &login, json!({})).await;
            let changes = if join { !w.council_members.contains(&org) } else { w.council_members.contains(&org) };
            prop_assert_eq!(status, if changes { 200 } else { 409 }, "{} by {}: {}", path, login, body);
            if join {
                w.council_members.insert(org);
            } else {
                w.council_members.remove(&org);
            }
        }
        Op::ShareToCouncil { rendition, ceptoar } if !w.renditions.is_empty() => {
            // Mostly a rendition at a ministry, by a CEPTOAR that holds it (the ministry shares
            // it to its sector's CEPTOAR first where none does), so the council's own rules
            // are reached; sometimes any rendition, by any CEPTOAR.
            let at_ministry: Vec<usize> =
                (0..w.renditions.len()).filter(|i| w.org(&w.renditions[*i].receiver).kind == "ministry").collect();
            let idx = if ceptoar == 0 || at_ministry.is_empty() {
                rendition % w.renditions.len()
            } else {
                at_ministry[rendition % at_ministry.len()]
            };
            let ceptoars: Vec<String> = w.orgs.iter().filter(|o| o.kind == "ceptoar").map(|o| o.id.clone()).collect();
            let holders = |w: &World| -> Vec<String> {
                ceptoars.iter().filter(|c| w.may_read(w.officer(c), &w.renditions[idx])).cloned().collect()
            };
            let r = w.renditions[idx].clone();
            if ceptoar != 0 && holders(w).is_empty() && w.org(&r.receiver).kind == "ministry" {
                let sector_ceptoar = w.of_kind("ceptoar", Some(&r.sector)).unwrap().clone();
                share(w, idx, true, sector_ceptoar).await?;
            }
            let held = holders(w);
            let pool = if held.is_empty() || ceptoar == 0 { &ceptoars } else { &held };
            let by = pool[ceptoar % pool.len()].clone();
            share_to_council(w, idx, &by).await?;
        }
        Op::SendPartner { org, officer, tlp, sectors } => {
            let sent = send_partner(w, org, officer, tlp, sectors).await?;
            if sent {
                // Shared at once, so that shares meet every TLP and target.
                share_partner(w, w.partners.len() - 1, n * 7 + org).await?;
            }
        }
        Op::SharePartner { item, target } if !w.partners.is_empty() => {
            share_partner(w, item % w.partners.len(), target).await?
        }
        Op::ToggleNeedToKnow { user } => {
            // Officers keep need-to-know so that every step above has someone to act.
            let members: Vec<usize> = (0..w.users.len()).filter(|i| !w.users[*i].login.ends_with("officer")).collect();
            let i = members[user % members.len()];
            let ntk = !w.users[i].ntk;
            let (status, body) = w
                .app
                .request(
                    reqwest::Method::PATCH,
                    &format!("/api/v1/admin/users/{}", w.users[i].id),
                    Some("admin"),
                    Some(json!({"need_to_know": ntk})),
                )
                .await;
            prop_assert_eq!(status, 200, "{}", body);
            w.users[i].ntk = ntk;
        }
        _ => {}
    }
    Ok(())
}

/// A filter as the oracle applies it.
type Keep = Box<dyn Fn(&Rendition) -> bool>;

/// Every user, every read endpoint: exactly what the rule allows.
const REPORTS_COLLECTION: &str = "5f5b1f8e-3d5a-4f0e-9a43-2f6d1c7b9e01";
const ADVISORIES_COLLECTION: &str = "8a4b2c1d-3e5f-4a6b-8c7d-9e0f1a2b3c4d";

/// The ids of the `report` objects among STIX objects (read as STIX's own JSON: their
/// schema is STIX 2.1's, checked by stix2-validator in the TAXII suite).
fn stix_reports(objects: &[serde_json::Map<String, Value>]) -> BTreeSet<String> {
    let property =
        |o: &serde_json::Map<String, Value>, key: &str| o.get(key).and_then(Value::as_str).map(str::to_string);
    objects
        .iter()
        .filter(|o| property(o, "type").as_deref() == Some("report"))
        .filter_map(|o| property(o, "id"))
        .collect()
}

async fn taxii_page(w: &World, login: &str, collection: &str) -> Vec<serde_json::Map<String, Value>> {
    let path = format!("/taxii2/kyoyu/collections/{collection}/objects/?match[type]=report&limit=1000");
    let page: Envelope<serde_json::Map<String, Value>> = w.app.typed(&path, login).await;
    assert!(!page.more, "one page holds a test world");
    page.objects
}

async fn check(w: &World) -> Result<(), TestCaseError> {
    let markers: BTreeSet<&str> = w.renditions.iter().map(|r| r.marker.as_str()).take(3).collect();
    for user in &w.users {
        let allowed: BTreeSet<&str> =
            w.renditions.iter().filter(|r| w.may_read(user, r)).map(|r| r.id.as_str()).collect();
        for r in &w.renditions {
            let (status, _) = w.app.get(&format!("/api/v1/reports/{}", r.id), &user.login).await;
            prop_assert_eq!(status == 200, allowed.contains(r.id.as_str()), "GET {:?} as {:?}", r, user);
            prop_assert!(status == 200 || status == 404);
        }
        let listed = w.app.list_ids(&user.login, "").await;
        prop_assert_eq!(
            listed.iter().map(String::as_str).collect::<BTreeSet<_>>(),
            allowed.clone(),
            "list as {:?}",
            user
        );
        prop_assert_eq!(w.app.count(&user.login, "").await as usize, allowed.len());
        let mut filters: Vec<(String, Keep)> = Vec::new();
        for tlp in ["RED", "AMBER", "GREEN", "CLEAR"] {
            filters.push((format!("tlp={}", tlp.replace('+', "%2B")), Box::new(move |r: &Rendition| r.tlp == tlp)));
        }
        for sector in SECTOR_POOL {
            filters.push((format!("sector={sector}"), Box::new(move |r: &Rendition| r.sector == sector)));
        }
        // The council's board.
        filters.push(("council=true".into(), Box::new(|r: &Rendition| r.via_council)));
        for m in &markers {
            let m = m.to_string();
            filters.push((format!("q={}", m.to_lowercase()), Box::new(move |r: &Rendition| r.marker == m)));
        }
        for (query, keep) in &filters {
            let expected: BTreeSet<&str> = w
                .renditions
                .iter()
                .filter(|r| allowed.contains(r.id.as_str()) && keep(r))
                .map(|r| r.id.as_str())
                .collect();
            let listed = w.app.list_ids(&user.login, query).await;
            prop_assert_eq!(
                listed.iter().map(String::as_str).collect::<BTreeSet<_>>(),
                expected.clone(),
                "{} as {:?}",
                query,
                user
            );
            prop_assert_eq!(w.app.count(&user.login, query).await as usize, expected.len(), "count {}", query);
        }
        // STIX and TAXII: a rendition's bundle answers as its get does, and the reports
        // collection holds exactly one `report` object per readable rendition.
        let mut bundled: BTreeSet<String> = BTreeSet::new();
        for r in &w.renditions {
            let (status, bundle) = w.app.get(&format!("/api/v1/reports/{}/stix", r.id), &user.login).await;
            prop_assert_eq!(status == 200, allowed.contains(r.id.as_str()), "STIX of {:?} as {:?}", r, user);
            if status == 200 {
                bundled.extend(stix_reports(&common::view::<StixBundle>(&bundle).objects));
            }
        }
        let taxii_reports = stix_reports(&taxii_page(w, &user.login, REPORTS_COLLECTION).await);
        prop_assert_eq!(taxii_reports.len(), allowed.len(), "TAXII reports as {:?}", user);
        prop_assert_eq!(&taxii_reports, &bundled);
        // Advisories: get, list, count; and the delivery notifications follow the same rule.
        let readable: BTreeSet<&str> =
            w.advisories.iter().filter(|a| w.may_read_advisory(user, a)).map(|a| a.id.as_str()).collect();
        for a in &w.advisories {
            let (status, _) = w.app.get(&format!("/api/v1/advisories/{}", a.id), &user.login).await;
            prop_assert_eq!(status == 200, readable.contains(a.id.as_str()), "GET advisory {:?} as {:?}", a, user);
        }
        let list: AdvisoryList = w.app.typed("/api/v1/advisories?limit=100", &user.login).await;
        let listed: BTreeSet<&str> = list.items.iter().map(|i| i.id.as_str()).collect();
        prop_assert_eq!(&listed, &readable, "advisories as {:?}", user);
        prop_assert_eq!(w.app.count_advisories(&user.login).await as usize, readable.len());
        let taxii_advisories = stix_reports(&taxii_page(w, &user.login, ADVISORIES_COLLECTION).await);
        prop_assert_eq!(taxii_advisories.len(), readable.len(), "TAXII advisories as {:?}", user);
        let notes: NotificationList = w.app.typed("/api/v1/notifications", &user.login).await;
        let notified: BTreeSet<&str> =
            notes.items.iter().filter(|n| n.kind == "advisory.delivered").map(|n| n.object_id.as_str()).collect();
        let delivered: BTreeSet<&str> = w
            .advisories
            .iter()
            .filter(|a| w.notified.contains(&(user.login.clone(), a.id.clone())) && readable.contains(a.id.as_str()))
            .map(|a| a.id.as_str())
            .collect();
        prop_assert_eq!(notified, delivered, "notifications of {:?}", user);
        // Arrivals and shares of reports are told only of what the user reads.
        for n in notes.items.iter().filter(|n| n.object_type == "report") {
            prop_assert!(allowed.contains(n.object_id.as_str()), "{:?} told of {:?}", user, n);
        }
        check_files(w, user, &allowed).await?;
        check_partner(w, user).await?;
        check_pages(w, &user.login, &allowed, &readable).await?;
        // Each chain in order, only what the user may read of it.
        for chain in w.renditions.iter().map(|r| r.chain_id.as_str()).collect::<BTreeSet<_>>() {
            let expected =
                w.renditions.iter().filter(|r| r.chain_id == chain && allowed.contains(r.id.as_str())).count();
            prop_assert_eq!(w.app.count(&user.login, &format!("chain_id={chain}")).await as usize, expected);
        }
    }
    Ok(())
}

/// Files: an item's list answers 404 where its rendition does, and otherwise holds exactly
/// the files the user reads; each file answers as the rule says.
async fn check_files(w: &World, user: &User, allowed: &BTreeSet<&str>) -> Result<(), TestCaseError> {
    for r in w.renditions.iter().filter(|r| w.files.iter().any(|f| f.item == r.id)) {
        let (status, body) = w.app.get(&format!("/api/v1/attachments?item_id={}", r.id), &user.login).await;
        prop_assert_eq!(status == 200, allowed.contains(r.id.as_str()), "files of {:?} as {:?}", r, user);
        if status == 200 {
            let list: kyoyu_app::files::AttachmentList = common::view(&body);
            let expected = w.files.iter().filter(|f| f.item == r.id && w.may_read_file(user, f)).count();
            prop_assert_eq!(list.items.len(), expected, "files of {:?} as {:?}", r, user);
        }
    }
    for f in &w.files {
        let Some(id) = &f.id else { continue };
        let (status, _) = w.app.get(&format!("/api/v1/attachments/{id}"), &user.login).await;
        prop_assert_eq!(status == 200, w.may_read_file(user, f), "file {:?} as {:?}", f, user);
        prop_assert!(status == 200 || status == 404);
    }
    let granted: kyoyu_app::files::AttachmentList = w.app.typed("/api/v1/attachments", &user.login).await;
    prop_assert!(granted.items.is_empty(), "no grants were made");
    Ok(())
}

/// The ids a rendered page links to under `prefix` (`/reports/`, `/advisories/`).
fn linked_ids(page: &str, prefix: &str) -> BTreeSet<String> {
    let marker = format!("href=\"{prefix}");
    page.split(&marker)
        .skip(1)
        .filter_map(|rest| rest.split(['"', '/', '?']).next())
        .filter(|id| id.len() == 36)
        .map(str::to_string)
        .collect()
}

/// The web UI over the same world: every page of an item answers as its API get does, the
/// list, home and statistics pages show exactly the readable items, and nothing else leaks.
async fn check_pages(
    w: &World,
    login: &str,
    allowed: &BTreeSet<&str>,
    readable: &BTreeSet<&str>,
) -> Result<(), TestCaseError> {
    for r in &w.renditions {
        for path in [format!("/reports/{}", r.id), format!("/reports/{}/print", r.id)] {
            let (status, page) = w.app.page(&path, login).await;
            prop_assert_eq!(status == 200, allowed.contains(r.id.as_str()), "page {} as {}", path, login);
            if status != 200 {
                prop_assert!(!page.contains(&r.marker), "a refused page shows the report's text");
            }
        }
    }
    // Search on the list page finds only what the user may read.
    for r in w.renditions.iter().take(3) {
        let (_, found) = w.app.page(&format!("/reports?q={}", r.marker.to_lowercase()), login).await;
        let expected: BTreeSet<&str> = w
            .renditions
            .iter()
            .filter(|x| x.marker == r.marker && allowed.contains(x.id.as_str()))
            .map(|x| x.id.as_str())
            .collect();
        let found = linked_ids(&found, "/reports/");
        prop_assert_eq!(
            found.iter().map(String::as_str).collect::<BTreeSet<_>>(),
            expected,
            "search page as {}",
            login
        );
    }
    // Web writes by id answer as if an unreadable item did not exist.
    let (_, account) = w.app.page("/account", login).await;
    let csrf =
        account.split(r#"name="_csrf" value=""#).nth(1).and_then(|s| s.split('"').next()).unwrap_or("").to_string();
    for r in w.renditions.iter().filter(|r| !allowed.contains(r.id.as_str())) {
        let form = [("_csrf", csrf.as_str()), ("_action", "send")];
        let status = w.app.post_page(&format!("/reports/{}/forward", r.id), login, &form).await;
        prop_assert_eq!(status, 404, "web forward of an unreadable report as {}", login);
    }
    for a in w.advisories.iter().filter(|a| !readable.contains(a.id.as_str())) {
        let form = [("_csrf", csrf.as_str()), ("status", "received")];
        let status = w.app.post_page(&format!("/advisories/{}/ack", a.id), login, &form).await;
        prop_assert_eq!(status, 404, "web acknowledgment of an unreadable advisory as {}", login);
    }
    let (_, list) = w.app.page("/reports", login).await;
    let listed = linked_ids(&list, "/reports/");
    prop_assert_eq!(
        listed.iter().map(String::as_str).collect::<BTreeSet<_>>(),
        allowed.clone(),
        "report list page as {}",
        login
    );
    let (_, home) = w.app.page("/", login).await;
    for id in linked_ids(&home, "/reports/") {
        prop_assert!(allowed.contains(id.as_str()), "home links to an unreadable report as {}", login);
    }
    for id in linked_ids(&home, "/advisories/") {
        prop_assert!(readable.contains(id.as_str()), "home links to an unreadable advisory as {}", login);
    }
    // A chain's renditions share its marker, so only the markers of chains the user reads
    // nothing of must stay off the pages (the board shows each card's summary).
    let seen_markers: BTreeSet<&str> =
        w.renditions.iter().filter(|r| allowed.contains(r.id.as_str())).map(|r| r.marker.as_str()).collect();
    let unseen = w.renditions.iter().map(|r| r.marker.as_str()).filter(|m| !seen_markers.contains(m));
    for marker in unseen {
        prop_assert!(!home.contains(marker) && !list.contains(marker), "unreadable text on a page");
    }
    let (_, advisories) = w.app.page("/advisories", login).await;
    let listed = linked_ids(&advisories, "/advisories/");
    prop_assert_eq!(listed.iter().map(String::as_str).collect::<BTreeSet<_>>(), readable.clone(), "advisory list page");
    for a in &w.advisories {
        let (status, _) = w.app.page(&format!("/advisories/{}", a.id), login).await;
        prop_assert_eq!(status == 200, readable.contains(a.id.as_str()), "advisory page as {}", login);
    }
    let chains: BTreeSet<&str> =
        w.renditions.iter().filter(|r| allowed.contains(r.id.as_str())).map(|r| r.chain_id.as_str()).collect();
    let (_, stats) = w.app.page("/statistics", login).await;
    let counted = format!("<strong>{}</strong>", chains.len());
    prop_assert!(stats.contains(&counted), "statistics count {} chains for {}", chains.len(), login);
    let (_, export) = w.app.page("/reports/export.stix.json", login).await;
    let exported = stix_reports(&common::view::<StixBundle>(&serde_json::from_str(&export).unwrap()).objects);
    prop_assert_eq!(exported.len(), allowed.len(), "the list's STIX export as {}", login);
    let api: Statistics = w.app.typed("/api/v1/statistics", login).await;
    prop_assert_eq!(api.chains, chains.len(), "getStatistics counts for {}", login);
    let by_sector: usize = api.by_sector.iter().map(|t| t.count).sum();
    prop_assert_eq!(by_sector, chains.len(), "each chain once by sector for {}", login);
    Ok(())
}

#[test]
fn every_read_endpoint_returns_exactly_what_the_rule_allows() {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(16);
    // A failing world is saved and tried first on every later run, so a rare one is not lost.
    let persistence = FileFailurePersistence::Direct("tests/policy_property.proptest-regressions");
    let config =
        Config { cases, max_shrink_iters: 64, failure_persistence: Some(Box::new(persistence)), ..Config::default() };
    let mut runner = TestRunner::new(config);
    let rt = tokio::runtime::Runtime::new().unwrap();
    runner
        .run(&spec(), |spec| {
            rt.block_on(async {
                let mut w = build(&spec).await;
                for (n, op) in spec.ops.iter().enumerate() {
                    apply(&mut w, n, op).await?;
                }
                check(&w).await
            })
        })
        .unwrap();
}

/// Partner information from the officer (or a member) of any organisation: only the
/// need-to-know users of the partner kinds send it.
async fn send_partner(
    w: &mut World,
    org: usize,
    officer: bool,
    tlp: usize,
    sectors: u8,
) -> Result<bool, TestCaseError> {
    const PARTNER_KINDS: [&str; 6] = [
        "ministry",
        "cyber_ministry",
        "response_agency",
        "disaster_agency",
        "security_institution",
        "cyberspace_vendor",
    ];
    // Mostly a partner organisation, sometimes any (whom the rule refuses).
    let partners: Vec<&Org> = w.orgs.iter().filter(|o| PARTNER_KINDS.contains(&o.kind.as_str())).collect();
    let org =
        if org.is_multiple_of(4) { w.orgs[org % w.orgs.len()].clone() } else { partners[org % partners.len()].clone() };
    let idx = w.orgs.iter().position(|o| o.id == org.id).unwrap();
    let suffix = if officer { "officer" } else { "m1" };
    let user = w.users.iter().find(|u| u.org == idx && u.login.ends_with(suffix)).unwrap().clone();
    let in_world: Vec<String> = w.jurisdiction.keys().filter(|s| SECTOR_POOL.contains(&s.as_str())).cloned().collect();
    let mut chosen: Vec<String> =
        SECTOR_POOL.iter().enumerate().filter(|(i, _)| sectors & (1 << i) != 0).map(|(_, s)| s.to_string()).collect();
    chosen.retain(|s| in_world.contains(s));
    chosen.sort();
    let body = json!({
        "kind": "threat_intelligence", "tlp": TLPS[tlp], "severity": "info", "sectors": chosen,
        "title": "脅威情報", "content": "観測された攻撃基盤"
    });
    let (status, answer) = w.app.post("/api/v1/partner-information", &user.login, body).await;
    let may = PARTNER_KINDS.contains(&org.kind.as_str()) && user.ntk;
    prop_assert_eq!(status, if may { 201 } else { 403 }, "partner information from {:?}: {}", user, answer);
    if status == 201 {
        let view: kyoyu_app::partner::PartnerView = common::view(&answer);
        // The sender attaches a file at the item's TLP or tighter.
        let file_tlp = TLPS.iter().copied().filter(|t| rank(t) >= rank(TLPS[tlp])).nth(sectors as usize % 3);
        let file_tlp = file_tlp.unwrap_or(TLPS[tlp]);
        let path = format!("/api/v1/partner-information/{}/attachments", view.id);
        let (status, made) = w.app.upload(&path, &user.login, &[("tlp", file_tlp)], "ioc.txt", b"ioc".to_vec()).await;
        prop_assert_eq!(status, 201, "the sender attaches at {}: {}", file_tlp, made);
        let file_id = made["id"].as_str().unwrap().to_string();
        let p = PartnerRec {
            id: view.id,
            sender: org.id,
            tlp: TLPS[tlp].to_string(),
            sectors: chosen,
            shares: BTreeSet::new(),
            file: Some((file_id, file_tlp.to_string())),
        };
        w.partners.push(p);
    }
    Ok(status == 201)
}

/// The coordinator shares item `idx` with some organisation, answered as the rule says.
async fn share_partner(w: &mut World, idx: usize, target: usize) -> Result<(), TestCaseError> {
    let p = w.partners[idx].clone();
    let target = w.orgs[target % w.orgs.len()].clone();
    let coordinator = w.of_kind("coordinator", None).unwrap().id.clone();
    let login = w.officer(&coordinator).login.clone();
    let path = format!("/api/v1/partner-information/{}/shares", p.id);
    let (status, body) = w.app.post(&path, &login, json!({"org_ids": [target.id]})).await;
    let reads_already = p.shares.contains(&target.id) || target.id == p.sender || target.kind == "coordinator";
    let expected = match (w.inside_partner(&target, &p), reads_already) {
        (false, _) => 422,
        (true, true) => 409,
        (true, false) => 200,
    };
    prop_assert_eq!(status, expected, "share of {:?} with {:?}: {}", p, target, body);
    if status == 200 {
        w.partners[idx].shares.insert(target.id);
    }
    Ok(())
}

/// Partner information: get and list answer exactly what the rule allows, and only the
/// sender and the coordinator learn who sent it.
async fn check_partner(w: &World, user: &User) -> Result<(), TestCaseError> {
    let org = &w.orgs[user.org];
    let mut readable = BTreeSet::new();
    for p in &w.partners {
        let (status, body) = w.app.get(&format!("/api/v1/partner-information/{}", p.id), &user.login).await;
        let may = w.may_read_partner(user, p);
        prop_assert_eq!(status, if may { 200 } else { 404 }, "partner {:?} as {:?}", p, user);
        if may {
            readable.insert(p.id.as_str());
            let view: kyoyu_app::partner::PartnerView = common::view(&body);
            let knows = org.id == p.sender || org.kind == "coordinator";
            prop_assert_eq!(view.sender_org_id.is_some(), knows, "sender of {:?} as {:?}", p, user);
        }
        check_partner_file(w, user, p).await?;
    }
    let list: kyoyu_app::partner::PartnerList = w.app.typed("/api/v1/partner-information?limit=100", &user.login).await;
    let listed: BTreeSet<&str> = list.items.iter().map(|i| i.id.as_str()).collect();
    prop_assert_eq!(&listed, &readable, "partner information as {:?}", user);
    let count: kyoyu_app::views::Count = w.app.typed("/api/v1/partner-information/count", &user.login).await;
    prop_assert_eq!(count.count as usize, readable.len(), "partner count as {:?}", user);
    // Notices: only of what the user reads; an officer (need-to-know throughout) of each item
    // that reached its organisation from elsewhere.
    let notes: NotificationList = w.app.typed("/api/v1/notifications", &user.login).await;
    let told: BTreeSet<&str> =
        notes.items.iter().filter(|n| n.object_type == "partner").map(|n| n.object_id.as_str()).collect();
    prop_assert!(told.is_subset(&readable), "{:?} told of {:?}, reads {:?}", user, told, readable);
    if user.login.ends_with("officer") {
        let from_elsewhere: BTreeSet<&str> = w
            .partners
            .iter()
            .filter(|p| p.sender != org.id && readable.contains(p.id.as_str()))
            .map(|p| p.id.as_str())
            .collect();
        prop_assert_eq!(told, from_elsewhere, "partner notices of {:?}", user);
    }
    Ok(())
}

/// The file on partner information: listed and read as the rule says, its uploader named
/// only to the sender and the coordinator.
async fn check_partner_file(w: &World, user: &User, p: &PartnerRec) -> Result<(), TestCaseError> {
    let Some((id, tlp)) = &p.file else { return Ok(()) };
    let (status, body) = w.app.get(&format!("/api/v1/attachments?item_id={}", p.id), &user.login).await;
    prop_assert_eq!(status == 200, w.may_read_partner(user, p), "files of {:?} as {:?}", p, user);
    let may = w.may_read_partner_file(user, p, tlp);
    if status == 200 {
        let list: kyoyu_app::files::AttachmentList = common::view(&body);
        prop_assert_eq!(list.items.len(), usize::from(may), "files of {:?} as {:?}", p, user);
        let org = &w.orgs[user.org];
        let knows = org.id == p.sender || org.kind == "coordinator";
        for f in &list.items {
            prop_assert_eq!(f.uploader_org_id.is_some(), knows, "uploader of {:?} as {:?}", p, user);
        }
    }
    let (status, _) = w.app.get(&format!("/api/v1/attachments/{id}"), &user.login).await;
    prop_assert_eq!(status, if may { 200 } else { 404 }, "file of {:?} as {:?}", p, user);
    Ok(())
}

/// One share of rendition `idx` by its receiver or sender, answered as the rule says.
async fn share(w: &mut World, idx: usize, by_receiver: bool, target: Org) -> Result<(), TestCaseError> {
    let r = w.renditions[idx].clone();
    let sharer_org = if by_receiver { r.receiver.clone() } else { r.sender.clone() };
    let user = w.officer(&sharer_org).clone();
    let (status, body) =
        w.app.post(&format!("/api/v1/reports/{}/shares", r.id), &user.login, json!({"org_ids": [target.id]})).await;
    let names_operator = r.route == "anonymised" && r.sender == r.originator;
    // An operator's share of its own submission with a response agency is a crime
    // report, at any TLP (別添2.2, 表5 ※1).
    let crime = target.kind == "response_agency"
        && w.org(&sharer_org).kind == "operator"
        && sharer_org == r.originator
        && sharer_org == r.sender;
    let expected = if !w.may_read(&user, &r) {
        404
    } else if crime {
        if r.crime.contains(&target.id) {
            409
        } else {
            200
        }
    } else if (names_operator && sharer_org != r.originator)
            || !w.share_pattern_allows(w.org(&sharer_org), &target)
            // Judging anyone else's share, the operator's crime reports count for nothing.
            || !w.inside(&target, &Rendition { crime: BTreeSet::new(), ..r.clone() })
    {
        422
    } else if r.shares.contains(&target.id) {
        // Shared before: a share that adds no one acts not at all.
        409
    } else {
        200
    };
    prop_assert_eq!(status, expected, "share of {:?} by {} to {:?}: {}", r, user.login, target, body);
    if status == 200 && crime {
        w.renditions[idx].crime.insert(target.id);
    } else if status == 200 {
        w.renditions[idx].shares.insert(target.id);
    }
    Ok(())
}

/// A CEPTOAR shares rendition `idx` through the council: GREEN reaches the council and every
/// other member, AMBER the members of its sector, RED nobody (000 別紙5, issue #16).
async fn share_to_council(w: &mut World, idx: usize, ceptoar: &str) -> Result<(), TestCaseError> {
    let r = w.renditions[idx].clone();
    let user = w.officer(ceptoar).clone();
    let (status, body) = w.app.post("/api/v1/council/shares", &user.login, json!({"report_id": r.id})).await;
    let targets: Vec<String> = w
        .orgs
        .iter()
        .filter(|o| o.kind == "ceptoar_council" || (w.council_members.contains(&o.id) && o.id != ceptoar))
        .filter(|o| w.inside(o, &r))
        .map(|o| o.id.clone())
        .collect();
    let names_operator = r.route == "anonymised" && r.sender == r.originator;
    let expected = if !w.may_read(&user, &r) {
        404
    } else if !w.council_members.contains(ceptoar) {
        409
    } else if r.tlp == "RED" || names_operator || targets.is_empty() {
        422
    } else if r.via_council {
        409
    } else {
        200
    };
    prop_assert_eq!(status, expected, "council share of {:?} by {}: {}", r, ceptoar, body);
    if status == 200 {
        w.renditions[idx].via_council = true;
        w.renditions[idx].shares.extend(targets);
    }
    Ok(())
}
