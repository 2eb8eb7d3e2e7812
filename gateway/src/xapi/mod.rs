//! `/xapi/`: the space's xAPI 1.0.3 learning record store, on the space's own host (or with
//! `X-Tenant`), like `/graphql`.
//!
//! `GET`/`HEAD /xapi/about` needs nothing. Every other path is one [`XRequest`]: the body read
//! up to [`MAX_BODY`] (else 413), the query split into [`Params`], an `X-Experience-API-Version`
//! of 1.0.x (else 400) and HTTP Basic credentials of this space (else 401 with
//! `WWW-Authenticate`); then the resource's module answers it. Every `/xapi` response, errors
//! included, carries `X-Experience-API-Version: 1.0.3` ([`version_header`], the outermost
//! layer).
//!
//! Failed credentials are not rate-limited here: ADL's conformance suite sends bad credentials on
//! purpose between thousands of good requests, and a secret of 256 random bits is not guessed.

mod alternate;
mod attachments;
mod documents;
mod multipart;
mod objects;
pub mod params;
mod statements;

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use spaces_graphql::ApiError;
use spaces_tenants::TenantTx;
use spaces_tenants::progress::credentials::{self, Credential, Scope};
use spaces_tenants::spaces::{Space, SpaceStatus};

use crate::app::AppState;
use crate::graphql_http::{self as gh, Media, Refusal};
use crate::resolve::{Addressed, resolve_with};

/// The version this LRS speaks, sent on every `/xapi` response.
pub const VERSION: &str = "1.0.3";
pub const VERSION_HEADER: HeaderName = HeaderName::from_static("x-experience-api-version");
/// What the 401 asks for.
pub const CHALLENGE: &str = "Basic realm=\"xAPI\"";
/// What the metrics call these routes.
const OPERATION: &str = "xapi";
/// The largest request body, attachments included; past it the answer is 413.
pub const MAX_BODY: usize = 16 * 1024 * 1024;

pub use params::Params;

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/xapi/about", get(about))
        .route("/xapi", any(resource))
        .route("/xapi/", any(resource))
        .route("/xapi/{*rest}", any(resource))
}

/// Outermost layer: every response under `/xapi`, whoever made it (a handler, a timeout, a
/// method axum refused), names the version.
pub async fn version_header(req: Request, next: Next) -> Response {
    let under = {
        let p = req.uri().path();
        p == "/xapi" || p.starts_with("/xapi/")
    };
    let mut resp = next.run(req).await;
    if under {
        resp.headers_mut()
            .insert(VERSION_HEADER, HeaderValue::from_static(VERSION));
    }
    resp
}

/// `1.0`, `1.0.0`, `1.0.3`, `1.0.17`: the versions this LRS accepts from a client.
pub fn accepted_version(v: &str) -> bool {
    let Some(rest) = v.strip_prefix("1.0") else {
        return false;
    };
    match rest.strip_prefix('.') {
        None => rest.is_empty(),
        Some(patch) => !patch.is_empty() && patch.bytes().all(|b| b.is_ascii_digit()),
    }
}

/// The key and secret of a Basic `Authorization` header (scheme in any case).
pub(crate) fn basic(headers: &HeaderMap) -> Option<(String, String)> {
    let mut all = headers.get_all(header::AUTHORIZATION).iter();
    let value = all.next()?;
    if all.next().is_some() {
        return None;
    }
    let (scheme, encoded) = value.to_str().ok()?.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (key, secret) = decoded.split_once(':')?;
    Some((key.to_owned(), secret.to_owned()))
}

fn request_id(headers: &HeaderMap) -> String {
    headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned()
}

/// An error as JSON, with the code and request id every error of Spaces carries.
fn error_response(rid: &str, r: Refusal) -> Response {
    let challenge = r.status == StatusCode::UNAUTHORIZED;
    let mut resp = gh::refusal(Media::GraphqlResponse, rid, r);
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    if challenge {
        resp.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static(CHALLENGE),
        );
    }
    resp
}

fn unauthenticated() -> Refusal {
    Refusal::new(
        StatusCode::UNAUTHORIZED,
        "UNAUTHENTICATED",
        "send HTTP Basic credentials (an LRS key and secret) of this space",
    )
}

/// The space the request addresses; a host that names none, or the platform: 404.
async fn space(state: &AppState, headers: &HeaderMap) -> Result<Space, Refusal> {
    match resolve_with(&state.deps, headers, state.config.tenant_header).await {
        Ok(Addressed::Space(s)) => Ok(s),
        Ok(Addressed::Platform | Addressed::Unknown(_)) => Err(Refusal::new(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            "no space is served at this host",
        )),
        Err(e) => Err(Refusal::from_api(e.into())),
    }
}

/// `GET /xapi/about` (and HEAD): the versions this LRS speaks. No credentials needed.
async fn about(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    let rid = request_id(&headers);
    match space(&state, &headers).await {
        Ok(_) => (
            StatusCode::OK,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            format!(r#"{{"version":["{VERSION}"]}}"#),
        )
            .into_response(),
        Err(r) => error_response(&rid, r),
    }
}

/// An authenticated request to one of the LRS's resources.
pub struct XRequest {
    pub method: Method,
    /// Below `/xapi`: `statements`, `activities/state`, ...
    pub resource: String,
    pub headers: HeaderMap,
    pub params: Params,
    pub body: Bytes,
    pub space: Space,
    pub credential: Credential,
}

impl XRequest {
    /// Refuses the request unless its credential holds one of `scopes`.
    pub fn needs(&self, scopes: &[Scope]) -> Result<(), Refusal> {
        if self.credential.scopes.iter().any(|s| scopes.contains(s)) {
            Ok(())
        } else {
            Err(Refusal::new(
                StatusCode::FORBIDDEN,
                "FORBIDDEN",
                "this LRS credential's scopes do not allow this request",
            ))
        }
    }
}

/// What a resource answers: a response, or a refusal the LRS writes as JSON.
pub type Answer = Result<Response, Refusal>;

/// A field of the request that is not valid xAPI: 400, naming it.
pub fn invalid(e: spaces_xapi::Invalid) -> Refusal {
    Refusal::from_api(ApiError::bad_input(&e.path, &e.reason))
}

/// Every other `/xapi` path: body, version, credentials, then the resource.
async fn resource(State(state): State<Arc<AppState>>, req: Request) -> Response {
    let started = Instant::now();
    let rid = request_id(req.headers());
    let is_statements = req.uri().path().trim_end_matches('/') == "/xapi/statements";
    let answer = match read(&state, req).await {
        Ok(x) => dispatch(&state, x).await,
        Err(r) => Err(r),
    };
    let outcome = match &answer {
        Ok(_) => "ok",
        Err(r) => r.code,
    };
    state
        .metrics
        .observe(OPERATION, outcome, started.elapsed().as_secs_f64());
    let mut resp = answer.unwrap_or_else(|r| error_response(&rid, r));
    if is_statements {
        statements::consistent_through(&state, &mut resp);
    }
    resp
}

async fn read(state: &AppState, req: Request) -> Result<XRequest, Refusal> {
    let (parts, body) = req.into_parts();
    let resource = parts
        .uri
        .path()
        .trim_start_matches("/xapi")
        .trim_matches('/')
        .to_owned();
    let params = Params::parse(parts.uri.query())?;
    if params.has("method") {
        return alternate::read(state, parts, params, body, resource).await;
    }
    // Credentials before the body: a stranger's upload is not read.
    let (space, credential) = authorised(state, &parts.headers).await?;
    let body = bytes(body, MAX_BODY).await?;
    Ok(XRequest {
        method: parts.method,
        resource,
        headers: parts.headers,
        params,
        body,
        space,
        credential,
    })
}

/// The body, up to `limit` bytes; past it, 413.
pub async fn bytes(body: Body, limit: usize) -> Result<Bytes, Refusal> {
    axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| Refusal::too_large(limit))
}

async fn dispatch(state: &AppState, x: XRequest) -> Answer {
    match x.resource.as_str() {
        "statements" => statements::handle(state, x).await,
        "activities/state" | "activities/profile" | "agents/profile" => {
            documents::handle(state, x).await
        }
        "activities" => objects::activities(state, x).await,
        "agents" => objects::agents(state, x).await,
        _ => Err(Refusal::new(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            "no such xAPI resource",
        )),
    }
}

/// The checks every resource makes first: the space, the version header, the credentials.
pub async fn authorised(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<(Space, Credential), Refusal> {
    let space = space(state, headers).await?;
    match headers.get(&VERSION_HEADER).map(|v| v.to_str()) {
        Some(Ok(v)) if accepted_version(v.trim()) => {}
        Some(_) => {
            return Err(Refusal::bad_request(format!(
                "X-Experience-API-Version must be 1.0.x (this LRS speaks {VERSION})"
            )));
        }
        None => {
            return Err(Refusal::bad_request(format!(
                "send X-Experience-API-Version: {VERSION}"
            )));
        }
    }
    let Some((key, secret)) = basic(headers) else {
        return Err(unauthenticated());
    };
    if space.status == SpaceStatus::Suspended {
        return Err(Refusal::new(
            StatusCode::FORBIDDEN,
            "FORBIDDEN",
            "this space is suspended",
        ));
    }
    tracing::Span::current().record("tenant", tracing::field::display(space.id));
    let tx = TenantTx::begin(&state.deps.db, space.id)
        .await
        .map_err(|e| Refusal::from_api(e.into()))?;
    let found = credentials::authenticate(&tx, &key, &secret).await;
    tx.rollback()
        .await
        .map_err(|e| Refusal::from_api(e.into()))?;
    match found {
        Ok(c) => Ok((space, c)),
        Err(spaces_tenants::Error::Unauthenticated(_)) => Err(unauthenticated()),
        Err(e) => Err(Refusal::from_api(ApiError::from(e))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        for ok in ["1.0", "1.0.0", "1.0.3", "1.0.17"] {
            assert!(accepted_version(ok), "{ok}");
        }
        for bad in [
            "", "1", "1.0.", "1.0.x", "1.1", "0.95", "1.01", "1.0.3 ", "BAD", "2.0.0",
        ] {
            assert!(!accepted_version(bad), "{bad}");
        }
    }

    #[test]
    fn basic_credentials() {
        let mut h = HeaderMap::new();
        assert_eq!(basic(&h), None);
        let v = format!("basic {}", STANDARD.encode("lrs-ab:s3:cret"));
        h.insert(header::AUTHORIZATION, v.parse().unwrap());
        assert_eq!(basic(&h), Some(("lrs-ab".into(), "s3:cret".into())));
        h.insert(header::AUTHORIZATION, "Bearer x".parse().unwrap());
        assert_eq!(basic(&h), None);
    }
}
