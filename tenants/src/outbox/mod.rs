//! Messages to people (invitations) are written in the same transaction as the change that
//! causes them, and delivered later by a worker, so a rolled-back change sends nothing.

pub(crate) mod entity;

crate::kernel::scoped::tenant_entity!(entity);

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, QueryFilter, QueryOrder, QuerySelect, Set};

use crate::{OutboxMessageId, Result, TenantTx};

#[derive(Debug, Clone)]
pub struct Message {
    pub id: OutboxMessageId,
    pub kind: String,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    pub attempts: i32,
}

impl From<entity::Model> for Message {
    fn from(m: entity::Model) -> Self {
        Self {
            id: OutboxMessageId::from_uuid(m.id),
            kind: m.kind,
            recipient: m.recipient,
            subject: m.subject,
            body: m.body,
            attempts: m.attempts,
        }
    }
}

/// A new message row, due now.
pub(crate) fn message_row(
    tenant: uuid::Uuid,
    kind: &str,
    recipient: &str,
    subject: &str,
    body: &str,
) -> entity::ActiveModel {
    let now = Utc::now();
    entity::ActiveModel {
        tenant_id: Set(tenant),
        id: Set(OutboxMessageId::new().uuid()),
        kind: Set(kind.to_owned()),
        recipient: Set(recipient.to_owned()),
        subject: Set(subject.to_owned()),
        body: Set(body.to_owned()),
        attempts: Set(0),
        next_attempt_at: Set(now),
        delivered_at: Set(None),
        last_error: Set(None),
        created_at: Set(now),
    }
}

pub async fn enqueue(
    tx: &TenantTx,
    kind: &str,
    recipient: &str,
    subject: &str,
    body: &str,
) -> Result<()> {
    message_row(tx.tenant_uuid(), kind, recipient, subject, body)
        .insert(&tx.tx)
        .await?;
    Ok(())
}

/// Messages due for delivery, oldest first.
pub async fn due(tx: &TenantTx, now: DateTime<Utc>, limit: u64) -> Result<Vec<Message>> {
    let rows = tx
        .select::<entity::Entity>()
        .filter(entity::Column::DeliveredAt.is_null())
        .filter(entity::Column::NextAttemptAt.lte(now))
        .filter(entity::Column::Attempts.lt(MAX_ATTEMPTS))
        .order_by_asc(entity::Column::Id)
        .limit(limit)
        .all(&tx.tx)
        .await?;
    Ok(rows.into_iter().map(Message::from).collect())
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
            .update_many::<entity::Entity>()
            .col_expr(
                entity::Column::NextAttemptAt,
                sea_orm::sea_query::Expr::value(now + LEASE),
            )
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

pub async fn mark_delivered(tx: &TenantTx, id: OutboxMessageId) -> Result<()> {
    tx.update_many::<entity::Entity>()
        .col_expr(
            entity::Column::DeliveredAt,
            sea_orm::sea_query::Expr::value(Utc::now()),
        )
        .filter(entity::Column::Id.eq(id.uuid()))
        .exec(&tx.tx)
        .await?;
    Ok(())
}

/// Records a failed attempt and backs off exponentially (1 min, 2, 4, .. ).
pub async fn mark_failed(tx: &TenantTx, msg: &Message, error: &str) -> Result<()> {
    let backoff = chrono::Duration::minutes(1i64 << msg.attempts.clamp(0, 10));
    tx.update_many::<entity::Entity>()
        .col_expr(
            entity::Column::Attempts,
            sea_orm::sea_query::Expr::value(msg.attempts + 1),
        )
        .col_expr(
            entity::Column::NextAttemptAt,
            sea_orm::sea_query::Expr::value(Utc::now() + backoff),
        )
        .col_expr(
            entity::Column::LastError,
            sea_orm::sea_query::Expr::value(error.chars().take(500).collect::<String>()),
        )
        .filter(entity::Column::Id.eq(msg.id.uuid()))
        .exec(&tx.tx)
        .await?;
    Ok(())
}

/// Every message, oldest first: what the space has sent or will send.
pub async fn history(tx: &TenantTx) -> Result<Vec<Message>> {
    let rows = tx
        .select::<entity::Entity>()
        .order_by_asc(entity::Column::Id)
        .all(&tx.tx)
        .await?;
    Ok(rows.into_iter().map(Message::from).collect())
}
