//! HTTP handlers: `/graphql`, health, readiness, metrics, JWKS.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use async_graphql::http::GraphiQLSource;
use async_graphql::http::{MultipartOptions, receive_batch_body};
use async_graphql::{BatchRequest, BatchResponse, Response};
use axum::Json;
use axum::body::{Body, to_bytes};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse};
use spaces_graphql::limits::{
    MAX_BATCH, MAX_BODY_BYTES, MAX_UPLOAD_BYTES, classify, error_response,
};
use spaces_graphql::{ApiError, RequestScope};

use crate::app::AppState;
use crate::resolve::{Addressed, resolve};

pub async fn graphiql() -> Html<String> {
    Html(GraphiQLSource::build().endpoint("/graphql").finish())
}

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

pub async fn graphql(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> axum::response::Response {
    let started = Instant::now();
    let rid = request_id(&headers);
    // Limits come first, before any work: the body is read only up to its limit.
    // Uploads (the GraphQL multipart request spec) may carry a file of up to 10 MiB; every other
    // request is JSON of at most 64 KiB. Either way the body is read only up to its limit.
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let multipart = content_type.starts_with("multipart/form-data");
    let limit = if multipart {
        MAX_UPLOAD_BYTES + MAX_BODY_BYTES
    } else {
        MAX_BODY_BYTES
    };
    let Ok(bytes) = to_bytes(body, limit).await else {
        let r = error_response(
            "PAYLOAD_TOO_LARGE",
            &format!("request body over {limit} bytes"),
        );
        state
            .metrics
            .observe("-", "PAYLOAD_TOO_LARGE", started.elapsed().as_secs_f64());
        return json(StatusCode::PAYLOAD_TOO_LARGE, &with_request_id(r, &rid));
    };
    let parsed = if multipart {
        let opts = MultipartOptions::default()
            .max_file_size(MAX_UPLOAD_BYTES)
            .max_num_files(1);
        receive_batch_body(
            Some(content_type),
            async_graphql::futures_util::io::Cursor::new(bytes.to_vec()),
            opts,
        )
        .await
        .map_err(|e| e.to_string())
    } else {
        serde_json::from_slice::<BatchRequest>(&bytes).map_err(|e| e.to_string())
    };
    let batch = match parsed {
        Ok(b) => b,
        Err(e) => {
            let lower = e.to_lowercase();
            let (status, code) = if lower.contains("too large") || lower.contains("too many") {
                (StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE")
            } else {
                (StatusCode::BAD_REQUEST, "BAD_REQUEST")
            };
            let r = error_response(code, &format!("the body is not a GraphQL request: {e}"));
            return json(status, &with_request_id(r, &rid));
        }
    };
    let (requests, is_batch) = match batch {
        BatchRequest::Single(r) => (vec![r], false),
        BatchRequest::Batch(rs) if rs.len() > MAX_BATCH || rs.is_empty() => {
            let r = error_response(
                "BATCH_TOO_LARGE",
                &format!("a batch holds 1 to {MAX_BATCH} operations"),
            );
            state
                .metrics
                .observe("-", "BATCH_TOO_LARGE", started.elapsed().as_secs_f64());
            return json(StatusCode::BAD_REQUEST, &with_request_id(r, &rid));
        }
        BatchRequest::Batch(rs) => (rs, true),
    };
    let asked = requests.first().and_then(|r| r.operation_name.clone());
    let (responses, named) = execute(&state, &headers, Some(peer), requests).await;
    let op_name = asked.or(named).unwrap_or_else(|| "anonymous".into());
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
    state
        .metrics
        .observe(&op_name, &outcome, started.elapsed().as_secs_f64());
    let responses: Vec<Response> = responses
        .into_iter()
        .map(|r| with_request_id(r, &rid))
        .collect();
    if is_batch {
        json(StatusCode::OK, &BatchResponse::Batch(responses))
    } else {
        json(
            StatusCode::OK,
            &responses.into_iter().next().unwrap_or_default(),
        )
    }
}

async fn execute(
    state: &AppState,
    headers: &HeaderMap,
    peer: Option<SocketAddr>,
    requests: Vec<async_graphql::Request>,
) -> (Vec<Response>, Option<String>) {
    let span = tracing::Span::current();
    let n = requests.len();
    let tenant = match resolve(&state.deps, headers).await {
        Ok(Addressed::Space(s)) => Some(s),
        Ok(Addressed::Platform) => None,
        Ok(Addressed::Unknown(what)) => {
            let r = (0..n)
                .map(|_| error_response("NOT_FOUND", &format!("no space is served at {what}")));
            return (r.collect(), None);
        }
        Err(e) => return (repeat(e.into(), n), None),
    };
    if let Some(t) = &tenant {
        span.record("tenant", tracing::field::display(t.id));
    }
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim);
    let client = crate::client_addr::client_address(&state.config.trusted_proxies, headers, peer);
    let scope = match RequestScope::open(state.deps.clone(), tenant, bearer, client, n).await {
        Ok(s) => Arc::new(s),
        Err(e) => return (repeat(e, n), None),
    };
    let mut out = Vec::with_capacity(n);
    for req in requests {
        let mut resp = state.schema.execute(req.data(scope.clone())).await;
        classify(&mut resp);
        out.push(resp);
    }
    // Every mutation already kept or undid its own writes in its savepoint, so what the
    // response reports as done is exactly what commits.
    if let Err(e) = scope.finish().await {
        return (repeat(e, n), None);
    }
    let named = scope.operation.lock().ok().and_then(|g| g.clone());
    (out, named)
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
