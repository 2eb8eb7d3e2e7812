//! `GET /invoices/{id}.pdf` and `GET /invoices/{id}.xml`: an issued invoice or credit note as
//! its PDF or its EN 16931 UBL 2.1 XML, on the space's own host (or with `X-Tenant`).
//!
//! Authorised like the GraphQL invoice query: a bearer token of that space (or a platform
//! operator's). Platform operators and tenant admins read every invoice of the space; anyone
//! else is refused before any invoice is looked up, so the answer says nothing about which ids
//! exist. An invoice of another space, a draft, an unknown or malformed id: 404, all alike.
//!
//! Organisation admins download only their own billing account's invoices, as the `invoice`
//! query shows them; another account's invoice answers 404 like an unknown id.

use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use spaces_billing::InvoiceId;
use spaces_billing::documents::{InvoiceDocument, pdf, ubl};
use spaces_graphql::{ApiError, RequestScope};

use crate::app::AppState;
use crate::graphql_http::{self as gh, Media, Refusal};
use crate::resolve::{Addressed, resolve_with};

/// What the metrics call this route.
const OPERATION: &str = "invoiceDownload";

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Format {
    Pdf,
    Xml,
}

impl Format {
    fn content_type(self) -> &'static str {
        match self {
            Format::Pdf => "application/pdf",
            Format::Xml => "application/xml; charset=utf-8",
        }
    }

    fn extension(self) -> &'static str {
        match self {
            Format::Pdf => "pdf",
            Format::Xml => "xml",
        }
    }
}

/// `<uuid>.pdf` or `<uuid>.xml`; anything else is no file here.
pub fn parse_file(file: &str) -> Option<(InvoiceId, Format)> {
    let (id, ext) = file.rsplit_once('.')?;
    let format = match ext {
        "pdf" => Format::Pdf,
        "xml" => Format::Xml,
        _ => return None,
    };
    Some((InvoiceId::from_str(id).ok()?, format))
}

fn not_found() -> Refusal {
    Refusal::new(
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        "no such invoice in this space",
    )
}

/// The HTTP status of an error from the scope or the billing module.
fn refusal(e: ApiError) -> Refusal {
    let status = match e.code {
        "UNAUTHENTICATED" => StatusCode::UNAUTHORIZED,
        "FORBIDDEN" => StatusCode::FORBIDDEN,
        "NOT_FOUND" => StatusCode::NOT_FOUND,
        "UNAVAILABLE" => StatusCode::SERVICE_UNAVAILABLE,
        "INTERNAL" => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::BAD_REQUEST,
    };
    let mut r = Refusal::from_api(e);
    r.status = status;
    r
}

/// Only ASCII letters, digits, `-` and `_` reach the Content-Disposition header.
fn file_name(doc: &InvoiceDocument, format: Format) -> String {
    let stem: String = doc
        .number
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
        .collect();
    let stem = if stem.is_empty() {
        doc.id.to_string()
    } else {
        stem
    };
    format!("{stem}.{}", format.extension())
}

pub async fn download(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(file): Path<String>,
) -> Response {
    let started = Instant::now();
    let rid = headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let answer = serve(&state, peer, &headers, &file).await;
    let outcome = match &answer {
        Ok(_) => "ok",
        Err(r) => r.code,
    };
    state
        .metrics
        .observe(OPERATION, outcome, started.elapsed().as_secs_f64());
    match answer {
        Ok(resp) => resp,
        Err(r) => gh::refusal(Media::GraphqlResponse, &rid, r),
    }
}

async fn serve(
    state: &AppState,
    peer: SocketAddr,
    headers: &HeaderMap,
    file: &str,
) -> Result<Response, Refusal> {
    let bearer = gh::bearer(headers)?;
    let space = match resolve_with(&state.deps, headers, state.config.tenant_header).await {
        Ok(Addressed::Space(s)) => s,
        Ok(Addressed::Platform | Addressed::Unknown(_)) => return Err(not_found()),
        Err(e) => return Err(refusal(e.into())),
    };
    if bearer.is_none() {
        return Err(refusal(ApiError::unauthenticated(
            "invoice downloads need a signed-in person of this space: send Authorization: Bearer <token>",
        )));
    }
    let client =
        crate::client_addr::client_address(&state.config.trusted_proxies, headers, Some(peer));
    let scope = RequestScope::open(state.deps.clone(), Some(space), bearer, client, 1)
        .await
        .map_err(refusal)?;
    // Who may read before what exists: a refusal here is the same for every id.
    if !spaces_billing::invoices::may_download(&scope.principal) {
        return Err(refusal(ApiError::forbidden(
            "only the space's administrators and organisation admins download invoices",
        )));
    }
    let Some((id, format)) = parse_file(file) else {
        return Err(not_found());
    };
    let tx = scope.tx().await.map_err(refusal)?;
    let doc = spaces_billing::invoices::document_for(&tx, &scope.principal, id).await;
    drop(tx);
    let doc = match doc {
        Ok(d) => d,
        Err(spaces_tenants::Error::NotFound) => return Err(not_found()),
        Err(e) => return Err(refusal(e.into())),
    };
    scope.finish().await.map_err(refusal)?;
    let body = match format {
        Format::Pdf => pdf::invoice_pdf(&doc),
        Format::Xml => ubl::invoice_xml(&doc).into_bytes(),
    };
    let disposition = HeaderValue::from_str(&format!(
        "attachment; filename=\"{}\"",
        file_name(&doc, format)
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("attachment"));
    Ok((
        StatusCode::OK,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(format.content_type()),
            ),
            (header::CONTENT_DISPOSITION, disposition),
            // Billing documents of one space: never kept by a shared cache.
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, no-store"),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        body,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_parse() {
        let id = InvoiceId::new();
        assert_eq!(parse_file(&format!("{id}.pdf")), Some((id, Format::Pdf)));
        assert_eq!(parse_file(&format!("{id}.xml")), Some((id, Format::Xml)));
        assert_eq!(parse_file(&format!("{id}.html")), None);
        assert_eq!(parse_file(&id.to_string()), None);
        assert_eq!(parse_file("not-an-id.pdf"), None);
    }

    #[test]
    fn download_names_keep_safe_characters_only() {
        let mut doc = spaces_billing::documents::sample::invoice();
        assert_eq!(file_name(&doc, Format::Pdf), "OCAPIAT-F-2026-000123.pdf");
        doc.number = "\"; evil\r\n".into();
        assert_eq!(file_name(&doc, Format::Xml), "evil.xml");
    }
}
