//! Who is who, and the reference data: organisations, users, roles, need-to-know, API tokens,
//! sectors and jurisdiction, service-level rules and sector dependencies. Every change is
//! audited in the transaction that makes it.

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Caller, JsonBody};
use crate::query::Params;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use kyoyu_app::admin::{self as ops, TokenRequest};
use kyoyu_app::directory::{self, OrgBody, SectorBody, UserBody};
use kyoyu_app::views::{
    AuditList, DependencyList, Me, NewToken, OrgList, PasswordChanged, SectorList, ServiceLevelRuleList, SessionView,
    TokenList, Unlocked, UserList,
};
use kyoyu_domain::FieldError;
use kyoyu_store::{OrgRow, SectorRow, ServiceLevelRuleRow, UserRow};
use serde::Deserialize;
use utoipa::IntoParams;

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
    #[schema(required = true, nullable = false)]
    login: Option<String>,
    #[schema(required = true, nullable = false)]
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
) -> Result<kyoyu_app::login::Attempt<'a>, FieldError> {
    Ok(kyoyu_app::login::Attempt {
        login: login.as_deref().ok_or_else(|| FieldError::required("login"))?,
        password: password.as_deref().ok_or_else(|| FieldError::required("password"))?,
        code: totp.as_deref(),
        address,
        door: kyoyu_app::login::Door::Session,
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
    let (token, row) = directory::sign_in(&state.app, attempt, "session").await?;
    Ok((StatusCode::CREATED, Json(SessionView { token, expires_at: row.expires_at })))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordBody {
    #[schema(required = true, nullable = false)]
    login: Option<String>,
    #[schema(required = true, nullable = false)]
    password: Option<String>,
    totp: Option<String>,
    #[schema(required = true, nullable = false)]
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
    let user = state.app.logins.change_password(&state.store, attempt, new).await?;
    Ok(Json(PasswordChanged { user_id: user.id, changed: true }))
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
    JsonBody(body): JsonBody<OrgBody>,
) -> ApiResult<(StatusCode, Json<OrgRow>)> {
    Ok((StatusCode::CREATED, Json(directory::create_org(&state.app, &caller, body).await?)))
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
    JsonBody(body): JsonBody<OrgBody>,
) -> ApiResult<Json<OrgRow>> {
    Ok(Json(directory::update_org(&state.app, &caller, &id, body).await?))
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
    JsonBody(body): JsonBody<UserBody>,
) -> ApiResult<(StatusCode, Json<UserRow>)> {
    Ok((StatusCode::CREATED, Json(directory::create_user(&state.app, &caller, body).await?)))
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
    JsonBody(body): JsonBody<UserBody>,
) -> ApiResult<Json<UserRow>> {
    Ok(Json(directory::update_user(&state.app, &caller, &id, body).await?))
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
    JsonBody(body): JsonBody<SectorBody>,
) -> ApiResult<Json<SectorRow>> {
    Ok(Json(directory::put_sector(&state.app, &caller, &code, body).await?))
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
    JsonBody(rule): JsonBody<Option<ServiceLevelRuleRow>>,
) -> ApiResult<Json<ServiceLevelRuleRow>> {
    Ok(Json(directory::put_service_level_rule(&state.app, &caller, &id, rule).await?))
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
    JsonBody(body): JsonBody<Option<DependencyList>>,
) -> ApiResult<Json<DependencyList>> {
    Ok(Json(directory::put_dependencies(&state.app, &caller, body).await?))
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
    params(AuditParams),
    responses((status = 200, description = "OK", body = AuditList), (status = 403, description = "the caller's role may not do this / 権限がありません", body = ErrorBody)),
)]
pub async fn list_audit(
    State(state): State<AppState>,
    caller: Caller,
    Params(query): Params<AuditParams>,
) -> ApiResult<Json<AuditList>> {
    let page = crate::query::page(query.limit, query.offset, None)?;
    let filter = ops::AuditQuery {
        action: query.action,
        actor_org_id: query.actor_org_id,
        object_id: query.object_id,
        since: query.since,
        until: query.until,
    };
    Ok(Json(ops::list_audit(&state.app, &caller, &filter, page).await?))
}

/// A page of the audit log, narrowed.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditParams {
    /// How many entries (1 to 100, default 50) / 件数
    #[param(minimum = 1, maximum = 100)]
    limit: Option<i64>,
    /// How many entries to skip / 読み飛ばす件数
    #[param(minimum = 0, maximum = 1_000_000)]
    offset: Option<i64>,
    /// Only this action (`report.file`, `user.update` …) / 操作
    action: Option<String>,
    /// Only what this organisation's users did / 操作した組織
    actor_org_id: Option<String>,
    /// Only entries about this object / 対象
    object_id: Option<String>,
    /// From this JST day (YYYY-MM-DD) / この日から
    since: Option<String>,
    /// To this JST day, included (YYYY-MM-DD) / この日まで
    until: Option<String>,
}
