use async_graphql::{Context, ID, InputObject, Object};
use spaces_tenants::LrsCredentialId;
use spaces_tenants::progress::credentials::{self, NewCredential};

use crate::error::{ApiResult, parse_id};
use crate::types::lrs::{CreatedLrsCredentialGql, LrsCredentialGql, LrsScopeGql};

#[derive(InputObject)]
pub struct CreateLrsCredentialInput {
    /// What the credential is for (the platform's name).
    pub name: String,
    /// At least one.
    pub scopes: Vec<LrsScopeGql>,
}

/// What a platform without xAPI reports about one module of one enrolment.
#[derive(InputObject)]
pub struct RecordProgressInput {
    pub enrolment_id: ID,
    pub module_id: ID,
    #[graphql(default)]
    pub completed: bool,
    /// `true` passed, `false` failed, absent: not assessed.
    pub passed: Option<bool>,
    /// Scaled score, -1 to 1 (80 % is 0.8).
    pub score: Option<f64>,
    /// The platform's id for this report (a UUID): sending the same report again changes
    /// nothing; another report under the same id is a CONFLICT.
    pub report_id: Option<uuid::Uuid>,
}

/// What recording did: the statement stored, and the enrolment after it.
#[derive(async_graphql::SimpleObject)]
#[graphql(name = "RecordedProgress")]
pub struct RecordedProgressGql {
    /// The xAPI statement the report became (readable at `/xapi/statements`, voidable).
    pub statement_id: uuid::Uuid,
    pub enrolment_status: crate::types::enrolment::EnrolmentStatusGql,
    pub grade: Option<f64>,
}

#[derive(Default)]
pub struct LrsMutation;

#[Object]
impl LrsMutation {
    /// Tenant admins: a new LRS credential. The answer holds its secret, once.
    async fn create_lrs_credential(
        &self,
        ctx: &Context<'_>,
        input: CreateLrsCredentialInput,
    ) -> ApiResult<CreatedLrsCredentialGql> {
        let scope = crate::scope::of(ctx);
        let who = scope.require_person()?;
        let new = NewCredential {
            name: input.name,
            scopes: input.scopes.into_iter().map(Into::into).collect(),
        };
        let issued = scope
            .atomic(async |tx| Ok(credentials::create(tx, who, new).await?))
            .await?;
        Ok(CreatedLrsCredentialGql {
            credential: LrsCredentialGql(issued.credential),
            secret: issued.secret,
        })
    }

    /// Tenant admins: revokes an LRS credential at once; revoking it again changes nothing.
    async fn revoke_lrs_credential(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> ApiResult<LrsCredentialGql> {
        let scope = crate::scope::of(ctx);
        let who = scope.require_person()?;
        let id: LrsCredentialId = parse_id("id", &id)?;
        scope
            .atomic(async |tx| Ok(LrsCredentialGql(credentials::revoke(tx, who, id).await?)))
            .await
    }

    /// For platforms without xAPI: a machine authenticated with an LRS credential (HTTP Basic,
    /// WRITE_STATEMENTS scope) on the space's host reports a module's progress. It is stored as
    /// an xAPI statement and moves progress and completion by the same rules.
    async fn record_progress(
        &self,
        ctx: &Context<'_>,
        input: RecordProgressInput,
    ) -> ApiResult<RecordedProgressGql> {
        let scope = crate::scope::of(ctx);
        let Some(machine) = scope.machine.as_ref() else {
            // A person, signed in or not, is not a platform.
            return Err(if scope.require_person().is_ok() {
                crate::error::ApiError::forbidden(
                    "recordProgress is for a platform: send its LRS credential as HTTP Basic",
                )
            } else {
                crate::error::ApiError::unauthenticated(
                    "send an LRS credential of this space as HTTP Basic (key:secret)",
                )
            });
        };
        let report = spaces_tenants::progress::record::Report {
            enrolment: parse_id("enrolmentId", &input.enrolment_id)?,
            module: parse_id("moduleId", &input.module_id)?,
            completed: input.completed,
            passed: input.passed,
            score: input.score,
            statement_id: input.report_id,
        };
        let space = scope.space()?;
        let home = scope
            .deps
            .links
            .origin(&scope.deps.links.slug_host(&space.slug));
        let now = scope.deps.clock.now();
        let r = scope
            .atomic(async |tx| {
                Ok(
                    spaces_tenants::progress::record::record(tx, machine, &home, now, report)
                        .await?,
                )
            })
            .await?;
        // Committed: subscribers hear of it as of statements posted to the LRS.
        scope.deps.live.publish(space.id, &r.progressed).await;
        Ok(RecordedProgressGql {
            statement_id: r.statement_id,
            enrolment_status: r.status.into(),
            grade: r.grade,
        })
    }
}
