//! Issue 12, journey 7's end: a learner completes, the space signs an Open Badges 3.0
//! credential, and anyone checks it with the space's public key, its status list and
//! `/verify`, as a relying party would, without an account.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use spaces_tests::app::ok;
use spaces_tests::fixtures::{self, Campus};
use spaces_tests::xapi::Lrs;
use spaces_tests::{Backend, TestApp};

const M1: &str = "https://lms.example.org/xapi/m1";
const ADL: &str = "http://adlnet.gov/expapi/verbs/";
const ESCO: &str = "http://data.europa.eu/esco/skill/0e7ab6cd-2e34-4d6b-b0f2-6d9f2ea1fa6a";
const SCHEMA: &str = include_str!("../fixtures/ob-3.0/achievementcredential.json");

const MINE: &str = "{ viewer { certificates { edges { node { id kind achievementName microcredential issuedAt validUntil public revokedAt revocationReason jwt url verifyUrl pdfUrl enrolmentId } } } } }";

pub struct Setup {
    pub app: TestApp,
    pub op: String,
    pub campus: Campus,
    pub lrs: Lrs,
    pub org: String,
    pub edition: String,
    pub enrolment: String,
    pub lea: String,
    pub lea_token: String,
    pub email: String,
}

/// A course with outcomes and an ESCO skill, an edition of it, and Léa enrolled.
pub async fn setup(app: TestApp) -> Setup {
    let op = fixtures::operator(&app).await;
    let campus = fixtures::campus(&app, &op).await;
    let org = fixtures::company(&app, &campus, "Fromagerie").await;
    let email = format!("lea@{}.test", campus.slug);
    let (lea, lea_token) =
        fixtures::member(&app, &campus, &campus.admin_token, &org, &email, "LEARNER").await;
    let course = course(&app, &op, "Hygiène HACCP").await;
    let edition = fixtures::open_edition(&app, &campus, &course, "ASSIGNED_ONLY", None, &[]).await;
    let enrolment = fixtures::enrol(&app, &campus, &campus.admin_token, &edition, &lea).await;
    let lrs = Lrs::of(&app, &campus).await;
    Setup {
        app,
        op,
        campus,
        lrs,
        org,
        edition,
        enrolment,
        lea,
        lea_token,
        email,
    }
}

pub async fn course(app: &TestApp, op: &str, title: &str) -> String {
    let v = app
        .gql(
            None,
            Some(op),
            "mutation($i: ProviderInput!) { createProvider(input: $i) { id } }",
            json!({ "i": { "name": format!("Institut Agro {}", uuid::Uuid::now_v7().simple()) } }),
        )
        .await;
    let provider = ok(&v)["createProvider"]["id"].as_str().unwrap().to_owned();
    let v = app
        .gql(
            None,
            Some(op),
            "mutation($i: CourseFactsInput!) { createCourse(input: $i) { id } }",
            json!({ "i": { "providerId": provider, "title": title, "summary": "Food safety for the shop floor.",
                "language": "fr", "studyHours": 12.5, "ects": 1, "eqfLevel": 4,
                "learningOutcomes": ["Apply the seven HACCP principles", "Keep the cold chain"],
                "skills": [{ "escoUri": ESCO, "label": "apply HACCP" }],
                "assessment": "ID_VERIFIED_SUMMATIVE" } }),
        )
        .await;
    let id = ok(&v)["createCourse"]["id"].as_str().unwrap().to_owned();
    let v = app
        .gql(
            None,
            Some(op),
            "mutation($id: ID!) { publishCourse(id: $id) { id } }",
            json!({ "id": id }),
        )
        .await;
    ok(&v);
    id
}

impl Setup {
    /// The LMS reports the required module completed at 87.5 %, identity verified.
    pub async fn complete(&self) {
        complete(&self.lrs, &self.email, M1).await;
    }

    /// The jobs worker's pass, as the gateway runs it.
    pub async fn run_jobs(&self) {
        let s = &self.app.state;
        spaces_tenants::jobs::run_due(&s.deps.db, &s.deps.clock, &s.jobs)
            .await
            .unwrap();
    }

    pub async fn mine(&self) -> Vec<Value> {
        let v = self
            .app
            .gql(
                Some(&self.campus.slug),
                Some(&self.lea_token),
                MINE,
                json!({}),
            )
            .await;
        ok(&v)["viewer"]["certificates"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"].clone())
            .collect()
    }

    pub fn host(&self) -> String {
        format!("{}.spaces.test", self.campus.slug)
    }

    /// GET a URL of a space (as the credential names it) from this test's server.
    pub async fn get(&self, url: &str, accept: &str) -> reqwest::Response {
        fetch(&self.app, Method::GET, url, accept, None).await
    }

    pub async fn verify_jwt(&self, host: &str, jwt: &str) -> Value {
        let r = self
            .app
            .client
            .post(format!("{}/verify", self.app.base))
            .header("Host", host)
            .header("Content-Type", "application/vc+jwt")
            .body(jwt.to_owned())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        r.json().await.unwrap()
    }
}

pub async fn complete(lrs: &Lrs, email: &str, activity: &str) {
    let r = lrs
        .request(Method::POST, "statements")
        .json(&json!({
            "actor": { "mbox": format!("mailto:{email}") },
            "verb": { "id": format!("{ADL}completed") },
            "object": { "id": activity },
            "result": { "completion": true, "success": true, "score": { "scaled": 0.875 } },
            "context": { "extensions": { "urn:spaces:xapi:identity-verified": true } }
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
}

/// A request to `url`'s path on the test server, with `url`'s host.
pub async fn fetch(
    app: &TestApp,
    method: Method,
    url: &str,
    accept: &str,
    token: Option<&str>,
) -> reqwest::Response {
    let after = url.split_once("://").unwrap().1;
    let (authority, path) = after.split_at(after.find('/').unwrap());
    let host = authority.split(':').next().unwrap();
    let mut r = app
        .client
        .request(method, format!("{}{path}", app.base))
        .header("Host", host)
        .header("Accept", accept);
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    r.send().await.unwrap()
}

pub fn decode(part: &str) -> Value {
    serde_json::from_slice(&B64.decode(part).unwrap()).unwrap()
}

/// Signature checked by ring, a second RSA implementation, against the JWK the `kid` serves.
async fn ring_verifies(app: &TestApp, jwt: &str) -> bool {
    let header = decode(jwt.split('.').next().unwrap());
    let kid = header["kid"].as_str().unwrap();
    let r = fetch(app, Method::GET, kid, "application/json", None).await;
    assert_eq!(r.status(), StatusCode::OK);
    let jwk: Value = r.json().await.unwrap();
    assert!(jwk.get("d").is_none() && jwk.get("p").is_none(), "{jwk}");
    assert_eq!(
        (jwk["kty"].as_str(), jwk["alg"].as_str()),
        (Some("RSA"), Some("RS256"))
    );
    assert_eq!(jwk["kid"], kid);
    let (input, sig) = jwt.rsplit_once('.').unwrap();
    let key = ring::signature::RsaPublicKeyComponents {
        n: B64.decode(jwk["n"].as_str().unwrap()).unwrap(),
        e: B64.decode(jwk["e"].as_str().unwrap()).unwrap(),
    };
    key.verify(
        &ring::signature::RSA_PKCS1_2048_8192_SHA256,
        input.as_bytes(),
        &B64.decode(sig).unwrap(),
    )
    .is_ok()
}

fn schema_errors(credential: &Value) -> Vec<String> {
    let schema: Value = serde_json::from_str(SCHEMA).unwrap();
    let v = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft201909)
        .should_validate_formats(true)
        .build(&schema)
        .unwrap();
    v.iter_errors(credential)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect()
}

async fn walk(backend: Backend) {
    let s = setup(TestApp::start(backend).await).await;
    // Nothing before completion.
    s.run_jobs().await;
    assert!(s.mine().await.is_empty());
    s.complete().await;
    s.run_jobs().await;
    let mine = s.mine().await;
    assert_eq!(mine.len(), 1, "{mine:?}");
    let c = &mine[0];
    assert_eq!(c["kind"], "EDITION");
    assert_eq!(c["achievementName"], "Hygiène HACCP");
    assert_eq!(c["enrolmentId"], s.enrolment.as_str());
    assert_eq!(c["public"], false);
    assert!(c["validUntil"].is_null() && c["revokedAt"].is_null());
    let origin = format!("http://{}:", s.host());
    assert!(c["url"].as_str().unwrap().starts_with(&origin), "{c}");

    // The JWT: exactly alg, kid, typ; the claims repeat the credential.
    let jwt = c["jwt"].as_str().unwrap();
    let parts: Vec<&str> = jwt.split('.').collect();
    assert_eq!(parts.len(), 3);
    let header = decode(parts[0]);
    let mut keys: Vec<&String> = header.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(keys, ["alg", "kid", "typ"], "{header}");
    assert_eq!(
        (header["alg"].as_str(), header["typ"].as_str()),
        (Some("RS256"), Some("JWT"))
    );
    assert!(
        header["kid"].as_str().unwrap().starts_with(&origin),
        "{header}"
    );
    let p = decode(parts[1]);
    assert_eq!(p["iss"], p["issuer"]["id"]);
    assert_eq!(p["jti"], p["id"]);
    assert_eq!(p["id"], c["url"]);
    assert_eq!(p["sub"], p["credentialSubject"]["id"]);
    let valid_from =
        chrono::DateTime::parse_from_rfc3339(p["validFrom"].as_str().unwrap()).unwrap();
    assert_eq!(p["nbf"].as_i64(), Some(valid_from.timestamp()));
    assert!(p.get("exp").is_none() && p.get("validUntil").is_none());
    assert_eq!(
        p["@context"],
        json!([
            "https://www.w3.org/ns/credentials/v2",
            "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
        ])
    );
    assert_eq!(
        p["type"],
        json!(["VerifiableCredential", "OpenBadgeCredential"])
    );
    // 1EdTech's schema accepts the payload.
    assert_eq!(schema_errors(&p), Vec::<String>::new());
    // The subject: non-personal id, salted hash of the email, no name anywhere.
    let subject = &p["credentialSubject"];
    assert!(subject["id"].as_str().unwrap().starts_with("urn:uuid:"));
    assert!(!p.to_string().contains(&s.email), "the email is hashed");
    assert!(
        !p.to_string().contains("Given"),
        "no name in the public credential"
    );
    let idn = &subject["identifier"][0];
    let salt = idn["salt"].as_str().unwrap();
    let digest: String =
        <sha2::Sha256 as sha2::Digest>::digest(format!("{}{salt}", s.email).as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
    assert_eq!(idn["identityHash"], format!("sha256${digest}"));
    assert_eq!(subject["identityVerified"], true, "the LMS said so");
    assert_eq!(subject["result"][0]["value"], "87.5");
    // The CMF transcript: ECTS, hours, EQF, outcomes, assessment, ESCO.
    let a = &subject["achievement"];
    assert_eq!(a["creditsAvailable"], 1.0);
    assert_eq!(
        a["criteria"]["narrative"],
        "Completed every required module:\n- Hygiene"
    );
    assert_eq!(a["cmf"]["studyHours"], 12.5);
    assert_eq!(a["cmf"]["eqfLevels"], json!([4]));
    assert_eq!(a["cmf"]["assessmentType"], "id-verified-summative");
    assert_eq!(a["cmf"]["learningOutcomes"][1], "Keep the cold chain");
    let alignments = a["alignment"].as_array().unwrap();
    assert!(
        alignments
            .iter()
            .any(|x| x["targetUrl"] == ESCO && x["targetFramework"] == "ESCO")
    );
    assert!(
        alignments
            .iter()
            .any(|x| x["targetUrl"] == "http://data.europa.eu/snb/eqf/4")
    );
    // A second implementation checks the signature with the published key.
    assert!(ring_verifies(&s.app, jwt).await);

    // The issuer URL serves the Profile; the credential URL the credential.
    let profile: Value = s
        .get(p["issuer"]["id"].as_str().unwrap(), "application/json")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(profile["id"], p["issuer"]["id"]);
    assert_eq!(profile["type"], json!(["Profile"]));
    let served: Value = s
        .get(c["url"].as_str().unwrap(), "application/json")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(served, p);
    let r = s
        .get(c["url"].as_str().unwrap(), "application/vc+jwt")
        .await;
    assert_eq!(r.headers()["content-type"], "application/vc+jwt");
    assert_eq!(r.text().await.unwrap(), jwt);

    // Verification: JSON and HTML by Accept; the name only once the learner makes it public.
    let verify = c["verifyUrl"].as_str().unwrap();
    let v: Value = s
        .get(verify, "application/json")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["valid"], true, "{v}");
    assert!(v["credential"].get("learner").is_none());
    let html = s.get(verify, "text/html").await.text().await.unwrap();
    assert!(
        html.contains("Vérification de certificat") || html.contains("Certificate verification"),
        "{html}"
    );
    assert!(
        html.contains("Hygiène HACCP") && !html.contains("Given Family"),
        "{html}"
    );
    let v = s
        .app
        .gql(
            Some(&s.campus.slug),
            Some(&s.lea_token),
            "mutation($id: ID!) { setCertificatePublic(id: $id, public: true) { public } }",
            json!({ "id": c["id"] }),
        )
        .await;
    assert_eq!(ok(&v)["setCertificatePublic"]["public"], true);
    let v: Value = s
        .get(verify, "application/json")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["credential"]["learner"], "Given Family", "{v}");
    assert!(
        s.get(verify, "text/html")
            .await
            .text()
            .await
            .unwrap()
            .contains("Given Family")
    );
    // The holder presents the JWT.
    let v = s.verify_jwt(&s.host(), jwt).await;
    assert_eq!(v["valid"], true, "{v}");

    // The PDF, for Léa and her HR; nobody else.
    let pdf = c["pdfUrl"].as_str().unwrap();
    for token in [&s.lea_token, &s.campus.admin_token] {
        let r = fetch(&s.app, Method::GET, pdf, "application/pdf", Some(token)).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()["content-type"], "application/pdf");
        let bytes = r.bytes().await.unwrap();
        assert!(bytes.starts_with(b"%PDF-"));
        assert!(
            String::from_utf8_lossy(&bytes).contains("/verify/"),
            "the QR's URL is printed"
        );
    }
    let r = fetch(&s.app, Method::GET, pdf, "application/pdf", None).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let (_, other) = fixtures::member(
        &s.app,
        &s.campus,
        &s.campus.admin_token,
        &s.org,
        &format!("max@{}.test", s.campus.slug),
        "LEARNER",
    )
    .await;
    let r = fetch(&s.app, Method::GET, pdf, "application/pdf", Some(&other)).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    // HR sees the certificates of the people they manage.
    let v = s
        .app
        .gql(
            Some(&s.campus.slug),
            Some(&s.campus.admin_token),
            "query($p: ID!) { certificates { edges { node { id person { email } } } } person(id: $p) { certificates { edges { node { id achievementName } } } } }",
            json!({ "p": s.lea }),
        )
        .await;
    assert_eq!(ok(&v)["certificates"]["edges"][0]["node"]["id"], c["id"]);
    assert_eq!(
        ok(&v)["certificates"]["edges"][0]["node"]["person"]["email"],
        s.email.as_str()
    );
    assert_eq!(
        ok(&v)["person"]["certificates"]["edges"][0]["node"]["achievementName"],
        "Hygiène HACCP"
    );
    let v = s
        .app
        .gql(
            Some(&s.campus.slug),
            Some(&other),
            "{ certificates { edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(v["errors"][0]["extensions"]["code"], "FORBIDDEN", "{v}");

    // Revocation, seen through the status list and by /verify.
    let v = s
        .app
        .gql(
            Some(&s.campus.slug),
            Some(&s.campus.admin_token),
            "mutation($id: ID!) { revokeCertificate(id: $id, reason: \"issued in error\") { revokedAt revocationReason } }",
            json!({ "id": c["id"] }),
        )
        .await;
    assert_eq!(
        ok(&v)["revokeCertificate"]["revocationReason"],
        "issued in error"
    );
    let entry = &p["credentialStatus"];
    assert_eq!(entry["type"], "BitstringStatusListEntry");
    assert_eq!(entry["statusPurpose"], "revocation");
    let list: Value = s
        .get(
            entry["statusListCredential"].as_str().unwrap(),
            "application/json",
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        list["type"],
        json!(["VerifiableCredential", "BitstringStatusListCredential"])
    );
    let index: usize = entry["statusListIndex"].as_str().unwrap().parse().unwrap();
    assert!(
        bit(&list["credentialSubject"]["encodedList"], index),
        "revoked in the list"
    );
    // What a verifier gets by default is the signed list.
    let r = s
        .get(entry["statusListCredential"].as_str().unwrap(), "*/*")
        .await;
    assert_eq!(r.headers()["content-type"], "application/vc+jwt");
    let list_jwt = r.text().await.unwrap();
    let signed_list = decode(list_jwt.split('.').nth(1).unwrap());
    assert_eq!(
        signed_list["credentialSubject"]["encodedList"],
        list["credentialSubject"]["encodedList"]
    );
    assert!(ring_verifies(&s.app, &list_jwt).await);
    let v: Value = s
        .get(verify, "application/json")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (v["valid"].as_bool(), v["reason"]["code"].as_str()),
        (Some(false), Some("REVOKED")),
        "{v}"
    );
    assert_eq!(v["credential"]["revocationReason"], "issued in error");
    let v = s.verify_jwt(&s.host(), jwt).await;
    assert_eq!(v["reason"]["code"], "REVOKED");
    s.app.stop().await;
}

/// Bit `index` of a Bitstring Status List, decoded as any verifier would.
pub fn bit(encoded: &Value, index: usize) -> bool {
    use std::io::Read;
    let raw = B64
        .decode(encoded.as_str().unwrap().strip_prefix('u').unwrap())
        .unwrap();
    let mut bits = Vec::new();
    flate2::read::GzDecoder::new(&raw[..])
        .read_to_end(&mut bits)
        .unwrap();
    assert!(bits.len() >= 16 * 1024, "at least 16 KiB");
    bits[index / 8] & (0x80 >> (index % 8)) != 0
}

#[tokio::test]
async fn completion_issuance_verification_revocation() {
    walk(Backend::Sqlite).await;
}

#[tokio::test]
async fn completion_issuance_verification_revocation_on_postgres() {
    walk(Backend::Postgres).await;
}
