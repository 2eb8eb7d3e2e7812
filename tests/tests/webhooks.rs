//! `POST /webhooks/stripe`: signatures checked (bad, stale, wrong secret: 400, nothing kept),
//! events de-duplicated by id, and refunds that arrive before their payment parked and applied
//! when the payment comes. The money movements themselves are the payments service's: here a
//! fake stands in for it, so the ordering and de-duplication are shown on their own.

use std::collections::HashSet;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};
use spaces_billing::payments::provider::{Event, EventKind, Metadata};
use spaces_billing::payments::stripe::sign;
use spaces_billing::payments::webhooks::{self, Books, Outcome};
use spaces_billing::payments::{Method, PaymentInput};
use spaces_billing::{Currency, InvoiceId, Money, PaymentId};
use spaces_tenants::{Error, Result, TenantId, TenantTx};
use spaces_tests::fixtures::{campus, operator, unique};
use spaces_tests::{Backend, TestApp};

const SECRETS: [&str; 2] = ["whsec_previous", "whsec_current"];

async fn app_with_stripe(backend: Backend) -> TestApp {
    TestApp::start_with(backend, |c| {
        c.stripe_webhook_secrets = SECRETS.iter().map(|s| (*s).to_owned()).collect();
    })
    .await
}

async fn deliver(app: &TestApp, body: &[u8], signature: Option<&str>) -> (StatusCode, Value) {
    let mut req = app
        .client
        .post(format!("{}/webhooks/stripe", app.base))
        .header("Content-Type", "application/json")
        .body(body.to_vec());
    if let Some(s) = signature {
        req = req.header("Stripe-Signature", s);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

fn other_event(id: &str) -> Vec<u8> {
    json!({ "id": id, "object": "event", "type": "customer.created", "data": { "object": { "id": "cus_1" } } })
        .to_string()
        .into_bytes()
}

async fn status_of(app: &TestApp, id: &str) -> Option<String> {
    webhooks::status_of(&app.state.deps.db, "stripe", id)
        .await
        .unwrap()
}

async fn signatures_are_checked(backend: Backend) {
    let app = app_with_stripe(backend).await;
    let now = app.state.deps.clock.now().timestamp();
    let id = unique("evt_");
    let body = other_event(&id);
    let refused: Vec<(&str, Option<String>)> = vec![
        ("no signature", None),
        ("garbage", Some(format!("t={now},v1=deadbeef"))),
        ("wrong secret", Some(sign("whsec_someone_else", now, &body))),
        ("stale", Some(sign(SECRETS[1], now - 301, &body))),
        // Well past the tolerance: the server reads its clock a moment after `now` was taken.
        ("from the future", Some(sign(SECRETS[1], now + 360, &body))),
        (
            "another body",
            Some(sign(SECRETS[1], now, &other_event("evt_other"))),
        ),
    ];
    for (what, sig) in refused {
        let (status, v) = deliver(&app, &body, sig.as_deref()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{what}: {v}");
        assert!(
            v["error"].as_str().unwrap().starts_with("Stripe-Signature"),
            "{what}: {v}"
        );
        assert_eq!(status_of(&app, &id).await, None, "{what}: nothing is kept");
    }
    // Either secret of a rotation verifies; an unknown type is recorded and ignored.
    let (status, v) = deliver(&app, &body, Some(&sign(SECRETS[0], now, &body))).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["outcome"], "ignored");
    assert_eq!(status_of(&app, &id).await.as_deref(), Some("ignored"));
    // A replay (even freshly signed with the other secret) changes nothing.
    let (status, v) = deliver(&app, &body, Some(&sign(SECRETS[1], now, &body))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(v["outcome"], "replayed");
    // A refund of a payment nobody has seen, naming no space, waits (through the endpoint,
    // with the server's own payments service: nothing is asked of it yet).
    let rid = unique("evt_");
    let pi = unique("pi_");
    let refund = json!({ "id": rid, "type": "charge.refunded", "data": { "object": {
        "id": unique("ch_"), "payment_intent": pi, "amount_refunded": 700, "currency": "eur", "metadata": {} } } })
    .to_string()
    .into_bytes();
    let (status, v) = deliver(&app, &refund, Some(&sign(SECRETS[1], now, &refund))).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["outcome"], "parked");
    assert_eq!(status_of(&app, &rid).await.as_deref(), Some("parked"));
    let (_, v) = deliver(&app, &refund, Some(&sign(SECRETS[1], now, &refund))).await;
    assert_eq!(v["outcome"], "replayed");
    // The tolerance is against the server's clock: ten minutes on, the same signature is stale.
    let id2 = unique("evt_");
    let body2 = other_event(&id2);
    let sig2 = sign(SECRETS[1], now, &body2);
    app.state.deps.clock.advance(chrono::Duration::minutes(10));
    let (status, _) = deliver(&app, &body2, Some(&sig2)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(status_of(&app, &id2).await, None);
}

#[tokio::test]
async fn signatures_are_checked_on_sqlite() {
    signatures_are_checked(Backend::Sqlite).await;
}

#[tokio::test]
async fn signatures_are_checked_on_postgres() {
    signatures_are_checked(Backend::Postgres).await;
}

#[tokio::test]
async fn the_endpoint_is_off_without_secrets_and_bodies_are_capped() {
    let off = TestApp::start(Backend::Sqlite).await;
    let (status, _) = deliver(&off, &other_event("evt_1"), Some("t=1,v1=00")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let app = app_with_stripe(Backend::Sqlite).await;
    let huge = vec![b' '; 300 * 1024];
    let now = app.state.deps.clock.now().timestamp();
    let (status, _) = deliver(&app, &huge, Some(&sign(SECRETS[1], now, &huge))).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
}

/// Stands in for the payments service: payments it knows, refunds it took.
#[derive(Default)]
struct FakeBooks {
    /// (space, provider payment id, invoice)
    payments: Mutex<Vec<(TenantId, String, InvoiceId)>>,
    /// (space, provider payment id, amount, reference)
    refunds: Mutex<Vec<(TenantId, String, i64, String)>>,
    /// Invoices the spaces do not have.
    unknown_invoices: Mutex<HashSet<InvoiceId>>,
}

#[async_trait::async_trait]
impl Books for FakeBooks {
    async fn record(
        &self,
        tx: &TenantTx,
        _now: DateTime<Utc>,
        input: PaymentInput,
    ) -> Result<PaymentId> {
        if self
            .unknown_invoices
            .lock()
            .unwrap()
            .contains(&input.invoice)
        {
            return Err(Error::NotFound);
        }
        let Method::Provider { external_id, .. } = input.method else {
            panic!("webhook payments come from the provider");
        };
        let mut p = self.payments.lock().unwrap();
        if !p
            .iter()
            .any(|(s, e, _)| *s == tx.tenant() && *e == external_id)
        {
            p.push((tx.tenant(), external_id, input.invoice));
        }
        Ok(PaymentId::new())
    }

    async fn refund(
        &self,
        tx: &TenantTx,
        _now: DateTime<Utc>,
        payment: &Method,
        amount: Money,
        reference: &str,
    ) -> Result<()> {
        let Method::Provider { external_id, .. } = payment else {
            panic!("webhook refunds come from the provider");
        };
        let known = self
            .payments
            .lock()
            .unwrap()
            .iter()
            .any(|(s, e, _)| *s == tx.tenant() && e == external_id);
        if !known {
            return Err(Error::NotFound);
        }
        self.refunds.lock().unwrap().push((
            tx.tenant(),
            external_id.clone(),
            amount.amount_minor(),
            reference.to_owned(),
        ));
        Ok(())
    }
}

fn eur(minor: i64) -> Money {
    Money::new(minor, Currency::EUR)
}

fn payment(id: &str, pi: &str, amount: i64, space: TenantId, invoice: InvoiceId) -> Event {
    Event {
        id: id.to_owned(),
        kind_name: "payment_intent.succeeded".into(),
        kind: EventKind::PaymentSucceeded {
            external_id: pi.to_owned(),
            amount: eur(amount),
            metadata: Metadata {
                space: Some(space),
                invoice: Some(invoice),
                purpose: None,
            },
        },
    }
}

fn refund(id: &str, pi: &str, total: i64, space: Option<TenantId>) -> Event {
    Event {
        id: id.to_owned(),
        kind_name: "charge.refunded".into(),
        kind: EventKind::RefundSucceeded {
            payment_external_id: pi.to_owned(),
            refund_id: format!("ch_{pi}/refunded/{total}"),
            total_refunded: eur(total),
            metadata: Metadata {
                space,
                invoice: None,
                purpose: None,
            },
        },
    }
}

async fn refunds_before_payments_wait_and_replays_change_nothing(backend: Backend) {
    let app = app_with_stripe(backend).await;
    let op = operator(&app).await;
    let space: TenantId = campus(&app, &op).await.id.parse().unwrap();
    let db = &app.state.deps.db;
    let books = FakeBooks::default();
    let now = app.state.deps.clock.now();
    let handle = |e: Event| {
        let payload = format!("{{\"id\":\"{}\"}}", e.id);
        let books = &books;
        async move {
            webhooks::handle(db, "stripe", books, e, payload.as_bytes(), now)
                .await
                .unwrap()
        }
    };
    let (pi, invoice) = (unique("pi_"), InvoiceId::new());
    let (r1, p1) = (unique("evt_r_"), unique("evt_p_"));
    // The refund arrives first: its payment is not recorded, so it waits.
    assert_eq!(
        handle(refund(&r1, &pi, 500, Some(space))).await,
        Outcome::Parked
    );
    assert_eq!(status_of(&app, &r1).await.as_deref(), Some("parked"));
    assert!(books.refunds.lock().unwrap().is_empty());
    // The payment comes: recorded, and the waiting refund applied with it.
    assert_eq!(
        handle(payment(&p1, &pi, 45_000, space, invoice)).await,
        Outcome::Applied
    );
    assert_eq!(status_of(&app, &r1).await.as_deref(), Some("applied"));
    assert_eq!(status_of(&app, &p1).await.as_deref(), Some("applied"));
    assert_eq!(
        books.payments.lock().unwrap().as_slice(),
        [(space, pi.clone(), invoice)]
    );
    assert_eq!(
        books.refunds.lock().unwrap().as_slice(),
        [(space, pi.clone(), 500, format!("ch_{pi}/refunded/500"))]
    );
    // Replays of either change nothing.
    assert_eq!(
        handle(refund(&r1, &pi, 500, Some(space))).await,
        Outcome::Replayed
    );
    assert_eq!(
        handle(payment(&p1, &pi, 45_000, space, invoice)).await,
        Outcome::Replayed
    );
    assert_eq!(books.refunds.lock().unwrap().len(), 1);
    assert_eq!(books.payments.lock().unwrap().len(), 1);
    // A second partial refund: the provider reports the running total (800), 300 is new. It
    // names no space: the payment's is used.
    let r2 = unique("evt_r_");
    assert_eq!(handle(refund(&r2, &pi, 800, None)).await, Outcome::Applied);
    assert_eq!(books.refunds.lock().unwrap()[1].2, 300);
    // An older total delivered late adds nothing.
    let stale = unique("evt_r_");
    assert_eq!(
        handle(refund(&stale, &pi, 500, Some(space))).await,
        Outcome::Ignored
    );
    assert_eq!(books.refunds.lock().unwrap().len(), 2);

    // A refund naming no space, before a payment nobody has seen: it waits without a space,
    // and lands in the payment's space when the payment arrives.
    let (pi2, invoice2) = (unique("pi_"), InvoiceId::new());
    let r3 = unique("evt_r_");
    assert_eq!(
        handle(refund(&r3, &pi2, 1_000, None)).await,
        Outcome::Parked
    );
    assert_eq!(
        handle(payment(&unique("evt_p_"), &pi2, 2_000, space, invoice2)).await,
        Outcome::Applied
    );
    assert_eq!(status_of(&app, &r3).await.as_deref(), Some("applied"));
    assert_eq!(
        books.refunds.lock().unwrap()[2],
        (space, pi2.clone(), 1_000, format!("ch_{pi2}/refunded/1000"))
    );

    // A checkout reports its payment twice (the session, then the payment intent): two events,
    // one payment.
    let (pi3, invoice3) = (unique("pi_"), InvoiceId::new());
    let mut session = payment(&unique("evt_cs_"), &pi3, 3_000, space, invoice3);
    session.kind_name = "checkout.session.completed".into();
    assert_eq!(handle(session).await, Outcome::Applied);
    assert_eq!(
        handle(payment(&unique("evt_p_"), &pi3, 3_000, space, invoice3)).await,
        Outcome::Applied
    );
    assert_eq!(
        books
            .payments
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, e, _)| *e == pi3)
            .count(),
        1
    );

    // A payment for an invoice the space does not have: recorded as ignored, nothing moves.
    let ghost = InvoiceId::new();
    books.unknown_invoices.lock().unwrap().insert(ghost);
    let p3 = unique("evt_p_");
    assert_eq!(
        handle(payment(&p3, &unique("pi_"), 100, space, ghost)).await,
        Outcome::Ignored
    );
    assert_eq!(status_of(&app, &p3).await.as_deref(), Some("ignored"));
    assert_eq!(books.payments.lock().unwrap().len(), 3);
}

#[tokio::test]
async fn refunds_before_payments_wait_and_replays_change_nothing_on_sqlite() {
    refunds_before_payments_wait_and_replays_change_nothing(Backend::Sqlite).await;
}

#[tokio::test]
async fn refunds_before_payments_wait_and_replays_change_nothing_on_postgres() {
    refunds_before_payments_wait_and_replays_change_nothing(Backend::Postgres).await;
}

/// Journey 11 through the real books: Stripe's signed events mark an issued invoice paid, a
/// replay changes nothing, and a refund that arrives before its payment is applied with it.
async fn stripe_events_pay_real_invoices(backend: Backend) {
    use spaces_tests::fixtures::{billing_account, company, issue_invoice};
    let app = app_with_stripe(backend).await;
    let op = operator(&app).await;
    let a = campus(&app, &op).await;
    let acme = company(&app, &a, "Acme").await;
    let buyer = billing_account(&app, &a, &acme).await;
    let send = |event: Value| {
        let app = &app;
        async move {
            let body = event.to_string().into_bytes();
            let t = app.state.deps.clock.now().timestamp();
            deliver(app, &body, Some(&sign(SECRETS[1], t, &body))).await
        }
    };
    let state_of = |id: String| {
        let (app, a) = (&app, &a);
        async move {
            let v = app
                .gql(
                    Some(&a.slug),
                    Some(&a.admin_token),
                    "query($id: ID!) { invoice(id: $id) { status paid { amountMinor } due { amountMinor } payments { kind amount { amountMinor } } } }",
                    json!({ "id": id }),
                )
                .await;
            v["data"]["invoice"].clone()
        }
    };
    let ledger = || {
        let (app, a) = (&app, &a);
        async move {
            app.gql(
                Some(&a.slug),
                Some(&a.admin_token),
                "{ ledgerBalances { accountKind billingAccountId balance { amountMinor } } }",
                json!({}),
            )
            .await["data"]["ledgerBalances"]
                .clone()
        }
    };

    // 2 × 100.00 at 20 % and 450.00 exempt: 690.00 EUR.
    let inv = issue_invoice(&app, &a, &buyer).await;
    let id = inv["data"]["issueInvoice"]["id"]
        .as_str()
        .expect("issued")
        .to_owned();
    let pi = unique("pi_");
    let paid = json!({ "id": unique("evt_"), "type": "payment_intent.succeeded", "data": { "object": {
        "id": pi, "amount_received": 69_000, "currency": "eur",
        "metadata": { "space": a.id, "invoice": id } } } });
    let (s, v) = send(paid.clone()).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let st = state_of(id.clone()).await;
    assert_eq!(st["status"], "PAID", "{st}");
    assert_eq!(st["due"]["amountMinor"], 0);
    let books = ledger().await;
    // The same event again, and the same payment under a new event id: nothing moves.
    let (s, _) = send(paid.clone()).await;
    assert_eq!(s, StatusCode::OK);
    let mut again = paid.clone();
    again["id"] = json!(unique("evt_"));
    let (s, _) = send(again).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(state_of(id.clone()).await["paid"]["amountMinor"], 69_000);
    assert_eq!(ledger().await, books, "a replay moved money");

    // A second invoice: its refund arrives first, then the payment; both end up recorded.
    let inv = issue_invoice(&app, &a, &buyer).await;
    let id2 = inv["data"]["issueInvoice"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let pi2 = unique("pi_");
    let refund = json!({ "id": unique("evt_"), "type": "charge.refunded", "data": { "object": {
        "id": unique("ch_"), "payment_intent": pi2, "amount_refunded": 9_000, "currency": "eur",
        "metadata": { "space": a.id } } } });
    let (s, v) = send(refund).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(state_of(id2.clone()).await["paid"]["amountMinor"], 0);
    let paid2 = json!({ "id": unique("evt_"), "type": "payment_intent.succeeded", "data": { "object": {
        "id": pi2, "amount_received": 69_000, "currency": "eur",
        "metadata": { "space": a.id, "invoice": id2 } } } });
    let (s, v) = send(paid2).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let st = state_of(id2.clone()).await;
    // A refund with no credit note is a gesture (see README, Invoices): the invoice stays paid,
    // the payment and its refund are both on it, and the refunds account carries the 90.00.
    assert_eq!(st["status"], "PAID", "{st}");
    let kinds: Vec<(String, i64)> = st["payments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["kind"].as_str().unwrap().to_owned(),
                p["amount"]["amountMinor"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [("PAYMENT".to_owned(), 69_000), ("REFUND".to_owned(), 9_000)],
        "{st}"
    );
    let refunds: i64 = ledger()
        .await
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["accountKind"] == "REFUNDS")
        .map(|b| b["balance"]["amountMinor"].as_i64().unwrap())
        .sum();
    assert_eq!(refunds, 9_000);
    app.stop().await;
}

#[tokio::test]
async fn stripe_events_pay_real_invoices_on_sqlite() {
    stripe_events_pay_real_invoices(Backend::Sqlite).await;
}

#[tokio::test]
async fn stripe_events_pay_real_invoices_on_postgres() {
    stripe_events_pay_real_invoices(Backend::Postgres).await;
}
