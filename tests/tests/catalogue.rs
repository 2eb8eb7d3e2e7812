//! Journey 4, first half: the platform publishes catalogue courses; spaces browse them.

use serde_json::{Value, json};
use spaces_tests::app::{code, ok};
use spaces_tests::fixtures;
use spaces_tests::{Backend, TestApp};

const CREATE_COURSE: &str = "mutation($i: CourseFactsInput!) { createCourse(input: $i) { id status studyHours ects eqfLevel language skills { escoUri label } learningOutcomes } }";

fn facts(provider: &str, title: &str, lang: &str, eqf: i32, skill: &str) -> Value {
    json!({
        "providerId": provider, "title": title, "summary": format!("{title}: hygiene and safety on the line"),
        "language": lang, "studyHours": 12.5, "ects": 1.5, "eqfLevel": eqf,
        "learningOutcomes": ["Apply HACCP principles", "Record a corrective action"],
        "skills": [{ "escoUri": format!("http://data.europa.eu/esco/skill/{skill}"), "label": "food safety" }],
        "assessment": "ID_VERIFIED_SUMMATIVE"
    })
}

async fn catalogue(backend: Backend) {
    let app = TestApp::start(backend).await;
    let op = fixtures::operator(&app).await;
    let c = fixtures::campus(&app, &op).await;
    let v = app
        .gql(None, Some(&op), "mutation($i: ProviderInput!) { createProvider(input: $i) { id name country } }", json!({ "i": { "name": fixtures::unique("Université "), "country": "fr", "website": "https://www.example.edu" } }))
        .await;
    assert_eq!(ok(&v)["createProvider"]["country"], "FR");
    let provider = v["data"]["createProvider"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let tag = fixtures::unique("");

    let mut ids = vec![];
    for (title, lang, eqf, skill) in [
        (format!("HACCP basics {tag}"), "fr-fr", 4, "haccp"),
        (format!("Lean production {tag}"), "fr", 6, "lean"),
        (format!("Food safety audit {tag}"), "en", 6, "haccp"),
    ] {
        let v = app
            .gql(
                None,
                Some(&op),
                CREATE_COURSE,
                json!({ "i": facts(&provider, &title, lang, eqf, skill) }),
            )
            .await;
        let course = &ok(&v)["createCourse"];
        assert_eq!(course["status"], "DRAFT");
        assert_eq!(course["studyHours"], 12.5);
        assert_eq!(course["ects"], 1.5);
        ids.push(course["id"].as_str().unwrap().to_owned());
    }
    assert_eq!(
        app.gql(
            None,
            Some(&op),
            CREATE_COURSE,
            json!({ "i": facts(&provider, "x", "fr", 4, "a") })
        )
        .await["data"]["createCourse"]["language"],
        "fr"
    );

    // Bad facts are refused with the field named.
    for (patch, field) in [
        (json!({ "ects": 1.25 }), "ects"),
        (json!({ "eqfLevel": 9 }), "eqfLevel"),
        (json!({ "language": "french" }), "language"),
        (json!({ "studyHours": 0 }), "studyHours"),
        (json!({ "title": "  " }), "title"),
        (
            json!({ "skills": [{ "escoUri": "https://example.org/skill", "label": "x" }] }),
            "skills[0].escoUri",
        ),
    ] {
        let mut input = facts(&provider, "Bad", "fr", 4, "a");
        for (k, val) in patch.as_object().unwrap() {
            input[k] = val.clone();
        }
        let v = app
            .gql(None, Some(&op), CREATE_COURSE, json!({ "i": input }))
            .await;
        assert_eq!(code(&v), "BAD_USER_INPUT", "{patch}: {v}");
        assert_eq!(v["errors"][0]["extensions"]["field"], field, "{v}");
    }
    // An id that names nothing is not found, on its field.
    let mut input = facts(&provider, "Bad", "fr", 4, "a");
    input["providerId"] = json!(uuid::Uuid::now_v7().to_string());
    let v = app
        .gql(None, Some(&op), CREATE_COURSE, json!({ "i": input }))
        .await;
    assert_eq!(code(&v), "NOT_FOUND", "{v}");
    assert_eq!(v["errors"][0]["extensions"]["field"], "providerId", "{v}");

    // Drafts are invisible to spaces; publishing shows them; retiring hides them again.
    let browse = "query($f: CourseFilterInput) { courses(filter: $f, first: 50) { edges { node { id title language eqfLevel skills { escoUri } } } } }";
    let titles = |v: &Value| -> Vec<String> {
        ok(v)["courses"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"]["title"].as_str().unwrap().to_owned())
            .collect()
    };
    let mine = json!({ "text": tag });
    assert!(
        titles(
            &app.gql(
                Some(&c.slug),
                Some(&c.admin_token),
                browse,
                json!({ "f": mine })
            )
            .await
        )
        .is_empty()
    );
    for id in &ids {
        let v = app
            .gql(
                None,
                Some(&op),
                "mutation($id: ID!) { publishCourse(id: $id) { status publishedAt } }",
                json!({ "id": id }),
            )
            .await;
        assert_eq!(ok(&v)["publishCourse"]["status"], "PUBLISHED");
    }
    let v = app
        .gql(
            None,
            Some(&op),
            "mutation($id: ID!) { publishCourse(id: $id) { status } }",
            json!({ "id": ids[0] }),
        )
        .await;
    assert_eq!(code(&v), "CONFLICT", "publishing twice: {v}");
    assert_eq!(
        titles(
            &app.gql(
                Some(&c.slug),
                Some(&c.admin_token),
                browse,
                json!({ "f": mine })
            )
            .await
        )
        .len(),
        3
    );

    // Filters: text (every word, any case), language (fr finds fr-FR), EQF level, skill, provider.
    let f = |extra: Value| {
        let mut m = mine.clone();
        for (k, val) in extra.as_object().unwrap() {
            m[k] = val.clone();
        }
        json!({ "f": m })
    };
    let got = titles(
        &app.gql(
            Some(&c.slug),
            Some(&c.admin_token),
            browse,
            f(json!({ "text": format!("haccp {tag}") })),
        )
        .await,
    );
    assert_eq!(got, vec![format!("HACCP basics {tag}")]);
    let got = titles(
        &app.gql(
            Some(&c.slug),
            Some(&c.admin_token),
            browse,
            f(json!({ "language": "fr" })),
        )
        .await,
    );
    assert_eq!(got.len(), 2, "fr and fr-FR: {got:?}");
    let got = titles(
        &app.gql(
            Some(&c.slug),
            Some(&c.admin_token),
            browse,
            f(json!({ "eqfLevel": 6 })),
        )
        .await,
    );
    assert_eq!(got.len(), 2);
    let got = titles(
        &app.gql(
            Some(&c.slug),
            Some(&c.admin_token),
            browse,
            f(json!({ "skill": "http://data.europa.eu/esco/skill/haccp" })),
        )
        .await,
    );
    assert_eq!(got.len(), 2);
    let got = titles(
        &app.gql(
            Some(&c.slug),
            Some(&c.admin_token),
            browse,
            json!({ "f": { "providerId": provider } }),
        )
        .await,
    );
    assert_eq!(got.len(), 3);
    let v = app
        .gql(
            Some(&c.slug),
            Some(&c.admin_token),
            browse,
            json!({ "f": { "status": "DRAFT" } }),
        )
        .await;
    assert_eq!(code(&v), "BAD_USER_INPUT", "spaces cannot list drafts: {v}");
    let v = app
        .gql(
            None,
            Some(&op),
            browse,
            json!({ "f": { "providerId": provider, "status": "DRAFT" } }),
        )
        .await;
    assert_eq!(
        ok(&v)["courses"]["edges"].as_array().unwrap().len(),
        1,
        "the operator sees the one draft left"
    );

    let v = app
        .gql(
            None,
            Some(&op),
            "mutation($id: ID!) { retireCourse(id: $id) { status } }",
            json!({ "id": ids[1] }),
        )
        .await;
    assert_eq!(ok(&v)["retireCourse"]["status"], "RETIRED");
    assert_eq!(
        titles(
            &app.gql(
                Some(&c.slug),
                Some(&c.admin_token),
                browse,
                json!({ "f": mine })
            )
            .await
        )
        .len(),
        2
    );
    let v = app
        .gql(
            Some(&c.slug),
            Some(&c.admin_token),
            "query($id: ID!) { course(id: $id) { title } }",
            json!({ "id": ids[1] }),
        )
        .await;
    assert_eq!(
        code(&v),
        "NOT_FOUND",
        "a retired course is gone from the catalogue: {v}"
    );

    // Only operators write; only signed-in callers read.
    let v = app
        .gql(
            Some(&c.slug),
            Some(&c.admin_token),
            CREATE_COURSE,
            json!({ "i": facts(&provider, "Nope", "fr", 4, "a") }),
        )
        .await;
    assert_eq!(code(&v), "FORBIDDEN");
    let v = app.gql(Some(&c.slug), None, browse, json!({})).await;
    assert_eq!(code(&v), "UNAUTHENTICATED");
    app.stop().await;
}

#[tokio::test]
async fn catalogue_on_sqlite() {
    catalogue(Backend::Sqlite).await;
}

#[tokio::test]
async fn catalogue_on_postgres() {
    catalogue(Backend::Postgres).await;
}
