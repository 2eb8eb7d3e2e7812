//! Edition, module and pathway output types.

use std::borrow::Cow;
use std::collections::HashMap;

use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use spaces_tenants::catalogue::{self, Course};
use spaces_tenants::editions::{
    self, Edition, EditionStatus, EnrolmentMode, Module, MoveOn, Price, VisibilityKind,
};
use spaces_tenants::pathways::{self, Pathway, cmf};
use spaces_tenants::{EditionId, TenantTx};

use crate::error::{ApiError, ApiResult};
use crate::types::catalogue::CourseGql;

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(name = "EnrolmentMode")]
pub enum EnrolmentModeGql {
    /// Only HR or an admin enrols people.
    AssignedOnly,
    /// People the edition is visible to may enrol themselves.
    SelfEnrolment,
    /// People ask to enrol; an admin approves or rejects.
    OnApproval,
}

impl From<EnrolmentMode> for EnrolmentModeGql {
    fn from(m: EnrolmentMode) -> Self {
        match m {
            EnrolmentMode::AssignedOnly => Self::AssignedOnly,
            EnrolmentMode::SelfEnrolment => Self::SelfEnrolment,
            EnrolmentMode::OnApproval => Self::OnApproval,
        }
    }
}

impl From<EnrolmentModeGql> for EnrolmentMode {
    fn from(m: EnrolmentModeGql) -> Self {
        match m {
            EnrolmentModeGql::AssignedOnly => Self::AssignedOnly,
            EnrolmentModeGql::SelfEnrolment => Self::SelfEnrolment,
            EnrolmentModeGql::OnApproval => Self::OnApproval,
        }
    }
}

/// Draft -> open -> closed -> archived; a draft may be archived, a closed edition reopened.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(name = "EditionStatus")]
pub enum EditionStatusGql {
    Draft,
    Open,
    Closed,
    Archived,
}

impl From<EditionStatus> for EditionStatusGql {
    fn from(s: EditionStatus) -> Self {
        match s {
            EditionStatus::Draft => Self::Draft,
            EditionStatus::Open => Self::Open,
            EditionStatus::Closed => Self::Closed,
            EditionStatus::Archived => Self::Archived,
        }
    }
}

impl From<EditionStatusGql> for EditionStatus {
    fn from(s: EditionStatusGql) -> Self {
        match s {
            EditionStatusGql::Draft => Self::Draft,
            EditionStatusGql::Open => Self::Open,
            EditionStatusGql::Closed => Self::Closed,
            EditionStatusGql::Archived => Self::Archived,
        }
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(name = "EditionVisibility")]
pub enum VisibilityGql {
    /// Everyone in the space.
    WholeTenant,
    /// People of the organisations in `visibleTo` and of everything below them.
    Organisations,
}

impl From<VisibilityKind> for VisibilityGql {
    fn from(v: VisibilityKind) -> Self {
        match v {
            VisibilityKind::WholeTenant => Self::WholeTenant,
            VisibilityKind::Organisations => Self::Organisations,
        }
    }
}

impl From<VisibilityGql> for VisibilityKind {
    fn from(v: VisibilityGql) -> Self {
        match v {
            VisibilityGql::WholeTenant => Self::WholeTenant,
            VisibilityGql::Organisations => Self::Organisations,
        }
    }
}

/// The one `Money` type of the schema.
pub use crate::types::money::Money as MoneyGql;

/// What a learner must do for a module to count as done (cmi5's `moveOn`).
#[derive(Enum, Copy, Clone, Eq, PartialEq, Default)]
#[graphql(name = "MoveOn")]
pub enum MoveOnGql {
    /// A `completed` statement (the default).
    #[default]
    Completed,
    /// A `passed` statement.
    Passed,
    CompletedAndPassed,
    CompletedOrPassed,
    /// Nothing: the module counts as done from the start.
    NotApplicable,
}

impl From<MoveOn> for MoveOnGql {
    fn from(m: MoveOn) -> Self {
        match m {
            MoveOn::Completed => Self::Completed,
            MoveOn::Passed => Self::Passed,
            MoveOn::CompletedAndPassed => Self::CompletedAndPassed,
            MoveOn::CompletedOrPassed => Self::CompletedOrPassed,
            MoveOn::NotApplicable => Self::NotApplicable,
        }
    }
}

impl From<MoveOnGql> for MoveOn {
    fn from(m: MoveOnGql) -> Self {
        match m {
            MoveOnGql::Completed => Self::Completed,
            MoveOnGql::Passed => Self::Passed,
            MoveOnGql::CompletedAndPassed => Self::CompletedAndPassed,
            MoveOnGql::CompletedOrPassed => Self::CompletedOrPassed,
            MoveOnGql::NotApplicable => Self::NotApplicable,
        }
    }
}

/// A module of an edition: the unit the LMS reports progress on.
#[derive(SimpleObject, Clone)]
#[graphql(name = "Module")]
pub struct ModuleGql {
    pub id: ID,
    /// 0-based order in the edition.
    pub position: i32,
    pub title: String,
    /// Counts towards completion: every required module must be completed.
    pub required: bool,
    pub estimated_minutes: i32,
    /// The xAPI activity IRI the LMS reports statements against.
    pub activity_iri: String,
    /// What makes the module done; with the edition's minimum score, if it has one.
    pub move_on: MoveOnGql,
}

impl From<&Module> for ModuleGql {
    fn from(m: &Module) -> Self {
        Self {
            id: ID(m.id.to_string()),
            position: m.position,
            title: m.title.clone(),
            required: m.required,
            estimated_minutes: m.estimated_minutes,
            activity_iri: m.activity_iri.clone(),
            move_on: m.move_on.into(),
        }
    }
}

/// A tenant's private edition of a catalogue course.
#[derive(Clone)]
pub struct EditionGql {
    pub edition: Edition,
    pub course: Course,
}

#[Object(name = "Edition")]
impl EditionGql {
    async fn id(&self) -> ID {
        ID(self.edition.id.to_string())
    }
    /// The edition's own title, or the course's.
    async fn title(&self) -> &str {
        self.edition.title_or(&self.course)
    }
    /// The edition's own description, or the course's summary.
    async fn description(&self) -> &str {
        self.edition.description_or(&self.course)
    }
    async fn course(&self) -> CourseGql {
        CourseGql(self.course.clone())
    }
    async fn starts_on(&self) -> Option<NaiveDate> {
        self.edition.starts_on
    }
    async fn ends_on(&self) -> Option<NaiveDate> {
        self.edition.ends_on
    }
    async fn enrol_opens_at(&self) -> Option<DateTime<Utc>> {
        self.edition.enrol_opens_at
    }
    async fn enrol_closes_at(&self) -> Option<DateTime<Utc>> {
        self.edition.enrol_closes_at
    }
    /// Seats; null for no limit.
    async fn capacity(&self) -> Option<i32> {
        self.edition.capacity
    }
    async fn enrolment_mode(&self) -> EnrolmentModeGql {
        self.edition.enrolment_mode.into()
    }
    async fn visibility(&self) -> VisibilityGql {
        self.edition.visibility.kind().into()
    }
    /// The organisations whose subtrees see the edition (empty when the whole space does).
    async fn visible_to(&self, ctx: &Context<'_>) -> ApiResult<Vec<ID>> {
        let e = self.complete(ctx, self.edition.loaded.visibility).await?;
        Ok(e.visibility
            .organisations()
            .iter()
            .map(|o| ID(o.to_string()))
            .collect())
    }
    /// Priced editions: days after enrolment in which a withdrawal cancels the charge.
    async fn withdrawal_days(&self) -> i32 {
        self.edition.billing.withdrawal_days
    }

    /// Priced editions: each enrolment is invoiced at once, not in the monthly run.
    async fn invoice_immediately(&self) -> bool {
        self.edition.billing.invoice_immediately
    }

    /// Priced editions: the VAT rate of its charges in basis points; null: the platform's
    /// default.
    async fn vat_basis_points(&self) -> Option<i32> {
        self.edition.billing.vat_basis_points
    }

    /// Priced editions: what vouchers leave goes to the learner's company billing account
    /// (true), or to the learner.
    async fn company_cofunding(&self) -> bool {
        self.edition.billing.company_cofunding
    }

    /// Priced editions: the order in which kinds of vouchers pay, first first.
    async fn funding_order(&self) -> Vec<crate::types::funding::FunderKindGql> {
        self.edition
            .billing
            .funding_order
            .0
            .iter()
            .map(|k| (*k).into())
            .collect()
    }

    /// The price per seat; null when the edition is included in the subscription.
    async fn price(&self) -> Option<MoneyGql> {
        match &self.edition.price {
            Price::PerSeat(m) => Some(MoneyGql {
                amount_minor: m.amount_minor(),
                currency: m.currency().code().to_owned(),
            }),
            Price::IncludedInSubscription => None,
        }
    }
    async fn included_in_subscription(&self) -> bool {
        self.edition.price == Price::IncludedInSubscription
    }
    /// Current modules, in order.
    async fn modules(&self, ctx: &Context<'_>) -> ApiResult<Vec<ModuleGql>> {
        let e = self.complete(ctx, self.edition.loaded.modules).await?;
        Ok(e.modules.iter().map(ModuleGql::from).collect())
    }
    /// Completion also needs at least this score (0 to 100), when set.
    async fn min_score(&self) -> Option<i32> {
        self.edition.min_score
    }
    /// How long its certificates are valid, in months (their `validUntil`); null: no end.
    async fn certificate_valid_months(&self) -> Option<i32> {
        self.edition.certificate_valid_months
    }
    async fn status(&self) -> EditionStatusGql {
        self.edition.status.into()
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.edition.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.edition.updated_at
    }
}

impl EditionGql {
    /// The edition with every related row: as loaded when `loaded`, else read now (a page that
    /// did not foresee this selection read only what it expected).
    async fn complete(&self, ctx: &Context<'_>, loaded: bool) -> ApiResult<Cow<'_, Edition>> {
        if loaded {
            return Ok(Cow::Borrowed(&self.edition));
        }
        let tx = crate::scope::of(ctx).tx().await?;
        Ok(Cow::Owned(editions::load(&tx, self.edition.id).await?))
    }
}

/// Pairs editions with their courses, read in one statement (and one for skills) whatever the
/// number of editions.
pub async fn with_courses(tx: &TenantTx, editions: Vec<Edition>) -> ApiResult<Vec<EditionGql>> {
    let mut ids: Vec<_> = editions.iter().map(|e| e.course).collect();
    ids.sort();
    ids.dedup();
    let courses = catalogue::many(tx, &ids).await?;
    editions
        .into_iter()
        .map(|edition| {
            let course = courses.get(&edition.course).cloned().ok_or_else(|| {
                tracing::error!(edition = %edition.id, "edition without its course");
                ApiError::internal()
            })?;
            Ok(EditionGql { edition, course })
        })
        .collect()
}

pub async fn edition_gql(tx: &TenantTx, edition: Edition) -> ApiResult<EditionGql> {
    with_courses(tx, vec![edition])
        .await?
        .pop()
        .ok_or_else(ApiError::internal)
}

/// A rule of the Common Microcredential Framework.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(name = "CmfRule")]
pub enum CmfRuleGql {
    /// The pathway has no editions.
    Empty,
    /// 100 to 150 study hours in total.
    StudyHours,
    /// 4 to 6 ECTS credits in total.
    Ects,
    /// Every edition's course at EQF level 6 or 7.
    EqfLevel,
    /// The last edition ends in an ID-verified summative assessment.
    Assessment,
}

impl From<cmf::CmfRule> for CmfRuleGql {
    fn from(r: cmf::CmfRule) -> Self {
        match r {
            cmf::CmfRule::Empty => Self::Empty,
            cmf::CmfRule::StudyHours => Self::StudyHours,
            cmf::CmfRule::Ects => Self::Ects,
            cmf::CmfRule::EqfLevel => Self::EqfLevel,
            cmf::CmfRule::Assessment => Self::Assessment,
        }
    }
}

#[derive(SimpleObject, Clone)]
#[graphql(name = "CmfFailedRule")]
pub struct CmfFailedRuleGql {
    pub rule: CmfRuleGql,
    /// What the framework asks, such as "100–150 hours".
    pub expected: String,
    /// What the pathway has, such as "96.5 hours".
    pub actual: String,
}

/// Whether a pathway is a CMF microcredential, and each rule it fails when it is not.
#[derive(SimpleObject, Clone)]
#[graphql(name = "CmfCheck")]
pub struct CmfCheckGql {
    pub is_microcredential: bool,
    pub failed_rules: Vec<CmfFailedRuleGql>,
}

#[derive(SimpleObject, Clone, Copy)]
#[graphql(name = "EqfRange")]
pub struct EqfRangeGql {
    pub min: i32,
    pub max: i32,
}

/// An ordered set of editions.
#[derive(Clone)]
pub struct PathwayGql {
    pub pathway: Pathway,
    pub editions: Vec<EditionGql>,
}

impl PathwayGql {
    fn facts(&self) -> Vec<cmf::CourseFacts> {
        self.editions
            .iter()
            .map(|e| cmf::CourseFacts::from(&e.course))
            .collect()
    }
}

#[Object(name = "Pathway")]
impl PathwayGql {
    async fn id(&self) -> ID {
        ID(self.pathway.id.to_string())
    }
    async fn title(&self) -> &str {
        &self.pathway.title
    }
    async fn description(&self) -> Option<&str> {
        self.pathway.description.as_deref()
    }
    /// The editions, in order.
    async fn editions(&self) -> &[EditionGql] {
        &self.editions
    }
    /// The study hours of the editions' courses, summed.
    async fn total_study_hours(&self) -> f64 {
        cmf::totals(&self.facts()).study_minutes as f64 / 60.0
    }
    /// The ECTS credits of the editions' courses, summed (halves are exact).
    async fn total_ects(&self) -> f64 {
        cmf::totals(&self.facts()).ects_halves as f64 / 2.0
    }
    /// The lowest and highest EQF level of the editions' courses; null for an empty pathway.
    async fn eqf_range(&self) -> Option<EqfRangeGql> {
        cmf::totals(&self.facts())
            .eqf_range
            .map(|(min, max)| EqfRangeGql { min, max })
    }
    /// Whether the pathway is a microcredential under the Common Microcredential Framework.
    async fn cmf_check(&self) -> CmfCheckGql {
        let c = cmf::check(&self.facts());
        CmfCheckGql {
            is_microcredential: c.is_microcredential(),
            failed_rules: c
                .failed
                .into_iter()
                .map(|f| CmfFailedRuleGql {
                    rule: f.rule.into(),
                    expected: f.expected,
                    actual: f.actual,
                })
                .collect(),
        }
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.pathway.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.pathway.updated_at
    }
}

/// Pairs pathways with their editions and courses: a fixed number of statements for a page.
pub async fn with_editions(tx: &TenantTx, pathways: Vec<Pathway>) -> ApiResult<Vec<PathwayGql>> {
    let ids = pathways::editions_of(&pathways);
    let views: HashMap<EditionId, EditionGql> =
        editions::many_with_courses(tx, &ids, editions::Parts::ALL, true)
            .await?
            .into_iter()
            .map(|(id, (edition, course))| (id, EditionGql { edition, course }))
            .collect();
    Ok(pathways
        .into_iter()
        .map(|pathway| {
            let editions = pathway
                .editions
                .iter()
                .filter_map(|id| views.get(id).cloned())
                .collect();
            PathwayGql { pathway, editions }
        })
        .collect())
}

pub async fn pathway_gql(tx: &TenantTx, pathway: Pathway) -> ApiResult<PathwayGql> {
    with_editions(tx, vec![pathway])
        .await?
        .pop()
        .ok_or_else(ApiError::internal)
}
