use async_graphql::{Context, ID, InputObject, Object};
use chrono::{DateTime, Utc};
use spaces_billing::funders::{self, FunderRequest};
use spaces_billing::vouchers::batch::{self, BatchRequest, MAX_CODES, Restrictions, Value};
use spaces_billing::vouchers::revoke;
use spaces_billing::{FunderId, VoucherBatchId};
use spaces_tenants::OrganisationId;

use crate::error::{ApiError, ApiResult, parse_id};
use crate::types::funder::{FunderGql, VoucherBatchCreatedGql, VoucherBatchGql};
use crate::types::funding::FunderKindGql;
use crate::types::money::MoneyInput;
use crate::types::organisation::SizeBandGql;
use crate::types::person::PersonGql;

#[derive(Default)]
pub struct FunderMutation;

#[derive(InputObject)]
pub struct CreateFunderInput {
    pub name: String,
    pub kind: FunderKindGql,
    pub contact_name: String,
    pub contact_email: String,
    /// The organisation it is invoiced on (an employer, the campus's root for a sector fund);
    /// left out, an organisation named after the funder is created under the root. Its
    /// invoices need a billing account there (`createBillingAccount`).
    pub organisation_id: Option<ID>,
}

#[derive(InputObject)]
pub struct CreateVoucherBatchInput {
    pub funder_id: ID,
    pub name: String,
    /// Codes to make, 1 to 100000.
    pub count: i32,
    /// What one use covers at most; or give `percentBasisPoints` (with a `cap`).
    pub face_value: Option<MoneyInput>,
    /// The share of the price one use covers (5000 = 50 %).
    pub percent_basis_points: Option<i32>,
    /// The most a percentage use covers; also sets its currency.
    pub cap: Option<MoneyInput>,
    /// The learner pays at least this, whatever the vouchers cover.
    pub min_learner_share: Option<MoneyInput>,
    /// Left out: now.
    pub valid_from: Option<DateTime<Utc>>,
    pub valid_until: DateTime<Utc>,
    #[graphql(default = 1)]
    pub uses_per_code: i32,
    /// Restrictions; left out: none of that kind.
    pub course_ids: Option<Vec<ID>>,
    pub edition_ids: Option<Vec<ID>>,
    /// Organisation subtrees the learner must be in.
    pub organisation_ids: Option<Vec<ID>>,
    /// Size bands of the learner's company.
    pub size_bands: Option<Vec<SizeBandGql>>,
}

fn ids<T: std::str::FromStr>(field: &str, v: &Option<Vec<ID>>) -> ApiResult<Option<Vec<T>>> {
    v.as_ref()
        .map(|v| v.iter().map(|i| parse_id(field, i)).collect())
        .transpose()
}

impl CreateVoucherBatchInput {
    /// Every field parsed, each error naming its field; nothing is written before this passes.
    fn parse(&self, now: DateTime<Utc>) -> ApiResult<BatchRequest> {
        let funder: FunderId = parse_id("funderId", &self.funder_id)?;
        let count = u32::try_from(self.count)
            .ok()
            .filter(|c| (1..=MAX_CODES).contains(c))
            .ok_or_else(|| {
                ApiError::bad_input("count", &format!("must be between 1 and {MAX_CODES}"))
            })?;
        let value = match (&self.face_value, self.percent_basis_points) {
            (Some(_), Some(_)) => {
                return Err(ApiError::bad_input(
                    "percentBasisPoints",
                    "give either faceValue or percentBasisPoints, not both",
                ));
            }
            (None, None) => {
                return Err(ApiError::bad_input(
                    "faceValue",
                    "give faceValue, or percentBasisPoints with a cap",
                ));
            }
            (Some(face), None) => {
                if self.cap.is_some() {
                    return Err(ApiError::bad_input(
                        "cap",
                        "only a percentage has a cap; a face value is its own limit",
                    ));
                }
                Value::Face(face.parse("faceValue")?)
            }
            (None, Some(bp)) => Value::Percent {
                basis_points: u32::try_from(bp)
                    .ok()
                    .filter(|b| (1..=10_000).contains(b))
                    .ok_or_else(|| {
                        ApiError::bad_input(
                            "percentBasisPoints",
                            "must be between 1 and 10000 (100 %)",
                        )
                    })?,
                cap: self.cap.as_ref().map(|c| c.parse("cap")).transpose()?,
            },
        };
        let currency = match value {
            Value::Face(m) => Some(m.currency()),
            Value::Percent { cap, .. } => cap.map(|c| c.currency()),
        };
        let min_learner_share = self
            .min_learner_share
            .as_ref()
            .map(|m| m.parse("minLearnerShare"))
            .transpose()?;
        if let (Some(c), Some(m)) = (currency, min_learner_share)
            && m.currency() != c
        {
            return Err(ApiError::bad_input(
                "minLearnerShare.currency",
                "must be the batch's currency",
            ));
        }
        let valid_from = self.valid_from.unwrap_or(now);
        if self.valid_until <= valid_from {
            return Err(ApiError::bad_input("validUntil", "must be after validFrom"));
        }
        if self.valid_until <= now {
            return Err(ApiError::bad_input("validUntil", "must be in the future"));
        }
        let uses_per_code = u32::try_from(self.uses_per_code)
            .ok()
            .filter(|u| (1..=1_000).contains(u))
            .ok_or_else(|| ApiError::bad_input("usesPerCode", "must be between 1 and 1000"))?;
        Ok(BatchRequest {
            funder,
            name: self.name.clone(),
            count,
            value,
            min_learner_share,
            valid_from,
            valid_until: self.valid_until,
            uses_per_code,
            restrictions: Restrictions {
                courses: ids("courseIds", &self.course_ids)?,
                editions: ids("editionIds", &self.edition_ids)?,
                organisations: ids("organisationIds", &self.organisation_ids)?,
                size_bands: self
                    .size_bands
                    .as_ref()
                    .map(|v| v.iter().map(|b| (*b).into()).collect()),
            },
        })
    }
}

#[Object]
impl FunderMutation {
    /// Records a funder (the space's admins).
    async fn create_funder(
        &self,
        ctx: &Context<'_>,
        input: CreateFunderInput,
    ) -> ApiResult<FunderGql> {
        let scope = crate::scope::of(ctx);
        let who = scope.require_person()?;
        let organisation: Option<OrganisationId> = input
            .organisation_id
            .as_ref()
            .map(|id| parse_id("organisationId", id))
            .transpose()?;
        let now = scope.deps.clock.now();
        let req = FunderRequest {
            name: input.name,
            kind: input.kind.into(),
            contact_name: input.contact_name,
            contact_email: input.contact_email,
            organisation,
        };
        scope
            .atomic(async |tx| Ok(FunderGql(funders::create_as(tx, who, now, req).await?)))
            .await
    }

    /// Invites a person into the funder's organisation with the FUNDER role there: they see
    /// and manage that funder's batches, nothing else (the space's admins).
    async fn invite_funder_staff(
        &self,
        ctx: &Context<'_>,
        funder_id: ID,
        email: String,
        given_name: String,
        family_name: String,
    ) -> ApiResult<PersonGql> {
        let scope = crate::scope::of(ctx);
        let who = scope.require_person()?;
        let id: FunderId = parse_id("funderId", &funder_id)?;
        scope
            .atomic(async |tx| {
                let url = scope.deps.accept_url(&scope.space()?.slug);
                let (person, _token) =
                    funders::invite_staff(tx, who, id, (&email, &given_name, &family_name), &url)
                        .await?;
                Ok(PersonGql(person))
            })
            .await
    }

    /// Makes a batch of codes (the funder's staff, the space's admins). The answer is the only
    /// place the codes ever appear: save the CSV.
    async fn create_voucher_batch(
        &self,
        ctx: &Context<'_>,
        input: CreateVoucherBatchInput,
    ) -> ApiResult<VoucherBatchCreatedGql> {
        let scope = crate::scope::of(ctx);
        let who = scope.require_person()?;
        let now = scope.deps.clock.now();
        let req = input.parse(now)?;
        scope
            .atomic(async |tx| {
                Ok(VoucherBatchCreatedGql(
                    batch::create_as(tx, who, &scope.deps.voucher_key, now, req).await?,
                ))
            })
            .await
    }

    /// Revokes a batch and every code of it; uses already taken stay.
    async fn revoke_voucher_batch(&self, ctx: &Context<'_>, id: ID) -> ApiResult<VoucherBatchGql> {
        let scope = crate::scope::of(ctx);
        let who = scope.require_person()?;
        let id: VoucherBatchId = parse_id("id", &id)?;
        let now = scope.deps.clock.now();
        scope
            .atomic(async |tx| Ok(VoucherBatchGql::new(revoke::batch(tx, who, now, id).await?)))
            .await
    }

    /// Revokes one code, as typed (any case, with or without hyphens). An unknown code and
    /// another funder's answer the same NOT_FOUND on `code`.
    async fn revoke_voucher(&self, ctx: &Context<'_>, code: String) -> ApiResult<bool> {
        let scope = crate::scope::of(ctx);
        let who = scope.require_person()?;
        let now = scope.deps.clock.now();
        scope
            .atomic(async |tx| {
                revoke::code(tx, who, &scope.deps.voucher_key, now, &code).await?;
                Ok(true)
            })
            .await
    }
}
