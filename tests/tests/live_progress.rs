//! Live progress: GraphQL subscriptions over `graphql-transport-ws`. HR follows an edition
//! (`enrolmentProgressed`), the learner their own progress (`myProgress`); a statement posted
//! to the LRS reaches both, and nobody of another space. With PostgreSQL and Redis, a
//! statement posted to one gateway reaches a subscriber of another.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use spaces_tests::fixtures::{self, Campus};
use spaces_tests::xapi::Lrs;
use spaces_tests::{Backend, TestApp};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

const M1: &str = "https://lms.example.org/xapi/live/m1";
const ADL: &str = "http://adlnet.gov/expapi/verbs/";
const PROGRESSED: &str = "subscription($e: ID!) { enrolmentProgressed(editionId: $e) { id status person { id } progress { requiredDone requiredTotal } } }";
const MINE: &str =
    "subscription { myProgress { id status progress { requiredDone requiredTotal } } }";

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A small graphql-transport-ws client.
struct Ws(Socket);

impl Ws {
    /// Connects to the space and sends `connection_init` with `payload`; the acknowledgement,
    /// or the reason the server closed.
    async fn open(app: &TestApp, slug: &str, payload: Value) -> Result<Ws, String> {
        Self::open_with(app, slug, payload, None).await
    }

    /// As `open`, with a receive buffer of `recv_buffer` bytes (a reader that lags soon).
    async fn open_with(
        app: &TestApp,
        slug: &str,
        payload: Value,
        recv_buffer: Option<u32>,
    ) -> Result<Ws, String> {
        let url = app.base.replace("http://", "ws://") + "/graphql";
        let mut req = url.into_client_request().unwrap();
        req.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            "graphql-transport-ws".parse().unwrap(),
        );
        req.headers_mut().insert("X-Tenant", slug.parse().unwrap());
        let addr: std::net::SocketAddr = app.base.trim_start_matches("http://").parse().unwrap();
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        if let Some(n) = recv_buffer {
            socket.set_recv_buffer_size(n).unwrap();
        }
        let tcp = socket.connect(addr).await.unwrap();
        let (s, _) =
            tokio_tungstenite::client_async(req, tokio_tungstenite::MaybeTlsStream::Plain(tcp))
                .await
                .unwrap();
        let mut ws = Ws(s);
        ws.send(json!({ "type": "connection_init", "payload": payload }))
            .await;
        match ws.next(Duration::from_secs(10)).await {
            Some(Ok(v)) if v["type"] == "connection_ack" => Ok(ws),
            Some(Ok(v)) => Err(v.to_string()),
            Some(Err(reason)) => Err(reason),
            None => Err("no answer".into()),
        }
    }

    async fn token(app: &TestApp, slug: &str, token: &str) -> Ws {
        Self::open(
            app,
            slug,
            json!({ "authorization": format!("Bearer {token}") }),
        )
        .await
        .unwrap()
    }

    async fn send(&mut self, v: Value) {
        self.0.send(Message::text(v.to_string())).await.unwrap();
    }

    async fn subscribe(&mut self, id: &str, query: &str, variables: Value) {
        self.send(json!({ "id": id, "type": "subscribe", "payload": { "query": query, "variables": variables } }))
            .await;
    }

    /// The next message within `wait`: `Err` with the reason when the server closed.
    async fn next(&mut self, wait: Duration) -> Option<Result<Value, String>> {
        loop {
            let m = tokio::time::timeout(wait, self.0.next()).await.ok()??;
            match m {
                Ok(Message::Text(t)) => {
                    let v: Value = serde_json::from_str(&t).unwrap();
                    if v["type"] == "ping" {
                        self.send(json!({ "type": "pong" })).await;
                        continue;
                    }
                    return Some(Ok(v));
                }
                Ok(Message::Close(f)) => {
                    return Some(Err(f.map(|f| f.reason.to_string()).unwrap_or_default()));
                }
                Ok(_) => continue,
                Err(e) => return Some(Err(e.to_string())),
            }
        }
    }

    /// The next `next` payload of subscription `id`.
    async fn payload(&mut self, id: &str) -> Value {
        let v = self
            .next(Duration::from_secs(20))
            .await
            .expect("a message in time")
            .unwrap();
        assert_eq!(v["id"], id, "{v}");
        assert_eq!(v["type"], "next", "{v}");
        v["payload"].clone()
    }

    /// Nothing arrives within a short while.
    async fn quiet(&mut self) {
        if let Some(m) = self.next(Duration::from_millis(500)).await {
            panic!("expected nothing, got {m:?}");
        }
    }
}

struct Setup {
    campus: Campus,
    edition: String,
    enrolment: String,
    learner: String,
    learner_token: String,
    email: String,
}

/// A space with an edition of one required module and Léa enrolled.
async fn setup(app: &TestApp, op: &str) -> Setup {
    let c = fixtures::campus(app, op).await;
    let org = fixtures::company(app, &c, "Fromagerie").await;
    let email = format!("lea@{}.test", c.slug);
    let (learner, learner_token) =
        fixtures::member(app, &c, &c.admin_token, &org, &email, "LEARNER").await;
    let course = fixtures::published_course(app, op, "HACCP").await;
    let edition = fixtures::open_edition(app, &c, &course, "ASSIGNED_ONLY", None, &[]).await;
    let v = app
        .gql(
            Some(&c.slug),
            Some(&c.admin_token),
            "mutation($id: ID!, $i: SetEditionModulesInput!) { setEditionModules(id: $id, input: $i) { modules { activityIri } } }",
            json!({ "id": edition, "i": { "modules": [
                { "title": "Principles", "required": true, "activityIri": M1 },
            ] } }),
        )
        .await;
    spaces_tests::app::ok(&v);
    let enrolment = fixtures::enrol(app, &c, &c.admin_token, &edition, &learner).await;
    Setup {
        campus: c,
        edition,
        enrolment,
        learner,
        learner_token,
        email,
    }
}

fn statement(email: &str, verb: &str) -> Value {
    json!({
        "actor": { "objectType": "Agent", "name": "Léa", "mbox": format!("mailto:{email}") },
        "verb": { "id": format!("{ADL}{verb}"), "display": { "en-US": verb } },
        "object": { "objectType": "Activity", "id": M1 }
    })
}

async fn post(lrs: &Lrs, body: Value) {
    let r = lrs
        .request(Method::POST, "statements")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

async fn journey(backend: Backend) {
    let app = TestApp::start(backend).await;
    let op = fixtures::operator(&app).await;
    let s = setup(&app, &op).await;
    let other = fixtures::campus(&app, &op).await;
    let lrs = Lrs::of(&app, &s.campus).await;

    // A bad token is refused at connection_init.
    let refused = Ws::open(&app, &s.campus.slug, json!({ "token": "not-a-token" })).await;
    assert!(refused.is_err(), "a bad token was accepted");
    // Another space's token is refused here too.
    let refused = Ws::open(
        &app,
        &s.campus.slug,
        json!({ "token": other.admin_token.clone() }),
    )
    .await;
    assert!(refused.is_err(), "another space's token was accepted");

    let mut hr = Ws::token(&app, &s.campus.slug, &s.campus.admin_token).await;
    hr.subscribe("1", PROGRESSED, json!({ "e": s.edition }))
        .await;
    let mut lea = Ws::open(&app, &s.campus.slug, json!({ "token": s.learner_token }))
        .await
        .unwrap();
    lea.subscribe("m", MINE, json!({})).await;
    // The learner may not follow the edition.
    lea.subscribe("x", PROGRESSED, json!({ "e": s.edition }))
        .await;
    let v = lea.next(Duration::from_secs(10)).await.unwrap().unwrap();
    assert_eq!(v["id"], "x", "{v}");
    assert_eq!(
        v["payload"]["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{v}"
    );
    let done = lea.next(Duration::from_secs(10)).await.unwrap().unwrap();
    assert_eq!(done, json!({ "id": "x", "type": "complete" }));
    // Another space's admin hears nothing of this one.
    let mut stranger = Ws::token(&app, &other.slug, &other.admin_token).await;
    // Naming this space's edition, they find it as unknown.
    stranger
        .subscribe("a", PROGRESSED, json!({ "e": s.edition }))
        .await;
    let v = stranger
        .next(Duration::from_secs(10))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            v["id"].clone(),
            v["payload"]["errors"][0]["extensions"]["code"].clone()
        ),
        (json!("a"), json!("NOT_FOUND")),
        "{v}"
    );
    let done = stranger
        .next(Duration::from_secs(10))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(done, json!({ "id": "a", "type": "complete" }));
    stranger.subscribe("s", MINE, json!({})).await;
    // Subscriptions are registered once their first read is done; give them that moment.
    tokio::time::sleep(Duration::from_millis(300)).await;

    post(&lrs, statement(&s.email, "completed")).await;

    let p = hr.payload("1").await;
    assert_eq!(
        p["data"]["enrolmentProgressed"],
        json!({ "id": s.enrolment, "status": "COMPLETED", "person": { "id": s.learner },
                "progress": { "requiredDone": 1, "requiredTotal": 1 } }),
        "{p}"
    );
    let p = lea.payload("m").await;
    assert_eq!(p["data"]["myProgress"]["id"], s.enrolment, "{p}");
    assert_eq!(p["data"]["myProgress"]["status"], "COMPLETED", "{p}");
    stranger.quiet().await;
}

#[tokio::test]
async fn live_progress_reaches_hr_and_learner() {
    journey(Backend::Sqlite).await;
}

#[tokio::test]
async fn live_progress_reaches_hr_and_learner_on_postgres() {
    journey(Backend::Postgres).await;
}

/// Two gateways on one PostgreSQL database and one Redis: a statement posted to the first
/// reaches a subscriber on the second.
#[tokio::test]
async fn live_progress_crosses_gateways_on_postgres() {
    let first = TestApp::start(Backend::Postgres).await;
    let second = first.beside().await;
    let op = fixtures::operator(&first).await;
    let s = setup(&first, &op).await;
    let lrs = Lrs::of(&first, &s.campus).await;
    let mut hr = Ws::token(&second, &s.campus.slug, &s.campus.admin_token).await;
    hr.subscribe("1", PROGRESSED, json!({ "e": s.edition }))
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    post(&lrs, statement(&s.email, "completed")).await;

    let p = hr.payload("1").await;
    assert_eq!(p["data"]["enrolmentProgressed"]["id"], s.enrolment, "{p}");
    assert_eq!(p["data"]["enrolmentProgressed"]["status"], "COMPLETED");
}

/// A token for the same person as `token`, signed with the server's key, that expires in
/// `ttl` (the server's setting allows no less than a minute).
fn short_token(app: &TestApp, token: &str, ttl: Duration) -> String {
    use base64::Engine;
    use spaces_tenants::auth::tokens::{Bearer, Keys, unix_now};
    let claims = token.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(claims)
            .unwrap(),
    )
    .unwrap();
    let pem = std::fs::read_to_string(app.data_dir.join("signing-key.pem")).unwrap();
    let cfg = &app.state.config;
    let keys = Keys::from_pem(&pem, &cfg.issuer, "spaces-api", ttl).unwrap();
    let bearer = Bearer::Person {
        tenant: claims["tid"].as_str().unwrap().parse().unwrap(),
        person: claims["sub"].as_str().unwrap().parse().unwrap(),
        version: claims["ver"].as_i64().unwrap() as i32,
    };
    keys.issue(bearer, unix_now()).unwrap().0
}

/// A subscription ends when its token expires, with nothing posted meanwhile.
/// Progress a platform records through GraphQL (`recordProgress`, its LRS credential as HTTP
/// Basic) reaches HR and the learner as a posted statement does.
#[tokio::test]
async fn live_progress_hears_record_progress() {
    let app = TestApp::start(Backend::Sqlite).await;
    let op = fixtures::operator(&app).await;
    let s = setup(&app, &op).await;
    let lrs = Lrs::of(&app, &s.campus).await;
    let mut hr = Ws::token(&app, &s.campus.slug, &s.campus.admin_token).await;
    hr.subscribe("1", PROGRESSED, json!({ "e": s.edition }))
        .await;
    let mut lea = Ws::token(&app, &s.campus.slug, &s.learner_token).await;
    lea.subscribe("m", MINE, json!({})).await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    let v = app
        .gql(
            Some(&s.campus.slug),
            Some(&s.campus.admin_token),
            "query($id: ID!) { enrolment(id: $id) { edition { modules { id } } } }",
            json!({ "id": s.enrolment }),
        )
        .await;
    let module = spaces_tests::app::ok(&v)["enrolment"]["edition"]["modules"][0]["id"].clone();
    let body = json!({
        "query": "mutation($i: RecordProgressInput!) { recordProgress(input: $i) { enrolmentStatus } }",
        "variables": { "i": { "enrolmentId": s.enrolment, "moduleId": module, "completed": true } }
    });
    let v: Value = app
        .client
        .post(format!("{}/graphql", app.base))
        .header("Host", &lrs.host)
        .header("Authorization", lrs.authorization())
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        spaces_tests::app::ok(&v)["recordProgress"]["enrolmentStatus"],
        "COMPLETED"
    );

    let p = hr.payload("1").await;
    assert_eq!(p["data"]["enrolmentProgressed"]["id"], s.enrolment, "{p}");
    assert_eq!(
        p["data"]["enrolmentProgressed"]["status"], "COMPLETED",
        "{p}"
    );
    let p = lea.payload("m").await;
    assert_eq!(p["data"]["myProgress"]["status"], "COMPLETED", "{p}");
}

#[tokio::test]
async fn live_progress_ends_when_the_token_expires() {
    let app = TestApp::start(Backend::Sqlite).await;
    let op = fixtures::operator(&app).await;
    let s = setup(&app, &op).await;
    let token = short_token(&app, &s.learner_token, Duration::from_secs(2));
    let mut lea = Ws::token(&app, &s.campus.slug, &token).await;
    lea.subscribe("m", MINE, json!({})).await;
    let v = lea.next(Duration::from_secs(15)).await.unwrap().unwrap();
    assert_eq!(v["id"], "m", "{v}");
    assert_eq!(
        v["payload"]["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
        "{v}"
    );
    let done = lea.next(Duration::from_secs(5)).await.unwrap().unwrap();
    assert_eq!(done, json!({ "id": "m", "type": "complete" }));
}

/// A subscriber that never reads is ended once it falls further behind than the bounded
/// buffer allows, while one that reads keeps receiving.
#[tokio::test]
async fn live_progress_drops_a_slow_subscriber() {
    let app = TestApp::start_with(Backend::Sqlite, |c| c.live_buffer = 2).await;
    let op = fixtures::operator(&app).await;
    let s = setup(&app, &op).await;
    let lrs = Lrs::of(&app, &s.campus).await;
    // A large answer per event, so the socket's buffers fill after a few.
    let fields: String = (0..29)
        .map(|i| format!(" a{i}: person {{ id email givenName familyName }}"))
        .collect();
    let big =
        format!("subscription($e: ID!) {{ enrolmentProgressed(editionId: $e) {{ {fields} }} }}");
    let mut slow = Ws::open_with(
        &app,
        &s.campus.slug,
        json!({ "token": s.campus.admin_token.clone() }),
        Some(2048),
    )
    .await
    .unwrap();
    slow.subscribe("slow", &big, json!({ "e": s.edition }))
        .await;
    let mut fast = Ws::token(&app, &s.campus.slug, &s.campus.admin_token).await;
    fast.subscribe("fast", PROGRESSED, json!({ "e": s.edition }))
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    // `experienced` moves nothing to completion, so every statement is an event. The kernel's
    // socket buffers take a few MB before the slow reader's feed backs up (about 560 events
    // here, 2.5 MB), hence so many: four times that, for machines with larger buffers.
    for _ in 0..2000 {
        post(&lrs, statement(&s.email, "experienced")).await;
        let p = fast.payload("fast").await;
        assert_eq!(p["data"]["enrolmentProgressed"]["id"], s.enrolment, "{p}");
    }

    // What the slow one had in its buffers, then the end of its subscription.
    let mut received = 0;
    let ended = loop {
        let v = slow
            .next(Duration::from_secs(10))
            .await
            .expect("the slow subscriber hears its end")
            .unwrap();
        if let Some(code) = v["payload"]["errors"][0]["extensions"]["code"].as_str() {
            break code.to_owned();
        }
        assert_eq!(v["type"], "next", "{v}");
        received += 1;
    };
    assert_eq!(ended, "SLOW_SUBSCRIBER");
    assert!(received < 2000, "the slow subscriber was sent everything");
    let done = slow.next(Duration::from_secs(5)).await.unwrap().unwrap();
    assert_eq!(done, json!({ "id": "slow", "type": "complete" }));

    // The fast one still hears.
    post(&lrs, statement(&s.email, "experienced")).await;
    let p = fast.payload("fast").await;
    assert_eq!(p["data"]["enrolmentProgressed"]["id"], s.enrolment, "{p}");
}

/// A subscription ends once its person is disabled: the next event finds them so.
#[tokio::test]
async fn live_progress_ends_when_the_person_is_disabled() {
    let app = TestApp::start(Backend::Sqlite).await;
    let op = fixtures::operator(&app).await;
    let s = setup(&app, &op).await;
    let lrs = Lrs::of(&app, &s.campus).await;
    let mut lea = Ws::token(&app, &s.campus.slug, &s.learner_token).await;
    lea.subscribe("m", MINE, json!({})).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let v = app
        .gql(
            Some(&s.campus.slug),
            Some(&s.campus.admin_token),
            "mutation($id: ID!) { disablePerson(id: $id) { id } }",
            json!({ "id": s.learner }),
        )
        .await;
    spaces_tests::app::ok(&v);

    post(&lrs, statement(&s.email, "experienced")).await;

    let v = lea.next(Duration::from_secs(10)).await.unwrap().unwrap();
    assert_eq!(v["id"], "m", "{v}");
    assert!(
        v["payload"]["data"].is_null(),
        "a disabled person was sent {v}"
    );
    assert_eq!(
        v["payload"]["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
        "{v}"
    );
    let done = lea.next(Duration::from_secs(5)).await.unwrap().unwrap();
    assert_eq!(done, json!({ "id": "m", "type": "complete" }));
}
