//! Log-in protection: failed-attempt counts with a temporary lock, and TOTP secrets.

use crate::{Get, Result, Store, Tx};

/// What guards one account's log-in.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LoginGuard {
    pub failed_count: i64,
    pub locked_until: Option<String>,
    pub totp_secret: Option<String>,
}

impl Store {
    pub async fn login_guard(&self, user_id: &str) -> Result<LoginGuard> {
        let sql = "SELECT g.failed_count, g.locked_until, s.secret
             FROM users u LEFT JOIN login_guards g ON g.user_id = u.id LEFT JOIN totp_secrets s ON s.user_id = u.id
             WHERE u.id = $1";
        on!(self.read().await?.conn(), c => {
            let row = sqlx::query(sql).bind(user_id).fetch_optional(&mut *c).await?;
            Ok(row.map(|r| {
                LoginGuard {
                    failed_count: r.opt_int("failed_count").unwrap_or(0),
                    locked_until: r.opt_text("locked_until"),
                    totp_secret: r.opt_text("secret"),
                }
            }).unwrap_or_default())
        })
    }
}

impl Tx {
    /// Counts one failed attempt; from `lock_after` failures on, the account is locked until
    /// `lock_until`. Answers the new count.
    pub async fn record_login_failure(&mut self, user_id: &str, lock_after: i64, lock_until: &str) -> Result<i64> {
        let sql = "INSERT INTO login_guards (user_id, failed_count, locked_until) VALUES ($1, 1, NULL)
             ON CONFLICT (user_id) DO UPDATE SET failed_count = login_guards.failed_count + 1
             RETURNING failed_count";
        let count: i64 = on!(self.conn(), c => {
            sqlx::query(sql).bind(user_id).fetch_one(&mut *c).await?.int("failed_count")
        });
        if count >= lock_after {
            let sql = "UPDATE login_guards SET failed_count = 0, locked_until = $2 WHERE user_id = $1";
            on!(self.conn(), c => sqlx::query(sql).bind(user_id).bind(lock_until).execute(&mut *c).await.map(|_| ())?);
        }
        Ok(count)
    }

    pub async fn clear_login_failures(&mut self, user_id: &str) -> Result<()> {
        let sql = "DELETE FROM login_guards WHERE user_id = $1";
        on!(self.conn(), c => sqlx::query(sql).bind(user_id).execute(&mut *c).await.map(|_| ())?);
        Ok(())
    }

    /// Enrols (Some) or removes (None) the user's TOTP secret.
    pub async fn set_totp_secret(&mut self, user_id: &str, secret: Option<&str>, at: &str) -> Result<()> {
        let sql = "DELETE FROM totp_secrets WHERE user_id = $1";
        on!(self.conn(), c => sqlx::query(sql).bind(user_id).execute(&mut *c).await.map(|_| ())?);
        if let Some(secret) = secret {
            let sql = "INSERT INTO totp_secrets (user_id, secret, enrolled_at) VALUES ($1, $2, $3)";
            on!(self.conn(), c => sqlx::query(sql).bind(user_id).bind(secret).bind(at).execute(&mut *c).await.map(|_| ())?);
        }
        Ok(())
    }
}
