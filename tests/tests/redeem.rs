//! Redemption and split funding, as a client walks it: codes checked before anything is
//! written (each reason, none taking a use), a seat split between funders, the company and the
//! learner in the edition's order, each party invoiced in the monthly run (one line per
//! redemption), the ledger balanced, withdrawals giving uses back inside the period only,
//! another space's code answering like an unknown one, racers on one code, the rate limit.

use std::collections::BTreeMap;

use chrono::Duration;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};
use spaces_billing::funders::{self, Funder, NewFunder};
use spaces_billing::vouchers::batch::{self, NewBatch, Restrictions, Value as Worth};
use spaces_billing::vouchers::codes;
use spaces_billing::{Currency, Money, charges};
use spaces_tenants::editions::FunderKind;
use spaces_tenants::{EditionId, OrganisationId, TenantId, TenantTx};
use spaces_tests::app::{code, ok};
use spaces_tests::fixtures::{self, Campus};
use spaces_tests::{Backend, TestApp};

const FUNDING: &str = "funding { payer funder { name } amount { amountMinor currency } status }";
const BALANCES: &str =
    "{ ledgerBalances { accountKind billingAccountId balance { amountMinor currency } } }";
const EXEMPT: &str = "Exonération de TVA, article 261-4-4° du CGI";

fn eur(m: i64) -> Money {
    Money::new(m, Currency::parse("currency", "EUR").unwrap())
}

async fn tx_of(app: &TestApp, c: &Campus) -> TenantTx {
    TenantTx::begin(
        &app.state.deps.db,
        TenantId::from_uuid(c.id.parse().unwrap()),
    )
    .await
    .unwrap()
}

/// Training in this space is VAT-exempt unless an edition sets a rate.
async fn start(backend: Backend) -> TestApp {
    TestApp::start_with(backend, |cfg| {
        cfg.edition_vat_exempt_mention = Some(EXEMPT.into());
        // Racers and rate-limit tests come from addresses of their own (X-Forwarded-For).
        cfg.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap(), "::1/128".parse().unwrap()];
    })
    .await
}

/// A funder of `kind` on an organisation of its own, which has a billing account. Returns the
/// funder and the account's id.
async fn funder(app: &TestApp, c: &Campus, name: &str, kind: FunderKind) -> (Funder, String) {
    let org = fixtures::company(app, c, name).await;
    let account = fixtures::billing_account(app, c, &org).await;
    let tx = tx_of(app, c).await;
    let f = funders::create(
        &tx,
        app.state.deps.clock.now(),
        NewFunder {
            name: name.into(),
            kind,
            contact_name: "Claire".into(),
            contact_email: "claire@fund.test".into(),
            organisation: OrganisationId::from_uuid(org.parse().unwrap()),
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    (f, account)
}

/// A batch of one single-use code worth `worth`, valid from yesterday for 90 days.
fn spec(f: &Funder, name: &str, worth: Worth) -> NewBatch {
    let now = chrono::Utc::now();
    NewBatch {
        funder: f.id,
        funder_kind: f.kind,
        name: name.into(),
        count: 1,
        value: worth,
        min_learner_share: None,
        valid_from: now - Duration::days(1),
        valid_until: now + Duration::days(90),
        uses_per_code: 1,
        restrictions: Restrictions::default(),
    }
}

/// Makes the batch; returns its codes as a funder hands them out.
async fn codes_of(app: &TestApp, c: &Campus, new: NewBatch) -> Vec<String> {
    let tx = tx_of(app, c).await;
    let made = batch::create(
        &tx,
        &app.state.deps.voucher_key,
        app.state.deps.clock.now(),
        None,
        new,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    made.codes.iter().map(|c| c.grouped()).collect()
}

/// An open self-enrolment edition at `price_minor` EUR, with its billing options.
async fn edition(
    app: &TestApp,
    c: &Campus,
    course: &str,
    price_minor: i64,
    billing: Value,
) -> String {
    let e = fixtures::open_edition(app, c, course, "SELF_ENROLMENT", None, &[]).await;
    let mut input = json!({ "price": { "amountMinor": price_minor, "currency": "EUR" } });
    for (k, v) in billing.as_object().unwrap() {
        input[k] = v.clone();
    }
    let v = app
        .gql(
            Some(&c.slug),
            Some(&c.admin_token),
            "mutation($id: ID!, $i: UpdateEditionInput!) { updateEdition(id: $id, input: $i) { price { amountMinor } } }",
            json!({ "id": e, "i": input }),
        )
        .await;
    assert_eq!(ok(&v)["updateEdition"]["price"]["amountMinor"], price_minor);
    e
}

async fn self_enrol(app: &TestApp, c: &Campus, token: &str, e: &str, codes: &[&str]) -> Value {
    app.gql(
        Some(&c.slug),
        Some(token),
        &format!("mutation($e: ID!, $codes: [String!]) {{ selfEnrol(editionId: $e, voucherCodes: $codes) {{ id status {FUNDING} }} }}"),
        json!({ "e": e, "codes": codes }),
    )
    .await
}

async fn hr_enrol(app: &TestApp, c: &Campus, e: &str, person: &str, codes: &[&str]) -> Value {
    app.gql(
        Some(&c.slug),
        Some(&c.admin_token),
        &format!("mutation($i: EnrolInput!) {{ enrol(input: $i) {{ id status {FUNDING} }} }}"),
        json!({ "i": { "editionId": e, "personId": person, "voucherCodes": codes } }),
    )
    .await
}

/// The reason of a `VOUCHER_INVALID` answer (the field is always `voucherCodes`).
pub(crate) fn reason(v: &Value) -> String {
    assert_eq!(code(v), "VOUCHER_INVALID", "{v}");
    assert_eq!(v["errors"][0]["extensions"]["field"], "voucherCodes", "{v}");
    v["errors"][0]["extensions"]["reason"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Uses taken over every code of the space, read below the application.
async fn uses(app: &TestApp, c: &Campus) -> i64 {
    app.dump_tenant(&c.id).await["vouchers"]
        .iter()
        .map(|r| r["uses"].as_i64().unwrap())
        .sum()
}

async fn postings(app: &TestApp, c: &Campus, kind: &str) -> usize {
    app.dump_tenant(&c.id).await["ledger_transactions"]
        .iter()
        .filter(|r| r["kind"] == kind)
        .count()
}

/// The ledger's balances by (kind, billing account); every balance sums to zero.
async fn balances(app: &TestApp, c: &Campus) -> BTreeMap<(String, Option<String>), i64> {
    let v = app
        .gql(Some(&c.slug), Some(&c.admin_token), BALANCES, json!({}))
        .await;
    let mut out = BTreeMap::new();
    for b in ok(&v)["ledgerBalances"].as_array().unwrap() {
        out.insert(
            (
                b["accountKind"].as_str().unwrap().to_owned(),
                b["billingAccountId"].as_str().map(str::to_owned),
            ),
            b["balance"]["amountMinor"].as_i64().unwrap(),
        );
    }
    assert_eq!(out.values().sum::<i64>(), 0, "the ledger balances: {out:?}");
    out
}

fn balance(b: &BTreeMap<(String, Option<String>), i64>, kind: &str, acc: Option<&str>) -> i64 {
    b.get(&(kind.to_owned(), acc.map(str::to_owned)))
        .copied()
        .unwrap_or(0)
}

/// The monthly run, 40 days on; returns the invoices issued, as documents.
async fn monthly_run(app: &TestApp, c: &Campus) -> Vec<spaces_billing::documents::InvoiceDocument> {
    let now = app.state.deps.clock.now() + Duration::days(40);
    let tx = tx_of(app, c).await;
    let issued = charges::invoice_due_charges(&tx, now).await.unwrap();
    let mut docs = Vec::new();
    for id in issued {
        docs.push(spaces_billing::invoices::document(&tx, id).await.unwrap());
    }
    tx.commit().await.unwrap();
    docs
}

async fn sql(app: &TestApp, statement: &str) {
    let conn = crate::ledger::below(app).await;
    conn.execute_unprepared(statement).await.unwrap();
}

/// Journey 10's redemption: 500 vouchers of 500 EUR, a 700 EUR edition. Every reason is
/// answered without taking a use; HR's enrolment with a good code puts 500 on the fund and
/// 200 on the company, each invoiced in the monthly run; the ledger balances throughout.
async fn journey(backend: Backend) {
    let app = start(backend).await;
    let op = fixtures::operator(&app).await;
    let c = fixtures::campus(&app, &op).await;
    let durand = fixtures::company(&app, &c, "Durand").await;
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
    let (_, max_token) = fixtures::member(
        &app,
        &c,
        &c.admin_token,
        &durand,
        "max@durand.test",
        "LEARNER",
    )
    .await;
    let course = fixtures::published_course(&app, &op, "Food safety").await;
    let e = edition(&app, &c, &course, 70_000, json!({})).await;
    let other = edition(&app, &c, &course, 70_000, json!({})).await;
    let free = fixtures::open_edition(&app, &c, &course, "SELF_ENROLMENT", None, &[]).await;

    let (fund, fund_account) = funder(&app, &c, "Fonds Formation", FunderKind::SectorFund).await;
    let mut autumn = spec(&fund, "Autumn", Worth::Face(eur(50_000)));
    autumn.count = 500;
    let good = codes_of(&app, &c, autumn).await;
    assert_eq!(good.len(), 500);
    let revoked = codes_of(&app, &c, spec(&fund, "Revoked", Worth::Face(eur(50_000)))).await;
    sql(
        &app,
        "UPDATE voucher_batches SET revoked_at = valid_from WHERE name = 'Revoked'",
    )
    .await;
    let mut later = spec(&fund, "Later", Worth::Face(eur(50_000)));
    later.valid_from = chrono::Utc::now() + Duration::days(10);
    later.valid_until = chrono::Utc::now() + Duration::days(20);
    let later = codes_of(&app, &c, later).await;
    let mut past = spec(&fund, "Past", Worth::Face(eur(50_000)));
    past.valid_from = chrono::Utc::now() - Duration::days(20);
    past.valid_until = chrono::Utc::now() - Duration::days(10);
    let past = codes_of(&app, &c, past).await;
    let mut elsewhere = spec(&fund, "Elsewhere", Worth::Face(eur(50_000)));
    elsewhere.restrictions.editions = Some(vec![other.parse::<EditionId>().unwrap()]);
    let elsewhere = codes_of(&app, &c, elsewhere).await;
    let mut usd = spec(&fund, "Dollars", Worth::Face(eur(50_000)));
    usd.value = Worth::Face(Money::new(50_000, Currency::parse("c", "USD").unwrap()));
    let usd = codes_of(&app, &c, usd).await;
    let unknown = codes::generate(1).unwrap()[0].grouped();

    // Max takes the only use of a single-use code: exhausted for Lea.
    let once = codes_of(&app, &c, spec(&fund, "Once", Worth::Face(eur(50_000)))).await;
    let v = self_enrol(&app, &c, &max_token, &e, &[&once[0]]).await;
    assert_eq!(ok(&v)["selfEnrol"]["status"], "ACTIVE", "{v}");
    let used = uses(&app, &c).await;
    assert_eq!(used, 1);

    let cases: [(&str, &[&str]); 8] = [
        ("mistyped", &["ABC-123"]),
        ("unknown", &[&unknown]),
        ("revoked", &[&revoked[0]]),
        ("not_yet_valid", &[&later[0]]),
        ("expired", &[&past[0]]),
        ("exhausted", &[&once[0]]),
        ("not_applicable", &[&elsewhere[0]]),
        ("not_applicable", &[&good[1], &good[1].to_lowercase()]),
    ];
    for (want, given) in cases {
        let v = self_enrol(&app, &c, &lea_token, &e, given).await;
        assert_eq!(reason(&v), want, "{given:?}: {v}");
    }
    let v = self_enrol(&app, &c, &lea_token, &e, &[&usd[0]]).await;
    assert_eq!(reason(&v), "not_applicable");
    // Codes on an edition that costs nothing: bad input, not a voucher's fault.
    let v = self_enrol(&app, &c, &lea_token, &free, &[&good[0]]).await;
    assert_eq!(code(&v), "BAD_USER_INPUT", "{v}");
    assert_eq!(uses(&app, &c).await, used, "no refusal takes a use");
    assert_eq!(app.dump_tenant(&c.id).await["voucher_redemptions"].len(), 1);

    // HR enrols Lea with a good code: 500 on the fund, 200 on Durand.
    let v = hr_enrol(&app, &c, &e, &lea, &[&good[0]]).await;
    let enrolment = &ok(&v)["enrol"];
    assert_eq!(enrolment["status"], "ACTIVE");
    assert_eq!(
        enrolment["funding"],
        json!([
            { "payer": "FUNDER", "funder": { "name": "Fonds Formation" }, "amount": { "amountMinor": 50_000, "currency": "EUR" }, "status": "confirmed" },
            { "payer": "COMPANY", "funder": null, "amount": { "amountMinor": 20_000, "currency": "EUR" }, "status": "pending" }
        ])
    );
    assert_eq!(uses(&app, &c).await, used + 1);
    let b = balances(&app, &c).await;
    assert_eq!(
        balance(&b, "FUNDER_RECEIVABLE", Some(&fund_account)),
        100_000
    );
    assert_eq!(balance(&b, "VOUCHER_LIABILITY", None), -100_000);

    // The monthly run: Durand's invoice of 200 + 200 (Max's and Lea's), the fund's of
    // 500 + 500, one line per enrolment and per redemption.
    let docs = monthly_run(&app, &c).await;
    let mut grosses: Vec<(i64, usize)> = docs
        .iter()
        .map(|d| (d.gross_total_minor, d.lines.len()))
        .collect();
    grosses.sort_unstable();
    assert_eq!(
        grosses,
        vec![(40_000, 2), (100_000, 2)],
        "one line per redemption"
    );
    let b = balances(&app, &c).await;
    assert_eq!(balance(&b, "FUNDER_RECEIVABLE", Some(&fund_account)), 0);
    assert_eq!(balance(&b, "VOUCHER_LIABILITY", None), 0);
    assert_eq!(balance(&b, "RECEIVABLE", Some(&fund_account)), 100_000);
    assert_eq!(balance(&b, "RECEIVABLE", Some(&durand_account)), 40_000);
    assert_eq!(postings(&app, &c, "redemption_invoiced").await, 2);
    app.stop().await;
}

#[tokio::test]
async fn journey_on_sqlite() {
    journey(Backend::Sqlite).await;
}

#[tokio::test]
async fn journey_on_postgres() {
    journey(Backend::Postgres).await;
}

/// A seat split three ways on a 20 % edition: a personal-learning-account voucher (redeemed by
/// its holder only, on a registered course), a sector fund's 50 % capped at 200, the company
/// the rest; each invoiced to its party, the shares adding up to the gross price.
async fn three_parties(backend: Backend) {
    let app = start(backend).await;
    let op = fixtures::operator(&app).await;
    let c = fixtures::campus(&app, &op).await;
    let durand = fixtures::company(&app, &c, "Durand").await;
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
    let title = fixtures::unique("Registered course ");
    let course = fixtures::published_course(&app, &op, &title).await;
    let e = edition(&app, &c, &course, 70_001, json!({ "vatBasisPoints": 2000 })).await;
    let (pla, pla_account) = funder(&app, &c, "Mon Compte Formation", FunderKind::Pla).await;
    let (fund, fund_account) = funder(&app, &c, "Fonds Formation", FunderKind::SectorFund).await;
    let pla_codes = codes_of(&app, &c, spec(&pla, "CPF", Worth::Face(eur(30_000)))).await;
    let fund_codes = codes_of(
        &app,
        &c,
        spec(
            &fund,
            "Half",
            Worth::Percent {
                basis_points: 5_000,
                cap: Some(eur(20_000)),
            },
        ),
    )
    .await;

    // A course not registered for personal learning accounts takes no PLA voucher.
    let v = self_enrol(&app, &c, &lea_token, &e, &[&pla_codes[0]]).await;
    assert_eq!(reason(&v), "not_applicable", "{v}");
    sql(
        &app,
        &format!("UPDATE courses SET pla_registry_code = 'RS5678' WHERE title = '{title}'"),
    )
    .await;
    // HR cannot spend a learner's own account.
    let v = hr_enrol(&app, &c, &e, &lea, &[&pla_codes[0]]).await;
    assert_eq!(reason(&v), "not_applicable");
    assert!(
        v["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("a personal-learning-account voucher is redeemed by its holder"),
        "{v}"
    );

    // Given fund first: the edition's order still has the PLA pay first.
    let v = self_enrol(&app, &c, &lea_token, &e, &[&fund_codes[0], &pla_codes[0]]).await;
    let funding = ok(&v)["selfEnrol"]["funding"].as_array().unwrap().clone();
    let gross = 70_001 + 14_000;
    let amounts: Vec<(String, i64)> = funding
        .iter()
        .map(|s| {
            (
                s["payer"].as_str().unwrap().to_owned(),
                s["amount"]["amountMinor"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        amounts,
        vec![
            ("FUNDER".to_owned(), 30_000),
            ("FUNDER".to_owned(), 20_000),
            ("COMPANY".to_owned(), gross - 50_000)
        ]
    );
    assert_eq!(funding[0]["funder"]["name"], "Mon Compte Formation");
    assert_eq!(amounts.iter().map(|(_, a)| a).sum::<i64>(), gross);

    let docs = monthly_run(&app, &c).await;
    assert_eq!(docs.len(), 3, "one invoice per party");
    let nets: i64 = docs.iter().map(|d| d.net_total_minor).sum();
    assert_eq!(nets, 70_001, "the nets add up to the price");
    let mut lines: Vec<usize> = docs.iter().map(|d| d.lines.len()).collect();
    lines.dedup();
    assert_eq!(lines, vec![1]);
    let b = balances(&app, &c).await;
    for acc in [&pla_account, &fund_account, &durand_account] {
        assert!(balance(&b, "RECEIVABLE", Some(acc)) > 0, "{acc}: {b:?}");
        assert_eq!(balance(&b, "FUNDER_RECEIVABLE", Some(acc)), 0);
    }
    // Each party's invoice is within a cent of its share (an invoice rounds its own VAT).
    let receivables: i64 = [&pla_account, &fund_account, &durand_account]
        .iter()
        .map(|a| balance(&b, "RECEIVABLE", Some(a)))
        .sum();
    assert!((receivables - gross).abs() <= 2, "{receivables} vs {gross}");
    assert!((balance(&b, "RECEIVABLE", Some(&pla_account)) - 30_000).abs() <= 1);
    assert!((balance(&b, "RECEIVABLE", Some(&fund_account)) - 20_000).abs() <= 1);
    app.stop().await;
}

#[tokio::test]
async fn three_parties_on_sqlite() {
    three_parties(Backend::Sqlite).await;
}

#[tokio::test]
async fn three_parties_on_postgres() {
    three_parties(Backend::Postgres).await;
}

const WITHDRAW: &str = "mutation($id: ID!) { withdrawEnrolment(id: $id) { status } }";

/// A 3-use code: a withdrawal inside the period gives its use back (the ledger reversed), one
/// after the period does not; the fund's monthly invoice has one line per redemption.
async fn withdrawals(backend: Backend) {
    let app = start(backend).await;
    let op = fixtures::operator(&app).await;
    let c = fixtures::campus(&app, &op).await;
    let durand = fixtures::company(&app, &c, "Durand").await;
    fixtures::billing_account(&app, &c, &durand).await;
    let course = fixtures::published_course(&app, &op, "Food safety").await;
    let e = edition(&app, &c, &course, 70_000, json!({})).await;
    let (fund, fund_account) = funder(&app, &c, "Fonds Formation", FunderKind::SectorFund).await;
    let mut triple = spec(&fund, "Triple", Worth::Face(eur(50_000)));
    triple.uses_per_code = 3;
    let code3 = codes_of(&app, &c, triple).await.remove(0);
    let mut enrolments = Vec::new();
    for name in ["ana", "bob", "cyd"] {
        let (_, token) = fixtures::member(
            &app,
            &c,
            &c.admin_token,
            &durand,
            &format!("{name}@durand.test"),
            "LEARNER",
        )
        .await;
        let v = self_enrol(&app, &c, &token, &e, &[&code3]).await;
        enrolments.push(ok(&v)["selfEnrol"]["id"].as_str().unwrap().to_owned());
    }
    assert_eq!(uses(&app, &c).await, 3);

    // Day 13: Ana withdraws, inside the 14 days: her use comes back, her fund charge dropped.
    app.state.deps.clock.advance(Duration::days(13));
    let v = app
        .gql(
            Some(&c.slug),
            Some(&c.admin_token),
            WITHDRAW,
            json!({ "id": enrolments[0] }),
        )
        .await;
    assert_eq!(ok(&v)["withdrawEnrolment"]["status"], "WITHDRAWN");
    assert_eq!(uses(&app, &c).await, 2);
    assert_eq!(postings(&app, &c, "redemption_release").await, 1);
    let b = balances(&app, &c).await;
    assert_eq!(
        balance(&b, "FUNDER_RECEIVABLE", Some(&fund_account)),
        100_000
    );
    let v = app
        .gql(
            Some(&c.slug),
            Some(&c.admin_token),
            &format!("query($id: ID!) {{ enrolment(id: $id) {{ {FUNDING} }} }}"),
            json!({ "id": enrolments[0] }),
        )
        .await;
    assert_eq!(ok(&v)["enrolment"]["funding"][0]["status"], "withdrawn");
    assert_eq!(ok(&v)["enrolment"]["funding"][1]["status"], "dropped");

    // The monthly run: the fund's invoice has Bob's and Cyd's lines.
    let docs = monthly_run(&app, &c).await;
    let fund_doc = docs
        .iter()
        .find(|d| d.gross_total_minor == 100_000)
        .expect("the fund's invoice");
    assert_eq!(fund_doc.lines.len(), 2, "one line per redemption");

    // Day 15: Bob withdraws after the period: nothing comes back.
    app.state.deps.clock.advance(Duration::days(2));
    let v = app
        .gql(
            Some(&c.slug),
            Some(&c.admin_token),
            WITHDRAW,
            json!({ "id": enrolments[1] }),
        )
        .await;
    assert_eq!(ok(&v)["withdrawEnrolment"]["status"], "WITHDRAWN");
    assert_eq!(uses(&app, &c).await, 2);
    assert_eq!(postings(&app, &c, "redemption_release").await, 1);
    balances(&app, &c).await;
    app.stop().await;
}

#[tokio::test]
async fn withdrawals_on_sqlite() {
    withdrawals(Backend::Sqlite).await;
}

#[tokio::test]
async fn withdrawals_on_postgres() {
    withdrawals(Backend::Postgres).await;
}

/// Another space's valid, unused code answers exactly like a code nobody issued; and a
/// space's HR of another company, or another space, reads no funding of an enrolment.
async fn walls(backend: Backend) {
    let app = start(backend).await;
    let op = fixtures::operator(&app).await;
    let a = fixtures::campus(&app, &op).await;
    let b = fixtures::campus(&app, &op).await;
    let course = fixtures::published_course(&app, &op, "Food safety").await;
    let mut learners = Vec::new();
    for c in [&a, &b] {
        let durand = fixtures::company(&app, c, "Durand").await;
        fixtures::billing_account(&app, c, &durand).await;
        let e = edition(&app, c, &course, 70_000, json!({})).await;
        let (_, token) = fixtures::member(
            &app,
            c,
            &c.admin_token,
            &durand,
            "lea@durand.test",
            "LEARNER",
        )
        .await;
        learners.push((durand, e, token));
    }
    let (fund_b, _) = funder(&app, &b, "Fonds B", FunderKind::SectorFund).await;
    let b_code = codes_of(&app, &b, spec(&fund_b, "B", Worth::Face(eur(50_000)))).await;
    let unknown = codes::generate(1).unwrap()[0].grouped();
    let (_, e_a, token_a) = &learners[0];
    let strip = |mut v: Value| {
        if let Some(ext) = v["errors"][0]["extensions"].as_object_mut() {
            ext.remove("requestId");
        }
        v
    };
    let foreign = strip(self_enrol(&app, &a, token_a, e_a, &[&b_code[0]]).await);
    let nobody = strip(self_enrol(&app, &a, token_a, e_a, &[&unknown]).await);
    assert_eq!(reason(&foreign), "unknown");
    assert_eq!(
        foreign, nobody,
        "another space's code answers like an unknown one"
    );

    // Lea of A redeems a code of A; B's admin cannot read the enrolment, A's other HR reads
    // no funding of it.
    let (fund_a, _) = funder(&app, &a, "Fonds A", FunderKind::SectorFund).await;
    let a_code = codes_of(&app, &a, spec(&fund_a, "A", Worth::Face(eur(50_000)))).await;
    let v = self_enrol(&app, &a, token_a, e_a, &[&a_code[0]]).await;
    let id = ok(&v)["selfEnrol"]["id"].as_str().unwrap().to_owned();
    assert_eq!(ok(&v)["selfEnrol"]["funding"].as_array().unwrap().len(), 2);
    let q = format!("query($id: ID!) {{ enrolment(id: $id) {{ id {FUNDING} }} }}");
    let v = app
        .gql(Some(&b.slug), Some(&b.admin_token), &q, json!({ "id": id }))
        .await;
    assert_eq!(code(&v), "NOT_FOUND", "{v}");
    let martin = fixtures::company(&app, &a, "Martin").await;
    let (_, hr_martin) = fixtures::member(
        &app,
        &a,
        &a.admin_token,
        &martin,
        "hr@martin.test",
        "ORG_ADMIN",
    )
    .await;
    let v = app
        .gql(Some(&a.slug), Some(&hr_martin), &q, json!({ "id": id }))
        .await;
    if v["errors"].is_null() {
        assert_eq!(ok(&v)["enrolment"]["funding"], json!([]));
    } else {
        assert_eq!(code(&v), "NOT_FOUND", "{v}");
    }
    // The learner reads their own.
    let v = app
        .gql(Some(&a.slug), Some(token_a), &q, json!({ "id": id }))
        .await;
    assert_eq!(ok(&v)["enrolment"]["funding"].as_array().unwrap().len(), 2);
    app.stop().await;
}

#[tokio::test]
async fn walls_on_sqlite() {
    walls(Backend::Sqlite).await;
}

#[tokio::test]
async fn walls_on_postgres() {
    walls(Backend::Postgres).await;
}

async fn self_enrol_from(
    app: &TestApp,
    c: &Campus,
    token: &str,
    e: &str,
    code: &str,
    from: &str,
) -> (reqwest::StatusCode, Option<String>, Value) {
    let r = app
        .client
        .post(format!("{}/graphql", app.base))
        .header("X-Tenant", &c.slug)
        .header("X-Forwarded-For", from)
        .header("Authorization", format!("Bearer {token}"))
        .json(&json!({ "query": "mutation($e: ID!, $codes: [String!]) { selfEnrol(editionId: $e, voucherCodes: $codes) { id status } }", "variables": { "e": e, "codes": [code] } }))
        .send()
        .await
        .unwrap();
    let status = r.status();
    let retry = r
        .headers()
        .get("retry-after")
        .map(|h| h.to_str().unwrap().to_owned());
    (status, retry, r.json().await.unwrap())
}

/// Ten failed redemptions per person in the window; the eleventh attempt is RATE_LIMITED with
/// Retry-After before any lookup (even with a good code), and counts nothing. An address has 30.
async fn rate_limit(backend: Backend) {
    let app = start(backend).await;
    let op = fixtures::operator(&app).await;
    let c = fixtures::campus(&app, &op).await;
    let durand = fixtures::company(&app, &c, "Durand").await;
    fixtures::billing_account(&app, &c, &durand).await;
    let course = fixtures::published_course(&app, &op, "Food safety").await;
    let e = edition(&app, &c, &course, 70_000, json!({})).await;
    let (fund, _) = funder(&app, &c, "Fonds", FunderKind::SectorFund).await;
    let good = codes_of(&app, &c, spec(&fund, "Good", Worth::Face(eur(50_000)))).await;
    let (_, lea) = fixtures::member(
        &app,
        &c,
        &c.admin_token,
        &durand,
        "lea@durand.test",
        "LEARNER",
    )
    .await;
    for _ in 0..10 {
        let bad = codes::generate(1).unwrap()[0].grouped();
        let (_, _, v) = self_enrol_from(&app, &c, &lea, &e, &bad, "198.51.100.7").await;
        assert_eq!(reason(&v), "unknown");
    }
    let (_, retry, v) = self_enrol_from(&app, &c, &lea, &e, &good[0], "198.51.100.8").await;
    assert_eq!(code(&v), "RATE_LIMITED", "{v}");
    assert!(
        retry.is_some_and(|r| r.parse::<u64>().unwrap() > 0),
        "Retry-After"
    );
    assert!(
        v["errors"][0]["extensions"]["retryAfterSeconds"]
            .as_u64()
            .unwrap()
            > 0
    );
    assert_eq!(uses(&app, &c).await, 0, "refused before any lookup");

    // Another learner from the first address: 20 more failures are fine, the 31st is not.
    let (_, max) = fixtures::member(
        &app,
        &c,
        &c.admin_token,
        &durand,
        "max@durand.test",
        "LEARNER",
    )
    .await;
    let (_, zoe) = fixtures::member(
        &app,
        &c,
        &c.admin_token,
        &durand,
        "zoe@durand.test",
        "LEARNER",
    )
    .await;
    for token in [&max, &zoe] {
        for _ in 0..10 {
            let bad = codes::generate(1).unwrap()[0].grouped();
            let (_, _, v) = self_enrol_from(&app, &c, token, &e, &bad, "198.51.100.7").await;
            assert_eq!(reason(&v), "unknown");
        }
    }
    let (_, sam) = fixtures::member(
        &app,
        &c,
        &c.admin_token,
        &durand,
        "sam@durand.test",
        "LEARNER",
    )
    .await;
    let (_, _, v) = self_enrol_from(&app, &c, &sam, &e, &good[0], "198.51.100.7").await;
    assert_eq!(code(&v), "RATE_LIMITED", "{v}");
    // From elsewhere Sam redeems: a success counts nothing.
    let (_, _, v) = self_enrol_from(&app, &c, &sam, &e, &good[0], "198.51.100.9").await;
    assert_eq!(ok(&v)["selfEnrol"]["status"], "ACTIVE", "{v}");
    app.stop().await;
}

#[tokio::test]
async fn rate_limit_on_sqlite() {
    rate_limit(Backend::Sqlite).await;
}

#[tokio::test]
async fn rate_limit_on_postgres() {
    rate_limit(Backend::Postgres).await;
}

/// `n` learners of one company with their tokens.
pub async fn learners(app: &TestApp, c: &Campus, org: &str, n: usize) -> Vec<String> {
    let mut tokens = Vec::with_capacity(n);
    for i in 0..n {
        let (_, t) = fixtures::member(
            app,
            c,
            &c.admin_token,
            org,
            &format!("racer{i}@durand.test"),
            "LEARNER",
        )
        .await;
        tokens.push(t);
    }
    tokens
}

/// 100 learners redeem one code at once, each from an address of their own: exactly
/// `max_uses` get a place, each with one `redemption` posting; the others are `exhausted`.
async fn race(max_uses: u32) {
    let app = start(Backend::Postgres).await;
    let op = fixtures::operator(&app).await;
    let c = fixtures::campus(&app, &op).await;
    let durand = fixtures::company(&app, &c, "Durand").await;
    fixtures::billing_account(&app, &c, &durand).await;
    let course = fixtures::published_course(&app, &op, "Food safety").await;
    let e = edition(&app, &c, &course, 70_000, json!({})).await;
    let (fund, _) = funder(&app, &c, "Fonds", FunderKind::SectorFund).await;
    let mut one = spec(&fund, "Race", Worth::Face(eur(50_000)));
    one.uses_per_code = max_uses;
    let the_code = codes_of(&app, &c, one).await.remove(0);
    let tokens = learners(&app, &c, &durand, 100).await;
    let mut racers = Vec::new();
    for (i, token) in tokens.into_iter().enumerate() {
        let (client, url) = (app.client.clone(), format!("{}/graphql", app.base));
        let body = json!({ "query": "mutation($e: ID!, $codes: [String!]) { selfEnrol(editionId: $e, voucherCodes: $codes) { id } }", "variables": { "e": e, "codes": [the_code] } });
        let slug = c.slug.clone();
        racers.push(tokio::spawn(async move {
            client
                .post(url)
                .header("X-Tenant", slug)
                .header(
                    "X-Forwarded-For",
                    format!("10.0.{}.{}", i / 250, i % 250 + 1),
                )
                .header("Authorization", format!("Bearer {token}"))
                .json(&body)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }));
    }
    let mut won = 0;
    for r in racers {
        let v = r.await.unwrap();
        if v["errors"].is_null() {
            won += 1;
        } else {
            assert_eq!(reason(&v), "exhausted", "{v}");
        }
    }
    assert_eq!(won, max_uses as usize);
    assert_eq!(uses(&app, &c).await, i64::from(max_uses));
    assert_eq!(postings(&app, &c, "redemption").await, max_uses as usize);
    assert_eq!(
        app.dump_tenant(&c.id).await["voucher_redemptions"].len(),
        max_uses as usize
    );
    balances(&app, &c).await;
    app.stop().await;
}

#[tokio::test]
async fn a_single_use_code_is_redeemed_once_by_100_racers_on_postgres() {
    race(1).await;
}

#[tokio::test]
async fn a_three_use_code_is_redeemed_three_times_by_100_racers_on_postgres() {
    race(3).await;
}

/// Who pays what vouchers leave: with the company out of it (`companyCofunding: false`) the
/// learner does, and a space without card payments refuses (PAYMENT_UNAVAILABLE), HR cannot
/// leave it to the learner (BILLING_ACCOUNT_REQUIRED); a funder without a billing account is
/// named in its refusal; restrictions by organisation subtree and company size apply. No
/// refusal takes a use or a place.
async fn who_pays_the_rest(backend: Backend) {
    let app = start(backend).await;
    let op = fixtures::operator(&app).await;
    let c = fixtures::campus(&app, &op).await;
    let durand = fixtures::company(&app, &c, "Durand").await;
    fixtures::billing_account(&app, &c, &durand).await;
    let (lea, lea_token) = fixtures::member(
        &app,
        &c,
        &c.admin_token,
        &durand,
        "lea@durand.test",
        "LEARNER",
    )
    .await;
    let course = fixtures::published_course(&app, &op, "Food safety").await;
    let learner_pays = edition(
        &app,
        &c,
        &course,
        70_000,
        json!({ "companyCofunding": false }),
    )
    .await;
    let cofunded = edition(&app, &c, &course, 70_000, json!({})).await;
    let (fund, _) = funder(&app, &c, "Fonds", FunderKind::SectorFund).await;
    let mut five = spec(&fund, "Five", Worth::Face(eur(50_000)));
    five.count = 3;
    let five = codes_of(&app, &c, five).await;

    let v = self_enrol(&app, &c, &lea_token, &learner_pays, &[&five[0]]).await;
    assert_eq!(code(&v), "PAYMENT_UNAVAILABLE", "{v}");
    let v = hr_enrol(&app, &c, &learner_pays, &lea, &[&five[0]]).await;
    assert_eq!(code(&v), "BILLING_ACCOUNT_REQUIRED", "{v}");

    // A funder whose organisation has no billing account.
    let bare = fixtures::company(&app, &c, "Fonds sans compte").await;
    let tx = tx_of(&app, &c).await;
    let unbilled = funders::create(
        &tx,
        app.state.deps.clock.now(),
        NewFunder {
            name: "Fonds sans compte".into(),
            kind: FunderKind::PublicEmployment,
            contact_name: "Jo".into(),
            contact_email: "jo@fonds.test".into(),
            organisation: OrganisationId::from_uuid(bare.parse().unwrap()),
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let orphan = codes_of(
        &app,
        &c,
        spec(&unbilled, "Orphan", Worth::Face(eur(10_000))),
    )
    .await;
    let v = self_enrol(&app, &c, &lea_token, &cofunded, &[&orphan[0]]).await;
    assert_eq!(code(&v), "BILLING_ACCOUNT_REQUIRED", "{v}");
    assert!(
        v["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("Fonds sans compte"),
        "{v}"
    );

    // Restrictions: small companies only (Durand has 11 to 49 people), then Durand's subtree
    // and its size band.
    let mut small = spec(&fund, "Small", Worth::Face(eur(50_000)));
    small.restrictions.size_bands = Some(vec![spaces_tenants::organisations::SizeBand::Under11]);
    let small = codes_of(&app, &c, small).await;
    let v = self_enrol(&app, &c, &lea_token, &cofunded, &[&small[0]]).await;
    assert_eq!(reason(&v), "not_applicable");
    let mut martin_only = spec(&fund, "Martin", Worth::Face(eur(50_000)));
    let martin = fixtures::company(&app, &c, "Martin").await;
    martin_only.restrictions.organisations = Some(vec![martin.parse().unwrap()]);
    let martin_only = codes_of(&app, &c, martin_only).await;
    let v = self_enrol(&app, &c, &lea_token, &cofunded, &[&martin_only[0]]).await;
    assert_eq!(reason(&v), "not_applicable");
    assert_eq!(uses(&app, &c).await, 0, "no refusal takes a use");
    assert_eq!(app.dump_tenant(&c.id).await["enrolments"].len(), 0);

    let mut durand_mid = spec(&fund, "Durand", Worth::Face(eur(50_000)));
    durand_mid.restrictions.organisations = Some(vec![durand.parse().unwrap()]);
    durand_mid.restrictions.size_bands =
        Some(vec![spaces_tenants::organisations::SizeBand::From11To49]);
    let durand_mid = codes_of(&app, &c, durand_mid).await;
    let v = self_enrol(&app, &c, &lea_token, &cofunded, &[&durand_mid[0]]).await;
    assert_eq!(ok(&v)["selfEnrol"]["status"], "ACTIVE", "{v}");
    assert_eq!(uses(&app, &c).await, 1);
    balances(&app, &c).await;
    app.stop().await;
}

#[tokio::test]
async fn who_pays_the_rest_on_sqlite() {
    who_pays_the_rest(Backend::Sqlite).await;
}

#[tokio::test]
async fn who_pays_the_rest_on_postgres() {
    who_pays_the_rest(Backend::Postgres).await;
}

/// Rows of A in the redemption tables for the generated walls: a funder with a billing account,
/// a batch and its code, and a redemption of it by `learner` (HR's enrolment into a new priced
/// edition of `course`, the rest on the nearest billing account, which A has).
pub async fn rows_of_a(app: &TestApp, a: &Campus, course: &str, learner: &str) {
    let e = edition(app, a, course, 70_000, json!({})).await;
    let (fund, _) = funder(app, a, &fixtures::unique("A-Fund-"), FunderKind::SectorFund).await;
    let codes = codes_of(app, a, spec(&fund, "A batch", Worth::Face(eur(20_000)))).await;
    let v = hr_enrol(app, a, &e, learner, &[&codes[0]]).await;
    assert_eq!(ok(&v)["enrol"]["status"], "ACTIVE", "{v}");
}
