//! Refresh tokens: opaque, stored hashed, rotated on each use. Tokens descend from one sign-in in
//! a family; presenting a token that was already rotated means it was copied, so the whole family
//! is revoked.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, QueryFilter, Set};

use super::entity::refresh_token as rt;
use super::secret;
use crate::{PersonId, RefreshTokenId, Result, SessionFamilyId, TenantTx};

#[derive(Debug)]
pub struct IssuedRefresh {
    pub token: String,
    pub family: SessionFamilyId,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug)]
pub enum Rotation {
    Rotated {
        person: PersonId,
        /// The credential version the session lives under (the person's current one).
        version: i32,
        next: IssuedRefresh,
    },
    /// The token had been rotated or revoked already; its family is now revoked. Commit this.
    Reused,
    /// The person's password changed since the family began, or they are no longer active: the
    /// family is revoked. Commit this.
    Ended,
    /// Unknown or expired.
    Invalid,
}

async fn insert(
    tx: &TenantTx,
    person: PersonId,
    family: SessionFamilyId,
    version: i32,
    ttl: Duration,
) -> Result<IssuedRefresh> {
    let token = secret::new_token()?;
    let now = Utc::now();
    let expires_at = now + ttl;
    rt::ActiveModel {
        tenant_id: Set(tx.tenant_uuid()),
        id: Set(RefreshTokenId::new().uuid()),
        family_id: Set(family.uuid()),
        person_id: Set(person.uuid()),
        token_hash: Set(secret::digest(&token)),
        expires_at: Set(expires_at),
        rotated_at: Set(None),
        revoked_at: Set(None),
        created_at: Set(now),
        token_version: Set(version),
    }
    .insert(&tx.tx)
    .await?;
    Ok(IssuedRefresh {
        token,
        family,
        expires_at,
    })
}

/// A new family, at sign-in, under the credential version the sign-in checked.
pub async fn start(
    tx: &TenantTx,
    person: PersonId,
    version: i32,
    ttl: Duration,
) -> Result<IssuedRefresh> {
    insert(tx, person, SessionFamilyId::new(), version, ttl).await
}

/// Exchanges a refresh token for the next of its family. The family must still be under the
/// person's current credential version: a password change that committed while this token was
/// being rotated elsewhere (its revocation could not see a row inserted concurrently) still ends
/// the family at its next use, so no session outlives the change.
pub async fn rotate(tx: &TenantTx, token: &str, ttl: Duration) -> Result<Rotation> {
    let hash = secret::digest(token);
    let now = Utc::now();
    // The conditional update is the lock: of concurrent rotations, exactly one matches.
    let won = tx
        .scoped_update::<rt::Entity>()
        .col_expr(rt::Column::RotatedAt, Expr::value(now))
        .filter(rt::Column::TokenHash.eq(hash.clone()))
        .filter(rt::Column::RotatedAt.is_null())
        .filter(rt::Column::RevokedAt.is_null())
        .filter(rt::Column::ExpiresAt.gt(now))
        .exec(&tx.tx)
        .await?;
    let Some(row) = tx
        .scoped_select::<rt::Entity>()
        .filter(rt::Column::TokenHash.eq(hash))
        .one(&tx.tx)
        .await?
    else {
        return Ok(Rotation::Invalid);
    };
    let family = SessionFamilyId::from_uuid(row.family_id);
    if won.rows_affected == 1 {
        let person = PersonId::from_uuid(row.person_id);
        let current = crate::people::model(tx, person).await?;
        let live = current.filter(|m| {
            crate::people::PersonStatus::from_db_str(&m.status)
                == crate::people::PersonStatus::Active
                && m.token_version == row.token_version
        });
        if live.is_none() {
            revoke_family(tx, family).await?;
            return Ok(Rotation::Ended);
        }
        let next = insert(tx, person, family, row.token_version, ttl).await?;
        return Ok(Rotation::Rotated {
            person,
            version: row.token_version,
            next,
        });
    }
    if row.rotated_at.is_some() || row.revoked_at.is_some() {
        revoke_family(tx, family).await?;
        return Ok(Rotation::Reused);
    }
    Ok(Rotation::Invalid)
}

pub async fn revoke_family(tx: &TenantTx, family: SessionFamilyId) -> Result<()> {
    tx.scoped_update::<rt::Entity>()
        .col_expr(rt::Column::RevokedAt, Expr::value(Utc::now()))
        .filter(rt::Column::FamilyId.eq(family.uuid()))
        .filter(rt::Column::RevokedAt.is_null())
        .exec(&tx.tx)
        .await?;
    Ok(())
}

/// Sign-out: revokes the family of the presented token, if it is one of this person's.
pub async fn sign_out(tx: &TenantTx, person: PersonId, token: &str) -> Result<bool> {
    let row = tx
        .scoped_select::<rt::Entity>()
        .filter(rt::Column::TokenHash.eq(secret::digest(token)))
        .filter(rt::Column::PersonId.eq(person.uuid()))
        .one(&tx.tx)
        .await?;
    match row {
        Some(r) => {
            revoke_family(tx, SessionFamilyId::from_uuid(r.family_id)).await?;
            Ok(true)
        }
        None => Ok(false),
    }
}

/// Every session of a person (password change, account disabled).
pub async fn revoke_all(tx: &TenantTx, person: PersonId) -> Result<()> {
    tx.scoped_update::<rt::Entity>()
        .col_expr(rt::Column::RevokedAt, Expr::value(Utc::now()))
        .filter(rt::Column::PersonId.eq(person.uuid()))
        .filter(rt::Column::RevokedAt.is_null())
        .exec(&tx.tx)
        .await?;
    Ok(())
}
