//! Log-in protection: failed attempts throttled per account, client address and door, and
//! TOTP secrets with the last time step used (a code is accepted once).

use crate::{Conn, Get, Result, Store, Tx, UserRow};

/// The throttle of one (account, client address, door).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Throttle {
    pub failed_count: i64,
    pub blocked_until: Option<String>,
}

/// Where a log-in attempt came from and through which door (web form, JSON session, HTTP
/// Basic): failures at one door and address never block another.
#[derive(Debug, Clone, Copy)]
pub struct LoginKey<'a> {
    pub user_id: &'a str,
    pub address: &'a str,
    pub door: &'a str,
}

/// Everything a log-in checks about the account it names, read in one statement.
#[derive(Debug, Clone)]
pub struct LoginSubject {
    pub user: UserRow,
    /// The reference version read with it: the caller's organisation comes from the cached
    /// reference data of this version, as for a token.
    pub reference_version: i64,
    /// The throttle of this account at the attempt's address and door.
    pub throttle: Throttle,
    /// The TOTP secret, if the user enrolled one.
    pub totp_secret: Option<String>,
}

async fn login_throttle(c: Conn<'_>, key: LoginKey<'_>) -> Result<Throttle> {
    let sql =
        "SELECT failed_count, blocked_until FROM login_throttle WHERE user_id = $1 AND address = $2 AND door = $3";
    on!(c, c => {
        let row = sqlx::query(sql).bind(key.user_id).bind(key.address).bind(key.door).fetch_optional(&mut *c).await?;
        let Some(r) = row else { return Ok(Throttle::default()) };
        Ok(Throttle { failed_count: r.int("failed_count")?, blocked_until: r.opt_text("blocked_until")? })
    })
}

async fn totp_secret(c: Conn<'_>, user_id: &str) -> Result<Option<String>> {
    let sql = "SELECT secret FROM totp_secrets WHERE user_id = $1";
    on!(c, c => Ok(sqlx::query_scalar(sql).bind(user_id).fetch_optional(&mut *c).await?))
}

fn login_subject_from_row(r: &impl Get) -> Result<LoginSubject> {
    Ok(LoginSubject {
        user: crate::directory::user_from_row(r)?,
        reference_version: r.int("reference_version")?,
        throttle: Throttle {
            failed_count: r.opt_int("throttle_failed_count")?.unwrap_or(0),
            blocked_until: r.opt_text("throttle_blocked_until")?,
        },
        totp_secret: r.opt_text("totp_secret")?,
    })
}

impl Store {
    /// The account a log-in names, with its throttle, its second factor and the reference
    /// version, in one statement: HTTP Basic pays for it on every request.
    pub async fn login_subject(&self, login: &str, address: &str, door: &str) -> Result<Option<LoginSubject>> {
        let sql = "SELECT u.*, v.version AS reference_version, t.failed_count AS throttle_failed_count,
                 t.blocked_until AS throttle_blocked_until, s.secret AS totp_secret
             FROM users u CROSS JOIN reference_version v
             LEFT JOIN login_throttle t ON t.user_id = u.id AND t.address = $2 AND t.door = $3
             LEFT JOIN totp_secrets s ON s.user_id = u.id
             WHERE v.id = 1 AND u.login = $1";
        on!(self.read().await?.conn(), c => sqlx::query(sql).bind(login).bind(address).bind(door)
            .fetch_optional(&mut *c).await?.as_ref().map(login_subject_from_row).transpose())
    }

    pub async fn login_throttle(&self, key: LoginKey<'_>) -> Result<Throttle> {
        login_throttle(self.read().await?.conn(), key).await
    }

    /// The user's TOTP secret, if enrolled.
    pub async fn totp_secret(&self, user_id: &str) -> Result<Option<String>> {
        totp_secret(self.read().await?.conn(), user_id).await
    }
}

impl Tx {
    /// Counts one failed attempt and answers the new count.
    pub async fn bump_login_failures(&mut self, key: LoginKey<'_>) -> Result<i64> {
        let sql = "INSERT INTO login_throttle (user_id, address, door, failed_count) VALUES ($1, $2, $3, 1)
             ON CONFLICT (user_id, address, door) DO UPDATE SET failed_count = login_throttle.failed_count + 1
             RETURNING failed_count";
        on!(self.conn().await?, c => Ok(sqlx::query(sql).bind(key.user_id).bind(key.address).bind(key.door).fetch_one(&mut *c).await?.int("failed_count")?))
    }

    pub async fn block_login(&mut self, key: LoginKey<'_>, until: &str) -> Result<()> {
        let sql = "UPDATE login_throttle SET blocked_until = $4 WHERE user_id = $1 AND address = $2 AND door = $3";
        on!(self.conn().await?, c => sqlx::query(sql).bind(key.user_id).bind(key.address).bind(key.door).bind(until).execute(&mut *c).await.map(|_| ())?);
        Ok(())
    }

    pub async fn clear_login_failures(&mut self, key: LoginKey<'_>) -> Result<()> {
        let sql = "DELETE FROM login_throttle WHERE user_id = $1 AND address = $2 AND door = $3";
        on!(self.conn().await?, c => sqlx::query(sql).bind(key.user_id).bind(key.address).bind(key.door).execute(&mut *c).await.map(|_| ())?);
        Ok(())
    }

    /// Lifts every throttle on the account (an administrator's unlock); answers how many.
    pub async fn unlock_user(&mut self, user_id: &str) -> Result<u64> {
        let sql = "DELETE FROM login_throttle WHERE user_id = $1";
        Ok(on!(self.conn().await?, c => sqlx::query(sql).bind(user_id).execute(&mut *c).await?.rows_affected()))
    }

    /// Enrols (Some) or removes (None) the user's TOTP secret.
    pub async fn set_totp_secret(&mut self, user_id: &str, secret: Option<&str>, at: &str) -> Result<()> {
        let sql = "DELETE FROM totp_secrets WHERE user_id = $1";
        on!(self.conn().await?, c => sqlx::query(sql).bind(user_id).execute(&mut *c).await.map(|_| ())?);
        if let Some(secret) = secret {
            let sql = "INSERT INTO totp_secrets (user_id, secret, enrolled_at) VALUES ($1, $2, $3)";
            on!(self.conn().await?, c => sqlx::query(sql).bind(user_id).bind(secret).bind(at).execute(&mut *c).await.map(|_| ())?);
        }
        Ok(())
    }

    /// Takes a TOTP time step for the user: true only the first time that step (or a later
    /// one) is used, so a code cannot be replayed, even by another process.
    pub async fn take_totp_step(&mut self, user_id: &str, step: i64) -> Result<bool> {
        let sql = "UPDATE totp_secrets SET last_step = $2 WHERE user_id = $1 AND (last_step IS NULL OR last_step < $2)";
        Ok(
            on!(self.conn().await?, c => sqlx::query(sql).bind(user_id).bind(step).execute(&mut *c).await?.rows_affected())
                == 1,
        )
    }
}
