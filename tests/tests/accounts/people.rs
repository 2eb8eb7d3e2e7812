//! People switched off and on, a space's own branding, and every new operation and page tried
//! from another space.

use serde_json::json;
use spaces_tenants::outbox::MessageKind;
use spaces_tests::app::{code, ok};
use spaces_tests::fixtures::{self, Campus, PASSWORD};
use spaces_tests::{Backend, TestApp};

use super::{
    BRANDING, DISABLE, ENABLE, REFRESH, REQUEST_RESET, RESEND, RESET, VIEWER, choose_password,
    delivered_link, invite, open, split_link, start,
};

const ENROL: &str = "mutation($i: EnrolInput!) { enrol(input: $i) { status } }";

async fn offboarding(backend: Backend) {
    let app = start(backend).await;
    let op = fixtures::operator(&app).await;
    let c = fixtures::campus(&app, &op).await;
    let durand = fixtures::company(&app, &c, "Durand").await;
    let leroy = fixtures::company(&app, &c, "Leroy").await;
    let (hr_id, hr) = fixtures::member(
        &app,
        &c,
        &c.admin_token,
        &durand,
        "hr@durand.test",
        "ORG_ADMIN",
    )
    .await;
    let (_, other_hr) = fixtures::member(
        &app,
        &c,
        &c.admin_token,
        &leroy,
        "hr@leroy.test",
        "ORG_ADMIN",
    )
    .await;
    let (nora, _) = fixtures::member(&app, &c, &hr, &durand, "nora@durand.test", "LEARNER").await;
    let s = fixtures::sign_in(&app, &c.slug, "nora@durand.test", PASSWORD).await;
    let access = ok(&s)["signIn"]["accessToken"].as_str().unwrap().to_owned();
    let refresh = ok(&s)["signIn"]["refreshToken"]
        .as_str()
        .unwrap()
        .to_owned();

    // Outside the caller's reach: nothing found, nothing changed; a learner may not either.
    let v = app
        .gql(
            Some(&c.slug),
            Some(&other_hr),
            DISABLE,
            json!({ "id": nora }),
        )
        .await;
    assert_eq!(code(&v), "NOT_FOUND", "{v}");
    let v = app
        .gql(Some(&c.slug), Some(&access), DISABLE, json!({ "id": nora }))
        .await;
    assert_eq!(code(&v), "FORBIDDEN", "{v}");
    let v = app
        .gql(Some(&c.slug), Some(&hr), DISABLE, json!({ "id": hr_id }))
        .await;
    assert_eq!(
        code(&v),
        "BAD_USER_INPUT",
        "nobody disables themselves: {v}"
    );
    ok(&app
        .gql(Some(&c.slug), Some(&access), VIEWER, json!({}))
        .await);

    let v = app
        .gql(Some(&c.slug), Some(&hr), DISABLE, json!({ "id": nora }))
        .await;
    assert_eq!(ok(&v)["disablePerson"]["status"], "DISABLED");
    // Every request of hers fails at once: her access token, her refresh token, sign-in, and
    // a reset request sends nothing.
    let v = app
        .gql(Some(&c.slug), Some(&access), VIEWER, json!({}))
        .await;
    assert_eq!(code(&v), "UNAUTHENTICATED", "{v}");
    let v = app
        .gql(Some(&c.slug), None, REFRESH, json!({ "r": refresh }))
        .await;
    assert_eq!(code(&v), "UNAUTHENTICATED", "{v}");
    let v = fixtures::sign_in(&app, &c.slug, "nora@durand.test", PASSWORD).await;
    assert_eq!(code(&v), "UNAUTHENTICATED", "{v}");
    let before = outbox_len(&app, &c).await;
    ok(&app
        .gql(
            Some(&c.slug),
            None,
            REQUEST_RESET,
            json!({ "e": "nora@durand.test" }),
        )
        .await);
    assert_eq!(
        outbox_len(&app, &c).await,
        before,
        "no link for a disabled account"
    );
    // She is still there for HR, with her history.
    let v = app
        .gql(
            Some(&c.slug),
            Some(&hr),
            "{ people(first: 50) { edges { node { id status } } } }",
            json!({}),
        )
        .await;
    let people = ok(&v)["people"]["edges"].as_array().unwrap();
    assert!(
        people
            .iter()
            .any(|e| e["node"]["id"] == nora.as_str() && e["node"]["status"] == "DISABLED")
    );

    // HR cannot enrol a leaver: no place is taken for a disabled account.
    let course = fixtures::published_course(&app, &op, "HACCP basics").await;
    let edition = fixtures::open_edition(&app, &c, &course, "ASSIGNED_ONLY", None, &[]).await;
    let enrol = |token: String| {
        let app = &app;
        let slug = c.slug.clone();
        let input = json!({ "i": { "editionId": edition, "personId": nora } });
        async move { app.gql(Some(&slug), Some(&token), ENROL, input).await }
    };
    let v = enrol(hr.clone()).await;
    assert_eq!(code(&v), "PERSON_DISABLED", "{v}");

    let v = app
        .gql(Some(&c.slug), Some(&hr), ENABLE, json!({ "id": nora }))
        .await;
    assert_eq!(ok(&v)["enablePerson"]["status"], "ACTIVE");
    let v = enrol(hr.clone()).await;
    assert_eq!(
        ok(&v)["enrol"]["status"],
        "ACTIVE",
        "enabled again, enrolled: {v}"
    );
    let s = fixtures::sign_in(&app, &c.slug, "nora@durand.test", PASSWORD).await;
    let access = ok(&s)["signIn"]["accessToken"].as_str().unwrap().to_owned();
    ok(&app
        .gql(Some(&c.slug), Some(&access), VIEWER, json!({}))
        .await);

    // The last tenant admin stays.
    let admin = ok(&app
        .gql(Some(&c.slug), Some(&c.admin_token), VIEWER, json!({}))
        .await)["viewer"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let v = app
        .gql(Some(&c.slug), Some(&hr), DISABLE, json!({ "id": admin }))
        .await;
    assert!(
        ["FORBIDDEN", "NOT_FOUND"].contains(&code(&v).as_str()),
        "HR cannot switch off the space's admin: {v}"
    );
    app.stop().await;
}

async fn outbox_len(app: &TestApp, c: &Campus) -> usize {
    let db = &app.state.deps.db;
    let space = spaces_tenants::spaces::by_slug(db, &c.slug)
        .await
        .unwrap()
        .unwrap();
    let tx = spaces_tenants::TenantTx::begin(db, space.id).await.unwrap();
    let n = spaces_tenants::outbox::history(&tx).await.unwrap().len();
    tx.rollback().await.unwrap();
    n
}

#[tokio::test]
async fn disabled_people_are_shut_out_and_enabled_again_on_sqlite() {
    offboarding(Backend::Sqlite).await;
}

#[tokio::test]
async fn disabled_people_are_shut_out_and_enabled_again_on_postgres() {
    offboarding(Backend::Postgres).await;
}

async fn branding(backend: Backend) {
    let app = start(backend).await;
    let op = fixtures::operator(&app).await;
    let c = fixtures::campus(&app, &op).await;
    let company = fixtures::company(&app, &c, "Durand").await;
    let (_, hr) = fixtures::member(
        &app,
        &c,
        &c.admin_token,
        &company,
        "hr@durand.test",
        "ORG_ADMIN",
    )
    .await;
    const SPACE: &str =
        "{ space { displayName locale branding { primaryColour supportEmail logoUrl } } }";
    let before = ok(&app.gql(Some(&c.slug), None, SPACE, json!({})).await).clone();

    let v = app
        .gql(
            Some(&c.slug),
            Some(&hr),
            BRANDING,
            json!({ "i": { "displayName": "Taken over" } }),
        )
        .await;
    assert_eq!(code(&v), "FORBIDDEN", "{v}");
    let v = app
        .gql(
            Some(&c.slug),
            Some(&c.admin_token),
            BRANDING,
            json!({ "i": { "displayName": "Ocapiat", "branding": { "primaryColour": "red" } } }),
        )
        .await;
    assert_eq!(code(&v), "BAD_USER_INPUT", "{v}");
    assert_eq!(
        v["errors"][0]["extensions"]["field"],
        "branding.primaryColour"
    );
    assert_eq!(
        ok(&app.gql(Some(&c.slug), None, SPACE, json!({})).await),
        &before,
        "nothing changed"
    );

    let v = app
        .gql(
            Some(&c.slug),
            Some(&c.admin_token),
            BRANDING,
            json!({ "i": { "displayName": "Campus Ocapiat", "locale": "FR",
                "branding": { "primaryColour": "#112233", "supportEmail": "aide@ocapiat.test", "logoUrl": "" } } }),
        )
        .await;
    assert_eq!(
        ok(&v)["updateSpaceBranding"],
        json!({ "displayName": "Campus Ocapiat", "locale": "FR",
            "branding": { "primaryColour": "#112233", "supportEmail": "aide@ocapiat.test", "logoUrl": null } })
    );
    let after = app.gql(Some(&c.slug), None, SPACE, json!({})).await;
    assert_eq!(ok(&after)["space"]["displayName"], "Campus Ocapiat");
    assert_eq!(ok(&after)["space"]["locale"], "FR");
    // Domains stay with the operator.
    let v = app
        .gql(
            None,
            Some(&op),
            "{ tenants(first: 100) { edges { node { slug domains } } } }",
            json!({}),
        )
        .await;
    let mine = ok(&v)["tenants"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["node"]["slug"] == c.slug.as_str())
        .unwrap()
        .clone();
    assert_eq!(
        mine["node"]["domains"],
        json!([format!("{}.example.org", c.slug)])
    );
    // Operators set the locale too, on update (and on create).
    let v = app
        .gql(
            None,
            Some(&op),
            "mutation($id: ID!, $i: UpdateTenantInput!) { updateTenant(id: $id, input: $i) { locale } }",
            json!({ "id": c.id, "i": { "locale": "EN" } }),
        )
        .await;
    assert_eq!(ok(&v)["updateTenant"]["locale"], "EN");
    let slug = fixtures::unique("fr-");
    let v = app
        .gql(
            None,
            Some(&op),
            "mutation($i: CreateTenantInput!) { createTenant(input: $i) { locale } }",
            json!({ "i": { "slug": slug, "displayName": "Campus FR", "locale": "FR",
                "firstAdmin": { "email": "admin@fr.test", "givenName": "A", "familyName": "B" } } }),
        )
        .await;
    assert_eq!(ok(&v)["createTenant"]["locale"], "FR");
    app.stop().await;
}

#[tokio::test]
async fn tenant_admins_edit_their_own_branding_on_sqlite() {
    branding(Backend::Sqlite).await;
}

#[tokio::test]
async fn tenant_admins_edit_their_own_branding_on_postgres() {
    branding(Backend::Postgres).await;
}

async fn cross_tenant(backend: Backend) {
    let app = start(backend).await;
    let op = fixtures::operator(&app).await;
    let a = fixtures::campus(&app, &op).await;
    let b = fixtures::campus(&app, &op).await;
    let a_company = fixtures::company(&app, &a, "Durand").await;
    let (a_person, _) = fixtures::member(
        &app,
        &a,
        &a.admin_token,
        &a_company,
        "theo@a.test",
        "LEARNER",
    )
    .await;
    let pending = ok(&invite(&app, &a, &a.admin_token, &a_company, "jade@a.test").await)
        ["invitePerson"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let invitation = delivered_link(&app, &a, "jade@a.test", MessageKind::Invitation).await;
    ok(&app
        .gql(
            Some(&a.slug),
            None,
            REQUEST_RESET,
            json!({ "e": "theo@a.test" }),
        )
        .await);
    let reset = delivered_link(&app, &a, "theo@a.test", MessageKind::PasswordReset).await;
    let before = app.dump_tenant(&a.id).await;

    // A's links on B's host find nothing, exactly like a token nobody issued.
    let b_host = format!("{}.example.org", b.slug);
    let (a_host, _) = split_link(&invitation);
    for link in [&invitation, &reset] {
        let on_b = link.replace(&a_host, &b_host);
        let page = open(&app, &on_b).await;
        assert_eq!(page.status, 400);
        assert!(page.body.contains("not valid here"), "{}", page.body);
        let forged = open(&app, &format!("{}x", &on_b[..on_b.len() - 1])).await;
        assert_eq!(page.status, forged.status);
        assert_eq!(
            page.body.replace(&b.slug, ""),
            forged.body.replace(&b.slug, ""),
            "a foreign token and an unknown one get the same page"
        );
        let posted = choose_password(&app, &on_b, PASSWORD).await;
        assert!(posted.body.contains("not valid here"), "{}", posted.body);
    }
    let v = app
        .gql(
            Some(&b.slug),
            None,
            RESET,
            json!({ "i": { "token": fixtures::token_of_link(&reset), "password": PASSWORD } }),
        )
        .await;
    let unknown = app
        .gql(
            Some(&b.slug),
            None,
            RESET,
            json!({ "i": { "token": "nobody-issued-this-token-at-all-anywhere-xx", "password": PASSWORD } }),
        )
        .await;
    assert_eq!(code(&v), "BAD_USER_INPUT", "{v}");
    assert_eq!(v["errors"][0]["message"], unknown["errors"][0]["message"]);
    // Asking B for a reset of A's email sends nothing in A.
    ok(&app
        .gql(
            Some(&b.slug),
            None,
            REQUEST_RESET,
            json!({ "e": "theo@a.test" }),
        )
        .await);
    // B's admin cannot reach A's people by id.
    for (q, id) in [
        (DISABLE, &a_person),
        (ENABLE, &a_person),
        (RESEND, &pending),
    ] {
        let v = app
            .gql(Some(&b.slug), Some(&b.admin_token), q, json!({ "id": id }))
            .await;
        assert_eq!(code(&v), "NOT_FOUND", "{q}: {v}");
    }
    // B's branding changes B only.
    ok(&app
        .gql(
            Some(&b.slug),
            Some(&b.admin_token),
            BRANDING,
            json!({ "i": { "displayName": "B only" } }),
        )
        .await);
    // A's token cannot change A's branding through B's host.
    let v = app
        .gql(
            Some(&b.slug),
            Some(&a.admin_token),
            BRANDING,
            json!({ "i": { "displayName": "Hijacked" } }),
        )
        .await;
    assert_eq!(code(&v), "UNAUTHENTICATED", "{v}");
    assert_eq!(app.dump_tenant(&a.id).await, before, "A unchanged");
    let v = app
        .gql(Some(&a.slug), None, "{ space { displayName } }", json!({}))
        .await;
    assert_eq!(ok(&v)["space"]["displayName"], format!("Campus {}", a.slug));
    // And A's links still work on A's host.
    assert_eq!(open(&app, &invitation).await.status, 200);
    assert_eq!(open(&app, &reset).await.status, 200);
    app.stop().await;
}

#[tokio::test]
async fn links_and_people_of_another_space_find_nothing_on_sqlite() {
    cross_tenant(Backend::Sqlite).await;
}

#[tokio::test]
async fn links_and_people_of_another_space_find_nothing_on_postgres() {
    cross_tenant(Backend::Postgres).await;
}
