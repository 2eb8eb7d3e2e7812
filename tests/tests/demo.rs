//! `serve --demo` shows the product: seeded once, on both backends, with billing at work (a
//! subscription with most seats used, a paid invoice and an issued one, a balanced ledger).

use serde_json::{Value, json};
use spaces_tests::app::ok;
use spaces_tests::fixtures::sign_in;
use spaces_tests::{Backend, TestApp};

async fn the_demo_shows_billing(backend: Backend) {
    let app = TestApp::start(backend).await;
    let printed = spaces_gateway::demo::seed(&app.state)
        .await
        .unwrap()
        .expect("a fresh server seeds the demo");
    assert!(printed.contains("OCAPIAT-F-"), "{printed}");
    assert!(
        spaces_gateway::demo::seed(&app.state)
            .await
            .unwrap()
            .is_none(),
        "seeded once"
    );
    let s = sign_in(
        &app,
        "ocapiat",
        "admin@ocapiat.localhost",
        spaces_gateway::demo::DEMO_PASSWORD,
    )
    .await;
    let token = ok(&s)["signIn"]["accessToken"].as_str().unwrap().to_owned();
    let v = app
        .gql(
            Some("ocapiat"),
            Some(&token),
            "{ subscription { seats used status } invoices(first: 10) { edges { node { number status } } } ledgerBalances { balance { amountMinor } } }",
            json!({}),
        )
        .await;
    let d = ok(&v);
    assert_eq!(d["subscription"]["status"], "ACTIVE");
    let (seats, used) = (
        d["subscription"]["seats"].as_i64().unwrap(),
        d["subscription"]["used"].as_i64().unwrap(),
    );
    assert!(
        used * 2 > seats && used < seats,
        "most seats used: {used} of {seats}"
    );
    let states: Vec<&str> = d["invoices"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["status"].as_str().unwrap())
        .collect();
    assert!(
        states.contains(&"PAID") && states.contains(&"ISSUED"),
        "{states:?}"
    );
    let sum: i64 = d["ledgerBalances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b: &Value| b["balance"]["amountMinor"].as_i64().unwrap())
        .sum();
    assert_eq!(sum, 0, "the ledger balances");
    app.stop().await;
}

#[tokio::test]
async fn the_demo_shows_billing_on_sqlite() {
    the_demo_shows_billing(Backend::Sqlite).await;
}

#[tokio::test]
async fn the_demo_shows_billing_on_postgres() {
    the_demo_shows_billing(Backend::Postgres).await;
}
