//! GraphQL over HTTP (the GraphQL-over-HTTP specification): which media type the client accepts,
//! which status each answer gets, GET requests from the query string, the `Authorization` header,
//! and requests refused before any GraphQL runs.

use async_graphql::parser::types::{DocumentOperations, OperationType};
use async_graphql::{BatchResponse, Response};
use axum::extract::Query;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::IntoResponse;
use spaces_graphql::ApiError;

/// What the answer is written as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Media {
    /// `application/graphql-response+json`: statuses say what happened (4xx for a request
    /// that could not run, 503 when the service is unavailable).
    GraphqlResponse,
    /// `application/json`, the legacy type: 200 for every well-formed request.
    Json,
}

impl Media {
    fn content_type(self) -> &'static str {
        match self {
            Media::GraphqlResponse => "application/graphql-response+json; charset=utf-8",
            Media::Json => "application/json; charset=utf-8",
        }
    }
}

/// A request refused before any GraphQL ran: a status, and one error with a code.
#[derive(Debug)]
pub struct Refusal {
    pub status: StatusCode,
    pub code: &'static str,
    error: Box<ApiError>,
    allow: Option<&'static str>,
}

impl Refusal {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            error: Box::new(ApiError::new(code, message)),
            allow: None,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "BAD_REQUEST", message)
    }

    pub fn too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "PAYLOAD_TOO_LARGE",
            format!("request body over {limit} bytes"),
        )
    }

    pub fn unsupported_media_type() -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UNSUPPORTED_MEDIA_TYPE",
            "POST a body of type application/json (or multipart/form-data for an upload)",
        )
    }

    /// A domain error that stops the request as a whole (tenant mismatch, database down).
    pub fn from_api(error: ApiError) -> Self {
        let status = match error.code {
            "UNAVAILABLE" => StatusCode::SERVICE_UNAVAILABLE,
            "UNAUTHENTICATED" => StatusCode::UNAUTHORIZED,
            "INTERNAL" => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        };
        Self {
            status,
            code: error.code,
            error: Box::new(error),
            allow: None,
        }
    }
}

/// The answer to a refused request.
pub fn refusal(media: Media, rid: &str, r: Refusal) -> axum::response::Response {
    let retry = r.error.retry_after_secs;
    let mut body = Response::from_errors(vec![
        async_graphql::Error::from(*r.error).into_server_error(async_graphql::Pos::default()),
    ]);
    for e in body.errors.iter_mut() {
        e.extensions
            .get_or_insert_with(Default::default)
            .set("requestId", rid);
    }
    // The legacy type keeps 200 for an outage, as the specification asks.
    let status = if media == Media::Json && r.code == "UNAVAILABLE" {
        StatusCode::OK
    } else {
        r.status
    };
    let mut resp = write(media, status, &without_data(body));
    if let Some(allow) = r.allow {
        resp.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static(allow));
    }
    retry_after(&mut resp, retry);
    resp
}

fn write(
    media: Media,
    status: StatusCode,
    body: &impl serde::Serialize,
) -> axum::response::Response {
    (
        status,
        [(header::CONTENT_TYPE, media.content_type())],
        serde_json::to_vec(body).unwrap_or_default(),
    )
        .into_response()
}

fn retry_after(resp: &mut axum::response::Response, secs: Option<u64>) {
    if let Some(s) = secs {
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(s));
    }
}

/// `retryAfterSeconds` of the first `UNAVAILABLE` error, if any.
fn unavailable(resp: &Response) -> Option<u64> {
    resp.errors.iter().find_map(|e| {
        let x = e.extensions.as_ref()?;
        let code = x.get("code")?;
        if code != &async_graphql::Value::from("UNAVAILABLE") {
            return None;
        }
        match x.get("retryAfterSeconds") {
            Some(async_graphql::Value::Number(n)) => n.as_u64(),
            _ => Some(spaces_tenants::kernel::error::DB_RETRY_AFTER_SECS),
        }
    })
}

/// A request error: nothing was executed (no data, and no error belongs to a field).
fn is_request_error(resp: &Response) -> bool {
    !resp.errors.is_empty()
        && resp.data == async_graphql::Value::Null
        && resp.errors.iter().all(|e| e.path.is_empty())
}

/// The specification says a request error's answer has no `data` entry.
fn without_data(resp: Response) -> serde_json::Value {
    let request_error = is_request_error(&resp);
    let mut v = serde_json::to_value(&resp).unwrap_or_default();
    if request_error && let Some(o) = v.as_object_mut() {
        o.remove("data");
    }
    v
}

/// The answer to one operation.
pub fn answer(media: Media, resp: Response) -> axum::response::Response {
    let retry = unavailable(&resp);
    let status = match media {
        Media::Json => StatusCode::OK,
        Media::GraphqlResponse if retry.is_some() => StatusCode::SERVICE_UNAVAILABLE,
        Media::GraphqlResponse if is_request_error(&resp) => StatusCode::BAD_REQUEST,
        Media::GraphqlResponse => StatusCode::OK,
    };
    // A refusal past a limit (RATE_LIMITED) says when to retry too, keeping its status.
    let retry = retry.or_else(|| rate_limited(&resp));
    let mut out = write(media, status, &without_data(resp));
    retry_after(&mut out, retry);
    out
}

/// `retryAfterSeconds` of the first `RATE_LIMITED` error, if any.
fn rate_limited(resp: &Response) -> Option<u64> {
    resp.errors.iter().find_map(|e| {
        let x = e.extensions.as_ref()?;
        if x.get("code")? != &async_graphql::Value::from("RATE_LIMITED") {
            return None;
        }
        match x.get("retryAfterSeconds") {
            Some(async_graphql::Value::Number(n)) => n.as_u64(),
            _ => None,
        }
    })
}

/// The answer to a batch (an extension of the specification): 200, or 503 when the service was
/// unavailable to every operation and the client reads statuses.
pub fn answer_batch(media: Media, batch: BatchResponse) -> axum::response::Response {
    let responses: Vec<&Response> = match &batch {
        BatchResponse::Single(r) => vec![r],
        BatchResponse::Batch(rs) => rs.iter().collect(),
    };
    let retries: Vec<Option<u64>> = responses.iter().map(|r| unavailable(r)).collect();
    let retry = retries.iter().flatten().max().copied();
    let status = if media == Media::GraphqlResponse && retries.iter().all(Option::is_some) {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    let mut out = write(media, status, &batch);
    retry_after(&mut out, retry);
    out
}

/// The type of a media range, lower-cased, without parameters.
pub fn essence(media_type: &str) -> String {
    media_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// Media ranges of `Accept` with their weights.
fn accepted(headers: &HeaderMap) -> Vec<(String, f32)> {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter(|r| !r.trim().is_empty())
        .map(|range| {
            let q = range
                .split(';')
                .skip(1)
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            (essence(range), q)
        })
        .collect()
}

/// The media type of the answer: `application/graphql-response+json` when the client accepts it
/// at least as much as JSON, JSON when it accepts JSON (or anything), JSON when it says nothing;
/// otherwise 406.
pub fn negotiate(headers: &HeaderMap) -> Result<Media, Refusal> {
    let ranges = accepted(headers);
    if ranges.is_empty() {
        return Ok(Media::Json);
    }
    let weight = |names: &[&str]| {
        ranges
            .iter()
            .filter(|(r, _)| names.contains(&r.as_str()))
            .map(|(_, q)| *q)
            .fold(0.0_f32, f32::max)
    };
    let gql = weight(&["application/graphql-response+json"]);
    let json = weight(&["application/json", "application/*", "*/*"]);
    if gql > 0.0 && gql >= json {
        Ok(Media::GraphqlResponse)
    } else if json > 0.0 {
        Ok(Media::Json)
    } else {
        Err(Refusal::new(
            StatusCode::NOT_ACCEPTABLE,
            "NOT_ACCEPTABLE",
            "answers are application/graphql-response+json or application/json",
        ))
    }
}

/// A browser asking for a page (GraphiQL) rather than an API client asking for JSON.
pub fn wants_html(headers: &HeaderMap) -> bool {
    accepted(headers)
        .iter()
        .any(|(r, q)| r == "text/html" && *q > 0.0)
}

/// A GET request's operation from the query string: `query`, and `variables`, `operationName`
/// and `extensions` as the specification encodes them (JSON in URL-encoded parameters).
pub fn request_from_query(uri: &Uri) -> Result<async_graphql::Request, Refusal> {
    let Query(params) = Query::<Vec<(String, String)>>::try_from_uri(uri)
        .map_err(|_| Refusal::bad_request("the query string is not URL-encoded parameters"))?;
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let mut obj = serde_json::Map::new();
    let Some(query) = get("query") else {
        return Err(Refusal::bad_request(
            "query: the query string needs a query parameter",
        ));
    };
    obj.insert("query".into(), query.into());
    if let Some(name) = get("operationName").filter(|n| !n.is_empty()) {
        obj.insert("operationName".into(), name.into());
    }
    for field in ["variables", "extensions"] {
        if let Some(raw) = get(field).filter(|v| !v.is_empty()) {
            let v: serde_json::Value = serde_json::from_str(raw)
                .map_err(|_| Refusal::bad_request(format!("{field}: not JSON")))?;
            if !(v.is_object() || v.is_null()) {
                return Err(Refusal::bad_request(format!(
                    "{field}: must be a JSON object"
                )));
            }
            obj.insert(field.into(), v);
        }
    }
    serde_json::from_value(serde_json::Value::Object(obj))
        .map_err(|e| Refusal::bad_request(format!("not a GraphQL request: {e}")))
}

/// GET is safe: a mutation (or subscription) over GET is refused with 405 and `Allow: POST`.
/// A document that does not parse, or names no operation it holds, goes on to GraphQL, which
/// says what is wrong with it.
pub fn refuse_mutation_over_get(request: &async_graphql::Request) -> Result<(), Refusal> {
    let Ok(doc) = async_graphql::parser::parse_query(&request.query) else {
        return Ok(());
    };
    let ty = match (&doc.operations, request.operation_name.as_deref()) {
        (DocumentOperations::Single(op), _) => Some(op.node.ty),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name).map(|op| op.node.ty),
        (DocumentOperations::Multiple(_), None) => None,
    };
    if matches!(
        ty,
        Some(OperationType::Mutation | OperationType::Subscription)
    ) {
        let mut r = Refusal::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "METHOD_NOT_ALLOWED",
            "GET runs queries only; send mutations with POST",
        );
        r.allow = Some("POST");
        return Err(r);
    }
    Ok(())
}

/// The bearer token, if any. Two `Authorization` headers are refused (which one counts?); the
/// scheme is matched without regard to case (RFC 7235); other schemes are not ours and ignored.
pub fn bearer(headers: &HeaderMap) -> Result<Option<&str>, Refusal> {
    let mut all = headers.get_all(header::AUTHORIZATION).iter();
    let Some(first) = all.next() else {
        return Ok(None);
    };
    if all.next().is_some() {
        return Err(Refusal::bad_request(
            "Authorization: send one Authorization header, not several",
        ));
    }
    let value = first
        .to_str()
        .map_err(|_| Refusal::bad_request("Authorization: not text"))?
        .trim();
    let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Ok(None);
    }
    Ok(Some(token.trim()))
}
