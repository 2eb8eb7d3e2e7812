use crate::types::funding::FunderKindGql;
use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object};
use chrono::{DateTime, NaiveDate, Utc};
use spaces_tenants::editions::{self, BillingPatch, EditionPatch, ModuleInput, NewEdition};
use spaces_tenants::pathways::{self, NewPathway, PathwayPatch};
use spaces_tenants::{CourseId, EditionId, OrganisationId, PathwayId};

use crate::error::{ApiResult, parse_id};
use crate::types::edition::{
    EditionGql, EnrolmentModeGql, MoveOnGql, PathwayGql, VisibilityGql, edition_gql, pathway_gql,
};

#[derive(Default)]
pub struct EditionMutation;

/// The one `MoneyInput` of the schema.
pub use crate::types::money::MoneyInput;

#[derive(InputObject)]
pub struct CreateEditionInput {
    /// A published catalogue course.
    pub course_id: ID,
    /// Leave out to show the course's title.
    pub title: Option<String>,
    /// Leave out to show the course's summary.
    pub description: Option<String>,
    pub starts_on: Option<NaiveDate>,
    /// Not before `startsOn`.
    pub ends_on: Option<NaiveDate>,
    pub enrol_opens_at: Option<DateTime<Utc>>,
    /// After `enrolOpensAt`.
    pub enrol_closes_at: Option<DateTime<Utc>>,
    /// Seats, at least 1; leave out for no limit.
    pub capacity: Option<i32>,
    pub enrolment_mode: EnrolmentModeGql,
    pub visibility: VisibilityGql,
    /// With `ORGANISATIONS`: the organisations whose subtrees see the edition.
    pub visible_to: Option<Vec<ID>>,
    /// The price per seat; or set `includedInSubscription: true` instead.
    pub price: Option<MoneyInput>,
    pub included_in_subscription: Option<bool>,
    /// Completion also needs at least this score, 0 to 100.
    pub min_score: Option<i32>,
    /// Priced editions: days after enrolment in which a withdrawal cancels the charge (14 when
    /// left out).
    pub withdrawal_days: Option<i32>,
    /// Priced editions: invoice each enrolment at once rather than in the monthly run (false
    /// when left out).
    pub invoice_immediately: Option<bool>,
    /// Priced editions: the VAT rate of the charges in basis points (2000 = 20 %); left out,
    /// the platform's default applies.
    pub vat_basis_points: Option<i32>,
    /// Priced editions: what vouchers leave goes to the learner's company billing account
    /// (true when left out), or to the learner.
    pub company_cofunding: Option<bool>,
    /// Priced editions: the kinds of vouchers that pay first, in order; the kinds left out
    /// follow in the default order (PLA, PUBLIC_EMPLOYMENT, SECTOR_FUND, EMPLOYER).
    pub funding_order: Option<Vec<FunderKindGql>>,
}

/// Fields left out stay as they are; `null` clears a nullable field.
#[derive(InputObject)]
pub struct UpdateEditionInput {
    pub title: MaybeUndefined<String>,
    pub description: MaybeUndefined<String>,
    pub starts_on: MaybeUndefined<NaiveDate>,
    pub ends_on: MaybeUndefined<NaiveDate>,
    pub enrol_opens_at: MaybeUndefined<DateTime<Utc>>,
    pub enrol_closes_at: MaybeUndefined<DateTime<Utc>>,
    pub capacity: MaybeUndefined<i32>,
    pub enrolment_mode: Option<EnrolmentModeGql>,
    pub visibility: Option<VisibilityGql>,
    /// Given alone, restricts the edition to these organisations' subtrees.
    pub visible_to: Option<Vec<ID>>,
    pub price: Option<MoneyInput>,
    pub included_in_subscription: Option<bool>,
    pub min_score: MaybeUndefined<i32>,
    pub withdrawal_days: Option<i32>,
    pub invoice_immediately: Option<bool>,
    /// `null`: back to the platform's default VAT.
    pub vat_basis_points: MaybeUndefined<i32>,
    pub company_cofunding: Option<bool>,
    pub funding_order: Option<Vec<FunderKindGql>>,
}

#[derive(InputObject)]
pub struct EditionModuleInput {
    pub title: String,
    #[graphql(default = true)]
    pub required: bool,
    #[graphql(default)]
    pub estimated_minutes: i32,
    /// An absolute IRI, unique in the edition, such as
    /// https://lms.example.org/xapi/activities/m1.
    pub activity_iri: String,
    /// What makes the module done: `COMPLETED` unless said otherwise.
    #[graphql(default)]
    pub move_on: MoveOnGql,
}

#[derive(InputObject)]
pub struct SetEditionModulesInput {
    /// The new ordered list. Modules are matched by activity IRI; one whose IRI is left out is
    /// retired (kept with its progress), and listing its IRI again restores it.
    pub modules: Vec<EditionModuleInput>,
    /// Needed when the edition has enrolments and the change adds or removes a required
    /// module (or makes one required or optional): that changes what enrolled learners must
    /// complete. Without it such a change is refused with CONFLICT on `modules`. Once applied,
    /// active enrolments are judged by the new rules at once: one whose required modules are
    /// now all done completes.
    #[graphql(default)]
    pub acknowledge_progress_impact: bool,
}

#[derive(InputObject)]
pub struct CreatePathwayInput {
    pub title: String,
    pub description: Option<String>,
    /// The editions, in order.
    #[graphql(default)]
    pub edition_ids: Vec<ID>,
}

/// Fields left out stay as they are; `description: null` clears it.
#[derive(InputObject)]
pub struct UpdatePathwayInput {
    pub title: Option<String>,
    pub description: MaybeUndefined<String>,
}

fn ids<T: std::str::FromStr>(field: &str, raw: &[ID]) -> ApiResult<Vec<T>> {
    raw.iter()
        .enumerate()
        .map(|(i, id)| parse_id(&format!("{field}[{i}]"), id))
        .collect()
}

/// Checks the currency against the ones billing knows, so a price is chargeable later.
fn money(m: MoneyInput) -> ApiResult<(i64, String)> {
    let price = m.parse("price")?;
    Ok((price.amount_minor(), price.currency().code().to_owned()))
}

fn modules(input: Vec<EditionModuleInput>) -> Vec<ModuleInput> {
    input
        .into_iter()
        .map(|m| ModuleInput {
            title: m.title,
            required: m.required,
            estimated_minutes: m.estimated_minutes,
            activity_iri: m.activity_iri,
            move_on: m.move_on.into(),
        })
        .collect()
}

#[Object]
impl EditionMutation {
    /// Tenant admins: a new draft edition of a published catalogue course.
    async fn create_edition(
        &self,
        ctx: &Context<'_>,
        input: CreateEditionInput,
    ) -> ApiResult<EditionGql> {
        let scope = crate::scope::of(ctx);
        let who = scope.require_person()?;
        let new = NewEdition {
            course: parse_id::<CourseId>("courseId", &input.course_id)?,
            title: input.title,
            description: input.description,
            starts_on: input.starts_on,
            ends_on: input.ends_on,
            enrol_opens_at: input.enrol_opens_at,
            enrol_closes_at: input.enrol_closes_at,
            capacity: input.capacity,
            enrolment_mode: input.enrolment_mode.into(),
            visibility: input.visibility.into(),
            visible_to: input
                .visible_to
                .as_deref()
                .map(|v| ids::<OrganisationId>("visibleTo", v))
                .transpose()?,
            price: input.price.map(money).transpose()?,
            included_in_subscription: input.included_in_subscription,
            min_score: input.min_score,
            billing: BillingPatch {
                withdrawal_days: input.withdrawal_days,
                invoice_immediately: input.invoice_immediately,
                vat_basis_points: input.vat_basis_points.map(Some),
                company_cofunding: input.company_cofunding,
                funding_order: input
                    .funding_order
                    .map(|o| o.into_iter().map(Into::into).collect()),
            },
        };
        scope
            .atomic(async |tx| {
                let e = editions::create(tx, who, new).await?;
                edition_gql(tx, e).await
            })
            .await
    }

    /// Tenant admins: changes the fields given (not once archived).
    async fn update_edition(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateEditionInput,
    ) -> ApiResult<EditionGql> {
        let scope = crate::scope::of(ctx);
        let who = scope.require_person()?;
        let id: EditionId = parse_id("id", &id)?;
        let patch = EditionPatch {
            title: input.title.into(),
            description: input.description.into(),
            starts_on: input.starts_on.into(),
            ends_on: input.ends_on.into(),
            enrol_opens_at: input.enrol_opens_at.into(),
            enrol_closes_at: input.enrol_closes_at.into(),
            capacity: input.capacity.into(),
            enrolment_mode: input.enrolment_mode.map(Into::into),
            visibility: input.visibility.map(Into::into),
            visible_to: input
                .visible_to
                .as_deref()
                .map(|v| ids::<OrganisationId>("visibleTo", v))
                .transpose()?,
            price: input.price.map(money).transpose()?,
            included_in_subscription: input.included_in_subscription,
            min_score: input.min_score.into(),
            billing: BillingPatch {
                withdrawal_days: input.withdrawal_days,
                invoice_immediately: input.invoice_immediately,
                vat_basis_points: input.vat_basis_points.into(),
                company_cofunding: input.company_cofunding,
                funding_order: input
                    .funding_order
                    .map(|o| o.into_iter().map(Into::into).collect()),
            },
        };
        let rescore = !input.min_score.is_undefined();
        let now = scope.deps.clock.now();
        let (e, moved) = scope
            .atomic(async |tx| {
                let e = editions::update(tx, who, id, patch).await?;
                // A new minimum score judges the enrolled learners' progress again.
                let moved = if rescore {
                    spaces_tenants::progress::reevaluate::edition_rules_changed(tx, id, now).await?
                } else {
                    Vec::new()
                };
                Ok((edition_gql(tx, e).await?, moved))
            })
            .await?;
        announce(scope, &moved).await;
        Ok(e)
    }

    /// Tenant admins: replaces the edition's ordered modules (see the input for what an
    /// edition with enrolments accepts).
    async fn set_edition_modules(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: SetEditionModulesInput,
    ) -> ApiResult<EditionGql> {
        let scope = crate::scope::of(ctx);
        let who = scope.require_person()?;
        let id: EditionId = parse_id("id", &id)?;
        let list = modules(input.modules);
        let now = scope.deps.clock.now();
        let (e, moved) = scope
            .atomic(async |tx| {
                let e =
                    editions::set_modules(tx, who, id, &list, input.acknowledge_progress_impact)
                        .await?;
                // What learners must do may have changed: their progress is judged again.
                let moved =
                    spaces_tenants::progress::reevaluate::edition_rules_changed(tx, id, now)
                        .await?;
                Ok((edition_gql(tx, e).await?, moved))
            })
            .await?;
        announce(scope, &moved).await;
        Ok(e)
    }

    /// Tenant admins: opens a draft or closed edition; it needs a required module.
    async fn open_edition(&self, ctx: &Context<'_>, id: ID) -> ApiResult<EditionGql> {
        transition(ctx, &id, Transition::Open).await
    }

    /// Tenant admins: closes an open edition to new enrolments (it can be reopened).
    async fn close_edition(&self, ctx: &Context<'_>, id: ID) -> ApiResult<EditionGql> {
        transition(ctx, &id, Transition::Close).await
    }

    /// Tenant admins: archives a draft or closed edition, for good.
    async fn archive_edition(&self, ctx: &Context<'_>, id: ID) -> ApiResult<EditionGql> {
        transition(ctx, &id, Transition::Archive).await
    }

    /// Tenant admins: a new pathway over the space's editions, in order.
    async fn create_pathway(
        &self,
        ctx: &Context<'_>,
        input: CreatePathwayInput,
    ) -> ApiResult<PathwayGql> {
        let scope = crate::scope::of(ctx);
        let who = scope.require_person()?;
        let new = NewPathway {
            title: input.title,
            description: input.description,
            editions: ids::<EditionId>("editionIds", &input.edition_ids)?,
        };
        scope
            .atomic(async |tx| {
                let p = pathways::create(tx, who, new).await?;
                pathway_gql(tx, p).await
            })
            .await
    }

    /// Tenant admins: renames or redescribes a pathway.
    async fn update_pathway(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdatePathwayInput,
    ) -> ApiResult<PathwayGql> {
        let scope = crate::scope::of(ctx);
        let who = scope.require_person()?;
        let id: PathwayId = parse_id("id", &id)?;
        let patch = PathwayPatch {
            title: input.title,
            description: input.description.into(),
        };
        scope
            .atomic(async |tx| {
                let p = pathways::update(tx, who, id, patch).await?;
                pathway_gql(tx, p).await
            })
            .await
    }

    /// Tenant admins: replaces a pathway's ordered editions.
    async fn set_pathway_editions(
        &self,
        ctx: &Context<'_>,
        id: ID,
        edition_ids: Vec<ID>,
    ) -> ApiResult<PathwayGql> {
        let scope = crate::scope::of(ctx);
        let who = scope.require_person()?;
        let id: PathwayId = parse_id("id", &id)?;
        let list = ids::<EditionId>("editionIds", &edition_ids)?;
        scope
            .atomic(async |tx| {
                let p = pathways::set_editions(tx, who, id, &list).await?;
                pathway_gql(tx, p).await
            })
            .await
    }
}

#[derive(Clone, Copy)]
enum Transition {
    Open,
    Close,
    Archive,
}

/// One status change of an edition, in its own savepoint.
async fn transition(ctx: &Context<'_>, id: &ID, to: Transition) -> ApiResult<EditionGql> {
    let scope = crate::scope::of(ctx);
    let who = scope.require_person()?;
    let id: EditionId = parse_id("id", id)?;
    scope
        .atomic(async |tx| {
            let e = match to {
                Transition::Open => editions::open(tx, who, id).await?,
                Transition::Close => editions::close(tx, who, id).await?,
                Transition::Archive => editions::archive(tx, who, id).await?,
            };
            edition_gql(tx, e).await
        })
        .await
}

/// Tells live subscribers what a committed change of rules moved.
async fn announce(
    scope: &crate::scope::RequestScope,
    moved: &[spaces_tenants::progress::Progressed],
) {
    if moved.is_empty() {
        return;
    }
    if let Ok(space) = scope.space() {
        scope.deps.live.publish(space.id, moved).await;
    }
}
