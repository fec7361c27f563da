//! End to end in headless Chromium: each role logs in and walks the two chains of the
//! handbook. Screenshots of every step are kept under target/tmp/web-artefacts/.

mod common;

use common::browser::Browser;
use common::spawn_web;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reporting_chain_file_anonymise_forward_number_follow_up() {
    let app = spawn_web().await;
    let mut b = Browser::start(&app.base, "reporting_chain").await;

    // The operator files through its CEPTOAR (anonymised route), first with nothing filled.
    b.login("gas-a.ntk", &app.password("gas-a.ntk")).await;
    b.shot("operator-home").await;
    b.open("/reports/new").await;
    b.submit("button[name=_action][value=file]").await;
    assert!(b.count(".field-error[data-field=route]").await == 1, "route error shown beside the field");
    assert!(b.text(".field-error[data-field=route]").await.contains("必須項目です"));
    b.shot("report-form-errors").await;

    let operator = app.user("gas-a.ntk").clone();
    b.click("input[name=route][value=anonymised]").await;
    b.click("input[name=statutory][value=false]").await;
    b.click("input[name=tlp][value=AMBER]").await;
    b.click("input[name=has_attachments][value=false]").await;
    b.click("input[name=severity][value=warning]").await;
    b.click("input[name=causes][value=suspicious_email]").await;
    let org_name = app.store.get_org(&operator.org_id).await.unwrap().unwrap().name_ja;
    b.fill("textarea[name='summary.description']", &format!("{org_name}の業務端末でマルウェア感染を検知")).await;
    b.set_value("input[name='timeline.0.at']", "2026-04-01T10:00").await;
    b.fill("input[name='timeline.0.text']", "検知").await;
    // Adding a row keeps what was typed.
    b.click("button[data-add-row]").await;
    b.set_value("input[name='timeline.1.at']", "2026-04-01T10:30").await;
    b.fill("input[name='timeline.1.text']", "端末を隔離").await;
    b.shot("report-form-filled").await;
    b.submit("button[name=_action][value=file]").await;
    assert!(b.text(".notice").await.contains("送信しました"), "{}", b.source().await);
    assert!(b.source().await.contains("端末を隔離"), "both timeline rows were filed");
    b.shot("report-filed").await;
    b.logout().await;

    // The secretariat sees it in its inbox, reviews what anonymisation removes, forwards.
    b.login("gas-ceptoar.secretariat", &app.password("gas-ceptoar.secretariat")).await;
    b.shot("secretariat-home").await;
    b.submit("main .board a[href^='/reports/']").await;
    b.submit("a[href$='/forward']").await;
    let review = b.text("#review").await;
    assert!(review.contains(&org_name), "the removal preview names what goes: {review}");
    b.shot("anonymisation-review").await;
    // The preview is read-only: the rendition as the ministry will receive it, then send.
    b.submit("button[name=_action][value=preview]").await;
    assert_eq!(b.count("form textarea").await, 0, "the preview is not the form again");
    assert!(!b.text("table.official").await.contains(&org_name), "the preview shows the anonymised rendition");
    b.shot("forward-preview").await;
    b.submit("button[name=_action][value=send]").await;
    assert!(b.text(".notice").await.contains("転送しました"));
    assert!(!b.text("table.official").await.contains(&org_name), "the forwarded rendition is anonymised");
    b.logout().await;

    // The ministry forwards to the coordinator, tightening nothing.
    b.login("meti.liaison", &app.password("meti.liaison")).await;
    b.submit("main .board a[href^='/reports/']").await;
    b.submit("a[href$='/forward']").await;
    assert!(b.count("input[name=tlp][value=GREEN]").await == 0, "the ministry may not loosen AMBER");
    b.shot("ministry-forward").await;
    b.submit("button[name=_action][value=preview]").await;
    b.submit("button[name=_action][value=send]").await;
    assert!(b.text(".notice").await.contains("転送しました"));
    b.logout().await;

    // The coordinator's triage board numbers it on receipt.
    b.login("nisc.cip", &app.password("nisc.cip")).await;
    let board = b.text(".board").await;
    assert!(board.contains("R20"), "numbered on the board: {board}");
    b.shot("coordinator-triage").await;
    b.logout().await;

    // The operator files a follow-up, pre-filled from the first report.
    b.login("gas-a.ntk", &app.password("gas-a.ntk")).await;
    b.submit("main table a[href^='/reports/']").await;
    b.submit("a[href*='follow_up=']").await;
    let prefilled = b
        .client
        .find(fantoccini::Locator::Css("textarea[name='summary.description']"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap();
    assert!(prefilled.unwrap_or_default().contains("マルウェア感染"), "follow-up starts from the first report");
    b.shot("follow-up-prefilled").await;
    b.click("input[name=outlook][value=closed]").await;
    b.submit("button[name=_action][value=file]").await;
    let title = b.text("main h1").await;
    assert!(title.ends_with("-2"), "the follow-up is the chain's second report: {title}");
    b.shot("follow-up-filed").await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn advisory_chain_draft_issue_relay_acknowledge_in_english() {
    let app = spawn_web().await;
    let mut b = Browser::start(&app.base, "advisory_chain").await;
    let meti = app.user("meti.liaison").org_id.clone();
    let ceptoar = app.user("gas-ceptoar.secretariat").org_id.clone();
    let operator = app.user("gas-a.ntk").org_id.clone();

    b.open("/lang/en").await;
    b.login("nisc.cip", &app.password("nisc.cip")).await;
    b.open("/advisories/new").await;
    b.submit("button[name=_action][value=save]").await;
    assert!(b.text(".field-error[data-field=tlp]").await.contains("is required"), "English error beside TLP");
    b.shot("advisory-errors-en").await;
    b.click(&format!("input[name=_recipient][value='{meti}|gas']")).await;
    b.click("input[name=tlp][value=GREEN]").await;
    b.click("input[name=has_attachments][value=false]").await;
    b.click("input[name=severity][value=alert]").await;
    b.fill("textarea[name='content.summary']", "Phishing campaign against gas operators").await;
    b.fill("textarea[name='content.countermeasures']", "Block the sender domain").await;
    b.submit("button[name=_action][value=save]").await;
    assert!(b.text(".notice").await.contains("saved"));
    b.shot("advisory-draft").await;
    b.submit("button[name=_action][value=issue]").await;
    // A confirmation first: what goes to whom, at which TLP.
    assert!(b.path().await.ends_with("/issue"), "{}", b.path().await);
    assert!(b.text("main").await.contains("cannot be undone"), "{}", b.source().await);
    assert!(b.text("table.official").await.contains("Ministry of Economy"), "{}", b.text("main").await);
    b.shot("advisory-confirm").await;
    b.submit("form input[name=confirmed] ~ button[type=submit]").await;
    assert!(b.text(".notice").await.contains("issued"), "{}", b.source().await);
    assert!(b.text("main h1").await.starts_with('T'), "numbered T…");
    assert!(b.text(".banner").await.contains("TLP:GREEN"));
    b.shot("advisory-issued").await;
    b.logout().await;

    // The ministry relays to the gas CEPTOAR and acknowledges.
    b.login("meti.liaison", &app.password("meti.liaison")).await;
    b.submit("main table a[href^='/advisories/']").await;
    assert!(b.text("form.relay").await.contains("CEPTOAR"), "candidates grouped by kind");
    b.click(&format!("input[name=org_ids][value='{ceptoar}']")).await;
    b.shot("ministry-relay").await;
    b.submit("form.relay button[type=submit]:not([name])").await;
    // Who receives it at which TLP, before it goes.
    assert!(b.text("main").await.contains("cannot be undone") && b.text("table.official").await.contains("TLP:GREEN"));
    b.shot("ministry-relay-confirm").await;
    b.submit("form input[name=confirmed] ~ button[type=submit]").await;
    assert!(b.text(".notice").await.contains("relayed"));
    b.submit("button[name=status][value=received]").await;
    assert!(b.text(".notice").await.contains("acknowledgment"));
    b.logout().await;

    // The CEPTOAR relays to its member operator.
    b.login("gas-ceptoar.secretariat", &app.password("gas-ceptoar.secretariat")).await;
    b.submit("main table a[href^='/advisories/']").await;
    b.click(&format!("input[name=org_ids][value='{operator}']")).await;
    b.submit("form.relay button[type=submit]:not([name])").await;
    b.submit("form input[name=confirmed] ~ button[type=submit]").await;
    assert!(b.text(".notice").await.contains("relayed"));
    b.submit("button[name=status][value=received]").await;
    b.logout().await;

    // The operator reads it under its banner and acknowledges it as acted on.
    b.login("gas-a.ntk", &app.password("gas-a.ntk")).await;
    b.submit("main table a[href^='/advisories/']").await;
    assert!(b.text(".banner").await.contains("TLP:GREEN"));
    b.shot("operator-reads-advisory").await;
    b.submit("button[name=status][value=acted]").await;
    assert!(b.text(".notice").await.contains("acknowledgment"));
    b.logout().await;

    // The coordinator sees every hop acknowledged.
    b.login("nisc.cip", &app.password("nisc.cip")).await;
    b.submit("main table a[href^='/advisories/']").await;
    let deliveries = b.source().await;
    assert!(!deliveries.contains(">pending<"), "every hop acknowledged");
    b.shot("coordinator-acknowledgments").await;
    b.open("/statistics").await;
    // Year, sector, event type, cause, route, TLP, severity, time to the first report.
    assert_eq!(b.count("main h2").await, 8, "a section per dimension");
    b.shot("statistics").await;
    b.logout().await;

    // The administrator's pages, and the language toggle back to Japanese.
    b.login("ops.admin", &app.password("ops.admin")).await;
    b.open("/admin").await;
    assert!(b.text("main h1").await.contains("Administration"));
    b.submit("a.lang-toggle").await;
    assert!(b.text("main h1").await.contains("管理"), "the toggle keeps the page and switches language");
    b.shot("administration-ja").await;
    b.close().await;
}
