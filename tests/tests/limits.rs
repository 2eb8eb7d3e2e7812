//! GraphQL limits: each refused with its own code, before any work.

use serde_json::json;
use spaces_tests::app::code;
use spaces_tests::{Backend, TestApp};

#[tokio::test]
async fn deep_queries_alias_floods_big_bodies_and_big_batches_are_refused() {
    let app = TestApp::start(Backend::Sqlite).await;
    let url = format!("{}/graphql", app.base);

    // Too deep: viewer { organisation { ... } } cannot nest, so use __type's recursion, past
    // introspection's own allowance (15 levels).
    let deep = format!(
        "{{ __schema {{ types {{ fields {{ type {{ {} name {} }} }} }} }} }}",
        "ofType { ".repeat(12),
        "} ".repeat(12)
    );
    let v = app.gql(None, None, &deep, json!({})).await;
    assert_eq!(code(&v), "QUERY_TOO_DEEP", "{v}");

    // Over the complexity budget: a page of 100 costs 100 times its node.
    let node = "id name kind sizeBand headCount createdAt archivedAt parentId externalRef registrationNumber";
    let heavy = format!(
        "{{ a: organisations(first: 100) {{ edges {{ node {{ {node} }} }} }} b: organisations(first: 100) {{ edges {{ node {{ {node} }} }} }} }}"
    );
    let v = app.gql(None, None, &heavy, json!({})).await;
    assert_eq!(code(&v), "QUERY_TOO_COMPLEX", "{v}");
    let light = format!("{{ organisations(first: 10) {{ edges {{ node {{ {node} }} }} }} }}");
    let v = app.gql(None, None, &light, json!({})).await;
    assert_eq!(
        code(&v),
        "UNAUTHENTICATED",
        "a modest page passes the limits and reaches the resolver: {v}"
    );

    let aliases: String = (0..31)
        .map(|i| format!("a{i}: space {{ slug }} "))
        .collect();
    let v = app
        .gql(None, None, &format!("{{ {aliases} }}"), json!({}))
        .await;
    assert_eq!(code(&v), "TOO_MANY_ALIASES", "{v}");
    let ok_aliases: String = (0..30)
        .map(|i| format!("a{i}: space {{ slug }} "))
        .collect();
    let v = app
        .gql(None, None, &format!("{{ {ok_aliases} }}"), json!({}))
        .await;
    assert!(v.get("errors").is_none(), "30 aliases are allowed: {v}");

    let big = "x".repeat(70 * 1024);
    let r = app
        .client
        .post(&url)
        .header("content-type", "application/json")
        .body(format!(
            "{{\"query\":\"{{ space {{ slug }} }}\",\"variables\":{{\"pad\":\"{big}\"}}}}"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(code(&v), "PAYLOAD_TOO_LARGE");
    assert!(v["errors"][0]["extensions"]["requestId"].is_string());

    let batch: Vec<_> = (0..11)
        .map(|_| json!({ "query": "{ space { slug } }" }))
        .collect();
    let r = app.client.post(&url).json(&batch).send().await.unwrap();
    assert_eq!(r.status(), 400);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(code(&v), "BATCH_TOO_LARGE");
    let batch: Vec<_> = (0..3)
        .map(|_| json!({ "query": "{ space { slug } }" }))
        .collect();
    let v: serde_json::Value = app
        .client
        .post(&url)
        .json(&batch)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        v.as_array().map(Vec::len),
        Some(3),
        "a small batch runs: {v}"
    );

    let v = app.gql(None, None, "{ space { slug ", json!({})).await;
    assert_eq!(code(&v), "GRAPHQL_PARSE_FAILED", "{v}");
    let v = app.gql(None, None, "{ nothingHere }", json!({})).await;
    assert_eq!(code(&v), "GRAPHQL_VALIDATION_FAILED", "{v}");
    app.stop().await;
}

/// Fragments that spread each other twice per level expand exponentially; the document is
/// measured without expanding it and refused at once.
#[tokio::test]
async fn a_fragment_bomb_is_refused_before_it_is_expanded() {
    let app = TestApp::start(Backend::Sqlite).await;
    let mut doc = String::from("query { space { ...F0 } }\n");
    for i in 0..30 {
        doc.push_str(&format!(
            "fragment F{i} on Space {{ slug ...F{n} ...F{n} }}\n",
            n = i + 1
        ));
    }
    doc.push_str("fragment F30 on Space { slug displayName }\n");
    let v = app.gql(None, None, &doc, json!({})).await;
    assert_eq!(code(&v), "QUERY_TOO_COMPLEX", "{v}");
    app.stop().await;
}
