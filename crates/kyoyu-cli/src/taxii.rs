//! `kyoyu taxii pull|push`: copies objects from one TAXII 2.1 collection to another, page by
//! page, with a progress bar; `--every` keeps polling. Both ends are servers, so each end's own
//! policy decides what is read and how arrivals are scoped. On the way out the copy keeps RED
//! and AMBER+STRICT objects home (kyoyu_policy::may_federate), so a scope only ever tightens.

use anyhow::{bail, Context};
use clap::Args;
use kyoyu_taxii::resources::{Envelope, ErrorMessage, Status};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use std::time::Duration;

const MEDIA: &str = "application/taxii+json;version=2.1";

#[derive(Args, Clone)]
pub struct CopyArgs {
    /// The collection objects come from: https://host/taxii2/ROOT/collections/ID/
    #[arg(long)]
    from: String,
    /// The collection they go to
    #[arg(long)]
    to: String,
    /// Bearer token at the source (or HTTP Basic with --from-user)
    #[arg(long, env = "KYOYU_TAXII_FROM_TOKEN", hide_env_values = true)]
    from_token: Option<String>,
    /// Log-in for HTTP Basic at the source; the password comes from KYOYU_TAXII_FROM_PASSWORD
    #[arg(long)]
    from_user: Option<String>,
    #[arg(long, env = "KYOYU_TAXII_FROM_PASSWORD", hide = true)]
    from_password: Option<String>,
    /// Bearer token at the destination (or HTTP Basic with --to-user)
    #[arg(long, env = "KYOYU_TAXII_TO_TOKEN", hide_env_values = true)]
    to_token: Option<String>,
    /// Log-in for HTTP Basic at the destination; the password comes from KYOYU_TAXII_TO_PASSWORD
    #[arg(long)]
    to_user: Option<String>,
    #[arg(long, env = "KYOYU_TAXII_TO_PASSWORD", hide = true)]
    to_password: Option<String>,
    /// Only objects the source added after this time (RFC 3339, e.g. 2026-11-01T00:00:00Z)
    #[arg(long)]
    added_after: Option<String>,
    /// Objects per page
    #[arg(long, default_value_t = 500)]
    page_size: u32,
    /// Keep polling: copy what is new every this many seconds until Ctrl-C
    #[arg(long)]
    every: Option<u64>,
}

/// One end of the copy.
struct End {
    collection: String,
    auth: Auth,
}

enum Auth {
    Bearer(String),
    Basic(String, String),
}

impl End {
    fn new(
        url: &str,
        token: Option<String>,
        user: Option<String>,
        password: Option<String>,
        side: &str,
    ) -> anyhow::Result<End> {
        if !url.contains("/collections/") {
            bail!("--{side} must be a TAXII collection URL (…/collections/ID/)");
        }
        let collection = if url.ends_with('/') { url.to_string() } else { format!("{url}/") };
        let auth = match (token, user) {
            (Some(t), _) => Auth::Bearer(t),
            (None, Some(u)) => Auth::Basic(u, password.unwrap_or_default()),
            (None, None) => bail!("give --{side}-token or --{side}-user for {url}"),
        };
        Ok(End { collection, auth })
    }

    fn request(&self, client: &reqwest::Client, method: reqwest::Method, url: &str) -> reqwest::RequestBuilder {
        let r = client.request(method, url).header("Accept", MEDIA);
        match &self.auth {
            Auth::Bearer(t) => r.bearer_auth(t),
            Auth::Basic(u, p) => r.basic_auth(u, Some(p)),
        }
    }

    fn api_root(&self) -> &str {
        self.collection.split("/collections/").next().unwrap_or_default()
    }
}

/// What one copy did.
#[derive(Debug, Default)]
pub struct Copied {
    pub read: usize,
    pub sent: usize,
    pub kept_home: usize,
    pub failed: usize,
    pub last_added: Option<String>,
}

/// A TAXII answer read as the resource `T`, or its error message as the reason.
async fn answer<T: DeserializeOwned>(
    resp: reqwest::Response,
    what: &str,
) -> anyhow::Result<(reqwest::header::HeaderMap, T)> {
    let status = resp.status();
    let headers = resp.headers().clone();
    let text = resp.text().await.unwrap_or_default();
    if !status.is_success() {
        let (why, detail) = match serde_json::from_str::<ErrorMessage>(&text) {
            Ok(e) => (e.title, e.description),
            Err(_) => ("no TAXII error body".to_string(), String::new()),
        };
        bail!("{what} answered {status}: {why} {detail}");
    }
    let body = serde_json::from_str(&text).with_context(|| format!("{what} answered something that is not TAXII"))?;
    Ok((headers, body))
}

/// Waits until a status resource is final (kyoyu's are at once; other servers may queue).
async fn settle(client: &reqwest::Client, to: &End, mut status: Status) -> anyhow::Result<Status> {
    for _ in 0..120 {
        if status.status == "complete" {
            return Ok(status);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        let url = format!("{}/status/{}/", to.api_root(), status.id);
        status =
            answer(to.request(client, reqwest::Method::GET, &url).send().await?, "the destination's status").await?.1;
    }
    bail!("the destination did not finish adding objects within a minute")
}

/// Whether an object may leave for another installation, by its tightest TLP marking.
fn may_leave(o: &Value) -> bool {
    let refs = o.get("object_marking_refs").and_then(Value::as_array).cloned().unwrap_or_default();
    let tlp = kyoyu_stix::markings::tightest_tlp(refs.iter().filter_map(Value::as_str));
    kyoyu_policy::may_federate(tlp)
}

async fn copy_once(
    client: &reqwest::Client,
    from: &End,
    to: &End,
    added_after: Option<&str>,
    page_size: u32,
    bar: &indicatif::ProgressBar,
) -> anyhow::Result<Copied> {
    let mut done = Copied::default();
    let mut next: Option<String> = None;
    loop {
        let mut query = vec![("limit".to_string(), page_size.to_string())];
        if let Some(t) = added_after {
            query.push(("added_after".into(), t.to_string()));
        }
        if let Some(n) = &next {
            query.push(("next".into(), n.clone()));
        }
        let url = format!("{}objects/", from.collection);
        let resp = from
            .request(client, reqwest::Method::GET, &url)
            .query(&query)
            .send()
            .await
            .with_context(|| format!("cannot reach {url}"))?;
        let (headers, page): (_, Envelope) = answer(resp, "the source").await?;
        if let Some(last) = headers.get("X-TAXII-Date-Added-Last").and_then(|v| v.to_str().ok()) {
            done.last_added = Some(last.to_string());
        }
        done.read += page.objects.len();
        let (leave, stay): (Vec<Value>, Vec<Value>) = page.objects.into_iter().partition(may_leave);
        done.kept_home += stay.len();
        if !leave.is_empty() {
            let url = format!("{}objects/", to.collection);
            let resp = to
                .request(client, reqwest::Method::POST, &url)
                .header("Content-Type", MEDIA)
                .body(json!({ "objects": leave }).to_string())
                .send()
                .await
                .with_context(|| format!("cannot reach {url}"))?;
            let status = settle(client, to, answer(resp, "the destination").await?.1).await?;
            done.sent += status.success_count;
            done.failed += status.failure_count;
            for f in status.failures.iter().take(5) {
                bar.println(format!("  refused {}: {}", f.id, f.message));
            }
        }
        bar.set_message(format!(
            "read {}, sent {}, kept home {}, refused {}",
            done.read, done.sent, done.kept_home, done.failed
        ));
        bar.set_position(done.read as u64);
        match page.next {
            Some(n) if page.more => next = Some(n),
            _ if page.more => bail!("the source said more objects follow but gave no `next`"),
            _ => break,
        }
    }
    Ok(done)
}

/// Runs `kyoyu taxii pull` or `push`: one copy, or one every `--every` seconds.
pub async fn run(args: CopyArgs) -> anyhow::Result<()> {
    let from =
        End::new(&args.from, args.from_token.clone(), args.from_user.clone(), args.from_password.clone(), "from")?;
    let to = End::new(&args.to, args.to_token.clone(), args.to_user.clone(), args.to_password.clone(), "to")?;
    if args.page_size == 0 {
        bail!("--page-size must be at least 1");
    }
    let client = reqwest::Client::builder().timeout(Duration::from_secs(120)).build()?;
    let mut since = args.added_after.clone();
    loop {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.enable_steady_tick(Duration::from_millis(120));
        let done = copy_once(&client, &from, &to, since.as_deref(), args.page_size, &bar).await?;
        bar.finish_and_clear();
        println!(
            "read {} sent {} kept_home {} refused {} last_added {} / 読込 {}・送信 {}・送らず（RED, AMBER+STRICT） {}・拒否 {}",
            done.read,
            done.sent,
            done.kept_home,
            done.failed,
            done.last_added.as_deref().unwrap_or("-"),
            done.read,
            done.sent,
            done.kept_home,
            done.failed
        );
        let Some(every) = args.every else { return Ok(()) };
        if done.last_added.is_some() {
            since = done.last_added;
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(every.max(1))) => {}
            _ = tokio::signal::ctrl_c() => return Ok(()),
        }
    }
}
