//! A learning platform's side of the LRS: a credential of a space and requests to its `/xapi/`
//! as the xAPI specification shows them (the space's host, the version header, Basic auth).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::{Method, RequestBuilder};
use serde_json::json;

use crate::app::{TestApp, ok};
use crate::fixtures::Campus;

const CREATE: &str = "mutation($i: CreateLrsCredentialInput!) { createLrsCredential(input: $i) { credential { id key } secret } }";

/// A credential of one space, and the host it is used on.
pub struct Lrs {
    pub base: String,
    pub host: String,
    pub key: String,
    pub secret: String,
    pub client: reqwest::Client,
}

impl Lrs {
    /// A credential with every scope, made by the space's admin.
    pub async fn of(app: &TestApp, c: &Campus) -> Lrs {
        Self::with_scopes(app, c, &["WRITE_STATEMENTS", "READ_ALL", "READ_OWN"]).await
    }

    pub async fn with_scopes(app: &TestApp, c: &Campus, scopes: &[&str]) -> Lrs {
        let v = app
            .gql(
                Some(&c.slug),
                Some(&c.admin_token),
                CREATE,
                json!({ "i": { "name": "LMS", "scopes": scopes } }),
            )
            .await;
        let made = &ok(&v)["createLrsCredential"];
        Lrs {
            base: app.base.clone(),
            host: format!("{}.spaces.test", c.slug),
            key: made["credential"]["key"].as_str().unwrap().to_owned(),
            secret: made["secret"].as_str().unwrap().to_owned(),
            client: app.client.clone(),
        }
    }

    /// The same credential sent to another host (another space's, say).
    pub fn on_host(&self, host: &str) -> Lrs {
        Lrs {
            base: self.base.clone(),
            host: host.to_owned(),
            key: self.key.clone(),
            secret: self.secret.clone(),
            client: self.client.clone(),
        }
    }

    /// `path` below `/xapi/`, query string included, with the version header and credentials.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.bare(method, path)
            .header("X-Experience-API-Version", "1.0.3")
            .header("Authorization", self.authorization())
    }

    /// Only the host: no version header, no credentials.
    pub fn bare(&self, method: Method, path: &str) -> RequestBuilder {
        self.client
            .request(method, format!("{}/xapi/{path}", self.base))
            .header("Host", &self.host)
    }

    pub fn authorization(&self) -> String {
        format!(
            "Basic {}",
            STANDARD.encode(format!("{}:{}", self.key, self.secret))
        )
    }
}

/// One statement of `c` that fills every statement table: its row, its keys (verb, agent,
/// activity, registration), the activity and the agent it names. Answers its id.
pub async fn seed_statement(app: &TestApp, c: &Campus) -> String {
    let lrs = Lrs::of(app, c).await;
    let r = lrs
        .request(Method::POST, "statements")
        .json(&json!({
            "actor": { "name": "Léa", "mbox": "mailto:lea@example.com" },
            "verb": { "id": "http://adlnet.gov/expapi/verbs/completed", "display": { "en": "completed" } },
            "object": { "id": "https://lms.example.org/xapi/m1", "definition": { "name": { "en": "Hygiene" } } },
            "context": { "registration": "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9" }
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let ids: Vec<String> = r.json().await.unwrap();
    ids[0].clone()
}
