//! What is refused: bad parameters, oversize documents, missing scopes, another space.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use spaces_tests::fixtures;
use spaces_tests::xapi::Lrs;
use spaces_tests::{Backend, TestApp};

use super::*;

/// A request and the field its 400 names.
type Case<'a> = (Method, &'a str, Vec<(&'a str, &'a str)>, &'a str);

/// Parameters exactly as xAPI names them, sizes within the limit, scopes: 400, 413, 403.
async fn refusals(backend: Backend) {
    let app = TestApp::start(backend).await;
    let op = fixtures::operator(&app).await;
    let c = fixtures::campus(&app, &op).await;
    let lrs = Lrs::of(&app, &c).await;
    let who = agent("lea@example.com");
    let two_ifis =
        json!({ "mbox": "mailto:a@example.com", "openid": "http://example.com/a" }).to_string();
    let reg = uuid::Uuid::new_v4().to_string();
    let body = json_body(json!({ "a": 1 }));
    let base = [
        ("activityId", ACTIVITY),
        ("agent", who.as_str()),
        ("stateId", "s"),
    ];
    let with = |extra: (&'static str, &'static str)| {
        let mut p = base.to_vec();
        p.push(extra);
        p
    };
    let cases: Vec<Case> = vec![
        (
            Method::GET,
            STATE,
            vec![("agent", &who), ("stateId", "s")],
            "activityId",
        ),
        (
            Method::GET,
            STATE,
            vec![("activityId", "not an iri"), ("agent", &who)],
            "activityId",
        ),
        (Method::GET, STATE, vec![("activityId", ACTIVITY)], "agent"),
        (
            Method::GET,
            STATE,
            vec![("activityId", ACTIVITY), ("agent", &two_ifis)],
            "agent",
        ),
        (
            Method::GET,
            STATE,
            vec![("activityId", ACTIVITY), ("agent", "{\"mbox\":")],
            "agent",
        ),
        (
            Method::GET,
            STATE,
            with(("registration", "true")),
            "registration",
        ),
        (Method::GET, STATE, with(("foo", "bar")), "foo"),
        (Method::GET, STATE, with(("StateId", "s")), "StateId"),
        (
            Method::GET,
            STATE,
            with(("since", "2020-01-01T00:00:00Z")),
            "since",
        ),
        (
            Method::GET,
            STATE,
            vec![
                ("activityId", ACTIVITY),
                ("agent", &who),
                ("since", "not a timestamp"),
            ],
            "since",
        ),
        (
            Method::PUT,
            STATE,
            vec![("activityId", ACTIVITY), ("agent", &who)],
            "stateId",
        ),
        (
            Method::PUT,
            ACTIVITY_PROFILE,
            vec![("activityId", ACTIVITY)],
            "profileId",
        ),
        (
            Method::DELETE,
            AGENT_PROFILE,
            vec![("agent", &who)],
            "profileId",
        ),
        (
            Method::GET,
            ACTIVITY_PROFILE,
            vec![("activityId", ACTIVITY), ("since", "true")],
            "since",
        ),
        (
            Method::GET,
            AGENT_PROFILE,
            vec![("agent", &who), ("activityId", ACTIVITY)],
            "activityId",
        ),
        (
            Method::GET,
            ACTIVITY_PROFILE,
            vec![("activityId", ACTIVITY), ("stateId", "s")],
            "stateId",
        ),
    ];
    for (m, path, params, expect) in cases {
        let (s, v) = read(send(&lrs, m.clone(), path, &params, &[], body.clone()).await).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{m} {path} {params:?}: {v}");
        assert_eq!(field(&v), expect, "{m} {path} {params:?}: {v}");
    }
    // A parameter given twice.
    let r = lrs
        .request(
            Method::GET,
            &format!("{STATE}?activityId={ACTIVITY}&activityId={ACTIVITY}"),
        )
        .query(&[("agent", &who)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let mut in_reg = base.to_vec();
    in_reg.push(("registration", &reg));
    let r = send(&lrs, Method::PUT, STATE, &in_reg, &[], body.clone()).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = send(&lrs, Method::PATCH, STATE, &base, &[], body.clone()).await;
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);

    // 1 MiB is the limit: at it, stored; one byte over, 413 and nothing stored.
    let limit = 1024 * 1024;
    let at = [
        ("activityId", ACTIVITY),
        ("agent", who.as_str()),
        ("stateId", "big"),
    ];
    let r = send(
        &lrs,
        Method::PUT,
        STATE,
        &at,
        &[],
        Some((BYTES, vec![7; limit])),
    )
    .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let over = [
        ("activityId", ACTIVITY),
        ("agent", who.as_str()),
        ("stateId", "bigger"),
    ];
    for m in [Method::PUT, Method::POST] {
        let r = send(
            &lrs,
            m,
            STATE,
            &over,
            &[],
            Some((BYTES, vec![7; limit + 1])),
        )
        .await;
        assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    }
    let r = send(&lrs, Method::GET, STATE, &over, &[], None).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    // Scopes: READ_OWN alone reads no documents; READ_ALL reads but writes none.
    let own = Lrs::with_scopes(&app, &c, &["READ_OWN"]).await;
    let r = send(&own, Method::GET, STATE, &base, &[], None).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let reader = Lrs::with_scopes(&app, &c, &["READ_ALL"]).await;
    let r = send(&reader, Method::GET, STATE, &in_reg, &[], None).await;
    assert_eq!(r.status(), StatusCode::OK);
    for m in [Method::PUT, Method::POST, Method::DELETE] {
        let r = send(&reader, m.clone(), STATE, &in_reg, &[], body.clone()).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{m}");
    }
    app.stop().await;
}

#[tokio::test]
async fn xapi_documents_refusals_on_sqlite() {
    refusals(Backend::Sqlite).await;
}

#[tokio::test]
async fn xapi_documents_refusals_on_postgres() {
    refusals(Backend::Postgres).await;
}

/// Two spaces with the same activity, agent and ids: each sees and changes only its own.
async fn cross_tenant(backend: Backend) {
    let app = TestApp::start(backend).await;
    let op = fixtures::operator(&app).await;
    let a = fixtures::campus(&app, &op).await;
    let b = fixtures::campus(&app, &op).await;
    let (lrs_a, lrs_b) = (Lrs::of(&app, &a).await, Lrs::of(&app, &b).await);
    let who = agent("lea@example.com");
    let state = [
        ("activityId", ACTIVITY),
        ("agent", who.as_str()),
        ("stateId", "bookmark"),
    ];
    let profile = [("activityId", ACTIVITY), ("profileId", "prefs")];
    let r = send(
        &lrs_a,
        Method::PUT,
        STATE,
        &state,
        &[],
        json_body(json!({"of": "a"})),
    )
    .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = send(
        &lrs_a,
        Method::PUT,
        ACTIVITY_PROFILE,
        &profile,
        &[("If-None-Match", "*")],
        json_body(json!({"of": "a"})),
    )
    .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    // The mailer delivers A's invitation in the background: its outbox row moves by itself.
    let mut before = app.dump_tenant(&a.id).await;
    before.remove("outbox");
    assert_eq!(before["xapi_documents"].len(), 2);

    // A's credential on B's host: 401, whatever the method.
    let stray = lrs_a.on_host(&lrs_b.host);
    for m in [Method::GET, Method::PUT, Method::DELETE] {
        let r = send(
            &stray,
            m.clone(),
            STATE,
            &state,
            &[],
            json_body(json!({"of": "x"})),
        )
        .await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{m}");
    }
    // B's own credential finds nothing of A's under the same names, and its writes stay B's.
    let list = &state[..2];
    let r = send(&lrs_b, Method::GET, STATE, &state, &[], None).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = send(&lrs_b, Method::GET, STATE, list, &[], None).await;
    assert_eq!(r.json::<Value>().await.unwrap(), json!([]));
    let r = send(&lrs_b, Method::GET, ACTIVITY_PROFILE, &profile, &[], None).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = send(
        &lrs_b,
        Method::POST,
        STATE,
        &state,
        &[],
        json_body(json!({"of": "b"})),
    )
    .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = send(
        &lrs_b,
        Method::PUT,
        ACTIVITY_PROFILE,
        &profile,
        &[("If-None-Match", "*")],
        json_body(json!({"of": "b"})),
    )
    .await;
    assert_eq!(
        r.status(),
        StatusCode::NO_CONTENT,
        "A's profile does not exist for B"
    );
    let r = send(&lrs_b, Method::GET, STATE, &state, &[], None).await;
    assert_eq!(r.json::<Value>().await.unwrap(), json!({"of": "b"}));
    let r = send(&lrs_b, Method::DELETE, STATE, list, &[], None).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = send(
        &lrs_b,
        Method::DELETE,
        ACTIVITY_PROFILE,
        &profile,
        &[],
        None,
    )
    .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);

    let mut after = app.dump_tenant(&a.id).await;
    after.remove("outbox");
    assert_eq!(after, before, "no row of A changed");
    let r = send(&lrs_a, Method::GET, STATE, &state, &[], None).await;
    assert_eq!(r.json::<Value>().await.unwrap(), json!({"of": "a"}));
    let r = send(&lrs_a, Method::GET, ACTIVITY_PROFILE, &profile, &[], None).await;
    assert_eq!(r.json::<Value>().await.unwrap(), json!({"of": "a"}));
    app.stop().await;
}

#[tokio::test]
async fn xapi_documents_cross_tenant_on_sqlite() {
    cross_tenant(Backend::Sqlite).await;
}

#[tokio::test]
async fn xapi_documents_cross_tenant_on_postgres() {
    cross_tenant(Backend::Postgres).await;
}
