//! Statement attachments as a learning platform sends them: `multipart/mixed` with the statement
//! first and each attachment's bytes named by their SHA-256, read back with `attachments=true`;
//! every malformed request refused with nothing stored; signed statements; and one space's
//! attachments out of every other's reach.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use spaces_tests::fixtures;
use spaces_tests::xapi::{Lrs, mixed, mixed_raw, parts_of, sha2};
use spaces_tests::{Backend, TestApp};

const SIGNATURE: &str = "http://adlnet.gov/expapi/attachments/signature";
const TEXT: &[u8] = b"Well done, Lea: module 1 completed.\r\n--not-a-boundary\r\n";

fn plain() -> Value {
    json!({
        "actor": { "objectType": "Agent", "mbox": "mailto:lea@example.com" },
        "verb": { "id": "http://adlnet.gov/expapi/verbs/completed", "display": { "en-US": "completed" } },
        "object": { "objectType": "Activity", "id": "https://lms.example/m1" }
    })
}

fn statement(attachments: Value) -> Value {
    let mut s = plain();
    s["attachments"] = attachments;
    s
}

fn attachment(content_type: &str, content: &[u8]) -> Value {
    json!({
        "usageType": "http://example.com/attachment-usage/note",
        "display": { "en-US": "A note" },
        "contentType": content_type,
        "length": content.len(),
        "sha2": sha2(content)
    })
}

/// A statement about a SubStatement that carries an attachment of `content`.
fn about_a_substatement(content: &[u8]) -> Value {
    let mut sub = plain();
    sub["objectType"] = json!("SubStatement");
    sub["attachments"] = json!([attachment("text/plain", content)]);
    let mut s = plain();
    s["object"] = sub;
    s
}

/// A request's answer: status, Content-Type and bytes.
async fn send(lrs: &Lrs, method: Method, path: &str, ct: &str, body: Vec<u8>) -> (u16, Vec<u8>) {
    let r = lrs
        .request(method, path)
        .header("Content-Type", ct)
        .body(body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.bytes().await.unwrap().to_vec())
}

async fn get(lrs: &Lrs, query: &str) -> (String, Vec<u8>) {
    let r = lrs
        .request(Method::GET, &format!("statements?{query}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{query}");
    let ct = r.headers()["content-type"].to_str().unwrap().to_owned();
    (ct, r.bytes().await.unwrap().to_vec())
}

type Dump = std::collections::BTreeMap<&'static str, Vec<Value>>;

/// Nothing was stored: every LRS table of the space holds what it held (the outbox delivers the
/// campus's invitation mail meanwhile, so the other tables may move).
fn unchanged(before: &Dump, after: &Dump) {
    for (table, rows) in before.iter().filter(|(t, _)| t.starts_with("xapi_")) {
        assert_eq!(&after[table], rows, "{table} changed");
    }
}

async fn round_trip(backend: Backend) {
    let app = TestApp::start(backend).await;
    let op = fixtures::operator(&app).await;
    let c = fixtures::campus(&app, &op).await;
    let lrs = Lrs::of(&app, &c).await;

    // POST one statement with its text attachment.
    let s = statement(json!([attachment("text/plain", TEXT)]));
    let (ct, body) = mixed(&s, &[("text/plain", TEXT)]);
    let (status, answer) = send(&lrs, Method::POST, "statements", &ct, body).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&answer));
    let ids: Vec<String> = serde_json::from_slice(&answer).unwrap();
    let id = &ids[0];

    // Read back with its attachment: the statement, then the very bytes sent.
    let (ct, body) = get(&lrs, &format!("statementId={id}&attachments=true")).await;
    assert!(ct.starts_with("multipart/mixed; boundary="), "{ct}");
    let parts = parts_of(&ct, &body);
    assert_eq!(parts.len(), 2);
    assert!(
        parts[0]
            .header("content-type")
            .starts_with("application/json")
    );
    let got: Value = serde_json::from_slice(&parts[0].content).unwrap();
    assert_eq!(got["id"], id.as_str());
    assert_eq!(got["attachments"][0]["sha2"], sha2(TEXT));
    assert_eq!(parts[1].header("x-experience-api-hash"), sha2(TEXT));
    assert_eq!(parts[1].header("content-type"), "text/plain");
    assert_eq!(parts[1].header("content-transfer-encoding"), "binary");
    assert_eq!(parts[1].content, TEXT);

    // Without attachments=true (or with false): JSON as always.
    for query in [
        format!("statementId={id}"),
        format!("statementId={id}&attachments=false"),
    ] {
        let (ct, body) = get(&lrs, &query).await;
        assert!(ct.starts_with("application/json"), "{ct}");
        let got: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(got["id"], id.as_str());
    }

    // PUT a second statement with the same attachment: its bytes are kept once.
    let second = uuid::Uuid::now_v7().to_string();
    let (ct, body) = mixed(&s, &[("text/plain", TEXT)]);
    let (status, answer) = send(
        &lrs,
        Method::PUT,
        &format!("statements?statementId={second}"),
        &ct,
        body,
    )
    .await;
    assert_eq!(status, 204, "{}", String::from_utf8_lossy(&answer));
    assert_eq!(app.dump_tenant(&c.id).await["xapi_attachments"].len(), 1);

    // A page with both: one part for the one hash.
    let (ct, body) = get(&lrs, "attachments=true").await;
    let parts = parts_of(&ct, &body);
    assert_eq!(parts.len(), 2, "one JSON part and one attachment part");
    let page: Value = serde_json::from_slice(&parts[0].content).unwrap();
    assert_eq!(page["statements"].as_array().unwrap().len(), 2);
    assert_eq!(parts[1].content, TEXT);
    // Paged, the `more` link keeps asking for the attachments.
    let (ct, body) = get(&lrs, "attachments=true&limit=1").await;
    let parts = parts_of(&ct, &body);
    let page: Value = serde_json::from_slice(&parts[0].content).unwrap();
    let more = page["more"].as_str().unwrap();
    let (ct, body) = get(&lrs, more.trim_start_matches("/xapi/statements?")).await;
    let parts = parts_of(&ct, &body);
    assert_eq!(parts.len(), 2, "{ct}");
    assert_eq!(parts[1].content, TEXT);
    let (ct, body) = get(&lrs, "").await;
    assert!(ct.starts_with("application/json"), "{ct}");
    let page: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(page["statements"].as_array().unwrap().len(), 2);

    // A SubStatement's attachment travels as a part too, and is served with its statement.
    let note = b"the sub-statement's note";
    let sub = about_a_substatement(note);
    let (ct, body) = mixed(&sub, &[("text/plain", note)]);
    let (status, answer) = send(&lrs, Method::POST, "statements", &ct, body).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&answer));
    let ids: Vec<String> = serde_json::from_slice(&answer).unwrap();
    let (ct, body) = get(&lrs, &format!("statementId={}&attachments=true", ids[0])).await;
    let parts = parts_of(&ct, &body);
    assert_eq!(parts.len(), 2);
    assert_eq!(parts[1].content, note);

    // A statement whose attachment has a fileUrl may come as JSON, and has no part to give.
    let mut linked = attachment("image/png", b"elsewhere");
    linked["fileUrl"] = json!("https://lms.example/files/1.png");
    let (status, answer) = send(
        &lrs,
        Method::POST,
        "statements",
        "application/json",
        statement(json!([linked])).to_string().into_bytes(),
    )
    .await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&answer));
    let ids: Vec<String> = serde_json::from_slice(&answer).unwrap();
    let (ct, body) = get(&lrs, &format!("statementId={}&attachments=true", ids[0])).await;
    assert_eq!(parts_of(&ct, &body).len(), 1);
}

#[tokio::test]
async fn round_trip_on_sqlite() {
    round_trip(Backend::Sqlite).await;
}

#[tokio::test]
async fn round_trip_on_postgres() {
    round_trip(Backend::Postgres).await;
}

/// The headers of an attachment part carrying `content`, the encoding given.
fn part_headers(content: &[u8], encoding: &str) -> String {
    format!(
        "Content-Type: text/plain\r\nContent-Transfer-Encoding: {encoding}\r\nX-Experience-API-Hash: {}",
        sha2(content)
    )
}

async fn refusals(backend: Backend) {
    let app = TestApp::start(backend).await;
    let op = fixtures::operator(&app).await;
    let c = fixtures::campus(&app, &op).await;
    let lrs = Lrs::of(&app, &c).await;
    let before = app.dump_tenant(&c.id).await;

    let s = statement(json!([attachment("text/plain", TEXT)]));
    let json = s.to_string();
    let good = (part_headers(TEXT, "binary"), TEXT.to_vec());
    let other = b"another file".to_vec();
    let (mixed_ct, _) = mixed(&s, &[]);
    let json_part = "Content-Type: application/json";
    let cases: Vec<(&str, &str, String, Vec<u8>)> = vec![
        (
            "a part whose bytes are not its hash",
            "parts[1].X-Experience-API-Hash",
            mixed_ct.clone(),
            mixed_raw(
                json_part,
                &json,
                &[(part_headers(TEXT, "binary"), b"tampered".to_vec())],
            )
            .1,
        ),
        (
            "an attachment without its part",
            "attachments[0].sha2",
            mixed(&s, &[]).0,
            mixed(&s, &[]).1,
        ),
        (
            "a part no attachment names",
            "parts[2].X-Experience-API-Hash",
            mixed_ct.clone(),
            mixed_raw(
                json_part,
                &json,
                &[
                    good.clone(),
                    (part_headers(&other, "binary"), other.clone()),
                ],
            )
            .1,
        ),
        (
            "base64 transfer encoding",
            "parts[1].Content-Transfer-Encoding",
            mixed_ct.clone(),
            mixed_raw(
                json_part,
                &json,
                &[(part_headers(TEXT, "base64"), TEXT.to_vec())],
            )
            .1,
        ),
        (
            "a second JSON part",
            "parts[2].X-Experience-API-Hash",
            mixed_ct.clone(),
            mixed_raw(
                json_part,
                &json,
                &[good.clone(), (json_part.to_owned(), b"[]".to_vec())],
            )
            .1,
        ),
        (
            "a first part that is not JSON",
            "parts[0].Content-Type",
            mixed_ct.clone(),
            mixed_raw(
                "Content-Type: text/plain",
                &json,
                std::slice::from_ref(&good),
            )
            .1,
        ),
        (
            "multipart/form-data",
            "Content-Type",
            mixed_ct.replace("multipart/mixed", "multipart/form-data"),
            mixed_raw(json_part, &json, std::slice::from_ref(&good)).1,
        ),
        (
            "multipart/mixed without a boundary",
            "Content-Type",
            "multipart/mixed".to_owned(),
            mixed_raw(json_part, &json, std::slice::from_ref(&good)).1,
        ),
        (
            "JSON with an attachment lacking fileUrl",
            "attachments[0].fileUrl",
            "application/json".to_owned(),
            json.clone().into_bytes(),
        ),
    ];
    for (why, field, ct, body) in cases {
        for (method, path) in [
            (Method::POST, "statements".to_owned()),
            (
                Method::PUT,
                format!("statements?statementId={}", uuid::Uuid::now_v7()),
            ),
        ] {
            let (status, answer) = send(&lrs, method.clone(), &path, &ct, body.clone()).await;
            let v: Value = serde_json::from_slice(&answer).unwrap_or_default();
            assert_eq!(status, 400, "{why} ({method}): {v}");
            assert_eq!(
                v["errors"][0]["extensions"]["field"], field,
                "{why} ({method})"
            );
        }
    }
    // A batch whose second statement lacks its part: neither is stored.
    let (ct, body) = mixed(&json!([plain(), s]), &[]);
    let (status, answer) = send(&lrs, Method::POST, "statements", &ct, body).await;
    assert_eq!(status, 400);
    let v: Value = serde_json::from_slice(&answer).unwrap();
    assert_eq!(
        v["errors"][0]["extensions"]["field"],
        "[1].attachments[0].sha2"
    );
    // A SubStatement's attachment without its part, as multipart or as JSON.
    let sub = about_a_substatement(TEXT);
    for (ct, body, field) in [
        (
            mixed(&sub, &[]).0,
            mixed(&sub, &[]).1,
            "object.attachments[0].sha2",
        ),
        (
            "application/json".to_owned(),
            sub.to_string().into_bytes(),
            "object.attachments[0].fileUrl",
        ),
    ] {
        let (status, answer) = send(&lrs, Method::POST, "statements", &ct, body).await;
        assert_eq!(status, 400);
        let v: Value = serde_json::from_slice(&answer).unwrap();
        assert_eq!(v["errors"][0]["extensions"]["field"], field, "{v}");
    }
    unchanged(&before, &app.dump_tenant(&c.id).await);
}

#[tokio::test]
async fn refusals_on_sqlite() {
    refusals(Backend::Sqlite).await;
}

#[tokio::test]
async fn refusals_on_postgres() {
    refusals(Backend::Postgres).await;
}

/// A compact JWS of `payload` under `alg`. The LRS checks the algorithm and the payload, not
/// the RSA signature (that needs the signer's certificate), so the signature bytes are any.
fn jws(alg: &str, payload: &Value) -> Vec<u8> {
    let b64 = |v: &[u8]| URL_SAFE_NO_PAD.encode(v);
    format!(
        "{}.{}.{}",
        b64(json!({ "alg": alg, "typ": "JWT" }).to_string().as_bytes()),
        b64(payload.to_string().as_bytes()),
        b64(&[7u8; 256])
    )
    .into_bytes()
}

/// `s` signed by `signature`: the statement with the signature attachment, as multipart.
fn signed(s: &Value, signature: &[u8]) -> (String, Vec<u8>) {
    let mut with = s.clone();
    with["attachments"] = json!([{
        "usageType": SIGNATURE,
        "display": { "en-US": "Signature" },
        "contentType": "application/octet-stream",
        "length": signature.len(),
        "sha2": sha2(signature)
    }]);
    mixed(&with, &[("application/octet-stream", signature)])
}

async fn signed_statements(backend: Backend) {
    let app = TestApp::start(backend).await;
    let op = fixtures::operator(&app).await;
    let c = fixtures::campus(&app, &op).await;
    let lrs = Lrs::of(&app, &c).await;
    let mut s = plain();
    s["id"] = json!(uuid::Uuid::now_v7().to_string());

    // Signed by RS256 over the statement itself: stored, and its signature served with it.
    let signature = jws("RS256", &s);
    let (ct, body) = signed(&s, &signature);
    let (status, answer) = send(&lrs, Method::POST, "statements", &ct, body).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&answer));
    let id = s["id"].as_str().unwrap();
    let (ct, body) = get(&lrs, &format!("statementId={id}&attachments=true")).await;
    let parts = parts_of(&ct, &body);
    assert_eq!(parts.len(), 2);
    assert_eq!(parts[1].content, signature);

    let before = app.dump_tenant(&c.id).await;
    let mut other = s.clone();
    other["id"] = json!(uuid::Uuid::now_v7().to_string());
    let mut changed = other.clone();
    changed["verb"]["id"] = json!("http://adlnet.gov/expapi/verbs/failed");
    for (why, sig) in [
        (
            "a payload that is another statement",
            jws("RS256", &changed),
        ),
        ("HS256", jws("HS256", &other)),
        ("not a JWS", b"just some bytes".to_vec()),
    ] {
        let (ct, body) = signed(&other, &sig);
        let (status, answer) = send(&lrs, Method::POST, "statements", &ct, body).await;
        assert_eq!(status, 400, "{why}: {}", String::from_utf8_lossy(&answer));
        let v: Value = serde_json::from_slice(&answer).unwrap();
        assert!(v.to_string().contains("attachments[0]"), "{why}: {v}");
    }
    // A signature must travel as a part, even with a fileUrl.
    let mut linked = other.clone();
    linked["attachments"] = json!([{
        "usageType": SIGNATURE, "display": { "en-US": "Signature" },
        "contentType": "application/octet-stream", "length": 10, "sha2": sha2(b"x"),
        "fileUrl": "https://lms.example/sig.jws"
    }]);
    let (status, answer) = send(
        &lrs,
        Method::POST,
        "statements",
        "application/json",
        linked.to_string().into_bytes(),
    )
    .await;
    assert_eq!(status, 400);
    let v: Value = serde_json::from_slice(&answer).unwrap();
    assert_eq!(
        v["errors"][0]["extensions"]["field"], "attachments[0]",
        "{v}"
    );
    unchanged(&before, &app.dump_tenant(&c.id).await);
}

#[tokio::test]
async fn signed_statements_on_sqlite() {
    signed_statements(Backend::Sqlite).await;
}

#[tokio::test]
async fn signed_statements_on_postgres() {
    signed_statements(Backend::Postgres).await;
}

async fn spaces_apart(backend: Backend) {
    let app = TestApp::start(backend).await;
    let op = fixtures::operator(&app).await;
    let a = fixtures::campus(&app, &op).await;
    let b = fixtures::campus(&app, &op).await;
    let lrs_a = Lrs::of(&app, &a).await;
    let lrs_b = Lrs::of(&app, &b).await;

    let s = statement(json!([attachment("text/plain", TEXT)]));
    let (ct, body) = mixed(&s, &[("text/plain", TEXT)]);
    let (status, _) = send(&lrs_a, Method::POST, "statements", &ct, body).await;
    assert_eq!(status, 200);

    // B names A's hash without sending the bytes: refused, A's bytes are not B's.
    let (ct, body) = mixed(&s, &[]);
    let (status, _) = send(&lrs_b, Method::POST, "statements", &ct, body).await;
    assert_eq!(status, 400);
    // With a fileUrl B may store the statement, but reading it back yields no bytes of A.
    let mut linked = attachment("text/plain", TEXT);
    linked["fileUrl"] = json!("https://lms.example/files/note.txt");
    let (status, answer) = send(
        &lrs_b,
        Method::POST,
        "statements",
        "application/json",
        statement(json!([linked])).to_string().into_bytes(),
    )
    .await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&answer));
    let ids: Vec<String> = serde_json::from_slice(&answer).unwrap();
    for query in [
        format!("statementId={}&attachments=true", ids[0]),
        "attachments=true".to_owned(),
    ] {
        let (ct, body) = get(&lrs_b, &query).await;
        assert_eq!(parts_of(&ct, &body).len(), 1, "{query}: only the JSON part");
        assert!(
            !body.windows(TEXT.len()).any(|w| w == TEXT),
            "{query}: A's bytes"
        );
    }
    assert!(app.dump_tenant(&b.id).await["xapi_attachments"].is_empty());
    // A's credential on B's host finds nothing either.
    let r = lrs_a
        .on_host(&lrs_b.host)
        .request(Method::GET, "statements?attachments=true")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn spaces_apart_on_sqlite() {
    spaces_apart(Backend::Sqlite).await;
}

#[tokio::test]
async fn spaces_apart_on_postgres() {
    spaces_apart(Backend::Postgres).await;
}
