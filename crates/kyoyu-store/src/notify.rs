//! In-app notifications and the mail outbox. Listing notifications joins the reader rows of
//! the item they point at, so a user who can no longer read an item no longer sees its
//! notification (and digests, built from the same query, follow suit).

use crate::{Get, Result, Store, Tx, UserRow};
use kyoyu_domain::codes::NotifyMode;
use kyoyu_policy::ReadScope;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NotificationRow {
    pub id: String,
    pub user_id: String,
    pub kind: String,
    pub object_type: String,
    pub object_id: String,
    /// Japanese and English, as mail carries it.
    pub subject: String,
    /// English alone, for pages in English; absent on notifications older than it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject_en: Option<String>,
    pub created_at: String,
    pub read_at: Option<String>,
    /// The anonymous operator this notice concerns (set by the transaction that writes it).
    #[serde(skip)]
    pub concealed: Option<crate::Concealed>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MailRow {
    pub id: String,
    pub to_address: String,
    pub subject: String,
    pub body: String,
    pub attempts: i64,
    pub next_attempt_at: String,
    pub last_error: Option<String>,
    pub sent_at: Option<String>,
    pub created_at: String,
}

fn mail_from_row(r: &impl Get) -> Result<MailRow> {
    Ok(MailRow {
        id: r.text("id")?,
        to_address: r.text("to_address")?,
        subject: r.text("subject")?,
        body: r.text("body")?,
        attempts: r.int("attempts")?,
        next_attempt_at: r.text("next_attempt_at")?,
        last_error: r.opt_text("last_error")?,
        sent_at: r.opt_text("sent_at")?,
        created_at: r.text("created_at")?,
    })
}

fn notification_from_row(r: &impl Get) -> Result<NotificationRow> {
    Ok(NotificationRow {
        id: r.text("id")?,
        user_id: r.text("user_id")?,
        kind: r.text("kind")?,
        object_type: r.text("object_type")?,
        object_id: r.text("object_id")?,
        subject: r.text("subject")?,
        subject_en: r.opt_text("subject_en")?,
        created_at: r.text("created_at")?,
        read_at: r.opt_text("read_at")?,
        concealed: crate::concealed_from_row(r)?,
    })
}

/// The user's ($1) notifications whose item their organisation ($2, with need-to-know $3)
/// may still read; only unread ones when $4.
const VISIBLE: &str = " FROM notifications n
     WHERE n.user_id = $1 AND (NOT $4 OR n.read_at IS NULL) AND (
       (n.object_type = 'advisory' AND EXISTS (SELECT 1 FROM advisory_access a
          WHERE a.advisory_id = n.object_id AND a.org_id = $2 AND (NOT a.need_to_know OR $3)))
       OR (n.object_type = 'report' AND EXISTS (SELECT 1 FROM report_access a
          WHERE a.report_id = n.object_id AND a.org_id = $2 AND (NOT a.need_to_know OR $3)))
       OR (n.object_type = 'partner' AND EXISTS (SELECT 1 FROM partner_access a
          WHERE a.partner_id = n.object_id AND a.org_id = $2 AND (NOT a.need_to_know OR $3)))
       OR n.object_type NOT IN ('advisory', 'report', 'partner'))";

impl Store {
    /// The user's notifications for items they may still read, newest first.
    pub async fn list_notifications(
        &self,
        scope: &ReadScope,
        unread_only: bool,
        limit: i64,
    ) -> Result<Vec<NotificationRow>> {
        let sql = format!("SELECT n.*{VISIBLE} ORDER BY n.created_at DESC, n.id DESC LIMIT $5");
        let limit = limit.clamp(1, crate::MAX_PAGE);
        on!(self.read().await?.conn(), c => sqlx::query(&sql)
            .bind(scope.user_id())
            .bind(scope.org_id())
            .bind(scope.need_to_know())
            .bind(unread_only)
            .bind(limit)
            .fetch_all(&mut *c)
            .await?
            .iter()
            .map(notification_from_row)
            .collect())
    }

    /// How many of the user's notifications [`Store::list_notifications`] would show, counted
    /// up to `cap` (a badge shows "99+"; counting a backlog of millions would stall every page).
    pub async fn count_notifications(&self, scope: &ReadScope, unread_only: bool, cap: i64) -> Result<i64> {
        let sql = format!("SELECT COUNT(*) FROM (SELECT 1{VISIBLE} LIMIT $5) capped");
        on!(self.read().await?.conn(), c => Ok(sqlx::query_scalar(&sql)
            .bind(scope.user_id())
            .bind(scope.org_id())
            .bind(scope.need_to_know())
            .bind(unread_only)
            .bind(cap)
            .fetch_one(&mut *c)
            .await?))
    }

    /// Mail due for a (re)try.
    pub async fn due_mail(&self, now: &str, limit: i64) -> Result<Vec<MailRow>> {
        let sql = "SELECT * FROM mail_outbox WHERE sent_at IS NULL AND next_attempt_at <= $1 ORDER BY next_attempt_at LIMIT $2";
        on!(self.read().await?.conn(), c => sqlx::query(sql).bind(now).bind(limit).fetch_all(&mut *c).await?.iter().map(mail_from_row).collect())
    }

    /// How the user is told by mail (at once unless they chose the digest).
    pub async fn notify_mode(&self, user_id: &str) -> Result<NotifyMode> {
        let sql = "SELECT mode FROM notification_settings WHERE user_id = $1";
        let code: Option<String> = on!(self.read().await?.conn(), c => sqlx::query(sql).bind(user_id).fetch_optional(&mut *c).await?.map(|r| r.text("mode")).transpose()?);
        code.map_or(Ok(NotifyMode::Immediate), |c| {
            crate::directory::parse_code("notification mode", &c, NotifyMode::parse)
        })
    }

    /// The outbox, newest first, as a viewer in `viewer_org` may see it: mail about an
    /// anonymised chain is left out (its count and addressees would tell who the operator
    /// is) unless the viewer is that operator or its secretariat.
    pub async fn list_outbox(&self, viewer_org: &str, unsent_only: bool, limit: i64) -> Result<Vec<MailRow>> {
        let sql = "SELECT * FROM mail_outbox WHERE (NOT $1 OR sent_at IS NULL)
               AND (conceal_org_id IS NULL OR conceal_org_id = $3 OR conceal_secretariat_id = $3)
             ORDER BY created_at DESC LIMIT $2";
        let limit = limit.clamp(1, crate::MAX_PAGE);
        on!(self.read().await?.conn(), c => sqlx::query(sql).bind(unsent_only).bind(limit).bind(viewer_org).fetch_all(&mut *c).await?.iter().map(mail_from_row).collect())
    }
}

impl Tx {
    /// Active users of an organisation who may read the advisory, by the reader rows.
    pub async fn advisory_readers_in(&mut self, advisory_id: &str, org_id: &str) -> Result<Vec<UserRow>> {
        let sql = "SELECT u.id FROM users u JOIN advisory_access a ON a.org_id = u.org_id
             WHERE a.advisory_id = $1 AND u.org_id = $2 AND u.active AND (NOT a.need_to_know OR u.need_to_know)
             ORDER BY u.login";
        let ids: Vec<String> = on!(self.conn().await?, c => sqlx::query_scalar(sql).bind(advisory_id).bind(org_id).fetch_all(&mut *c).await?);
        let mut users = Vec::new();
        for id in ids {
            users.extend(self.get_user(&id).await?);
        }
        Ok(users)
    }

    /// Adds an in-app notification, concealed as this transaction is. It is written with the
    /// batch, so telling people costs the writer no statement of its own.
    pub fn insert_notification(&mut self, n: &NotificationRow) {
        let concealed = self.concealment();
        self.pending.add_notification(NotificationRow { concealed, ..n.clone() });
    }

    /// The users who chose to be told by mail only in the digest.
    pub async fn digest_only_users(&mut self) -> Result<HashSet<String>> {
        let sql = "SELECT user_id FROM notification_settings WHERE mode = $1";
        let digest = NotifyMode::Digest.code();
        on!(self.conn().await?, c => sqlx::query(sql).bind(digest).fetch_all(&mut *c).await?.iter().map(|r| r.text("user_id")).collect())
    }

    pub async fn set_notify_mode(&mut self, user_id: &str, mode: NotifyMode, at: &str) -> Result<()> {
        let sql = "INSERT INTO notification_settings (user_id, mode, updated_at) VALUES ($1, $2, $3)
             ON CONFLICT (user_id) DO UPDATE SET mode = excluded.mode, updated_at = excluded.updated_at";
        on!(self.conn().await?, c => sqlx::query(sql).bind(user_id).bind(mode.code()).bind(at).execute(&mut *c).await?.rows_affected());
        Ok(())
    }

    pub async fn mark_notifications_read(&mut self, user_id: &str, at: &str) -> Result<()> {
        let sql = "UPDATE notifications SET read_at = $1 WHERE user_id = $2 AND read_at IS NULL";
        on!(self.conn().await?, c => sqlx::query(sql).bind(at).bind(user_id).execute(&mut *c).await?.rows_affected());
        Ok(())
    }

    /// Queues a mail, concealed as this transaction is; written with the batch, after the
    /// notification it belongs to.
    pub fn enqueue_mail(&mut self, m: &MailRow, notification_id: Option<&str>) {
        let concealed = self.concealment();
        self.pending.add_mail(m.clone(), notification_id, concealed);
    }

    pub async fn mark_mail_sent(&mut self, id: &str, at: &str) -> Result<()> {
        let sql = "UPDATE mail_outbox SET sent_at = $1, attempts = attempts + 1, last_error = NULL WHERE id = $2";
        on!(self.conn().await?, c => sqlx::query(sql).bind(at).bind(id).execute(&mut *c).await?.rows_affected());
        Ok(())
    }

    pub async fn mark_mail_failed(&mut self, id: &str, error: &str, next_attempt_at: &str) -> Result<()> {
        let sql = "UPDATE mail_outbox SET attempts = attempts + 1, last_error = $1, next_attempt_at = $2 WHERE id = $3";
        on!(self.conn().await?, c => sqlx::query(sql).bind(error).bind(next_attempt_at).bind(id).execute(&mut *c).await?.rows_affected());
        Ok(())
    }
}
