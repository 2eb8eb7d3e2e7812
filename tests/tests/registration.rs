//! Self-registration as a learner with no employer in the space meets it: the space's admin
//! opens it (to everyone, or to listed email domains), the learner registers, reads the
//! emailed link, chooses a password on the space's own page (or through
//! `confirmRegistration`), and signs in as a learner of the space's independent learners.
//! Refusals when it is off or the domain is not listed; the same answer and the same work for
//! an email that already has an account; single use, expiry by the clock, rate limits, racing
//! confirmations, and the walls between spaces.

use std::time::Duration;

use serde_json::{Value, json};
use spaces_tenants::outbox::{self, Message, MessageKind};
use spaces_tests::app::{code, ok};
use spaces_tests::fixtures::{self, Campus, unique};
use spaces_tests::{Backend, TestApp};

mod guards;

const SET: &str =
    "mutation($i: SelfRegistrationInput!) { setSelfRegistration(input: $i) { mode domains } }";
const READ: &str = "{ space { selfRegistration { mode domains } } }";
const REGISTER: &str = "mutation($i: RegisterInput!) { register(input: $i) }";
const CONFIRM: &str = "mutation($i: ConfirmRegistrationInput!) { confirmRegistration(input: $i) { accessToken person { id email status } } }";
const VIEWER: &str = "{ viewer { email status organisation { id name kind parentId } roles { role organisationId } } }";
const NEW_PASSWORD: &str = "my own passphrase 2026";

/// A server whose outbox is delivered when the test says so.
async fn start(backend: Backend) -> TestApp {
    TestApp::start_with(backend, |c| {
        c.outbox_interval = Duration::from_secs(3600);
    })
    .await
}

async fn set(app: &TestApp, c: &Campus, mode: &str, domains: &[&str]) -> Value {
    app.gql(
        Some(&c.slug),
        Some(&c.admin_token),
        SET,
        json!({ "i": { "mode": mode, "domains": domains } }),
    )
    .await
}

async fn register(app: &TestApp, slug: &str, email: &str) -> Value {
    app.gql(
        Some(slug),
        None,
        REGISTER,
        json!({ "i": { "email": email, "givenName": "Sam", "familyName": "Lebon" } }),
    )
    .await
}

async fn confirm(app: &TestApp, slug: &str, token: &str) -> Value {
    app.gql(
        Some(slug),
        None,
        CONFIRM,
        json!({ "i": { "token": token, "password": NEW_PASSWORD } }),
    )
    .await
}

/// Every message of the space to `email`, oldest first, as the outbox holds them.
async fn messages_to(app: &TestApp, slug: &str, email: &str) -> Vec<Message> {
    let db = &app.state.deps.db;
    let space = spaces_tenants::spaces::by_slug(db, slug)
        .await
        .unwrap()
        .unwrap();
    let tx = spaces_tenants::TenantTx::begin(db, space.id).await.unwrap();
    let msgs = outbox::history(&tx).await.unwrap();
    tx.rollback().await.unwrap();
    msgs.into_iter().filter(|m| m.recipient == email).collect()
}

/// The token of the newest confirmation link sent to `email`.
async fn confirmation_token(app: &TestApp, slug: &str, email: &str) -> String {
    fixtures::token_of_link(
        &fixtures::newest_link(app, slug, email, MessageKind::Registration).await,
    )
}

/// Rows of the space's `registrations` table for `email`, read below the application.
async fn registration_rows(app: &TestApp, c: &Campus, email: &str) -> usize {
    app.dump_tenant(&c.id).await["registrations"]
        .iter()
        .filter(|r| r["email"] == email)
        .count()
}

/// Opens self-registration in `c` and registers `email` (a row of each new table).
pub(crate) async fn pending_in(app: &TestApp, c: &Campus, email: &str) {
    ok(&set(app, c, "DOMAINS", &[email.rsplit_once('@').unwrap().1]).await);
    ok(&register(app, &c.slug, email).await);
}

struct PageAnswer {
    status: u16,
    body: String,
}

/// (host, path and query) of a link such as `http://host:8080/confirm-registration?token=..`.
fn split_link(link: &str) -> (String, String) {
    let rest = link.split_once("://").unwrap().1;
    let (authority, path) = rest.split_at(rest.find('/').unwrap());
    (
        authority.split(':').next().unwrap().to_owned(),
        path.to_owned(),
    )
}

/// Opens a link as a browser would, addressed by the link's host.
async fn open(app: &TestApp, link: &str) -> PageAnswer {
    let (host, path) = split_link(link);
    let r = app
        .client
        .get(format!("{}{path}", app.base))
        .header("Host", host)
        .send()
        .await
        .unwrap();
    PageAnswer {
        status: r.status().as_u16(),
        body: r.text().await.unwrap(),
    }
}

/// Chooses a password on the page the link opens.
async fn choose_password(app: &TestApp, link: &str, password: &str) -> PageAnswer {
    let (host, path) = split_link(link);
    let token = fixtures::token_of_link(link);
    let r = app
        .client
        .post(format!("{}{}", app.base, path.split('?').next().unwrap()))
        .header("Host", host)
        .form(&[
            ("token", token.as_str()),
            ("password", password),
            ("confirm", password),
        ])
        .send()
        .await
        .unwrap();
    PageAnswer {
        status: r.status().as_u16(),
        body: r.text().await.unwrap(),
    }
}

fn reason(v: &Value) -> String {
    v["errors"][0]["extensions"]["reason"]
        .as_str()
        .unwrap_or("")
        .to_owned()
}

async fn journey(backend: Backend) {
    let app = start(backend).await;
    let op = fixtures::operator(&app).await;
    let c = fixtures::campus(&app, &op).await;
    let seeker = format!("{}@jobs.test", unique("seeker"));

    // Off by default: refused before anything, nothing written, nothing sent.
    let v = app.gql(Some(&c.slug), None, READ, json!({})).await;
    assert_eq!(
        ok(&v)["space"]["selfRegistration"],
        json!({ "mode": "OFF", "domains": null })
    );
    let v = register(&app, &c.slug, &seeker).await;
    assert_eq!(code(&v), "REGISTRATION_CLOSED", "{v}");
    assert!(messages_to(&app, &c.slug, &seeker).await.is_empty());
    assert_eq!(registration_rows(&app, &c, &seeker).await, 0);

    // Only a tenant admin sets it; bad input names the field and changes nothing.
    let v = app
        .gql(Some(&c.slug), None, SET, json!({ "i": { "mode": "OPEN" } }))
        .await;
    assert_eq!(code(&v), "UNAUTHENTICATED");
    let company = fixtures::company(&app, &c, "Durand").await;
    let (_, learner_token) = fixtures::member(
        &app,
        &c,
        &c.admin_token,
        &company,
        &format!("{}@durand.test", unique("lea")),
        "LEARNER",
    )
    .await;
    let v = app
        .gql(
            Some(&c.slug),
            Some(&learner_token),
            SET,
            json!({ "i": { "mode": "OPEN" } }),
        )
        .await;
    assert_eq!(code(&v), "FORBIDDEN");
    for (mode, domains) in [
        ("DOMAINS", vec![]),
        ("DOMAINS", vec!["not a domain"]),
        ("OPEN", vec!["durand.test"]),
    ] {
        let v = set(&app, &c, mode, &domains).await;
        assert_eq!(code(&v), "BAD_USER_INPUT", "{mode} {domains:?}: {v}");
        assert_eq!(v["errors"][0]["extensions"]["field"], "domains");
    }
    let v = app.gql(Some(&c.slug), None, READ, json!({})).await;
    assert_eq!(ok(&v)["space"]["selfRegistration"]["mode"], "OFF");

    // Limited to a domain: another domain is refused, the listed one is taken.
    let v = set(&app, &c, "DOMAINS", &["Durand.TEST", "leroy.test"]).await;
    assert_eq!(
        ok(&v)["setSelfRegistration"],
        json!({ "mode": "DOMAINS", "domains": ["durand.test", "leroy.test"] })
    );
    let v = app
        .gql(Some(&c.slug), Some(&c.admin_token), READ, json!({}))
        .await;
    assert_eq!(
        ok(&v)["space"]["selfRegistration"]["domains"],
        json!(["durand.test", "leroy.test"])
    );
    let v = app.gql(Some(&c.slug), None, READ, json!({})).await;
    assert_eq!(
        ok(&v)["space"]["selfRegistration"],
        json!({ "mode": "DOMAINS", "domains": null }),
        "the mode is public, the domains are the admins'"
    );
    let v = register(&app, &c.slug, &seeker).await;
    assert_eq!(code(&v), "EMAIL_DOMAIN_NOT_ALLOWED", "{v}");
    assert!(messages_to(&app, &c.slug, &seeker).await.is_empty());
    let staff = format!("{}@durand.test", unique("sam"));
    assert_eq!(ok(&register(&app, &c.slug, &staff).await)["register"], true);

    // Open: a new address and a known one get the same answer and the same work; only the
    // message differs.
    ok(&set(&app, &c, "OPEN", &[]).await);
    let new_answer = register(&app, &c.slug, &seeker).await;
    let known_answer = register(&app, &c.slug, &c.admin_email).await;
    assert_eq!(new_answer, known_answer);
    assert_eq!(new_answer, json!({ "data": { "register": true } }));
    assert_eq!(registration_rows(&app, &c, &seeker).await, 1);
    assert_eq!(registration_rows(&app, &c, &c.admin_email).await, 1);
    let to_seeker = messages_to(&app, &c.slug, &seeker).await;
    assert_eq!(to_seeker.len(), 1);
    assert_eq!(to_seeker[0].kind, Some(MessageKind::Registration));
    let to_admin: Vec<_> = messages_to(&app, &c.slug, &c.admin_email)
        .await
        .into_iter()
        .filter(|m| m.kind != Some(MessageKind::Invitation))
        .collect();
    assert_eq!(to_admin.len(), 1);
    assert_eq!(to_admin[0].kind, Some(MessageKind::RegistrationKnown));
    let known = to_admin[0].payload.as_ref().unwrap();
    assert!(known.token.is_empty() && !known.link.contains("token"));
    assert!(known.link.ends_with("/forgot-password"), "{}", known.link);

    // The emailed link, as delivered, opens the space's page; the password chosen there
    // creates the account.
    spaces_gateway::mailer::drain(&app.state).await.unwrap();
    let link = fixtures::newest_link(&app, &c.slug, &seeker, MessageKind::Registration).await;
    assert!(
        link.contains(&format!("{}.example.org", c.slug)),
        "the space's own host: {link}"
    );
    assert!(link.contains("/confirm-registration?token="), "{link}");
    let text = std::fs::read_dir(app.data_dir.join("outbox"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .map(|t| fixtures::decode_body(&t))
        .find(|t| t.contains("already has an account"))
        .expect("the known address was told so");
    assert!(text.contains("/forgot-password"), "{text}");
    let page = open(&app, &link).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains("Confirm your registration"),
        "{}",
        page.body
    );
    let secret = fixtures::token_of_link(&link);
    assert!(
        !format!("{:?}", app.dump_tenant(&c.id).await).contains(&secret),
        "the token is kept only as a digest"
    );
    let done = choose_password(&app, &link, NEW_PASSWORD).await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(done.body.contains("Your account is ready"), "{}", done.body);

    // Signed in, a learner of the independent learners, under the root.
    let s = fixtures::sign_in(&app, &c.slug, &seeker, NEW_PASSWORD).await;
    let token = ok(&s)["signIn"]["accessToken"].as_str().unwrap().to_owned();
    let v = app
        .gql(Some(&c.slug), Some(&token), VIEWER, json!({}))
        .await;
    let me = &ok(&v)["viewer"];
    assert_eq!(me["email"], seeker.as_str());
    assert_eq!(me["status"], "ACTIVE");
    assert_eq!(me["organisation"]["name"], "Independent learners");
    assert_eq!(me["organisation"]["parentId"], c.root_id.as_str());
    let independent = me["organisation"]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        me["roles"],
        json!([{ "role": "LEARNER", "organisationId": independent }])
    );

    // Single use: the page and the mutation both refuse the link now, and say why.
    let again = open(&app, &link).await;
    assert_eq!(again.status, 400);
    assert!(again.body.contains("already been used"), "{}", again.body);
    let v = confirm(&app, &c.slug, &fixtures::token_of_link(&link)).await;
    assert_eq!(code(&v), "BAD_USER_INPUT");
    assert_eq!(v["errors"][0]["extensions"]["field"], "token");
    assert!(reason(&v).contains("already been used"), "{v}");

    // The domain-limited registration from before confirms through the API, signs in at
    // once, and joins the same organisation (made once).
    let staff_token = confirmation_token(&app, &c.slug, &staff).await;
    let v = confirm(&app, &c.slug, &staff_token).await;
    let session = &ok(&v)["confirmRegistration"];
    assert_eq!(session["person"]["email"], staff.as_str());
    assert_eq!(session["person"]["status"], "ACTIVE");
    let v = app
        .gql(
            Some(&c.slug),
            Some(session["accessToken"].as_str().unwrap()),
            VIEWER,
            json!({}),
        )
        .await;
    assert_eq!(ok(&v)["viewer"]["organisation"]["id"], independent.as_str());
    let v = app
        .gql(
            Some(&c.slug),
            Some(&c.admin_token),
            "{ organisations(first: 50) { edges { node { name } } } }",
            json!({}),
        )
        .await;
    let named = ok(&v)["organisations"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["node"]["name"] == "Independent learners")
        .count();
    assert_eq!(named, 1);

    // The known address's registration cannot be confirmed into a second account.
    let dump = app.dump_tenant(&c.id).await;
    let people = dump["people"].len();
    assert_eq!(
        dump["people"]
            .iter()
            .filter(|p| p["email"] == c.admin_email.as_str())
            .count(),
        1
    );
    // Registering again after confirming tells the owner they have an account.
    ok(&register(&app, &c.slug, &seeker).await);
    assert_eq!(
        messages_to(&app, &c.slug, &seeker)
            .await
            .last()
            .unwrap()
            .kind,
        Some(MessageKind::RegistrationKnown)
    );
    assert_eq!(app.dump_tenant(&c.id).await["people"].len(), people);
}

#[tokio::test]
async fn a_learner_registers_confirms_and_signs_in_on_sqlite() {
    journey(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_learner_registers_confirms_and_signs_in_on_postgres() {
    journey(Backend::Postgres).await;
}

async fn expiry_and_refusals(backend: Backend) {
    let app = start(backend).await;
    let op = fixtures::operator(&app).await;
    let c = fixtures::campus(&app, &op).await;
    ok(&set(&app, &c, "OPEN", &[]).await);
    let email = format!("{}@jobs.test", unique("late"));

    // A link is good for 24 hours by the clock.
    ok(&register(&app, &c.slug, &email).await);
    let old = confirmation_token(&app, &c.slug, &email).await;
    app.state.deps.clock.advance(chrono::Duration::hours(25));
    let v = confirm(&app, &c.slug, &old).await;
    assert_eq!(code(&v), "BAD_USER_INPUT");
    assert!(reason(&v).contains("expired"), "{v}");
    let page = open(
        &app,
        &format!(
            "http://{}.example.org/confirm-registration?token={old}",
            c.slug
        ),
    )
    .await;
    assert_eq!(page.status, 400);
    assert!(page.body.contains("expired"), "{}", page.body);

    // Registering again sends a new link; only the newest works.
    ok(&register(&app, &c.slug, &email).await);
    let first = confirmation_token(&app, &c.slug, &email).await;
    ok(&register(&app, &c.slug, &email).await);
    let second = confirmation_token(&app, &c.slug, &email).await;
    assert_ne!(first, second);
    let v = confirm(&app, &c.slug, &first).await;
    assert_eq!(code(&v), "BAD_USER_INPUT");
    assert!(reason(&v).contains("not valid"), "{v}");

    // An address that got an account meanwhile (an invitation) is refused, not doubled, and
    // the link stays unused.
    let company = fixtures::company(&app, &c, "Durand").await;
    fixtures::invite(&app, &c, &company, &email, "Late", "LEARNER").await;
    let v = confirm(&app, &c.slug, &second).await;
    assert_eq!(code(&v), "CONFLICT", "{v}");
    assert_eq!(v["errors"][0]["extensions"]["field"], "email");
    let dump = app.dump_tenant(&c.id).await;
    assert_eq!(
        dump["people"]
            .iter()
            .filter(|p| p["email"] == email.as_str())
            .count(),
        1
    );
    assert!(
        dump["registrations"]
            .iter()
            .filter(|r| r["email"] == email.as_str())
            .all(|r| r["confirmed_at"].is_null())
    );

    // Closing registration closes the links already sent.
    let other = format!("{}@jobs.test", unique("closed"));
    ok(&register(&app, &c.slug, &other).await);
    let token = confirmation_token(&app, &c.slug, &other).await;
    ok(&set(&app, &c, "OFF", &[]).await);
    let v = confirm(&app, &c.slug, &token).await;
    assert_eq!(code(&v), "REGISTRATION_CLOSED", "{v}");
    ok(&set(&app, &c, "OPEN", &[]).await);
    ok(&confirm(&app, &c.slug, &token).await);

    // Bad input is refused before anything.
    let v = app
        .gql(
            Some(&c.slug),
            None,
            REGISTER,
            json!({ "i": { "email": "not an email", "givenName": "Sam", "familyName": "Lebon" } }),
        )
        .await;
    assert_eq!(code(&v), "BAD_USER_INPUT");
    assert_eq!(v["errors"][0]["extensions"]["field"], "email");
    let v = app
        .gql(
            Some(&c.slug),
            None,
            CONFIRM,
            json!({ "i": { "token": token, "password": "short" } }),
        )
        .await;
    assert_eq!(v["errors"][0]["extensions"]["field"], "password");

    // A week after its link expired, a registration never confirmed is forgotten (the next
    // registration in the space clears it).
    let stale = format!("{}@jobs.test", unique("stale"));
    ok(&register(&app, &c.slug, &stale).await);
    app.state.deps.clock.advance(chrono::Duration::days(8));
    assert_eq!(registration_rows(&app, &c, &stale).await, 1);
    ok(&register(&app, &c.slug, &format!("{}@jobs.test", unique("later"))).await);
    assert_eq!(registration_rows(&app, &c, &stale).await, 0);
}

/// The same walk from a browser: the space's registration form, the emailed link, the
/// password page, then sign-in.
async fn form_journey(backend: Backend) {
    let app = start(backend).await;
    let op = fixtures::operator(&app).await;
    let c = fixtures::campus(&app, &op).await;
    let host = format!("{}.example.org", c.slug);
    let form = format!("http://{host}/register");
    let off = open(&app, &form).await;
    assert_eq!(off.status, 403);
    assert!(
        off.body.contains("does not take registrations"),
        "{}",
        off.body
    );
    ok(&set(&app, &c, "OPEN", &[]).await);
    let page = open(&app, &form).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("name=\"givenName\""), "{}", page.body);
    let post = |email: String| {
        let (client, base, host) = (app.client.clone(), app.base.clone(), host.clone());
        async move {
            let r = client
                .post(format!("{base}/register"))
                .header("Host", host)
                .form(&[
                    ("email", email.as_str()),
                    ("givenName", "Inès"),
                    ("familyName", "Moreau"),
                ])
                .send()
                .await
                .unwrap();
            PageAnswer {
                status: r.status().as_u16(),
                body: r.text().await.unwrap(),
            }
        }
    };
    let email = format!("{}@jobs.test", unique("ines"));
    let new = post(email.clone()).await;
    let known = post(c.admin_email.clone()).await;
    assert_eq!(new.status, 200, "{}", new.body);
    assert!(new.body.contains("Check your email"), "{}", new.body);
    assert_eq!(
        (new.status, &new.body),
        (known.status, &known.body),
        "the same page either way"
    );
    let bad = post("not an email".into()).await;
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("valid email"), "{}", bad.body);

    spaces_gateway::mailer::drain(&app.state).await.unwrap();
    let link = fixtures::newest_link(&app, &c.slug, &email, MessageKind::Registration).await;
    let done = choose_password(&app, &link, NEW_PASSWORD).await;
    assert_eq!(done.status, 200, "{}", done.body);
    let s = fixtures::sign_in(&app, &c.slug, &email, NEW_PASSWORD).await;
    let token = ok(&s)["signIn"]["accessToken"].as_str().unwrap().to_owned();
    let v = app
        .gql(Some(&c.slug), Some(&token), VIEWER, json!({}))
        .await;
    assert_eq!(ok(&v)["viewer"]["email"], email.as_str());
    assert_eq!(
        ok(&v)["viewer"]["organisation"]["name"],
        "Independent learners"
    );

    // Limited to a domain: the form says so for another one.
    ok(&set(&app, &c, "DOMAINS", &["durand.test"]).await);
    let other = post(format!("{}@jobs.test", unique("x"))).await;
    assert_eq!(other.status, 403);
    assert!(
        other.body.contains("only with an email address"),
        "{}",
        other.body
    );
}

#[tokio::test]
async fn a_learner_registers_from_the_form_on_sqlite() {
    form_journey(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_learner_registers_from_the_form_on_postgres() {
    form_journey(Backend::Postgres).await;
}

#[tokio::test]
async fn expired_replaced_and_overtaken_links_on_sqlite() {
    expiry_and_refusals(Backend::Sqlite).await;
}

#[tokio::test]
async fn expired_replaced_and_overtaken_links_on_postgres() {
    expiry_and_refusals(Backend::Postgres).await;
}

/// `serve --demo` opens self-registration on the campus and says so; a newcomer walks in.
#[tokio::test]
async fn the_demo_campus_takes_self_registrations_on_sqlite() {
    let app = start(Backend::Sqlite).await;
    let printed = spaces_gateway::demo::seed(&app.state)
        .await
        .unwrap()
        .expect("a fresh server seeds the demo");
    assert!(printed.contains("self-registration: OPEN"), "{printed}");
    assert!(
        spaces_gateway::demo::what_to_try("http://127.0.0.1:8080").contains("register(input:"),
        "the start-up text shows how to register"
    );
    let v = app.gql(Some("ocapiat"), None, READ, json!({})).await;
    assert_eq!(ok(&v)["space"]["selfRegistration"]["mode"], "OPEN");
    let email = format!("{}@example.org", unique("newcomer"));
    ok(&register(&app, "ocapiat", &email).await);
    let token = confirmation_token(&app, "ocapiat", &email).await;
    let v = confirm(&app, "ocapiat", &token).await;
    assert_eq!(
        ok(&v)["confirmRegistration"]["person"]["email"],
        email.as_str()
    );
    let v = app
        .gql(
            Some("ocapiat"),
            Some(
                v["data"]["confirmRegistration"]["accessToken"]
                    .as_str()
                    .unwrap(),
            ),
            VIEWER,
            json!({}),
        )
        .await;
    assert_eq!(
        ok(&v)["viewer"]["organisation"]["name"],
        "Apprenants indépendants",
        "the campus speaks French"
    );
}

/// A self-registered learner pays for themselves: HR enrolling them in a priced edition finds
/// no billing account for them, though the campus above their organisation has one (which
/// must not pay for them).
async fn the_campus_does_not_pay_for_independent_learners(backend: Backend) {
    let app = start(backend).await;
    let op = fixtures::operator(&app).await;
    let c = fixtures::campus(&app, &op).await;
    ok(&set(&app, &c, "OPEN", &[]).await);
    let email = format!("sam@{}.test", unique("free"));
    ok(&register(&app, &c.slug, &email).await);
    let token = confirmation_token(&app, &c.slug, &email).await;
    let v = confirm(&app, &c.slug, &token).await;
    let person = ok(&v)["confirmRegistration"]["person"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    fixtures::billing_account(&app, &c, &c.root_id).await;
    let course = fixtures::published_course(&app, &op, "HACCP").await;
    let edition = crate::charges::priced_edition(&app, &c, &course, 70_000, json!({})).await;
    let v = app
        .gql(
            Some(&c.slug),
            Some(&c.admin_token),
            "mutation($i: EnrolInput!) { enrol(input: $i) { id } }",
            json!({ "i": { "editionId": edition, "personId": person } }),
        )
        .await;
    assert_eq!(code(&v), "BILLING_ACCOUNT_REQUIRED", "{v}");
    app.stop().await;
}

#[tokio::test]
async fn the_campus_does_not_pay_for_independent_learners_on_sqlite() {
    the_campus_does_not_pay_for_independent_learners(Backend::Sqlite).await;
}

#[tokio::test]
async fn the_campus_does_not_pay_for_independent_learners_on_postgres() {
    the_campus_does_not_pay_for_independent_learners(Backend::Postgres).await;
}
