//! Private editions of catalogue courses, curated by a tenant admin: own title and description,
//! dates, enrolment window, capacity and mode, visibility (the whole tenant or organisation
//! subtrees), a price per seat or "included in the subscription", ordered modules with the
//! completion rule, and a status that moves draft -> open -> closed -> archived.

pub(crate) mod entity;
mod modules;

pub use modules::{
    MAX_MODULE_MINUTES, MAX_MODULES, ModuleInput, ProgressImpact, check_module_change,
    parse_activity_iri, progress_impact,
};

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::Condition;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait, Set,
};

use crate::catalogue::{self, Course, CourseStatus};
use crate::kernel::page::{Page, PageRequest, fetch};
use crate::values::{long_text, name};
use crate::{
    CourseId, EditionId, Error, ModuleId, OrganisationId, PersonId, Principal, Result, TenantTx,
};

use entity::{edition, module, visible_to};

/// At most this many organisation subtrees in one edition's visibility.
pub const MAX_VISIBLE_TO: usize = 100;
const MAX_CAPACITY: i32 = 1_000_000;
const MAX_DESCRIPTION: usize = 10_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EnrolmentMode {
    /// Only HR or an admin enrols people.
    AssignedOnly,
    /// People it is visible to may enrol themselves.
    SelfEnrolment,
    /// People ask; an admin approves or rejects.
    OnApproval,
}

impl EnrolmentMode {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            EnrolmentMode::AssignedOnly => "assigned_only",
            EnrolmentMode::SelfEnrolment => "self_enrolment",
            EnrolmentMode::OnApproval => "on_approval",
        }
    }

    fn from_db(s: &str) -> Result<Self> {
        Ok(match s {
            "assigned_only" => EnrolmentMode::AssignedOnly,
            "self_enrolment" => EnrolmentMode::SelfEnrolment,
            "on_approval" => EnrolmentMode::OnApproval,
            other => return Err(Error::Internal(format!("unknown enrolment mode {other}"))),
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EditionStatus {
    Draft,
    Open,
    Closed,
    Archived,
}

impl EditionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            EditionStatus::Draft => "draft",
            EditionStatus::Open => "open",
            EditionStatus::Closed => "closed",
            EditionStatus::Archived => "archived",
        }
    }

    fn from_db(s: &str) -> Result<Self> {
        Ok(match s {
            "draft" => EditionStatus::Draft,
            "open" => EditionStatus::Open,
            "closed" => EditionStatus::Closed,
            "archived" => EditionStatus::Archived,
            other => return Err(Error::Internal(format!("unknown edition status {other}"))),
        })
    }

    /// The statuses an edition may move to `self` from: draft -> open -> closed -> archived,
    /// draft -> archived, and closed -> open to reopen.
    fn reachable_from(self) -> &'static [EditionStatus] {
        match self {
            EditionStatus::Draft => &[],
            EditionStatus::Open => &[EditionStatus::Draft, EditionStatus::Closed],
            EditionStatus::Closed => &[EditionStatus::Open],
            EditionStatus::Archived => &[EditionStatus::Draft, EditionStatus::Closed],
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VisibilityKind {
    WholeTenant,
    Organisations,
}

/// Who an edition is visible to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Visibility {
    WholeTenant,
    /// People of these organisations and of everything below them.
    Organisations(Vec<OrganisationId>),
}

impl Visibility {
    pub fn kind(&self) -> VisibilityKind {
        match self {
            Visibility::WholeTenant => VisibilityKind::WholeTenant,
            Visibility::Organisations(_) => VisibilityKind::Organisations,
        }
    }

    pub fn organisations(&self) -> &[OrganisationId] {
        match self {
            Visibility::WholeTenant => &[],
            Visibility::Organisations(o) => o,
        }
    }

    /// Whether a person whose organisation has this ancestry (root to node) sees the edition.
    pub fn reaches(&self, ancestry: &[OrganisationId]) -> bool {
        match self {
            Visibility::WholeTenant => true,
            Visibility::Organisations(orgs) => orgs.iter().any(|o| ancestry.contains(o)),
        }
    }
}

/// The price of one seat, stored now and charged when billing lands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Price {
    /// Minor units of an ISO 4217 currency; 0 is a free edition.
    PerSeat {
        amount_minor: i64,
        currency: String,
    },
    IncludedInSubscription,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Module {
    pub id: ModuleId,
    pub position: i32,
    pub title: String,
    pub required: bool,
    pub estimated_minutes: i32,
    pub activity_iri: String,
}

impl From<module::Model> for Module {
    fn from(m: module::Model) -> Self {
        Self {
            id: ModuleId::from_uuid(m.id),
            position: m.position,
            title: m.title,
            required: m.required,
            estimated_minutes: m.estimated_minutes,
            activity_iri: m.activity_iri,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Edition {
    pub id: EditionId,
    pub course: CourseId,
    /// The edition's own title; `None` shows the course's.
    pub title: Option<String>,
    /// The edition's own description; `None` shows the course's summary.
    pub description: Option<String>,
    pub starts_on: Option<NaiveDate>,
    pub ends_on: Option<NaiveDate>,
    pub enrol_opens_at: Option<DateTime<Utc>>,
    pub enrol_closes_at: Option<DateTime<Utc>>,
    /// `None`: no limit.
    pub capacity: Option<i32>,
    pub enrolment_mode: EnrolmentMode,
    pub visibility: Visibility,
    pub price: Price,
    /// The completion rule: every required module completed and, when set, a score of at least this.
    pub min_score: Option<i32>,
    pub status: EditionStatus,
    /// Current modules (not retired), in order.
    pub modules: Vec<Module>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Which related rows were read: the organisations of `visibility` and `modules` are empty
    /// when not (see `many`). Every other function reads them all.
    pub loaded: Parts,
}

/// The rows an edition shows beside its own, for reading only what a page displays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Parts {
    /// The organisations an edition is visible to.
    pub visibility: bool,
    pub modules: bool,
}

impl Parts {
    pub const ALL: Parts = Parts {
        visibility: true,
        modules: true,
    };
}

impl Edition {
    fn from_parts(
        m: edition::Model,
        orgs: Vec<OrganisationId>,
        modules: Vec<Module>,
        loaded: Parts,
    ) -> Result<Self> {
        let visibility = match m.visibility.as_str() {
            "whole_tenant" => Visibility::WholeTenant,
            "organisations" => Visibility::Organisations(orgs),
            other => return Err(Error::Internal(format!("unknown visibility {other}"))),
        };
        let price = match (m.included_in_subscription, m.price_minor, m.price_currency) {
            (true, _, _) => Price::IncludedInSubscription,
            (false, Some(amount_minor), Some(currency)) => Price::PerSeat {
                amount_minor,
                currency,
            },
            _ => return Err(Error::Internal(format!("edition {} has no price", m.id))),
        };
        Ok(Self {
            id: EditionId::from_uuid(m.id),
            course: CourseId::from_uuid(m.course_id),
            title: m.title,
            description: m.description,
            starts_on: m.starts_on,
            ends_on: m.ends_on,
            enrol_opens_at: m.enrol_opens_at,
            enrol_closes_at: m.enrol_closes_at,
            capacity: m.capacity,
            enrolment_mode: EnrolmentMode::from_db(&m.enrolment_mode)?,
            visibility,
            price,
            min_score: m.min_score,
            status: EditionStatus::from_db(&m.status)?,
            modules,
            created_at: m.created_at,
            updated_at: m.updated_at,
            loaded,
        })
    }

    /// The title people see: the edition's own, or the course's.
    pub fn title_or<'a>(&'a self, course: &'a Course) -> &'a str {
        self.title.as_deref().unwrap_or(&course.title)
    }

    /// The description people see: the edition's own, or the course's summary.
    pub fn description_or<'a>(&'a self, course: &'a Course) -> &'a str {
        self.description.as_deref().unwrap_or(&course.summary)
    }

    pub fn required_modules(&self) -> impl Iterator<Item = &Module> {
        self.modules.iter().filter(|m| m.required)
    }
}

/// A new edition as an admin types it.
pub struct NewEdition {
    pub course: CourseId,
    pub title: Option<String>,
    pub description: Option<String>,
    pub starts_on: Option<NaiveDate>,
    pub ends_on: Option<NaiveDate>,
    pub enrol_opens_at: Option<DateTime<Utc>>,
    pub enrol_closes_at: Option<DateTime<Utc>>,
    pub capacity: Option<i32>,
    pub enrolment_mode: EnrolmentMode,
    pub visibility: VisibilityKind,
    pub visible_to: Option<Vec<OrganisationId>>,
    /// A price per seat (minor units, ISO 4217 code) ...
    pub price: Option<(i64, String)>,
    /// ... or `Some(true)`: exactly one of the two.
    pub included_in_subscription: Option<bool>,
    pub min_score: Option<i32>,
}

/// A partial update: `None` leaves a field alone, `Some(None)` clears a nullable one.
#[derive(Default)]
pub struct EditionPatch {
    pub title: Option<Option<String>>,
    pub description: Option<Option<String>>,
    pub starts_on: Option<Option<NaiveDate>>,
    pub ends_on: Option<Option<NaiveDate>>,
    pub enrol_opens_at: Option<Option<DateTime<Utc>>>,
    pub enrol_closes_at: Option<Option<DateTime<Utc>>>,
    pub capacity: Option<Option<i32>>,
    pub enrolment_mode: Option<EnrolmentMode>,
    pub visibility: Option<VisibilityKind>,
    pub visible_to: Option<Vec<OrganisationId>>,
    pub price: Option<(i64, String)>,
    pub included_in_subscription: Option<bool>,
    pub min_score: Option<Option<i32>>,
}

/// Everything about an edition that a create or an update sets, checked as a whole.
struct Fields {
    title: Option<String>,
    description: Option<String>,
    starts_on: Option<NaiveDate>,
    ends_on: Option<NaiveDate>,
    enrol_opens_at: Option<DateTime<Utc>>,
    enrol_closes_at: Option<DateTime<Utc>>,
    capacity: Option<i32>,
    enrolment_mode: EnrolmentMode,
    price: Price,
    min_score: Option<i32>,
}

impl Fields {
    /// The rules between fields, checked after a create or a partial update is merged.
    fn check(&self) -> Result<()> {
        if let (Some(s), Some(e)) = (self.starts_on, self.ends_on)
            && e < s
        {
            return Err(Error::invalid("endsOn", "must not be before startsOn"));
        }
        if let (Some(o), Some(c)) = (self.enrol_opens_at, self.enrol_closes_at)
            && c <= o
        {
            return Err(Error::invalid(
                "enrolClosesAt",
                "must be after enrolOpensAt",
            ));
        }
        Ok(())
    }

    fn active_model(&self) -> edition::ActiveModel {
        let (price_minor, price_currency, included) = match &self.price {
            Price::PerSeat {
                amount_minor,
                currency,
            } => (Some(*amount_minor), Some(currency.clone()), false),
            Price::IncludedInSubscription => (None, None, true),
        };
        edition::ActiveModel {
            title: Set(self.title.clone()),
            description: Set(self.description.clone()),
            starts_on: Set(self.starts_on),
            ends_on: Set(self.ends_on),
            enrol_opens_at: Set(self.enrol_opens_at),
            enrol_closes_at: Set(self.enrol_closes_at),
            capacity: Set(self.capacity),
            enrolment_mode: Set(self.enrolment_mode.as_str().to_owned()),
            price_minor: Set(price_minor),
            price_currency: Set(price_currency),
            included_in_subscription: Set(included),
            min_score: Set(self.min_score),
            ..Default::default()
        }
    }
}

fn title(raw: Option<String>) -> Result<Option<String>> {
    match raw {
        Some(s) if s.trim().is_empty() => Ok(None),
        Some(s) => name("title", &s, 300).map(Some),
        None => Ok(None),
    }
}

/// Free text over several lines: trimmed, empty means "use the course's".
fn description(raw: Option<String>) -> Result<Option<String>> {
    long_text("description", raw, MAX_DESCRIPTION)
}

fn capacity(c: Option<i32>) -> Result<Option<i32>> {
    match c {
        Some(n) if !(1..=MAX_CAPACITY).contains(&n) => Err(Error::invalid(
            "capacity",
            format!("must be between 1 and {MAX_CAPACITY}, or absent for no limit"),
        )),
        c => Ok(c),
    }
}

fn min_score(s: Option<i32>) -> Result<Option<i32>> {
    match s {
        Some(n) if !(0..=100).contains(&n) => {
            Err(Error::invalid("minScore", "must be between 0 and 100"))
        }
        s => Ok(s),
    }
}

/// An ISO 4217 code as stored: three upper-case letters (billing knows which ones it charges in).
pub fn parse_currency(field: &'static str, raw: &str) -> Result<String> {
    if raw.len() == 3 && raw.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(raw.to_owned())
    } else {
        Err(Error::invalid(
            field,
            "must be a three-letter upper-case ISO 4217 code",
        ))
    }
}

/// A price per seat or "included in the subscription": exactly one. `None`: neither was given.
fn price(per_seat: Option<(i64, String)>, included: Option<bool>) -> Result<Option<Price>> {
    match (per_seat, included) {
        (Some(_), Some(true)) => Err(Error::invalid(
            "price",
            "give either a price or includedInSubscription: true, not both",
        )),
        (Some((amount_minor, currency)), _) => {
            if amount_minor < 0 {
                return Err(Error::invalid("price.amountMinor", "must not be negative"));
            }
            Ok(Some(Price::PerSeat {
                amount_minor,
                currency: parse_currency("price.currency", &currency)?,
            }))
        }
        (None, Some(true)) => Ok(Some(Price::IncludedInSubscription)),
        (None, Some(false)) => Err(Error::invalid(
            "price",
            "an edition not included in the subscription needs a price per seat",
        )),
        (None, None) => Ok(None),
    }
}

/// The visibility asked for; `None` when neither field was given.
fn visibility(
    kind: Option<VisibilityKind>,
    orgs: Option<Vec<OrganisationId>>,
) -> Result<Option<Visibility>> {
    let orgs = orgs.map(|o| {
        // A repeated organisation adds nothing; keep the first mention's order.
        let mut seen = HashSet::new();
        o.into_iter()
            .filter(|i| seen.insert(*i))
            .collect::<Vec<_>>()
    });
    match (kind, orgs) {
        (None, None) => Ok(None),
        (Some(VisibilityKind::WholeTenant), None) => Ok(Some(Visibility::WholeTenant)),
        (Some(VisibilityKind::WholeTenant), Some(o)) if o.is_empty() => {
            Ok(Some(Visibility::WholeTenant))
        }
        (Some(VisibilityKind::WholeTenant), Some(_)) => Err(Error::invalid(
            "visibleTo",
            "must be empty when the edition is visible to the whole tenant",
        )),
        (Some(VisibilityKind::Organisations) | None, o) => {
            let o = o.unwrap_or_default();
            if o.is_empty() {
                return Err(Error::invalid(
                    "visibleTo",
                    "name at least one organisation",
                ));
            }
            if o.len() > MAX_VISIBLE_TO {
                return Err(Error::invalid(
                    "visibleTo",
                    format!("at most {MAX_VISIBLE_TO} organisations"),
                ));
            }
            Ok(Some(Visibility::Organisations(o)))
        }
    }
}

fn require_admin(who: &Principal) -> Result<()> {
    if who.is_tenant_admin() {
        Ok(())
    } else {
        Err(Error::Forbidden(
            "curating editions needs the tenant admin role",
        ))
    }
}

/// Every organisation named must exist in this tenant and be active; the error names the index
/// of the first that is not (another tenant's id reads exactly like an unknown one).
async fn check_organisations(tx: &TenantTx, v: &Visibility) -> Result<()> {
    use crate::organisations::entity as org;
    let ids = v.organisations();
    if ids.is_empty() {
        return Ok(());
    }
    let found: HashMap<uuid::Uuid, org::Model> = tx
        .select::<org::Entity>()
        .filter(org::Column::Id.is_in(ids.iter().map(|i| i.uuid())))
        .all(&tx.tx)
        .await?
        .into_iter()
        .map(|m| (m.id, m))
        .collect();
    for (i, id) in ids.iter().enumerate() {
        match found.get(&id.uuid()) {
            None => {
                return Err(Error::not_found_field(
                    format!("visibleTo[{i}]"),
                    "no such organisation",
                ));
            }
            Some(m) if m.archived_at.is_some() => {
                return Err(Error::invalid(format!("visibleTo[{i}]"), "is archived"));
            }
            Some(_) => {}
        }
    }
    Ok(())
}

async fn write_visibility(tx: &TenantTx, id: EditionId, v: &Visibility) -> Result<()> {
    tx.delete_many::<visible_to::Entity>()
        .filter(visible_to::Column::EditionId.eq(id.uuid()))
        .exec(&tx.tx)
        .await?;
    for org in v.organisations() {
        visible_to::ActiveModel {
            tenant_id: Set(tx.tenant_uuid()),
            id: Set(uuid::Uuid::now_v7()),
            edition_id: Set(id.uuid()),
            organisation_id: Set(org.uuid()),
        }
        .insert(&tx.tx)
        .await?;
    }
    Ok(())
}

fn visibility_str(v: &Visibility) -> &'static str {
    match v {
        Visibility::WholeTenant => "whole_tenant",
        Visibility::Organisations(_) => "organisations",
    }
}

/// Adds the visibility rows and current modules to a batch of edition rows: two statements
/// whatever the batch's size.
async fn hydrate(tx: &TenantTx, rows: Vec<edition::Model>) -> Result<Vec<Edition>> {
    hydrate_parts(tx, rows, Parts::ALL).await
}

async fn hydrate_parts(
    tx: &TenantTx,
    rows: Vec<edition::Model>,
    parts: Parts,
) -> Result<Vec<Edition>> {
    if rows.is_empty() {
        return Ok(vec![]);
    }
    let ids: Vec<uuid::Uuid> = rows.iter().map(|m| m.id).collect();
    let mut orgs: HashMap<uuid::Uuid, Vec<OrganisationId>> = HashMap::new();
    // Only editions visible to chosen organisations have rows to read.
    let restricted: Vec<uuid::Uuid> = rows
        .iter()
        .filter(|m| m.visibility != "whole_tenant")
        .map(|m| m.id)
        .collect();
    if parts.visibility && !restricted.is_empty() {
        for v in tx
            .select::<visible_to::Entity>()
            .filter(visible_to::Column::EditionId.is_in(restricted))
            .order_by_asc(visible_to::Column::Id)
            .all(&tx.tx)
            .await?
        {
            orgs.entry(v.edition_id)
                .or_default()
                .push(OrganisationId::from_uuid(v.organisation_id));
        }
    }
    let mut mods: HashMap<uuid::Uuid, Vec<Module>> = HashMap::new();
    if parts.modules {
        for m in tx
            .select::<module::Entity>()
            .filter(module::Column::EditionId.is_in(ids))
            .filter(module::Column::RetiredAt.is_null())
            .order_by_asc(module::Column::EditionId)
            .order_by_asc(module::Column::Position)
            .all(&tx.tx)
            .await?
        {
            mods.entry(m.edition_id).or_default().push(m.into());
        }
    }
    rows.into_iter()
        .map(|m| {
            let o = orgs.remove(&m.id).unwrap_or_default();
            let ms = mods.remove(&m.id).unwrap_or_default();
            Edition::from_parts(m, o, ms, parts)
        })
        .collect()
}

async fn model(tx: &TenantTx, id: EditionId, for_update: bool) -> Result<edition::Model> {
    let mut q = tx
        .select::<edition::Entity>()
        .filter(edition::Column::Id.eq(id.uuid()));
    if for_update {
        // Serialises changes to one edition (and, later, enrolments that lock it too) on
        // PostgreSQL; SQLite has one writer anyway.
        q = q.lock_exclusive();
    }
    q.one(&tx.tx).await?.ok_or(Error::NotFound)
}

/// An edition of this tenant, without access checks (callers check). Unknown: NOT_FOUND.
pub async fn load(tx: &TenantTx, id: EditionId) -> Result<Edition> {
    load_with(tx, id, false).await
}

/// The edition, its row locked until the transaction ends (PostgreSQL `FOR UPDATE`; SQLite has
/// one writer): admission counts seats only after this, so concurrent admissions take turns.
pub(crate) async fn load_locked(tx: &TenantTx, id: EditionId) -> Result<Edition> {
    load_with(tx, id, true).await
}

async fn load_with(tx: &TenantTx, id: EditionId, for_update: bool) -> Result<Edition> {
    let m = model(tx, id, for_update).await?;
    hydrate(tx, vec![m])
        .await?
        .pop()
        .ok_or_else(|| Error::Internal("edition vanished while loading".into()))
}

/// Editions of this tenant by id with their courses, without access checks, read together in
/// one statement (plus one per part and one for the courses' skills when asked); unknown ids are
/// simply absent.
pub async fn many_with_courses(
    tx: &TenantTx,
    ids: &[EditionId],
    parts: Parts,
    course_skills: bool,
) -> Result<HashMap<EditionId, (Edition, Course)>> {
    use crate::catalogue::entity::course;
    use sea_orm::{JoinType, QuerySelect, RelationTrait};
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = tx
        .select::<edition::Entity>()
        .filter(edition::Column::Id.is_in(ids.iter().map(|i| i.uuid())))
        .join(JoinType::InnerJoin, edition::Relation::Course.def())
        .select_also(course::Entity)
        .all(&tx.tx)
        .await?;
    let mut courses: HashMap<uuid::Uuid, course::Model> = HashMap::new();
    let mut models = Vec::with_capacity(rows.len());
    for (e, c) in rows {
        if let Some(c) = c {
            courses.insert(c.id, c);
        }
        models.push(e);
    }
    let mut skills = if course_skills {
        let ids: Vec<uuid::Uuid> = courses.keys().copied().collect();
        Some(crate::catalogue::skills_of(tx, &ids).await?)
    } else {
        None
    };
    let courses: HashMap<uuid::Uuid, Course> = courses
        .into_iter()
        .map(|(id, m)| {
            let s = skills
                .as_mut()
                .map(|all| all.remove(&id).unwrap_or_default());
            (id, Course::from_model_with(m, s))
        })
        .collect();
    hydrate_parts(tx, models, parts)
        .await?
        .into_iter()
        .map(|e| {
            let c = courses
                .get(&e.course.uuid())
                .cloned()
                .ok_or_else(|| Error::Internal(format!("edition {} without its course", e.id)))?;
            Ok((e.id, (e, c)))
        })
        .collect()
}

/// The modules an enrolment must complete, in order (current ones only).
pub async fn required_modules(tx: &TenantTx, id: EditionId) -> Result<Vec<Module>> {
    model(tx, id, false).await?;
    Ok(tx
        .select::<module::Entity>()
        .filter(module::Column::EditionId.eq(id.uuid()))
        .filter(module::Column::RetiredAt.is_null())
        .filter(module::Column::Required.eq(true))
        .order_by_asc(module::Column::Position)
        .all(&tx.tx)
        .await?
        .into_iter()
        .map(Module::from)
        .collect())
}

/// Ids from the root down to the person's organisation; empty for an unknown person.
async fn ancestry_of(tx: &TenantTx, person: PersonId) -> Result<Vec<OrganisationId>> {
    match crate::people::home_organisation(tx, person).await? {
        Some(org) => Ok(crate::organisations::load(tx, org).await?.ancestry()),
        None => Ok(vec![]),
    }
}

/// One edition as the caller may see it: tenant admins see every edition; other people see
/// open editions visible to their organisation. Anything else is NOT_FOUND, like an unknown id.
pub async fn get(tx: &TenantTx, who: &Principal, id: EditionId) -> Result<Edition> {
    let e = load(tx, id).await?;
    if who.is_tenant_admin() {
        return Ok(e);
    }
    let Some((_, person)) = who.person() else {
        return Err(Error::NotFound);
    };
    if e.status == EditionStatus::Open && e.visibility.reaches(&ancestry_of(tx, person).await?) {
        Ok(e)
    } else {
        Err(Error::NotFound)
    }
}

/// Editions in creation order: all of them (optionally by status) for tenant admins; open ones
/// visible to their organisation for everyone else. (What a person may join by themselves is
/// `enrolments::joinable`, which narrows `open_and_visible`.)
pub async fn list(
    tx: &TenantTx,
    who: &Principal,
    status: Option<EditionStatus>,
    page: PageRequest,
) -> Result<Page<Edition>> {
    let q = if who.is_tenant_admin() {
        let q = tx.select::<edition::Entity>();
        match status {
            Some(s) => q.filter(edition::Column::Status.eq(s.as_str())),
            None => q,
        }
    } else {
        if status.is_some_and(|s| s != EditionStatus::Open) {
            return Err(Error::invalid(
                "status",
                "only open editions are visible here",
            ));
        }
        let Some((_, person)) = who.person() else {
            return Err(Error::Unauthenticated("sign in to this space first"));
        };
        open_and_visible(tx, person).await?
    };
    page_of(tx, q, page).await
}

/// Open editions visible to the person's organisation (whole tenant, or listing an organisation
/// at or above theirs), as a query that callers may narrow further.
pub(crate) async fn open_and_visible(
    tx: &TenantTx,
    person: PersonId,
) -> Result<sea_orm::Select<edition::Entity>> {
    let ancestry = ancestry_of(tx, person).await?;
    // Editions listing an organisation at or above the person's, through the same tenant
    // filter as everything else.
    let listing = tx
        .select::<visible_to::Entity>()
        .select_only()
        .column(visible_to::Column::EditionId)
        .filter(visible_to::Column::OrganisationId.is_in(ancestry.iter().map(|o| o.uuid())))
        .into_query();
    Ok(tx
        .select::<edition::Entity>()
        .filter(edition::Column::Status.eq(EditionStatus::Open.as_str()))
        .filter(
            Condition::any()
                .add(edition::Column::Visibility.eq("whole_tenant"))
                .add(edition::Column::Id.in_subquery(listing)),
        ))
}

/// One page of `q` in creation order, hydrated.
pub(crate) async fn page_of(
    tx: &TenantTx,
    q: sea_orm::Select<edition::Entity>,
    page: PageRequest,
) -> Result<Page<Edition>> {
    let p = fetch(q, edition::Column::Id, page, &tx.tx).await?;
    Ok(Page {
        items: hydrate(tx, p.items).await?,
        has_next_page: p.has_next_page,
    })
}

/// Enrolments of the edition, whatever their status. Counted in SQL by hand so that editions
/// does not import enrolments, which imports editions.
async fn enrolment_count(tx: &TenantTx, id: EditionId) -> Result<u64> {
    let rows = tx
        .raw_all(
            "SELECT COUNT(*) AS n FROM enrolments WHERE tenant_id = $1 AND edition_id = $2",
            vec![tx.tenant_uuid().into(), id.uuid().into()],
        )
        .await?;
    let n: i64 = match rows.first() {
        Some(r) => r.try_get("", "n")?,
        None => 0,
    };
    Ok(u64::try_from(n).unwrap_or(0))
}

/// A new draft edition of a published catalogue course.
pub async fn create(tx: &TenantTx, who: &Principal, new: NewEdition) -> Result<Edition> {
    require_admin(who)?;
    let fields = Fields {
        title: title(new.title)?,
        description: description(new.description)?,
        starts_on: new.starts_on,
        ends_on: new.ends_on,
        enrol_opens_at: new.enrol_opens_at,
        enrol_closes_at: new.enrol_closes_at,
        capacity: capacity(new.capacity)?,
        enrolment_mode: new.enrolment_mode,
        price: price(new.price, new.included_in_subscription)?.ok_or_else(|| {
            Error::invalid(
                "price",
                "give a price per seat or includedInSubscription: true",
            )
        })?,
        min_score: min_score(new.min_score)?,
    };
    fields.check()?;
    let vis = visibility(Some(new.visibility), new.visible_to)?
        .ok_or_else(|| Error::Internal("visibility was given".into()))?;
    let course = catalogue::get(tx, new.course)
        .await
        .map_err(|e| e.not_found_as("courseId", "no such course"))?;
    match course.status {
        // A draft is invisible to tenants: it reads as unknown.
        CourseStatus::Draft => {
            return Err(Error::not_found_field("courseId", "no such course"));
        }
        CourseStatus::Retired => {
            return Err(Error::invalid(
                "courseId",
                "is retired from the catalogue; pick a published course",
            ));
        }
        CourseStatus::Published => {}
    }
    check_organisations(tx, &vis).await?;
    let id = EditionId::new();
    let now = Utc::now();
    let mut am = fields.active_model();
    am.tenant_id = Set(tx.tenant_uuid());
    am.id = Set(id.uuid());
    am.course_id = Set(course.id.uuid());
    am.visibility = Set(visibility_str(&vis).to_owned());
    am.status = Set(EditionStatus::Draft.as_str().to_owned());
    am.created_at = Set(now);
    am.updated_at = Set(now);
    am.insert(&tx.tx).await?;
    write_visibility(tx, id, &vis).await?;
    load(tx, id).await
}

/// An edition locked for the rest of the transaction.
async fn locked(tx: &TenantTx, id: EditionId) -> Result<Edition> {
    let m = model(tx, id, true).await?;
    hydrate(tx, vec![m])
        .await?
        .pop()
        .ok_or_else(|| Error::Internal("edition vanished while loading".into()))
}

/// Loads an edition to change it; an archived one is frozen.
async fn changeable(tx: &TenantTx, who: &Principal, id: EditionId) -> Result<Edition> {
    require_admin(who)?;
    let e = locked(tx, id).await?;
    if e.status == EditionStatus::Archived {
        return Err(Error::conflict(
            "status",
            "an archived edition cannot change",
        ));
    }
    Ok(e)
}

/// Changes the fields given and leaves the rest; the result is checked as a whole.
pub async fn update(
    tx: &TenantTx,
    who: &Principal,
    id: EditionId,
    patch: EditionPatch,
) -> Result<Edition> {
    let e = changeable(tx, who, id).await?;
    let mut f = Fields {
        title: e.title,
        description: e.description,
        starts_on: e.starts_on,
        ends_on: e.ends_on,
        enrol_opens_at: e.enrol_opens_at,
        enrol_closes_at: e.enrol_closes_at,
        capacity: e.capacity,
        enrolment_mode: e.enrolment_mode,
        price: e.price,
        min_score: e.min_score,
    };
    if let Some(t) = patch.title {
        f.title = title(t)?;
    }
    if let Some(d) = patch.description {
        f.description = description(d)?;
    }
    if let Some(v) = patch.starts_on {
        f.starts_on = v;
    }
    if let Some(v) = patch.ends_on {
        f.ends_on = v;
    }
    if let Some(v) = patch.enrol_opens_at {
        f.enrol_opens_at = v;
    }
    if let Some(v) = patch.enrol_closes_at {
        f.enrol_closes_at = v;
    }
    if let Some(c) = patch.capacity {
        f.capacity = capacity(c)?;
    }
    if let Some(m) = patch.enrolment_mode {
        f.enrolment_mode = m;
    }
    if let Some(p) = price(patch.price, patch.included_in_subscription)? {
        f.price = p;
    }
    if let Some(s) = patch.min_score {
        f.min_score = min_score(s)?;
    }
    f.check()?;
    let vis = visibility(patch.visibility, patch.visible_to)?;
    if let Some(v) = &vis {
        check_organisations(tx, v).await?;
    }
    let mut am = f.active_model();
    if let Some(v) = &vis {
        am.visibility = Set(visibility_str(v).to_owned());
    }
    am.updated_at = Set(Utc::now());
    tx.update_many::<edition::Entity>()
        .set(am)
        .filter(edition::Column::Id.eq(id.uuid()))
        .exec(&tx.tx)
        .await?;
    if let Some(v) = &vis {
        write_visibility(tx, id, v).await?;
    }
    load(tx, id).await
}

/// Replaces the ordered module list. Modules are matched by activity IRI: a matched module keeps
/// its id (and the progress recorded against it); one whose IRI leaves the list is retired, never
/// deleted; an IRI listed again restores its retired module. See [`check_module_change`] for
/// what an edition with enrolments accepts.
pub async fn set_modules(
    tx: &TenantTx,
    who: &Principal,
    id: EditionId,
    inputs: &[ModuleInput],
    acknowledge_progress_impact: bool,
) -> Result<Edition> {
    let parsed = modules::parse_modules(inputs)?;
    let e = changeable(tx, who, id).await?;
    let before: Vec<(&str, bool)> = e
        .modules
        .iter()
        .map(|m| (m.activity_iri.as_str(), m.required))
        .collect();
    let after: Vec<(&str, bool)> = parsed
        .iter()
        .map(|m| (m.activity_iri.as_str(), m.required))
        .collect();
    let impact = progress_impact(&before, &after);
    if !impact.is_empty() {
        let enrolments = enrolment_count(tx, id).await?;
        check_module_change(enrolments, &impact, acknowledge_progress_impact)?;
    }
    // Every module the edition ever had, retired ones included, by IRI.
    let mut existing: HashMap<String, module::Model> = tx
        .select::<module::Entity>()
        .filter(module::Column::EditionId.eq(id.uuid()))
        .all(&tx.tx)
        .await?
        .into_iter()
        .map(|m| (m.activity_iri.clone(), m))
        .collect();
    let now = Utc::now();
    for (pos, m) in parsed.into_iter().enumerate() {
        let position = pos as i32;
        match existing.remove(&m.activity_iri) {
            Some(row) => {
                let unchanged = row.position == position
                    && row.title == m.title
                    && row.required == m.required
                    && row.estimated_minutes == m.estimated_minutes
                    && row.retired_at.is_none();
                if unchanged {
                    continue;
                }
                let am = module::ActiveModel {
                    position: Set(position),
                    title: Set(m.title),
                    required: Set(m.required),
                    estimated_minutes: Set(m.estimated_minutes),
                    retired_at: Set(None),
                    ..Default::default()
                };
                tx.update_many::<module::Entity>()
                    .set(am)
                    .filter(module::Column::Id.eq(row.id))
                    .exec(&tx.tx)
                    .await?;
            }
            None => {
                module::ActiveModel {
                    tenant_id: Set(tx.tenant_uuid()),
                    id: Set(ModuleId::new().uuid()),
                    edition_id: Set(id.uuid()),
                    position: Set(position),
                    title: Set(m.title),
                    required: Set(m.required),
                    estimated_minutes: Set(m.estimated_minutes),
                    activity_iri: Set(m.activity_iri),
                    retired_at: Set(None),
                    created_at: Set(now),
                }
                .insert(&tx.tx)
                .await?;
            }
        }
    }
    let gone: Vec<uuid::Uuid> = existing
        .values()
        .filter(|m| m.retired_at.is_none())
        .map(|m| m.id)
        .collect();
    if !gone.is_empty() {
        tx.update_many::<module::Entity>()
            .set(module::ActiveModel {
                retired_at: Set(Some(now)),
                ..Default::default()
            })
            .filter(module::Column::Id.is_in(gone))
            .exec(&tx.tx)
            .await?;
    }
    touch(tx, id, now).await?;
    load(tx, id).await
}

async fn touch(tx: &TenantTx, id: EditionId, now: DateTime<Utc>) -> Result<()> {
    tx.update_many::<edition::Entity>()
        .set(edition::ActiveModel {
            updated_at: Set(now),
            ..Default::default()
        })
        .filter(edition::Column::Id.eq(id.uuid()))
        .exec(&tx.tx)
        .await?;
    Ok(())
}

/// Moves an edition along its life, with the edition locked so its modules cannot change
/// between the check and the move.
async fn transition(
    tx: &TenantTx,
    who: &Principal,
    id: EditionId,
    to: EditionStatus,
) -> Result<Edition> {
    require_admin(who)?;
    let e = locked(tx, id).await?;
    let from = e.status;
    if !to.reachable_from().contains(&from) {
        let hint = match (from, to) {
            (EditionStatus::Open, EditionStatus::Archived) => "; close it first",
            (EditionStatus::Archived, _) => "; archiving is final",
            _ => "",
        };
        return Err(Error::conflict(
            "status",
            format!(
                "a {} edition cannot become {}{hint}",
                from.as_str(),
                to.as_str()
            ),
        ));
    }
    if to == EditionStatus::Open && e.required_modules().next().is_none() {
        return Err(Error::conflict(
            "modules",
            "an edition needs at least one required module to open",
        ));
    }
    tx.update_many::<edition::Entity>()
        .set(edition::ActiveModel {
            status: Set(to.as_str().to_owned()),
            updated_at: Set(Utc::now()),
            ..Default::default()
        })
        .filter(edition::Column::Id.eq(id.uuid()))
        .exec(&tx.tx)
        .await?;
    load(tx, id).await
}

/// Opens a draft or closed edition to enrolment; it needs at least one required module.
pub async fn open(tx: &TenantTx, who: &Principal, id: EditionId) -> Result<Edition> {
    transition(tx, who, id, EditionStatus::Open).await
}

/// Closes an open edition: no new enrolments; it can be reopened.
pub async fn close(tx: &TenantTx, who: &Principal, id: EditionId) -> Result<Edition> {
    transition(tx, who, id, EditionStatus::Closed).await
}

/// Archives a draft or closed edition, for good.
pub async fn archive(tx: &TenantTx, who: &Principal, id: EditionId) -> Result<Edition> {
    transition(tx, who, id, EditionStatus::Archived).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(e: Error) -> String {
        match e {
            Error::Invalid { field, .. } => field.into_owned(),
            e => panic!("unexpected {e}"),
        }
    }

    #[test]
    fn status_moves_forward_and_reopens() {
        use EditionStatus::*;
        let ok = |from: EditionStatus, to: EditionStatus| to.reachable_from().contains(&from);
        assert!(ok(Draft, Open) && ok(Open, Closed) && ok(Closed, Archived));
        assert!(ok(Draft, Archived) && ok(Closed, Open));
        assert!(!ok(Open, Draft) && !ok(Open, Archived) && !ok(Archived, Open));
        assert!(!ok(Archived, Closed) && !ok(Closed, Draft) && !ok(Open, Open));
    }

    #[test]
    fn price_is_exactly_one_of_two() {
        assert_eq!(
            price(Some((0, "EUR".into())), None).unwrap(),
            Some(Price::PerSeat {
                amount_minor: 0,
                currency: "EUR".into()
            })
        );
        assert_eq!(
            price(None, Some(true)).unwrap(),
            Some(Price::IncludedInSubscription)
        );
        assert_eq!(price(None, None).unwrap(), None);
        assert!(price(Some((10, "EUR".into())), Some(false)).is_ok());
        assert_eq!(
            field(price(Some((1, "EUR".into())), Some(true)).unwrap_err()),
            "price"
        );
        assert_eq!(field(price(None, Some(false)).unwrap_err()), "price");
        assert_eq!(
            field(price(Some((-1, "EUR".into())), None).unwrap_err()),
            "price.amountMinor"
        );
        assert_eq!(
            field(price(Some((1, "eur".into())), None).unwrap_err()),
            "price.currency"
        );
    }

    #[test]
    fn visibility_needs_organisations_only_when_restricted() {
        let a = OrganisationId::new();
        let b = OrganisationId::new();
        assert_eq!(visibility(None, None).unwrap(), None);
        assert_eq!(
            visibility(Some(VisibilityKind::WholeTenant), Some(vec![])).unwrap(),
            Some(Visibility::WholeTenant)
        );
        assert_eq!(
            visibility(Some(VisibilityKind::Organisations), Some(vec![a, b, a])).unwrap(),
            Some(Visibility::Organisations(vec![a, b]))
        );
        assert_eq!(
            field(visibility(Some(VisibilityKind::Organisations), None).unwrap_err()),
            "visibleTo"
        );
        assert_eq!(
            field(visibility(Some(VisibilityKind::WholeTenant), Some(vec![a])).unwrap_err()),
            "visibleTo"
        );
        // Organisations reach their whole subtree.
        let v = Visibility::Organisations(vec![b]);
        assert!(v.reaches(&[a, b, OrganisationId::new()]));
        assert!(!v.reaches(&[a]));
        assert!(Visibility::WholeTenant.reaches(&[]));
    }

    #[test]
    fn dates_and_window_are_ordered() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
        let mut f = Fields {
            title: None,
            description: None,
            starts_on: d("2026-03-01"),
            ends_on: d("2026-03-01"),
            enrol_opens_at: None,
            enrol_closes_at: None,
            capacity: None,
            enrolment_mode: EnrolmentMode::AssignedOnly,
            price: Price::IncludedInSubscription,
            min_score: None,
        };
        assert!(f.check().is_ok(), "a one-day edition");
        f.ends_on = d("2026-02-28");
        assert_eq!(field(f.check().unwrap_err()), "endsOn");
        f.ends_on = None;
        let now = Utc::now();
        f.enrol_opens_at = Some(now);
        f.enrol_closes_at = Some(now);
        assert_eq!(field(f.check().unwrap_err()), "enrolClosesAt");
        assert!(capacity(Some(0)).is_err() && capacity(Some(1)).is_ok() && capacity(None).is_ok());
        assert!(min_score(Some(101)).is_err() && min_score(Some(0)).is_ok());
        assert_eq!(title(Some("  ".into())).unwrap(), None);
        assert_eq!(
            description(Some(" Line one\nline two ".into())).unwrap(),
            Some("Line one\nline two".into())
        );
        assert!(description(Some("bell\u{7}".into())).is_err());
    }
}
