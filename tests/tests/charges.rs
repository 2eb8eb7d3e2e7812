//! Priced editions: an enrolment charges the nearest billing account up the learner's tree
//! (none: `BILLING_ACCOUNT_REQUIRED`, nothing written); a withdrawal inside the edition's
//! period drops the charge, or credits its invoiced line; after the period the charge stays;
//! the monthly run invoices pending charges, one line per enrolment.

use serde_json::{Value, json};
use spaces_billing::charges;
use spaces_tests::app::{code, ok};
use spaces_tests::fixtures::{self, Campus};
use spaces_tests::{Backend, TestApp};

use crate::seats;

const ENROL: &str = "mutation($i: EnrolInput!) { enrol(input: $i) { id status } }";
const WITHDRAW: &str = "mutation($id: ID!) { withdrawEnrolment(id: $id) { status } }";

/// An open assigned-only edition at `price_minor` EUR per enrolment, with its billing options.
pub async fn priced_edition(
    app: &TestApp,
    c: &Campus,
    course: &str,
    price_minor: i64,
    billing: Value,
) -> String {
    let e = fixtures::open_edition(app, c, course, "ASSIGNED_ONLY", None, &[]).await;
    let mut input = json!({ "price": { "amountMinor": price_minor, "currency": "EUR" } });
    for (k, v) in billing.as_object().unwrap() {
        input[k] = v.clone();
    }
    let v = app
        .gql(
            Some(&c.slug),
            Some(&c.admin_token),
            "mutation($id: ID!, $i: UpdateEditionInput!) { updateEdition(id: $id, input: $i) { price { amountMinor } withdrawalDays invoiceImmediately } }",
            json!({ "id": e, "i": input }),
        )
        .await;
    assert_eq!(ok(&v)["updateEdition"]["price"]["amountMinor"], price_minor);
    e
}

/// Rows of A in the seats area's tables for the generated walls: a billing account of the root,
/// a subscription sold on it, a priced edition and a charge of `learner`'s enrolment in it.
/// Returns the billing account's id.
pub async fn rows_of_a(app: &TestApp, op: &str, a: &Campus, course: &str, learner: &str) -> String {
    let plan = seats::plan(app, op, 5, 0).await;
    seats::sell(app, op, a, &plan, None).await;
    let e = priced_edition(app, a, course, 9_900, json!({})).await;
    fixtures::enrol(app, a, &a.admin_token, &e, learner).await;
    let v = app
        .gql(
            None,
            Some(op),
            "query($s: ID) { subscription(spaceId: $s) { billingAccountId } }",
            json!({ "s": a.id }),
        )
        .await;
    ok(&v)["subscription"]["billingAccountId"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The charges of an enrolment, read below the API in the space's own transaction.
async fn charges_of(app: &TestApp, c: &Campus, enrolment: &str) -> Vec<charges::Charge> {
    let db = &app.state.deps.db;
    let tx = spaces_tenants::TenantTx::begin(db, c.id.parse().unwrap())
        .await
        .unwrap();
    let list = charges::of_enrolment(&tx, enrolment.parse().unwrap())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    list
}

async fn enrol(app: &TestApp, c: &Campus, edition: &str, person: &str) -> Value {
    app.gql(
        Some(&c.slug),
        Some(&c.admin_token),
        ENROL,
        json!({ "i": { "editionId": edition, "personId": person } }),
    )
    .await
}

async fn withdraw(app: &TestApp, c: &Campus, enrolment: &str) {
    let v = app
        .gql(
            Some(&c.slug),
            Some(&c.admin_token),
            WITHDRAW,
            json!({ "id": enrolment }),
        )
        .await;
    assert_eq!(ok(&v)["withdrawEnrolment"]["status"], "WITHDRAWN");
}

/// Charges that wait for the monthly run: made, dropped inside the period, kept after it.
async fn pending_charges(backend: Backend) {
    let app = TestApp::start(backend).await;
    let op = fixtures::operator(&app).await;
    let c = fixtures::campus(&app, &op).await;
    let durand = fixtures::company(&app, &c, "Durand").await;
    let (lea, _) = fixtures::member(
        &app,
        &c,
        &c.admin_token,
        &durand,
        "lea@durand.test",
        "LEARNER",
    )
    .await;
    let course = fixtures::published_course(&app, &op, "Food safety").await;
    let e = priced_edition(&app, &c, &course, 45_000, json!({})).await;
    let v = app
        .gql(
            Some(&c.slug),
            Some(&c.admin_token),
            "query($id: ID!) { edition(id: $id) { withdrawalDays invoiceImmediately vatBasisPoints } }",
            json!({ "id": e }),
        )
        .await;
    assert_eq!(
        ok(&v)["edition"],
        json!({ "withdrawalDays": 14, "invoiceImmediately": false, "vatBasisPoints": null })
    );

    // No billing account anywhere up Lea's tree: refused, nothing written.
    let v = enrol(&app, &c, &e, &lea).await;
    assert_eq!(code(&v), "BILLING_ACCOUNT_REQUIRED", "{v}");
    let v = app
        .gql(Some(&c.slug), Some(&c.admin_token), "query($e: ID!) { editionEnrolments(editionId: $e, first: 5) { edges { node { id } } } }", json!({ "e": e }))
        .await;
    assert_eq!(ok(&v)["editionEnrolments"]["edges"], json!([]));

    // Durand pays: the enrolment charges 450.00 EUR on Durand's account, pending.
    let durand_account = fixtures::billing_account(&app, &c, &durand).await;
    let v = enrol(&app, &c, &e, &lea).await;
    let enrolment = ok(&v)["enrol"]["id"].as_str().unwrap().to_owned();
    let list = charges_of(&app, &c, &enrolment).await;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].amount.amount_minor(), 45_000);
    assert_eq!(list[0].billing_account.to_string(), durand_account);
    assert_eq!(list[0].status, "pending");

    // Withdrawn on day 13: the charge is dropped.
    app.state.deps.clock.advance(chrono::Duration::days(13));
    withdraw(&app, &c, &enrolment).await;
    assert_eq!(charges_of(&app, &c, &enrolment).await[0].status, "dropped");

    // Enrolled again, withdrawn on day 15 of that enrolment: the charge stays.
    ok(&enrol(&app, &c, &e, &lea).await);
    app.state.deps.clock.advance(chrono::Duration::days(15));
    withdraw(&app, &c, &enrolment).await;
    let list = charges_of(&app, &c, &enrolment).await;
    assert_eq!(
        list.iter().map(|c| c.status.as_str()).collect::<Vec<_>>(),
        ["dropped", "pending"]
    );
    app.stop().await;
}

#[tokio::test]
async fn pending_charges_on_on_sqlite() {
    pending_charges(Backend::Sqlite).await;
}

#[tokio::test]
async fn pending_charges_on_on_postgres() {
    pending_charges(Backend::Postgres).await;
}

/// A priced edition with nobody to pay: refused one by one and as a file (nothing written);
/// an account in another currency does not pay either. Nothing here reaches an invoice.
async fn nobody_pays(backend: Backend) {
    let app = TestApp::start(backend).await;
    let op = fixtures::operator(&app).await;
    let c = fixtures::campus(&app, &op).await;
    let durand = fixtures::company(&app, &c, "Durand").await;
    let course = fixtures::published_course(&app, &op, "Food safety").await;
    let e = priced_edition(&app, &c, &course, 45_000, json!({})).await;
    let csv = "email,given name,family name,organisation\na@durand.test,A,One,Durand\n";
    let import = "mutation($e: ID!, $file: Upload!) { importEnrolments(editionId: $e, file: $file) { applied newEnrolments errors { line code } } }";
    let (status, v) = app
        .upload(
            &c.slug,
            &c.admin_token,
            import,
            json!({ "e": e }),
            "staff.csv",
            csv.as_bytes().to_vec(),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        ok(&v)["importEnrolments"],
        json!({ "applied": false, "newEnrolments": 1, "errors": [{ "line": 0, "code": "BILLING_ACCOUNT_REQUIRED" }] })
    );
    let v = app
        .gql(
            Some(&c.slug),
            Some(&c.admin_token),
            ENROL,
            json!({ "i": { "editionId": e, "email": "b@durand.test", "givenName": "B", "familyName": "Two", "organisationId": durand } }),
        )
        .await;
    assert_eq!(code(&v), "BILLING_ACCOUNT_REQUIRED", "{v}");
    let v = app
        .gql(Some(&c.slug), Some(&c.admin_token), "query($e: ID!) { editionEnrolments(editionId: $e, first: 5) { edges { node { id } } } }", json!({ "e": e }))
        .await;
    assert_eq!(
        ok(&v)["editionEnrolments"]["edges"],
        json!([]),
        "nothing written"
    );

    // Durand pays in EUR; an edition priced in USD finds no account to pay it.
    fixtures::billing_account(&app, &c, &durand).await;
    let usd = fixtures::open_edition(&app, &c, &course, "ASSIGNED_ONLY", None, &[]).await;
    let v = app
        .gql(
            Some(&c.slug),
            Some(&c.admin_token),
            "mutation($id: ID!) { updateEdition(id: $id, input: { price: { amountMinor: 5000, currency: \"USD\" } }) { id } }",
            json!({ "id": usd }),
        )
        .await;
    ok(&v);
    let v = app
        .gql(
            Some(&c.slug),
            Some(&c.admin_token),
            ENROL,
            json!({ "i": { "editionId": usd, "email": "b@durand.test", "givenName": "B", "familyName": "Two", "organisationId": durand } }),
        )
        .await;
    assert_eq!(code(&v), "BILLING_ACCOUNT_REQUIRED", "{v}");
    app.stop().await;
}

#[tokio::test]
async fn nobody_pays_on_sqlite() {
    nobody_pays(Backend::Sqlite).await;
}

#[tokio::test]
async fn nobody_pays_on_postgres() {
    nobody_pays(Backend::Postgres).await;
}

/// Invoiced charges: the monthly run issues one invoice per billing account with a line per
/// enrolment; an immediate-invoice edition invoices at enrolment; a withdrawal inside the
/// period then credits the line. Goes through `invoices::issue`/`credit` (the invoices area).
async fn invoiced_charges(backend: Backend) {
    let app = TestApp::start(backend).await;
    let op = fixtures::operator(&app).await;
    let c = fixtures::campus(&app, &op).await;
    let durand = fixtures::company(&app, &c, "Durand").await;
    fixtures::billing_account(&app, &c, &c.root_id).await;
    let course = fixtures::published_course(&app, &op, "Food safety").await;
    let monthly = priced_edition(&app, &c, &course, 45_000, json!({ "vatBasisPoints": 0 })).await;
    let at_once = priced_edition(
        &app,
        &c,
        &course,
        12_000,
        json!({ "invoiceImmediately": true, "withdrawalDays": 7 }),
    )
    .await;
    let mut people = Vec::new();
    for n in 0..2 {
        let (p, _) = fixtures::member(
            &app,
            &c,
            &c.admin_token,
            &durand,
            &format!("l{n}@durand.test"),
            "LEARNER",
        )
        .await;
        people.push(p);
    }
    // Two monthly charges; the run invoices both on one invoice, then nothing more.
    let mut monthly_enrolments = Vec::new();
    for p in &people {
        monthly_enrolments.push(
            ok(&enrol(&app, &c, &monthly, p).await)["enrol"]["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let db = &app.state.deps.db;
    let now = app.state.deps.clock.now() + chrono::Duration::seconds(1);
    let tx = spaces_tenants::TenantTx::begin(db, c.id.parse().unwrap())
        .await
        .unwrap();
    let issued = charges::invoice_due_charges(&tx, now).await.unwrap();
    assert_eq!(issued.len(), 1, "one invoice per billing account");
    assert!(
        charges::invoice_due_charges(&tx, now)
            .await
            .unwrap()
            .is_empty()
    );
    let doc = spaces_billing::invoices::document(&tx, issued[0])
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(doc.lines.len(), 2, "one line per enrolment");
    assert_eq!(doc.net_total_minor, 90_000);
    for e in &monthly_enrolments {
        assert_eq!(charges_of(&app, &c, e).await[0].status, "invoiced");
    }

    // Immediate: invoiced at enrolment (20 % VAT by default); withdrawn on day 6: credited.
    let v = enrol(&app, &c, &at_once, &people[0]).await;
    let e = ok(&v)["enrol"]["id"].as_str().unwrap().to_owned();
    let list = charges_of(&app, &c, &e).await;
    assert_eq!(list[0].status, "invoiced");
    assert!(list[0].invoice.is_some());
    app.state.deps.clock.advance(chrono::Duration::days(6));
    withdraw(&app, &c, &e).await;
    assert_eq!(charges_of(&app, &c, &e).await[0].status, "credited");
    // A monthly one withdrawn after its period keeps its invoiced charge.
    app.state.deps.clock.advance(chrono::Duration::days(10));
    withdraw(&app, &c, &monthly_enrolments[0]).await;
    assert_eq!(
        charges_of(&app, &c, &monthly_enrolments[0]).await[0].status,
        "invoiced"
    );
    app.stop().await;
}

#[tokio::test]
async fn invoiced_charges_on_on_sqlite() {
    invoiced_charges(Backend::Sqlite).await;
}

#[tokio::test]
async fn invoiced_charges_on_on_postgres() {
    invoiced_charges(Backend::Postgres).await;
}
