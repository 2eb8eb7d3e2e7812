//! Issue 11, first slice: LRS credentials made, listed and revoked by tenant admins through
//! GraphQL, and the door of the space's xAPI endpoint (`/xapi/`): the version header, HTTP Basic
//! credentials of this space only, `about` open to all. The secret is in one answer and nowhere
//! else: not in any table, not in any log line.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use spaces_tests::app::ok;
use spaces_tests::fixtures::{self, Campus};
use spaces_tests::{Backend, TestApp};

const CREATE: &str = "mutation($i: CreateLrsCredentialInput!) { createLrsCredential(input: $i) { credential { id name key scopes createdAt revokedAt } secret } }";
const LIST: &str = "query($after: String) { lrsCredentials(first: 2, after: $after) { edges { cursor node { id name key scopes revokedAt } } pageInfo { hasNextPage endCursor } } }";
const REVOKE: &str = "mutation($id: ID!) { revokeLrsCredential(id: $id) { id revokedAt } }";

/// A credential the space's admin makes: (id, key, secret).
pub(crate) async fn credential(app: &TestApp, c: &Campus) -> (String, String, String) {
    let v = app
        .gql(
            Some(&c.slug),
            Some(&c.admin_token),
            CREATE,
            json!({ "i": { "name": "Moodle", "scopes": ["WRITE_STATEMENTS", "READ_OWN"] } }),
        )
        .await;
    let made = &ok(&v)["createLrsCredential"];
    (
        made["credential"]["id"].as_str().unwrap().to_owned(),
        made["credential"]["key"].as_str().unwrap().to_owned(),
        made["secret"].as_str().unwrap().to_owned(),
    )
}

fn code(v: &Value) -> &str {
    v["errors"][0]["extensions"]["code"].as_str().unwrap_or("")
}

async fn credentials_journey(backend: Backend) {
    let app = TestApp::start(backend).await;
    let op = fixtures::operator(&app).await;
    let c = fixtures::campus(&app, &op).await;
    let v = app
        .gql(
            Some(&c.slug),
            Some(&c.admin_token),
            CREATE,
            json!({ "i": { "name": "  Open edX  ", "scopes": ["READ_ALL", "WRITE_STATEMENTS", "READ_ALL"] } }),
        )
        .await;
    let made = ok(&v)["createLrsCredential"].clone();
    let first = made["credential"].clone();
    assert_eq!(first["name"], "Open edX");
    assert_eq!(first["scopes"], json!(["WRITE_STATEMENTS", "READ_ALL"]));
    assert_eq!(first["revokedAt"], Value::Null);
    let key = first["key"].as_str().unwrap();
    assert!(key.starts_with("lrs-") && key.len() == 28, "{key}");
    let secret = made["secret"].as_str().unwrap();
    // 256 bits, base64url without padding.
    assert_eq!(secret.len(), 43, "{secret}");
    let (second, _, _) = credential(&app, &c).await;
    let (third, _, _) = credential(&app, &c).await;

    // Listed, oldest first, in pages; no secret anywhere in the list.
    let v = app
        .gql(Some(&c.slug), Some(&c.admin_token), LIST, json!({}))
        .await;
    let page = &ok(&v)["lrsCredentials"];
    assert!(!v.to_string().contains(secret));
    let ids: Vec<&str> = page["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [first["id"].as_str().unwrap(), second.as_str()]);
    assert_eq!(page["pageInfo"]["hasNextPage"], true);
    let after = page["pageInfo"]["endCursor"].clone();
    let v = app
        .gql(
            Some(&c.slug),
            Some(&c.admin_token),
            LIST,
            json!({ "after": after }),
        )
        .await;
    let page = &ok(&v)["lrsCredentials"];
    assert_eq!(page["edges"][0]["node"]["id"], third.as_str());
    assert_eq!(page["pageInfo"]["hasNextPage"], false);

    // Revoked at once; revoking again keeps the first time.
    let v = app
        .gql(
            Some(&c.slug),
            Some(&c.admin_token),
            REVOKE,
            json!({ "id": second }),
        )
        .await;
    let at = ok(&v)["revokeLrsCredential"]["revokedAt"].clone();
    assert!(at.is_string(), "{v}");
    let v = app
        .gql(
            Some(&c.slug),
            Some(&c.admin_token),
            REVOKE,
            json!({ "id": second }),
        )
        .await;
    assert_eq!(ok(&v)["revokeLrsCredential"]["revokedAt"], at);

    // Bad input names the field and writes nothing.
    for (input, field) in [
        (json!({ "name": " ", "scopes": ["READ_ALL"] }), "name"),
        (json!({ "name": "LMS", "scopes": [] }), "scopes"),
    ] {
        let v = app
            .gql(
                Some(&c.slug),
                Some(&c.admin_token),
                CREATE,
                json!({ "i": input }),
            )
            .await;
        assert_eq!(code(&v), "BAD_USER_INPUT", "{v}");
        assert_eq!(v["errors"][0]["extensions"]["field"], field, "{v}");
    }
    let v = app
        .gql(
            Some(&c.slug),
            Some(&c.admin_token),
            REVOKE,
            json!({ "id": uuid::Uuid::now_v7().to_string() }),
        )
        .await;
    assert_eq!(code(&v), "NOT_FOUND", "{v}");
    assert_eq!(app.dump_tenant(&c.id).await["lrs_credentials"].len(), 3);

    // Only tenant admins: HR and learners are refused everything.
    let company = fixtures::company(&app, &c, "Durand").await;
    for role in ["ORG_ADMIN", "LEARNER"] {
        let (_, token) = fixtures::member(
            &app,
            &c,
            &c.admin_token,
            &company,
            &format!("{}@durand.test", role.to_lowercase()),
            role,
        )
        .await;
        for (doc, vars) in [
            (
                CREATE,
                json!({ "i": { "name": "LMS", "scopes": ["READ_ALL"] } }),
            ),
            (LIST, json!({})),
            (REVOKE, json!({ "id": third })),
        ] {
            let v = app.gql(Some(&c.slug), Some(&token), doc, vars).await;
            assert_eq!(code(&v), "FORBIDDEN", "{role}: {v}");
        }
    }
    let v = app.gql(Some(&c.slug), None, LIST, json!({})).await;
    assert_eq!(code(&v), "UNAUTHENTICATED", "{v}");
    app.stop().await;
}

#[tokio::test]
async fn credentials_journey_on_sqlite() {
    credentials_journey(Backend::Sqlite).await;
}

#[tokio::test]
async fn credentials_journey_on_postgres() {
    credentials_journey(Backend::Postgres).await;
}

/// B's admin finds nothing of A's: A's credential is NOT_FOUND like an unknown id, absent from
/// B's list, and unchanged.
async fn another_space_finds_nothing(backend: Backend) {
    let app = TestApp::start(backend).await;
    let op = fixtures::operator(&app).await;
    let a = fixtures::campus(&app, &op).await;
    let b = fixtures::campus(&app, &op).await;
    let (a_id, a_key, _) = credential(&app, &a).await;
    let before = app.dump_tenant(&a.id).await["lrs_credentials"].clone();
    let unknown = app
        .gql(
            Some(&b.slug),
            Some(&b.admin_token),
            REVOKE,
            json!({ "id": uuid::Uuid::now_v7().to_string() }),
        )
        .await;
    let foreign = app
        .gql(
            Some(&b.slug),
            Some(&b.admin_token),
            REVOKE,
            json!({ "id": a_id }),
        )
        .await;
    assert_eq!(code(&foreign), "NOT_FOUND", "{foreign}");
    assert_eq!(foreign["errors"][0]["extensions"]["field"], "id");
    assert_eq!(
        foreign["errors"][0]["message"],
        unknown["errors"][0]["message"]
    );
    let v = app
        .gql(Some(&b.slug), Some(&b.admin_token), LIST, json!({}))
        .await;
    assert_eq!(ok(&v)["lrsCredentials"]["edges"], json!([]));
    assert!(!v.to_string().contains(&a_key));
    // A's token at B's host is not B's.
    let v = app
        .gql(Some(&b.slug), Some(&a.admin_token), LIST, json!({}))
        .await;
    assert_eq!(code(&v), "UNAUTHENTICATED", "{v}");
    assert_eq!(app.dump_tenant(&a.id).await["lrs_credentials"], before);
    app.stop().await;
}

#[tokio::test]
async fn another_space_finds_nothing_on_sqlite() {
    another_space_finds_nothing(Backend::Sqlite).await;
}

#[tokio::test]
async fn another_space_finds_nothing_on_postgres() {
    another_space_finds_nothing(Backend::Postgres).await;
}

/// A request to the space's LRS: its host, optional version header, optional Basic credentials.
async fn xapi(
    app: &TestApp,
    host: &str,
    method: Method,
    path: &str,
    version: Option<&str>,
    basic: Option<(&str, &str)>,
) -> reqwest::Response {
    let mut req = app
        .client
        .request(method, format!("{}/xapi/{path}", app.base))
        .header("Host", host);
    if let Some(v) = version {
        req = req.header("X-Experience-API-Version", v);
    }
    if let Some((k, s)) = basic {
        req = req.header(
            "Authorization",
            format!("Basic {}", STANDARD.encode(format!("{k}:{s}"))),
        );
    }
    req.send().await.unwrap()
}

fn version_of(r: &reqwest::Response) -> &str {
    r.headers()
        .get("x-experience-api-version")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

async fn the_lrs_door(backend: Backend) {
    let app = TestApp::start(backend).await;
    let op = fixtures::operator(&app).await;
    let a = fixtures::campus(&app, &op).await;
    let b = fixtures::campus(&app, &op).await;
    let host = format!("{}.spaces.test", a.slug);
    let (id, key, secret) = credential(&app, &a).await;
    let (_, b_key, b_secret) = credential(&app, &b).await;

    // about: no credentials, no version header.
    let r = xapi(&app, &host, Method::GET, "about", None, None).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(version_of(&r), "1.0.3");
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({ "version": ["1.0.3"] })
    );
    let r = xapi(&app, &host, Method::HEAD, "about", None, None).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(version_of(&r), "1.0.3");

    // The version header, before anything else; every answer names the version.
    let good = Some((key.as_str(), secret.as_str()));
    for v in [
        None,
        Some("0.95"),
        Some("1.1.0"),
        Some("BAD"),
        Some("1.0.x"),
    ] {
        let r = xapi(&app, &host, Method::GET, "statements", v, good).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{v:?}");
        assert_eq!(version_of(&r), "1.0.3");
    }
    // Accepted versions with valid credentials reach the resource: statements are served (200),
    // the state resource asks for its parameters (400), a path that names none is 404.
    for v in ["1.0", "1.0.0", "1.0.3"] {
        for (path, status) in [
            ("statements", StatusCode::OK),
            ("activities/state", StatusCode::BAD_REQUEST),
            ("nothing/here", StatusCode::NOT_FOUND),
        ] {
            let r = xapi(&app, &host, Method::GET, path, Some(v), good).await;
            assert_eq!(r.status(), status, "{v} {path}");
            assert_eq!(version_of(&r), "1.0.3");
        }
    }
    // POST without a body: 400, after the credentials were accepted.
    let r = xapi(&app, &host, Method::POST, "statements", Some("1.0.3"), good).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    // Anything else is 401 with the challenge: none, a wrong secret, an unknown key,
    // another space's valid credential.
    let wrong = format!("{}x", &secret[..42]);
    for basic in [
        None,
        Some((key.as_str(), wrong.as_str())),
        Some(("lrs-000000000000000000000000", secret.as_str())),
        Some((b_key.as_str(), b_secret.as_str())),
    ] {
        let r = xapi(&app, &host, Method::GET, "statements", Some("1.0.3"), basic).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{basic:?}");
        assert_eq!(version_of(&r), "1.0.3");
        assert_eq!(
            r.headers().get("www-authenticate").unwrap(),
            "Basic realm=\"xAPI\""
        );
    }
    // B's credential works on B's host, and two bad attempts lock nobody out.
    let b_host = format!("{}.spaces.test", b.slug);
    let b_good = Some((b_key.as_str(), b_secret.as_str()));
    let r = xapi(
        &app,
        &b_host,
        Method::GET,
        "statements",
        Some("1.0.3"),
        b_good,
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = xapi(&app, &host, Method::GET, "statements", Some("1.0.3"), good).await;
    assert_eq!(r.status(), StatusCode::OK);

    // Revoked: refused from the next request on.
    let v = app
        .gql(
            Some(&a.slug),
            Some(&a.admin_token),
            REVOKE,
            json!({ "id": id }),
        )
        .await;
    ok(&v);
    let r = xapi(&app, &host, Method::GET, "statements", Some("1.0.3"), good).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(version_of(&r), "1.0.3");

    // A host that names no space: nothing is served, still with the version.
    let r = xapi(
        &app,
        "nowhere.spaces.test",
        Method::GET,
        "about",
        None,
        None,
    )
    .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(version_of(&r), "1.0.3");
    app.stop().await;
}

#[tokio::test]
async fn the_lrs_door_on_sqlite() {
    the_lrs_door(Backend::Sqlite).await;
}

#[tokio::test]
async fn the_lrs_door_on_postgres() {
    the_lrs_door(Backend::Postgres).await;
}

/// The secret is in the answer that makes it, and nowhere else: no table holds it (only its
/// digest), no log line at any level (the Basic header neither).
async fn secrets_never_kept_nor_logged(backend: Backend) {
    let logs = spaces_tests::logs::Capture::start();
    let app = TestApp::start(backend).await;
    let op = fixtures::operator(&app).await;
    let a = fixtures::campus(&app, &op).await;
    let (id, key, secret) = credential(&app, &a).await;
    let host = format!("{}.spaces.test", a.slug);
    let good = Some((key.as_str(), secret.as_str()));
    xapi(&app, &host, Method::GET, "statements", Some("1.0.3"), good).await;
    let wrong = Some((key.as_str(), "not-the-secret"));
    xapi(&app, &host, Method::GET, "statements", Some("1.0.3"), wrong).await;
    let v = app
        .gql(Some(&a.slug), Some(&a.admin_token), LIST, json!({}))
        .await;
    assert!(!v.to_string().contains(&secret));
    let v = app
        .gql(
            Some(&a.slug),
            Some(&a.admin_token),
            REVOKE,
            json!({ "id": id }),
        )
        .await;
    ok(&v);
    let dump = app.dump_tenant(&a.id).await;
    let rows = &dump["lrs_credentials"];
    assert_eq!(rows.len(), 1);
    let digest = rows[0]["secret_digest"].as_str().unwrap();
    assert_eq!(digest.len(), 64, "a SHA-256 digest in hex");
    let dump = serde_json::to_string(&dump).unwrap();
    let header = STANDARD.encode(format!("{key}:{secret}"));
    let text = logs.text();
    assert!(!text.is_empty(), "the capture saw the requests");
    assert!(text.contains("/xapi/statements"), "the capture saw the LRS");
    for form in [secret.as_str(), header.as_str()] {
        assert!(!dump.contains(form), "the secret is stored");
        assert!(!text.contains(form), "the secret is logged");
    }
    app.stop().await;
}

#[tokio::test]
async fn secrets_never_kept_nor_logged_on_sqlite() {
    secrets_never_kept_nor_logged(Backend::Sqlite).await;
}

#[tokio::test]
async fn secrets_never_kept_nor_logged_on_postgres() {
    secrets_never_kept_nor_logged(Backend::Postgres).await;
}
