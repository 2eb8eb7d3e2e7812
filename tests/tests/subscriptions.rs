//! Journey 9, the money side: the operator sells an annual plan and its first term is invoiced;
//! added seats are invoiced prorated; at the term end the renewal job opens the next term with
//! the seats asked for renewal and invoices it; unpaid 30 days past its due date the
//! subscription turns PAST_DUE (new enrolments into included editions refused) and paying the
//! invoice makes it ACTIVE again; a cancelled subscription ends at its term end. Time moves on
//! the server's clock; the jobs run through billing's handler as the worker runs them.
//! These go through `invoices::issue` and `payments::record` (the invoices and payments areas).

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use spaces_billing::jobs::BillingJobs;
use spaces_billing::subscriptions::{self, OVERDUE, RENEW};
use spaces_tenants::TenantTx;
use spaces_tenants::jobs::{Job, JobHandler};
use spaces_tests::app::{code, ok};
use spaces_tests::fixtures::{self, Campus};
use spaces_tests::{Backend, TestApp};

use crate::seats;

async fn space_tx(app: &TestApp, c: &Campus) -> TenantTx {
    TenantTx::begin(&app.state.deps.db, c.id.parse().unwrap())
        .await
        .unwrap()
}

/// Runs one of billing's jobs in the space, as the worker would, and commits.
async fn run_job(app: &TestApp, c: &Campus, kind: &str, payload: Value, due_at: DateTime<Utc>) {
    let tx = space_tx(app, c).await;
    let job = Job {
        kind: kind.to_owned(),
        payload,
        due_at,
        attempt: 0,
    };
    BillingJobs {
        learner_checkout: None,
    }
    .run(&tx, app.state.deps.clock.now(), &job)
    .await
    .unwrap();
    tx.commit().await.unwrap();
}

async fn current(app: &TestApp, c: &Campus) -> subscriptions::Subscription {
    let tx = space_tx(app, c).await;
    let s = subscriptions::current(&tx).await.unwrap().unwrap();
    tx.commit().await.unwrap();
    s
}

async fn net(app: &TestApp, c: &Campus, invoice: &str) -> i64 {
    let tx = space_tx(app, c).await;
    let d = spaces_billing::invoices::document(&tx, invoice.parse().unwrap())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    d.net_total_minor
}

async fn journey(backend: Backend) {
    let app = TestApp::start(backend).await;
    let op = fixtures::operator(&app).await;
    let c = fixtures::campus(&app, &op).await;
    let company = fixtures::company(&app, &c, "Durand").await;
    let course = fixtures::published_course(&app, &op, "HACCP basics").await;
    let edition = seats::included_edition(&app, &c, &course).await;

    // An annual plan of 2 seats at 1,000.00 EUR, sold from today.
    let plan = seats::plan(&app, &op, 2, 100_000).await;
    let sold = seats::sell(&app, &op, &c, &plan, None).await;
    let first = sold["invoiceId"]
        .as_str()
        .expect("the first term is invoiced");
    assert_eq!(net(&app, &c, first).await, 100_000);
    let term_days = {
        let s = current(&app, &c).await;
        (s.ends_on - s.starts_on).num_days()
    };

    // One more seat on day 0: the whole term for one seat, prorated (= 500.00).
    let v = app
        .gql(
            None,
            Some(&op),
            "mutation($s: ID!, $n: Int!) { changeSeats(spaceId: $s, seats: $n) { invoiceId subscription { seats } } }",
            json!({ "s": c.id, "n": 3 }),
        )
        .await;
    let ch = &ok(&v)["changeSeats"];
    assert_eq!(ch["subscription"]["seats"], 3);
    let prorated = ch["invoiceId"].as_str().unwrap();
    assert_eq!(
        net(&app, &c, prorated).await,
        50_000,
        "100,000 x 1 seat x {term_days} days left / (2 seats x {term_days} days)"
    );
    // Renewal with 2 seats.
    let v = app
        .gql(
            None,
            Some(&op),
            "mutation($s: ID!, $n: Int!) { changeSeats(spaceId: $s, seats: $n) { invoiceId } }",
            json!({ "s": c.id, "n": 2 }),
        )
        .await;
    assert_eq!(ok(&v)["changeSeats"]["invoiceId"], Value::Null);

    // The term ends: the renewal opens the next one with 2 seats and invoices it.
    let s = current(&app, &c).await;
    let end = s.ends_on;
    let until = (end.and_hms_opt(0, 0, 0).unwrap().and_utc() - app.state.deps.clock.now())
        .num_seconds()
        + 60;
    app.state
        .deps
        .clock
        .advance(chrono::Duration::seconds(until));
    let payload = json!({ "subscription": s.id.to_string() });
    let due = end.and_hms_opt(0, 0, 0).unwrap().and_utc();
    run_job(&app, &c, RENEW, payload.clone(), due).await;
    let r = current(&app, &c).await;
    assert_eq!((r.starts_on, r.seats), (end, 2));
    let renewal = r.renewal_invoice.expect("the renewal is invoiced");
    assert_eq!(net(&app, &c, &renewal.to_string()).await, 100_000);
    // Running it again changes nothing.
    run_job(&app, &c, RENEW, payload, due).await;
    assert_eq!(current(&app, &c).await.starts_on, end);

    // 60 days later, still unpaid: PAST_DUE, new enrolments into included editions refused.
    app.state.deps.clock.advance(chrono::Duration::days(61));
    let overdue = json!({ "subscription": s.id.to_string(), "invoice": renewal.to_string() });
    run_job(
        &app,
        &c,
        OVERDUE,
        overdue.clone(),
        app.state.deps.clock.now(),
    )
    .await;
    let v = app
        .gql(
            Some(&c.slug),
            Some(&c.admin_token),
            seats::SUBSCRIPTION,
            json!({}),
        )
        .await;
    assert_eq!(ok(&v)["subscription"]["status"], "PAST_DUE");
    let enrol = "mutation($i: EnrolInput!) { enrol(input: $i) { id } }";
    let learner = json!({ "i": { "editionId": edition, "email": "late@durand.test", "givenName": "L", "familyName": "Ate", "organisationId": company } });
    let v = app
        .gql(Some(&c.slug), Some(&c.admin_token), enrol, learner.clone())
        .await;
    assert_eq!(code(&v), "SUBSCRIPTION_PAST_DUE", "{v}");

    // Paid: the next enrolment goes through and the subscription is ACTIVE again.
    let tx = space_tx(&app, &c).await;
    let total = spaces_billing::invoices::document(&tx, renewal)
        .await
        .unwrap();
    spaces_billing::payments::record(
        &tx,
        app.state.deps.clock.now(),
        spaces_billing::payments::PaymentInput {
            invoice: renewal,
            amount: spaces_billing::Money::new(total.gross_total_minor, total.currency),
            received_on: app.state.deps.clock.today(),
            method: spaces_billing::payments::Method::Manual,
            reference: "VIR-2027-001".into(),
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let v = app
        .gql(Some(&c.slug), Some(&c.admin_token), enrol, learner)
        .await;
    ok(&v);
    let v = app
        .gql(
            Some(&c.slug),
            Some(&c.admin_token),
            seats::SUBSCRIPTION,
            json!({}),
        )
        .await;
    assert_eq!(ok(&v)["subscription"]["status"], "ACTIVE");

    // Cancelled: it runs to its term end, then the renewal ends it.
    let v = app
        .gql(
            None,
            Some(&op),
            "mutation($s: ID!) { cancelSubscription(spaceId: $s) { subscription { cancelAtTermEnd } } }",
            json!({ "s": c.id }),
        )
        .await;
    ok(&v);
    let r = current(&app, &c).await;
    let next_end = r.ends_on;
    let days = (next_end - app.state.deps.clock.today()).num_days() + 1;
    app.state.deps.clock.advance(chrono::Duration::days(days));
    let v = app
        .gql(Some(&c.slug), Some(&c.admin_token), enrol, json!({ "i": { "editionId": edition, "email": "after@durand.test", "givenName": "A", "familyName": "Fter", "organisationId": company } }))
        .await;
    assert_eq!(code(&v), "SUBSCRIPTION_REQUIRED", "{v}");
    run_job(
        &app,
        &c,
        RENEW,
        json!({ "subscription": s.id.to_string() }),
        next_end.and_hms_opt(0, 0, 0).unwrap().and_utc(),
    )
    .await;
    let v = app
        .gql(
            Some(&c.slug),
            Some(&c.admin_token),
            seats::SUBSCRIPTION,
            json!({}),
        )
        .await;
    assert_eq!(ok(&v)["subscription"]["status"], "CANCELLED");
    app.stop().await;
}

#[tokio::test]
async fn subscription_journey_on_sqlite() {
    journey(Backend::Sqlite).await;
}

#[tokio::test]
async fn subscription_journey_on_postgres() {
    journey(Backend::Postgres).await;
}

/// The schedule as the server runs it: selling the plan queues its renewal, and the server's
/// own job runner (the handlers the gateway registers) opens the next term once the clock
/// reaches the end of this one, then marks the unpaid renewal PAST_DUE thirty days after its
/// due date.
async fn the_job_runner_renews_and_marks_overdue(backend: Backend) {
    let app = TestApp::start(backend).await;
    let op = fixtures::operator(&app).await;
    let c = fixtures::campus(&app, &op).await;
    let plan = seats::plan(&app, &op, 2, 100_000).await;
    seats::sell(&app, &op, &c, &plan, None).await;
    let first = current(&app, &c).await;
    let run = || async {
        spaces_tenants::jobs::run_due(&app.state.deps.db, &app.state.deps.clock, &app.state.jobs)
            .await
            .unwrap()
    };
    // Nothing is due yet: the term stands.
    run().await;
    assert_eq!(current(&app, &c).await.starts_on, first.starts_on);

    let to_end = (first.ends_on.and_hms_opt(0, 0, 0).unwrap().and_utc()
        - app.state.deps.clock.now())
    .num_seconds()
        + 60;
    app.state
        .deps
        .clock
        .advance(chrono::Duration::seconds(to_end));
    run().await;
    let renewed = current(&app, &c).await;
    assert_eq!(renewed.starts_on, first.ends_on, "the next term opened");
    assert!(renewed.renewal_invoice.is_some(), "and was invoiced");

    app.state.deps.clock.advance(chrono::Duration::days(61));
    run().await;
    let v = app
        .gql(
            None,
            Some(&op),
            "query($s: ID) { subscription(spaceId: $s) { status } }",
            json!({ "s": c.id }),
        )
        .await;
    assert_eq!(ok(&v)["subscription"]["status"], "PAST_DUE", "{v}");
    app.stop().await;
}

#[tokio::test]
async fn the_job_runner_renews_and_marks_overdue_on_on_sqlite() {
    the_job_runner_renews_and_marks_overdue(Backend::Sqlite).await;
}

#[tokio::test]
async fn the_job_runner_renews_and_marks_overdue_on_on_postgres() {
    the_job_runner_renews_and_marks_overdue(Backend::Postgres).await;
}
