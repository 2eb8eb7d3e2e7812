//! Funders: bodies that pay for training through vouchers (a personal-learning-account scheme,
//! a public employment service, a sector fund, an employer). Each is invoiced on its
//! organisation's billing account; its staff hold `Role::Funder` on that organisation.
//!
//! CONTRACT (lead): `Funder`, `NewFunder`, `create` and `load` are what batches, redemption and
//! the API call. The funders helper owns the rest of this module (policy, staff, listing) and
//! may add fields.

pub(crate) mod entity;
pub mod policy;

use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::{ColumnTrait, QueryFilter, QueryOrder, QuerySelect};
use spaces_tenants::editions::FunderKind;
use spaces_tenants::kernel::page::{Page, PageRequest};
use spaces_tenants::organisations::{self, NewOrganisation, OrgKind};
use spaces_tenants::people::{self, NewPerson, Person};
use spaces_tenants::values::Email;
use spaces_tenants::{Error, OrganisationId, Principal, Result, Role, TenantTx};

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

/// A funder as an admin asks for it through the API: its organisation is linked (an employer,
/// the campus's root for a sector fund) or, left out, created under the root in its name.
#[derive(Clone, Debug)]
pub struct FunderRequest {
    pub name: String,
    pub kind: FunderKind,
    pub contact_name: String,
    pub contact_email: String,
    pub organisation: Option<OrganisationId>,
}

/// `createFunder`: the space's admins only. The funder's invoices need a billing account on
/// its organisation, which the admin gives it with `createBillingAccount` (a funder can exist,
/// and issue codes, before it has one).
pub async fn create_as(
    tx: &TenantTx,
    who: &Principal,
    now: DateTime<Utc>,
    req: FunderRequest,
) -> Result<Funder> {
    if !policy::may_manage_funders(who) {
        return Err(Error::Forbidden(
            "funders are created by the space's admins",
        ));
    }
    let name = req.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(Error::invalid("name", "must be 1 to 200 characters"));
    }
    let contact_name = req.contact_name.trim().to_owned();
    if contact_name.is_empty() || contact_name.chars().count() > 200 {
        return Err(Error::invalid("contactName", "must be 1 to 200 characters"));
    }
    let email = Email::parse("contactEmail", &req.contact_email)?;
    let organisation = match req.organisation {
        Some(id) => {
            organisations::get(tx, who, id)
                .await
                .map_err(|e| e.not_found_as("organisationId", "no such organisation"))?
                .id
        }
        None => {
            let root = policy::root_of_admin(who).ok_or(Error::Forbidden(
                "funders are created by the space's admins",
            ))?;
            organisations::create(
                tx,
                who,
                NewOrganisation {
                    parent: root,
                    kind: OrgKind::Company,
                    name: name.clone(),
                    size_band: None,
                    registration_number: None,
                    external_ref: None,
                },
            )
            .await?
            .id
        }
    };
    create(
        tx,
        now,
        NewFunder {
            name,
            kind: req.kind,
            contact_name,
            contact_email: email.as_str().to_owned(),
            organisation,
        },
    )
    .await
}

/// One funder the caller may see (an admin, or its staff); `NotFound` otherwise, as for an
/// unknown id.
pub async fn get(tx: &TenantTx, who: &Principal, id: FunderId) -> Result<Funder> {
    let f = load(tx, id).await?;
    if policy::may_manage_batches(who, &f) {
        Ok(f)
    } else {
        Err(Error::NotFound)
    }
}

/// The funders the caller may see, in creation order: all of them for the space's admins,
/// their own for a funder's staff. Anyone else is refused.
pub async fn list(tx: &TenantTx, who: &Principal, page: PageRequest) -> Result<Page<Funder>> {
    let mut q = tx.select::<funder::Entity>();
    if !policy::sees_all(who) {
        let mine = policy::staffed(who);
        if mine.is_empty() {
            return Err(Error::Forbidden(
                "funders are read by the space's admins and the funders' staff",
            ));
        }
        q = q.filter(funder::Column::OrganisationId.is_in(mine.iter().map(|o| o.uuid())));
    }
    if let Some(after) = page.after {
        q = q.filter(funder::Column::Id.gt(after));
    }
    let rows = q
        .order_by_asc(funder::Column::Id)
        .limit(page.first + 1)
        .all()
        .await?;
    let items = rows
        .into_iter()
        .map(Funder::from_model)
        .collect::<Result<Vec<_>>>()?;
    Ok(Page::from_overfetch(items, page))
}

/// Funders by id, without access checks (the caller has checked): for views that name them.
pub async fn many(tx: &TenantTx, ids: &[FunderId]) -> Result<Vec<Funder>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    tx.select::<funder::Entity>()
        .filter(funder::Column::Id.is_in(ids.iter().map(|i| i.uuid())))
        .all()
        .await?
        .into_iter()
        .map(Funder::from_model)
        .collect()
}

/// `inviteFunderStaff`: a person of the funder's organisation holding `Role::Funder` there,
/// invited by email (the space's admins only). Returns the person and the invitation token.
pub async fn invite_staff(
    tx: &TenantTx,
    who: &Principal,
    id: FunderId,
    new: (&str, &str, &str),
    accept_url: &str,
) -> Result<(Person, String)> {
    let f = get(tx, who, id)
        .await
        .map_err(|e| e.not_found_as("funderId", "no such funder"))?;
    if !policy::may_manage_funders(who) {
        return Err(Error::Forbidden(
            "funder staff are invited by the space's admins",
        ));
    }
    let (email, given, family) = new;
    let person = NewPerson::parse(email, given, family, f.organisation)?;
    people::invite(tx, who, person, Role::Funder, accept_url).await
}
