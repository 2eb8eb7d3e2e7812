//! Each space's credential signing keys, apart from the access-token keys. The first issuance
//! makes one; a rotation retires it and makes the next. Retired keys are never deleted: their
//! public half stays published at its `kid` URL for as long as credentials signed with it exist.
//!
//! The private half is PKCS#8 sealed with the deployment's at-rest key (`SPACES_OUTBOX_KEY`),
//! bound to its space and its id: a database dump alone signs nothing.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use super::entity::key;
use super::signing::{PublicKey, SigningKey};
use crate::{CredentialKeyId, Error, Principal, Result, TenantTx};

/// What the seal binds a sealed key to, beside its space and id.
const PURPOSE: &[u8] = b"credential-key";

/// A space's key as verifiers see it.
#[derive(Clone, Debug)]
pub struct PublishedKey {
    pub id: CredentialKeyId,
    pub public: PublicKey,
    pub created_at: DateTime<Utc>,
    pub retired_at: Option<DateTime<Utc>>,
}

fn published(m: &key::Model) -> PublishedKey {
    PublishedKey {
        id: CredentialKeyId::from_uuid(m.id),
        public: PublicKey {
            n: m.public_n.clone(),
            e: m.public_e.clone(),
        },
        created_at: m.created_at,
        retired_at: m.retired_at,
    }
}

/// The space's current key, made on first use. Two transactions making the first key at once:
/// the partial unique index lets one row in and the other reads it.
pub async fn current_signing(
    tx: &TenantTx,
    now: DateTime<Utc>,
) -> Result<(CredentialKeyId, SigningKey)> {
    if let Some(m) = current_row(tx).await? {
        return open(tx, &m);
    }
    insert_new(tx, now).await?;
    let m = current_row(tx)
        .await?
        .ok_or_else(|| Error::Internal("the space's credential key vanished".into()))?;
    open(tx, &m)
}

async fn current_row(tx: &TenantTx) -> Result<Option<key::Model>> {
    tx.select::<key::Entity>()
        .filter(key::Column::RetiredAt.is_null())
        .one()
        .await
}

async fn insert_new(tx: &TenantTx, now: DateTime<Utc>) -> Result<()> {
    let (signing, pkcs8) = SigningKey::generate()?;
    let id = CredentialKeyId::new();
    let public = signing.public();
    let sealed = tx
        .outbox_key()?
        .seal_for(PURPOSE, tx.tenant_uuid(), id.uuid(), &pkcs8)?;
    let row = key::ActiveModel {
        tenant_id: Set(tx.tenant_uuid()),
        id: Set(id.uuid()),
        public_n: Set(public.n),
        public_e: Set(public.e),
        private_sealed: Set(sealed),
        created_at: Set(now),
        retired_at: Set(None),
    };
    // Only another current key conflicts here (ids are fresh): then that one is current.
    key::Entity::insert(row)
        .on_conflict(OnConflict::new().do_nothing().to_owned())
        .try_insert()
        .exec_without_returning(&tx.tx)
        .await?;
    Ok(())
}

fn open(tx: &TenantTx, m: &key::Model) -> Result<(CredentialKeyId, SigningKey)> {
    let pkcs8 = tx
        .outbox_key()?
        .open_for(PURPOSE, m.tenant_id, m.id, &m.private_sealed)?;
    Ok((
        CredentialKeyId::from_uuid(m.id),
        SigningKey::from_pkcs8(&pkcs8)?,
    ))
}

/// One key of this space, current or retired (`None`: not this space's).
pub async fn get(tx: &TenantTx, id: CredentialKeyId) -> Result<Option<PublishedKey>> {
    Ok(tx
        .select::<key::Entity>()
        .filter(key::Column::Id.eq(id.uuid()))
        .one()
        .await?
        .as_ref()
        .map(published))
}

/// Every key of this space, oldest first: the space's JWKS.
pub async fn all(tx: &TenantTx) -> Result<Vec<PublishedKey>> {
    Ok(tx
        .select::<key::Entity>()
        .order_by_asc(key::Column::CreatedAt)
        .order_by_asc(key::Column::Id)
        .all()
        .await?
        .iter()
        .map(published)
        .collect())
}

/// Tenant admins: retire the current key and make the next. Credentials signed before stay
/// valid: the retired key's public half stays published.
pub async fn rotate(tx: &TenantTx, who: &Principal, now: DateTime<Utc>) -> Result<PublishedKey> {
    if !who.is_tenant_admin() {
        return Err(Error::Forbidden(
            "rotating the credential key needs the tenant admin role",
        ));
    }
    tx.update_many::<key::Entity>()
        .col_expr(key::Column::RetiredAt, sea_orm::sea_query::Expr::value(now))
        .filter(key::Column::RetiredAt.is_null())
        .exec()
        .await?;
    insert_new(tx, now).await?;
    current_row(tx)
        .await?
        .as_ref()
        .map(published)
        .ok_or_else(|| Error::Internal("the new credential key vanished".into()))
}
