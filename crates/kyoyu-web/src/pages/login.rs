//! Log-in and log-out, the language toggle, and the account page (TOTP enrolment).

use crate::form::FormData;
use crate::i18n::Lang;
use crate::layout::{csrf, ok, page, see_other, shell, WebResult};
use crate::session::{cookie, removal, same_secret, PageLang, Web, LOGIN_CSRF_COOKIE, SESSION_COOKIE};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use kyoyu_api::error::ApiError;
use kyoyu_api::extract::ClientAddress;
use kyoyu_api::AppState;
use kyoyu_app::login::{new_totp_secret, totp, totp_matches, Attempt, Door};
use kyoyu_app::AppError;
use maud::{html, Markup, PreEscaped};
use serde_json::json;

fn login_form(lang: Lang, token: &str, failed: bool, login: &str) -> Markup {
    let body = html! {
        @if failed {
            div.alert role="alert" {
                p { (lang.t(
                    "ログインできませんでした。ログイン名、パスワード、確認コードを確かめてください。失敗が続くと、この端末からのログインは少しずつ待たされます（他の端末や API には影響しません）。",
                    "Log-in failed. Check your log-in name, password and code. After repeated failures, log-ins from this address must wait longer each time (other addresses and the API are not affected)."
                )) }
            }
        }
        form.card method="post" action="/login" {
            input type="hidden" name="_csrf" value=(token);
            label for="login" { (lang.t("ログイン名", "Log-in name")) }
            input #login type="text" name="login" value=(login) autocomplete="username" required autofocus;
            label for="password" { (lang.t("パスワード", "Password")) }
            input #password type="password" name="password" autocomplete="current-password" required;
            (totp_input(lang))
            p { button type="submit" { (lang.t("ログイン", "Log in")) } }
        }
    };
    shell(lang, lang.t("ログイン", "Log in"), None, body)
}

/// The second-factor code on a log-in form, for users who enrolled one.
fn totp_input(lang: Lang) -> Markup {
    html! {
        label for="totp" { (lang.t("確認コード（二要素認証を設定した場合）", "Code (if you enrolled two-factor authentication)")) }
        input #totp type="text" name="totp" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]*";
    }
}

/// A page with a log-in form: a fresh double-submit CSRF token in a cookie and in the form.
fn with_login_csrf(jar: CookieJar, form: impl FnOnce(&str) -> Markup) -> Response {
    let token = hex::encode(rand::random::<[u8; 16]>());
    let jar = jar.add(cookie(LOGIN_CSRF_COOKIE, token.clone()));
    (jar, Html(form(&token).into_string())).into_response()
}

/// The log-in form's CSRF token, checked against its cookie (no session exists yet).
fn login_csrf(jar: &CookieJar, form: &FormData) -> Result<String, ApiError> {
    let expected = jar.get(LOGIN_CSRF_COOKIE).map(|c| c.value().to_string()).unwrap_or_default();
    let given = form.get("_csrf").unwrap_or_default();
    if expected.is_empty() || !same_secret(given, &expected) {
        return Err(ApiError::forbidden(
            "フォームの有効期限が切れています。ログイン画面を開き直してください",
            "the form has expired (CSRF check failed); open the log-in page again",
        ));
    }
    Ok(expected)
}

/// Sets the web session just opened, and goes home.
fn logged_in(token: String, jar: CookieJar) -> Response {
    let jar = jar.remove(removal(LOGIN_CSRF_COOKIE)).add(cookie(SESSION_COOKIE, token));
    (jar, Redirect::to("/")).into_response()
}

pub async fn show_login(PageLang(lang): PageLang, jar: CookieJar) -> Response {
    with_login_csrf(jar, |token| login_form(lang, token, false, ""))
}

pub async fn submit_login(
    State(state): State<AppState>,
    address: ClientAddress,
    PageLang(lang): PageLang,
    jar: CookieJar,
    form: FormData,
) -> Result<Response, crate::layout::WebError> {
    let expected = login_csrf(&jar, &form)?;
    let login = form.get("login").unwrap_or_default().trim().to_string();
    let password = form.get("password").unwrap_or_default();
    let code = form.get("totp").filter(|c| !c.trim().is_empty());
    let attempt = Attempt { login: &login, password, code, address: &address.0, door: Door::Web };
    match kyoyu_app::directory::sign_in(&state.app, attempt, "web").await {
        Ok((token, _)) => Ok(logged_in(token, jar)),
        Err(AppError::Unauthenticated) => {
            let page = login_form(lang, &expected, true, &login);
            Ok((StatusCode::UNAUTHORIZED, Html(page.into_string())).into_response())
        }
        Err(AppError::PasswordChangeRequired) => {
            let page = password_form(lang, &expected, &login, None);
            Ok((StatusCode::OK, Html(page.into_string())).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

/// The form that replaces a password an administrator set (or any password, from the log-in
/// page): log-in, the current password, the new one twice, and the code if enrolled.
fn password_form(lang: Lang, token: &str, login: &str, problem: Option<(&str, &str)>) -> Markup {
    let body = html! {
        @if let Some((ja, en)) = problem { div.alert role="alert" { p { (lang.t(ja, en)) } } }
        p { (lang.t(
            "新しいパスワードを設定します。管理者が設定したパスワードは、ご自身のパスワードを設定するためにだけ使えます。",
            "Choose a new password. A password an administrator set serves only to choose your own."
        )) }
        form.card method="post" action="/password" {
            input type="hidden" name="_csrf" value=(token);
            label for="login" { (lang.t("ログイン名", "Log-in name")) }
            input #login type="text" name="login" value=(login) autocomplete="username" required;
            label for="password" { (lang.t("今のパスワード", "Current password")) }
            input #password type="password" name="password" autocomplete="current-password" required;
            label for="new_password" { (lang.t("新しいパスワード（10 文字以上）", "New password (10 characters or more)")) }
            input #new_password type="password" name="new_password" autocomplete="new-password" minlength="10" required;
            label for="new_password_again" { (lang.t("新しいパスワード（確認）", "New password again")) }
            input #new_password_again type="password" name="new_password_again" autocomplete="new-password" required;
            (totp_input(lang))
            p { button type="submit" { (lang.t("パスワードを変更してログイン", "Change the password and log in")) } }
        }
    };
    shell(lang, lang.t("パスワードの変更", "Change password"), None, body)
}

/// The change-password form on its own (linked from the account page).
pub async fn show_password(PageLang(lang): PageLang, jar: CookieJar) -> Response {
    with_login_csrf(jar, |token| password_form(lang, token, "", None))
}

/// Sets the new password and opens a web session with it (every earlier session ends).
pub async fn submit_password(
    State(state): State<AppState>,
    address: ClientAddress,
    PageLang(lang): PageLang,
    jar: CookieJar,
    form: FormData,
) -> Result<Response, crate::layout::WebError> {
    let expected = login_csrf(&jar, &form)?;
    let login = form.get("login").unwrap_or_default().trim().to_string();
    let new = form.get("new_password").unwrap_or_default();
    let again_page = |problem| {
        let page = password_form(lang, &expected, &login, Some(problem));
        Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.into_string())).into_response())
    };
    if form.get("new_password_again").unwrap_or_default() != new {
        return again_page(("新しいパスワードが一致しません。", "The new passwords do not match."));
    }
    let attempt = Attempt {
        login: &login,
        password: form.get("password").unwrap_or_default(),
        code: form.get("totp").filter(|c| !c.trim().is_empty()),
        address: &address.0,
        door: Door::Web,
    };
    match kyoyu_app::directory::change_password_and_sign_in(&state.app, attempt, new, "web").await {
        Ok((token, _)) => Ok(logged_in(token, jar)),
        Err(AppError::Unauthenticated) => again_page((
            "ログイン名、今のパスワード、確認コードを確かめてください。",
            "Check your log-in name, current password and code.",
        )),
        Err(AppError::Validation(errors)) => {
            let first = errors.0.first().map(|e| (e.ja.clone(), e.en.clone())).unwrap_or_default();
            let page = password_form(lang, &expected, &login, Some((&first.0, &first.1)));
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.into_string())).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn logout(State(state): State<AppState>, web: Web, jar: CookieJar, form: FormData) -> WebResult {
    web.check_csrf(&form)?;
    if let Some(token) = jar.get(SESSION_COOKIE) {
        let mut tx = state.store.begin(web.caller.actor()).await?;
        tx.revoke_token_by_hash(&kyoyu_app::auth::token_hash(token.value()), &kyoyu_store::now()).await?;
        tx.audit("session.end", "user", &web.caller.user().id, json!({})).await?;
        tx.commit().await?;
    }
    Ok((jar.remove(removal(SESSION_COOKIE)), Redirect::to("/login")).into_response())
}

/// Switches the language and goes back to the page the user was on.
pub async fn switch_lang(Path(code): Path<String>, headers: HeaderMap, jar: CookieJar) -> Response {
    let lang = Lang::parse(&code).unwrap_or_default();
    let back = headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| r.find("://").map(|i| &r[i + 3..]))
        .and_then(|rest| rest.find('/').map(|i| rest[i..].to_string()))
        .filter(|p| p.starts_with('/') && !p.starts_with("//"))
        .unwrap_or_else(|| "/".into());
    (jar.add(cookie(Lang::COOKIE, lang.code().into())), Redirect::to(&back)).into_response()
}

/// The account page: who I am, and two-factor enrolment with a QR code.
pub async fn account(State(state): State<AppState>, web: Web) -> WebResult {
    let enrolled = state.store.totp_secret(&web.caller.user().id).await?.is_some();
    let enrol = if enrolled { None } else { Some(new_totp_secret()) };
    ok(account_page(&web, enrol.as_deref(), None))
}

fn account_page(web: &Web, enrol: Option<&str>, message: Option<(&str, &str)>) -> Markup {
    let user = &web.caller.user();
    let roles: Vec<String> = user.roles.iter().map(|r| crate::i18n::Label::label(*r, web.lang)).collect();
    let body = html! {
        @if let Some((ja, en)) = message { div.notice role="status" { (web.t(ja, en)) } }
        table { tbody {
            tr { th { (web.t("ログイン名", "Log-in name")) } td { (user.login) } }
            tr { th { (web.t("氏名", "Name")) } td { (user.display_name) } }
            tr { th { (web.t("組織", "Organisation")) } td { (web.caller.org().name_ja) " / " (web.caller.org().name_en) } }
            tr { th { (web.t("役割", "Roles")) } td { (web.lang.join(&roles)) } }
            tr { th { (web.t("知る必要", "Need to know")) } td { (if user.need_to_know { web.t("あり", "yes") } else { web.t("なし", "no") }) } }
        } }
        p {
            a href={ "/admin/users/" (user.id) "/tokens" } { (web.t("自分の API トークン（発行・失効）", "My API tokens (issue, revoke)")) }
            " · "
            a href="/password" { (web.t("パスワードの変更", "Change password")) }
        }
        h2 { (web.t("二要素認証（TOTP）", "Two-factor authentication (TOTP)")) }
        @match enrol {
            Some(secret) => {
                p { (web.t("認証アプリで QR コードを読み取り、表示された 6 桁のコードを入力してください。", "Scan the QR code with an authenticator app and enter the 6-digit code it shows.")) }
                (qr_svg(secret, &user.login))
                p.muted { (web.t("手入力用の鍵: ", "Key for manual entry: ")) code { (secret) } }
                form method="post" action="/account/totp" {
                    (csrf(web))
                    input type="hidden" name="secret" value=(secret);
                    label for="code" { (web.t("確認コード", "Code")) }
                    input #code type="text" name="code" inputmode="numeric" autocomplete="one-time-code" required;
                    p { button type="submit" { (web.t("二要素認証を有効にする", "Enable two-factor authentication")) } }
                }
            }
            None => {
                p { (web.t("二要素認証は有効です。ログインの際に確認コードが必要です。", "Two-factor authentication is on: log-in asks for a code.")) }
                form method="post" action="/account/totp/remove" {
                    (csrf(web))
                    p.muted { (web.t("解除するにはパスワードと現在の確認コードを入力してください。", "To turn it off, enter your password and a current code.")) }
                    label for="rm-password" { (web.t("パスワード", "Password")) }
                    input #rm-password type="password" name="password" autocomplete="current-password" required;
                    label for="rm-code" { (web.t("確認コード", "Code")) }
                    input #rm-code type="text" name="code" inputmode="numeric" autocomplete="one-time-code" required;
                    p { button.secondary type="submit" { (web.t("二要素認証を解除する", "Turn two-factor authentication off")) } }
                }
            }
        }
    };
    page(web, web.t("アカウント", "Account"), body)
}

fn qr_svg(secret: &str, login: &str) -> Markup {
    let url = totp(secret, login).map(|t| t.get_url()).unwrap_or_default();
    let svg = qrcode::QrCode::new(url.as_bytes())
        .map(|q| q.render::<qrcode::render::svg::Color>().min_dimensions(200, 200).build())
        .unwrap_or_default();
    // The SVG comes from the qrcode crate, not from user input.
    html! { div.qr aria-label="QR" { (PreEscaped(svg)) } }
}

pub async fn enrol_totp(State(state): State<AppState>, web: Web, form: FormData) -> WebResult {
    web.check_csrf(&form)?;
    let secret = form.get("secret").unwrap_or_default().to_string();
    let code = form.get("code").unwrap_or_default();
    if !totp_matches(&secret, &web.caller.user().login, code) {
        let msg =
            ("コードが一致しません。もう一度読み取ってください。", "The code does not match; scan again and retry.");
        return ok(account_page(&web, Some(&secret), Some(msg)));
    }
    set_totp(&state, &web, Some(&secret)).await?;
    ok(account_page(&web, None, Some(("二要素認証を有効にしました。", "Two-factor authentication is on."))))
}

/// Turning the second factor off takes the password and a current code, so a stolen session
/// alone cannot remove it.
pub async fn remove_totp(State(state): State<AppState>, address: ClientAddress, web: Web, form: FormData) -> WebResult {
    web.check_csrf(&form)?;
    let attempt = Attempt {
        login: &web.caller.user().login,
        password: form.get("password").unwrap_or_default(),
        code: form.get("code"),
        address: &address.0,
        door: Door::Web,
    };
    match state.app.logins.authenticate(&state.store, attempt).await {
        Ok(_) => {
            set_totp(&state, &web, None).await?;
            see_other("/account")
        }
        Err(AppError::Unauthenticated) => {
            let msg = ("パスワードまたは確認コードが正しくありません。", "The password or the code is not right.");
            Ok((StatusCode::UNAUTHORIZED, Html(account_page(&web, None, Some(msg)).into_string())).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

async fn set_totp(state: &AppState, web: &Web, secret: Option<&str>) -> Result<(), ApiError> {
    let mut tx = state.store.begin(web.caller.actor()).await?;
    tx.set_totp_secret(&web.caller.user().id, secret, &kyoyu_store::now()).await?;
    let action = if secret.is_some() { "user.totp_enrol" } else { "user.totp_remove" };
    tx.audit(action, "user", &web.caller.user().id, json!({})).await?;
    tx.commit().await?;
    Ok(())
}
