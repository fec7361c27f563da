//! Administration: organisations, users (roles, need-to-know, active), tokens, and the
//! reference data (sectors and jurisdiction, service-level rules, sector dependencies).
//! Every change goes through the API's admin handlers, which check the caller's roles.

use super::report_form::jst;
use crate::call::{input, Names};
use crate::form::{to_body, FormData, Kind};
use crate::i18n::{audit_action, Label, Lang, AUDIT_ACTIONS};
use crate::layout::{csrf, ok, page, see_other, WebResult};
use crate::session::Web;
use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use axum::Router;
use kyoyu_api::error::ApiError;
use kyoyu_api::AppState;
use kyoyu_app::admin as ops;
use kyoyu_app::admin::AuditQuery;
use kyoyu_app::directory::{self, OrgBody, SectorBody, UserBody};
use kyoyu_app::reads::Page;
use kyoyu_app::views::{Dependency, DependencyList};
use kyoyu_domain::codes::{OrgKind, Role};
use kyoyu_store::{AuditEntry, SectorRow, ServiceLevelRuleRow, TokenRow, UserRow};
use maud::{html, Markup};
use serde_json::Value;
use std::collections::HashMap;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin", get(overview))
        .route("/admin/orgs", post(create_org))
        .route("/admin/orgs/{id}", get(org_form).post(update_org))
        .route("/admin/users", post(create_user))
        .route("/admin/users/{id}", post(update_user))
        .route("/admin/users/{id}/unlock", post(unlock_user))
        .route("/admin/users/{id}/tokens", get(tokens).post(create_token))
        .route("/admin/users/{id}/tokens/{token_id}/revoke", post(revoke_token))
        .route("/admin/sectors/{code}", post(put_sector))
        .route("/admin/service-level-rules/{id}", post(put_rule))
        .route("/admin/dependencies", post(put_dependencies))
        .route("/admin/audit", get(audit))
}

fn done_notice(lang: Lang, q: &HashMap<String, String>) -> Markup {
    crate::layout::done_notice(lang, q.contains_key("done").then_some(("保存しました。", "Saved.")))
}

pub async fn overview(State(state): State<AppState>, web: Web, Query(q): Query<HashMap<String, String>>) -> WebResult {
    let lang = web.lang;
    let names = Names::load(&state).await?;
    let org_id = q.get("org_id").cloned().unwrap_or_else(|| web.caller.org().id.clone());
    let users = ops::list_users(&state.app, &web.caller, Some(&org_id)).await.map_err(ApiError::from)?.items;
    let system = web.caller.principal().has_role(Role::SystemAdmin);
    let body = html! {
        (done_notice(lang, &q))
        h2 { (lang.t("利用者", "Users")) }
        @if system { (org_picker(lang, &names, &org_id)) }
        (users_table(&web, &users, &names))
        (new_user_form(&web, &names))
        @if system {
            p { a href="/admin/audit" { (lang.t("監査ログ", "Audit log")) } }
            h2 { (lang.t("組織", "Organisations")) }
            (orgs_table(lang, &names))
            (new_org_form(&web, &state).await?)
            (reference(&web, &state, &names).await?)
        }
    };
    ok(page(&web, lang.t("管理", "Administration"), body))
}

/// System administrators pick whose users to see.
fn org_picker(lang: Lang, names: &Names, current: &str) -> Markup {
    let mut orgs: Vec<_> = names.all().collect();
    orgs.sort_by(|a, b| (a.kind, &a.name_ja).cmp(&(b.kind, &b.name_ja)));
    html! {
        form.actions method="get" action="/admin" {
            select name="org_id" aria-label=(lang.t("組織", "Organisation")) {
                @for o in orgs { option value=(o.id) selected[o.id == current] { (lang.t(&o.name_ja, &o.name_en)) } }
            }
            button.secondary type="submit" { (lang.t("表示", "Show")) }
        }
    }
}

fn users_table(web: &Web, users: &[UserRow], names: &Names) -> Markup {
    let lang = web.lang;
    html! {
        table {
            thead { tr { th { (lang.t("ログイン名", "Log-in")) } th { (lang.t("氏名", "Name")) } th { (lang.t("組織", "Organisation")) } th { (lang.t("役割", "Roles")) } th { (lang.t("知る必要", "Need to know")) } th { (lang.t("有効", "Active")) } th {} } }
            tbody { @for u in users {
                @let id = u.id.as_str();
                tr {
                    td { (u.login) }
                    td { (u.display_name) }
                    td { (names.name(Some(&u.org_id), lang)) }
                    td { (lang.join(&u.roles.iter().map(|r| r.label(lang)).collect::<Vec<_>>())) }
                    td { (toggle(web, u, "need_to_know", u.need_to_know)) }
                    td { (toggle(web, u, "active", u.active)) }
                    td {
                        a href={ "/admin/users/" (id) "/tokens" } { (lang.t("トークン", "Tokens")) } " "
                        form.inline method="post" action={ "/admin/users/" (id) "/unlock" } {
                            (csrf(web))
                            button.secondary type="submit" title=(lang.t("ログイン失敗による待ち時間を解除します", "Lifts the wait after failed log-ins")) { (lang.t("ログイン制限を解除", "Lift log-in delay")) }
                        }
                    }
                }
            } }
        }
    }
}

/// A yes/no cell whose button flips the flag.
fn toggle(web: &Web, user: &UserRow, field: &str, on: bool) -> Markup {
    html! {
        form.inline method="post" action={ "/admin/users/" (user.id) } {
            (csrf(web))
            input type="hidden" name="_org" value=(user.org_id);
            input type="hidden" name=(field) value=(if on { "false" } else { "true" });
            (if on { web.t("はい", "yes") } else { web.t("いいえ", "no") }) " "
            button.secondary type="submit" { (web.t("切替", "switch")) }
        }
    }
}

fn new_user_form(web: &Web, names: &Names) -> Markup {
    let lang = web.lang;
    let system = web.caller.principal().has_role(Role::SystemAdmin);
    let mut orgs: Vec<(&str, String)> = names
        .all()
        .filter(|o| system || o.id == web.caller.org().id)
        .map(|o| (o.id.as_str(), lang.t(&o.name_ja, &o.name_en).to_string()))
        .collect();
    orgs.sort_by(|a, b| a.1.cmp(&b.1));
    html! {
        details { summary { (lang.t("利用者を追加", "Add a user")) }
            form.card method="post" action="/admin/users" {
                (csrf(web))
                label for="u-org" { (lang.t("組織", "Organisation")) }
                select #u-org name="org_id" { @for (id, name) in &orgs { option value=(id) selected[*id == web.caller.org().id] { (name) } } }
                label for="u-login" { (lang.t("ログイン名", "Log-in")) } input #u-login type="text" name="login" required;
                label for="u-name" { (lang.t("氏名", "Name")) } input #u-name type="text" name="display_name" required;
                label for="u-email" { (lang.t("電子メールアドレス", "E-mail")) } input #u-email type="email" name="email";
                label for="u-password" { (lang.t("初期パスワード", "Initial password")) } input #u-password type="password" name="password" autocomplete="new-password";
                fieldset { legend { (lang.t("役割", "Roles")) }
                    @for r in Role::ALL { label.inline { input type="checkbox" name="roles" value=(r.code()); " " (r.label(lang)) } }
                }
                label.inline { input type="checkbox" name="need_to_know" value="true"; " " (lang.t("知る必要あり（RED・AMBER を閲覧可）", "Need to know (may read RED and AMBER)")) }
                p { button type="submit" { (lang.t("追加", "Add")) } }
            }
        }
    }
}

fn orgs_table(lang: Lang, names: &Names) -> Markup {
    let mut orgs: Vec<_> = names.all().collect();
    orgs.sort_by(|a, b| (a.kind, &a.name_ja).cmp(&(b.kind, &b.name_ja)));
    html! {
        table {
            thead { tr { th { (lang.t("名称", "Name")) } th { (lang.t("種別", "Kind")) } th { (lang.t("分野", "Sector")) } } }
            tbody { @for o in orgs { tr {
                td { a href={ "/admin/orgs/" (o.id) } { (lang.t(&o.name_ja, &o.name_en)) } }
                td { (o.kind.label(lang)) }
                td { (o.sector.as_deref().unwrap_or("")) }
            } } }
        }
    }
}

async fn new_org_form(web: &Web, state: &AppState) -> Result<Markup, kyoyu_api::error::ApiError> {
    let lang = web.lang;
    let sectors = state.store.list_sectors().await?;
    Ok(html! {
        details { summary { (lang.t("組織を追加", "Add an organisation")) }
            form.card method="post" action="/admin/orgs" {
                (csrf(web))
                label for="o-kind" { (lang.t("種別", "Kind")) }
                select #o-kind name="kind" { @for k in OrgKind::ALL { option value=(k.code()) { (k.label(lang)) } } }
                label for="o-ja" { (lang.t("名称（日本語）", "Name (Japanese)")) } input #o-ja type="text" name="name_ja" required;
                label for="o-en" { (lang.t("名称（英語）", "Name (English)")) } input #o-en type="text" name="name_en" required;
                label for="o-sector" { (lang.t("分野（事業者・セプター）", "Sector (operators and CEPTOARs)")) }
                select #o-sector name="sector" { option value="" { "—" } @for s in &sectors { option value=(s.code) { (lang.t(&s.name_ja, &s.name_en)) } } }
                p { button type="submit" { (lang.t("追加", "Add")) } }
            }
        }
    })
}

async fn reference(web: &Web, state: &AppState, names: &Names) -> Result<Markup, kyoyu_api::error::ApiError> {
    let lang = web.lang;
    let sectors = ops::list_sectors(&state.app).await?.items;
    let rules = ops::list_service_level_rules(&state.app).await?.items;
    let deps = ops::list_dependencies(&state.app).await?.items;
    let mut ministries: Vec<_> = names.all().filter(|o| o.kind == OrgKind::Ministry).collect();
    ministries.sort_by(|a, b| a.name_ja.cmp(&b.name_ja));
    Ok(html! {
        h2 { (lang.t("分野と所管省庁", "Sectors and their ministries")) }
        table {
            thead { tr { th { (lang.t("コード", "Code")) } th { (lang.t("名称（日本語）", "Name (Japanese)")) } th { (lang.t("名称（英語）", "Name (English)")) } th { (lang.t("所管省庁", "Ministry")) } th {} } }
            tbody { @for s in &sectors {
                @let form_id = format!("sector-{}", s.code);
                tr {
                    td { (s.code) }
                    td { input type="text" name="name_ja" value=(s.name_ja) form=(form_id) aria-label=(lang.t("名称（日本語）", "Name (Japanese)")); }
                    td { input type="text" name="name_en" value=(s.name_en) form=(form_id) aria-label=(lang.t("名称（英語）", "Name (English)")); }
                    td { select name="ministry_org_id" form=(form_id) aria-label=(lang.t("所管省庁", "Ministry")) {
                        option value="" { "—" }
                        @for m in &ministries { option value=(m.id) selected[s.ministry_org_id.as_deref() == Some(m.id.as_str())] { (lang.t(&m.name_ja, &m.name_en)) } }
                    } }
                    td { form id=(form_id) method="post" action={ "/admin/sectors/" (s.code) } { (csrf(web)) button.secondary type="submit" { (lang.t("保存", "Save")) } } }
                }
            } }
        }
        h2 { (lang.t("分野間の依存関係", "Sector dependencies")) }
        (dependency_matrix(web, &sectors, &deps, names))
        h2 { (lang.t("サービス維持レベル", "Service-maintenance levels")) }
        @for r in &rules { (rule_form(web, r, names)) }
    })
}

/// Which sector depends on which, as a matrix: a row per dependent sector, a column per
/// sector it may depend on, ticked where the failure of the column's spreads to the row's.
fn dependency_matrix(web: &Web, sectors: &[SectorRow], deps: &[Dependency], names: &Names) -> Markup {
    let lang = web.lang;
    let depends = |s: &str, on: &str| deps.iter().any(|d| d.sector == s && d.depends_on == on);
    html! {
        form method="post" action="/admin/dependencies" {
            (csrf(web))
            p.muted { (lang.t("行の分野が列の分野に依存します（列の分野の停止が行の分野に波及します）。", "The row's sector depends on the column's (a stop of the column's spreads to the row's).")) }
            div.scroll {
                table.matrix {
                    thead { tr {
                        th scope="col" { (lang.t("依存する分野 ＼ 依存先", "Depends ＼ on")) }
                        @for on in sectors { th scope="col" { (names.sector(&on.code, lang)) } }
                    } }
                    tbody { @for s in sectors { tr {
                        th scope="row" { (names.sector(&s.code, lang)) }
                        @for on in sectors {
                            td {
                                @if s.code != on.code {
                                    input type="checkbox" name="edge" value={ (s.code) ":" (on.code) } checked[depends(&s.code, &on.code)]
                                        aria-label={ (names.sector(&s.code, lang)) " → " (names.sector(&on.code, lang)) };
                                }
                            }
                        }
                    } } }
                }
            }
            p { button type="submit" { (lang.t("保存", "Save")) } }
        }
    }
}

/// One service-level rule as a form: the service, its condition in both languages, the
/// statute, and the thresholds (blank: not part of the rule).
fn rule_form(web: &Web, r: &ServiceLevelRuleRow, names: &Names) -> Markup {
    let lang = web.lang;
    let id = |field: &str| format!("rule-{}-{field}", r.id);
    let text = |field: &str, ja: &str, en: &str, value: &str| {
        html! {
            label for=(id(field)) { (lang.t(ja, en)) }
            input id=(id(field)) type="text" name=(field) value=(value) required;
        }
    };
    let number = |field: &str, ja: &str, en: &str, value: Option<i64>| {
        html! {
            label for=(id(field)) { (lang.t(ja, en)) }
            input id=(id(field)) type="number" name=(field) min="0" value=[value];
        }
    };
    html! {
        form.card method="post" action={ "/admin/service-level-rules/" (r.id) } {
            (csrf(web))
            h3 { (names.sector(&r.sector, lang)) " — " (r.service) }
            input type="hidden" name="sector" value=(r.sector);
            input type="hidden" name="position" value=(r.position);
            (text("service", "サービス", "Service", &r.service))
            (text("condition_ja", "条件（日本語）", "Condition (Japanese)", &r.condition_ja))
            (text("condition_en", "条件（英語）", "Condition (English)", &r.condition_en))
            (text("statute", "根拠法令", "Statute", &r.statute))
            div.thresholds {
                (number("min_users", "利用者数（以上）", "Users (at least)", r.min_users))
                (number("min_duration_minutes", "継続時間・分（以上）", "Duration in minutes (at least)", r.min_duration_minutes))
                (number("min_interrupted_kw", "供給支障電力 kW（以上）", "Interrupted supply in kW (at least)", r.min_interrupted_kw))
                (number("min_households", "戸数（以上）", "Households (at least)", r.min_households))
            }
            button.secondary type="submit" { (lang.t("保存", "Save")) }
        }
    }
}

pub async fn create_org(State(state): State<AppState>, web: Web, form: FormData) -> WebResult {
    web.check_csrf(&form)?;
    let org: OrgBody = input(&to_body(&form, &[("kind", Kind::Code)]))?;
    directory::create_org(&state.app, &web.caller, org).await?;
    see_other("/admin?done=1")
}

pub async fn create_user(State(state): State<AppState>, web: Web, form: FormData) -> WebResult {
    web.check_csrf(&form)?;
    let mut user: UserBody = input(&to_body(&form, &[("roles", Kind::Many), ("need_to_know", Kind::Bool)]))?;
    // An unticked box sends nothing: no need-to-know.
    user.need_to_know = Some(form.get("need_to_know") == Some("true"));
    directory::create_user(&state.app, &web.caller, user).await?;
    see_other("/admin?done=1")
}

pub async fn update_user(State(state): State<AppState>, web: Web, Path(id): Path<String>, form: FormData) -> WebResult {
    web.check_csrf(&form)?;
    let mut body = to_body(&form, &[("need_to_know", Kind::Bool), ("active", Kind::Bool)]);
    if let Some(fields) = body.as_object_mut() {
        fields.remove("confirmed");
    }
    let edits: UserBody = input(&body)?;
    if edits.active == Some(false) && !super::confirm::confirmed(&form) {
        // The toggle names the user's organisation (`_org`), whose list the user is in.
        let org = form.get("_org").unwrap_or(&web.caller.org().id).to_string();
        let users = ops::list_users(&state.app, &web.caller, Some(&org)).await.map_err(ApiError::from)?.items;
        if let Some(user) = users.iter().find(|u| u.id == id) {
            return ok(confirm_deactivation(&web, user));
        }
    }
    directory::update_user(&state.app, &web.caller, &id, edits).await?;
    see_other("/admin?done=1")
}

/// Deactivating a user acts at once: say what it stops before it does.
fn confirm_deactivation(web: &Web, user: &UserRow) -> Markup {
    let what = html! {
        dl {
            dt { (web.t("利用者", "User")) } dd { (user.display_name) "（" (user.login) "）" }
        }
        p { (web.t(
            "無効にすると、この利用者はログインできなくなり、発行済みのトークンとセッションも使えなくなります。あとで有効に戻せます。",
            "Once deactivated, the user can no longer log in, and their tokens and sessions stop working. You can activate them again later.",
        )) }
    };
    let title = web.t("利用者を無効にする確認", "Confirm deactivating the user");
    let warning =
        ("この操作はすぐに効力を持ちます。内容を確認してください。", "This takes effect at once. Check what it does.");
    let carried = [("active".to_string(), "false".to_string())];
    let action = format!("/admin/users/{}", user.id);
    super::confirm::confirmation_warning(
        web,
        (title, warning),
        what,
        (&action, &carried),
        web.t("無効にする", "Deactivate"),
        "/admin",
    )
}

pub async fn unlock_user(State(state): State<AppState>, web: Web, Path(id): Path<String>, form: FormData) -> WebResult {
    web.check_csrf(&form)?;
    ops::unlock_user(&state.app, &web.caller, &id).await.map_err(ApiError::from)?;
    see_other("/admin?done=1")
}

pub async fn tokens(State(state): State<AppState>, web: Web, Path(id): Path<String>) -> WebResult {
    let tokens = ops::list_tokens(&state.app, &web.caller, &id).await.map_err(ApiError::from)?.items;
    ok(page(&web, web.t("トークン", "Tokens"), tokens_body(&web, &id, &tokens, None)))
}

fn tokens_body(web: &Web, user_id: &str, tokens: &[TokenRow], new_token: Option<&str>) -> Markup {
    let lang = web.lang;
    // Log-ins (web pages, JSON API sessions) apart from the tokens scripts use; a session
    // once ended is only noise.
    let (sessions, api): (Vec<&TokenRow>, Vec<&TokenRow>) = tokens.iter().partition(|t| t.kind != "api");
    let now = kyoyu_store::now();
    let live = |t: &&TokenRow| t.revoked_at.is_none() && t.expires_at.as_deref().is_none_or(|e| e > now.as_str());
    let live_sessions: Vec<&TokenRow> = sessions.into_iter().filter(live).collect();
    html! {
        @if let Some(t) = new_token {
            div.notice role="status" { p { (lang.t("新しいトークン（この画面でのみ表示されます）:", "New token (shown only now):")) } code #new-token { (t) } }
        }
        h2 { (lang.t("API トークン", "API tokens")) }
        (token_table(web, user_id, &api))
        h2 { (lang.t("ログイン中のセッション", "Sessions logged in")) }
        (token_table(web, user_id, &live_sessions))
        // Only the owner mints a token: an administrator lists and revokes.
        @if user_id == web.caller.user().id { form.card method="post" action={ "/admin/users/" (user_id) "/tokens" } {
            (csrf(web))
            label for="t-label" { (lang.t("トークンの名前", "Token label")) } input #t-label type="text" name="label" required;
            label for="t-days" { (lang.t("有効日数（空欄は無期限）", "Valid for days (blank: no expiry)")) } input #t-days type="number" name="expires_in_days" min="1";
            p { button type="submit" { (lang.t("発行", "Issue")) } }
        } }
    }
}

fn token_table(web: &Web, user_id: &str, tokens: &[&TokenRow]) -> Markup {
    let lang = web.lang;
    html! {
        table {
            thead { tr { th { (lang.t("名前", "Label")) } th { (lang.t("作成", "Created")) } th { (lang.t("有効期限", "Expires")) } th { (lang.t("失効", "Revoked")) } th {} } }
            tbody { @for t in tokens {
                tr {
                    td { (t.label) }
                    td { (jst(&t.created_at)) }
                    td { (t.expires_at.as_deref().map(jst).unwrap_or_else(|| "—".into())) }
                    td { (jst(t.revoked_at.as_deref().unwrap_or(""))) }
                    td { @if t.revoked_at.is_none() {
                        form.inline method="post" action={ "/admin/users/" (user_id) "/tokens/" (t.id) "/revoke" } {
                            (csrf(web)) button.secondary type="submit" { (lang.t("失効させる", "Revoke")) }
                        }
                    } }
                }
            } }
            @if tokens.is_empty() { tbody { tr { td colspan="5" .muted { (lang.t("ありません", "None")) } } } }
        }
    }
}

pub async fn create_token(
    State(state): State<AppState>,
    web: Web,
    Path(id): Path<String>,
    form: FormData,
) -> WebResult {
    web.check_csrf(&form)?;
    let b = to_body(&form, &[("expires_in_days", Kind::Number)]);
    let created = ops::create_token(&state.app, &web.caller, &id, input(&b)?).await.map_err(ApiError::from)?;
    let tokens = ops::list_tokens(&state.app, &web.caller, &id).await.map_err(ApiError::from)?.items;
    ok(page(&web, web.t("トークン", "Tokens"), tokens_body(&web, &id, &tokens, Some(&created.token))))
}

pub async fn revoke_token(
    State(state): State<AppState>,
    web: Web,
    Path((id, token_id)): Path<(String, String)>,
    form: FormData,
) -> WebResult {
    web.check_csrf(&form)?;
    ops::revoke_token(&state.app, &web.caller, &id, &token_id).await.map_err(ApiError::from)?;
    see_other(&format!("/admin/users/{id}/tokens"))
}

pub async fn put_sector(
    State(state): State<AppState>,
    web: Web,
    Path(code): Path<String>,
    form: FormData,
) -> WebResult {
    web.check_csrf(&form)?;
    let mut sector: SectorBody = input(&to_body(&form, &[]))?;
    // No ministry chosen in the form: the sector has none.
    sector.ministry_org_id.get_or_insert(None);
    directory::put_sector(&state.app, &web.caller, &code, sector).await?;
    see_other("/admin?done=1")
}

const RULE_NUMBERS: &[&str] =
    &["position", "min_users", "min_duration_minutes", "min_interrupted_kw", "min_households"];

pub async fn put_rule(State(state): State<AppState>, web: Web, Path(id): Path<String>, form: FormData) -> WebResult {
    web.check_csrf(&form)?;
    let kinds: Vec<(&str, Kind)> = RULE_NUMBERS.iter().map(|f| (*f, Kind::Number)).collect();
    let mut rule = to_body(&form, &kinds);
    if let Some(fields) = rule.as_object_mut() {
        fields.insert("id".into(), Value::String(id.clone()));
        // A blank threshold is none: the rule does not test it.
        for field in &RULE_NUMBERS[1..] {
            fields.entry(field.to_string()).or_insert(Value::Null);
        }
    }
    directory::put_service_level_rule(&state.app, &web.caller, &id, input(&rule)?).await?;
    see_other("/admin?done=1")
}

pub async fn put_dependencies(State(state): State<AppState>, web: Web, form: FormData) -> WebResult {
    web.check_csrf(&form)?;
    // Each ticked cell is `sector:depends_on`.
    let items = form
        .all("edge")
        .into_iter()
        .map(|edge| {
            let (sector, depends_on) = edge.split_once(':').unwrap_or((edge.as_str(), ""));
            Dependency { sector: sector.to_string(), depends_on: depends_on.to_string() }
        })
        .collect();
    directory::put_dependencies(&state.app, &web.caller, Some(DependencyList { items })).await?;
    see_other("/admin?done=1")
}

const ORG_KINDS: &[(&str, Kind)] = &[
    ("analysis_partner", Kind::Bool),
    ("aliases", Kind::Lines),
    ("domains", Kind::Lines),
    ("emails", Kind::Lines),
    ("phones", Kind::Lines),
];

/// One organisation as a system administrator edits it, identity strings included: the
/// scrubber removes them from anonymised reports (domain.md §6).
pub async fn org_form(State(state): State<AppState>, web: Web, Path(id): Path<String>) -> WebResult {
    let all = ops::list_orgs(&state.app, &web.caller).await.map_err(ApiError::from)?.items;
    let org = all.into_iter().find(|o| o.id == id).ok_or_else(crate::layout::not_found)?;
    if org.identity.is_none() {
        return Err(kyoyu_api::error::ApiError::forbidden(
            "システム管理者だけが編集できます",
            "only system administrators edit organisations",
        )
        .into());
    }
    let lang = web.lang;
    let st = crate::form::FormState::from_view(&org)?;
    let lines = |name: &'static str, ja: &'static str, en: &'static str| {
        crate::widgets::lines(lang, &st, crate::widgets::f(name, ja, en))
    };
    let body = html! {
        form.card method="post" action={ "/admin/orgs/" (id) } {
            (csrf(&web))
            (crate::widgets::text(lang, &st, crate::widgets::f("name_ja", "名称（日本語）", "Name (Japanese)")))
            (crate::widgets::text(lang, &st, crate::widgets::f("name_en", "名称（英語）", "Name (English)")))
            (crate::widgets::yes_no(lang, &st, crate::widgets::f("analysis_partner", "事前に連携を要請した分析機関（表5 ※2）", "Pre-arranged analysis partner")))
            p.muted { (lang.t("以下は匿名化で報告から取り除く、この組織を特定できる文字列です（1行に1件）。", "The strings below identify this organisation; anonymisation removes them from reports (one per line).")) }
            (lines("identity.aliases", "別名・略称・サービス名", "Other names, abbreviations, service names"))
            (lines("identity.domains", "ドメイン", "Domains"))
            (lines("identity.emails", "電子メールアドレス", "E-mail addresses"))
            (lines("identity.phones", "電話番号", "Phone numbers"))
            p { button type="submit" { (lang.t("保存", "Save")) } }
        }
    };
    ok(page(&web, &format!("{} — {}", lang.t("組織", "Organisation"), lang.t(&org.name_ja, &org.name_en)), body))
}

pub async fn update_org(State(state): State<AppState>, web: Web, Path(id): Path<String>, form: FormData) -> WebResult {
    web.check_csrf(&form)?;
    let edits: OrgBody = input(&to_body(&form, ORG_KINDS))?;
    directory::update_org(&state.app, &web.caller, &id, edits).await?;
    see_other(&format!("/admin/orgs/{id}"))
}

/// The audit log, newest first, a page at a time (system administrators only; the API checks).
/// The audit log's filters, from the page's query (blank fields are no filter).
fn audit_query(q: &HashMap<String, String>) -> AuditQuery {
    let get = |k: &str| q.get(k).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
    AuditQuery {
        action: get("action"),
        actor_org_id: get("actor_org_id"),
        object_id: get("object_id"),
        since: get("since"),
        until: get("until"),
    }
}

fn audit_filters(web: &Web, q: &HashMap<String, String>, names: &Names) -> Markup {
    let lang = web.lang;
    let value = |k: &str| q.get(k).cloned().unwrap_or_default();
    let mut orgs: Vec<_> = names.all().collect();
    orgs.sort_by(|a, b| (a.kind, &a.name_ja).cmp(&(b.kind, &b.name_ja)));
    html! {
        form.filters method="get" action="/admin/audit" {
            label { (lang.t("操作", "Action")) " "
                select name="action" {
                    option value="" { (lang.t("すべて", "All")) }
                    @for (code, ja, en) in AUDIT_ACTIONS { option value=(code) selected[value("action") == *code] { (lang.t(ja, en)) } }
                }
            }
            label { (lang.t("操作した組織", "Acting organisation")) " "
                select name="actor_org_id" {
                    option value="" { (lang.t("すべて", "All")) }
                    @for o in orgs { option value=(o.id) selected[value("actor_org_id") == o.id] { (lang.t(&o.name_ja, &o.name_en)) } }
                }
            }
            label { (lang.t("対象の ID", "Object id")) " " input type="text" name="object_id" value=(value("object_id")); }
            label { (lang.t("開始日", "From")) " " input type="date" name="since" value=(value("since")); }
            label { (lang.t("終了日", "To")) " " input type="date" name="until" value=(value("until")); }
            button.secondary type="submit" { (lang.t("絞り込む", "Filter")) }
        }
    }
}

/// Display names of the users who acted in `entries`, by id (looked up in their
/// organisations, which system administration may list).
async fn actor_names(state: &AppState, web: &Web, entries: &[AuditEntry]) -> Result<HashMap<String, String>, ApiError> {
    let mut orgs: Vec<&str> = entries.iter().filter_map(|e| e.actor_org_id.as_deref()).collect();
    orgs.sort();
    orgs.dedup();
    let mut out = HashMap::new();
    for org in orgs {
        for u in ops::list_users(&state.app, &web.caller, Some(org)).await?.items {
            out.insert(u.id, u.display_name);
        }
    }
    Ok(out)
}

pub async fn audit(State(state): State<AppState>, web: Web, Query(q): Query<HashMap<String, String>>) -> WebResult {
    let offset: i64 = q.get("offset").and_then(|o| o.parse().ok()).unwrap_or(0).max(0);
    let page_of = Page { limit: 100, offset, after: None };
    let rows = ops::list_audit(&state.app, &web.caller, &audit_query(&q), page_of).await.map_err(ApiError::from)?.items;
    let names = Names::load(&state).await?;
    let people = actor_names(&state, &web, &rows).await?;
    let lang = web.lang;
    let mut older: Vec<(String, String)> =
        q.iter().filter(|(k, _)| *k != "offset").map(|(k, v)| (k.clone(), v.clone())).collect();
    older.push(("offset".into(), (offset + 100).to_string()));
    let older: String = form_urlencoded::Serializer::new(String::new()).extend_pairs(&older).finish();
    let body = html! {
        p.muted { (lang.t("変更と秘密情報（RED・AMBER）の閲覧の記録です。ハッシュ連鎖の検証は kyoyu audit verify で行います。", "Every change and every read of a RED or AMBER item. Verify the hash chain with kyoyu audit verify.")) }
        (audit_filters(&web, &q, &names))
        table {
            thead { tr { th { "#" } th { (lang.t("日時", "Time")) } th { (lang.t("操作", "Action")) } th { (lang.t("対象", "Object")) } th { (lang.t("利用者", "User")) } th { (lang.t("ハッシュ", "Hash")) } } }
            tbody { @for e in &rows {
                tr {
                    td.num { (e.seq) }
                    td { (jst(&e.at)) }
                    td { (audit_action(lang, &e.action)) br; small.muted { code { (e.action) } } }
                    td { (e.object_type) " " code title=(e.object_id) { (short_id(&e.object_id)) } }
                    td {
                        @match (&e.actor_user_id, &e.actor_org_id) {
                            (Some(user), org) => { (people.get(user).cloned().unwrap_or_else(|| short_id(user).to_string())) br; small.muted { (names.name(org.as_deref(), lang)) } }
                            (None, Some(org)) => { (names.name(Some(org), lang)) }
                            (None, None) => { "—" }
                        }
                    }
                    td { code { (e.hash.chars().take(12).collect::<String>()) } }
                }
            } }
            @if rows.is_empty() { tbody { tr { td colspan="6" .muted { (lang.t("該当する記録はありません", "No entries")) } } } }
        }
        @if rows.len() == 100 { p { a href={ "/admin/audit?" (older) } { (lang.t("さらに古い記録", "Older entries")) } } }
    };
    ok(page(&web, lang.t("監査ログ", "Audit log"), body))
}

/// An id shortened for a table: its last eight characters, random in every UUID version
/// (the first eight of a time-ordered one are its time, shared by ids made together).
fn short_id(id: &str) -> &str {
    id.get(id.len().saturating_sub(8)..).unwrap_or(id)
}
