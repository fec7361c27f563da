//! Administrators edit organisations, users, roles, need-to-know, tokens and the reference
//! data; every change is audited, and changes to who is where move read rights at once.

mod common;

use common::{fields, spawn_demo, TestApp};
use kyoyu_app::views::{
    AuditList, DependencyList, Me, NotificationList, OrgView, SectorList, ServiceLevelRuleList, SessionView, UserList,
};
use kyoyu_store::UserRow;
use reqwest::Method;
use serde_json::json;

async fn audit_actions(app: &TestApp) -> Vec<String> {
    let audit: AuditList = app.typed("/api/v1/admin/audit?limit=100", "ops.admin").await;
    audit.items.into_iter().map(|e| e.action).collect()
}

async fn user_id(app: &TestApp, admin: &str, login: &str) -> String {
    let users: UserList = app.typed("/api/v1/admin/users", admin).await;
    users.items.into_iter().find(|u| u.login == login).unwrap().id
}

/// A refusal's status and the fields it names.
async fn refused(
    app: &TestApp,
    method: Method,
    path: &str,
    login: &str,
    body: serde_json::Value,
) -> (u16, Vec<String>) {
    let (status, err) = app.refusal(method, path, login, Some(body)).await;
    (status, fields(&err))
}

#[tokio::test]
async fn system_admin_manages_organisations_users_and_tokens() {
    let app = spawn_demo().await;
    let body = json!({"kind": "operator", "name_ja": "北辰ガス株式会社", "name_en": "Hokushin Gas", "sector": "gas",
                      "identity": {"aliases": ["北辰ガス"], "domains": ["hokushin.example.jp"], "emails": [], "phones": ["011-222-3333"]}});
    assert_eq!(app.post("/api/v1/admin/orgs", "gas-a.admin", body.clone()).await.0, 403);
    let org: OrgView = app.post_as("/api/v1/admin/orgs", "ops.admin", body).await;
    let org_id = org.id.as_str();
    let nameless = json!({"kind": "operator", "name_ja": "x", "name_en": "x"});
    assert_eq!(
        refused(&app, Method::POST, "/api/v1/admin/orgs", "ops.admin", nameless).await,
        (422, vec!["sector".into()])
    );

    let (status, user) = app
        .post("/api/v1/admin/users", "ops.admin", json!({"org_id": org_id, "login": "hokushin.csirt", "display_name": "CSIRT", "roles": ["admin"], "need_to_know": true, "password": "pass-word-123"}))
        .await;
    assert_eq!(status, 201, "{user}");
    assert!(common::view::<UserRow>(&user).password_hash.is_none() && !user.to_string().contains("password_hash"));
    let liaison = json!({"org_id": org_id, "login": "hokushin.x", "display_name": "x", "roles": ["liaison"]});
    assert_eq!(
        refused(&app, Method::POST, "/api/v1/admin/users", "ops.admin", liaison).await,
        (422, vec!["roles[0]".into()])
    );
    let (status, _) = app
        .post(
            "/api/v1/admin/users",
            "ops.admin",
            json!({"org_id": org_id, "login": "hokushin.csirt", "display_name": "dup"}),
        )
        .await;
    assert_eq!(status, 409);

    // The administrator's password serves only to choose the user's own; then log in with it.
    let change = json!({"login": "hokushin.csirt", "password": "pass-word-123", "new_password": "own-pass-word-456"});
    assert_eq!(app.request(Method::POST, "/api/v1/password", None, Some(change)).await.0, 200);
    let (status, session) = app
        .request(
            Method::POST,
            "/api/v1/session",
            None,
            Some(json!({"login": "hokushin.csirt", "password": "own-pass-word-456"})),
        )
        .await;
    assert_eq!(status, 201, "{session}");
    let token = common::view::<SessionView>(&session).token;
    let (status, me) = app.request_with_token(Method::GET, "/api/v1/me", Some(&token), None).await;
    assert_eq!((status, common::view::<Me>(&me).org.id), (200, org_id.to_string()));
    let (status, _) = app
        .request(Method::POST, "/api/v1/session", None, Some(json!({"login": "hokushin.csirt", "password": "wrong"})))
        .await;
    assert_eq!(status, 401);
    let (status, _) =
        app.request(Method::POST, "/api/v1/session", None, Some(json!({"login": "nobody", "password": "wrong"}))).await;
    assert_eq!(status, 401);

    let actions = audit_actions(&app).await;
    for a in ["org.create", "user.create", "user.password_change", "token.create"] {
        assert!(actions.iter().any(|x| x == a), "{a} in {actions:?}");
    }
}

#[tokio::test]
async fn need_to_know_and_roles_are_granted_by_the_organisations_admin() {
    let app = spawn_demo().await;
    let amber = app.file("gas-a.ntk", "direct", "AMBER", json!({})).await;
    let path = format!("/api/v1/reports/{}", amber.id);
    assert_eq!(app.get(&path, "meti.member").await.0, 404);
    let member = user_id(&app, "meti.admin", "meti.member").await;
    assert_eq!(
        app.request(
            Method::PATCH,
            &format!("/api/v1/admin/users/{member}"),
            Some("gas-a.admin"),
            Some(json!({"need_to_know": true}))
        )
        .await
        .0,
        403
    );
    let (status, _) = app
        .request(
            Method::PATCH,
            &format!("/api/v1/admin/users/{member}"),
            Some("meti.admin"),
            Some(json!({"need_to_know": true})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(app.get(&path, "meti.member").await.0, 200);
    // Notices go to whoever may read when the item arrives: the change is seen at once.
    let later = app.file("gas-a.ntk", "direct", "AMBER", json!({})).await;
    let notices: NotificationList = app.typed("/api/v1/notifications", "meti.member").await;
    let told: Vec<&str> = notices.items.iter().map(|n| n.object_id.as_str()).collect();
    assert!(told.contains(&later.id.as_str()) && !told.contains(&amber.id.as_str()), "{told:?}");
    // An organisation's admin cannot make anyone a system administrator.
    let (status, _) = app
        .request(
            Method::PATCH,
            &format!("/api/v1/admin/users/{member}"),
            Some("meti.admin"),
            Some(json!({"roles": ["system_admin"]})),
        )
        .await;
    assert_eq!(status, 422);
    // A deactivated user's token stops working.
    app.request(
        Method::PATCH,
        &format!("/api/v1/admin/users/{member}"),
        Some("meti.admin"),
        Some(json!({"active": false})),
    )
    .await;
    assert_eq!(app.get("/api/v1/me", "meti.member").await.0, 401);
    assert!(audit_actions(&app).await.iter().any(|a| a == "user.update"));
    // An administrator cannot deactivate themselves (nobody might be left to undo it).
    let me = app.user("meti.admin").user_id.clone();
    let own = format!("/api/v1/admin/users/{me}");
    let answer = refused(&app, Method::PATCH, &own, "meti.admin", json!({"active": false})).await;
    assert_eq!(answer, (422, vec!["active".to_string()]));
    assert_eq!(app.get("/api/v1/me", "meti.admin").await.0, 200);
}

#[tokio::test]
async fn moving_an_organisation_or_jurisdiction_moves_read_rights() {
    let app = spawn_demo().await;
    let amber = app.file("gas-a.ntk", "direct", "AMBER", json!({})).await;
    let path = format!("/api/v1/reports/{}", amber.id);
    let ceptoar = app.org("gas-ceptoar.secretariat");
    let (status, _) = app.post(&format!("{path}/shares"), "meti.liaison", json!({"org_ids": [ceptoar]})).await;
    assert_eq!(status, 200);
    assert_eq!(app.get(&path, "gas-ceptoar.ntk").await.0, 200);
    // The CEPTOAR moves to another sector: it leaves the AMBER ceiling, and its share with it.
    let (status, _) = app
        .request(
            Method::PATCH,
            &format!("/api/v1/admin/orgs/{ceptoar}"),
            Some("ops.admin"),
            Some(json!({"sector": "water"})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(app.get(&path, "gas-ceptoar.ntk").await.0, 404);
    assert_eq!(app.count("gas-ceptoar.ntk", "").await, 0);
    assert!(audit_actions(&app).await.iter().any(|a| a == "org.update"));

    // Jurisdiction over gas moves to MIC: new reports go there.
    let mic = app.org("mic.liaison");
    let (status, sector) = app
        .request(Method::PUT, "/api/v1/admin/sectors/gas", Some("ops.admin"), Some(json!({"ministry_org_id": mic})))
        .await;
    assert_eq!(status, 200, "{sector}");
    let next = app.file("gas-a.ntk", "direct", "AMBER", json!({})).await;
    assert_eq!(next.receiver_org_id, mic);
    assert_eq!(app.get(&format!("/api/v1/reports/{}", next.id), "meti.liaison").await.0, 404);
    let sectors: SectorList = app.typed("/api/v1/sectors", "gas-a.member").await;
    let gas = sectors.items.into_iter().find(|s| s.code == "gas").unwrap();
    assert_eq!(gas.ministry_org_id, Some(mic));
    let operator = json!({"ministry_org_id": app.org("gas-a.admin")});
    let answer = refused(&app, Method::PUT, "/api/v1/admin/sectors/gas", "ops.admin", operator).await;
    assert_eq!(answer, (422, vec!["ministry_org_id".to_string()]));
    assert!(audit_actions(&app).await.iter().any(|a| a == "sector.put"));
}

#[tokio::test]
async fn service_level_rules_and_dependencies_are_editable_reference_data() {
    let app = spawn_demo().await;
    let rules = || app.typed::<ServiceLevelRuleList>("/api/v1/service-level-rules", "gas-a.member");
    let electricity = rules().await.items.into_iter().find(|r| r.sector == "electricity").unwrap();
    assert_eq!(electricity.min_interrupted_kw, Some(100_000));
    assert!(electricity.statute.contains("電気関係報告規則"));
    let mut edited = electricity.clone();
    edited.min_duration_minutes = Some(15);
    let edited = json!(edited);
    let path = format!("/api/v1/admin/service-level-rules/{}", electricity.id);
    assert_eq!(app.request(Method::PUT, &path, Some("gas-a.admin"), Some(edited.clone())).await.0, 403);
    let (status, body) = app.request(Method::PUT, &path, Some("ops.admin"), Some(edited)).await;
    assert_eq!(status, 200, "{body}");
    let after = rules().await.items.into_iter().find(|r| r.id == electricity.id).unwrap();
    assert_eq!(after.min_duration_minutes, Some(15));

    let deps = || app.typed::<DependencyList>("/api/v1/sector-dependencies", "gas-a.member");
    assert!(deps().await.items.iter().any(|e| e.sector == "medical" && e.depends_on == "water"));
    let moon = json!({"items": [{"sector": "gas", "depends_on": "moon"}]});
    let answer = refused(&app, Method::PUT, "/api/v1/admin/sector-dependencies", "ops.admin", moon).await;
    assert_eq!(answer, (422, vec!["items[0].depends_on".to_string()]));
    let (status, _) = app
        .request(
            Method::PUT,
            "/api/v1/admin/sector-dependencies",
            Some("ops.admin"),
            Some(json!({"items": [{"sector": "gas", "depends_on": "electricity"}]})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(deps().await.items.len(), 1);
    let actions = audit_actions(&app).await;
    assert!(
        actions.iter().any(|a| a == "service_level_rule.put") && actions.iter().any(|a| a == "sector_dependencies.put")
    );
}

#[tokio::test]
async fn the_demo_has_a_log_in_for_every_kind_of_organisation() {
    let app = spawn_demo().await;
    for kind in kyoyu_domain::codes::OrgKind::ALL {
        let logins: Vec<&str> = app.users.values().filter(|u| u.org_kind == *kind).map(|u| u.login.as_str()).collect();
        assert!(!logins.is_empty(), "no demo log-in for {kind}");
        // Each logs in and reads who it is.
        let me: Me = app.typed("/api/v1/me", logins[0]).await;
        assert_eq!(me.org.kind, *kind);
    }
}
