//! Journey 10 as a client walks it, through GraphQL and the provider's webhook only: a sector
//! fund issues 500 vouchers of 500 EUR and a personal-learning-account scheme issues its own;
//! HR enrols an employee with a fund's code on a 700 EUR edition (200 EUR to the company's
//! invoice); a job seeker registers, confirms, redeems their PLA code and pays the rest through
//! the checkout; refusals take no use; the monthly run invoices each party; the ledger balances.

use chrono::Duration;
use reqwest::StatusCode;
use serde_json::{Value, json};
use spaces_tenants::outbox::MessageKind;
use spaces_tests::app::ok;
use spaces_tests::fixtures::{self, Campus};
use spaces_tests::stripe::{self, FakeStripe};
use spaces_tests::{Backend, TestApp};

use crate::redeem::reason;

const FUNDING: &str = "funding { payer funder { name } amount { amountMinor currency } status }";
const PAYMENT: &str = "payment { amount { amountMinor } status checkoutUrl invoiceId }";
const CREATE_FUNDER: &str =
    "mutation($i: CreateFunderInput!) { createFunder(input: $i) { id organisation { id } } }";
const CREATE_BATCH: &str = "mutation($i: CreateVoucherBatchInput!) { createVoucherBatch(input: $i) { batch { id count } codes csv } }";
const STATS: &str = "query($id: ID!) { voucherBatch(id: $id) { stats { issued redeemed pending consumed { amountMinor currency } } } }";
const BALANCES: &str =
    "{ ledgerBalances { accountKind billingAccountId balance { amountMinor } } }";

async fn start(backend: Backend, fake: &FakeStripe) -> TestApp {
    let base = fake.base.clone();
    TestApp::start_with(backend, move |c| {
        // Training exempt from VAT, as most French training bodies are: 700 EUR is the price.
        c.edition_vat_exempt_mention = Some("Exonération de TVA, article 261-4-4° du CGI".into());
        c.outbox_interval = std::time::Duration::from_secs(3600);
        c.stripe_webhook_secrets = vec![stripe::WEBHOOK_SECRET.into()];
        c.stripe_api_key = Some(stripe::API_KEY.into());
        c.stripe_api_base = base;
    })
    .await
}

async fn admin(app: &TestApp, c: &Campus, q: &str, vars: Value) -> Value {
    app.gql(Some(&c.slug), Some(&c.admin_token), q, vars).await
}

/// A funder with its billing account, and a batch of `count` codes of 500 EUR: (batch id,
/// billing account id, codes).
async fn funder_with_codes(
    app: &TestApp,
    c: &Campus,
    name: &str,
    kind: &str,
    count: i64,
) -> (String, String, Vec<String>) {
    let v = admin(
        app,
        c,
        CREATE_FUNDER,
        json!({ "i": { "name": name, "kind": kind, "contactName": "Claire Petit", "contactEmail": "claire@fonds.test" } }),
    )
    .await;
    let f = &ok(&v)["createFunder"];
    let account =
        fixtures::billing_account(app, c, f["organisation"]["id"].as_str().unwrap()).await;
    let v = admin(
        app,
        c,
        CREATE_BATCH,
        json!({ "i": {
            "funderId": f["id"], "name": "2026", "count": count,
            "faceValue": { "amountMinor": 50_000, "currency": "EUR" },
            "validUntil": (app.state.deps.clock.now() + Duration::days(365)).to_rfc3339(),
        } }),
    )
    .await;
    let made = &ok(&v)["createVoucherBatch"];
    let codes: Vec<String> = made["codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(codes.len() as i64, count);
    assert_eq!(made["batch"]["count"], count);
    // The CSV the funder saves: a header and one grouped code per line.
    let csv = made["csv"].as_str().unwrap();
    assert_eq!(csv.lines().count() as i64, count + 1);
    assert!(csv.contains(&codes[0]));
    (
        made["batch"]["id"].as_str().unwrap().to_owned(),
        account,
        codes,
    )
}

async fn stats(app: &TestApp, c: &Campus, batch: &str) -> Value {
    let v = admin(app, c, STATS, json!({ "id": batch })).await;
    ok(&v)["voucherBatch"]["stats"].clone()
}

async fn self_enrol(app: &TestApp, c: &Campus, token: &str, e: &str, codes: &[&str]) -> Value {
    app.gql(
        Some(&c.slug),
        Some(token),
        &format!("mutation($e: ID!, $codes: [String!]) {{ selfEnrol(editionId: $e, voucherCodes: $codes) {{ id status {FUNDING} {PAYMENT} }} }}"),
        json!({ "e": e, "codes": codes }),
    )
    .await
}

/// An answer with its request ids taken out: what must be identical between two refusals.
fn without_request_id(mut v: Value) -> Value {
    fn strip(v: &mut Value) {
        match v {
            Value::Object(m) => {
                m.remove("requestId");
                m.values_mut().for_each(strip);
            }
            Value::Array(a) => a.iter_mut().for_each(strip),
            _ => {}
        }
    }
    strip(&mut v);
    v
}

/// The ledger's balances by (kind, billing account); asserts that they sum to zero.
async fn balances(app: &TestApp, c: &Campus) -> Vec<(String, Option<String>, i64)> {
    let v = admin(app, c, BALANCES, json!({})).await;
    let out: Vec<(String, Option<String>, i64)> = ok(&v)["ledgerBalances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["accountKind"].as_str().unwrap().to_owned(),
                b["billingAccountId"].as_str().map(str::to_owned),
                b["balance"]["amountMinor"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        out.iter().map(|b| b.2).sum::<i64>(),
        0,
        "the ledger balances: {out:?}"
    );
    out
}

fn balance(b: &[(String, Option<String>, i64)], kind: &str, account: Option<&str>) -> i64 {
    b.iter()
        .filter(|(k, a, _)| k == kind && a.as_deref() == account)
        .map(|b| b.2)
        .sum()
}

/// Gross totals of the invoices issued to a billing account, with their line counts.
async fn invoices_of(app: &TestApp, c: &Campus, account: &str) -> Vec<(i64, usize, String)> {
    let v = admin(
        app,
        c,
        "query($b: ID!) { invoices(buyerId: $b, first: 50) { edges { node { gross { amountMinor } status lines { id } } } } }",
        json!({ "b": account }),
    )
    .await;
    ok(&v)["invoices"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let n = &e["node"];
            (
                n["gross"]["amountMinor"].as_i64().unwrap(),
                n["lines"].as_array().unwrap().len(),
                n["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

async fn journey(backend: Backend) {
    let fake = FakeStripe::start().await;
    let app = start(backend, &fake).await;
    let op = fixtures::operator(&app).await;
    let c = fixtures::campus(&app, &op).await;
    let durand = fixtures::company(&app, &c, "Fromagerie Durand").await;
    let durand_account = fixtures::billing_account(&app, &c, &durand).await;
    let (lea, lea_token) = fixtures::member(
        &app,
        &c,
        &c.admin_token,
        &durand,
        "lea@durand.test",
        "LEARNER",
    )
    .await;

    // A course registered for personal learning accounts, and a 700 EUR edition of it.
    let course = fixtures::published_course(&app, &op, "CAP Boulanger").await;
    let v = app
        .gql(
            None,
            Some(&op),
            "mutation($id: ID!) { setCoursePlaRegistryCode(courseId: $id, registryCode: \"RNCP34825\") { plaRegistryCode } }",
            json!({ "id": course }),
        )
        .await;
    assert_eq!(
        ok(&v)["setCoursePlaRegistryCode"]["plaRegistryCode"],
        "RNCP34825"
    );
    let edition = fixtures::open_edition(&app, &c, &course, "SELF_ENROLMENT", None, &[]).await;
    let v = admin(
        &app,
        &c,
        "mutation($id: ID!) { updateEdition(id: $id, input: { price: { amountMinor: 70000, currency: \"EUR\" } }) { id } }",
        json!({ "id": edition }),
    )
    .await;
    ok(&v);

    let (fund_batch, fund_account, fund_codes) =
        funder_with_codes(&app, &c, "Fonds Alimentaire", "SECTOR_FUND", 500).await;
    let (pla_batch, pla_account, pla_codes) =
        funder_with_codes(&app, &c, "Mon Compte Formation", "PLA", 3).await;
    assert_eq!(stats(&app, &c, &fund_batch).await["issued"], 500);

    // Refusals, each with its reason, none taking a use.
    let mut typo = fund_codes[0].clone().into_bytes();
    typo[0] = if typo[0] == b'A' { b'B' } else { b'A' };
    let typo = String::from_utf8(typo).unwrap();
    assert_eq!(
        reason(&self_enrol(&app, &c, &lea_token, &edition, &[&typo]).await),
        "mistyped"
    );
    let unknown = spaces_billing::vouchers::codes::generate(1).unwrap()[0].grouped();
    let unknown_answer = self_enrol(&app, &c, &lea_token, &edition, &[&unknown]).await;
    assert_eq!(reason(&unknown_answer), "unknown");
    // A valid, unused code of another space reads exactly as an unknown one.
    let other = fixtures::campus(&app, &op).await;
    let (_, _, foreign) = funder_with_codes(&app, &other, "Fonds B", "SECTOR_FUND", 1).await;
    let foreign_answer = self_enrol(&app, &c, &lea_token, &edition, &[&foreign[0]]).await;
    assert_eq!(
        without_request_id(foreign_answer).to_string(),
        without_request_id(unknown_answer).to_string()
    );
    // HR may not spend a learner's personal learning account.
    let v = admin(
        &app,
        &c,
        &format!("mutation($i: EnrolInput!) {{ enrol(input: $i) {{ id status {FUNDING} }} }}"),
        json!({ "i": { "editionId": edition, "personId": lea, "voucherCodes": [pla_codes[0]] } }),
    )
    .await;
    assert_eq!(reason(&v), "not_applicable");
    for batch in [&fund_batch, &pla_batch] {
        let s = stats(&app, &c, batch).await;
        assert_eq!(
            (s["redeemed"].as_i64(), s["pending"].as_i64()),
            (Some(0), Some(0)),
            "{s}"
        );
    }

    // HR enrols Lea with a fund's code: 500 on the fund, 200 left to Fromagerie Durand.
    let v = admin(
        &app,
        &c,
        &format!("mutation($i: EnrolInput!) {{ enrol(input: $i) {{ id status {FUNDING} }} }}"),
        json!({ "i": { "editionId": edition, "personId": lea, "voucherCodes": [fund_codes[0]] } }),
    )
    .await;
    let lea_place = &ok(&v)["enrol"];
    assert_eq!(lea_place["status"], "ACTIVE");
    assert_eq!(
        lea_place["funding"],
        json!([
            { "payer": "FUNDER", "funder": { "name": "Fonds Alimentaire" }, "amount": { "amountMinor": 50_000, "currency": "EUR" }, "status": "confirmed" },
            { "payer": "COMPANY", "funder": null, "amount": { "amountMinor": 20_000, "currency": "EUR" }, "status": "pending" }
        ])
    );
    // For a colleague, the same single-use code is used up.
    let (_, max_token) = fixtures::member(
        &app,
        &c,
        &c.admin_token,
        &durand,
        "max@durand.test",
        "LEARNER",
    )
    .await;
    let v = self_enrol(&app, &c, &max_token, &edition, &[&fund_codes[0]]).await;
    assert_eq!(reason(&v), "exhausted");

    // A job seeker signs up, confirms by the emailed link and redeems their own PLA code.
    let v = admin(
        &app,
        &c,
        "mutation { setSelfRegistration(input: { mode: OPEN }) { mode } }",
        json!({}),
    )
    .await;
    assert_eq!(ok(&v)["setSelfRegistration"]["mode"], "OPEN");
    let v = app
        .gql(
            Some(&c.slug),
            None,
            "mutation { register(input: { email: \"sam@jobseeker.test\", givenName: \"Sam\", familyName: \"Lebon\" }) }",
            json!({}),
        )
        .await;
    assert_eq!(ok(&v)["register"], true);
    let link = fixtures::newest_link(
        &app,
        &c.slug,
        "sam@jobseeker.test",
        MessageKind::Registration,
    )
    .await;
    let v = app
        .gql(
            Some(&c.slug),
            None,
            "mutation($t: String!) { confirmRegistration(input: { token: $t, password: \"my own passphrase 2026\" }) { accessToken } }",
            json!({ "t": fixtures::token_of_link(&link) }),
        )
        .await;
    let sam_token = ok(&v)["confirmRegistration"]["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let v = self_enrol(&app, &c, &sam_token, &edition, &[&pla_codes[1]]).await;
    let sam_place = ok(&v)["selfEnrol"].clone();
    assert_eq!(sam_place["status"], "PENDING_PAYMENT", "{v}");
    assert_eq!(
        sam_place["funding"],
        json!([
            { "payer": "FUNDER", "funder": { "name": "Mon Compte Formation" }, "amount": { "amountMinor": 50_000, "currency": "EUR" }, "status": "pending" },
            { "payer": "LEARNER", "funder": null, "amount": { "amountMinor": 20_000, "currency": "EUR" }, "status": "awaiting" }
        ])
    );
    assert_eq!(sam_place["payment"]["amount"]["amountMinor"], 20_000);
    assert!(sam_place["payment"]["checkoutUrl"].as_str().is_some());
    let s = stats(&app, &c, &pla_batch).await;
    assert_eq!(
        (s["redeemed"].as_i64(), s["pending"].as_i64()),
        (Some(0), Some(1)),
        "{s}"
    );

    // The provider confirms the payment: Sam's place is active, his invoice paid, the PLA's
    // use confirmed.
    let checkouts = fake.forms("/v1/checkout/sessions");
    assert_eq!(checkouts.len(), 1);
    let event = stripe::payment_succeeded(
        "evt_sam",
        "pi_sam",
        &checkouts[0],
        app.state.deps.clock.now(),
    );
    assert_eq!(stripe::deliver(&app, event).await, StatusCode::OK);
    let v = app
        .gql(
            Some(&c.slug),
            Some(&sam_token),
            &format!("query($id: ID!) {{ enrolment(id: $id) {{ status {FUNDING} {PAYMENT} }} }}"),
            json!({ "id": sam_place["id"] }),
        )
        .await;
    let sam_place = &ok(&v)["enrolment"];
    assert_eq!(sam_place["status"], "ACTIVE", "{v}");
    assert_eq!(sam_place["payment"]["status"], "PAID");
    assert_eq!(sam_place["funding"][0]["status"], "confirmed");
    let v = admin(
        &app,
        &c,
        "query($id: ID!) { invoice(id: $id) { status gross { amountMinor } } }",
        json!({ "id": sam_place["payment"]["invoiceId"] }),
    )
    .await;
    assert_eq!(
        ok(&v)["invoice"],
        json!({ "status": "PAID", "gross": { "amountMinor": 20_000 } })
    );
    let s = stats(&app, &c, &pla_batch).await;
    assert_eq!(
        s,
        json!({ "issued": 3, "redeemed": 1, "pending": 0, "consumed": { "amountMinor": 50_000, "currency": "EUR" } })
    );
    let b = balances(&app, &c).await;
    assert_eq!(
        balance(&b, "FUNDER_RECEIVABLE", Some(&fund_account)),
        50_000
    );
    assert_eq!(balance(&b, "FUNDER_RECEIVABLE", Some(&pla_account)), 50_000);
    assert_eq!(balance(&b, "VOUCHER_LIABILITY", None), -100_000);

    // The monthly run after the redemptions: one invoice per party, one line per redemption.
    app.state.deps.clock.advance(Duration::days(40));
    spaces_tenants::jobs::run_due(&app.state.deps.db, &app.state.deps.clock, &app.state.jobs)
        .await
        .unwrap();
    assert_eq!(
        invoices_of(&app, &c, &fund_account).await,
        vec![(50_000, 1, "ISSUED".into())]
    );
    assert_eq!(
        invoices_of(&app, &c, &pla_account).await,
        vec![(50_000, 1, "ISSUED".into())]
    );
    assert_eq!(
        invoices_of(&app, &c, &durand_account).await,
        vec![(20_000, 1, "ISSUED".into())]
    );
    let b = balances(&app, &c).await;
    for account in [&fund_account, &pla_account] {
        assert_eq!(balance(&b, "FUNDER_RECEIVABLE", Some(account)), 0);
        assert_eq!(balance(&b, "RECEIVABLE", Some(account)), 50_000);
    }
    assert_eq!(balance(&b, "RECEIVABLE", Some(&durand_account)), 20_000);
    assert_eq!(balance(&b, "VOUCHER_LIABILITY", None), 0);
    app.stop().await;
}

#[tokio::test]
async fn journey_10_as_a_client_walks_it_on_sqlite() {
    journey(Backend::Sqlite).await;
}

#[tokio::test]
async fn journey_10_as_a_client_walks_it_on_postgres() {
    journey(Backend::Postgres).await;
}
