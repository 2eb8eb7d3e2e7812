//! The LRS's documents (xAPI Communication 2.2–2.7): state, activity profiles and agent
//! profiles. A learning platform stores bytes under an id, in a context (an activity, an agent,
//! a registration), reads them back with an ETag, replaces them (PUT), merges JSON objects into
//! them (POST) and deletes them.
//!
//! Every function runs in the request's one [`TenantTx`], so a precondition checked and the
//! write it guards commit together; on PostgreSQL the document's row is locked between them.

mod entity;
pub mod merge;
pub mod preconditions;

use chrono::{DateTime, TimeZone, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::sea_query::StringLen;
use sea_orm::{ColumnTrait, DeriveActiveEnum, EnumIter, QueryFilter, QueryOrder, QuerySelect, Set};
use uuid::Uuid;

use crate::{Error, Result, TenantTx};

use entity::document;
pub use preconditions::{Preconditions, Tags, etag};

/// The largest document stored, in bytes: 1 MiB. Documents are a platform's scratch space
/// (bookmarks, suspend data, preferences), not a file store; a larger one is refused with 413.
pub const MAX_DOCUMENT: usize = 1024 * 1024;

/// Which of the three resources a document belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum Kind {
    #[sea_orm(string_value = "state")]
    State,
    #[sea_orm(string_value = "activity_profile")]
    ActivityProfile,
    #[sea_orm(string_value = "agent_profile")]
    AgentProfile,
}

/// Where documents live: their kind and the context the resource's parameters name. The parts a
/// kind does not use are empty.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Context {
    kind: Kind,
    activity: String,
    agent: String,
    /// Lower-case hyphenated, or empty: no registration.
    registration: String,
    /// For state lists and delete-all without a registration: every registration, not only
    /// the documents stored without one.
    any_registration: bool,
}

impl Context {
    /// State of an agent in an activity, under a registration or none. `agent` is the
    /// canonical IFI key (`spaces_xapi::agent::Ifi::key`).
    pub fn state(activity: String, agent: String, registration: Option<Uuid>) -> Self {
        Self {
            kind: Kind::State,
            activity,
            agent,
            registration: registration.map(|r| r.to_string()).unwrap_or_default(),
            any_registration: registration.is_none(),
        }
    }

    pub fn activity_profile(activity: String) -> Self {
        Self {
            kind: Kind::ActivityProfile,
            activity,
            agent: String::new(),
            registration: String::new(),
            any_registration: false,
        }
    }

    pub fn agent_profile(agent: String) -> Self {
        Self {
            kind: Kind::AgentProfile,
            activity: String::new(),
            agent,
            registration: String::new(),
            any_registration: false,
        }
    }

    pub fn kind(&self) -> Kind {
        self.kind
    }
}

/// A stored document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Document {
    pub id: String,
    pub content_type: String,
    pub content: Vec<u8>,
    /// SHA-1 of `content`, 40 lower-case hex digits, unquoted.
    pub etag: String,
    pub updated: DateTime<Utc>,
}

/// What a client sends to store: its bytes and their content type.
#[derive(Clone, Debug)]
pub struct Body {
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// The ids of a context's documents, and when the newest of them changed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ids {
    pub ids: Vec<String>,
    pub last_modified: Option<DateTime<Utc>>,
}

fn time(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

fn from_row(m: document::Model) -> Document {
    Document {
        id: m.document_id,
        content_type: m.content_type,
        content: m.content,
        etag: m.etag,
        updated: time(m.updated_ms),
    }
}

/// The context's rows: one kind, its activity and agent, and the registration unless any will do.
fn in_context<'t>(
    tx: &'t TenantTx,
    ctx: &Context,
) -> crate::kernel::scoped::Scoped<'t, sea_orm::Select<document::Entity>> {
    let q = tx
        .select::<document::Entity>()
        .filter(document::Column::Kind.eq(ctx.kind))
        .filter(document::Column::ActivityIri.eq(ctx.activity.as_str()))
        .filter(document::Column::Agent.eq(ctx.agent.as_str()));
    if ctx.any_registration {
        q
    } else {
        q.filter(document::Column::Registration.eq(ctx.registration.as_str()))
    }
}

/// The one document named `id` in the context, locked for the rest of the transaction when
/// `lock` (PostgreSQL; SQLite has one writer anyway).
async fn row(
    tx: &TenantTx,
    ctx: &Context,
    id: &str,
    lock: bool,
) -> Result<Option<document::Model>> {
    let q = tx
        .select::<document::Entity>()
        .filter(document::Column::Kind.eq(ctx.kind))
        .filter(document::Column::ActivityIri.eq(ctx.activity.as_str()))
        .filter(document::Column::Agent.eq(ctx.agent.as_str()))
        .filter(document::Column::Registration.eq(ctx.registration.as_str()))
        .filter(document::Column::DocumentId.eq(id));
    if lock {
        q.lock_exclusive().one().await
    } else {
        q.one().await
    }
}

/// The document named `id` in the context, if there is one.
pub async fn get(tx: &TenantTx, ctx: &Context, id: &str) -> Result<Option<Document>> {
    Ok(row(tx, ctx, id, false).await?.map(from_row))
}

/// The ids of the context's documents changed after `since` (exclusive), oldest change first.
/// A state list without a registration spans every registration.
pub async fn ids(tx: &TenantTx, ctx: &Context, since: Option<DateTime<Utc>>) -> Result<Ids> {
    let mut q = in_context(tx, ctx);
    if let Some(t) = since {
        // Milliseconds are what is stored; a sub-millisecond `since` rounds down, and the
        // strict comparison still keeps only documents changed after it.
        q = q.filter(document::Column::UpdatedMs.gt(t.timestamp_millis()));
    }
    let rows: Vec<(String, i64)> = q
        .select_only()
        .column(document::Column::DocumentId)
        .column(document::Column::UpdatedMs)
        .order_by_asc(document::Column::UpdatedMs)
        .order_by_asc(document::Column::DocumentId)
        .tuples()
        .await?;
    let mut out = Ids::default();
    for (id, ms) in rows {
        let t = time(ms);
        out.last_modified = Some(out.last_modified.map_or(t, |l| l.max(t)));
        // The same id under several registrations is listed once.
        if !out.ids.contains(&id) {
            out.ids.push(id);
        }
    }
    Ok(out)
}

/// Whether a PUT without `If-Match` or `If-None-Match` is refused: on profiles, where xAPI
/// requires one of them (state is a scratch area where conflicts are unlikely).
fn needs_precondition(kind: Kind) -> bool {
    kind != Kind::State
}

/// PUT: stores `body` as the document `id`, replacing any other. Profiles need `If-Match` or
/// `If-None-Match`: without either, CONFLICT when the document exists (the client must read
/// it and send its ETag) and BAD_USER_INPUT when it does not.
pub async fn put(
    tx: &TenantTx,
    ctx: &Context,
    id: &str,
    body: Body,
    pre: &Preconditions,
) -> Result<()> {
    let current = row(tx, ctx, id, true).await?;
    pre.check(current.as_ref().map(|m| m.etag.as_str()))?;
    if needs_precondition(ctx.kind) && !pre.given() {
        return Err(match current {
            Some(_) => Error::conflict(
                "If-Match",
                "the document exists: GET it to see its current state, then PUT with If-Match: its ETag",
            ),
            None => Error::invalid(
                "If-None-Match",
                "a profile PUT needs If-None-Match: * to create the document, or If-Match: its ETag to replace it",
            ),
        });
    }
    write(tx, ctx, id, current, body).await
}

/// POST: creates the document `id` from `body`, or merges `body` into it when both are JSON
/// objects (anything else onto a stored document is BAD_USER_INPUT, and nothing changes).
pub async fn post(
    tx: &TenantTx,
    ctx: &Context,
    id: &str,
    body: Body,
    pre: &Preconditions,
) -> Result<()> {
    let current = row(tx, ctx, id, true).await?;
    pre.check(current.as_ref().map(|m| m.etag.as_str()))?;
    let body = match &current {
        Some(m) => Body {
            bytes: merge::merged(&m.content_type, &m.content, &body.content_type, &body.bytes)?,
            content_type: merge::JSON.to_owned(),
        },
        None => {
            if merge::is_json(&body.content_type) {
                merge::object(&body.bytes, "body", "the posted document")?;
            }
            body
        }
    };
    write(tx, ctx, id, current, body).await
}

async fn write(
    tx: &TenantTx,
    ctx: &Context,
    id: &str,
    current: Option<document::Model>,
    body: Body,
) -> Result<()> {
    let tag = etag(&body.bytes);
    let now = Utc::now().timestamp_millis();
    match current {
        Some(m) => {
            tx.update_many::<document::Entity>()
                .col_expr(
                    document::Column::ContentType,
                    Expr::value(body.content_type),
                )
                .col_expr(document::Column::Content, Expr::value(body.bytes))
                .col_expr(document::Column::Etag, Expr::value(tag))
                .col_expr(document::Column::UpdatedMs, Expr::value(now))
                .filter(document::Column::Id.eq(m.id))
                .exec()
                .await?;
        }
        None => {
            let inserted = tx
                .insert(document::ActiveModel {
                    tenant_id: Set(tx.tenant_uuid()),
                    id: Set(Uuid::now_v7()),
                    kind: Set(ctx.kind),
                    activity_iri: Set(ctx.activity.clone()),
                    agent: Set(ctx.agent.clone()),
                    registration: Set(ctx.registration.clone()),
                    document_id: Set(id.to_owned()),
                    content_type: Set(body.content_type),
                    content: Set(body.bytes),
                    etag: Set(tag),
                    updated_ms: Set(now),
                })
                .await;
            match inserted {
                Ok(_) => {}
                // Another request created it since we looked: the client's view is stale.
                Err(Error::Db(e))
                    if matches!(
                        e.sql_err(),
                        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
                    ) =>
                {
                    return Err(Error::refused(
                        "PRECONDITION_FAILED",
                        "the document was created by another request meanwhile: GET it and retry",
                    ));
                }
                Err(e) => return Err(e),
            }
        }
    }
    Ok(())
}

/// DELETE of one document. A missing one is no error (the client wants it gone), unless
/// `If-Match` names a document that is not there.
pub async fn delete(tx: &TenantTx, ctx: &Context, id: &str, pre: &Preconditions) -> Result<()> {
    let current = row(tx, ctx, id, true).await?;
    pre.check(current.as_ref().map(|m| m.etag.as_str()))?;
    if let Some(m) = current {
        tx.delete_many::<document::Entity>()
            .filter(document::Column::Id.eq(m.id))
            .exec()
            .await?;
    }
    Ok(())
}

/// DELETE of every document of the context (state without `stateId`); how many went.
pub async fn delete_all(tx: &TenantTx, ctx: &Context) -> Result<u64> {
    let mut q = tx
        .delete_many::<document::Entity>()
        .filter(document::Column::Kind.eq(ctx.kind))
        .filter(document::Column::ActivityIri.eq(ctx.activity.as_str()))
        .filter(document::Column::Agent.eq(ctx.agent.as_str()));
    if !ctx.any_registration {
        q = q.filter(document::Column::Registration.eq(ctx.registration.as_str()));
    }
    q.exec().await
}
