//! Funders and their voucher batches on the wire. Codes appear only in `VoucherBatchCreated`,
//! the answer of the mutation that makes them.

use async_graphql::connection::{Connection, EmptyFields};
use async_graphql::{Context, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use spaces_billing::funders::{self, Funder};
use spaces_billing::vouchers::batch::{Batch, Created, Value};
use spaces_billing::vouchers::views::{self, Stats};
use spaces_tenants::kernel::page::PageRequest;
use spaces_tenants::organisations;

use crate::error::ApiResult;
use crate::types::connection;
use crate::types::funding::FunderKindGql;
use crate::types::money::Money;
use crate::types::organisation::{OrganisationGql, SizeBandGql};

pub struct FunderGql(pub Funder);

/// A body that pays for training through vouchers, invoiced on its organisation's billing
/// account.
#[Object(name = "Funder")]
impl FunderGql {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn kind(&self) -> FunderKindGql {
        self.0.kind.into()
    }
    async fn contact_name(&self) -> &str {
        &self.0.contact_name
    }
    async fn contact_email(&self) -> &str {
        &self.0.contact_email
    }
    /// The organisation it is invoiced on and its staff belong to (null when the caller may
    /// not read that organisation).
    async fn organisation(&self, ctx: &Context<'_>) -> ApiResult<Option<OrganisationGql>> {
        let scope = crate::scope::of(ctx);
        let tx = scope.tx().await?;
        match organisations::get(&tx, &scope.principal, self.0.organisation).await {
            Ok(org) => Ok(Some(OrganisationGql {
                org,
                head_count: None,
            })),
            Err(spaces_tenants::Error::NotFound) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// Its batches, in creation order.
    #[graphql(complexity = "first.unwrap_or(20).clamp(1, 100) as usize * child_complexity")]
    async fn batches(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Connection<String, VoucherBatchGql, EmptyFields, EmptyFields>> {
        batch_page(ctx, self.0.id, first, after).await
    }
}

/// A page of a funder's batches; their figures are read for the whole page at once when
/// `stats` is selected, in two statements whatever the page's size.
pub(crate) async fn batch_page(
    ctx: &Context<'_>,
    funder: spaces_billing::FunderId,
    first: Option<i32>,
    after: Option<String>,
) -> ApiResult<Connection<String, VoucherBatchGql, EmptyFields, EmptyFields>> {
    let scope = crate::scope::of(ctx);
    let page = PageRequest::parse(first, after.as_deref())?;
    let tx = scope.tx().await?;
    let p = views::list(&tx, &scope.principal, funder, page).await?;
    let wants_stats = ctx
        .look_ahead()
        .field("edges")
        .field("node")
        .field("stats")
        .exists();
    let mut stats = if wants_stats {
        let refs: Vec<&Batch> = p.items.iter().collect();
        views::stats(&tx, &refs, scope.deps.clock.now()).await?
    } else {
        Default::default()
    };
    let p = p.map(|b| {
        let s = stats.remove(&b.id);
        VoucherBatchGql { batch: b, stats: s }
    });
    Ok(connection(p, |b| b.batch.id.uuid(), page.after.is_some()))
}

pub struct VoucherBatchGql {
    pub batch: Batch,
    /// Read with the page it came in; `None`: read on demand.
    pub stats: Option<Stats>,
}

impl VoucherBatchGql {
    pub fn new(batch: Batch) -> Self {
        Self { batch, stats: None }
    }
}

/// A batch's figures now.
#[derive(SimpleObject)]
#[graphql(name = "VoucherBatchStats")]
pub struct StatsGql {
    /// Codes made.
    issued: i32,
    /// Uses confirmed.
    redeemed: i32,
    /// Uses waiting for a learner's payment.
    pending: i32,
    /// Codes never used, not revoked, past the batch's window.
    expired: i32,
    /// Codes revoked (every code once the batch is).
    revoked: i32,
    /// What confirmed and pending uses cover.
    consumed: Money,
}

fn int(v: u32) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}

impl From<Stats> for StatsGql {
    fn from(s: Stats) -> Self {
        Self {
            issued: int(s.issued),
            redeemed: int(s.redeemed),
            pending: int(s.pending),
            expired: int(s.expired),
            revoked: int(s.revoked),
            consumed: s.consumed.into(),
        }
    }
}

/// Codes a funder issued together, with one value, window and set of restrictions.
#[Object(name = "VoucherBatch")]
impl VoucherBatchGql {
    async fn id(&self) -> ID {
        ID(self.batch.id.to_string())
    }
    async fn name(&self) -> &str {
        &self.batch.name
    }
    async fn funder(&self, ctx: &Context<'_>) -> ApiResult<FunderGql> {
        let scope = crate::scope::of(ctx);
        let tx = scope.tx().await?;
        Ok(FunderGql(
            funders::get(&tx, &scope.principal, self.batch.funder).await?,
        ))
    }
    /// The funder's kind when the batch was made (a PLA batch applies to eligible courses
    /// only, and only its holder redeems it).
    async fn kind(&self) -> FunderKindGql {
        self.batch.funder_kind.into()
    }
    /// Codes in the batch.
    async fn count(&self) -> i32 {
        int(self.batch.code_count)
    }
    /// What one use covers, up to (a face value); null for a percentage.
    async fn face_value(&self) -> Option<Money> {
        match self.batch.value {
            Value::Face(m) => Some(m.into()),
            Value::Percent { .. } => None,
        }
    }
    /// The share of the price one use covers, in basis points (5000 = 50 %).
    async fn percent_basis_points(&self) -> Option<i32> {
        match self.batch.value {
            Value::Percent { basis_points, .. } => Some(int(basis_points)),
            Value::Face(_) => None,
        }
    }
    /// The most a percentage use covers.
    async fn cap(&self) -> Option<Money> {
        match self.batch.value {
            Value::Percent { cap, .. } => cap.map(Into::into),
            Value::Face(_) => None,
        }
    }
    /// The learner pays at least this, whatever the vouchers cover.
    async fn min_learner_share(&self) -> Option<Money> {
        self.batch.min_learner_share.map(Into::into)
    }
    async fn valid_from(&self) -> DateTime<Utc> {
        self.batch.valid_from
    }
    async fn valid_until(&self) -> DateTime<Utc> {
        self.batch.valid_until
    }
    async fn uses_per_code(&self) -> i32 {
        int(self.batch.uses_per_code)
    }
    async fn course_ids(&self) -> Option<Vec<ID>> {
        self.batch
            .restrictions
            .courses
            .as_ref()
            .map(|v| v.iter().map(|i| ID(i.to_string())).collect())
    }
    async fn edition_ids(&self) -> Option<Vec<ID>> {
        self.batch
            .restrictions
            .editions
            .as_ref()
            .map(|v| v.iter().map(|i| ID(i.to_string())).collect())
    }
    async fn organisation_ids(&self) -> Option<Vec<ID>> {
        self.batch
            .restrictions
            .organisations
            .as_ref()
            .map(|v| v.iter().map(|i| ID(i.to_string())).collect())
    }
    async fn size_bands(&self) -> Option<Vec<SizeBandGql>> {
        self.batch
            .restrictions
            .size_bands
            .as_ref()
            .map(|v| v.iter().map(|b| (*b).into()).collect())
    }
    async fn revoked_at(&self) -> Option<DateTime<Utc>> {
        self.batch.revoked_at
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.batch.created_at
    }
    /// Codes issued, redeemed, pending, expired and revoked, and the amount consumed.
    async fn stats(&self, ctx: &Context<'_>) -> ApiResult<StatsGql> {
        if let Some(s) = self.stats {
            return Ok(s.into());
        }
        let scope = crate::scope::of(ctx);
        let tx = scope.tx().await?;
        let mut all = views::stats(&tx, &[&self.batch], scope.deps.clock.now()).await?;
        all.remove(&self.batch.id)
            .map(Into::into)
            .ok_or_else(crate::error::ApiError::internal)
    }
}

/// A batch just made, with its codes: the only answer that ever holds them. Save the CSV.
pub struct VoucherBatchCreatedGql(pub Created);

#[Object(name = "VoucherBatchCreated")]
impl VoucherBatchCreatedGql {
    async fn batch(&self) -> VoucherBatchGql {
        VoucherBatchGql::new(self.0.batch.clone())
    }
    /// The codes, grouped for reading (`XXXXXX-XXXXXX-XXXXXX`).
    async fn codes(&self) -> Vec<String> {
        self.0.codes.iter().map(|c| c.grouped()).collect()
    }
    /// The same codes as CSV text: a `code` header, then one code per line.
    async fn csv(&self) -> String {
        self.0.csv()
    }
}
