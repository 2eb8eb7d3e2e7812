//! Invoices and credit notes: gapless numbers per space, kind and year; frozen once issued (by
//! the database too); payment state derived from payments, credit notes and the clock; read by
//! admins and by HR of the buyer only; another space's invoices answer like unknown ones.
//!
//! Everything here issues through `ledger::post`, so it passes once the ledger's branch is in.

use chrono::Datelike;
use serde_json::{Value, json};
use spaces_tests::app::{code, ok};
use spaces_tests::fixtures::{self, INVOICE_FIELDS};
use spaces_tests::{Backend, TestApp};

mod database;
mod reads;

/// An error as a client compares it (the request id differs on every call).
fn same(v: &Value) -> Value {
    let e = &v["errors"][0];
    json!([
        e["message"],
        e["extensions"]["code"],
        e["extensions"]["field"],
        e["extensions"]["reason"]
    ])
}

fn year(app: &TestApp) -> i32 {
    app.state.deps.clock.now().year()
}

async fn pay(app: &TestApp, slug: &str, token: &str, invoice: &str, minor: i64) -> Value {
    app.gql(
        Some(slug),
        Some(token),
        "mutation($id: ID!, $a: MoneyInput!, $on: NaiveDate!) { recordPayment(invoiceId: $id, amount: $a, receivedOn: $on, reference: \"VIR-2026-118\") { status paid { amountMinor } due { amountMinor } payments { amount { amountMinor } } } }",
        json!({ "id": invoice, "a": { "amountMinor": minor, "currency": "EUR" }, "on": app.state.deps.clock.today() }),
    )
    .await
}

async fn statuses(app: &TestApp, slug: &str, token: &str, status: &str) -> Vec<String> {
    let v = app
        .gql(
            Some(slug),
            Some(token),
            "query($s: InvoiceStatus) { invoices(status: $s, first: 100) { edges { node { number } } } }",
            json!({ "s": status }),
        )
        .await;
    ok(&v)["invoices"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["number"].as_str().unwrap_or("").to_owned())
        .collect()
}

async fn journey(backend: Backend) {
    let app = TestApp::start(backend).await;
    let op = fixtures::operator(&app).await;
    let a = fixtures::campus(&app, &op).await;
    let company = fixtures::company(&app, &a, "Laiterie Durand").await;
    let other = fixtures::company(&app, &a, "Fromagerie Martin").await;
    let buyer = fixtures::billing_account(&app, &a, &company).await;
    let other_buyer = fixtures::billing_account(&app, &a, &other).await;
    // The year the invoices are issued in, read once: the clock moves a month further below,
    // which from December on is the next year.
    let issued_in = year(&app);
    let series =
        |kind: &str, n: u32| format!("{}-{kind}-{}-{n:06}", a.slug.to_uppercase(), issued_in);

    let v = fixtures::issue_invoice(&app, &a, &buyer).await;
    let inv = ok(&v)["issueInvoice"].clone();
    assert_eq!(inv["number"], series("F", 1));
    assert_eq!(inv["kind"], "INVOICE");
    assert_eq!(inv["status"], "ISSUED");
    // 2 × 100.00 at 20 % and 450.00 exempt: VAT 40.00 over the 20 % line, none on the other.
    assert_eq!(inv["net"]["amountMinor"], 65_000);
    assert_eq!(inv["vat"]["amountMinor"], 4_000);
    assert_eq!(
        inv["gross"],
        json!({ "amountMinor": 69_000, "currency": "EUR" })
    );
    assert_eq!(
        inv["vatBreakdown"],
        json!([
            { "vatBasisPoints": 2000, "exemption": null, "taxable": { "amountMinor": 20_000 }, "amount": { "amountMinor": 4_000 } },
            { "vatBasisPoints": null, "exemption": "Exonération de TVA, article 261-4-4° du CGI", "taxable": { "amountMinor": 45_000 }, "amount": { "amountMinor": 0 } }
        ])
    );
    let id = inv["id"].as_str().unwrap().to_owned();
    let exempt_line = inv["lines"][1]["id"].as_str().unwrap().to_owned();

    // Paid in part, then refused above what is due, then paid in full.
    let v = pay(&app, &a.slug, &a.admin_token, &id, 30_000).await;
    assert_eq!(ok(&v)["recordPayment"]["status"], "PARTIALLY_PAID");
    assert_eq!(v["data"]["recordPayment"]["due"]["amountMinor"], 39_000);
    let v = pay(&app, &a.slug, &a.admin_token, &id, 40_000).await;
    assert_eq!(code(&v), "OVERPAYMENT", "{v}");
    assert_eq!(v["errors"][0]["extensions"]["dueMinor"], 39_000);
    let v = pay(&app, &a.slug, &a.admin_token, &id, 39_000).await;
    assert_eq!(ok(&v)["recordPayment"]["status"], "PAID");
    assert_eq!(
        v["data"]["recordPayment"]["payments"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // A credit note for the exempt line: its own series, referencing the invoice.
    let credit = "mutation($id: ID!, $l: [ID!]!) { creditInvoice(invoiceId: $id, lineIds: $l, reason: \"Withdrawal within 14 days\") { number kind correctsId gross { amountMinor } lines { creditsLineId } } }";
    let v = app
        .gql(
            Some(&a.slug),
            Some(&a.admin_token),
            credit,
            json!({ "id": id, "l": [exempt_line] }),
        )
        .await;
    let note = ok(&v)["creditInvoice"].clone();
    assert_eq!(note["number"], series("A", 1));
    assert_eq!(note["kind"], "CREDIT_NOTE");
    assert_eq!(note["correctsId"], id.as_str());
    assert_eq!(note["gross"]["amountMinor"], 45_000);
    assert_eq!(note["lines"][0]["creditsLineId"], exempt_line.as_str());
    // Never the same line twice.
    let v = app
        .gql(
            Some(&a.slug),
            Some(&a.admin_token),
            credit,
            json!({ "id": id, "l": [exempt_line] }),
        )
        .await;
    assert_eq!(code(&v), "CONFLICT", "{v}");
    assert_eq!(v["errors"][0]["extensions"]["field"], "lineIds");
    let v = app
        .gql(
            Some(&a.slug),
            Some(&a.admin_token),
            &format!("query($id: ID!) {{ invoice(id: $id) {{ {INVOICE_FIELDS} }} }}"),
            json!({ "id": id }),
        )
        .await;
    assert_eq!(ok(&v)["invoice"]["credited"]["amountMinor"], 45_000);
    assert_eq!(
        v["data"]["invoice"]["creditNotes"][0]["number"],
        series("A", 1)
    );

    // A draft has no number until issued; then it takes the next one.
    let due = (app.state.deps.clock.now() + chrono::Duration::days(30)).date_naive();
    let v = app
        .gql(
            Some(&a.slug),
            Some(&a.admin_token),
            "mutation($i: IssueInvoiceInput!) { createDraftInvoice(input: $i) { id number status gross { amountMinor } } }",
            json!({ "i": { "buyerId": other_buyer, "dueDate": due, "lines": [
                { "description": "Seats", "quantity": 3, "unitPrice": { "amountMinor": 3_333, "currency": "EUR" }, "vatBasisPoints": 550 }
            ] } }),
        )
        .await;
    let draft = ok(&v)["createDraftInvoice"].clone();
    assert_eq!(draft["status"], "DRAFT");
    assert_eq!(draft["number"], Value::Null);
    // 99.99 at 5.5 % = 5.49945 -> 5.50.
    assert_eq!(draft["gross"]["amountMinor"], 9_999 + 550);
    let v = app
        .gql(
            Some(&a.slug),
            Some(&a.admin_token),
            "mutation($id: ID!) { issueDraftInvoice(id: $id) { number status } }",
            json!({ "id": draft["id"] }),
        )
        .await;
    assert_eq!(ok(&v)["issueDraftInvoice"]["number"], series("F", 2));
    assert_eq!(v["data"]["issueDraftInvoice"]["status"], "ISSUED");

    assert_eq!(
        statuses(&app, &a.slug, &a.admin_token, "PAID").await,
        [series("F", 1)]
    );
    assert_eq!(
        statuses(&app, &a.slug, &a.admin_token, "ISSUED").await,
        [series("A", 1), series("F", 2)]
    );
    // By kind, and by issue date (a period that ends before today holds none of them).
    let v = app
        .gql(
            Some(&a.slug),
            Some(&a.admin_token),
            "query($to: NaiveDate!) { notes: invoices(kind: CREDIT_NOTE) { edges { node { number } } } before: invoices(to: $to) { edges { node { number } } } }",
            json!({ "to": app.state.deps.clock.today() - chrono::Duration::days(1) }),
        )
        .await;
    assert_eq!(
        ok(&v)["notes"]["edges"],
        json!([{ "node": { "number": series("A", 1) } }])
    );
    assert_eq!(v["data"]["before"]["edges"], json!([]));
    // Past its due date, unpaid: overdue (derived from the clock, nothing stored changes).
    app.state.deps.clock.advance(chrono::Duration::days(31));
    assert_eq!(
        statuses(&app, &a.slug, &a.admin_token, "OVERDUE").await,
        [series("F", 2)]
    );

    // HR of the company sees its invoices only; a learner sees none.
    let (_, hr) = fixtures::member(
        &app,
        &a,
        &a.admin_token,
        &company,
        &format!("hr@{}.test", a.slug),
        "ORG_ADMIN",
    )
    .await;
    let mut seen = statuses(&app, &a.slug, &hr, "PAID").await;
    seen.extend(statuses(&app, &a.slug, &hr, "OVERDUE").await);
    assert_eq!(seen, [series("F", 1)]);
    let other_id = ok(&app
        .gql(
            Some(&a.slug),
            Some(&a.admin_token),
            "{ invoices(status: OVERDUE) { edges { node { id } } } }",
            json!({}),
        )
        .await)["invoices"]["edges"][0]["node"]["id"]
        .clone();
    let v = app
        .gql(
            Some(&a.slug),
            Some(&hr),
            "query($id: ID!) { invoice(id: $id) { number } }",
            json!({ "id": other_id }),
        )
        .await;
    assert_eq!(code(&v), "NOT_FOUND", "{v}");
    let (_, learner) = fixtures::member(
        &app,
        &a,
        &a.admin_token,
        &company,
        &format!("lea@{}.test", a.slug),
        "LEARNER",
    )
    .await;
    let v = app
        .gql(
            Some(&a.slug),
            Some(&learner),
            "{ invoices { edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(code(&v), "FORBIDDEN", "{v}");
    let v = app
        .gql(
            Some(&a.slug),
            Some(&hr),
            "mutation($id: ID!) { issueDraftInvoice(id: $id) { id } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(code(&v), "FORBIDDEN", "{v}");
    // Paid in part after its due date: still overdue, for what is left.
    let v = pay(
        &app,
        &a.slug,
        &a.admin_token,
        other_id.as_str().unwrap(),
        100,
    )
    .await;
    assert_eq!(ok(&v)["recordPayment"]["status"], "OVERDUE");
    assert_eq!(
        v["data"]["recordPayment"]["due"]["amountMinor"],
        9_999 + 550 - 100
    );
    // HR sees the payments of its company's invoices only; the space's admin sees all three.
    let count = async |token: &str| {
        let v = app
            .gql(
                Some(&a.slug),
                Some(token),
                "{ payments { edges { node { id } } } }",
                json!({}),
            )
            .await;
        ok(&v)["payments"]["edges"].as_array().unwrap().len()
    };
    assert_eq!(count(&hr).await, 2);
    assert_eq!(count(&a.admin_token).await, 3);
    app.stop().await;
}

#[tokio::test]
async fn an_invoice_is_numbered_paid_in_parts_and_credited_on_sqlite() {
    journey(Backend::Sqlite).await;
}

#[tokio::test]
async fn an_invoice_is_numbered_paid_in_parts_and_credited_on_postgres() {
    journey(Backend::Postgres).await;
}

/// Bad lines are refused by name, before anything is numbered.
#[tokio::test]
async fn bad_lines_are_named_and_take_no_number() {
    let app = TestApp::start(Backend::Sqlite).await;
    let op = fixtures::operator(&app).await;
    let a = fixtures::campus(&app, &op).await;
    let buyer = fixtures::billing_account(&app, &a, &a.root_id).await;
    let due = (app.state.deps.clock.now() + chrono::Duration::days(30)).date_naive();
    let line = |patch: Value| {
        let mut l = json!({ "description": "Seats", "quantity": 1, "unitPrice": { "amountMinor": 100, "currency": "EUR" }, "vatBasisPoints": 2000 });
        if let (Value::Object(l), Value::Object(p)) = (&mut l, patch) {
            l.extend(p);
        }
        l
    };
    for (patch, field) in [
        (json!({ "quantity": 0 }), "lines[0].quantity"),
        (
            json!({ "unitPrice": { "amountMinor": 100, "currency": "USD" } }),
            "lines[0].unitPrice",
        ),
        (
            json!({ "unitPrice": { "amountMinor": -1, "currency": "EUR" } }),
            "lines[0].unitPrice",
        ),
        (
            json!({ "vatBasisPoints": 10_001 }),
            "lines[0].vatBasisPoints",
        ),
        (json!({ "vatBasisPoints": null }), "lines[0].vatBasisPoints"),
        (
            json!({ "vatBasisPoints": null, "exemption": " " }),
            "lines[0].exemption",
        ),
    ] {
        let v = app
            .gql(
                Some(&a.slug),
                Some(&a.admin_token),
                "mutation($i: IssueInvoiceInput!) { issueInvoice(input: $i) { number } }",
                json!({ "i": { "buyerId": buyer, "dueDate": due, "lines": [line(patch.clone())] } }),
            )
            .await;
        assert_eq!(code(&v), "BAD_USER_INPUT", "{patch}: {v}");
        assert_eq!(v["errors"][0]["extensions"]["field"], field, "{patch}: {v}");
    }
    let v = fixtures::issue_invoice(&app, &a, &buyer).await;
    assert_eq!(
        ok(&v)["issueInvoice"]["number"],
        format!("{}-F-{}-000001", a.slug.to_uppercase(), year(&app))
    );
    app.stop().await;
}

/// The variables of a probe, given the id it tries.
type Vars = Box<dyn Fn(&str) -> Value>;

/// B's admin, with A's invoice, lines and buyer, finds nothing and changes nothing.
async fn cross_tenant(backend: Backend) {
    let app = TestApp::start(backend).await;
    let op = fixtures::operator(&app).await;
    let a = fixtures::campus(&app, &op).await;
    let b = fixtures::campus(&app, &op).await;
    let a_buyer = fixtures::billing_account(&app, &a, &a.root_id).await;
    let b_buyer = fixtures::billing_account(&app, &b, &b.root_id).await;
    let v = fixtures::issue_invoice(&app, &a, &a_buyer).await;
    let a_inv = ok(&v)["issueInvoice"].clone();
    let a_id = a_inv["id"].as_str().unwrap().to_owned();
    let a_line = a_inv["lines"][0]["id"].as_str().unwrap().to_owned();
    let v = fixtures::issue_invoice(&app, &b, &b_buyer).await;
    let b_id = ok(&v)["issueInvoice"]["id"].as_str().unwrap().to_owned();
    let unknown = uuid::Uuid::now_v7().to_string();
    let due = (app.state.deps.clock.now() + chrono::Duration::days(30)).date_naive();
    let probes: Vec<(&str, Vars)> = vec![
        (
            "query($x: ID!) { invoice(id: $x) { id number } }",
            Box::new(|x| json!({ "x": x })),
        ),
        (
            "mutation($x: ID!) { issueDraftInvoice(id: $x) { id } }",
            Box::new(|x| json!({ "x": x })),
        ),
        (
            "mutation($x: ID!, $l: [ID!]!) { creditInvoice(invoiceId: $x, lineIds: $l, reason: \"r\") { id } }",
            Box::new(|x| json!({ "x": x, "l": [uuid::Uuid::now_v7().to_string()] })),
        ),
        (
            "mutation($x: ID!, $a: MoneyInput!, $on: NaiveDate!) { recordPayment(invoiceId: $x, amount: $a, receivedOn: $on, reference: \"r\") { id } }",
            Box::new(
                move |x| json!({ "x": x, "a": { "amountMinor": 100, "currency": "EUR" }, "on": due }),
            ),
        ),
        (
            "query($x: ID!) { payments(invoiceId: $x) { edges { node { id } } } }",
            Box::new(|x| json!({ "x": x })),
        ),
        (
            "mutation($x: ID!, $d: NaiveDate!) { issueInvoice(input: { buyerId: $x, dueDate: $d, lines: [{ description: \"d\", quantity: 1, unitPrice: { amountMinor: 1, currency: \"EUR\" }, vatBasisPoints: 0 }] }) { id } }",
            Box::new(move |x| json!({ "x": x, "d": due })),
        ),
        (
            "mutation($x: ID!, $d: NaiveDate!) { createDraftInvoice(input: { buyerId: $x, dueDate: $d, lines: [{ description: \"d\", quantity: 1, unitPrice: { amountMinor: 1, currency: \"EUR\" }, vatBasisPoints: 0 }] }) { id } }",
            Box::new(move |x| json!({ "x": x, "d": due })),
        ),
        (
            "query($x: ID!) { invoices(buyerId: $x) { edges { node { id } } } }",
            Box::new(|x| json!({ "x": x })),
        ),
    ];
    for (q, vars) in &probes {
        let foreign_id = if q.contains("buyerId") {
            &a_buyer
        } else {
            &a_id
        };
        let foreign = app
            .gql(Some(&b.slug), Some(&b.admin_token), q, vars(foreign_id))
            .await;
        let none = app
            .gql(Some(&b.slug), Some(&b.admin_token), q, vars(&unknown))
            .await;
        assert_eq!(code(&foreign), "NOT_FOUND", "{q}: {foreign}");
        assert_eq!(same(&foreign), same(&none), "{q}");
        assert!(!foreign.to_string().contains(&a_id), "{q}: {foreign}");
    }
    // A's line on B's own invoice names nothing either.
    let v = app
        .gql(
            Some(&b.slug),
            Some(&b.admin_token),
            "mutation($x: ID!, $l: [ID!]!) { creditInvoice(invoiceId: $x, lineIds: $l, reason: \"r\") { id } }",
            json!({ "x": b_id, "l": [a_line] }),
        )
        .await;
    assert_eq!(code(&v), "NOT_FOUND", "{v}");
    assert_eq!(v["errors"][0]["extensions"]["field"], "lineIds");
    let v = app
        .gql(
            Some(&b.slug),
            Some(&b.admin_token),
            "{ invoices(first: 100) { edges { node { id } } } payments { edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(ok(&v)["invoices"]["edges"].as_array().unwrap().len(), 1);
    assert!(!v.to_string().contains(&a_id));
    // A's invoice is as it was: unpaid, uncredited.
    let v = app
        .gql(
            Some(&a.slug),
            Some(&a.admin_token),
            "query($x: ID!) { invoice(id: $x) { status paid { amountMinor } creditNotes { id } } }",
            json!({ "x": a_id }),
        )
        .await;
    assert_eq!(ok(&v)["invoice"]["status"], "ISSUED");
    assert_eq!(v["data"]["invoice"]["paid"]["amountMinor"], 0);
    app.stop().await;
}

#[tokio::test]
async fn another_space_finds_no_invoice_on_sqlite() {
    cross_tenant(Backend::Sqlite).await;
}

#[tokio::test]
async fn another_space_finds_no_invoice_on_postgres() {
    cross_tenant(Backend::Postgres).await;
}
