//! Enrolling, asking, deciding, withdrawing.

use std::io::Read;

use async_graphql::{Context, ID, InputObject, Object, SimpleObject, Upload};
use spaces_tenants::enrolments::{self, AdmissionGate, Enrolee};
use spaces_tenants::{EditionId, EnrolmentId, OrganisationId, PersonId};

use crate::error::{ApiError, ApiResult, parse_id};
use crate::types::enrolment::{EnrolmentGql, Wants, hydrate};

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
    /// Voucher codes that pay for a priced edition, up to their value; the rest goes to the
    /// company's billing account. A personal-learning-account code is its holder's own and
    /// is refused here (VOUCHER_INVALID, `not_applicable`).
    pub voucher_codes: Option<Vec<String>>,
}

/// Where billing decides seats, prices and vouchers at admission (wired by the gateway).
fn gate(scope: &crate::RequestScope) -> &dyn AdmissionGate {
    &*scope.deps.admission
}

async fn one(tx: &spaces_tenants::TenantTx, e: enrolments::Enrolment) -> ApiResult<EnrolmentGql> {
    hydrate(tx, vec![e], Wants::ALL)
        .await?
        .pop()
        .ok_or_else(ApiError::internal)
}

/// The outcome of a CSV import: counts, and each bad line with its column and reason.
#[derive(SimpleObject)]
pub struct ImportReportGql {
    pub rows: i64,
    pub created_people: i64,
    pub invitations: i64,
    pub new_enrolments: i64,
    pub already_enrolled: i64,
    /// True when the rows were applied; false for a dry run or when any line failed.
    pub applied: bool,
    pub dry_run: bool,
    pub errors: Vec<ImportErrorGql>,
}

#[derive(SimpleObject)]
pub struct ImportErrorGql {
    /// The line in the file (1 is the header row); 0 for the file as a whole.
    pub line: i64,
    pub column: Option<String>,
    /// The enrolment rule that refused the line or the file, as in the error codes of `enrol`
    /// (EDITION_NOT_OPEN, NOT_VISIBLE, OUT_OF_SUBTREE, CAPACITY_REACHED, ...); null for a line
    /// that could not be read.
    pub code: Option<String>,
    pub reason: String,
}

#[Object]
impl EnrolmentMutation {
    /// Enrols the rows of a CSV file (GraphQL multipart upload, at most 10 MiB and 50,000 rows):
    /// columns email, given name, family name, organisation (reference or path), due date.
    /// Every row is checked first; if any fails, nothing changes and the report lists each one.
    async fn import_enrolments(
        &self,
        ctx: &Context<'_>,
        edition_id: ID,
        file: Upload,
        #[graphql(default = false)] dry_run: bool,
    ) -> ApiResult<ImportReportGql> {
        let scope = crate::scope::of(ctx);
        let who = scope.require_person()?;
        let edition: EditionId = parse_id("editionId", &edition_id)?;
        let mut content = Vec::new();
        let upload = file
            .value(ctx)
            .map_err(|_| ApiError::bad_input("file", "no file was uploaded"))?;
        upload
            .into_read()
            .take(enrolments::import::MAX_BYTES as u64 + 1)
            .read_to_end(&mut content)
            .map_err(|_| ApiError::bad_input("file", "could not be read"))?;
        let url = scope.deps.accept_url(&scope.space()?.slug);
        let r = scope
            .atomic(async |tx| {
                Ok(enrolments::import::import(
                    tx,
                    who,
                    gate(scope),
                    edition,
                    &content,
                    dry_run,
                    &url,
                )
                .await?)
            })
            .await?;
        Ok(ImportReportGql {
            rows: r.rows as i64,
            created_people: r.created_people as i64,
            invitations: r.invitations as i64,
            new_enrolments: r.new_enrolments as i64,
            already_enrolled: r.already_enrolled as i64,
            applied: r.applied,
            dry_run,
            errors: r
                .errors
                .into_iter()
                .map(|e| ImportErrorGql {
                    line: e.line as i64,
                    column: e.column.map(str::to_owned),
                    code: e.code.map(str::to_owned),
                    reason: e.reason,
                })
                .collect(),
        })
    }

    /// HR enrols a person in an edition. Refusals carry their own code: EDITION_NOT_OPEN,
    /// NOT_VISIBLE, OUT_OF_SUBTREE, CAPACITY_REACHED, ALREADY_ENROLLED. An edition or person id
    /// that names nothing in this space is NOT_FOUND on its field.
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
        let codes = input.voucher_codes.unwrap_or_default();
        let attempt = super::voucher_attempts::begin(scope, who, &codes).await?;
        let result = scope
            .atomic(async |tx| {
                let done = enrolments::enrol(
                    tx,
                    who,
                    gate(scope),
                    edition,
                    enrolee,
                    input.due_on,
                    &url,
                    &codes,
                )
                .await?;
                one(tx, done.enrolment).await
            })
            .await;
        super::voucher_attempts::end(scope, attempt, result).await
    }

    /// The caller enrols themselves (self-enrolment editions) or asks to (on-approval editions).
    ///
    /// `voucherCodes` pay for a priced edition, up to their value: what they leave goes to the
    /// company's billing account when the edition allows it, or to the learner, whose place
    /// is then PENDING_PAYMENT until the provider confirms the payment. A code that cannot be
    /// redeemed is VOUCHER_INVALID with a `reason`, and changes nothing.
    async fn self_enrol(
        &self,
        ctx: &Context<'_>,
        edition_id: ID,
        voucher_codes: Option<Vec<String>>,
    ) -> ApiResult<EnrolmentGql> {
        let scope = crate::scope::of(ctx);
        let who = scope.require_person()?;
        let edition: EditionId = parse_id("editionId", &edition_id)?;
        let codes = voucher_codes.unwrap_or_default();
        let attempt = super::voucher_attempts::begin(scope, who, &codes).await?;
        let result = scope
            .atomic(async |tx| {
                let e = enrolments::self_enrol(tx, who, gate(scope), edition, &codes).await?;
                one(tx, e).await
            })
            .await;
        super::voucher_attempts::end(scope, attempt, result).await
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
                let e = enrolments::withdraw(tx, who, &*scope.deps.admission, id).await?;
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
            let e = enrolments::decide(tx, who, gate(scope), id, approve).await?;
            one(tx, e).await
        })
        .await
}
