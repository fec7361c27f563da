//! Who an operation runs as, and the read scope that follows from it.
//!
//! Both are proofs: storage runs no item query without a [`ReadScope`], and every check takes
//! a [`Principal`]. Neither can be built field by field outside this crate. Only the holder of
//! the process's one [`Authority`] (the application layer, which checks credentials) turns an
//! [`Account`] into a principal, so an adapter cannot run an operation as anyone but who
//! signed in, nor read as another user.

use crate::{reads_items, OrgFacts, Refusal};
use kyoyu_domain::codes::{OrgKind, Role};
use std::sync::atomic::{AtomicBool, Ordering};

/// What the application layer read about a user whose credentials it checked.
#[derive(Debug, Clone)]
pub struct Account {
    pub user_id: String,
    pub org: OrgFacts,
    pub roles: Vec<Role>,
    pub need_to_know: bool,
}

/// An authenticated user with their organisation. Made only by [`Authority::signed_in`]:
///
/// ```compile_fail,E0451
/// # use kyoyu_policy::*;
/// # let org = OrgFacts { id: "op1".into(), kind: kyoyu_domain::codes::OrgKind::Operator, sector: None, analysis_partner: false };
/// let forged = Principal { user_id: "u".into(), org, roles: vec![], need_to_know: true };
/// ```
#[derive(Debug, Clone)]
pub struct Principal {
    pub(crate) user_id: String,
    pub(crate) org: OrgFacts,
    pub(crate) roles: Vec<Role>,
    pub(crate) need_to_know: bool,
}

impl Principal {
    pub fn user_id(&self) -> &str {
        &self.user_id
    }

    pub fn org(&self) -> &OrgFacts {
        &self.org
    }

    pub fn roles(&self) -> &[Role] {
        &self.roles
    }

    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// The officer who relays for the organisation: a ministry's liaison, a CEPTOAR's
    /// secretariat, the coordinator's CIP desk, or the organisation's admin. Any user of an
    /// operator acts for it.
    pub fn is_relay_officer(&self) -> bool {
        let officer = match self.org.kind {
            OrgKind::Ministry => Role::Liaison,
            OrgKind::Ceptoar => Role::Secretariat,
            OrgKind::Coordinator => Role::CipDesk,
            OrgKind::Operator => return true,
            _ => Role::Admin,
        };
        self.has_role(officer) || self.has_role(Role::Admin)
    }

    /// The scope of this user's own reads.
    pub fn read_scope(&self) -> ReadScope {
        ReadScope::of(&self.user_id, &self.org, self.need_to_know)
    }
}

/// Proof that a read is scoped to one user. Made only from a [`Principal`], or by
/// [`Authority::digest_scope`] for a digest's recipient.
#[derive(Debug, Clone)]
pub struct ReadScope {
    org_id: String,
    user_id: String,
    need_to_know: bool,
    reads_items: bool,
}

impl ReadScope {
    fn of(user_id: &str, org: &OrgFacts, need_to_know: bool) -> ReadScope {
        ReadScope { org_id: org.id.clone(), user_id: user_id.to_owned(), need_to_know, reads_items: reads_items(org) }
    }

    pub fn org_id(&self) -> &str {
        &self.org_id
    }

    pub fn user_id(&self) -> &str {
        &self.user_id
    }

    /// Whether the user may read items that need need-to-know (RED, AMBER, AMBER+STRICT).
    pub fn need_to_know(&self) -> bool {
        self.need_to_know
    }

    /// False for system administration, which reads no item, not even community ones.
    pub fn reads_items(&self) -> bool {
        self.reads_items
    }
}

/// The one value in a process that makes principals. [`Authority::claim`] hands it out once;
/// the application layer takes it at start, so any other crate that tries gets nothing.
#[derive(Debug)]
pub struct Authority {
    _sealed: (),
}

static CLAIMED: AtomicBool = AtomicBool::new(false);

impl Authority {
    /// The authority, the first time it is asked for in this process; `None` afterwards.
    pub fn claim() -> Option<Authority> {
        (!CLAIMED.swap(true, Ordering::SeqCst)).then_some(Authority { _sealed: () })
    }

    /// The principal of an account whose credentials the caller has checked.
    pub fn signed_in(&self, account: Account) -> Principal {
        Principal {
            user_id: account.user_id,
            org: account.org,
            roles: account.roles,
            need_to_know: account.need_to_know,
        }
    }

    /// Reading on another user's behalf, for the digest of their notifications: only system
    /// administration sends digests, and what it gets is the recipient's read scope alone,
    /// never a principal that could act as them.
    pub fn digest_scope(&self, sender: &Principal, recipient: &Account) -> Result<ReadScope, Refusal> {
        crate::check_system_admin(sender)?;
        Ok(ReadScope::of(&recipient.user_id, &recipient.org, recipient.need_to_know))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_authority_is_handed_out_once() {
        let first = Authority::claim();
        assert!(first.is_some());
        assert!(Authority::claim().is_none());
    }
}
