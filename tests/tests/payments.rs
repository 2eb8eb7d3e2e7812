//! Payments as the provider webhooks record them: once per provider id however often they
//! arrive, refunds once per refund id, a refund of a payment not seen yet is NOT_FOUND; what a
//! credit note made owed back is refunded without re-opening the invoice.
//!
//! These issue through `ledger::post`, so they pass once the ledger's branch is in.

use serde_json::json;
use spaces_billing::payments::{self, Method, PaymentInput};
use spaces_billing::{Currency, InvoiceId, Money};
use spaces_tenants::{Error, TenantId, TenantTx};
use spaces_tests::app::ok;
use spaces_tests::fixtures;
use spaces_tests::{Backend, TestApp};

async fn provider_payments(backend: Backend) {
    let app = TestApp::start(backend).await;
    let op = fixtures::operator(&app).await;
    let a = fixtures::campus(&app, &op).await;
    let buyer = fixtures::billing_account(&app, &a, &a.root_id).await;
    let v = fixtures::issue_invoice(&app, &a, &buyer).await;
    let inv = ok(&v)["issueInvoice"].clone();
    let id: InvoiceId = inv["id"].as_str().unwrap().parse().unwrap();
    let tenant: TenantId = a.id.parse().unwrap();
    let db = app.state.deps.db.clone();
    let now = app.state.deps.clock.now();
    let eur = Currency::parse("currency", "EUR").unwrap();
    let stripe = |ext: &str| Method::Provider {
        provider: "stripe".into(),
        external_id: ext.into(),
    };

    // The same payment, delivered twice: one row.
    let mut ids = Vec::new();
    for _ in 0..2 {
        let tx = TenantTx::begin(&db, tenant).await.unwrap();
        ids.push(
            payments::record(
                &tx,
                now,
                PaymentInput {
                    invoice: id,
                    amount: Money::new(69_000, eur),
                    received_on: now.date_naive(),
                    method: stripe("pi_3Q1"),
                    reference: "pi_3Q1".into(),
                },
            )
            .await
            .unwrap(),
        );
        tx.commit().await.unwrap();
    }
    assert_eq!(ids[0], ids[1]);

    // A refund of a payment never seen is NOT_FOUND (the webhook keeps it for later).
    let tx = TenantTx::begin(&db, tenant).await.unwrap();
    let r = payments::refund(
        &tx,
        now,
        &stripe("pi_unknown"),
        Money::new(100, eur),
        "re_0",
    )
    .await;
    assert!(matches!(r, Err(Error::NotFound)), "{r:?}");
    tx.rollback().await.unwrap();

    // Withdrawal: the exempt line is credited, then its amount refunded, twice delivered.
    let line = inv["lines"][1]["id"].as_str().unwrap();
    let v = app
        .gql(
            Some(&a.slug),
            Some(&a.admin_token),
            "mutation($id: ID!, $l: [ID!]!) { creditInvoice(invoiceId: $id, lineIds: $l, reason: \"Withdrawal\") { number } }",
            json!({ "id": id.to_string(), "l": [line] }),
        )
        .await;
    ok(&v);
    for _ in 0..2 {
        let tx = TenantTx::begin(&db, tenant).await.unwrap();
        payments::refund(
            &tx,
            now,
            &stripe("pi_3Q1"),
            Money::new(45_000, eur),
            "re_9Z",
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
    }
    // More than is left of the payment is refused.
    let tx = TenantTx::begin(&db, tenant).await.unwrap();
    let r = payments::refund(
        &tx,
        now,
        &stripe("pi_3Q1"),
        Money::new(30_000, eur),
        "re_A1",
    )
    .await;
    assert!(
        matches!(r, Err(Error::Invalid { ref field, .. }) if field == "amount"),
        "{r:?}"
    );
    tx.rollback().await.unwrap();

    let v = app
        .gql(
            Some(&a.slug),
            Some(&a.admin_token),
            "query($id: ID!) { invoice(id: $id) { status paid { amountMinor } due { amountMinor } credited { amountMinor } } payments(invoiceId: $id) { edges { node { kind method amount { amountMinor } reference } } } }",
            json!({ "id": id.to_string() }),
        )
        .await;
    let got = ok(&v);
    // Paid 690.00, credited 450.00, 450.00 given back: the 240.00 left stays paid.
    assert_eq!(got["invoice"]["status"], "PAID");
    assert_eq!(got["invoice"]["paid"]["amountMinor"], 24_000);
    assert_eq!(got["invoice"]["due"]["amountMinor"], 0);
    assert_eq!(
        got["payments"]["edges"],
        json!([
            { "node": { "kind": "PAYMENT", "method": "PROVIDER", "amount": { "amountMinor": 69_000 }, "reference": "pi_3Q1" } },
            { "node": { "kind": "REFUND", "method": "PROVIDER", "amount": { "amountMinor": 45_000 }, "reference": "re_9Z" } }
        ])
    );
    app.stop().await;
}

#[tokio::test]
async fn provider_payments_and_refunds_are_recorded_once_on_sqlite() {
    provider_payments(Backend::Sqlite).await;
}

#[tokio::test]
async fn provider_payments_and_refunds_are_recorded_once_on_postgres() {
    provider_payments(Backend::Postgres).await;
}
