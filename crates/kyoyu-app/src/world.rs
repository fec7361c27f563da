//! The organisations and sectors a write consults: who receives on each route, who has
//! jurisdiction, what identifies an operator. Loaded inside the write's transaction.

use crate::error::{AppError, AppResult};
use kyoyu_domain::anonymise::{IdentityProfile, Scrubber};
use kyoyu_domain::codes::{OrgKind, Route};
use kyoyu_domain::report::ReportContent;
use kyoyu_domain::service_level::{deviates, Evaluation, Thresholds};
use kyoyu_policy::{OrgFacts, RenditionFacts};
use kyoyu_store::{OrgRow, ReportRow, SectorRow, ServiceLevelRuleRow, Shares, Tx, UserRow};
use std::collections::HashMap;

/// The ends of one hop and the operator the chain started from.
#[derive(Debug, Clone, Copy)]
pub struct Hop<'a> {
    pub sender: &'a str,
    pub receiver: &'a str,
    pub originator: &'a str,
}

pub struct World {
    pub orgs: HashMap<String, OrgRow>,
    pub sectors: Vec<SectorRow>,
    pub rules: Vec<ServiceLevelRuleRow>,
    /// Users by organisation, without password hashes: whom notifications address, taken
    /// from here so that telling people costs a write no statement.
    pub users: HashMap<String, Vec<UserRow>>,
    /// Where each user sits in `users`: who holds a token, without a statement.
    user_places: HashMap<String, (String, usize)>,
    /// Every organisation's facts in reading order, made once (see [`World::directory`]).
    directory: Vec<OrgFacts>,
}

/// The last world loaded, by reference-data version, shared by every request of a process.
#[derive(Default)]
pub struct WorldCache(std::sync::Mutex<Option<(i64, std::sync::Arc<World>)>>);

impl WorldCache {
    fn get(&self, version: i64) -> AppResult<Option<std::sync::Arc<World>>> {
        let held = self.0.lock().map_err(|_| AppError::Internal("world cache poisoned".into()))?;
        Ok(held.as_ref().filter(|(v, _)| *v == version).map(|(_, w)| w.clone()))
    }

    fn put(&self, version: i64, world: World) -> AppResult<std::sync::Arc<World>> {
        let world = std::sync::Arc::new(world);
        *self.0.lock().map_err(|_| AppError::Internal("world cache poisoned".into()))? = Some((version, world.clone()));
        Ok(world)
    }
}

impl World {
    /// The reference data as of this transaction: the cached copy while its version holds,
    /// else loaded afresh. Reading the version inside the write keeps the two consistent.
    pub async fn current(cache: &WorldCache, tx: &mut Tx) -> AppResult<std::sync::Arc<World>> {
        let version = tx.reference_version().await?;
        match cache.get(version)? {
            Some(world) => Ok(world),
            None => cache.put(version, World::load(tx).await?),
        }
    }

    /// The reference data for a read, outside any transaction: what a view's actions are
    /// decided against.
    pub async fn for_read(cache: &WorldCache, store: &kyoyu_store::Store) -> AppResult<std::sync::Arc<World>> {
        World::at(cache, store, store.reference_version().await?).await
    }

    /// The reference data of `version`, just read by the caller: the cached copy, or loaded.
    pub async fn at(cache: &WorldCache, store: &kyoyu_store::Store, version: i64) -> AppResult<std::sync::Arc<World>> {
        if let Some(world) = cache.get(version)? {
            return Ok(world);
        }
        let world = World::new(
            store.list_orgs().await?,
            store.list_sectors().await?,
            store.list_service_level_rules().await?,
            store.list_addressees().await?,
        );
        cache.put(version, world)
    }

    /// Loads the reference data inside a transaction, bypassing the cache.
    pub async fn load(tx: &mut Tx) -> AppResult<World> {
        Ok(World::new(
            tx.list_orgs().await?,
            tx.list_sectors().await?,
            tx.list_service_level_rules().await?,
            tx.list_addressees().await?,
        ))
    }

    pub fn new(
        orgs: Vec<OrgRow>,
        sectors: Vec<SectorRow>,
        rules: Vec<ServiceLevelRuleRow>,
        users: Vec<UserRow>,
    ) -> World {
        let mut by_org: HashMap<String, Vec<UserRow>> = HashMap::new();
        let mut user_places = HashMap::new();
        for u in users {
            let of_org = by_org.entry(u.org_id.clone()).or_default();
            user_places.insert(u.id.clone(), (u.org_id.clone(), of_org.len()));
            of_org.push(u);
        }
        let mut rows: Vec<&OrgRow> = orgs.iter().collect();
        rows.sort_by(|a, b| (&a.name_ja, &a.id).cmp(&(&b.name_ja, &b.id)));
        let directory = rows.into_iter().map(OrgRow::facts).collect();
        let orgs = orgs.into_iter().map(|o| (o.id.clone(), o)).collect();
        World { orgs, sectors, rules, users: by_org, user_places, directory }
    }

    /// A user (without password hash) and their organisation.
    pub fn user_with_org(&self, user_id: &str) -> Option<(&UserRow, &OrgRow)> {
        let (org_id, at) = self.user_places.get(user_id)?;
        Some((self.users.get(org_id)?.get(*at)?, self.orgs.get(org_id)?))
    }

    /// The active users of `org` a notice may address: those with need-to-know where the
    /// reader row asks for it.
    pub fn recipients(&self, org: &str, need_to_know: bool) -> Vec<UserRow> {
        let users = self.users.get(org).map(Vec::as_slice).unwrap_or_default();
        users.iter().filter(|u| u.active && (!need_to_know || u.need_to_know)).cloned().collect()
    }

    pub fn org(&self, id: &str) -> Option<&OrgRow> {
        self.orgs.get(id)
    }

    /// Every organisation's facts, in the order people read them (by name): the order
    /// share and relay targets are offered in, the same in every installation.
    pub fn directory(&self) -> &[OrgFacts] {
        &self.directory
    }

    pub fn facts_of(&self) -> impl Fn(&str) -> Option<OrgFacts> + '_ {
        |id| self.orgs.get(id).map(OrgRow::facts)
    }

    pub fn sector(&self, code: &str) -> Option<&SectorRow> {
        self.sectors.iter().find(|s| s.code == code)
    }

    pub fn ministry_of(&self, sector: &str) -> Option<&str> {
        self.sector(sector).and_then(|s| s.ministry_org_id.as_deref())
    }

    fn first_of(&self, kind: OrgKind, sector: Option<&str>) -> Option<&OrgRow> {
        let mut found: Vec<&OrgRow> = self
            .orgs
            .values()
            .filter(|o| o.kind == kind && (sector.is_none() || o.sector.as_deref() == sector))
            .collect();
        found.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
        found.first().copied()
    }

    pub fn coordinator(&self) -> AppResult<&str> {
        self.first_of(OrgKind::Coordinator, None).map(|o| o.id.as_str()).ok_or_else(|| {
            AppError::field(
                "route",
                "調整機関（NISC）が登録されていません",
                "no coordinator organisation is registered",
            )
        })
    }

    /// The CEPTOAR council (one per installation), if registered.
    pub fn council(&self) -> Option<&OrgRow> {
        self.first_of(OrgKind::CeptoarCouncil, None)
    }

    pub fn ceptoar_of(&self, sector: &str) -> Option<&str> {
        self.first_of(OrgKind::Ceptoar, Some(sector)).map(|o| o.id.as_str())
    }

    fn require_ministry(&self, sector: &str) -> AppResult<&str> {
        self.ministry_of(sector).ok_or_else(|| {
            AppError::field(
                "sector",
                format!("分野 {sector} を所管する省庁が設定されていません"),
                format!("no ministry has jurisdiction over sector {sector}"),
            )
        })
    }

    /// The receivers of a report's first hop on each route (domain.md §6).
    pub fn first_receivers(&self, route: Route, sector: &str) -> AppResult<Vec<String>> {
        Ok(match route {
            Route::Direct => vec![self.require_ministry(sector)?.to_string()],
            Route::Urgent => vec![self.require_ministry(sector)?.to_string(), self.coordinator()?.to_string()],
            Route::Anonymised => vec![self
                .ceptoar_of(sector)
                .ok_or_else(|| {
                    AppError::field(
                        "route",
                        format!("分野 {sector} のセプターが登録されていません"),
                        format!("sector {sector} has no CEPTOAR to anonymise the report"),
                    )
                })?
                .to_string()],
        })
    }

    /// Where the receiver of a rendition forwards it: a CEPTOAR to the ministry, a ministry
    /// to the coordinator.
    pub fn next_receiver(&self, receiver: &str, sector: &str) -> AppResult<String> {
        let kind = self.org(receiver).map(|o| o.kind);
        match kind {
            Some(OrgKind::Ceptoar) => Ok(self.require_ministry(sector)?.to_string()),
            Some(OrgKind::Ministry) => Ok(self.coordinator()?.to_string()),
            _ => Err(AppError::conflict(
                "この報告の転送先はありません（連絡経路の終点です）",
                "there is no one further up the chain to forward this report to",
            )),
        }
    }

    /// Everything that identifies an operator: names, aliases, domains, addresses and numbers,
    /// and its users' names, logins and addresses.
    pub fn identity_profile(&self, org_id: &str, users: &[kyoyu_store::UserRow]) -> IdentityProfile {
        let mut p = IdentityProfile::default();
        if let Some(o) = self.org(org_id) {
            p.texts.extend([o.name_ja.clone(), o.name_en.clone()]);
            p.texts.extend(o.identity.aliases.iter().cloned());
            p.texts.extend(o.identity.domains.iter().cloned());
            p.texts.extend(o.identity.emails.iter().cloned());
            p.phones.extend(o.identity.phones.iter().cloned());
        }
        for u in users {
            p.texts.extend([u.display_name.clone(), u.login.clone()]);
            p.texts.extend(u.email.iter().cloned());
            p.phones.extend(u.phone.iter().cloned());
        }
        p
    }

    /// What identifies the operator behind a chain, for every comparison against identity
    /// (scrubbing, the sanitisation gate). In the anonymised route that is the whole
    /// anonymity set, every member of the sector's CEPTOAR, so that naming any member is
    /// treated alike and no answer depends on which member filed.
    pub async fn chain_scrubber(&self, tx: &mut Tx, chain: &kyoyu_store::ChainRow) -> AppResult<Scrubber> {
        let profile = if chain.anonymous_originator().is_some() {
            let users = tx.users_of_sector_operators(&chain.sector).await?;
            let members: Vec<&OrgRow> = self
                .orgs
                .values()
                .filter(|o| o.kind == OrgKind::Operator && o.sector.as_deref() == Some(chain.sector.as_str()))
                .collect();
            self.profile_of_all(members, &users)
        } else {
            let users = tx.users_of(&chain.originator_org_id).await?;
            self.identity_profile(&chain.originator_org_id, &users)
        };
        Ok(Scrubber::new(&profile))
    }

    /// What identifies any partner of `kind`. An advisory citing one partner's information
    /// protects it among all of its kind, so the gate answers alike whichever contributed.
    pub async fn kind_scrubber(&self, tx: &mut Tx, kind: OrgKind) -> AppResult<Scrubber> {
        let orgs: Vec<&OrgRow> = self.orgs.values().filter(|o| o.kind == kind).collect();
        let mut users = Vec::new();
        for o in &orgs {
            users.extend(tx.users_of(&o.id).await?);
        }
        Ok(Scrubber::new(&self.profile_of_all(orgs, &users)))
    }

    /// One profile of several organisations and their users, in a fixed order.
    fn profile_of_all(&self, mut orgs: Vec<&OrgRow>, users: &[kyoyu_store::UserRow]) -> IdentityProfile {
        orgs.sort_by(|a, b| a.id.cmp(&b.id));
        let mut p = IdentityProfile::default();
        for o in orgs {
            let own: Vec<kyoyu_store::UserRow> = users.iter().filter(|u| u.org_id == o.id).cloned().collect();
            let one = self.identity_profile(&o.id, &own);
            p.texts.extend(one.texts);
            p.phones.extend(one.phones);
        }
        p
    }

    /// Whether an organisation is a member of the anonymity set of an anonymised chain.
    pub fn in_anonymity_set(&self, org_id: &str, chain: &kyoyu_store::ChainRow) -> bool {
        chain.anonymous_originator().is_some()
            && self
                .org(org_id)
                .is_some_and(|o| o.kind == OrgKind::Operator && o.sector.as_deref() == Some(chain.sector.as_str()))
    }

    /// The facts the policy decides a rendition's readers by.
    pub fn facts<'a>(
        &'a self,
        hop: Hop<'a>,
        content: &'a ReportContent,
        shared_to: &'a [String],
    ) -> RenditionFacts<'a> {
        RenditionFacts {
            tlp: content.tlp,
            sector: &content.sector,
            jurisdiction: self.ministry_of(&content.sector),
            sender: hop.sender,
            receiver: hop.receiver,
            originator: hop.originator,
            extras: &content.extra_recipient_org_ids,
            shared_to,
            crime_shares: &[],
            secretariat: None,
        }
    }

    /// The facts of a stored rendition.
    pub fn row_facts<'a>(&'a self, row: &'a ReportRow, shares: &'a Shares) -> RenditionFacts<'a> {
        let hop = Hop {
            sender: &row.sender_org_id,
            receiver: &row.receiver_org_id,
            originator: &row.chain.originator_org_id,
        };
        let secretariat = row.chain.anonymous_originator().and(row.chain.secretariat_org_id.as_deref());
        RenditionFacts { secretariat, crime_shares: &shares.crime, ..self.facts(hop, &row.content, &shares.community) }
    }

    /// Judges the report's impact figures against its sector's service-level rule (the rule
    /// naming the figures' service, else the sector's first). None without figures or rule.
    pub fn evaluate_service_level(&self, content: &ReportContent) -> Option<Evaluation> {
        let figures = content.impact.figures.as_ref()?;
        let rules: Vec<&ServiceLevelRuleRow> = self.rules.iter().filter(|r| r.sector == content.sector).collect();
        let named = figures.service.as_deref().and_then(|s| rules.iter().find(|r| r.service.contains(s)).copied());
        let rule = named.or(rules.first().copied())?;
        let thresholds = Thresholds {
            min_users: rule.min_users,
            min_duration_minutes: rule.min_duration_minutes,
            min_interrupted_kw: rule.min_interrupted_kw,
            min_households: rule.min_households,
        };
        Some(Evaluation {
            deviated: deviates(&thresholds, figures, content.impact.system_status),
            rule: rule.id.clone(),
            service: rule.service.clone(),
            condition_ja: rule.condition_ja.clone(),
            condition_en: rule.condition_en.clone(),
            statute: rule.statute.clone(),
        })
    }
}
