//! Changes to who is who and to the reference data: organisations, users, roles and
//! need-to-know, sectors and jurisdiction, service-level rules and sector dependencies. Every
//! change is audited in the transaction that makes it; a change to who is where recomputes
//! every rendition's readers in the same transaction.

use crate::login::Attempt;
use crate::views::DependencyList;
use crate::world::World;
use crate::{App, AppError, AppResult, Caller};
use kyoyu_domain::codes::{OrgKind, Role};
use kyoyu_domain::{FieldError, ValidationErrors};
use kyoyu_store::{new_id, now, OrgIdentity, OrgRow, SectorRow, ServiceLevelRuleRow, TokenRow, Tx, UserRow};
use serde::Deserialize;
use serde_json::json;

/// A system admin manages every organisation's users; an organisation's admin its own.
fn require_user_admin(caller: &Caller, org_id: &str) -> AppResult<()> {
    Ok(kyoyu_policy::check_user_admin(caller.principal(), org_id)?)
}

/// Recomputes every rendition's readers after a change to who is where: an organisation's
/// kind or sector, or a sector's ministry.
async fn recompute_access(tx: &mut Tx) -> AppResult<()> {
    let world = World::load(tx).await?;
    for f in tx.all_access_facts().await? {
        let content_facts = kyoyu_policy::RenditionFacts {
            tlp: f.tlp,
            sector: &f.sector,
            jurisdiction: world.ministry_of(&f.sector),
            sender: &f.sender_org_id,
            receiver: &f.receiver_org_id,
            originator: &f.originator_org_id,
            extras: &f.extras,
            shared_to: &f.shares.community,
            crime_shares: &f.shares.crime,
            secretariat: None,
        };
        let grants = kyoyu_policy::access_grants(&content_facts, world.facts_of());
        tx.replace_access(&f.report_id, &grants).await?;
    }
    for (id, draft) in tx.all_advisory_forms().await? {
        crate::advisories::regrant(tx, &world, &id, &draft).await?;
    }
    Ok(())
}

/// Checks a log-in and opens a 12-hour session; `label` names the door ("session" for the
/// JSON API, "web" for pages). Answers the token, shown this once, and its row.
pub async fn sign_in(app: &App, attempt: Attempt<'_>, label: &str) -> AppResult<(String, TokenRow)> {
    let (user, _) = app.logins.authenticate(&app.store, attempt).await?;
    open_session(app, &user, label).await
}

/// Replaces a user's password (the current one proves who they are; every earlier session
/// ends) and opens a session with the new one.
pub async fn change_password_and_sign_in(
    app: &App,
    attempt: Attempt<'_>,
    new_password: &str,
    label: &str,
) -> AppResult<(String, TokenRow)> {
    let user = app.logins.change_password(&app.store, attempt, new_password).await?;
    open_session(app, &user, label).await
}

/// Issues a 12-hour session token to a user who has just logged in.
async fn open_session(app: &App, user: &UserRow, label: &str) -> AppResult<(String, TokenRow)> {
    let expires = kyoyu_store::timestamp(chrono::Utc::now() + chrono::Duration::hours(12));
    let mut tx = app
        .store
        .begin(kyoyu_store::Actor { user_id: Some(user.id.clone()), org_id: Some(user.org_id.clone()) })
        .await?;
    let issued = crate::admin::issue_token(&mut tx, &user.id, label, label, Some(expires)).await?;
    tx.commit().await?;
    Ok(issued)
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrgBody {
    pub kind: Option<OrgKind>,
    pub name_ja: Option<String>,
    pub name_en: Option<String>,
    pub sector: Option<Option<String>>,
    pub analysis_partner: Option<bool>,
    pub identity: Option<OrgIdentity>,
}

/// Names, logins, addresses and identity strings stay short: they are matched in every report
/// of the anonymised route.
const MAX_NAME: usize = 200;

const MAX_IDENTITY_ENTRIES: usize = 100;

fn too_long(field: &str) -> FieldError {
    FieldError::new(
        field,
        format!("長すぎます（{MAX_NAME}文字・{MAX_IDENTITY_ENTRIES}件まで）"),
        format!("too long (at most {MAX_NAME} characters, {MAX_IDENTITY_ENTRIES} entries)"),
    )
}

/// User fields that identify an operator are length-limited like its identity strings.
/// A new log-in: lower-case ASCII letters, digits, `.`, `_` and `-`, so no two log-ins can
/// look alike (case, Cyrillic, full-width or invisible characters).
fn check_login(login: &str) -> Result<(), FieldError> {
    let ok = (2..=64).contains(&login.len())
        && login.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && login.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(FieldError::new(
            "login",
            "ログイン名は半角英小文字・数字と . _ - の 2〜64 文字で、英数字で始めてください",
            "a log-in is 2 to 64 lower-case ASCII letters, digits, '.', '_' or '-', starting with a letter or digit",
        ))
    }
}

fn check_user_fields(u: &UserRow) -> Result<(), ValidationErrors> {
    let mut errors = ValidationErrors::default();
    let fields = [
        ("login", Some(&u.login)),
        ("display_name", Some(&u.display_name)),
        ("email", u.email.as_ref()),
        ("phone", u.phone.as_ref()),
    ];
    for (field, v) in fields {
        if v.is_some_and(|v| v.chars().count() > MAX_NAME) {
            errors.push(too_long(field));
        }
    }
    errors.into_result(())
}

fn check_org(o: &OrgRow, world_sectors: &[SectorRow]) -> Result<(), ValidationErrors> {
    let mut errors = ValidationErrors::default();
    for (field, v) in [("name_ja", &o.name_ja), ("name_en", &o.name_en)] {
        if v.trim().is_empty() {
            errors.push(FieldError::required(field));
        }
    }
    match (&o.sector, o.kind.has_sector()) {
        (None, true) => errors.push(FieldError::new(
            "sector",
            "この種別には分野が必要です",
            "this kind of organisation needs a sector",
        )),
        (Some(_), false) => errors.push(FieldError::new(
            "sector",
            "この種別に分野は指定できません",
            "this kind of organisation has no sector",
        )),
        (Some(s), true) if !world_sectors.iter().any(|x| &x.code == s) => {
            errors.push(FieldError::unknown_code("sector", s))
        }
        _ => {}
    }
    let identity = [
        ("identity.aliases", &o.identity.aliases),
        ("identity.domains", &o.identity.domains),
        ("identity.emails", &o.identity.emails),
        ("identity.phones", &o.identity.phones),
    ];
    for (field, list) in identity {
        if list.len() > MAX_IDENTITY_ENTRIES || list.iter().any(|v| v.chars().count() > MAX_NAME) {
            errors.push(too_long(field));
        }
    }
    for (field, v) in [("name_ja", &o.name_ja), ("name_en", &o.name_en)] {
        if v.chars().count() > MAX_NAME {
            errors.push(too_long(field));
        }
    }
    if o.analysis_partner && o.kind != OrgKind::SecurityInstitution {
        errors.push(FieldError::new(
            "analysis_partner",
            "分析協力先に指定できるのはサイバーセキュリティ関係機関だけです",
            "only a security institution can be an analysis partner",
        ));
    }
    errors.into_result(())
}

pub async fn create_org(app: &App, caller: &Caller, b: OrgBody) -> AppResult<OrgRow> {
    kyoyu_policy::check_system_admin(caller.principal())?;
    let kind = b.kind.ok_or_else(|| FieldError::required("kind"))?;
    let org = OrgRow {
        id: new_id(),
        kind,
        name_ja: b.name_ja.unwrap_or_default(),
        name_en: b.name_en.unwrap_or_default(),
        sector: b.sector.flatten(),
        analysis_partner: b.analysis_partner.unwrap_or(false),
        identity: b.identity.unwrap_or_default(),
        created_at: now(),
    };
    let mut tx = app.store.begin(caller.actor()).await?;
    check_org(&org, &tx.list_sectors().await?)?;
    tx.insert_org(&org).await?;
    tx.bump_reference_version().await?;
    tx.audit("org.create", "org", &org.id, serde_json::to_value(&org).unwrap_or_default()).await?;
    tx.commit().await?;
    Ok(org)
}

pub async fn update_org(app: &App, caller: &Caller, id: &str, b: OrgBody) -> AppResult<OrgRow> {
    kyoyu_policy::check_system_admin(caller.principal())?;
    let mut tx = app.store.begin(caller.actor()).await?;
    let before = tx.get_org(id).await?.ok_or(AppError::NotFound)?;
    let mut org = before.clone();
    org.kind = b.kind.unwrap_or(org.kind);
    org.name_ja = b.name_ja.unwrap_or(org.name_ja);
    org.name_en = b.name_en.unwrap_or(org.name_en);
    org.sector = b.sector.unwrap_or(org.sector);
    org.analysis_partner = b.analysis_partner.unwrap_or(org.analysis_partner);
    org.identity = b.identity.unwrap_or(org.identity);
    check_org(&org, &tx.list_sectors().await?)?;
    tx.update_org(&org).await?;
    tx.bump_reference_version().await?;
    if org.facts() != before.facts() {
        recompute_access(&mut tx).await?;
    }
    tx.audit("org.update", "org", id, json!({"before": before, "after": org})).await?;
    tx.commit().await?;
    Ok(org)
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserBody {
    pub org_id: Option<String>,
    pub login: Option<String>,
    pub display_name: Option<String>,
    pub email: Option<Option<String>>,
    pub phone: Option<Option<String>>,
    pub password: Option<String>,
    pub roles: Option<Vec<Role>>,
    pub need_to_know: Option<bool>,
    pub active: Option<bool>,
}

/// Roles fit the kind of organisation, and only a system admin grants system admin.
fn check_roles(caller: &Caller, kind: OrgKind, roles: &[Role]) -> Result<(), ValidationErrors> {
    let mut errors = ValidationErrors::default();
    for (i, role) in roles.iter().enumerate() {
        let fits = match role {
            Role::Liaison => kind == OrgKind::Ministry,
            Role::Secretariat => kind == OrgKind::Ceptoar,
            Role::CipDesk => kind == OrgKind::Coordinator,
            // Separation of duties: system administration sits in its own organisation.
            Role::SystemAdmin => kind == OrgKind::Operations && caller.principal().has_role(Role::SystemAdmin),
            Role::Admin | Role::Member => true,
        };
        if !fits {
            errors.push(FieldError::new(
                format!("roles[{i}]"),
                format!("役割 {} はこの組織・権限では付与できません", role.code()),
                format!("role {} cannot be granted here", role.code()),
            ));
        }
    }
    errors.into_result(())
}

pub async fn create_user(app: &App, caller: &Caller, b: UserBody) -> AppResult<UserRow> {
    let mut errors = ValidationErrors::default();
    for (field, missing) in [
        ("org_id", b.org_id.is_none()),
        ("login", b.login.as_deref().is_none_or(|l| l.trim().is_empty())),
        ("display_name", b.display_name.is_none()),
    ] {
        if missing {
            errors.push(FieldError::required(field));
        }
    }
    errors.into_result(())?;
    let org_id = b.org_id.unwrap_or_default();
    require_user_admin(caller, &org_id)?;
    let mut tx = app.store.begin(caller.actor()).await?;
    check_login(b.login.as_deref().unwrap_or_default().trim())?;
    let org = tx.get_org(&org_id).await?.ok_or_else(|| FieldError::unknown_code("org_id", &org_id))?;
    let roles = b.roles.unwrap_or_else(|| vec![Role::Member]);
    check_roles(caller, org.kind, &roles)?;
    let password_hash = match b.password {
        Some(p) => Some(app.logins.hash_password(p).await?),
        None => None,
    };
    let user = UserRow {
        id: new_id(),
        // The administrator chose it: the user chooses a new one at first log-in.
        password_must_change: password_hash.is_some(),
        org_id,
        login: b.login.unwrap_or_default().trim().to_string(),
        display_name: b.display_name.unwrap_or_default(),
        email: b.email.flatten(),
        phone: b.phone.flatten(),
        password_hash,
        roles,
        need_to_know: b.need_to_know.unwrap_or(false),
        active: b.active.unwrap_or(true),
        created_at: now(),
    };
    check_user_fields(&user)?;
    tx.save_user(&user).await?;
    tx.audit("user.create", "user", &user.id, serde_json::to_value(&user).unwrap_or_default()).await?;
    tx.commit().await?;
    Ok(user)
}

pub async fn update_user(app: &App, caller: &Caller, id: &str, b: UserBody) -> AppResult<UserRow> {
    let mut tx = app.store.begin(caller.actor()).await?;
    let before = tx.get_user(id).await?.ok_or(AppError::NotFound)?;
    require_user_admin(caller, &before.org_id)?;
    let mut errors = ValidationErrors::default();
    for (field, given) in [("org_id", b.org_id.is_some()), ("login", b.login.is_some())] {
        if given {
            errors.push(FieldError::new(field, "変更できません", "cannot be changed"));
        }
    }
    errors.into_result(())?;
    let org = tx.get_org(&before.org_id).await?.ok_or(AppError::NotFound)?;
    let mut user = before.clone();
    if let Some(roles) = b.roles {
        check_roles(caller, org.kind, &roles)?;
        user.roles = roles;
    }
    user.display_name = b.display_name.unwrap_or(user.display_name);
    user.email = b.email.unwrap_or(user.email);
    user.phone = b.phone.unwrap_or(user.phone);
    user.need_to_know = b.need_to_know.unwrap_or(user.need_to_know);
    if b.active == Some(false) && user.id == caller.user().id {
        // An administrator who deactivates themselves may leave nobody to undo it.
        return Err(FieldError::new(
            "active",
            "自分のアカウントは無効にできません。他の管理者に依頼してください",
            "you cannot deactivate your own account; ask another administrator",
        )
        .into());
    }
    user.active = b.active.unwrap_or(user.active);
    let password_changed = b.password.is_some();
    if let Some(p) = b.password {
        user.password_hash = Some(app.logins.hash_password(p).await?);
        // Nobody logs in with a password someone else chose: it serves to choose a new one.
        user.password_must_change = user.id != caller.user().id;
    }
    check_user_fields(&user)?;
    tx.save_user(&user).await?;
    if password_changed {
        // Every other session ends with the old password; the caller's own stays open.
        tx.end_sessions(&user.id, caller.session_hash(), &now()).await?;
    }
    tx.audit("user.update", "user", id, json!({"before": before, "after": user})).await?;
    tx.commit().await?;
    Ok(user)
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SectorBody {
    pub name_ja: Option<String>,
    pub name_en: Option<String>,
    pub ministry_org_id: Option<Option<String>>,
    pub position: Option<i64>,
}

pub async fn put_sector(app: &App, caller: &Caller, code: &str, b: SectorBody) -> AppResult<SectorRow> {
    kyoyu_policy::check_system_admin(caller.principal())?;
    if code.is_empty() || !code.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
        return Err(FieldError::new(
            "code",
            "分野コードは英小文字と _ で指定してください",
            "sector codes are lower-case ASCII and _",
        )
        .into());
    }
    let mut tx = app.store.begin(caller.actor()).await?;
    let sectors = tx.list_sectors().await?;
    let before = sectors.iter().find(|s| s.code == code).cloned();
    let mut s = before.clone().unwrap_or(SectorRow {
        code: code.to_string(),
        name_ja: String::new(),
        name_en: String::new(),
        ministry_org_id: None,
        position: sectors.len() as i64,
    });
    s.name_ja = b.name_ja.unwrap_or(s.name_ja);
    s.name_en = b.name_en.unwrap_or(s.name_en);
    s.ministry_org_id = b.ministry_org_id.unwrap_or(s.ministry_org_id);
    s.position = b.position.unwrap_or(s.position);
    let mut errors = ValidationErrors::default();
    if s.name_ja.trim().is_empty() {
        errors.push(FieldError::required("name_ja"));
    }
    if s.name_en.trim().is_empty() {
        errors.push(FieldError::required("name_en"));
    }
    if let Some(m) = &s.ministry_org_id {
        if tx.get_org(m).await?.is_none_or(|o| o.kind != OrgKind::Ministry) {
            errors.push(FieldError::new(
                "ministry_org_id",
                "所管省庁の組織を指定してください",
                "must name a ministry organisation",
            ));
        }
    }
    errors.into_result(())?;
    tx.upsert_sector(&s).await?;
    tx.bump_reference_version().await?;
    if before.as_ref().map(|b| &b.ministry_org_id) != Some(&s.ministry_org_id) {
        recompute_access(&mut tx).await?;
    }
    tx.audit("sector.put", "sector", code, json!({"before": before, "after": s})).await?;
    tx.commit().await?;
    Ok(s)
}

pub async fn put_service_level_rule(
    app: &App,
    caller: &Caller,
    id: &str,
    mut rule: Option<ServiceLevelRuleRow>,
) -> AppResult<ServiceLevelRuleRow> {
    kyoyu_policy::check_system_admin(caller.principal())?;
    let rule = rule.take().ok_or_else(|| FieldError::required("rule"))?;
    let mut errors = ValidationErrors::default();
    if rule.id != id {
        errors.push(FieldError::new("id", "URL の ID と一致しません", "does not match the id in the URL"));
    }
    for (field, v) in [("statute", &rule.statute), ("service", &rule.service), ("condition_ja", &rule.condition_ja)] {
        if v.trim().is_empty() {
            errors.push(FieldError::required(field));
        }
    }
    let mut tx = app.store.begin(caller.actor()).await?;
    if !tx.list_sectors().await?.iter().any(|s| s.code == rule.sector) {
        errors.push(FieldError::unknown_code("sector", &rule.sector));
    }
    errors.into_result(())?;
    tx.upsert_service_level_rule(&rule).await?;
    tx.bump_reference_version().await?;
    tx.audit("service_level_rule.put", "service_level_rule", id, serde_json::to_value(&rule).unwrap_or_default())
        .await?;
    tx.commit().await?;
    Ok(rule)
}

pub async fn put_dependencies(app: &App, caller: &Caller, b: Option<DependencyList>) -> AppResult<DependencyList> {
    kyoyu_policy::check_system_admin(caller.principal())?;
    let list = b.ok_or_else(|| FieldError::required("items"))?;
    let mut tx = app.store.begin(caller.actor()).await?;
    let sectors = tx.list_sectors().await?;
    let mut errors = ValidationErrors::default();
    for (i, e) in list.items.iter().enumerate() {
        for (name, code) in [("sector", &e.sector), ("depends_on", &e.depends_on)] {
            if !sectors.iter().any(|s| &s.code == code) {
                errors.push(FieldError::unknown_code(&format!("items[{i}].{name}"), code));
            }
        }
    }
    errors.into_result(())?;
    tx.clear_dependencies().await?;
    tx.bump_reference_version().await?;
    for e in &list.items {
        tx.insert_dependency(&e.sector, &e.depends_on).await?;
    }
    tx.audit("sector_dependencies.put", "sector_dependencies", "all", serde_json::to_value(&list).unwrap_or_default())
        .await?;
    tx.commit().await?;
    Ok(list)
}
