//! Issue 11: the LRS's activities and agents resources, and the alternate request syntax a
//! browser uses (a form POSTed to `?method=…` carrying headers, body and parameters).

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use spaces_tests::fixtures;
use spaces_tests::xapi::Lrs;
use spaces_tests::{Backend, TestApp};

fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

async fn activities_and_agents(backend: Backend) {
    let app = TestApp::start(backend).await;
    let op = fixtures::operator(&app).await;
    let c = fixtures::campus(&app, &op).await;
    let lrs = Lrs::of(&app, &c).await;
    let activity = "https://lms.example/haccp/m1";
    for (name, lang) in [("Hygiène", "fr"), ("Hygiene", "en")] {
        let r = lrs
            .request(Method::POST, "statements")
            .json(&json!({
                "actor": { "name": "Léa Martin", "mbox": "mailto:lea@example.com" },
                "verb": { "id": "http://adlnet.gov/expapi/verbs/completed" },
                "object": { "objectType": "Activity", "id": activity,
                            "definition": { "name": { lang: name }, "type": "http://adlnet.gov/expapi/activities/module" } }
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
    }
    // The definition merged from both statements: both languages.
    let r = lrs
        .request(
            Method::GET,
            &format!("activities?activityId={}", enc(activity)),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["id"], activity);
    assert_eq!(
        v["definition"]["name"],
        json!({ "fr": "Hygiène", "en": "Hygiene" })
    );
    // Unknown: just its id. Missing or malformed parameter: 400.
    let r = lrs
        .request(
            Method::GET,
            "activities?activityId=http%3A%2F%2Fnowhere.example%2Fa",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({ "objectType": "Activity", "id": "http://nowhere.example/a" })
    );
    for q in [
        "activities",
        "activities?activityId=not-an-iri",
        "agents",
        "agents?agent=%7B%7D",
    ] {
        let r = lrs.request(Method::GET, q).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{q}");
    }
    // The Person of an agent: its mbox and the name it came with.
    let agent = enc(&json!({ "mbox": "mailto:lea@example.com" }).to_string());
    let r = lrs
        .request(Method::GET, &format!("agents?agent={agent}"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({ "objectType": "Person", "name": ["Léa Martin"], "mbox": ["mailto:lea@example.com"] })
    );
    // HEAD answers where GET does, without a body.
    let r = lrs
        .request(Method::HEAD, &format!("agents?agent={agent}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.bytes().await.unwrap().len(), 0);

    // Another space knows nothing of this activity or person.
    let b = fixtures::campus(&app, &op).await;
    let lrs_b = Lrs::of(&app, &b).await;
    let r = lrs_b
        .request(
            Method::GET,
            &format!("activities?activityId={}", enc(activity)),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({ "objectType": "Activity", "id": activity })
    );
    let r = lrs_b
        .request(Method::GET, &format!("agents?agent={agent}"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({ "objectType": "Person", "mbox": ["mailto:lea@example.com"] })
    );
    app.stop().await;
}

#[tokio::test]
async fn activities_and_agents_on_sqlite() {
    activities_and_agents(Backend::Sqlite).await;
}

#[tokio::test]
async fn activities_and_agents_on_postgres() {
    activities_and_agents(Backend::Postgres).await;
}

async fn alternate_syntax(backend: Backend) {
    let app = TestApp::start(backend).await;
    let op = fixtures::operator(&app).await;
    let c = fixtures::campus(&app, &op).await;
    let lrs = Lrs::of(&app, &c).await;
    let id = "aa97b177-9383-4934-8543-0f91a7a02836";
    let statement = json!({
        "actor": { "mbox": "mailto:lea@example.com" },
        "verb": { "id": "http://adlnet.gov/expapi/verbs/completed" },
        "object": { "id": "https://lms.example/m1" }
    })
    .to_string();
    let form = |pairs: &[(&str, &str)]| {
        pairs
            .iter()
            .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
            .collect::<Vec<_>>()
            .join("&")
    };
    let post = |query: &str, body: String| {
        lrs.bare(Method::POST, &format!("statements{query}"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body)
    };
    // A PUT whose credentials, version, parameters and body are all in the form.
    let auth = lrs.authorization();
    let r = post(
        "?method=PUT",
        form(&[
            ("Authorization", &auth),
            ("X-Experience-API-Version", "1.0.3"),
            ("Content-Type", "application/json"),
            ("statementId", id),
            ("content", &statement),
        ]),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    // A GET the same way finds it.
    let r = post(
        "?method=GET",
        form(&[
            ("Authorization", &auth),
            ("X-Experience-API-Version", "1.0.3"),
            ("statementId", id),
        ]),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["id"], id);
    // Refused: parameters in the query beside method, a method other than POST carrying it, a
    // body that is not a form, a bad version in the form, no credentials anywhere.
    let good = || {
        form(&[
            ("Authorization", &auth),
            ("X-Experience-API-Version", "1.0.3"),
        ])
    };
    let r = post(&format!("?method=GET&statementId={id}"), good())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = lrs
        .request(Method::PUT, "statements?method=POST")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(good())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = lrs
        .request(Method::POST, "statements?method=GET")
        .header("Content-Type", "application/json")
        .body(statement.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = post(
        "?method=GET",
        form(&[
            ("Authorization", &auth),
            ("X-Experience-API-Version", "0.8"),
        ]),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = post(
        "?method=GET",
        form(&[("X-Experience-API-Version", "1.0.3")]),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    app.stop().await;
}

#[tokio::test]
async fn alternate_syntax_on_sqlite() {
    alternate_syntax(Backend::Sqlite).await;
}

#[tokio::test]
async fn alternate_syntax_on_postgres() {
    alternate_syntax(Backend::Postgres).await;
}
