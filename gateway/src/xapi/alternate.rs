//! The alternate request syntax of xAPI 1.0.3 (Communication 1.3): a browser that cannot send
//! custom headers or methods POSTs a form to `?method=PUT` (or GET, POST, DELETE, HEAD), and the
//! form carries the headers (`Authorization`, `X-Experience-API-Version`, `Content-Type`,
//! `If-Match`, `If-None-Match`), the body as `content`, and every other parameter. The request
//! is rebuilt from the form and then goes through the same checks as any other, credentials
//! included: they may be in the form only.

use axum::body::Body;
use axum::http::header::{self, HeaderName};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method};
use spaces_xapi::Invalid;

use super::{MAX_BODY, Params, XRequest, authorised, bytes, invalid};
use crate::app::AppState;
use crate::graphql_http::Refusal;

/// The form fields that stand for headers (names compared without case, as header names are).
const HEADERS: &[&str] = &[
    "authorization",
    "x-experience-api-version",
    "content-type",
    "content-length",
    "if-match",
    "if-none-match",
];

pub async fn read(
    state: &AppState,
    parts: Parts,
    mut query: Params,
    body: Body,
    resource: String,
) -> Result<XRequest, Refusal> {
    if parts.method != Method::POST {
        return Err(invalid(Invalid::new(
            "method",
            "only a POST may carry the method parameter",
        )));
    }
    let method = query.take("method").unwrap_or_default();
    if let Some(other) = query.names().next() {
        return Err(invalid(Invalid::new(
            other,
            "with the method parameter, every other parameter goes in the form body",
        )));
    }
    let method = match method.as_str() {
        "GET" => Method::GET,
        "HEAD" => Method::HEAD,
        "PUT" => Method::PUT,
        "POST" => Method::POST,
        "DELETE" => Method::DELETE,
        _ => {
            return Err(invalid(Invalid::new(
                "method",
                "must be GET, HEAD, PUT, POST or DELETE",
            )));
        }
    };
    let form_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| {
            v.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
        .unwrap_or(false);
    if !form_type {
        return Err(invalid(Invalid::new(
            "Content-Type",
            "must be application/x-www-form-urlencoded with the method parameter",
        )));
    }
    let raw = bytes(body, MAX_BODY).await?;
    let text =
        std::str::from_utf8(&raw).map_err(|_| invalid(Invalid::new("body", "is not UTF-8")))?;
    let form = Params::parse(Some(text))?;
    let mut headers = parts.headers.clone();
    headers.remove(header::CONTENT_TYPE);
    headers.remove(header::CONTENT_LENGTH);
    let mut params = Params::default();
    let mut content = None;
    for (name, value) in form.into_pairs() {
        let lower = name.to_ascii_lowercase();
        if HEADERS.contains(&lower.as_str()) {
            let v = HeaderValue::from_str(&value)
                .map_err(|_| invalid(Invalid::new(name.as_str(), "is not a valid header value")))?;
            if let Ok(n) = HeaderName::from_bytes(lower.as_bytes()) {
                headers.insert(n, v);
            }
        } else if name == "content" {
            content = Some(value);
        } else {
            params.push(name, value);
        }
    }
    if content.is_some() && !headers.contains_key(header::CONTENT_TYPE) {
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
    }
    let (space, credential) = authorised(state, &headers).await?;
    Ok(XRequest {
        method,
        resource,
        headers,
        params,
        body: content.map(Into::into).unwrap_or_default(),
        space,
        credential,
    })
}
