//! The voucher batch service as redemption and the API call it: a batch of a funder stores one
//! hashed row per code and nothing that reads like a code; the codes it returns parse back.

use chrono::{Duration, Utc};
use spaces_billing::funders::{self, NewFunder};
use spaces_billing::vouchers::batch::{self, NewBatch, Restrictions, Value};
use spaces_billing::{Currency, Money};
use spaces_tenants::editions::FunderKind;
use spaces_tenants::{OrganisationId, TenantId, TenantTx};
use spaces_tests::fixtures;
use spaces_tests::{Backend, TestApp};

fn uuid(s: &str) -> uuid::Uuid {
    s.parse().unwrap()
}

async fn a_batch_keeps_only_hashes(backend: Backend) {
    let app = TestApp::start(backend).await;
    let op = fixtures::operator(&app).await;
    let c = fixtures::campus(&app, &op).await;
    let tx = TenantTx::begin(&app.state.deps.db, TenantId::from_uuid(uuid(&c.id)))
        .await
        .unwrap();
    let now = Utc::now();
    let eur = Currency::parse("currency", "EUR").unwrap();
    let f = funders::create(
        &tx,
        now,
        NewFunder {
            name: "Fonds".into(),
            kind: FunderKind::SectorFund,
            contact_name: "Claire".into(),
            contact_email: "claire@fonds.test".into(),
            organisation: OrganisationId::from_uuid(uuid(&c.root_id)),
        },
    )
    .await
    .unwrap();
    let made = batch::create(
        &tx,
        &app.state.deps.voucher_key,
        now,
        None,
        NewBatch {
            funder: f.id,
            funder_kind: f.kind,
            name: "Autumn".into(),
            count: 500,
            value: Value::Face(Money::new(50_000, eur)),
            min_learner_share: None,
            valid_from: now,
            valid_until: now + Duration::days(90),
            uses_per_code: 1,
            restrictions: Restrictions::default(),
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(made.codes.len(), 500);
    assert_eq!(made.batch.code_count, 500);
    assert_eq!(made.csv().lines().count(), 501);
    let dump = app.dump_tenant(&c.id).await;
    assert_eq!(dump["vouchers"].len(), 500);
    let text = serde_json::to_string(&dump).unwrap();
    for code in &made.codes {
        assert!(!text.contains(code.canonical()));
        assert!(!text.contains(&code.grouped()));
        assert!(!text.contains(&code.canonical().to_lowercase()));
    }
    app.stop().await;
}

#[tokio::test]
async fn a_batch_keeps_only_hashes_on_sqlite() {
    a_batch_keeps_only_hashes(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_batch_keeps_only_hashes_on_postgres() {
    a_batch_keeps_only_hashes(Backend::Postgres).await;
}
