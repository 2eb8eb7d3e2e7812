//! Invitations: single-use, expiring after 14 days, stored hashed. Accepting one sets the
//! person's password and activates them. Resending one (or inviting again an email whose
//! invitation expired) replaces every earlier token of that person.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, QueryFilter, QueryOrder, Set};

use super::entity::invitation;
use super::{password, secret};
use crate::kernel::principal::Need;
use crate::outbox::{self, MessageKind, Payload};
use crate::people::entity::person;
use crate::people::{Person, PersonStatus};
use crate::values::Password;
use crate::{Error, InvitationId, PersonId, Principal, Result, TenantTx, organisations};

pub const VALIDITY_DAYS: i64 = 14;

/// What a presented token (invitation or reset) is worth, as the pages tell it: an expired and a
/// used link each get their own message; an unknown token and another space's get the same one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenState {
    Valid(PersonId),
    Expired,
    Used,
    Unknown,
}

impl TokenState {
    pub(crate) fn of(
        person: PersonId,
        used: bool,
        expires_at: DateTime<Utc>,
        holder_active_or_invited: bool,
    ) -> Self {
        if !holder_active_or_invited {
            // A disabled account's links say nothing about it.
            TokenState::Unknown
        } else if used {
            TokenState::Used
        } else if expires_at <= Utc::now() {
            TokenState::Expired
        } else {
            TokenState::Valid(person)
        }
    }
}

pub(crate) fn invalid() -> Error {
    Error::invalid("token", "this invitation is unknown, used or expired")
}

/// The rows of one invitation: the invitation (its token hashed) and its message in the
/// outbox, sealed. Built apart so imports can insert thousands at once.
pub(crate) fn rows(
    tx: &TenantTx,
    person: PersonId,
    email: &str,
    given_name: &str,
    accept_url: &str,
) -> Result<(invitation::ActiveModel, outbox::entity::ActiveModel, String)> {
    let token = secret::new_token()?;
    let now = Utc::now();
    let inv = invitation::ActiveModel {
        tenant_id: Set(tx.tenant_uuid()),
        id: Set(InvitationId::new().uuid()),
        person_id: Set(person.uuid()),
        token_hash: Set(secret::digest(&token)),
        expires_at: Set(now + Duration::days(VALIDITY_DAYS)),
        accepted_at: Set(None),
        created_at: Set(now),
    };
    let msg = outbox::message_row(
        tx,
        MessageKind::Invitation,
        email,
        &Payload {
            name: given_name.to_owned(),
            link: format!("{accept_url}?token={token}"),
            token: token.clone(),
        },
    )?;
    Ok((inv, msg, token))
}

/// Creates an invitation and queues its message; returns the token (shown nowhere else). Any
/// earlier unused invitation of the person stops working.
pub(crate) async fn create(tx: &TenantTx, person: &Person, accept_url: &str) -> Result<String> {
    tx.scoped_delete::<invitation::Entity>()
        .filter(invitation::Column::PersonId.eq(person.id.uuid()))
        .filter(invitation::Column::AcceptedAt.is_null())
        .exec(&tx.tx)
        .await?;
    let (inv, msg, token) = rows(tx, person.id, &person.email, &person.given_name, accept_url)?;
    inv.insert(&tx.tx).await?;
    msg.insert(&tx.tx).await?;
    Ok(token)
}

/// Whether the person holds an invitation that still works.
pub(crate) async fn has_live(tx: &TenantTx, person: PersonId) -> Result<bool> {
    Ok(tx
        .scoped_select::<invitation::Entity>()
        .filter(invitation::Column::PersonId.eq(person.uuid()))
        .filter(invitation::Column::AcceptedAt.is_null())
        .filter(invitation::Column::ExpiresAt.gt(Utc::now()))
        .one(&tx.tx)
        .await?
        .is_some())
}

/// HR sends a new invitation to a person who has not accepted theirs; the previous link dies.
pub async fn resend(
    tx: &TenantTx,
    who: &Principal,
    id: PersonId,
    accept_url: &str,
) -> Result<(Person, String)> {
    let target = crate::people::get(tx, who, id).await?;
    let org = organisations::load(tx, target.organisation).await?;
    if !who.may(Need::Manage, &org.path) {
        return Err(Error::Forbidden(
            "resending an invitation needs an admin role on the person's organisation",
        ));
    }
    match target.status {
        PersonStatus::Invited => {}
        PersonStatus::Active => {
            return Err(Error::conflict(
                "personId",
                "this person has already accepted their invitation",
            ));
        }
        PersonStatus::Disabled => {
            return Err(Error::conflict(
                "personId",
                "this person is disabled; enable them first",
            ));
        }
    }
    let token = create(tx, &target, accept_url).await?;
    Ok((target, token))
}

/// What the token is worth now, read without changing anything.
pub async fn check(tx: &TenantTx, token: &str) -> Result<TokenState> {
    let Some(inv) = tx
        .scoped_select::<invitation::Entity>()
        .filter(invitation::Column::TokenHash.eq(secret::digest(token)))
        .order_by_asc(invitation::Column::Id)
        .one(&tx.tx)
        .await?
    else {
        return Ok(TokenState::Unknown);
    };
    let holder = crate::people::model(tx, PersonId::from_uuid(inv.person_id)).await?;
    let usable =
        holder.is_some_and(|p| PersonStatus::from_db_str(&p.status) != PersonStatus::Disabled);
    Ok(TokenState::of(
        PersonId::from_uuid(inv.person_id),
        inv.accepted_at.is_some(),
        inv.expires_at,
        usable,
    ))
}

/// Claims the invitation and sets the password hashed beforehand. The claim is a conditional
/// update, so of two concurrent acceptances exactly one wins, and a token that expired or was
/// replaced between the check and now is refused.
pub async fn complete(tx: &TenantTx, token: &str, password_hash: String) -> Result<PersonId> {
    let now = Utc::now();
    let claimed = tx
        .scoped_update::<invitation::Entity>()
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
        .scoped_select::<invitation::Entity>()
        .filter(invitation::Column::TokenHash.eq(secret::digest(token)))
        .one(&tx.tx)
        .await?
        .ok_or_else(invalid)?;
    let holder = crate::people::model(tx, PersonId::from_uuid(inv.person_id)).await?;
    if holder.is_none_or(|p| PersonStatus::from_db_str(&p.status) == PersonStatus::Disabled) {
        // The caller rolls back: a disabled account's invitation stays unused.
        return Err(invalid());
    }
    tx.scoped_update::<person::Entity>()
        .col_expr(person::Column::PasswordHash, Expr::value(password_hash))
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

/// Accepts an invitation in one transaction: the token must be known, unused and unexpired;
/// every failure answers the same, so a token cannot be probed. (The pages check, hash with no
/// transaction open, then `complete` in a second one.)
pub async fn accept(tx: &TenantTx, token: &str, new_password: Password) -> Result<PersonId> {
    if !matches!(check(tx, token).await?, TokenState::Valid(_)) {
        return Err(invalid());
    }
    let hash = password::hash(new_password).await?;
    complete(tx, token, hash).await
}
