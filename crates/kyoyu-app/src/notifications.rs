//! The user's notifications, digests, the mail outbox, and suggested advisory recipients.

use crate::notify::{self, Notice, Subject};
use crate::views::{
    Count, Done, NotificationList, NotificationSettings, NotificationSettingsRequest, OutboxList, OutboxView, Sent,
    Suggestion,
};
use crate::{App, AppError, AppResult, Caller};
use kyoyu_domain::codes::{Cause, EventType, SystemStatus};
use kyoyu_domain::FieldError;
use kyoyu_domain::Tlp;
use serde_json::json;
use std::collections::BTreeSet;

/// The user's notifications, newest first: only those whose item the user may still read.
pub async fn list_notifications(app: &App, caller: &Caller, unread: bool) -> AppResult<NotificationList> {
    Ok(NotificationList { items: app.store.list_notifications(&caller.scope(), unread, 100).await? })
}

/// The most a notification count counts: a badge shows "99+" beyond it.
pub const COUNT_CAP: i64 = 100;

/// How many notifications the list would show (unread ones with `unread`), up to
/// [`COUNT_CAP`].
pub async fn count_notifications(app: &App, caller: &Caller, unread: bool) -> AppResult<Count> {
    Ok(Count { count: app.store.count_notifications(&caller.scope(), unread, COUNT_CAP).await? })
}

/// How the caller is told by mail.
pub async fn notification_settings(app: &App, caller: &Caller) -> AppResult<NotificationSettings> {
    Ok(NotificationSettings { mode: app.store.notify_mode(&caller.user().id).await? })
}

/// The caller chooses how they are told by mail: every notification at once, or only the
/// digest. In-app notifications are made either way. Each user sets their own.
pub async fn set_notification_settings(
    app: &App,
    caller: &Caller,
    body: NotificationSettingsRequest,
) -> AppResult<NotificationSettings> {
    let mode = body.mode.ok_or_else(|| FieldError::required("mode"))?;
    let mut tx = app.store.begin(caller.actor()).await?;
    tx.set_notify_mode(&caller.user().id, mode, &kyoyu_store::now()).await?;
    tx.audit("notifications.settings", "user", &caller.user().id, json!({"mode": mode.code()})).await?;
    tx.commit().await?;
    Ok(NotificationSettings { mode })
}

pub async fn mark_all_read(app: &App, caller: &Caller) -> AppResult<Done> {
    let mut tx = app.store.begin(caller.actor()).await?;
    tx.mark_notifications_read(&caller.user().id, &kyoyu_store::now()).await?;
    tx.audit("notifications.read", "user", &caller.user().id, json!({})).await?;
    tx.commit().await?;
    Ok(Done { ok: true })
}

/// The outbox, so system administration sees mail that has not gone out and why. Mail is run
/// by system administration alone: addresses and subjects are about who is told what, which
/// is not the coordinator's to see. Mail about an anonymised chain is not listed (see
/// `Store::list_outbox`).
pub async fn list_outbox(app: &App, caller: &Caller, unsent: bool) -> AppResult<OutboxList> {
    kyoyu_policy::check_system_admin(caller.principal())?;
    let rows = app.store.list_outbox(caller.org_id(), unsent, 100).await?;
    let items = rows
        .into_iter()
        .map(|m| OutboxView {
            id: m.id,
            to_address: m.to_address,
            subject: m.subject,
            attempts: m.attempts,
            next_attempt_at: m.next_attempt_at,
            last_error: m.last_error,
            sent_at: m.sent_at,
            created_at: m.created_at,
        })
        .collect();
    Ok(OutboxList { items })
}

/// Sends every user a digest of their unread notifications, built with the same policy as
/// the list: what a user can no longer read is not in it.
pub async fn send_digests(app: &App, caller: &Caller) -> AppResult<Sent> {
    kyoyu_policy::check_system_admin(caller.principal())?;
    let mut sent = 0;
    for user in app.store.list_users(None).await?.into_iter().filter(|u| u.active) {
        let Some((user, org)) = app.store.user_with_org(&user.id).await? else { continue };
        let unread = app.store.list_notifications(&caller.scope_on_behalf_of(&user, &org)?, true, 100).await?;
        if unread.is_empty() {
            continue;
        }
        let lines: Vec<String> = unread.iter().map(|n| format!("- {} ({})", n.subject, n.created_at)).collect();
        let mut tx = app.store.begin(caller.actor()).await?;
        // A digest that counts a notice about an anonymised chain is itself concealed.
        if let Some(c) = unread.iter().find_map(|n| n.concealed.clone()) {
            tx.conceal(c);
        }
        let notice = Notice {
            kind: notify::DIGEST,
            object_type: notify::DIGEST,
            object_id: &user.id,
            subject: Subject {
                both: format!("[kyoyu] 未読 {} 件 / {} unread", unread.len(), unread.len()),
                en: format!("[kyoyu] {} unread", unread.len()),
            },
            body: lines.join("\n"),
            tlp: Tlp::Green,
            link_path: "/api/v1/notifications".into(),
        };
        notify::notify(&mut tx, &app.mail, std::slice::from_ref(&user), &notice).await?;
        tx.audit("notifications.digest", "user", &user.id, json!({"items": unread.len()})).await?;
        tx.commit().await?;
        sent += 1;
    }
    Ok(Sent { digests: sent })
}

/// Downstream sectors of a report that stopped a service or spilled over (domain.md §10):
/// every sector that depends, directly or through others, on the report's sector.
pub async fn suggest_recipients(app: &App, caller: &Caller, id: &str) -> AppResult<Suggestion> {
    let report = app.store.get_report(&caller.scope(), id).await?.ok_or(AppError::NotFound)?;
    let c = &report.content;
    let stopped = c.event_type == Some(EventType::ServiceUnavailable)
        || c.impact.system_status == Some(SystemStatus::Stopped)
        || c.causes.contains(&Cause::CrossSectorSpillover);
    let mut sectors = BTreeSet::new();
    if stopped {
        let edges = app.store.list_dependencies().await?;
        let mut frontier = vec![c.sector.clone()];
        while let Some(s) = frontier.pop() {
            for (dependent, _) in edges.iter().filter(|(_, on)| *on == s) {
                if *dependent != c.sector && sectors.insert(dependent.clone()) {
                    frontier.push(dependent.clone());
                }
            }
        }
    }
    Ok(Suggestion { report_id: report.id, sector: c.sector.clone(), sectors: sectors.into_iter().collect() })
}
