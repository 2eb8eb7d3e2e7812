//! The public side of certificates, on each space's own host, needing no account:
//!
//! - `GET /issuer`: the space's OB 3.0 `Profile` (the credentials' issuer id);
//! - `GET /credentials/keys` (JWKS) and `/credentials/keys/{id}` (one JWK, the `kid` URL);
//! - `GET /credentials/{id}`: the credential (JSON; `Accept: application/vc+jwt` or
//!   `{id}.jwt` for the signed VC-JWT); `{id}.pdf`, the PDF, for its learner and their HR;
//! - `GET /credentials/status/{list}`: the revocation Bitstring Status List credential;
//! - `GET /verify/{id}`: valid or not and why, as HTML (in the space's language and branding)
//!   or JSON, by `Accept`; `POST /verify` checks a VC-JWT a holder presents.
//!
//! A credential of another space is unknown here, exactly like an id never issued.

mod page;
mod pdf;
mod status_list;

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};
use spaces_tenants::credentials::document::{self, IssuerFacts, Urls};
use spaces_tenants::credentials::records::{self, Certificate};
use spaces_tenants::credentials::{keys, verify};
use spaces_tenants::spaces::Space;
use spaces_tenants::{CredentialId, CredentialKeyId, TenantTx};

use crate::app::AppState;
use crate::resolve::{Addressed, resolve_with};

/// A holder's VC-JWT: a 3072-bit signature and a credential of a few kilobytes.
const MAX_PRESENTED: usize = 64 * 1024;
pub const JWT_MEDIA: &str = "application/vc+jwt";

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/issuer", get(issuer))
        .route("/logo", get(logo))
        .route("/credentials/keys", get(jwks))
        .route("/credentials/keys/{id}", get(jwk))
        .route("/credentials/status/{list}", get(status_list::serve))
        .route("/credentials/{file}", get(credential))
        .route("/verify/{id}", get(verify_stored))
        .route(
            "/verify",
            axum::routing::post(verify_presented)
                .layer(axum::extract::DefaultBodyLimit::max(MAX_PRESENTED)),
        )
}

pub(crate) fn json_error(status: StatusCode, code: &str, message: &str) -> Response {
    answer(
        status,
        "application/json",
        json!({ "error": { "code": code, "message": message } })
            .to_string()
            .into_bytes(),
        false,
    )
}

pub(crate) fn not_found(what: &str) -> Response {
    json_error(StatusCode::NOT_FOUND, "NOT_FOUND", what)
}

pub(crate) fn unavailable(e: spaces_tenants::Error) -> Response {
    tracing::warn!(error = %e, "a credentials route failed");
    json_error(
        StatusCode::SERVICE_UNAVAILABLE,
        "UNAVAILABLE",
        "the service cannot answer now; try again shortly",
    )
}

/// Public documents may be cached briefly (keys and profiles change rarely); nothing that
/// says whether a credential is revoked is cached.
pub(crate) fn answer(
    status: StatusCode,
    media: &'static str,
    body: Vec<u8>,
    cache: bool,
) -> Response {
    let mut r = (status, body).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(media));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(if cache {
            "public, max-age=300"
        } else {
            "no-store"
        }),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // Verifiers are other sites' scripts: they may read these answers.
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    r
}

pub(crate) fn json_answer(v: &Value, cache: bool) -> Response {
    answer(
        StatusCode::OK,
        "application/json",
        v.to_string().into_bytes(),
        cache,
    )
}

/// The addressed space, a transaction in it, and its credential URLs.
pub(crate) async fn open(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<(Space, TenantTx, Urls), Response> {
    let space = match resolve_with(&state.deps, headers, state.config.tenant_header).await {
        Ok(Addressed::Space(s)) => s,
        Ok(_) => return Err(not_found("no space at this address")),
        Err(spaces_tenants::Error::Refused { code, reason }) => {
            return Err(json_error(StatusCode::BAD_REQUEST, code, &reason));
        }
        Err(e) => return Err(unavailable(e)),
    };
    let tx = TenantTx::begin(&state.deps.db, space.id)
        .await
        .map_err(unavailable)?;
    let links = &state.deps.links;
    let urls = Urls {
        origin: links.origin(&links.slug_host(&space.slug)),
    };
    Ok((space, tx, urls))
}

pub(crate) fn wants(headers: &HeaderMap, media: &str) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.split(',').any(|m| m.trim().starts_with(media)))
}

async fn issuer(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    let (space, tx, urls) = match open(&state, &headers).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let has_logo = match spaces_tenants::credentials::logo::exists(&tx).await {
        Ok(l) => l,
        Err(e) => return unavailable(e),
    };
    let facts = IssuerFacts {
        name: space.display_name.clone(),
        email: space.branding.support_email.clone(),
        has_logo,
    };
    let mut p = document::profile(&urls, &facts);
    p["@context"] = json!([document::VC_CONTEXT, document::OB_CONTEXT]);
    json_answer(&p, true)
}

async fn logo(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    let (_, tx, _) = match open(&state, &headers).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    match spaces_tenants::credentials::logo::get(&tx).await {
        Ok(Some(l)) => answer(StatusCode::OK, l.media_type, l.bytes, true),
        Ok(None) => not_found("this space has uploaded no logo"),
        Err(e) => unavailable(e),
    }
}

async fn jwks(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    let (_, tx, urls) = match open(&state, &headers).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    match keys::all(&tx).await {
        Ok(all) => {
            let keys: Vec<Value> = all
                .iter()
                .map(|k| k.public.jwk(&urls.key(k.id.uuid())))
                .collect();
            json_answer(&json!({ "keys": keys }), true)
        }
        Err(e) => unavailable(e),
    }
}

async fn jwk(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let (_, tx, urls) = match open(&state, &headers).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let Ok(id) = id.parse::<CredentialKeyId>() else {
        return not_found("no such key in this space");
    };
    match keys::get(&tx, id).await {
        Ok(Some(k)) => answer(
            StatusCode::OK,
            "application/jwk+json",
            k.public
                .jwk(&urls.key(k.id.uuid()))
                .to_string()
                .into_bytes(),
            true,
        ),
        Ok(None) => not_found("no such key in this space"),
        Err(e) => unavailable(e),
    }
}

/// `<id>`, `<id>.jwt` or `<id>.pdf`.
fn parse_file(file: &str) -> Option<(CredentialId, &str)> {
    let (id, ext) = file.split_once('.').unwrap_or((file, ""));
    Some((id.parse().ok()?, ext))
}

async fn credential(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(file): Path<String>,
) -> Response {
    let Some((id, ext)) = parse_file(&file) else {
        return not_found("no such credential in this space");
    };
    if ext == "pdf" {
        return pdf::download(&state, &headers, id).await;
    }
    let (_, tx, _) = match open(&state, &headers).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let c = match records::find(&tx, id).await {
        Ok(Some(c)) => c,
        Ok(None) => return not_found("no such credential in this space"),
        Err(e) => return unavailable(e),
    };
    match ext {
        "jwt" => answer(StatusCode::OK, JWT_MEDIA, c.jwt.into_bytes(), false),
        "" if wants(&headers, JWT_MEDIA) || wants(&headers, "application/jwt") => {
            answer(StatusCode::OK, JWT_MEDIA, c.jwt.into_bytes(), false)
        }
        "" => match payload(&c) {
            Some(v) => json_answer(&v, false),
            None => unavailable(spaces_tenants::Error::Internal(
                "unreadable stored credential".into(),
            )),
        },
        _ => not_found("no such credential in this space"),
    }
}

/// The payload of a stored VC-JWT (it was signed here, so it decodes).
pub(crate) fn payload(c: &Certificate) -> Option<Value> {
    spaces_tenants::credentials::signing::payload_of(&c.jwt).ok()
}

async fn verify_stored(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let (space, tx, urls) = match open(&state, &headers).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let now = state.deps.clock.now();
    let verdict = match id.parse::<CredentialId>() {
        Ok(id) => verify::stored(&tx, &urls, id, now).await,
        Err(_) => Ok(verify::Verdict {
            failure: Some(verify::Failure::NotFound),
            credential: None,
            record: None,
        }),
    };
    let verdict = match verdict {
        Ok(v) => v,
        Err(e) => return unavailable(e),
    };
    let name = match &verdict.record {
        Some(c) if c.public => match spaces_tenants::people::display_name(&tx, c.person).await {
            Ok(n) => n,
            Err(e) => return unavailable(e),
        },
        _ => None,
    };
    if wants(&headers, "text/html") && !wants(&headers, "application/json") {
        let has_logo = match spaces_tenants::credentials::logo::exists(&tx).await {
            Ok(l) => l,
            Err(e) => return unavailable(e),
        };
        return page::render(&space, &urls, &verdict, name.as_deref(), has_logo);
    }
    verdict_json(&urls, &verdict, name.as_deref())
}

fn verdict_json(urls: &Urls, v: &verify::Verdict, name: Option<&str>) -> Response {
    let mut out = json!({
        "valid": v.valid(),
        "checks": {
            "signature": v.credential.is_some(),
            "revoked": v.failure == Some(verify::Failure::Revoked),
            "expired": v.failure == Some(verify::Failure::Expired),
        },
    });
    if let Some(f) = v.failure {
        out["reason"] = json!({ "code": f.code(), "message": f.reason() });
    }
    if let Some(c) = &v.record {
        out["credential"] = json!({
            "id": urls.credential(c.id.uuid()),
            "achievement": c.achievement_name,
            "issuedAt": document::time(c.issued_at),
            "validUntil": c.valid_until.map(document::time),
            "revokedAt": c.revoked_at.map(document::time),
            "revocationReason": c.revoked_reason,
            "microcredential": c.microcredential,
        });
        out["issuer"] = json!(urls.issuer());
        if let Some(n) = name {
            out["credential"]["learner"] = json!(n);
        }
    }
    let status = if v.failure == Some(verify::Failure::NotFound) {
        StatusCode::NOT_FOUND
    } else {
        StatusCode::OK
    };
    answer(
        status,
        "application/json",
        out.to_string().into_bytes(),
        false,
    )
}

/// `POST /verify`: the VC-JWT as the body (`application/vc+jwt`, `text/plain`), or JSON
/// `{"credential": "<jwt>"}`.
async fn verify_presented(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if body.len() > MAX_PRESENTED {
        return json_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "PAYLOAD_TOO_LARGE",
            &format!("a presented credential is at most {MAX_PRESENTED} bytes"),
        );
    }
    let Ok(text) = std::str::from_utf8(&body) else {
        return json_error(
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            "credential: the body is not UTF-8 text",
        );
    };
    let jwt = if text.trim_start().starts_with('{') {
        match serde_json::from_str::<Value>(text) {
            Ok(v) => match v.get("credential").and_then(Value::as_str) {
                Some(j) => j.to_owned(),
                None => {
                    return json_error(
                        StatusCode::BAD_REQUEST,
                        "BAD_REQUEST",
                        "credential: send {\"credential\": \"<VC-JWT>\"} or the VC-JWT itself as the body",
                    );
                }
            },
            Err(e) => {
                return json_error(
                    StatusCode::BAD_REQUEST,
                    "BAD_REQUEST",
                    &format!("the body is not JSON: {e}"),
                );
            }
        }
    } else {
        text.trim().to_owned()
    };
    if jwt.is_empty() {
        return json_error(
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            "credential: the body is empty",
        );
    }
    let (_, tx, urls) = match open(&state, &headers).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    match verify::presented(&tx, &urls, &jwt, state.deps.clock.now()).await {
        Ok(v) => {
            // A presented copy is judged as presented: the record is shown only when valid.
            let mut v = v;
            if v.failure
                .is_some_and(|f| f != verify::Failure::Revoked && f != verify::Failure::Expired)
            {
                v.record = None;
            }
            let mut r = verdict_json(&urls, &v, None);
            *r.status_mut() = StatusCode::OK;
            r
        }
        Err(e) => unavailable(e),
    }
}
