//! Who an operation runs as: an authenticated user with their organisation.

use crate::login::Attempt;
use crate::world::World;
use crate::{App, AppError, AppResult};
use kyoyu_policy::{Account, Authority, Principal, ReadScope};
use kyoyu_store::{OrgRow, UserRow};
use std::sync::{Arc, LazyLock};

/// The authenticated user. Every operation takes one, and the read scope it yields is the
/// only key to item queries. Only this crate makes one, from a token or a password it has
/// checked itself (or for a digest's recipient), so no adapter can run an operation as
/// anyone but who signed in.
#[derive(Clone)]
pub struct Caller {
    principal: Principal,
    user: UserRow,
    org: OrgRow,
    /// The hash of the session token the caller came with (none for HTTP Basic).
    session_hash: Option<String>,
    /// The reference data the caller was found in, read with the token: what the request's
    /// views decide actions against, without reading the version again.
    world: Option<Arc<World>>,
}

impl Caller {
    /// The caller behind a session or API token; with `web_only` (the web UI's cookie), only
    /// a web session's token, so an API token never opens the web UI.
    pub async fn by_token(app: &App, token: &str, web_only: bool) -> AppResult<Caller> {
        let hash = crate::auth::token_hash(token.trim());
        let found = app.store.token_holder(&hash, &kyoyu_store::now(), web_only).await?;
        let holder = found.ok_or(AppError::Unauthenticated)?;
        let world = World::at(&app.world, &app.store, holder.reference_version).await?;
        let (user, org) = match world.user_with_org(&holder.user_id) {
            Some((user, org)) => (user.clone(), org.clone()),
            // Users are never deleted, so every copy holds the token's holder; should one not,
            // the store answers rather than refusing a valid token.
            None => app.store.user_with_org(&holder.user_id).await?.ok_or(AppError::Unauthenticated)?,
        };
        let principal = principal(&user, &org);
        Ok(Caller { principal, user, org, session_hash: Some(hash), world: Some(world) })
    }

    /// The reference data this request decides against: the copy the caller was found in,
    /// else the current one.
    pub async fn world(&self, app: &App) -> AppResult<Arc<World>> {
        match &self.world {
            Some(world) => Ok(world.clone()),
            None => app.world_for_read().await,
        }
    }

    /// The caller behind a log-in and password (HTTP Basic for TAXII clients).
    pub async fn by_password(app: &App, attempt: Attempt<'_>) -> AppResult<Caller> {
        let (user, reference_version) = app.logins.authenticate(&app.store, attempt).await?;
        let world = World::at(&app.world, &app.store, reference_version).await?;
        let org = match world.org(&user.org_id) {
            Some(org) => org.clone(),
            // As for a token: organisations are never deleted, but the store answers if one is missing.
            None => app.store.get_org(&user.org_id).await?.ok_or(AppError::Unauthenticated)?,
        };
        Ok(Caller { principal: principal(&user, &org), user, org, session_hash: None, world: Some(world) })
    }

    pub fn principal(&self) -> &Principal {
        &self.principal
    }

    pub fn user(&self) -> &UserRow {
        &self.user
    }

    pub fn org(&self) -> &OrgRow {
        &self.org
    }

    pub fn session_hash(&self) -> Option<&str> {
        self.session_hash.as_deref()
    }

    /// What another user may read, for work done on their behalf (their digest): the policy
    /// yields only their read scope, never a caller that could act as them.
    pub(crate) fn scope_on_behalf_of(&self, user: &UserRow, org: &OrgRow) -> AppResult<ReadScope> {
        Ok(AUTHORITY.digest_scope(&self.principal, &account(user, org))?)
    }

    pub fn scope(&self) -> ReadScope {
        self.principal.read_scope()
    }

    pub fn actor(&self) -> kyoyu_store::Actor {
        kyoyu_store::Actor { user_id: Some(self.user.id.clone()), org_id: Some(self.org.id.clone()) }
    }

    pub fn org_id(&self) -> &str {
        &self.org.id
    }
}

/// The process's one maker of principals (see [`Authority`]): this crate claims it first.
static AUTHORITY: LazyLock<Authority> =
    LazyLock::new(|| Authority::claim().expect("only the application layer claims the policy's authority"));

/// Takes the authority before any adapter code runs, so nobody else can claim it.
pub(crate) fn claim_authority() {
    LazyLock::force(&AUTHORITY);
}

/// The policy's view of a user whose credentials were checked.
fn principal(user: &UserRow, org: &OrgRow) -> Principal {
    AUTHORITY.signed_in(account(user, org))
}

fn account(user: &UserRow, org: &OrgRow) -> Account {
    Account { user_id: user.id.clone(), org: org.facts(), roles: user.roles.clone(), need_to_know: user.need_to_know }
}

#[cfg(test)]
mod tests {
    #[test]
    fn no_one_else_gets_the_authority_once_the_application_holds_it() {
        super::claim_authority();
        assert!(kyoyu_policy::Authority::claim().is_none());
    }
}
