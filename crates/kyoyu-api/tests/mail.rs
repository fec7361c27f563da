//! Notification mail through a real SMTP server on loopback (aiosmtpd from PyPI, installed
//! into a virtualenv under the target directory on first use).

mod common;

use common::{spawn_demo, MAIL_PORT};
use kyoyu_app::views::{AdvisoryView, NotificationList, NotificationSettings, OutboxList, OutboxView, Sent};
use kyoyu_domain::codes::NotifyMode;
use reqwest::Method;
use serde_json::json;
use std::path::PathBuf;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

fn python() -> PathBuf {
    common::python_with("py-aiosmtpd", &["aiosmtpd"], "import aiosmtpd")
}

struct SmtpServer {
    child: Child,
    maildir: tempfile::TempDir,
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn start_smtp(port: u16) -> SmtpServer {
    let maildir = tempfile::tempdir().unwrap();
    let child = Command::new(python())
        .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}"), "-c", "aiosmtpd.handlers.Mailbox"])
        .arg(maildir.path().join("box"))
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "aiosmtpd did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    SmtpServer { child, maildir }
}

/// One message as the SMTP server received it.
#[derive(Debug, serde::Deserialize)]
struct Mail {
    to: String,
    subject: String,
    body: String,
}

/// The messages received so far, decoded by Python's own mail parser.
fn received(server: &SmtpServer) -> Vec<Mail> {
    let script = r#"
import mailbox, json, sys
from email.header import decode_header, make_header
out = []
for m in mailbox.Maildir(sys.argv[1], create=False):
    body = m.get_payload(decode=True).decode(m.get_content_charset() or 'utf-8')
    out.append({"to": m["To"], "subject": str(make_header(decode_header(m["Subject"]))), "body": body})
print(json.dumps(out, ensure_ascii=False))
"#;
    let dir = server.maildir.path().join("box");
    if !dir.exists() {
        return vec![];
    }
    let out = Command::new(python()).args(["-c", script]).arg(&dir).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

async fn wait_for<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn issue(app: &common::TestApp, tlp: &str, summary: &str) -> AdvisoryView {
    let body = json!({
        "severity": "alert", "tlp": tlp, "has_attachments": false,
        "recipients": [{"ministry_org_id": app.org("meti.liaison"), "sector": "gas"}],
        "content": {"summary": summary}
    });
    let a: AdvisoryView = app.post_as("/api/v1/advisories", "nisc.cip", body).await;
    app.post_as(&format!("/api/v1/advisories/{}/issue", a.id), "nisc.cip", json!({})).await
}

#[tokio::test]
async fn subjects_carry_the_banner_and_red_or_amber_mail_carries_no_content() {
    let port = free_port();
    let smtp = start_smtp(port);
    MAIL_PORT.with(|p| *p.borrow_mut() = Some(port));
    let app = spawn_demo().await;

    let amber = issue(&app, "AMBER", "AMBER-SECRET-CONTENT").await;
    let green = issue(&app, "GREEN", "GREEN-SHARED-CONTENT").await;
    // METI users with need-to-know: admin, liaison and ntk get AMBER; GREEN reaches all four.
    let mails = wait_for("7 mails", || Some(received(&smtp)).filter(|m| m.len() >= 7)).await;
    let amber_ident = amber.identifier.unwrap();
    let green_ident = green.identifier.unwrap();
    let amber_mail: Vec<&Mail> = mails.iter().filter(|m| m.subject.contains(&amber_ident)).collect();
    let green_mail: Vec<&Mail> = mails.iter().filter(|m| m.subject.contains(&green_ident)).collect();
    assert_eq!(amber_mail.len(), 3, "{mails:?}");
    assert_eq!(green_mail.len(), 4, "{mails:?}");
    for m in &amber_mail {
        assert_eq!(m.subject, format!("[TLP:AMBER][警報/alert] {amber_ident} 情報提供 / advisory"));
        assert!(!m.body.contains("AMBER-SECRET-CONTENT"), "{}", m.body);
        assert!(m.body.contains(&format!("/api/v1/advisories/{}", amber.id)), "{}", m.body);
        assert!(!m.to.starts_with("meti-member"), "a member without need-to-know gets no AMBER mail");
    }
    for m in &green_mail {
        assert!(m.subject.starts_with("[TLP:GREEN][警報/alert]"));
        assert!(m.body.contains("GREEN-SHARED-CONTENT"));
    }
    assert!(mails.iter().all(|m| m.to.ends_with("@meti.example.jp")), "only the recipient ministry");
}

#[tokio::test]
async fn a_mail_failure_is_retried_with_back_off_and_shown_to_system_administration() {
    let port = free_port();
    MAIL_PORT.with(|p| *p.borrow_mut() = Some(port));
    let app = spawn_demo().await;
    let a = issue(&app, "RED", "RED-CONTENT").await;
    let outbox = |app: &common::TestApp| {
        let app_base = app.base.clone();
        let token = app.user("ops.admin").token.clone();
        async move {
            let client = reqwest::Client::new();
            let resp = client
                .get(format!("{app_base}/api/v1/admin/mail-outbox?unsent=true"))
                .bearer_auth(token)
                .send()
                .await
                .unwrap();
            resp.json::<OutboxList>().await.unwrap().items
        }
    };
    // Nothing listens yet: the mail stays, with its error, for system administration to see.
    let deadline = Instant::now() + Duration::from_secs(20);
    let failed = loop {
        let items: Vec<OutboxView> = outbox(&app).await;
        if !items.is_empty() && items.iter().all(|m| m.attempts >= 1 && m.last_error.is_some()) {
            break items;
        }
        assert!(Instant::now() < deadline, "no failed attempt recorded: {items:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(failed.len(), 3, "RED: the liaison, admin and ntk user of METI");
    assert!(failed[0].subject.contains(&a.identifier.unwrap()));
    assert_eq!(app.get("/api/v1/admin/mail-outbox", "gas-a.admin").await.0, 403);
    // The server comes up: the retries deliver every mail, nothing lost.
    let smtp = start_smtp(port);
    let mails = wait_for("3 mails after retry", || Some(received(&smtp)).filter(|m| m.len() >= 3)).await;
    assert_eq!(mails.len(), 3);
    assert!(mails.iter().all(|m| !m.body.contains("RED-CONTENT")));
    let deadline = Instant::now() + Duration::from_secs(10);
    while !outbox(&app).await.is_empty() {
        assert!(Instant::now() < deadline, "the outbox did not empty");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_user_who_chose_the_digest_gets_no_mail_per_item_but_the_digest() {
    let port = free_port();
    let smtp = start_smtp(port);
    MAIL_PORT.with(|p| *p.borrow_mut() = Some(port));
    let app = spawn_demo().await;
    let settings = "/api/v1/me/notification-settings";
    let chosen: NotificationSettings =
        app.call(Method::PUT, settings, "meti.ntk", Some(json!({"mode": "digest"}))).await;
    assert_eq!(chosen.mode, NotifyMode::Digest);
    let seen: NotificationSettings = app.typed(settings, "meti.ntk").await;
    assert_eq!(seen.mode, NotifyMode::Digest, "the choice is kept");
    let (status, err) = app.refusal(Method::PUT, settings, "meti.ntk", Some(json!({"mode": "hourly"}))).await;
    assert_eq!((status, common::fields(&err)), (422, vec!["mode".to_string()]));

    let amber = issue(&app, "AMBER", "DIGEST-ONLY-CONTENT").await;
    let ident = amber.identifier.unwrap();
    // METI's need-to-know users are admin, liaison and ntk; ntk takes only the digest.
    let mails = wait_for("2 mails", || Some(received(&smtp)).filter(|m| m.len() >= 2)).await;
    let in_app: NotificationList = app.typed("/api/v1/notifications", "meti.ntk").await;
    assert!(in_app.items.iter().any(|n| n.object_id == amber.id), "the notification is made in the app all the same");
    let sent: Sent = app.post_as("/api/v1/admin/digests", "ops.admin", json!({})).await;
    let all = mails.len() + sent.digests;
    let mails_then = wait_for("the digests", || Some(received(&smtp)).filter(|m| m.len() >= all)).await;
    let to_ntk: Vec<&Mail> = mails_then.iter().filter(|m| m.to.starts_with("meti-ntk")).collect();
    assert!(!to_ntk.is_empty(), "{mails_then:?}");
    assert!(to_ntk.iter().all(|m| !m.subject.contains(&ident)), "no mail per item for ntk: {to_ntk:?}");
    assert!(to_ntk.iter().any(|m| m.subject.contains("unread")), "but the digest: {to_ntk:?}");
}
