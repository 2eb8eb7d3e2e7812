//! Signing in, changing a password and accepting an invitation: each reads in one short
//! transaction, hashes with no transaction open (so no connection, and on SQLite not the one
//! connection, is held for the ~20 ms of argon2), then writes in a second short transaction that
//! re-checks what the first one read (the credential version, or the token).

use chrono::{DateTime, Duration, Utc};
use sea_orm::ColumnTrait;
use sea_orm::QueryFilter;
use sea_orm::sea_query::{Expr, ExprTrait};

use super::limiter::{
    AttemptLimiter, SignInKeys, attempt, sign_in_attempt, sign_in_succeeded, succeeded,
};
use super::password::Hasher;
use super::tokens::{Bearer, Keys, unix_now};
use super::{invitations, sessions};
use crate::people::PersonStatus;
use crate::people::entity::person;
use crate::values::{Email, Password};
use crate::{Db, Error, PersonId, Result, TenantId, TenantTx, people};

#[derive(Debug)]
pub struct SignedIn {
    pub person: PersonId,
    pub access_token: String,
    pub access_expires_at: DateTime<Utc>,
    pub refresh_token: String,
    pub refresh_expires_at: DateTime<Utc>,
}

/// What the password flows of one space need: the pool (each flow opens its own short
/// transactions through the tenant door), the hashing slots, keys and limits.
pub struct Auth<'a> {
    pub db: &'a Db,
    pub tenant: TenantId,
    pub hasher: &'a Hasher,
    pub keys: &'a Keys,
    pub limiter: &'a dyn AttemptLimiter,
    pub refresh_ttl: Duration,
}

impl Auth<'_> {
    /// A short transaction of the flow's own, in its space.
    pub async fn begin(&self) -> Result<TenantTx> {
        TenantTx::begin(self.db, self.tenant).await
    }
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

/// Counts the attempt, waits out the account's delay if it is under attack, and verifies the
/// password (against a dummy hash when `stored` is `None`). Shared by operator sign-in.
pub async fn checked_password(
    hasher: &Hasher,
    limiter: &dyn AttemptLimiter,
    keys: &SignInKeys,
    password: String,
    stored: impl AsyncFnOnce() -> Result<Option<String>>,
) -> Result<bool> {
    let delay = sign_in_attempt(limiter, keys).await?;
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let stored = stored().await?;
    let ok = hasher.verify(password, stored).await?;
    if ok {
        sign_in_succeeded(limiter, keys).await?;
    }
    Ok(ok)
}

pub async fn sign_in(
    auth: &Auth<'_>,
    email: &str,
    password_raw: &str,
    client: &str,
) -> Result<SignedIn> {
    let email = Email::parse("email", email)?;
    let password_raw = parse_sign_in_password(password_raw)?;
    let keys = SignInKeys::new(&format!("t:{}", auth.tenant), email.as_str(), client);
    let wrong = || Error::Unauthenticated("wrong email or password");
    let mut seen = None;
    let ok = checked_password(auth.hasher, auth.limiter, &keys, password_raw, async || {
        let read = auth.begin().await?;
        let found = people::model_by_email(&read, &email).await?;
        read.commit().await?;
        seen = found.filter(|m| PersonStatus::from_db_str(&m.status) == PersonStatus::Active);
        Ok(seen.as_ref().and_then(|m| m.password_hash.clone()))
    })
    .await?;
    let Some(m) = seen.filter(|_| ok) else {
        return Err(wrong());
    };
    // What was verified must still be what is stored: a password changed or an account
    // disabled while the hash ran wins.
    let write = auth.begin().await?;
    let now = people::model(&write, PersonId::from_uuid(m.id)).await?;
    let unchanged = now.is_some_and(|n| {
        n.token_version == m.token_version
            && n.password_hash == m.password_hash
            && PersonStatus::from_db_str(&n.status) == PersonStatus::Active
    });
    if !unchanged {
        return Err(wrong());
    }
    let s = issue(
        &write,
        auth.keys,
        PersonId::from_uuid(m.id),
        m.token_version,
        auth.refresh_ttl,
    )
    .await?;
    write.commit().await?;
    Ok(s)
}

/// Access and refresh tokens for a person who just proved who they are, under the credential
/// version that proof was checked against.
pub async fn issue(
    tx: &TenantTx,
    keys: &Keys,
    person: PersonId,
    version: i32,
    refresh_ttl: Duration,
) -> Result<SignedIn> {
    let now = unix_now();
    let (access_token, exp) = keys.issue(
        Bearer::Person {
            tenant: tx.tenant(),
            person,
            version,
        },
        now,
    )?;
    let refresh = sessions::start(tx, person, version, refresh_ttl).await?;
    Ok(SignedIn {
        person,
        access_token,
        access_expires_at: DateTime::from_timestamp(exp as i64, 0).unwrap_or_else(Utc::now),
        refresh_token: refresh.token,
        refresh_expires_at: refresh.expires_at,
    })
}

/// Stores a new password hash if the person's credential version is still `expected`, moves
/// the version on (ending every access token) and revokes every session. Returns false when
/// the version moved meanwhile (another change won). For password change and reset.
pub async fn store_password(
    tx: &TenantTx,
    person: PersonId,
    expected_version: i32,
    hash: String,
) -> Result<bool> {
    let done = tx
        .scoped_update::<person::Entity>()
        .col_expr(person::Column::PasswordHash, Expr::value(hash))
        .col_expr(person::Column::PasswordChangedAt, Expr::value(Utc::now()))
        .col_expr(
            person::Column::TokenVersion,
            Expr::col(person::Column::TokenVersion).add(1),
        )
        .filter(person::Column::Id.eq(person.uuid()))
        .filter(person::Column::TokenVersion.eq(expected_version))
        .exec(&tx.tx)
        .await?;
    if done.rows_affected != 1 {
        return Ok(false);
    }
    sessions::revoke_all(tx, person).await?;
    Ok(true)
}

/// Changes a password after checking the current one; every session of the person ends.
///
/// Wrong current passwords count against a limit of their own, so a stolen access token
/// cannot be used to guess the password.
pub async fn change_password(
    auth: &Auth<'_>,
    person: PersonId,
    current: &str,
    new: Password,
) -> Result<()> {
    let read = auth.begin().await?;
    let m = people::model(&read, person).await?.ok_or(Error::NotFound)?;
    read.commit().await?;
    let acct = [format!("t:{}:pwchange:{person}", auth.tenant)];
    attempt(auth.limiter, &acct).await?;
    if !auth
        .hasher
        .verify(current.to_owned(), m.password_hash.clone())
        .await?
    {
        return Err(Error::invalid(
            "currentPassword",
            "is not your current password",
        ));
    }
    succeeded(auth.limiter, &acct).await?;
    let hash = auth.hasher.hash(new).await?;
    let write = auth.begin().await?;
    if !store_password(&write, person, m.token_version, hash).await? {
        return Err(Error::conflict(
            "currentPassword",
            "your password changed meanwhile; sign in again",
        ));
    }
    write.commit().await
}

/// Accepts an invitation and signs in: the token is checked, the password hashed with no
/// transaction open, then the token is claimed (single use, even under concurrent tries) and
/// the password stored in one short transaction. Unknown, used and expired tokens answer alike.
pub async fn accept_invitation(
    auth: &Auth<'_>,
    token: &str,
    new_password: Password,
) -> Result<SignedIn> {
    let invalid = || Error::invalid("token", "this invitation is unknown, used or expired");
    let read = auth.begin().await?;
    let state = invitations::check(&read, token).await?;
    read.commit().await?;
    if !matches!(state, invitations::TokenState::Valid(_)) {
        return Err(invalid());
    }
    let hash = auth.hasher.hash(new_password).await?;
    // Dropping `write` on an error rolls the claim back: the invitation stays unused.
    let write = auth.begin().await?;
    let holder = invitations::complete(&write, token, hash).await?;
    let version = people::model(&write, holder)
        .await?
        .ok_or_else(invalid)?
        .token_version;
    let s = issue(&write, auth.keys, holder, version, auth.refresh_ttl).await?;
    write.commit().await?;
    Ok(s)
}

/// Exchanges a refresh token for new tokens. The outer error is a fault (roll back); the inner
/// one is a refusal whose effects (revoking a reused or outdated family) must be committed.
pub async fn refresh(
    tx: &TenantTx,
    keys: &Keys,
    token: &str,
    refresh_ttl: Duration,
) -> Result<Result<SignedIn>> {
    let refused = || Error::Unauthenticated("this session has ended; sign in again");
    match sessions::rotate(tx, token, refresh_ttl).await? {
        sessions::Rotation::Rotated {
            person,
            version,
            next,
        } => {
            let now = unix_now();
            let (access_token, exp) = keys.issue(
                Bearer::Person {
                    tenant: tx.tenant(),
                    person,
                    version,
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
        sessions::Rotation::Reused | sessions::Rotation::Ended | sessions::Rotation::Invalid => {
            Ok(Err(refused()))
        }
    }
}
