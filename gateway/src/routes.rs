//! HTTP handlers: `/graphql` (GraphQL over HTTP), health, readiness, metrics, JWKS.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use async_graphql::{BatchRequest, BatchResponse, Response};
use axum::Json;
use axum::body::{Body, to_bytes};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::IntoResponse;
use spaces_graphql::limits::{MAX_BATCH, MAX_BODY_BYTES, classify, error_response};
use spaces_graphql::{ApiError, RequestScope};

use crate::app::AppState;
use crate::graphql_http::{self as gh, Media, Refusal};
use crate::idempotency as idem;
use crate::resolve::{Addressed, resolve_with};

fn json(status: StatusCode, body: &impl serde::Serialize) -> axum::response::Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        serde_json::to_vec(body).unwrap_or_default(),
    )
        .into_response()
}

fn request_id(headers: &HeaderMap) -> String {
    headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned()
}

fn with_request_id(mut resp: Response, rid: &str) -> Response {
    for e in resp.errors.iter_mut() {
        e.extensions
            .get_or_insert_with(Default::default)
            .set("requestId", rid);
    }
    resp
}

fn api_error_response(e: ApiError) -> Response {
    Response::from_errors(vec![
        async_graphql::Error::from(e).into_server_error(async_graphql::Pos::default()),
    ])
}

fn repeat(e: ApiError, n: usize) -> Vec<Response> {
    (0..n).map(|_| api_error_response(e.clone())).collect()
}

/// A request refused before any GraphQL ran, answered in the negotiated media type and counted.
fn refuse(
    state: &AppState,
    media: Media,
    rid: &str,
    started: Instant,
    r: Refusal,
) -> axum::response::Response {
    state
        .metrics
        .observe("-", r.code, started.elapsed().as_secs_f64());
    gh::refusal(media, rid, r)
}

/// `GET /graphql`: GraphiQL for a browser, otherwise a query (never a mutation) from the query
/// string, as the GraphQL-over-HTTP specification describes; with `Upgrade: websocket`,
/// subscriptions (see [`crate::live_ws`]).
pub async fn graphql_get(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    req: axum::extract::Request,
) -> axum::response::Response {
    if crate::live_ws::wants_upgrade(req.headers()) {
        return crate::live_ws::upgrade(state, peer, req).await;
    }
    let (parts, _) = req.into_parts();
    let (headers, uri): (HeaderMap, Uri) = (parts.headers, parts.uri);
    let started = Instant::now();
    let rid = request_id(&headers);
    if gh::wants_html(&headers) {
        return crate::graphiql::page().into_response();
    }
    let media = match gh::negotiate(&headers) {
        Ok(m) => m,
        Err(r) => return refuse(&state, Media::Json, &rid, started, r),
    };
    let request = match gh::request_from_query(&uri) {
        Ok(r) => r,
        Err(r) => return refuse(&state, media, &rid, started, r),
    };
    if let Err(r) = gh::refuse_mutation_over_get(&request) {
        return refuse(&state, media, &rid, started, r);
    }
    run(
        &state,
        &headers,
        peer,
        media,
        &rid,
        started,
        vec![request],
        false,
        None,
    )
    .await
}

/// `POST /graphql`: a JSON body (one operation or a batch), or an upload for `importEnrolments`
/// (GraphQL multipart request). Anything else is refused before the body is read.
pub async fn graphql(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> axum::response::Response {
    let started = Instant::now();
    let rid = request_id(&headers);
    let media = match gh::negotiate(&headers) {
        Ok(m) => m,
        Err(r) => return refuse(&state, Media::Json, &rid, started, r),
    };
    let idem = match crate::idempotency::parse(&headers) {
        Ok(k) => k,
        Err(e) => return refuse(&state, media, &rid, started, Refusal::from_api(e)),
    };
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    match gh::essence(content_type).as_str() {
        "application/json" => {}
        // An import is idempotent by itself (the same file again changes nothing), and a key
        // would have to fingerprint the file.
        "multipart/form-data" if idem.is_some() => {
            let e = ApiError::bad_input(
                "Idempotency-Key",
                "not taken on uploads: importing the same file again changes nothing",
            );
            return refuse(&state, media, &rid, started, Refusal::from_api(e));
        }
        "multipart/form-data" => {
            return upload(
                &state,
                &headers,
                peer,
                media,
                &rid,
                started,
                content_type,
                body,
            )
            .await;
        }
        _ => {
            return refuse(
                &state,
                media,
                &rid,
                started,
                Refusal::unsupported_media_type(),
            );
        }
    }
    // The body is read only up to its limit.
    let Ok(bytes) = to_bytes(body, MAX_BODY_BYTES).await else {
        return refuse(
            &state,
            media,
            &rid,
            started,
            Refusal::too_large(MAX_BODY_BYTES),
        );
    };
    let batch = match serde_json::from_slice::<BatchRequest>(&bytes) {
        Ok(b) => b,
        Err(e) => {
            return refuse(
                &state,
                media,
                &rid,
                started,
                Refusal::bad_request(format!("the body is not a GraphQL request: {e}")),
            );
        }
    };
    let (requests, is_batch) = match batch {
        // A body without `query` (a typo, say) is not a GraphQL request at all.
        BatchRequest::Single(r) if r.query.trim().is_empty() => {
            return refuse(
                &state,
                media,
                &rid,
                started,
                Refusal::bad_request("query: the body needs a query"),
            );
        }
        BatchRequest::Single(r) => (vec![r], false),
        BatchRequest::Batch(rs) if rs.len() > MAX_BATCH || rs.is_empty() => {
            return refuse(
                &state,
                media,
                &rid,
                started,
                Refusal::new(
                    StatusCode::BAD_REQUEST,
                    "BATCH_TOO_LARGE",
                    format!("a batch holds 1 to {MAX_BATCH} operations"),
                ),
            );
        }
        BatchRequest::Batch(rs) => (rs, true),
    };
    run(
        &state, &headers, peer, media, &rid, started, requests, is_batch, idem,
    )
    .await
}

/// An upload: only `importEnrolments`, only from a signed-in person of the addressed space, whose
/// token is checked before a byte of the body is read.
#[allow(clippy::too_many_arguments)]
async fn upload(
    state: &AppState,
    headers: &HeaderMap,
    peer: SocketAddr,
    media: Media,
    rid: &str,
    started: Instant,
    content_type: &str,
    body: Body,
) -> axum::response::Response {
    let bearer = match gh::bearer(headers) {
        Ok(b) => b,
        Err(r) => return refuse(state, media, rid, started, r),
    };
    let tenant = match resolve_with(&state.deps, headers, state.config.tenant_header).await {
        Ok(Addressed::Space(s)) => Some(s),
        Ok(_) => None,
        Err(e) => return refuse(state, media, rid, started, Refusal::from_api(e.into())),
    };
    if let Err(r) = crate::upload::check_token(&state.deps, tenant.as_ref(), bearer) {
        return refuse(state, media, rid, started, r);
    }
    let request = match crate::upload::read(content_type, body).await {
        Ok(r) => r,
        Err(r) => return refuse(state, media, rid, started, r),
    };
    run(
        state,
        headers,
        peer,
        media,
        rid,
        started,
        vec![request],
        false,
        None,
    )
    .await
}

/// Runs the operations of one request in its scope and answers them.
#[allow(clippy::too_many_arguments)]
async fn run(
    state: &AppState,
    headers: &HeaderMap,
    peer: SocketAddr,
    media: Media,
    rid: &str,
    started: Instant,
    requests: Vec<async_graphql::Request>,
    is_batch: bool,
    idem: Option<String>,
) -> axum::response::Response {
    let asked = requests.first().and_then(|r| r.operation_name.clone());
    let answer = Answer {
        media,
        rid,
        is_batch,
    };
    let ran = match execute(state, headers, Some(peer), &answer, requests, idem).await {
        Ok(r) => r,
        Err(r) => return refuse(state, media, rid, started, r),
    };
    let op_name = asked.or(ran.named).unwrap_or_else(|| "anonymous".into());
    state
        .metrics
        .observe(&op_name, &ran.outcome, started.elapsed().as_secs_f64());
    ran.http
}

/// How a request's answer is written.
struct Answer<'a> {
    media: Media,
    rid: &'a str,
    is_batch: bool,
}

/// A request's answer, ready to send, and what metrics count of it.
struct Ran {
    http: axum::response::Response,
    outcome: String,
    named: Option<String>,
}

impl Answer<'_> {
    fn write(&self, responses: Vec<Response>, named: Option<String>) -> Ran {
        let outcome = responses
            .iter()
            .flat_map(|r| r.errors.first())
            .next()
            .and_then(|e| {
                e.extensions
                    .as_ref()
                    .and_then(|x| x.get("code"))
                    .map(|c| c.to_string().trim_matches('"').to_owned())
            })
            .unwrap_or_else(|| "ok".into());
        let responses: Vec<Response> = responses
            .into_iter()
            .map(|r| with_request_id(r, self.rid))
            .collect();
        let http = if self.is_batch {
            gh::answer_batch(self.media, BatchResponse::Batch(responses))
        } else {
            gh::answer(self.media, responses.into_iter().next().unwrap_or_default())
        };
        Ran {
            http,
            outcome,
            named,
        }
    }

    fn error(&self, e: ApiError, n: usize) -> Ran {
        self.write(repeat(e, n), None)
    }
}

async fn execute(
    state: &AppState,
    headers: &HeaderMap,
    peer: Option<SocketAddr>,
    answer: &Answer<'_>,
    requests: Vec<async_graphql::Request>,
    idem: Option<String>,
) -> Result<Ran, Refusal> {
    let span = tracing::Span::current();
    let n = requests.len();
    // Header errors (two Authorization headers) refuse the request as a whole.
    let bearer = gh::bearer(headers)?;
    let tenant = match resolve_with(&state.deps, headers, state.config.tenant_header).await {
        Ok(Addressed::Space(s)) => Some(s),
        Ok(Addressed::Platform) => None,
        Ok(Addressed::Unknown(what)) => {
            let r = (0..n)
                .map(|_| error_response("NOT_FOUND", &format!("no space is served at {what}")));
            return Ok(answer.write(r.collect(), None));
        }
        Err(e) => {
            let e = ApiError::from(e);
            if e.code == "TENANT_MISMATCH" {
                return Err(Refusal::from_api(e));
            }
            return Ok(answer.error(e, n));
        }
    };
    if let Some(t) = &tenant {
        span.record("tenant", tracing::field::display(t.id));
    }
    let client = crate::client_addr::client_address(&state.config.trusted_proxies, headers, peer);
    let basic = crate::xapi::basic(headers);
    let mut scope = match RequestScope::open(state.deps.clone(), tenant, bearer, client, n).await {
        Ok(s) => s,
        Err(e) => return Ok(answer.error(e, n)),
    };
    // A platform's LRS credential (HTTP Basic) on the space's host: the machine path.
    if let Some((key, secret)) = basic
        && let Err(e) = scope.authenticate_machine(&key, &secret).await
    {
        return Ok(answer.error(e, n));
    }
    let scope = Arc::new(scope);
    let ticket = match idem {
        None => None,
        Some(key) => match crate::idempotency::begin(&scope, key, &requests, answer.is_batch).await
        {
            Ok(idem::Begin::Run(t)) => Some(t),
            Ok(idem::Begin::Replay(http)) => {
                // Ends the transaction the claim read in; nothing ran.
                if let Err(e) = scope.finish().await {
                    return Ok(answer.error(e, n));
                }
                return Ok(Ran {
                    http,
                    outcome: "replayed".into(),
                    named: None,
                });
            }
            Ok(idem::Begin::Refuse(e)) | Err(e) => {
                if let Err(e) = scope.finish().await {
                    return Ok(answer.error(e, n));
                }
                return Ok(answer.error(e, n));
            }
        },
    };
    let mut out = Vec::with_capacity(n);
    for req in requests {
        let mut resp = state.schema.execute(req.data(scope.clone())).await;
        classify(&mut resp);
        out.push(resp);
    }
    let named = scope.operation.lock().ok().and_then(|g| g.clone());
    let mut ran = answer.write(out, named);
    // In a space the answer is stored in the request's transaction, so it commits exactly
    // when the request's effects do.
    if let Some(t) = &ticket {
        match t.store_in_space(&scope, ran.http).await {
            Ok(http) => ran.http = http,
            Err(e) => return Ok(answer.error(e, n)),
        }
    }
    // Every mutation already kept or undid its own writes in its savepoint, so what the
    // response reports as done is exactly what commits.
    if let Err(e) = scope.finish().await {
        return Ok(answer.error(e, n));
    }
    if let Some(t) = &ticket {
        ran.http = t.store_on_platform(&scope, ran.http).await;
    }
    Ok(ran)
}

pub async fn healthz() -> &'static str {
    "ok"
}

pub async fn readyz(State(state): State<Arc<AppState>>) -> axum::response::Response {
    let db = state.deps.db.ping().await.is_ok();
    let redis = match &state.redis {
        None => None,
        Some(conn) => {
            let mut c = conn.clone();
            Some(
                redis::cmd("PING")
                    .query_async::<String>(&mut c)
                    .await
                    .is_ok(),
            )
        }
    };
    // Redis is a soft dependency (limits fall back to this process): reported, never unready.
    let ready = db;
    let body = serde_json::json!({
        "ready": ready,
        "database": if db { "ok" } else { "unreachable" },
        "redis": match redis { None => "not configured", Some(true) => "ok", Some(false) => "unreachable" },
    });
    json(
        if ready {
            StatusCode::OK
        } else {
            StatusCode::SERVICE_UNAVAILABLE
        },
        &body,
    )
}

pub async fn metrics(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(state.deps.db.pool_state()),
    )
}

pub async fn jwks(State(state): State<Arc<AppState>>) -> Json<serde_json::Value> {
    Json(state.deps.keys.jwks())
}
