//! Activity and agent profiles: the ETag precondition matrix.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use spaces_tests::fixtures;
use spaces_tests::xapi::Lrs;
use spaces_tests::{Backend, TestApp};

use super::*;

/// Profiles: PUT needs If-Match or If-None-Match; failed preconditions change nothing.
async fn profile_preconditions(backend: Backend) {
    let app = TestApp::start(backend).await;
    let op = fixtures::operator(&app).await;
    let c = fixtures::campus(&app, &op).await;
    let lrs = Lrs::of(&app, &c).await;
    let who = agent("lea@example.com");
    for (path, ctx) in [
        (ACTIVITY_PROFILE, ("activityId", ACTIVITY)),
        (AGENT_PROFILE, ("agent", who.as_str())),
    ] {
        let p = [ctx, ("profileId", "prefs")];
        let v1 = json_body(json!({ "lang": "fr" }));
        let get = || send(&lrs, Method::GET, path, &p, &[], None);

        // Neither header on a new document: 400, nothing stored.
        let (s, v) = read(send(&lrs, Method::PUT, path, &p, &[], v1.clone()).await).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{path} {v}");
        assert_eq!(get().await.status(), StatusCode::NOT_FOUND);
        // If-Match on nothing: 412.
        let r = send(
            &lrs,
            Method::PUT,
            path,
            &p,
            &[("If-Match", "\"0000\"")],
            v1.clone(),
        )
        .await;
        assert_eq!(r.status(), StatusCode::PRECONDITION_FAILED, "{path}");
        // If-None-Match: * creates.
        let r = send(
            &lrs,
            Method::PUT,
            path,
            &p,
            &[("If-None-Match", "*")],
            v1.clone(),
        )
        .await;
        assert_eq!(r.status(), StatusCode::NO_CONTENT, "{path}");
        let r = get().await;
        let tag = etag(&r);
        assert_eq!(r.json::<Value>().await.unwrap(), json!({ "lang": "fr" }));

        let v2 = json_body(json!({ "lang": "de" }));
        // If-None-Match: * on an existing one, neither header, a wrong If-Match: refused.
        let r = send(
            &lrs,
            Method::PUT,
            path,
            &p,
            &[("If-None-Match", "*")],
            v2.clone(),
        )
        .await;
        assert_eq!(r.status(), StatusCode::PRECONDITION_FAILED, "{path}");
        let (s, v) = read(send(&lrs, Method::PUT, path, &p, &[], v2.clone()).await).await;
        assert_eq!(s, StatusCode::CONFLICT, "{path} {v}");
        assert!(
            v["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("If-Match"),
            "{v}"
        );
        let wrong = "\"da39a3ee5e6b4b0d3255bfef95601890afd80709\"";
        for m in [Method::PUT, Method::POST, Method::DELETE] {
            let r = send(
                &lrs,
                m.clone(),
                path,
                &p,
                &[("If-Match", wrong)],
                v2.clone(),
            )
            .await;
            assert_eq!(r.status(), StatusCode::PRECONDITION_FAILED, "{path} {m}");
        }
        let r = get().await;
        assert_eq!(etag(&r), tag, "{path}: unchanged");

        // The right ETag (weak or in a list too) replaces; POST without headers merges.
        let r = send(
            &lrs,
            Method::PUT,
            path,
            &p,
            &[("If-Match", &tag)],
            v2.clone(),
        )
        .await;
        assert_eq!(r.status(), StatusCode::NO_CONTENT, "{path}");
        let r = get().await;
        let tag2 = etag(&r);
        let listed = format!("\"abc\", W/{tag2}");
        let r = send(
            &lrs,
            Method::POST,
            path,
            &p,
            &[("If-Match", &listed)],
            json_body(json!({ "theme": "dark" })),
        )
        .await;
        assert_eq!(r.status(), StatusCode::NO_CONTENT, "{path}");
        let r = send(
            &lrs,
            Method::POST,
            path,
            &p,
            &[],
            json_body(json!({ "size": 2 })),
        )
        .await;
        assert_eq!(r.status(), StatusCode::NO_CONTENT, "{path}");
        let r = get().await;
        let tag3 = etag(&r);
        assert_eq!(
            r.json::<Value>().await.unwrap(),
            json!({ "lang": "de", "theme": "dark", "size": 2 })
        );
        // JSON onto JSON only: bytes are refused and change nothing.
        let r = send(
            &lrs,
            Method::POST,
            path,
            &p,
            &[],
            Some((BYTES, b"x".to_vec())),
        )
        .await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{path}");
        assert_eq!(etag(&get().await), tag3);

        // The list, and `since`.
        let list = [ctx];
        let r = send(&lrs, Method::GET, path, &list, &[], None).await;
        assert_eq!(r.json::<Value>().await.unwrap(), json!(["prefs"]), "{path}");
        let later = [ctx, ("since", "2999-01-01T00:00:00Z")];
        let r = send(&lrs, Method::GET, path, &later, &[], None).await;
        assert_eq!(r.json::<Value>().await.unwrap(), json!([]), "{path}");

        // DELETE with the current ETag; then it is gone.
        let r = send(&lrs, Method::DELETE, path, &p, &[("If-Match", &tag3)], None).await;
        assert_eq!(r.status(), StatusCode::NO_CONTENT, "{path}");
        assert_eq!(get().await.status(), StatusCode::NOT_FOUND);
        let r = send(&lrs, Method::DELETE, path, &p, &[], None).await;
        assert_eq!(r.status(), StatusCode::NO_CONTENT, "{path}");
    }
    app.stop().await;
}

#[tokio::test]
async fn xapi_documents_profile_preconditions_on_sqlite() {
    profile_preconditions(Backend::Sqlite).await;
}

#[tokio::test]
async fn xapi_documents_profile_preconditions_on_postgres() {
    profile_preconditions(Backend::Postgres).await;
}

/// Clients racing to create one profile with `If-None-Match: *`: exactly one wins, the others
/// get 412 (never a 500), and the stored document is the winner's.
async fn racing_creators(backend: Backend) {
    let app = TestApp::start(backend).await;
    let op = fixtures::operator(&app).await;
    let c = fixtures::campus(&app, &op).await;
    let lrs = Lrs::of(&app, &c).await;
    let mut tasks = Vec::new();
    for i in 0..16 {
        let lrs = lrs.on_host(&lrs.host);
        tasks.push(tokio::spawn(async move {
            let p = [("activityId", ACTIVITY), ("profileId", "race")];
            let body = json_body(json!({ "winner": i }));
            let r = send(
                &lrs,
                Method::PUT,
                ACTIVITY_PROFILE,
                &p,
                &[("If-None-Match", "*")],
                body,
            );
            (i, r.await.status())
        }));
    }
    let mut winners = Vec::new();
    for t in tasks {
        let (i, status) = t.await.unwrap();
        match status {
            StatusCode::NO_CONTENT => winners.push(i),
            s => assert_eq!(s, StatusCode::PRECONDITION_FAILED),
        }
    }
    assert_eq!(winners.len(), 1, "{winners:?}");
    let p = [("activityId", ACTIVITY), ("profileId", "race")];
    let r = send(&lrs, Method::GET, ACTIVITY_PROFILE, &p, &[], None).await;
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({ "winner": winners[0] })
    );
    app.stop().await;
}

#[tokio::test]
async fn xapi_documents_racing_creators_one_wins_on_sqlite() {
    racing_creators(Backend::Sqlite).await;
}

#[tokio::test]
async fn xapi_documents_racing_creators_one_wins_on_postgres() {
    racing_creators(Backend::Postgres).await;
}
