//! Who an operation runs as: an authenticated user with their organisation.

use kyoyu_policy::{Principal, ReadScope};
use kyoyu_store::{OrgRow, UserRow};

/// The authenticated user. Every operation takes one, and the read scope it yields is the
/// only key to item queries.
#[derive(Clone)]
pub struct Caller {
    pub principal: Principal,
    pub user: UserRow,
    pub org: OrgRow,
    /// The hash of the session token the caller came with (none for HTTP Basic).
    pub session_hash: Option<String>,
}

impl Caller {
    /// The caller behind a user and organisation the adapter authenticated.
    pub fn authenticated(user: UserRow, org: OrgRow, session_hash: Option<String>) -> Caller {
        Caller { principal: principal(&user, &org), user, org, session_hash }
    }

    /// Another user, for work done on their behalf (their digest): only this crate makes one,
    /// so no adapter reads as anyone but who signed in.
    pub(crate) fn on_behalf_of(user: UserRow, org: OrgRow) -> Caller {
        Caller { principal: principal(&user, &org), user, org, session_hash: None }
    }

    pub fn scope(&self) -> ReadScope {
        kyoyu_policy::read_scope(&self.principal)
    }

    pub fn actor(&self) -> kyoyu_store::Actor {
        kyoyu_store::Actor { user_id: Some(self.user.id.clone()), org_id: Some(self.org.id.clone()) }
    }

    pub fn org_id(&self) -> &str {
        &self.org.id
    }
}

/// The policy's view of a user.
pub fn principal(user: &UserRow, org: &OrgRow) -> Principal {
    Principal { user_id: user.id.clone(), org: org.facts(), roles: user.roles.clone(), need_to_know: user.need_to_know }
}
