//! Invitations: single-use, expiring after 14 days, stored hashed. Accepting one sets the
//! person's password and activates them.

use chrono::{Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, QueryFilter, Set};

use super::entity::invitation;
use super::{password, secret};
use crate::people::entity::person;
use crate::people::{Person, PersonStatus};
use crate::values::Password;
use crate::{Error, InvitationId, PersonId, Result, TenantTx, outbox};

pub const VALIDITY_DAYS: i64 = 14;

/// The rows of one invitation: the invitation (its token hashed) and its message in the
/// outbox, with the token, shown nowhere else. Built apart so imports can insert thousands at once.
pub(crate) fn rows(
    tenant: uuid::Uuid,
    person: PersonId,
    email: &str,
    given_name: &str,
    accept_url: &str,
) -> Result<(invitation::ActiveModel, outbox::entity::ActiveModel, String)> {
    let token = secret::new_token()?;
    let now = Utc::now();
    let inv = invitation::ActiveModel {
        tenant_id: Set(tenant),
        id: Set(InvitationId::new().uuid()),
        person_id: Set(person.uuid()),
        token_hash: Set(secret::digest(&token)),
        expires_at: Set(now + Duration::days(VALIDITY_DAYS)),
        accepted_at: Set(None),
        created_at: Set(now),
    };
    let body = format!(
        "Hello {given_name},\n\nYou are invited to your learning space. Choose your password here within {VALIDITY_DAYS} days:\n\n{accept_url}#token={token}\n\nIf you did not expect this message, ignore it.\n"
    );
    let msg = outbox::message_row(
        tenant,
        "invitation",
        email,
        "Your invitation to your learning space",
        &body,
    );
    Ok((inv, msg, token))
}

/// Creates an invitation and queues its message; returns the token (shown nowhere else).
pub(crate) async fn create(tx: &TenantTx, person: &Person, accept_url: &str) -> Result<String> {
    let (inv, msg, token) = rows(
        tx.tenant_uuid(),
        person.id,
        &person.email,
        &person.given_name,
        accept_url,
    )?;
    inv.insert(&tx.tx).await?;
    msg.insert(&tx.tx).await?;
    Ok(token)
}

/// Accepts an invitation: the token must be known, unused and unexpired; all three failures
/// answer the same, so a token cannot be probed.
pub async fn accept(tx: &TenantTx, token: &str, new_password: Password) -> Result<PersonId> {
    let invalid = || Error::invalid("token", "this invitation is unknown, used or expired");
    let now = Utc::now();
    // Marking it used first makes acceptance single-use even under concurrent tries.
    let claimed = tx
        .update_many::<invitation::Entity>()
        .col_expr(invitation::Column::AcceptedAt, Expr::value(now))
        .filter(invitation::Column::TokenHash.eq(secret::digest(token)))
        .filter(invitation::Column::AcceptedAt.is_null())
        .filter(invitation::Column::ExpiresAt.gt(now))
        .exec(&tx.tx)
        .await?;
    if claimed.rows_affected != 1 {
        return Err(invalid());
    }
    let inv = tx
        .select::<invitation::Entity>()
        .filter(invitation::Column::TokenHash.eq(secret::digest(token)))
        .one(&tx.tx)
        .await?
        .ok_or_else(invalid)?;
    let holder = crate::people::model(tx, PersonId::from_uuid(inv.person_id)).await?;
    if holder.is_none_or(|p| PersonStatus::from_db_str(&p.status) == PersonStatus::Disabled) {
        // The caller's savepoint undoes the claim: a disabled account's invitation stays unused.
        return Err(invalid());
    }
    let hash = password::hash(new_password).await?;
    tx.update_many::<person::Entity>()
        .col_expr(person::Column::PasswordHash, Expr::value(hash))
        .col_expr(
            person::Column::Status,
            Expr::value(PersonStatus::Active.as_str()),
        )
        .col_expr(person::Column::PasswordChangedAt, Expr::value(now))
        .filter(person::Column::Id.eq(inv.person_id))
        .filter(person::Column::Status.ne(PersonStatus::Disabled.as_str()))
        .exec(&tx.tx)
        .await?;
    Ok(PersonId::from_uuid(inv.person_id))
}
