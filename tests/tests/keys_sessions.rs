//! Key rotation and sessions tied to the credential version: a previous signing key still
//! verifies, and no refresh carries a session past a password change.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use spaces_tests::app::{code, ok};
use spaces_tests::fixtures::{self, PASSWORD};
use spaces_tests::{Backend, TestApp};

const VIEWER: &str = "{ viewer { id email } }";
const REFRESH: &str =
    "mutation($r: String!) { refreshSession(refreshToken: $r) { accessToken refreshToken } }";
const CHANGE_PASSWORD: &str = "mutation($i: ChangePasswordInput!) { changePassword(input: $i) }";

/// The seed of a PKCS#8 Ed25519 PEM, as an encoding key for jsonwebtoken.
fn encoding_key(pem: &str) -> EncodingKey {
    let body: String = pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .map(str::trim)
        .collect();
    EncodingKey::from_ed_der(&STANDARD.decode(body).unwrap())
}

fn payload(token: &str) -> Value {
    let part = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

async fn jwks_kids(app: &TestApp) -> Vec<String> {
    let v: Value = app
        .client
        .get(format!("{}/.well-known/jwks.json", app.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect()
}

/// During a rotation the previous key still verifies the tokens it signed, and the JWKS
/// publishes both; a generated key is readable by its owner only.
#[tokio::test]
async fn a_rotated_key_still_verifies_and_both_are_published() {
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(format!("spaces-keys-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    let old_pem = spaces_tenants::auth::tokens::Keys::generate_pem().unwrap();
    let new_pem = spaces_tenants::auth::tokens::Keys::generate_pem().unwrap();
    std::fs::write(dir.join("old.pem"), &old_pem).unwrap();
    std::fs::write(dir.join("new.pem"), &new_pem).unwrap();
    let old_kid = spaces_tenants::auth::tokens::Keys::from_pem(
        &old_pem,
        "spaces",
        "spaces-api",
        Duration::from_secs(900),
    )
    .unwrap()
    .kid()
    .to_owned();

    let app = TestApp::start_with(Backend::Postgres, |c| {
        c.signing_key_file = Some(dir.join("new.pem"));
        c.previous_signing_key_files = vec![dir.join("old.pem")];
    })
    .await;
    let op = fixtures::operator(&app).await;
    let c = fixtures::campus(&app, &op).await;
    let new_kid = app.state.deps.keys.kid().to_owned();
    assert_ne!(new_kid, old_kid);
    assert_eq!(
        jwks_kids(&app).await,
        vec![new_kid.clone(), old_kid.clone()]
    );

    // A token the old key signed before the rotation (same claims as the server's own).
    let claims = payload(&c.admin_token);
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(old_kid.clone());
    let by_old = jsonwebtoken::encode(&header, &claims, &encoding_key(&old_pem)).unwrap();
    let v = app
        .gql(Some(&c.slug), Some(&by_old), VIEWER, json!({}))
        .await;
    assert_eq!(ok(&v)["viewer"]["email"], c.admin_email.as_str(), "{v}");
    // The old kid on a token some other key signed is refused.
    let stranger = spaces_tenants::auth::tokens::Keys::generate_pem().unwrap();
    let forged = jsonwebtoken::encode(&header, &claims, &encoding_key(&stranger)).unwrap();
    let v = app
        .gql(Some(&c.slug), Some(&forged), VIEWER, json!({}))
        .await;
    assert_eq!(code(&v), "UNAUTHENTICATED", "{v}");
    // New tokens are signed with the new key.
    let s = fixtures::sign_in(&app, &c.slug, &c.admin_email, PASSWORD).await;
    let token = ok(&s)["signIn"]["accessToken"].as_str().unwrap();
    let h = jsonwebtoken::decode_header(token).unwrap();
    assert_eq!(h.kid.as_deref(), Some(new_kid.as_str()));
    app.stop().await;

    // Without a key file, the generated one is mode 0600.
    let app = TestApp::start(Backend::Sqlite).await;
    let mode = std::fs::metadata(app.data_dir.join("signing-key.pem"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "mode {:o}", mode & 0o777);
    app.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}

async fn run_sql(app: &TestApp, sql: &str) {
    match app.backend {
        Backend::Postgres => {
            app.owner_sql(sql).await;
        }
        Backend::Sqlite => {
            use sea_orm::{ConnectionTrait, Database};
            let conn = Database::connect(format!(
                "sqlite://{}?mode=rw",
                app.data_dir.join("spaces.db").display()
            ))
            .await
            .unwrap();
            conn.execute_unprepared(sql).await.unwrap();
            conn.close().await.unwrap();
        }
    }
}

/// A refresh token that the password change's revocation did not reach (as a row inserted by a
/// rotation running concurrently with the change is not reached) still cannot carry the session
/// past the change: its family carries the credential version it began under.
async fn refresh_after_change(backend: Backend) {
    let app = TestApp::start(backend).await;
    let op = fixtures::operator(&app).await;
    let c = fixtures::campus(&app, &op).await;
    let s = fixtures::sign_in(&app, &c.slug, &c.admin_email, PASSWORD).await;
    let early = ok(&s)["signIn"]["refreshToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let v = app
        .gql(
            Some(&c.slug),
            Some(&c.admin_token),
            CHANGE_PASSWORD,
            json!({ "i": { "currentPassword": PASSWORD, "newPassword": "a brand new password 2026" } }),
        )
        .await;
    assert_eq!(ok(&v)["changePassword"], true, "{v}");
    // What the race leaves behind: a row of the old family that no revocation saw.
    run_sql(
        &app,
        "UPDATE refresh_tokens SET revoked_at = NULL WHERE rotated_at IS NULL",
    )
    .await;
    let v = app
        .gql(Some(&c.slug), None, REFRESH, json!({ "r": early }))
        .await;
    assert_eq!(
        code(&v),
        "UNAUTHENTICATED",
        "a session from before the change: {v}"
    );
    // And the refusal ended that family for good.
    let v = app
        .gql(Some(&c.slug), None, REFRESH, json!({ "r": early }))
        .await;
    assert_eq!(code(&v), "UNAUTHENTICATED", "{v}");
    // A session begun after the change refreshes as usual.
    let s = fixtures::sign_in(&app, &c.slug, &c.admin_email, "a brand new password 2026").await;
    let fresh = ok(&s)["signIn"]["refreshToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let v = app
        .gql(Some(&c.slug), None, REFRESH, json!({ "r": fresh }))
        .await;
    assert!(ok(&v)["refreshSession"]["accessToken"].is_string(), "{v}");
    app.stop().await;
}

#[tokio::test]
async fn a_refresh_from_before_a_password_change_is_refused_on_sqlite() {
    refresh_after_change(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_refresh_from_before_a_password_change_is_refused_on_postgres() {
    refresh_after_change(Backend::Postgres).await;
}

/// Refreshes racing a password change on PostgreSQL: whatever wins, once the change has
/// committed no access token or refresh token from before it, or from a racing refresh, works.
#[tokio::test]
async fn refreshes_racing_a_password_change_leave_no_session_on_postgres() {
    let app = TestApp::start(Backend::Postgres).await;
    let op = fixtures::operator(&app).await;
    let c = fixtures::campus(&app, &op).await;
    let mut refresh_tokens = vec![];
    for _ in 0..6 {
        let s = fixtures::sign_in(&app, &c.slug, &c.admin_email, PASSWORD).await;
        refresh_tokens.push(
            ok(&s)["signIn"]["refreshToken"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let mut tasks = vec![];
    for r in &refresh_tokens {
        let (client, url, slug, r) = (
            app.client.clone(),
            format!("{}/graphql", app.base),
            c.slug.clone(),
            r.clone(),
        );
        tasks.push(tokio::spawn(async move {
            client
                .post(url)
                .header("X-Tenant", slug)
                .json(&json!({ "query": REFRESH, "variables": { "r": r } }))
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }));
    }
    let change = app
        .gql(
            Some(&c.slug),
            Some(&c.admin_token),
            CHANGE_PASSWORD,
            json!({ "i": { "currentPassword": PASSWORD, "newPassword": "changed during refreshes" } }),
        )
        .await;
    assert_eq!(ok(&change)["changePassword"], true, "{change}");
    let mut survivors = vec![];
    for t in tasks {
        let v = t.await.unwrap();
        if v.get("errors").is_none() {
            let s = &v["data"]["refreshSession"];
            survivors.push((
                s["accessToken"].as_str().unwrap().to_owned(),
                s["refreshToken"].as_str().unwrap().to_owned(),
            ));
        }
    }
    for (access, refresh) in survivors.iter().chain(
        refresh_tokens
            .iter()
            .map(|r| (c.admin_token.clone(), r.clone()))
            .collect::<Vec<_>>()
            .iter(),
    ) {
        let v = app
            .gql(Some(&c.slug), Some(access), VIEWER, json!({}))
            .await;
        assert_eq!(
            code(&v),
            "UNAUTHENTICATED",
            "an access token from before the change: {v}"
        );
        let v = app
            .gql(Some(&c.slug), None, REFRESH, json!({ "r": refresh }))
            .await;
        assert_eq!(
            code(&v),
            "UNAUTHENTICATED",
            "a refresh token from before the change: {v}"
        );
    }
    app.stop().await;
}
