//! `Idempotency-Key` on POST /graphql: one execution per key however many copies race, the
//! first answer replayed byte for byte, another request under the same key refused, and keys
//! that belong to one caller in one space.

use reqwest::StatusCode;
use serde_json::{Value, json};
use spaces_tests::app::ok;
use spaces_tests::fixtures::{campus, member, operator, unique};
use spaces_tests::{Backend, TestApp};

const CREATE_ORG: &str =
    "mutation($i: CreateOrganisationInput!) { createOrganisation(input: $i) { id name } }";

struct Answer {
    status: StatusCode,
    replayed: bool,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }

    fn code(&self) -> String {
        spaces_tests::app::code(&self.json())
    }
}

async fn post(
    app: &TestApp,
    tenant: Option<&str>,
    token: Option<&str>,
    key: Option<&str>,
    query: &str,
    variables: Value,
) -> Answer {
    send(&app.client, &app.base, tenant, token, key, query, variables).await
}

async fn send(
    client: &reqwest::Client,
    base: &str,
    tenant: Option<&str>,
    token: Option<&str>,
    key: Option<&str>,
    query: &str,
    variables: Value,
) -> Answer {
    let mut req = client
        .post(format!("{base}/graphql"))
        .json(&json!({ "query": query, "variables": variables }));
    if let Some(t) = tenant {
        req = req.header("X-Tenant", t);
    }
    if let Some(t) = token {
        req = req.header("Authorization", format!("Bearer {t}"));
    }
    if let Some(k) = key {
        req = req.header("Idempotency-Key", k);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    let replayed = resp
        .headers()
        .get("idempotent-replayed")
        .is_some_and(|v| v == "true");
    Answer {
        status,
        replayed,
        body: resp.text().await.unwrap(),
    }
}

/// `n` copies of one request with one key, all sent at once.
async fn race(
    app: &TestApp,
    n: usize,
    tenant: &str,
    token: &str,
    key: &str,
    vars: &Value,
) -> Vec<Answer> {
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            let (client, base) = (app.client.clone(), app.base.clone());
            let (tenant, token, key, vars) = (
                tenant.to_owned(),
                token.to_owned(),
                key.to_owned(),
                vars.clone(),
            );
            tokio::spawn(async move {
                send(
                    &client,
                    &base,
                    Some(&tenant),
                    Some(&token),
                    Some(&key),
                    CREATE_ORG,
                    vars,
                )
                .await
            })
        })
        .collect();
    let mut out = Vec::with_capacity(n);
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

/// Organisations of the space with this name, as an admin lists them.
async fn named(app: &TestApp, tenant: &str, token: &str, name: &str) -> usize {
    let v = app
        .gql(
            Some(tenant),
            Some(token),
            "{ organisations(first: 100) { edges { node { name } } } }",
            json!({}),
        )
        .await;
    ok(&v)["organisations"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["node"]["name"] == name)
        .count()
}

async fn twenty_identical_calls_run_once(backend: Backend) {
    let app = TestApp::start(backend).await;
    let op = operator(&app).await;
    let c = campus(&app, &op).await;
    let name = unique("Idempotent Co ");
    let vars = json!({ "i": { "parentId": c.root_id, "kind": "COMPANY", "name": name } });
    let key = unique("key-");
    let answers = race(&app, 20, &c.slug, &c.admin_token, &key, &vars).await;
    assert_eq!(named(&app, &c.slug, &c.admin_token, &name).await, 1);
    let first: Vec<&Answer> = answers.iter().filter(|a| !a.replayed).collect();
    let ran: Vec<&&Answer> = first.iter().filter(|a| a.code().is_empty()).collect();
    assert_eq!(ran.len(), 1, "exactly one execution answered");
    let original = ran[0];
    assert_eq!(original.json()["data"]["createOrganisation"]["name"], name);
    for a in &answers {
        if a.replayed {
            assert_eq!(
                a.body, original.body,
                "a replay is the first answer, byte for byte"
            );
            assert_eq!(a.status, original.status);
        } else if !std::ptr::eq(a, *original) {
            assert_eq!(a.code(), "CONFLICT", "{}", a.body);
            assert_eq!(
                a.json()["errors"][0]["extensions"]["field"],
                "Idempotency-Key"
            );
        }
    }
    // Afterwards, every copy gets the first answer.
    let again = race(&app, 20, &c.slug, &c.admin_token, &key, &vars).await;
    for a in &again {
        assert!(a.replayed);
        assert_eq!(a.body, original.body);
    }
    // The same key with other variables is refused, and runs nothing.
    let other = unique("Other Co ");
    let a = post(
        &app,
        Some(&c.slug),
        Some(&c.admin_token),
        Some(&key),
        CREATE_ORG,
        json!({ "i": { "parentId": c.root_id, "kind": "COMPANY", "name": other } }),
    )
    .await;
    assert_eq!(a.code(), "IDEMPOTENCY_KEY_REUSED", "{}", a.body);
    assert_eq!(
        a.json()["errors"][0]["extensions"]["field"],
        "Idempotency-Key"
    );
    assert!(!a.replayed);
    assert_eq!(named(&app, &c.slug, &c.admin_token, &other).await, 0);
    assert_eq!(named(&app, &c.slug, &c.admin_token, &name).await, 1);
}

#[tokio::test]
async fn twenty_identical_calls_run_once_on_sqlite() {
    twenty_identical_calls_run_once(Backend::Sqlite).await;
}

#[tokio::test]
async fn twenty_identical_calls_run_once_on_postgres() {
    twenty_identical_calls_run_once(Backend::Postgres).await;
}

async fn keys_belong_to_one_caller_in_one_space(backend: Backend) {
    let app = TestApp::start(backend).await;
    let op = operator(&app).await;
    let a = campus(&app, &op).await;
    let b = campus(&app, &op).await;
    let (_, second_admin) = member(
        &app,
        &a,
        &a.admin_token,
        &a.root_id,
        &format!("{}@a.test", unique("admin")),
        "TENANT_ADMIN",
    )
    .await;
    let key = unique("shared-key-");
    let name = unique("Same Name ");
    let in_a = json!({ "i": { "parentId": a.root_id, "kind": "COMPANY", "name": name } });
    let first = post(
        &app,
        Some(&a.slug),
        Some(&a.admin_token),
        Some(&key),
        CREATE_ORG,
        in_a.clone(),
    )
    .await;
    assert_eq!(first.code(), "", "{}", first.body);
    // Another caller of the same space: the key is theirs, independent of the first.
    let other_caller = post(
        &app,
        Some(&a.slug),
        Some(&second_admin),
        Some(&key),
        CREATE_ORG,
        in_a.clone(),
    )
    .await;
    assert_eq!(other_caller.code(), "", "{}", other_caller.body);
    assert!(!other_caller.replayed);
    assert_ne!(other_caller.body, first.body);
    assert_eq!(named(&app, &a.slug, &a.admin_token, &name).await, 2);
    // Another space, the same key and the very same request: B's admin gets nothing of A's
    // answer (A's root is not in B: NOT_FOUND, as for any unknown id), and it is not a replay.
    let cross = post(
        &app,
        Some(&b.slug),
        Some(&b.admin_token),
        Some(&key),
        CREATE_ORG,
        in_a.clone(),
    )
    .await;
    assert!(!cross.replayed);
    assert_ne!(cross.body, first.body);
    assert_eq!(cross.code(), "NOT_FOUND", "{}", cross.body);
    assert!(
        !cross.body.contains(
            first.json()["data"]["createOrganisation"]["id"]
                .as_str()
                .unwrap()
        )
    );
    // With B's own variables the key runs in B.
    let in_b = json!({ "i": { "parentId": b.root_id, "kind": "COMPANY", "name": name } });
    let b_own = post(
        &app,
        Some(&b.slug),
        Some(&b.admin_token),
        Some(&unique("b-")),
        CREATE_ORG,
        in_b,
    )
    .await;
    assert_eq!(b_own.code(), "", "{}", b_own.body);
    assert_eq!(named(&app, &b.slug, &b.admin_token, &name).await, 1);
    assert_eq!(named(&app, &a.slug, &a.admin_token, &name).await, 2);
    // A's token replayed on B's host is refused before any key is looked at.
    let a_on_b = post(
        &app,
        Some(&b.slug),
        Some(&a.admin_token),
        Some(&key),
        CREATE_ORG,
        in_a,
    )
    .await;
    assert_eq!(a_on_b.code(), "UNAUTHENTICATED", "{}", a_on_b.body);
    assert!(!a_on_b.replayed);
}

#[tokio::test]
async fn keys_belong_to_one_caller_in_one_space_on_sqlite() {
    keys_belong_to_one_caller_in_one_space(Backend::Sqlite).await;
}

#[tokio::test]
async fn keys_belong_to_one_caller_in_one_space_on_postgres() {
    keys_belong_to_one_caller_in_one_space(Backend::Postgres).await;
}

async fn failures_are_stored_and_keys_expire(backend: Backend) {
    let app = TestApp::start(backend).await;
    let op = operator(&app).await;
    let c = campus(&app, &op).await;
    let key = unique("fail-");
    // An execution that fails is stored with its answer too.
    let unknown_parent = uuid::Uuid::now_v7().to_string();
    let vars = json!({ "i": { "parentId": unknown_parent, "kind": "COMPANY", "name": "Nowhere" } });
    let failed = post(
        &app,
        Some(&c.slug),
        Some(&c.admin_token),
        Some(&key),
        CREATE_ORG,
        vars.clone(),
    )
    .await;
    assert_eq!(failed.code(), "NOT_FOUND", "{}", failed.body);
    let again = post(
        &app,
        Some(&c.slug),
        Some(&c.admin_token),
        Some(&key),
        CREATE_ORG,
        vars,
    )
    .await;
    assert!(again.replayed);
    assert_eq!(again.body, failed.body);
    let viewer = post(
        &app,
        Some(&c.slug),
        Some(&c.admin_token),
        Some("viewer-key"),
        "{ viewer { email } }",
        json!({}),
    )
    .await;
    assert_eq!(viewer.code(), "", "{}", viewer.body);
    // Kept for 24 hours, then forgotten: the key may serve another request.
    app.state.deps.clock.advance(chrono::Duration::hours(23));
    let early = post(
        &app,
        Some(&c.slug),
        Some(&c.admin_token),
        Some(&key),
        CREATE_ORG,
        json!({ "i": { "parentId": c.root_id, "kind": "COMPANY", "name": "Too early" } }),
    )
    .await;
    assert_eq!(early.code(), "IDEMPOTENCY_KEY_REUSED", "{}", early.body);
    app.state.deps.clock.advance(chrono::Duration::hours(2));
    let name = unique("Later Co ");
    let later = post(
        &app,
        Some(&c.slug),
        Some(&c.admin_token),
        Some(&key),
        CREATE_ORG,
        json!({ "i": { "parentId": c.root_id, "kind": "COMPANY", "name": name } }),
    )
    .await;
    assert_eq!(later.code(), "", "{}", later.body);
    assert!(!later.replayed);
    assert_eq!(named(&app, &c.slug, &c.admin_token, &name).await, 1);
    // The hourly purge deletes what expired (the viewer's key) and nothing newer.
    let db = &app.state.deps.db;
    let now = app.state.deps.clock.now();
    assert!(spaces_tenants::idempotency::purge(db, now).await.unwrap() >= 1);
    assert_eq!(
        spaces_tenants::idempotency::purge(db, now).await.unwrap(),
        0
    );
    let replay = post(
        &app,
        Some(&c.slug),
        Some(&c.admin_token),
        Some(&key),
        CREATE_ORG,
        json!({ "i": { "parentId": c.root_id, "kind": "COMPANY", "name": name } }),
    )
    .await;
    assert!(replay.replayed, "{}", replay.body);
    assert_eq!(replay.body, later.body);
}

#[tokio::test]
async fn failures_are_stored_and_keys_expire_on_sqlite() {
    failures_are_stored_and_keys_expire(Backend::Sqlite).await;
}

#[tokio::test]
async fn failures_are_stored_and_keys_expire_on_postgres() {
    failures_are_stored_and_keys_expire(Backend::Postgres).await;
}

async fn operators_keys_on_the_platform_host(backend: Backend) {
    let app = TestApp::start(backend).await;
    let op = operator(&app).await;
    let key = unique("op-");
    let q = "mutation($i: ProviderInput!) { createProvider(input: $i) { id name } }";
    let vars = json!({ "i": { "name": unique("Université ") } });
    let first = post(&app, None, Some(&op), Some(&key), q, vars.clone()).await;
    assert_eq!(first.code(), "", "{}", first.body);
    let again = post(&app, None, Some(&op), Some(&key), q, vars).await;
    assert!(again.replayed);
    assert_eq!(again.body, first.body);
    let other = post(
        &app,
        None,
        Some(&op),
        Some(&key),
        q,
        json!({ "i": { "name": "Autre" } }),
    )
    .await;
    assert_eq!(other.code(), "IDEMPOTENCY_KEY_REUSED", "{}", other.body);
    // Another operator's same key is theirs.
    let op2 = operator(&app).await;
    let theirs = post(
        &app,
        None,
        Some(&op2),
        Some(&key),
        q,
        json!({ "i": { "name": unique("U ") } }),
    )
    .await;
    assert_eq!(theirs.code(), "", "{}", theirs.body);
    assert!(!theirs.replayed);
}

#[tokio::test]
async fn operators_keys_on_the_platform_host_on_sqlite() {
    operators_keys_on_the_platform_host(Backend::Sqlite).await;
}

#[tokio::test]
async fn operators_keys_on_the_platform_host_on_postgres() {
    operators_keys_on_the_platform_host(Backend::Postgres).await;
}

#[tokio::test]
async fn anonymous_callers_and_malformed_keys_are_refused() {
    let app = TestApp::start(Backend::Sqlite).await;
    let op = operator(&app).await;
    let c = campus(&app, &op).await;
    let name = unique("Refused Co ");
    let vars = json!({ "i": { "parentId": c.root_id, "kind": "COMPANY", "name": name } });
    let anonymous = post(
        &app,
        Some(&c.slug),
        None,
        Some("k1"),
        CREATE_ORG,
        vars.clone(),
    )
    .await;
    assert_eq!(anonymous.code(), "BAD_USER_INPUT", "{}", anonymous.body);
    assert_eq!(
        anonymous.json()["errors"][0]["extensions"]["field"],
        "Idempotency-Key"
    );
    for bad in ["x".repeat(256), "café".into(), String::new()] {
        let a = post(
            &app,
            Some(&c.slug),
            Some(&c.admin_token),
            Some(&bad),
            CREATE_ORG,
            vars.clone(),
        )
        .await;
        assert_eq!(a.code(), "BAD_USER_INPUT", "{bad:?}: {}", a.body);
        assert_eq!(
            a.json()["errors"][0]["extensions"]["field"],
            "Idempotency-Key"
        );
    }
    // An upload refuses a key before reading the body (an import is idempotent by itself).
    let form = reqwest::multipart::Form::new()
        .text(
            "operations",
            json!({ "query": "mutation($f: Upload!) { x(file: $f) }", "variables": { "f": null } })
                .to_string(),
        )
        .text("map", json!({ "0": ["variables.f"] }).to_string())
        .part(
            "0",
            reqwest::multipart::Part::bytes(b"email\n".to_vec()).file_name("staff.csv"),
        );
    let resp = app
        .client
        .post(format!("{}/graphql", app.base))
        .header("X-Tenant", &c.slug)
        .header("Authorization", format!("Bearer {}", c.admin_token))
        .header("Idempotency-Key", "upload-1")
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(spaces_tests::app::code(&v), "BAD_USER_INPUT", "{v}");
    assert_eq!(v["errors"][0]["extensions"]["field"], "Idempotency-Key");
    assert_eq!(named(&app, &c.slug, &c.admin_token, &name).await, 0);
}

#[tokio::test]
async fn a_batch_is_one_request_under_its_key() {
    let app = TestApp::start(Backend::Sqlite).await;
    let op = operator(&app).await;
    let c = campus(&app, &op).await;
    let (n1, n2) = (unique("Batch One "), unique("Batch Two "));
    let batch = json!([
        { "query": CREATE_ORG, "variables": { "i": { "parentId": c.root_id, "kind": "COMPANY", "name": n1 } } },
        { "query": CREATE_ORG, "variables": { "i": { "parentId": c.root_id, "kind": "COMPANY", "name": n2 } } },
    ]);
    let send_batch = |body: Value| {
        app.client
            .post(format!("{}/graphql", app.base))
            .header("X-Tenant", &c.slug)
            .header("Authorization", format!("Bearer {}", c.admin_token))
            .header("Idempotency-Key", "batch-1")
            .json(&body)
            .send()
    };
    let first = send_batch(batch.clone()).await.unwrap();
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first = first.text().await.unwrap();
    let again = send_batch(batch.clone()).await.unwrap();
    assert_eq!(again.headers().get("idempotent-replayed").unwrap(), "true");
    assert_eq!(again.text().await.unwrap(), first);
    assert_eq!(named(&app, &c.slug, &c.admin_token, &n1).await, 1);
    assert_eq!(named(&app, &c.slug, &c.admin_token, &n2).await, 1);
    // The first operation alone is another request.
    let v: Value = send_batch(batch[0].clone())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(spaces_tests::app::code(&v), "IDEMPOTENCY_KEY_REUSED", "{v}");
}
