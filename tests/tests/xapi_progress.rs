//! Issue 11, journey 7 up to completion: an LMS sends statements to the space's LRS as the xAPI
//! specification shows them, and HR sees progress, grade and completion move. Also: the
//! minimum score, replays, voiding before and after completion, unknown actors and
//! activities in the admins' report, and statements of another space moving nothing here.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use spaces_tests::app::ok;
use spaces_tests::fixtures::{self, Campus};
use spaces_tests::xapi::Lrs;
use spaces_tests::{Backend, TestApp};

const M1: &str = "https://lms.example.org/xapi/haccp/m1";
const M2: &str = "https://lms.example.org/xapi/haccp/quiz";
const M3: &str = "https://lms.example.org/xapi/haccp/extra";
const ADL: &str = "http://adlnet.gov/expapi/verbs/";

const ENROLMENT: &str = "query($id: ID!) { enrolment(id: $id) { status completedAt grade registration progress { requiredDone requiredTotal percent } } }";
const REPORT: &str = "{ lrsReport { unknownActivities { value statements } unknownActors { value statements } voidedAfterCompletion { enrolmentId note } } }";

struct Setup {
    app: TestApp,
    campus: Campus,
    lrs: Lrs,
    enrolment: String,
    email: String,
    lea: String,
    lea_token: String,
    org: String,
}

/// A space with an edition of three modules (M1 done when completed, the quiz M2 when passed,
/// M3 optional), a minimum score of 50, and Léa enrolled.
async fn setup(backend: Backend) -> Setup {
    let app = TestApp::start(backend).await;
    let op = fixtures::operator(&app).await;
    let c = fixtures::campus(&app, &op).await;
    let org = fixtures::company(&app, &c, "Fromagerie").await;
    let email = format!("lea@{}.test", c.slug);
    let (lea, lea_token) =
        fixtures::member(&app, &c, &c.admin_token, &org, &email, "LEARNER").await;
    let course = fixtures::published_course(&app, &op, "HACCP").await;
    let edition = fixtures::open_edition(&app, &c, &course, "ASSIGNED_ONLY", None, &[]).await;
    let v = app
        .gql(
            Some(&c.slug),
            Some(&c.admin_token),
            "mutation($id: ID!, $i: SetEditionModulesInput!) { setEditionModules(id: $id, input: $i) { modules { activityIri moveOn } } }",
            json!({ "id": edition, "i": { "modules": [
                { "title": "Principles", "required": true, "activityIri": M1 },
                { "title": "Quiz", "required": true, "activityIri": M2, "moveOn": "PASSED" },
                { "title": "Further", "required": false, "activityIri": M3 }
            ] } }),
        )
        .await;
    assert_eq!(
        ok(&v)["setEditionModules"]["modules"][1],
        json!({ "activityIri": M2, "moveOn": "PASSED" })
    );
    let v = app
        .gql(
            Some(&c.slug),
            Some(&c.admin_token),
            "mutation($id: ID!) { updateEdition(id: $id, input: { minScore: 50 }) { minScore } }",
            json!({ "id": edition }),
        )
        .await;
    assert_eq!(ok(&v)["updateEdition"]["minScore"], 50);
    let enrolment = fixtures::enrol(&app, &c, &c.admin_token, &edition, &lea).await;
    let lrs = Lrs::of(&app, &c).await;
    Setup {
        app,
        campus: c,
        lrs,
        enrolment,
        email,
        lea,
        lea_token,
        org,
    }
}

fn statement(email: &str, verb: &str, activity: &str, scaled: Option<f64>) -> Value {
    let mut s = json!({
        "actor": { "objectType": "Agent", "name": "Léa", "mbox": format!("mailto:{email}") },
        "verb": { "id": format!("{ADL}{verb}"), "display": { "en-US": verb } },
        "object": { "objectType": "Activity", "id": activity }
    });
    if let Some(x) = scaled {
        s["result"] = json!({ "score": { "scaled": x } });
    }
    s
}

impl Setup {
    async fn post(&self, body: Value) -> Vec<String> {
        let r = self
            .lrs
            .request(Method::POST, "statements")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        r.json().await.unwrap()
    }

    /// What HR sees of the enrolment.
    async fn seen(&self) -> Value {
        let v = self
            .app
            .gql(
                Some(&self.campus.slug),
                Some(&self.campus.admin_token),
                ENROLMENT,
                json!({ "id": self.enrolment }),
            )
            .await;
        ok(&v)["enrolment"].clone()
    }

    async fn report(&self) -> Value {
        let v = self
            .app
            .gql(
                Some(&self.campus.slug),
                Some(&self.campus.admin_token),
                REPORT,
                json!({}),
            )
            .await;
        ok(&v)["lrsReport"].clone()
    }

    async fn void(&self, id: &str) {
        self.post(json!({
            "actor": { "mbox": "mailto:tutor@example.org" },
            "verb": { "id": format!("{ADL}voided") },
            "object": { "objectType": "StatementRef", "id": id }
        }))
        .await;
    }
}

async fn journey(backend: Backend) {
    let s = setup(backend).await;
    let seen = s.seen().await;
    assert_eq!(seen["status"], "ACTIVE");
    assert_eq!(seen["registration"], s.enrolment.as_str());
    assert_eq!(seen["progress"]["requiredTotal"], 2);

    // A batch: attempted, then completed with 40 %: below the minimum score, so not done.
    s.post(json!([
        statement(&s.email, "attempted", M1, None),
        statement(&s.email, "completed", M1, Some(0.4)),
    ]))
    .await;
    let seen = s.seen().await;
    assert_eq!(seen["progress"]["requiredDone"], 0);
    assert_eq!(seen["grade"], 40.0);
    // Completed again with 90 %: done; the best score counts.
    s.post(statement(&s.email, "completed", M1, Some(0.9)))
        .await;
    let seen = s.seen().await;
    assert_eq!(seen["progress"]["requiredDone"], 1);
    assert_eq!(seen["grade"], 90.0);
    // The quiz failed at 30 %: not done (its rule is Passed).
    let failed = s.post(statement(&s.email, "failed", M2, Some(0.3))).await;
    let seen = s.seen().await;
    assert_eq!(seen["progress"]["requiredDone"], 1);
    assert_eq!(seen["grade"], 60.0);
    // A replay (same id, same statement) changes nothing.
    let mut replay = statement(&s.email, "failed", M2, Some(0.3));
    replay["id"] = json!(failed[0]);
    s.post(replay).await;
    assert_eq!(s.seen().await, seen);

    // The optional module moves nothing that counts.
    s.post(statement(&s.email, "completed", M3, None)).await;
    assert_eq!(s.seen().await["status"], "ACTIVE");

    // Passed at 70 %, named by mbox_sha1sum and the enrolment's registration, as a cmi5
    // launch names it: every required module is done, the enrolment completes.
    let sha1 = sha1_hex(&format!("mailto:{}", s.email));
    let mut passed = json!({
        "actor": { "mbox_sha1sum": sha1 },
        "verb": { "id": format!("{ADL}passed") },
        "object": { "id": M2 },
        "result": { "score": { "scaled": 0.7 }, "success": true },
        "context": { "registration": s.enrolment }
    });
    passed["timestamp"] = json!("2026-12-01T09:00:00.000Z");
    s.post(passed).await;
    let done = s.seen().await;
    assert_eq!(done["status"], "COMPLETED");
    assert!(done["completedAt"].is_string());
    assert_eq!(done["grade"], 80.0);
    assert_eq!(done["progress"]["requiredDone"], 2);
    let jobs = s.app.jobs_of(&s.campus.id, "enrolment.completed").await;
    assert_eq!(jobs, [json!({ "enrolmentId": s.enrolment })]);

    // After completion: more statements, or voiding what counted, change nothing; the
    // voiding is reported to the admins.
    s.post(statement(&s.email, "failed", M2, Some(0.1))).await;
    s.void(&failed[0]).await;
    let m1 = s
        .post(statement(&s.email, "completed", M1, Some(0.2)))
        .await;
    s.void(&m1[0]).await;
    assert_eq!(s.seen().await, done);
    let report = s.report().await;
    let late = report["voidedAfterCompletion"].as_array().unwrap();
    assert_eq!(late.len(), 2, "{report}");
    assert_eq!(late[0]["enrolmentId"], s.enrolment.as_str());
    assert_eq!(
        s.app
            .jobs_of(&s.campus.id, "enrolment.completed")
            .await
            .len(),
        1
    );
    // The history, as the learner and HR read it.
    for token in [&s.lea_token, &s.campus.admin_token] {
        let v = s
            .app
            .gql(
                Some(&s.campus.slug),
                Some(token),
                "query($id: ID!) { enrolment(id: $id) { events { kind actorId note } } }",
                json!({ "id": s.enrolment }),
            )
            .await;
        let kinds: Vec<&str> = ok(&v)["enrolment"]["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["kind"].as_str().unwrap())
            .filter(|k| *k != "enrolled")
            .collect();
        assert_eq!(
            kinds,
            [
                "completed",
                "voided_after_completion",
                "voided_after_completion"
            ],
            "{v}"
        );
    }

    // Unknown actors and activities are stored and counted, not refused.
    s.post(statement("nobody@example.org", "completed", M1, None))
        .await;
    s.post(statement("nobody@example.org", "completed", M1, None))
        .await;
    s.post(statement(
        &s.email,
        "completed",
        "https://elsewhere.example/x",
        None,
    ))
    .await;
    let report = s.report().await;
    assert_eq!(
        report["unknownActors"],
        json!([{ "value": "mbox:mailto:nobody@example.org", "statements": 2 }])
    );
    assert_eq!(
        report["unknownActivities"],
        json!([{ "value": "https://elsewhere.example/x", "statements": 1 }])
    );
    s.app.stop().await;
}

#[tokio::test]
async fn journey_to_completion_on_sqlite() {
    journey(Backend::Sqlite).await;
}

#[tokio::test]
async fn journey_to_completion_on_postgres() {
    journey(Backend::Postgres).await;
}

async fn voiding_before_completion(backend: Backend) {
    let s = setup(backend).await;
    let ids = s
        .post(statement(&s.email, "completed", M1, Some(0.8)))
        .await;
    assert_eq!(s.seen().await["progress"]["requiredDone"], 1);
    // Voided before completion: the progress it made is taken back.
    s.void(&ids[0]).await;
    let seen = s.seen().await;
    assert_eq!(seen["progress"]["requiredDone"], 0);
    assert_eq!(seen["grade"], Value::Null);
    // What still stands is folded again: an earlier completion at 60 % counts.
    s.post(statement(&s.email, "completed", M1, Some(0.6)))
        .await;
    let keep = s
        .post(statement(&s.email, "completed", M1, Some(0.95)))
        .await;
    s.void(&keep[0]).await;
    let seen = s.seen().await;
    assert_eq!(seen["progress"]["requiredDone"], 1);
    assert_eq!(seen["grade"], 60.0);
    // Only admins read the report.
    let other = fixtures::company(&s.app, &s.campus, "Other").await;
    let (_, hr_token) = fixtures::member(
        &s.app,
        &s.campus,
        &s.campus.admin_token,
        &other,
        "hr@example.org",
        "ORG_ADMIN",
    )
    .await;
    let v = s
        .app
        .gql(Some(&s.campus.slug), Some(&hr_token), REPORT, json!({}))
        .await;
    assert_eq!(spaces_tests::app::code(&v), "FORBIDDEN");
    s.app.stop().await;
}

#[tokio::test]
async fn voiding_before_completion_on_sqlite() {
    voiding_before_completion(Backend::Sqlite).await;
}

#[tokio::test]
async fn voiding_before_completion_on_postgres() {
    voiding_before_completion(Backend::Postgres).await;
}

/// Statements posted in another space that carry this space's activity IRIs and learners'
/// emails leave this space unchanged.
async fn other_space_moves_nothing(backend: Backend) {
    let s = setup(backend).await;
    let op = fixtures::operator(&s.app).await;
    let b = fixtures::campus(&s.app, &op).await;
    let lrs_b = Lrs::of(&s.app, &b).await;
    let mut before = s.app.dump_tenant(&s.campus.id).await;
    // The mailer delivers invitations in the background: that row moves by itself.
    before.remove("outbox");
    for verb in ["completed", "passed"] {
        for m in [M1, M2] {
            let r = lrs_b
                .request(Method::POST, "statements")
                .json(&statement(&s.email, verb, m, Some(1.0)))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::OK);
        }
    }
    let mut after = s.app.dump_tenant(&s.campus.id).await;
    after.remove("outbox");
    assert_eq!(after, before, "no row of A changed");
    assert_eq!(s.seen().await["status"], "ACTIVE");
    s.app.stop().await;
}

#[tokio::test]
async fn other_space_moves_nothing_on_sqlite() {
    other_space_moves_nothing(Backend::Sqlite).await;
}

#[tokio::test]
async fn other_space_moves_nothing_on_postgres() {
    other_space_moves_nothing(Backend::Postgres).await;
}

const SET_REF: &str = "mutation($p: ID!, $x: ExternalRefInput) { setPersonExternalRef(personId: $p, externalRef: $x) { externalRef { homePage name } } }";

/// An LMS that names people by its own account ids: HR sets the person's external reference,
/// and statements by that account count for them.
async fn account_actor(backend: Backend) {
    let s = setup(backend).await;
    let gql = |vars: Value| {
        s.app.gql(
            Some(&s.campus.slug),
            Some(&s.campus.admin_token),
            SET_REF,
            vars,
        )
    };
    let account = json!({ "homePage": "https://moodle.fromagerie.example", "name": "u-4242" });
    let v = gql(json!({ "p": s.lea, "x": account })).await;
    assert_eq!(ok(&v)["setPersonExternalRef"]["externalRef"], account);
    // Bad input names the field; one account names one person.
    let v = gql(json!({ "p": s.lea, "x": { "homePage": "moodle", "name": "u-1" } })).await;
    assert_eq!(
        v["errors"][0]["extensions"]["field"], "externalRef.homePage",
        "{v}"
    );
    let (hugo, _) = fixtures::member(
        &s.app,
        &s.campus,
        &s.campus.admin_token,
        &s.org,
        "hugo@example.org",
        "LEARNER",
    )
    .await;
    let v = gql(json!({ "p": hugo, "x": account })).await;
    assert_eq!(spaces_tests::app::code(&v), "CONFLICT", "{v}");

    s.post(json!({
        "actor": { "account": account },
        "verb": { "id": format!("{ADL}completed") },
        "object": { "id": M1 },
        "result": { "score": { "scaled": 0.75 } }
    }))
    .await;
    let seen = s.seen().await;
    assert_eq!(seen["progress"]["requiredDone"], 1);
    assert_eq!(seen["grade"], 75.0);
    // The same name on another LMS is somebody else.
    s.post(json!({
        "actor": { "account": { "homePage": "https://other.example", "name": "u-4242" } },
        "verb": { "id": format!("{ADL}passed") },
        "object": { "id": M2 },
        "result": { "score": { "scaled": 0.9 } }
    }))
    .await;
    assert_eq!(s.seen().await["status"], "ACTIVE");
    s.app.stop().await;
}

#[tokio::test]
async fn account_actor_on_sqlite() {
    account_actor(Backend::Sqlite).await;
}

#[tokio::test]
async fn account_actor_on_postgres() {
    account_actor(Backend::Postgres).await;
}

const RECORD: &str = "mutation($i: RecordProgressInput!) { recordProgress(input: $i) { statementId enrolmentStatus grade } }";

/// A platform without xAPI records progress through GraphQL with its LRS credential.
async fn progress_through_graphql(backend: Backend) {
    let s = setup(backend).await;
    let v = s
        .app
        .gql(
            Some(&s.campus.slug),
            Some(&s.campus.admin_token),
            "query($id: ID!) { enrolment(id: $id) { edition { modules { id activityIri } } } }",
            json!({ "id": s.enrolment }),
        )
        .await;
    let modules = ok(&v)["enrolment"]["edition"]["modules"].clone();
    let module = |iri: &str| {
        modules
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["activityIri"] == iri)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let machine = |lrs: &Lrs, vars: Value| {
        let body = json!({ "query": RECORD, "variables": { "i": vars } });
        let req = s
            .app
            .client
            .post(format!("{}/graphql", s.app.base))
            .header("Host", &s.lrs.host)
            .header("Authorization", lrs.authorization())
            .json(&body);
        async move { req.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let report = json!({ "enrolmentId": s.enrolment, "moduleId": module(M1), "completed": true, "score": 0.8, "reportId": "aa97b177-9383-4934-8543-0f91a7a02836" });
    let v = machine(&s.lrs, report.clone()).await;
    let r = ok(&v)["recordProgress"].clone();
    assert_eq!(r["enrolmentStatus"], "ACTIVE");
    assert_eq!(r["grade"], 80.0);
    // The report is a statement of the LRS.
    let got = s
        .lrs
        .request(
            Method::GET,
            &format!(
                "statements?statementId={}",
                r["statementId"].as_str().unwrap()
            ),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(got.status(), StatusCode::OK);
    // The same report again: nothing changes; another under the same id: CONFLICT.
    let v = machine(&s.lrs, report.clone()).await;
    assert_eq!(ok(&v)["recordProgress"], r);
    let mut other = report.clone();
    other["score"] = json!(0.3);
    let v = machine(&s.lrs, other).await;
    assert_eq!(spaces_tests::app::code(&v), "CONFLICT", "{v}");
    // The quiz passed: the enrolment completes.
    let v = machine(
        &s.lrs,
        json!({ "enrolmentId": s.enrolment, "moduleId": module(M2), "passed": true, "score": 0.6 }),
    )
    .await;
    assert_eq!(ok(&v)["recordProgress"]["enrolmentStatus"], "COMPLETED");
    assert_eq!(ok(&v)["recordProgress"]["grade"], 70.0);

    // Refused: a person's token, a credential without the write scope, another space's
    // credential, a module of another edition, a score out of range.
    let v = s
        .app
        .gql(
            Some(&s.campus.slug),
            Some(&s.campus.admin_token),
            RECORD,
            json!({ "i": report }),
        )
        .await;
    assert_eq!(spaces_tests::app::code(&v), "FORBIDDEN", "{v}");
    let reader = Lrs::with_scopes(&s.app, &s.campus, &["READ_ALL"]).await;
    let v = machine(&reader, report.clone()).await;
    assert_eq!(spaces_tests::app::code(&v), "FORBIDDEN", "{v}");
    let op = fixtures::operator(&s.app).await;
    let b = fixtures::campus(&s.app, &op).await;
    let lrs_b = Lrs::of(&s.app, &b).await;
    let v = machine(&lrs_b, report.clone()).await;
    assert_eq!(spaces_tests::app::code(&v), "UNAUTHENTICATED", "{v}");
    // B's credential on B's host naming A's enrolment: as unknown.
    let v = lrs_b_on_b(&s, &lrs_b, &report).await;
    assert_eq!(spaces_tests::app::code(&v), "NOT_FOUND", "{v}");
    let mut foreign = report.clone();
    foreign["moduleId"] = json!("01a23029-0341-769b-b96c-05a3fc0d3285");
    foreign["reportId"] = Value::Null;
    let v = machine(&s.lrs, foreign).await;
    assert_eq!(spaces_tests::app::code(&v), "NOT_FOUND", "{v}");
    let mut wild = report;
    wild["score"] = json!(80);
    wild["reportId"] = Value::Null;
    let v = machine(&s.lrs, wild).await;
    assert_eq!(v["errors"][0]["extensions"]["field"], "score", "{v}");
    s.app.stop().await;
}

async fn lrs_b_on_b(s: &Setup, lrs_b: &Lrs, report: &Value) -> Value {
    let mut report = report.clone();
    report["reportId"] = Value::Null;
    s.app
        .client
        .post(format!("{}/graphql", s.app.base))
        .header("Host", &lrs_b.host)
        .header("Authorization", lrs_b.authorization())
        .json(&json!({ "query": RECORD, "variables": { "i": report } }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn progress_through_graphql_on_sqlite() {
    progress_through_graphql(Backend::Sqlite).await;
}

#[tokio::test]
async fn progress_through_graphql_on_postgres() {
    progress_through_graphql(Backend::Postgres).await;
}

const IMPORT: &str = "mutation($e: ID!, $file: Upload!) { importEnrolments(editionId: $e, file: $file) { newEnrolments alreadyEnrolled applied errors { line column reason } } }";

/// The CSV import carries each person's LMS account; statements by it then count.
async fn import_carries_lms_accounts(backend: Backend) {
    let s = setup(backend).await;
    let v = s
        .app
        .gql(
            Some(&s.campus.slug),
            Some(&s.campus.admin_token),
            "query($id: ID!) { enrolment(id: $id) { edition { id } } }",
            json!({ "id": s.enrolment }),
        )
        .await;
    let edition = ok(&v)["enrolment"]["edition"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let v = s
        .app
        .gql(
            Some(&s.campus.slug),
            Some(&s.campus.admin_token),
            "query($id: ID!) { organisation(id: $id) { name } }",
            json!({ "id": s.org }),
        )
        .await;
    let org = ok(&v)["organisation"]["name"].as_str().unwrap().to_owned();
    let upload = async |csv: String| {
        let (status, v) = s
            .app
            .upload(
                &s.campus.slug,
                &s.campus.admin_token,
                IMPORT,
                json!({ "e": edition }),
                "staff.csv",
                csv.into_bytes(),
            )
            .await;
        assert_eq!(status, 200, "{v}");
        v["data"]["importEnrolments"].clone()
    };
    let home = "https://moodle.example.org";
    // Bad rows name their column: half an account, a home page that is no IRI, one account
    // on two lines.
    let r = upload(format!(
        "email,given name,family name,organisation,lms home page,lms id\n\
         a@example.org,Ana,A,{org},{home},\n\
         b@example.org,Ben,B,{org},moodle,7\n\
         c@example.org,Cy,C,{org},{home},9\n\
         d@example.org,Di,D,{org},{home},9\n"
    ))
    .await;
    assert_eq!(r["applied"], false);
    let columns: Vec<(i64, &str)> = r["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["line"].as_i64().unwrap(),
                e["column"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        columns,
        [(2, "lms id"), (3, "lms home page"), (5, "lms id")],
        "{r}"
    );
    // A new person and Léa (enrolled already) get their accounts; the same file again changes
    // nothing.
    let csv = format!(
        "email,given name,family name,organisation,lms home page,lms id\n\
         sam@example.org,Sam,S,{org},{home},u-1\n\
         {},Léa,M,{org},{home},u-2\n",
        s.email
    );
    let r = upload(csv.clone()).await;
    assert_eq!(
        (r["applied"].clone(), r["newEnrolments"].clone()),
        (json!(true), json!(1)),
        "{r}"
    );
    let again = upload(csv).await;
    assert_eq!(
        (
            again["newEnrolments"].clone(),
            again["alreadyEnrolled"].clone()
        ),
        (json!(0), json!(2)),
        "{again}"
    );
    let v = s
        .app
        .gql(
            Some(&s.campus.slug),
            Some(&s.campus.admin_token),
            "query($id: ID!) { person(id: $id) { externalRef { homePage name } } }",
            json!({ "id": s.lea }),
        )
        .await;
    assert_eq!(
        ok(&v)["person"]["externalRef"],
        json!({ "homePage": home, "name": "u-2" })
    );
    s.post(json!({
        "actor": { "account": { "homePage": home, "name": "u-2" } },
        "verb": { "id": format!("{ADL}completed") },
        "object": { "id": M1 },
        "result": { "score": { "scaled": 0.5 } }
    }))
    .await;
    assert_eq!(s.seen().await["progress"]["requiredDone"], 1);
    s.app.stop().await;
}

#[tokio::test]
async fn import_carries_lms_accounts_on_sqlite() {
    import_carries_lms_accounts(Backend::Sqlite).await;
}

#[tokio::test]
async fn import_carries_lms_accounts_on_postgres() {
    import_carries_lms_accounts(Backend::Postgres).await;
}

fn sha1_hex(s: &str) -> String {
    use sha1::{Digest, Sha1};
    format!("{:x}", Sha1::digest(s.as_bytes()))
}

/// HR changes an edition's rules while Léa is enrolled: her progress is judged again by the
/// new rules at once (the minimum score, a module's `moveOn`), she completes when the new
/// rules say she has, and completion then stands whatever the rules become.
async fn rules_changed(backend: Backend) {
    let s = setup(backend).await;
    let v = s
        .app
        .gql(
            Some(&s.campus.slug),
            Some(&s.campus.admin_token),
            "query($id: ID!) { enrolment(id: $id) { edition { id } } }",
            json!({ "id": s.enrolment }),
        )
        .await;
    let edition = ok(&v)["enrolment"]["edition"]["id"].clone();
    let admin = |query: &'static str, vars: Value| {
        let app = &s.app;
        let c = &s.campus;
        async move {
            let v = app
                .gql(Some(&c.slug), Some(&c.admin_token), query, vars)
                .await;
            ok(&v).clone()
        }
    };
    let min_score = |n: i32| {
        admin(
            "mutation($id: ID!, $n: Int) { updateEdition(id: $id, input: { minScore: $n }) { minScore } }",
            json!({ "id": edition, "n": n }),
        )
    };
    let quiz_rule = |rule: &'static str| {
        admin(
            "mutation($id: ID!, $i: SetEditionModulesInput!) { setEditionModules(id: $id, input: $i) { id } }",
            json!({ "id": edition, "i": { "modules": [
                { "title": "Principles", "required": true, "activityIri": M1 },
                { "title": "Quiz", "required": true, "activityIri": M2, "moveOn": rule },
                { "title": "Further", "required": false, "activityIri": M3 }
            ] } }),
        )
    };
    // M1 completed at 80; the quiz completed at 90 but not passed (its rule is PASSED).
    s.post(json!([
        statement(&s.email, "completed", M1, Some(0.8)),
        statement(&s.email, "completed", M2, Some(0.9)),
    ]))
    .await;
    let e = s.seen().await;
    assert_eq!(
        (e["status"].clone(), e["progress"]["requiredDone"].clone()),
        (json!("ACTIVE"), json!(1))
    );

    // A minimum of 90: M1's 80 no longer reaches it; back to 50, it does again.
    min_score(90).await;
    assert_eq!(s.seen().await["progress"]["requiredDone"], 0);
    min_score(50).await;
    assert_eq!(s.seen().await["progress"]["requiredDone"], 1);
    assert!(
        s.app
            .jobs_of(&s.campus.id, "enrolment.completed")
            .await
            .is_empty(),
        "nothing completed yet"
    );

    // The quiz now asks only completion: Léa has done everything, and completes.
    quiz_rule("COMPLETED").await;
    let e = s.seen().await;
    assert_eq!(e["status"], "COMPLETED", "{e}");
    assert!(e["completedAt"].is_string(), "{e}");
    assert_eq!(e["progress"]["requiredDone"], 2);
    assert_eq!(
        s.app
            .jobs_of(&s.campus.id, "enrolment.completed")
            .await
            .len(),
        1
    );
    // Completion is final: stricter rules afterwards change nothing.
    quiz_rule("PASSED").await;
    min_score(95).await;
    let after = s.seen().await;
    assert_eq!(
        (after["status"].clone(), after["completedAt"].clone()),
        (json!("COMPLETED"), e["completedAt"].clone())
    );
    assert_eq!(
        s.app
            .jobs_of(&s.campus.id, "enrolment.completed")
            .await
            .len(),
        1
    );
}

#[tokio::test]
async fn rules_changed_on_sqlite() {
    rules_changed(Backend::Sqlite).await;
}

#[tokio::test]
async fn rules_changed_on_postgres() {
    rules_changed(Backend::Postgres).await;
}
