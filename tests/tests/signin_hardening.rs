//! Sign-in hardening: hashing outside transactions in bounded slots, hashing mutations alone in
//! their request, limits by (account, address) behind trusted proxies, and Redis as a soft
//! dependency. Keys and sessions are in `keys_sessions`.

use std::time::Duration;

use serde_json::{Value, json};
use spaces_tenants::auth::password::Hasher;
use spaces_tests::app::{code, ok};
use spaces_tests::fixtures::{self, PASSWORD};
use spaces_tests::redis_server::RedisServer;
use spaces_tests::{Backend, TestApp};

const VIEWER: &str = "{ viewer { id email } }";
const SIGN_IN: &str = "mutation($i: SignInInput!) { signIn(input: $i) { accessToken refreshToken person { id email } } }";
const CHANGE_PASSWORD: &str = "mutation($i: ChangePasswordInput!) { changePassword(input: $i) }";

/// A pool whose waiters never time out while a test holds its slots: what the tests check then
/// cannot depend on how fast the machine is.
fn patient_hasher(slots: usize, queue: usize) -> Hasher {
    Hasher::new(slots, queue, Duration::from_secs(600))
}

async fn sign_in_from(
    app: &TestApp,
    slug: &str,
    email: &str,
    password: &str,
    forwarded: &str,
) -> Value {
    app.client
        .post(format!("{}/graphql", app.base))
        .header("X-Tenant", slug)
        .header("X-Forwarded-For", forwarded)
        .json(&json!({ "query": SIGN_IN, "variables": { "i": { "email": email, "password": password } } }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn spawn_sign_in(app: &TestApp, slug: &str, email: &str) -> tokio::task::JoinHandle<Value> {
    let (client, url) = (app.client.clone(), format!("{}/graphql", app.base));
    let body =
        json!({ "query": SIGN_IN, "variables": { "i": { "email": email, "password": PASSWORD } } });
    let slug = slug.to_owned();
    tokio::spawn(async move {
        client
            .post(url)
            .header("X-Tenant", slug)
            .json(&body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    })
}

/// Every hashing slot parked, sign-ins queued behind them: an authenticated query still
/// answers on a pool of two connections (on SQLite, of one), because a sign-in holds no
/// transaction while it waits for or runs its hash.
async fn parked_slots(backend: Backend) {
    let app = TestApp::start_with_hasher(
        backend,
        |c| c.db_max_connections = 2,
        Some(patient_hasher(2, 16)),
    )
    .await;
    let op = fixtures::operator(&app).await;
    let c = fixtures::campus(&app, &op).await;
    let hasher = app.state.deps.hasher.clone();
    let parked = hasher.park_all().await.unwrap();
    // More waiting sign-ins than the pool has connections.
    let waiting: Vec<_> = (0..3)
        .map(|_| spawn_sign_in(&app, &c.slug, &c.admin_email))
        .collect();
    hasher.until_waiting(3).await;
    let v = app
        .gql(Some(&c.slug), Some(&c.admin_token), VIEWER, json!({}))
        .await;
    assert_eq!(ok(&v)["viewer"]["email"], c.admin_email.as_str(), "{v}");
    // A query needing a write transaction too.
    let v = app
        .gql(
            Some(&c.slug),
            Some(&c.admin_token),
            "mutation($i: CreateOrganisationInput!) { createOrganisation(input: $i) { id } }",
            json!({ "i": { "parentId": c.root_id, "kind": "COMPANY", "name": "Parked Ltd", "sizeBand": "FROM_11_TO_49" } }),
        )
        .await;
    ok(&v);
    assert_eq!(
        hasher.waiting(),
        3,
        "the sign-ins are still waiting for a slot"
    );
    drop(parked);
    for w in waiting {
        let v = w.await.unwrap();
        assert_eq!(
            ok(&v)["signIn"]["person"]["email"],
            c.admin_email.as_str(),
            "{v}"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn parked_hashing_slots_hold_no_connection_on_sqlite() {
    parked_slots(Backend::Sqlite).await;
}

#[tokio::test]
async fn parked_hashing_slots_hold_no_connection_on_postgres() {
    parked_slots(Backend::Postgres).await;
}

/// Past the queue's length a sign-in is turned away at once with UNAVAILABLE and a retry hint,
/// and the queued one goes through once a slot frees.
async fn full_queue(backend: Backend) {
    let app = TestApp::start_with_hasher(backend, |_| {}, Some(patient_hasher(1, 1))).await;
    let op = fixtures::operator(&app).await;
    let c = fixtures::campus(&app, &op).await;
    let hasher = app.state.deps.hasher.clone();
    let parked = hasher.park_all().await.unwrap();
    let queued = spawn_sign_in(&app, &c.slug, &c.admin_email);
    hasher.until_waiting(1).await;
    let v = fixtures::sign_in(&app, &c.slug, &c.admin_email, PASSWORD).await;
    assert_eq!(code(&v), "UNAVAILABLE", "{v}");
    assert!(
        v["errors"][0]["extensions"]["retryAfterSeconds"]
            .as_u64()
            .unwrap_or(0)
            >= 1,
        "{v}"
    );
    assert!(v["data"].is_null(), "{v}");
    drop(parked);
    let v = queued.await.unwrap();
    assert_eq!(
        ok(&v)["signIn"]["person"]["email"],
        c.admin_email.as_str(),
        "{v}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_full_hashing_queue_answers_unavailable_on_sqlite() {
    full_queue(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_full_hashing_queue_answers_unavailable_on_postgres() {
    full_queue(Backend::Postgres).await;
}

async fn post_raw(app: &TestApp, slug: &str, token: Option<&str>, body: &Value) -> Value {
    let mut req = app
        .client
        .post(format!("{}/graphql", app.base))
        .header("X-Tenant", slug)
        .json(body);
    if let Some(t) = token {
        req = req.header("Authorization", format!("Bearer {t}"));
    }
    req.send().await.unwrap().json().await.unwrap()
}

fn assert_not_alone(v: &Value, what: &str) {
    assert_eq!(code(v), "BAD_USER_INPUT", "{what}: {v}");
    assert_eq!(
        v["errors"][0]["extensions"]["field"], "query",
        "{what}: {v}"
    );
    assert!(
        v["errors"][0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("only operation"),
        "{what}: {v}"
    );
}

/// A sign-in, an invitation acceptance or a password change batched with other operations, or
/// beside another root field, is refused and issues nothing; alone it works.
async fn must_be_alone(backend: Backend) {
    let app = TestApp::start(backend).await;
    let op = fixtures::operator(&app).await;
    let c = fixtures::campus(&app, &op).await;
    let sign_in = json!({ "query": SIGN_IN, "variables": { "i": { "email": c.admin_email, "password": PASSWORD } } });
    // The outbox worker may mark the invitation sent meanwhile: compare everything else.
    let dump = async || {
        let mut d = app.dump_tenant(&c.id).await;
        d.remove("outbox");
        d
    };
    let before = dump().await;

    let v = post_raw(
        &app,
        &c.slug,
        None,
        &json!([sign_in, { "query": "{ space { displayName } }" }]),
    )
    .await;
    assert_not_alone(&v[0], "signIn batched with a query");
    assert!(v[0]["data"].is_null(), "{v}");
    assert!(
        v[1]["data"]["space"]["displayName"].is_string(),
        "the other operation answers: {v}"
    );

    let v = post_raw(&app, &c.slug, None, &json!([sign_in, sign_in])).await;
    assert_not_alone(&v[0], "two sign-ins in a batch");
    assert_not_alone(&v[1], "two sign-ins in a batch");

    let two_fields = format!(
        "mutation {{ a: signIn(input: {{ email: \"{0}\", password: \"{PASSWORD}\" }}) {{ accessToken }} b: signIn(input: {{ email: \"{0}\", password: \"{PASSWORD}\" }}) {{ accessToken }} }}",
        c.admin_email
    );
    let v = post_raw(&app, &c.slug, None, &json!({ "query": two_fields })).await;
    assert_not_alone(&v, "two root fields");

    // A fragment cannot hide a second root field.
    let fragment = format!(
        "mutation {{ ...F }} fragment F on Mutation {{ signIn(input: {{ email: \"{0}\", password: \"{PASSWORD}\" }}) {{ accessToken }} signOut(refreshToken: \"x\") }}",
        c.admin_email
    );
    let v = post_raw(&app, &c.slug, None, &json!({ "query": fragment })).await;
    assert_not_alone(&v, "a second root field in a fragment");

    let change = json!({ "query": CHANGE_PASSWORD, "variables": { "i": { "currentPassword": PASSWORD, "newPassword": "another password entirely" } } });
    let v = post_raw(
        &app,
        &c.slug,
        Some(&c.admin_token),
        &json!([change, { "query": VIEWER }]),
    )
    .await;
    assert_not_alone(&v[0], "changePassword batched");

    let accept = json!({ "query": "mutation($i: AcceptInvitationInput!) { acceptInvitation(input: $i) { accessToken } }", "variables": { "i": { "token": "t", "password": "a long enough password" } } });
    let v = post_raw(
        &app,
        &c.slug,
        None,
        &json!([accept, { "query": "{ space { displayName } }" }]),
    )
    .await;
    assert_not_alone(&v[0], "acceptInvitation batched");

    assert_eq!(before, dump().await, "nothing issued, nothing changed");

    // Another operation in the same document, not chosen to run, does not count.
    let doc = format!("{SIGN_IN} query Other {{ space {{ displayName }} }}");
    let v = post_raw(
        &app,
        &c.slug,
        None,
        &json!({ "query": doc.replacen("mutation(", "mutation SignIn(", 1), "operationName": "SignIn", "variables": { "i": { "email": c.admin_email, "password": PASSWORD } } }),
    )
    .await;
    assert_eq!(
        ok(&v)["signIn"]["person"]["email"],
        c.admin_email.as_str(),
        "{v}"
    );
    app.stop().await;
}

#[tokio::test]
async fn hashing_mutations_must_be_alone_in_their_request_on_sqlite() {
    must_be_alone(Backend::Sqlite).await;
}

#[tokio::test]
async fn hashing_mutations_must_be_alone_in_their_request_on_postgres() {
    must_be_alone(Backend::Postgres).await;
}

/// An attacker at address X exhausts the limit of (account, X); the owner, at address Y, still
/// signs in. Behind a trusted proxy the address is the right-most untrusted X-Forwarded-For
/// entry, so the attacker cannot pick another by writing one.
async fn two_addresses(backend: Backend) {
    let app = TestApp::start_with(backend, |c| {
        c.trusted_proxies = vec!["127.0.0.0/8".parse().unwrap()];
    })
    .await;
    let op = fixtures::operator(&app).await;
    let c = fixtures::campus(&app, &op).await;
    let attacker = "198.51.100.7";
    let owner = "2001:db8:7:7::1234";
    let limit = spaces_tenants::auth::limiter::PAIR_MAX_FAILURES;
    for i in 0..limit {
        let v = sign_in_from(
            &app,
            &c.slug,
            &c.admin_email,
            &format!("guess {i}"),
            attacker,
        )
        .await;
        assert_eq!(code(&v), "UNAUTHENTICATED", "guess {i}: {v}");
    }
    let v = sign_in_from(&app, &c.slug, &c.admin_email, PASSWORD, attacker).await;
    assert_eq!(
        code(&v),
        "RATE_LIMITED",
        "even the right password, from X: {v}"
    );
    // A forged left-most entry changes nothing: the proxy appended X on the right.
    let forged = format!("203.0.113.99, {attacker}");
    let v = sign_in_from(&app, &c.slug, &c.admin_email, PASSWORD, &forged).await;
    assert_eq!(code(&v), "RATE_LIMITED", "X behind a forged entry: {v}");
    // The header read over every line: X on a line of its own is still X.
    let v = app
        .client
        .post(format!("{}/graphql", app.base))
        .header("X-Tenant", &c.slug)
        .header("X-Forwarded-For", "203.0.113.99")
        .header("X-Forwarded-For", attacker)
        .json(&json!({ "query": SIGN_IN, "variables": { "i": { "email": c.admin_email, "password": PASSWORD } } }))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(code(&v), "RATE_LIMITED", "X on a second header line: {v}");

    let v = sign_in_from(&app, &c.slug, &c.admin_email, PASSWORD, owner).await;
    assert_eq!(
        ok(&v)["signIn"]["person"]["email"],
        c.admin_email.as_str(),
        "the owner, from Y, signs in: {v}"
    );
    // The operator's sign-in has the same limits.
    let op_email = format!("{}@platform.test", fixtures::unique("op"));
    spaces_tenants::spaces::operators::create(
        &app.state.deps.db,
        &op_email,
        spaces_tenants::values::Password::parse("p", PASSWORD).unwrap(),
    )
    .await
    .unwrap();
    let op_sign_in = |password: String, from: &'static str| {
        let (client, url, email) = (
            app.client.clone(),
            format!("{}/graphql", app.base),
            op_email.clone(),
        );
        async move {
            client
                .post(url)
                .header("X-Forwarded-For", from)
                .json(&json!({ "query": "mutation($i: OperatorSignInInput!) { operatorSignIn(input: $i) { accessToken } }", "variables": { "i": { "email": email, "password": password } } }))
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    for i in 0..limit {
        let v = op_sign_in(format!("guess {i}"), "198.51.100.8").await;
        assert_eq!(code(&v), "UNAUTHENTICATED", "operator guess {i}: {v}");
    }
    let v = op_sign_in(PASSWORD.into(), "198.51.100.8").await;
    assert_eq!(code(&v), "RATE_LIMITED", "{v}");
    let v = op_sign_in(PASSWORD.into(), "198.51.100.9").await;
    assert!(ok(&v)["operatorSignIn"]["accessToken"].is_string(), "{v}");
    app.stop().await;
}

#[tokio::test]
async fn an_attacker_elsewhere_does_not_lock_the_owner_out_on_sqlite() {
    two_addresses(Backend::Sqlite).await;
}

#[tokio::test]
async fn an_attacker_elsewhere_does_not_lock_the_owner_out_on_postgres() {
    two_addresses(Backend::Postgres).await;
}

async fn readyz(app: &TestApp) -> (u16, Value) {
    let r = app
        .client
        .get(format!("{}/readyz", app.base))
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

async fn metrics(app: &TestApp) -> String {
    app.client
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .find(|l| l.starts_with(name) && l[name.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(f64::NAN)
}

async fn signin_keys_in(redis_url: &str) -> Vec<String> {
    let client = redis::Client::open(redis_url).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    redis::cmd("KEYS")
        .arg("*:signin:*")
        .query_async(&mut conn)
        .await
        .unwrap()
}

/// Redis stopped: sign-in still works and is still limited (per instance), readiness stays
/// 200 and says Redis is unreachable, the metric shows the fallback. Redis back: counting
/// returns to it.
#[tokio::test]
async fn sign_in_and_readiness_survive_redis_going_away_on_postgres() {
    let mut redis = tokio::task::spawn_blocking(RedisServer::start)
        .await
        .unwrap()
        .unwrap();
    let url = redis.url();
    let app = TestApp::start_with(Backend::Postgres, |c| c.redis_url = Some(url.clone())).await;
    let op = fixtures::operator(&app).await;
    let c = fixtures::campus(&app, &op).await;
    let (status, body) = readyz(&app).await;
    assert_eq!(
        (status, body["redis"].as_str()),
        (200, Some("ok")),
        "{body}"
    );

    let mut redis = tokio::task::spawn_blocking(move || {
        redis.stop();
        redis
    })
    .await
    .unwrap();
    let s = fixtures::sign_in(&app, &c.slug, &c.admin_email, PASSWORD).await;
    assert_eq!(
        ok(&s)["signIn"]["person"]["email"],
        c.admin_email.as_str(),
        "{s}"
    );
    let (status, body) = readyz(&app).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["redis"], "unreachable", "{body}");
    assert_eq!(body["database"], "ok", "{body}");
    let m = metrics(&app).await;
    assert_eq!(metric(&m, "spaces_limiter_degraded"), 1.0, "{m}");
    assert!(metric(&m, "spaces_limiter_fallback_total") >= 3.0, "{m}");
    // Still limited while Redis is away, by this instance.
    let limit = spaces_tenants::auth::limiter::PAIR_MAX_FAILURES;
    for i in 0..limit {
        let v = fixtures::sign_in(&app, &c.slug, &c.admin_email, &format!("guess {i}")).await;
        assert_eq!(code(&v), "UNAUTHENTICATED", "guess {i}: {v}");
    }
    let v = fixtures::sign_in(&app, &c.slug, &c.admin_email, PASSWORD).await;
    assert_eq!(code(&v), "RATE_LIMITED", "{v}");

    let redis = tokio::task::spawn_blocking(move || {
        redis.restart().unwrap();
        redis
    })
    .await
    .unwrap();
    assert!(
        signin_keys_in(&url).await.is_empty(),
        "a restarted Redis is empty"
    );
    // The connection comes back on its own; the first calls may still find it broken, so
    // sign in (as another person's address would) until a counter lands in Redis.
    let d = fixtures::campus(&app, &op).await;
    let mut back = false;
    for _ in 0..20 {
        let v = fixtures::sign_in(&app, &d.slug, &d.admin_email, PASSWORD).await;
        assert_eq!(
            ok(&v)["signIn"]["person"]["email"],
            d.admin_email.as_str(),
            "{v}"
        );
        if !signin_keys_in(&url).await.is_empty() {
            back = true;
            break;
        }
    }
    assert!(back, "sign-in counters are kept in Redis again");
    assert_eq!(metric(&metrics(&app).await, "spaces_limiter_degraded"), 0.0);
    let (status, body) = readyz(&app).await;
    assert_eq!(
        (status, body["redis"].as_str()),
        (200, Some("ok")),
        "{body}"
    );
    app.stop().await;
    drop(redis);
}
