//! What guards self-registration: rate limits per email and per address, the wall between
//! spaces, and confirmations racing each other.

use serde_json::{Value, json};
use spaces_tests::Backend;
use spaces_tests::app::{code, ok};
use spaces_tests::fixtures::{self, unique};

use super::{
    CONFIRM, NEW_PASSWORD, READ, SET, confirm, confirmation_token, messages_to, open, reason,
    register, set, start,
};

async fn rate_limits(backend: Backend) {
    let app = start(backend).await;
    let op = fixtures::operator(&app).await;
    let c = fixtures::campus(&app, &op).await;
    ok(&set(&app, &c, "OPEN", &[]).await);
    let email = format!("{}@jobs.test", unique("flood"));
    for _ in 0..3 {
        ok(&register(&app, &c.slug, &email).await);
    }
    let v = register(&app, &c.slug, &email).await;
    assert_eq!(code(&v), "RATE_LIMITED", "three per email per window: {v}");
    let retry = v["errors"][0]["extensions"]["retryAfterSeconds"]
        .as_u64()
        .unwrap();
    assert!((1..=900).contains(&retry), "{v}");
    assert_eq!(messages_to(&app, &c.slug, &email).await.len(), 3);
    // From one address: ten over every email (the refused one above counted too).
    for i in 0..6 {
        let other = format!("{}-{i}@jobs.test", unique("many"));
        ok(&register(&app, &c.slug, &other).await);
    }
    let v = register(&app, &c.slug, &format!("{}@jobs.test", unique("one-more"))).await;
    assert_eq!(code(&v), "RATE_LIMITED", "ten per address per window: {v}");
    // Another space's counters are its own.
    let b = fixtures::campus(&app, &op).await;
    ok(&set(&app, &b, "OPEN", &[]).await);
    ok(&register(&app, &b.slug, &email).await);
}

#[tokio::test]
async fn registration_is_rate_limited_per_email_and_address_on_sqlite() {
    rate_limits(Backend::Sqlite).await;
}

#[tokio::test]
async fn registration_is_rate_limited_per_email_and_address_on_postgres() {
    rate_limits(Backend::Postgres).await;
}

async fn walls(backend: Backend) {
    let app = start(backend).await;
    let op = fixtures::operator(&app).await;
    let a = fixtures::campus(&app, &op).await;
    let b = fixtures::campus(&app, &op).await;
    ok(&set(&app, &a, "OPEN", &[]).await);
    let email = format!("{}@jobs.test", unique("wall"));
    ok(&register(&app, &a.slug, &email).await);
    let token = confirmation_token(&app, &a.slug, &email).await;
    let before = app.dump_tenant(&b.id).await;

    // B is off: A's setting is A's.
    let v = app.gql(Some(&b.slug), None, READ, json!({})).await;
    assert_eq!(ok(&v)["space"]["selfRegistration"]["mode"], "OFF");
    // A's admin cannot set B's.
    let v = app
        .gql(
            Some(&b.slug),
            Some(&a.admin_token),
            SET,
            json!({ "i": { "mode": "OPEN" } }),
        )
        .await;
    assert_eq!(code(&v), "UNAUTHENTICATED");
    // A's token in B: the same answer as a token B never issued, on the page and the API.
    ok(&set(&app, &b, "OPEN", &[]).await);
    let foreign = confirm(&app, &b.slug, &token).await;
    let unknown = confirm(&app, &b.slug, &"x".repeat(43)).await;
    assert_eq!(code(&foreign), "BAD_USER_INPUT");
    assert_eq!(
        foreign["errors"][0]["message"],
        unknown["errors"][0]["message"]
    );
    assert_eq!(reason(&foreign), reason(&unknown));
    let page = open(
        &app,
        &format!(
            "http://{}.example.org/confirm-registration?token={token}",
            b.slug
        ),
    )
    .await;
    assert_eq!(page.status, 400);
    assert!(page.body.contains("not valid here"), "{}", page.body);
    let mut after = app.dump_tenant(&b.id).await;
    // Only B's own setting changed (it was opened above).
    after.remove("registration_settings");
    let mut before = before;
    before.remove("registration_settings");
    assert_eq!(before, after, "nothing of B changed");
    // The token still works where it was issued.
    let v = confirm(&app, &a.slug, &token).await;
    assert_eq!(
        ok(&v)["confirmRegistration"]["person"]["email"],
        email.as_str()
    );
    // B's admin sees B's setting only.
    let v = app
        .gql(Some(&b.slug), Some(&b.admin_token), READ, json!({}))
        .await;
    assert_eq!(
        ok(&v)["space"]["selfRegistration"],
        json!({ "mode": "OPEN", "domains": [] })
    );
}

#[tokio::test]
async fn a_token_of_one_space_does_nothing_in_another_on_sqlite() {
    walls(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_token_of_one_space_does_nothing_in_another_on_postgres() {
    walls(Backend::Postgres).await;
}

/// Ten confirmations of two links at once create one person per link, on PostgreSQL where they truly
/// run together; the first confirmation of a space makes one independent learners organisation
/// even when two different links race.
#[tokio::test]
async fn racing_confirmations_create_one_person_on_postgres() {
    let app = start(Backend::Postgres).await;
    let op = fixtures::operator(&app).await;
    let c = fixtures::campus(&app, &op).await;
    ok(&set(&app, &c, "OPEN", &[]).await);
    let one = format!("{}@jobs.test", unique("race"));
    let two = format!("{}@jobs.test", unique("race"));
    ok(&register(&app, &c.slug, &one).await);
    ok(&register(&app, &c.slug, &two).await);
    let t1 = confirmation_token(&app, &c.slug, &one).await;
    let t2 = confirmation_token(&app, &c.slug, &two).await;
    let mut tries = tokio::task::JoinSet::new();
    for i in 0..10 {
        let token = if i % 2 == 0 { t1.clone() } else { t2.clone() };
        let (client, base, slug) = (app.client.clone(), app.base.clone(), c.slug.clone());
        tries.spawn(async move {
            let r = client
                .post(format!("{base}/graphql"))
                .header("X-Tenant", slug)
                .json(&json!({ "query": CONFIRM, "variables": { "i": { "token": token, "password": NEW_PASSWORD } } }))
                .send()
                .await
                .unwrap();
            r.json::<Value>().await.unwrap()
        });
    }
    let answers = tries.join_all().await;
    let won = answers.iter().filter(|v| v.get("errors").is_none()).count();
    assert_eq!(won, 2, "one per link: {answers:#?}");
    for v in answers.iter().filter(|v| v.get("errors").is_some()) {
        assert_eq!(code(v), "BAD_USER_INPUT", "{v}");
    }
    let dump = app.dump_tenant(&c.id).await;
    for email in [&one, &two] {
        assert_eq!(
            dump["people"]
                .iter()
                .filter(|p| p["email"] == email.as_str())
                .count(),
            1
        );
    }
    let orgs = dump["organisations"]
        .iter()
        .filter(|o| o["name"] == "Independent learners")
        .count();
    assert_eq!(orgs, 1);
    // Signing in works for each.
    ok(&fixtures::sign_in(&app, &c.slug, &one, NEW_PASSWORD).await);
}
