use async_graphql::{Context, ID, InputObject, Object};
use chrono::NaiveDate;
use spaces_billing::subscriptions::{self, Sale};
use spaces_billing::{BillingAccountId, PlanId, plans};
use spaces_tenants::{TenantId, TenantTx, spaces};

use crate::error::{ApiResult, parse_id};
use crate::scope::RequestScope;
use crate::types::subscription::{SubscriptionChange, subscription_gql};

#[derive(Default)]
pub struct SubscriptionsMutation;

#[derive(InputObject)]
pub struct SellSubscriptionInput {
    pub space_id: ID,
    pub plan_id: ID,
    /// The first term's first day.
    pub starts_on: NaiveDate,
    /// The plan's seats when left out; the price scales per seat.
    pub seats: Option<i32>,
    /// The space's billing account that pays the invoices.
    pub billing_account_id: ID,
}

/// An operator's work inside one space: its own transaction in that space (so RLS applies as
/// for its members), committed when `f` succeeds. An unknown space: NOT_FOUND on `spaceId`.
pub(crate) async fn in_space<T>(
    scope: &RequestScope,
    space: TenantId,
    f: impl AsyncFnOnce(&TenantTx) -> ApiResult<T>,
) -> ApiResult<T> {
    let db = scope.platform_db().await?;
    spaces::get(db, space)
        .await
        .map_err(|e| e.not_found_as("spaceId", "no such space"))?;
    let tx = TenantTx::begin(db, space).await?;
    match f(&tx).await {
        Ok(v) => {
            tx.commit().await?;
            Ok(v)
        }
        Err(e) => {
            tx.rollback().await?;
            Err(e)
        }
    }
}

async fn change(
    tx: &TenantTx,
    (sub, invoice): (
        subscriptions::Subscription,
        Option<spaces_billing::InvoiceId>,
    ),
) -> ApiResult<SubscriptionChange> {
    let used = subscriptions::used(tx).await?;
    Ok(SubscriptionChange {
        subscription: subscription_gql(sub, used),
        invoice_id: invoice.map(|i| ID(i.to_string())),
    })
}

#[Object]
impl SubscriptionsMutation {
    /// Platform operators: sells a plan to a space (one live subscription per space) and issues
    /// the first term's invoice to the billing account.
    async fn sell_subscription(
        &self,
        ctx: &Context<'_>,
        input: SellSubscriptionInput,
    ) -> ApiResult<SubscriptionChange> {
        let scope = crate::scope::of(ctx);
        scope.require_operator()?;
        let space: TenantId = parse_id("spaceId", &input.space_id)?;
        let plan: PlanId = parse_id("planId", &input.plan_id)?;
        let account: BillingAccountId = parse_id("billingAccountId", &input.billing_account_id)?;
        let plan = plans::get(scope.platform_db().await?, plan)
            .await
            .map_err(|e| e.not_found_as("planId", "no such plan"))?;
        let now = scope.deps.clock.now();
        in_space(scope, space, async |tx| {
            let sold = subscriptions::sell(
                tx,
                now,
                &plan,
                Sale {
                    starts_on: input.starts_on,
                    seats: input.seats,
                    billing_account: account,
                },
            )
            .await?;
            change(tx, sold).await
        })
        .await
    }

    /// Platform operators: more seats now, with a prorated invoice for the rest of the term;
    /// fewer seats from the next term on.
    async fn change_seats(
        &self,
        ctx: &Context<'_>,
        space_id: ID,
        seats: i32,
    ) -> ApiResult<SubscriptionChange> {
        let scope = crate::scope::of(ctx);
        scope.require_operator()?;
        let space: TenantId = parse_id("spaceId", &space_id)?;
        let now = scope.deps.clock.now();
        in_space(scope, space, async |tx| {
            let changed = subscriptions::change_seats(tx, now, seats).await?;
            change(tx, changed).await
        })
        .await
    }

    /// Platform operators: the subscription ends at its term end (seats stay until then).
    async fn cancel_subscription(
        &self,
        ctx: &Context<'_>,
        space_id: ID,
    ) -> ApiResult<SubscriptionChange> {
        let scope = crate::scope::of(ctx);
        scope.require_operator()?;
        let space: TenantId = parse_id("spaceId", &space_id)?;
        let now = scope.deps.clock.now();
        in_space(scope, space, async |tx| {
            let s = subscriptions::cancel(tx, now).await?;
            change(tx, (s, None)).await
        })
        .await
    }
}
