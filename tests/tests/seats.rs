//! Journey 9, the seat side: an operator sells a plan of N seats; enrolments into included
//! editions take a seat per learner (one however many editions), N+1 is refused with
//! `SEAT_LIMIT_REACHED` and its figures; a withdrawal frees the seat; no subscription:
//! `SUBSCRIPTION_REQUIRED`; a CSV import that would overflow writes nothing; and the last
//! seats hold under a race of single enrolments and an import.

use serde_json::{Value, json};
use spaces_tests::app::{code, ok};
use spaces_tests::fixtures::{self, Campus, unique};
use spaces_tests::{Backend, TestApp};

pub const CREATE_PLAN: &str = "mutation($i: CreatePlanInput!) { createPlan(input: $i) { id name seats term price { amountMinor currency } vatBasisPoints retiredAt } }";
pub const SELL: &str = "mutation($i: SellSubscriptionInput!) { sellSubscription(input: $i) { invoiceId subscription { id planName seats used renewalSeats status startsOn endsOn cancelAtTermEnd term } } }";
pub const SUBSCRIPTION: &str =
    "{ subscription { id seats used status startsOn endsOn renewalSeats cancelAtTermEnd } }";
const ENROL: &str = "mutation($i: EnrolInput!) { enrol(input: $i) { id status } }";
const IMPORT: &str = "mutation($e: ID!, $file: Upload!) { importEnrolments(editionId: $e, file: $file) { newEnrolments applied errors { line code reason } } }";

/// A plan on sale; `price_minor` 0 is a free (pilot) plan, which issues no invoice.
pub async fn plan(app: &TestApp, op: &str, seats: i64, price_minor: i64) -> String {
    let v = app
        .gql(
            None,
            Some(op),
            CREATE_PLAN,
            json!({ "i": { "name": unique("Campus "), "seats": seats, "price": { "amountMinor": price_minor, "currency": "EUR" }, "vatBasisPoints": 2000 } }),
        )
        .await;
    ok(&v)["createPlan"]["id"].as_str().unwrap().to_owned()
}

/// Sells `plan` to the campus from today, paid by a new billing account of its root (one per
/// organisation: call once per campus).
pub async fn sell(app: &TestApp, op: &str, c: &Campus, plan: &str, seats: Option<i64>) -> Value {
    let account = fixtures::billing_account(app, c, &c.root_id).await;
    let today = app.state.deps.clock.today();
    let v = app
        .gql(
            None,
            Some(op),
            SELL,
            json!({ "i": { "spaceId": c.id, "planId": plan, "startsOn": today, "seats": seats, "billingAccountId": account } }),
        )
        .await;
    ok(&v)["sellSubscription"].clone()
}

/// An open assigned-only edition included in the subscription.
pub async fn included_edition(app: &TestApp, c: &Campus, course: &str) -> String {
    let e = fixtures::open_edition(app, c, course, "ASSIGNED_ONLY", None, &[]).await;
    let v = app
        .gql(
            Some(&c.slug),
            Some(&c.admin_token),
            "mutation($id: ID!, $i: UpdateEditionInput!) { updateEdition(id: $id, input: $i) { includedInSubscription } }",
            json!({ "id": e, "i": { "includedInSubscription": true } }),
        )
        .await;
    assert_eq!(ok(&v)["updateEdition"]["includedInSubscription"], true);
    e
}

async fn enrol_email(app: &TestApp, c: &Campus, edition: &str, org: &str, email: &str) -> Value {
    app.gql(
        Some(&c.slug),
        Some(&c.admin_token),
        ENROL,
        json!({ "i": { "editionId": edition, "email": email, "givenName": "Given", "familyName": "Family", "organisationId": org } }),
    )
    .await
}

async fn enrol_person(app: &TestApp, c: &Campus, edition: &str, person: &str) -> Value {
    app.gql(
        Some(&c.slug),
        Some(&c.admin_token),
        ENROL,
        json!({ "i": { "editionId": edition, "personId": person } }),
    )
    .await
}

fn figures(v: &Value) -> (i64, i64) {
    let x = &v["errors"][0]["extensions"];
    (x["seats"].as_i64().unwrap(), x["used"].as_i64().unwrap())
}

async fn subscription(app: &TestApp, c: &Campus) -> Value {
    let v = app
        .gql(Some(&c.slug), Some(&c.admin_token), SUBSCRIPTION, json!({}))
        .await;
    ok(&v)["subscription"].clone()
}

async fn seat_limits(backend: Backend) {
    let app = TestApp::start(backend).await;
    let op = fixtures::operator(&app).await;
    let c = fixtures::campus(&app, &op).await;
    let company = fixtures::company(&app, &c, "Durand").await;
    let course = fixtures::published_course(&app, &op, "HACCP basics").await;
    let one = included_edition(&app, &c, &course).await;
    let two = included_edition(&app, &c, &course).await;

    // No subscription yet: an included edition refuses, and the subscription reads null.
    let v = enrol_email(&app, &c, &one, &company, "first@durand.test").await;
    assert_eq!(code(&v), "SUBSCRIPTION_REQUIRED", "{v}");
    assert_eq!(subscription(&app, &c).await, Value::Null);

    // The operator sells a 3-seat plan.
    let p = plan(&app, &op, 3, 0).await;
    let sold = sell(&app, &op, &c, &p, None).await;
    assert_eq!(sold["subscription"]["seats"], 3);
    assert_eq!(sold["subscription"]["used"], 0);
    assert_eq!(sold["subscription"]["status"], "ACTIVE");
    assert_eq!(sold["subscription"]["term"], "ANNUAL");
    assert_eq!(
        sold["invoiceId"],
        Value::Null,
        "a free plan invoices nothing"
    );
    // One live subscription per space.
    let again = app
        .gql(
            None,
            Some(&op),
            SELL,
            json!({ "i": { "spaceId": c.id, "planId": p, "startsOn": "2026-01-01", "billingAccountId": fixtures::billing_account(&app, &c, &company).await } }),
        )
        .await;
    assert_eq!(code(&again), "CONFLICT", "{again}");
    // Elsewhere, a first term already over is refused on its field.
    let other = fixtures::campus(&app, &op).await;
    let v = app
        .gql(
            None,
            Some(&op),
            SELL,
            json!({ "i": { "spaceId": other.id, "planId": p, "startsOn": "2020-01-01", "billingAccountId": fixtures::billing_account(&app, &other, &other.root_id).await } }),
        )
        .await;
    assert_eq!(code(&v), "BAD_USER_INPUT", "{v}");
    assert_eq!(v["errors"][0]["extensions"]["field"], "startsOn", "{v}");

    // Three learners take the three seats; the same learner in a second edition takes none.
    let mut people = Vec::new();
    for n in 0..3 {
        let v = enrol_email(&app, &c, &one, &company, &format!("l{n}@durand.test")).await;
        assert_eq!(ok(&v)["enrol"]["status"], "ACTIVE");
        people.push(
            app.gql(
                Some(&c.slug),
                Some(&c.admin_token),
                "query($e: ID!) { enrolment(id: $e) { person { id } } }",
                json!({ "e": ok(&v)["enrol"]["id"] }),
            )
            .await,
        );
    }
    let lea = ok(&people[0])["enrolment"]["person"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let v = enrol_person(&app, &c, &two, &lea).await;
    assert_eq!(
        ok(&v)["enrol"]["status"],
        "ACTIVE",
        "a seat holder takes no new seat"
    );
    let s = subscription(&app, &c).await;
    assert_eq!(
        (s["seats"].as_i64(), s["used"].as_i64()),
        (Some(3), Some(3))
    );

    // The fourth learner: SEAT_LIMIT_REACHED with the figures, in either edition.
    for e in [&one, &two] {
        let v = enrol_email(&app, &c, e, &company, "fourth@durand.test").await;
        assert_eq!(code(&v), "SEAT_LIMIT_REACHED", "{v}");
        assert_eq!(figures(&v), (3, 3));
    }

    // Withdrawing one of Lea's two enrolments keeps her seat; withdrawing both frees it.
    let mine = app
        .gql(
            Some(&c.slug),
            Some(&c.admin_token),
            "query($p: ID!) { person(id: $p) { enrolments(first: 10) { edges { node { id } } } } }",
            json!({ "p": lea }),
        )
        .await;
    let ids: Vec<String> = ok(&mine)["person"]["enrolments"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 2, "{mine}");
    let withdraw = "mutation($id: ID!) { withdrawEnrolment(id: $id) { status } }";
    let v = app
        .gql(
            Some(&c.slug),
            Some(&c.admin_token),
            withdraw,
            json!({ "id": ids[0] }),
        )
        .await;
    assert_eq!(ok(&v)["withdrawEnrolment"]["status"], "WITHDRAWN");
    let v = enrol_email(&app, &c, &one, &company, "fourth@durand.test").await;
    assert_eq!(
        code(&v),
        "SEAT_LIMIT_REACHED",
        "Lea still holds her seat: {v}"
    );
    let v = app
        .gql(
            Some(&c.slug),
            Some(&c.admin_token),
            withdraw,
            json!({ "id": ids[1] }),
        )
        .await;
    ok(&v);
    assert_eq!(subscription(&app, &c).await["used"], 2);
    let v = enrol_email(&app, &c, &one, &company, "fourth@durand.test").await;
    assert_eq!(
        ok(&v)["enrol"]["status"],
        "ACTIVE",
        "the freed seat is taken"
    );

    // A file of two new learners with no seat left: refused as a whole, nothing written.
    let csv = "email,given name,family name,organisation\nf1@durand.test,F,One,Durand\nf2@durand.test,F,Two,Durand\n";
    let (status, v) = app
        .upload(
            &c.slug,
            &c.admin_token,
            IMPORT,
            json!({ "e": two }),
            "staff.csv",
            csv.as_bytes().to_vec(),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    let r = &ok(&v)["importEnrolments"];
    assert_eq!(r["applied"], false, "{r}");
    assert_eq!(r["errors"][0]["code"], "SEAT_LIMIT_REACHED", "{r}");
    assert_eq!(subscription(&app, &c).await["used"], 3);
    // More seats: the import goes through.
    let v = app
        .gql(
            None,
            Some(&op),
            "mutation($s: ID!, $n: Int!) { changeSeats(spaceId: $s, seats: $n) { invoiceId subscription { seats renewalSeats used } } }",
            json!({ "s": c.id, "n": 5 }),
        )
        .await;
    let ch = &ok(&v)["changeSeats"];
    assert_eq!(ch["subscription"]["seats"], 5);
    assert_eq!(
        ch["invoiceId"],
        Value::Null,
        "a free plan prorates to nothing"
    );
    let (_, v) = app
        .upload(
            &c.slug,
            &c.admin_token,
            IMPORT,
            json!({ "e": two }),
            "staff.csv",
            csv.as_bytes().to_vec(),
        )
        .await;
    assert_eq!(ok(&v)["importEnrolments"]["newEnrolments"], 2, "{v}");
    assert_eq!(subscription(&app, &c).await["used"], 5);

    // Fewer seats wait for the renewal; cancellation waits for the term end.
    let v = app
        .gql(
            None,
            Some(&op),
            "mutation($s: ID!, $n: Int!) { changeSeats(spaceId: $s, seats: $n) { subscription { seats renewalSeats } } }",
            json!({ "s": c.id, "n": 2 }),
        )
        .await;
    assert_eq!(
        ok(&v)["changeSeats"]["subscription"],
        json!({ "seats": 5, "renewalSeats": 2 })
    );
    let v = app
        .gql(
            None,
            Some(&op),
            "mutation($s: ID!) { cancelSubscription(spaceId: $s) { subscription { status cancelAtTermEnd } } }",
            json!({ "s": c.id }),
        )
        .await;
    assert_eq!(
        ok(&v)["cancelSubscription"]["subscription"],
        json!({ "status": "ACTIVE", "cancelAtTermEnd": true })
    );
    // Past the term end, before any job ran: no seats; the space can buy again.
    app.state.deps.clock.advance(chrono::Duration::days(400));
    let v = enrol_email(&app, &c, &one, &company, "late@durand.test").await;
    assert_eq!(code(&v), "SUBSCRIPTION_REQUIRED", "{v}");
    let v = app
        .gql(
            None,
            Some(&op),
            "query($s: ID) { subscription(spaceId: $s) { billingAccountId } }",
            json!({ "s": c.id }),
        )
        .await;
    let account = ok(&v)["subscription"]["billingAccountId"].clone();
    let today = app.state.deps.clock.today();
    let v = app
        .gql(
            None,
            Some(&op),
            SELL,
            json!({ "i": { "spaceId": c.id, "planId": p, "startsOn": today, "seats": 6, "billingAccountId": account } }),
        )
        .await;
    assert_eq!(ok(&v)["sellSubscription"]["subscription"]["seats"], 6);
    assert_eq!(subscription(&app, &c).await["used"], 5);
    let v = enrol_email(&app, &c, &one, &company, "late@durand.test").await;
    assert_eq!(ok(&v)["enrol"]["status"], "ACTIVE");
    app.stop().await;
}

#[tokio::test]
async fn seat_limits_on_on_sqlite() {
    seat_limits(Backend::Sqlite).await;
}

#[tokio::test]
async fn seat_limits_on_on_postgres() {
    seat_limits(Backend::Postgres).await;
}

/// A request waiting for approval holds its seat (so approving it takes none more); disabling
/// the person frees it.
async fn requests_hold_seats(backend: Backend) {
    let app = TestApp::start(backend).await;
    let op = fixtures::operator(&app).await;
    let c = fixtures::campus(&app, &op).await;
    let company = fixtures::company(&app, &c, "Durand").await;
    let (lea, lea_token) = fixtures::member(
        &app,
        &c,
        &c.admin_token,
        &company,
        "lea@durand.test",
        "LEARNER",
    )
    .await;
    let course = fixtures::published_course(&app, &op, "HACCP basics").await;
    let on_approval = fixtures::open_edition(&app, &c, &course, "ON_APPROVAL", None, &[]).await;
    let v = app
        .gql(
            Some(&c.slug),
            Some(&c.admin_token),
            "mutation($id: ID!) { updateEdition(id: $id, input: { includedInSubscription: true }) { id } }",
            json!({ "id": on_approval }),
        )
        .await;
    ok(&v);
    let assigned = included_edition(&app, &c, &course).await;
    let p = plan(&app, &op, 1, 0).await;
    sell(&app, &op, &c, &p, None).await;

    let v = app
        .gql(
            Some(&c.slug),
            Some(&lea_token),
            "mutation($e: ID!) { selfEnrol(editionId: $e) { id status } }",
            json!({ "e": on_approval }),
        )
        .await;
    assert_eq!(ok(&v)["selfEnrol"]["status"], "PENDING_APPROVAL");
    let request = v["data"]["selfEnrol"]["id"].as_str().unwrap().to_owned();
    assert_eq!(subscription(&app, &c).await["used"], 1);
    let v = enrol_email(&app, &c, &assigned, &company, "other@durand.test").await;
    assert_eq!(code(&v), "SEAT_LIMIT_REACHED", "{v}");
    assert_eq!(figures(&v), (1, 1));
    let v = app
        .gql(
            Some(&c.slug),
            Some(&c.admin_token),
            "mutation($id: ID!) { approveEnrolment(id: $id) { status } }",
            json!({ "id": request }),
        )
        .await;
    assert_eq!(ok(&v)["approveEnrolment"]["status"], "ACTIVE");
    assert_eq!(subscription(&app, &c).await["used"], 1);

    // Lea leaves: her seat is free for someone else.
    let v = app
        .gql(
            Some(&c.slug),
            Some(&c.admin_token),
            "mutation($id: ID!) { disablePerson(id: $id) { id } }",
            json!({ "id": lea }),
        )
        .await;
    ok(&v);
    assert_eq!(subscription(&app, &c).await["used"], 0);
    let v = enrol_email(&app, &c, &assigned, &company, "other@durand.test").await;
    assert_eq!(ok(&v)["enrol"]["status"], "ACTIVE");
    app.stop().await;
}

#[tokio::test]
async fn requests_hold_seats_on_sqlite() {
    requests_hold_seats(Backend::Sqlite).await;
}

#[tokio::test]
async fn requests_hold_seats_on_postgres() {
    requests_hold_seats(Backend::Postgres).await;
}

/// 50 learners race for the last 10 seats over three included editions, a 5-row import racing
/// them: exactly 10 seats end up taken, every refusal is SEAT_LIMIT_REACHED, and the import
/// is applied whole or not at all.
async fn last_seats_race(backend: Backend) {
    let app = TestApp::start(backend).await;
    let op = fixtures::operator(&app).await;
    let c = fixtures::campus(&app, &op).await;
    let company = fixtures::company(&app, &c, "Durand").await;
    let course = fixtures::published_course(&app, &op, "HACCP basics").await;
    let editions = [
        included_edition(&app, &c, &course).await,
        included_edition(&app, &c, &course).await,
        included_edition(&app, &c, &course).await,
    ];
    let p = plan(&app, &op, 12, 0).await;
    sell(&app, &op, &c, &p, None).await;
    // Two seats taken before the race: 10 left.
    for n in 0..2 {
        ok(&enrol_email(
            &app,
            &c,
            &editions[0],
            &company,
            &format!("early{n}@durand.test"),
        )
        .await);
    }
    let csv: String = std::iter::once("email,given name,family name,organisation\n".to_owned())
        .chain((0..5).map(|i| format!("csv{i}@durand.test,Csv,Row{i},Durand\n")))
        .collect();
    // The singles go first as tasks; the import runs meanwhile from this task.
    let url = format!("{}/graphql", app.base);
    let mut tasks = vec![];
    for n in 0..50 {
        let (client, url, slug, token) = (
            app.client.clone(),
            url.clone(),
            c.slug.clone(),
            c.admin_token.clone(),
        );
        let vars = json!({ "i": { "editionId": editions[n % 3], "email": format!("racer{n}@durand.test"), "givenName": "Racer", "familyName": "Family", "organisationId": company } });
        tasks.push(tokio::spawn(async move {
            let v: Value = client
                .post(url)
                .header("X-Tenant", slug)
                .header("Authorization", format!("Bearer {token}"))
                .json(&json!({ "query": ENROL, "variables": vars }))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            v
        }));
    }
    let (status, import) = app
        .upload(
            &c.slug,
            &c.admin_token,
            IMPORT,
            json!({ "e": editions[1] }),
            "staff.csv",
            csv.into_bytes(),
        )
        .await;
    assert_eq!(status, 200, "{import}");
    let mut singles = Vec::new();
    for t in tasks {
        singles.push(t.await.unwrap());
    }
    let mut taken = 0;
    for v in &singles {
        if v["errors"].is_null() {
            taken += 1;
        } else {
            assert_eq!(code(v), "SEAT_LIMIT_REACHED", "{v}");
            let (seats, used) = figures(v);
            assert_eq!(seats, 12);
            assert!(used <= 12, "{v}");
        }
    }
    let r = &ok(&import)["importEnrolments"];
    if r["applied"] == true {
        assert_eq!(r["newEnrolments"], 5, "{r}");
        taken += 5;
    } else {
        assert_eq!(r["errors"][0]["code"], "SEAT_LIMIT_REACHED", "{r}");
        assert_eq!(r["errors"].as_array().unwrap().len(), 1, "{r}");
    }
    assert_eq!(taken, 10, "exactly the 10 seats left are taken");
    let s = subscription(&app, &c).await;
    assert_eq!(
        (s["seats"].as_i64(), s["used"].as_i64()),
        (Some(12), Some(12))
    );
    app.stop().await;
}

#[tokio::test]
async fn last_seats_race_on_on_postgres() {
    last_seats_race(Backend::Postgres).await;
}

#[tokio::test]
async fn last_seats_race_on_on_sqlite() {
    last_seats_race(Backend::Sqlite).await;
}

/// Another space's admin or learner reads no subscription of A; a person cannot name a space;
/// the operator mutations need an operator; a foreign billing account is NOT_FOUND.
async fn walls(backend: Backend) {
    let app = TestApp::start(backend).await;
    let op = fixtures::operator(&app).await;
    let a = fixtures::campus(&app, &op).await;
    let b = fixtures::campus(&app, &op).await;
    let p = plan(&app, &op, 5, 0).await;
    sell(&app, &op, &a, &p, None).await;
    // B's admin sees B's (none), never A's, and cannot name A.
    let v = app
        .gql(Some(&b.slug), Some(&b.admin_token), SUBSCRIPTION, json!({}))
        .await;
    assert_eq!(ok(&v)["subscription"], Value::Null);
    let v = app
        .gql(
            Some(&b.slug),
            Some(&b.admin_token),
            "query($s: ID) { subscription(spaceId: $s) { id } }",
            json!({ "s": a.id }),
        )
        .await;
    assert_eq!(code(&v), "NOT_FOUND", "{v}");
    assert_eq!(v["errors"][0]["extensions"]["field"], "spaceId", "{v}");
    // A's token on B's host is refused outright.
    let v = app
        .gql(Some(&b.slug), Some(&a.admin_token), SUBSCRIPTION, json!({}))
        .await;
    assert_eq!(code(&v), "UNAUTHENTICATED", "{v}");
    // Tenant admins cannot sell, change, cancel or create plans.
    for (q, vars) in [
        (
            SELL,
            json!({ "i": { "spaceId": b.id, "planId": p, "startsOn": "2026-01-01", "billingAccountId": a.id } }),
        ),
        (
            "mutation($s: ID!) { changeSeats(spaceId: $s, seats: 9) { invoiceId } }",
            json!({ "s": a.id }),
        ),
        (
            "mutation($s: ID!) { cancelSubscription(spaceId: $s) { invoiceId } }",
            json!({ "s": a.id }),
        ),
        (
            CREATE_PLAN,
            json!({ "i": { "name": "X", "seats": 1, "price": { "amountMinor": 0, "currency": "EUR" }, "vatBasisPoints": 0 } }),
        ),
        (
            "mutation($p: ID!) { retirePlan(id: $p) { id } }",
            json!({ "p": p }),
        ),
        ("{ plans { id } }", json!({})),
    ] {
        let v = app.gql(Some(&b.slug), Some(&b.admin_token), q, vars).await;
        assert_eq!(code(&v), "FORBIDDEN", "{q}: {v}");
    }
    // Selling to B with A's billing account: the account is unknown in B.
    let a_company = fixtures::company(&app, &a, "Durand").await;
    let acc_a = fixtures::billing_account(&app, &a, &a_company).await;
    let v = app
        .gql(
            None,
            Some(&op),
            SELL,
            json!({ "i": { "spaceId": b.id, "planId": p, "startsOn": "2026-01-01", "billingAccountId": acc_a } }),
        )
        .await;
    assert_eq!(code(&v), "NOT_FOUND", "{v}");
    assert_eq!(
        v["errors"][0]["extensions"]["field"], "billingAccountId",
        "{v}"
    );
    let unknown = uuid::Uuid::now_v7().to_string();
    let v = app
        .gql(
            None,
            Some(&op),
            SELL,
            json!({ "i": { "spaceId": b.id, "planId": p, "startsOn": "2026-01-01", "billingAccountId": unknown } }),
        )
        .await;
    assert_eq!(code(&v), "NOT_FOUND", "{v}");
    assert_eq!(
        v["errors"][0]["extensions"]["field"], "billingAccountId",
        "{v}"
    );
    // B still has no subscription; A's is unchanged.
    let v = app
        .gql(
            None,
            Some(&op),
            "query($s: ID) { subscription(spaceId: $s) { seats } }",
            json!({ "s": b.id }),
        )
        .await;
    assert_eq!(ok(&v)["subscription"], Value::Null);
    let v = app
        .gql(
            None,
            Some(&op),
            "query($s: ID) { subscription(spaceId: $s) { seats } }",
            json!({ "s": a.id }),
        )
        .await;
    assert_eq!(ok(&v)["subscription"]["seats"], 5);
    // Retiring keeps A's subscription and hides the plan from the list.
    let v = app
        .gql(
            None,
            Some(&op),
            "mutation($p: ID!) { retirePlan(id: $p) { retiredAt } }",
            json!({ "p": p }),
        )
        .await;
    assert!(ok(&v)["retirePlan"]["retiredAt"].is_string());
    let v = app
        .gql(None, Some(&op), "{ plans { id } }", json!({}))
        .await;
    assert!(
        !ok(&v)["plans"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["id"] == p.as_str())
    );
    let v = app
        .gql(
            None,
            Some(&op),
            "query($s: ID) { subscription(spaceId: $s) { seats status } }",
            json!({ "s": a.id }),
        )
        .await;
    assert_eq!(
        ok(&v)["subscription"],
        json!({ "seats": 5, "status": "ACTIVE" })
    );
    app.stop().await;
}

#[tokio::test]
async fn subscription_walls_on_on_sqlite() {
    walls(Backend::Sqlite).await;
}

#[tokio::test]
async fn subscription_walls_on_on_postgres() {
    walls(Backend::Postgres).await;
}
