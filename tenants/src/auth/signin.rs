//! Signing in with email and password, counted against the failure limits.

use chrono::{DateTime, Duration, Utc};
use sea_orm::ColumnTrait;
use sea_orm::QueryFilter;
use sea_orm::sea_query::{Expr, ExprTrait};
use sha2::{Digest, Sha256};

use super::limiter::{AttemptLimiter, attempt, succeeded};
use super::tokens::{Bearer, Keys, unix_now};
use super::{password, sessions};
use crate::people::PersonStatus;
use crate::people::entity::person;
use crate::values::{Email, Password};
use crate::{Error, PersonId, Result, TenantTx, people};

#[derive(Debug)]
pub struct SignedIn {
    pub person: PersonId,
    pub access_token: String,
    pub access_expires_at: DateTime<Utc>,
    pub refresh_token: String,
    pub refresh_expires_at: DateTime<Utc>,
}

/// Limiter keys for an account and an address, under the tenant's (or platform's) prefix.
pub fn limiter_keys(prefix: &str, email: &str, client: &str) -> [String; 2] {
    let acct = Sha256::digest(email.trim().to_lowercase().as_bytes());
    let acct: String = acct.iter().take(12).map(|b| format!("{b:02x}")).collect();
    [
        format!("{prefix}:signin:acct:{acct}"),
        format!("{prefix}:signin:ip:{client}"),
    ]
}

pub fn parse_sign_in_password(raw: &str) -> Result<String> {
    if raw.is_empty() {
        return Err(Error::invalid("password", "must not be empty"));
    }
    if raw.chars().count() > 256 {
        return Err(Error::invalid("password", "must be at most 256 characters"));
    }
    Ok(raw.to_owned())
}

pub async fn sign_in(
    tx: &TenantTx,
    keys: &Keys,
    limiter: &dyn AttemptLimiter,
    email: &str,
    password_raw: &str,
    client: &str,
    refresh_ttl: Duration,
) -> Result<SignedIn> {
    let email = Email::parse("email", email)?;
    let password_raw = parse_sign_in_password(password_raw)?;
    let lkeys = limiter_keys(&format!("t:{}", tx.tenant()), email.as_str(), client);
    attempt(limiter, &lkeys).await?;
    let found = people::model_by_email(tx, &email).await?;
    let active = found
        .as_ref()
        .filter(|m| PersonStatus::from_db_str(&m.status) == PersonStatus::Active);
    let ok = password::verify(password_raw, active.and_then(|m| m.password_hash.clone())).await?;
    let Some(m) = active.filter(|_| ok) else {
        return Err(Error::Unauthenticated("wrong email or password"));
    };
    succeeded(limiter, &lkeys).await?;
    issue(tx, keys, PersonId::from_uuid(m.id), refresh_ttl).await
}

/// Access and refresh tokens for a person who just proved who they are.
pub async fn issue(
    tx: &TenantTx,
    keys: &Keys,
    person: PersonId,
    refresh_ttl: Duration,
) -> Result<SignedIn> {
    let version = people::model(tx, person)
        .await?
        .ok_or(Error::NotFound)?
        .token_version;
    let now = unix_now();
    let (access_token, exp) = keys.issue(
        Bearer::Person {
            tenant: tx.tenant(),
            person,
            version,
        },
        now,
    )?;
    let refresh = sessions::start(tx, person, refresh_ttl).await?;
    Ok(SignedIn {
        person,
        access_token,
        access_expires_at: DateTime::from_timestamp(exp as i64, 0).unwrap_or_else(Utc::now),
        refresh_token: refresh.token,
        refresh_expires_at: refresh.expires_at,
    })
}

/// Changes a password after checking the current one; every session of the person ends.
///
/// Wrong current passwords count against the same limit as sign-in, so a stolen access token
/// cannot be used to guess the password.
pub async fn change_password(
    tx: &TenantTx,
    limiter: &dyn AttemptLimiter,
    person: PersonId,
    current: &str,
    new: Password,
) -> Result<()> {
    let m = people::model(tx, person).await?.ok_or(Error::NotFound)?;
    let acct = [format!("t:{}:pwchange:{person}", tx.tenant())];
    attempt(limiter, &acct).await?;
    if !password::verify(current.to_owned(), m.password_hash.clone()).await? {
        return Err(Error::invalid(
            "currentPassword",
            "is not your current password",
        ));
    }
    succeeded(limiter, &acct).await?;
    let hash = password::hash(new).await?;
    tx.update_many::<person::Entity>()
        .col_expr(person::Column::PasswordHash, Expr::value(hash))
        .col_expr(person::Column::PasswordChangedAt, Expr::value(Utc::now()))
        .col_expr(
            person::Column::TokenVersion,
            Expr::col(person::Column::TokenVersion).add(1),
        )
        .filter(person::Column::Id.eq(person.uuid()))
        .exec(&tx.tx)
        .await?;
    sessions::revoke_all(tx, person).await
}

/// Exchanges a refresh token for new tokens. The outer error is a fault (roll back); the inner
/// one is a refusal whose effects (revoking a reused family) must be committed.
pub async fn refresh(
    tx: &TenantTx,
    keys: &Keys,
    token: &str,
    refresh_ttl: Duration,
) -> Result<Result<SignedIn>> {
    let refused = || Error::Unauthenticated("this session has ended; sign in again");
    match sessions::rotate(tx, token, refresh_ttl).await? {
        sessions::Rotation::Rotated { person, next } => {
            let Some(m) = people::model(tx, person).await? else {
                return Ok(Err(refused()));
            };
            if PersonStatus::from_db_str(&m.status) != PersonStatus::Active {
                sessions::revoke_all(tx, person).await?;
                return Ok(Err(refused()));
            }
            let now = unix_now();
            let (access_token, exp) = keys.issue(
                Bearer::Person {
                    tenant: tx.tenant(),
                    person,
                    version: m.token_version,
                },
                now,
            )?;
            Ok(Ok(SignedIn {
                person,
                access_token,
                access_expires_at: DateTime::from_timestamp(exp as i64, 0).unwrap_or_else(Utc::now),
                refresh_token: next.token,
                refresh_expires_at: next.expires_at,
            }))
        }
        sessions::Rotation::Reused | sessions::Rotation::Invalid => Ok(Err(refused())),
    }
}
