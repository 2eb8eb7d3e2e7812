//! Journey 12 for what the foundation adds: tenant B's token, ids, host and X-Tenant against
//! tenant A find nothing and change nothing.

use serde_json::{Value, json};
use spaces_tests::app::{code, ok};
use spaces_tests::fixtures;
use spaces_tests::{Backend, TestApp};

/// Everything an admin of A can see of A, to compare before and after B's attempts.
async fn snapshot(app: &TestApp, slug: &str, token: &str) -> Value {
    let v = app
        .gql(
            Some(slug),
            Some(token),
            "{ space { displayName branding { primaryColour } } organisations(first: 100, includeArchived: true) { edges { node { id name parentId archivedAt } } } people(first: 100) { edges { node { id email status roles { id role } } } } }",
            json!({}),
        )
        .await;
    ok(&v).clone()
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
    let a_company = fixtures::company(&app, &a, "A Corp").await;
    let (a_person, _) = fixtures::member(
        &app,
        &a,
        &a.admin_token,
        &a_company,
        "lea@a.test",
        "LEARNER",
    )
    .await;
    let grants = app
        .gql(
            Some(&a.slug),
            Some(&a.admin_token),
            "query($id: ID!) { person(id: $id) { roles { id } } }",
            json!({ "id": a_person }),
        )
        .await;
    let a_grant = ok(&grants)["person"]["roles"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let inv = app
        .gql(Some(&a.slug), Some(&a.admin_token), "mutation($i: InvitePersonInput!) { invitePerson(input: $i) { id } }", json!({ "i": { "email": "theo@a.test", "givenName": "Théo", "familyName": "A", "organisationId": a_company } }))
        .await;
    ok(&inv);
    let a_session = fixtures::sign_in(&app, &a.slug, &a.admin_email, fixtures::PASSWORD).await;
    let a_refresh = ok(&a_session)["signIn"]["refreshToken"]
        .as_str()
        .unwrap()
        .to_owned();
    // A's state before B tries anything: as A's admin sees it, and row by row.
    let before = snapshot(&app, &a.slug, &a.admin_token).await;
    let rows_before = app.dump_tenant(&a.id).await;

    // B's admin token presented at A's X-Tenant and at A's domain: refused outright.
    for v in [
        app.gql(
            Some(&a.slug),
            Some(&b.admin_token),
            "{ viewer { email } }",
            json!({}),
        )
        .await,
        app.gql_host(
            &format!("{}.example.org", a.slug),
            Some(&b.admin_token),
            "{ viewer { email } }",
            json!({}),
        )
        .await,
        app.gql_host(
            &format!("{}.spaces.test", a.slug),
            Some(&b.admin_token),
            "{ viewer { email } }",
            json!({}),
        )
        .await,
    ] {
        assert_eq!(code(&v), "UNAUTHENTICATED", "{v}");
    }

    // B's admin, in B, naming A's ids: every query and mutation finds nothing.
    let queries: Vec<(&str, Value)> = vec![
        (
            "query($id: ID!) { person(id: $id) { email } }",
            json!({ "id": a_person }),
        ),
        (
            "query($id: ID!) { organisation(id: $id) { name } }",
            json!({ "id": a_company }),
        ),
        (
            "query($id: ID!) { organisation(id: $id) { name } }",
            json!({ "id": a.root_id }),
        ),
        (
            "query($id: ID) { people(organisationId: $id) { edges { node { email } } } }",
            json!({ "id": a_company }),
        ),
        (
            "query($id: ID) { organisations(under: $id) { edges { node { name } } } }",
            json!({ "id": a_company }),
        ),
        (
            "mutation($id: ID!) { renameOrganisation(id: $id, name: \"pwned\") { name } }",
            json!({ "id": a_company }),
        ),
        (
            "mutation($id: ID!) { archiveOrganisation(id: $id) { name } }",
            json!({ "id": a_company }),
        ),
        (
            "mutation($id: ID!, $p: ID!) { moveOrganisation(id: $id, newParentId: $p) { name } }",
            json!({ "id": a_company, "p": b.root_id }),
        ),
        (
            "mutation($id: ID!, $p: ID!) { moveOrganisation(id: $id, newParentId: $p) { name } }",
            json!({ "id": fixtures::company(&app, &b, "B Corp").await, "p": a_company }),
        ),
        (
            "mutation($i: CreateOrganisationInput!) { createOrganisation(input: $i) { id } }",
            json!({ "i": { "parentId": a_company, "kind": "TEAM", "name": "x" } }),
        ),
        (
            "mutation($i: InvitePersonInput!) { invitePerson(input: $i) { id } }",
            json!({ "i": { "email": "x@x.test", "givenName": "x", "familyName": "x", "organisationId": a_company } }),
        ),
        (
            "mutation($p: ID!, $o: ID!) { grantRole(personId: $p, organisationId: $o, role: ORG_ADMIN) }",
            json!({ "p": a_person, "o": b.root_id }),
        ),
        (
            "mutation($g: ID!) { revokeRole(grantId: $g) }",
            json!({ "g": a_grant }),
        ),
    ];
    for (q, vars) in &queries {
        let v = app
            .gql(Some(&b.slug), Some(&b.admin_token), q, vars.clone())
            .await;
        assert_eq!(
            code(&v),
            "NOT_FOUND",
            "a foreign id reads as unknown: {q}: {v}"
        );
        assert!(
            v["data"].is_null()
                || v["data"]
                    .as_object()
                    .is_some_and(|d| d.values().all(Value::is_null)),
            "{q}: {v}"
        );
    }
    // The session mutations, with A's secrets presented in B.
    let v = app
        .gql(
            Some(&b.slug),
            None,
            "mutation($t: String!) { refreshSession(refreshToken: $t) { accessToken } }",
            json!({ "t": a_refresh }),
        )
        .await;
    assert_eq!(code(&v), "UNAUTHENTICATED", "{v}");
    let v = app
        .gql(
            Some(&b.slug),
            Some(&b.admin_token),
            "mutation($t: String!) { signOut(refreshToken: $t) }",
            json!({ "t": a_refresh }),
        )
        .await;
    assert_eq!(ok(&v)["signOut"], false, "B cannot end A's session");
    let a_invitation = fixtures::invitation_token(&app, &a.slug, "theo@a.test").await;
    let v = app
        .gql(
            Some(&b.slug),
            None,
            "mutation($i: AcceptInvitationInput!) { acceptInvitation(input: $i) { accessToken } }",
            json!({ "i": { "token": a_invitation, "password": fixtures::PASSWORD } }),
        )
        .await;
    assert_eq!(
        code(&v),
        "BAD_USER_INPUT",
        "A's invitation is unknown in B: {v}"
    );
    let v = app
        .gql(
            Some(&b.slug),
            None,
            "mutation($i: SignInInput!) { signIn(input: $i) { accessToken } }",
            json!({ "i": { "email": a.admin_email, "password": fixtures::PASSWORD } }),
        )
        .await;
    assert_eq!(code(&v), "UNAUTHENTICATED");
    // Platform queries and mutations refuse a person's token, wherever it is presented.
    for (q, vars) in [
        ("{ tenants { edges { node { slug } } } }", json!({})),
        (
            "query($id: ID!) { tenant(id: $id) { slug } }",
            json!({ "id": a.id }),
        ),
        (
            "mutation($id: ID!) { suspendTenant(id: $id) { slug } }",
            json!({ "id": a.id }),
        ),
        (
            "mutation($id: ID!) { reactivateTenant(id: $id) { slug } }",
            json!({ "id": a.id }),
        ),
        (
            "mutation($id: ID!) { updateTenant(id: $id, input: { displayName: \"pwned\" }) { slug } }",
            json!({ "id": a.id }),
        ),
    ] {
        let v = app.gql(Some(&b.slug), Some(&b.admin_token), q, vars).await;
        assert_eq!(code(&v), "FORBIDDEN", "{q}: {v}");
    }
    let rows_after = app.dump_tenant(&a.id).await;
    for t in [
        "organisations",
        "people",
        "role_grants",
        "invitations",
        "refresh_tokens",
        "outbox",
        "tenant_domains",
    ] {
        assert!(
            !rows_before[t].is_empty(),
            "A has rows in {t}: {rows_before:?}"
        );
    }
    assert_eq!(rows_before, rows_after, "no row of A changed");
    let after = snapshot(&app, &a.slug, &a.admin_token).await;
    assert_eq!(before, after, "nothing of A changed");
    let v = app
        .gql(
            Some(&a.slug),
            None,
            "mutation($t: String!) { refreshSession(refreshToken: $t) { accessToken } }",
            json!({ "t": a_refresh }),
        )
        .await;
    assert!(
        ok(&v)["refreshSession"]["accessToken"].is_string(),
        "A's session survived B's attempts"
    );
    app.stop().await;
}

#[tokio::test]
async fn walls_hold_on_sqlite() {
    walls(Backend::Sqlite).await;
}

#[tokio::test]
async fn walls_hold_on_postgres() {
    walls(Backend::Postgres).await;
}
