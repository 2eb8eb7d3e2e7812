//! Funders: bodies that pay for training through vouchers (a personal-learning-account scheme,
//! a public employment service, a sector fund, an employer). Each is invoiced on its
//! organisation's billing account; its staff hold `Role::Funder` on that organisation.
//!
//! CONTRACT (lead): `Funder`, `NewFunder`, `create` and `load` are what batches, redemption and
//! the API call. The funders helper owns the rest of this module (policy, staff, listing) and
//! may add fields.

pub(crate) mod entity;

use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::{ColumnTrait, QueryFilter};
use spaces_tenants::editions::FunderKind;
use spaces_tenants::{Error, OrganisationId, Result, TenantTx};

use crate::FunderId;
use entity::funder;

#[derive(Clone, Debug)]
pub struct Funder {
    pub id: FunderId,
    pub name: String,
    pub kind: FunderKind,
    pub contact_name: String,
    pub contact_email: String,
    /// Its billing account is this organisation's; its staff hold `Role::Funder` here.
    pub organisation: OrganisationId,
    pub created_at: DateTime<Utc>,
}

impl Funder {
    pub(crate) fn from_model(m: funder::Model) -> Result<Self> {
        Ok(Self {
            id: FunderId::from_uuid(m.id),
            name: m.name,
            kind: FunderKind::from_db(&m.kind)?,
            contact_name: m.contact_name,
            contact_email: m.contact_email,
            organisation: OrganisationId::from_uuid(m.organisation_id),
            created_at: m.created_at,
        })
    }
}

/// A funder as an admin gives it (parsed by the caller).
#[derive(Clone, Debug)]
pub struct NewFunder {
    pub name: String,
    pub kind: FunderKind,
    pub contact_name: String,
    pub contact_email: String,
    pub organisation: OrganisationId,
}

/// Records the funder. The caller has checked who may and that the organisation is of this
/// space; one funder per organisation (`CONFLICT` on `organisationId`).
pub async fn create(tx: &TenantTx, now: DateTime<Utc>, new: NewFunder) -> Result<Funder> {
    if new.name.trim().is_empty() || new.name.chars().count() > 200 {
        return Err(Error::invalid("name", "must be 1 to 200 characters"));
    }
    let taken = tx
        .select::<funder::Entity>()
        .filter(funder::Column::OrganisationId.eq(new.organisation.uuid()))
        .count()
        .await?;
    if taken > 0 {
        return Err(Error::conflict(
            "organisationId",
            "this organisation is already a funder",
        ));
    }
    let m = tx
        .insert(funder::ActiveModel {
            tenant_id: Set(tx.tenant().uuid()),
            id: Set(FunderId::new().uuid()),
            name: Set(new.name.trim().to_owned()),
            kind: Set(new.kind.as_str().to_owned()),
            contact_name: Set(new.contact_name.trim().to_owned()),
            contact_email: Set(new.contact_email.trim().to_owned()),
            organisation_id: Set(new.organisation.uuid()),
            created_at: Set(now),
            updated_at: Set(now),
        })
        .await?;
    Funder::from_model(m)
}

/// One funder of this space; `NotFound` otherwise.
pub async fn load(tx: &TenantTx, id: FunderId) -> Result<Funder> {
    tx.select::<funder::Entity>()
        .filter(funder::Column::Id.eq(id.uuid()))
        .one()
        .await?
        .ok_or(Error::NotFound)
        .and_then(Funder::from_model)
}
