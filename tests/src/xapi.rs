//! A learning platform's side of the LRS: a credential of a space and requests to its `/xapi/`
//! as the xAPI specification shows them (the space's host, the version header, Basic auth).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::{Method, RequestBuilder};
use serde_json::{Value, json};

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

/// Lower-case hex SHA-256, as an attachment's `sha2` is written.
pub fn sha2(bytes: &[u8]) -> String {
    use ::sha2::Digest;
    format!("{:x}", ::sha2::Sha256::digest(bytes))
}

/// A `multipart/mixed` body as xAPI sends statements with attachments: `json`, then each part
/// with its Content-Type, `Content-Transfer-Encoding: binary` and its hash. Answers the
/// Content-Type (with the boundary) and the body.
pub fn mixed(json: &Value, parts: &[(&str, &[u8])]) -> (String, Vec<u8>) {
    let raw: Vec<(String, Vec<u8>)> = parts
        .iter()
        .map(|(content_type, content)| {
            (
                format!(
                    "Content-Type: {content_type}\r\nContent-Transfer-Encoding: binary\r\nX-Experience-API-Hash: {}",
                    sha2(content)
                ),
                content.to_vec(),
            )
        })
        .collect();
    mixed_raw("Content-Type: application/json", &json.to_string(), &raw)
}

/// A `multipart/mixed` body with every header line given: for requests that break a rule.
pub fn mixed_raw(json_headers: &str, json: &str, parts: &[(String, Vec<u8>)]) -> (String, Vec<u8>) {
    const BOUNDARY: &str = "xapi-test-boundary";
    let mut body = format!("--{BOUNDARY}\r\n{json_headers}\r\n\r\n{json}").into_bytes();
    for (headers, content) in parts {
        body.extend_from_slice(format!("\r\n--{BOUNDARY}\r\n{headers}\r\n\r\n").as_bytes());
        body.extend_from_slice(content);
    }
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    (format!("multipart/mixed; boundary={BOUNDARY}"), body)
}

/// One part of a `multipart/mixed` answer.
pub struct Part {
    /// Names lower-case, values trimmed.
    pub headers: Vec<(String, String)>,
    pub content: Vec<u8>,
}

impl Part {
    /// The header's value, or `""`.
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_default()
    }
}

/// A `multipart/mixed` answer split into its parts.
pub fn parts_of(content_type: &str, body: &[u8]) -> Vec<Part> {
    let boundary = content_type
        .split(';')
        .find_map(|p| p.trim().strip_prefix("boundary="))
        .expect("a boundary")
        .trim_matches('"');
    let delimiter = format!("--{boundary}");
    let d = delimiter.as_bytes();
    let mut starts = Vec::new();
    let mut i = 0;
    while i + d.len() <= body.len() {
        if &body[i..i + d.len()] == d {
            starts.push(i);
            i += d.len();
        } else {
            i += 1;
        }
    }
    let mut out = Vec::new();
    for w in starts.windows(2) {
        let mut part = &body[w[0] + d.len()..w[1]];
        part = part.strip_prefix(b"\r\n").unwrap_or(part);
        part = part.strip_suffix(b"\r\n").unwrap_or(part);
        let split = part
            .windows(4)
            .position(|x| x == b"\r\n\r\n")
            .expect("a part's headers end with an empty line");
        let headers = String::from_utf8(part[..split].to_vec())
            .unwrap()
            .lines()
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        out.push(Part {
            headers,
            content: part[split + 4..].to_vec(),
        });
    }
    out
}

/// One statement of `c` with a text attachment sent as multipart/mixed, so `xapi_attachments`
/// holds a row of the space. Answers the statement's id.
pub async fn seed_attachment(app: &TestApp, c: &Campus) -> String {
    let lrs = Lrs::of(app, c).await;
    let text = b"Certificate of hygiene, module 1";
    let statement = json!({
        "actor": { "mbox": "mailto:lea@example.com" },
        "verb": { "id": "http://adlnet.gov/expapi/verbs/completed", "display": { "en": "completed" } },
        "object": { "id": "https://lms.example.org/xapi/m1" },
        "attachments": [{
            "usageType": "http://example.com/attachment-usage/certificate",
            "display": { "en": "Certificate" },
            "contentType": "text/plain",
            "length": text.len(),
            "sha2": sha2(text)
        }]
    });
    let (content_type, body) = mixed(&statement, &[("text/plain", text)]);
    let r = lrs
        .request(Method::POST, "statements")
        .header("Content-Type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let ids: Vec<String> = r.json().await.unwrap();
    ids[0].clone()
}
