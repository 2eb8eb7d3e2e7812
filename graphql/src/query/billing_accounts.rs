use async_graphql::connection::{Connection, EmptyFields};
use async_graphql::{Context, ID, Object};
use spaces_billing::BillingAccountId;
use spaces_billing::accounts;
use spaces_tenants::Principal;
use spaces_tenants::kernel::page::PageRequest;

use crate::error::{ApiError, ApiResult, parse_id};
use crate::scope::RequestScope;
use crate::types::billing_account::BillingAccountGql;
use crate::types::connection;

/// Billing is for a space's people and for platform operators (who read a space through its
/// own transaction); the services decide who may see what.
pub(crate) fn billing_caller(scope: &RequestScope) -> ApiResult<&Principal> {
    match &scope.principal {
        Principal::Anonymous => Err(ApiError::unauthenticated("sign in to this space first")),
        p => Ok(p),
    }
}

#[derive(Default)]
pub struct BillingAccountQuery;

#[Object]
impl BillingAccountQuery {
    async fn billing_account(&self, ctx: &Context<'_>, id: ID) -> ApiResult<BillingAccountGql> {
        let scope = crate::scope::of(ctx);
        let who = billing_caller(scope)?;
        let id: BillingAccountId = parse_id("id", &id)?;
        let tx = scope.tx().await?;
        Ok(BillingAccountGql(accounts::get(&tx, who, id).await?))
    }

    /// The billing accounts the caller may read: all of them for the space's admins, those of
    /// their organisations for HR.
    #[graphql(complexity = "first.unwrap_or(20).clamp(1, 100) as usize * child_complexity")]
    async fn billing_accounts(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Connection<String, BillingAccountGql, EmptyFields, EmptyFields>> {
        let scope = crate::scope::of(ctx);
        let who = billing_caller(scope)?;
        let page = PageRequest::parse(first, after.as_deref())?;
        let tx = scope.tx().await?;
        let p = accounts::list(&tx, who, page).await?.map(BillingAccountGql);
        Ok(connection(p, |a| a.0.id.uuid(), page.after.is_some()))
    }
}
