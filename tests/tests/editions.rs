//! Journey 4, curating: the platform publishes courses; a campus curates private editions and
//! pathways; Spaces says whether a pathway is a CMF microcredential, and why not. And the walls
//! around editions and pathways.

use serde_json::{Value, json};
use spaces_tests::app::{code, ok};
use spaces_tests::fixtures::{self, Campus};
use spaces_tests::{Backend, TestApp};

const EDITION_FIELDS: &str = "id title description course { id title } startsOn endsOn enrolOpensAt enrolClosesAt capacity enrolmentMode visibility visibleTo price { amountMinor currency } includedInSubscription modules { id position title required estimatedMinutes activityIri } minScore status";

fn pathway_fields() -> String {
    format!(
        "id title description editions {{ {EDITION_FIELDS} }} totalStudyHours totalEcts eqfRange {{ min max }} cmfCheck {{ isMicrocredential failedRules {{ rule expected actual }} }}"
    )
}

/// An operator's provider (a university).
async fn provider(app: &TestApp, op: &str) -> String {
    let v = app
        .gql(
            None,
            Some(op),
            "mutation($i: ProviderInput!) { createProvider(input: $i) { id } }",
            json!({ "i": { "name": fixtures::unique("Université "), "country": "FR" } }),
        )
        .await;
    ok(&v)["createProvider"]["id"].as_str().unwrap().to_owned()
}

/// A catalogue course created by an operator, published unless `publish` is false.
async fn course(
    app: &TestApp,
    op: &str,
    provider: &str,
    title: &str,
    (hours, ects, eqf): (f64, f64, i32),
    assessment: &str,
    publish: bool,
) -> String {
    let v = app
        .gql(
            None,
            Some(op),
            "mutation($i: CourseFactsInput!) { createCourse(input: $i) { id } }",
            json!({ "i": {
                "providerId": provider, "title": title, "summary": format!("About {title}."),
                "language": "fr", "studyHours": hours, "ects": ects, "eqfLevel": eqf,
                "learningOutcomes": ["Knows things"], "assessment": assessment,
            }}),
        )
        .await;
    let id = ok(&v)["createCourse"]["id"].as_str().unwrap().to_owned();
    if publish {
        let v = app
            .gql(
                None,
                Some(op),
                "mutation($id: ID!) { publishCourse(id: $id) { status } }",
                json!({ "id": id }),
            )
            .await;
        assert_eq!(ok(&v)["publishCourse"]["status"], "PUBLISHED");
    }
    id
}

async fn call(app: &TestApp, c: &Campus, token: &str, q: &str, vars: Value) -> Value {
    app.gql(Some(&c.slug), Some(token), q, vars).await
}

const CREATE: &str = "mutation($i: CreateEditionInput!) { createEdition(input: $i) { id title description status visibility visibleTo price { amountMinor currency } includedInSubscription capacity course { id } } }";
const UPDATE: &str = "mutation($id: ID!, $i: UpdateEditionInput!) { updateEdition(id: $id, input: $i) { id title description capacity startsOn endsOn price { amountMinor currency } includedInSubscription minScore enrolmentMode visibility visibleTo } }";
const MODULES: &str = "mutation($id: ID!, $i: SetEditionModulesInput!) { setEditionModules(id: $id, input: $i) { id modules { id position title required estimatedMinutes activityIri } } }";
const CREATE_PATHWAY: &str =
    "mutation($i: CreatePathwayInput!) { createPathway(input: $i) { id } }";

async fn create_edition(app: &TestApp, c: &Campus, input: Value) -> Value {
    let v = call(app, c, &c.admin_token, CREATE, json!({ "i": input })).await;
    ok(&v)["createEdition"].clone()
}

fn module(n: u32, required: bool, minutes: i32) -> Value {
    json!({ "title": format!("Module {n}"), "required": required, "estimatedMinutes": minutes,
            "activityIri": format!("https://lms.example.org/xapi/activities/m{n}") })
}

async fn set_modules(app: &TestApp, c: &Campus, edition: &str, modules: Value) -> Value {
    let v = call(
        app,
        c,
        &c.admin_token,
        MODULES,
        json!({ "id": edition, "i": { "modules": modules } }),
    )
    .await;
    ok(&v)["setEditionModules"]["modules"].clone()
}

async fn transition(app: &TestApp, c: &Campus, token: &str, op: &str, id: &str) -> Value {
    call(
        app,
        c,
        token,
        &format!("mutation($id: ID!) {{ {op}(id: $id) {{ id status }} }}"),
        json!({ "id": id }),
    )
    .await
}

async fn pathway(app: &TestApp, c: &Campus, id: &str) -> Value {
    let v = call(
        app,
        c,
        &c.admin_token,
        &format!(
            "query($id: ID!) {{ pathway(id: $id) {{ {} }} }}",
            pathway_fields()
        ),
        json!({ "id": id }),
    )
    .await;
    ok(&v)["pathway"].clone()
}

/// The ids of the editions a token lists, in order.
async fn listed(app: &TestApp, c: &Campus, token: &str, status: Option<&str>) -> Vec<String> {
    let v = call(
        app,
        c,
        token,
        "query($s: EditionStatus) { editions(status: $s, first: 100) { edges { node { id } } } }",
        json!({ "s": status }),
    )
    .await;
    ok(&v)["editions"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Everything a tenant admin sees of the space's editions and pathways (two queries: together
/// they would pass the complexity budget).
async fn snapshot(app: &TestApp, c: &Campus) -> Value {
    let e = call(
        app,
        c,
        &c.admin_token,
        &format!(
            "{{ editions(first: 50) {{ edges {{ node {{ {EDITION_FIELDS} updatedAt }} }} }} }}"
        ),
        json!({}),
    )
    .await;
    let p = call(
        app,
        c,
        &c.admin_token,
        &format!(
            "{{ pathways(first: 20) {{ edges {{ node {{ {} updatedAt }} }} }} }}",
            pathway_fields()
        ),
        json!({}),
    )
    .await;
    json!([ok(&e).clone(), ok(&p).clone()])
}

fn assert_bad(v: &Value, field: &str) {
    assert_eq!(code(v), "BAD_USER_INPUT", "{field}: {v}");
    assert_eq!(v["errors"][0]["extensions"]["field"], field, "{v}");
}

fn ids(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

async fn curating(backend: Backend) {
    let app = TestApp::start(backend).await;
    let op = fixtures::operator(&app).await;
    let c = fixtures::campus(&app, &op).await;

    // The platform publishes courses (and keeps one in draft).
    let uni = provider(&app, &op).await;
    let data = course(
        &app,
        &op,
        &uni,
        "Data literacy",
        (40.0, 1.5, 6),
        "NONE",
        true,
    )
    .await;
    let stats = course(
        &app,
        &op,
        &uni,
        "Applied statistics",
        (40.0, 1.5, 7),
        "ONLINE_UNVERIFIED",
        true,
    )
    .await;
    let ml = course(
        &app,
        &op,
        &uni,
        "Machine learning in practice",
        (40.0, 2.0, 6),
        "ID_VERIFIED_SUMMATIVE",
        true,
    )
    .await;
    let intro = course(
        &app,
        &op,
        &uni,
        "Spreadsheets",
        (16.5, 1.0, 5),
        "ONLINE_UNVERIFIED",
        true,
    )
    .await;
    let draft = course(&app, &op, &uni, "Unfinished", (10.0, 1.0, 6), "NONE", false).await;

    // The campus: two member companies, a team in one, HR and learners.
    let acme = fixtures::company(&app, &c, "Acme").await;
    let globex = fixtures::company(&app, &c, "Globex").await;
    let v = call(
        &app,
        &c,
        &c.admin_token,
        "mutation($i: CreateOrganisationInput!) { createOrganisation(input: $i) { id } }",
        json!({ "i": { "parentId": acme, "kind": "TEAM", "name": "Acme data team" } }),
    )
    .await;
    let acme_team = ok(&v)["createOrganisation"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, hr_acme) =
        fixtures::member(&app, &c, &c.admin_token, &acme, "hr@acme.test", "ORG_ADMIN").await;
    let (lea_id, lea) = fixtures::member(
        &app,
        &c,
        &c.admin_token,
        &acme_team,
        "lea@acme.test",
        "LEARNER",
    )
    .await;
    let (_, nora) = fixtures::member(
        &app,
        &c,
        &c.admin_token,
        &globex,
        "nora@globex.test",
        "LEARNER",
    )
    .await;

    // The admin curates editions: whole space with a price, Acme only and included in the
    // subscription, Globex only and free, and one left in draft.
    let e1 = create_edition(
        &app,
        &c,
        json!({
            "courseId": data, "startsOn": "2026-09-01", "endsOn": "2026-10-15",
            "enrolOpensAt": "2026-06-01T08:00:00Z", "enrolClosesAt": "2026-08-31T18:00:00Z",
            "capacity": 30, "enrolmentMode": "SELF_ENROLMENT", "visibility": "WHOLE_TENANT",
            "price": { "amountMinor": 45000, "currency": "EUR" },
        }),
    )
    .await;
    assert_eq!(
        e1["title"], "Data literacy",
        "falls back to the course's title"
    );
    assert_eq!(e1["description"], "About Data literacy.");
    assert_eq!(e1["status"], "DRAFT");
    assert_eq!(e1["course"]["id"], data.as_str());
    assert_eq!(
        e1["price"],
        json!({ "amountMinor": 45000, "currency": "EUR" })
    );
    assert_eq!(e1["includedInSubscription"], false);
    assert_eq!(e1["visibleTo"], json!([]));
    let e1 = e1["id"].as_str().unwrap().to_owned();
    let e2 = create_edition(&app, &c, json!({
        "courseId": stats, "title": "Statistics for Acme", "description": "Our own cohort.\nTwo lines.",
        "enrolmentMode": "ON_APPROVAL", "visibility": "ORGANISATIONS", "visibleTo": [acme],
        "includedInSubscription": true, "minScore": 70,
    }))
    .await;
    assert_eq!(e2["title"], "Statistics for Acme");
    assert_eq!(e2["description"], "Our own cohort.\nTwo lines.");
    assert_eq!(e2["price"], Value::Null);
    assert_eq!(e2["includedInSubscription"], true);
    assert_eq!(e2["visibility"], "ORGANISATIONS");
    assert_eq!(e2["visibleTo"], json!([acme]));
    let e2 = e2["id"].as_str().unwrap().to_owned();
    let e3 = create_edition(
        &app,
        &c,
        json!({
            "courseId": ml, "enrolmentMode": "ASSIGNED_ONLY", "visibility": "ORGANISATIONS",
            "visibleTo": [globex], "price": { "amountMinor": 0, "currency": "EUR" },
        }),
    )
    .await;
    assert_eq!(e3["price"]["amountMinor"], 0, "a free edition");
    let e3 = e3["id"].as_str().unwrap().to_owned();
    let e4 = create_edition(
        &app,
        &c,
        json!({
            "courseId": intro, "enrolmentMode": "ASSIGNED_ONLY", "visibility": "WHOLE_TENANT",
            "includedInSubscription": true,
        }),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Ordered modules; an edition without a required module cannot open.
    let v = transition(&app, &c, &c.admin_token, "openEdition", &e1).await;
    assert_eq!(code(&v), "CONFLICT");
    assert_eq!(v["errors"][0]["extensions"]["field"], "modules");
    let v = set_modules(&app, &c, &e1, json!([module(2, false, 45)])).await;
    assert_eq!(v.as_array().unwrap().len(), 1);
    let v = transition(&app, &c, &c.admin_token, "openEdition", &e1).await;
    assert_eq!(code(&v), "CONFLICT", "only an optional module: {v}");
    let mods = set_modules(
        &app,
        &c,
        &e1,
        json!([module(1, true, 90), module(2, false, 45)]),
    )
    .await;
    assert_eq!(
        mods[0]["activityIri"],
        "https://lms.example.org/xapi/activities/m1"
    );
    assert_eq!(mods[0]["position"], 0);
    assert_eq!(mods[1]["title"], "Module 2");
    let m2_id = mods[1]["id"].clone();
    // Reordered, m2 gone (retired), m3 added: the current list shows m3 and m1.
    let mods = set_modules(
        &app,
        &c,
        &e1,
        json!([module(3, true, 30), module(1, true, 90)]),
    )
    .await;
    assert_eq!(
        mods.as_array()
            .unwrap()
            .iter()
            .map(|m| m["activityIri"]
                .as_str()
                .unwrap()
                .rsplit('/')
                .next()
                .unwrap())
            .collect::<Vec<_>>(),
        vec!["m3", "m1"]
    );
    // m2 listed again comes back as the same module (its progress with it).
    let mods = set_modules(
        &app,
        &c,
        &e1,
        json!([
            module(1, true, 90),
            module(2, false, 45),
            module(3, true, 30)
        ]),
    )
    .await;
    assert_eq!(mods[1]["id"], m2_id);
    for e in [&e2, &e3] {
        set_modules(
            &app,
            &c,
            e,
            json!([module(1, true, 60), module(2, false, 30)]),
        )
        .await;
    }
    for e in [&e1, &e2, &e3] {
        let v = transition(&app, &c, &c.admin_token, "openEdition", e).await;
        assert_eq!(ok(&v)["openEdition"]["status"], "OPEN");
    }

    // The life of an edition: close and reopen; archive only once closed; archived is final.
    let v = transition(&app, &c, &c.admin_token, "archiveEdition", &e1).await;
    assert_eq!(code(&v), "CONFLICT", "an open edition is closed first: {v}");
    let v = transition(&app, &c, &c.admin_token, "closeEdition", &e1).await;
    assert_eq!(ok(&v)["closeEdition"]["status"], "CLOSED");
    let v = transition(&app, &c, &c.admin_token, "openEdition", &e1).await;
    assert_eq!(ok(&v)["openEdition"]["status"], "OPEN");
    let v = transition(&app, &c, &c.admin_token, "closeEdition", &e4).await;
    assert_eq!(code(&v), "CONFLICT", "a draft is not closed: {v}");

    // Partial updates change what is given; null clears; the rest stays.
    let v = call(
        &app,
        &c,
        &c.admin_token,
        UPDATE,
        json!({ "id": e1, "i": { "title": "Data literacy, autumn", "capacity": null } }),
    )
    .await;
    let u = &ok(&v)["updateEdition"];
    assert_eq!(u["title"], "Data literacy, autumn");
    assert_eq!(u["capacity"], Value::Null);
    assert_eq!(u["startsOn"], "2026-09-01");
    assert_eq!(u["price"]["amountMinor"], 45000);
    assert_eq!(u["enrolmentMode"], "SELF_ENROLMENT");
    let v = call(
        &app,
        &c,
        &c.admin_token,
        UPDATE,
        json!({ "id": e1, "i": { "title": null, "capacity": 25, "minScore": 60 } }),
    )
    .await;
    let u = &ok(&v)["updateEdition"];
    assert_eq!(u["title"], "Data literacy", "back to the course's title");
    assert_eq!(
        (u["capacity"].clone(), u["minScore"].clone()),
        (json!(25), json!(60))
    );
    let v = call(
        &app,
        &c,
        &c.admin_token,
        UPDATE,
        json!({ "id": e2, "i": { "price": { "amountMinor": 1990, "currency": "EUR" } } }),
    )
    .await;
    let u = &ok(&v)["updateEdition"];
    assert_eq!(u["includedInSubscription"], false);
    assert_eq!(u["price"]["amountMinor"], 1990);
    let v = call(
        &app,
        &c,
        &c.admin_token,
        UPDATE,
        json!({ "id": e2, "i": { "includedInSubscription": true } }),
    )
    .await;
    let u = &ok(&v)["updateEdition"];
    assert_eq!(
        (u["includedInSubscription"].clone(), u["price"].clone()),
        (json!(true), Value::Null)
    );
    // Visibility restricted to a team, then back to Acme.
    let v = call(
        &app,
        &c,
        &c.admin_token,
        UPDATE,
        json!({ "id": e2, "i": { "visibleTo": [acme_team] } }),
    )
    .await;
    assert_eq!(ok(&v)["updateEdition"]["visibleTo"], json!([acme_team]));
    let v = call(
        &app,
        &c,
        &c.admin_token,
        UPDATE,
        json!({ "id": e2, "i": { "visibility": "ORGANISATIONS", "visibleTo": [acme] } }),
    )
    .await;
    assert_eq!(ok(&v)["updateEdition"]["visibleTo"], json!([acme]));

    // A pathway of three editions: 120 h, 5 ECTS, EQF 6–7, ending ID-verified: a microcredential.
    let v = call(&app, &c, &c.admin_token, CREATE_PATHWAY, json!({ "i": { "title": "Data analyst", "description": "Three steps.", "editionIds": [e1, e2, e3] } })).await;
    let good = ok(&v)["createPathway"]["id"].as_str().unwrap().to_owned();
    let p = pathway(&app, &c, &good).await;
    assert_eq!(p["title"], "Data analyst");
    assert_eq!(p["description"], "Three steps.");
    assert_eq!(
        p["editions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["id"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>(),
        ids(&[&e1, &e2, &e3])
    );
    assert_eq!(p["editions"][1]["title"], "Statistics for Acme");
    assert_eq!(p["totalStudyHours"], 120.0);
    assert_eq!(p["totalEcts"], 5.0);
    assert_eq!(p["eqfRange"], json!({ "min": 6, "max": 7 }));
    assert_eq!(
        p["cmfCheck"],
        json!({ "isMicrocredential": true, "failedRules": [] })
    );

    // One that is not: every failed rule with what was expected and what is there.
    let v = call(
        &app,
        &c,
        &c.admin_token,
        CREATE_PATHWAY,
        json!({ "i": { "title": "Short track", "editionIds": [e3, e4] } }),
    )
    .await;
    let short = ok(&v)["createPathway"]["id"].as_str().unwrap().to_owned();
    let p = pathway(&app, &c, &short).await;
    assert_eq!(p["totalStudyHours"], 56.5);
    assert_eq!(p["totalEcts"], 3.0);
    assert_eq!(p["eqfRange"], json!({ "min": 5, "max": 6 }));
    assert_eq!(
        p["cmfCheck"],
        json!({ "isMicrocredential": false, "failedRules": [
            { "rule": "STUDY_HOURS", "expected": "100–150 hours", "actual": "56.5 hours" },
            { "rule": "ECTS", "expected": "4–6 ECTS", "actual": "3 ECTS" },
            { "rule": "EQF_LEVEL", "expected": "every edition at EQF 6 or 7", "actual": "edition 2 at EQF 5" },
            { "rule": "ASSESSMENT", "expected": "the last edition ends in an ID-verified summative assessment",
              "actual": "the last edition ends in an online, unverified assessment" },
        ] })
    );
    // Reordering the good one so it no longer ends ID-verified fails exactly that rule.
    let set_editions = "mutation($id: ID!, $e: [ID!]!) { setPathwayEditions(id: $id, editionIds: $e) { id cmfCheck { isMicrocredential failedRules { rule } } } }";
    let v = call(
        &app,
        &c,
        &c.admin_token,
        set_editions,
        json!({ "id": good, "e": [e3, e1, e2] }),
    )
    .await;
    assert_eq!(
        ok(&v)["setPathwayEditions"]["cmfCheck"],
        json!({ "isMicrocredential": false, "failedRules": [{ "rule": "ASSESSMENT" }] })
    );
    let v = call(
        &app,
        &c,
        &c.admin_token,
        set_editions,
        json!({ "id": good, "e": [e1, e2, e3] }),
    )
    .await;
    assert_eq!(
        ok(&v)["setPathwayEditions"]["cmfCheck"]["isMicrocredential"],
        true
    );
    let v = call(
        &app,
        &c,
        &c.admin_token,
        CREATE_PATHWAY,
        json!({ "i": { "title": "Empty" } }),
    )
    .await;
    let empty = ok(&v)["createPathway"]["id"].as_str().unwrap().to_owned();
    let p = pathway(&app, &c, &empty).await;
    assert_eq!(
        p["cmfCheck"]["failedRules"],
        json!([{ "rule": "EMPTY", "expected": "at least one edition", "actual": "no editions" }])
    );
    assert_eq!(p["eqfRange"], Value::Null);
    let v = call(&app, &c, &c.admin_token, "mutation($id: ID!) { updatePathway(id: $id, input: { title: \"Nothing yet\", description: null }) { title description } }", json!({ "id": empty })).await;
    assert_eq!(
        ok(&v)["updatePathway"],
        json!({ "title": "Nothing yet", "description": null })
    );
    let v = call(
        &app,
        &c,
        &c.admin_token,
        "{ pathways(first: 10) { edges { node { title } } } }",
        json!({}),
    )
    .await;
    assert_eq!(ok(&v)["pathways"]["edges"].as_array().unwrap().len(), 3);

    // People see open editions visible to their organisation; the admin sees everything.
    assert_eq!(
        listed(&app, &c, &c.admin_token, None).await,
        ids(&[&e1, &e2, &e3, &e4])
    );
    assert_eq!(
        listed(&app, &c, &c.admin_token, Some("DRAFT")).await,
        ids(&[&e4])
    );
    assert_eq!(listed(&app, &c, &hr_acme, None).await, ids(&[&e1, &e2]));
    assert_eq!(
        listed(&app, &c, &lea, None).await,
        ids(&[&e1, &e2]),
        "Acme's subtree"
    );
    assert_eq!(
        listed(&app, &c, &nora, Some("OPEN")).await,
        ids(&[&e1, &e3])
    );
    let one = "query($id: ID!) { edition(id: $id) { id title modules { activityIri } course { title eqfLevel } } }";
    let v = call(&app, &c, &lea, one, json!({ "id": e2 })).await;
    assert_eq!(ok(&v)["edition"]["course"]["title"], "Applied statistics");
    for (token, id) in [(&lea, &e3), (&lea, &e4), (&nora, &e2), (&hr_acme, &e3)] {
        let v = call(&app, &c, token, one, json!({ "id": id })).await;
        assert_eq!(code(&v), "NOT_FOUND", "{v}");
    }
    let v = call(
        &app,
        &c,
        &lea,
        "{ editions(status: DRAFT) { edges { node { id } } } }",
        json!({}),
    )
    .await;
    assert_bad(&v, "status");
    // Closing an edition hides it from people.
    transition(&app, &c, &c.admin_token, "closeEdition", &e2).await;
    assert_eq!(listed(&app, &c, &lea, None).await, ids(&[&e1]));
    transition(&app, &c, &c.admin_token, "openEdition", &e2).await;
    // Curating is for tenant admins; pathways too.
    for (q, vars) in [
        (
            CREATE,
            json!({ "i": { "courseId": data, "enrolmentMode": "ASSIGNED_ONLY", "visibility": "WHOLE_TENANT", "includedInSubscription": true } }),
        ),
        (UPDATE, json!({ "id": e1, "i": { "title": "x" } })),
        (MODULES, json!({ "id": e1, "i": { "modules": [] } })),
        (
            "mutation($id: ID!) { closeEdition(id: $id) { id } }",
            json!({ "id": e1 }),
        ),
        (CREATE_PATHWAY, json!({ "i": { "title": "x" } })),
        (
            "query($id: ID!) { pathway(id: $id) { id } }",
            json!({ "id": good }),
        ),
        ("{ pathways { edges { node { id } } } }", json!({})),
    ] {
        let v = call(&app, &c, &hr_acme, q, vars).await;
        assert_eq!(code(&v), "FORBIDDEN", "{q}: {v}");
    }
    let v = app
        .gql(
            Some(&c.slug),
            None,
            "{ editions { edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(code(&v), "UNAUTHENTICATED");

    // Bad input names the field and changes nothing.
    let before = snapshot(&app, &c).await;
    let base = json!({ "courseId": data, "enrolmentMode": "ASSIGNED_ONLY", "visibility": "WHOLE_TENANT", "includedInSubscription": true });
    let with = |extra: Value| {
        let mut i = base.clone();
        for (k, v) in extra.as_object().unwrap() {
            i[k] = v.clone();
        }
        json!({ "i": i })
    };
    let bad_iri = json!([{ "title": "x", "activityIri": "m1" }]);
    let dup_iri = json!([module(1, true, 5), module(1, false, 5)]);
    let neg_minutes = json!([module(1, true, -5)]);
    // A draft course is invisible to spaces: it reads exactly as an unknown id.
    let unknown = uuid::Uuid::now_v7().to_string();
    let [v_draft, v_unknown] = [&draft, &unknown].map(|id| with(json!({ "courseId": id })));
    let v_draft = call(&app, &c, &c.admin_token, CREATE, v_draft).await;
    let v_unknown = call(&app, &c, &c.admin_token, CREATE, v_unknown).await;
    for v in [&v_draft, &v_unknown] {
        assert_eq!(code(v), "NOT_FOUND", "{v}");
        assert_eq!(v["errors"][0]["extensions"]["field"], "courseId", "{v}");
    }
    assert_eq!(
        v_draft["errors"][0]["message"],
        v_unknown["errors"][0]["message"]
    );
    let cases: Vec<(&str, Value, &str)> = vec![
        (CREATE, with(json!({ "courseId": "not-an-id" })), "courseId"),
        (
            CREATE,
            with(json!({ "startsOn": "2026-09-02", "endsOn": "2026-09-01" })),
            "endsOn",
        ),
        (
            CREATE,
            with(
                json!({ "enrolOpensAt": "2026-06-01T08:00:00Z", "enrolClosesAt": "2026-05-01T08:00:00Z" }),
            ),
            "enrolClosesAt",
        ),
        (CREATE, with(json!({ "capacity": 0 })), "capacity"),
        (CREATE, with(json!({ "minScore": 101 })), "minScore"),
        (CREATE, with(json!({ "title": "   x\u{7}" })), "title"),
        (
            CREATE,
            with(json!({ "price": { "amountMinor": 100, "currency": "EUR" } })),
            "price",
        ),
        (
            CREATE,
            with(json!({ "includedInSubscription": false })),
            "price",
        ),
        (
            CREATE,
            with(
                json!({ "includedInSubscription": null, "price": { "amountMinor": 100, "currency": "EURO" } }),
            ),
            "price.currency",
        ),
        (
            CREATE,
            with(
                json!({ "includedInSubscription": null, "price": { "amountMinor": 100, "currency": "XYZ" } }),
            ),
            "price.currency",
        ),
        (
            CREATE,
            with(
                json!({ "includedInSubscription": null, "price": { "amountMinor": -1, "currency": "EUR" } }),
            ),
            "price.amountMinor",
        ),
        (
            CREATE,
            with(json!({ "visibility": "ORGANISATIONS" })),
            "visibleTo",
        ),
        (CREATE, with(json!({ "visibleTo": [acme] })), "visibleTo"),
        (
            CREATE,
            with(json!({ "visibility": "ORGANISATIONS", "visibleTo": ["nope"] })),
            "visibleTo[0]",
        ),
        (
            UPDATE,
            json!({ "id": e1, "i": { "endsOn": "2026-08-01" } }),
            "endsOn",
        ),
        (
            UPDATE,
            json!({ "id": e1, "i": { "title": "Renamed", "capacity": -3 } }),
            "capacity",
        ),
        (
            UPDATE,
            json!({ "id": e1, "i": { "visibility": "ORGANISATIONS" } }),
            "visibleTo",
        ),
        (
            UPDATE,
            json!({ "id": e1, "i": { "price": { "amountMinor": 1, "currency": "EUR" }, "includedInSubscription": true } }),
            "price",
        ),
        (UPDATE, json!({ "id": "x", "i": {} }), "id"),
        (
            MODULES,
            json!({ "id": e1, "i": { "modules": bad_iri } }),
            "modules[0].activityIri",
        ),
        (
            MODULES,
            json!({ "id": e1, "i": { "modules": dup_iri } }),
            "modules[1].activityIri",
        ),
        (
            MODULES,
            json!({ "id": e1, "i": { "modules": neg_minutes } }),
            "modules[0].estimatedMinutes",
        ),
        (CREATE_PATHWAY, json!({ "i": { "title": " " } }), "title"),
        (
            CREATE_PATHWAY,
            json!({ "i": { "title": "x", "editionIds": [e1, e1] } }),
            "editionIds[1]",
        ),
        (
            set_editions,
            json!({ "id": good, "e": [e2, "nope"] }),
            "editionIds[1]",
        ),
    ];
    for (q, vars, field) in &cases {
        let v = call(&app, &c, &c.admin_token, q, vars.clone()).await;
        assert_bad(&v, field);
    }
    let v = call(
        &app,
        &c,
        &c.admin_token,
        CREATE_PATHWAY,
        json!({ "i": { "title": "x", "editionIds": [uuid::Uuid::now_v7().to_string()] } }),
    )
    .await;
    assert_eq!(code(&v), "NOT_FOUND", "an id naming nothing: {v}");
    assert_eq!(v["errors"][0]["extensions"]["field"], "editionIds[0]");
    assert_eq!(v["errors"][0]["extensions"]["reason"], "no such edition");
    let v = call(&app, &c, &c.admin_token, CREATE, with(json!({ "visibility": "ORGANISATIONS", "visibleTo": [acme, uuid::Uuid::now_v7().to_string()] }))).await;
    assert_eq!(code(&v), "NOT_FOUND", "an id naming nothing: {v}");
    assert_eq!(v["errors"][0]["extensions"]["field"], "visibleTo[1]");
    assert_eq!(
        v["errors"][0]["extensions"]["reason"],
        "no such organisation"
    );
    // A list with one bad module is refused whole.
    let v = call(&app, &c, &c.admin_token, MODULES, json!({ "id": e1, "i": { "modules": [module(9, true, 5), { "title": "x", "activityIri": "not an iri" }] } })).await;
    assert_bad(&v, "modules[1].activityIri");
    assert_eq!(snapshot(&app, &c).await, before, "nothing changed");

    // Archived is final: a draft archives directly; then nothing changes it.
    let v = transition(&app, &c, &c.admin_token, "archiveEdition", &e4).await;
    assert_eq!(ok(&v)["archiveEdition"]["status"], "ARCHIVED");
    for v in [
        transition(&app, &c, &c.admin_token, "openEdition", &e4).await,
        call(
            &app,
            &c,
            &c.admin_token,
            UPDATE,
            json!({ "id": e4, "i": { "title": "x" } }),
        )
        .await,
        call(
            &app,
            &c,
            &c.admin_token,
            MODULES,
            json!({ "id": e4, "i": { "modules": [module(1, true, 5)] } }),
        )
        .await,
    ] {
        assert_eq!(code(&v), "CONFLICT", "{v}");
        assert_eq!(v["errors"][0]["extensions"]["field"], "status", "{v}");
    }
    let v = call(
        &app,
        &c,
        &c.admin_token,
        set_editions,
        json!({ "id": short, "e": [e3, e4] }),
    )
    .await;
    assert_bad(&v, "editionIds[1]");

    // An edition with enrolments does not lose or gain a required module silently. There is no
    // enrolment API yet, so on PostgreSQL the owner writes one row directly.
    if backend == Backend::Postgres {
        app.owner_sql(&format!(
            "INSERT INTO enrolments (tenant_id, id, edition_id, person_id, status, source, created_at, updated_at) \
             VALUES ('{}', '{}', '{e1}', '{lea_id}', 'active', 'assigned', now(), now())",
            c.id,
            uuid::Uuid::now_v7()
        ))
        .await;
        let without_m3 = json!([module(1, true, 90), module(2, false, 45)]);
        let v = call(
            &app,
            &c,
            &c.admin_token,
            MODULES,
            json!({ "id": e1, "i": { "modules": without_m3 } }),
        )
        .await;
        assert_eq!(code(&v), "CONFLICT", "{v}");
        assert_eq!(v["errors"][0]["extensions"]["field"], "modules");
        let reason = v["errors"][0]["extensions"]["reason"].as_str().unwrap();
        assert!(
            reason
                .contains("removes required module(s) https://lms.example.org/xapi/activities/m3"),
            "{reason}"
        );
        assert!(reason.contains("acknowledgeProgressImpact"), "{reason}");
        let v = call(&app, &c, &c.admin_token, MODULES, json!({ "id": e1, "i": { "modules": [module(1, true, 90), module(3, true, 30), module(4, true, 30)] } })).await;
        assert_eq!(code(&v), "CONFLICT", "a new required module too: {v}");
        // Optional modules, titles and order change freely.
        let mods = set_modules(
            &app,
            &c,
            &e1,
            json!([
                module(3, true, 20),
                module(1, true, 90),
                module(5, false, 10)
            ]),
        )
        .await;
        assert_eq!(mods.as_array().unwrap().len(), 3);
        // Acknowledged, the change applies; m3 is retired, not deleted.
        let v = call(
            &app,
            &c,
            &c.admin_token,
            MODULES,
            json!({ "id": e1, "i": { "modules": without_m3, "acknowledgeProgressImpact": true } }),
        )
        .await;
        assert_eq!(
            ok(&v)["setEditionModules"]["modules"]
                .as_array()
                .unwrap()
                .len(),
            2
        );
        let retired = app
            .owner_sql(&format!(
                "SELECT count(*) FROM edition_modules WHERE edition_id = '{e1}' AND retired_at IS NOT NULL \
                 AND activity_iri = 'https://lms.example.org/xapi/activities/m3'"
            ))
            .await;
        assert_eq!(retired.trim(), "1", "{retired}");
    }
    app.stop().await;
}

#[tokio::test]
async fn curating_on_sqlite() {
    curating(Backend::Sqlite).await;
}

#[tokio::test]
async fn curating_on_postgres() {
    curating(Backend::Postgres).await;
}

/// Tenant B's admin against A's editions and pathways: every new query and mutation finds
/// nothing and changes nothing.
/// An open self-enrolment edition of `course` that everyone in the space may join.
async fn open_to_all(app: &TestApp, c: &Campus, course: &str) -> String {
    let id = create_edition(
        app,
        c,
        json!({
            "courseId": course, "enrolmentMode": "SELF_ENROLMENT", "visibility": "WHOLE_TENANT",
            "includedInSubscription": true,
        }),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    set_modules(app, c, &id, json!([module(1, true, 60)])).await;
    ok(&transition(app, c, &c.admin_token, "openEdition", &id).await);
    id
}

async fn walls(backend: Backend) {
    // The outbox worker would mark A's messages delivered between the two dumps: keep it idle.
    let app = TestApp::start_with(backend, |c| {
        c.outbox_interval = std::time::Duration::from_secs(3600)
    })
    .await;
    let op = fixtures::operator(&app).await;
    let a = fixtures::campus(&app, &op).await;
    let b = fixtures::campus(&app, &op).await;
    let uni = provider(&app, &op).await;
    let ml = course(
        &app,
        &op,
        &uni,
        "Machine learning",
        (120.0, 5.0, 6),
        "ID_VERIFIED_SUMMATIVE",
        true,
    )
    .await;
    let a_company = fixtures::company(&app, &a, "A Corp").await;
    let a_ed = create_edition(
        &app,
        &a,
        json!({
            "courseId": ml, "enrolmentMode": "SELF_ENROLMENT", "visibility": "ORGANISATIONS",
            "visibleTo": [a_company], "price": { "amountMinor": 1000, "currency": "EUR" },
        }),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    set_modules(&app, &a, &a_ed, json!([module(1, true, 60)])).await;
    ok(&transition(&app, &a, &a.admin_token, "openEdition", &a_ed).await);
    // One anyone in A may join: B must not see it among the editions it may join.
    let a_open = open_to_all(&app, &a, &ml).await;
    let v = call(
        &app,
        &a,
        &a.admin_token,
        CREATE_PATHWAY,
        json!({ "i": { "title": "A path", "editionIds": [a_ed] } }),
    )
    .await;
    let a_pw = ok(&v)["createPathway"]["id"].as_str().unwrap().to_owned();
    let b_ed = create_edition(
        &app,
        &b,
        json!({
            "courseId": ml, "enrolmentMode": "ASSIGNED_ONLY", "visibility": "WHOLE_TENANT",
            "includedInSubscription": true,
        }),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let v = call(
        &app,
        &b,
        &b.admin_token,
        CREATE_PATHWAY,
        json!({ "i": { "title": "B path" } }),
    )
    .await;
    let b_pw = ok(&v)["createPathway"]["id"].as_str().unwrap().to_owned();
    let b_open = open_to_all(&app, &b, &ml).await;

    let before = snapshot(&app, &a).await;
    let b_before = snapshot(&app, &b).await;
    let rows_before = app.dump_tenant(&a.id).await;

    // A's token at B's door is refused outright.
    let v = call(
        &app,
        &b,
        &a.admin_token,
        "{ editions { edges { node { id } } } }",
        json!({}),
    )
    .await;
    assert_eq!(code(&v), "UNAUTHENTICATED", "{v}");

    let cases: Vec<(&str, Value)> = vec![
        (
            "query($id: ID!) { edition(id: $id) { id } }",
            json!({ "id": a_ed }),
        ),
        (
            "query($id: ID!) { pathway(id: $id) { id } }",
            json!({ "id": a_pw }),
        ),
        (
            UPDATE,
            json!({ "id": a_ed, "i": { "title": "pwned", "capacity": 1 } }),
        ),
        (
            MODULES,
            json!({ "id": a_ed, "i": { "modules": [], "acknowledgeProgressImpact": true } }),
        ),
        (
            "mutation($id: ID!) { openEdition(id: $id) { id } }",
            json!({ "id": a_ed }),
        ),
        (
            "mutation($id: ID!) { closeEdition(id: $id) { id } }",
            json!({ "id": a_ed }),
        ),
        (
            "mutation($id: ID!) { archiveEdition(id: $id) { id } }",
            json!({ "id": a_ed }),
        ),
        (
            CREATE,
            json!({ "i": { "courseId": ml, "enrolmentMode": "ASSIGNED_ONLY", "visibility": "ORGANISATIONS", "visibleTo": [a_company], "includedInSubscription": true } }),
        ),
        (
            UPDATE,
            json!({ "id": b_ed, "i": { "visibleTo": [a_company] } }),
        ),
        (
            UPDATE,
            json!({ "id": b_ed, "i": { "visibleTo": [a.root_id] } }),
        ),
        (
            CREATE_PATHWAY,
            json!({ "i": { "title": "x", "editionIds": [a_ed] } }),
        ),
        (
            "mutation($id: ID!) { updatePathway(id: $id, input: { title: \"pwned\" }) { id } }",
            json!({ "id": a_pw }),
        ),
        (
            "mutation($id: ID!, $e: [ID!]!) { setPathwayEditions(id: $id, editionIds: $e) { id } }",
            json!({ "id": a_pw, "e": [b_ed] }),
        ),
        (
            "mutation($id: ID!, $e: [ID!]!) { setPathwayEditions(id: $id, editionIds: $e) { id } }",
            json!({ "id": a_pw, "e": [] }),
        ),
        (
            "mutation($id: ID!, $e: [ID!]!) { setPathwayEditions(id: $id, editionIds: $e) { id } }",
            json!({ "id": b_pw, "e": [a_ed] }),
        ),
    ];
    for (q, vars) in &cases {
        let v = call(&app, &b, &b.admin_token, q, vars.clone()).await;
        let c = code(&v);
        assert!(c == "NOT_FOUND" || c == "BAD_USER_INPUT", "{q}: {v}");
        assert!(
            v["data"].is_null()
                || v["data"]
                    .as_object()
                    .is_some_and(|d| d.values().all(Value::is_null)),
            "{q}: {v}"
        );
        if c == "BAD_USER_INPUT" {
            assert!(
                v["errors"][0]["message"]
                    .as_str()
                    .unwrap()
                    .contains("no such"),
                "a foreign id reads as unknown: {v}"
            );
        }
    }
    // B's lists hold only B's.
    assert_eq!(
        listed(&app, &b, &b.admin_token, None).await,
        ids(&[&b_ed, &b_open])
    );
    let v = call(
        &app,
        &b,
        &b.admin_token,
        "{ editions(joinable: true) { edges { node { id } } } }",
        json!({}),
    )
    .await;
    assert_eq!(
        ok(&v)["editions"]["edges"],
        json!([{ "node": { "id": b_open } }]),
        "B's own joinable edition, not A's {a_open}"
    );
    let v = call(
        &app,
        &b,
        &b.admin_token,
        "{ pathways { edges { node { id } } } }",
        json!({}),
    )
    .await;
    assert_eq!(
        ok(&v)["pathways"]["edges"],
        json!([{ "node": { "id": b_pw } }])
    );

    assert_eq!(
        app.dump_tenant(&a.id).await,
        rows_before,
        "no row of A changed"
    );
    assert_eq!(snapshot(&app, &a).await, before, "nothing of A changed");
    assert_eq!(snapshot(&app, &b).await, b_before, "nor of B");
    app.stop().await;
}

#[tokio::test]
async fn edition_walls_on_sqlite() {
    walls(Backend::Sqlite).await;
}

#[tokio::test]
async fn edition_walls_on_postgres() {
    walls(Backend::Postgres).await;
}
