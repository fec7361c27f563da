//! Organisations, users, API tokens and reference data (sectors, jurisdiction, service-level
//! rules, sector dependencies).

use crate::rows::*;
use crate::{conflict_on_unique, Result, Store, StoreError, Tx};
use kyoyu_domain::codes::{OrgKind, Role};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};

fn parse_code<T>(what: &str, code: &str, parse: fn(&str) -> Option<T>) -> Result<T> {
    parse(code).ok_or_else(|| StoreError::Corrupt(format!("{what}: {code}")))
}

fn json_column<T: serde::de::DeserializeOwned>(what: &str, text: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

fn org_from_row(r: &SqliteRow) -> Result<OrgRow> {
    Ok(OrgRow {
        id: r.get("id"),
        kind: parse_code("org kind", r.get("kind"), OrgKind::parse)?,
        name_ja: r.get("name_ja"),
        name_en: r.get("name_en"),
        sector: r.get("sector"),
        analysis_partner: r.get("analysis_partner"),
        identity: json_column("org identity", r.get("identity"))?,
        created_at: r.get("created_at"),
    })
}

fn user_from_row(r: &SqliteRow) -> Result<UserRow> {
    let roles: Vec<String> = json_column("roles", r.get("roles"))?;
    Ok(UserRow {
        id: r.get("id"),
        org_id: r.get("org_id"),
        login: r.get("login"),
        display_name: r.get("display_name"),
        email: r.get("email"),
        phone: r.get("phone"),
        password_hash: r.get("password_hash"),
        roles: roles.iter().map(|c| parse_code("role", c, Role::parse)).collect::<Result<_>>()?,
        need_to_know: r.get("need_to_know"),
        active: r.get("active"),
        created_at: r.get("created_at"),
    })
}

fn rule_from_row(r: &SqliteRow) -> ServiceLevelRuleRow {
    ServiceLevelRuleRow {
        id: r.get("id"),
        sector: r.get("sector"),
        service: r.get("service"),
        condition_ja: r.get("condition_ja"),
        condition_en: r.get("condition_en"),
        statute: r.get("statute"),
        min_users: r.get("min_users"),
        min_duration_minutes: r.get("min_duration_minutes"),
        min_interrupted_kw: r.get("min_interrupted_kw"),
        min_households: r.get("min_households"),
        position: r.get("position"),
    }
}

fn roles_json(roles: &[Role]) -> String {
    serde_json::to_string(&roles.iter().map(|r| r.code()).collect::<Vec<_>>()).expect("codes serialise")
}

pub(crate) async fn get_org(c: &mut SqliteConnection, id: &str) -> Result<Option<OrgRow>> {
    let row = sqlx::query("SELECT * FROM orgs WHERE id = ?").bind(id).fetch_optional(c).await?;
    row.as_ref().map(org_from_row).transpose()
}

pub(crate) async fn list_orgs(c: &mut SqliteConnection) -> Result<Vec<OrgRow>> {
    let rows = sqlx::query("SELECT * FROM orgs ORDER BY kind, sector, name_en").fetch_all(c).await?;
    rows.iter().map(org_from_row).collect()
}

pub(crate) async fn list_sectors(c: &mut SqliteConnection) -> Result<Vec<SectorRow>> {
    let rows = sqlx::query("SELECT * FROM sectors ORDER BY position, code").fetch_all(c).await?;
    Ok(rows
        .iter()
        .map(|r| SectorRow {
            code: r.get("code"),
            name_ja: r.get("name_ja"),
            name_en: r.get("name_en"),
            ministry_org_id: r.get("ministry_org_id"),
            position: r.get("position"),
        })
        .collect())
}

pub(crate) async fn list_service_level_rules(c: &mut SqliteConnection) -> Result<Vec<ServiceLevelRuleRow>> {
    let rows = sqlx::query("SELECT * FROM service_level_rules ORDER BY position, id").fetch_all(c).await?;
    Ok(rows.iter().map(rule_from_row).collect())
}

impl Store {
    pub async fn get_org(&self, id: &str) -> Result<Option<OrgRow>> {
        get_org(&mut *self.reader.acquire().await?, id).await
    }

    pub async fn list_orgs(&self) -> Result<Vec<OrgRow>> {
        list_orgs(&mut *self.reader.acquire().await?).await
    }

    pub async fn get_user(&self, id: &str) -> Result<Option<UserRow>> {
        let row = sqlx::query("SELECT * FROM users WHERE id = ?").bind(id).fetch_optional(&self.reader).await?;
        row.as_ref().map(user_from_row).transpose()
    }

    pub async fn find_user_by_login(&self, login: &str) -> Result<Option<UserRow>> {
        let row = sqlx::query("SELECT * FROM users WHERE login = ?").bind(login).fetch_optional(&self.reader).await?;
        row.as_ref().map(user_from_row).transpose()
    }

    pub async fn list_users(&self, org_id: Option<&str>) -> Result<Vec<UserRow>> {
        let rows = sqlx::query("SELECT * FROM users WHERE (?1 IS NULL OR org_id = ?1) ORDER BY login")
            .bind(org_id)
            .fetch_all(&self.reader)
            .await?;
        rows.iter().map(user_from_row).collect()
    }

    /// The active user and organisation behind an unrevoked, unexpired token hash.
    pub async fn user_by_token_hash(&self, hash: &str, now: &str) -> Result<Option<(UserRow, OrgRow)>> {
        let row = sqlx::query(
            "SELECT u.* FROM api_tokens t JOIN users u ON u.id = t.user_id
             WHERE t.token_hash = ? AND t.revoked_at IS NULL
               AND (t.expires_at IS NULL OR t.expires_at > ?) AND u.active = 1",
        )
        .bind(hash)
        .bind(now)
        .fetch_optional(&self.reader)
        .await?;
        let Some(user) = row.as_ref().map(user_from_row).transpose()? else { return Ok(None) };
        self.user_with_org(&user.id).await
    }

    pub async fn user_with_org(&self, user_id: &str) -> Result<Option<(UserRow, OrgRow)>> {
        let Some(user) = self.get_user(user_id).await? else { return Ok(None) };
        Ok(self.get_org(&user.org_id).await?.map(|org| (user, org)))
    }

    pub async fn list_tokens(&self, user_id: &str) -> Result<Vec<TokenRow>> {
        let rows = sqlx::query("SELECT * FROM api_tokens WHERE user_id = ? ORDER BY created_at")
            .bind(user_id)
            .fetch_all(&self.reader)
            .await?;
        Ok(rows
            .iter()
            .map(|r| TokenRow {
                id: r.get("id"),
                user_id: r.get("user_id"),
                label: r.get("label"),
                expires_at: r.get("expires_at"),
                revoked_at: r.get("revoked_at"),
                created_at: r.get("created_at"),
            })
            .collect())
    }

    pub async fn list_sectors(&self) -> Result<Vec<SectorRow>> {
        list_sectors(&mut *self.reader.acquire().await?).await
    }

    pub async fn list_service_level_rules(&self) -> Result<Vec<ServiceLevelRuleRow>> {
        let rows =
            sqlx::query("SELECT * FROM service_level_rules ORDER BY position, id").fetch_all(&self.reader).await?;
        Ok(rows.iter().map(rule_from_row).collect())
    }

    pub async fn list_dependencies(&self) -> Result<Vec<(String, String)>> {
        let rows = sqlx::query("SELECT sector, depends_on FROM sector_dependencies ORDER BY sector, depends_on")
            .fetch_all(&self.reader)
            .await?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    /// True when nothing has been installed yet.
    pub async fn is_empty(&self) -> Result<bool> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sectors").fetch_one(&self.reader).await?;
        Ok(n == 0)
    }
}

impl Tx {
    pub async fn get_org(&mut self, id: &str) -> Result<Option<OrgRow>> {
        get_org(&mut self.inner, id).await
    }

    pub async fn list_orgs(&mut self) -> Result<Vec<OrgRow>> {
        list_orgs(&mut self.inner).await
    }

    pub async fn list_sectors(&mut self) -> Result<Vec<SectorRow>> {
        list_sectors(&mut self.inner).await
    }

    pub async fn list_service_level_rules(&mut self) -> Result<Vec<ServiceLevelRuleRow>> {
        list_service_level_rules(&mut self.inner).await
    }

    pub async fn insert_org(&mut self, o: &OrgRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO orgs (id, kind, name_ja, name_en, sector, analysis_partner, identity, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&o.id)
        .bind(o.kind.code())
        .bind(&o.name_ja)
        .bind(&o.name_en)
        .bind(&o.sector)
        .bind(o.analysis_partner)
        .bind(serde_json::to_string(&o.identity).expect("identity serialises"))
        .bind(&o.created_at)
        .execute(&mut *self.inner)
        .await
        .map_err(conflict_on_unique("organisation id"))?;
        Ok(())
    }

    pub async fn update_org(&mut self, o: &OrgRow) -> Result<()> {
        let done = sqlx::query(
            "UPDATE orgs SET kind = ?, name_ja = ?, name_en = ?, sector = ?, analysis_partner = ?, identity = ?
             WHERE id = ?",
        )
        .bind(o.kind.code())
        .bind(&o.name_ja)
        .bind(&o.name_en)
        .bind(&o.sector)
        .bind(o.analysis_partner)
        .bind(serde_json::to_string(&o.identity).expect("identity serialises"))
        .bind(&o.id)
        .execute(&mut *self.inner)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    pub async fn get_user(&mut self, id: &str) -> Result<Option<UserRow>> {
        let row = sqlx::query("SELECT * FROM users WHERE id = ?").bind(id).fetch_optional(&mut *self.inner).await?;
        row.as_ref().map(user_from_row).transpose()
    }

    /// Users of one organisation (their names, logins and addresses identify it too).
    pub async fn users_of(&mut self, org_id: &str) -> Result<Vec<UserRow>> {
        let rows = sqlx::query("SELECT * FROM users WHERE org_id = ?").bind(org_id).fetch_all(&mut *self.inner).await?;
        rows.iter().map(user_from_row).collect()
    }

    /// Creates or updates a user; a login taken by another user is a conflict.
    pub async fn save_user(&mut self, u: &UserRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO users (id, org_id, login, display_name, email, phone, password_hash, roles, need_to_know, active, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (id) DO UPDATE SET display_name = excluded.display_name, email = excluded.email,
               phone = excluded.phone, password_hash = excluded.password_hash, roles = excluded.roles,
               need_to_know = excluded.need_to_know, active = excluded.active",
        )
        .bind(&u.id)
        .bind(&u.org_id)
        .bind(&u.login)
        .bind(&u.display_name)
        .bind(&u.email)
        .bind(&u.phone)
        .bind(&u.password_hash)
        .bind(roles_json(&u.roles))
        .bind(u.need_to_know)
        .bind(u.active)
        .bind(&u.created_at)
        .execute(&mut *self.inner)
        .await
        .map_err(conflict_on_unique("login"))?;
        Ok(())
    }

    pub async fn insert_token(&mut self, t: &TokenRow, hash: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO api_tokens (id, user_id, token_hash, label, expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(&t.id)
        .bind(&t.user_id)
        .bind(hash)
        .bind(&t.label)
        .bind(&t.expires_at)
        .bind(&t.created_at)
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }

    /// Revokes a token of one of `user_ids`; NotFound for anyone else's.
    pub async fn revoke_token(&mut self, token_id: &str, user_id: &str, at: &str) -> Result<()> {
        let done =
            sqlx::query("UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND user_id = ? AND revoked_at IS NULL")
                .bind(at)
                .bind(token_id)
                .bind(user_id)
                .execute(&mut *self.inner)
                .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    pub async fn upsert_sector(&mut self, s: &SectorRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO sectors (code, name_ja, name_en, ministry_org_id, position) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (code) DO UPDATE SET name_ja = excluded.name_ja, name_en = excluded.name_en,
               ministry_org_id = excluded.ministry_org_id, position = excluded.position",
        )
        .bind(&s.code)
        .bind(&s.name_ja)
        .bind(&s.name_en)
        .bind(&s.ministry_org_id)
        .bind(s.position)
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }

    pub async fn upsert_service_level_rule(&mut self, r: &ServiceLevelRuleRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO service_level_rules (id, sector, service, condition_ja, condition_en, statute,
               min_users, min_duration_minutes, min_interrupted_kw, min_households, position)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (id) DO UPDATE SET sector = excluded.sector, service = excluded.service,
               condition_ja = excluded.condition_ja, condition_en = excluded.condition_en, statute = excluded.statute,
               min_users = excluded.min_users, min_duration_minutes = excluded.min_duration_minutes,
               min_interrupted_kw = excluded.min_interrupted_kw, min_households = excluded.min_households,
               position = excluded.position",
        )
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
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }

    pub async fn insert_dependency(&mut self, sector: &str, depends_on: &str) -> Result<()> {
        sqlx::query("INSERT OR IGNORE INTO sector_dependencies (sector, depends_on) VALUES (?, ?)")
            .bind(sector)
            .bind(depends_on)
            .execute(&mut *self.inner)
            .await?;
        Ok(())
    }

    pub async fn clear_dependencies(&mut self) -> Result<()> {
        sqlx::query("DELETE FROM sector_dependencies").execute(&mut *self.inner).await?;
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
        assert!(store.user_by_token_hash("expired", &now()).await.unwrap().is_none());
        assert_eq!(store.user_by_token_hash("valid", &now()).await.unwrap().unwrap().0.id, user.id);
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
        assert!(store.list_audit(10, 0).await.unwrap().is_empty(), "the audit entry rolled back with it");
    }
}
