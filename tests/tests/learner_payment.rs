//! A learner pays what vouchers leave them: their own billing account and invoice, the
//! provider's checkout, the place PENDING_PAYMENT until the signed webhook confirms it (a
//! replay moves nothing), released with a credit note after 48 hours unpaid, refunded through
//! the provider on a withdrawal inside the period. The ledger balances throughout.
//!
//! The place is opened here through `payment::open` in the space's own transaction, as the
//! gate does when vouchers leave the learner something; the journey through `selfEnrol` with
//! codes is in `redeem`.

use chrono::Duration;
use reqwest::StatusCode;
use serde_json::{Value, json};
use spaces_billing::invoices::Vat;
use spaces_billing::vouchers::payment::{self, LearnerCheckout, LearnerShare};
use spaces_billing::{Currency, Money};
use spaces_tenants::enrolments::{self, Enrolee, NoGate};
use spaces_tenants::{EditionId, PersonId, TenantId, TenantTx, editions, people};
use spaces_tests::app::ok;
use spaces_tests::fixtures::{self, Campus};
use spaces_tests::stripe::{self, FakeStripe};
use spaces_tests::{Backend, TestApp};

use crate::charges::priced_edition;

const MINE: &str = "{ myEnrolments(first: 10) { edges { node { id status payment { amount { amountMinor currency } status checkoutUrl expiresAt invoiceId } } } } }";

fn uuid(s: &str) -> uuid::Uuid {
    s.parse().unwrap()
}

async fn start(backend: Backend, fake: &FakeStripe) -> TestApp {
    let base = fake.base.clone();
    TestApp::start_with(backend, move |c| {
        c.stripe_webhook_secrets = vec![stripe::WEBHOOK_SECRET.into()];
        c.stripe_api_key = Some(stripe::API_KEY.into());
        c.stripe_api_base = base;
    })
    .await
}

/// A learner of the campus root, enrolled by the admin in the edition (no charge: the share
/// is opened by hand below), with their share of `gross` opened. Returns (enrolment, token).
async fn enrolled_with_share(
    app: &TestApp,
    fake: &FakeStripe,
    c: &Campus,
    edition: &str,
    email: &str,
    gross: i64,
) -> (String, String) {
    let (person, token) =
        fixtures::member(app, c, &c.admin_token, &c.root_id, email, "LEARNER").await;
    let admin_id = {
        let v = app
            .gql(
                Some(&c.slug),
                Some(&c.admin_token),
                "{ viewer { id } }",
                json!({}),
            )
            .await;
        ok(&v)["viewer"]["id"].as_str().unwrap().to_owned()
    };
    let tx = TenantTx::begin(&app.state.deps.db, TenantId::from_uuid(uuid(&c.id)))
        .await
        .unwrap();
    let (admin, _) = people::load_principal(&tx, PersonId::from_uuid(uuid(&admin_id)), 0)
        .await
        .unwrap();
    let e = enrolments::enrol(
        &tx,
        &admin,
        &NoGate,
        EditionId::from_uuid(uuid(edition)),
        Enrolee::Person(PersonId::from_uuid(uuid(&person))),
        None,
        "https://x.test/accept",
        &[],
    )
    .await
    .unwrap();
    let ed = editions::load(&tx, EditionId::from_uuid(uuid(edition)))
        .await
        .unwrap();
    let checkout = LearnerCheckout {
        provider: std::sync::Arc::new(
            spaces_billing::payments::stripe::Stripe::new(
                &fake.base,
                Some(stripe::API_KEY.into()),
                vec![stripe::WEBHOOK_SECRET.into()],
            )
            .unwrap(),
        ),
        links: app.state.deps.links.clone(),
    };
    payment::open(
        &tx,
        app.state.deps.clock.now(),
        Some(&checkout),
        LearnerShare {
            edition: &ed,
            enrolment: e.enrolment.id,
            person: PersonId::from_uuid(uuid(&person)),
            amount: Money::new(gross, Currency::parse("c", "EUR").unwrap()),
            vat: &Vat::Rate { basis_points: 2000 },
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    (e.enrolment.id.to_string(), token)
}

async fn mine(app: &TestApp, c: &Campus, token: &str, enrolment: &str) -> Value {
    let v = app.gql(Some(&c.slug), Some(token), MINE, json!({})).await;
    ok(&v)["myEnrolments"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .find(|n| n["id"] == enrolment)
        .unwrap_or(Value::Null)
}

/// The provider's id of an enrolment's open checkout, from its URL.
fn checkout_id(enrolment: &Value) -> String {
    let url = enrolment["payment"]["checkoutUrl"].as_str().unwrap();
    url.rsplit('/').next().unwrap().to_owned()
}

async fn ledger_sums_to_zero(app: &TestApp, c: &Campus) {
    let v = app
        .gql(
            Some(&c.slug),
            Some(&c.admin_token),
            "{ ledgerBalances { accountKind balance { amountMinor } } }",
            json!({}),
        )
        .await;
    let sum: i64 = ok(&v)["ledgerBalances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["balance"]["amountMinor"].as_i64().unwrap())
        .sum();
    assert_eq!(sum, 0, "{v}");
}

async fn run_jobs(app: &TestApp) {
    spaces_tenants::jobs::run_due(&app.state.deps.db, &app.state.deps.clock, &app.state.jobs)
        .await
        .unwrap();
}

async fn pays_by_webhook_or_is_released(backend: Backend) {
    let fake = FakeStripe::start().await;
    let app = start(backend, &fake).await;
    let op = fixtures::operator(&app).await;
    let c = fixtures::campus(&app, &op).await;
    let course = fixtures::published_course(&app, &op, "HACCP").await;
    let edition = priced_edition(&app, &c, &course, 70_000, json!({})).await;

    // 240.00 EUR left to pay, VAT 20 % included: an invoice of 200.00 + 40.00, a checkout for it.
    let (paid_one, token) =
        enrolled_with_share(&app, &fake, &c, &edition, "lea@learners.test", 24_000).await;
    let n = mine(&app, &c, &token, &paid_one).await;
    assert_eq!(n["status"], "PENDING_PAYMENT", "{n}");
    assert_eq!(n["payment"]["status"], "AWAITING");
    assert_eq!(
        n["payment"]["amount"],
        json!({ "amountMinor": 24_000, "currency": "EUR" })
    );
    let checkouts = fake.forms("/v1/checkout/sessions");
    assert_eq!(checkouts.len(), 1);
    assert_eq!(
        n["payment"]["checkoutUrl"],
        "https://checkout.stripe.test/c/cs_test_1"
    );
    let form = &checkouts[0];
    assert_eq!(
        stripe::field(form, "line_items[0][price_data][unit_amount]"),
        Some("24000")
    );
    assert_eq!(stripe::field(form, "metadata[space]"), Some(c.id.as_str()));
    assert_eq!(
        stripe::field(form, "metadata[invoice]"),
        n["payment"]["invoiceId"].as_str()
    );
    assert!(
        stripe::field(form, "success_url")
            .is_some_and(|u| u.contains(&c.slug) && u.contains(&paid_one)),
        "{form:?}"
    );

    // The provider confirms: the place is the learner's, the invoice paid; a replay moves nothing.
    let now = app.state.deps.clock.now();
    let event = stripe::payment_succeeded("evt_pay_1", "pi_1", form, now);
    assert_eq!(stripe::deliver(&app, event.clone()).await, StatusCode::OK);
    let n = mine(&app, &c, &token, &paid_one).await;
    assert_eq!(n["status"], "ACTIVE", "{n}");
    assert_eq!(n["payment"]["status"], "PAID");
    assert_eq!(n["payment"]["checkoutUrl"], Value::Null);
    assert_eq!(stripe::deliver(&app, event).await, StatusCode::OK);
    assert_eq!(mine(&app, &c, &token, &paid_one).await["status"], "ACTIVE");
    let v = app
        .gql(
            Some(&c.slug),
            Some(&c.admin_token),
            "query($id: ID!) { invoice(id: $id) { status gross { amountMinor } buyerId } }",
            json!({ "id": n["payment"]["invoiceId"] }),
        )
        .await;
    let inv = &ok(&v)["invoice"];
    assert_eq!(inv["status"], "PAID", "{v}");
    assert_eq!(inv["gross"]["amountMinor"], 24_000);
    let v = app
        .gql(
            Some(&c.slug),
            Some(&c.admin_token),
            "query($id: ID!) { billingAccount(id: $id) { legalName invoiceEmail } }",
            json!({ "id": inv["buyerId"] }),
        )
        .await;
    assert_eq!(
        ok(&v)["billingAccount"]["invoiceEmail"],
        "lea@learners.test",
        "{v}"
    );

    // Another learner never pays: 48 hours later the place is released, the invoice credited.
    let opened_at = app.state.deps.clock.now().timestamp();
    let (unpaid, token2) =
        enrolled_with_share(&app, &fake, &c, &edition, "max@learners.test", 24_000).await;
    let first = fake.forms("/v1/checkout/sessions").pop().unwrap();
    let closes: i64 = stripe::field(&first, "expires_at")
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (closes - opened_at - 24 * 3600).abs() < 60,
        "Stripe's longest: 24 hours"
    );
    app.state.deps.clock.advance(Duration::hours(47));
    run_jobs(&app).await;
    let n = mine(&app, &c, &token2, &unpaid).await;
    assert_eq!(n["status"], "PENDING_PAYMENT");
    // Shortly before the provider closed it, the checkout was renewed for the rest of the hold.
    let renewed = checkout_id(&n);
    assert_ne!(renewed, "cs_test_2");
    assert_eq!(fake.expired(), vec!["cs_test_2".to_owned()]);
    let second = fake.forms("/v1/checkout/sessions").pop().unwrap();
    let hold_ends =
        chrono::DateTime::parse_from_rfc3339(n["payment"]["expiresAt"].as_str().unwrap())
            .unwrap()
            .timestamp();
    assert_eq!(
        stripe::field(&second, "expires_at"),
        Some(hold_ends.to_string().as_str())
    );
    assert_eq!(
        stripe::field(&second, "line_items[0][price_data][unit_amount]"),
        Some("24000")
    );
    app.state.deps.clock.advance(Duration::hours(2));
    run_jobs(&app).await;
    let n = mine(&app, &c, &token2, &unpaid).await;
    assert_eq!(n["status"], "WITHDRAWN", "{n}");
    assert_eq!(n["payment"]["status"], "RELEASED");
    let v = app
        .gql(
            Some(&c.slug),
            Some(&c.admin_token),
            "query($id: ID!) { invoice(id: $id) { status credited { amountMinor } } }",
            json!({ "id": n["payment"]["invoiceId"] }),
        )
        .await;
    assert_eq!(ok(&v)["invoice"]["status"], "CREDITED", "{v}");
    // The first learner stays in.
    assert_eq!(mine(&app, &c, &token, &paid_one).await["status"], "ACTIVE");
    // Max's checkout was closed before his place was given back: nobody pays for it now.
    assert_eq!(fake.expired(), vec!["cs_test_2".to_owned(), renewed]);

    // A third learner pays at the last minute and the webhook is late: the release finds the
    // checkout complete and leaves the place to the webhook, which then pays it.
    let (late, token3) =
        enrolled_with_share(&app, &fake, &c, &edition, "zoe@learners.test", 24_000).await;
    let form = fake.forms("/v1/checkout/sessions").pop().unwrap();
    fake.complete(&checkout_id(&mine(&app, &c, &token3, &late).await));
    app.state.deps.clock.advance(Duration::hours(49));
    run_jobs(&app).await;
    let n = mine(&app, &c, &token3, &late).await;
    assert_eq!(n["status"], "PENDING_PAYMENT", "{n}");
    assert_eq!(n["payment"]["status"], "AWAITING");
    let event = stripe::payment_succeeded("evt_late", "pi_late", &form, app.state.deps.clock.now());
    assert_eq!(stripe::deliver(&app, event).await, StatusCode::OK);
    let n = mine(&app, &c, &token3, &late).await;
    assert_eq!(n["status"], "ACTIVE", "{n}");
    assert_eq!(n["payment"]["status"], "PAID");
    ledger_sums_to_zero(&app, &c).await;

    // The first learner withdraws inside the period: refunded through the provider.
    let v = app
        .gql(
            Some(&c.slug),
            Some(&token),
            "mutation($id: ID!) { withdrawEnrolment(id: $id) { status payment { status } } }",
            json!({ "id": paid_one }),
        )
        .await;
    assert_eq!(
        ok(&v)["withdrawEnrolment"]["payment"]["status"],
        "REFUNDED",
        "{v}"
    );
    let refunds = fake.forms("/v1/refunds");
    assert_eq!(refunds.len(), 1);
    assert_eq!(stripe::field(&refunds[0], "payment_intent"), Some("pi_1"));
    assert_eq!(stripe::field(&refunds[0], "amount"), Some("24000"));
    ledger_sums_to_zero(&app, &c).await;
    app.stop().await;
}

#[tokio::test]
async fn pays_by_webhook_or_is_released_on_sqlite() {
    pays_by_webhook_or_is_released(Backend::Sqlite).await;
}

#[tokio::test]
async fn pays_by_webhook_or_is_released_on_postgres() {
    pays_by_webhook_or_is_released(Backend::Postgres).await;
}

/// Another space's admin cannot read a learner's payment: the enrolment is NOT_FOUND there.
async fn payments_stay_in_their_space(backend: Backend) {
    let fake = FakeStripe::start().await;
    let app = start(backend, &fake).await;
    let op = fixtures::operator(&app).await;
    let a = fixtures::campus(&app, &op).await;
    let b = fixtures::campus(&app, &op).await;
    let course = fixtures::published_course(&app, &op, "HACCP").await;
    let edition = priced_edition(&app, &a, &course, 70_000, json!({})).await;
    let (e, _) = enrolled_with_share(&app, &fake, &a, &edition, "lea@learners.test", 12_000).await;
    let q = "query($id: ID!) { enrolment(id: $id) { payment { status } } }";
    let v = app
        .gql(Some(&a.slug), Some(&a.admin_token), q, json!({ "id": e }))
        .await;
    assert_eq!(ok(&v)["enrolment"]["payment"]["status"], "AWAITING");
    let v = app
        .gql(Some(&b.slug), Some(&b.admin_token), q, json!({ "id": e }))
        .await;
    assert_eq!(spaces_tests::app::code(&v), "NOT_FOUND", "{v}");
    app.stop().await;
}

#[tokio::test]
async fn payments_stay_in_their_space_on_sqlite() {
    payments_stay_in_their_space(Backend::Sqlite).await;
}

#[tokio::test]
async fn payments_stay_in_their_space_on_postgres() {
    payments_stay_in_their_space(Backend::Postgres).await;
}

/// A row of A in `enrolment_payments` for the generated walls: a learner's share awaiting
/// payment on a new priced edition of `course`.
pub async fn row_of_a(app: &TestApp, a: &Campus, course: &str) {
    let fake = FakeStripe::start().await;
    let edition = priced_edition(app, a, course, 70_000, json!({})).await;
    let email = format!("{}@learners.test", fixtures::unique("pays-"));
    enrolled_with_share(app, &fake, a, &edition, &email, 12_000).await;
}
