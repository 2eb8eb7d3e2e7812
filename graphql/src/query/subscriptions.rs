use async_graphql::{Context, ID, Object};
use spaces_billing::subscriptions;
use spaces_tenants::{Error, Principal, TenantId};

use crate::error::{ApiError, ApiResult, parse_id};
use crate::mutation::subscriptions::in_space;
use crate::types::subscription::{SubscriptionGql, subscription_gql};

#[derive(Default)]
pub struct SubscriptionsQuery;

#[Object]
impl SubscriptionsQuery {
    /// The space's subscription (the live one, or the latest that ended), with the seats used;
    /// null when it never had one. Tenant admins read their own space's (`spaceId` left out, or
    /// this space's); platform operators name the space.
    async fn subscription(
        &self,
        ctx: &Context<'_>,
        space_id: Option<ID>,
    ) -> ApiResult<Option<SubscriptionGql>> {
        let scope = crate::scope::of(ctx);
        match (&scope.principal, space_id) {
            (Principal::Operator { .. }, Some(id)) => {
                let space: TenantId = parse_id("spaceId", &id)?;
                in_space(scope, space, async |tx| read(tx).await).await
            }
            (Principal::Operator { .. }, None) => Err(ApiError::bad_input(
                "spaceId",
                "operators name the space whose subscription they read",
            )),
            (_, named) => {
                let who = scope.require_person()?;
                if !who.is_tenant_admin() {
                    return Err(ApiError::forbidden(
                        "the subscription is for the space's admins",
                    ));
                }
                // A person reads only their own space's: naming any other (or none that
                // exists) is the same NOT_FOUND.
                if let Some(id) = named {
                    let here = scope.space()?.id.to_string();
                    if id.as_str() != here {
                        return Err(Error::not_found_field("spaceId", "no such space").into());
                    }
                }
                let tx = scope.tx().await?;
                read(&tx).await
            }
        }
    }
}

async fn read(tx: &spaces_tenants::TenantTx) -> ApiResult<Option<SubscriptionGql>> {
    let Some(s) = subscriptions::current(tx).await? else {
        return Ok(None);
    };
    let used = subscriptions::used(tx).await?;
    Ok(Some(subscription_gql(s, used)))
}
