//! Planner statistics: on PostgreSQL (`KYOYU_TEST_DATABASE_URL`) the store analyses the tables
//! that grew since their last analysis, once, and leaves the others. SQLite needs none.

use kyoyu_domain::codes::OrgKind;
use kyoyu_store::{new_id, now, Actor, OrgIdentity, OrgRow};

fn org(id: String) -> OrgRow {
    OrgRow {
        name_ja: format!("事業者 {id}"),
        name_en: format!("Operator {id}"),
        id,
        kind: OrgKind::Operator,
        sector: None,
        analysis_partner: false,
        identity: OrgIdentity::default(),
        created_at: now(),
    }
}

#[tokio::test]
async fn grown_tables_are_analysed_once() {
    let (_dir, store) = kyoyu_test_support::test_store().await;
    if kyoyu_test_support::backend_url().is_none() {
        // SQLite keeps no planner statistics worth refreshing.
        assert!(store.statistics_kept().await.unwrap());
        assert_eq!(store.refresh_statistics().await.unwrap(), Vec::<String>::new());
        return;
    }
    // The fresh schema's tables are analysed once while small, so that growth shows.
    store.refresh_statistics().await.unwrap();
    let mut tx = store.begin(Actor::default()).await.unwrap();
    for _ in 0..2_000 {
        tx.insert_org(&org(new_id())).await.unwrap();
    }
    tx.commit().await.unwrap();
    let analysed = store.refresh_statistics().await.unwrap();
    assert!(analysed.contains(&"orgs".to_string()), "orgs grew and was not analysed: {analysed:?}");
    assert!(!analysed.contains(&"sectors".to_string()), "sectors did not grow: {analysed:?}");
    let again = store.refresh_statistics().await.unwrap();
    assert!(!again.contains(&"orgs".to_string()), "orgs was analysed twice: {again:?}");
}
