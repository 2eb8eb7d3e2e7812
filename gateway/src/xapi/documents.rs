//! `/xapi/activities/state`, `/xapi/activities/profile`, `/xapi/agents/profile`: the three
//! document resources (xAPI Communication 2.2–2.7 and 3.1). Parameters exactly as the
//! specification names them, each once; the work is `spaces_tenants::progress::documents`'s, in
//! one transaction.
//!
//! - `GET` (and `HEAD`) with a document id: 200 with the stored bytes, their `Content-Type`,
//!   `ETag` (the quoted SHA-1 of the bytes) and `Last-Modified`; no such document: 404. Without
//!   one: 200 with the JSON array of ids, changed after `since` when given.
//! - `PUT` replaces, `POST` creates or merges JSON objects, `DELETE` removes (state without
//!   `stateId`: every document of the context): 204. `If-Match` and `If-None-Match` are honoured
//!   on every write (412 when they fail); a profile PUT needs one of them (409 when the document
//!   exists, 400 when it does not).
//! - A document over [`MAX_DOCUMENT`] bytes (1 MiB): 413.
//! - Reading needs the `READ_ALL` or `WRITE_STATEMENTS` scope; writing `WRITE_STATEMENTS`.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use chrono::{DateTime, Utc};
use spaces_graphql::ApiError;
use spaces_tenants::TenantTx;
use spaces_tenants::progress::credentials::Scope;
use spaces_tenants::progress::documents::{
    self as docs, Body as Doc, Context, Ids, MAX_DOCUMENT, Preconditions, Tags,
};
use spaces_xapi::Invalid;
use spaces_xapi::agent::Ifi;

use super::params::{self, Params, method_not_allowed};
use super::{Answer, XRequest, invalid};
use crate::app::AppState;
use crate::graphql_http::Refusal;

/// The type a document gets when the client names none.
const DEFAULT_TYPE: &str = "application/octet-stream";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Resource {
    State,
    ActivityProfile,
    AgentProfile,
}

impl Resource {
    /// The parameter that names one document.
    fn id_param(self) -> &'static str {
        match self {
            Resource::State => "stateId",
            Resource::ActivityProfile | Resource::AgentProfile => "profileId",
        }
    }
}

/// What the parameters name: a context, one document of it or (`id: None`) all of them.
struct Target {
    ctx: Context,
    id: Option<String>,
    since: Option<DateTime<Utc>>,
}

pub async fn handle(state: &AppState, mut x: XRequest) -> Answer {
    let resource = match x.resource.as_str() {
        "activities/state" => Resource::State,
        "activities/profile" => Resource::ActivityProfile,
        _ => Resource::AgentProfile,
    };
    let reads = x.method == Method::GET || x.method == Method::HEAD;
    if reads {
        x.needs(&[Scope::ReadAll, Scope::WriteStatements])?;
    } else if [Method::PUT, Method::POST, Method::DELETE].contains(&x.method) {
        x.needs(&[Scope::WriteStatements])?;
    } else {
        return Err(method_not_allowed());
    }
    let target = target(resource, &x.method, &mut x.params)?;
    std::mem::take(&mut x.params).finish()?;
    let pre = preconditions(&x.headers);
    // The body is checked before a connection is taken: an oversize one costs the database nothing.
    let doc = if x.method == Method::PUT || x.method == Method::POST {
        Some(body(&x)?)
    } else {
        None
    };

    let tx = TenantTx::begin(&state.deps.db, x.space.id)
        .await
        .map_err(refusal)?;
    let answer = run(&tx, &x.method, target, &pre, doc).await;
    match answer {
        Ok(resp) => {
            tx.commit().await.map_err(refusal)?;
            Ok(resp)
        }
        Err(r) => {
            tx.rollback().await.map_err(refusal)?;
            Err(r)
        }
    }
}

async fn run(
    tx: &TenantTx,
    method: &Method,
    t: Target,
    pre: &Preconditions,
    doc: Option<Doc>,
) -> Answer {
    let reads = *method == Method::GET || *method == Method::HEAD;
    match t.id.as_deref() {
        Some(id) if reads => match docs::get(tx, &t.ctx, id).await.map_err(refusal)? {
            Some(d) => Ok(document(
                d.content,
                &d.content_type,
                &d.etag,
                Some(d.updated),
            )),
            None => Err(Refusal::new(
                StatusCode::NOT_FOUND,
                "NOT_FOUND",
                "no document with this id in this context",
            )),
        },
        None if reads => {
            let Ids { ids, last_modified } =
                docs::ids(tx, &t.ctx, t.since).await.map_err(refusal)?;
            let json = serde_json::to_vec(&ids)
                .map_err(|e| refusal(spaces_tenants::Error::Internal(e.to_string())))?;
            let tag = docs::etag(&json);
            Ok(document(json, "application/json", &tag, last_modified))
        }
        Some(id) if *method == Method::DELETE => {
            docs::delete(tx, &t.ctx, id, pre).await.map_err(refusal)?;
            Ok(no_content())
        }
        // `target` leaves out the id only where a whole context may go (state).
        None if *method == Method::DELETE => {
            docs::delete_all(tx, &t.ctx).await.map_err(refusal)?;
            Ok(no_content())
        }
        // PUT and POST: `handle` read the body, `target` required the id.
        Some(id) => {
            let Some(body) = doc else {
                return Err(method_not_allowed());
            };
            if *method == Method::PUT {
                docs::put(tx, &t.ctx, id, body, pre).await
            } else {
                docs::post(tx, &t.ctx, id, body, pre).await
            }
            .map_err(refusal)?;
            Ok(no_content())
        }
        None => Err(method_not_allowed()),
    }
}

/// The parameters of `resource` for `method`, taken out of `p` (what is left is unknown).
fn target(resource: Resource, method: &Method, p: &mut Params) -> Result<Target, Refusal> {
    let id_name = resource.id_param();
    let activity = match resource {
        Resource::State | Resource::ActivityProfile => {
            Some(params::iri("activityId", p.required("activityId")?)?)
        }
        Resource::AgentProfile => None,
    };
    let agent = match resource {
        Resource::State | Resource::AgentProfile => {
            let raw = p.required("agent")?;
            Some(ifi_key(&params::agent("agent", &raw)?.ifi)?)
        }
        Resource::ActivityProfile => None,
    };
    let registration = match resource {
        Resource::State => p
            .take("registration")
            .map(|r| params::uuid("registration", &r))
            .transpose()?,
        _ => None,
    };
    let id = p.take(id_name);
    // One document is needed to write one; only state deletes a whole context at once.
    let one_needed = *method == Method::PUT
        || *method == Method::POST
        || (*method == Method::DELETE && resource != Resource::State);
    if one_needed && id.is_none() {
        return Err(invalid(Invalid::new(id_name, "is required")));
    }
    let since = match p.take("since") {
        Some(_) if id.is_some() || *method != Method::GET && *method != Method::HEAD => {
            return Err(invalid(Invalid::new(
                "since",
                format!("only filters a list of ids: a GET without {id_name}"),
            )));
        }
        Some(raw) => Some(params::timestamp("since", &raw)?),
        None => None,
    };
    let ctx = match (activity, agent) {
        (Some(activity), Some(agent)) => Context::state(activity, agent, registration),
        (Some(activity), None) => Context::activity_profile(activity),
        (None, Some(agent)) => Context::agent_profile(agent),
        (None, None) => return Err(Refusal::bad_request("no document context")),
    };
    Ok(Target { ctx, id, since })
}

/// The agent's canonical key; `params::agent` has already refused one without an IFI.
fn ifi_key(ifi: &Option<Ifi>) -> Result<String, Refusal> {
    ifi.as_ref().map(Ifi::key).ok_or_else(|| {
        invalid(Invalid::new(
            "agent",
            "must be identified by one of mbox, mbox_sha1sum, openid, account",
        ))
    })
}

/// `If-Match` and `If-None-Match`, several headers of one name read as one list.
fn preconditions(h: &HeaderMap) -> Preconditions {
    let read = |name: header::HeaderName| {
        let values: Vec<&str> = h
            .get_all(name)
            .iter()
            .map(|v| v.to_str().unwrap_or(""))
            .collect();
        (!values.is_empty()).then(|| Tags::parse(&values.join(",")))
    };
    Preconditions {
        if_match: read(header::IF_MATCH),
        if_none_match: read(header::IF_NONE_MATCH),
    }
}

/// The document a PUT or POST carries, within [`MAX_DOCUMENT`].
fn body(x: &XRequest) -> Result<Doc, Refusal> {
    if x.body.len() > MAX_DOCUMENT {
        return Err(Refusal::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "PAYLOAD_TOO_LARGE",
            format!("a document may hold at most {MAX_DOCUMENT} bytes (1 MiB)"),
        ));
    }
    let content_type = match x.headers.get(header::CONTENT_TYPE).map(|v| v.to_str()) {
        None => DEFAULT_TYPE.to_owned(),
        Some(Ok(t)) if !t.trim().is_empty() => t.trim().to_owned(),
        Some(_) => {
            return Err(invalid(Invalid::new(
                "Content-Type",
                "must be a media type such as application/json",
            )));
        }
    };
    Ok(Doc {
        content_type,
        bytes: x.body.to_vec(),
    })
}

/// 200 with a document (or a list) and the headers a client checks before writing.
fn document(
    bytes: Vec<u8>,
    content_type: &str,
    tag: &str,
    modified: Option<DateTime<Utc>>,
) -> Response {
    let mut resp = Response::new(Body::from(bytes));
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(content_type)
            .unwrap_or_else(|_| HeaderValue::from_static(DEFAULT_TYPE)),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("\"{tag}\"")) {
        h.insert(header::ETAG, v);
    }
    if let Some(t) = modified
        && let Ok(v) = HeaderValue::from_str(&t.format("%a, %d %b %Y %H:%M:%S GMT").to_string())
    {
        h.insert(header::LAST_MODIFIED, v);
    }
    resp
}

fn no_content() -> Response {
    let mut resp = Response::new(Body::empty());
    *resp.status_mut() = StatusCode::NO_CONTENT;
    resp
}

/// A refusal of the documents service, with the status xAPI gives it.
fn refusal(e: spaces_tenants::Error) -> Refusal {
    let status = match &e {
        spaces_tenants::Error::Conflict { .. } => Some(StatusCode::CONFLICT),
        spaces_tenants::Error::Refused {
            code: "PRECONDITION_FAILED",
            ..
        } => Some(StatusCode::PRECONDITION_FAILED),
        _ => None,
    };
    let mut r = Refusal::from_api(ApiError::from(e));
    if let Some(s) = status {
        r.status = s;
    }
    r
}
