//! The user's notifications, digests, the mail outbox, and suggested advisory recipients.

use crate::error::{ApiError, ApiResult};
use crate::extract::Caller;
use crate::notify::{self, Notice};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::Json;
use kyoyu_domain::codes::{Cause, EventType, SystemStatus};
use kyoyu_domain::Tlp;
use serde_json::{json, Value};
use std::collections::{BTreeSet, HashMap};

pub async fn list_notifications(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    crate::query::only(&q, &["unread"])?;
    let unread = crate::query::flag(&q, "unread")?;
    let items = state.store.list_notifications(&caller.scope(), unread, 100).await?;
    Ok(Json(json!({"items": items})))
}

pub async fn mark_all_read(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Value>> {
    let mut tx = state.store.begin(caller.actor()).await?;
    tx.mark_notifications_read(&caller.user.id, &kyoyu_store::now()).await?;
    tx.audit("notifications.read", "user", &caller.user.id, json!({})).await?;
    tx.commit().await?;
    Ok(Json(json!({"ok": true})))
}

/// Mail is run by system administration alone: addresses and subjects are about who is told
/// what, which is not the coordinator's to see.
/// The outbox, so system administration sees mail that has not gone out and why. Mail about
/// an anonymised chain is not listed (see `Store::list_outbox`).
pub async fn list_outbox(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    kyoyu_policy::check_system_admin(&caller.principal)?;
    crate::query::only(&q, &["unsent"])?;
    let unsent = crate::query::flag(&q, "unsent")?;
    let items: Vec<Value> = state
        .store
        .list_outbox(caller.org_id(), unsent, 100)
        .await?
        .into_iter()
        .map(|m| {
            json!({"id": m.id, "to_address": m.to_address, "subject": m.subject, "attempts": m.attempts,
                   "next_attempt_at": m.next_attempt_at, "last_error": m.last_error, "sent_at": m.sent_at,
                   "created_at": m.created_at})
        })
        .collect();
    Ok(Json(json!({"items": items})))
}

/// Sends every user a digest of their unread notifications, built with the same policy as
/// the list: what a user can no longer read is not in it.
pub async fn send_digests(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Value>> {
    kyoyu_policy::check_system_admin(&caller.principal)?;
    let mut sent = 0;
    for user in state.store.list_users(None).await?.into_iter().filter(|u| u.active) {
        let Some((user, org)) = state.store.user_with_org(&user.id).await? else { continue };
        let principal = kyoyu_app::caller::principal(&user, &org);
        let scope = kyoyu_policy::read_scope(&principal);
        let unread = state.store.list_notifications(&scope, true, 100).await?;
        if unread.is_empty() {
            continue;
        }
        let lines: Vec<String> = unread.iter().map(|n| format!("- {} ({})", n.subject, n.created_at)).collect();
        let mut tx = state.store.begin(caller.actor()).await?;
        // A digest that counts a notice about an anonymised chain is itself concealed.
        if let Some(c) = unread.iter().find_map(|n| n.concealed.clone()) {
            tx.conceal(c);
        }
        let notice = Notice {
            kind: "digest",
            object_type: "digest",
            object_id: &user.id,
            subject: format!("[kyoyu] 未読 {} 件 / {} unread", unread.len(), unread.len()),
            body: lines.join("\n"),
            tlp: Tlp::Green,
            link_path: "/api/v1/notifications".into(),
        };
        notify::notify(&mut tx, &state.app.mail, std::slice::from_ref(&user), &notice).await?;
        tx.audit("notifications.digest", "user", &user.id, json!({"items": unread.len()})).await?;
        tx.commit().await?;
        sent += 1;
    }
    Ok(Json(json!({"digests": sent})))
}

/// Downstream sectors of a report that stopped a service or spilled over (domain.md §10):
/// every sector that depends, directly or through others, on the report's sector.
pub async fn suggest_recipients(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let report = state.store.get_report(&caller.scope(), &id).await?.ok_or(ApiError::NotFound)?;
    let c = &report.content;
    let stopped = c.event_type == Some(EventType::ServiceUnavailable)
        || c.impact.system_status == Some(SystemStatus::Stopped)
        || c.causes.contains(&Cause::CrossSectorSpillover);
    let mut sectors = BTreeSet::new();
    if stopped {
        let edges = state.store.list_dependencies().await?;
        let mut frontier = vec![c.sector.clone()];
        while let Some(s) = frontier.pop() {
            for (dependent, _) in edges.iter().filter(|(_, on)| *on == s) {
                if *dependent != c.sector && sectors.insert(dependent.clone()) {
                    frontier.push(dependent.clone());
                }
            }
        }
    }
    Ok(Json(json!({"report_id": report.id, "sector": c.sector, "sectors": sectors})))
}
