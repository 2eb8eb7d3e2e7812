//! Statements sent with their attachments (Data 2.4.11, Communication 1.5.2) and signed
//! statements (Data 2.6): which part belongs to which attachment, which attachment needs its
//! part, and the JWS a signature part carries. The wire format is [`super::multipart`].

use std::collections::{BTreeSet, HashSet};

use axum::body::Bytes;
use axum::http::{HeaderMap, header};
use serde_json::Value;
use spaces_tenants::TenantTx;
use spaces_tenants::progress::attachments::{self, Part};
use spaces_xapi::Invalid;
use spaces_xapi::statement::{AttachmentRef, Checked};

use super::invalid;
use super::multipart;
use super::statements::{at, parsed};
use crate::graphql_http::{Refusal, essence};

/// The Content-Type of a multipart request; `None` for anything else (JSON, say).
pub fn multipart_type(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .filter(|t| essence(t).starts_with("multipart/"))
}

/// Every attachment of a statement and of its SubStatement, with the path that leads to its
/// `attachments` list (`""` or `"object."`) and its place in that list.
pub fn refs(c: &Checked) -> Vec<(&'static str, usize, &AttachmentRef)> {
    let own = c.attachments.iter().enumerate().map(|(n, a)| ("", n, a));
    let sub = c.substatement.iter().flat_map(|s| {
        s.attachments
            .iter()
            .enumerate()
            .map(|(n, a)| ("object.", n, a))
    });
    own.chain(sub).collect()
}

/// The statements of a `multipart/mixed` request, checked and normalised, and the parts they
/// name. Every attachment without `fileUrl`, and every signature, must have its part; a part no
/// attachment names is refused; each signature must sign its statement.
pub async fn received(
    content_type: &str,
    body: Bytes,
    batch: bool,
) -> Result<(Vec<Value>, Vec<Part>), Refusal> {
    if essence(content_type) != "multipart/mixed" {
        return Err(invalid(Invalid::new(
            "Content-Type",
            "must be application/json, or multipart/mixed for statements with attachments",
        )));
    }
    let mixed = multipart::read(content_type, body).await?;
    let list = parsed(&mixed.json, batch)?;
    let many = list.len() > 1;
    let named: HashSet<String> = list
        .iter()
        .flat_map(|(_, c)| refs(c))
        .map(|(_, _, a)| a.sha2.to_ascii_lowercase())
        .collect();
    if let Some(k) = mixed.parts.iter().position(|p| !named.contains(&p.sha2)) {
        return Err(invalid(Invalid::new(
            format!("parts[{}].X-Experience-API-Hash", k + 1),
            "names no attachment of the statements",
        )));
    }
    let part = |sha2: &str| {
        mixed
            .parts
            .iter()
            .find(|p| p.sha2.eq_ignore_ascii_case(sha2))
    };
    for (i, (s, c)) in list.iter().enumerate() {
        for (path, n, a) in refs(c) {
            let needed = !a.has_file_url || a.is_signature();
            let Some(p) = part(&a.sha2) else {
                if needed {
                    return Err(invalid(Invalid::new(
                        at(i, many, format!("{path}attachments[{n}].sha2")),
                        "names no part of the request (an attachment without fileUrl, or a signature, is sent as a part)",
                    )));
                }
                continue;
            };
            // A SubStatement's signature has no statement of its own to sign; only the
            // statement's signatures are checked.
            if a.is_signature() && path.is_empty() {
                let field = || at(i, many, format!("attachments[{n}]"));
                let jws = std::str::from_utf8(&p.content).map_err(|_| {
                    invalid(Invalid::new(field(), "the signature part is not a JWS"))
                })?;
                spaces_xapi::signature::check(jws, s)
                    .map_err(|e| invalid(Invalid::new(field(), e.reason)))?;
            }
        }
    }
    let statements = list.into_iter().map(|(s, _)| s).collect();
    Ok((statements, mixed.parts))
}

/// The distinct hashes the attachments of these statements (and their SubStatements) name.
fn sha2s<'v>(statements: impl Iterator<Item = &'v Value>) -> Vec<String> {
    let mut out = BTreeSet::new();
    for s in statements {
        for owner in [Some(s), s.get("object")].into_iter().flatten() {
            let list = owner.get("attachments").and_then(Value::as_array);
            for a in list.into_iter().flatten() {
                if let Some(h) = a.get("sha2").and_then(Value::as_str) {
                    out.insert(h.to_ascii_lowercase());
                }
            }
        }
    }
    out.into_iter().collect()
}

/// The stored parts of these statements' attachments, each once (`attachments=true`).
pub async fn of<'v>(
    tx: &TenantTx,
    statements: impl Iterator<Item = &'v Value>,
) -> Result<Vec<Part>, spaces_tenants::Error> {
    attachments::fetch(tx, &sha2s(statements)).await
}
