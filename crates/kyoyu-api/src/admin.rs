//! Who is who, and the reference data: organisations, users, roles, need-to-know, API tokens,
//! sectors and jurisdiction, service-level rules and sector dependencies. Every change is
//! audited in the transaction that makes it.

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Caller, JsonBody};
use crate::query::{PageQuery, Params};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use kyoyu_app::admin::{self as ops, TokenRequest};
use kyoyu_app::views::{
    AuditList, DependencyList, Me, NewToken, OrgList, PasswordChanged, SectorList, ServiceLevelRuleList, SessionView,
    TokenList, Unlocked, UserList,
};
use kyoyu_app::world::World;
use kyoyu_domain::codes::{OrgKind, Role};
use kyoyu_domain::{FieldError, ValidationErrors};
use kyoyu_store::{new_id, now, OrgIdentity, OrgRow, SectorRow, ServiceLevelRuleRow, TokenRow, Tx, UserRow};
use serde::Deserialize;
use serde_json::json;
use utoipa::IntoParams;

/// A system admin manages every organisation's users; an organisation's admin its own.
fn require_user_admin(caller: &Caller, org_id: &str) -> ApiResult<()> {
    Ok(kyoyu_policy::check_user_admin(&caller.principal, org_id)?)
}

/// Recomputes every rendition's readers after a change to who is where: an organisation's
/// kind or sector, or a sector's ministry.
async fn recompute_access(tx: &mut Tx) -> ApiResult<()> {
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
            shared_to: &f.shared_to,
            secretariat: None,
        };
        let grants = kyoyu_policy::access_grants(&content_facts, world.facts_of());
        tx.replace_access(&f.report_id, &grants).await?;
    }
    for (id, draft) in tx.all_advisory_forms().await? {
        kyoyu_app::advisories::regrant(tx, &world, &id, &draft).await?;
    }
    Ok(())
}

#[utoipa::path(
    get,
    path = "/api/v1/me",
    operation_id = "getMe",
    tag = "session",
    summary = "The caller, their organisation and roles / 自分",
    responses((status = 200, description = "OK", body = Me)),
)]
pub async fn get_me(caller: Caller) -> Json<Me> {
    Json(ops::me(&caller))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    login: Option<String>,
    password: Option<String>,
    /// The TOTP code, for users who enrolled a second factor.
    totp: Option<String>,
}

/// A log-in through the JSON API, from a body's fields (login and password required).
fn json_attempt<'a>(
    login: &'a Option<String>,
    password: &'a Option<String>,
    totp: &'a Option<String>,
    address: &'a str,
) -> Result<crate::login::Attempt<'a>, FieldError> {
    Ok(crate::login::Attempt {
        login: login.as_deref().ok_or_else(|| FieldError::required("login"))?,
        password: password.as_deref().ok_or_else(|| FieldError::required("password"))?,
        code: totp.as_deref(),
        address,
        door: crate::login::Door::Session,
    })
}

/// Exchanges a login and password (and TOTP code, if enrolled) for a token valid for 12 hours.
#[utoipa::path(
    post,
    path = "/api/v1/session",
    operation_id = "createSession",
    tag = "session",
    summary = "Log in: a token valid for 12 hours / ログイン",
    description = "Five failures in a row lock the account for 15 minutes; a locked account, an unknown login, a wrong password and a wrong TOTP code all answer the same 401.",
    request_body(content = LoginBody, content_type = "application/json"),
    responses((status = 201, description = "OK", body = SessionView), (status = 401, description = "unknown, revoked or expired token / 認証エラー", body = ErrorBody), (status = 403, description = "the caller's role may not do this / 権限がありません", body = ErrorBody), (status = 429, description = "too many log-ins are being checked / 混雑", body = ErrorBody)),
    security(()),
)]
pub async fn create_session(
    State(state): State<AppState>,
    address: crate::extract::ClientAddress,
    JsonBody(body): JsonBody<LoginBody>,
) -> ApiResult<(StatusCode, Json<SessionView>)> {
    let attempt = json_attempt(&body.login, &body.password, &body.totp, &address.0)?;
    let (user, _) = state.logins.authenticate(&state.store, attempt).await?;
    let (token, row) = open_session(&state, &user, "session").await?;
    Ok((StatusCode::CREATED, Json(SessionView { token, expires_at: row.expires_at })))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordBody {
    login: Option<String>,
    password: Option<String>,
    totp: Option<String>,
    new_password: Option<String>,
}

/// A user sets a new password with the current one (and TOTP code, if enrolled). This is also
/// the only use of a password an administrator set. Every session of the user ends.
#[utoipa::path(
    post,
    path = "/api/v1/password",
    operation_id = "changePassword",
    tag = "session",
    summary = "Choose a new password with the current one / パスワードの変更",
    description = "The only use of a password an administrator set. Every session of the user ends.",
    request_body(content = PasswordBody, content_type = "application/json"),
    responses((status = 200, description = "OK", body = PasswordChanged), (status = 401, description = "unknown, revoked or expired token / 認証エラー", body = ErrorBody), (status = 429, description = "too many log-ins are being checked / 混雑", body = ErrorBody)),
    security(()),
)]
pub async fn change_password(
    State(state): State<AppState>,
    address: crate::extract::ClientAddress,
    JsonBody(body): JsonBody<PasswordBody>,
) -> ApiResult<Json<PasswordChanged>> {
    let new = body.new_password.as_deref().ok_or_else(|| FieldError::required("new_password"))?;
    let attempt = json_attempt(&body.login, &body.password, &body.totp, &address.0)?;
    let user = state.logins.change_password(&state.store, attempt, new).await?;
    Ok(Json(PasswordChanged { user_id: user.id, changed: true }))
}

/// Issues a 12-hour session token to a user who has just logged in.
pub async fn open_session(state: &AppState, user: &UserRow, label: &str) -> ApiResult<(String, TokenRow)> {
    let expires = kyoyu_store::timestamp(chrono::Utc::now() + chrono::Duration::hours(12));
    let mut tx = state
        .store
        .begin(kyoyu_store::Actor { user_id: Some(user.id.clone()), org_id: Some(user.org_id.clone()) })
        .await?;
    let issued = kyoyu_app::admin::issue_token(&mut tx, &user.id, label, label, Some(expires)).await?;
    tx.commit().await?;
    Ok(issued)
}

/// The directory of organisations, so senders can name receivers.
#[utoipa::path(
    get,
    path = "/api/v1/orgs",
    operation_id = "listOrgs",
    tag = "reference",
    summary = "The directory of organisations / 組織一覧",
    responses((status = 200, description = "OK", body = OrgList)),
)]
pub async fn list_orgs(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<OrgList>> {
    Ok(Json(ops::list_orgs(&state.app, &caller).await?))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrgBody {
    kind: Option<OrgKind>,
    name_ja: Option<String>,
    name_en: Option<String>,
    sector: Option<Option<String>>,
    analysis_partner: Option<bool>,
    identity: Option<OrgIdentity>,
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

#[utoipa::path(
    post,
    path = "/api/v1/admin/orgs",
    operation_id = "createOrg",
    tag = "administration",
    summary = "Create an organisation (system admin) / 組織の登録",
    description = "Operators and CEPTOARs need a sector; other kinds have none. Only a security institution can be an analysis partner.",
    request_body(content = OrgBody, content_type = "application/json"),
    responses((status = 201, description = "OK", body = OrgRow), (status = 403, description = "the caller's role may not do this / 権限がありません", body = ErrorBody), (status = 409, description = "the item is not in a state that allows this / 状態が合いません", body = ErrorBody)),
)]
pub async fn create_org(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(b): JsonBody<OrgBody>,
) -> ApiResult<(StatusCode, Json<OrgRow>)> {
    kyoyu_policy::check_system_admin(&caller.principal)?;
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
    let mut tx = state.store.begin(caller.actor()).await?;
    check_org(&org, &tx.list_sectors().await?)?;
    tx.insert_org(&org).await?;
    tx.bump_reference_version().await?;
    tx.audit("org.create", "org", &org.id, serde_json::to_value(&org).unwrap_or_default()).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(org)))
}

#[utoipa::path(
    patch,
    path = "/api/v1/admin/orgs/{id}",
    operation_id = "updateOrg",
    tag = "administration",
    summary = "Edit an organisation (system admin) / 組織の編集",
    description = "Operators and CEPTOARs need a sector; other kinds have none.",
    request_body(content = Option<OrgBody>, content_type = "application/json"),
    params(("id" = String, Path, description = "The item's id / ID")),
    responses((status = 200, description = "OK", body = OrgRow), (status = 403, description = "the caller's role may not do this / 権限がありません", body = ErrorBody)),
)]
pub async fn update_org(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<OrgBody>,
) -> ApiResult<Json<OrgRow>> {
    kyoyu_policy::check_system_admin(&caller.principal)?;
    let mut tx = state.store.begin(caller.actor()).await?;
    let before = tx.get_org(&id).await?.ok_or(ApiError::NotFound)?;
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
    tx.audit("org.update", "org", &id, json!({"before": before, "after": org})).await?;
    tx.commit().await?;
    Ok(Json(org))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserBody {
    org_id: Option<String>,
    login: Option<String>,
    display_name: Option<String>,
    email: Option<Option<String>>,
    phone: Option<Option<String>>,
    password: Option<String>,
    roles: Option<Vec<Role>>,
    need_to_know: Option<bool>,
    active: Option<bool>,
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
            Role::SystemAdmin => kind == OrgKind::Operations && caller.principal.has_role(Role::SystemAdmin),
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

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UserQuery {
    /// Only this organisation's users / 組織
    org_id: Option<String>,
}

#[utoipa::path(
    get,
    path = "/api/v1/admin/users",
    operation_id = "listUsers",
    tag = "administration",
    summary = "Users of an organisation (its admin) / 利用者一覧",
    params(UserQuery),
    responses((status = 200, description = "OK", body = UserList), (status = 403, description = "the caller's role may not do this / 権限がありません", body = ErrorBody)),
)]
pub async fn list_users(
    State(state): State<AppState>,
    caller: Caller,
    Params(query): Params<UserQuery>,
) -> ApiResult<Json<UserList>> {
    Ok(Json(ops::list_users(&state.app, &caller, query.org_id.as_deref()).await?))
}

#[utoipa::path(
    post,
    path = "/api/v1/admin/users",
    operation_id = "createUser",
    tag = "administration",
    summary = "Create a user (the organisation's admin) / 利用者の登録",
    request_body(content = UserBody, content_type = "application/json"),
    responses((status = 201, description = "OK", body = UserRow), (status = 403, description = "the caller's role may not do this / 権限がありません", body = ErrorBody), (status = 409, description = "the item is not in a state that allows this / 状態が合いません", body = ErrorBody)),
)]
pub async fn create_user(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(b): JsonBody<UserBody>,
) -> ApiResult<(StatusCode, Json<UserRow>)> {
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
    require_user_admin(&caller, &org_id)?;
    let mut tx = state.store.begin(caller.actor()).await?;
    check_login(b.login.as_deref().unwrap_or_default().trim())?;
    let org = tx.get_org(&org_id).await?.ok_or_else(|| FieldError::unknown_code("org_id", &org_id))?;
    let roles = b.roles.unwrap_or_else(|| vec![Role::Member]);
    check_roles(&caller, org.kind, &roles)?;
    let password_hash = match b.password {
        Some(p) => Some(state.logins.hash_password(p).await?),
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
    Ok((StatusCode::CREATED, Json(user)))
}

#[utoipa::path(
    patch,
    path = "/api/v1/admin/users/{id}",
    operation_id = "updateUser",
    tag = "administration",
    summary = "Edit roles, need-to-know, password, active / 利用者の編集",
    request_body(content = Option<UserBody>, content_type = "application/json"),
    params(("id" = String, Path, description = "The item's id / ID")),
    responses((status = 200, description = "OK", body = UserRow), (status = 403, description = "the caller's role may not do this / 権限がありません", body = ErrorBody)),
)]
pub async fn update_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<UserBody>,
) -> ApiResult<Json<UserRow>> {
    let mut tx = state.store.begin(caller.actor()).await?;
    let before = tx.get_user(&id).await?.ok_or(ApiError::NotFound)?;
    require_user_admin(&caller, &before.org_id)?;
    let mut errors = ValidationErrors::default();
    for (field, given) in [("org_id", b.org_id.is_some()), ("login", b.login.is_some())] {
        if given {
            errors.push(FieldError::new(field, "変更できません", "cannot be changed"));
        }
    }
    errors.into_result(())?;
    let org = tx.get_org(&before.org_id).await?.ok_or(ApiError::NotFound)?;
    let mut user = before.clone();
    if let Some(roles) = b.roles {
        check_roles(&caller, org.kind, &roles)?;
        user.roles = roles;
    }
    user.display_name = b.display_name.unwrap_or(user.display_name);
    user.email = b.email.unwrap_or(user.email);
    user.phone = b.phone.unwrap_or(user.phone);
    user.need_to_know = b.need_to_know.unwrap_or(user.need_to_know);
    user.active = b.active.unwrap_or(user.active);
    let password_changed = b.password.is_some();
    if let Some(p) = b.password {
        user.password_hash = Some(state.logins.hash_password(p).await?);
        // Nobody logs in with a password someone else chose: it serves to choose a new one.
        user.password_must_change = user.id != caller.user.id;
    }
    check_user_fields(&user)?;
    tx.save_user(&user).await?;
    if password_changed {
        // Every other session ends with the old password; the caller's own stays open.
        tx.end_sessions(&user.id, caller.session_hash.as_deref(), &now()).await?;
    }
    tx.audit("user.update", "user", &id, json!({"before": before, "after": user})).await?;
    tx.commit().await?;
    Ok(Json(user))
}

#[utoipa::path(
    post,
    path = "/api/v1/admin/users/{id}/tokens",
    operation_id = "createToken",
    tag = "administration",
    summary = "Issue an API token, shown once (only its owner mints one) / トークン発行（本人のみ）",
    request_body(content = Option<TokenRequest>, content_type = "application/json"),
    params(("id" = String, Path, description = "The item's id / ID")),
    responses((status = 201, description = "OK", body = NewToken), (status = 403, description = "the caller's role may not do this / 権限がありません", body = ErrorBody)),
)]
pub async fn create_token(
    State(state): State<AppState>,
    caller: Caller,
    Path(user_id): Path<String>,
    JsonBody(request): JsonBody<TokenRequest>,
) -> ApiResult<(StatusCode, Json<NewToken>)> {
    Ok((StatusCode::CREATED, Json(ops::create_token(&state.app, &caller, &user_id, request).await?)))
}

#[utoipa::path(
    get,
    path = "/api/v1/admin/users/{id}/tokens",
    operation_id = "listTokens",
    tag = "administration",
    summary = "A user's API tokens / トークン一覧",
    params(("id" = String, Path, description = "The item's id / ID")),
    responses((status = 200, description = "OK", body = TokenList), (status = 403, description = "the caller's role may not do this / 権限がありません", body = ErrorBody)),
)]
pub async fn list_tokens(
    State(state): State<AppState>,
    caller: Caller,
    Path(user_id): Path<String>,
) -> ApiResult<Json<TokenList>> {
    Ok(Json(ops::list_tokens(&state.app, &caller, &user_id).await?))
}

#[utoipa::path(
    delete,
    path = "/api/v1/admin/users/{id}/tokens/{token_id}",
    operation_id = "revokeToken",
    tag = "administration",
    summary = "Revoke an API token / トークン失効",
    params(("id" = String, Path, description = "The item's id / ID"), ("token_id" = String, Path, description = "The token's id / トークンID")),
    responses((status = 204, description = "done / 完了"), (status = 403, description = "the caller's role may not do this / 権限がありません", body = ErrorBody)),
)]
pub async fn revoke_token(
    State(state): State<AppState>,
    caller: Caller,
    Path((user_id, token_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    ops::revoke_token(&state.app, &caller, &user_id, &token_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    get,
    path = "/api/v1/sectors",
    operation_id = "listSectors",
    tag = "reference",
    summary = "Sectors and the ministry with jurisdiction / 分野",
    responses((status = 200, description = "OK", body = SectorList)),
)]
pub async fn list_sectors(State(state): State<AppState>, _caller: Caller) -> ApiResult<Json<SectorList>> {
    Ok(Json(ops::list_sectors(&state.app).await?))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SectorBody {
    name_ja: Option<String>,
    name_en: Option<String>,
    ministry_org_id: Option<Option<String>>,
    position: Option<i64>,
}

/// Creates or edits a sector, including which ministry has jurisdiction over it.
#[utoipa::path(
    put,
    path = "/api/v1/admin/sectors/{code}",
    operation_id = "putSector",
    tag = "administration",
    summary = "Create or edit a sector and its jurisdiction (system admin) / 分野と所管",
    request_body(content = Option<SectorBody>, content_type = "application/json"),
    params(("code" = String, Path, description = "The sector code / 分野コード")),
    responses((status = 200, description = "OK", body = SectorRow), (status = 403, description = "the caller's role may not do this / 権限がありません", body = ErrorBody)),
)]
pub async fn put_sector(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
    JsonBody(b): JsonBody<SectorBody>,
) -> ApiResult<Json<SectorRow>> {
    kyoyu_policy::check_system_admin(&caller.principal)?;
    if code.is_empty() || !code.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
        return Err(FieldError::new(
            "code",
            "分野コードは英小文字と _ で指定してください",
            "sector codes are lower-case ASCII and _",
        )
        .into());
    }
    let mut tx = state.store.begin(caller.actor()).await?;
    let sectors = tx.list_sectors().await?;
    let before = sectors.iter().find(|s| s.code == code).cloned();
    let mut s = before.clone().unwrap_or(SectorRow {
        code: code.clone(),
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
    tx.audit("sector.put", "sector", &code, json!({"before": before, "after": s})).await?;
    tx.commit().await?;
    Ok(Json(s))
}

#[utoipa::path(
    get,
    path = "/api/v1/service-level-rules",
    operation_id = "listServiceLevelRules",
    tag = "reference",
    summary = "Service-maintenance-level rules / サービス維持レベル",
    responses((status = 200, description = "OK", body = ServiceLevelRuleList)),
)]
pub async fn list_service_level_rules(
    State(state): State<AppState>,
    _caller: Caller,
) -> ApiResult<Json<ServiceLevelRuleList>> {
    Ok(Json(ops::list_service_level_rules(&state.app).await?))
}

#[utoipa::path(
    put,
    path = "/api/v1/admin/service-level-rules/{id}",
    operation_id = "putServiceLevelRule",
    tag = "administration",
    summary = "Create or edit a service-level rule (system admin) / サービス維持レベルの編集",
    request_body(content = ServiceLevelRuleRow, content_type = "application/json"),
    params(("id" = String, Path, description = "The item's id / ID")),
    responses((status = 200, description = "OK", body = ServiceLevelRuleRow), (status = 403, description = "the caller's role may not do this / 権限がありません", body = ErrorBody)),
)]
pub async fn put_service_level_rule(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(mut rule): JsonBody<Option<ServiceLevelRuleRow>>,
) -> ApiResult<Json<ServiceLevelRuleRow>> {
    kyoyu_policy::check_system_admin(&caller.principal)?;
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
    let mut tx = state.store.begin(caller.actor()).await?;
    if !tx.list_sectors().await?.iter().any(|s| s.code == rule.sector) {
        errors.push(FieldError::unknown_code("sector", &rule.sector));
    }
    errors.into_result(())?;
    tx.upsert_service_level_rule(&rule).await?;
    tx.bump_reference_version().await?;
    tx.audit("service_level_rule.put", "service_level_rule", &id, serde_json::to_value(&rule).unwrap_or_default())
        .await?;
    tx.commit().await?;
    Ok(Json(rule))
}

#[utoipa::path(
    get,
    path = "/api/v1/sector-dependencies",
    operation_id = "listSectorDependencies",
    tag = "reference",
    summary = "Sector dependency graph / 分野間の依存",
    responses((status = 200, description = "OK", body = DependencyList)),
)]
pub async fn list_dependencies(State(state): State<AppState>, _caller: Caller) -> ApiResult<Json<DependencyList>> {
    Ok(Json(ops::list_dependencies(&state.app).await?))
}

#[utoipa::path(
    put,
    path = "/api/v1/admin/sector-dependencies",
    operation_id = "putSectorDependencies",
    tag = "administration",
    summary = "Replace the sector dependency graph (system admin) / 依存関係の編集",
    request_body(content = DependencyList, content_type = "application/json"),
    responses((status = 200, description = "OK", body = DependencyList), (status = 403, description = "the caller's role may not do this / 権限がありません", body = ErrorBody)),
)]
pub async fn put_dependencies(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(b): JsonBody<Option<DependencyList>>,
) -> ApiResult<Json<DependencyList>> {
    kyoyu_policy::check_system_admin(&caller.principal)?;
    let list = b.ok_or_else(|| FieldError::required("items"))?;
    let mut tx = state.store.begin(caller.actor()).await?;
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
    Ok(Json(list))
}

#[utoipa::path(
    post,
    path = "/api/v1/admin/users/{id}/unlock",
    operation_id = "unlockUser",
    tag = "administration",
    summary = "Lift every log-in throttle on a user's account / ログイン制限の解除",
    params(("id" = String, Path, description = "The item's id / ID")),
    responses((status = 200, description = "OK", body = Unlocked), (status = 403, description = "the caller's role may not do this / 権限がありません", body = ErrorBody)),
)]
pub async fn unlock_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Unlocked>> {
    Ok(Json(ops::unlock_user(&state.app, &caller, &id).await?))
}

#[utoipa::path(
    get,
    path = "/api/v1/admin/audit",
    operation_id = "listAudit",
    tag = "administration",
    summary = "The hash-chained audit log, newest first (system admin) / 監査ログ",
    params(PageQuery),
    responses((status = 200, description = "OK", body = AuditList), (status = 403, description = "the caller's role may not do this / 権限がありません", body = ErrorBody)),
)]
pub async fn list_audit(
    State(state): State<AppState>,
    caller: Caller,
    Params(query): Params<PageQuery>,
) -> ApiResult<Json<AuditList>> {
    let page = query.page()?;
    Ok(Json(ops::list_audit(&state.app, &caller, page).await?))
}
