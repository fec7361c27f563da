//! The web session: an API session token in a Secure, HttpOnly, SameSite=Strict cookie, the
//! user's language, and the CSRF token every form carries.

use crate::i18n::Lang;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use kyoyu_api::error::ApiError;
use kyoyu_api::AppState;
use kyoyu_app::Caller;
use sha2::{Digest, Sha256};

pub const SESSION_COOKIE: &str = "kyoyu_session";
/// Before log-in there is no session: the log-in form's CSRF token is a random value
/// submitted both as a cookie and in the form (double submit).
pub const LOGIN_CSRF_COOKIE: &str = "kyoyu_login_csrf";

/// A cookie as kyoyu sets them all.
pub fn cookie(name: &'static str, value: String) -> Cookie<'static> {
    Cookie::build((name, value)).path("/").secure(true).http_only(true).same_site(SameSite::Strict).build()
}

pub fn removal(name: &'static str) -> Cookie<'static> {
    let mut c = cookie(name, String::new());
    c.make_removal();
    c
}

/// The language a request asks for: the cookie, else Japanese.
pub fn lang_of(jar: &CookieJar) -> Lang {
    jar.get(Lang::COOKIE).and_then(|c| Lang::parse(c.value())).unwrap_or_default()
}

/// The CSRF token of a session: derived from the session's secret token, so it needs no
/// storage and cannot be guessed without the cookie.
pub fn csrf_for(session_token: &str) -> String {
    hex::encode(Sha256::digest(format!("kyoyu-csrf:{session_token}").as_bytes()))
}

/// Compares in time independent of where the strings differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A logged-in user of the web UI.
pub struct Web {
    pub caller: Caller,
    pub lang: Lang,
    pub csrf: String,
    /// Unread notifications, for the badge in the navigation (counted up to 100).
    pub unread: i64,
}

impl Web {
    pub fn t<'a>(&self, ja: &'a str, en: &'a str) -> &'a str {
        self.lang.t(ja, en)
    }

    /// Refuses a form whose CSRF token is missing or wrong.
    pub fn check_csrf(&self, form: &crate::form::FormData) -> Result<(), ApiError> {
        match form.get("_csrf") {
            Some(token) if same_secret(token, &self.csrf) => Ok(()),
            _ => Err(ApiError::forbidden(
                "フォームの有効期限が切れています。ページを開き直してください",
                "the form has expired (CSRF check failed); open the page again",
            )),
        }
    }
}

/// Not logged in: go to the log-in page.
pub struct ToLogin;

impl IntoResponse for ToLogin {
    fn into_response(self) -> Response {
        Redirect::to("/login").into_response()
    }
}

impl FromRequestParts<AppState> for Web {
    type Rejection = ToLogin;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ToLogin> {
        let jar = CookieJar::from_headers(&parts.headers);
        let token = jar.get(SESSION_COOKIE).map(|c| c.value().to_string()).ok_or(ToLogin)?;
        let caller = Caller::by_token(&state.app, &token, true).await.map_err(|_| ToLogin)?;
        let unread = match kyoyu_app::notifications::count_notifications(&state.app, &caller, true).await {
            Ok(c) => c.count,
            Err(e) => {
                // The page still serves; only its badge is missing.
                tracing::warn!(error = %e, "unread notifications not counted");
                0
            }
        };
        Ok(Web { caller, lang: lang_of(&jar), csrf: csrf_for(&token), unread })
    }
}

/// The language of a request with or without a session.
pub struct PageLang(pub Lang);

impl<S: Send + Sync> FromRequestParts<S> for PageLang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(PageLang(lang_of(&CookieJar::from_headers(&parts.headers))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csrf_is_per_session_and_compared_whole() {
        let (a, b) = (csrf_for("kyoyu_a"), csrf_for("kyoyu_b"));
        assert_ne!(a, b);
        assert!(same_secret(&a, &a.clone()));
        assert!(!same_secret(&a, &b));
        assert!(!same_secret(&a, &a[..10]));
    }
}
