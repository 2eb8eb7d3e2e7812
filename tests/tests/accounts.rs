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

mod at_rest;
mod people;

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
