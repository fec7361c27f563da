//! Notifications: in-app, and e-mail through an outbox that a worker sends over SMTP with
//! retries and back-off, so a mail failure never loses a delivery.
//!
//! Subjects carry TLP, severity and identifier. RED and AMBER mail carries no content, only a
//! link. Recipients are the users the policy's reader rows allow, never more.

use crate::world::World;
use crate::AppResult;
use kyoyu_domain::Tlp;
use kyoyu_store::{new_id, new_id_in_time_order, now, timestamp, MailRow, NotificationRow, Store, Tx, UserRow};
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::time::Duration;

/// How mail leaves the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    None,
    StartTls,
    Tls,
}

impl std::str::FromStr for SmtpTls {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "none" => Ok(SmtpTls::None),
            "starttls" => Ok(SmtpTls::StartTls),
            "tls" => Ok(SmtpTls::Tls),
            _ => Err(format!("unknown TLS mode {s:?}: use none, starttls or tls")),
        }
    }
}

#[derive(Debug, Clone)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    pub username: Option<String>,
    pub password: Option<String>,
    pub from: String,
}

#[derive(Debug, Clone)]
pub struct MailConfig {
    /// Where links in mail point, e.g. `https://kyoyu.example.go.jp`.
    pub public_url: String,
    pub smtp: Option<SmtpConfig>,
    /// The first retry waits this long; each later one twice as long, up to an hour.
    pub retry_base: Duration,
    pub poll_every: Duration,
}

impl Default for MailConfig {
    fn default() -> Self {
        MailConfig {
            public_url: "http://127.0.0.1:8080".into(),
            smtp: None,
            retry_base: Duration::from_secs(30),
            poll_every: Duration::from_secs(5),
        }
    }
}

/// The kind of the notification that sums up a user's unread ones.
pub const DIGEST: &str = "digest";

/// What one notification says, before it is addressed.
pub struct Notice<'a> {
    pub kind: &'a str,
    pub object_type: &'a str,
    pub object_id: &'a str,
    pub subject: Subject,
    /// Content for mail; left out when the item is RED or AMBER.
    pub body: String,
    pub tlp: Tlp,
    /// The path of the item under the public URL.
    pub link_path: String,
}

/// A notification's subject: Japanese and English together (mail, Japanese pages), and
/// English alone (pages in English).
#[derive(Debug, Clone, PartialEq)]
pub struct Subject {
    pub both: String,
    pub en: String,
}

/// `[TLP:AMBER][注意喚起/warning] T2026-0001 情報提供 / advisory`, and in English
/// `[TLP:AMBER][warning] T2026-0001 advisory`; `what` is `(ja, en)`.
pub fn subject(
    tlp: Tlp,
    severity: Option<kyoyu_domain::codes::Severity>,
    identifier: Option<&str>,
    (what_ja, what_en): (&str, &str),
) -> Subject {
    let (sev_both, sev_en) = match severity {
        Some(s) => (format!("[{}/{}]", s.label_ja(), s.code()), format!("[{}]", s.code())),
        None => Default::default(),
    };
    let tlp = tlp.code();
    Subject {
        both: format!("[TLP:{tlp}]{sev_both} {} {what_ja} / {what_en}", identifier.unwrap_or("(未採番 unnumbered)")),
        en: format!("[TLP:{tlp}]{sev_en} {} {what_en}", identifier.unwrap_or("(unnumbered)")),
    }
}

/// Tells the users of `orgs` who read the item by its reader rows (`grants`: active users,
/// need-to-know ones where the row asks for it) of `notice`.
pub async fn notify_readers(
    tx: &mut Tx,
    world: &World,
    mail: &MailConfig,
    grants: &kyoyu_policy::AccessGrants,
    orgs: &[String],
    notice: &Notice<'_>,
) -> AppResult<()> {
    for (org, need_to_know) in grants.rows().iter().filter(|(o, _)| orgs.contains(o)) {
        notify(tx, mail, &world.recipients(org, *need_to_know), notice).await?;
    }
    Ok(())
}

/// Notifies each user, in this transaction: one in-app notification, and one mail when SMTP
/// is configured and the user has an address.
pub async fn notify(tx: &mut Tx, mail: &MailConfig, users: &[UserRow], notice: &Notice<'_>) -> AppResult<()> {
    let link = format!("{}{}", mail.public_url.trim_end_matches('/'), notice.link_path);
    let body = if notice.tlp.needs_need_to_know() {
        format!(
            "TLP:{} の情報です。内容はログインして確認してください。\nThis item is TLP:{}; sign in to read it.\n\n{link}\n",
            notice.tlp.code(),
            notice.tlp.code()
        )
    } else {
        format!("{}\n\n{link}\n", notice.body)
    };
    // Who takes mail only in the digest (asked only when mail goes out at all).
    let digest_only =
        if mail.smtp.is_some() && notice.kind != DIGEST { tx.digest_only_users().await? } else { Default::default() };
    for user in users {
        let n = NotificationRow {
            id: new_id_in_time_order(),
            user_id: user.id.clone(),
            kind: notice.kind.into(),
            object_type: notice.object_type.into(),
            object_id: notice.object_id.into(),
            subject: notice.subject.both.clone(),
            subject_en: Some(notice.subject.en.clone()),
            created_at: now(),
            read_at: None,
            concealed: None,
        };
        tx.insert_notification(&n);
        if let (Some(_), Some(address), false) = (&mail.smtp, &user.email, digest_only.contains(&user.id)) {
            let mail = MailRow {
                // Not in time order: the audit names a mail by id when it is sent, maybe
                // long after it was queued.
                id: new_id(),
                to_address: address.clone(),
                subject: notice.subject.both.clone(),
                body: body.clone(),
                attempts: 0,
                next_attempt_at: now(),
                last_error: None,
                sent_at: None,
                created_at: now(),
            };
            tx.enqueue_mail(&mail, Some(&n.id));
        }
    }
    Ok(())
}

fn transport(c: &SmtpConfig) -> Result<AsyncSmtpTransport<Tokio1Executor>, String> {
    let builder = match c.tls {
        SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&c.host),
        SmtpTls::StartTls => {
            AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&c.host).map_err(|e| e.to_string())?
        }
        SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&c.host).map_err(|e| e.to_string())?,
    };
    let mut builder = builder.port(c.port).timeout(Some(Duration::from_secs(10)));
    if let (Some(u), Some(p)) = (&c.username, &c.password) {
        builder = builder.credentials(Credentials::new(u.clone(), p.clone()));
    }
    Ok(builder.build())
}

async fn send_one(t: &AsyncSmtpTransport<Tokio1Executor>, from: &str, m: &MailRow) -> Result<(), String> {
    let from: Mailbox = from.parse().map_err(|e| format!("from address: {e}"))?;
    let to: Mailbox = m.to_address.parse().map_err(|e| format!("to address: {e}"))?;
    let message = Message::builder()
        .from(from)
        .to(to)
        .subject(m.subject.clone())
        .body(m.body.clone())
        .map_err(|e| e.to_string())?;
    t.send(message).await.map(|_| ()).map_err(|e| e.to_string())
}

/// The wait before retry number `attempts` (1-based): base, 2×base, 4×base … at most an hour.
pub fn backoff(base: Duration, attempts: i64) -> Duration {
    let factor = 2u32.saturating_pow(attempts.clamp(1, 20) as u32 - 1);
    (base * factor).min(Duration::from_secs(3600))
}

/// Sends what is due once; returns how many went out.
pub async fn send_due(store: &Store, config: &MailConfig) -> AppResult<usize> {
    let Some(smtp) = &config.smtp else { return Ok(0) };
    let due = store.due_mail(&now(), 50).await?;
    if due.is_empty() {
        return Ok(0);
    }
    let mut sent = 0;
    let transport = transport(smtp);
    for m in due {
        let result = match &transport {
            Ok(t) => send_one(t, &smtp.from, &m).await,
            Err(e) => Err(e.clone()),
        };
        let mut tx = store.begin(kyoyu_store::Actor::default()).await?;
        match result {
            Ok(()) => {
                tx.mark_mail_sent(&m.id, &now()).await?;
                tx.audit("mail.sent", "mail", &m.id, serde_json::json!({"attempts": m.attempts + 1})).await?;
                sent += 1;
            }
            Err(error) => {
                let next = chrono::Utc::now() + backoff(config.retry_base, m.attempts + 1);
                tx.mark_mail_failed(&m.id, &error, &timestamp(next)).await?;
                tx.audit("mail.failed", "mail", &m.id, serde_json::json!({"attempts": m.attempts + 1, "error": error}))
                    .await?;
                tracing::warn!(mail = %m.id, %error, "mail not sent; will retry");
            }
        }
        tx.commit().await?;
    }
    Ok(sent)
}

/// Runs the outbox worker until the process ends.
pub fn spawn_worker(store: Store, config: MailConfig) {
    if config.smtp.is_none() {
        return;
    }
    tokio::spawn(async move {
        loop {
            if let Err(e) = send_due(&store, &config).await {
                tracing::error!(error = %e, "mail worker");
            }
            tokio::time::sleep(config.poll_every).await;
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        let b = Duration::from_secs(10);
        assert_eq!(backoff(b, 1), Duration::from_secs(10));
        assert_eq!(backoff(b, 2), Duration::from_secs(20));
        assert_eq!(backoff(b, 4), Duration::from_secs(80));
        assert_eq!(backoff(b, 30), Duration::from_secs(3600));
    }

    #[test]
    fn subjects_carry_tlp_severity_and_identifier_in_both_languages_and_in_english() {
        let alert = Some(kyoyu_domain::codes::Severity::Alert);
        let s = subject(Tlp::Amber, alert, Some("T2026-0001"), ("情報提供", "advisory"));
        assert_eq!(s.both, "[TLP:AMBER][警報/alert] T2026-0001 情報提供 / advisory");
        assert_eq!(s.en, "[TLP:AMBER][alert] T2026-0001 advisory");
        assert_eq!(subject(Tlp::Red, None, None, ("報告", "report")).en, "[TLP:RED] (unnumbered) report");
    }
}
