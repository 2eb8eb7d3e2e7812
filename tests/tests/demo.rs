//! `serve --demo` shows the product: seeded once, on both backends, with billing at work (a
//! subscription with most seats used, a paid invoice and an issued one, a balanced ledger), and
//! vouchers (one redeemed, one printed that a newcomer redeems), and an LRS credential printed
//! with a curl line that a newcomer runs.

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

/// The printed code and the edition it is tried on, as a newcomer reads them.
fn code_to_try(printed: &str) -> (String, String) {
    let line = printed
        .lines()
        .find(|l| l.contains("a code to try"))
        .unwrap_or_else(|| panic!("no code to try in {printed}"));
    let quoted: Vec<&str> = line.split('"').skip(1).step_by(2).collect();
    assert_eq!(quoted.len(), 2, "{line}");
    (quoted[0].to_owned(), quoted[1].to_owned())
}

async fn the_demo_shows_vouchers(backend: Backend) {
    let app = TestApp::start(backend).await;
    let printed = spaces_gateway::demo::seed(&app.state)
        .await
        .unwrap()
        .expect("a fresh server seeds the demo");
    let (edition, code) = code_to_try(&printed);
    const FUNDING: &str = "funding { payer amount { amountMinor } status }";
    // Inès's seat was redeemed by HR: the fund pays 500 EUR, her company the rest.
    let s = sign_in(
        &app,
        "ocapiat",
        "ines@durand.localhost",
        spaces_gateway::demo::DEMO_PASSWORD,
    )
    .await;
    let ines = ok(&s)["signIn"]["accessToken"].as_str().unwrap().to_owned();
    let v = app
        .gql(
            Some("ocapiat"),
            Some(&ines),
            &format!("{{ myEnrolments(first: 20) {{ edges {{ node {{ {FUNDING} }} }} }} }}"),
            json!({}),
        )
        .await;
    let payers: Vec<Value> = ok(&v)["myEnrolments"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["funding"].clone())
        .filter(|f| f.as_array().is_some_and(|f| !f.is_empty()))
        .collect();
    assert_eq!(
        payers,
        vec![json!([
            { "payer": "FUNDER", "amount": { "amountMinor": 50_000 }, "status": "confirmed" },
            { "payer": "COMPANY", "amount": { "amountMinor": 4_000 }, "status": "invoiced" }
        ])]
    );
    // A newcomer tries the printed code as Léa: the session is hers, paid by the fund.
    let s = sign_in(
        &app,
        "ocapiat",
        "lea@durand.localhost",
        spaces_gateway::demo::DEMO_PASSWORD,
    )
    .await;
    let lea = ok(&s)["signIn"]["accessToken"].as_str().unwrap().to_owned();
    let try_it = format!(
        "mutation($e: ID!, $c: [String!]) {{ selfEnrol(editionId: $e, voucherCodes: $c) {{ status {FUNDING} }} }}"
    );
    let v = app
        .gql(
            Some("ocapiat"),
            Some(&lea),
            &try_it,
            json!({ "e": edition, "c": [code] }),
        )
        .await;
    assert_eq!(
        ok(&v)["selfEnrol"],
        json!({ "status": "ACTIVE", "funding": [
            { "payer": "FUNDER", "amount": { "amountMinor": 48_000 }, "status": "confirmed" }
        ] })
    );
    app.stop().await;
}

#[tokio::test]
async fn the_demo_shows_vouchers_on_sqlite() {
    the_demo_shows_vouchers(Backend::Sqlite).await;
}

#[tokio::test]
async fn the_demo_shows_vouchers_on_postgres() {
    the_demo_shows_vouchers(Backend::Postgres).await;
}

/// The key and secret in the printed curl line (`-u 'KEY:SECRET'`), and the paths it tries.
fn lrs_to_try(printed: &str) -> (String, String, Vec<String>) {
    let line = printed
        .lines()
        .find(|l| l.contains("try the LRS: curl"))
        .unwrap_or_else(|| panic!("no LRS curl line in {printed}"));
    let user = line
        .split("-u '")
        .nth(1)
        .and_then(|r| r.split('\'').next())
        .unwrap_or_else(|| panic!("no -u in {line}"));
    let (key, secret) = user.split_once(':').unwrap();
    let paths = line
        .split_whitespace()
        .filter_map(|w| w.find("/xapi/").map(|i| w[i..].to_owned()))
        .collect();
    (key.to_owned(), secret.to_owned(), paths)
}

async fn the_demo_prints_an_lrs_credential(backend: Backend) {
    let app = TestApp::start(backend).await;
    let printed = spaces_gateway::demo::seed(&app.state)
        .await
        .unwrap()
        .expect("a fresh server seeds the demo");
    let (key, secret, paths) = lrs_to_try(&printed);
    assert_eq!(paths, ["/xapi/about", "/xapi/statements"], "{printed}");
    // As the printed curl does: about without credentials, then the statements it may read.
    let r = app
        .client
        .get(format!("{}{}", app.base, paths[0]))
        .header("X-Tenant", "ocapiat")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({ "version": ["1.0.3"] })
    );
    for (secret, status) in [(secret.as_str(), 200), ("wrong", 401)] {
        let r = app
            .client
            .get(format!("{}{}", app.base, paths[1]))
            .basic_auth(&key, Some(secret))
            .header("X-Tenant", "ocapiat")
            .header("X-Experience-API-Version", "1.0.3")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), status, "{secret}");
        assert_eq!(r.headers()["x-experience-api-version"], "1.0.3");
        if status == 200 {
            let page: Value = r.json().await.unwrap();
            assert!(page["statements"].is_array(), "{page}");
        }
    }

    // The progress the demo's LMS reported, as Léa sees it: HACCP half-way.
    let s = sign_in(
        &app,
        "ocapiat",
        spaces_gateway::demo::LEARNER_EMAIL,
        spaces_gateway::demo::DEMO_PASSWORD,
    )
    .await;
    let lea = ok(&s)["signIn"]["accessToken"].as_str().unwrap().to_owned();
    let haccp = async || {
        let v = app
            .gql(
                Some("ocapiat"),
                Some(&lea),
                "{ viewer { enrolments { edges { node { status grade edition { title } progress { requiredDone requiredTotal } } } } } }",
                json!({}),
            )
            .await;
        ok(&v)["viewer"]["enrolments"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"].clone())
            .find(|n| {
                n["edition"]["title"]
                    .as_str()
                    .unwrap_or("")
                    .contains("HACCP")
                    && n["progress"]["requiredTotal"] == 2
            })
            .unwrap_or_else(|| panic!("no HACCP enrolment in {v}"))
    };
    let before = haccp().await;
    assert_eq!(before["status"], "ACTIVE");
    assert_eq!(before["progress"]["requiredDone"], 1);
    // The printed statement, posted as printed: Léa's HACCP completes.
    let line = printed
        .lines()
        .find(|l| l.contains("post a statement"))
        .unwrap_or_else(|| panic!("no statement to post in {printed}"));
    let body = line
        .split(" -d '")
        .nth(1)
        .and_then(|b| b.strip_suffix('\''))
        .unwrap_or_else(|| panic!("no body in {line}"));
    let r = app
        .client
        .post(format!("{}/xapi/statements", app.base))
        .basic_auth(&key, Some(&secret))
        .header("X-Tenant", "ocapiat")
        .header("X-Experience-API-Version", "1.0.3")
        .header("Content-Type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let after = haccp().await;
    assert_eq!(after["status"], "COMPLETED", "{after}");
    assert_eq!(after["grade"], 84.0);
    app.stop().await;
}

#[tokio::test]
async fn the_demo_prints_an_lrs_credential_on_sqlite() {
    the_demo_prints_an_lrs_credential(Backend::Sqlite).await;
}

#[tokio::test]
async fn the_demo_prints_an_lrs_credential_on_postgres() {
    the_demo_prints_an_lrs_credential(Backend::Postgres).await;
}

/// The certificate id in the printed verify line (`.../verify/<id>`).
fn certificate_to_try(printed: &str) -> String {
    let line = printed
        .lines()
        .find(|l| l.contains("/verify/"))
        .unwrap_or_else(|| panic!("no certificate to verify in {printed}"));
    let after = line.split("/verify/").nth(1).unwrap();
    after
        .chars()
        .take_while(|c| c.is_ascii_hexdigit() || *c == '-')
        .collect()
}

async fn the_demo_prints_a_signed_certificate(backend: Backend) {
    let app = TestApp::start(backend).await;
    let printed = spaces_gateway::demo::seed(&app.state)
        .await
        .unwrap()
        .expect("a fresh server seeds the demo");
    assert!(printed.contains("Nora's \"HACCP"), "{printed}");
    let id = certificate_to_try(&printed);
    // As the printed curls do: the verdict, then the JWT presented back.
    let v: Value = app
        .client
        .get(format!("{}/verify/{id}", app.base))
        .header("X-Tenant", "ocapiat")
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["valid"], true, "{v}");
    // Nora made it public: her name shows.
    assert_eq!(v["credential"]["learner"], "Nora Biscuiterie Leroy", "{v}");
    let jwt = app
        .client
        .get(format!("{}/credentials/{id}.jwt", app.base))
        .header("X-Tenant", "ocapiat")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let v: Value = app
        .client
        .post(format!("{}/verify", app.base))
        .header("X-Tenant", "ocapiat")
        .header("Content-Type", "application/vc+jwt")
        .body(jwt.clone())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["valid"], true, "{v}");
    let payload = crate::certificates::decode(jwt.split('.').nth(1).unwrap());
    assert_eq!(payload["credentialSubject"]["identityVerified"], true);
    // The campus's uploaded logo brands its issuer profile.
    let logo = payload["issuer"]["image"]["id"].as_str().unwrap();
    assert!(logo.ends_with("/logo"), "{payload}");
    let r = app
        .client
        .get(format!("{}/logo", app.base))
        .header("X-Tenant", "ocapiat")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-type"], "image/png");
    app.stop().await;
}

#[tokio::test]
async fn the_demo_prints_a_signed_certificate_on_sqlite() {
    the_demo_prints_a_signed_certificate(Backend::Sqlite).await;
}

#[tokio::test]
async fn the_demo_prints_a_signed_certificate_on_postgres() {
    the_demo_prints_a_signed_certificate(Backend::Postgres).await;
}
