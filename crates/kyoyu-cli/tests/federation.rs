//! Two kyoyu instances federate over TAXII on loopback: an ISAC's instance pushes to the
//! coordinator's, and the coordinator's pulls what is new. The scope only ever tightens on the
//! way: RED and AMBER+STRICT stay home, AMBER arrives for the receiving organisation alone, and
//! no marking is ever loosened.

mod common;

use common::Target;
use kyoyu_app::seed::{self, Credential, Passwords};
use kyoyu_taxii::resources::Envelope;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::process::Command;

const EXTERNAL: &str = "c3d4e5f6-a7b8-4c9d-8e0f-1a2b3c4d5e6f";
const MEDIA: &str = "application/taxii+json;version=2.1";
const MARKINGS: [(&str, &str); 5] = [
    ("GREEN", "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"),
    ("AMBER", "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"),
    ("RED", "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"),
    ("AMBER+STRICT", "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"),
    ("CLEAR", "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"),
];

struct Instance {
    base: String,
    users: HashMap<String, Credential>,
    _target: Target,
    _server: kyoyu_test_support::Running,
}

impl Instance {
    async fn start() -> Instance {
        let (target, store) = Target::from_env().await;
        let users = seed::seed_demo(&store, Passwords::TokensOnly).await.unwrap();
        let server = kyoyu_test_support::serve(store, Default::default()).await;
        Instance {
            base: server.base.clone(),
            users: users.into_iter().map(|u| (u.login.clone(), u)).collect(),
            _target: target,
            _server: server,
        }
    }

    fn token(&self, login: &str) -> &str {
        &self.users[login].token
    }

    fn external(&self) -> String {
        format!("{}/taxii2/kyoyu/collections/{EXTERNAL}/", self.base)
    }

    async fn add(&self, login: &str, objects: Vec<Value>) {
        let r = reqwest::Client::new()
            .post(format!("{}objects/", self.external()))
            .bearer_auth(self.token(login))
            .header("Content-Type", MEDIA)
            .header("Accept", MEDIA)
            .body(json!({ "objects": objects }).to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 202);
    }

    /// Every object `login` may read in the external collection, by id.
    async fn readable(&self, login: &str) -> HashMap<String, Value> {
        let r = reqwest::Client::new()
            .get(format!("{}objects/?limit=1000", self.external()))
            .bearer_auth(self.token(login))
            .header("Accept", MEDIA)
            .send()
            .await
            .unwrap();
        let page: Envelope = r.json().await.unwrap();
        page.objects.into_iter().map(|o| (stix_id(&o), o)).collect()
    }
}

/// A STIX object's id (objects are STIX's own JSON).
fn stix_id(object: &Value) -> String {
    object.get("id").and_then(Value::as_str).expect("a STIX object has an id").to_string()
}

fn indicator(n: u32, marking: Option<&str>) -> Value {
    let mut o = json!({
        "type": "indicator", "spec_version": "2.1",
        "id": format!("indicator--{:08x}-0000-4000-8000-{:012x}", n, std::process::id()),
        "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
        "name": format!("ISAC feed {n}"), "pattern": format!("[ipv4-addr:value = '198.18.0.{n}']"),
        "pattern_type": "stix", "valid_from": "2026-01-01T00:00:00Z"
    });
    if let Some(m) = marking {
        o["object_marking_refs"] = json!([m]);
    }
    o
}

/// A `kyoyu taxii pull --every` process, stopped when dropped.
struct Poller(std::process::Child);

impl Drop for Poller {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs `kyoyu taxii ARGS` and returns its summary line.
async fn kyoyu_taxii(args: Vec<String>) -> String {
    let out = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_kyoyu")).arg("taxii").args(args).output().unwrap()
    })
    .await
    .unwrap();
    assert!(out.status.success(), "kyoyu taxii failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn count(summary: &str, key: &str) -> usize {
    let mut words = summary.split_whitespace();
    words
        .find(|w| *w == key)
        .and_then(|_| words.next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{key} in {summary}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_federate_and_the_scope_only_tightens() {
    let isac = Instance::start().await;
    let coordinator = Instance::start().await;
    let sender = "finance-ceptoar.secretariat";
    let receiver = "nisc.cip";
    let mut objects: Vec<Value> =
        MARKINGS.iter().enumerate().map(|(i, (_, m))| indicator(i as u32 + 1, Some(m))).collect();
    objects.push(indicator(9, None));
    isac.add(sender, objects.clone()).await;
    let id_of = |i: usize| stix_id(&objects[i]);

    let push = |from: &Instance, from_login: &str, to: &Instance, to_login: &str, extra: &[&str]| {
        let mut args = vec![
            "push".to_string(),
            "--from".into(),
            from.external(),
            "--to".into(),
            to.external(),
            "--from-token".into(),
            from.token(from_login).to_string(),
            "--to-token".into(),
            to.token(to_login).to_string(),
            "--page-size".into(),
            "2".into(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        args
    };
    let summary = kyoyu_taxii(push(&isac, sender, &coordinator, receiver, &[])).await;
    assert_eq!(count(&summary, "read"), 6, "{summary}");
    assert_eq!(count(&summary, "kept_home"), 2, "RED and AMBER+STRICT stay home: {summary}");
    assert_eq!(count(&summary, "sent"), 4, "{summary}");

    let arrived = coordinator.readable(receiver).await;
    for (i, (name, marking)) in MARKINGS.iter().enumerate() {
        let stays = matches!(*name, "RED" | "AMBER+STRICT");
        assert_eq!(arrived.contains_key(&id_of(i)), !stays, "{name} at the coordinator");
        if !stays {
            let kept = arrived[&id_of(i)].get("object_marking_refs");
            assert_eq!(kept, Some(&json!([marking])), "{name} kept its marking exactly");
        }
    }
    assert!(arrived.contains_key(&id_of(5)), "an unmarked object travels as AMBER");
    // At the coordinator's instance, AMBER and unmarked reach only the receiving organisation.
    for other in ["gas-a.ntk", "finance-ceptoar.secretariat", "fsa.liaison"] {
        let seen = coordinator.readable(other).await;
        assert!(seen.contains_key(&id_of(0)) && seen.contains_key(&id_of(4)), "{other} misses GREEN/CLEAR");
        assert!(
            !seen.contains_key(&id_of(1)) && !seen.contains_key(&id_of(5)),
            "{other} reads AMBER that arrived for {receiver}"
        );
    }
    // Nothing is held twice when pushed again.
    let again = kyoyu_taxii(push(&isac, sender, &coordinator, receiver, &[])).await;
    assert_eq!(count(&again, "refused"), 0, "{again}");
    assert_eq!(coordinator.readable(receiver).await.len(), arrived.len());

    // The coordinator pulls only what is new since the last copy.
    let last = summary.split("last_added ").nth(1).unwrap().split_whitespace().next().unwrap().to_string();
    isac.add(sender, vec![indicator(20, Some(MARKINGS[0].1))]).await;
    let mut pull = push(&isac, sender, &coordinator, receiver, &["--added-after", &last]);
    pull[0] = "pull".into();
    let pulled = kyoyu_taxii(pull).await;
    assert_eq!((count(&pulled, "read"), count(&pulled, "sent")), (1, 1), "{pulled}");

    // Scheduled polling: a new object at the source arrives without another command.
    let mut poll = push(&isac, sender, &coordinator, receiver, &["--every", "1"]);
    poll[0] = "pull".into();
    let mut poller = Poller(
        Command::new(env!("CARGO_BIN_EXE_kyoyu"))
            .arg("taxii")
            .args(&poll)
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let late = indicator(30, Some(MARKINGS[0].1));
    isac.add(sender, vec![late.clone()]).await;
    let waited = std::time::Instant::now();
    while !coordinator.readable(receiver).await.contains_key(&stix_id(&late)) {
        assert!(waited.elapsed() < std::time::Duration::from_secs(20), "the poller never brought the new object");
        assert!(poller.0.try_wait().unwrap().is_none(), "the poller exited");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    drop(poller);

    // A wrong token at either end is a clear error and a non-zero exit.
    let mut bad = push(&isac, sender, &coordinator, receiver, &[]);
    bad[8] = "kyoyu_wrong".into();
    let out = Command::new(env!("CARGO_BIN_EXE_kyoyu")).arg("taxii").args(bad).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("401"), "{}", String::from_utf8_lossy(&out.stderr));
    isac._target.drop_schema().await;
    coordinator._target.drop_schema().await;
}
