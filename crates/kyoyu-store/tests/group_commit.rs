//! Group commit: concurrent writes share commits, each is kept with its audit entry, and one
//! that fails or is dropped leaves the others of its batch untouched. On SQLite, and on
//! PostgreSQL when `KYOYU_TEST_DATABASE_URL` names one.

use kyoyu_domain::codes::{OrgKind, Route};
use kyoyu_store::{new_id, now, Actor, ChainRow, OrgIdentity, OrgRow, Store};
use serde_json::json;
use std::time::Duration;

use kyoyu_test_support::test_store as store;

fn org(id: &str) -> OrgRow {
    OrgRow {
        id: id.to_string(),
        kind: OrgKind::Operator,
        name_ja: format!("事業者 {id}"),
        name_en: format!("Operator {id}"),
        sector: None,
        analysis_partner: false,
        identity: OrgIdentity::default(),
        created_at: now(),
    }
}

/// Adds an organisation with its audit entry, in a transaction of its own.
async fn add(store: &Store, id: &str) -> kyoyu_store::Result<()> {
    let mut tx = store.begin(Actor::default()).await?;
    tx.audit("org.create", "org", id, json!({})).await?;
    tx.insert_org(&org(id)).await?;
    tx.commit().await
}

async fn org_ids(store: &Store) -> Vec<String> {
    store.list_orgs().await.unwrap().into_iter().map(|o| o.id).collect()
}

async fn audited_ids(store: &Store) -> Vec<String> {
    store.list_audit(&Default::default(), "", 1000, 0).await.unwrap().into_iter().map(|e| e.object_id).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writes_share_commits_and_each_is_kept() {
    let (_dir, store) = store().await;
    let ids: Vec<String> = (0..64).map(|_| new_id()).collect();
    let mut tasks = tokio::task::JoinSet::new();
    for id in ids.clone() {
        let store = store.clone();
        tasks.spawn(async move { add(&store, &id).await });
    }
    while let Some(r) = tasks.join_next().await {
        r.unwrap().unwrap();
    }
    let (orgs, audited) = (org_ids(&store).await, audited_ids(&store).await);
    for id in &ids {
        assert!(orgs.contains(id) && audited.contains(id), "{id} was acknowledged but not kept");
    }
    let stats = store.write_stats();
    assert_eq!(stats.transactions, 64);
    assert!(stats.batches < 64, "64 concurrent writes took {} commits", stats.batches);
    assert_eq!(store.verify_audit(|_, _| {}).await.unwrap(), Ok(64));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_write_leaves_the_rest_of_its_batch() {
    let (_dir, store) = store().await;
    let (first_id, second_id) = (new_id(), new_id());
    let mut first = store.begin(Actor::default()).await.unwrap();
    first.audit("org.create", "org", &first_id, json!({})).await.unwrap();
    first.insert_org(&org(&first_id)).await.unwrap();
    // Both queue behind the open transaction, so all three fall in one batch.
    let second = tokio::spawn({
        let (store, id) = (store.clone(), second_id.clone());
        async move { add(&store, &id).await }
    });
    let duplicate = tokio::spawn({
        let (store, id) = (store.clone(), first_id.clone());
        async move { add(&store, &id).await }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    first.commit().await.unwrap();
    second.await.unwrap().unwrap();
    assert!(duplicate.await.unwrap().is_err(), "the same organisation twice must fail");

    let orgs = org_ids(&store).await;
    assert!(orgs.contains(&first_id) && orgs.contains(&second_id));
    let audited = audited_ids(&store).await;
    assert_eq!(audited.iter().filter(|id| **id == first_id).count(), 1, "the failed write's entry stays out");
    assert!(audited.contains(&second_id));
    assert_eq!(store.write_stats(), kyoyu_store::WriteStats { batches: 1, transactions: 2 });
    assert_eq!(store.verify_audit(|_, _| {}).await.unwrap(), Ok(2));
}

#[tokio::test]
async fn a_dropped_write_is_rolled_back_alone() {
    let (_dir, store) = store().await;
    let (dropped, kept) = (new_id(), new_id());
    let mut tx = store.begin(Actor::default()).await.unwrap();
    tx.insert_org(&org(&dropped)).await.unwrap();
    tx.audit("org.create", "org", &dropped, json!({})).await.unwrap();
    drop(tx);
    add(&store, &kept).await.unwrap();
    let orgs = org_ids(&store).await;
    assert!(!orgs.contains(&dropped) && orgs.contains(&kept));
    assert_eq!(audited_ids(&store).await, vec![kept]);
    store.close().await;
}

#[tokio::test]
async fn a_write_that_waits_too_long_for_the_writer_is_told_so() {
    let (_dir, store) = store().await;
    let held = store.begin(Actor::default()).await.unwrap();
    // Virtual time runs ahead while the second write waits, so the wait limit passes at once.
    tokio::time::pause();
    let second = store.begin(Actor::default()).await;
    tokio::time::resume();
    assert!(matches!(second, Err(kyoyu_store::StoreError::WriterBusy)), "a write must not wait forever");
    drop(held);
    add(&store, &new_id()).await.unwrap();
}

fn chain(originator: &str) -> ChainRow {
    ChainRow {
        id: new_id(),
        route: Route::Direct,
        statutory: false,
        exercise: false,
        sector: "gas".into(),
        originator_org_id: originator.to_string(),
        secretariat_org_id: None,
        identifier: None,
        disclosure_consent_at: None,
        disclosure_consent_by: None,
        created_at: now(),
    }
}

/// Whether a chain was kept: its identifier reads (as none) only when its row exists.
async fn chain_kept(store: &Store, id: &str) -> bool {
    let mut tx = store.begin(Actor::default()).await.unwrap();
    let kept = tx.chain_identifier(id).await.is_ok();
    drop(tx);
    kept
}

/// New rows wait in memory for the batch's commit; a later statement of the batch still sees
/// those of finished transactions, and those of a transaction that ends without committing
/// are never written, whether or not it ran a statement of its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_held_for_the_commit_are_seen_by_the_batch_and_dropped_with_their_transaction() {
    let (_dir, store) = store().await;
    let operator = new_id();
    add(&store, &operator).await.unwrap();
    let (kept, read_then_dropped, dropped) = (chain(&operator), chain(&operator), chain(&operator));
    let blocker = store.begin(Actor::default()).await.unwrap();
    let first = tokio::spawn({
        let (store, c) = (store.clone(), kept.clone());
        async move {
            let mut tx = store.begin(Actor::default()).await?;
            tx.insert_chain(&c).await?;
            tx.commit().await
        }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let second = tokio::spawn({
        let (store, c, earlier) = (store.clone(), read_then_dropped.clone(), kept.id.clone());
        async move {
            let mut tx = store.begin(Actor::default()).await.unwrap();
            tx.insert_chain(&c).await.unwrap();
            // A statement: the earlier transaction's chain, and this one's, are written first.
            let seen = tx.chain_identifier(&earlier).await.is_ok() && tx.chain_identifier(&c.id).await.is_ok();
            drop(tx);
            seen
        }
    });
    let third = tokio::spawn({
        let (store, c) = (store.clone(), dropped.clone());
        async move {
            let mut tx = store.begin(Actor::default()).await.unwrap();
            tx.insert_chain(&c).await.unwrap();
        }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    drop(blocker);
    assert!(second.await.unwrap(), "a statement of the batch must see the rows written before it");
    third.await.unwrap();
    first.await.unwrap().unwrap();
    assert!(chain_kept(&store, &kept.id).await);
    assert!(!chain_kept(&store, &read_then_dropped.id).await, "a dropped transaction's rows stay out");
    assert!(!chain_kept(&store, &dropped.id).await, "rows never written stay out");
}

/// A batch that follows another closely assumes its reference version without reading it.
/// When another process changed the reference data in between, the batch must not commit
/// what was computed against the old version; the next write reads the version afresh.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_never_commits_on_a_reference_version_another_process_changed() {
    let (_dir, here, elsewhere) = kyoyu_test_support::two_test_stores().await;
    let operator = new_id();
    add(&here, &operator).await.unwrap();
    let mut tx = here.begin(Actor::default()).await.unwrap();
    let before = tx.reference_version().await.unwrap();
    tx.commit().await.unwrap();
    let since_commit = std::time::Instant::now();

    let mut change = elsewhere.begin(Actor::default()).await.unwrap();
    change.bump_reference_version().await.unwrap();
    change.commit().await.unwrap();

    let mut tx = here.begin(Actor::default()).await.unwrap();
    let used = tx.reference_version().await.unwrap();
    let quick = since_commit.elapsed() < Duration::from_millis(80);
    tx.insert_chain(&chain(&operator)).await.unwrap();
    let outcome = tx.commit().await;
    assert!(outcome.is_err() || used == before + 1, "committed against version {used} after the change");
    if quick {
        assert_eq!(used, before, "a batch right after another assumes its version");
        assert!(
            matches!(&outcome, Err(kyoyu_store::StoreError::BatchFailed(e)) if matches!(**e, kyoyu_store::StoreError::ReferenceChanged)),
            "{outcome:?}"
        );
    }
    let mut retry = here.begin(Actor::default()).await.unwrap();
    assert_eq!(retry.reference_version().await.unwrap(), before + 1, "after the failure the version is read again");
    retry.insert_chain(&chain(&operator)).await.unwrap();
    retry.commit().await.unwrap();
}
