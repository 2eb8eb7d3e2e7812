//! Accounts end to end, as a person meets them: the emailed link opens a branded page on the
//! space's own host, the form sets a password, and sign-in works; the same for a forgotten
//! password. Expired, used, replaced and foreign links; switching people off and on; a space's
//! own branding; and no token left readable in the database or the logs.

use std::time::Duration;

use serde_json::{Value, json};
use spaces_tenants::outbox::MessageKind;
use spaces_tests::app::{code, ok};
use spaces_tests::fixtures::{self, Campus, PASSWORD};
use spaces_tests::{Backend, TestApp};

const NEW_PASSWORD: &str = "a brand new passphrase 2026";
const VIEWER: &str = "{ viewer { id email } }";
const INVITE: &str = "mutation($i: InvitePersonInput!) { invitePerson(input: $i) { id status } }";
const REQUEST_RESET: &str = "mutation($e: String!) { requestPasswordReset(email: $e) }";
const RESET: &str = "mutation($i: ResetPasswordInput!) { resetPassword(input: $i) }";
const RESEND: &str = "mutation($id: ID!) { resendInvitation(personId: $id) { id status } }";
const DISABLE: &str = "mutation($id: ID!) { disablePerson(id: $id) { id status } }";
const ENABLE: &str = "mutation($id: ID!) { enablePerson(id: $id) { id status } }";
const REFRESH: &str = "mutation($r: String!) { refreshSession(refreshToken: $r) { accessToken } }";
const BRANDING: &str = "mutation($i: SpaceBrandingInput!) { updateSpaceBranding(input: $i) { displayName locale branding { primaryColour supportEmail logoUrl } } }";

/// A server whose outbox is delivered when the test says so (`deliver`), not on a timer.
async fn start(backend: Backend) -> TestApp {
    TestApp::start_with(backend, |c| {
        c.outbox_interval = Duration::from_secs(3600);
    })
    .await
}

async fn deliver(app: &TestApp) {
    spaces_gateway::mailer::drain(&app.state).await.unwrap();
}

/// The newest link of `kind` sent to `email`, taken from the delivered message (its `.eml`).
async fn delivered_link(app: &TestApp, c: &Campus, email: &str, kind: MessageKind) -> String {
    deliver(app).await;
    fixtures::newest_link(app, &c.slug, email, kind).await
}

struct PageAnswer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: String,
}

/// (host, path and query) of a link such as `http://host:8080/accept-invitation?token=..`.
fn split_link(link: &str) -> (String, String) {
    let rest = link.split_once("://").unwrap().1;
    let (authority, path) = rest.split_at(rest.find('/').unwrap());
    let host = authority.split(':').next().unwrap().to_owned();
    (host, path.to_owned())
}

/// Opens a link as a browser would: the request goes to the test server, addressed by the
/// link's host.
async fn open(app: &TestApp, link: &str) -> PageAnswer {
    let (host, path) = split_link(link);
    let r = app
        .client
        .get(format!("{}{path}", app.base))
        .header("Host", host)
        .send()
        .await
        .unwrap();
    answer(r).await
}

async fn submit(app: &TestApp, host: &str, path: &str, form: &[(&str, &str)]) -> PageAnswer {
    let r = app
        .client
        .post(format!("{}{path}", app.base))
        .header("Host", host)
        .form(form)
        .send()
        .await
        .unwrap();
    answer(r).await
}

async fn answer(r: reqwest::Response) -> PageAnswer {
    PageAnswer {
        status: r.status().as_u16(),
        headers: r.headers().clone(),
        body: r.text().await.unwrap(),
    }
}

/// Chooses a password on the page a link opens (invitation or reset).
async fn choose_password(app: &TestApp, link: &str, password: &str) -> PageAnswer {
    let (host, path) = split_link(link);
    let path_only = path.split('?').next().unwrap();
    let token = fixtures::token_of_link(link);
    submit(
        app,
        &host,
        path_only,
        &[
            ("token", &token),
            ("password", password),
            ("confirm", password),
        ],
    )
    .await
}

fn assert_private(p: &PageAnswer) {
    assert_eq!(p.headers["referrer-policy"], "no-referrer");
    assert_eq!(p.headers["cache-control"], "no-store");
    assert!(
        p.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(!p.body.contains("<script"), "no script: {}", p.body);
    assert!(
        !p.body.contains("https://cdn") || p.body.contains("cdn.example.org/logo.svg"),
        "nothing from a CDN but the space's own logo"
    );
}

async fn invite(app: &TestApp, c: &Campus, token: &str, org: &str, email: &str) -> Value {
    app.gql(
        Some(&c.slug),
        Some(token),
        INVITE,
        json!({ "i": { "email": email, "givenName": "Léa", "familyName": "Durand", "organisationId": org, "role": "LEARNER" } }),
    )
    .await
}

async fn journeys(backend: Backend) {
    let app = start(backend).await;
    let op = fixtures::operator(&app).await;
    let c = fixtures::campus(&app, &op).await;
    let company = fixtures::company(&app, &c, "Durand").await;
    let email = "lea@durand.test";
    let lea = ok(&invite(&app, &c, &c.admin_token, &company, email).await)["invitePerson"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // The invitation: its link opens the page on the space's custom domain.
    let link = delivered_link(&app, &c, email, MessageKind::Invitation).await;
    let host = format!("{}.example.org", c.slug);
    assert!(
        link.starts_with(&format!("http://{host}:8080/accept-invitation?token=")),
        "{link}"
    );
    let files: Vec<_> = std::fs::read_dir(app.data_dir.join("outbox"))
        .unwrap()
        .map(|e| e.unwrap())
        .collect();
    assert!(!files.is_empty(), "without SMTP, messages are .eml files");
    for f in &files {
        assert!(f.file_name().to_string_lossy().ends_with(".eml"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(f.metadata().unwrap().permissions().mode() & 0o777, 0o600);
        }
    }
    #[cfg(unix)]
    if backend == Backend::Sqlite {
        use std::os::unix::fs::PermissionsExt;
        let key = std::fs::metadata(app.data_dir.join("outbox.key")).unwrap();
        assert_eq!(
            key.permissions().mode() & 0o777,
            0o600,
            "the generated outbox key"
        );
    }
    let page = open(&app, &link).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_private(&page);
    assert!(page.body.contains(&format!("Campus {}", c.slug)), "branded");
    assert!(page.body.contains("#00609c"), "the space's colour");
    assert!(page.body.contains("lang=\"en\""));
    assert!(page.body.contains("<form method=\"post\""));
    assert!(page.body.contains("help@example.org"), "support contact");

    // Two different passwords: the form again, nothing used.
    let (h, path) = split_link(&link);
    let token = fixtures::token_of_link(&link);
    let differ = submit(
        &app,
        &h,
        path.split('?').next().unwrap(),
        &[
            ("token", &token),
            ("password", PASSWORD),
            ("confirm", "something else entirely"),
        ],
    )
    .await;
    assert_eq!(differ.status, 400);
    assert!(differ.body.contains("differ"), "{}", differ.body);
    assert!(differ.body.contains("<form"));

    let done = choose_password(&app, &link, PASSWORD).await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert_private(&done);
    assert!(done.body.contains("sign in"), "{}", done.body);
    let s = fixtures::sign_in(&app, &c.slug, email, PASSWORD).await;
    let access = ok(&s)["signIn"]["accessToken"].as_str().unwrap().to_owned();
    let refresh = ok(&s)["signIn"]["refreshToken"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        ok(&app
            .gql(Some(&c.slug), Some(&access), VIEWER, json!({}))
            .await)["viewer"]["id"],
        lea.as_str()
    );
    // Used: its own message, on GET and on POST.
    let again = open(&app, &link).await;
    assert_eq!(again.status, 400);
    assert!(again.body.contains("already been used"), "{}", again.body);
    let again = choose_password(&app, &link, NEW_PASSWORD).await;
    assert!(again.body.contains("already been used"), "{}", again.body);

    // A forgotten password: the same answer whether the account exists or not.
    let known = app
        .gql(Some(&c.slug), None, REQUEST_RESET, json!({ "e": email }))
        .await;
    let unknown = app
        .gql(
            Some(&c.slug),
            None,
            REQUEST_RESET,
            json!({ "e": "nobody@durand.test" }),
        )
        .await;
    assert_eq!(ok(&known), ok(&unknown));
    assert_eq!(known["data"], json!({ "requestPasswordReset": true }));
    let reset = delivered_link(&app, &c, email, MessageKind::PasswordReset).await;
    assert!(
        reset.starts_with(&format!("http://{host}:8080/reset-password?token=")),
        "{reset}"
    );
    // Each page takes only its own kind of token.
    let wrong = open(
        &app,
        &reset.replace("/reset-password?", "/accept-invitation?"),
    )
    .await;
    assert_eq!(wrong.status, 400);
    assert!(wrong.body.contains("not valid here"), "{}", wrong.body);
    let wrong = open(
        &app,
        &link.replace("/accept-invitation?", "/reset-password?"),
    )
    .await;
    assert!(wrong.body.contains("not valid here"), "{}", wrong.body);

    let page = open(&app, &reset).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_private(&page);
    let done = choose_password(&app, &reset, NEW_PASSWORD).await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(done.body.contains("Password changed"), "{}", done.body);
    // Every session ended, every access token stopped; the new password works, the old not.
    let v = app
        .gql(Some(&c.slug), Some(&access), VIEWER, json!({}))
        .await;
    assert_eq!(code(&v), "UNAUTHENTICATED", "{v}");
    let v = app
        .gql(Some(&c.slug), None, REFRESH, json!({ "r": refresh }))
        .await;
    assert_eq!(code(&v), "UNAUTHENTICATED", "{v}");
    let v = fixtures::sign_in(&app, &c.slug, email, PASSWORD).await;
    assert_eq!(code(&v), "UNAUTHENTICATED", "{v}");
    ok(&fixtures::sign_in(&app, &c.slug, email, NEW_PASSWORD).await);
    // Single use.
    let again = open(&app, &reset).await;
    assert!(again.body.contains("already been used"), "{}", again.body);
    let v = app
        .gql(
            Some(&c.slug),
            None,
            RESET,
            json!({ "i": { "token": fixtures::token_of_link(&reset), "password": PASSWORD } }),
        )
        .await;
    assert_eq!(code(&v), "BAD_USER_INPUT", "{v}");

    // The same through the API, and through the page that asks for a link.
    let forgot = app
        .client
        .get(format!("{}/forgot-password", app.base))
        .header("Host", &host)
        .send()
        .await
        .unwrap();
    assert_eq!(forgot.status(), 200);
    let asked = submit(&app, &host, "/forgot-password", &[("email", email)]).await;
    assert_eq!(asked.status, 200, "{}", asked.body);
    assert!(asked.body.contains("Check your email"), "{}", asked.body);
    let reset2 = delivered_link(&app, &c, email, MessageKind::PasswordReset).await;
    assert_ne!(reset2, reset);
    let v = app
        .gql(
            Some(&c.slug),
            None,
            RESET,
            json!({ "i": { "token": fixtures::token_of_link(&reset2), "password": PASSWORD } }),
        )
        .await;
    assert_eq!(ok(&v)["resetPassword"], true);
    ok(&fixtures::sign_in(&app, &c.slug, email, PASSWORD).await);
    app.stop().await;
}

#[tokio::test]
async fn invitation_and_reset_journeys_through_the_pages_on_sqlite() {
    journeys(Backend::Sqlite).await;
}

#[tokio::test]
async fn invitation_and_reset_journeys_through_the_pages_on_postgres() {
    journeys(Backend::Postgres).await;
}

/// Moves every invitation of a person into the past, below the application.
async fn expire_invitations(app: &TestApp, person: &str) {
    match app.backend {
        Backend::Postgres => {
            app.owner_sql(&format!(
                "UPDATE invitations SET expires_at = now() - interval '1 day' WHERE person_id = '{person}'"
            ))
            .await;
        }
        Backend::Sqlite => {
            use sea_orm::{ConnectionTrait, DbBackend, Statement};
            let past = chrono::Utc::now() - chrono::Duration::days(1);
            let id = uuid::Uuid::parse_str(person).unwrap();
            app.state
                .deps
                .db
                .connection()
                .execute_raw(Statement::from_sql_and_values(
                    DbBackend::Sqlite,
                    "UPDATE invitations SET expires_at = ? WHERE person_id = ?",
                    [past.into(), id.into()],
                ))
                .await
                .unwrap();
        }
    }
}

async fn expiry_and_resend(backend: Backend) {
    let app = start(backend).await;
    let op = fixtures::operator(&app).await;
    let c = fixtures::campus(&app, &op).await;
    let company = fixtures::company(&app, &c, "Durand").await;
    let email = "hugo@durand.test";
    let hugo = ok(&invite(&app, &c, &c.admin_token, &company, email).await)["invitePerson"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let first = delivered_link(&app, &c, email, MessageKind::Invitation).await;

    // Resent: the new link works, the old one is dead (and says no more than an unknown one).
    let v = app
        .gql(
            Some(&c.slug),
            Some(&c.admin_token),
            RESEND,
            json!({ "id": hugo }),
        )
        .await;
    assert_eq!(ok(&v)["resendInvitation"]["status"], "INVITED");
    let second = delivered_link(&app, &c, email, MessageKind::Invitation).await;
    assert_ne!(first, second);
    let old = open(&app, &first).await;
    assert_eq!(old.status, 400);
    assert!(old.body.contains("not valid here"), "{}", old.body);
    assert_eq!(open(&app, &second).await.status, 200);

    // Expired: its own message, and the API refuses it too.
    expire_invitations(&app, &hugo).await;
    let expired = open(&app, &second).await;
    assert_eq!(expired.status, 400);
    assert!(expired.body.contains("expired"), "{}", expired.body);
    let expired = choose_password(&app, &second, PASSWORD).await;
    assert!(expired.body.contains("expired"), "{}", expired.body);
    let v = app
        .gql(
            Some(&c.slug),
            None,
            "mutation($i: AcceptInvitationInput!) { acceptInvitation(input: $i) { accessToken } }",
            json!({ "i": { "token": fixtures::token_of_link(&second), "password": PASSWORD } }),
        )
        .await;
    assert_eq!(code(&v), "BAD_USER_INPUT", "{v}");

    // HR of another company cannot take them over by inviting the email: CONFLICT, as before.
    let leroy = fixtures::company(&app, &c, "Leroy").await;
    let (_, leroy_hr) = fixtures::member(
        &app,
        &c,
        &c.admin_token,
        &leroy,
        "hr@leroy.test",
        "ORG_ADMIN",
    )
    .await;
    let v = invite(&app, &c, &leroy_hr, &leroy, email).await;
    assert_eq!(code(&v), "CONFLICT", "{v}");
    // Inviting the email again re-invites the same person instead of answering CONFLICT.
    let v = invite(&app, &c, &c.admin_token, &company, email).await;
    assert_eq!(ok(&v)["invitePerson"]["id"], hugo.as_str());
    let third = delivered_link(&app, &c, email, MessageKind::Invitation).await;
    let done = choose_password(&app, &third, PASSWORD).await;
    assert_eq!(done.status, 200, "{}", done.body);
    ok(&fixtures::sign_in(&app, &c.slug, email, PASSWORD).await);
    // An account that exists and works is still a conflict, and has nothing to resend.
    let v = invite(&app, &c, &c.admin_token, &company, email).await;
    assert_eq!(code(&v), "CONFLICT", "{v}");
    let v = app
        .gql(
            Some(&c.slug),
            Some(&c.admin_token),
            RESEND,
            json!({ "id": hugo }),
        )
        .await;
    assert_eq!(code(&v), "CONFLICT", "{v}");

    // The space speaks French once its admin says so: pages and messages.
    let v = app
        .gql(
            Some(&c.slug),
            Some(&c.admin_token),
            BRANDING,
            json!({ "i": { "locale": "FR" } }),
        )
        .await;
    assert_eq!(ok(&v)["updateSpaceBranding"]["locale"], "FR");
    ok(&invite(&app, &c, &c.admin_token, &company, "ines@durand.test").await);
    deliver(&app).await;
    let eml = newest_eml(&app);
    assert!(
        eml.contains("Subject: =?utf-8?") || eml.contains("Subject: Votre invitation"),
        "{eml}"
    );
    assert!(
        fixtures::decode_body(&eml).contains("Bonjour"),
        "{}",
        fixtures::decode_body(&eml)
    );
    let link =
        fixtures::newest_link(&app, &c.slug, "ines@durand.test", MessageKind::Invitation).await;
    let page = open(&app, &link).await;
    assert!(page.body.contains("lang=\"fr\""), "{}", page.body);
    assert!(page.body.contains("Bienvenue"), "{}", page.body);
    app.stop().await;
}

/// The newest message written into the outbox directory.
fn newest_eml(app: &TestApp) -> String {
    let mut files: Vec<_> = std::fs::read_dir(app.data_dir.join("outbox"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    // Named <tenant id>-<message id>.eml; message ids grow with time.
    files.sort_by_key(|p| p.file_name().unwrap().to_string_lossy()[37..].to_owned());
    std::fs::read_to_string(files.last().unwrap()).unwrap()
}

#[tokio::test]
async fn expired_resent_and_reinvited_invitations_on_sqlite() {
    expiry_and_resend(Backend::Sqlite).await;
}

#[tokio::test]
async fn expired_resent_and_reinvited_invitations_on_postgres() {
    expiry_and_resend(Backend::Postgres).await;
}

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

    let v = app
        .gql(Some(&c.slug), Some(&hr), ENABLE, json!({ "id": nora }))
        .await;
    assert_eq!(ok(&v)["enablePerson"]["status"], "ACTIVE");
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

/// Every row of every table, each value as text.
async fn every_row(app: &TestApp) -> String {
    use sea_orm::{ConnectionTrait, Database, DbBackend, FromQueryResult, Statement};
    let mut out = String::new();
    match app.backend {
        Backend::Sqlite => {
            let conn = Database::connect(format!(
                "sqlite://{}?mode=ro",
                app.data_dir.join("spaces.db").display()
            ))
            .await
            .unwrap();
            let tables = conn
                .query_all_raw(Statement::from_string(
                    DbBackend::Sqlite,
                    "SELECT name FROM sqlite_master WHERE type = 'table'",
                ))
                .await
                .unwrap();
            for t in tables {
                let name: String = t.try_get("", "name").unwrap();
                let rows = Value::find_by_statement(Statement::from_string(
                    DbBackend::Sqlite,
                    format!("SELECT * FROM \"{name}\""),
                ))
                .all(&conn)
                .await
                .unwrap();
                for r in rows {
                    out.push_str(&r.to_string());
                    out.push('\n');
                }
            }
            conn.close().await.unwrap();
        }
        Backend::Postgres => {
            let tables = app
                .owner_sql("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
                .await;
            for t in tables.lines().map(str::trim).filter(|t| !t.is_empty()) {
                out.push_str(
                    &app.owner_sql(&format!("SELECT row_to_json(x)::text FROM \"{t}\" x"))
                        .await,
                );
                out.push('\n');
            }
        }
    }
    out
}

async fn tokens_at_rest(backend: Backend) {
    let logs = spaces_tests::logs::Capture::start();
    let app = start(backend).await;
    let op = fixtures::operator(&app).await;
    let c = fixtures::campus(&app, &op).await;
    let mut tokens = vec![fixtures::invitation_token(&app, &c.slug, &c.admin_email).await];
    let company = fixtures::company(&app, &c, "Durand").await;
    let email = "lea@durand.test";
    ok(&invite(&app, &c, &c.admin_token, &company, email).await);
    let link = delivered_link(&app, &c, email, MessageKind::Invitation).await;
    tokens.push(fixtures::token_of_link(&link));
    assert_eq!(open(&app, &link).await.status, 200);
    assert_eq!(choose_password(&app, &link, PASSWORD).await.status, 200);
    ok(&app
        .gql(Some(&c.slug), None, REQUEST_RESET, json!({ "e": email }))
        .await);
    let reset = delivered_link(&app, &c, email, MessageKind::PasswordReset).await;
    tokens.push(fixtures::token_of_link(&reset));
    assert_eq!(open(&app, &reset).await.status, 200);
    assert_eq!(
        choose_password(&app, &reset, NEW_PASSWORD).await.status,
        200
    );
    ok(&app
        .gql(Some(&c.slug), None, REQUEST_RESET, json!({ "e": email }))
        .await);
    let reset = delivered_link(&app, &c, email, MessageKind::PasswordReset).await;
    tokens.push(fixtures::token_of_link(&reset));
    ok(&app
        .gql(
            Some(&c.slug),
            None,
            RESET,
            json!({ "i": { "token": fixtures::token_of_link(&reset), "password": PASSWORD } }),
        )
        .await);
    ok(&fixtures::sign_in(&app, &c.slug, email, PASSWORD).await);
    deliver(&app).await;

    let rows = every_row(&app).await;
    assert!(rows.contains(email), "the scan reads the tables");
    let logged = logs.text();
    assert!(
        logged.contains("mail written to the outbox directory")
            && logged.contains("\"level\":\"TRACE\""),
        "the capture holds the server's logs at every level: {} bytes, {}",
        logged.len(),
        &logged[..logged.len().min(3000)]
    );
    for t in &tokens {
        assert_eq!(t.len(), 43);
        let encoded: String = t
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect();
        let every_byte: String = t.bytes().map(|b| format!("%{b:02X}")).collect();
        for form in [t.as_str(), encoded.as_str(), every_byte.as_str()] {
            assert!(!rows.contains(form), "a token is readable in the database");
            assert!(!logged.contains(form), "a token is in the logs");
        }
    }
    app.stop().await;
}

#[tokio::test]
async fn no_token_is_readable_in_the_database_or_the_logs_on_sqlite() {
    tokens_at_rest(Backend::Sqlite).await;
}

#[tokio::test]
async fn no_token_is_readable_in_the_database_or_the_logs_on_postgres() {
    tokens_at_rest(Backend::Postgres).await;
}

/// On PostgreSQL several gateways read each other's messages: without a shared key the server
/// refuses to start, saying which setting is missing.
#[tokio::test]
async fn postgres_refuses_to_start_without_an_outbox_key() {
    let s = spaces_tests::app::shared().await;
    let db = format!("t_{}", uuid::Uuid::now_v7().simple());
    let (s2, db2) = (s.clone(), db.clone());
    tokio::task::spawn_blocking(move || {
        s2.pg
            .create_database(&db2, Some(spaces_tests::app::TEMPLATE_DB), None)
            .unwrap()
    })
    .await
    .unwrap();
    let mut config = spaces_gateway::Config::from_lookup(&|_| None).unwrap();
    config.database_url = s.pg.url(
        spaces_tests::app::SERVER_ROLE,
        Some(spaces_tests::app::SERVER_PASSWORD),
        &db,
    );
    config.data_dir = std::env::temp_dir().join(format!("spaces-nokey-{}", uuid::Uuid::now_v7()));
    let err = match spaces_gateway::App::build(config).await {
        Ok(_) => panic!("the server started on PostgreSQL without SPACES_OUTBOX_KEY"),
        Err(e) => format!("{e:#}"),
    };
    assert!(err.contains("SPACES_OUTBOX_KEY is required"), "{err}");
}
