use async_graphql::connection::{Connection, EmptyFields};
use async_graphql::{Context, ID, Object};
use spaces_tenants::kernel::page::PageRequest;
use spaces_tenants::{OrganisationId, PersonId, people};

use crate::error::{ApiResult, parse_id};
use crate::types::connection;
use crate::types::person::PersonGql;

#[derive(Default)]
pub struct PeopleQuery;

#[Object]
impl PeopleQuery {
    /// The signed-in person.
    async fn viewer(&self, ctx: &Context<'_>) -> ApiResult<PersonGql> {
        let scope = crate::scope::of(ctx);
        let who = scope.require_person()?;
        if let Some(me) = &scope.me {
            return Ok(PersonGql(me.clone()));
        }
        let (_, me) = who.person().ok_or_else(crate::ApiError::internal)?;
        let tx = scope.tx().await?;
        Ok(PersonGql(people::get(&tx, who, me).await?))
    }

    /// A person the caller may see; NOT_FOUND otherwise, as for an unknown id.
    async fn person(&self, ctx: &Context<'_>, id: ID) -> ApiResult<PersonGql> {
        let scope = crate::scope::of(ctx);
        let who = scope.require_person()?;
        let id: PersonId = parse_id("id", &id)?;
        let tx = scope.tx().await?;
        Ok(PersonGql(people::get(&tx, who, id).await?))
    }

    /// People of an organisation's subtree (or all the caller may see), oldest first.
    #[graphql(complexity = "first.unwrap_or(20).clamp(1, 100) as usize * child_complexity")]
    async fn people(
        &self,
        ctx: &Context<'_>,
        organisation_id: Option<ID>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Connection<String, PersonGql, EmptyFields, EmptyFields>> {
        let scope = crate::scope::of(ctx);
        let who = scope.require_person()?;
        let under: Option<OrganisationId> = organisation_id
            .as_ref()
            .map(|i| parse_id("organisationId", i))
            .transpose()?;
        let page = PageRequest::parse(first, after.as_deref())?;
        let tx = scope.tx().await?;
        let p = people::list(&tx, who, under, page).await?;
        Ok(connection(
            p.map(PersonGql),
            |p| p.0.id.uuid(),
            page.after.is_some(),
        ))
    }
}
