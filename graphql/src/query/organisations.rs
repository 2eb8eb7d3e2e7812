use async_graphql::connection::{Connection, EmptyFields};
use async_graphql::{Context, ID, Object};
use spaces_tenants::kernel::page::PageRequest;
use spaces_tenants::{OrganisationId, organisations};

use crate::error::{ApiResult, parse_id};
use crate::types::connection;
use crate::types::organisation::OrganisationGql;

#[derive(Default)]
pub struct OrganisationQuery;

#[Object]
impl OrganisationQuery {
    async fn organisation(&self, ctx: &Context<'_>, id: ID) -> ApiResult<OrganisationGql> {
        let scope = crate::scope::of(ctx);
        let who = scope.require_person()?;
        let id: OrganisationId = parse_id("id", &id)?;
        let tx = scope.tx().await?;
        Ok(OrganisationGql {
            org: organisations::get(&tx, who, id).await?,
            head_count: None,
        })
    }

    /// An organisation and its subtree (or everything the caller may see), with head counts.
    #[graphql(complexity = "first.unwrap_or(20).clamp(1, 100) as usize * child_complexity")]
    async fn organisations(
        &self,
        ctx: &Context<'_>,
        under: Option<ID>,
        #[graphql(default = false)] include_archived: bool,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Connection<String, OrganisationGql, EmptyFields, EmptyFields>> {
        let scope = crate::scope::of(ctx);
        let who = scope.require_person()?;
        let under: Option<OrganisationId> =
            under.as_ref().map(|i| parse_id("under", i)).transpose()?;
        let page = PageRequest::parse(first, after.as_deref())?;
        let tx = scope.tx().await?;
        let p = organisations::list(&tx, who, under, include_archived, page).await?;
        let ids: Vec<_> = p.items.iter().map(|o| o.id).collect();
        let counts = organisations::head_counts(&tx, &ids).await?;
        let p = p.map(|org| {
            let n = counts
                .iter()
                .find(|c| c.0 == org.id)
                .map(|c| c.1)
                .unwrap_or(0);
            OrganisationGql {
                org,
                head_count: Some(n),
            }
        });
        Ok(connection(p, |o| o.org.id.uuid(), page.after.is_some()))
    }
}
