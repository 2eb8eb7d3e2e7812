use async_graphql::{Context, Object};

use crate::types::space::PublicSpace;

#[derive(Default)]
pub struct SpaceQuery;

#[Object]
impl SpaceQuery {
    /// The space this request is addressed to (by its domain or `X-Tenant`), with its branding.
    /// Public: a sign-in page renders from it.
    async fn space(&self, ctx: &Context<'_>) -> Option<PublicSpace> {
        crate::scope::of(ctx).tenant.clone().map(PublicSpace)
    }
}
