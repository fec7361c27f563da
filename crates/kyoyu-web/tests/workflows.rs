//! Work that spans roles, over HTTP as a browser without JavaScript sends it: advisory
//! authoring's sanitisation and scope checks with a widening request, ministry forwards that
//! may only tighten, and administration.

mod common;

use common::{spawn_web, Session, WebApp};

/// The first link to an item of `kind` on a page.
/// The id in the page's first link to one item of `kind` (ids are UUIDs; pages such as
/// `/reports/new` or `/reports/export.csv` are passed over).
fn first_link(page: &str, kind: &str) -> String {
    let marker = format!("href=\"/{kind}/");
    page.split(&marker)
        .skip(1)
        .map(|rest| rest.split(['"', '/', '?']).next().unwrap().to_string())
        .find(|id| id.len() == 36)
        .unwrap_or_else(|| panic!("no link to one of {kind} in page"))
}

/// The TLP banner of a RED item.
const RED_BANNER: &str = r#"<span class="tlp">TLP:RED</span>"#;

fn created_id(location: &str, kind: &str) -> String {
    location.trim_start_matches(&format!("/{kind}/")).split('?').next().unwrap().to_string()
}

async fn file(app: &WebApp, s: &Session, tlp: &str, description: &str) -> String {
    file_by(app, s, "direct", tlp, description).await
}

async fn file_by(app: &WebApp, s: &Session, route: &str, tlp: &str, description: &str) -> String {
    let csrf = s.csrf().await;
    let form = [
        ("_csrf", csrf.as_str()),
        ("route", route),
        ("statutory", "false"),
        ("tlp", tlp),
        ("has_attachments", "false"),
        ("sector", "gas"),
        ("summary.description", description),
    ];
    let (status, location) = s.post_form("/reports/new", &form).await;
    assert_eq!(status, 303, "{location}");
    let _ = app;
    created_id(&location, "reports")
}

#[tokio::test]
async fn the_urgent_routes_copy_to_the_coordinator_is_marked_as_such() {
    let app = spawn_web().await;
    let operator = app.client("gas-a.ntk", "en").await;
    let id = file_by(&app, &operator, "urgent", "AMBER", "Control system down").await;
    let (_, page) = operator.get(&format!("/reports/{id}")).await;
    assert_eq!(page.matches("copy to the coordinator").count(), 1, "one of the two hops is the copy: {page}");
    // The coordinator's home charts the last 30 days: this chain, by sector, severity, route,
    // counted in the background (the first visit only starts it).
    let coordinator = app.client("nisc.cip", "en").await;
    let (_, first) = coordinator.get("/").await;
    assert!(first.contains("Reports in the last 30 days"), "{first}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let home = loop {
        let (_, home) = coordinator.get("/").await;
        if home.contains("Chains: <strong>") || std::time::Instant::now() > deadline {
            break home;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    let recent = &home[home.find("Reports in the last 30 days").expect("the 30-day charts")..];
    assert!(recent.contains("Chains: <strong>1</strong>"), "{recent}");
    assert!(recent.contains(">Urgent</text>") && recent.contains("By severity"), "{recent}");
}

#[tokio::test]
async fn a_follow_up_shows_what_changed_since_the_report_before() {
    let app = spawn_web().await;
    let operator = app.client("gas-a.ntk", "en").await;
    let first = file(&app, &operator, "AMBER", "Odd traffic on the control network").await;
    let csrf = operator.csrf().await;
    let form = [
        ("_csrf", csrf.as_str()),
        ("_follow_up", first.as_str()),
        ("route", "direct"),
        ("statutory", "false"),
        ("tlp", "AMBER"),
        ("has_attachments", "false"),
        ("sector", "gas"),
        ("summary.description", "Control network isolated; investigating"),
    ];
    let (status, location) = operator.post_form("/reports/new", &form).await;
    assert_eq!(status, 303, "{location}");
    let (_, page) = operator.get(&location).await;
    assert!(page.contains("Changes since the previous report"), "{page}");
    assert!(page.contains("<del>Odd traffic on the control network</del>"), "{page}");
    assert!(page.contains("<ins>Control network isolated; investigating</ins>"), "{page}");
    let (_, original) = operator.get(&format!("/reports/{first}")).await;
    assert!(!original.contains("Changes since the previous report"), "the first report has nothing before it");
}

#[tokio::test]
async fn a_report_shows_the_systems_service_level_evaluation_and_the_figures() {
    let app = spawn_web().await;
    let body = kyoyu_test_support::demo::report_body(
        "electricity",
        "direct",
        "AMBER",
        serde_json::json!({"impact": {"system_status": "stopped", "figures": {"interrupted_kw": 150000, "duration_minutes": 12}}}),
    );
    let filed = reqwest::Client::new()
        .post(format!("{}/api/v1/reports", app.base))
        .bearer_auth(&app.user("electricity-a.ntk").token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(filed.status().as_u16(), 201);
    let id = filed.json::<kyoyu_app::views::ReportView>().await.unwrap().id;
    let (_, page) = app.client("meti.liaison", "en").await.get(&format!("/reports/{id}")).await;
    assert!(page.contains("The system's evaluation") && page.contains("<strong>deviated</strong>"), "{page}");
    assert!(page.contains("電気関係報告規則") && page.contains("kW interrupted 150000"), "the statute and figures");
}

#[tokio::test]
async fn ministry_forward_keeps_or_tightens_the_scope_only() {
    let app = spawn_web().await;
    let operator = app.client("gas-a.ntk", "ja").await;
    file(&app, &operator, "AMBER", "制御系で不審な通信").await;
    let ministry = app.client("meti.liaison", "en").await;
    let id = first_link(&ministry.get("/").await.1, "reports");
    let (_, form) = ministry.get(&format!("/reports/{id}/forward")).await;
    assert!(
        form.contains(r#"value="RED""#) && !form.contains(r#"name="tlp" value="GREEN""#),
        "only keep or tighten offered"
    );
    let csrf = ministry.csrf().await;
    let (status, page) = ministry
        .post_form(&format!("/reports/{id}/forward"), &[("_csrf", &csrf), ("_action", "send"), ("tlp", "GREEN")])
        .await;
    assert_eq!(status, 422, "loosening is refused");
    assert!(page.contains(r#"data-field="tlp">cannot loosen the sharing scope (AMBER -&gt; GREEN)"#), "{page}");
    let (status, location) = ministry
        .post_form(&format!("/reports/{id}/forward"), &[("_csrf", &csrf), ("_action", "send"), ("tlp", "RED")])
        .await;
    assert_eq!(status, 303, "{location}");
    let (_, sent) = ministry.get(&location).await;
    // The banner, not the form's TLP grid (which lists every TLP).
    assert!(sent.contains(RED_BANNER), "the forwarded rendition is RED");
}

#[tokio::test]
async fn advisory_issue_shows_sanitisation_and_scope_problems_and_asks_the_source_to_widen() {
    let app = spawn_web().await;
    let operator_org = app.store.get_org(&app.user("gas-a.ntk").org_id).await.unwrap().unwrap();
    let operator = app.client("gas-a.ntk", "ja").await;
    file(&app, &operator, "AMBER", &format!("{}の制御系で不審な通信", operator_org.name_ja)).await;
    let ministry = app.client("meti.liaison", "ja").await;
    let received = first_link(&ministry.get("/").await.1, "reports");
    let csrf = ministry.csrf().await;
    let forwarded =
        ministry.post_form(&format!("/reports/{received}/forward"), &[("_csrf", &csrf), ("_action", "send")]).await;
    assert_eq!(forwarded.0, 303);

    let coordinator = app.client("nisc.cip", "ja").await;
    let source = first_link(&coordinator.get("/").await.1, "reports");
    let (_, new) = coordinator.get(&format!("/advisories/new?source={source}")).await;
    assert!(new.contains("★推奨"), "the source's sector is suggested as a recipient");
    let sectors = app.store.list_sectors().await.unwrap();
    let ministry_of = |code: &str| sectors.iter().find(|s| s.code == code).unwrap().ministry_org_id.clone().unwrap();
    let (gas, finance) = (format!("{}|gas", ministry_of("gas")), format!("{}|finance", ministry_of("finance")));
    let csrf = coordinator.csrf().await;
    let summary = format!("{}で不審な通信が確認された", operator_org.name_ja);
    let form = |action: &'static str| {
        vec![
            ("_csrf", csrf.clone()),
            ("_action", action.to_string()),
            ("source_report_ids", source.clone()),
            ("_recipient", gas.clone()),
            ("_recipient", finance.clone()),
            ("tlp", "GREEN".to_string()),
            ("has_attachments", "false".to_string()),
            ("content.summary", summary.clone()),
        ]
    };
    let pairs = |v: &Vec<(&'static str, String)>| v.iter().map(|(k, v)| (*k, v.clone())).collect::<Vec<_>>();
    let post = |path: String, v: Vec<(&'static str, String)>| {
        let http = coordinator.http.clone();
        let base = coordinator.base.clone();
        async move { http.post(format!("{base}{path}")).form(&v).send().await.unwrap() }
    };
    let r = post("/advisories/new".into(), pairs(&form("save"))).await;
    assert_eq!(r.status().as_u16(), 303);
    let id = created_id(r.headers()["location"].to_str().unwrap(), "advisories");
    // Saved beyond the AMBER source's scope (GREEN, to finance too): the draft says so at once.
    let (_, saved) = coordinator.get(&format!("/advisories/{id}")).await;
    assert!(saved.contains("共有範囲を超えています"), "the draft warns before any issue: {saved}");
    assert!(saved.contains(r#"data-field="source_report_ids[0]""#), "beside the source");
    let r = post(format!("/advisories/{id}"), pairs(&form("issue"))).await;
    assert_eq!(r.status().as_u16(), 422);
    let page = r.text().await.unwrap();
    assert!(page.contains(r#"data-field="content.summary">情報源を特定できる文字列が 1 件残っています"#), "{page}");
    let r = post(format!("/advisories/{id}"), {
        let mut v = pairs(&form("issue"));
        v.retain(|(k, _)| *k != "content.summary");
        v.push(("content.summary", "ガス事業者の制御系で不審な通信が確認された".into()));
        v
    })
    .await;
    assert_eq!(r.status().as_u16(), 422);
    let page = r.text().await.unwrap();
    assert!(page.contains(r#"data-field="source_report_ids[0]""#), "the scope rule names the source: {page}");
    assert!(page.contains(&format!(r#"action="/advisories/{id}/widening""#)), "a widening request is offered");
    let (status, location) =
        coordinator.post_form(&format!("/advisories/{id}/widening"), &[("_csrf", &csrf), ("report_id", &source)]).await;
    assert_eq!(status, 303, "{location}");
    assert!(location.ends_with("done=widening"));
    // The operator's officer grants it on the widening page; then the advisory issues.
    let officer = app.client("gas-a.admin", "ja").await;
    let (_, requests) = officer.get("/scope-widenings").await;
    assert!(requests.contains("事業者の回答待ち"), "{requests}");
    assert!(requests.contains("求める提供範囲: "), "the request shows the scope it asks for: {requests}");
    let widening = requests.split("/scope-widenings/").nth(1).unwrap().split('/').next().unwrap().to_string();
    let csrf_officer = officer.csrf().await;
    let (status, _) = officer
        .post_form(&format!("/scope-widenings/{widening}/answer"), &[("_csrf", &csrf_officer), ("grant", "true")])
        .await;
    assert_eq!(status, 303);
    assert!(officer.get("/scope-widenings").await.1.contains("同意"));
    let r = post(format!("/advisories/{id}"), {
        let mut v = pairs(&form("issue"));
        v.retain(|(k, _)| *k != "content.summary");
        v.push(("content.summary", "ガス事業者の制御系で不審な通信が確認された".into()));
        v
    })
    .await;
    assert_eq!(r.status().as_u16(), 303, "issuable once the source consented");
    let confirm_page = r.headers()["location"].to_str().unwrap().to_string();
    assert_eq!(confirm_page, format!("/advisories/{id}/issue"), "checked, then confirmed before it goes");
    let (_, shown) = coordinator.get(&confirm_page).await;
    assert!(shown.contains("この操作は取り消せません") && shown.contains("ガス"), "what goes to whom: {shown}");
    let (status, location) = coordinator.post_form(&confirm_page, &[("_csrf", &csrf), ("confirmed", "yes")]).await;
    assert_eq!((status, location.ends_with("done=issued")), (303, true), "{location}");
}

#[tokio::test]
async fn administration_edits_users_tokens_and_reference_data() {
    let app = spawn_web().await;
    let admin = app.client("ops.admin", "en").await;
    let gas_a = app.user("gas-a.member").org_id.clone();
    let (status, page) = admin.get(&format!("/admin?org_id={gas_a}")).await;
    assert_eq!(status, 200);
    assert!(page.contains("Sector dependencies") && page.contains("gas-a.member"));
    let member = app.store.find_user_by_login("gas-a.member").await.unwrap().unwrap().id;
    let csrf = admin.csrf().await;
    let (status, _) =
        admin.post_form(&format!("/admin/users/{member}"), &[("_csrf", &csrf), ("need_to_know", "true")]).await;
    assert_eq!(status, 303);
    let (user, _) = app.store.user_with_org(&member).await.unwrap().unwrap();
    assert!(user.need_to_know, "need-to-know granted");
    let (status, _) = admin.post_form(&format!("/admin/users/{member}/unlock"), &[("_csrf", &csrf)]).await;
    assert_eq!(status, 303, "an administrator lifts a user's log-in delays");
    // Deactivating first shows what it stops; only the confirmation's own form acts.
    let deactivate = [("_csrf", csrf.as_str()), ("_org", gas_a.as_str()), ("active", "false")];
    let (status, page) = admin.post_form(&format!("/admin/users/{member}"), &deactivate).await;
    assert_eq!(status, 200, "a confirmation, not the change");
    assert!(page.contains("gas-a.member") && page.contains("can no longer log in"), "{page}");
    assert!(app.store.user_with_org(&member).await.unwrap().unwrap().0.active, "still active until confirmed");
    let confirmed = [("_csrf", csrf.as_str()), ("active", "false"), ("confirmed", "yes")];
    assert_eq!(admin.post_form(&format!("/admin/users/{member}"), &confirmed).await.0, 303);
    assert!(!app.store.user_with_org(&member).await.unwrap().unwrap().0.active, "deactivated once confirmed");
    let reactivate = [("_csrf", csrf.as_str()), ("active", "true")];
    assert_eq!(admin.post_form(&format!("/admin/users/{member}"), &reactivate).await.0, 303, "no step to undo it");
    // An administrator does not mint tokens for others (that would be acting as them).
    let (status, page) =
        admin.post_form(&format!("/admin/users/{member}/tokens"), &[("_csrf", &csrf), ("label", "ci")]).await;
    assert_eq!(status, 403);
    assert!(!page.contains("id=\"new-token\">kyoyu_"));
    let own = app.user("ops.admin").user_id.clone();
    let (status, page) =
        admin.post_form(&format!("/admin/users/{own}/tokens"), &[("_csrf", &csrf), ("label", "ci")]).await;
    assert_eq!(status, 200);
    assert!(page.contains("id=\"new-token\">kyoyu_"), "the owner's token is shown once");
    let sessions = page.find("Sessions logged in").expect("log-ins are listed apart from tokens");
    assert!(page.find("<td>ci</td>").is_some_and(|t| t < sessions), "the API token is among the tokens");
    assert!(page.rfind("<td>web</td>").is_some_and(|w| w > sessions), "the browser's log-in is a session");
    assert!(page.contains(" JST</td>"), "times are labelled JST");
    // Dependencies are a matrix of sectors: one ticked cell per dependency.
    let (_, overview) = admin.get("/admin").await;
    assert!(overview.contains(r#"name="edge" value="medical:water" checked"#), "the demo's dependency is ticked");
    let (status, _) =
        admin.post_form("/admin/dependencies", &[("_csrf", &csrf), ("edge", "finance:electricity")]).await;
    assert_eq!(status, 303);
    assert_eq!(app.store.list_dependencies().await.unwrap(), vec![("finance".to_string(), "electricity".to_string())]);
    let (status, page) =
        admin.post_form("/admin/dependencies", &[("_csrf", &csrf), ("edge", "nowhere:electricity")]).await;
    assert_eq!(status, 422);
    assert!(page.contains("items[0].sector"), "the bad cell is named");
    // A service-level rule is a form of fields; a blank threshold is no threshold.
    let rule =
        app.store.list_service_level_rules().await.unwrap().into_iter().find(|r| r.sector == "electricity").unwrap();
    assert!(overview.contains(&format!(r#"id="rule-{}-min_interrupted_kw""#, rule.id)), "thresholds are fields");
    let minutes = rule.min_duration_minutes.unwrap_or(10).to_string();
    let fields = [
        ("_csrf", csrf.as_str()),
        ("sector", rule.sector.as_str()),
        ("position", "0"),
        ("service", rule.service.as_str()),
        ("condition_ja", rule.condition_ja.as_str()),
        ("condition_en", rule.condition_en.as_str()),
        ("statute", rule.statute.as_str()),
        ("min_interrupted_kw", "200000"),
        ("min_duration_minutes", minutes.as_str()),
        ("min_users", ""),
    ];
    assert_eq!(admin.post_form(&format!("/admin/service-level-rules/{}", rule.id), &fields).await.0, 303);
    let saved = app.store.list_service_level_rules().await.unwrap().into_iter().find(|r| r.id == rule.id).unwrap();
    assert_eq!((saved.min_interrupted_kw, saved.min_users), (Some(200_000), None));
    let (status, audit) = admin.get("/admin/audit").await;
    assert_eq!(status, 200);
    assert!(audit.contains("user.update"), "the change just made is in the audit log");
    assert!(
        audit.contains("user edited") && audit.contains("System operations</small>"),
        "actions by label, who by name"
    );
    let (_, tokens_only) = admin.get("/admin/audit?action=token.create").await;
    assert!(
        tokens_only.contains("<code>token.create</code>") && !tokens_only.contains("<code>user.update</code>"),
        "the action filter narrows"
    );
    assert_eq!(admin.get("/admin/audit?since=yesterday").await.0, 422, "a bad date is named");
    // Identity strings, which anonymisation removes, are edited per organisation.
    let (status, page) = admin.get(&format!("/admin/orgs/{gas_a}")).await;
    assert_eq!(status, 200);
    assert!(page.contains("identity.aliases"));
    let (status, _) = admin
        .post_form(
            &format!("/admin/orgs/{gas_a}"),
            &[("_csrf", &csrf), ("identity.aliases", "トートガス\nTOTO"), ("identity.domains", "toto-gas.example.jp")],
        )
        .await;
    assert_eq!(status, 303);
    let org = app.store.get_org(&gas_a).await.unwrap().unwrap();
    assert_eq!(org.identity.aliases, vec!["トートガス".to_string(), "TOTO".to_string()]);
    assert_eq!(org.identity.domains, vec!["toto-gas.example.jp".to_string()]);
    // An operator's member may not administer.
    let operator = app.client("gas-a.ntk", "en").await;
    let csrf = operator.csrf().await;
    let (status, _) =
        operator.post_form(&format!("/admin/users/{member}"), &[("_csrf", &csrf), ("need_to_know", "false")]).await;
    assert_eq!(status, 403);
    assert_eq!(operator.get(&format!("/admin/orgs/{gas_a}")).await.0, 403, "identity strings are for system admins");
    assert_eq!(operator.get("/admin/audit").await.0, 403);
}

/// The authoring form of a GREEN advisory to METI for gas.
async fn advisory_form(
    app: &WebApp,
    coordinator: &Session,
    action: &str,
    summary: &str,
) -> Vec<(&'static str, String)> {
    vec![
        ("_csrf", coordinator.csrf().await),
        ("_action", action.to_string()),
        ("_recipient", format!("{}|gas", app.user("meti.liaison").org_id)),
        ("tlp", "GREEN".into()),
        ("has_attachments", "false".into()),
        ("content.summary", summary.to_string()),
    ]
}

async fn post_pairs(s: &Session, path: &str, form: &[(&'static str, String)]) -> (u16, String) {
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    s.post_form(path, &pairs).await
}

/// Drafts and issues a GREEN advisory to METI for gas, as the coordinator; answers its id.
async fn issue_advisory(app: &WebApp, coordinator: &Session, summary: &str) -> String {
    let (_, location) =
        post_pairs(coordinator, "/advisories/new", &advisory_form(app, coordinator, "save", summary).await).await;
    let id = created_id(&location, "advisories");
    let issue = advisory_form(app, coordinator, "issue", summary).await;
    assert_eq!(post_pairs(coordinator, &format!("/advisories/{id}"), &issue).await.0, 303);
    confirm_issue(coordinator, &id).await;
    id
}

/// Confirms issuing a checked draft, as its confirmation page's button does.
async fn confirm_issue(coordinator: &Session, id: &str) {
    let csrf = coordinator.csrf().await;
    let path = format!("/advisories/{id}/issue");
    let (status, location) = coordinator.post_form(&path, &[("_csrf", &csrf)]).await;
    assert_eq!((status, location.as_str()), (303, path.as_str()), "unconfirmed, it only shows the confirmation");
    let (status, location) = coordinator.post_form(&path, &[("_csrf", &csrf), ("confirmed", "yes")]).await;
    assert_eq!(status, 303, "{location}");
    assert!(location.ends_with("done=issued"), "{location}");
}

#[tokio::test]
async fn ministries_in_scope_ask_questions_and_the_coordinator_sees_them_on_its_home() {
    let app = spawn_web().await;
    let coordinator = app.client("nisc.cip", "en").await;
    let id = issue_advisory(&app, &coordinator, "Patch the gateway").await;

    let ministry = app.client("meti.liaison", "en").await;
    let csrf = ministry.csrf().await;
    let (status, _) =
        ministry.post_form(&format!("/advisories/{id}/questions"), &[("_csrf", &csrf), ("text", "")]).await;
    assert_eq!(status, 422, "an empty question is refused on the page");
    let (status, location) = ministry
        .post_form(&format!("/advisories/{id}/questions"), &[("_csrf", &csrf), ("text", "Which versions?")])
        .await;
    assert_eq!(status, 303, "{location}");
    let (_, page) = ministry.get(&format!("/advisories/{id}")).await;
    assert!(page.contains("Which versions?") && page.contains("Not answered yet"), "{page}");
    let (_, home) = coordinator.get("/").await;
    let questions = &home[home.find("Questions not answered").expect("the questions table")..];
    assert!(questions.contains(&format!("href=\"/advisories/{id}\"")), "the question waits on the coordinator's home");
    // The coordinator answers in the same thread; the question then shows it was answered.
    let (_, page) = coordinator.get(&format!("/advisories/{id}")).await;
    assert!(page.contains("Send the answer"), "the coordinator's box answers");
    let csrf = coordinator.csrf().await;
    let answer = [("_csrf", csrf.as_str()), ("text", "Versions 2.1 and later.")];
    assert_eq!(coordinator.post_form(&format!("/advisories/{id}/questions"), &answer).await.0, 303);
    let (_, page) = ministry.get(&format!("/advisories/{id}")).await;
    assert!(page.contains("Answered") && !page.contains("Not answered yet"), "{page}");
    let (_, home) = coordinator.get("/").await;
    let questions = &home[home.find("Questions not answered").expect("the questions table")..];
    assert!(!questions.contains(&format!("href=\"/advisories/{id}\"")), "answered, it leaves the questions list");
    // An operator neither sees the thread nor may post to it.
    let operator = app.client("gas-a.ntk", "en").await;
    let csrf = operator.csrf().await;
    let (status, _) =
        operator.post_form(&format!("/advisories/{id}/questions"), &[("_csrf", &csrf), ("text", "x")]).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn advisory_follow_ups_and_notifications() {
    let app = spawn_web().await;
    let coordinator = app.client("nisc.cip", "en").await;
    let first = issue_advisory(&app, &coordinator, "Phishing wave").await;
    let csrf = coordinator.csrf().await;
    let (status, location) =
        coordinator.post_form(&format!("/advisories/{first}/follow-up"), &[("_csrf", &csrf)]).await;
    assert_eq!(status, 303, "{location}");
    let second = created_id(&location, "advisories");
    let (_, draft) = coordinator.get(&location).await;
    assert!(draft.contains("Phishing wave"), "the follow-up starts from the first advisory");
    let issue = advisory_form(&app, &coordinator, "issue", "Phishing wave: second wave").await;
    assert_eq!(post_pairs(&coordinator, &format!("/advisories/{second}"), &issue).await.0, 303);
    confirm_issue(&coordinator, &second).await;
    let (_, page) = coordinator.get(&format!("/advisories/{second}")).await;
    assert!(page.contains("T2") && page.contains("-2</h1>"), "numbered as the chain's second advisory");

    let ministry = app.client("meti.liaison", "en").await;
    let (_, notes) = ministry.get("/notifications").await;
    assert!(
        notes.contains(&format!("href=\"/advisories/{first}\""))
            && notes.contains(&format!("href=\"/advisories/{second}\""))
    );
    assert!(notes.contains("<strong>unread</strong>"));
    assert!(notes.contains(" advisory</a>") && !notes.contains("情報提供"), "subjects in English alone: {notes}");
    // Each user chooses how mail tells them.
    let csrf = ministry.csrf().await;
    let choose = [("_csrf", csrf.as_str()), ("mode", "digest")];
    assert_eq!(ministry.post_form("/notifications/settings", &choose).await.0, 303);
    let (_, notes) = ministry.get("/notifications").await;
    assert!(notes.contains(r#"value="digest" checked"#), "the choice is shown: {notes}");
    let csrf = ministry.csrf().await;
    assert_eq!(ministry.post_form("/notifications/read", &[("_csrf", &csrf)]).await.0, 303);
    assert!(!ministry.get("/notifications").await.1.contains("<strong>unread</strong>"));
    // Another sector's ministry was not a recipient: no notification, no page.
    let fsa = app.client("fsa.liaison", "en").await;
    assert!(!fsa.get("/notifications").await.1.contains(&first));
    assert_eq!(fsa.get(&format!("/advisories/{first}")).await.0, 404);
}

#[tokio::test]
async fn shares_stay_inside_the_scope_and_publication_needs_the_operators_consent() {
    let app = spawn_web().await;
    let operator = app.client("gas-a.ntk", "en").await;
    file(&app, &operator, "WHITE", "Public notice about a phishing site").await;
    file(&app, &operator, "RED", "Internal detail").await;
    let ministry = app.client("meti.liaison", "en").await;
    let (_, home) = ministry.get("/").await;
    let ceptoar = app.user("gas-ceptoar.secretariat").org_id.clone();
    let csrf = ministry.csrf().await;
    let mut white = None;
    let ids = home.split("href=\"/reports/").skip(1).map(|s| s.split(['"', '/', '?']).next().unwrap().to_string());
    for id in ids.filter(|id| id.len() == 36) {
        let (_, page) = ministry.get(&format!("/reports/{id}")).await;
        let (status, answer) =
            ministry.post_form(&format!("/reports/{id}/share"), &[("_csrf", &csrf), ("org_ids", &ceptoar)]).await;
        if page.contains(RED_BANNER) {
            assert_eq!(status, 422, "a RED report may not reach a CEPTOAR");
            assert!(answer.contains("field-error"), "the refusal is shown on the page");
        } else {
            assert_eq!(status, 303, "{answer}");
            white = Some(id);
        }
    }
    let white = white.expect("the WHITE report reached the ministry");
    let secretariat = app.client("gas-ceptoar.secretariat", "en").await;
    assert!(secretariat.get("/reports").await.1.contains(&white), "shared to the CEPTOAR");
    // Forward to the coordinator, which may publish only after the operator consents.
    let (status, _) =
        ministry.post_form(&format!("/reports/{white}/forward"), &[("_csrf", &csrf), ("_action", "send")]).await;
    assert_eq!(status, 303);
    let coordinator = app.client("nisc.cip", "en").await;
    let (_, board) = coordinator.get("/").await;
    let at_coordinator = first_link(&board, "reports");
    let csrf_c = coordinator.csrf().await;
    let (status, page) = coordinator
        .post_form(&format!("/reports/{at_coordinator}/publish"), &[("_csrf", &csrf_c), ("confirmed", "yes")])
        .await;
    assert_eq!(status, 422);
    assert!(page.contains("has not consented"), "{page}");
    let officer = app.client("gas-a.admin", "en").await;
    let (_, mine) = officer.get("/reports?q=phishing").await;
    let own = first_link(&mine, "reports");
    let csrf_o = officer.csrf().await;
    let consent = format!("/reports/{own}/consent");
    let (status, location) = officer.post_form(&consent, &[("_csrf", &csrf_o)]).await;
    assert_eq!((status, location.as_str()), (303, consent.as_str()), "consent waits for its confirmation");
    assert!(officer.get(&consent).await.1.contains("non-disclosure information"), "the page says what consent allows");
    assert_eq!(officer.post_form(&consent, &[("_csrf", &csrf_o), ("confirmed", "yes")]).await.0, 303);
    assert!(
        officer.get(&format!("/reports/{own}")).await.1.contains("has consented to disclosure"),
        "and then shows it"
    );
    let publish = format!("/reports/{at_coordinator}/publish");
    let (status, _) = coordinator.post_form(&publish, &[("_csrf", &csrf_c), ("confirmed", "yes")]).await;
    assert_eq!(status, 303);
    let public = reqwest::get(format!("{}/api/v1/public/reports", app.base)).await.unwrap().text().await.unwrap();
    assert!(public.contains("Public notice about a phishing site"));
}

/// The values a confirmation page carries for `name` (hidden inputs).
fn carried(page: &str, name: &str) -> Vec<String> {
    let marker = format!(r#"type="hidden" name="{name}" value=""#);
    page.split(&marker).skip(1).map(|rest| rest.split('"').next().unwrap().to_string()).collect()
}

#[tokio::test]
async fn relaying_to_every_ceptoar_or_every_member_is_one_step_after_a_confirmation() {
    let app = spawn_web().await;
    let coordinator = app.client("nisc.cip", "ja").await;
    let id = issue_advisory(&app, &coordinator, "全構成員への周知").await;
    let relay = format!("/advisories/{id}/relay");

    let ministry = app.client("meti.liaison", "ja").await;
    let listed = format!("href=\"/advisories/{id}\"");
    assert!(ministry.get("/").await.1.contains(&listed), "the ministry's inbox holds it until it acts");
    let csrf = ministry.csrf().await;
    let (status, page) = ministry.post_form(&relay, &[("_csrf", &csrf), ("_group", "ceptoar"), ("tlp", "GREEN")]).await;
    assert_eq!(status, 200, "a confirmation, not the relay: {page}");
    let ceptoars = carried(&page, "org_ids");
    assert_eq!(ceptoars, [app.user("gas-ceptoar.secretariat").org_id.clone()], "the CEPTOARs in scope");
    let mut form: Vec<(&str, &str)> = ceptoars.iter().map(|c| ("org_ids", c.as_str())).collect();
    form.extend([("_csrf", csrf.as_str()), ("tlp", "GREEN"), ("confirmed", "yes")]);
    assert_eq!(ministry.post_form(&relay, &form).await.0, 303);
    assert!(!ministry.get("/").await.1.contains(&listed), "relayed, it leaves the ministry's inbox");

    let secretariat = app.client("gas-ceptoar.secretariat", "ja").await;
    let csrf = secretariat.csrf().await;
    let (_, advisory) = secretariat.get(&format!("/advisories/{id}")).await;
    assert!(advisory.contains("すべての構成員へ伝達"), "the group button is offered");
    assert!(advisory.contains("このグループのすべてへ伝達"), "and one per group");
    let (status, page) =
        secretariat.post_form(&relay, &[("_csrf", &csrf), ("_group_index", "0"), ("tlp", "GREEN")]).await;
    assert_eq!(status, 200, "one group's members go to a confirmation too");
    let group = carried(&page, "org_ids");
    assert!(
        group.contains(&app.user("gas-a.ntk").org_id) && group.contains(&app.user("gas-b.ntk").org_id),
        "{group:?}"
    );
    let (status, page) =
        secretariat.post_form(&relay, &[("_csrf", &csrf), ("_group", "operator"), ("tlp", "GREEN")]).await;
    assert_eq!(status, 200);
    let members = carried(&page, "org_ids");
    for login in ["gas-a.ntk", "gas-b.ntk"] {
        assert!(members.contains(&app.user(login).org_id), "{login}'s operator is a member to relay to");
    }
    assert_eq!(
        app.client("gas-b.ntk", "ja").await.get(&format!("/advisories/{id}")).await.0,
        404,
        "not before confirming"
    );
    let mut form: Vec<(&str, &str)> = members.iter().map(|c| ("org_ids", c.as_str())).collect();
    form.extend([("_csrf", csrf.as_str()), ("tlp", "GREEN"), ("confirmed", "yes")]);
    assert_eq!(secretariat.post_form(&relay, &form).await.0, 303);
    assert_eq!(
        app.client("gas-b.ntk", "ja").await.get(&format!("/advisories/{id}")).await.0,
        200,
        "every member has it"
    );
}

#[tokio::test]
async fn the_report_list_sorts_by_time_either_way_and_keeps_the_order_across_filters() {
    let app = spawn_web().await;
    let operator = app.client("gas-a.ntk", "en").await;
    let older = file(&app, &operator, "GREEN", "First of two").await;
    let newer = file(&app, &operator, "GREEN", "Second of two").await;
    let (_, newest_first) = operator.get("/reports").await;
    assert_eq!(first_link(&newest_first, "reports"), newer, "newest first by default");
    assert!(newest_first.contains("&amp;sort=oldest"), "the time heading turns the order");
    let (_, oldest_first) = operator.get("/reports?sort=oldest").await;
    assert_eq!(first_link(&oldest_first, "reports"), older);
    assert!(oldest_first.contains(r#"name="sort" value="oldest""#), "filtering keeps the order");
}

#[tokio::test]
async fn an_operator_reports_a_crime_to_the_police_from_its_report_page() {
    let app = spawn_web().await;
    let operator = app.client("gas-a.ntk", "en").await;
    let id = file(&app, &operator, "RED", "Ransom demand received").await;
    let (_, page) = operator.get(&format!("/reports/{id}")).await;
    assert!(page.contains("Report to a response agency as a crime"), "{page}");
    let police = app.user("police.ntk").org_id.clone();
    assert!(page.contains(&format!(r#"value="{police}""#)), "the police are offered");
    let ministry = app.client("meti.liaison", "en").await;
    let (_, at_ministry) = ministry.get(&format!("/reports/{id}")).await;
    assert!(!at_ministry.contains("as a crime"), "only the operator is offered it");

    let csrf = operator.csrf().await;
    let (status, _) =
        operator.post_form(&format!("/reports/{id}/share"), &[("_csrf", &csrf), ("org_ids", &police)]).await;
    assert_eq!(status, 303);
    let agency = app.client("police.ntk", "en").await;
    let (status, read) = agency.get(&format!("/reports/{id}")).await;
    assert_eq!(status, 200);
    assert!(read.contains("Ransom demand received"));
    assert!(!operator.get(&format!("/reports/{id}")).await.1.contains("as a crime"), "nothing more to offer");
    assert_eq!(
        ministry.get(&format!("/reports/{id}")).await.1.len(),
        at_ministry.len(),
        "the ministry's page is as before"
    );
}

#[tokio::test]
async fn a_ceptoar_joins_the_council_and_shares_through_it_from_the_pages() {
    let app = spawn_web().await;
    let operator = app.client("gas-a.ntk", "en").await;
    let id = file(&app, &operator, "GREEN", "Phishing wave against gas customers").await;
    let ministry = app.client("meti.liaison", "en").await;
    let ceptoar_org = app.user("gas-ceptoar.secretariat").org_id.clone();
    let csrf_m = ministry.csrf().await;
    let share = [("_csrf", csrf_m.as_str()), ("org_ids", ceptoar_org.as_str())];
    assert_eq!(ministry.post_form(&format!("/reports/{id}/share"), &share).await.0, 303);
    assert!(!ministry.get("/").await.1.contains(r#"href="/council""#), "a ministry has no council link");

    let ceptoar = app.client("gas-ceptoar.secretariat", "en").await;
    let (_, before) = ceptoar.get(&format!("/reports/{id}")).await;
    assert!(!before.contains("Share through the CEPTOAR council"), "not a member yet");
    let (_, council) = ceptoar.get("/council").await;
    assert!(council.contains("Join as this CEPTOAR") && council.contains("No CEPTOAR sits on it"), "{council}");
    let csrf = ceptoar.csrf().await;
    assert_eq!(ceptoar.post_form("/council/join", &[("_csrf", &csrf)]).await.0, 303);
    let (_, council) = ceptoar.get("/council").await;
    assert!(council.contains("Gas CEPTOAR") && council.contains("Leave"), "{council}");

    let (_, page) = ceptoar.get(&format!("/reports/{id}")).await;
    assert!(page.contains("Share through the CEPTOAR council"), "{page}");
    assert_eq!(ceptoar.post_form(&format!("/reports/{id}/council-share"), &[("_csrf", &csrf)]).await.0, 303);
    let board = app.client("council.ntk", "en").await;
    let (_, listed) = board.get("/reports?council=true").await;
    assert!(listed.contains(&id), "the council's board lists it");
    assert_eq!(board.get(&format!("/reports/{id}")).await.0, 200);
    // Once is enough: the page no longer offers it.
    assert!(!ceptoar.get(&format!("/reports/{id}")).await.1.contains("Share through the CEPTOAR council"));
}

/// The partner form as a browser sends it: every field of a GREEN vulnerability for gas.
async fn partner_form(s: &Session, title: &str, content: &str) -> Vec<(&'static str, String)> {
    vec![
        ("_csrf", s.csrf().await),
        ("kind", "vulnerability".into()),
        ("tlp", "GREEN".into()),
        ("severity", "warning".into()),
        ("sectors", String::new()),
        ("sectors", "gas".into()),
        ("title", title.to_string()),
        ("content", content.to_string()),
        ("indicators", "[ipv4-addr:value = '198.51.100.7']".into()),
        ("sanitised_wider_use", "false".into()),
    ]
}

#[tokio::test]
async fn a_security_institution_sends_from_the_form_and_the_coordinator_shares_and_cites_it_by_the_pages() {
    let app = spawn_web().await;
    let institute = app.client("institute.ntk", "en").await;
    assert!(institute.get("/partner-information").await.1.contains("Send information"));
    let operator = app.client("gas-a.ntk", "en").await;
    assert!(!operator.get("/partner-information").await.1.contains("Send information"), "operators report instead");

    // A missing title comes back beside its field, with what was typed kept.
    let mut form = partner_form(&institute, "", "Remote bypass in a gas controller").await;
    let (status, page) = post_pairs(&institute, "/partner-information/new", &form).await;
    assert_eq!(status, 422);
    assert!(page.contains(r#"id="e-title""#) && page.contains("Remote bypass in a gas controller"), "{page}");
    form[6].1 = "Gas controller flaw".into();
    let (status, location) = post_pairs(&institute, "/partner-information/new", &form).await;
    assert_eq!(status, 303, "{location}");
    let id = created_id(&location, "partner-information");
    let (_, page) = institute.get(&location).await;
    assert!(page.contains("The information has been sent.") && page.contains("Gas controller flaw"), "{page}");

    // The sender attaches a file; the coordinator is told, reads it with its sender and file.
    let csrf = institute.csrf().await;
    let upload = reqwest::multipart::Form::new()
        .text("_csrf", csrf)
        .text("kind", "attachment")
        .part("file", reqwest::multipart::Part::bytes(b"advisory text".to_vec()).file_name("vendor-note.txt"));
    let r = institute.http.post(format!("{}/partner-information/{id}/files", app.base)).multipart(upload);
    assert_eq!(r.send().await.unwrap().status().as_u16(), 303);
    let sender = app.store.get_org(&app.user("institute.ntk").org_id).await.unwrap().unwrap().name_en;
    let coordinator = app.client("nisc.cip", "en").await;
    assert!(coordinator.get("/notifications").await.1.contains(&format!("/partner-information/{id}")));
    let (status, page) = coordinator.get(&format!("/partner-information/{id}")).await;
    assert_eq!(status, 200);
    assert!(page.contains(&sender) && page.contains("vendor-note.txt"), "{page}");
    assert!(page.contains(&format!("/advisories/new?partner={id}")), "the coordinator may cite it");
    let meti = app.user("meti.liaison").org_id.clone();
    assert!(page.contains(&format!(r#"value="{meti}""#)), "the share form offers the ministry");

    // Shared to the ministry: it reads the item and its file, never who sent it.
    let csrf = coordinator.csrf().await;
    let share = [("_csrf", csrf.as_str()), ("org_ids", meti.as_str())];
    assert_eq!(coordinator.post_form(&format!("/partner-information/{id}/share"), &share).await.0, 303);
    let ministry = app.client("meti.liaison", "en").await;
    let (status, page) = ministry.get(&format!("/partner-information/{id}")).await;
    assert_eq!(status, 200);
    assert!(page.contains("Gas controller flaw") && page.contains("vendor-note.txt"), "{page}");
    assert!(!page.contains(&sender) && !page.contains("Sender"), "the sender stays hidden: {page}");
    assert!(!page.contains("Send a follow-up") && !page.contains("advisories/new"), "{page}");
    assert_eq!(operator.get(&format!("/partner-information/{id}")).await.0, 404);

    // The sender's follow-up must change something; then it is numbered -2.
    let path = format!("/partner-information/{id}/follow-up");
    let unchanged = partner_form(&institute, "Gas controller flaw", "Remote bypass in a gas controller").await;
    let (status, page) = post_pairs(&institute, &path, &unchanged).await;
    assert_eq!(status, 422);
    assert!(page.contains("a follow-up must change at least one field"), "{page}");
    let changed = partner_form(&institute, "Gas controller flaw", "A fixed firmware is out").await;
    let (status, location) = post_pairs(&institute, &path, &changed).await;
    assert_eq!(status, 303, "{location}");
    let (_, page) = institute.get(&location).await;
    assert!(page.contains("-2</") && page.contains("A fixed firmware is out"), "{page}");

    // The advisory form offers it as a source, chosen when coming from its page.
    let (_, page) = coordinator.get(&format!("/advisories/new?partner={id}")).await;
    assert!(page.contains(&format!(r#"name="source_partner_ids" value="{id}" checked"#)), "{page}");
}
