//! `Idempotency-Key` on `POST /graphql`, with Stripe's semantics: the same key with the same
//! request replays the first answer byte for byte (header `Idempotent-Replayed: true`) and runs
//! nothing; the same key with another request is `IDEMPOTENCY_KEY_REUSED`; a duplicate while
//! the first runs is `CONFLICT`. Keys belong to the caller (the signed-in person or operator)
//! in the addressed space, or on the platform host; anonymous callers cannot send one (a key
//! needs an owner, and nothing anonymous moves money). Where answers are stored, and what a crash
//! leaves behind: `spaces_tenants::idempotency`.

use axum::body::{Body, to_bytes};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use sha2::{Digest, Sha256};
use spaces_graphql::{ApiError, RequestScope};
use spaces_tenants::Principal;
use spaces_tenants::idempotency::{self as store, Answer, Claim};

pub const HEADER: &str = "idempotency-key";
pub const REPLAYED: &str = "idempotent-replayed";
const FIELD: &str = "Idempotency-Key";

/// The key a request carries: 1 to 255 printable ASCII characters, one header at most.
pub fn parse(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let mut all = headers.get_all(HEADER).iter();
    let Some(first) = all.next() else {
        return Ok(None);
    };
    if all.next().is_some() {
        return Err(ApiError::bad_input(FIELD, "send one key, not several"));
    }
    let bytes = first.as_bytes();
    if bytes.is_empty() || bytes.len() > 255 || !bytes.iter().all(|b| (0x20..=0x7e).contains(b)) {
        return Err(ApiError::bad_input(
            FIELD,
            "a key is 1 to 255 printable ASCII characters",
        ));
    }
    Ok(Some(String::from_utf8_lossy(bytes).into_owned()))
}

/// Who owns keys sent by this caller; anonymous callers own none.
fn caller(principal: &Principal) -> Result<String, ApiError> {
    match principal {
        Principal::Person { person, .. } => Ok(format!("person:{person}")),
        Principal::Operator { operator } => Ok(format!("operator:{operator}")),
        Principal::Anonymous => Err(ApiError::bad_input(
            FIELD,
            "keys belong to a signed-in caller: sign in, or send the request without a key",
        )),
    }
}

/// JSON with object keys sorted at every level, so equal variables hash alike however a client
/// ordered them.
fn canonical(v: &serde_json::Value, out: &mut String) {
    match v {
        serde_json::Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::Value::String(k.clone()).to_string());
                out.push(':');
                canonical(&map[k], out);
            }
            out.push('}');
        }
        serde_json::Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// SHA-256 (hex) of the canonical request: each operation's query text, operation name and
/// variables, and whether it came as a batch (a batch of one answers in another shape).
pub fn fingerprint(requests: &[async_graphql::Request], is_batch: bool) -> String {
    let ops: Vec<serde_json::Value> = requests
        .iter()
        .map(|r| {
            serde_json::json!({
                "query": r.query,
                "operationName": r.operation_name,
                "variables": serde_json::to_value(&r.variables).unwrap_or_default(),
            })
        })
        .collect();
    let mut text = String::new();
    canonical(
        &serde_json::json!({ "batch": is_batch, "operations": ops }),
        &mut text,
    );
    let digest = Sha256::digest(text.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// A request that holds its key and must store its answer.
pub struct Ticket {
    caller: String,
    key: String,
    fingerprint: String,
    in_space: bool,
}

/// What the key says before anything runs.
pub enum Begin {
    Run(Ticket),
    Replay(Response),
    Refuse(ApiError),
}

/// Claims the key for this request. In a space this begins the request's transaction.
pub async fn begin(
    scope: &RequestScope,
    key: String,
    requests: &[async_graphql::Request],
    is_batch: bool,
) -> Result<Begin, ApiError> {
    let caller = match caller(&scope.principal) {
        Ok(c) => c,
        Err(e) => return Ok(Begin::Refuse(e)),
    };
    let fingerprint = fingerprint(requests, is_batch);
    let now = scope.deps.clock.now();
    let in_space = scope.tenant.is_some();
    let claim = if in_space {
        let tx = scope.tx().await?;
        store::claim_in_space(&tx, now, &caller, &key).await?
    } else {
        store::claim_on_platform(&scope.deps.db, now, &caller, &key, &fingerprint).await?
    };
    Ok(match claim {
        Claim::Fresh => Begin::Run(Ticket {
            caller,
            key,
            fingerprint,
            in_space,
        }),
        Claim::InFlight => Begin::Refuse(conflict()),
        Claim::Done {
            fingerprint: stored,
            answer,
        } if stored == fingerprint => Begin::Replay(replay(answer)),
        Claim::Done { .. } => Begin::Refuse(reused()),
    })
}

fn conflict() -> ApiError {
    let mut e = ApiError::new(
        "CONFLICT",
        "Idempotency-Key: a request with this key is still running; retry once it has answered",
    );
    e.field = Some(FIELD.into());
    e.reason = Some("in flight".into());
    e
}

fn reused() -> ApiError {
    let mut e = ApiError::new(
        "IDEMPOTENCY_KEY_REUSED",
        "Idempotency-Key: this key was used for another request (other operation or variables); use a new key",
    );
    e.field = Some(FIELD.into());
    e
}

/// The stored answer, as first sent, marked as a replay.
fn replay(a: Answer) -> Response {
    let mut resp = Response::new(Body::from(a.body));
    *resp.status_mut() = StatusCode::from_u16(a.http_status).unwrap_or(StatusCode::OK);
    if let Ok(ct) = HeaderValue::from_str(&a.content_type) {
        resp.headers_mut().insert(header::CONTENT_TYPE, ct);
    }
    resp.headers_mut()
        .insert(REPLAYED, HeaderValue::from_static("true"));
    resp
}

/// Reads an answer that is about to be sent into what is stored, and gives it back whole.
async fn buffer(resp: Response) -> (Response, Option<Answer>) {
    let (parts, body) = resp.into_parts();
    // Our answers are built in memory: this never waits on a client.
    let Ok(bytes) = to_bytes(body, usize::MAX).await else {
        return (Response::from_parts(parts, Body::empty()), None);
    };
    let answer = String::from_utf8(bytes.to_vec()).ok().map(|body| Answer {
        http_status: parts.status.as_u16(),
        content_type: parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("application/json")
            .to_owned(),
        body,
    });
    (Response::from_parts(parts, Body::from(bytes)), answer)
}

impl Ticket {
    /// In a space: stores the answer in the request's transaction, before it commits.
    pub async fn store_in_space(
        &self,
        scope: &RequestScope,
        resp: Response,
    ) -> Result<Response, ApiError> {
        if !self.in_space {
            return Ok(resp);
        }
        let (resp, answer) = buffer(resp).await;
        let answer = answer.ok_or_else(ApiError::internal)?;
        // The same transaction as the request's work, unless a mutation that runs alone
        // (a password change) ended it: then a new one, committed just after.
        let tx = scope.tx().await?;
        store::complete_in_space(
            &tx,
            scope.deps.clock.now(),
            &self.caller,
            &self.key,
            &self.fingerprint,
            &answer,
        )
        .await?;
        Ok(resp)
    }

    /// On the platform host: stores the answer once the request's work is done.
    pub async fn store_on_platform(&self, scope: &RequestScope, resp: Response) -> Response {
        if self.in_space {
            return resp;
        }
        let (resp, answer) = buffer(resp).await;
        let stored = match answer {
            Some(a) => store::complete_on_platform(&scope.deps.db, &self.caller, &self.key, &a)
                .await
                .map_err(|e| e.to_string()),
            None => Err("the answer is not UTF-8".into()),
        };
        if let Err(e) = stored {
            // The key stays in flight: retries get CONFLICT until it expires, never a rerun.
            tracing::error!(error = %e, "storing an idempotent answer failed");
        }
        resp
    }
}

/// Deletes expired keys every hour (and once at start).
pub fn spawn_purge(state: std::sync::Arc<crate::app::AppState>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match store::purge(&state.deps.db, state.deps.clock.now()).await {
                Ok(n) if n > 0 => tracing::info!(deleted = n, "expired idempotency keys deleted"),
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "purging idempotency keys failed; retrying next hour")
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(q: &str, vars: serde_json::Value) -> async_graphql::Request {
        async_graphql::Request::new(q).variables(async_graphql::Variables::from_json(vars))
    }

    #[test]
    fn the_fingerprint_ignores_key_order_and_sees_every_value() {
        let a = fingerprint(
            &[req(
                "mutation { x }",
                serde_json::json!({"a": 1, "b": {"c": 2, "d": 3}}),
            )],
            false,
        );
        let b = fingerprint(
            &[req(
                "mutation { x }",
                serde_json::json!({"b": {"d": 3, "c": 2}, "a": 1}),
            )],
            false,
        );
        let c = fingerprint(
            &[req(
                "mutation { x }",
                serde_json::json!({"a": 1, "b": {"c": 2, "d": 4}}),
            )],
            false,
        );
        let batch = fingerprint(
            &[req(
                "mutation { x }",
                serde_json::json!({"a": 1, "b": {"c": 2, "d": 3}}),
            )],
            true,
        );
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, batch);
        assert_eq!(a.len(), 64);
    }

    #[test]
    fn keys_are_one_to_255_printable_ascii() {
        let with = |v: &[u8]| {
            let mut h = HeaderMap::new();
            h.insert(HEADER, HeaderValue::from_bytes(v).expect("header value"));
            parse(&h)
        };
        assert_eq!(
            with(b"order-42").ok().flatten().as_deref(),
            Some("order-42")
        );
        assert!(with(&[b'k'; 255]).is_ok());
        for bad in [&[b'k'; 256][..], b"", b"caf\xc3\xa9", b"tab\there"] {
            let e = with(bad).expect_err("refused");
            assert_eq!(
                (e.code, e.field.as_deref()),
                ("BAD_USER_INPUT", Some("Idempotency-Key"))
            );
        }
        assert!(matches!(parse(&HeaderMap::new()), Ok(None)));
    }
}
