//! Journeys 5 (one by one) and 6: HR enrols staff, learners self-enrol or ask, see their
//! dashboard; every rule has its own code; capacity holds under a race.

use serde_json::{Value, json};
use spaces_tests::app::{code, ok};
use spaces_tests::fixtures::{self, Campus};
use spaces_tests::{Backend, TestApp};

const ENROL: &str = "mutation($i: EnrolInput!) { enrol(input: $i) { id status source dueOn person { email } edition { id } progress { requiredDone requiredTotal percent } } }";

async fn enrol(app: &TestApp, c: &Campus, token: &str, input: Value) -> Value {
    app.gql(Some(&c.slug), Some(token), ENROL, json!({ "i": input }))
        .await
}

async fn staff(backend: Backend) {
    let app = TestApp::start(backend).await;
    let op = fixtures::operator(&app).await;
    let c = fixtures::campus(&app, &op).await;
    let a = fixtures::company(&app, &c, "Durand").await;
    let b = fixtures::company(&app, &c, "Leroy").await;
    let (_, hr_a) =
        fixtures::member(&app, &c, &c.admin_token, &a, "hr@durand.test", "ORG_ADMIN").await;
    let (lea, lea_token) =
        fixtures::member(&app, &c, &hr_a, &a, "lea@durand.test", "LEARNER").await;
    let (nora, _) =
        fixtures::member(&app, &c, &c.admin_token, &b, "nora@leroy.test", "LEARNER").await;
    let course = fixtures::published_course(&app, &op, "HACCP basics").await;
    let for_a = fixtures::open_edition(&app, &c, &course, "ASSIGNED_ONLY", None, &[&a]).await;

    // By person id, with a due date.
    let v = enrol(
        &app,
        &c,
        &hr_a,
        json!({ "editionId": for_a, "personId": lea, "dueOn": "2027-01-31" }),
    )
    .await;
    let e = &ok(&v)["enrol"];
    assert_eq!(e["status"], "ACTIVE");
    assert_eq!(e["source"], "ASSIGNED");
    assert_eq!(e["dueOn"], "2027-01-31");
    assert_eq!(e["progress"]["requiredTotal"], 1);
    // Each rule its own code.
    let v = enrol(
        &app,
        &c,
        &hr_a,
        json!({ "editionId": for_a, "personId": lea }),
    )
    .await;
    assert_eq!(code(&v), "ALREADY_ENROLLED", "{v}");
    let v = enrol(
        &app,
        &c,
        &hr_a,
        json!({ "editionId": for_a, "personId": nora }),
    )
    .await;
    assert_eq!(
        code(&v),
        "OUT_OF_SUBTREE",
        "a person of this space outside HR's reach: {v}"
    );
    let v = enrol(
        &app,
        &c,
        &c.admin_token,
        json!({ "editionId": for_a, "personId": nora }),
    )
    .await;
    assert_eq!(
        code(&v),
        "NOT_VISIBLE",
        "the edition is offered to A only: {v}"
    );
    let v = enrol(
        &app,
        &c,
        &hr_a,
        json!({ "editionId": for_a, "email": "nora@leroy.test" }),
    )
    .await;
    assert_eq!(code(&v), "OUT_OF_SUBTREE", "{v}");
    // By email: an unknown one becomes a new person, invited.
    let v = enrol(&app, &c, &hr_a, json!({ "editionId": for_a, "email": "new.hire@durand.test", "givenName": "New", "familyName": "Hire", "organisationId": a })).await;
    assert_eq!(ok(&v)["enrol"]["person"]["email"], "new.hire@durand.test");
    let token = fixtures::invitation_token(&app, &c.slug, "new.hire@durand.test").await;
    assert!(!token.is_empty());
    // Learners cannot enrol others, nor themselves in an assigned-only edition.
    let v = enrol(&app, &c, &lea_token, json!({ "editionId": for_a, "email": "x@durand.test", "givenName": "X", "familyName": "Y", "organisationId": a })).await;
    assert!(
        matches!(code(&v).as_str(), "FORBIDDEN" | "OUT_OF_SUBTREE"),
        "{v}"
    );
    let v = app
        .gql(
            Some(&c.slug),
            Some(&lea_token),
            "mutation($e: ID!) { selfEnrol(editionId: $e) { id } }",
            json!({ "e": for_a }),
        )
        .await;
    assert_eq!(code(&v), "ENROLMENT_MODE", "{v}");

    // Self-enrolment and approval.
    let open = fixtures::open_edition(&app, &c, &course, "SELF_ENROLMENT", None, &[]).await;
    let v = app
        .gql(
            Some(&c.slug),
            Some(&lea_token),
            "mutation($e: ID!) { selfEnrol(editionId: $e) { status source } }",
            json!({ "e": open }),
        )
        .await;
    assert_eq!(ok(&v)["selfEnrol"]["status"], "ACTIVE");
    assert_eq!(v["data"]["selfEnrol"]["source"], "SELF_ENROLLED");
    let approval = fixtures::open_edition(&app, &c, &course, "ON_APPROVAL", None, &[]).await;
    let v = app
        .gql(
            Some(&c.slug),
            Some(&lea_token),
            "mutation($e: ID!) { selfEnrol(editionId: $e) { id status } }",
            json!({ "e": approval }),
        )
        .await;
    assert_eq!(ok(&v)["selfEnrol"]["status"], "PENDING_APPROVAL");
    let request = v["data"]["selfEnrol"]["id"].as_str().unwrap().to_owned();
    let v = app
        .gql(
            Some(&c.slug),
            Some(&lea_token),
            "mutation($id: ID!) { approveEnrolment(id: $id) { status } }",
            json!({ "id": request }),
        )
        .await;
    assert_eq!(
        code(&v),
        "FORBIDDEN",
        "a learner cannot approve their own request: {v}"
    );
    let v = app
        .gql(
            Some(&c.slug),
            Some(&hr_a),
            "mutation($id: ID!) { approveEnrolment(id: $id) { status } }",
            json!({ "id": request }),
        )
        .await;
    assert_eq!(ok(&v)["approveEnrolment"]["status"], "ACTIVE");

    // The learner's dashboard: every edition with its course facts and progress.
    let v = app
        .gql(Some(&c.slug), Some(&lea_token), "{ myEnrolments(first: 10) { edges { node { status dueOn edition { title course { eqfLevel } } progress { requiredDone requiredTotal percent } } } } }", json!({}))
        .await;
    let rows = ok(&v)["myEnrolments"]["edges"].as_array().unwrap().clone();
    assert_eq!(rows.len(), 3);
    assert!(
        rows.iter()
            .all(|r| r["node"]["edition"]["title"] == "HACCP basics"
                && r["node"]["progress"]["percent"] == 0)
    );

    let v = app
        .gql(Some(&c.slug), Some(&lea_token), "{ viewer { enrolments(first: 10) { edges { node { status edition { title } progress { percent } } } } } }", json!({}))
        .await;
    assert_eq!(
        ok(&v)["viewer"]["enrolments"]["edges"]
            .as_array()
            .unwrap()
            .len(),
        3,
        "the dashboard on viewer"
    );
    let v = app
        .gql(Some(&c.slug), Some(&hr_a), "query($p: ID!) { person(id: $p) { enrolments(status: ACTIVE) { edges { node { status } } } } }", json!({ "p": lea }))
        .await;
    assert_eq!(
        ok(&v)["person"]["enrolments"]["edges"]
            .as_array()
            .unwrap()
            .len(),
        3,
        "HR sees a person's active enrolments"
    );

    // Withdrawal keeps the history; re-enrolling reopens the same enrolment.
    let v = app
        .gql(
            Some(&c.slug),
            Some(&lea_token),
            "mutation($id: ID!) { withdrawEnrolment(id: $id) { status } }",
            json!({ "id": request }),
        )
        .await;
    assert_eq!(ok(&v)["withdrawEnrolment"]["status"], "WITHDRAWN");
    let v = app
        .gql(
            Some(&c.slug),
            Some(&lea_token),
            "mutation($e: ID!) { selfEnrol(editionId: $e) { id status } }",
            json!({ "e": approval }),
        )
        .await;
    assert_eq!(
        ok(&v)["selfEnrol"]["id"],
        request.as_str(),
        "the same enrolment, asked again"
    );
    assert_eq!(v["data"]["selfEnrol"]["status"], "PENDING_APPROVAL");

    // HR's view of an edition: their people only.
    let v = app
        .gql(Some(&c.slug), Some(&hr_a), "query($e: ID!) { editionEnrolments(editionId: $e, first: 50) { edges { node { person { email } status } } } }", json!({ "e": for_a }))
        .await;
    let emails: Vec<_> = ok(&v)["editionEnrolments"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["person"]["email"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(emails, vec!["lea@durand.test", "new.hire@durand.test"]);
    let by_org = "query($e: ID!, $o: ID) { editionEnrolments(editionId: $e, organisationId: $o, first: 50) { edges { node { person { email } } } } }";
    let v = app
        .gql(
            Some(&c.slug),
            Some(&c.admin_token),
            by_org,
            json!({ "e": for_a, "o": a }),
        )
        .await;
    assert_eq!(
        ok(&v)["editionEnrolments"]["edges"]
            .as_array()
            .unwrap()
            .len(),
        2,
        "the admin filters by organisation"
    );
    let v = app
        .gql(
            Some(&c.slug),
            Some(&c.admin_token),
            by_org,
            json!({ "e": for_a, "o": b }),
        )
        .await;
    assert_eq!(
        ok(&v)["editionEnrolments"]["edges"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    let v = app
        .gql(
            Some(&c.slug),
            Some(&hr_a),
            by_org,
            json!({ "e": for_a, "o": b }),
        )
        .await;
    assert_eq!(code(&v), "NOT_FOUND", "HR of A cannot filter on B: {v}");
    app.stop().await;
}

#[tokio::test]
async fn enrolling_staff_on_sqlite() {
    staff(Backend::Sqlite).await;
}

#[tokio::test]
async fn enrolling_staff_on_postgres() {
    staff(Backend::Postgres).await;
}

/// 50 people enrol at once into the last 10 places: exactly 10 succeed, 40 get CAPACITY_REACHED.
async fn capacity_race(backend: Backend) {
    let app = TestApp::start(backend).await;
    let op = fixtures::operator(&app).await;
    let c = fixtures::campus(&app, &op).await;
    let a = fixtures::company(&app, &c, "Durand").await;
    let course = fixtures::published_course(&app, &op, "Race").await;
    let edition = fixtures::open_edition(&app, &c, &course, "SELF_ENROLMENT", Some(15), &[]).await;
    // 5 places taken first.
    for i in 0..5 {
        let (id, _) = fixtures::member(
            &app,
            &c,
            &c.admin_token,
            &a,
            &format!("early{i}@durand.test"),
            "LEARNER",
        )
        .await;
        ok(&enrol(
            &app,
            &c,
            &c.admin_token,
            json!({ "editionId": edition, "personId": id }),
        )
        .await);
    }
    let mut tokens = vec![];
    for i in 0..50 {
        let (_, t) = fixtures::member(
            &app,
            &c,
            &c.admin_token,
            &a,
            &format!("racer{i}@durand.test"),
            "LEARNER",
        )
        .await;
        tokens.push(t);
    }
    let url = format!("{}/graphql", app.base);
    let mut tasks = vec![];
    for t in tokens {
        let (client, url, slug, edition) = (
            app.client.clone(),
            url.clone(),
            c.slug.clone(),
            edition.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let v: Value = client
                .post(url)
                .header("X-Tenant", slug)
                .header("Authorization", format!("Bearer {t}"))
                .json(&json!({ "query": "mutation($e: ID!) { selfEnrol(editionId: $e) { id } }", "variables": { "e": edition } }))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            code(&v)
        }));
    }
    let mut codes = std::collections::BTreeMap::<String, usize>::new();
    for t in tasks {
        *codes.entry(t.await.unwrap()).or_default() += 1;
    }
    assert_eq!(codes.get(""), Some(&10), "exactly 10 enrolled: {codes:?}");
    assert_eq!(codes.get("CAPACITY_REACHED"), Some(&40), "{codes:?}");
    let v = app
        .gql(Some(&c.slug), Some(&c.admin_token), "query($e: ID!) { editionEnrolments(editionId: $e, first: 100) { edges { node { id } } } }", json!({ "e": edition }))
        .await;
    assert_eq!(
        ok(&v)["editionEnrolments"]["edges"]
            .as_array()
            .unwrap()
            .len(),
        15
    );
    app.stop().await;
}

#[tokio::test]
async fn capacity_holds_under_a_race_on_sqlite() {
    capacity_race(Backend::Sqlite).await;
}

#[tokio::test]
async fn capacity_holds_under_a_race_on_postgres() {
    capacity_race(Backend::Postgres).await;
}

/// Tenant B's admin against A's editions and enrolments: nothing found, nothing changed.
async fn walls(backend: Backend) {
    let app = TestApp::start_with(backend, |c| {
        c.outbox_interval = std::time::Duration::from_secs(3600)
    })
    .await;
    let op = fixtures::operator(&app).await;
    let a = fixtures::campus(&app, &op).await;
    let b = fixtures::campus(&app, &op).await;
    let org = fixtures::company(&app, &a, "A Corp").await;
    let (lea, _) = fixtures::member(&app, &a, &a.admin_token, &org, "lea@a.test", "LEARNER").await;
    let course = fixtures::published_course(&app, &op, "Walls").await;
    let edition = fixtures::open_edition(&app, &a, &course, "ON_APPROVAL", None, &[]).await;
    let v = enrol(
        &app,
        &a,
        &a.admin_token,
        json!({ "editionId": edition, "personId": lea }),
    )
    .await;
    let enrolment = ok(&v)["enrol"]["id"].as_str().unwrap().to_owned();
    let before = app.dump_tenant(&a.id).await;
    let b_org = fixtures::company(&app, &b, "B Corp").await;
    for (q, vars) in [
        (
            "query($id: ID!) { enrolment(id: $id) { id } }",
            json!({ "id": enrolment }),
        ),
        (
            "query($e: ID!) { editionEnrolments(editionId: $e) { edges { node { id } } } }",
            json!({ "e": edition }),
        ),
        (
            "mutation($i: EnrolInput!) { enrol(input: $i) { id } }",
            json!({ "i": { "editionId": edition, "personId": lea } }),
        ),
        (
            "mutation($i: EnrolInput!) { enrol(input: $i) { id } }",
            json!({ "i": { "editionId": edition, "email": "z@b.test", "givenName": "Z", "familyName": "Z", "organisationId": b_org } }),
        ),
        (
            "mutation($e: ID!) { selfEnrol(editionId: $e) { id } }",
            json!({ "e": edition }),
        ),
        (
            "mutation($id: ID!) { approveEnrolment(id: $id) { id } }",
            json!({ "id": enrolment }),
        ),
        (
            "mutation($id: ID!) { rejectEnrolment(id: $id) { id } }",
            json!({ "id": enrolment }),
        ),
        (
            "mutation($id: ID!) { withdrawEnrolment(id: $id) { id } }",
            json!({ "id": enrolment }),
        ),
    ] {
        let v = app.gql(Some(&b.slug), Some(&b.admin_token), q, vars).await;
        let c = code(&v);
        assert!(
            c == "NOT_FOUND"
                || (c == "BAD_USER_INPUT"
                    && v["errors"][0]["message"]
                        .as_str()
                        .unwrap()
                        .contains("no such")),
            "{q}: {v}"
        );
    }
    let v = app
        .gql(
            Some(&b.slug),
            Some(&b.admin_token),
            "{ myEnrolments { edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(ok(&v)["myEnrolments"]["edges"].as_array().unwrap().len(), 0);
    assert_eq!(before, app.dump_tenant(&a.id).await, "no row of A changed");
    app.stop().await;
}

#[tokio::test]
async fn enrolment_walls_on_sqlite() {
    walls(Backend::Sqlite).await;
}

#[tokio::test]
async fn enrolment_walls_on_postgres() {
    walls(Backend::Postgres).await;
}

/// A query's answer and the SQL statements it ran. The space a request addresses is cached for a
/// few seconds, so the query runs twice and the cheaper run counts: the second finds the space
/// cached even when the first had to read it.
async fn statements_of(app: &TestApp, c: &Campus, token: &str, query: &str) -> (Value, u64) {
    let mut runs = Vec::new();
    for _ in 0..2 {
        let before = app.state.deps.db.statements_run();
        let v = app.gql(Some(&c.slug), Some(token), query, json!({})).await;
        runs.push((app.state.deps.db.statements_run() - before, v));
    }
    runs.sort_by_key(|(n, _)| *n);
    let (n, v) = runs.swap_remove(0);
    (v, n)
}

/// The learner dashboard costs the same number of SQL statements with 1 enrolment as with 50:
/// related rows are loaded a page at a time, not one by one.
async fn dashboard_statements(backend: Backend) {
    // No outbox worker between the measurements.
    let app = TestApp::start_with(backend, |c| {
        c.outbox_interval = std::time::Duration::from_secs(3600)
    })
    .await;
    let op = fixtures::operator(&app).await;
    let c = fixtures::campus(&app, &op).await;
    let a = fixtures::company(&app, &c, "Durand").await;
    let (lea, lea_token) =
        fixtures::member(&app, &c, &c.admin_token, &a, "lea@durand.test", "LEARNER").await;
    let course = fixtures::published_course(&app, &op, "Dashboard").await;
    let dashboard = "{ viewer { enrolments(first: 100) { edges { node { status dueOn edition { title startsOn course { title eqfLevel ects skills { label } } modules { title } } progress { requiredDone requiredTotal percent } } } } } }";
    // Progress is written by the LRS, as an LMS reports it: every edition's first module
    // (the fixtures' editions share its IRI) completed.
    let lrs = spaces_tests::xapi::Lrs::of(&app, &c).await;
    let report_progress = async || {
        let r = lrs
            .request(reqwest::Method::POST, "statements")
            .json(&json!({
                "actor": { "mbox": "mailto:lea@durand.test" },
                "verb": { "id": "http://adlnet.gov/expapi/verbs/completed" },
                "object": { "id": "https://lms.example.org/xapi/m1" }
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    };
    let measure = async || {
        report_progress().await;
        let (v, statements) = statements_of(&app, &c, &lea_token, dashboard).await;
        let edges = ok(&v)["viewer"]["enrolments"]["edges"]
            .as_array()
            .unwrap()
            .clone();
        assert!(
            edges
                .iter()
                .all(|e| e["node"]["progress"]["requiredDone"] == 1),
            "progress written by the LRS shows on every enrolment: {v}"
        );
        (edges.len(), statements)
    };
    let enrol_one = async || {
        let edition = fixtures::open_edition(&app, &c, &course, "ASSIGNED_ONLY", None, &[]).await;
        ok(&enrol(
            &app,
            &c,
            &c.admin_token,
            json!({ "editionId": edition, "personId": lea }),
        )
        .await);
    };
    enrol_one().await;
    let (n1, one) = measure().await;
    for _ in 1..50 {
        enrol_one().await;
    }
    let (n50, fifty) = measure().await;
    assert_eq!((n1, n50), (1, 50));
    assert_eq!(
        one, fifty,
        "statements for a dashboard of 1 and of 50 enrolments"
    );
    app.stop().await;
}

#[tokio::test]
async fn the_dashboard_costs_the_same_statements_for_1_or_50_enrolments_on_sqlite() {
    dashboard_statements(Backend::Sqlite).await;
}

#[tokio::test]
async fn the_dashboard_costs_the_same_statements_for_1_or_50_enrolments_on_postgres() {
    dashboard_statements(Backend::Postgres).await;
}

/// Progress counts the current required modules an enrolment completed: not optional ones, not
/// ones only started, not another learner's.
async fn progress_counts(backend: Backend) {
    // No outbox worker: it would add its statements to the counts compared below.
    let app = TestApp::start_with(backend, |c| {
        c.outbox_interval = std::time::Duration::from_secs(3600)
    })
    .await;
    let op = fixtures::operator(&app).await;
    let c = fixtures::campus(&app, &op).await;
    let a = fixtures::company(&app, &c, "Durand").await;
    let (lea, lea_token) =
        fixtures::member(&app, &c, &c.admin_token, &a, "lea@durand.test", "LEARNER").await;
    let (nora, nora_token) =
        fixtures::member(&app, &c, &c.admin_token, &a, "nora@durand.test", "LEARNER").await;
    let course = fixtures::published_course(&app, &op, "Allergens").await;
    let v = app
        .gql(
            None,
            Some(&op),
            "{ courses(first: 100) { edges { node { id providerId } } } }",
            json!({}),
        )
        .await;
    let provider = ok(&v)["courses"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["node"]["id"] == course.as_str())
        .map(|e| e["node"]["providerId"].clone())
        .unwrap();
    let v = app
        .gql(
            None,
            Some(&op),
            "mutation($id: ID!, $i: CourseFactsInput!) { updateCourse(id: $id, input: $i) { id } }",
            json!({ "id": course, "i": { "providerId": provider, "title": "Allergens", "language": "fr", "studyHours": 20, "ects": 1, "eqfLevel": 4, "assessment": "ONLINE_UNVERIFIED",
                "skills": [{ "escoUri": "http://data.europa.eu/esco/skill/allergens", "label": "manage allergens" }] } }),
        )
        .await;
    ok(&v);
    let edition = fixtures::open_edition(&app, &c, &course, "ASSIGNED_ONLY", None, &[]).await;
    let v = app
        .gql(
            Some(&c.slug),
            Some(&c.admin_token),
            "mutation($id: ID!, $i: SetEditionModulesInput!) { setEditionModules(id: $id, input: $i) { modules { id title } } }",
            json!({ "id": edition, "i": { "modules": [
                { "title": "Hygiene", "required": true, "activityIri": "https://lms.example.org/xapi/m1" },
                { "title": "Going further", "required": false, "activityIri": "https://lms.example.org/xapi/m2" },
                { "title": "Allergens", "required": true, "activityIri": "https://lms.example.org/xapi/m3" }
            ] } }),
        )
        .await;
    let modules = ok(&v)["setEditionModules"]["modules"].as_array().unwrap();
    let module = |title: &str| {
        modules
            .iter()
            .find(|m| m["title"] == title)
            .and_then(|m| m["id"].as_str())
            .unwrap()
            .to_owned()
    };
    let (m1, m2, m3) = (
        module("Hygiene"),
        module("Going further"),
        module("Allergens"),
    );
    let enrolment_of = async |person: &str| {
        let v = enrol(
            &app,
            &c,
            &c.admin_token,
            json!({ "editionId": edition, "personId": person }),
        )
        .await;
        ok(&v)["enrol"]["id"].as_str().unwrap().to_owned()
    };
    let (e_lea, e_nora) = (enrolment_of(&lea).await, enrolment_of(&nora).await);
    fixtures::record_progress(&app, &c.id, &e_lea, &m1, true).await;
    fixtures::record_progress(&app, &c.id, &e_lea, &m2, true).await;
    fixtures::record_progress(&app, &c.id, &e_lea, &m3, false).await;
    fixtures::record_progress(&app, &c.id, &e_nora, &m1, true).await;
    fixtures::record_progress(&app, &c.id, &e_nora, &m3, true).await;

    let dashboard = "{ viewer { enrolments { edges { node { progress { requiredDone requiredTotal percent } } } } } }";
    let progress_of = async |token: &str| {
        let v = app
            .gql(Some(&c.slug), Some(token), dashboard, json!({}))
            .await;
        ok(&v)["viewer"]["enrolments"]["edges"][0]["node"]["progress"].clone()
    };
    assert_eq!(
        progress_of(&lea_token).await,
        json!({ "requiredDone": 1, "requiredTotal": 2, "percent": 50 }),
        "Lea completed one of two required modules (and the optional one)"
    );
    assert_eq!(
        progress_of(&nora_token).await,
        json!({ "requiredDone": 2, "requiredTotal": 2, "percent": 100 })
    );
    // Parts asked for through a fragment are read with the page, as when asked for inline.
    let (v, through_fragment) = statements_of(
        &app,
        &c,
        &lea_token,
        "{ viewer { enrolments { edges { node { ...N } } } } } fragment N on Enrolment { edition { modules { title } course { skills { label } } } }",
    )
    .await;
    let (inline, inline_statements) = statements_of(
        &app,
        &c,
        &lea_token,
        "{ viewer { enrolments { edges { node { edition { modules { title } course { skills { label } } } } } } } }",
    )
    .await;
    assert_eq!(v["data"], inline["data"]);
    assert_eq!(through_fragment, inline_statements);
    let edition_of_lea = &ok(&v)["viewer"]["enrolments"]["edges"][0]["node"]["edition"];
    assert_eq!(
        edition_of_lea["modules"],
        json!([{ "title": "Hygiene" }, { "title": "Going further" }, { "title": "Allergens" }])
    );
    assert_eq!(
        edition_of_lea["course"]["skills"],
        json!([{ "label": "manage allergens" }])
    );
    // HR's view of the edition agrees.
    let v = app
        .gql(
            Some(&c.slug),
            Some(&c.admin_token),
            "query($e: ID!) { editionEnrolments(editionId: $e) { edges { node { person { email } progress { requiredDone } } } } }",
            json!({ "e": edition }),
        )
        .await;
    let mut seen: Vec<(String, i64)> = ok(&v)["editionEnrolments"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["node"]["person"]["email"].as_str().unwrap().to_owned(),
                e["node"]["progress"]["requiredDone"].as_i64().unwrap(),
            )
        })
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        [
            ("lea@durand.test".to_owned(), 1),
            ("nora@durand.test".to_owned(), 2)
        ]
    );
    app.stop().await;
}

#[tokio::test]
async fn progress_counts_completed_required_modules_on_sqlite() {
    progress_counts(Backend::Sqlite).await;
}

#[tokio::test]
async fn progress_counts_completed_required_modules_on_postgres() {
    progress_counts(Backend::Postgres).await;
}

/// The learner's "editions I can join": only open, visible, self-service editions inside their
/// enrolment window that the learner has not joined or asked for yet.
async fn joinable_editions(backend: Backend) {
    let app = TestApp::start(backend).await;
    let op = fixtures::operator(&app).await;
    let c = fixtures::campus(&app, &op).await;
    let a = fixtures::company(&app, &c, "Durand").await;
    let b = fixtures::company(&app, &c, "Leroy").await;
    let (_, lea_token) =
        fixtures::member(&app, &c, &c.admin_token, &a, "lea@durand.test", "LEARNER").await;
    let (nora, _) =
        fixtures::member(&app, &c, &c.admin_token, &a, "nora@durand.test", "LEARNER").await;
    let course = fixtures::published_course(&app, &op, "Joinable").await;
    let edition = async |mode: &str, visible_to: &[&str]| {
        fixtures::open_edition(&app, &c, &course, mode, None, visible_to).await
    };
    let assigned = edition("ASSIGNED_ONLY", &[]).await;
    let self_service = edition("SELF_ENROLMENT", &[]).await;
    let approval = edition("ON_APPROVAL", &[&a]).await;
    let elsewhere = edition("SELF_ENROLMENT", &[&b]).await;
    let later = edition("SELF_ENROLMENT", &[]).await;
    let v = app
        .gql(
            Some(&c.slug),
            Some(&c.admin_token),
            "mutation($id: ID!, $i: UpdateEditionInput!) { updateEdition(id: $id, input: $i) { id } }",
            json!({ "id": later, "i": { "enrolOpensAt": "2099-01-01T00:00:00Z" } }),
        )
        .await;
    ok(&v);
    let joined = edition("SELF_ENROLMENT", &[]).await;
    // Full: its one seat is Nora's. With one of two seats left, another stays joinable.
    let full = fixtures::open_edition(&app, &c, &course, "SELF_ENROLMENT", Some(1), &[]).await;
    let seat_left = fixtures::open_edition(&app, &c, &course, "ON_APPROVAL", Some(2), &[]).await;
    for e in [&full, &seat_left] {
        ok(&enrol(
            &app,
            &c,
            &c.admin_token,
            json!({ "editionId": e, "personId": nora }),
        )
        .await);
    }
    let v = app
        .gql(
            Some(&c.slug),
            Some(&lea_token),
            "mutation($e: ID!) { selfEnrol(editionId: $e) { id } }",
            json!({ "e": joined }),
        )
        .await;
    let enrolment = ok(&v)["selfEnrol"]["id"].as_str().unwrap().to_owned();

    let list = async |token: &str| {
        let v = app
            .gql(
                Some(&c.slug),
                Some(token),
                "{ editions(joinable: true) { edges { node { id } } } }",
                json!({}),
            )
            .await;
        let mut ids: Vec<String> = ok(&v)["editions"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"]["id"].as_str().unwrap().to_owned())
            .collect();
        ids.sort();
        ids
    };
    let sorted = |mut v: Vec<&String>| {
        v.sort();
        v.into_iter().cloned().collect::<Vec<_>>()
    };
    assert_eq!(
        list(&lea_token).await,
        sorted(vec![&self_service, &approval, &seat_left]),
        "not assigned-only ({assigned}), not another company's ({elsewhere}), not before its window ({later}), not already joined ({joined}), not full ({full})"
    );
    // Withdrawn, the learner may join again.
    let v = app
        .gql(
            Some(&c.slug),
            Some(&lea_token),
            "mutation($id: ID!) { withdrawEnrolment(id: $id) { status } }",
            json!({ "id": enrolment }),
        )
        .await;
    assert_eq!(ok(&v)["withdrawEnrolment"]["status"], "WITHDRAWN");
    assert_eq!(
        list(&lea_token).await,
        sorted(vec![&self_service, &approval, &joined, &seat_left])
    );
    // For an admin, too, it is what they could join themselves: a learner's view.
    assert_eq!(
        list(&c.admin_token).await,
        sorted(vec![&self_service, &joined, &seat_left]),
        "the admin sits at the root, outside Durand's subtree"
    );
    let v = app
        .gql(
            Some(&c.slug),
            Some(&lea_token),
            "{ editions(joinable: true, status: DRAFT) { edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(code(&v), "BAD_USER_INPUT");
    assert_eq!(v["errors"][0]["extensions"]["field"], "status");
    app.stop().await;
}

#[tokio::test]
async fn joinable_editions_on_sqlite() {
    joinable_editions(Backend::Sqlite).await;
}

#[tokio::test]
async fn joinable_editions_on_postgres() {
    joinable_editions(Backend::Postgres).await;
}

const IMPORT: &str = "mutation($e: ID!, $file: Upload!) { importEnrolments(editionId: $e, file: $file) { applied newEnrolments alreadyEnrolled errors { line column code } } }";

/// The import's report for a CSV of (email, organisation) rows.
async fn import_rows(
    app: &TestApp,
    c: &Campus,
    token: &str,
    edition: &str,
    rows: &[(&str, &str)],
) -> Value {
    let csv: String = std::iter::once("email,given name,family name,organisation\n".to_owned())
        .chain(rows.iter().map(|(e, o)| format!("{e},Given,Family,{o}\n")))
        .collect();
    let (status, v) = app
        .upload(
            &c.slug,
            token,
            IMPORT,
            json!({ "e": edition }),
            "staff.csv",
            csv.into_bytes(),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    ok(&v)["importEnrolments"].clone()
}

/// The refusing rules of an import's report, as (line, column, code).
fn refusals(report: &Value) -> Vec<(i64, String, String)> {
    assert_eq!(report["applied"], false, "{report}");
    report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["line"].as_i64().unwrap(),
                e["column"].as_str().unwrap_or("").to_owned(),
                e["code"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

/// `enrol`, `selfEnrol`, approval and the import go through the same admission rules: each rule
/// refuses on every path with its own code; approval re-checks the edition and its visibility
/// but not the enrolment window; the import applies the window like `enrol`.
async fn admission_rules(backend: Backend) {
    let app = TestApp::start_with(backend, |c| {
        c.outbox_interval = std::time::Duration::from_secs(3600)
    })
    .await;
    let op = fixtures::operator(&app).await;
    let c = fixtures::campus(&app, &op).await;
    let a = fixtures::company(&app, &c, "Durand").await;
    let b = fixtures::company(&app, &c, "Leroy").await;
    let (_, hr) =
        fixtures::member(&app, &c, &c.admin_token, &a, "hr@durand.test", "ORG_ADMIN").await;
    let (lea, lea_token) = fixtures::member(&app, &c, &hr, &a, "lea@durand.test", "LEARNER").await;
    let (ines, ines_token) =
        fixtures::member(&app, &c, &hr, &a, "ines@durand.test", "LEARNER").await;
    let (nora, nora_token) =
        fixtures::member(&app, &c, &c.admin_token, &b, "nora@leroy.test", "LEARNER").await;
    let course = fixtures::published_course(&app, &op, "Admission").await;
    let gql = async |token: &str, q: &str, vars: Value| {
        app.gql(Some(&c.slug), Some(token), q, vars).await
    };
    let self_enrol = async |token: &str, edition: &str| {
        gql(
            token,
            "mutation($e: ID!) { selfEnrol(editionId: $e) { id status } }",
            json!({ "e": edition }),
        )
        .await
    };
    let approve = async |id: &str| {
        gql(
            &hr,
            "mutation($id: ID!) { approveEnrolment(id: $id) { status } }",
            json!({ "id": id }),
        )
        .await
    };
    let update = async |edition: &str, input: Value| {
        ok(&gql(&c.admin_token, "mutation($id: ID!, $i: UpdateEditionInput!) { updateEdition(id: $id, input: $i) { id } }", json!({ "id": edition, "i": input })).await);
    };
    let ask = async |edition: &str| {
        let v = self_enrol(&lea_token, edition).await;
        assert_eq!(ok(&v)["selfEnrol"]["status"], "PENDING_APPROVAL");
        v["data"]["selfEnrol"]["id"].as_str().unwrap().to_owned()
    };
    let enrol_ines = async |edition: &str| {
        enrol(
            &app,
            &c,
            &hr,
            json!({ "editionId": edition, "personId": ines }),
        )
        .await
    };
    let ines_row = [("ines@durand.test", "Durand")];

    // The window: not open yet for enrol, selfEnrol and the import; a request made inside it is
    // still approved.
    let later = fixtures::open_edition(&app, &c, &course, "ON_APPROVAL", None, &[]).await;
    let asked_early = ask(&later).await;
    update(&later, json!({ "enrolOpensAt": "2099-01-01T00:00:00Z" })).await;
    assert_eq!(code(&enrol_ines(&later).await), "EDITION_NOT_OPEN");
    assert_eq!(
        code(&self_enrol(&ines_token, &later).await),
        "EDITION_NOT_OPEN"
    );
    assert_eq!(
        refusals(&import_rows(&app, &c, &hr, &later, &ines_row).await),
        [(0, String::new(), "EDITION_NOT_OPEN".to_owned())],
        "the import applies the window like enrol"
    );
    assert_eq!(
        ok(&approve(&asked_early).await)["approveEnrolment"]["status"],
        "ACTIVE",
        "approval ignores the window"
    );

    // A closed edition: every path, approval included.
    let closing = fixtures::open_edition(&app, &c, &course, "ON_APPROVAL", None, &[]).await;
    let asked = ask(&closing).await;
    ok(&gql(
        &c.admin_token,
        "mutation($id: ID!) { closeEdition(id: $id) { status } }",
        json!({ "id": closing }),
    )
    .await);
    assert_eq!(code(&enrol_ines(&closing).await), "EDITION_NOT_OPEN");
    assert_eq!(
        code(&self_enrol(&c.admin_token, &closing).await),
        "EDITION_NOT_OPEN"
    );
    assert_eq!(
        code(&self_enrol(&ines_token, &closing).await),
        "NOT_FOUND",
        "a learner does not see a closed edition"
    );
    assert_eq!(
        refusals(&import_rows(&app, &c, &hr, &closing, &ines_row).await),
        [(0, String::new(), "EDITION_NOT_OPEN".to_owned())]
    );
    assert_eq!(code(&approve(&asked).await), "EDITION_NOT_OPEN");

    // Visibility: an edition moved away from Durand after Léa asked.
    let shifting = fixtures::open_edition(&app, &c, &course, "ON_APPROVAL", None, &[&a]).await;
    let asked = ask(&shifting).await;
    update(
        &shifting,
        json!({ "visibility": "ORGANISATIONS", "visibleTo": [b] }),
    )
    .await;
    assert_eq!(code(&enrol_ines(&shifting).await), "NOT_VISIBLE");
    assert_eq!(
        code(&self_enrol(&ines_token, &shifting).await),
        "NOT_FOUND",
        "to a learner, an edition not offered to them does not exist"
    );
    assert_eq!(
        refusals(&import_rows(&app, &c, &hr, &shifting, &ines_row).await),
        [(2, "organisation".to_owned(), "NOT_VISIBLE".to_owned())]
    );
    assert_eq!(
        code(&approve(&asked).await),
        "NOT_VISIBLE",
        "approval re-checks visibility"
    );

    // Subtree, duplicates, capacity and mode, on an edition of two places.
    let two = fixtures::open_edition(&app, &c, &course, "SELF_ENROLMENT", Some(2), &[]).await;
    let nora_in = json!({ "editionId": two, "personId": nora });
    assert_eq!(
        code(&enrol(&app, &c, &hr, nora_in.clone()).await),
        "OUT_OF_SUBTREE"
    );
    assert_eq!(
        refusals(&import_rows(&app, &c, &hr, &two, &[("nora@leroy.test", "Durand")]).await),
        [(2, "email".to_owned(), "OUT_OF_SUBTREE".to_owned())]
    );
    ok(&enrol(&app, &c, &hr, json!({ "editionId": two, "personId": lea })).await);
    assert_eq!(
        code(&enrol(&app, &c, &hr, json!({ "editionId": two, "personId": lea })).await),
        "ALREADY_ENROLLED"
    );
    assert_eq!(
        code(&self_enrol(&lea_token, &two).await),
        "ALREADY_ENROLLED"
    );
    let r = import_rows(&app, &c, &hr, &two, &[("lea@durand.test", "Durand")]).await;
    assert_eq!(
        (&r["applied"], &r["alreadyEnrolled"], &r["newEnrolments"]),
        (&json!(true), &json!(1), &json!(0)),
        "the import counts a duplicate as already enrolled: {r}"
    );
    ok(&self_enrol(&ines_token, &two).await);
    assert_eq!(
        code(&enrol(&app, &c, &c.admin_token, nora_in).await),
        "CAPACITY_REACHED"
    );
    assert_eq!(
        code(&self_enrol(&nora_token, &two).await),
        "CAPACITY_REACHED"
    );
    assert_eq!(
        refusals(&import_rows(&app, &c, &hr, &two, &[("new@durand.test", "Durand")]).await),
        [(0, String::new(), "CAPACITY_REACHED".to_owned())]
    );
    let assigned = fixtures::open_edition(&app, &c, &course, "ASSIGNED_ONLY", None, &[]).await;
    assert_eq!(
        code(&self_enrol(&nora_token, &assigned).await),
        "ENROLMENT_MODE"
    );

    // Ids that name nothing in this space: the field is named, and another space's person
    // answers exactly like an unknown one. (The code becomes NOT_FOUND with the walls change
    // of `not_found_as`; before it, BAD_USER_INPUT.)
    let other = fixtures::campus(&app, &op).await;
    let other_org = fixtures::company(&app, &other, "Elsewhere").await;
    let (foreign, _) = fixtures::member(
        &app,
        &other,
        &other.admin_token,
        &other_org,
        "x@elsewhere.test",
        "LEARNER",
    )
    .await;
    let unknown = uuid::Uuid::now_v7().to_string();
    let answer = |v: &Value| {
        (
            code(v),
            v["errors"][0]["extensions"]["field"]
                .as_str()
                .unwrap_or("")
                .to_owned(),
        )
    };
    let by_foreign = answer(
        &enrol(
            &app,
            &c,
            &hr,
            json!({ "editionId": two, "personId": foreign }),
        )
        .await,
    );
    let by_unknown = answer(
        &enrol(
            &app,
            &c,
            &hr,
            json!({ "editionId": two, "personId": unknown }),
        )
        .await,
    );
    assert_eq!(by_foreign, by_unknown);
    assert_eq!(by_foreign.1, "personId");
    assert!(
        matches!(by_foreign.0.as_str(), "NOT_FOUND" | "BAD_USER_INPUT"),
        "{by_foreign:?}"
    );
    let v = enrol(
        &app,
        &c,
        &hr,
        json!({ "editionId": unknown, "personId": lea }),
    )
    .await;
    assert_eq!(answer(&v).1, "editionId", "{v}");
    app.stop().await;
}

#[tokio::test]
async fn every_path_goes_through_the_same_admission_rules_on_sqlite() {
    admission_rules(Backend::Sqlite).await;
}

#[tokio::test]
async fn every_path_goes_through_the_same_admission_rules_on_postgres() {
    admission_rules(Backend::Postgres).await;
}
