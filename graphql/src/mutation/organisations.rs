use async_graphql::{Context, ID, InputObject, Object};
use spaces_tenants::OrganisationId;
use spaces_tenants::organisations::{self, NewOrganisation};

use crate::error::{ApiResult, parse_id};
use crate::types::organisation::{OrgKindGql, OrganisationGql, SizeBandGql};

#[derive(Default)]
pub struct OrganisationMutation;

#[derive(InputObject)]
pub struct CreateOrganisationInput {
    pub parent_id: ID,
    pub kind: OrgKindGql,
    pub name: String,
    /// Companies only.
    pub size_band: Option<SizeBandGql>,
    pub registration_number: Option<String>,
    /// Unique in the space; CSV imports may name the organisation by it.
    pub external_ref: Option<String>,
}

fn out(org: organisations::Organisation) -> OrganisationGql {
    OrganisationGql {
        org,
        head_count: None,
    }
}

#[Object]
impl OrganisationMutation {
    /// Adds a member company, department or team under an organisation the caller manages.
    async fn create_organisation(
        &self,
        ctx: &Context<'_>,
        input: CreateOrganisationInput,
    ) -> ApiResult<OrganisationGql> {
        let scope = crate::scope::of(ctx);
        let who = scope.require_person()?;
        let parent: OrganisationId = parse_id("parentId", &input.parent_id)?;
        scope
            .atomic(async |tx| {
                let new = NewOrganisation {
                    parent,
                    kind: input.kind.into(),
                    name: input.name,
                    size_band: input.size_band.map(Into::into),
                    registration_number: input.registration_number,
                    external_ref: input.external_ref,
                };
                Ok(out(organisations::create(tx, who, new).await?))
            })
            .await
    }

    async fn rename_organisation(
        &self,
        ctx: &Context<'_>,
        id: ID,
        name: String,
    ) -> ApiResult<OrganisationGql> {
        let scope = crate::scope::of(ctx);
        let who = scope.require_person()?;
        let id: OrganisationId = parse_id("id", &id)?;
        scope
            .atomic(async |tx| Ok(out(organisations::rename(tx, who, id, &name).await?)))
            .await
    }

    /// Moves an organisation and everything below it under another parent.
    async fn move_organisation(
        &self,
        ctx: &Context<'_>,
        id: ID,
        new_parent_id: ID,
    ) -> ApiResult<OrganisationGql> {
        let scope = crate::scope::of(ctx);
        let who = scope.require_person()?;
        let id: OrganisationId = parse_id("id", &id)?;
        let parent: OrganisationId = parse_id("newParentId", &new_parent_id)?;
        scope
            .atomic(async |tx| Ok(out(organisations::move_to(tx, who, id, parent).await?)))
            .await
    }

    /// Archives an organisation and its subtree; people and history stay.
    async fn archive_organisation(&self, ctx: &Context<'_>, id: ID) -> ApiResult<OrganisationGql> {
        let scope = crate::scope::of(ctx);
        let who = scope.require_person()?;
        let id: OrganisationId = parse_id("id", &id)?;
        scope
            .atomic(async |tx| Ok(out(organisations::archive(tx, who, id).await?)))
            .await
    }
}
