//! Enrolling, asking, deciding, withdrawing.

use async_graphql::{Context, ID, InputObject, Object};
use spaces_tenants::enrolments::{self, Enrolee};
use spaces_tenants::{EditionId, EnrolmentId, OrganisationId, PersonId};

use crate::error::{ApiError, ApiResult, parse_id};
use crate::types::enrolment::{EnrolmentGql, hydrate};

#[derive(Default)]
pub struct EnrolmentMutation;

/// Whom to enrol: `personId`, or `email` (with names and organisation for someone new, who is
/// then created and invited).
#[derive(InputObject)]
pub struct EnrolInput {
    pub edition_id: ID,
    pub person_id: Option<ID>,
    pub email: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub organisation_id: Option<ID>,
    pub due_on: Option<chrono::NaiveDate>,
}

async fn one(tx: &spaces_tenants::TenantTx, e: enrolments::Enrolment) -> ApiResult<EnrolmentGql> {
    hydrate(tx, vec![e])
        .await?
        .pop()
        .ok_or_else(ApiError::internal)
}

#[Object]
impl EnrolmentMutation {
    /// HR enrols a person in an edition. Refusals carry their own code: EDITION_NOT_OPEN,
    /// NOT_VISIBLE, OUT_OF_SUBTREE, CAPACITY_REACHED, ALREADY_ENROLLED.
    async fn enrol(&self, ctx: &Context<'_>, input: EnrolInput) -> ApiResult<EnrolmentGql> {
        let scope = crate::scope::of(ctx);
        let who = scope.require_person()?;
        let edition: EditionId = parse_id("editionId", &input.edition_id)?;
        let enrolee = match (&input.person_id, input.email) {
            (Some(id), None) => Enrolee::Person(parse_id::<PersonId>("personId", id)?),
            (None, Some(email)) => Enrolee::Email {
                email,
                given_name: input.given_name.unwrap_or_default(),
                family_name: input.family_name.unwrap_or_default(),
                organisation: match &input.organisation_id {
                    Some(o) => parse_id::<OrganisationId>("organisationId", o)?,
                    None => OrganisationId::from_uuid(uuid::Uuid::nil()),
                },
            },
            _ => {
                return Err(ApiError::bad_input(
                    "personId",
                    "give either personId or email",
                ));
            }
        };
        let url = scope.deps.accept_url(&scope.space()?.slug);
        scope
            .atomic(async |tx| {
                let done = enrolments::enrol(tx, who, edition, enrolee, input.due_on, &url).await?;
                one(tx, done.enrolment).await
            })
            .await
    }

    /// The caller enrols themselves (self-enrolment editions) or asks to (on-approval editions).
    async fn self_enrol(&self, ctx: &Context<'_>, edition_id: ID) -> ApiResult<EnrolmentGql> {
        let scope = crate::scope::of(ctx);
        let who = scope.require_person()?;
        let edition: EditionId = parse_id("editionId", &edition_id)?;
        scope
            .atomic(async |tx| {
                let e = enrolments::self_enrol(tx, who, edition).await?;
                one(tx, e).await
            })
            .await
    }

    async fn approve_enrolment(&self, ctx: &Context<'_>, id: ID) -> ApiResult<EnrolmentGql> {
        decide(ctx, id, true).await
    }

    async fn reject_enrolment(&self, ctx: &Context<'_>, id: ID) -> ApiResult<EnrolmentGql> {
        decide(ctx, id, false).await
    }

    /// The learner or their HR withdraws; the history stays.
    async fn withdraw_enrolment(&self, ctx: &Context<'_>, id: ID) -> ApiResult<EnrolmentGql> {
        let scope = crate::scope::of(ctx);
        let who = scope.require_person()?;
        let id: EnrolmentId = parse_id("id", &id)?;
        scope
            .atomic(async |tx| {
                let e = enrolments::withdraw(tx, who, id).await?;
                one(tx, e).await
            })
            .await
    }
}

async fn decide(ctx: &Context<'_>, id: ID, approve: bool) -> ApiResult<EnrolmentGql> {
    let scope = crate::scope::of(ctx);
    let who = scope.require_person()?;
    let id: EnrolmentId = parse_id("id", &id)?;
    scope
        .atomic(async |tx| {
            let e = enrolments::decide(tx, who, id, approve).await?;
            one(tx, e).await
        })
        .await
}
