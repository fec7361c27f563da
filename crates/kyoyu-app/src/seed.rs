//! Installs the reference data of the source documents on first start, and builds the demo
//! world: every sector with its CEPTOAR and two operators, and users of every kind.

use crate::auth;
use crate::AppResult;
use kyoyu_domain::codes::{OrgKind, Role};
use kyoyu_domain::reference::{default_dependencies, MINISTRIES, SECTORS, SERVICE_LEVELS};
use kyoyu_store::{
    new_id, now, Actor, OrgIdentity, OrgRow, SectorRow, ServiceLevelRuleRow, Store, TokenRow, Tx, UserRow,
};
use serde::Serialize;
use serde_json::json;

/// A log-in the demo prints and writes to its credentials file.
#[derive(Debug, Clone, Serialize)]
pub struct Credential {
    pub user_id: String,
    pub login: String,
    pub password: String,
    pub token: String,
    pub org_id: String,
    pub org_name: String,
    pub org_kind: OrgKind,
    pub sector: Option<String>,
    pub roles: Vec<Role>,
    pub need_to_know: bool,
}

fn org(kind: OrgKind, name_ja: &str, name_en: &str, sector: Option<&str>) -> OrgRow {
    OrgRow {
        id: new_id(),
        kind,
        name_ja: name_ja.into(),
        name_en: name_en.into(),
        sector: sector.map(Into::into),
        analysis_partner: false,
        identity: OrgIdentity::default(),
        created_at: now(),
    }
}

async fn add_org(tx: &mut Tx, o: &OrgRow) -> AppResult<()> {
    tx.insert_org(o).await?;
    tx.audit("org.create", "org", &o.id, json!({"kind": o.kind, "name_en": o.name_en})).await?;
    Ok(())
}

/// On an empty database: the coordinator, the five ministries, the fifteen sectors with
/// their jurisdiction, the service-level rules and the sector dependencies. True when it
/// installed them.
pub async fn install_reference(store: &Store) -> AppResult<bool> {
    if !store.is_empty().await? {
        return Ok(false);
    }
    let mut tx = store.begin(Actor::default()).await?;
    let nisc = org(
        OrgKind::Coordinator,
        "内閣サイバーセキュリティセンター（重要インフラ防護担当）",
        "National center of Incident readiness and Strategy for Cybersecurity (NISC)",
        None,
    );
    add_org(&mut tx, &nisc).await?;
    let mut ministry_ids = Vec::new();
    for (key, ja, en) in MINISTRIES {
        let m = org(OrgKind::Ministry, ja, en, None);
        add_org(&mut tx, &m).await?;
        ministry_ids.push((key, m.id));
    }
    for (i, s) in SECTORS.iter().enumerate() {
        let ministry = ministry_ids.iter().find(|(k, _)| *k == s.ministry).map(|(_, id)| id.clone());
        let row = SectorRow {
            code: s.code.into(),
            name_ja: s.name_ja.into(),
            name_en: s.name_en.into(),
            ministry_org_id: ministry,
            position: i as i64,
        };
        tx.upsert_sector(&row).await?;
    }
    for (i, r) in SERVICE_LEVELS.iter().enumerate() {
        let row = ServiceLevelRuleRow {
            id: format!("{}-{}", r.sector, i + 1),
            sector: r.sector.into(),
            service: r.service.into(),
            condition_ja: r.condition_ja.into(),
            condition_en: r.condition_en.into(),
            statute: r.statute.into(),
            min_users: r.min_users,
            min_duration_minutes: r.min_duration_minutes,
            min_interrupted_kw: r.min_interrupted_kw,
            min_households: r.min_households,
            position: i as i64,
        };
        tx.upsert_service_level_rule(&row).await?;
    }
    for (a, b) in default_dependencies() {
        tx.insert_dependency(a, b).await?;
    }
    tx.audit("reference.install", "installation", "reference", json!({"sectors": SECTORS.len()})).await?;
    tx.commit().await?;
    ensure_operations_org(store).await?;
    Ok(true)
}

/// System administration's own organisation (kind `operations`), made once: administering
/// the installation must not sit with the coordinator, which reads every report.
pub async fn ensure_operations_org(store: &Store) -> AppResult<OrgRow> {
    if let Some(o) = store.list_orgs().await?.into_iter().find(|o| o.kind == OrgKind::Operations) {
        return Ok(o);
    }
    let ops = org(OrgKind::Operations, "システム運用", "System operations", None);
    let mut tx = store.begin(Actor::default()).await?;
    add_org(&mut tx, &ops).await?;
    tx.commit().await?;
    Ok(ops)
}

/// A user to create, with the password and token to print.
struct Account {
    org: OrgRow,
    /// The mail domain of the organisation.
    domain: String,
    login: String,
    display_name: String,
    roles: Vec<Role>,
    need_to_know: bool,
}

/// Whether generated accounts get passwords. Tests use tokens only and skip the hashing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Passwords {
    Generate,
    TokensOnly,
    /// Passwords for these logins only (browser tests log in as a few users).
    For(&'static [&'static str]),
}

async fn create_accounts(store: &Store, accounts: Vec<Account>, passwords: Passwords) -> AppResult<Vec<Credential>> {
    let passwords: Vec<String> = match passwords {
        Passwords::Generate => accounts.iter().map(|_| auth::new_password()).collect(),
        Passwords::TokensOnly => accounts.iter().map(|_| String::new()).collect(),
        Passwords::For(logins) => accounts
            .iter()
            .map(|a| if logins.contains(&a.login.as_str()) { auth::new_password() } else { String::new() })
            .collect(),
    };
    // Two in flight at a time: the pool (all cores but one) is never idle and its queue never full.
    let pool = crate::login::Logins::default();
    let hash = |p: Option<&String>| {
        let p = p.filter(|p| !p.is_empty()).cloned();
        let pool = &pool;
        async move {
            match p {
                Some(p) => pool.hash_password(p).await.map(Some),
                None => Ok(None),
            }
        }
    };
    let mut hashes: Vec<Option<String>> = Vec::new();
    for pair in passwords.chunks(2) {
        let (a, b) = tokio::join!(hash(pair.first()), hash(pair.get(1)));
        hashes.push(a?);
        if pair.len() == 2 {
            hashes.push(b?);
        }
    }
    let mut tx = store.begin(Actor::default()).await?;
    let mut out = Vec::new();
    for ((a, password), hash) in accounts.into_iter().zip(passwords).zip(hashes) {
        let user = UserRow {
            id: new_id(),
            password_must_change: false,
            org_id: a.org.id.clone(),
            login: a.login.clone(),
            display_name: a.display_name,
            email: Some(format!("{}@{}", a.login.replace('.', "-"), a.domain)),
            phone: None,
            password_hash: hash,
            roles: a.roles.clone(),
            need_to_know: a.need_to_know,
            active: true,
            created_at: now(),
        };
        tx.save_user(&user).await?;
        tx.audit("user.create", "user", &user.id, json!({"login": user.login})).await?;
        let token = auth::new_token();
        let t = TokenRow {
            id: new_id(),
            kind: "api".into(),
            user_id: user.id.clone(),
            label: "demo".into(),
            expires_at: None,
            revoked_at: None,
            created_at: now(),
        };
        tx.insert_token(&t, &auth::token_hash(&token)).await?;
        out.push(Credential {
            user_id: user.id.clone(),
            login: a.login,
            password,
            token,
            org_id: a.org.id.clone(),
            org_name: a.org.name_ja.clone(),
            org_kind: a.org.kind,
            sector: a.org.sector.clone(),
            roles: a.roles,
            need_to_know: a.need_to_know,
        });
    }
    tx.commit().await?;
    Ok(out)
}

/// On a fresh installation with no users: one system administrator, in system operations
/// (never at the coordinator: administering grants no reading).
pub async fn bootstrap_admin(store: &Store) -> AppResult<Option<Credential>> {
    if !store.list_users(None).await?.is_empty() {
        return Ok(None);
    }
    let ops = ensure_operations_org(store).await?;
    let account = Account {
        org: ops,
        domain: "ops.example.jp".into(),
        login: "admin".into(),
        display_name: "システム管理者 System administrator".into(),
        roles: vec![Role::SystemAdmin, Role::Admin],
        need_to_know: false,
    };
    Ok(create_accounts(store, vec![account], Passwords::Generate).await?.pop())
}

/// The users every organisation gets: admin, its relay officer where its kind has one, a
/// need-to-know member and an ordinary member.
fn accounts_for(o: &OrgRow, slug: &str, label: &str) -> Vec<Account> {
    let officer = match o.kind {
        OrgKind::Ministry => Some((Role::Liaison, "liaison", "リエゾン")),
        OrgKind::Ceptoar => Some((Role::Secretariat, "secretariat", "事務局（PoC）")),
        OrgKind::Coordinator => Some((Role::CipDesk, "cip", "重要インフラ防護担当")),
        _ => None,
    };
    let mut list = Vec::new();
    if o.kind == OrgKind::Operations {
        // System administration: one administrator, who reads no items.
        list.push((
            format!("{slug}.admin"),
            format!("{label} システム管理者"),
            vec![Role::SystemAdmin, Role::Admin],
            false,
        ));
    } else {
        list.push((format!("{slug}.admin"), format!("{label} 管理者"), vec![Role::Admin], true));
        if let Some((role, suffix, name)) = officer {
            list.push((format!("{slug}.{suffix}"), format!("{label} {name}"), vec![role], true));
        }
        list.push((format!("{slug}.ntk"), format!("{label} 担当者（要知）"), vec![Role::Member], true));
        list.push((format!("{slug}.member"), format!("{label} 一般職員"), vec![Role::Member], false));
    }
    let domain = o.identity.domains.first().cloned().unwrap_or_else(|| format!("{slug}.example.jp"));
    list.into_iter()
        .map(|(login, display_name, roles, need_to_know)| Account {
            org: o.clone(),
            domain: domain.clone(),
            login,
            display_name,
            roles,
            need_to_know,
        })
        .collect()
}

/// Names of the two demo operators of each sector.
const OPERATOR_NAMES: [(&str, &str, &str); 2] = [("東都", "Toto", "a"), ("西海", "Saikai", "b")];

/// Installs the reference data and the demo world; returns every log-in.
pub async fn seed_demo(store: &Store, passwords: Passwords) -> AppResult<Vec<Credential>> {
    install_reference(store).await?;
    let existing = store.list_orgs().await?;
    let mut accounts = Vec::new();
    let mut tx = store.begin(Actor::default()).await?;
    for o in &existing {
        let slug = match o.kind {
            OrgKind::Coordinator => "nisc".to_string(),
            OrgKind::Operations => "ops".to_string(),
            _ => MINISTRIES
                .iter()
                .find(|(_, ja, _)| *ja == o.name_ja)
                .map(|(k, _, _)| k.to_string())
                .unwrap_or_else(|| o.id.clone()),
        };
        accounts.extend(accounts_for(o, &slug, &o.name_ja));
    }
    for (n, s) in SECTORS.iter().enumerate() {
        let c =
            org(OrgKind::Ceptoar, &format!("{}セプター", s.name_ja), &format!("{} CEPTOAR", s.name_en), Some(s.code));
        add_org(&mut tx, &c).await?;
        accounts.extend(accounts_for(&c, &format!("{}-ceptoar", s.code), &c.name_ja));
        for (i, (ja, en, letter)) in OPERATOR_NAMES.iter().enumerate() {
            let mut op = org(
                OrgKind::Operator,
                &format!("{ja}{}株式会社", s.name_ja),
                &format!("{en} {} Co., Ltd.", s.name_en),
                Some(s.code),
            );
            let domain = format!("{}-{}.example.jp", en.to_lowercase(), s.code);
            op.identity = OrgIdentity {
                aliases: vec![format!("{ja}{}", s.name_ja), format!("{en} {}", s.name_en)],
                domains: vec![domain.clone()],
                emails: vec![format!("csirt@{domain}")],
                phones: vec![format!("03-5{:03}-{:04}", n * 2 + i, 1000 + n * 10 + i)],
            };
            add_org(&mut tx, &op).await?;
            accounts.extend(accounts_for(&op, &format!("{}-{letter}", s.code), &op.name_ja));
        }
    }
    let mut partner = org(
        OrgKind::SecurityInstitution,
        "サイバーセキュリティ分析機関（分析協力先）",
        "Security analysis institute (analysis partner)",
        None,
    );
    partner.analysis_partner = true;
    let agency = org(OrgKind::ResponseAgency, "事案対処省庁（警察）", "Response agency (police)", None);
    let vendor = org(OrgKind::CyberspaceVendor, "クラウド事業者", "Cloud vendor", None);
    // Every other kind of domain.md §2, so each role can be tried.
    let crisis = org(OrgKind::CrisisOffice, "内閣官房（事態対処・危機管理担当）", "Cabinet crisis office", None);
    let council = org(OrgKind::CeptoarCouncil, "セプターカウンシル", "CEPTOAR Council", None);
    let cyber = org(OrgKind::CyberMinistry, "サイバーセキュリティ関係省庁", "Cybersecurity-related ministry", None);
    let disaster = org(OrgKind::DisasterAgency, "防災関係府省庁", "Disaster management agency", None);
    for (o, slug) in [
        (&partner, "institute"),
        (&agency, "police"),
        (&vendor, "vendor"),
        (&crisis, "crisis"),
        (&council, "council"),
        (&cyber, "cyber"),
        (&disaster, "disaster"),
    ] {
        add_org(&mut tx, o).await?;
        accounts.extend(accounts_for(o, slug, &o.name_ja));
    }
    tx.commit().await?;
    create_accounts(store, accounts, passwords).await
}
