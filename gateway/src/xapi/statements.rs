//! `/xapi/statements`: PUT one, POST one or a batch, GET one by id (voided or not) or a page
//! by filters with `more` to the next. Every statement is checked against xAPI 1.0.3 before
//! anything is stored; a request's statements commit together or not at all.

use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use spaces_tenants::TenantTx;
use spaces_tenants::progress::attachments::Part;
use spaces_tenants::progress::credentials::Scope;
use spaces_tenants::progress::query::{self, Cursor, Filter};
use spaces_tenants::progress::statements::{self, Stored};
use spaces_xapi::{Invalid, statement};

use super::params::{self, Params};
use super::{Answer, XRequest, invalid};
use super::{attachments, multipart};
use crate::app::AppState;
use crate::graphql_http::Refusal;

/// A page holds at most this many statements; `limit=0` asks for this many.
pub const MAX_LIMIT: u64 = 500;
pub const CONSISTENT_THROUGH: &str = "x-experience-api-consistent-through";

pub async fn handle(state: &AppState, x: XRequest) -> Answer {
    match x.method {
        Method::PUT => put(state, x).await,
        Method::POST => post(state, x).await,
        Method::GET | Method::HEAD => get(state, x).await,
        _ => Err(params::method_not_allowed()),
    }
}

fn db(e: spaces_tenants::Error) -> Refusal {
    match e {
        spaces_tenants::Error::Conflict { reason, .. } => {
            Refusal::new(StatusCode::CONFLICT, "CONFLICT", reason)
        }
        spaces_tenants::Error::Invalid { field, reason } => invalid(Invalid::new(field, reason)),
        e => Refusal::from_api(e.into()),
    }
}

/// The statements of a JSON body: one object, or an array of them, each checked and normalised.
fn checked(body: &[u8], headers: &HeaderMap, batch: bool) -> Result<Vec<Value>, Refusal> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if essence != "application/json" {
        return Err(invalid(Invalid::new(
            "Content-Type",
            "must be application/json (statements with attachments: multipart/mixed)",
        )));
    }
    let list = parsed(body, batch)?;
    let many = list.len() > 1;
    for (i, (_, c)) in list.iter().enumerate() {
        for (path, n, a) in attachments::refs(c) {
            if a.is_signature() {
                return Err(invalid(Invalid::new(
                    at(i, many, format!("{path}attachments[{n}]")),
                    "a signature travels as a part: send the statement as multipart/mixed",
                )));
            }
            if !a.has_file_url {
                return Err(invalid(Invalid::new(
                    at(i, many, format!("{path}attachments[{n}].fileUrl")),
                    "is required when the statement is sent as application/json; send the attachment itself as multipart/mixed",
                )));
            }
        }
    }
    Ok(list.into_iter().map(|(s, _)| s).collect())
}

/// A field's path in a request of one statement, or of `many` (then `[i].` comes first).
pub(super) fn at(i: usize, many: bool, path: String) -> String {
    if many { format!("[{i}].{path}") } else { path }
}

/// The statements of a JSON document, each checked and normalised, with what was checked.
pub(super) fn parsed(
    body: &[u8],
    batch: bool,
) -> Result<Vec<(Value, statement::Checked)>, Refusal> {
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| invalid(Invalid::new("body", format!("is not JSON: {e}"))))?;
    let list = match v {
        Value::Array(list) if batch => list,
        Value::Array(_) => {
            return Err(invalid(Invalid::new(
                "body",
                "PUT carries one statement, not an array",
            )));
        }
        one => vec![one],
    };
    if list.is_empty() {
        return Err(invalid(Invalid::new("body", "holds no statement")));
    }
    if list.len() > statements::MAX_BATCH {
        return Err(Refusal::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "PAYLOAD_TOO_LARGE",
            format!("at most {} statements per request", statements::MAX_BATCH),
        ));
    }
    let many = list.len() > 1;
    list.into_iter()
        .enumerate()
        .map(|(i, mut s)| {
            let c = statement::check(&s)
                .map_err(|e| invalid(Invalid::new(at(i, many, e.path), e.reason)))?;
            statement::normalise(&mut s);
            Ok((s, c))
        })
        .collect()
}

async fn store(
    state: &AppState,
    x: &XRequest,
    list: Vec<Value>,
    parts: Vec<Part>,
) -> Result<Vec<uuid::Uuid>, Refusal> {
    let links = &state.deps.links;
    let home = links.origin(&links.slug_host(&x.space.slug));
    let authority = statements::authority(&home, &x.credential);
    let tx = TenantTx::begin(&state.deps.db, x.space.id)
        .await
        .map_err(db)?;
    let (ids, progressed) =
        statements::store(&tx, &x.credential, &authority, state.deps.clock.now(), list)
            .await
            .map_err(db)?;
    // The bytes commit with the statements that name them, or not at all.
    spaces_tenants::progress::attachments::store(&tx, parts)
        .await
        .map_err(db)?;
    tx.commit().await.map_err(db)?;
    // Only once committed: a subscriber reads the progress it is told of.
    if !progressed.is_empty() {
        state.live.publish(x.space.id, &progressed).await;
    }
    Ok(ids)
}

async fn put(state: &AppState, mut x: XRequest) -> Answer {
    x.needs(&[Scope::WriteStatements])?;
    let id = x.params.required("statementId")?;
    let id = params::uuid("statementId", &id)?;
    std::mem::take(&mut x.params).finish()?;
    let (mut list, parts) = match attachments::multipart_type(&x.headers) {
        Some(t) => attachments::received(t, x.body.clone(), false).await?,
        None => (checked(&x.body, &x.headers, false)?, Vec::new()),
    };
    if let Some(s) = list.first_mut().and_then(Value::as_object_mut) {
        match s.get("id").and_then(Value::as_str) {
            Some(given) if !given.eq_ignore_ascii_case(&id.to_string()) => {
                return Err(invalid(Invalid::new(
                    "id",
                    "differs from the statementId parameter",
                )));
            }
            _ => {
                s.insert("id".into(), Value::String(id.to_string()));
            }
        }
    }
    store(state, &x, list, parts).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn post(state: &AppState, mut x: XRequest) -> Answer {
    x.needs(&[Scope::WriteStatements])?;
    std::mem::take(&mut x.params).finish()?;
    let (list, parts) = match attachments::multipart_type(&x.headers) {
        Some(t) => attachments::received(t, x.body.clone(), true).await?,
        None => (checked(&x.body, &x.headers, true)?, Vec::new()),
    };
    let ids = store(state, &x, list, parts).await?;
    Ok(json_response(
        StatusCode::OK,
        &json!(ids.iter().map(|u| u.to_string()).collect::<Vec<_>>()),
    ))
}

pub fn json_response(status: StatusCode, v: &Value) -> Response {
    json_bytes(status, serde_json::to_vec(v).unwrap_or_default())
}

/// A body already written as JSON.
fn json_bytes(status: StatusCode, body: Vec<u8>) -> Response {
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
enum Format {
    Exact,
    Ids,
    Canonical,
}

/// What a `more` link carries: the query and where the next page starts.
#[derive(serde::Serialize, serde::Deserialize)]
struct More {
    agent: Option<String>,
    related_agents: bool,
    verb: Option<String>,
    activity: Option<String>,
    related_activities: bool,
    registration: Option<uuid::Uuid>,
    since: Option<i64>,
    until: Option<i64>,
    ascending: bool,
    limit: u64,
    format: Format,
    attachments: bool,
    after_ms: i64,
    after_row: uuid::Uuid,
}

async fn get(state: &AppState, mut x: XRequest) -> Answer {
    x.needs(&[Scope::ReadAll, Scope::ReadOwn])?;
    let own = (!x.credential.scopes.contains(&Scope::ReadAll)).then_some(x.credential.id);
    let p = &mut x.params;
    if p.has("statementId") || p.has("voidedStatementId") {
        let langs = accept_language(&x.headers);
        return one(state, &x.space, std::mem::take(p), own, &langs).await;
    }
    let (filter, limit, format, attachments, after) = match p.take("more") {
        Some(token) => {
            std::mem::take(p).finish()?;
            let m = URL_SAFE_NO_PAD
                .decode(token.as_bytes())
                .ok()
                .and_then(|b| serde_json::from_slice::<More>(&b).ok())
                .ok_or_else(|| invalid(Invalid::new("more", "is not a link this LRS gave")))?;
            let filter = Filter {
                agent: m.agent,
                related_agents: m.related_agents,
                verb: m.verb,
                activity: m.activity,
                related_activities: m.related_activities,
                registration: m.registration,
                since: m.since.and_then(chrono::DateTime::from_timestamp_millis),
                until: m.until.and_then(chrono::DateTime::from_timestamp_millis),
                ascending: m.ascending,
                own,
            };
            let after = Cursor {
                stored_ms: m.after_ms,
                row: m.after_row,
            };
            (filter, m.limit, m.format, m.attachments, Some(after))
        }
        None => {
            let (filter, limit, format, attachments) = filters(p, own)?;
            std::mem::take(p).finish()?;
            (filter, limit, format, attachments, None)
        }
    };
    let tx = TenantTx::begin(&state.deps.db, x.space.id)
        .await
        .map_err(db)?;
    let (page, next) = query::page(&tx, &filter, limit, after).await.map_err(db)?;
    // The stored text goes out as it is in the common case (exact format, no attachments);
    // only the others need the statements as values.
    let as_stored = format == Format::Exact && !attachments;
    let parsed: Vec<Value> = if as_stored {
        Vec::new()
    } else {
        page.iter()
            .map(|text| serde_json::from_str(text))
            .collect::<Result<_, _>>()
            .map_err(|e| db(spaces_tenants::Error::Internal(e.to_string())))?
    };
    let parts = if attachments {
        attachments::of(&tx, parsed.iter()).await.map_err(db)?
    } else {
        Vec::new()
    };
    tx.rollback().await.map_err(db)?;
    let more = match next {
        None => String::new(),
        Some(c) => {
            let m = More {
                agent: filter.agent,
                related_agents: filter.related_agents,
                verb: filter.verb,
                activity: filter.activity,
                related_activities: filter.related_activities,
                registration: filter.registration,
                since: filter.since.map(|t| t.timestamp_millis()),
                until: filter.until.map(|t| t.timestamp_millis()),
                ascending: filter.ascending,
                limit,
                format,
                attachments,
                after_ms: c.stored_ms,
                after_row: c.row,
            };
            let token = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&m).unwrap_or_default());
            format!("/xapi/statements?more={token}")
        }
    };
    if as_stored {
        return Ok(raw_page(&page, &more));
    }
    let langs = accept_language(&x.headers);
    let list: Vec<Value> = parsed
        .into_iter()
        .map(|s| formatted(s, format, &langs))
        .collect();
    let result = json!({ "statements": list, "more": more });
    if attachments {
        return Ok(multipart::write(StatusCode::OK, &result, &parts));
    }
    Ok(json_response(StatusCode::OK, &result))
}

/// `{"statements": [..], "more": ".."}` written around the statements' stored JSON texts.
fn raw_page(statements: &[String], more: &str) -> Response {
    let size = statements.iter().map(|s| s.len() + 1).sum::<usize>() + more.len() + 32;
    let mut body = Vec::with_capacity(size);
    body.extend_from_slice(b"{\"statements\":[");
    for (i, s) in statements.iter().enumerate() {
        if i > 0 {
            body.push(b',');
        }
        body.extend_from_slice(s.as_bytes());
    }
    body.extend_from_slice(b"],\"more\":");
    body.extend_from_slice(&serde_json::to_vec(more).unwrap_or_default());
    body.push(b'}');
    json_bytes(StatusCode::OK, body)
}

/// The filters of a first page, checked.
fn filters(
    p: &mut Params,
    own: Option<spaces_tenants::LrsCredentialId>,
) -> Result<(Filter, u64, Format, bool), Refusal> {
    let mut f = Filter {
        own,
        ..Filter::default()
    };
    if let Some(a) = p.take("agent") {
        let actor = params::agent("agent", &a)?;
        f.agent = actor.ifi.as_ref().map(|i| i.key());
    }
    if let Some(v) = p.take("verb") {
        f.verb = Some(params::iri("verb", v)?);
    }
    if let Some(v) = p.take("activity") {
        f.activity = Some(params::iri("activity", v)?);
    }
    if let Some(v) = p.take("registration") {
        f.registration = Some(params::uuid("registration", &v)?);
    }
    if let Some(v) = p.take("related_activities") {
        f.related_activities = params::boolean("related_activities", &v)?;
    }
    if let Some(v) = p.take("related_agents") {
        f.related_agents = params::boolean("related_agents", &v)?;
    }
    if let Some(v) = p.take("since") {
        f.since = Some(params::timestamp("since", &v)?);
    }
    if let Some(v) = p.take("until") {
        f.until = Some(params::timestamp("until", &v)?);
    }
    if let Some(v) = p.take("ascending") {
        f.ascending = params::boolean("ascending", &v)?;
    }
    let limit = match p.take("limit") {
        None => MAX_LIMIT,
        Some(v) => match v.parse::<u64>() {
            Ok(0) => MAX_LIMIT,
            Ok(n) => n.min(MAX_LIMIT),
            Err(_) => {
                return Err(invalid(Invalid::new(
                    "limit",
                    "must be a whole number, 0 or more",
                )));
            }
        },
    };
    let (format, attachments) = shape(p)?;
    Ok((f, limit, format, attachments))
}

/// `format` and `attachments`, which every GET may carry.
fn shape(p: &mut Params) -> Result<(Format, bool), Refusal> {
    let format = match p.take("format").as_deref() {
        None | Some("exact") => Format::Exact,
        Some("ids") => Format::Ids,
        Some("canonical") => Format::Canonical,
        Some(_) => {
            return Err(invalid(Invalid::new(
                "format",
                "must be exact, ids or canonical",
            )));
        }
    };
    let attachments = match p.take("attachments") {
        Some(v) => params::boolean("attachments", &v)?,
        None => false,
    };
    Ok((format, attachments))
}

/// `statementId` or `voidedStatementId`, with only `format` and `attachments` beside it.
async fn one(
    state: &AppState,
    space: &spaces_tenants::spaces::Space,
    mut p: Params,
    own: Option<spaces_tenants::LrsCredentialId>,
    langs: &[String],
) -> Answer {
    let (name, voided) = match (p.take("statementId"), p.take("voidedStatementId")) {
        (Some(id), None) => (("statementId", id), false),
        (None, Some(id)) => (("voidedStatementId", id), true),
        _ => {
            return Err(invalid(Invalid::new(
                "statementId",
                "give statementId or voidedStatementId, not both",
            )));
        }
    };
    let id = params::uuid(name.0, &name.1)?;
    let (format, attachments) = shape(&mut p)?;
    if let Some(other) = p.names().next() {
        return Err(invalid(Invalid::new(
            other,
            format!("cannot be combined with {}", name.0),
        )));
    }
    let tx = TenantTx::begin(&state.deps.db, space.id)
        .await
        .map_err(db)?;
    let found = statements::get(&tx, id, voided, own).await.map_err(db)?;
    let parts = match &found {
        Some(s) if attachments => attachments::of(&tx, std::iter::once(&s.statement))
            .await
            .map_err(db)?,
        _ => Vec::new(),
    };
    tx.rollback().await.map_err(db)?;
    let Some(Stored {
        statement, stored, ..
    }) = found
    else {
        return Err(Refusal::new(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            "no such statement",
        ));
    };
    let statement = formatted(statement, format, langs);
    let mut resp = if attachments {
        multipart::write(StatusCode::OK, &statement, &parts)
    } else {
        json_response(StatusCode::OK, &statement)
    };
    if let Ok(v) = HeaderValue::from_str(&stored.format("%a, %d %b %Y %H:%M:%S GMT").to_string()) {
        resp.headers_mut().insert(header::LAST_MODIFIED, v);
    }
    Ok(resp)
}

/// A stored statement in the format asked for.
fn formatted(s: Value, format: Format, langs: &[String]) -> Value {
    match format {
        Format::Exact => s,
        Format::Ids => spaces_xapi::format::ids(&s),
        Format::Canonical => spaces_xapi::format::canonical(&s, langs),
    }
}

/// The client's languages, most wanted first.
fn accept_language(headers: &HeaderMap) -> Vec<String> {
    headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .map(spaces_xapi::format::accept_language)
        .unwrap_or_default()
}

/// The `X-Experience-API-Consistent-Through` header: writes commit before they answer, so every
/// statement stored up to now is readable.
pub fn consistent_through(state: &AppState, resp: &mut Response) {
    if let Ok(v) = HeaderValue::from_str(&statements::render(state.deps.clock.now())) {
        resp.headers_mut()
            .insert(axum::http::HeaderName::from_static(CONSISTENT_THROUGH), v);
    }
}
