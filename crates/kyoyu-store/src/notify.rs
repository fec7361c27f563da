//! In-app notifications and the mail outbox. Listing notifications joins the reader rows of
//! the item they point at, so a user who can no longer read an item no longer sees its
//! notification (and digests, built from the same query, follow suit).

use crate::{Result, Store, Tx, UserRow};
use kyoyu_policy::ReadScope;
use serde::Serialize;
use sqlx::Row;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NotificationRow {
    pub id: String,
    pub user_id: String,
    pub kind: String,
    pub object_type: String,
    pub object_id: String,
    pub subject: String,
    pub created_at: String,
    pub read_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
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

fn mail_from_row(r: &sqlx::sqlite::SqliteRow) -> MailRow {
    MailRow {
        id: r.get("id"),
        to_address: r.get("to_address"),
        subject: r.get("subject"),
        body: r.get("body"),
        attempts: r.get("attempts"),
        next_attempt_at: r.get("next_attempt_at"),
        last_error: r.get("last_error"),
        sent_at: r.get("sent_at"),
        created_at: r.get("created_at"),
    }
}

impl Store {
    /// The user's notifications for items they may still read, newest first.
    pub async fn list_notifications(
        &self,
        scope: &ReadScope,
        unread_only: bool,
        limit: i64,
    ) -> Result<Vec<NotificationRow>> {
        let rows = sqlx::query(
            "SELECT n.* FROM notifications n
             WHERE n.user_id = ?1 AND (?4 = 0 OR n.read_at IS NULL) AND (
               (n.object_type = 'advisory' AND EXISTS (SELECT 1 FROM advisory_access a
                  WHERE a.advisory_id = n.object_id AND a.org_id = ?2 AND (a.need_to_know = 0 OR ?3)))
               OR (n.object_type = 'report' AND EXISTS (SELECT 1 FROM report_access a
                  WHERE a.report_id = n.object_id AND a.org_id = ?2 AND (a.need_to_know = 0 OR ?3)))
               OR n.object_type NOT IN ('advisory', 'report'))
             ORDER BY n.created_at DESC, n.id DESC LIMIT ?5",
        )
        .bind(scope.user_id())
        .bind(scope.org_id())
        .bind(scope.need_to_know())
        .bind(unread_only)
        .bind(limit.clamp(1, crate::MAX_PAGE))
        .fetch_all(&self.reader)
        .await?;
        Ok(rows
            .iter()
            .map(|r| NotificationRow {
                id: r.get("id"),
                user_id: r.get("user_id"),
                kind: r.get("kind"),
                object_type: r.get("object_type"),
                object_id: r.get("object_id"),
                subject: r.get("subject"),
                created_at: r.get("created_at"),
                read_at: r.get("read_at"),
            })
            .collect())
    }

    /// Mail due for a (re)try.
    pub async fn due_mail(&self, now: &str, limit: i64) -> Result<Vec<MailRow>> {
        let rows = sqlx::query(
            "SELECT * FROM mail_outbox WHERE sent_at IS NULL AND next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ?",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(&self.reader)
        .await?;
        Ok(rows.iter().map(mail_from_row).collect())
    }

    /// The outbox, newest first, for the coordinator to see what did not go out.
    pub async fn list_outbox(&self, unsent_only: bool, limit: i64) -> Result<Vec<MailRow>> {
        let rows =
            sqlx::query("SELECT * FROM mail_outbox WHERE (? = 0 OR sent_at IS NULL) ORDER BY created_at DESC LIMIT ?")
                .bind(unsent_only)
                .bind(limit.clamp(1, crate::MAX_PAGE))
                .fetch_all(&self.reader)
                .await?;
        Ok(rows.iter().map(mail_from_row).collect())
    }
}

impl Tx {
    /// Active users of an organisation who may read the advisory, by the reader rows.
    pub async fn advisory_readers_in(&mut self, advisory_id: &str, org_id: &str) -> Result<Vec<UserRow>> {
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT u.id FROM users u JOIN advisory_access a ON a.org_id = u.org_id
             WHERE a.advisory_id = ? AND u.org_id = ? AND u.active = 1 AND (a.need_to_know = 0 OR u.need_to_know = 1)
             ORDER BY u.login",
        )
        .bind(advisory_id)
        .bind(org_id)
        .fetch_all(&mut *self.inner)
        .await?;
        let mut users = Vec::new();
        for id in ids {
            users.extend(self.get_user(&id).await?);
        }
        Ok(users)
    }

    pub async fn insert_notification(&mut self, n: &NotificationRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO notifications (id, user_id, kind, object_type, object_id, subject, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&n.id)
        .bind(&n.user_id)
        .bind(&n.kind)
        .bind(&n.object_type)
        .bind(&n.object_id)
        .bind(&n.subject)
        .bind(&n.created_at)
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }

    pub async fn mark_notifications_read(&mut self, user_id: &str, at: &str) -> Result<()> {
        sqlx::query("UPDATE notifications SET read_at = ? WHERE user_id = ? AND read_at IS NULL")
            .bind(at)
            .bind(user_id)
            .execute(&mut *self.inner)
            .await?;
        Ok(())
    }

    pub async fn enqueue_mail(&mut self, m: &MailRow, notification_id: Option<&str>) -> Result<()> {
        sqlx::query(
            "INSERT INTO mail_outbox (id, notification_id, to_address, subject, body, next_attempt_at, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&m.id)
        .bind(notification_id)
        .bind(&m.to_address)
        .bind(&m.subject)
        .bind(&m.body)
        .bind(&m.next_attempt_at)
        .bind(&m.created_at)
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }

    pub async fn mark_mail_sent(&mut self, id: &str, at: &str) -> Result<()> {
        sqlx::query("UPDATE mail_outbox SET sent_at = ?, attempts = attempts + 1, last_error = NULL WHERE id = ?")
            .bind(at)
            .bind(id)
            .execute(&mut *self.inner)
            .await?;
        Ok(())
    }

    pub async fn mark_mail_failed(&mut self, id: &str, error: &str, next_attempt_at: &str) -> Result<()> {
        sqlx::query("UPDATE mail_outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ? WHERE id = ?")
            .bind(error)
            .bind(next_attempt_at)
            .bind(id)
            .execute(&mut *self.inner)
            .await?;
        Ok(())
    }
}
