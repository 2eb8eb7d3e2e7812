use async_graphql::{Context, ID, InputObject, Object};
use spaces_tenants::people::{self, NewPerson};
use spaces_tenants::{OrganisationId, PersonId, RoleGrantId};

use crate::error::{ApiResult, parse_id};
use crate::types::person::{ExternalRefGql, PersonGql, RoleGql};

#[derive(Default)]
pub struct PeopleMutation;

#[derive(InputObject)]
pub struct InvitePersonInput {
    pub email: String,
    pub given_name: String,
    pub family_name: String,
    pub organisation_id: ID,
    #[graphql(default_with = "RoleGql::Learner")]
    pub role: RoleGql,
}

#[Object]
impl PeopleMutation {
    /// Creates a person in an organisation the caller manages and emails them an invitation
    /// (single use, valid 14 days).
    async fn invite_person(
        &self,
        ctx: &Context<'_>,
        input: InvitePersonInput,
    ) -> ApiResult<PersonGql> {
        let scope = crate::scope::of(ctx);
        let who = scope.require_person()?;
        let org: OrganisationId = parse_id("organisationId", &input.organisation_id)?;
        let new = NewPerson::parse(&input.email, &input.given_name, &input.family_name, org)?;
        scope
            .atomic(async |tx| {
                let url = scope.deps.accept_url(&scope.space()?.slug);
                let (person, _token) =
                    people::invite(tx, who, new, input.role.into(), &url).await?;
                Ok(PersonGql(person))
            })
            .await
    }

    /// Grants a role on an organisation the caller manages; it reaches the whole subtree.
    async fn grant_role(
        &self,
        ctx: &Context<'_>,
        person_id: ID,
        organisation_id: ID,
        role: RoleGql,
    ) -> ApiResult<ID> {
        let scope = crate::scope::of(ctx);
        let who = scope.require_person()?;
        let person: PersonId = parse_id("personId", &person_id)?;
        let org: OrganisationId = parse_id("organisationId", &organisation_id)?;
        scope
            .atomic(async |tx| {
                Ok(ID(people::grant_role(tx, who, person, org, role.into())
                    .await?
                    .to_string()))
            })
            .await
    }

    /// Revokes a role; it stops working on the holder's next request.
    async fn revoke_role(&self, ctx: &Context<'_>, grant_id: ID) -> ApiResult<bool> {
        let scope = crate::scope::of(ctx);
        let who = scope.require_person()?;
        let id: RoleGrantId = parse_id("grantId", &grant_id)?;
        scope
            .atomic(async |tx| {
                people::revoke_role(tx, who, id).await?;
                Ok(true)
            })
            .await
    }

    /// Sets the xAPI account an LMS names the person by (`null` clears it): HR of the person's
    /// organisation or a tenant admin. One account names one person (else CONFLICT).
    async fn set_person_external_ref(
        &self,
        ctx: &Context<'_>,
        person_id: ID,
        external_ref: Option<ExternalRefGql>,
    ) -> ApiResult<PersonGql> {
        let scope = crate::scope::of(ctx);
        let who = scope.require_person()?;
        let id: PersonId = parse_id("personId", &person_id)?;
        let external = external_ref
            .map(|x| people::ExternalRef::parse("externalRef", &x.home_page, &x.name))
            .transpose()?;
        scope
            .atomic(async |tx| {
                Ok(PersonGql(
                    people::set_external_ref(tx, who, id, external).await?,
                ))
            })
            .await
    }
}
