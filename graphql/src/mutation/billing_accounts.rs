use async_graphql::{Context, ID, InputObject, Object};
use spaces_billing::BillingAccountId;
use spaces_billing::accounts;
use spaces_tenants::OrganisationId;

use crate::error::{ApiResult, parse_id};
use crate::query::billing_accounts::billing_caller;
use crate::types::billing_account::{BillingAccountGql, BillingAccountInput};

#[derive(Default)]
pub struct BillingAccountMutation;

#[derive(InputObject)]
pub struct CreateBillingAccountInput {
    /// The paying organisation; one account each.
    pub organisation_id: ID,
    #[graphql(flatten)]
    pub details: BillingAccountInput,
}

#[Object]
impl BillingAccountMutation {
    /// Gives an organisation its billing account (the space's admins, platform operators).
    async fn create_billing_account(
        &self,
        ctx: &Context<'_>,
        input: CreateBillingAccountInput,
    ) -> ApiResult<BillingAccountGql> {
        let scope = crate::scope::of(ctx);
        let who = billing_caller(scope)?;
        let org: OrganisationId = parse_id("organisationId", &input.organisation_id)?;
        let now = scope.deps.clock.now();
        scope
            .atomic(async |tx| {
                Ok(BillingAccountGql(
                    accounts::create(tx, who, now, org, input.details.into()).await?,
                ))
            })
            .await
    }

    /// Replaces a billing account's details; issued invoices keep the ones they were issued
    /// with.
    async fn update_billing_account(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: BillingAccountInput,
    ) -> ApiResult<BillingAccountGql> {
        let scope = crate::scope::of(ctx);
        let who = billing_caller(scope)?;
        let id: BillingAccountId = parse_id("id", &id)?;
        let now = scope.deps.clock.now();
        scope
            .atomic(async |tx| {
                Ok(BillingAccountGql(
                    accounts::update(tx, who, now, id, input.into()).await?,
                ))
            })
            .await
    }
}
