//! What operators of the service look at: health, readiness, metrics, request ids, JWKS.

use serde_json::json;
use spaces_tests::{Backend, TestApp};

async fn ops(backend: Backend) {
    let app = TestApp::start(backend).await;
    let r = app
        .client
        .get(format!("{}/healthz", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = app
        .client
        .get(format!("{}/readyz", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let ready: serde_json::Value = r.json().await.unwrap();
    assert_eq!(ready["database"], "ok");
    assert_eq!(
        ready["redis"],
        if backend == Backend::Postgres {
            "ok"
        } else {
            "not configured"
        }
    );

    // A request id comes back in a header, and in the extensions of each error.
    let r = app
        .client
        .post(format!("{}/graphql", app.base))
        .json(&json!({ "query": "query Viewer { viewer { email } }" }))
        .header("X-Tenant", "nobody-here")
        .send()
        .await
        .unwrap();
    let rid = r
        .headers()
        .get("x-request-id")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["errors"][0]["extensions"]["requestId"], rid.as_str());
    let r = app
        .client
        .post(format!("{}/graphql", app.base))
        .header("x-request-id", "from-the-client")
        .json(&json!({ "query": "{ space { slug } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers().get("x-request-id").unwrap(),
        "from-the-client",
        "a client's request id is kept"
    );

    let v = app
        .gql(
            None,
            None,
            "query PublicSpace { space { slug } }",
            json!({}),
        )
        .await;
    assert!(v.get("errors").is_none());
    let metrics = app
        .client
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics
            .contains(r#"spaces_graphql_requests_total{operation="PublicSpace",outcome="ok"} 1"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"operation="anonymous",outcome="NOT_FOUND""#),
        "{metrics}"
    );
    assert!(
        metrics.contains("spaces_graphql_request_duration_seconds_bucket"),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"spaces_db_pool_connections{state="open"}"#),
        "{metrics}"
    );

    let jwks: serde_json::Value = app
        .client
        .get(format!("{}/.well-known/jwks.json", app.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(jwks["keys"][0]["kty"], "OKP");
    assert_eq!(jwks["keys"][0]["alg"], "EdDSA");
    assert_eq!(jwks["keys"][0]["kid"], app.state.deps.keys.kid());
    app.stop().await;
}

#[tokio::test]
async fn health_metrics_and_request_ids_on_sqlite() {
    ops(Backend::Sqlite).await;
}

#[tokio::test]
async fn health_metrics_and_request_ids_on_postgres() {
    ops(Backend::Postgres).await;
}
