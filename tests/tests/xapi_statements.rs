//! Issue 11: the statement resource of a space's LRS, as a learning platform uses it: PUT and
//! POST (single and batched), GET by id and by filters with `more` paging, voiding, the
//! immutability of a stored statement, and one space's statements invisible to every other.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use spaces_tests::fixtures;
use spaces_tests::xapi::Lrs;
use spaces_tests::{Backend, TestApp};

const COMPLETED: &str = "http://adlnet.gov/expapi/verbs/completed";
const ATTEMPTED: &str = "http://adlnet.gov/expapi/verbs/attempted";
const VOIDED: &str = "http://adlnet.gov/expapi/verbs/voided";

fn statement(mbox: &str, verb: &str, activity: &str) -> Value {
    json!({
        "actor": { "objectType": "Agent", "mbox": format!("mailto:{mbox}") },
        "verb": { "id": verb, "display": { "en-US": "did" } },
        "object": { "objectType": "Activity", "id": activity }
    })
}

async fn post(lrs: &Lrs, body: &Value) -> (StatusCode, Value) {
    let r = lrs
        .request(Method::POST, "statements")
        .json(body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn get(lrs: &Lrs, query: &str) -> (StatusCode, Value) {
    let r = lrs
        .request(Method::GET, &format!("statements{query}"))
        .send()
        .await
        .unwrap();
    let status = r.status();
    assert!(
        r.headers()
            .contains_key("x-experience-api-consistent-through"),
        "{query}"
    );
    (status, r.json().await.unwrap_or(Value::Null))
}

fn ids(page: &Value) -> Vec<String> {
    page["statements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn store_and_read(backend: Backend) {
    let app = TestApp::start(backend).await;
    let op = fixtures::operator(&app).await;
    let c = fixtures::campus(&app, &op).await;
    let lrs = Lrs::of(&app, &c).await;

    // POST one: its id back; GET it with what the LRS adds.
    let mut s = statement("lea@example.com", COMPLETED, "https://lms.example/m1");
    s["result"] =
        json!({ "score": { "scaled": 0.12123434, "raw": 12.125, "min": 0, "max": 45.45 } });
    let (st, v) = post(&lrs, &s).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let id = v[0].as_str().unwrap().to_owned();
    let r = lrs
        .request(Method::GET, &format!("statements?statementId={id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers().contains_key("last-modified"));
    let got: Value = r.json().await.unwrap();
    assert_eq!(got["id"], id.as_str());
    assert_eq!(got["actor"], s["actor"]);
    assert_eq!(got["result"], s["result"], "numbers come back as sent");
    assert_eq!(got["version"], "1.0.0");
    let stored = got["stored"].as_str().unwrap();
    assert_eq!(stored.len(), 24, "milliseconds, UTC: {stored}");
    assert_eq!(got["timestamp"], got["stored"]);
    assert_eq!(got["authority"]["account"]["name"], lrs.key.as_str());

    // PUT with an id: 204; the same again: 204 and nothing new; other content: 409.
    let put_id = "aa97b177-9383-4934-8543-0f91a7a02836";
    let s2 = statement("hugo@example.com", ATTEMPTED, "https://lms.example/m2");
    for _ in 0..2 {
        let r = lrs
            .request(Method::PUT, &format!("statements?statementId={put_id}"))
            .json(&s2)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
    }
    let other = statement("hugo@example.com", COMPLETED, "https://lms.example/m2");
    let r = lrs
        .request(Method::PUT, &format!("statements?statementId={put_id}"))
        .json(&other)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let mut with_id = other.clone();
    with_id["id"] = json!(put_id);
    let (st, _) = post(&lrs, &with_id).await;
    assert_eq!(st, StatusCode::CONFLICT);
    let (_, v) = get(&lrs, &format!("?statementId={put_id}")).await;
    assert_eq!(
        v["verb"]["id"], ATTEMPTED,
        "the stored statement is unchanged"
    );
    // PUT without statementId, or with another id in the body: 400.
    let r = lrs
        .request(Method::PUT, "statements")
        .json(&s2)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let mut mismatched = s2.clone();
    mismatched["id"] = json!("0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9");
    let r = lrs
        .request(Method::PUT, &format!("statements?statementId={put_id}"))
        .json(&mismatched)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    // A batch with one bad statement stores none of them.
    let good = statement("ines@example.com", COMPLETED, "https://lms.example/m3");
    let mut good_with_id = good.clone();
    good_with_id["id"] = json!("11111111-2222-4333-8444-555555555555");
    let bad = json!({ "actor": { "mbox": "mailto:ines@example.com" }, "verb": { "id": "not an iri" }, "object": { "id": "https://lms.example/m3" } });
    let (st, v) = post(&lrs, &json!([good_with_id, bad])).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(v.to_string().contains("verb.id"), "{v}");
    let (st, _) = get(&lrs, "?statementId=11111111-2222-4333-8444-555555555555").await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    // A batch of good ones: ids in order.
    let (st, v) = post(
        &lrs,
        &json!([
            good,
            statement("ines@example.com", ATTEMPTED, "https://lms.example/m3")
        ]),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(v.as_array().unwrap().len(), 2);

    // Parameters: unknown, mis-cased, combined with an id, or malformed: 400.
    for q in [
        "?foo=bar",
        "?Verb=http://x.example/v",
        &format!("?statementId={id}&verb={COMPLETED}"),
        &format!("?statementId={id}&voidedStatementId={id}"),
        "?statementId=wrong",
        "?agent=wrong",
        "?verb=not.a.valid.iri.com/verb",
        "?registration=wrong",
        "?since=yesterday",
        "?ascending=yes",
        "?limit=-1",
    ] {
        let (st, _) = get(&lrs, q).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{q}");
    }
    app.stop().await;
}

#[tokio::test]
async fn store_and_read_on_sqlite() {
    store_and_read(Backend::Sqlite).await;
}

#[tokio::test]
async fn store_and_read_on_postgres() {
    store_and_read(Backend::Postgres).await;
}

/// The ids of every page of a query, following `more` to the end.
async fn walk(lrs: &Lrs, query: &str) -> Vec<String> {
    let (st, mut page) = get(lrs, query).await;
    assert_eq!(st, StatusCode::OK, "{query}: {page}");
    let mut seen = ids(&page);
    while let Some(more) = page["more"].as_str().filter(|m| !m.is_empty()) {
        let path = more.strip_prefix("/xapi/").unwrap().to_owned();
        let r = lrs.request(Method::GET, &path).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        page = r.json().await.unwrap();
        seen.extend(ids(&page));
    }
    seen
}

async fn filters_paging_voiding(backend: Backend) {
    let app = TestApp::start(backend).await;
    let op = fixtures::operator(&app).await;
    let c = fixtures::campus(&app, &op).await;
    let lrs = Lrs::of(&app, &c).await;
    let reg = "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9";
    let mut s1 = statement("lea@example.com", COMPLETED, "https://lms.example/m1");
    s1["context"] = json!({ "registration": reg, "contextActivities": { "parent": { "id": "https://lms.example/course" } } });
    // A second between statements, so `stored` orders them.
    let tick = || app.state.deps.clock.advance(chrono::Duration::seconds(1));
    let (_, v) = post(&lrs, &s1).await;
    let id1 = v[0].as_str().unwrap().to_owned();
    tick();
    let (_, v) = post(
        &lrs,
        &statement("lea@example.com", ATTEMPTED, "https://lms.example/m2"),
    )
    .await;
    let id2 = v[0].as_str().unwrap().to_owned();
    tick();
    let (_, v) = post(
        &lrs,
        &statement("hugo@example.com", COMPLETED, "https://lms.example/m1"),
    )
    .await;
    let id3 = v[0].as_str().unwrap().to_owned();
    tick();

    // A single contextActivities object comes back as an array of one.
    let (_, v) = get(&lrs, &format!("?statementId={id1}")).await;
    assert_eq!(
        v["context"]["contextActivities"]["parent"],
        json!([{ "id": "https://lms.example/course" }])
    );

    // Newest first; each filter; related activities reach the parent.
    let (_, all) = get(&lrs, "").await;
    assert_eq!(ids(&all), [id3.clone(), id2.clone(), id1.clone()]);
    assert_eq!(all["more"], "");
    let lea = urlencode(&json!({ "mbox": "mailto:lea@example.com" }).to_string());
    let (_, v) = get(&lrs, &format!("?agent={lea}")).await;
    assert_eq!(ids(&v), [id2.clone(), id1.clone()]);
    let (_, v) = get(&lrs, &format!("?verb={}", urlencode(COMPLETED))).await;
    assert_eq!(ids(&v), [id3.clone(), id1.clone()]);
    let (_, v) = get(&lrs, &format!("?agent={lea}&verb={}", urlencode(COMPLETED))).await;
    assert_eq!(ids(&v), [id1.as_str()]);
    let (_, v) = get(
        &lrs,
        &format!("?activity={}", urlencode("https://lms.example/course")),
    )
    .await;
    assert_eq!(ids(&v), Vec::<String>::new());
    let (_, v) = get(
        &lrs,
        &format!(
            "?activity={}&related_activities=true",
            urlencode("https://lms.example/course")
        ),
    )
    .await;
    assert_eq!(ids(&v), [id1.as_str()]);
    let (_, v) = get(&lrs, &format!("?registration={reg}")).await;
    assert_eq!(ids(&v), [id1.as_str()]);
    let (_, v) = get(&lrs, "?ascending=true").await;
    assert_eq!(ids(&v), [id1.clone(), id2.clone(), id3.clone()]);

    // `more` pages through all three, one at a time, and ends with "".
    assert_eq!(
        walk(&lrs, "?limit=1").await,
        [id3.clone(), id2.clone(), id1.clone()]
    );
    // Paging through a filter's index, each way, alone and with a second key and a time bound.
    let m1 = urlencode("https://lms.example/m1");
    let completed = urlencode(COMPLETED);
    assert_eq!(
        walk(&lrs, &format!("?activity={m1}&limit=1")).await,
        [id3.clone(), id1.clone()]
    );
    assert_eq!(
        walk(&lrs, &format!("?activity={m1}&limit=1&ascending=true")).await,
        [id1.clone(), id3.clone()]
    );
    assert_eq!(
        walk(&lrs, &format!("?verb={completed}&activity={m1}&limit=1")).await,
        [id3.clone(), id1.clone()]
    );
    assert_eq!(
        walk(
            &lrs,
            &format!("?verb={completed}&agent={lea}&activity={m1}&registration={reg}&limit=1")
        )
        .await,
        [id1.as_str()]
    );
    assert_eq!(
        walk(&lrs, &format!("?agent={lea}&limit=1&format=ids")).await,
        [id2.clone(), id1.clone()]
    );

    // since / until on `stored`.
    let (_, v) = get(&lrs, &format!("?statementId={id2}")).await;
    let stored2 = urlencode(v["stored"].as_str().unwrap());
    let (_, v) = get(&lrs, &format!("?until={stored2}&ascending=true")).await;
    assert_eq!(ids(&v), [id1.clone(), id2.clone()]);
    let (_, v) = get(&lrs, &format!("?since={stored2}")).await;
    assert_eq!(ids(&v), [id3.as_str()]);
    let (_, v) = get(
        &lrs,
        &format!("?agent={lea}&until={stored2}&ascending=true"),
    )
    .await;
    assert_eq!(ids(&v), [id1.clone(), id2.clone()]);
    let (_, v) = get(&lrs, &format!("?activity={m1}&since={stored2}")).await;
    assert_eq!(ids(&v), [id3.as_str()]);

    // Voiding: the target leaves every list and answers only to voidedStatementId.
    let voiding = json!({
        "actor": { "mbox": "mailto:admin@example.com" },
        "verb": { "id": VOIDED, "display": { "en-US": "voided" } },
        "object": { "objectType": "StatementRef", "id": id1 }
    });
    let (st, v) = post(&lrs, &voiding).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let voiding_id = v[0].as_str().unwrap().to_owned();
    let (st, _) = get(&lrs, &format!("?statementId={id1}")).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, v) = get(&lrs, &format!("?voidedStatementId={id1}")).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(v["id"], id1.as_str());
    let (_, v) = get(&lrs, "").await;
    assert!(!ids(&v).contains(&id1));
    // The voiding statement is found through its target's verb (StatementRef filter rule).
    let (_, v) = get(&lrs, &format!("?verb={}", urlencode(COMPLETED))).await;
    assert_eq!(ids(&v), [voiding_id.clone(), id3.clone()]);
    let (_, v) = get(&lrs, &format!("?verb={completed}&activity={m1}")).await;
    assert_eq!(ids(&v), [voiding_id.clone(), id3.clone()]);
    // A voiding statement cannot be voided.
    let void_the_void = json!({
        "actor": { "mbox": "mailto:admin@example.com" },
        "verb": { "id": VOIDED },
        "object": { "objectType": "StatementRef", "id": voiding_id }
    });
    post(&lrs, &void_the_void).await;
    let (st, _) = get(&lrs, &format!("?statementId={voiding_id}")).await;
    assert_eq!(st, StatusCode::OK);
    app.stop().await;
}

#[tokio::test]
async fn filters_paging_voiding_on_sqlite() {
    filters_paging_voiding(Backend::Sqlite).await;
}

#[tokio::test]
async fn filters_paging_voiding_on_postgres() {
    filters_paging_voiding(Backend::Postgres).await;
}

fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

async fn spaces_apart(backend: Backend) {
    let app = TestApp::start(backend).await;
    let op = fixtures::operator(&app).await;
    let a = fixtures::campus(&app, &op).await;
    let b = fixtures::campus(&app, &op).await;
    let lrs_a = Lrs::of(&app, &a).await;
    let lrs_b = Lrs::of(&app, &b).await;
    let mut s = statement("lea@example.com", COMPLETED, "https://lms.example/m1");
    s["id"] = json!("aa97b177-9383-4934-8543-0f91a7a02836");
    let (st, _) = post(&lrs_a, &s).await;
    assert_eq!(st, StatusCode::OK);

    // A's credential on B's host: 401, for reading and for writing.
    let a_on_b = lrs_a.on_host(&lrs_b.host);
    let r = a_on_b
        .request(Method::GET, "statements")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = a_on_b
        .request(Method::POST, "statements")
        .json(&s)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // B sees nothing of A's, by id or by filter, and may store its own statement under the same id.
    let (st, _) = get(&lrs_b, "?statementId=aa97b177-9383-4934-8543-0f91a7a02836").await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let lea = urlencode(&json!({ "mbox": "mailto:lea@example.com" }).to_string());
    let (_, v) = get(&lrs_b, &format!("?agent={lea}")).await;
    assert_eq!(v["statements"], json!([]));
    // The pair key and a multi-key walk find nothing of A's either.
    let (completed, m1) = (urlencode(COMPLETED), urlencode("https://lms.example/m1"));
    let (_, v) = get(&lrs_b, &format!("?verb={completed}&activity={m1}")).await;
    assert_eq!(v["statements"], json!([]));
    let (_, v) = get(
        &lrs_b,
        &format!("?agent={lea}&verb={completed}&activity={m1}"),
    )
    .await;
    assert_eq!(v["statements"], json!([]));
    let mut other = statement("lea@example.com", ATTEMPTED, "https://lms.example/m1");
    other["id"] = s["id"].clone();
    let (st, _) = post(&lrs_b, &other).await;
    assert_eq!(st, StatusCode::OK);
    let (_, v) = get(&lrs_a, "?statementId=aa97b177-9383-4934-8543-0f91a7a02836").await;
    assert_eq!(v["verb"]["id"], COMPLETED, "A's statement is A's");

    // Scopes: a write-only credential cannot read; a read-own one reads only its own.
    let writer = Lrs::with_scopes(&app, &a, &["WRITE_STATEMENTS"]).await;
    let r = writer
        .request(Method::GET, "statements")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let own = Lrs::with_scopes(&app, &a, &["WRITE_STATEMENTS", "READ_OWN"]).await;
    let (_, v) = post(
        &own,
        &statement("hugo@example.com", COMPLETED, "https://lms.example/m1"),
    )
    .await;
    let mine = v[0].as_str().unwrap().to_owned();
    let (_, v) = get(&own, "").await;
    assert_eq!(ids(&v), [mine]);
    let (st, _) = get(&own, "?statementId=aa97b177-9383-4934-8543-0f91a7a02836").await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let reader = Lrs::with_scopes(&app, &a, &["READ_ALL"]).await;
    let (st, _) = post(
        &reader,
        &statement("x@example.com", COMPLETED, "https://lms.example/m1"),
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    app.stop().await;
}

#[tokio::test]
async fn spaces_apart_on_sqlite() {
    spaces_apart(Backend::Sqlite).await;
}

#[tokio::test]
async fn spaces_apart_on_postgres() {
    spaces_apart(Backend::Postgres).await;
}

/// Platforms post at once statements naming the same new activity and agent: every request is
/// stored (the first to record the activity wins, the others do not fail on it).
/// `verb` with `activity` reads the pair key; statements stored before the pairs existed get
/// theirs from the migration's backfill.
async fn pairs_backfilled(backend: Backend) {
    use sea_orm::ConnectionTrait;
    let app = TestApp::start(backend).await;
    let op = fixtures::operator(&app).await;
    let c = fixtures::campus(&app, &op).await;
    let lrs = Lrs::of(&app, &c).await;
    let (_, v) = post(
        &lrs,
        &json!([
            statement("lea@example.com", COMPLETED, "https://lms.example/m1"),
            statement("hugo@example.com", ATTEMPTED, "https://lms.example/m1"),
            statement("hugo@example.com", COMPLETED, "https://lms.example/m2"),
        ]),
    )
    .await;
    let lea_m1 = v[0].as_str().unwrap().to_owned();
    let query = format!(
        "?verb={}&activity={}",
        urlencode(COMPLETED),
        urlencode("https://lms.example/m1")
    );
    let (_, v) = get(&lrs, &query).await;
    assert_eq!(ids(&v), [lea_m1.as_str()]);

    let owner = app.owner_db().await;
    owner
        .execute_unprepared("DELETE FROM xapi_statement_keys WHERE kind = 7")
        .await
        .unwrap();
    let (_, v) = get(&lrs, &query).await;
    assert_eq!(
        ids(&v),
        Vec::<String>::new(),
        "the pair is what the page reads"
    );
    spaces_migrations::m0019_xapi_verb_activity_keys::backfill(&owner)
        .await
        .unwrap();
    let (_, v) = get(&lrs, &query).await;
    assert_eq!(ids(&v), [lea_m1.as_str()]);
    // One pair per statement, and a second run adds none.
    spaces_migrations::m0019_xapi_verb_activity_keys::backfill(&owner)
        .await
        .unwrap();
    let pairs = owner
        .query_one_raw(sea_orm::Statement::from_string(
            owner.get_database_backend(),
            "SELECT COUNT(*) AS n FROM xapi_statement_keys WHERE kind = 7",
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(pairs.try_get::<i64>("", "n").unwrap(), 3);
}

#[tokio::test]
async fn pairs_backfilled_on_sqlite() {
    pairs_backfilled(Backend::Sqlite).await;
}

#[tokio::test]
async fn pairs_backfilled_on_postgres() {
    pairs_backfilled(Backend::Postgres).await;
}

async fn concurrent_first_mentions(backend: Backend) {
    let app = TestApp::start(backend).await;
    let op = fixtures::operator(&app).await;
    let c = fixtures::campus(&app, &op).await;
    let lrs = Lrs::of(&app, &c).await;
    let posts = (0..12).map(|i| {
        let mut s = statement(
            "lea@example.com",
            COMPLETED,
            "https://lms.example/brand-new",
        );
        s["object"]["definition"] = json!({ "name": { "en": format!("Module {i}") } });
        let req = lrs.request(Method::POST, "statements").json(&s);
        async move { req.send().await.unwrap().status() }
    });
    for status in futures_join(posts).await {
        assert_eq!(status, StatusCode::OK);
    }
    let (_, v) = get(
        &lrs,
        &format!("?activity={}", urlencode("https://lms.example/brand-new")),
    )
    .await;
    assert_eq!(ids(&v).len(), 12);
    app.stop().await;
}

async fn futures_join<F: std::future::Future<Output = StatusCode> + Send + 'static>(
    fs: impl Iterator<Item = F>,
) -> Vec<StatusCode> {
    let handles: Vec<_> = fs.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}

#[tokio::test]
async fn concurrent_first_mentions_on_sqlite() {
    concurrent_first_mentions(Backend::Sqlite).await;
}

#[tokio::test]
async fn concurrent_first_mentions_on_postgres() {
    concurrent_first_mentions(Backend::Postgres).await;
}
