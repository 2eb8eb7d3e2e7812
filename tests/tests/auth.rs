//! Tokens, sessions and sign-in limits.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use spaces_tenants::auth::tokens::{Claims, Subject};
use spaces_tests::app::{code, ok};
use spaces_tests::fixtures::{self, Campus, PASSWORD};
use spaces_tests::{Backend, TestApp};

const VIEWER: &str = "{ viewer { id email } }";
const REFRESH: &str = "mutation($r: String!) { refreshSession(refreshToken: $r) { accessToken refreshToken person { email } } }";
const SIGN_OUT: &str = "mutation($r: String!) { signOut(refreshToken: $r) }";
const CHANGE_PASSWORD: &str = "mutation($i: ChangePasswordInput!) { changePassword(input: $i) }";
const ACCEPT: &str = "mutation($i: AcceptInvitationInput!) { acceptInvitation(input: $i) { accessToken refreshToken person { id email status } } }";
/// The audience every access token is issued for (gateway/src/app.rs).
const AUDIENCE: &str = "spaces-api";
/// The PKCS#8 DER prefix of an Ed25519 private key; the 32-byte seed follows it.
const PKCS8_ED25519_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn pkcs8(seed: &[u8]) -> Vec<u8> {
    assert_eq!(seed.len(), 32, "an Ed25519 seed is 32 bytes");
    let mut der = PKCS8_ED25519_PREFIX.to_vec();
    der.extend_from_slice(seed);
    der
}

/// What a client (or an attacker) knows of the server's key: the public JWKS.
struct Jwks {
    kid: String,
    /// The raw 32-byte public key.
    x: Vec<u8>,
    /// The `x` member as served (base64url text).
    x_text: String,
}

async fn jwks(app: &TestApp) -> Jwks {
    let r = app
        .client
        .get(format!("{}/.well-known/jwks.json", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    let key = &v["keys"][0];
    assert_eq!(key["kty"], "OKP", "{v}");
    assert_eq!(key["crv"], "Ed25519", "{v}");
    assert_eq!(key["alg"], "EdDSA", "{v}");
    let x_text = key["x"].as_str().unwrap().to_owned();
    let x = URL_SAFE_NO_PAD.decode(&x_text).unwrap();
    assert_eq!(x.len(), 32, "{v}");
    Jwks {
        kid: key["kid"].as_str().unwrap().to_owned(),
        x,
        x_text,
    }
}

/// The server's own signing key, read from the PEM it generated into its data directory.
fn real_key(app: &TestApp) -> EncodingKey {
    let pem = std::fs::read_to_string(app.data_dir.join("signing-key.pem")).unwrap();
    let body: String = pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .map(str::trim)
        .collect();
    let der = STANDARD.decode(body).unwrap();
    assert_eq!(der.len(), 48, "a PKCS#8 Ed25519 key");
    EncodingKey::from_ed_der(&pkcs8(&der[der.len() - 32..]))
}

/// Another Ed25519 key, unknown to the server.
fn stranger_key() -> EncodingKey {
    let seed = spaces_tenants::auth::secret::random_bytes::<32>().unwrap();
    EncodingKey::from_ed_der(&pkcs8(&seed))
}

fn ed_header(kid: Option<&str>) -> Header {
    let mut h = Header::new(Algorithm::EdDSA);
    h.kid = kid.map(str::to_owned);
    h
}

fn sign(header: &Header, claims: &Value, key: &EncodingKey) -> String {
    jsonwebtoken::encode(header, claims, key).unwrap()
}

/// Claims shaped as the server issues them (tenants/src/auth/tokens.rs), valid from now on.
fn person_claims(issuer: &str, tenant: &str, person: &str, version: i32) -> Value {
    let now = unix_now();
    serde_json::to_value(Claims {
        iss: issuer.to_owned(),
        aud: AUDIENCE.to_owned(),
        sub: person.to_owned(),
        tid: Some(tenant.to_owned()),
        typ: Subject::Person,
        ver: Some(version),
        iat: now,
        nbf: now,
        exp: now + 600,
    })
    .unwrap()
}

/// The decoded payload of a JWT.
fn payload(token: &str) -> Value {
    let part = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

/// `token` with its payload replaced, header and signature kept.
fn with_payload(token: &str, claims: &Value) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3);
    let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap());
    format!("{}.{body}.{}", parts[0], parts[2])
}

/// `claims` with one member changed (or removed, for `Value::Null`).
fn altered(claims: &Value, key: &str, value: Value) -> Value {
    let mut c = claims.clone();
    let m = c.as_object_mut().unwrap();
    if value.is_null() {
        m.remove(key);
    } else {
        m.insert(key.to_owned(), value);
    }
    c
}

async fn viewer_id(app: &TestApp, slug: &str, token: &str) -> String {
    let v = app.gql(Some(slug), Some(token), VIEWER, json!({})).await;
    ok(&v)["viewer"]["id"].as_str().unwrap().to_owned()
}

/// A fresh session for the campus admin: (access token, refresh token).
async fn admin_session(app: &TestApp, c: &Campus) -> (String, String) {
    let s = fixtures::sign_in(app, &c.slug, &c.admin_email, PASSWORD).await;
    let s = &ok(&s)["signIn"];
    (
        s["accessToken"].as_str().unwrap().to_owned(),
        s["refreshToken"].as_str().unwrap().to_owned(),
    )
}

async fn refresh(app: &TestApp, slug: &str, refresh_token: &str) -> Value {
    app.gql(Some(slug), None, REFRESH, json!({ "r": refresh_token }))
        .await
}

/// The request is refused with `expected`, and nothing of the viewer leaks.
fn assert_refused(v: &Value, expected: &str, what: &str) {
    assert_eq!(code(v), expected, "{what}: {v:#}");
    assert!(
        v["data"].is_null()
            || v["data"]
                .as_object()
                .is_some_and(|d| d.values().all(Value::is_null)),
        "{what}: no data alongside a refusal: {v:#}"
    );
}

async fn forged_tokens(backend: Backend) {
    let app = TestApp::start(backend).await;
    let op = fixtures::operator(&app).await;
    let a = fixtures::campus(&app, &op).await;
    let b = fixtures::campus(&app, &op).await;
    let issuer = app.state.config.issuer.clone();
    let keys = jwks(&app).await;
    assert_eq!(
        keys.kid,
        app.state.deps.keys.kid(),
        "the JWKS serves the signing key's id"
    );
    let real = real_key(&app);
    let admin = viewer_id(&app, &a.slug, &a.admin_token).await;
    let b_admin = viewer_id(&app, &b.slug, &b.admin_token).await;
    let issued = payload(&a.admin_token);
    assert_eq!(issued["tid"], a.id.as_str(), "{issued}");
    assert_eq!(issued["sub"], admin.as_str(), "{issued}");
    let version = i32::try_from(issued["ver"].as_i64().unwrap()).unwrap();

    // The control: a token built to the format and signed with the server's key is accepted,
    // so each refusal below is down to the one thing the forgery changes.
    let good_claims = person_claims(&issuer, &a.id, &admin, version);
    let good = sign(&ed_header(Some(&keys.kid)), &good_claims, &real);
    let v = app.gql(Some(&a.slug), Some(&good), VIEWER, json!({})).await;
    assert_eq!(
        ok(&v)["viewer"]["email"],
        a.admin_email.as_str(),
        "a well-formed token signed with the real key is accepted: {v}"
    );
    let v = app
        .gql(Some(&a.slug), Some(&a.admin_token), VIEWER, json!({}))
        .await;
    assert_eq!(ok(&v)["viewer"]["email"], a.admin_email.as_str());

    // The 30 s leeway, both ways: just expired, or valid in a few seconds, still passes.
    let now = unix_now();
    let hdr = ed_header(Some(&keys.kid));
    let mut lenient = good_claims.clone();
    lenient["exp"] = json!(now - 10);
    lenient["iat"] = json!(now - 910);
    lenient["nbf"] = json!(now - 910);
    let mut early_ok = good_claims.clone();
    early_ok["nbf"] = json!(now + 10);
    early_ok["iat"] = json!(now + 10);
    for (what, claims) in [("expired 10 s ago", &lenient), ("valid in 10 s", &early_ok)] {
        let t = sign(&hdr, claims, &real);
        let v = app.gql(Some(&a.slug), Some(&t), VIEWER, json!({})).await;
        assert!(
            v.get("errors").is_none(),
            "{what}: within the leeway: {v:#}"
        );
    }

    let mut forged: Vec<(&str, String)> = Vec::new();

    // alg "none", with an empty signature (with and without the right kid).
    let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&good_claims).unwrap());
    for header in [
        json!({ "alg": "none", "typ": "JWT" }),
        json!({ "alg": "none", "typ": "JWT", "kid": keys.kid }),
    ] {
        let h = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).unwrap());
        forged.push(("alg none, empty signature", format!("{h}.{body}.")));
    }
    // HS256 keyed with the public key (raw bytes, and the JWKS text), with the right kid.
    let mut hs = Header::new(Algorithm::HS256);
    hs.kid = Some(keys.kid.clone());
    forged.push((
        "HS256 signed with the public key bytes",
        sign(&hs, &good_claims, &EncodingKey::from_secret(&keys.x)),
    ));
    forged.push((
        "HS256 signed with the public key's JWKS text",
        sign(
            &hs,
            &good_claims,
            &EncodingKey::from_secret(keys.x_text.as_bytes()),
        ),
    ));
    forged.push((
        "wrong kid",
        sign(&ed_header(Some("another-key")), &good_claims, &real),
    ));
    forged.push(("missing kid", sign(&ed_header(None), &good_claims, &real)));
    forged.push((
        "wrong iss",
        sign(&hdr, &altered(&good_claims, "iss", json!("evil")), &real),
    ));
    forged.push((
        "wrong aud",
        sign(
            &hdr,
            &altered(&good_claims, "aud", json!("another-api")),
            &real,
        ),
    ));
    let expired = altered(
        &altered(
            &altered(&good_claims, "exp", json!(now - 60)),
            "iat",
            json!(now - 960),
        ),
        "nbf",
        json!(now - 960),
    );
    forged.push((
        "expired 60 s ago (beyond the 30 s leeway)",
        sign(&hdr, &expired, &real),
    ));
    let early = altered(
        &altered(&good_claims, "nbf", json!(now + 120)),
        "iat",
        json!(now + 120),
    );
    forged.push(("not valid for another 120 s", sign(&hdr, &early, &real)));
    forged.push((
        "another Ed25519 key under the real kid",
        sign(&hdr, &good_claims, &stranger_key()),
    ));
    forged.push(("tenant B's admin token at tenant A", b.admin_token.clone()));
    forged.push((
        "an unknown person (deleted) in the right tenant, real key",
        sign(
            &hdr,
            &person_claims(&issuer, &a.id, &uuid::Uuid::now_v7().to_string(), 0),
            &real,
        ),
    ));
    forged.push((
        "tenant B's person claiming tenant A, real key",
        sign(&hdr, &person_claims(&issuer, &a.id, &b_admin, 0), &real),
    ));
    // Tampered payload, signature kept: one character changed, and a re-encoded subject.
    let parts: Vec<&str> = a.admin_token.split('.').collect();
    let mut middle: Vec<char> = parts[1].chars().collect();
    let i = middle.len() / 2;
    middle[i] = if middle[i] == 'A' { 'B' } else { 'A' };
    forged.push((
        "payload with one character changed",
        format!(
            "{}.{}.{}",
            parts[0],
            middle.into_iter().collect::<String>(),
            parts[2]
        ),
    ));
    forged.push((
        "payload re-encoded with tenant B's admin as subject",
        with_payload(
            &a.admin_token,
            &altered(&issued, "sub", json!(b_admin.clone())),
        ),
    ));
    forged.push((
        "person token without tid, real key",
        sign(&hdr, &altered(&good_claims, "tid", Value::Null), &real),
    ));
    forged.push((
        "person token without ver, real key",
        sign(&hdr, &altered(&good_claims, "ver", Value::Null), &real),
    ));
    forged.push((
        "a credential version from the future, real key",
        sign(
            &hdr,
            &altered(&good_claims, "ver", json!(version + 1)),
            &real,
        ),
    ));
    forged.push((
        "typ operator with a tid, real key",
        sign(
            &hdr,
            &altered(&good_claims, "typ", json!("operator")),
            &real,
        ),
    ));
    forged.push((
        "truncated token",
        a.admin_token[..a.admin_token.len() - 10].to_owned(),
    ));
    forged.push((
        "signature part removed",
        format!("{}.{}", parts[0], parts[1]),
    ));
    forged.push(("garbage", "not-a-token".to_owned()));
    forged.push(("three garbage parts", "a.b.c".to_owned()));
    assert!(forged.len() >= 15);

    for (what, token) in &forged {
        let v = app.gql(Some(&a.slug), Some(token), VIEWER, json!({})).await;
        assert_refused(&v, "UNAUTHENTICATED", what);
    }

    // An operator's genuine token is no person's: it reads no viewer in a space.
    let v = app.gql(Some(&a.slug), Some(&op), VIEWER, json!({})).await;
    assert_refused(&v, "UNAUTHENTICATED", "an operator token at a space");

    // Nothing above disturbed the real sessions.
    let v = app
        .gql(Some(&a.slug), Some(&a.admin_token), VIEWER, json!({}))
        .await;
    assert_eq!(ok(&v)["viewer"]["email"], a.admin_email.as_str());

    // A suspended space refuses its own valid tokens, issued or built, and refreshes.
    let (_, refresh_token) = admin_session(&app, &a).await;
    let v = app
        .gql(
            None,
            Some(&op),
            "mutation($id: ID!) { suspendTenant(id: $id) { status } }",
            json!({ "id": a.id }),
        )
        .await;
    assert_eq!(ok(&v)["suspendTenant"]["status"], "SUSPENDED");
    for (what, token) in [
        ("issued token, suspended space", &a.admin_token),
        ("built token, suspended space", &good),
    ] {
        let v = app.gql(Some(&a.slug), Some(token), VIEWER, json!({})).await;
        assert_refused(&v, "FORBIDDEN", what);
    }
    let v = refresh(&app, &a.slug, &refresh_token).await;
    assert_refused(&v, "FORBIDDEN", "refresh in a suspended space");
    // The other space is untouched.
    let v = app
        .gql(Some(&b.slug), Some(&b.admin_token), VIEWER, json!({}))
        .await;
    assert_eq!(ok(&v)["viewer"]["email"], b.admin_email.as_str());
    app.stop().await;
}

#[tokio::test]
async fn forged_and_invalid_access_tokens_are_refused_on_sqlite() {
    forged_tokens(Backend::Sqlite).await;
}

#[tokio::test]
async fn forged_and_invalid_access_tokens_are_refused_on_postgres() {
    forged_tokens(Backend::Postgres).await;
}

async fn password_change(backend: Backend) {
    let app = TestApp::start(backend).await;
    let op = fixtures::operator(&app).await;
    let c = fixtures::campus(&app, &op).await;
    let (access, refresh_token) = admin_session(&app, &c).await;
    let (other_access, other_refresh) = admin_session(&app, &c).await;
    let before = payload(&access)["ver"].as_i64().unwrap();

    let new_password = "a brand new long passphrase";
    let v = app
        .gql(
            Some(&c.slug),
            Some(&access),
            CHANGE_PASSWORD,
            json!({ "i": { "currentPassword": "not my password", "newPassword": new_password } }),
        )
        .await;
    assert_eq!(code(&v), "BAD_USER_INPUT", "{v}");
    assert_eq!(v["errors"][0]["extensions"]["field"], "currentPassword");
    let v = app
        .gql(
            Some(&c.slug),
            Some(&access),
            CHANGE_PASSWORD,
            json!({ "i": { "currentPassword": PASSWORD, "newPassword": new_password } }),
        )
        .await;
    assert_eq!(ok(&v)["changePassword"], true, "{v}");

    // Every token issued before the change is stale: this session's and the other one's.
    for (what, token) in [
        ("the access token that changed the password", &access),
        ("another session's access token", &other_access),
        ("the fixture's invitation session", &c.admin_token),
    ] {
        let v = app.gql(Some(&c.slug), Some(token), VIEWER, json!({})).await;
        assert_refused(&v, "UNAUTHENTICATED", what);
    }
    for (what, r) in [
        ("this session's refresh token", &refresh_token),
        ("another session's refresh token", &other_refresh),
    ] {
        let v = refresh(&app, &c.slug, r).await;
        assert_refused(&v, "UNAUTHENTICATED", what);
    }

    // The old password no longer signs in; the new one does, with a newer version.
    let v = fixtures::sign_in(&app, &c.slug, &c.admin_email, PASSWORD).await;
    assert_refused(&v, "UNAUTHENTICATED", "the old password");
    let v = fixtures::sign_in(&app, &c.slug, &c.admin_email, new_password).await;
    let fresh = ok(&v)["signIn"]["accessToken"].as_str().unwrap().to_owned();
    assert!(
        payload(&fresh)["ver"].as_i64().unwrap() > before,
        "the new token carries the new credential version"
    );
    let v = app
        .gql(Some(&c.slug), Some(&fresh), VIEWER, json!({}))
        .await;
    assert_eq!(ok(&v)["viewer"]["email"], c.admin_email.as_str());
    app.stop().await;
}

#[tokio::test]
async fn a_password_change_ends_every_earlier_token_on_sqlite() {
    password_change(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_password_change_ends_every_earlier_token_on_postgres() {
    password_change(Backend::Postgres).await;
}

async fn concurrent_refresh(backend: Backend) {
    let app = TestApp::start(backend).await;
    let op = fixtures::operator(&app).await;
    let c = fixtures::campus(&app, &op).await;
    let (_, r1) = admin_session(&app, &c).await;

    let mut tasks = Vec::new();
    for _ in 0..50 {
        let client = app.client.clone();
        let url = format!("{}/graphql", app.base);
        let slug = c.slug.clone();
        let r1 = r1.clone();
        tasks.push(tokio::spawn(async move {
            client
                .post(url)
                .header("X-Tenant", slug)
                .json(&json!({ "query": REFRESH, "variables": { "r": r1 } }))
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }));
    }
    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await.unwrap());
    }
    let mut tally: BTreeMap<String, usize> = BTreeMap::new();
    for v in &answers {
        let c = code(v);
        *tally
            .entry(if c.is_empty() { "ok".into() } else { c })
            .or_default() += 1;
    }
    assert_eq!(
        tally.get("ok").copied(),
        Some(1),
        "exactly one of 50 concurrent refreshes wins: {tally:?}"
    );
    assert_eq!(
        tally.get("UNAUTHENTICATED").copied(),
        Some(49),
        "the others are refused as reuse: {tally:?}; {:#}",
        answers
            .iter()
            .find(|v| !matches!(code(v).as_str(), "" | "UNAUTHENTICATED"))
            .unwrap_or(&Value::Null)
    );
    let won = answers.iter().find(|v| v.get("errors").is_none()).unwrap();
    let s = &won["data"]["refreshSession"];
    assert_eq!(s["person"]["email"], c.admin_email.as_str());
    assert_ne!(s["refreshToken"], r1.as_str(), "a new refresh token");
    let v = app
        .gql(Some(&c.slug), s["accessToken"].as_str(), VIEWER, json!({}))
        .await;
    assert_eq!(ok(&v)["viewer"]["email"], c.admin_email.as_str());
    // R1 stays spent.
    let v = refresh(&app, &c.slug, &r1).await;
    assert_refused(&v, "UNAUTHENTICATED", "R1 after the race");
    app.stop().await;
}

#[tokio::test]
async fn fifty_concurrent_refreshes_one_wins_on_sqlite() {
    concurrent_refresh(Backend::Sqlite).await;
}

#[tokio::test]
async fn fifty_concurrent_refreshes_one_wins_on_postgres() {
    concurrent_refresh(Backend::Postgres).await;
}

async fn refresh_families(backend: Backend) {
    let app = TestApp::start(backend).await;
    let op = fixtures::operator(&app).await;
    let a = fixtures::campus(&app, &op).await;
    let b = fixtures::campus(&app, &op).await;
    let (_, r1) = admin_session(&app, &a).await;
    // A second sign-in is a family of its own.
    let (_, other_family) = admin_session(&app, &a).await;

    // R1 -> R2; the new access token works.
    let v = refresh(&app, &a.slug, &r1).await;
    let s = &ok(&v)["refreshSession"];
    let r2 = s["refreshToken"].as_str().unwrap().to_owned();
    assert_ne!(r2, r1);
    let v = app
        .gql(Some(&a.slug), s["accessToken"].as_str(), VIEWER, json!({}))
        .await;
    assert_eq!(ok(&v)["viewer"]["email"], a.admin_email.as_str());

    // R1 again: refused, and the whole family ends, R2 included.
    let v = refresh(&app, &a.slug, &r1).await;
    assert_refused(&v, "UNAUTHENTICATED", "reusing a rotated refresh token");
    let v = refresh(&app, &a.slug, &r2).await;
    assert_refused(
        &v,
        "UNAUTHENTICATED",
        "R2 after its family was revoked by R1's reuse",
    );
    // The other sign-in's family is untouched.
    let v = refresh(&app, &a.slug, &other_family).await;
    let r3 = ok(&v)["refreshSession"]["refreshToken"]
        .as_str()
        .unwrap()
        .to_owned();

    // Sign-out ends the family of the token presented.
    let (access, r4) = admin_session(&app, &a).await;
    let v = app
        .gql(Some(&a.slug), Some(&access), SIGN_OUT, json!({ "r": r4 }))
        .await;
    assert_eq!(ok(&v)["signOut"], true, "{v}");
    let v = refresh(&app, &a.slug, &r4).await;
    assert_refused(&v, "UNAUTHENTICATED", "a refresh token after sign-out");
    let v = refresh(&app, &a.slug, &r3).await;
    assert!(
        ok(&v)["refreshSession"]["refreshToken"].is_string(),
        "signing out one session leaves the others: {v}"
    );
    // Signing out needs a signed-in caller.
    let (_, r5) = admin_session(&app, &a).await;
    let v = app
        .gql(Some(&a.slug), None, SIGN_OUT, json!({ "r": r5 }))
        .await;
    assert_refused(&v, "UNAUTHENTICATED", "anonymous sign-out");

    // Someone else's refresh token cannot be signed out by another person.
    let company = fixtures::company(&app, &a, "Durand").await;
    let (_, lea_access) = fixtures::member(
        &app,
        &a,
        &a.admin_token,
        &company,
        "lea@durand.test",
        "LEARNER",
    )
    .await;
    let v = app
        .gql(
            Some(&a.slug),
            Some(&lea_access),
            SIGN_OUT,
            json!({ "r": r5 }),
        )
        .await;
    assert_eq!(ok(&v)["signOut"], false, "not the caller's session: {v}");
    let v = refresh(&app, &a.slug, &r5).await;
    assert!(
        ok(&v)["refreshSession"]["refreshToken"].is_string(),
        "the admin's session survives another person's sign-out attempt: {v}"
    );

    // A refresh token from B presented at A finds nothing, and B's session is unharmed.
    let (_, rb) = admin_session(&app, &b).await;
    let v = refresh(&app, &a.slug, &rb).await;
    assert_refused(&v, "UNAUTHENTICATED", "tenant B's refresh token at A");
    let v = refresh(&app, &b.slug, &rb).await;
    assert_eq!(
        ok(&v)["refreshSession"]["person"]["email"],
        b.admin_email.as_str()
    );
    // Unknown tokens are refused the same way.
    let v = refresh(&app, &a.slug, "no-such-refresh-token").await;
    assert_refused(&v, "UNAUTHENTICATED", "an unknown refresh token");
    app.stop().await;
}

#[tokio::test]
async fn refresh_token_reuse_sign_out_and_foreign_tokens_on_sqlite() {
    refresh_families(Backend::Sqlite).await;
}

#[tokio::test]
async fn refresh_token_reuse_sign_out_and_foreign_tokens_on_postgres() {
    refresh_families(Backend::Postgres).await;
}

/// Clients often attach their access token to every request, refreshSession included.
async fn refresh_with_access_token(backend: Backend) {
    let app = TestApp::start(backend).await;
    let op = fixtures::operator(&app).await;
    let c = fixtures::campus(&app, &op).await;
    let (access, r1) = admin_session(&app, &c).await;
    let started = std::time::Instant::now();
    let v = app
        .gql(Some(&c.slug), Some(&access), REFRESH, json!({ "r": r1 }))
        .await;
    assert_eq!(
        ok(&v)["refreshSession"]["person"]["email"],
        c.admin_email.as_str(),
        "refreshSession with a valid Authorization header: {v}"
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "answered promptly, took {:?}",
        started.elapsed()
    );

    // Several such clients at once (more than the pool's connections): all are served.
    let mut sessions = Vec::new();
    for _ in 0..16 {
        sessions.push(admin_session(&app, &c).await);
    }
    let started = std::time::Instant::now();
    let mut tasks = Vec::new();
    for (access, r) in sessions {
        let client = app.client.clone();
        let url = format!("{}/graphql", app.base);
        let slug = c.slug.clone();
        tasks.push(tokio::spawn(async move {
            client
                .post(url)
                .header("X-Tenant", slug)
                .header("Authorization", format!("Bearer {access}"))
                .json(&json!({ "query": REFRESH, "variables": { "r": r } }))
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }));
    }
    for t in tasks {
        let v = t.await.unwrap();
        assert_eq!(
            ok(&v)["refreshSession"]["person"]["email"],
            c.admin_email.as_str(),
            "concurrent refreshSession with Authorization headers: {v}"
        );
    }
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "16 concurrent refreshes answered promptly, took {:?}",
        started.elapsed()
    );
    app.stop().await;
}

#[tokio::test]
async fn refresh_while_sending_a_valid_access_token_on_sqlite() {
    refresh_with_access_token(Backend::Sqlite).await;
}

#[tokio::test]
async fn refresh_while_sending_a_valid_access_token_on_postgres() {
    refresh_with_access_token(Backend::Postgres).await;
}

async fn sign_in_limits(backend: Backend) {
    let app = TestApp::start(backend).await;
    let op = fixtures::operator(&app).await;
    let c = fixtures::campus(&app, &op).await;

    for i in 1..=10 {
        let v = fixtures::sign_in(
            &app,
            &c.slug,
            &c.admin_email,
            &format!("wrong password number {i}"),
        )
        .await;
        assert_refused(&v, "UNAUTHENTICATED", &format!("wrong password #{i}"));
    }
    let v = fixtures::sign_in(&app, &c.slug, &c.admin_email, PASSWORD).await;
    assert_refused(&v, "RATE_LIMITED", "the 11th attempt, right password");
    let retry = v["errors"][0]["extensions"]["retryAfterSeconds"]
        .as_u64()
        .unwrap_or(0);
    assert!(
        retry > 0 && retry <= 15 * 60,
        "retryAfterSeconds within the 15-minute window: {v}"
    );
    let v = fixtures::sign_in(&app, &c.slug, &c.admin_email, "wrong again").await;
    assert_refused(&v, "RATE_LIMITED", "the 12th attempt, wrong password");

    // In another space (its own counters): an unknown email and a wrong password read the same.
    let d = fixtures::campus(&app, &op).await;
    let unknown =
        fixtures::sign_in(&app, &d.slug, &format!("nobody@{}.test", d.slug), PASSWORD).await;
    let wrong = fixtures::sign_in(&app, &d.slug, &d.admin_email, "not the password at all").await;
    assert_refused(&unknown, "UNAUTHENTICATED", "unknown email");
    assert_refused(&wrong, "UNAUTHENTICATED", "wrong password");
    assert_eq!(
        unknown["errors"][0]["message"], wrong["errors"][0]["message"],
        "an unknown email and a wrong password cannot be told apart: {unknown} / {wrong}"
    );
    let v = fixtures::sign_in(&app, &d.slug, &d.admin_email, PASSWORD).await;
    assert_eq!(
        ok(&v)["signIn"]["person"]["email"],
        d.admin_email.as_str(),
        "a few failures do not lock the account: {v}"
    );
    app.stop().await;
}

#[tokio::test]
async fn sign_in_failures_are_rate_limited_on_sqlite() {
    sign_in_limits(Backend::Sqlite).await;
}

#[tokio::test]
async fn sign_in_failures_are_rate_limited_on_postgres_and_redis() {
    sign_in_limits(Backend::Postgres).await;
}

async fn invitations(backend: Backend) {
    let app = TestApp::start(backend).await;
    let op = fixtures::operator(&app).await;
    let c = fixtures::campus(&app, &op).await;
    let other = fixtures::campus(&app, &op).await;
    let company = fixtures::company(&app, &c, "Fromagerie Durand").await;
    let email = "lea@durand.test";
    let v = app
        .gql(
            Some(&c.slug),
            Some(&c.admin_token),
            "mutation($i: InvitePersonInput!) { invitePerson(input: $i) { id status } }",
            json!({ "i": { "email": email, "givenName": "Léa", "familyName": "Durand", "organisationId": company } }),
        )
        .await;
    assert_eq!(ok(&v)["invitePerson"]["status"], "INVITED");
    let token = fixtures::invitation_token(&app, &c.slug, email).await;

    // Not signed in before acceptance.
    let v = fixtures::sign_in(&app, &c.slug, email, PASSWORD).await;
    assert_refused(&v, "UNAUTHENTICATED", "sign-in before accepting");

    // Too short a password names the field and leaves the invitation usable.
    let v = app
        .gql(
            Some(&c.slug),
            None,
            ACCEPT,
            json!({ "i": { "token": token, "password": "short" } }),
        )
        .await;
    assert_refused(&v, "BAD_USER_INPUT", "a 5-character password");
    assert_eq!(v["errors"][0]["extensions"]["field"], "password", "{v}");

    // The invitation belongs to its space.
    let v = app
        .gql(
            Some(&other.slug),
            None,
            ACCEPT,
            json!({ "i": { "token": token, "password": PASSWORD } }),
        )
        .await;
    assert_refused(
        &v,
        "BAD_USER_INPUT",
        "an invitation accepted in another space",
    );
    assert_eq!(v["errors"][0]["extensions"]["field"], "token", "{v}");

    let v = app
        .gql(
            Some(&c.slug),
            None,
            ACCEPT,
            json!({ "i": { "token": token, "password": PASSWORD } }),
        )
        .await;
    let s = &ok(&v)["acceptInvitation"];
    assert_eq!(s["person"]["email"], email);
    assert_eq!(s["person"]["status"], "ACTIVE");
    let v = app
        .gql(Some(&c.slug), s["accessToken"].as_str(), VIEWER, json!({}))
        .await;
    assert_eq!(ok(&v)["viewer"]["email"], email);

    // Single use: the second acceptance fails on the token, as an unknown one does.
    let again = app
        .gql(
            Some(&c.slug),
            None,
            ACCEPT,
            json!({ "i": { "token": token, "password": "another long password" } }),
        )
        .await;
    assert_refused(&again, "BAD_USER_INPUT", "accepting twice");
    assert_eq!(
        again["errors"][0]["extensions"]["field"], "token",
        "{again}"
    );
    let unknown = app
        .gql(
            Some(&c.slug),
            None,
            ACCEPT,
            json!({ "i": { "token": "no-such-invitation", "password": PASSWORD } }),
        )
        .await;
    assert_eq!(
        again["errors"][0]["message"], unknown["errors"][0]["message"],
        "a used token reads as an unknown one: {again} / {unknown}"
    );
    // The second try did not change the password.
    let v = fixtures::sign_in(&app, &c.slug, email, "another long password").await;
    assert_refused(
        &v,
        "UNAUTHENTICATED",
        "the password of the refused second acceptance",
    );
    let v = fixtures::sign_in(&app, &c.slug, email, PASSWORD).await;
    assert_eq!(ok(&v)["signIn"]["person"]["email"], email);
    app.stop().await;
}

#[tokio::test]
async fn invitations_are_single_use_and_survive_a_bad_password_on_sqlite() {
    invitations(Backend::Sqlite).await;
}

#[tokio::test]
async fn invitations_are_single_use_and_survive_a_bad_password_on_postgres() {
    invitations(Backend::Postgres).await;
}

async fn revoked_role(backend: Backend) {
    let app = TestApp::start(backend).await;
    let op = fixtures::operator(&app).await;
    let c = fixtures::campus(&app, &op).await;
    let company = fixtures::company(&app, &c, "Fromagerie Durand").await;
    let (lea, lea_token) = fixtures::member(
        &app,
        &c,
        &c.admin_token,
        &company,
        "lea@durand.test",
        "LEARNER",
    )
    .await;
    let (colleague, _) = fixtures::member(
        &app,
        &c,
        &c.admin_token,
        &company,
        "paul@durand.test",
        "LEARNER",
    )
    .await;
    let people =
        "query($o: ID) { people(organisationId: $o, first: 50) { edges { node { email } } } }";
    let person = "query($id: ID!) { person(id: $id) { email } }";
    let emails = |v: &Value| -> Vec<String> {
        ok(v)["people"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"]["email"].as_str().unwrap().to_owned())
            .collect()
    };

    // A learner sees only themselves.
    let v = app
        .gql(
            Some(&c.slug),
            Some(&lea_token),
            people,
            json!({ "o": null }),
        )
        .await;
    assert_eq!(emails(&v), vec!["lea@durand.test"]);
    let v = app
        .gql(
            Some(&c.slug),
            Some(&lea_token),
            person,
            json!({ "id": colleague }),
        )
        .await;
    assert_refused(&v, "NOT_FOUND", "a colleague, as a learner");

    // Granted HR of the company: the same token now sees the company's people.
    let v = app
        .gql(
            Some(&c.slug),
            Some(&c.admin_token),
            "mutation($p: ID!, $o: ID!) { grantRole(personId: $p, organisationId: $o, role: ORG_ADMIN) }",
            json!({ "p": lea, "o": company }),
        )
        .await;
    let granted = ok(&v)["grantRole"].as_str().unwrap().to_owned();
    let v = app
        .gql(
            Some(&c.slug),
            Some(&lea_token),
            people,
            json!({ "o": company }),
        )
        .await;
    assert_eq!(emails(&v), vec!["lea@durand.test", "paul@durand.test"]);
    let v = app
        .gql(
            Some(&c.slug),
            Some(&lea_token),
            person,
            json!({ "id": colleague }),
        )
        .await;
    assert_eq!(ok(&v)["person"]["email"], "paul@durand.test");

    // The admin finds the grant on the person and revokes it.
    let v = app
        .gql(
            Some(&c.slug),
            Some(&c.admin_token),
            "query($id: ID!) { person(id: $id) { roles { id role organisationId } } }",
            json!({ "id": lea }),
        )
        .await;
    let roles = ok(&v)["person"]["roles"].as_array().unwrap().clone();
    let grant = roles
        .iter()
        .find(|r| r["role"] == "ORG_ADMIN")
        .unwrap_or_else(|| panic!("an ORG_ADMIN grant: {v}"));
    assert_eq!(grant["id"], granted.as_str());
    assert_eq!(grant["organisationId"], company.as_str());
    let v = app
        .gql(
            Some(&c.slug),
            Some(&c.admin_token),
            "mutation($g: ID!) { revokeRole(grantId: $g) }",
            json!({ "g": granted }),
        )
        .await;
    assert_eq!(ok(&v)["revokeRole"], true);

    // The very next request with the same access token has lost the role.
    let v = app
        .gql(
            Some(&c.slug),
            Some(&lea_token),
            person,
            json!({ "id": colleague }),
        )
        .await;
    assert_refused(&v, "NOT_FOUND", "a colleague after the revocation");
    let v = app
        .gql(
            Some(&c.slug),
            Some(&lea_token),
            people,
            json!({ "o": company }),
        )
        .await;
    assert_refused(&v, "NOT_FOUND", "the company's people after the revocation");
    let v = app
        .gql(
            Some(&c.slug),
            Some(&lea_token),
            people,
            json!({ "o": null }),
        )
        .await;
    assert_eq!(emails(&v), vec!["lea@durand.test"]);
    let v = app
        .gql(
            Some(&c.slug),
            Some(&lea_token),
            "{ viewer { roles { role } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        ok(&v)["viewer"]["roles"],
        json!([{ "role": "LEARNER" }]),
        "{v}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_revoked_role_stops_on_the_next_request_on_sqlite() {
    revoked_role(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_revoked_role_stops_on_the_next_request_on_postgres() {
    revoked_role(Backend::Postgres).await;
}

/// A stolen access token cannot be used to guess the password through changePassword.
async fn change_password_guessing(backend: Backend) {
    let app = TestApp::start(backend).await;
    let op = fixtures::operator(&app).await;
    let c = fixtures::campus(&app, &op).await;
    let change = "mutation($i: ChangePasswordInput!) { changePassword(input: $i) }";
    for i in 0..10 {
        let v = app
            .gql(Some(&c.slug), Some(&c.admin_token), change, json!({ "i": { "currentPassword": format!("guess number {i}"), "newPassword": "a brand new password" } }))
            .await;
        assert_eq!(code(&v), "BAD_USER_INPUT", "guess {i}: {v}");
        assert_eq!(v["errors"][0]["extensions"]["field"], "currentPassword");
    }
    let v = app
        .gql(
            Some(&c.slug),
            Some(&c.admin_token),
            change,
            json!({ "i": { "currentPassword": PASSWORD, "newPassword": "a brand new password" } }),
        )
        .await;
    assert_eq!(
        code(&v),
        "RATE_LIMITED",
        "the 11th try is refused, even with the right password: {v}"
    );
    let s = fixtures::sign_in(&app, &c.slug, &c.admin_email, PASSWORD).await;
    assert!(
        ok(&s)["signIn"]["accessToken"].is_string(),
        "the password did not change"
    );
    app.stop().await;
}

#[tokio::test]
async fn change_password_guessing_is_rate_limited_on_sqlite() {
    change_password_guessing(Backend::Sqlite).await;
}

#[tokio::test]
async fn change_password_guessing_is_rate_limited_on_postgres() {
    change_password_guessing(Backend::Postgres).await;
}

/// Failures are also counted per client address: thirty wrong guesses at thirty accounts from
/// one address, and the next account is refused too.
#[tokio::test]
async fn sign_in_failures_are_limited_per_address() {
    let app = TestApp::start(Backend::Postgres).await;
    let op = fixtures::operator(&app).await;
    let c = fixtures::campus(&app, &op).await;
    let limit = spaces_tenants::auth::limiter::ADDRESS_MAX_FAILURES;
    for i in 0..limit {
        let v = fixtures::sign_in(
            &app,
            &c.slug,
            &format!("someone{i}@example.org"),
            "not the password",
        )
        .await;
        assert_eq!(code(&v), "UNAUTHENTICATED", "attempt {i}: {v}");
    }
    let v = fixtures::sign_in(&app, &c.slug, &c.admin_email, PASSWORD).await;
    assert_eq!(code(&v), "RATE_LIMITED", "{v}");
    app.stop().await;
}

/// An identity belongs to one space: the same email in two spaces is two people, with their
/// own passwords, and case does not make a third.
#[tokio::test]
async fn the_same_email_in_two_spaces_is_two_people() {
    let app = TestApp::start(Backend::Sqlite).await;
    let op = fixtures::operator(&app).await;
    let a = fixtures::campus(&app, &op).await;
    let b = fixtures::campus(&app, &op).await;
    let a_org = fixtures::company(&app, &a, "A").await;
    let b_org = fixtures::company(&app, &b, "B").await;
    let (in_a, _) = fixtures::member(
        &app,
        &a,
        &a.admin_token,
        &a_org,
        "sam@example.org",
        "LEARNER",
    )
    .await;
    let (in_b, _) = fixtures::member(
        &app,
        &b,
        &b.admin_token,
        &b_org,
        "sam@example.org",
        "LEARNER",
    )
    .await;
    assert_ne!(in_a, in_b);
    let v = app
        .gql(
            Some(&a.slug),
            Some(&a.admin_token),
            "mutation($i: InvitePersonInput!) { invitePerson(input: $i) { id } }",
            json!({ "i": { "email": "SAM@Example.org", "givenName": "Sam", "familyName": "Again", "organisationId": a_org } }),
        )
        .await;
    assert_eq!(code(&v), "CONFLICT", "emails compare without case: {v}");
    assert_eq!(v["errors"][0]["extensions"]["field"], "email");
    let s = fixtures::sign_in(&app, &a.slug, "Sam@Example.ORG", PASSWORD).await;
    assert_eq!(ok(&s)["signIn"]["person"]["id"], in_a.as_str());
    let s = fixtures::sign_in(&app, &b.slug, "sam@example.org", PASSWORD).await;
    assert_eq!(ok(&s)["signIn"]["person"]["id"], in_b.as_str());
    app.stop().await;
}

/// Only a tenant admin revokes a tenant admin, and a space keeps one active tenant admin.
async fn tenant_admin_revocation(backend: Backend) {
    let app = TestApp::start(backend).await;
    let op = fixtures::operator(&app).await;
    let c = fixtures::campus(&app, &op).await;
    let roles = "query($id: ID!) { person(id: $id) { roles { id role } } }";
    let me = ok(&app
        .gql(
            Some(&c.slug),
            Some(&c.admin_token),
            "{ viewer { id } }",
            json!({}),
        )
        .await)["viewer"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let admin_grant = ok(&app
        .gql(
            Some(&c.slug),
            Some(&c.admin_token),
            roles,
            json!({ "id": me }),
        )
        .await)["person"]["roles"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // An HR admin on the root manages the whole tree, but is not a tenant admin.
    let (_, root_hr) = fixtures::member(
        &app,
        &c,
        &c.admin_token,
        &c.root_id,
        "hr@root.test",
        "ORG_ADMIN",
    )
    .await;
    let revoke = "mutation($g: ID!) { revokeRole(grantId: $g) }";
    let v = app
        .gql(
            Some(&c.slug),
            Some(&root_hr),
            revoke,
            json!({ "g": admin_grant }),
        )
        .await;
    assert_eq!(code(&v), "FORBIDDEN", "{v}");
    let v = app
        .gql(
            Some(&c.slug),
            Some(&c.admin_token),
            revoke,
            json!({ "g": admin_grant }),
        )
        .await;
    assert_eq!(
        code(&v),
        "CONFLICT",
        "the last active tenant admin stays: {v}"
    );
    // With a second, active tenant admin, the first one's grant can go.
    let (_, _) = fixtures::member(
        &app,
        &c,
        &c.admin_token,
        &c.root_id,
        "admin2@root.test",
        "TENANT_ADMIN",
    )
    .await;
    let v = app
        .gql(
            Some(&c.slug),
            Some(&c.admin_token),
            revoke,
            json!({ "g": admin_grant }),
        )
        .await;
    assert_eq!(
        ok(&v)["revokeRole"],
        true,
        "with another active admin, it goes: {v}"
    );
    let v = app
        .gql(
            Some(&c.slug),
            Some(&c.admin_token),
            "{ viewer { roles { role } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        ok(&v)["viewer"]["roles"].as_array().unwrap().len(),
        0,
        "the revoked role stops at once"
    );
    app.stop().await;
}

#[tokio::test]
async fn tenant_admin_revocation_on_sqlite() {
    tenant_admin_revocation(Backend::Sqlite).await;
}

#[tokio::test]
async fn tenant_admin_revocation_on_postgres() {
    tenant_admin_revocation(Backend::Postgres).await;
}
