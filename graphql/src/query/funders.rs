use async_graphql::connection::{Connection, EmptyFields};
use async_graphql::{Context, ID, Object};
use spaces_billing::funders;
use spaces_billing::vouchers::views;
use spaces_billing::{FunderId, VoucherBatchId};
use spaces_tenants::kernel::page::PageRequest;

use crate::error::{ApiResult, parse_id};
use crate::types::connection;
use crate::types::funder::{FunderGql, VoucherBatchGql, batch_page};

#[derive(Default)]
pub struct FunderQuery;

#[Object]
impl FunderQuery {
    /// The funders the caller may see: all of them for the space's admins, their own for a
    /// funder's staff.
    #[graphql(complexity = "first.unwrap_or(20).clamp(1, 100) as usize * child_complexity")]
    async fn funders(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Connection<String, FunderGql, EmptyFields, EmptyFields>> {
        let scope = crate::scope::of(ctx);
        let who = scope.require_person()?;
        let page = PageRequest::parse(first, after.as_deref())?;
        let tx = scope.tx().await?;
        let p = funders::list(&tx, who, page).await?.map(FunderGql);
        Ok(connection(p, |f| f.0.id.uuid(), page.after.is_some()))
    }

    async fn funder(&self, ctx: &Context<'_>, id: ID) -> ApiResult<FunderGql> {
        let scope = crate::scope::of(ctx);
        let who = scope.require_person()?;
        let id: FunderId = parse_id("id", &id)?;
        let tx = scope.tx().await?;
        Ok(FunderGql(funders::get(&tx, who, id).await?))
    }

    async fn voucher_batch(&self, ctx: &Context<'_>, id: ID) -> ApiResult<VoucherBatchGql> {
        let scope = crate::scope::of(ctx);
        let who = scope.require_person()?;
        let id: VoucherBatchId = parse_id("id", &id)?;
        let tx = scope.tx().await?;
        Ok(VoucherBatchGql::new(views::get(&tx, who, id).await?))
    }

    /// A funder's batches, in creation order (its staff, the space's admins).
    #[graphql(complexity = "first.unwrap_or(20).clamp(1, 100) as usize * child_complexity")]
    async fn voucher_batches(
        &self,
        ctx: &Context<'_>,
        funder_id: ID,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Connection<String, VoucherBatchGql, EmptyFields, EmptyFields>> {
        let scope = crate::scope::of(ctx);
        scope.require_person()?;
        let funder: FunderId = parse_id("funderId", &funder_id)?;
        batch_page(ctx, funder, first, after).await
    }
}
