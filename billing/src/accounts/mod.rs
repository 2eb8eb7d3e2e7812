//! Billing accounts: legal name, address, registration and VAT numbers, invoice email, currency.
//! One per organisation; an enrolment is charged to the nearest one up the tree.

pub mod checks;
pub(crate) mod entity;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, ColumnTrait, QueryFilter, QueryOrder};
use spaces_tenants::kernel::page::{Page, PageRequest};
use spaces_tenants::kernel::values::{Email, name};
use spaces_tenants::{Error, OrganisationId, Principal, Result, Role, TenantTx, organisations};

use crate::{BillingAccountId, Currency};
use entity::account;

#[derive(Clone, Debug)]
pub struct BillingAccount {
    pub id: BillingAccountId,
    pub organisation: OrganisationId,
    pub legal_name: String,
    pub address_line: String,
    pub postcode: String,
    pub city: String,
    pub country: String,
    pub registration_number: Option<String>,
    pub vat_number: Option<String>,
    pub invoice_email: String,
    pub currency: Currency,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl BillingAccount {
    pub(crate) fn from_model(m: account::Model) -> Result<Self> {
        let currency = Currency::parse("currency", &m.currency)
            .map_err(|_| Error::Internal(format!("stored currency {:?}", m.currency)))?;
        Ok(Self {
            id: BillingAccountId::from_uuid(m.id),
            organisation: OrganisationId::from_uuid(m.organisation_id),
            legal_name: m.legal_name,
            address_line: m.address_line,
            postcode: m.postcode,
            city: m.city,
            country: m.country,
            registration_number: m.registration_number,
            vat_number: m.vat_number,
            invoice_email: m.invoice_email,
            currency,
            created_at: m.created_at,
            updated_at: m.updated_at,
        })
    }
}

/// What an admin types to create an account, or (all of it again) to update one.
#[derive(Clone, Debug)]
pub struct AccountInput {
    pub legal_name: String,
    pub address_line: String,
    pub postcode: String,
    pub city: String,
    pub country: String,
    pub registration_number: Option<String>,
    pub vat_number: Option<String>,
    pub invoice_email: String,
    pub currency: String,
}

struct Parsed {
    legal_name: String,
    address_line: String,
    postcode: String,
    city: String,
    country: String,
    registration_number: Option<String>,
    vat_number: Option<String>,
    invoice_email: String,
    currency: Currency,
}

fn blank_is_none(raw: Option<String>) -> Option<String> {
    raw.filter(|s| !s.trim().is_empty())
}

fn parse(input: AccountInput) -> Result<Parsed> {
    let country = checks::country("country", &input.country)?;
    let registration_number = match blank_is_none(input.registration_number) {
        Some(r) if country == "FR" => Some(checks::siren_or_siret("registrationNumber", &r)?),
        Some(r) => Some(name("registrationNumber", &r, 50)?),
        None => None,
    };
    let vat_number = blank_is_none(input.vat_number)
        .map(|v| checks::vat_number("vatNumber", &v, &country))
        .transpose()?;
    let currency = Currency::parse("currency", input.currency.trim())
        .map_err(|e| Error::invalid("currency", e.to_string()))?;
    Ok(Parsed {
        legal_name: name("legalName", &input.legal_name, 200)?,
        address_line: name("addressLine", &input.address_line, 300)?,
        postcode: name("postcode", &input.postcode, 20)?,
        city: name("city", &input.city, 100)?,
        country,
        registration_number,
        vat_number,
        invoice_email: Email::parse("invoiceEmail", &input.invoice_email)?
            .as_str()
            .to_owned(),
        currency,
    })
}

/// Operators and tenant admins manage billing accounts.
pub(crate) fn require_manager(who: &Principal) -> Result<()> {
    if who.is_operator() || who.is_tenant_admin() {
        Ok(())
    } else {
        Err(Error::Forbidden(
            "billing accounts are managed by the space's admins",
        ))
    }
}

/// Whether the caller may read what belongs to the account of `organisation` (its invoices
/// and payments): operators and tenant admins everywhere, an organisation's HR admin when the
/// account's organisation lies in their subtree. Managers and learners never.
pub(crate) async fn may_read(
    tx: &TenantTx,
    who: &Principal,
    organisation: OrganisationId,
) -> Result<bool> {
    if who.is_operator() || who.is_tenant_admin() {
        return Ok(true);
    }
    let hr: Vec<OrganisationId> = who
        .grants()
        .iter()
        .filter(|g| g.role == Role::OrgAdmin)
        .map(|g| g.organisation)
        .collect();
    if hr.is_empty() {
        return Ok(false);
    }
    let up = organisations::ancestry_of(tx, organisation).await?;
    Ok(up.iter().any(|o| hr.contains(o)))
}

/// Whether the caller may read billing at all (lists answer FORBIDDEN otherwise).
pub(crate) fn may_read_any(who: &Principal) -> bool {
    who.is_operator()
        || who
            .grants()
            .iter()
            .any(|g| matches!(g.role, Role::TenantAdmin | Role::OrgAdmin))
}

pub async fn create(
    tx: &TenantTx,
    who: &Principal,
    now: DateTime<Utc>,
    organisation: OrganisationId,
    input: AccountInput,
) -> Result<BillingAccount> {
    require_manager(who)?;
    let p = parse(input)?;
    organisations::ancestry_of(tx, organisation)
        .await
        .map_err(|e| e.not_found_as("organisationId", "no such organisation"))?;
    if tx
        .select::<account::Entity>()
        .filter(account::Column::OrganisationId.eq(organisation.uuid()))
        .filter(account::Column::PersonId.is_null())
        .count()
        .await?
        > 0
    {
        return Err(Error::conflict(
            "organisationId",
            "this organisation already has a billing account",
        ));
    }
    let row = account::ActiveModel {
        tenant_id: Set(uuid::Uuid::nil()),
        id: Set(BillingAccountId::new().uuid()),
        organisation_id: Set(organisation.uuid()),
        person_id: Set(None),
        legal_name: Set(p.legal_name),
        address_line: Set(p.address_line),
        postcode: Set(p.postcode),
        city: Set(p.city),
        country: Set(p.country),
        registration_number: Set(p.registration_number),
        vat_number: Set(p.vat_number),
        invoice_email: Set(p.invoice_email),
        currency: Set(p.currency.code().to_owned()),
        created_at: Set(now),
        updated_at: Set(now),
    };
    // Two admins racing: the unique index answers the second one.
    let m = tx.insert(row).await.map_err(|e| match e {
        Error::Db(db) => Error::on_unique(
            db,
            "organisationId",
            "this organisation already has a billing account",
        ),
        e => e,
    })?;
    BillingAccount::from_model(m)
}

/// Replaces an account's details. Its currency cannot change once it has invoices.
pub async fn update(
    tx: &TenantTx,
    who: &Principal,
    now: DateTime<Utc>,
    id: BillingAccountId,
    input: AccountInput,
) -> Result<BillingAccount> {
    require_manager(who)?;
    let current = load(tx, id).await?;
    let p = parse(input)?;
    if p.currency != current.currency && crate::invoices::any_for(tx, id).await? {
        return Err(Error::invalid(
            "currency",
            "cannot change: this account already has invoices in its currency",
        ));
    }
    let m = tx
        .update_many::<account::Entity>()
        .set(account::ActiveModel {
            legal_name: Set(p.legal_name),
            address_line: Set(p.address_line),
            postcode: Set(p.postcode),
            city: Set(p.city),
            country: Set(p.country),
            registration_number: Set(p.registration_number),
            vat_number: Set(p.vat_number),
            invoice_email: Set(p.invoice_email),
            currency: Set(p.currency.code().to_owned()),
            updated_at: Set(now),
            ..Default::default()
        })
        .filter(account::Column::Id.eq(id.uuid()))
        .exec_with_returning()
        .await?
        .into_iter()
        .next()
        .ok_or(Error::NotFound)?;
    BillingAccount::from_model(m)
}

/// An account without access checks (callers check). Unknown or another space's: `NotFound`.
pub(crate) async fn load(tx: &TenantTx, id: BillingAccountId) -> Result<BillingAccount> {
    let m = tx
        .select::<account::Entity>()
        .filter(account::Column::Id.eq(id.uuid()))
        .one()
        .await?
        .ok_or(Error::NotFound)?;
    BillingAccount::from_model(m)
}

/// An account the caller may read; anything else is `NotFound`, like an unknown id.
pub async fn get(tx: &TenantTx, who: &Principal, id: BillingAccountId) -> Result<BillingAccount> {
    let a = load(tx, id).await?;
    if may_read(tx, who, a.organisation).await? {
        Ok(a)
    } else {
        Err(Error::NotFound)
    }
}

/// The account of one organisation, if the caller may read it.
pub async fn of_organisation(
    tx: &TenantTx,
    who: &Principal,
    organisation: OrganisationId,
) -> Result<Option<BillingAccount>> {
    let Some(m) = tx
        .select::<account::Entity>()
        .filter(account::Column::OrganisationId.eq(organisation.uuid()))
        .filter(account::Column::PersonId.is_null())
        .one()
        .await?
    else {
        return Ok(None);
    };
    let a = BillingAccount::from_model(m)?;
    Ok(may_read(tx, who, a.organisation).await?.then_some(a))
}

/// The accounts the caller may read, oldest first.
pub async fn list(
    tx: &TenantTx,
    who: &Principal,
    page: PageRequest,
) -> Result<Page<BillingAccount>> {
    if !may_read_any(who) {
        return Err(Error::Forbidden(
            "billing accounts are read by the space's admins and HR",
        ));
    }
    let mut q = tx.select::<account::Entity>();
    if let Some(after) = page.after {
        q = q.filter(account::Column::Id.gt(after));
    }
    let rows = q.order_by_asc(account::Column::Id).all().await?;
    // HR sees the accounts in reach: filter, then page (an HR admin's accounts are few).
    let mut out = Vec::new();
    for m in rows {
        let a = BillingAccount::from_model(m)?;
        if may_read(tx, who, a.organisation).await? {
            out.push(a);
            if out.len() as u64 > page.first {
                break;
            }
        }
    }
    Ok(Page::from_overfetch(out, page))
}

/// The nearest organisation up the tree from `organisation` (itself included) that has a
/// billing account: who pays for an enrolment there. No access check (admission calls it).
pub async fn nearest(
    tx: &TenantTx,
    organisation: OrganisationId,
) -> Result<Option<BillingAccount>> {
    let up = organisations::ancestry_of(tx, organisation).await?;
    let found = accounts_on(tx, std::slice::from_ref(&up)).await?;
    deepest(&found, &up)
        .cloned()
        .map(BillingAccount::from_model)
        .transpose()
}

/// The billing accounts of the organisations on some paths, and where the search for a payer
/// stops: the space's independent learners (self-registered), who pay for themselves and
/// never on the account of the campus above them.
pub(crate) struct Accounts {
    by_organisation: BTreeMap<uuid::Uuid, account::Model>,
    independent: Option<uuid::Uuid>,
}

/// The billing accounts of the organisations on the given paths.
pub(crate) async fn accounts_on(
    tx: &TenantTx,
    ancestries: &[Vec<OrganisationId>],
) -> Result<Accounts> {
    let mut orgs: Vec<uuid::Uuid> = ancestries.iter().flatten().map(|o| o.uuid()).collect();
    orgs.sort_unstable();
    orgs.dedup();
    let mut found = BTreeMap::new();
    // In chunks: an import names many organisations, a statement takes a bounded list.
    for chunk in orgs.chunks(500) {
        for a in tx
            .select::<account::Entity>()
            .filter(account::Column::OrganisationId.is_in(chunk.iter().copied()))
            .filter(account::Column::PersonId.is_null())
            .all()
            .await?
        {
            found.insert(a.organisation_id, a);
        }
    }
    Ok(Accounts {
        by_organisation: found,
        independent: spaces_tenants::auth::registration::independent_learners(tx)
            .await?
            .map(OrganisationId::uuid),
    })
}

/// The nearest billing account up a path (the deepest organisation that has one), not looking
/// above the independent learners' organisation.
pub(crate) fn deepest<'a>(
    accounts: &'a Accounts,
    ancestry: &[OrganisationId],
) -> Option<&'a account::Model> {
    for o in ancestry.iter().rev() {
        if let Some(a) = accounts.by_organisation.get(&o.uuid()) {
            return Some(a);
        }
        if Some(o.uuid()) == accounts.independent {
            return None;
        }
    }
    None
}
