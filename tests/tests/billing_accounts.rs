//! Billing accounts: created and updated by the space's admins (and operators), each field
//! checked by name, one per organisation, read by admins and by HR of the organisation; another
//! space's accounts and organisations answer like unknown ones.

use serde_json::{Value, json};
use spaces_billing::accounts;
use spaces_tenants::TenantTx;
use spaces_tests::app::{code, ok};
use spaces_tests::fixtures::{self, SIREN, VAT_FR, unique};
use spaces_tests::{Backend, TestApp};

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

const CREATE: &str = "mutation($i: CreateBillingAccountInput!) { createBillingAccount(input: $i) { id organisationId legalName country registrationNumber vatNumber invoiceEmail currency } }";

fn input(org: &str, patch: Value) -> Value {
    let mut i = json!({
        "organisationId": org, "legalName": "Laiterie Durand SAS", "addressLine": "3 route de Rennes",
        "postcode": "35000", "city": "Rennes", "country": "FR", "registrationNumber": "732 829 320 00074",
        "vatNumber": "fr 44 732829320", "invoiceEmail": "Compta@Durand.test", "currency": "EUR"
    });
    if let (Value::Object(i), Value::Object(p)) = (&mut i, patch) {
        i.extend(p);
    }
    json!({ "i": i })
}

async fn accounts(backend: Backend) {
    let app = TestApp::start(backend).await;
    let op = fixtures::operator(&app).await;
    let a = fixtures::campus(&app, &op).await;
    let company = fixtures::company(&app, &a, "Laiterie Durand").await;
    let other = fixtures::company(&app, &a, "Fromagerie Martin").await;

    // Each bad field is named, and nothing is written.
    for (patch, field) in [
        (json!({ "country": "FRA" }), "country"),
        (json!({ "currency": "EURO" }), "currency"),
        (json!({ "invoiceEmail": "not an email" }), "invoiceEmail"),
        (
            json!({ "registrationNumber": "732829321" }),
            "registrationNumber",
        ),
        (
            json!({ "registrationNumber": "73282932000075" }),
            "registrationNumber",
        ),
        (json!({ "vatNumber": "FR45732829320" }), "vatNumber"),
        (json!({ "vatNumber": "DE123456789" }), "vatNumber"),
        (json!({ "legalName": " " }), "legalName"),
    ] {
        let v = app
            .gql(
                Some(&a.slug),
                Some(&a.admin_token),
                CREATE,
                input(&company, patch.clone()),
            )
            .await;
        assert_eq!(code(&v), "BAD_USER_INPUT", "{patch}: {v}");
        assert_eq!(v["errors"][0]["extensions"]["field"], field, "{patch}: {v}");
    }

    let v = app
        .gql(
            Some(&a.slug),
            Some(&a.admin_token),
            CREATE,
            input(&company, json!({})),
        )
        .await;
    let acc = ok(&v)["createBillingAccount"].clone();
    assert_eq!(acc["registrationNumber"], "73282932000074");
    assert_eq!(acc["vatNumber"], VAT_FR);
    assert_eq!(acc["invoiceEmail"], "compta@durand.test");
    assert_eq!(acc["country"], "FR");
    let id = acc["id"].as_str().unwrap().to_owned();

    // One per organisation.
    let v = app
        .gql(
            Some(&a.slug),
            Some(&a.admin_token),
            CREATE,
            input(&company, json!({})),
        )
        .await;
    assert_eq!(code(&v), "CONFLICT", "{v}");
    assert_eq!(v["errors"][0]["extensions"]["field"], "organisationId");

    // Outside France the registration number is free form and the VAT number follows its
    // country; an operator may create accounts too, in the space.
    let v = app
        .gql(
            Some(&a.slug),
            Some(&op),
            CREATE,
            input(
                &other,
                json!({ "country": "DE", "registrationNumber": "HRB 12345", "vatNumber": "DE123456789" }),
            ),
        )
        .await;
    assert_eq!(ok(&v)["createBillingAccount"]["vatNumber"], "DE123456789");

    let v = app
        .gql(
            Some(&a.slug),
            Some(&a.admin_token),
            "mutation($id: ID!, $i: BillingAccountInput!) { updateBillingAccount(id: $id, input: $i) { legalName city } }",
            json!({ "id": id, "i": {
                "legalName": "Laiterie Durand SA", "addressLine": "4 route de Rennes", "postcode": "35000",
                "city": "Cesson", "country": "FR", "registrationNumber": SIREN, "vatNumber": VAT_FR,
                "invoiceEmail": "compta@durand.test", "currency": "EUR"
            }}),
        )
        .await;
    assert_eq!(ok(&v)["updateBillingAccount"]["city"], "Cesson");

    // HR of the company sees its account, through the organisation too; not the other one's.
    let (_, hr) = fixtures::member(
        &app,
        &a,
        &a.admin_token,
        &company,
        &format!("hr@{}.test", a.slug),
        "ORG_ADMIN",
    )
    .await;
    let v = app
        .gql(
            Some(&a.slug),
            Some(&hr),
            "query($id: ID!, $org: ID!) { billingAccount(id: $id) { legalName } organisation(id: $org) { billingAccount { id } } billingAccounts { edges { node { id } } } }",
            json!({ "id": id, "org": company }),
        )
        .await;
    assert_eq!(ok(&v)["billingAccount"]["legalName"], "Laiterie Durand SA");
    assert_eq!(
        v["data"]["organisation"]["billingAccount"]["id"],
        id.as_str()
    );
    assert_eq!(
        v["data"]["billingAccounts"]["edges"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // HR may not create one.
    let third = fixtures::organisation(&app, &a, &company, "DEPARTMENT", &unique("Dept-")).await;
    let v = app
        .gql(Some(&a.slug), Some(&hr), CREATE, input(&third, json!({})))
        .await;
    assert_eq!(code(&v), "FORBIDDEN", "{v}");
    let v = app
        .gql(
            Some(&a.slug),
            Some(&a.admin_token),
            "{ billingAccounts { edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        ok(&v)["billingAccounts"]["edges"].as_array().unwrap().len(),
        2
    );

    // Who pays for an enrolment: the nearest organisation up the tree with an account.
    let team = fixtures::organisation(&app, &a, &third, "TEAM", &unique("Team-")).await;
    let lone = fixtures::company(&app, &a, "Boulangerie Petit").await;
    let nearest = async |org: &str| {
        let tx = TenantTx::begin(&app.state.deps.db, a.id.parse().unwrap())
            .await
            .unwrap();
        let got = accounts::nearest(&tx, org.parse().unwrap())
            .await
            .unwrap()
            .map(|acc| acc.id.to_string());
        tx.rollback().await.unwrap();
        got
    };
    assert_eq!(nearest(&team).await.as_deref(), Some(id.as_str()));
    assert_eq!(nearest(&company).await.as_deref(), Some(id.as_str()));
    assert_eq!(nearest(&lone).await, None);
    let root_account = fixtures::billing_account(&app, &a, &a.root_id).await;
    assert_eq!(nearest(&lone).await, Some(root_account));
    assert_eq!(nearest(&team).await.as_deref(), Some(id.as_str()));

    // A learner reads no billing.
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
            "query($id: ID!) { billingAccount(id: $id) { id } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(code(&v), "NOT_FOUND", "{v}");
    let v = app
        .gql(
            Some(&a.slug),
            Some(&learner),
            "{ billingAccounts { edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(code(&v), "FORBIDDEN", "{v}");
    app.stop().await;
}

#[tokio::test]
async fn accounts_are_checked_unique_and_read_by_role_on_sqlite() {
    accounts(Backend::Sqlite).await;
}

#[tokio::test]
async fn accounts_are_checked_unique_and_read_by_role_on_postgres() {
    accounts(Backend::Postgres).await;
}

/// B's admin, with A's ids, finds nothing and changes nothing; each answer is the one an
/// unknown id gets.
async fn cross_tenant(backend: Backend) {
    let app = TestApp::start(backend).await;
    let op = fixtures::operator(&app).await;
    let a = fixtures::campus(&app, &op).await;
    let b = fixtures::campus(&app, &op).await;
    let a_company = fixtures::company(&app, &a, "A Corp").await;
    let a_account = fixtures::billing_account(&app, &a, &a_company).await;
    let unknown = uuid::Uuid::now_v7().to_string();
    let probe =
        async |q: &str, vars: Value| app.gql(Some(&b.slug), Some(&b.admin_token), q, vars).await;
    for (q, key) in [
        (
            "query($x: ID!) { billingAccount(id: $x) { id legalName } }",
            "x",
        ),
        (
            "mutation($x: ID!) { updateBillingAccount(id: $x, input: { legalName: \"B\", addressLine: \"B\", postcode: \"1\", city: \"B\", country: \"FR\", invoiceEmail: \"b@b.test\", currency: \"EUR\" }) { id } }",
            "x",
        ),
        (
            "mutation($x: ID!) { createBillingAccount(input: { organisationId: $x, legalName: \"B\", addressLine: \"B\", postcode: \"1\", city: \"B\", country: \"FR\", invoiceEmail: \"b@b.test\", currency: \"EUR\" }) { id } }",
            "x",
        ),
    ] {
        let foreign_id = if q.contains("organisationId") {
            &a_company
        } else {
            &a_account
        };
        let foreign = probe(q, json!({ key: foreign_id })).await;
        let none = probe(q, json!({ key: unknown })).await;
        assert_eq!(code(&foreign), "NOT_FOUND", "{q}: {foreign}");
        assert_eq!(same(&foreign), same(&none), "{q}");
        assert!(!foreign.to_string().contains(&a_account));
    }
    let v = probe("{ billingAccounts { edges { node { id } } } }", json!({})).await;
    assert_eq!(ok(&v)["billingAccounts"]["edges"], json!([]));
    // A's account is as it was.
    let v = app
        .gql(
            Some(&a.slug),
            Some(&a.admin_token),
            "query($x: ID!) { billingAccount(id: $x) { city } }",
            json!({ "x": a_account }),
        )
        .await;
    assert_eq!(ok(&v)["billingAccount"]["city"], "Paris");
    app.stop().await;
}

#[tokio::test]
async fn another_space_finds_no_billing_account_on_sqlite() {
    cross_tenant(Backend::Sqlite).await;
}

#[tokio::test]
async fn another_space_finds_no_billing_account_on_postgres() {
    cross_tenant(Backend::Postgres).await;
}
