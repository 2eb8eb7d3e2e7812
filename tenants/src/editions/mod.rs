//! Private editions of catalogue courses, curated by a tenant admin: own title and description,
//! dates, enrolment window, capacity and mode, visibility (the whole tenant or organisation
//! subtrees), a price per seat or "included in the subscription", ordered modules with the
//! completion rule, and a status that moves draft -> open -> closed -> archived.

pub(crate) mod entity;
mod funding;
mod input;
mod modules;
mod reads;

pub use funding::{FunderKind, FundingOrder};
use input::*;
pub use input::{BillingPatch, EditionPatch, NewEdition, parse_currency};
pub use modules::{
    MAX_MODULE_MINUTES, MAX_MODULES, ModuleInput, MoveOn, ProgressImpact, check_module_change,
    parse_activity_iri, progress_impact,
};
use reads::*;
pub use reads::{get, list, load, many_with_courses, required_modules};
pub(crate) use reads::{load_locked, open_and_visible, page_of};

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::Condition;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait, Set,
};
use spaces_money::{Currency, Money};

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

/// How a priced edition is billed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EditionBilling {
    /// Days after enrolment during which a withdrawal cancels the charge.
    pub withdrawal_days: i32,
    /// Invoice each enrolment at once instead of in the monthly run.
    pub invoice_immediately: bool,
    /// The VAT rate of its charges; `None`: the platform's default (see README).
    pub vat_basis_points: Option<i32>,
    /// What vouchers leave goes to the learner's company billing account (true, the default),
    /// or to the learner.
    pub company_cofunding: bool,
    /// The order in which kinds of vouchers pay.
    pub funding_order: FundingOrder,
}

impl Default for EditionBilling {
    fn default() -> Self {
        Self {
            withdrawal_days: 14,
            invoice_immediately: false,
            vat_basis_points: None,
            company_cofunding: true,
            funding_order: FundingOrder::default(),
        }
    }
}

/// The price of one seat, charged on enrolment by billing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Price {
    /// Per enrolment, VAT excluded; 0 is a free edition.
    PerSeat(Money),
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
    pub move_on: MoveOn,
}

impl From<module::Model> for Module {
    fn from(m: module::Model) -> Self {
        Self {
            id: ModuleId::from_uuid(m.id),
            position: m.position,
            title: m.title,
            required: m.required,
            estimated_minutes: m.estimated_minutes,
            // The column's CHECK admits only the five rules `from_db` reads.
            move_on: MoveOn::from_db(&m.move_on).unwrap_or_default(),
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
    pub billing: EditionBilling,
    /// The completion rule: every required module completed and, when set, a score of at least this.
    pub min_score: Option<i32>,
    /// How long the certificates of this edition are valid, in months; `None`: no end.
    pub certificate_valid_months: Option<i32>,
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
            (false, Some(amount_minor), Some(currency)) => Price::PerSeat(Money::new(
                amount_minor,
                Currency::parse("price.currency", &currency)
                    .map_err(|e| Error::Internal(format!("edition {}: {e}", m.id)))?,
            )),
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
            billing: EditionBilling {
                withdrawal_days: m.withdrawal_days,
                invoice_immediately: m.invoice_immediately,
                vat_basis_points: m.vat_basis_points,
                company_cofunding: m.company_cofunding,
                funding_order: FundingOrder::from_db(m.funding_order.as_deref())?,
            },
            min_score: m.min_score,
            certificate_valid_months: m.credential_valid_months,
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
        billing: {
            let mut b = EditionBilling::default();
            new.billing.apply(&mut b)?;
            b
        },
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
        billing: e.billing,
    };
    patch.billing.apply(&mut f.billing)?;
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
    tx.scoped_update::<edition::Entity>()
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
        .scoped_select::<module::Entity>()
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
                    && row.move_on == m.move_on.as_str()
                    && row.retired_at.is_none();
                if unchanged {
                    continue;
                }
                let am = module::ActiveModel {
                    position: Set(position),
                    title: Set(m.title),
                    required: Set(m.required),
                    estimated_minutes: Set(m.estimated_minutes),
                    move_on: Set(m.move_on.as_str().to_owned()),
                    retired_at: Set(None),
                    ..Default::default()
                };
                tx.scoped_update::<module::Entity>()
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
                    move_on: Set(m.move_on.as_str().to_owned()),
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
        tx.scoped_update::<module::Entity>()
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
    tx.scoped_update::<edition::Entity>()
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
    tx.scoped_update::<edition::Entity>()
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
mod tests;
