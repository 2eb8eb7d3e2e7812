//! Plans: what operators sell a space (seats for a term at a price). Platform data: a plan
//! belongs to no space. Retiring one stops new sales; subscriptions keep the terms they bought
//! (copied onto them at sale).

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use spaces_tenants::{Db, Error, PlatformTx, Result};

use crate::{Currency, Money, PlanId};

pub(crate) mod plan {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "plans")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub name: String,
        pub seats: i32,
        pub term: String,
        pub price_minor: i64,
        pub currency: String,
        pub vat_basis_points: i32,
        pub retired_at: Option<DateTimeUtc>,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// How long a term runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Term {
    Annual,
    Monthly,
}

impl Term {
    pub fn as_str(self) -> &'static str {
        match self {
            Term::Annual => "annual",
            Term::Monthly => "monthly",
        }
    }

    pub(crate) fn from_db(s: &str) -> Self {
        if s == "monthly" {
            Term::Monthly
        } else {
            Term::Annual
        }
    }

    pub fn months(self) -> u32 {
        match self {
            Term::Annual => 12,
            Term::Monthly => 1,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Plan {
    pub id: PlanId,
    pub name: String,
    pub seats: i32,
    pub term: Term,
    /// For `seats` seats, one term, VAT excluded.
    pub price: Money,
    pub vat_basis_points: i32,
    pub retired_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl TryFrom<plan::Model> for Plan {
    type Error = Error;
    fn try_from(m: plan::Model) -> Result<Self> {
        let currency = Currency::parse("currency", &m.currency)
            .map_err(|e| Error::Internal(format!("plan {}: {e}", m.id)))?;
        Ok(Self {
            id: PlanId::from_uuid(m.id),
            name: m.name,
            seats: m.seats,
            term: Term::from_db(&m.term),
            price: Money::new(m.price_minor, currency),
            vat_basis_points: m.vat_basis_points,
            retired_at: m.retired_at,
            created_at: m.created_at,
        })
    }
}

/// A plan as an operator types it.
pub struct NewPlan {
    pub name: String,
    pub seats: i32,
    pub term: Term,
    pub price_minor: i64,
    pub currency: String,
    pub vat_basis_points: i32,
}

pub const MAX_SEATS: i32 = 1_000_000;

fn parse(new: &NewPlan) -> Result<(String, Money)> {
    let name = new.name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(Error::invalid("name", "must be 1 to 200 characters"));
    }
    if !(1..=MAX_SEATS).contains(&new.seats) {
        return Err(Error::invalid(
            "seats",
            format!("must be between 1 and {MAX_SEATS}"),
        ));
    }
    if new.price_minor < 0 {
        return Err(Error::invalid("price.amountMinor", "must not be negative"));
    }
    if !(0..=10_000).contains(&new.vat_basis_points) {
        return Err(Error::invalid(
            "vatBasisPoints",
            "must be between 0 and 10000 (100 %)",
        ));
    }
    let currency = Currency::parse("price.currency", new.currency.trim())
        .map_err(|e| Error::invalid("price.currency", e.to_string()))?;
    Ok((name.to_owned(), Money::new(new.price_minor, currency)))
}

pub async fn create(db: &Db, now: DateTime<Utc>, new: NewPlan) -> Result<Plan> {
    let (name, price) = parse(&new)?;
    let tx = PlatformTx::begin(db).await?;
    let m = plan::ActiveModel {
        id: Set(PlanId::new().uuid()),
        name: Set(name),
        seats: Set(new.seats),
        term: Set(new.term.as_str().to_owned()),
        price_minor: Set(price.amount_minor()),
        currency: Set(price.currency().code().to_owned()),
        vat_basis_points: Set(new.vat_basis_points),
        retired_at: Set(None),
        created_at: Set(now),
    }
    .insert(tx.platform_conn())
    .await?;
    tx.commit().await?;
    m.try_into()
}

/// Stops selling the plan; subscriptions already sold keep it. Retiring twice is a no-op.
pub async fn retire(db: &Db, now: DateTime<Utc>, id: PlanId) -> Result<Plan> {
    let tx = PlatformTx::begin(db).await?;
    let m = plan::Entity::find_by_id(id.uuid())
        .one(tx.platform_conn())
        .await?
        .ok_or(Error::NotFound)?;
    let m = if m.retired_at.is_none() {
        let mut am: plan::ActiveModel = m.into();
        am.retired_at = Set(Some(now));
        am.update(tx.platform_conn()).await?
    } else {
        m
    };
    tx.commit().await?;
    m.try_into()
}

/// Every plan, newest first; retired ones only when asked.
pub async fn list(db: &Db, include_retired: bool) -> Result<Vec<Plan>> {
    let tx = PlatformTx::begin(db).await?;
    let mut q = plan::Entity::find().order_by_desc(plan::Column::CreatedAt);
    if !include_retired {
        q = q.filter(plan::Column::RetiredAt.is_null());
    }
    let rows = q.all(tx.platform_conn()).await?;
    tx.commit().await?;
    rows.into_iter().map(Plan::try_from).collect()
}

/// One plan, retired or not. Unknown: `NotFound`.
pub async fn get(db: &Db, id: PlanId) -> Result<Plan> {
    let tx = PlatformTx::begin(db).await?;
    let m = plan::Entity::find_by_id(id.uuid())
        .one(tx.platform_conn())
        .await?;
    tx.commit().await?;
    m.ok_or(Error::NotFound)?.try_into()
}
