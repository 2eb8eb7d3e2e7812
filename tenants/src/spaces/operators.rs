//! Platform operators: the only identities outside every tenant.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};

use super::entity::operator;
use crate::auth::limiter::{AttemptLimiter, SignInKeys};
use crate::auth::password::{self, Hasher};
use crate::auth::signin::{checked_password, parse_sign_in_password};
use crate::auth::tokens::{Bearer, Keys, unix_now};
use crate::values::{Email, Password};
use crate::{Db, Error, OperatorId, Result};

pub async fn create(db: &Db, email: &str, pw: Password) -> Result<OperatorId> {
    let email = Email::parse("email", email)?;
    let id = OperatorId::new();
    operator::ActiveModel {
        id: Set(id.uuid()),
        email: Set(email.as_str().to_owned()),
        password_hash: Set(password::hash(pw).await?),
        created_at: Set(Utc::now()),
    }
    .insert(&db.conn)
    .await
    .map_err(|e| Error::on_unique(e, "email", "an operator with this email already exists"))?;
    Ok(id)
}

pub async fn exists(db: &Db, id: OperatorId) -> Result<bool> {
    Ok(operator::Entity::find_by_id(id.uuid())
        .one(&db.conn)
        .await?
        .is_some())
}

/// Operators get an access token only (no refresh): they sign in again after it expires.
/// The same limits as a space's sign-in, under the platform's prefix; the hash runs with no
/// statement open.
pub async fn sign_in(
    db: &Db,
    hasher: &Hasher,
    keys: &Keys,
    limiter: &dyn AttemptLimiter,
    email: &str,
    password_raw: &str,
    client: &str,
) -> Result<(OperatorId, String, DateTime<Utc>)> {
    let email = Email::parse("email", email)?;
    let password_raw = parse_sign_in_password(password_raw)?;
    let lkeys = SignInKeys::new("p", email.as_str(), client);
    let mut found = None;
    let ok = checked_password(hasher, limiter, &lkeys, password_raw, async || {
        found = operator::Entity::find()
            .filter(operator::Column::Email.eq(email.as_str()))
            .one(&db.conn)
            .await?;
        Ok(found.as_ref().map(|m| m.password_hash.clone()))
    })
    .await?;
    let Some(m) = found.filter(|_| ok) else {
        return Err(Error::Unauthenticated("wrong email or password"));
    };
    let id = OperatorId::from_uuid(m.id);
    let now = unix_now();
    let (token, exp) = keys.issue(Bearer::Operator { operator: id }, now)?;
    Ok((
        id,
        token,
        DateTime::from_timestamp(exp as i64, 0).unwrap_or_else(Utc::now),
    ))
}
