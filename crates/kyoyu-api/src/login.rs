//! Log-in for every door (JSON session, HTTP Basic, web form): password, optional TOTP, and a
//! temporary lock after repeated failures. Every failure looks the same to the caller, so an
//! unknown login, a wrong password, a wrong code and a locked account cannot be told apart.

use crate::auth::verify_password;
use crate::error::{ApiError, ApiResult};
use kyoyu_store::{Actor, OrgRow, Store, UserRow};
use serde_json::json;
use totp_rs::{Algorithm, Secret, TOTP};

/// Failed attempts in a row that lock an account.
pub const LOCK_AFTER: i64 = 5;
/// How long a locked account stays locked.
pub const LOCK_MINUTES: i64 = 15;

const ISSUER: &str = "kyoyu";

/// The TOTP generator for a base32 secret (RFC 6238: SHA-1, 6 digits, 30 s, one step of skew).
pub fn totp(secret_base32: &str, login: &str) -> ApiResult<TOTP> {
    let bytes = Secret::Encoded(secret_base32.to_string()).to_bytes().map_err(|_| bad_code_format())?;
    TOTP::new(Algorithm::SHA1, 6, 1, 30, bytes, Some(ISSUER.into()), login.into()).map_err(|_| bad_code_format())
}

fn bad_code_format() -> ApiError {
    ApiError::field("totp_secret", "TOTP の秘密鍵が正しくありません", "the TOTP secret is not valid")
}

/// A fresh random secret, base32, for enrolment.
pub fn new_totp_secret() -> String {
    let bytes: [u8; 20] = rand::random();
    Secret::Raw(bytes.to_vec()).to_encoded().to_string()
}

/// Whether `code` is the current code (or one step either side) for the secret.
pub fn totp_matches(secret_base32: &str, login: &str, code: &str) -> bool {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    totp(secret_base32, login).ok().and_then(|t| t.check_current(&code).ok()).unwrap_or(false)
}

/// Checks a log-in and answers the user and organisation, or `Unauthorized` for any failure.
pub async fn authenticate(
    store: &Store,
    login: &str,
    password: &str,
    code: Option<&str>,
) -> ApiResult<(UserRow, OrgRow)> {
    let user = store.find_user_by_login(login).await?.filter(|u| u.active);
    let stored = user.as_ref().and_then(|u| u.password_hash.clone());
    // The hash is always checked, so an unknown login costs the same time as a known one.
    let password_ok = verify_password(password.to_string(), stored).await?;
    let Some(user) = user else { return Err(ApiError::Unauthorized) };
    let guard = store.login_guard(&user.id).await?;
    let now = kyoyu_store::now();
    if guard.locked_until.as_deref().is_some_and(|until| until > now.as_str()) {
        return Err(ApiError::Unauthorized);
    }
    let code_ok = match &guard.totp_secret {
        None => true,
        Some(secret) => code.is_some_and(|c| totp_matches(secret, &user.login, c)),
    };
    if !(password_ok && code_ok) {
        record_failure(store, &user).await?;
        return Err(ApiError::Unauthorized);
    }
    if guard.failed_count > 0 || guard.locked_until.is_some() {
        let mut tx = store.begin(actor(&user)).await?;
        tx.clear_login_failures(&user.id).await?;
        tx.commit().await?;
    }
    store.user_with_org(&user.id).await?.ok_or(ApiError::Unauthorized)
}

fn actor(user: &UserRow) -> Actor {
    Actor { user_id: Some(user.id.clone()), org_id: Some(user.org_id.clone()) }
}

async fn record_failure(store: &Store, user: &UserRow) -> ApiResult<()> {
    let until = kyoyu_store::timestamp(chrono::Utc::now() + chrono::Duration::minutes(LOCK_MINUTES));
    let mut tx = store.begin(actor(user)).await?;
    let count = tx.record_login_failure(&user.id, LOCK_AFTER, &until).await?;
    if count >= LOCK_AFTER {
        tx.audit("user.lock", "user", &user.id, json!({"locked_until": until, "failures": count})).await?;
    }
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn current_code_matches_and_others_do_not() {
        let secret = new_totp_secret();
        let code = totp(&secret, "a").unwrap().generate_current().unwrap();
        assert!(totp_matches(&secret, "a", &code));
        let wrong = format!("{:06}", (code.parse::<u32>().unwrap() + 1) % 1_000_000);
        assert!(!totp_matches(&secret, "a", &wrong));
        assert!(!totp_matches("not base32!", "a", &code));
    }
}
