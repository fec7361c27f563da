//! The audit log: append-only, each entry carrying the hash of the one before, so that an
//! altered or deleted row shows when the chain is verified.

use crate::inserts::Insert;
use crate::{now, Conn, Get, Result, Store, Tx};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::QueryBuilder;

const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What an audit listing narrows to; `since`/`until` are RFC 3339 (`until` excluded).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuditFilter {
    pub action: Option<String>,
    pub actor_org_id: Option<String>,
    pub object_id: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AuditEntry {
    pub seq: i64,
    pub at: String,
    pub actor_user_id: Option<String>,
    pub actor_org_id: Option<String>,
    pub action: String,
    pub object_type: String,
    pub object_id: String,
    pub detail: serde_json::Value,
    pub prev_hash: String,
    pub hash: String,
    /// The anonymous operator this entry concerns; see [`AuditEntry::for_viewer`].
    #[serde(skip)]
    pub concealed: Option<crate::Concealed>,
}

impl AuditEntry {
    /// The entry as a viewer in `org` may see it: for an anonymised chain, outside its
    /// operator and secretariat, who acted and what the detail says are withheld.
    pub fn for_viewer(mut self, org: &str) -> AuditEntry {
        if self.concealed.as_ref().is_some_and(|c| !c.visible_to(org)) {
            self.actor_user_id = None;
            self.actor_org_id = None;
            self.detail = serde_json::json!({"concealed": true});
        }
        self
    }
}

/// The first entry that does not verify, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditProblem {
    pub seq: i64,
    pub reason: String,
}

fn entry_hash(e: &AuditEntry) -> String {
    let mut h = Sha256::new();
    for part in [
        e.prev_hash.as_str(),
        &e.seq.to_string(),
        &e.at,
        e.actor_user_id.as_deref().unwrap_or(""),
        e.actor_org_id.as_deref().unwrap_or(""),
        &e.action,
        &e.object_type,
        &e.object_id,
        &e.detail.to_string(),
    ] {
        h.update(part.as_bytes());
        h.update([0x1f]);
    }
    // Entries from before concealment existed hash as they always did.
    if let Some(c) = &e.concealed {
        for part in [c.org_id.as_str(), c.secretariat_id.as_deref().unwrap_or("")] {
            h.update(part.as_bytes());
            h.update([0x1f]);
        }
    }
    hex::encode(h.finalize())
}

/// An entry recorded by a transaction, chained when its batch commits.
pub(crate) struct PendingAudit {
    at: String,
    actor: crate::Actor,
    action: String,
    object_type: String,
    object_id: String,
    detail: serde_json::Value,
    concealed: Option<crate::Concealed>,
}

impl Tx {
    /// Records one entry in this transaction: it commits with the change it records, chained
    /// with the rest of its batch (see `append`).
    pub async fn audit(
        &mut self,
        action: &str,
        object_type: &str,
        object_id: &str,
        detail: serde_json::Value,
    ) -> Result<()> {
        self.audit.push(PendingAudit {
            at: now(),
            actor: self.actor.clone(),
            action: action.into(),
            object_type: object_type.into(),
            object_id: object_id.into(),
            detail,
            concealed: self.concealed.clone(),
        });
        Ok(())
    }
}

/// Chains a batch's entries onto the log: the head is read once (on PostgreSQL locked, so
/// batches from several processes queue up and the chain stays one); [`inserts`] then writes
/// the entries in multi-row inserts and moves the head once.
pub(crate) async fn chain(mut conn: Conn<'_>, pending: Vec<PendingAudit>) -> Result<Vec<AuditEntry>> {
    if pending.is_empty() {
        return Ok(Vec::new());
    }
    let head: Option<(i64, String)> = match conn.re() {
        Conn::Sqlite(c) => {
            sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1").fetch_optional(&mut *c).await?
        }
        Conn::Postgres(c) => {
            sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE").fetch_optional(&mut *c).await?
        }
    };
    let (mut seq, mut prev_hash) = head.unwrap_or((0, GENESIS.to_string()));
    Ok(pending
        .into_iter()
        .map(|p| {
            seq += 1;
            let mut e = AuditEntry {
                seq,
                at: p.at,
                actor_user_id: p.actor.user_id,
                actor_org_id: p.actor.org_id,
                action: p.action,
                object_type: p.object_type,
                object_id: p.object_id,
                detail: p.detail,
                prev_hash: std::mem::take(&mut prev_hash),
                hash: String::new(),
                concealed: p.concealed,
            };
            e.hash = entry_hash(&e);
            prev_hash = e.hash.clone();
            e
        })
        .collect())
}

/// The inserts that append chained entries and move the head to the last of them.
pub(crate) fn inserts(entries: &[AuditEntry]) -> Vec<Insert<'_>> {
    let Some(last) = entries.last() else { return Vec::new() };
    // Twelve parameters a row: well under both databases' limits.
    let mut all = Insert::of(
        "INSERT INTO audit_log (seq, at, actor_user_id, actor_org_id, action, object_type, object_id, detail, prev_hash, hash, conceal_org_id, conceal_secretariat_id) ",
        entries,
        1024,
        |e| {
            let concealed = e.concealed.as_ref();
            [
                e.seq.into(),
                e.at.as_str().into(),
                e.actor_user_id.as_deref().into(),
                e.actor_org_id.as_deref().into(),
                e.action.as_str().into(),
                e.object_type.as_str().into(),
                e.object_id.as_str().into(),
                e.detail.to_string().into(),
                e.prev_hash.as_str().into(),
                e.hash.as_str().into(),
                concealed.map(|c| c.org_id.as_str()).into(),
                concealed.and_then(|c| c.secretariat_id.as_deref()).into(),
            ]
        },
    );
    let mut head = Insert::new("INSERT INTO audit_head (id, seq, hash) ", 3)
        .then(" ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash");
    head.row([1i64.into(), last.seq.into(), last.hash.as_str().into()]);
    all.push(head);
    all
}

fn entry_from_row(r: &impl Get) -> Result<AuditEntry> {
    let detail = r.text("detail")?;
    Ok(AuditEntry {
        seq: r.int("seq")?,
        at: r.text("at")?,
        actor_user_id: r.opt_text("actor_user_id")?,
        actor_org_id: r.opt_text("actor_org_id")?,
        action: r.text("action")?,
        object_type: r.text("object_type")?,
        object_id: r.text("object_id")?,
        // A detail that no longer parses was altered; keep it as text so its hash fails.
        detail: serde_json::from_str(&detail).unwrap_or(serde_json::Value::String(detail)),
        prev_hash: r.text("prev_hash")?,
        hash: r.text("hash")?,
        concealed: crate::concealed_from_row(r)?,
    })
}

impl Store {
    /// Newest first.
    /// Entries newest first, narrowed by `f`, as a viewer in `viewer_org` may find them: an
    /// entry whose actor is withheld from the viewer (an anonymised chain's) never matches a
    /// filter on the actor, or the filter would tell who acted.
    pub async fn list_audit(
        &self,
        f: &AuditFilter,
        viewer_org: &str,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<AuditEntry>> {
        let (limit, offset) = (limit.clamp(1, crate::MAX_PAGE), offset.max(0));
        on!(self.read().await?.conn(), c => {
            let mut qb = QueryBuilder::new("SELECT * FROM audit_log WHERE 1 = 1");
            if let Some(action) = &f.action {
                qb.push(" AND action = ").push_bind(action.clone());
            }
            if let Some(object) = &f.object_id {
                qb.push(" AND object_id = ").push_bind(object.clone());
            }
            if let Some(org) = &f.actor_org_id {
                qb.push(" AND actor_org_id = ").push_bind(org.clone());
                qb.push(" AND (conceal_org_id IS NULL OR conceal_org_id = ").push_bind(viewer_org.to_string());
                qb.push(" OR conceal_secretariat_id = ").push_bind(viewer_org.to_string()).push(")");
            }
            if let Some(since) = &f.since {
                qb.push(" AND at >= ").push_bind(since.clone());
            }
            if let Some(until) = &f.until {
                qb.push(" AND at < ").push_bind(until.clone());
            }
            qb.push(" ORDER BY seq DESC LIMIT ").push_bind(limit).push(" OFFSET ").push_bind(offset);
            qb.build().fetch_all(&mut *c).await?.iter().map(entry_from_row).collect()
        })
    }

    /// Walks the whole chain. `Ok(Ok(n))` with the number of entries when it holds;
    /// `Ok(Err(problem))` names the first entry that does not.
    pub async fn verify_audit(&self, mut progress: impl FnMut(i64, i64)) -> Result<Result<i64, AuditProblem>> {
        let mut pooled = self.read().await?;
        let mut conn = pooled.conn();
        let total: i64 =
            on!(conn.re(), c => sqlx::query_scalar("SELECT COUNT(*) FROM audit_log").fetch_one(&mut *c).await?);
        let head: Option<(i64, String)> = on!(conn.re(), c => sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1").fetch_optional(&mut *c).await?);
        let mut expected_prev = GENESIS.to_string();
        let mut expected_seq = 1;
        let mut after = 0i64;
        loop {
            let sql = "SELECT * FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT 5000";
            let rows: Vec<AuditEntry> = on!(conn.re(), c => sqlx::query(sql).bind(after).fetch_all(&mut *c).await?.iter().map(entry_from_row).collect::<Result<Vec<_>>>()?);
            if rows.is_empty() {
                break;
            }
            for e in rows {
                let problem = |reason: &str| Ok(Err(AuditProblem { seq: e.seq, reason: reason.into() }));
                if e.seq != expected_seq {
                    return Ok(Err(AuditProblem {
                        seq: expected_seq,
                        reason: format!("entry {expected_seq} is missing (next stored is {})", e.seq),
                    }));
                }
                if e.prev_hash != expected_prev {
                    return problem("previous-hash link is broken");
                }
                if entry_hash(&e) != e.hash {
                    return problem("entry was altered (hash does not match its content)");
                }
                expected_prev = e.hash.clone();
                expected_seq += 1;
                after = e.seq;
            }
            progress(after, total);
        }
        let last = expected_seq - 1;
        match head {
            Some((seq, hash)) if seq != last || hash != expected_prev => Ok(Err(AuditProblem {
                seq: last + 1,
                reason: format!("entries after {last} were deleted (the head records entry {seq})"),
            })),
            None if last > 0 => Ok(Err(AuditProblem { seq: 1, reason: "the head record is missing".into() })),
            _ => Ok(Ok(last)),
        }
    }
}
