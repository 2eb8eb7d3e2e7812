//! Uploads (the GraphQL multipart request): accepted only for `importEnrolments` and
//! `uploadSpaceLogo`, only from a
//! signed-in person of the addressed space, and parsed here with tight limits. async-graphql's
//! own reader caps every part alike (a multi-MiB `operations` part would pass) and reads before
//! anyone is checked; this one checks the token before a byte of the body is read, takes at most
//! 64 KiB of `operations` and of `map`, and exactly one file part.

use std::collections::HashMap;
use std::io::Seek;

use async_graphql::UploadValue;
use async_graphql::parser::types::{DocumentOperations, OperationType, Selection};
use axum::body::Body;
use axum::http::StatusCode;
use spaces_graphql::Deps;
use spaces_graphql::limits::{MAX_BODY_BYTES, MAX_UPLOAD_BYTES};
use spaces_tenants::auth::tokens::{Bearer, unix_now};
use spaces_tenants::spaces::Space;
use tokio::io::AsyncWriteExt;

use crate::graphql_http::Refusal;

/// The only operation that takes a file.
/// The only operations that take a file.
const UPLOAD_FIELDS: &[&str] = &["importEnrolments", "uploadSpaceLogo"];

fn bad(message: impl Into<String>) -> Refusal {
    Refusal::bad_request(message)
}

/// The token must be a valid person's token of the addressed space. Only its signature and
/// expiry are checked here (no database work while a body waits); the request's scope checks
/// the rest, as for any request.
pub fn check_token(
    deps: &Deps,
    space: Option<&Space>,
    bearer: Option<&str>,
) -> Result<(), Refusal> {
    let refused = || {
        Refusal::new(
            StatusCode::BAD_REQUEST,
            "UNAUTHENTICATED",
            "uploads need a signed-in person of this space: send Authorization: Bearer <token>",
        )
    };
    let (Some(space), Some(token)) = (space, bearer) else {
        return Err(refused());
    };
    match deps.keys.verify(token, unix_now()) {
        Ok(Bearer::Person { tenant, .. }) if tenant == space.id => Ok(()),
        _ => Err(refused()),
    }
}

fn multer_refusal(e: multer::Error) -> Refusal {
    match e {
        multer::Error::FieldSizeExceeded { limit, field_name } => Refusal::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "PAYLOAD_TOO_LARGE",
            format!(
                "{}: over {limit} bytes",
                field_name.as_deref().unwrap_or("a part")
            ),
        ),
        multer::Error::StreamSizeExceeded { limit } => Refusal::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "PAYLOAD_TOO_LARGE",
            format!("request body over {limit} bytes"),
        ),
        e => bad(format!("the body is not a multipart upload: {e}")),
    }
}

async fn next_part<'a>(
    mp: &mut multer::Multipart<'a>,
    expected: &str,
) -> Result<multer::Field<'a>, Refusal> {
    mp.next_field()
        .await
        .map_err(multer_refusal)?
        .ok_or_else(|| bad(format!("the upload has no {expected} part")))
}

/// The operation must be a mutation selecting one of [`UPLOAD_FIELDS`] and nothing else.
fn check_operation(request: &async_graphql::Request) -> Result<(), Refusal> {
    let wrong = || {
        bad(format!(
            "operations: uploads are accepted only for a mutation with the single field {}",
            UPLOAD_FIELDS.join(" or ")
        ))
    };
    let doc = async_graphql::parser::parse_query(&request.query)
        .map_err(|_| bad("operations: the query does not parse"))?;
    let op = match (&doc.operations, request.operation_name.as_deref()) {
        (DocumentOperations::Single(op), _) => op,
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name).ok_or_else(wrong)?,
        // One named operation and no operationName is allowed by the spec; async-graphql files
        // a named operation under `Multiple`.
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => {
            ops.values().next().ok_or_else(wrong)?
        }
        (DocumentOperations::Multiple(_), None) => return Err(wrong()),
    };
    let items = &op.node.selection_set.node.items;
    let only_import = op.node.ty == OperationType::Mutation
        && items.len() == 1
        && matches!(&items[0].node, Selection::Field(f) if UPLOAD_FIELDS.contains(&f.node.name.node.as_str()));
    if only_import { Ok(()) } else { Err(wrong()) }
}

/// Reads the upload: `operations`, `map`, then the one file, each within its limit; anything
/// more is refused.
pub async fn read(content_type: &str, body: Body) -> Result<async_graphql::Request, Refusal> {
    let boundary = multer::parse_boundary(content_type)
        .map_err(|_| bad("Content-Type: multipart/form-data needs a boundary"))?;
    let limits = multer::SizeLimit::new()
        .whole_stream((MAX_UPLOAD_BYTES + 3 * MAX_BODY_BYTES) as u64)
        .for_field("operations", MAX_BODY_BYTES as u64)
        .for_field("map", MAX_BODY_BYTES as u64)
        .per_field(MAX_UPLOAD_BYTES as u64);
    let mut mp = multer::Multipart::with_constraints(
        body.into_data_stream(),
        boundary,
        multer::Constraints::new().size_limit(limits),
    );

    let part = next_part(&mut mp, "operations").await?;
    if part.name() != Some("operations") {
        return Err(bad("the first part of an upload must be `operations`"));
    }
    let bytes = part.bytes().await.map_err(multer_refusal)?;
    let mut request: async_graphql::Request = serde_json::from_slice(&bytes)
        .map_err(|_| bad("operations: must be one GraphQL request as JSON"))?;
    check_operation(&request)?;

    let part = next_part(&mut mp, "map").await?;
    if part.name() != Some("map") {
        return Err(bad("the second part of an upload must be `map`"));
    }
    let bytes = part.bytes().await.map_err(multer_refusal)?;
    let map: HashMap<String, Vec<String>> = serde_json::from_slice(&bytes)
        .map_err(|_| bad("map: must be a JSON object of part names to variable paths"))?;
    let (key, paths) = match map.into_iter().collect::<Vec<_>>().as_slice() {
        [(k, p)] if p.len() == 1 => (k.clone(), p.clone()),
        _ => {
            return Err(bad(
                "map: an upload carries exactly one file, for one variable",
            ));
        }
    };
    let path = &paths[0];
    if !path.starts_with("variables.") {
        return Err(bad("map: the file must go to a variable (variables.…)"));
    }

    let mut part = next_part(&mut mp, "file").await?;
    if part.name() != Some(key.as_str()) {
        return Err(bad(format!(
            "the third part of an upload must be the file {key:?}"
        )));
    }
    let filename = part.file_name().unwrap_or("upload").to_owned();
    let file_type = part.content_type().map(|m| m.to_string());
    let spool = |e: std::io::Error| {
        tracing::error!(error = %e, "spooling an upload to a temporary file");
        Refusal::from_api(spaces_graphql::ApiError::internal())
    };
    let mut file = tokio::fs::File::from_std(tempfile::tempfile().map_err(spool)?);
    while let Some(chunk) = part.chunk().await.map_err(multer_refusal)? {
        file.write_all(&chunk).await.map_err(spool)?;
    }
    drop(part);
    file.flush().await.map_err(spool)?;
    let mut file = file.into_std().await;
    file.rewind().map_err(spool)?;

    if mp.next_field().await.map_err(multer_refusal)?.is_some() {
        return Err(bad("an upload carries exactly one file part"));
    }
    request.set_upload(
        path,
        UploadValue {
            filename,
            content_type: file_type,
            content: file,
        },
    );
    Ok(request)
}
