//! When the database goes away: requests answer `UNAVAILABLE` with `Retry-After` (503 for
//! clients that read `application/graphql-response+json`, 200 for plain JSON), never `INTERNAL`;
//! readiness says so; and both come back with the database. A fast restart costs no request: a
//! pooled connection that died with the old server is retried once on a fresh one. The test runs
//! a PostgreSQL cluster of its own, so stopping it disturbs no other test.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use reqwest::header::{ACCEPT, AUTHORIZATION};
use serde_json::{Value, json};
use spaces_tests::app::{code, ok};
use spaces_tests::fixtures::{campus, operator};
use spaces_tests::pg::PgCluster;
use spaces_tests::{Backend, TestApp};

const VIEWER: &str = "{ viewer { email } }";

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.unwrap()
}

async fn viewer(app: &TestApp, slug: &str, token: &str, accept: &str) -> reqwest::Response {
    app.client
        .post(format!("{}/graphql", app.base))
        .header("X-Tenant", slug)
        .header(AUTHORIZATION, format!("Bearer {token}"))
        .header(ACCEPT, accept)
        .json(&json!({ "query": VIEWER }))
        .send()
        .await
        .unwrap()
}

/// `n` viewer requests at once.
async fn side_by_side(app: &TestApp, slug: &str, token: &str, n: usize) -> Vec<Value> {
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            let (client, base, slug, token) = (
                app.client.clone(),
                app.base.clone(),
                slug.to_owned(),
                token.to_owned(),
            );
            tokio::spawn(async move {
                client
                    .post(format!("{base}/graphql"))
                    .header("X-Tenant", slug)
                    .header(AUTHORIZATION, format!("Bearer {token}"))
                    .json(&json!({ "query": VIEWER }))
                    .send()
                    .await
                    .unwrap()
                    .json::<Value>()
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

async fn ready(app: &TestApp) -> (u16, Value) {
    let r = app
        .client
        .get(format!("{}/readyz", app.base))
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

#[tokio::test]
async fn requests_answer_unavailable_while_postgres_is_down_and_come_back_with_it() {
    let pg = Arc::new(blocking(|| PgCluster::start().unwrap()).await);
    let p = pg.clone();
    blocking(move || p.create_database("spaces", None, None).unwrap()).await;
    spaces_gateway::app::migrate(&pg.url("owner", None, "spaces"))
        .await
        .unwrap();
    let p = pg.clone();
    blocking(move || {
        p.psql(
            "postgres",
            &format!(
                "CREATE ROLE outage_server LOGIN PASSWORD 'pw' IN ROLE {}",
                spaces_migrations::APP_ROLE
            ),
        )
        .unwrap()
    })
    .await;
    let url = pg.url("outage_server", Some("pw"), "spaces");
    let app = TestApp::start_with(Backend::Postgres, |c| {
        c.database_url = url;
        c.db_max_connections = 4;
    })
    .await;
    let op = operator(&app).await;
    let c = campus(&app, &op).await;
    let (slug, token) = (c.slug.clone(), c.admin_token.clone());

    // Fill the pool, then restart the database: every pooled connection is now dead.
    for v in side_by_side(&app, &slug, &token, 4).await {
        ok(&v);
    }
    let p = pg.clone();
    blocking(move || {
        p.stop_now().unwrap();
        p.start_again().unwrap();
    })
    .await;
    // No request fails for it: each dead connection is noticed and the request retried on a
    // fresh one.
    for v in side_by_side(&app, &slug, &token, 6).await {
        assert_eq!(ok(&v)["viewer"]["email"], c.admin_email.as_str());
    }

    // Now a real outage, under load: no answer is anything but data or UNAVAILABLE.
    let stop = Arc::new(AtomicBool::new(false));
    let mut load = Vec::new();
    for _ in 0..3 {
        let (client, base, slug, token, stop) = (
            app.client.clone(),
            app.base.clone(),
            slug.clone(),
            token.clone(),
            stop.clone(),
        );
        load.push(tokio::spawn(async move {
            let mut codes = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let v: Value = client
                    .post(format!("{base}/graphql"))
                    .header("X-Tenant", &slug)
                    .header(AUTHORIZATION, format!("Bearer {token}"))
                    .json(&json!({ "query": VIEWER }))
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                codes.push(code(&v));
            }
            codes
        }));
    }
    let p = pg.clone();
    blocking(move || p.stop_now().unwrap()).await;

    let r = viewer(&app, &slug, &token, "application/graphql-response+json").await;
    assert_eq!(r.status(), 503);
    assert_eq!(r.headers()["retry-after"], "2");
    let v: Value = r.json().await.unwrap();
    assert_eq!(code(&v), "UNAVAILABLE", "{v}");
    assert_eq!(v["errors"][0]["extensions"]["retryAfterSeconds"], 2);

    let r = viewer(&app, &slug, &token, "application/json").await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["retry-after"], "2");
    let v: Value = r.json().await.unwrap();
    assert_eq!(code(&v), "UNAVAILABLE", "{v}");

    let (status, body) = ready(&app).await;
    assert_eq!(status, 503);
    assert_eq!(body["database"], "unreachable");

    let p = pg.clone();
    blocking(move || p.start_again().unwrap()).await;
    // Readiness comes back with the database (each probe answers within a second).
    let mut probes = 0;
    loop {
        probes += 1;
        let (status, body) = ready(&app).await;
        if status == 200 {
            assert_eq!(body["database"], "ok");
            break;
        }
        assert!(probes < 30, "readiness never came back: {body}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let r = viewer(&app, &slug, &token, "application/graphql-response+json").await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(ok(&v)["viewer"]["email"], c.admin_email.as_str());

    stop.store(true, Ordering::Relaxed);
    let mut seen = Vec::new();
    for t in load {
        seen.extend(t.await.unwrap());
    }
    assert!(
        seen.iter().all(|c| c.is_empty() || c == "UNAVAILABLE"),
        "answers under load: {seen:?}"
    );
    app.stop().await;
}
