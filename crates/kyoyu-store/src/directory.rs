//! Organisations, users, API tokens and reference data (sectors, jurisdiction, service-level
//! rules, sector dependencies).

use crate::rows::*;
use crate::{conflict_on_unique, Conn, Get, Result, Store, StoreError, Tx};
use kyoyu_domain::codes::{OrgKind, Role};

pub(crate) fn parse_code<T>(what: &str, code: &str, parse: fn(&str) -> Option<T>) -> Result<T> {
    parse(code).ok_or_else(|| StoreError::Corrupt(format!("{what}: {code}")))
}

pub(crate) fn json_column<T: serde::de::DeserializeOwned>(what: &str, text: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

fn org_from_row(r: &impl Get) -> Result<OrgRow> {
    Ok(OrgRow {
        id: r.text("id")?,
        kind: parse_code("org kind", &r.text("kind")?, OrgKind::parse)?,
        name_ja: r.text("name_ja")?,
        name_en: r.text("name_en")?,
        sector: r.opt_text("sector")?,
        analysis_partner: r.flag("analysis_partner")?,
        identity: json_column("org identity", &r.text("identity")?)?,
        created_at: r.text("created_at")?,
    })
}

pub(crate) fn user_from_row(r: &impl Get) -> Result<UserRow> {
    let roles: Vec<String> = json_column("roles", &r.text("roles")?)?;
    Ok(UserRow {
        id: r.text("id")?,
        org_id: r.text("org_id")?,
        login: r.text("login")?,
        display_name: r.text("display_name")?,
        email: r.opt_text("email")?,
        phone: r.opt_text("phone")?,
        password_hash: r.opt_text("password_hash")?,
        roles: roles.iter().map(|c| parse_code("role", c, Role::parse)).collect::<Result<_>>()?,
        need_to_know: r.flag("need_to_know")?,
        active: r.flag("active")?,
        created_at: r.text("created_at")?,
        password_must_change: r.flag("password_must_change")?,
    })
}

fn rule_from_row(r: &impl Get) -> Result<ServiceLevelRuleRow> {
    Ok(ServiceLevelRuleRow {
        id: r.text("id")?,
        sector: r.text("sector")?,
        service: r.text("service")?,
        condition_ja: r.text("condition_ja")?,
        condition_en: r.text("condition_en")?,
        statute: r.text("statute")?,
        min_users: r.opt_int("min_users")?,
        min_duration_minutes: r.opt_int("min_duration_minutes")?,
        min_interrupted_kw: r.opt_int("min_interrupted_kw")?,
        min_households: r.opt_int("min_households")?,
        position: r.int("position")?,
    })
}

fn sector_from_row(r: &impl Get) -> Result<SectorRow> {
    Ok(SectorRow {
        code: r.text("code")?,
        name_ja: r.text("name_ja")?,
        name_en: r.text("name_en")?,
        ministry_org_id: r.opt_text("ministry_org_id")?,
        position: r.int("position")?,
    })
}

fn token_from_row(r: &impl Get) -> Result<TokenRow> {
    Ok(TokenRow {
        id: r.text("id")?,
        user_id: r.text("user_id")?,
        label: r.text("label")?,
        kind: r.text("kind")?,
        expires_at: r.opt_text("expires_at")?,
        revoked_at: r.opt_text("revoked_at")?,
        created_at: r.text("created_at")?,
    })
}

fn roles_json(roles: &[Role]) -> String {
    serde_json::to_string(&roles.iter().map(|r| r.code()).collect::<Vec<_>>()).expect("codes serialise")
}

pub(crate) async fn get_org(c: Conn<'_>, id: &str) -> Result<Option<OrgRow>> {
    let sql = "SELECT * FROM orgs WHERE id = $1";
    on!(c, c => sqlx::query(sql).bind(id).fetch_optional(&mut *c).await?.as_ref().map(org_from_row).transpose())
}

pub(crate) async fn list_orgs(c: Conn<'_>) -> Result<Vec<OrgRow>> {
    let sql = "SELECT * FROM orgs ORDER BY kind, sector, name_en";
    on!(c, c => sqlx::query(sql).fetch_all(&mut *c).await?.iter().map(org_from_row).collect())
}

pub(crate) async fn list_sectors(c: Conn<'_>) -> Result<Vec<SectorRow>> {
    let sql = "SELECT * FROM sectors ORDER BY position, code";
    on!(c, c => sqlx::query(sql).fetch_all(&mut *c).await?.iter().map(sector_from_row).collect())
}

pub(crate) async fn list_service_level_rules(c: Conn<'_>) -> Result<Vec<ServiceLevelRuleRow>> {
    let sql = "SELECT * FROM service_level_rules ORDER BY position, id";
    on!(c, c => sqlx::query(sql).fetch_all(&mut *c).await?.iter().map(rule_from_row).collect())
}

pub(crate) async fn get_user(c: Conn<'_>, id: &str) -> Result<Option<UserRow>> {
    let sql = "SELECT * FROM users WHERE id = $1";
    on!(c, c => sqlx::query(sql).bind(id).fetch_optional(&mut *c).await?.as_ref().map(user_from_row).transpose())
}

/// Every user, by organisation and login, without password hashes: what the reference data
/// keeps to address notifications.
async fn list_addressees(c: Conn<'_>) -> Result<Vec<UserRow>> {
    let sql = "SELECT * FROM users ORDER BY org_id, login";
    let users: Result<Vec<UserRow>> =
        on!(c, c => sqlx::query(sql).fetch_all(&mut *c).await?.iter().map(user_from_row).collect());
    Ok(users?.into_iter().map(|u| UserRow { password_hash: None, ..u }).collect())
}

pub(crate) async fn user_by_login(c: Conn<'_>, login: &str) -> Result<Option<UserRow>> {
    let sql = "SELECT * FROM users WHERE login = $1";
    on!(c, c => sqlx::query(sql).bind(login).fetch_optional(&mut *c).await?.as_ref().map(user_from_row).transpose())
}

async fn user_with_org(mut c: Conn<'_>, user_id: &str) -> Result<Option<(UserRow, OrgRow)>> {
    let Some(user) = get_user(c.re(), user_id).await? else { return Ok(None) };
    Ok(get_org(c, &user.org_id).await?.map(|org| (user, org)))
}

/// Who holds a token, and the reference version read with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenHolder {
    pub user_id: String,
    pub reference_version: i64,
}

impl Store {
    pub async fn get_org(&self, id: &str) -> Result<Option<OrgRow>> {
        get_org(self.read().await?.conn(), id).await
    }

    pub async fn list_orgs(&self) -> Result<Vec<OrgRow>> {
        list_orgs(self.read().await?.conn()).await
    }

    pub async fn get_user(&self, id: &str) -> Result<Option<UserRow>> {
        get_user(self.read().await?.conn(), id).await
    }

    /// Every user, without password hashes (see `list_addressees`).
    pub async fn list_addressees(&self) -> Result<Vec<UserRow>> {
        list_addressees(self.read().await?.conn()).await
    }

    pub async fn find_user_by_login(&self, login: &str) -> Result<Option<UserRow>> {
        user_by_login(self.read().await?.conn(), login).await
    }

    pub async fn list_users(&self, org_id: Option<&str>) -> Result<Vec<UserRow>> {
        let sql = "SELECT * FROM users WHERE (CAST($1 AS TEXT) IS NULL OR org_id = $1) ORDER BY login";
        on!(self.read().await?.conn(), c => sqlx::query(sql).bind(org_id).fetch_all(&mut *c).await?.iter().map(user_from_row).collect())
    }

    /// The active user behind an unrevoked, unexpired token hash (with `web_only`, only a web
    /// session's token), and the reference version their rows are current in, read in the
    /// same statement: every authenticated request pays for this, and takes the user and
    /// organisation from the reference data of that version.
    pub async fn token_holder(&self, hash: &str, now: &str, web_only: bool) -> Result<Option<TokenHolder>> {
        let sql = "SELECT u.id, v.version FROM api_tokens t JOIN users u ON u.id = t.user_id
               CROSS JOIN reference_version v
             WHERE v.id = 1 AND t.token_hash = $1 AND t.revoked_at IS NULL
               AND (t.expires_at IS NULL OR t.expires_at > $2) AND u.active AND (NOT $3 OR t.kind = 'web')";
        let found: Option<(String, i64)> = on!(self.read().await?.conn(), c => sqlx::query_as(sql).bind(hash).bind(now).bind(web_only).fetch_optional(&mut *c).await?);
        Ok(found.map(|(user_id, reference_version)| TokenHolder { user_id, reference_version }))
    }

    pub async fn user_with_org(&self, user_id: &str) -> Result<Option<(UserRow, OrgRow)>> {
        user_with_org(self.read().await?.conn(), user_id).await
    }

    pub async fn list_tokens(&self, user_id: &str) -> Result<Vec<TokenRow>> {
        let sql = "SELECT * FROM api_tokens WHERE user_id = $1 ORDER BY created_at";
        on!(self.read().await?.conn(), c => sqlx::query(sql).bind(user_id).fetch_all(&mut *c).await?.iter().map(token_from_row).collect())
    }

    pub async fn list_sectors(&self) -> Result<Vec<SectorRow>> {
        list_sectors(self.read().await?.conn()).await
    }

    pub async fn list_service_level_rules(&self) -> Result<Vec<ServiceLevelRuleRow>> {
        list_service_level_rules(self.read().await?.conn()).await
    }

    pub async fn list_dependencies(&self) -> Result<Vec<(String, String)>> {
        let sql = "SELECT sector, depends_on FROM sector_dependencies ORDER BY sector, depends_on";
        on!(self.read().await?.conn(), c => Ok(sqlx::query_as(sql).fetch_all(&mut *c).await?))
    }

    /// True when nothing has been installed yet.
    pub async fn is_empty(&self) -> Result<bool> {
        let n: i64 = on!(self.read().await?.conn(), c => sqlx::query_scalar("SELECT COUNT(*) FROM sectors").fetch_one(&mut *c).await?);
        Ok(n == 0)
    }
}

impl Tx {
    pub async fn get_org(&mut self, id: &str) -> Result<Option<OrgRow>> {
        get_org(self.conn().await?, id).await
    }

    pub async fn list_orgs(&mut self) -> Result<Vec<OrgRow>> {
        list_orgs(self.conn().await?).await
    }

    pub async fn list_sectors(&mut self) -> Result<Vec<SectorRow>> {
        list_sectors(self.conn().await?).await
    }

    pub async fn list_service_level_rules(&mut self) -> Result<Vec<ServiceLevelRuleRow>> {
        list_service_level_rules(self.conn().await?).await
    }

    pub async fn insert_org(&mut self, o: &OrgRow) -> Result<()> {
        let sql = "INSERT INTO orgs (id, kind, name_ja, name_en, sector, analysis_partner, identity, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
        let identity = serde_json::to_string(&o.identity).expect("identity serialises");
        on!(self.conn().await?, c => sqlx::query(sql)
            .bind(&o.id)
            .bind(o.kind.code())
            .bind(&o.name_ja)
            .bind(&o.name_en)
            .bind(&o.sector)
            .bind(o.analysis_partner)
            .bind(&identity)
            .bind(&o.created_at)
            .execute(&mut *c)
            .await
            .map_err(conflict_on_unique("organisation id"))?
            .rows_affected());
        Ok(())
    }

    pub async fn update_org(&mut self, o: &OrgRow) -> Result<()> {
        let sql =
            "UPDATE orgs SET kind = $1, name_ja = $2, name_en = $3, sector = $4, analysis_partner = $5, identity = $6
             WHERE id = $7";
        let identity = serde_json::to_string(&o.identity).expect("identity serialises");
        let affected = on!(self.conn().await?, c => sqlx::query(sql)
            .bind(o.kind.code())
            .bind(&o.name_ja)
            .bind(&o.name_en)
            .bind(&o.sector)
            .bind(o.analysis_partner)
            .bind(&identity)
            .bind(&o.id)
            .execute(&mut *c)
            .await?
            .rows_affected());
        if affected == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    pub async fn get_user(&mut self, id: &str) -> Result<Option<UserRow>> {
        get_user(self.conn().await?, id).await
    }

    pub async fn list_addressees(&mut self) -> Result<Vec<UserRow>> {
        list_addressees(self.conn().await?).await
    }

    /// Users of one organisation (their names, logins and addresses identify it too).
    pub async fn users_of(&mut self, org_id: &str) -> Result<Vec<UserRow>> {
        let sql = "SELECT * FROM users WHERE org_id = $1 ORDER BY login";
        on!(self.conn().await?, c => sqlx::query(sql).bind(org_id).fetch_all(&mut *c).await?.iter().map(user_from_row).collect())
    }

    /// The users of every operator in a sector: the anonymity set of its CEPTOAR's members.
    pub async fn users_of_sector_operators(&mut self, sector: &str) -> Result<Vec<UserRow>> {
        let sql = "SELECT u.* FROM users u JOIN orgs o ON o.id = u.org_id
             WHERE o.kind = 'operator' AND o.sector = $1 ORDER BY u.login";
        on!(self.conn().await?, c => sqlx::query(sql).bind(sector).fetch_all(&mut *c).await?.iter().map(user_from_row).collect())
    }

    /// Ends every session (web and API log-ins, not API tokens) of the user but `keep`.
    pub async fn end_sessions(&mut self, user_id: &str, keep_hash: Option<&str>, at: &str) -> Result<()> {
        let sql = "UPDATE api_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL
               AND kind IN ('session', 'web') AND token_hash <> COALESCE($3, '')";
        on!(self.conn().await?, c => sqlx::query(sql).bind(at).bind(user_id).bind(keep_hash).execute(&mut *c).await?.rows_affected());
        Ok(())
    }

    /// Creates or updates a user; a login taken by another user is a conflict.
    pub async fn save_user(&mut self, u: &UserRow) -> Result<()> {
        let sql = "INSERT INTO users (id, org_id, login, display_name, email, phone, password_hash, roles, need_to_know, active, created_at, password_must_change)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
             ON CONFLICT (id) DO UPDATE SET display_name = excluded.display_name, email = excluded.email,
               phone = excluded.phone, password_hash = excluded.password_hash, roles = excluded.roles,
               need_to_know = excluded.need_to_know, active = excluded.active,
               password_must_change = excluded.password_must_change";
        let roles = roles_json(&u.roles);
        on!(self.conn().await?, c => sqlx::query(sql)
            .bind(&u.id)
            .bind(&u.org_id)
            .bind(&u.login)
            .bind(&u.display_name)
            .bind(&u.email)
            .bind(&u.phone)
            .bind(&u.password_hash)
            .bind(&roles)
            .bind(u.need_to_know)
            .bind(u.active)
            .bind(&u.created_at)
            .bind(u.password_must_change)
            .execute(&mut *c)
            .await
            .map_err(conflict_on_unique("login"))?
            .rows_affected());
        // Notifications are addressed from the reference data, which must see the change.
        self.bump_reference_version().await
    }

    pub async fn insert_token(&mut self, t: &TokenRow, hash: &str) -> Result<()> {
        let sql = "INSERT INTO api_tokens (id, user_id, token_hash, label, expires_at, created_at, kind) VALUES ($1, $2, $3, $4, $5, $6, $7)";
        on!(self.conn().await?, c => sqlx::query(sql)
            .bind(&t.id)
            .bind(&t.user_id)
            .bind(hash)
            .bind(&t.label)
            .bind(&t.expires_at)
            .bind(&t.created_at)
            .bind(&t.kind)
            .execute(&mut *c)
            .await?
            .rows_affected());
        Ok(())
    }

    /// Revokes one of the user's tokens; NotFound for anyone else's.
    pub async fn revoke_token(&mut self, token_id: &str, user_id: &str, at: &str) -> Result<()> {
        let sql = "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL";
        let affected = on!(self.conn().await?, c => sqlx::query(sql).bind(at).bind(token_id).bind(user_id).execute(&mut *c).await?.rows_affected());
        if affected == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Ends a session: revokes the token with this hash (log-out).
    pub async fn revoke_token_by_hash(&mut self, hash: &str, at: &str) -> Result<()> {
        let sql = "UPDATE api_tokens SET revoked_at = $1 WHERE token_hash = $2 AND revoked_at IS NULL";
        on!(self.conn().await?, c => sqlx::query(sql).bind(at).bind(hash).execute(&mut *c).await.map(|_| ())?);
        Ok(())
    }

    pub async fn upsert_sector(&mut self, s: &SectorRow) -> Result<()> {
        let sql = "INSERT INTO sectors (code, name_ja, name_en, ministry_org_id, position) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (code) DO UPDATE SET name_ja = excluded.name_ja, name_en = excluded.name_en,
               ministry_org_id = excluded.ministry_org_id, position = excluded.position";
        on!(self.conn().await?, c => sqlx::query(sql)
            .bind(&s.code)
            .bind(&s.name_ja)
            .bind(&s.name_en)
            .bind(&s.ministry_org_id)
            .bind(s.position)
            .execute(&mut *c)
            .await?
            .rows_affected());
        Ok(())
    }

    pub async fn upsert_service_level_rule(&mut self, r: &ServiceLevelRuleRow) -> Result<()> {
        let sql = "INSERT INTO service_level_rules (id, sector, service, condition_ja, condition_en, statute,
               min_users, min_duration_minutes, min_interrupted_kw, min_households, position)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
             ON CONFLICT (id) DO UPDATE SET sector = excluded.sector, service = excluded.service,
               condition_ja = excluded.condition_ja, condition_en = excluded.condition_en, statute = excluded.statute,
               min_users = excluded.min_users, min_duration_minutes = excluded.min_duration_minutes,
               min_interrupted_kw = excluded.min_interrupted_kw, min_households = excluded.min_households,
               position = excluded.position";
        on!(self.conn().await?, c => sqlx::query(sql)
            .bind(&r.id)
            .bind(&r.sector)
            .bind(&r.service)
            .bind(&r.condition_ja)
            .bind(&r.condition_en)
            .bind(&r.statute)
            .bind(r.min_users)
            .bind(r.min_duration_minutes)
            .bind(r.min_interrupted_kw)
            .bind(r.min_households)
            .bind(r.position)
            .execute(&mut *c)
            .await?
            .rows_affected());
        Ok(())
    }

    pub async fn insert_dependency(&mut self, sector: &str, depends_on: &str) -> Result<()> {
        let sql = "INSERT INTO sector_dependencies (sector, depends_on) VALUES ($1, $2) ON CONFLICT DO NOTHING";
        on!(self.conn().await?, c => sqlx::query(sql).bind(sector).bind(depends_on).execute(&mut *c).await?.rows_affected());
        Ok(())
    }

    pub async fn clear_dependencies(&mut self) -> Result<()> {
        on!(self.conn().await?, c => sqlx::query("DELETE FROM sector_dependencies").execute(&mut *c).await?.rows_affected());
        Ok(())
    }
}
#[cfg(test)]
mod tests {
    use crate::*;

    async fn store_with_user() -> (tempfile::TempDir, Store, UserRow) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        let org = OrgRow {
            id: new_id(),
            kind: kyoyu_domain::codes::OrgKind::Operator,
            name_ja: "事業者".into(),
            name_en: "Operator".into(),
            sector: Some("gas".into()),
            analysis_partner: false,
            identity: OrgIdentity::default(),
            created_at: now(),
        };
        let user = UserRow {
            id: new_id(),
            password_must_change: false,
            org_id: org.id.clone(),
            login: "op.user".into(),
            display_name: "User".into(),
            email: None,
            phone: None,
            password_hash: None,
            roles: vec![],
            need_to_know: false,
            active: true,
            created_at: now(),
        };
        let mut tx = store.begin(Actor::default()).await.unwrap();
        tx.insert_org(&org).await.unwrap();
        tx.save_user(&user).await.unwrap();
        tx.commit().await.unwrap();
        (dir, store, user)
    }

    async fn token(store: &Store, user: &UserRow, hash: &str, expires_at: Option<String>) {
        let t = TokenRow {
            id: new_id(),
            kind: "api".into(),
            user_id: user.id.clone(),
            label: "t".into(),
            expires_at,
            revoked_at: None,
            created_at: now(),
        };
        let mut tx = store.begin(Actor::default()).await.unwrap();
        tx.insert_token(&t, hash).await.unwrap();
        tx.commit().await.unwrap();
    }

    #[tokio::test]
    async fn expired_tokens_find_no_one() {
        let (_dir, store, user) = store_with_user().await;
        let past = timestamp(chrono::Utc::now() - chrono::Duration::minutes(1));
        let future = timestamp(chrono::Utc::now() + chrono::Duration::hours(1));
        token(&store, &user, "expired", Some(past)).await;
        token(&store, &user, "valid", Some(future)).await;
        assert!(store.token_holder("expired", &now(), false).await.unwrap().is_none());
        assert_eq!(store.token_holder("valid", &now(), false).await.unwrap().unwrap().user_id, user.id);
    }

    #[tokio::test]
    async fn a_taken_login_is_a_conflict_and_a_rolled_back_write_leaves_nothing() {
        let (_dir, store, user) = store_with_user().await;
        let mut tx = store.begin(Actor::default()).await.unwrap();
        tx.audit("user.create", "user", "x", serde_json::json!({})).await.unwrap();
        let dup = UserRow { id: new_id(), ..user.clone() };
        assert!(matches!(tx.save_user(&dup).await, Err(StoreError::Conflict(_))));
        drop(tx);
        assert_eq!(store.list_users(None).await.unwrap().len(), 1);
        assert!(
            store.list_audit(&Default::default(), "", 10, 0).await.unwrap().is_empty(),
            "the audit entry rolled back with it"
        );
    }
}
