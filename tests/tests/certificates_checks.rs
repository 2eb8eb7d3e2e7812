//! Issue 12: every reason a credential fails verification; exactly one credential under
//! replays, two workers and a crash before commit; another space cannot read, verify or
//! revoke; the pathway credential and its CMF flag; the uploaded logo.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD as B64};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use spaces_tenants::credentials::{issue, keys, signing::SigningKey};
use spaces_tenants::{EnrolmentId, TenantId, TenantTx};
use spaces_tests::app::ok;
use spaces_tests::fixtures;
use spaces_tests::{Backend, TestApp};

use crate::certificates::{Setup, decode, fetch, setup};

/// 4×2 red pixels, RGBA: a logo a space uploads.
pub const PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAAQAAAACCAYAAAB/qH1jAAAAEklEQVR4nGP4z8DwHxkzoAsAAA8hD/EEN8afAAAAAElFTkSuQmCC";

fn quiet(c: &mut spaces_gateway::Config) {
    // These tests run the jobs themselves, so nothing runs behind their back.
    c.jobs_interval = std::time::Duration::ZERO;
}

fn tenant(s: &Setup) -> TenantId {
    s.campus.id.parse().unwrap()
}

fn encode(v: &Value) -> String {
    B64.encode(v.to_string())
}

async fn issued(s: &Setup) -> Value {
    s.complete().await;
    s.run_jobs().await;
    let mine = s.mine().await;
    assert_eq!(mine.len(), 1, "{mine:?}");
    mine[0].clone()
}

/// Signs `payload` with the space's own current key (its `kid` URL), as only the space could.
async fn sign_as_space(s: &Setup, kid: &str, payload: &Value) -> String {
    let tx = TenantTx::begin(&s.app.state.deps.db, tenant(s))
        .await
        .unwrap();
    let (_, key) = keys::current_signing(&tx, s.app.state.deps.clock.now())
        .await
        .unwrap();
    key.sign(kid, payload).unwrap()
}

async fn reason(s: &Setup, host: &str, jwt: &str) -> String {
    let v = s.verify_jwt(host, jwt).await;
    assert_eq!(v["valid"], false, "{v}");
    v["reason"]["code"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn every_failure_has_its_reason() {
    let s = setup(TestApp::start_with(Backend::Sqlite, quiet).await).await;
    // Valid for one month.
    let v = s
        .app
        .gql(
            Some(&s.campus.slug),
            Some(&s.campus.admin_token),
            "mutation($e: ID!) { setCertificateValidity(editionId: $e, months: 1) { certificateValidMonths } }",
            json!({ "e": s.edition }),
        )
        .await;
    assert_eq!(
        ok(&v)["setCertificateValidity"]["certificateValidMonths"],
        1
    );
    let v = s
        .app
        .gql(
            Some(&s.campus.slug),
            Some(&s.campus.admin_token),
            "mutation($e: ID!) { setCertificateValidity(editionId: $e, months: 0) { id } }",
            json!({ "e": s.edition }),
        )
        .await;
    assert_eq!(v["errors"][0]["extensions"]["field"], "months", "{v}");
    let c = issued(&s).await;
    let jwt = c["jwt"].as_str().unwrap().to_owned();
    let host = s.host();
    assert_eq!(s.verify_jwt(&host, &jwt).await["valid"], true);
    let [h, p, sig]: [&str; 3] = jwt.split('.').collect::<Vec<_>>().try_into().unwrap();
    let (header, payload) = (decode(h), decode(p));
    assert!(
        payload["validUntil"].is_string() && payload["exp"].is_i64(),
        "{payload}"
    );

    // Not a JWT at all; an empty body.
    assert_eq!(reason(&s, &host, "not a credential").await, "MALFORMED");
    assert_eq!(reason(&s, &host, "a.b.c").await, "MALFORMED");
    // Header: `alg: none`, or a header OB forbids.
    let mut none = header.clone();
    none["alg"] = json!("none");
    assert_eq!(
        reason(&s, &host, &format!("{}.{p}.", encode(&none))).await,
        "BAD_HEADER"
    );
    let mut extra = header.clone();
    extra["jku"] = json!("https://evil.example/keys");
    assert_eq!(
        reason(&s, &host, &format!("{}.{p}.{sig}", encode(&extra))).await,
        "BAD_HEADER"
    );
    // A tampered payload keeps the signature: it no longer matches.
    let mut tampered = payload.clone();
    tampered["credentialSubject"]["result"][0]["value"] = json!("100");
    assert_eq!(
        reason(&s, &host, &format!("{h}.{}.{sig}", encode(&tampered))).await,
        "BAD_SIGNATURE"
    );
    // Signed by another key under the space's kid.
    let (forger, _) = SigningKey::generate().unwrap();
    let forged = forger
        .sign(header["kid"].as_str().unwrap(), &tampered)
        .unwrap();
    assert_eq!(reason(&s, &host, &forged).await, "BAD_SIGNATURE");
    // A kid the space does not publish; a kid on another host.
    let kid = header["kid"].as_str().unwrap();
    let unknown = format!(
        "{}{}",
        &kid[..kid.rfind('/').unwrap() + 1],
        uuid::Uuid::now_v7()
    );
    assert_eq!(
        reason(&s, &host, &forger.sign(&unknown, &payload).unwrap()).await,
        "UNKNOWN_KEY"
    );
    let elsewhere = forger
        .sign("https://issuer.example/keys/1", &payload)
        .unwrap();
    assert_eq!(reason(&s, &host, &elsewhere).await, "OTHER_ISSUER");
    // Claims that do not repeat the credential, even under the space's own key.
    let mut claims = payload.clone();
    claims["sub"] = json!("urn:uuid:00000000-0000-8000-8000-000000000000");
    assert_eq!(
        reason(&s, &host, &sign_as_space(&s, kid, &claims).await).await,
        "CLAIMS_MISMATCH"
    );
    // A copy the space's own key signed, but not the credential it issued under this id.
    let mut regraded = payload.clone();
    regraded["credentialSubject"]["result"][0]["value"] = json!("99");
    assert_eq!(
        reason(&s, &host, &sign_as_space(&s, kid, &regraded).await).await,
        "BAD_SIGNATURE"
    );
    // Not valid yet.
    let mut early = payload.clone();
    let later = chrono::Utc::now() + chrono::Duration::days(2);
    early["validFrom"] = json!(later.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    early["nbf"] = json!(later.timestamp());
    assert_eq!(
        reason(&s, &host, &sign_as_space(&s, kid, &early).await).await,
        "NOT_YET_VALID"
    );
    // Unknown id on /verify.
    let r = fetch(
        &s.app,
        Method::GET,
        &format!("http://{host}/verify/{}", uuid::Uuid::now_v7()),
        "application/json",
        None,
    )
    .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        r.json::<Value>().await.unwrap()["reason"]["code"],
        "NOT_FOUND"
    );
    // Past its validity.
    s.app.state.deps.clock.advance(chrono::Duration::days(32));
    assert_eq!(reason(&s, &host, &jwt).await, "EXPIRED");
    let v: Value = s
        .get(c["verifyUrl"].as_str().unwrap(), "application/json")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["reason"]["code"], "EXPIRED", "{v}");
    // Bad bodies name the problem.
    let r = s
        .app
        .client
        .post(format!("{}/verify", s.app.base))
        .header("Host", &host)
        .header("Content-Type", "application/json")
        .body("{\"jwt\": 1}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("credential"));
    s.app.stop().await;
}

async fn count(s: &Setup) -> usize {
    s.mine().await.len()
}

async fn exactly_once(backend: Backend) {
    let s = setup(TestApp::start_with(backend, quiet).await).await;
    s.complete().await;
    let (db, clock) = (&s.app.state.deps.db, &s.app.state.deps.clock);
    let links = &s.app.state.deps.links;
    let enrolment = EnrolmentId::from_uuid(s.enrolment.parse().unwrap());

    // A crash between signing and committing: the signed credential is gone with the
    // transaction, the job is still there.
    {
        let tx = TenantTx::begin(db, tenant(&s)).await.unwrap();
        let urls = issue::urls(&tx, links).await.unwrap();
        let signed = issue::issue_for_enrolment(&tx, &urls, enrolment, clock.now())
            .await
            .unwrap();
        assert_eq!(signed.len(), 1);
        drop(tx);
    }
    assert_eq!(count(&s).await, 0);
    assert_eq!(
        s.app
            .jobs_of(&s.campus.id, "enrolment.completed")
            .await
            .len(),
        1
    );

    // Two workers at once: one credential.
    let one =
        spaces_tenants::jobs::Handlers::new(vec![std::sync::Arc::new(issue::CredentialJobs {
            links: links.clone(),
        })]);
    let two =
        spaces_tenants::jobs::Handlers::new(vec![std::sync::Arc::new(issue::CredentialJobs {
            links: links.clone(),
        })]);
    let (a, b) = tokio::join!(
        spaces_tenants::jobs::run_due(db, clock, &one),
        spaces_tenants::jobs::run_due(db, clock, &two)
    );
    assert_eq!(a.unwrap().done + b.unwrap().done, 1);
    assert_eq!(count(&s).await, 1);

    // The completion event replayed: the job runs again and signs nothing.
    let tx = TenantTx::begin(db, tenant(&s)).await.unwrap();
    spaces_tenants::jobs::enqueue(
        &tx,
        "enrolment.completed",
        clock.now(),
        json!({ "enrolmentId": s.enrolment }),
        None,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let ran = spaces_tenants::jobs::run_due(db, clock, &one)
        .await
        .unwrap();
    assert_eq!((ran.done, ran.failed), (1, 0));
    assert_eq!(count(&s).await, 1);
    // Issuing again directly signs nothing either.
    let tx = TenantTx::begin(db, tenant(&s)).await.unwrap();
    let urls = issue::urls(&tx, links).await.unwrap();
    assert!(
        issue::issue_for_enrolment(&tx, &urls, enrolment, clock.now())
            .await
            .unwrap()
            .is_empty()
    );
    drop(tx);
    s.app.stop().await;
}

#[tokio::test]
async fn exactly_one_credential_per_completion() {
    exactly_once(Backend::Sqlite).await;
}

#[tokio::test]
async fn exactly_one_credential_per_completion_on_postgres() {
    exactly_once(Backend::Postgres).await;
}

async fn spaces_apart(backend: Backend) {
    let s = setup(TestApp::start_with(backend, quiet).await).await;
    let c = issued(&s).await;
    let id = c["id"].as_str().unwrap();
    let b = fixtures::campus(&s.app, &s.op).await;
    let b_host = format!("{}.spaces.test", b.slug);
    // B's admin cannot read, list or revoke A's certificate.
    for (q, vars) in [
        (
            "query($id: ID!) { certificate(id: $id) { id } }",
            json!({ "id": id }),
        ),
        (
            "mutation($id: ID!) { revokeCertificate(id: $id, reason: \"no\") { id } }",
            json!({ "id": id }),
        ),
        (
            "mutation($id: ID!) { setCertificatePublic(id: $id, public: true) { id } }",
            json!({ "id": id }),
        ),
    ] {
        let v = s
            .app
            .gql(Some(&b.slug), Some(&b.admin_token), q, vars)
            .await;
        assert_eq!(
            v["errors"][0]["extensions"]["code"], "NOT_FOUND",
            "{q}: {v}"
        );
    }
    let v = s
        .app
        .gql(
            Some(&b.slug),
            Some(&b.admin_token),
            "{ certificates { edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(ok(&v)["certificates"]["edges"], json!([]));
    // Nor touch A's enrolments and editions through the certificate mutations.
    for (q, vars, field) in [
        (
            "mutation($e: ID!) { recordIdentityVerified(enrolmentId: $e) }",
            json!({ "e": s.enrolment }),
            "enrolmentId",
        ),
        (
            "mutation($e: ID!) { setCertificateValidity(editionId: $e, months: 12) { id } }",
            json!({ "e": s.edition }),
            "editionId",
        ),
    ] {
        let v = s
            .app
            .gql(Some(&b.slug), Some(&b.admin_token), q, vars)
            .await;
        assert_eq!(
            v["errors"][0]["extensions"]["code"], "NOT_FOUND",
            "{q}: {v}"
        );
        assert_eq!(v["errors"][0]["extensions"]["field"], field, "{q}: {v}");
    }
    // B's logo and key rotation are B's alone.
    ok(&upload_logo(
        &s.app,
        &b.slug,
        &b.admin_token,
        STANDARD.decode(PNG).unwrap(),
    )
    .await);
    ok(&s
        .app
        .gql(
            Some(&b.slug),
            Some(&b.admin_token),
            "mutation { rotateCredentialKey { kid } }",
            json!({}),
        )
        .await);
    let r = fetch(
        &s.app,
        Method::GET,
        &format!("http://{}/logo", s.host()),
        "image/png",
        None,
    )
    .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND, "A uploaded no logo");
    let jwks: Value = fetch(
        &s.app,
        Method::GET,
        &format!("http://{}/credentials/keys", s.host()),
        "application/json",
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 1, "{jwks}");
    // B's host knows nothing of it: the credential, its page, its PDF, its key.
    let header = decode(c["jwt"].as_str().unwrap().split('.').next().unwrap());
    let key_path = header["kid"]
        .as_str()
        .unwrap()
        .split_once("/credentials/")
        .unwrap()
        .1
        .to_owned();
    for (path, token) in [
        (format!("credentials/{id}"), None),
        (format!("credentials/{id}.jwt"), None),
        (format!("verify/{id}"), None),
        (
            format!("credentials/{id}.pdf"),
            Some(b.admin_token.as_str()),
        ),
        (format!("credentials/{key_path}"), None),
    ] {
        let r = fetch(
            &s.app,
            Method::GET,
            &format!("http://{b_host}/{path}"),
            "application/json",
            token,
        )
        .await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
    }
    // Presented on B's host, A's credential is not B's.
    let v = s.verify_jwt(&b_host, c["jwt"].as_str().unwrap()).await;
    assert_eq!(v["reason"]["code"], "OTHER_ISSUER", "{v}");
    // And A's stays valid and unrevoked.
    let v: Value = s
        .get(c["verifyUrl"].as_str().unwrap(), "application/json")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["valid"], true, "{v}");
    s.app.stop().await;
}

#[tokio::test]
async fn another_space_cannot_read_verify_or_revoke() {
    spaces_apart(Backend::Sqlite).await;
}

#[tokio::test]
async fn another_space_cannot_read_verify_or_revoke_on_postgres() {
    spaces_apart(Backend::Postgres).await;
}

/// A CMF-sized course: EQF 6, 60 hours, 2.5 ECTS, ID-verified.
async fn cmf_course(app: &TestApp, op: &str, title: &str) -> String {
    let v = app
        .gql(
            None,
            Some(op),
            "mutation($i: ProviderInput!) { createProvider(input: $i) { id } }",
            json!({ "i": { "name": format!("Université {}", uuid::Uuid::now_v7().simple()) } }),
        )
        .await;
    let provider = ok(&v)["createProvider"]["id"].as_str().unwrap().to_owned();
    let v = app
        .gql(None, Some(op), "mutation($i: CourseFactsInput!) { createCourse(input: $i) { id } }",
            json!({ "i": { "providerId": provider, "title": title, "language": "fr", "studyHours": 60,
                "ects": 2.5, "eqfLevel": 6, "assessment": "ID_VERIFIED_SUMMATIVE" } }))
        .await;
    let id = ok(&v)["createCourse"]["id"].as_str().unwrap().to_owned();
    ok(&app
        .gql(
            None,
            Some(op),
            "mutation($id: ID!) { publishCourse(id: $id) { id } }",
            json!({ "id": id }),
        )
        .await);
    id
}

#[tokio::test]
async fn a_completed_pathway_gets_its_microcredential() {
    let s = setup(TestApp::start_with(Backend::Sqlite, quiet).await).await;
    let (app, c) = (&s.app, &s.campus);
    let mut editions = Vec::new();
    for (i, title) in ["Qualité 1", "Qualité 2"].iter().enumerate() {
        let course = cmf_course(app, &s.op, title).await;
        let e = fixtures::open_edition(app, c, &course, "ASSIGNED_ONLY", None, &[]).await;
        // Each edition its own module IRI, so one statement completes one edition.
        let iri = format!("https://lms.example.org/xapi/q{i}");
        ok(&app.gql(Some(&c.slug), Some(&c.admin_token),
            "mutation($id: ID!, $i: SetEditionModulesInput!) { setEditionModules(id: $id, input: $i) { id } }",
            json!({ "id": e, "i": { "modules": [{ "title": "Exam", "required": true, "activityIri": iri }] } })).await);
        fixtures::enrol(app, c, &c.admin_token, &e, &s.lea).await;
        editions.push((e, iri));
    }
    // The second edition's certificates last 24 months: so does the pathway's.
    ok(&app
        .gql(
            Some(&c.slug),
            Some(&c.admin_token),
            "mutation($e: ID!) { setCertificateValidity(editionId: $e, months: 24) { id } }",
            json!({ "e": editions[1].0 }),
        )
        .await);
    let ids: Vec<&str> = editions.iter().map(|(e, _)| e.as_str()).collect();
    let pathway = fixtures::pathway(app, c, "Responsable qualité", &ids).await;
    let v = app
        .gql(
            Some(&c.slug),
            Some(&c.admin_token),
            "query($id: ID!) { pathway(id: $id) { cmfCheck { isMicrocredential } } }",
            json!({ "id": pathway }),
        )
        .await;
    assert_eq!(
        ok(&v)["pathway"]["cmfCheck"]["isMicrocredential"],
        true,
        "{v}"
    );

    crate::certificates::complete(&s.lrs, &s.email, &editions[0].1).await;
    s.run_jobs().await;
    assert_eq!(s.mine().await.len(), 1, "one edition: no pathway yet");
    crate::certificates::complete(&s.lrs, &s.email, &editions[1].1).await;
    s.run_jobs().await;
    let mine = s.mine().await;
    assert_eq!(mine.len(), 3, "{mine:?}");
    let path = mine.iter().find(|c| c["kind"] == "PATHWAY").unwrap();
    assert_eq!(path["achievementName"], "Responsable qualité");
    assert_eq!(path["microcredential"], true);
    let p = decode(path["jwt"].as_str().unwrap().split('.').nth(1).unwrap());
    let a = &p["credentialSubject"]["achievement"];
    assert_eq!(a["achievementType"], "MicroCredential");
    assert_eq!(a["creditsAvailable"], 5.0);
    assert_eq!(a["cmf"]["studyHours"], 120.0);
    assert_eq!(
        a["criteria"]["narrative"],
        "Completed every required edition:\n- Qualité 1\n- Qualité 2"
    );
    assert_eq!(p["credentialSubject"]["identityVerified"], true);
    let months = |from: &Value, to: &Value| {
        let parse = |v: &Value| chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap()).unwrap();
        (parse(to) - parse(from)).num_days() / 30
    };
    assert_eq!(
        months(&p["credentialSubject"]["activityEndDate"], &p["validUntil"]),
        24,
        "{p}"
    );
    // A replayed completion does not make a second pathway credential.
    s.complete().await;
    s.run_jobs().await;
    assert_eq!(
        s.mine()
            .await
            .iter()
            .filter(|c| c["kind"] == "PATHWAY")
            .count(),
        1
    );
    s.app.stop().await;
}

/// The space uploads its logo: the issuer profile names it, the PDF draws it.
pub async fn upload_logo(app: &TestApp, slug: &str, token: &str, bytes: Vec<u8>) -> Value {
    let form = reqwest::multipart::Form::new()
        .text("operations", json!({ "query": "mutation($f: Upload!) { uploadSpaceLogo(file: $f) { mediaType width height } }", "variables": { "f": null } }).to_string())
        .text("map", json!({ "0": ["variables.f"] }).to_string())
        .part("0", reqwest::multipart::Part::bytes(bytes).file_name("logo.png"));
    app.client
        .post(format!("{}/graphql", app.base))
        .header("X-Tenant", slug)
        .header("Authorization", format!("Bearer {token}"))
        .multipart(form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_uploaded_logo_brands_profile_and_pdf() {
    let s = setup(TestApp::start_with(Backend::Sqlite, quiet).await).await;
    let (app, c) = (&s.app, &s.campus);
    // Not an image: refused on `file`, nothing stored.
    let v = upload_logo(app, &c.slug, &c.admin_token, b"<svg/>".to_vec()).await;
    assert_eq!(v["errors"][0]["extensions"]["field"], "file", "{v}");
    let v = upload_logo(app, &c.slug, &s.lea_token, STANDARD.decode(PNG).unwrap()).await;
    assert_eq!(v["errors"][0]["extensions"]["code"], "FORBIDDEN", "{v}");
    let v = upload_logo(app, &c.slug, &c.admin_token, STANDARD.decode(PNG).unwrap()).await;
    assert_eq!(
        ok(&v)["uploadSpaceLogo"],
        json!({ "mediaType": "image/png", "width": 4, "height": 2 })
    );
    let cert = issued(&s).await;
    let p = decode(cert["jwt"].as_str().unwrap().split('.').nth(1).unwrap());
    let image = p["issuer"]["image"]["id"].as_str().unwrap();
    let r = s.get(image, "image/png").await;
    assert_eq!(r.headers()["content-type"], "image/png");
    assert_eq!(
        r.bytes().await.unwrap().to_vec(),
        STANDARD.decode(PNG).unwrap()
    );
    let r = fetch(
        app,
        Method::GET,
        cert["pdfUrl"].as_str().unwrap(),
        "application/pdf",
        Some(&s.lea_token),
    )
    .await;
    let pdf = r.bytes().await.unwrap();
    let text = String::from_utf8_lossy(&pdf);
    assert!(
        text.contains("/Subtype /Image") && text.contains("/Width 4"),
        "the uploaded logo is drawn"
    );
    s.app.stop().await;
}

/// For the RLS probe and the generated walls: a logo and a signed certificate in space `c`;
/// answers the certificate's id.
pub async fn seed(app: &TestApp, op: &str, c: &fixtures::Campus) -> String {
    let v = upload_logo(app, &c.slug, &c.admin_token, STANDARD.decode(PNG).unwrap()).await;
    ok(&v);
    let org = fixtures::company(app, c, "Certified").await;
    let email = format!("cert@{}.test", c.slug);
    let (person, _) = fixtures::member(app, c, &c.admin_token, &org, &email, "LEARNER").await;
    let course = fixtures::published_course(app, op, "Certified").await;
    let edition = fixtures::open_edition(app, c, &course, "ASSIGNED_ONLY", None, &[]).await;
    fixtures::enrol(app, c, &c.admin_token, &edition, &person).await;
    let lrs = spaces_tests::xapi::Lrs::of(app, c).await;
    crate::certificates::complete(&lrs, &email, "https://lms.example.org/xapi/m1").await;
    let s = &app.state;
    spaces_tenants::jobs::run_due(&s.deps.db, &s.deps.clock, &s.jobs)
        .await
        .unwrap();
    let v = app
        .gql(
            Some(&c.slug),
            Some(&c.admin_token),
            "query($p: ID!) { certificates(personId: $p) { edges { node { id } } } }",
            json!({ "p": person }),
        )
        .await;
    ok(&v)["certificates"]["edges"][0]["node"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The LMS's identity check stands only while a statement that reported it stands: voided
/// before completion, the certificate says the identity was not verified.
#[tokio::test]
async fn a_voided_identity_report_is_taken_back() {
    let s = setup(TestApp::start_with(Backend::Sqlite, quiet).await).await;
    let (m1, m2) = (
        "https://lms.example.org/xapi/v1",
        "https://lms.example.org/xapi/v2",
    );
    ok(&s
        .app
        .gql(
            Some(&s.campus.slug),
            Some(&s.campus.admin_token),
            "mutation($id: ID!, $i: SetEditionModulesInput!) { setEditionModules(id: $id, input: $i) { id } }",
            json!({ "id": s.edition, "i": { "modules": [
                { "title": "Lesson", "required": true, "activityIri": m1 },
                { "title": "Exam", "required": true, "activityIri": m2 }
            ], "acknowledgeProgressImpact": true } }),
        )
        .await);
    let post = |body: Value| {
        let lrs = &s.lrs;
        async move {
            let r = lrs
                .request(Method::POST, "statements")
                .json(&body)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::OK);
            r.json::<Vec<String>>().await.unwrap().remove(0)
        }
    };
    let actor = json!({ "mbox": format!("mailto:{}", s.email) });
    let completed = |iri: &str, verified: bool| {
        let mut st = json!({ "actor": actor, "verb": { "id": "http://adlnet.gov/expapi/verbs/completed" }, "object": { "id": iri } });
        if verified {
            st["context"] = json!({ "extensions": { "urn:spaces:xapi:identity-verified": true } });
        }
        st
    };
    let reported = post(completed(m1, true)).await;
    post(
        json!({ "actor": actor, "verb": { "id": "http://adlnet.gov/expapi/verbs/voided" },
        "object": { "objectType": "StatementRef", "id": reported } }),
    )
    .await;
    post(completed(m1, false)).await;
    post(completed(m2, false)).await;
    s.run_jobs().await;
    let mine = s.mine().await;
    assert_eq!(mine.len(), 1, "{mine:?}");
    let p = decode(mine[0]["jwt"].as_str().unwrap().split('.').nth(1).unwrap());
    assert_eq!(p["credentialSubject"]["identityVerified"], false, "{p}");
    s.app.stop().await;
}
