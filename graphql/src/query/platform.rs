use async_graphql::connection::{Connection, EmptyFields};
use async_graphql::{Context, ID, Object};
use spaces_tenants::kernel::page::PageRequest;
use spaces_tenants::{TenantId, spaces};

use crate::error::{ApiResult, parse_id};
use crate::types::connection;
use crate::types::space::Tenant;

#[derive(Default)]
pub struct PlatformQuery;

#[Object]
impl PlatformQuery {
    /// Platform operators only: every tenant space.
    #[graphql(complexity = "first.unwrap_or(20).clamp(1, 100) as usize * child_complexity")]
    async fn tenants(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Connection<String, Tenant, EmptyFields, EmptyFields>> {
        let scope = crate::scope::of(ctx);
        scope.require_operator()?;
        let page = PageRequest::parse(first, after.as_deref())?;
        let p = spaces::list(scope.platform_db().await?, page).await?;
        let mut items = Vec::with_capacity(p.items.len());
        for s in p.items {
            let domains = spaces::domains_of(scope.platform_db().await?, s.id).await?;
            items.push(Tenant { space: s, domains });
        }
        let p = spaces_tenants::kernel::page::Page {
            items,
            has_next_page: p.has_next_page,
        };
        Ok(connection(p, |t| t.space.id.uuid(), page.after.is_some()))
    }

    /// Platform operators only: one tenant space.
    async fn tenant(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Tenant> {
        let scope = crate::scope::of(ctx);
        scope.require_operator()?;
        let id: TenantId = parse_id("id", &id)?;
        let space = spaces::get(scope.platform_db().await?, id).await?;
        Ok(Tenant {
            domains: spaces::domains_of(scope.platform_db().await?, id).await?,
            space,
        })
    }
}
