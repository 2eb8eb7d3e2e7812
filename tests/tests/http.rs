//! GraphQL over HTTP: content types, GET, media types and statuses, the Authorization header,
//! the tenant header, uploads, GraphiQL served offline, and introspection by common tools.

use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use serde_json::{Value, json};
use spaces_tests::app::{code, ok};
use spaces_tests::fixtures::{campus, operator};
use spaces_tests::{Backend, TestApp};

const GQL_RESPONSE: &str = "application/graphql-response+json";

fn url(app: &TestApp) -> String {
    format!("{}/graphql", app.base)
}

#[tokio::test]
async fn post_bodies_must_be_json_and_get_runs_queries_only() {
    let app = TestApp::start(Backend::Sqlite).await;
    let body = json!({ "query": "{ __typename }" }).to_string();

    // text/plain is what a browser may send across origins without asking first.
    for ct in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        None,
    ] {
        let mut req = app.client.post(url(&app)).body(body.clone());
        if let Some(ct) = ct {
            req = req.header(CONTENT_TYPE, ct);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), 415, "content type {ct:?}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(code(&v), "UNSUPPORTED_MEDIA_TYPE", "{v}");
    }
    let r = app
        .client
        .post(url(&app))
        .header(CONTENT_TYPE, "application/json; charset=utf-8")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()[CONTENT_TYPE], "application/json; charset=utf-8");
    let v: Value = r.json().await.unwrap();
    assert_eq!(ok(&v)["__typename"], "Query");

    // GET: a query from the query string, with variables as URL-encoded JSON.
    let r = app
        .client
        .get(url(&app))
        .query(&[
            (
                "query",
                "query Q($n: String!) { __type(name: $n) { name } }",
            ),
            ("variables", r#"{"n":"Space"}"#),
            ("operationName", "Q"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(ok(&v)["__type"]["name"], "Space");

    // A mutation over GET: 405, nothing run.
    let r = app
        .client
        .get(url(&app))
        .query(&[(
            "query",
            r#"mutation { signIn(input: { email: "a@b.test", password: "x" }) { accessToken } }"#,
        )])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    assert_eq!(r.headers()["allow"], "POST");
    let v: Value = r.json().await.unwrap();
    assert_eq!(code(&v), "METHOD_NOT_ALLOWED", "{v}");

    // GET without a query: a request error.
    let r = app
        .client
        .get(url(&app))
        .header(ACCEPT, GQL_RESPONSE)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    app.stop().await;
}

#[tokio::test]
async fn statuses_follow_the_media_type_the_client_accepts() {
    let app = TestApp::start(Backend::Sqlite).await;
    let post = |accept: &'static str, query: &'static str| {
        app.client
            .post(url(&app))
            .header(ACCEPT, accept)
            .json(&json!({ "query": query }))
            .send()
    };
    // application/graphql-response+json: a request that cannot run is a 4xx without data.
    let r = post(GQL_RESPONSE, "{ nothingHere }").await.unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(
        r.headers()[CONTENT_TYPE],
        "application/graphql-response+json; charset=utf-8"
    );
    let v: Value = r.json().await.unwrap();
    assert_eq!(code(&v), "GRAPHQL_VALIDATION_FAILED", "{v}");
    assert!(v.get("data").is_none(), "{v}");
    let r = post(GQL_RESPONSE, "{ __typename ").await.unwrap();
    assert_eq!(r.status(), 400);
    let r = post(GQL_RESPONSE, "{ __typename }").await.unwrap();
    assert_eq!(r.status(), 200);

    // application/json (and */*): 200 for every well-formed request.
    for accept in ["application/json", "*/*"] {
        let r = post(accept, "{ nothingHere }").await.unwrap();
        assert_eq!(r.status(), 200, "{accept}");
        assert_eq!(r.headers()[CONTENT_TYPE], "application/json; charset=utf-8");
        let v: Value = r.json().await.unwrap();
        assert_eq!(code(&v), "GRAPHQL_VALIDATION_FAILED", "{v}");
    }
    // Neither: 406.
    let r = post("text/csv", "{ __typename }").await.unwrap();
    assert_eq!(r.status(), 406);
    // An error inside execution is not a request error: 200, with data.
    let r = post(GQL_RESPONSE, "{ viewer { email } }").await.unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert!(v.get("data").is_some(), "{v}");
    app.stop().await;
}

async fn authorization_header(backend: Backend) {
    let app = TestApp::start(backend).await;
    let op = operator(&app).await;
    let c = campus(&app, &op).await;
    let viewer = json!({ "query": "{ viewer { email } }" });

    // Two Authorization headers: which one counts? Neither: 400.
    let r = app
        .client
        .post(url(&app))
        .header("X-Tenant", &c.slug)
        .header(AUTHORIZATION, format!("Bearer {}", c.admin_token))
        .header(AUTHORIZATION, "Bearer someone-else")
        .json(&viewer)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.unwrap();
    assert_eq!(code(&v), "BAD_REQUEST", "{v}");
    assert_eq!(
        v["errors"][0]["message"],
        "Authorization: send one Authorization header, not several"
    );

    // The scheme is case-insensitive (RFC 7235).
    for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
        let r = app
            .client
            .post(url(&app))
            .header("X-Tenant", &c.slug)
            .header(AUTHORIZATION, format!("{scheme} {}", c.admin_token))
            .json(&viewer)
            .send()
            .await
            .unwrap();
        let v: Value = r.json().await.unwrap();
        assert_eq!(
            ok(&v)["viewer"]["email"],
            c.admin_email.as_str(),
            "{scheme}"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn authorization_header_on_sqlite() {
    authorization_header(Backend::Sqlite).await;
}

#[tokio::test]
async fn authorization_header_on_postgres() {
    authorization_header(Backend::Postgres).await;
}

/// `Host` names one space and `X-Tenant` another: refused, whichever token comes along.
async fn tenant_mismatch(backend: Backend) {
    let app = TestApp::start(backend).await;
    let op = operator(&app).await;
    let a = campus(&app, &op).await;
    let b = campus(&app, &op).await;
    let send = |host: String, tenant: Option<String>, token: String| {
        let mut req = app
            .client
            .post(url(&app))
            .header("Host", host)
            .header(AUTHORIZATION, format!("Bearer {token}"))
            .json(&json!({ "query": "{ viewer { email } space { slug } }" }));
        if let Some(t) = tenant {
            req = req.header("X-Tenant", t);
        }
        req.send()
    };
    for host in [
        format!("{}.spaces.test", a.slug),
        format!("{}.example.org", a.slug),
    ] {
        for token in [&a.admin_token, &b.admin_token] {
            let r = send(host.clone(), Some(b.slug.clone()), token.clone())
                .await
                .unwrap();
            assert_eq!(r.status(), 400, "{host}");
            let v: Value = r.json().await.unwrap();
            assert_eq!(code(&v), "TENANT_MISMATCH", "{v}");
            assert!(v.get("data").is_none(), "{v}");
        }
        // Agreeing, or the header alone on the platform's host: served.
        let v: Value = send(host.clone(), Some(a.slug.clone()), a.admin_token.clone())
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(ok(&v)["space"]["slug"], a.slug.as_str());
    }
    let v: Value = send(
        "localhost".into(),
        Some(b.slug.clone()),
        b.admin_token.clone(),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(ok(&v)["viewer"]["email"], b.admin_email.as_str());
    app.stop().await;
}

#[tokio::test]
async fn tenant_mismatch_on_sqlite() {
    tenant_mismatch(Backend::Sqlite).await;
}

#[tokio::test]
async fn tenant_mismatch_on_postgres() {
    tenant_mismatch(Backend::Postgres).await;
}

#[tokio::test]
async fn the_tenant_header_can_be_turned_off() {
    let app = TestApp::start_with(Backend::Sqlite, |c| c.tenant_header = false).await;
    let op = operator(&app).await;
    // The operator's calls go to the platform, which needs no header.
    let slug = spaces_tests::fixtures::unique("quiet-");
    let v = app
        .gql(
            None,
            Some(&op),
            spaces_tests::fixtures::CREATE_TENANT,
            json!({ "i": {
                "slug": slug, "displayName": "Quiet", "domains": [],
                "firstAdmin": { "email": format!("admin@{slug}.test"), "givenName": "A", "familyName": "B" }
            }}),
        )
        .await;
    ok(&v);
    let v = app
        .gql(Some(&slug), None, "{ space { slug } }", json!({}))
        .await;
    assert!(
        v["data"]["space"].is_null(),
        "X-Tenant is ignored: the request addresses the platform: {v}"
    );
    let v = app
        .gql_host(
            &format!("{slug}.spaces.test"),
            None,
            "{ space { slug } }",
            json!({}),
        )
        .await;
    assert_eq!(ok(&v)["space"]["slug"], slug.as_str());
    app.stop().await;
}

const IMPORT: &str = "mutation($e: ID!, $file: Upload!) { importEnrolments(editionId: $e, file: $file, dryRun: true) { rows } }";

/// A multipart request by hand: `parts` are (name, file name, bytes).
async fn multipart(
    app: &TestApp,
    tenant: &str,
    token: Option<&str>,
    parts: Vec<(&str, Option<&str>, Vec<u8>)>,
) -> (u16, Value) {
    let mut form = reqwest::multipart::Form::new();
    for (name, file, bytes) in parts {
        let mut part = reqwest::multipart::Part::bytes(bytes);
        if let Some(f) = file {
            part = part.file_name(f.to_owned());
        }
        form = form.part(name.to_owned(), part);
    }
    let mut req = app
        .client
        .post(url(app))
        .header("X-Tenant", tenant)
        .multipart(form);
    if let Some(t) = token {
        req = req.header(AUTHORIZATION, format!("Bearer {t}"));
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn ops(query: &str) -> Vec<u8> {
    json!({ "query": query, "variables": { "e": "00000000-0000-7000-8000-000000000000", "file": null } })
        .to_string()
        .into_bytes()
}

fn map() -> Vec<u8> {
    br#"{"0":["variables.file"]}"#.to_vec()
}

async fn uploads(backend: Backend) {
    let app = TestApp::start(backend).await;
    let op = operator(&app).await;
    let a = campus(&app, &op).await;
    let b = campus(&app, &op).await;
    let csv = b"email;given name;family name\n".to_vec();
    let good = || {
        vec![
            ("operations", None, ops(IMPORT)),
            ("map", None, map()),
            ("0", Some("staff.csv"), csv.clone()),
        ]
    };

    // The well-formed upload reaches the resolver (which finds no such edition).
    let (status, v) = multipart(&app, &a.slug, Some(&a.admin_token), good()).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["errors"][0]["path"], json!(["importEnrolments"]), "{v}");

    // Anonymous, or with another space's token: refused before the body is read.
    let (status, v) = multipart(&app, &a.slug, None, good()).await;
    assert_eq!((status, code(&v).as_str()), (400, "UNAUTHENTICATED"), "{v}");
    let (status, v) = multipart(&app, &a.slug, Some(&b.admin_token), good()).await;
    assert_eq!((status, code(&v).as_str()), (400, "UNAUTHENTICATED"), "{v}");
    let (status, v) = multipart(&app, &a.slug, Some("not-a-token"), good()).await;
    assert_eq!((status, code(&v).as_str()), (400, "UNAUTHENTICATED"), "{v}");

    // Two file parts.
    let mut two = good();
    two.push(("1", Some("more.csv"), csv.clone()));
    let (status, v) = multipart(&app, &a.slug, Some(&a.admin_token), two).await;
    assert_eq!((status, code(&v).as_str()), (400, "BAD_REQUEST"), "{v}");
    // Two files in the map.
    let two_in_map = vec![
        ("operations", None, ops(IMPORT)),
        (
            "map",
            None,
            br#"{"0":["variables.file"],"1":["variables.other"]}"#.to_vec(),
        ),
        ("0", Some("staff.csv"), csv.clone()),
    ];
    let (status, v) = multipart(&app, &a.slug, Some(&a.admin_token), two_in_map).await;
    assert_eq!((status, code(&v).as_str()), (400, "BAD_REQUEST"), "{v}");
    // A big query in `operations`: 413 at 64 KiB.
    let pad = format!("{IMPORT} {}", "#".repeat(70 * 1024));
    let big = vec![
        ("operations", None, ops(&pad)),
        ("map", None, map()),
        ("0", Some("staff.csv"), csv.clone()),
    ];
    let (status, v) = multipart(&app, &a.slug, Some(&a.admin_token), big).await;
    assert_eq!(
        (status, code(&v).as_str()),
        (413, "PAYLOAD_TOO_LARGE"),
        "{v}"
    );
    // Any other operation.
    for query in [
        "query($file: Upload) { viewer { email } }",
        "mutation($e: ID!, $file: Upload!) { importEnrolments(editionId: $e, file: $file) { rows } signOut }",
    ] {
        let other = vec![
            ("operations", None, ops(query)),
            ("map", None, map()),
            ("0", Some("x.csv"), csv.clone()),
        ];
        let (status, v) = multipart(&app, &a.slug, Some(&a.admin_token), other).await;
        assert_eq!(
            (status, code(&v).as_str()),
            (400, "BAD_REQUEST"),
            "{query}: {v}"
        );
    }
    // A file over 10 MiB.
    let huge = vec![
        ("operations", None, ops(IMPORT)),
        ("map", None, map()),
        ("0", Some("staff.csv"), vec![b'a'; 10 * 1024 * 1024 + 1]),
    ];
    let (status, v) = multipart(&app, &a.slug, Some(&a.admin_token), huge).await;
    assert_eq!(status, 413, "{v}");
    app.stop().await;
}

#[tokio::test]
async fn uploads_are_refused_unless_signed_in_small_and_single_on_sqlite() {
    uploads(Backend::Sqlite).await;
}

#[tokio::test]
async fn uploads_are_refused_unless_signed_in_small_and_single_on_postgres() {
    uploads(Backend::Postgres).await;
}

#[tokio::test]
async fn graphiql_and_its_assets_are_served_by_the_gateway() {
    let app = TestApp::start(Backend::Sqlite).await;
    let r = app
        .client
        .get(url(&app))
        .header(
            ACCEPT,
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()[CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let page = r.text().await.unwrap();
    assert!(!page.contains("://"), "nothing from another origin: {page}");
    let assets: Vec<&str> = page
        .split(['"', '\''])
        .filter(|s| s.starts_with("/graphiql/"))
        .collect();
    assert_eq!(assets.len(), 5, "{page}");
    for path in assets {
        let r = app
            .client
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{path}");
        let ct = r.headers()[CONTENT_TYPE].to_str().unwrap().to_owned();
        let body = r.bytes().await.unwrap();
        if path.ends_with(".css") {
            assert!(ct.starts_with("text/css"), "{path}: {ct}");
            assert!(body.len() > 100_000, "{path}");
        } else {
            assert!(ct.starts_with("text/javascript"), "{path}: {ct}");
            assert!(!body.is_empty(), "{path}");
        }
    }
    let js = app
        .client
        .get(format!("{}/graphiql/4.1.2/graphiql.min.js", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(js.contains("createFetcher"), "GraphiQL's UMD build");
    let r = app
        .client
        .get(format!("{}/graphiql/4.1.2/nothing.js", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    app.stop().await;
}

#[tokio::test]
async fn the_introspection_queries_of_graphiql_graphql_js_and_graphql_core_load_the_schema() {
    let app = TestApp::start(Backend::Sqlite).await;
    for (tool, doc) in [
        (
            "GraphiQL 4",
            include_str!("../fixtures/introspection/graphiql-4.graphql"),
        ),
        (
            "graphql-js 16",
            include_str!("../fixtures/introspection/graphql-js-16.graphql"),
        ),
        (
            "graphql-core 3.3",
            include_str!("../fixtures/introspection/graphql-core-3.3.graphql"),
        ),
    ] {
        let v = app.gql(None, None, doc, json!({})).await;
        let schema = &ok(&v)["__schema"];
        assert_eq!(schema["queryType"]["name"], "Query", "{tool}");
        let types = schema["types"].as_array().unwrap();
        assert!(
            types.iter().any(|t| t["name"] == "Edition"),
            "{tool}: the schema's own types come back"
        );
    }
    // What makes introspection costly stays refused: nesting the lists of fields in each other,
    // and nesting deeper than the tools do.
    for attack in [
        "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }",
        "{ __type(name: \"Query\") { fields { type { interfaces { fields { type { possibleTypes { name } } } } } } } }",
    ]
    .map(str::to_owned)
    .into_iter()
    .chain([format!(
        "{{ __schema {{ types {{ fields {{ type {{ {} name {} }} }} }} }} }}",
        "ofType { ".repeat(11),
        "} ".repeat(11)
    )]) {
        let v = app.gql(None, None, &attack, json!({})).await;
        assert_eq!(code(&v), "QUERY_TOO_DEEP", "{attack}: {v}");
    }
    // Outside introspection the limit is unchanged: 13 levels are refused before validation.
    let deep = format!("{{ {} id {} }}", "viewer { ".repeat(12), "} ".repeat(12));
    let v = app.gql(None, None, &deep, json!({})).await;
    assert_eq!(code(&v), "QUERY_TOO_DEEP", "{v}");
    app.stop().await;
}
