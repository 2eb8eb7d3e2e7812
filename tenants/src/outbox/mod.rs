//! Messages to people (invitations, password resets) are written in the same transaction as the
//! change that causes them, and delivered later by a worker, so a rolled-back change sends nothing.
//!
//! What a message carries (the recipient's name and a token that opens an account) is sealed
//! under the deployment's outbox key; the worker renders the text at delivery, in the space's
//! language and branding, and a delivered message keeps only its subject: the token is dropped.

pub(crate) mod entity;
mod seal;

pub use seal::OutboxKey;

crate::tenant_entity!(entity);

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use serde::{Deserialize, Serialize};

use crate::{Error, OutboxMessageId, Result, TenantTx};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageKind {
    Invitation,
    PasswordReset,
    /// Self-registration: the link that confirms a new address.
    Registration,
    /// Self-registration for an address that already has an account: no token, a pointer to
    /// sign-in and password reset instead.
    RegistrationKnown,
}

impl MessageKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::Invitation => "invitation",
            MessageKind::PasswordReset => "password_reset",
            MessageKind::Registration => "registration",
            MessageKind::RegistrationKnown => "registration_known",
        }
    }

    fn from_db(s: &str) -> Option<Self> {
        match s {
            "invitation" => Some(MessageKind::Invitation),
            "password_reset" => Some(MessageKind::PasswordReset),
            "registration" => Some(MessageKind::Registration),
            "registration_known" => Some(MessageKind::RegistrationKnown),
            _ => None,
        }
    }
}

/// What the message says, sealed at rest.
#[derive(Clone, Serialize, Deserialize)]
pub struct Payload {
    /// The recipient's given name.
    pub name: String,
    /// The page the message links to, token included, on `<slug>.<base domain>` (the worker
    /// moves it to the space's custom domain when it has one).
    pub link: String,
    /// The token the link carries (invitation or reset).
    pub token: String,
}

impl std::fmt::Debug for Payload {
    // The token opens an account: never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Payload")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone)]
pub struct Message {
    pub id: OutboxMessageId,
    pub kind: Option<MessageKind>,
    pub recipient: String,
    /// Empty until delivered; then the subject that was sent.
    pub subject: String,
    /// None once delivered (the token is dropped).
    pub payload: Option<Payload>,
    pub attempts: i32,
    pub delivered_at: Option<DateTime<Utc>>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
}

/// A row as the worker and tests see it. A payload that this key cannot open (another
/// deployment's key, a damaged row) reads as none, and the worker records the failure.
fn open(tx: &TenantTx, m: entity::Model) -> Message {
    let payload = if m.body.is_empty() {
        None
    } else {
        tx.outbox_key()
            .and_then(|k| k.open(m.tenant_id, m.id, &m.body))
            .ok()
            .and_then(|raw| serde_json::from_slice(&raw).ok())
    };
    Message {
        id: OutboxMessageId::from_uuid(m.id),
        kind: MessageKind::from_db(&m.kind),
        recipient: m.recipient,
        subject: m.subject,
        payload,
        attempts: m.attempts,
        delivered_at: m.delivered_at,
        last_error: m.last_error,
    }
}

/// A new message row, due now, its payload sealed.
pub(crate) fn message_row(
    tx: &TenantTx,
    kind: MessageKind,
    recipient: &str,
    payload: &Payload,
) -> Result<entity::ActiveModel> {
    let now = Utc::now();
    let id = OutboxMessageId::new().uuid();
    let plain =
        serde_json::to_vec(payload).map_err(|e| Error::Internal(format!("outbox payload: {e}")))?;
    let body = tx.outbox_key()?.seal(tx.tenant_uuid(), id, &plain)?;
    Ok(entity::ActiveModel {
        tenant_id: Set(tx.tenant_uuid()),
        id: Set(id),
        kind: Set(kind.as_str().to_owned()),
        recipient: Set(recipient.to_owned()),
        subject: Set(String::new()),
        body: Set(body),
        attempts: Set(0),
        next_attempt_at: Set(now),
        delivered_at: Set(None),
        last_error: Set(None),
        created_at: Set(now),
    })
}

pub async fn enqueue(
    tx: &TenantTx,
    kind: MessageKind,
    recipient: &str,
    payload: &Payload,
) -> Result<()> {
    message_row(tx, kind, recipient, payload)?
        .insert(&tx.tx)
        .await?;
    Ok(())
}

/// Messages due for delivery, oldest first.
pub async fn due(tx: &TenantTx, now: DateTime<Utc>, limit: u64) -> Result<Vec<Message>> {
    let rows = tx
        .scoped_select::<entity::Entity>()
        .filter(entity::Column::DeliveredAt.is_null())
        .filter(entity::Column::NextAttemptAt.lte(now))
        .filter(entity::Column::Attempts.lt(MAX_ATTEMPTS))
        .order_by_asc(entity::Column::Id)
        .limit(limit)
        .all(&tx.tx)
        .await?;
    Ok(rows.into_iter().map(|m| open(tx, m)).collect())
}

pub const MAX_ATTEMPTS: i32 = 8;

/// How long a claimed message is left to its sender before another worker may try it.
pub const LEASE: chrono::Duration = chrono::Duration::minutes(5);

/// Claims due messages for sending: each is leased with a conditional update, so of several
/// workers exactly one gets it. Commit, send outside any transaction, then mark the outcome.
pub async fn claim(tx: &TenantTx, now: DateTime<Utc>, limit: u64) -> Result<Vec<Message>> {
    let mut claimed = Vec::new();
    for m in due(tx, now, limit).await? {
        let won = tx
            .scoped_update::<entity::Entity>()
            .col_expr(entity::Column::NextAttemptAt, Expr::value(now + LEASE))
            .filter(entity::Column::Id.eq(m.id.uuid()))
            .filter(entity::Column::DeliveredAt.is_null())
            .filter(entity::Column::NextAttemptAt.lte(now))
            .exec(&tx.tx)
            .await?;
        if won.rows_affected == 1 {
            claimed.push(m);
        }
    }
    Ok(claimed)
}

/// Records the delivery and drops the payload (and with it the token): what stays is who was
/// sent what subject, when.
pub async fn mark_delivered(tx: &TenantTx, id: OutboxMessageId, subject: &str) -> Result<()> {
    tx.scoped_update::<entity::Entity>()
        .col_expr(entity::Column::DeliveredAt, Expr::value(Utc::now()))
        .col_expr(entity::Column::Subject, Expr::value(subject.to_owned()))
        .col_expr(entity::Column::Body, Expr::value(String::new()))
        .filter(entity::Column::Id.eq(id.uuid()))
        .exec(&tx.tx)
        .await?;
    Ok(())
}

/// Records a failed attempt and backs off exponentially (1 min, 2, 4, .. ).
pub async fn mark_failed(tx: &TenantTx, msg: &Message, error: &str) -> Result<()> {
    let backoff = chrono::Duration::minutes(1i64 << msg.attempts.clamp(0, 10));
    tx.scoped_update::<entity::Entity>()
        .col_expr(entity::Column::Attempts, Expr::value(msg.attempts + 1))
        .col_expr(
            entity::Column::NextAttemptAt,
            Expr::value(Utc::now() + backoff),
        )
        .col_expr(
            entity::Column::LastError,
            Expr::value(error.chars().take(500).collect::<String>()),
        )
        .filter(entity::Column::Id.eq(msg.id.uuid()))
        .exec(&tx.tx)
        .await?;
    Ok(())
}

/// Every message, oldest first: what the space has sent or will send (payloads opened while
/// they are kept).
pub async fn history(tx: &TenantTx) -> Result<Vec<Message>> {
    let rows = tx
        .scoped_select::<entity::Entity>()
        .order_by_asc(entity::Column::Id)
        .all(&tx.tx)
        .await?;
    Ok(rows.into_iter().map(|m| open(tx, m)).collect())
}
