//! Journeys 2 and 3: a branded campus and its member companies, as clients walk them.

use serde_json::json;
use spaces_tests::app::{code, ok};
use spaces_tests::fixtures::{self, PASSWORD};
use spaces_tests::{Backend, TestApp};

async fn branded_campus(backend: Backend) {
    let app = TestApp::start(backend).await;
    let op = fixtures::operator(&app).await;
    let c = fixtures::campus(&app, &op).await;

    // The domain resolves to the campus, and its branding is public.
    let q = "{ space { slug displayName status branding { logoUrl primaryColour accentColour supportEmail } } }";
    let by_domain = app
        .gql_host(&format!("{}.example.org", c.slug), None, q, json!({}))
        .await;
    assert_eq!(ok(&by_domain)["space"]["slug"], c.slug.as_str());
    assert_eq!(
        by_domain["data"]["space"]["branding"]["primaryColour"],
        "#00609c"
    );
    assert_eq!(
        by_domain["data"]["space"]["branding"]["supportEmail"],
        "help@example.org"
    );
    let by_subdomain = app
        .gql_host(&format!("{}.spaces.test:443", c.slug), None, q, json!({}))
        .await;
    assert_eq!(ok(&by_subdomain)["space"]["slug"], c.slug.as_str());
    let unknown = app
        .gql_host("nowhere.example.org", None, q, json!({}))
        .await;
    assert_eq!(code(&unknown), "NOT_FOUND");
    let unknown_slug = app.gql(Some("no-such-campus"), None, q, json!({})).await;
    assert_eq!(code(&unknown_slug), "NOT_FOUND");

    // Its admin signs in there, and nowhere else.
    let s = fixtures::sign_in(&app, &c.slug, &c.admin_email, PASSWORD).await;
    let token = ok(&s)["signIn"]["accessToken"].as_str().unwrap().to_owned();
    let other = fixtures::campus(&app, &op).await;
    let elsewhere = fixtures::sign_in(&app, &other.slug, &c.admin_email, PASSWORD).await;
    assert_eq!(code(&elsewhere), "UNAUTHENTICATED");
    let v = app
        .gql(
            Some(&other.slug),
            Some(&token),
            "{ viewer { email } }",
            json!({}),
        )
        .await;
    assert_eq!(
        code(&v),
        "UNAUTHENTICATED",
        "a token is valid only in its own space: {v}"
    );
    let v = app
        .gql(
            Some(&c.slug),
            Some(&token),
            "{ viewer { email roles { role } } }",
            json!({}),
        )
        .await;
    assert_eq!(ok(&v)["viewer"]["email"], c.admin_email.as_str());
    assert_eq!(v["data"]["viewer"]["roles"][0]["role"], "TENANT_ADMIN");

    // The operator updates the branding; bad input names the field and changes nothing.
    let upd = "mutation($id: ID!, $i: UpdateTenantInput!) { updateTenant(id: $id, input: $i) { displayName branding { primaryColour logoUrl } domains } }";
    let bad = app.gql(None, Some(&op), upd, json!({ "id": c.id, "i": { "displayName": "Renamed", "branding": { "primaryColour": "blue" } } })).await;
    assert_eq!(code(&bad), "BAD_USER_INPUT");
    assert_eq!(
        bad["errors"][0]["extensions"]["field"],
        "branding.primaryColour"
    );
    let same = app.gql(Some(&c.slug), None, q, json!({})).await;
    assert_eq!(
        same["data"]["space"]["displayName"],
        format!("Campus {}", c.slug)
    );
    let good = app
        .gql(None, Some(&op), upd, json!({ "id": c.id, "i": { "displayName": "Ocapiat campus", "branding": { "primaryColour": "#112233", "logoUrl": "" }, "domains": ["campus.ocapiat.test"] } }))
        .await;
    assert_eq!(
        ok(&good)["updateTenant"]["branding"]["primaryColour"],
        "#112233"
    );
    assert_eq!(
        good["data"]["updateTenant"]["branding"]["logoUrl"],
        serde_json::Value::Null
    );
    let moved = app
        .gql_host("campus.ocapiat.test", None, q, json!({}))
        .await;
    assert_eq!(ok(&moved)["space"]["displayName"], "Ocapiat campus");
    // Spaces are cached for routing: a change shows on the very next request.
    let renamed = app.gql(Some(&c.slug), None, q, json!({})).await;
    assert_eq!(ok(&renamed)["space"]["displayName"], "Ocapiat campus");
    let v = app
        .gql(
            None,
            Some(&op),
            upd,
            json!({ "id": c.id, "i": { "domains": [] } }),
        )
        .await;
    assert_eq!(ok(&v)["updateTenant"]["domains"], json!([]));
    let gone = app
        .gql_host("campus.ocapiat.test", None, q, json!({}))
        .await;
    assert_eq!(
        code(&gone),
        "NOT_FOUND",
        "a removed domain serves nothing: {gone}"
    );

    // A person cannot manage tenants.
    let v = app
        .gql(
            None,
            Some(&op),
            "mutation($id: ID!) { suspendTenant(id: $id) { status } }",
            json!({ "id": c.id }),
        )
        .await;
    assert_eq!(ok(&v)["suspendTenant"]["status"], "SUSPENDED");
    // Suspended: sign-in and authenticated calls refused, branding still served, nothing lost.
    let s = fixtures::sign_in(&app, &c.slug, &c.admin_email, PASSWORD).await;
    assert_eq!(code(&s), "FORBIDDEN");
    let v = app
        .gql(
            Some(&c.slug),
            Some(&token),
            "{ viewer { email } }",
            json!({}),
        )
        .await;
    assert_eq!(code(&v), "FORBIDDEN");
    let v = app
        .gql(Some(&c.slug), None, "{ space { status } }", json!({}))
        .await;
    assert_eq!(ok(&v)["space"]["status"], "SUSPENDED");
    let v = app
        .gql(
            None,
            Some(&op),
            "mutation($id: ID!) { reactivateTenant(id: $id) { status } }",
            json!({ "id": c.id }),
        )
        .await;
    assert_eq!(ok(&v)["reactivateTenant"]["status"], "ACTIVE");
    let v = app
        .gql(
            Some(&c.slug),
            Some(&token),
            "{ viewer { email } }",
            json!({}),
        )
        .await;
    assert_eq!(ok(&v)["viewer"]["email"], c.admin_email.as_str());

    // Persons are refused platform operations.
    let v = app
        .gql(
            Some(&c.slug),
            Some(&token),
            "mutation($id: ID!) { suspendTenant(id: $id) { status } }",
            json!({ "id": c.id }),
        )
        .await;
    assert_eq!(code(&v), "FORBIDDEN");
    // Slugs are unique.
    let v = app
        .gql(None, Some(&op), fixtures::CREATE_TENANT, json!({ "i": { "slug": c.slug, "displayName": "Copy", "firstAdmin": { "email": "a@b.org", "givenName": "A", "familyName": "B" } } }))
        .await;
    assert_eq!(code(&v), "CONFLICT");
    assert_eq!(v["errors"][0]["extensions"]["field"], "slug");
    app.stop().await;
}

#[tokio::test]
async fn branded_campus_on_sqlite() {
    branded_campus(Backend::Sqlite).await;
}

#[tokio::test]
async fn branded_campus_on_postgres() {
    branded_campus(Backend::Postgres).await;
}

async fn member_companies(backend: Backend) {
    let app = TestApp::start(backend).await;
    let op = fixtures::operator(&app).await;
    let c = fixtures::campus(&app, &op).await;
    let a = fixtures::company(&app, &c, "Fromagerie Durand").await;
    let b = fixtures::company(&app, &c, "Biscuiterie Leroy").await;
    let (_, hr_a) =
        fixtures::member(&app, &c, &c.admin_token, &a, "hr@durand.test", "ORG_ADMIN").await;
    let (_, hr_b) =
        fixtures::member(&app, &c, &c.admin_token, &b, "hr@leroy.test", "ORG_ADMIN").await;
    let (lea, _) = fixtures::member(&app, &c, &hr_a, &a, "lea@durand.test", "LEARNER").await;
    let (nora, _) = fixtures::member(&app, &c, &hr_b, &b, "nora@leroy.test", "LEARNER").await;

    // HR of A sees A's people only, and nothing of B.
    let people = "query($o: ID) { people(organisationId: $o, first: 50) { edges { node { email } } pageInfo { hasNextPage } } }";
    let v = app
        .gql(Some(&c.slug), Some(&hr_a), people, json!({ "o": null }))
        .await;
    let emails: Vec<_> = ok(&v)["people"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["email"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(emails, vec!["hr@durand.test", "lea@durand.test"]);
    let v = app
        .gql(Some(&c.slug), Some(&hr_a), people, json!({ "o": b }))
        .await;
    assert_eq!(code(&v), "NOT_FOUND");
    let v = app
        .gql(
            Some(&c.slug),
            Some(&hr_a),
            "query($id: ID!) { person(id: $id) { email } }",
            json!({ "id": nora }),
        )
        .await;
    assert_eq!(code(&v), "NOT_FOUND");
    let v = app
        .gql(
            Some(&c.slug),
            Some(&hr_a),
            "query($id: ID!) { person(id: $id) { email } }",
            json!({ "id": lea }),
        )
        .await;
    assert_eq!(ok(&v)["person"]["email"], "lea@durand.test");
    // HR of A cannot add a department under B.
    let v = app
        .gql(
            Some(&c.slug),
            Some(&hr_a),
            "mutation($i: CreateOrganisationInput!) { createOrganisation(input: $i) { id } }",
            json!({ "i": { "parentId": b, "kind": "DEPARTMENT", "name": "Sales" } }),
        )
        .await;
    assert_eq!(code(&v), "NOT_FOUND", "{v}");

    // The campus admin sees all, with head counts.
    let orgs = "{ organisations(first: 10) { edges { node { name kind sizeBand headCount } } } }";
    let v = app
        .gql(Some(&c.slug), Some(&c.admin_token), orgs, json!({}))
        .await;
    let nodes: Vec<_> = ok(&v)["organisations"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .collect();
    assert_eq!(nodes.len(), 3);
    assert_eq!(nodes[0]["kind"], "ROOT");
    assert_eq!(
        nodes[0]["headCount"], 5,
        "admin + two HR + two learners: {nodes:?}"
    );
    assert_eq!(nodes[1]["name"], "Fromagerie Durand");
    assert_eq!(nodes[1]["sizeBand"], "FROM_11_TO_49");
    assert_eq!(nodes[1]["headCount"], 2);
    // HR of A sees their company only.
    let v = app.gql(Some(&c.slug), Some(&hr_a), orgs, json!({})).await;
    assert_eq!(
        ok(&v)["organisations"]["edges"].as_array().unwrap().len(),
        1
    );

    // A department and a team under A; move the team; archive the department.
    let create =
        "mutation($i: CreateOrganisationInput!) { createOrganisation(input: $i) { id parentId } }";
    let v = app
        .gql(
            Some(&c.slug),
            Some(&hr_a),
            create,
            json!({ "i": { "parentId": a, "kind": "DEPARTMENT", "name": "Production" } }),
        )
        .await;
    let dept = ok(&v)["createOrganisation"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let v = app
        .gql(
            Some(&c.slug),
            Some(&hr_a),
            create,
            json!({ "i": { "parentId": dept, "kind": "TEAM", "name": "Night shift" } }),
        )
        .await;
    let team = ok(&v)["createOrganisation"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let v = app
        .gql(Some(&c.slug), Some(&hr_a), "mutation($id: ID!, $p: ID!) { moveOrganisation(id: $id, newParentId: $p) { parentId } }", json!({ "id": team, "p": a }))
        .await;
    assert_eq!(ok(&v)["moveOrganisation"]["parentId"], a.as_str());
    let v = app
        .gql(Some(&c.slug), Some(&hr_a), "mutation($id: ID!, $p: ID!) { moveOrganisation(id: $id, newParentId: $p) { parentId } }", json!({ "id": a, "p": team }))
        .await;
    assert_eq!(
        code(&v),
        "FORBIDDEN",
        "HR of a company cannot move the company itself: {v}"
    );
    let v = app
        .gql(
            Some(&c.slug),
            Some(&hr_a),
            "mutation($id: ID!) { archiveOrganisation(id: $id) { name } }",
            json!({ "id": a }),
        )
        .await;
    assert_eq!(code(&v), "FORBIDDEN", "nor archive it: {v}");
    let v = app
        .gql(Some(&c.slug), Some(&c.admin_token), "mutation($id: ID!, $p: ID!) { moveOrganisation(id: $id, newParentId: $p) { parentId } }", json!({ "id": a, "p": team }))
        .await;
    assert_eq!(
        code(&v),
        "BAD_USER_INPUT",
        "a node cannot move under its own subtree: {v}"
    );
    let v = app
        .gql(
            Some(&c.slug),
            Some(&hr_a),
            "mutation($id: ID!) { archiveOrganisation(id: $id) { archivedAt } }",
            json!({ "id": dept }),
        )
        .await;
    assert!(ok(&v)["archiveOrganisation"]["archivedAt"].is_string());
    let v = app
        .gql(
            Some(&c.slug),
            Some(&hr_a),
            "mutation($id: ID!, $n: String!) { renameOrganisation(id: $id, name: $n) { name } }",
            json!({ "id": a, "n": "Fromagerie Durand & fils" }),
        )
        .await;
    assert_eq!(
        ok(&v)["renameOrganisation"]["name"],
        "Fromagerie Durand & fils"
    );
    let v = app
        .gql(
            Some(&c.slug),
            Some(&hr_a),
            "query($u: ID) { organisations(under: $u) { edges { node { name } } } }",
            json!({ "u": a }),
        )
        .await;
    let names: Vec<_> = ok(&v)["organisations"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, vec!["Fromagerie Durand & fils", "Night shift"]);
    app.stop().await;
}

#[tokio::test]
async fn member_companies_on_sqlite() {
    member_companies(Backend::Sqlite).await;
}

#[tokio::test]
async fn member_companies_on_postgres() {
    member_companies(Backend::Postgres).await;
}
