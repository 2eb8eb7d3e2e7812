//! Password reset: a person who forgot their password asks for a link by email; the link works
//! once, for one hour. The request answers the same whether the email has an account or not,
//! and is limited per client address and per email. Resetting ends every session of the person
//! and bumps their credential version, so every access token they held stops at once.

use chrono::{Duration, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveModelTrait, ColumnTrait, QueryFilter, Set};
use sha2::{Digest, Sha256};

use super::entity::password_reset as reset;
use super::invitations::TokenState;
use super::limiter::{AttemptLimiter, WINDOW};
use super::{secret, sessions};
use crate::outbox::{self, MessageKind, Payload};
use crate::people::PersonStatus;
use crate::people::entity::person;
use crate::values::Email;
use crate::{Error, PersonId, Result, TenantTx, people};

pub const VALIDITY: Duration = Duration::hours(1);
/// Requests per email per limiter window (15 minutes): enough for a lost message, too few to
/// flood someone's inbox.
pub const MAX_PER_ACCOUNT: u64 = 3;
/// Requests per client address per window, over every email.
pub const MAX_PER_ADDRESS: u64 = 10;

fn invalid() -> Error {
    Error::invalid("token", "this reset link is unknown, used or expired")
}

/// Limiter keys for a reset request, apart from sign-in's so neither spends the other's budget.
fn limiter_keys(tx: &TenantTx, email: &Email, client: &str) -> (String, String) {
    let acct = Sha256::digest(email.as_str().as_bytes());
    let acct: String = acct.iter().take(12).map(|b| format!("{b:02x}")).collect();
    (
        format!("t:{}:reset:acct:{acct}", tx.tenant()),
        format!("t:{}:reset:ip:{client}", tx.tenant()),
    )
}

/// Asks for a reset link. Sends one when the email belongs to an active account of this space;
/// answers the same (`Ok`) when it does not.
pub async fn request(
    tx: &TenantTx,
    limiter: &dyn AttemptLimiter,
    email: &str,
    client: &str,
    reset_url: &str,
) -> Result<()> {
    let email = Email::parse("email", email)?;
    let (acct_key, ip_key) = limiter_keys(tx, &email, client);
    let (by_ip, ip_retry) = limiter.hit(&ip_key).await?;
    let (by_acct, acct_retry) = limiter.hit(&acct_key).await?;
    if by_ip > MAX_PER_ADDRESS || by_acct > MAX_PER_ACCOUNT {
        let retry = match (by_ip > MAX_PER_ADDRESS, by_acct > MAX_PER_ACCOUNT) {
            (true, true) => Ord::max(ip_retry, acct_retry),
            (true, false) => ip_retry,
            _ => acct_retry,
        };
        return Err(Error::RateLimited {
            retry_after_secs: retry.clamp(1, WINDOW.as_secs()),
        });
    }
    let Some(m) = people::model_by_email(tx, &email).await? else {
        return Ok(());
    };
    if PersonStatus::from_db_str(&m.status) != PersonStatus::Active {
        // Invited people use their invitation; disabled ones get nothing.
        return Ok(());
    }
    let token = secret::new_token()?;
    let now = Utc::now();
    reset::ActiveModel {
        tenant_id: Set(tx.tenant_uuid()),
        id: Set(uuid::Uuid::now_v7()),
        person_id: Set(m.id),
        token_hash: Set(secret::digest(&token)),
        expires_at: Set(now + VALIDITY),
        used_at: Set(None),
        created_at: Set(now),
    }
    .insert(&tx.tx)
    .await?;
    outbox::enqueue(
        tx,
        MessageKind::PasswordReset,
        &m.email,
        &Payload {
            name: m.given_name.clone(),
            link: format!("{reset_url}?token={token}"),
            token,
        },
    )
    .await
}

/// What the token is worth now, read without changing anything.
pub async fn check(tx: &TenantTx, token: &str) -> Result<TokenState> {
    let Some(r) = tx
        .scoped_select::<reset::Entity>()
        .filter(reset::Column::TokenHash.eq(secret::digest(token)))
        .one(&tx.tx)
        .await?
    else {
        return Ok(TokenState::Unknown);
    };
    let holder = people::model(tx, PersonId::from_uuid(r.person_id)).await?;
    let active =
        holder.is_some_and(|p| PersonStatus::from_db_str(&p.status) == PersonStatus::Active);
    Ok(TokenState::of(
        PersonId::from_uuid(r.person_id),
        r.used_at.is_some(),
        r.expires_at,
        active,
    ))
}

/// Claims the link (a conditional update: of two concurrent uses exactly one wins) and sets the
/// password hashed beforehand; every other link of the person dies with it, every session ends
/// and every access token stops.
pub async fn complete(tx: &TenantTx, token: &str, password_hash: String) -> Result<PersonId> {
    let now = Utc::now();
    let claimed = tx
        .scoped_update::<reset::Entity>()
        .col_expr(reset::Column::UsedAt, Expr::value(now))
        .filter(reset::Column::TokenHash.eq(secret::digest(token)))
        .filter(reset::Column::UsedAt.is_null())
        .filter(reset::Column::ExpiresAt.gt(now))
        .exec(&tx.tx)
        .await?;
    if claimed.rows_affected != 1 {
        return Err(invalid());
    }
    let r = tx
        .scoped_select::<reset::Entity>()
        .filter(reset::Column::TokenHash.eq(secret::digest(token)))
        .one(&tx.tx)
        .await?
        .ok_or_else(invalid)?;
    let person = PersonId::from_uuid(r.person_id);
    let changed = tx
        .scoped_update::<person::Entity>()
        .col_expr(person::Column::PasswordHash, Expr::value(password_hash))
        .col_expr(person::Column::PasswordChangedAt, Expr::value(now))
        .col_expr(
            person::Column::TokenVersion,
            Expr::col(person::Column::TokenVersion).add(1),
        )
        .filter(person::Column::Id.eq(person.uuid()))
        .filter(person::Column::Status.eq(PersonStatus::Active.as_str()))
        .exec(&tx.tx)
        .await?;
    if changed.rows_affected != 1 {
        // Disabled since the link was sent: the caller rolls back, the link stays unused.
        return Err(invalid());
    }
    tx.scoped_update::<reset::Entity>()
        .col_expr(reset::Column::UsedAt, Expr::value(now))
        .filter(reset::Column::PersonId.eq(person.uuid()))
        .filter(reset::Column::UsedAt.is_null())
        .exec(&tx.tx)
        .await?;
    sessions::revoke_all(tx, person).await?;
    Ok(person)
}
