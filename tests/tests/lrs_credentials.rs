//! Issue 11, first slice: LRS credentials made, listed and revoked by tenant admins through
//! GraphQL.

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
