//! Issue 11, documents: the state, activity profile and agent profile resources of a space's
//! LRS, as a learning platform walks them. Stored bytes come back with their type, a quoted
//! SHA-1 ETag and Last-Modified; POST merges JSON objects one level deep; profiles are guarded
//! by If-Match / If-None-Match; bad parameters are 400 naming the field; another space sees
//! and changes nothing.

use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};
use spaces_tests::fixtures::{self, Campus};
use spaces_tests::xapi::Lrs;
use spaces_tests::{Backend, TestApp};

mod profiles;
mod refusals;

const ACTIVITY: &str = "http://www.example.com/activities/course-1";
const STATE: &str = "activities/state";
const ACTIVITY_PROFILE: &str = "activities/profile";
const AGENT_PROFILE: &str = "agents/profile";
const JSON: &str = "application/json";
const BYTES: &str = "application/octet-stream";

fn agent(mail: &str) -> String {
    json!({ "objectType": "Agent", "mbox": format!("mailto:{mail}") }).to_string()
}

/// One request: query parameters, extra headers, and a body with its content type.
async fn send(
    lrs: &Lrs,
    method: Method,
    path: &str,
    params: &[(&str, &str)],
    headers: &[(&str, &str)],
    body: Option<(&str, Vec<u8>)>,
) -> Response {
    let mut r = lrs.request(method, path).query(params);
    for (k, v) in headers {
        r = r.header(*k, *v);
    }
    if let Some((t, b)) = body {
        r = r.header("Content-Type", t).body(b);
    }
    r.send().await.unwrap()
}

fn json_body(v: Value) -> Option<(&'static str, Vec<u8>)> {
    Some((JSON, v.to_string().into_bytes()))
}

fn etag(r: &Response) -> String {
    let t = r.headers()["etag"].to_str().unwrap().to_owned();
    assert_eq!(t.len(), 42, "{t}");
    assert!(t.starts_with('"') && t.ends_with('"'), "{t}");
    assert!(
        t[1..41]
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
        "{t}"
    );
    t
}

/// The status and the body as JSON (errors: the field they name is at
/// `errors[0].extensions.field`).
async fn read(r: Response) -> (StatusCode, Value) {
    let s = r.status();
    let v = r.json::<Value>().await.unwrap_or(Value::Null);
    (s, v)
}

fn field(v: &Value) -> &str {
    v["errors"][0]["extensions"]["field"].as_str().unwrap_or("")
}

/// A's state document `bookmark` for lea: a row of A in `xapi_documents` for the wall tests.
pub(crate) async fn seed(app: &TestApp, c: &Campus) {
    let lrs = Lrs::of(app, c).await;
    let who = agent("lea@example.com");
    let r = send(
        &lrs,
        Method::PUT,
        STATE,
        &[
            ("activityId", ACTIVITY),
            ("agent", &who),
            ("stateId", "bookmark"),
        ],
        &[],
        json_body(json!({ "page": 3 })),
    )
    .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
}

async fn state_journey(backend: Backend) {
    let app = TestApp::start(backend).await;
    let op = fixtures::operator(&app).await;
    let c = fixtures::campus(&app, &op).await;
    let lrs = Lrs::of(&app, &c).await;
    let who = agent("lea@example.com");
    let ctx = |id: &'static str| {
        let mut p = vec![("activityId", ACTIVITY), ("agent", who.as_str())];
        if !id.is_empty() {
            p.push(("stateId", id));
        }
        p
    };
    let one = ctx("bookmark");

    // PUT, then GET: the bytes, their type, a quoted SHA-1 ETag, Last-Modified; HEAD alike.
    let first = json!({ "page": 3, "tries": { "a": 1 } });
    let r = send(
        &lrs,
        Method::PUT,
        STATE,
        &one,
        &[],
        json_body(first.clone()),
    )
    .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = send(&lrs, Method::GET, STATE, &one, &[], None).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], JSON);
    assert!(r.headers().contains_key("last-modified"));
    let tag = etag(&r);
    assert_eq!(r.json::<Value>().await.unwrap(), first);
    let r = send(&lrs, Method::HEAD, STATE, &one, &[], None).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(etag(&r), tag);
    assert_eq!(r.headers()["x-experience-api-version"], "1.0.3");
    assert!(r.bytes().await.unwrap().is_empty());

    // POST merges top-level keys; nested objects are replaced whole.
    let r = send(
        &lrs,
        Method::POST,
        STATE,
        &one,
        &[],
        json_body(json!({ "tries": { "b": 2 }, "done": false })),
    )
    .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = send(&lrs, Method::GET, STATE, &one, &[], None).await;
    let merged_tag = etag(&r);
    assert_ne!(merged_tag, tag);
    let merged = json!({ "page": 3, "tries": { "b": 2 }, "done": false });
    assert_eq!(r.json::<Value>().await.unwrap(), merged);

    // Bytes that are not JSON are kept as they are, with their type.
    let suspend = ctx("suspend");
    let raw = vec![0u8, 159, 146, 150, 10];
    let r = send(
        &lrs,
        Method::PUT,
        STATE,
        &suspend,
        &[],
        Some((BYTES, raw.clone())),
    )
    .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = send(&lrs, Method::GET, STATE, &suspend, &[], None).await;
    assert_eq!(r.headers()["content-type"], BYTES);
    assert_eq!(r.bytes().await.unwrap().to_vec(), raw);

    // JSON onto bytes, bytes onto JSON, and a JSON body that is no object: 400, unchanged.
    for (params, body) in [
        (&suspend, json_body(json!({ "a": 1 }))),
        (&one, Some((BYTES, b"plain".to_vec()))),
        (&one, Some((JSON, b"[1, 2]".to_vec()))),
        (&one, Some((JSON, b"{not json".to_vec()))),
    ] {
        let (s, v) = read(send(&lrs, Method::POST, STATE, params, &[], body).await).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
        assert!(!field(&v).is_empty(), "{v}");
    }
    let r = send(&lrs, Method::GET, STATE, &one, &[], None).await;
    assert_eq!(etag(&r), merged_tag);
    let r = send(&lrs, Method::GET, STATE, &suspend, &[], None).await;
    assert_eq!(r.bytes().await.unwrap().to_vec(), raw);
    let fresh = ctx("fresh");
    let r = send(
        &lrs,
        Method::POST,
        STATE,
        &fresh,
        &[],
        Some((JSON, b"7".to_vec())),
    )
    .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = send(&lrs, Method::GET, STATE, &fresh, &[], None).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // POST onto nothing creates.
    let r = send(
        &lrs,
        Method::POST,
        STATE,
        &fresh,
        &[],
        json_body(json!({"n": 1})),
    )
    .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);

    // The list of ids; `since` keeps those changed after it.
    let all = ctx("");
    let ids = |v: Value| {
        let mut ids: Vec<String> = serde_json::from_value(v).unwrap();
        ids.sort();
        ids
    };
    let r = send(&lrs, Method::GET, STATE, &all, &[], None).await;
    assert_eq!(r.status(), StatusCode::OK);
    etag(&r);
    assert_eq!(
        ids(r.json().await.unwrap()),
        ["bookmark", "fresh", "suspend"]
    );
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let cut = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let r = send(
        &lrs,
        Method::PUT,
        STATE,
        &suspend,
        &[],
        Some((BYTES, raw.clone())),
    )
    .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let mut since = all.clone();
    since.push(("since", &cut));
    let r = send(&lrs, Method::GET, STATE, &since, &[], None).await;
    assert_eq!(ids(r.json().await.unwrap()), ["suspend"]);

    // A registration is a context of its own; a list without one spans them all.
    let reg = uuid::Uuid::new_v4().to_string();
    let mut in_reg = one.clone();
    in_reg.push(("registration", &reg));
    let r = send(
        &lrs,
        Method::PUT,
        STATE,
        &in_reg,
        &[],
        json_body(json!({"r": 1})),
    )
    .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = send(&lrs, Method::GET, STATE, &in_reg, &[], None).await;
    assert_eq!(r.json::<Value>().await.unwrap(), json!({"r": 1}));
    let r = send(&lrs, Method::GET, STATE, &one, &[], None).await;
    assert_eq!(r.json::<Value>().await.unwrap(), merged);
    let mut reg_list = all.clone();
    reg_list.push(("registration", &reg));
    let r = send(&lrs, Method::GET, STATE, &reg_list, &[], None).await;
    assert_eq!(ids(r.json().await.unwrap()), ["bookmark"]);
    // Another agent has nothing here.
    let other = agent("max@example.com");
    let r = send(
        &lrs,
        Method::GET,
        STATE,
        &[("activityId", ACTIVITY), ("agent", &other)],
        &[],
        None,
    )
    .await;
    assert_eq!(r.json::<Value>().await.unwrap(), json!([]));

    // State needs no concurrency headers to replace.
    let r = send(
        &lrs,
        Method::PUT,
        STATE,
        &one,
        &[],
        json_body(merged.clone()),
    )
    .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);

    // DELETE one (again: still 204), then every document of a registration, then the rest.
    for _ in 0..2 {
        let r = send(&lrs, Method::DELETE, STATE, &suspend, &[], None).await;
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
    }
    let r = send(&lrs, Method::GET, STATE, &suspend, &[], None).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = send(&lrs, Method::DELETE, STATE, &reg_list, &[], None).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = send(&lrs, Method::GET, STATE, &reg_list, &[], None).await;
    assert_eq!(r.json::<Value>().await.unwrap(), json!([]));
    let r = send(&lrs, Method::GET, STATE, &all, &[], None).await;
    assert_eq!(ids(r.json().await.unwrap()), ["bookmark", "fresh"]);
    let r = send(&lrs, Method::DELETE, STATE, &all, &[], None).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = send(&lrs, Method::GET, STATE, &all, &[], None).await;
    assert_eq!(r.json::<Value>().await.unwrap(), json!([]));
    assert!(app.dump_tenant(&c.id).await["xapi_documents"].is_empty());
    app.stop().await;
}

#[tokio::test]
async fn xapi_documents_state_journey_on_sqlite() {
    state_journey(Backend::Sqlite).await;
}

#[tokio::test]
async fn xapi_documents_state_journey_on_postgres() {
    state_journey(Backend::Postgres).await;
}
