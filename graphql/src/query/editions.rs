use async_graphql::connection::{Connection, EmptyFields};
use async_graphql::{Context, ID, Object};
use spaces_tenants::kernel::page::{Page, PageRequest};
use spaces_tenants::{EditionId, PathwayId, editions, enrolments, pathways};

use crate::error::{ApiResult, parse_id};
use crate::types::connection;
use crate::types::edition::{
    EditionGql, EditionStatusGql, PathwayGql, edition_gql, pathway_gql, with_courses, with_editions,
};

#[derive(Default)]
pub struct EditionQuery;

#[Object]
impl EditionQuery {
    /// One edition: any for tenant admins; for everyone else, an open edition visible to their
    /// organisation (anything else is NOT_FOUND).
    async fn edition(&self, ctx: &Context<'_>, id: ID) -> ApiResult<EditionGql> {
        let scope = crate::scope::of(ctx);
        let who = scope.require_person()?;
        let id: EditionId = parse_id("id", &id)?;
        let tx = scope.tx().await?;
        let e = editions::get(&tx, who, id).await?;
        edition_gql(&tx, e).await
    }

    /// The space's editions, oldest first: all of them (optionally by status) for tenant
    /// admins; open editions visible to their organisation for everyone else.
    #[graphql(complexity = "first.unwrap_or(20).clamp(1, 100) as usize * child_complexity")]
    async fn editions(
        &self,
        ctx: &Context<'_>,
        status: Option<EditionStatusGql>,
        #[graphql(
            default = false,
            desc = "Only the editions the caller may join now by themselves (anyone, admins included): open and visible to them, in self-enrolment or on-approval mode, inside the enrolment window, with a seat left, and not already enrolled or asked for."
        )]
        joinable: bool,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Connection<String, EditionGql, EmptyFields, EmptyFields>> {
        let scope = crate::scope::of(ctx);
        let who = scope.require_person()?;
        let page = PageRequest::parse(first, after.as_deref())?;
        let tx = scope.tx().await?;
        let status = status.map(Into::into);
        let p = if joinable {
            enrolments::joinable(&tx, who, status, page).await?
        } else {
            editions::list(&tx, who, status, page).await?
        };
        let items = with_courses(&tx, p.items).await?;
        Ok(connection(
            Page {
                items,
                has_next_page: p.has_next_page,
            },
            |e| e.edition.id.uuid(),
            page.after.is_some(),
        ))
    }

    /// One pathway, with its editions and CMF check (tenant admins).
    async fn pathway(&self, ctx: &Context<'_>, id: ID) -> ApiResult<PathwayGql> {
        let scope = crate::scope::of(ctx);
        let who = scope.require_person()?;
        let id: PathwayId = parse_id("id", &id)?;
        let tx = scope.tx().await?;
        let p = pathways::get(&tx, who, id).await?;
        pathway_gql(&tx, p).await
    }

    /// The space's pathways, oldest first (tenant admins).
    #[graphql(complexity = "first.unwrap_or(20).clamp(1, 100) as usize * child_complexity")]
    async fn pathways(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Connection<String, PathwayGql, EmptyFields, EmptyFields>> {
        let scope = crate::scope::of(ctx);
        let who = scope.require_person()?;
        let page = PageRequest::parse(first, after.as_deref())?;
        let tx = scope.tx().await?;
        let p = pathways::list(&tx, who, page).await?;
        let items = with_editions(&tx, p.items).await?;
        Ok(connection(
            Page {
                items,
                has_next_page: p.has_next_page,
            },
            |p| p.pathway.id.uuid(),
            page.after.is_some(),
        ))
    }
}
