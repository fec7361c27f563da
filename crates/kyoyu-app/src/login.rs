//! Log-in for every door (JSON session, HTTP Basic, web form): password, optional TOTP, and
//! throttling that cannot be turned against a user.
//!
//! - Every failure looks the same to the caller, so an unknown login, a wrong password, a
//!   wrong code and a throttled attempt cannot be told apart.
//! - Failures are counted per (account, client address, door). From the fifth in a row each
//!   further attempt waits twice as long (1 s, 2 s, 4 s … at most 15 minutes): an attacker
//!   elsewhere, or a TAXII poller with a stale password, never locks the user out of the web.
//!   An administrator lifts the throttles of an account.
//! - Password hashing (argon2: ~20 ms and 19 MiB each) runs on a bounded pool (all cores but
//!   one, each thread reusing its working memory) with a queue limit; past it the answer is 429, so a flood cannot take the server's CPU or memory.
//! - A verified HTTP Basic credential is remembered for a few minutes under a keyed hash, so a
//!   TAXII poller pays for argon2 once, not per page; it is forgotten when the password
//!   changes (the stored hash differs), the account is deactivated or an attempt is throttled.
//! - A TOTP code is accepted once.

use crate::{AppError, AppResult};
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, SaltString};
use argon2::Argon2;
use hmac::{Hmac, Mac};
use kyoyu_store::{Actor, LoginKey, LoginSubject, Store, UserRow};
use serde_json::json;
use sha2::Sha256;
use std::collections::HashMap;
use std::sync::mpsc::{SyncSender, TrySendError};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use totp_rs::{Algorithm, Secret, TOTP};

/// Failures in a row at one door and address before attempts are slowed.
pub const FREE_FAILURES: i64 = 5;
/// The longest wait between attempts once slowed.
pub const MAX_DELAY: Duration = Duration::from_secs(15 * 60);
/// How long a verified Basic credential is remembered.
const BASIC_CACHE_TTL: Duration = Duration::from_secs(300);
/// How many Basic credentials are remembered at most.
const BASIC_CACHE_MAX: usize = 10_000;
/// Password hashes computed at once: all cores but one (at least one), so that a flood of
/// log-ins always leaves a core for everything else.
fn hash_workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().saturating_sub(1).max(1))
}
/// Password hashes waiting before new ones are refused with 429.
const HASH_QUEUE: usize = 32;

const ISSUER: &str = "kyoyu";

/// The door a log-in comes through: failures at one never slow another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Door {
    Web,
    Session,
    Basic,
}

impl Door {
    fn code(self) -> &'static str {
        match self {
            Door::Web => "web",
            Door::Session => "session",
            Door::Basic => "basic",
        }
    }
}

/// One log-in attempt.
pub struct Attempt<'a> {
    pub login: &'a str,
    pub password: &'a str,
    pub code: Option<&'a str>,
    /// The client's address (the API's `extract::ClientAddress`).
    pub address: &'a str,
    pub door: Door,
}

type Job = Box<dyn FnOnce() + Send>;

/// The password-hashing pool and the Basic credential cache of one process.
pub struct Logins {
    /// Jobs for the hashing threads; a full queue answers 429.
    jobs: SyncSender<Job>,
    key: [u8; 32],
    basic: Mutex<HashMap<[u8; 32], (String, Instant)>>,
}

impl Default for Logins {
    fn default() -> Self {
        // Long-lived threads rather than tokio's blocking pool: that pool starts new
        // threads under load, and each keeps its own allocator arena holding argon2's 19 MiB,
        // so a flood left hundreds of megabytes behind. The threads end with the sender.
        let (jobs, queue) = std::sync::mpsc::sync_channel::<Job>(HASH_QUEUE);
        let queue = std::sync::Arc::new(Mutex::new(queue));
        for n in 0..hash_workers() {
            let queue = queue.clone();
            let spawned = std::thread::Builder::new().name(format!("kyoyu-hash-{n}")).spawn(move || loop {
                let job = match queue.lock() {
                    Ok(q) => q.recv(),
                    Err(_) => return,
                };
                match job {
                    Ok(job) => job(),
                    Err(_) => return,
                }
            });
            if let Err(e) = spawned {
                tracing::error!(%e, "cannot start a password-hashing thread");
            }
        }
        Logins { jobs, key: rand::random(), basic: Mutex::new(HashMap::new()) }
    }
}

impl Logins {
    /// Runs one argon2 job on the bounded pool; `TooManyRequests` when the queue is full.
    async fn hashing<T: Send + 'static>(&self, job: impl FnOnce() -> T + Send + 'static) -> AppResult<T> {
        let (done, answer) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = done.send(job());
        });
        match self.jobs.try_send(job) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => return Err(AppError::TooManyRequests),
            Err(TrySendError::Disconnected(_)) => return Err(AppError::internal("hashing pool", "stopped")),
        }
        answer.await.map_err(|e| AppError::internal("hashing task", e))
    }

    pub async fn hash_password(&self, password: String) -> AppResult<String> {
        self.hashing(move || {
            let salt = SaltString::generate(&mut OsRng);
            Argon2::default().hash_password(password.as_bytes(), &salt).map(|h| h.to_string())
        })
        .await?
        .map_err(|e| AppError::internal("argon2", e))
    }

    /// Verifies a password. With no stored hash it still spends the same work on a dummy
    /// hash, so the answer's timing does not tell whether the login exists.
    pub async fn verify_password(&self, password: String, stored: Option<String>) -> AppResult<bool> {
        self.hashing(move || {
            let known = stored.is_some();
            let hash = stored.unwrap_or_else(|| DUMMY_HASH.to_string());
            // Always hashed, whether or not the login is known (no short-circuit).
            let matches = verify_in_place(password.as_bytes(), &hash);
            known && matches
        })
        .await
    }

    fn basic_key(&self, login: &str, password: &str) -> [u8; 32] {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(login.as_bytes());
        mac.update(&[0]);
        mac.update(password.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// The stored password hash a Basic credential was verified against, while remembered.
    fn remembered(&self, key: &[u8; 32]) -> Option<String> {
        let cache = self.basic.lock().ok()?;
        cache.get(key).filter(|(_, at)| at.elapsed() < BASIC_CACHE_TTL).map(|(hash, _)| hash.clone())
    }

    fn remember(&self, key: [u8; 32], password_hash: String) {
        let Ok(mut cache) = self.basic.lock() else { return };
        if cache.len() >= BASIC_CACHE_MAX {
            cache.retain(|_, (_, at)| at.elapsed() < BASIC_CACHE_TTL);
            if cache.len() >= BASIC_CACHE_MAX {
                cache.clear();
            }
        }
        cache.insert(key, (password_hash, Instant::now()));
    }

    fn forget(&self, key: &[u8; 32]) {
        if let Ok(mut cache) = self.basic.lock() {
            cache.remove(key);
        }
    }

    /// Checks a log-in and answers the user and organisation, or `Unauthorized` for any
    /// failure (`TooManyRequests` when the hashing queue is full), and
    /// `PasswordChangeRequired` for a right password an administrator set.
    /// The user a log-in proves, and the reference version read with it.
    pub async fn authenticate(&self, store: &Store, a: Attempt<'_>) -> AppResult<(UserRow, i64)> {
        let (user, reference_version) = self.check(store, a).await?;
        if user.password_must_change {
            return Err(AppError::PasswordChangeRequired);
        }
        Ok((user, reference_version))
    }

    /// Sets a new password for whoever logs in with `a` (a password an administrator set
    /// included), ends the user's sessions and clears the need to change.
    pub async fn change_password(&self, store: &Store, a: Attempt<'_>, new_password: &str) -> AppResult<UserRow> {
        check_new_password(a.password, new_password)?;
        let (mut user, _) = self.check(store, a).await?;
        user.password_hash = Some(self.hash_password(new_password.to_string()).await?);
        user.password_must_change = false;
        let mut tx = store.begin(actor(&user)).await?;
        tx.save_user(&user).await?;
        tx.end_sessions(&user.id, None, &kyoyu_store::now()).await?;
        tx.audit("user.password_change", "user", &user.id, json!({})).await?;
        tx.commit().await?;
        Ok(user)
    }

    /// The log-in checks themselves: password, second factor, throttling, the Basic cache.
    async fn check(&self, store: &Store, a: Attempt<'_>) -> AppResult<(UserRow, i64)> {
        let subject =
            store.login_subject(&normalise_login(a.login), a.address, a.door.code()).await?.filter(|s| s.user.active);
        let stored = subject.as_ref().and_then(|s| s.user.password_hash.clone());
        let cache_key = (a.door == Door::Basic).then(|| self.basic_key(a.login, a.password));
        let blocked = subject.as_ref().and_then(|s| s.throttle.blocked_until.as_deref());
        if blocked.is_some_and(|until| until > kyoyu_store::now().as_str()) {
            if let Some(k) = &cache_key {
                self.forget(k);
            }
            return Err(AppError::Unauthenticated);
        }
        let remembered = cache_key.as_ref().and_then(|k| self.remembered(k));
        let password_ok = match (&remembered, &stored) {
            // Remembered against the hash still stored: the password has not changed since.
            (Some(was), Some(now)) if was == now => true,
            // The hash is always checked, so an unknown login costs the same time as a known one.
            _ => self.verify_password(a.password.to_string(), stored.clone()).await?,
        };
        let Some(LoginSubject { user, reference_version, throttle, totp_secret }) = subject else {
            return Err(AppError::Unauthenticated);
        };
        let key = LoginKey { user_id: &user.id, address: a.address, door: a.door.code() };
        let code_ok = match totp_secret {
            None => true,
            Some(secret) => match a.code.and_then(|c| totp_step(&secret, &user.login, c)) {
                Some(step) => take_step(store, &user, step).await?,
                None => false,
            },
        };
        if !(password_ok && code_ok) {
            if let Some(k) = &cache_key {
                self.forget(k);
            }
            record_failure(store, &user, key).await?;
            return Err(AppError::Unauthenticated);
        }
        if let (Some(k), Some(hash), None, false) = (cache_key, stored, remembered, user.password_must_change) {
            self.remember(k, hash);
        }
        // Failures counted since this read stay counted: a race can only keep a throttle on.
        if throttle.failed_count > 0 {
            let mut tx = store.begin(actor(&user)).await?;
            tx.clear_login_failures(key).await?;
            tx.commit().await?;
        }
        Ok((user, reference_version))
    }
}

/// Hashed when the login is unknown, so that an unknown login costs what a known one does.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$Zm9vYmFyZm9vYmFyZm9vYmFyZm9vYmFyZm9vYmFyMDA";

thread_local! {
    /// Each hashing thread's argon2 working memory, kept between hashes. Allocating 19 MiB per
    /// hash fragmented the allocator's arenas until a flood left hundreds of megabytes behind.
    static BLOCKS: std::cell::RefCell<Vec<argon2::Block>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Checks a password against a PHC string (argon2) in this thread's reused working memory;
/// false for anything that does not parse or match. The comparison is constant-time.
fn verify_in_place(password: &[u8], phc: &str) -> bool {
    use argon2::password_hash::Output;
    let Ok(parsed) = PasswordHash::new(phc) else { return false };
    let (Ok(params), Ok(algorithm)) =
        (argon2::Params::try_from(&parsed), argon2::Algorithm::try_from(parsed.algorithm))
    else {
        return false;
    };
    let version = parsed.version.and_then(|v| argon2::Version::try_from(v).ok()).unwrap_or_default();
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else { return false };
    let mut salt_buf = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_buf) else { return false };
    let mut out = vec![0u8; expected.len()];
    let hashed = BLOCKS.with(|blocks| {
        let mut blocks = blocks.borrow_mut();
        blocks.resize(params.block_count(), argon2::Block::default());
        Argon2::new(algorithm, version, params).hash_password_into_with_memory(
            password,
            salt,
            &mut out,
            &mut blocks[..],
        )
    });
    hashed.is_ok() && Output::new(&out).is_ok_and(|o| o == expected)
}

/// The shortest password a user may choose.
pub const MIN_PASSWORD: usize = 10;

/// A new password is long enough, not too long, and not the one it replaces.
fn check_new_password(current: &str, new: &str) -> Result<(), kyoyu_domain::FieldError> {
    let n = new.chars().count();
    if !(MIN_PASSWORD..=256).contains(&n) {
        return Err(kyoyu_domain::FieldError::new(
            "new_password",
            format!("パスワードは {MIN_PASSWORD}〜256 文字にしてください"),
            format!("a password has {MIN_PASSWORD} to 256 characters"),
        ));
    }
    if new == current {
        return Err(kyoyu_domain::FieldError::new(
            "new_password",
            "今のパスワードとは別のものにしてください",
            "must differ from the current password",
        ));
    }
    Ok(())
}

/// Log-ins are compared in the form they are created in: trimmed, lower case.
pub fn normalise_login(login: &str) -> String {
    login.trim().to_lowercase()
}

/// The TOTP generator for a base32 secret (RFC 6238: SHA-1, 6 digits, 30 s, one step of skew).
pub fn totp(secret_base32: &str, login: &str) -> AppResult<TOTP> {
    let bytes = Secret::Encoded(secret_base32.to_string()).to_bytes().map_err(|_| bad_code_format())?;
    TOTP::new(Algorithm::SHA1, 6, 1, 30, bytes, Some(ISSUER.into()), login.into()).map_err(|_| bad_code_format())
}

fn bad_code_format() -> AppError {
    AppError::field("totp_secret", "TOTP の秘密鍵が正しくありません", "the TOTP secret is not valid")
}

/// A fresh random secret, base32, for enrolment.
pub fn new_totp_secret() -> String {
    let bytes: [u8; 20] = rand::random();
    Secret::Raw(bytes.to_vec()).to_encoded().to_string()
}

/// The time step whose code `code` is (the current one, or one either side).
pub fn totp_step(secret_base32: &str, login: &str, code: &str) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    let t = totp(secret_base32, login).ok()?;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).ok()?.as_secs();
    [now.saturating_sub(30), now, now + 30].into_iter().find(|at| t.generate(*at) == code).map(|at| (at / 30) as i64)
}

/// Whether `code` is the current code (or one step either side) for the secret.
pub fn totp_matches(secret_base32: &str, login: &str, code: &str) -> bool {
    totp_step(secret_base32, login, code).is_some()
}

/// Uses up a TOTP step: false when it (or a later one) was used before.
async fn take_step(store: &Store, user: &UserRow, step: i64) -> AppResult<bool> {
    let mut tx = store.begin(actor(user)).await?;
    let fresh = tx.take_totp_step(&user.id, step).await?;
    tx.commit().await?;
    Ok(fresh)
}

fn actor(user: &UserRow) -> Actor {
    Actor { user_id: Some(user.id.clone()), org_id: Some(user.org_id.clone()) }
}

/// The wait after `failures` failures in a row: none for the first few, then doubling.
pub fn delay_after(failures: i64) -> Option<Duration> {
    let over = failures - FREE_FAILURES;
    (over >= 0).then(|| Duration::from_secs(1u64 << over.clamp(0, 20)).min(MAX_DELAY))
}

async fn record_failure(store: &Store, user: &UserRow, key: LoginKey<'_>) -> AppResult<()> {
    let mut tx = store.begin(actor(user)).await?;
    let count = tx.bump_login_failures(key).await?;
    if let Some(delay) = delay_after(count) {
        let until = chrono::Utc::now() + chrono::Duration::from_std(delay).unwrap_or_default();
        tx.block_login(key, &kyoyu_store::timestamp(until)).await?;
        if count == FREE_FAILURES {
            tx.audit("user.throttle", "user", &user.id, json!({"door": key.door, "failures": count})).await?;
        }
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

    #[test]
    fn delays_grow_and_stop_at_the_ceiling() {
        assert_eq!(delay_after(FREE_FAILURES - 1), None);
        assert_eq!(delay_after(FREE_FAILURES), Some(Duration::from_secs(1)));
        assert_eq!(delay_after(FREE_FAILURES + 3), Some(Duration::from_secs(8)));
        assert_eq!(delay_after(FREE_FAILURES + 40), Some(MAX_DELAY));
    }

    #[tokio::test]
    async fn password_round_trip() {
        let logins = Logins::default();
        let h = logins.hash_password("correct horse".into()).await.unwrap();
        assert!(logins.verify_password("correct horse".into(), Some(h.clone())).await.unwrap());
        assert!(!logins.verify_password("wrong".into(), Some(h)).await.unwrap());
        assert!(!logins.verify_password("anything".into(), None).await.unwrap());
    }
}
