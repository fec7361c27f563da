//! Who is who, as administration reads it, and users' API tokens. Every change is audited in
//! the transaction that makes it. (Creating and editing organisations, users and reference
//! data is still in the JSON API's handlers.)

use crate::reads::Page;
use crate::views::{
    AuditList, Dependency, DependencyList, Me, NewToken, OrgList, OrgView, SectorList, ServiceLevelRuleList, TokenList,
    Unlocked, UserList,
};
use crate::{auth, App, AppError, AppResult, Caller};
use kyoyu_domain::codes::Role;
use kyoyu_store::{new_id, now, TokenRow, Tx};
use serde::Deserialize;
use serde_json::json;

/// The directory of organisations, so senders can name receivers. What identifies an
/// organisation beyond its names is for system administrators only.
pub async fn list_orgs(app: &App, caller: &Caller) -> AppResult<OrgList> {
    let full = caller.principal().has_role(Role::SystemAdmin);
    let items = app.store.list_orgs().await?.into_iter().map(|o| OrgView::new(o, full)).collect();
    Ok(OrgList { items })
}

/// Who the caller is.
pub fn me(caller: &Caller) -> Me {
    Me {
        user: caller.user().clone(),
        org: OrgView::new(caller.org().clone(), false),
        relay_officer: caller.principal().is_relay_officer(),
    }
}

/// The sectors, each with the ministry that has jurisdiction over it.
pub async fn list_sectors(app: &App) -> AppResult<SectorList> {
    Ok(SectorList { items: app.store.list_sectors().await? })
}

pub async fn list_service_level_rules(app: &App) -> AppResult<ServiceLevelRuleList> {
    Ok(ServiceLevelRuleList { items: app.store.list_service_level_rules().await? })
}

pub async fn list_dependencies(app: &App) -> AppResult<DependencyList> {
    let items = app.store.list_dependencies().await?;
    Ok(DependencyList {
        items: items.into_iter().map(|(sector, depends_on)| Dependency { sector, depends_on }).collect(),
    })
}

/// The users of an organisation (the caller's own by default).
pub async fn list_users(app: &App, caller: &Caller, org_id: Option<&str>) -> AppResult<UserList> {
    let org_id = org_id.unwrap_or(caller.org_id());
    kyoyu_policy::check_user_admin(caller.principal(), org_id)?;
    Ok(UserList { items: app.store.list_users(Some(org_id)).await? })
}

/// A user's tokens: the user's own, or as their organisation's admin.
pub async fn list_tokens(app: &App, caller: &Caller, user_id: &str) -> AppResult<TokenList> {
    let user = app.store.get_user(user_id).await?.ok_or(AppError::NotFound)?;
    if user.id != caller.user().id {
        kyoyu_policy::check_user_admin(caller.principal(), &user.org_id)?;
    }
    Ok(TokenList { items: app.store.list_tokens(&user.id).await? })
}

/// Issues a token in the transaction given, and audits it; the token is shown only now.
pub async fn issue_token(
    tx: &mut Tx,
    user_id: &str,
    label: &str,
    kind: &str,
    expires_at: Option<String>,
) -> AppResult<(String, TokenRow)> {
    let token = auth::new_token();
    let row = TokenRow {
        id: new_id(),
        kind: kind.into(),
        user_id: user_id.into(),
        label: label.into(),
        expires_at,
        revoked_at: None,
        created_at: now(),
    };
    tx.insert_token(&row, &auth::token_hash(&token)).await?;
    tx.audit("token.create", "user", user_id, json!({"token_id": row.id, "label": label})).await?;
    Ok((token, row))
}

/// A new API token's label and lifetime.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    pub label: Option<String>,
    pub expires_in_days: Option<u16>,
}

/// Mints an API token for the caller: a token minted for someone else would let its maker
/// act as them, so administrators only list and revoke.
pub async fn create_token(app: &App, caller: &Caller, user_id: &str, request: TokenRequest) -> AppResult<NewToken> {
    let mut tx = app.store.begin(caller.actor()).await?;
    let user = tx.get_user(user_id).await?.ok_or(AppError::NotFound)?;
    if user.id != caller.user().id {
        kyoyu_policy::check_user_admin(caller.principal(), &user.org_id)?;
        return Err(AppError::forbidden(
            "API トークンは本人だけが発行できます（管理者は一覧と失効ができます）",
            "only its owner mints an API token; administrators list and revoke them",
        ));
    }
    let expires = request
        .expires_in_days
        .map(|d| kyoyu_store::timestamp(chrono::Utc::now() + chrono::Duration::days(i64::from(d.max(1)))));
    let label = request.label.as_deref().unwrap_or("api");
    let (token, row) = issue_token(&mut tx, &user.id, label, "api", expires).await?;
    tx.commit().await?;
    Ok(NewToken { id: row.id, token, label: row.label, expires_at: row.expires_at })
}

pub async fn revoke_token(app: &App, caller: &Caller, user_id: &str, token_id: &str) -> AppResult<()> {
    let mut tx = app.store.begin(caller.actor()).await?;
    let user = tx.get_user(user_id).await?.ok_or(AppError::NotFound)?;
    if user.id != caller.user().id {
        kyoyu_policy::check_user_admin(caller.principal(), &user.org_id)?;
    }
    tx.revoke_token(token_id, &user.id, &now()).await?;
    tx.audit("token.revoke", "user", &user.id, json!({"token_id": token_id})).await?;
    tx.commit().await?;
    Ok(())
}

/// Lifts every log-in throttle on a user's account (an organisation's or system administrator).
pub async fn unlock_user(app: &App, caller: &Caller, id: &str) -> AppResult<Unlocked> {
    let mut tx = app.store.begin(caller.actor()).await?;
    let user = tx.get_user(id).await?.ok_or(AppError::NotFound)?;
    kyoyu_policy::check_user_admin(caller.principal(), &user.org_id)?;
    let lifted = tx.unlock_user(&user.id).await?;
    tx.audit("user.unlock", "user", &user.id, json!({"throttles": lifted})).await?;
    tx.commit().await?;
    Ok(Unlocked { user_id: user.id, throttles_lifted: lifted })
}

/// The audit log, newest first, as system administration may see it.
/// Which audit entries to list: by action, by the acting organisation, by object, and by JST
/// days (both ends included).
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub action: Option<String>,
    pub actor_org_id: Option<String>,
    pub object_id: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
}

pub async fn list_audit(app: &App, caller: &Caller, q: &AuditQuery, page: Page) -> AppResult<AuditList> {
    kyoyu_policy::check_system_admin(caller.principal())?;
    let (since, until) = crate::reads::jst_days(q.since.as_deref(), q.until.as_deref())?;
    let filter = kyoyu_store::AuditFilter {
        action: q.action.clone(),
        actor_org_id: q.actor_org_id.clone(),
        object_id: q.object_id.clone(),
        since,
        until,
    };
    let entries = app.store.list_audit(&filter, caller.org_id(), page.limit, page.offset).await?;
    Ok(AuditList { items: entries.into_iter().map(|e| e.for_viewer(caller.org_id())).collect() })
}
