//! Enrolments: the learner's dashboard and HR's views.

use async_graphql::connection::{Connection, EmptyFields};
use async_graphql::{Context, ID, Object};
use spaces_tenants::kernel::page::PageRequest;
use spaces_tenants::{EditionId, EnrolmentId, OrganisationId, enrolments};

use crate::error::{ApiResult, parse_id};
use crate::types::enrolment::{
    EnrolmentGql, EnrolmentStatusGql, Wants, enrolment_connection, hydrate,
};

#[derive(Default)]
pub struct EnrolmentQuery;

#[Object]
impl EnrolmentQuery {
    /// The caller's own enrolments with their editions and progress (the learner dashboard).
    #[graphql(complexity = "first.unwrap_or(20).clamp(1, 100) as usize * child_complexity")]
    async fn my_enrolments(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Connection<String, EnrolmentGql, EmptyFields, EmptyFields>> {
        let scope = crate::scope::of(ctx);
        let who = scope.require_person()?;
        let page = PageRequest::parse(first, after.as_deref())?;
        let tx = scope.tx().await?;
        let wants = Wants::of_connection(ctx);
        let p = enrolments::mine(&tx, who, page, wants.progress).await?;
        enrolment_connection(&tx, p, wants, page).await
    }

    /// An edition's enrolments among the people the caller follows (HR, managers, admins).
    #[graphql(complexity = "first.unwrap_or(20).clamp(1, 100) as usize * child_complexity")]
    async fn edition_enrolments(
        &self,
        ctx: &Context<'_>,
        edition_id: ID,
        status: Option<EnrolmentStatusGql>,
        #[graphql(desc = "Only people of this organisation and below it.")] organisation_id: Option<
            ID,
        >,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Connection<String, EnrolmentGql, EmptyFields, EmptyFields>> {
        let scope = crate::scope::of(ctx);
        let who = scope.require_person()?;
        let edition: EditionId = parse_id("editionId", &edition_id)?;
        let under: Option<OrganisationId> = organisation_id
            .as_ref()
            .map(|o| parse_id("organisationId", o))
            .transpose()?;
        let page = PageRequest::parse(first, after.as_deref())?;
        let tx = scope.tx().await?;
        let wants = Wants::of_connection(ctx);
        let p = enrolments::of_edition(
            &tx,
            who,
            edition,
            status.map(Into::into),
            under,
            page,
            wants.progress,
        )
        .await?;
        enrolment_connection(&tx, p, wants, page).await
    }

    /// One enrolment: the caller's own, or one of a person they follow.
    async fn enrolment(&self, ctx: &Context<'_>, id: ID) -> ApiResult<EnrolmentGql> {
        let scope = crate::scope::of(ctx);
        let who = scope.require_person()?;
        let id: EnrolmentId = parse_id("id", &id)?;
        let tx = scope.tx().await?;
        let e = enrolments::get(&tx, who, id).await?;
        hydrate(&tx, vec![e], Wants::ALL)
            .await?
            .pop()
            .ok_or_else(crate::ApiError::not_found)
    }
}
