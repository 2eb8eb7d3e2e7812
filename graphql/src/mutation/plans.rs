use async_graphql::{Context, ID, InputObject, Object};
use spaces_billing::PlanId;
use spaces_billing::plans::{self, NewPlan};

use crate::error::{ApiResult, parse_id};
use crate::mutation::editions::MoneyInput;
use crate::types::subscription::{PlanGql, TermGql};

#[derive(Default)]
pub struct PlansMutation;

#[derive(InputObject)]
pub struct CreatePlanInput {
    pub name: String,
    /// Seats the price buys, at least 1.
    pub seats: i32,
    /// ANNUAL when left out.
    #[graphql(default_with = "TermGql::Annual")]
    pub term: TermGql,
    /// For `seats` seats and one term, VAT excluded.
    pub price: MoneyInput,
    /// 2000 = 20 %.
    pub vat_basis_points: i32,
}

#[Object]
impl PlansMutation {
    /// Platform operators: a plan to sell.
    async fn create_plan(&self, ctx: &Context<'_>, input: CreatePlanInput) -> ApiResult<PlanGql> {
        let scope = crate::scope::of(ctx);
        scope.require_operator()?;
        let now = scope.deps.clock.now();
        let plan = plans::create(
            scope.platform_db().await?,
            now,
            NewPlan {
                name: input.name,
                seats: input.seats,
                term: input.term.into(),
                price_minor: input.price.amount_minor,
                currency: input.price.currency,
                vat_basis_points: input.vat_basis_points,
            },
        )
        .await?;
        Ok(plan.into())
    }

    /// Platform operators: stops selling a plan; subscriptions already sold keep it.
    async fn retire_plan(&self, ctx: &Context<'_>, id: ID) -> ApiResult<PlanGql> {
        let scope = crate::scope::of(ctx);
        scope.require_operator()?;
        let id: PlanId = parse_id("id", &id)?;
        let now = scope.deps.clock.now();
        Ok(plans::retire(scope.platform_db().await?, now, id)
            .await?
            .into())
    }
}
