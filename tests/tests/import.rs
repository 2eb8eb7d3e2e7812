//! Journey 5: HR imports a CSV of staff into an edition: one report, per-line errors, nothing
//! half-applied, capacity enforced, the same file twice changes nothing.

use serde_json::{Value, json};
use spaces_tenants::enrolments::admission::{AdmissionGate, Batch, Path};
use spaces_tenants::enrolments::{self, Enrolee, import};
use spaces_tenants::{EditionId, PersonId, TenantTx, people};
use spaces_tests::app::{code, ok};
use spaces_tests::fixtures::{self, Campus};
use spaces_tests::{Backend, TestApp};

const IMPORT: &str = "mutation($e: ID!, $file: Upload!, $dry: Boolean) { importEnrolments(editionId: $e, file: $file, dryRun: $dry) { rows createdPeople invitations newEnrolments alreadyEnrolled applied dryRun errors { line column code reason } } }";

async fn import(
    app: &TestApp,
    c: &Campus,
    token: &str,
    edition: &str,
    csv: &str,
    dry: bool,
) -> Value {
    let (status, v) = app
        .upload(
            &c.slug,
            token,
            IMPORT,
            json!({ "e": edition, "dry": dry }),
            "staff.csv",
            csv.as_bytes().to_vec(),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    v
}

async fn count(app: &TestApp, c: &Campus, edition: &str) -> usize {
    let v = app
        .gql(Some(&c.slug), Some(&c.admin_token), "query($e: ID!) { editionEnrolments(editionId: $e, first: 100) { edges { node { id } } } }", json!({ "e": edition }))
        .await;
    ok(&v)["editionEnrolments"]["edges"]
        .as_array()
        .unwrap()
        .len()
}

async fn csv_import(backend: Backend) {
    let app = TestApp::start(backend).await;
    let op = fixtures::operator(&app).await;
    let c = fixtures::campus(&app, &op).await;
    let v = app
        .gql(Some(&c.slug), Some(&c.admin_token), "mutation($i: CreateOrganisationInput!) { createOrganisation(input: $i) { id } }", json!({ "i": { "parentId": c.root_id, "kind": "COMPANY", "name": "Durand", "externalRef": "SIRET-42" } }))
        .await;
    let durand = ok(&v)["createOrganisation"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let v = app
        .gql(
            Some(&c.slug),
            Some(&c.admin_token),
            "mutation($i: CreateOrganisationInput!) { createOrganisation(input: $i) { id } }",
            json!({ "i": { "parentId": durand, "kind": "DEPARTMENT", "name": "Production" } }),
        )
        .await;
    ok(&v);
    let (_, hr) = fixtures::member(
        &app,
        &c,
        &c.admin_token,
        &durand,
        "hr@durand.test",
        "ORG_ADMIN",
    )
    .await;
    let (existing, _) =
        fixtures::member(&app, &c, &hr, &durand, "lea@durand.test", "LEARNER").await;
    let course = fixtures::published_course(&app, &op, "Import").await;
    let edition = fixtures::open_edition(&app, &c, &course, "ASSIGNED_ONLY", Some(20), &[]).await;

    // Semicolons (French spreadsheets), a BOM, references and paths, an existing person.
    let good = "\u{feff}Email;Given name;Family name;Organisation;Due date\n\
                lea@durand.test;Léa;Durand;SIRET-42;2027-01-31\n\
                hugo@durand.test;Hugo;Martin;Durand/Production;31/01/2027\n\
                ines@durand.test;Inès;Petit;siret-42;\n";
    let v = import(&app, &c, &hr, &edition, good, true).await;
    let r = &ok(&v)["importEnrolments"];
    assert_eq!(
        (
            r["rows"].as_i64(),
            r["createdPeople"].as_i64(),
            r["newEnrolments"].as_i64(),
            r["applied"].as_bool()
        ),
        (Some(3), Some(2), Some(3), Some(false)),
        "dry run: {r}"
    );
    assert_eq!(
        count(&app, &c, &edition).await,
        0,
        "a dry run changes nothing"
    );
    let v = import(&app, &c, &hr, &edition, good, false).await;
    let r = &ok(&v)["importEnrolments"];
    assert_eq!(r["applied"], true, "{r}");
    assert_eq!(
        (
            r["createdPeople"].as_i64(),
            r["invitations"].as_i64(),
            r["newEnrolments"].as_i64(),
            r["alreadyEnrolled"].as_i64()
        ),
        (Some(2), Some(2), Some(3), Some(0))
    );
    assert_eq!(count(&app, &c, &edition).await, 3);
    assert!(
        !fixtures::invitation_token(&app, &c.slug, "hugo@durand.test")
            .await
            .is_empty(),
        "new people are invited"
    );
    let v = app
        .gql(
            Some(&c.slug),
            Some(&hr),
            "query($p: ID!) { person(id: $p) { enrolments { edges { node { dueOn source } } } } }",
            json!({ "p": existing }),
        )
        .await;
    assert_eq!(
        ok(&v)["person"]["enrolments"]["edges"][0]["node"]["source"],
        "IMPORT"
    );
    assert_eq!(
        v["data"]["person"]["enrolments"]["edges"][0]["node"]["dueOn"],
        "2027-01-31"
    );

    // The same file again changes nothing.
    let before = app.dump_tenant(&c.id).await;
    let v = import(&app, &c, &hr, &edition, good, false).await;
    let r = &ok(&v)["importEnrolments"];
    assert_eq!(
        (
            r["createdPeople"].as_i64(),
            r["newEnrolments"].as_i64(),
            r["alreadyEnrolled"].as_i64()
        ),
        (Some(0), Some(0), Some(3)),
        "{r}"
    );
    let after = app.dump_tenant(&c.id).await;
    assert_eq!(before["people"], after["people"]);
    assert_eq!(before["enrolments"], after["enrolments"]);

    // A bad email on line 7 and an unknown organisation on line 9: reported, nothing applied.
    let bad = "email,given name,family name,organisation,due date\n\
               a1@durand.test,A,One,SIRET-42,\n\
               a2@durand.test,A,Two,SIRET-42,\n\
               a3@durand.test,A,Three,SIRET-42,\n\
               a4@durand.test,A,Four,SIRET-42,\n\
               a5@durand.test,A,Five,SIRET-42,\n\
               not-an-email,A,Six,SIRET-42,\n\
               a7@durand.test,A,Seven,SIRET-42,\n\
               a8@durand.test,A,Eight,Nowhere Ltd,\n";
    let v = import(&app, &c, &hr, &edition, bad, false).await;
    let r = &ok(&v)["importEnrolments"];
    assert_eq!(r["applied"], false);
    let errors: Vec<(i64, String)> = r["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["line"].as_i64().unwrap(),
                e["column"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    assert_eq!(
        errors,
        vec![(7, "email".to_owned()), (9, "organisation".to_owned())],
        "{r}"
    );
    assert_eq!(count(&app, &c, &edition).await, 3, "nothing applied");

    // Capacity for the whole file before anything is written: 17 places left, 18 rows.
    let many: String = std::iter::once("email,given name,family name,organisation\n".to_owned())
        .chain((0..18).map(|i| format!("cap{i}@durand.test,Cap,Row{i},SIRET-42\n")))
        .collect();
    let v = import(&app, &c, &hr, &edition, &many, false).await;
    let r = &ok(&v)["importEnrolments"];
    assert_eq!(r["applied"], false);
    assert!(
        r["errors"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("17 places left"),
        "{r}"
    );
    assert_eq!(count(&app, &c, &edition).await, 3);

    // A file over 10 MiB is refused before it is read whole; a missing column names it.
    let huge = vec![b'x'; 11 * 1024 * 1024];
    let (status, v) = app
        .upload(
            &c.slug,
            &hr,
            IMPORT,
            json!({ "e": edition }),
            "huge.csv",
            huge,
        )
        .await;
    assert_eq!(status, 413, "{v}");
    assert_eq!(code(&v), "PAYLOAD_TOO_LARGE");
    let v = import(
        &app,
        &c,
        &hr,
        &edition,
        "email,given name\nx@durand.test,X\n",
        false,
    )
    .await;
    assert_eq!(code(&v), "BAD_USER_INPUT");
    assert!(
        v["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("family name"),
        "{v}"
    );
    app.stop().await;
}

#[tokio::test]
async fn csv_import_on_sqlite() {
    csv_import(Backend::Sqlite).await;
}

#[tokio::test]
async fn csv_import_on_postgres() {
    csv_import(Backend::Postgres).await;
}

/// Tenant B's HR cannot import into A's edition, nor name A's organisations from B.
async fn import_walls(backend: Backend) {
    let app = TestApp::start_with(backend, |c| {
        c.outbox_interval = std::time::Duration::from_secs(3600)
    })
    .await;
    let op = fixtures::operator(&app).await;
    let a = fixtures::campus(&app, &op).await;
    let b = fixtures::campus(&app, &op).await;
    let course = fixtures::published_course(&app, &op, "Walls").await;
    let a_edition = fixtures::open_edition(&app, &a, &course, "ASSIGNED_ONLY", None, &[]).await;
    let b_edition = fixtures::open_edition(&app, &b, &course, "ASSIGNED_ONLY", None, &[]).await;
    let v = app
        .gql(Some(&a.slug), Some(&a.admin_token), "mutation($i: CreateOrganisationInput!) { createOrganisation(input: $i) { id } }", json!({ "i": { "parentId": a.root_id, "kind": "COMPANY", "name": "A Corp", "externalRef": "A-REF" } }))
        .await;
    ok(&v);
    let before = app.dump_tenant(&a.id).await;
    let csv = "email,given name,family name,organisation\nz@a.test,Z,Z,A-REF\n";
    let v = import(&app, &b, &b.admin_token, &a_edition, csv, false).await;
    // NOT_FOUND on the field once `not_found_as` answers so (the walls change); before it,
    // BAD_USER_INPUT on the field.
    assert!(
        matches!(code(&v).as_str(), "NOT_FOUND" | "BAD_USER_INPUT")
            && v["errors"][0]["extensions"]["field"] == "editionId",
        "A's edition is unknown in B: {v}"
    );
    let v = import(&app, &b, &b.admin_token, &b_edition, csv, false).await;
    assert_eq!(
        ok(&v)["importEnrolments"]["errors"][0]["column"],
        "organisation",
        "A's organisation is unknown in B: {v}"
    );
    assert_eq!(before, app.dump_tenant(&a.id).await, "no row of A changed");
    app.stop().await;
}

#[tokio::test]
async fn import_walls_on_sqlite() {
    import_walls(Backend::Sqlite).await;
}

#[tokio::test]
async fn import_walls_on_postgres() {
    import_walls(Backend::Postgres).await;
}

/// `rows` new people of the organisation with external reference `org`, named by `prefix`.
fn staff_file(prefix: &str, org: &str, rows: usize) -> String {
    std::iter::once("email,given name,family name,organisation\n".to_owned())
        .chain((0..rows).map(|i| format!("{prefix}{i}@durand.test,{prefix},Row{i},{org}\n")))
        .collect()
}

/// Two imports race for the last 400 places of an edition, each with 400 rows: the edition row
/// is locked before seats are counted, so exactly one applies whole and the other is refused
/// whole with CAPACITY_REACHED; no one is left half-created.
async fn concurrent_imports(backend: Backend) {
    let app = TestApp::start_with(backend, |c| {
        c.outbox_interval = std::time::Duration::from_secs(3600)
    })
    .await;
    let op = fixtures::operator(&app).await;
    let c = fixtures::campus(&app, &op).await;
    let v = app
        .gql(Some(&c.slug), Some(&c.admin_token), "mutation($i: CreateOrganisationInput!) { createOrganisation(input: $i) { id } }", json!({ "i": { "parentId": c.root_id, "kind": "COMPANY", "name": "Durand", "externalRef": "DURAND" } }))
        .await;
    ok(&v);
    let course = fixtures::published_course(&app, &op, "Race").await;
    let edition = fixtures::open_edition(&app, &c, &course, "ASSIGNED_ONLY", Some(500), &[]).await;
    let first = import(
        &app,
        &c,
        &c.admin_token,
        &edition,
        &staff_file("early", "DURAND", 100),
        false,
    )
    .await;
    assert_eq!(ok(&first)["importEnrolments"]["applied"], true, "{first}");

    let (left, right) = (
        staff_file("left", "DURAND", 400),
        staff_file("right", "DURAND", 400),
    );
    let (a, b) = tokio::join!(
        import(&app, &c, &c.admin_token, &edition, &left, false),
        import(&app, &c, &c.admin_token, &edition, &right, false),
    );
    let (a, b) = (&ok(&a)["importEnrolments"], &ok(&b)["importEnrolments"]);
    let applied: Vec<bool> = [a, b]
        .iter()
        .map(|r| r["applied"].as_bool().unwrap())
        .collect();
    assert_eq!(
        applied.iter().filter(|x| **x).count(),
        1,
        "exactly one import applies: {a} {b}"
    );
    let refused = if applied[0] { b } else { a };
    assert_eq!(
        refused["errors"],
        json!([{ "line": 0, "column": null, "code": "CAPACITY_REACHED",
                 "reason": "this edition is full (500 places)" }]),
        "the other is refused as a whole: {refused}"
    );

    let dump = app.dump_tenant(&c.id).await;
    assert_eq!(
        dump["enrolments"].len(),
        500,
        "exactly the places of the edition"
    );
    let loser = if applied[0] { "right" } else { "left" };
    assert!(
        !dump["people"]
            .iter()
            .any(|p| p["email"].as_str().unwrap().starts_with(loser)),
        "the refused import created no one"
    );
    app.stop().await;
}

#[tokio::test]
async fn concurrent_imports_never_overfill_an_edition_on_sqlite() {
    concurrent_imports(Backend::Sqlite).await;
}

#[tokio::test]
async fn concurrent_imports_never_overfill_an_edition_on_postgres() {
    concurrent_imports(Backend::Postgres).await;
}

/// A gate that records each batch it is asked about, and refuses every one when told to, as
/// billing will when a subscription has no seat left.
struct RecordingGate {
    refuse: bool,
    asked: std::sync::Mutex<Vec<(Path, usize, bool)>>,
}

impl RecordingGate {
    fn new(refuse: bool) -> Self {
        Self {
            refuse,
            asked: std::sync::Mutex::new(Vec::new()),
        }
    }

    fn asked(&self) -> Vec<(Path, usize, bool)> {
        std::mem::take(&mut *self.asked.lock().unwrap())
    }
}

#[async_trait::async_trait]
impl AdmissionGate for RecordingGate {
    async fn admit(&self, _tx: &TenantTx, batch: &Batch<'_>) -> spaces_tenants::Result<()> {
        self.asked
            .lock()
            .unwrap()
            .push((batch.path, batch.people.len(), batch.dry_run));
        if self.refuse {
            Err(spaces_tenants::Error::refused(
                "SEAT_LIMIT_REACHED",
                "the subscription has no seat left",
            ))
        } else {
            Ok(())
        }
    }
}

/// The admission gate, where billing plugs in, is asked once per batch (an import of three rows
/// is one question about three people), only checks when nothing will be applied, and its
/// refusal refuses the whole batch on every path.
async fn admission_gate(backend: Backend) {
    let app = TestApp::start_with(backend, |c| {
        c.outbox_interval = std::time::Duration::from_secs(3600)
    })
    .await;
    let op = fixtures::operator(&app).await;
    let c = fixtures::campus(&app, &op).await;
    let v = app
        .gql(Some(&c.slug), Some(&c.admin_token), "mutation($i: CreateOrganisationInput!) { createOrganisation(input: $i) { id } }", json!({ "i": { "parentId": c.root_id, "kind": "COMPANY", "name": "Durand", "externalRef": "DURAND" } }))
        .await;
    let durand = ok(&v)["createOrganisation"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (hr, _) = fixtures::member(
        &app,
        &c,
        &c.admin_token,
        &durand,
        "hr@durand.test",
        "ORG_ADMIN",
    )
    .await;
    let (lea, _) = fixtures::member(
        &app,
        &c,
        &c.admin_token,
        &durand,
        "lea@durand.test",
        "LEARNER",
    )
    .await;
    let course = fixtures::published_course(&app, &op, "Gate").await;
    let edition = fixtures::open_edition(&app, &c, &course, "ASSIGNED_ONLY", None, &[]).await;
    let uuid = |s: &str| uuid::Uuid::parse_str(s).unwrap();
    let edition = EditionId::from_uuid(uuid(&edition));
    let db = &app.state.deps.db;
    let tenant = spaces_tenants::TenantId::from_uuid(uuid(&c.id));
    let tx = TenantTx::begin(db, tenant).await.unwrap();
    let (hr, _) = people::load_principal(&tx, PersonId::from_uuid(uuid(&hr)), 0)
        .await
        .unwrap();
    let url = "https://campus.example.org/accept-invitation";
    let file = staff_file("gated", "DURAND", 3);
    let (refusing, open) = (RecordingGate::new(true), RecordingGate::new(false));

    let r = import::import(&tx, &hr, &refusing, edition, file.as_bytes(), false, url)
        .await
        .unwrap();
    assert!(!r.applied);
    assert_eq!(
        r.errors
            .iter()
            .map(|e| (e.line, e.code))
            .collect::<Vec<_>>(),
        [(0, Some("SEAT_LIMIT_REACHED"))]
    );
    assert_eq!(
        refusing.asked(),
        [(Path::Import, 3, false)],
        "one question for the file"
    );
    let r = enrolments::enrol(
        &tx,
        &hr,
        &refusing,
        edition,
        Enrolee::Person(PersonId::from_uuid(uuid(&lea))),
        None,
        url,
        &[],
    )
    .await;
    assert!(
        matches!(
            r,
            Err(spaces_tenants::Error::Refused {
                code: "SEAT_LIMIT_REACHED",
                ..
            })
        ),
        "enrol is refused by the gate too"
    );
    assert_eq!(refusing.asked(), [(Path::Assigned, 1, false)]);

    // A dry run and a file with a bad row only ask the gate to check.
    let r = import::import(&tx, &hr, &open, edition, file.as_bytes(), true, url)
        .await
        .unwrap();
    assert!(!r.applied && r.errors.is_empty(), "{r:?}");
    let bad = format!("{file}not-an-email,X,Y,DURAND\n");
    let r = import::import(&tx, &hr, &open, edition, bad.as_bytes(), false, url)
        .await
        .unwrap();
    assert!(!r.applied);
    assert_eq!(
        open.asked(),
        [(Path::Import, 3, true), (Path::Import, 3, true)]
    );
    let r = import::import(&tx, &hr, &open, edition, file.as_bytes(), false, url)
        .await
        .unwrap();
    assert!(r.applied && r.new_enrolments == 3, "{r:?}");
    assert_eq!(open.asked(), [(Path::Import, 3, false)]);
    tx.commit().await.unwrap();
    let dump = app.dump_tenant(&c.id).await;
    assert_eq!(dump["enrolments"].len(), 3, "only the admitted file wrote");
    app.stop().await;
}

#[tokio::test]
async fn the_admission_gate_is_asked_once_per_batch_on_sqlite() {
    admission_gate(Backend::Sqlite).await;
}

#[tokio::test]
async fn the_admission_gate_is_asked_once_per_batch_on_postgres() {
    admission_gate(Backend::Postgres).await;
}
