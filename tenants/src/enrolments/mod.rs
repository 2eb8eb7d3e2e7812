//! Enrolments of people in editions, their history and module progress.
//!
//! Every rule has its own code, so HR sees why: `EDITION_NOT_OPEN`, `NOT_VISIBLE` (the edition is
//! not offered to the person's organisation), `CAPACITY_REACHED`, `ALREADY_ENROLLED`,
//! `ENROLMENT_MODE` (the edition does not take this kind of enrolment). Capacity holds under
//! concurrency: the edition row is locked (PostgreSQL `FOR UPDATE`; SQLite transactions hold the
//! write lock) before seats are counted.

pub(crate) mod entity;
pub mod import;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, PaginatorTrait, QueryFilter, QuerySelect, Set};

use crate::editions::{self, EditionStatus, EnrolmentMode};
use crate::kernel::page::{Page, PageRequest, fetch, fetch_as};
use crate::kernel::principal::Need;
use crate::people::{self, NewPerson};
use crate::{
    EditionId, EnrolmentEventId, EnrolmentId, Error, OrganisationId, PersonId, Principal, Result,
    Role, TenantTx, organisations,
};

use entity::{enrolment, event};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EnrolmentStatus {
    /// Asked for, waiting for an admin (on-approval editions).
    PendingApproval,
    Active,
    Completed,
    Withdrawn,
    Rejected,
}

impl EnrolmentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            EnrolmentStatus::PendingApproval => "pending_approval",
            EnrolmentStatus::Active => "active",
            EnrolmentStatus::Completed => "completed",
            EnrolmentStatus::Withdrawn => "withdrawn",
            EnrolmentStatus::Rejected => "rejected",
        }
    }

    pub(crate) fn from_db(s: &str) -> Self {
        match s {
            "pending_approval" => EnrolmentStatus::PendingApproval,
            "completed" => EnrolmentStatus::Completed,
            "withdrawn" => EnrolmentStatus::Withdrawn,
            "rejected" => EnrolmentStatus::Rejected,
            _ => EnrolmentStatus::Active,
        }
    }

    /// Whether the enrolment holds a place in the edition.
    pub(crate) fn holds_seat(self) -> bool {
        matches!(
            self,
            EnrolmentStatus::PendingApproval | EnrolmentStatus::Active | EnrolmentStatus::Completed
        )
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Assigned,
    SelfEnrolled,
    Import,
}

impl Source {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Source::Assigned => "assigned",
            Source::SelfEnrolled => "self",
            Source::Import => "import",
        }
    }

    fn from_db(s: &str) -> Self {
        match s {
            "self" => Source::SelfEnrolled,
            "import" => Source::Import,
            _ => Source::Assigned,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Enrolment {
    pub id: EnrolmentId,
    pub edition: EditionId,
    pub person: PersonId,
    pub status: EnrolmentStatus,
    pub source: Source,
    pub due_on: Option<NaiveDate>,
    pub enrolled_by: Option<PersonId>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
    /// Read with the page when the lister asks for it (`with_progress`); `None` otherwise.
    pub progress: Option<Progress>,
}

impl From<enrolment::Model> for Enrolment {
    fn from(m: enrolment::Model) -> Self {
        Self {
            id: EnrolmentId::from_uuid(m.id),
            edition: EditionId::from_uuid(m.edition_id),
            person: PersonId::from_uuid(m.person_id),
            status: EnrolmentStatus::from_db(&m.status),
            source: Source::from_db(&m.source),
            due_on: m.due_on,
            enrolled_by: m.enrolled_by.map(PersonId::from_uuid),
            created_at: m.created_at,
            updated_at: m.updated_at,
            completed_at: m.completed_at,
            progress: None,
        }
    }
}

/// Required current modules of the row's edition, and those of them the enrolment completed:
/// correlated to the page's `enrolments` row, so a page and its progress are one statement.
const REQUIRED_TOTAL: &str = "(SELECT COUNT(*) FROM edition_modules m \
     WHERE m.tenant_id = enrolments.tenant_id AND m.edition_id = enrolments.edition_id \
     AND m.required AND m.retired_at IS NULL)";
const REQUIRED_DONE: &str = "(SELECT COUNT(*) FROM module_progress p \
     JOIN edition_modules m ON m.tenant_id = p.tenant_id AND m.id = p.module_id \
     WHERE p.tenant_id = enrolments.tenant_id AND p.enrolment_id = enrolments.id \
     AND p.completed_at IS NOT NULL AND m.edition_id = enrolments.edition_id \
     AND m.required AND m.retired_at IS NULL)";

/// An enrolment row with its progress columns.
struct WithProgress(Enrolment);

impl sea_orm::FromQueryResult for WithProgress {
    fn from_query_result(
        row: &sea_orm::QueryResult,
        pre: &str,
    ) -> std::result::Result<Self, sea_orm::DbErr> {
        let mut e = Enrolment::from(enrolment::Model::from_query_result(row, pre)?);
        e.progress = Some(Progress {
            required_done: row.try_get(pre, "required_done")?,
            required_total: row.try_get(pre, "required_total")?,
        });
        Ok(WithProgress(e))
    }
}

/// One page of `q` in id order, with each enrolment's progress in the same statement when asked.
async fn page_of(
    tx: &TenantTx,
    q: sea_orm::Select<enrolment::Entity>,
    page: PageRequest,
    with_progress: bool,
) -> Result<Page<Enrolment>> {
    if !with_progress {
        return Ok(fetch(q, enrolment::Column::Id, page, &tx.tx)
            .await?
            .map(Enrolment::from));
    }
    Ok(fetch_as::<_, WithProgress, _>(
        with_progress_columns(q),
        enrolment::Column::Id,
        page,
        &tx.tx,
    )
    .await?
    .map(|w| w.0))
}

fn with_progress_columns(
    q: sea_orm::Select<enrolment::Entity>,
) -> sea_orm::Select<enrolment::Entity> {
    q.column_as(Expr::cust(REQUIRED_TOTAL), "required_total")
        .column_as(Expr::cust(REQUIRED_DONE), "required_done")
}

/// Who HR enrols: a person of the space, or an email (a new person is created and invited).
pub enum Enrolee {
    Person(PersonId),
    Email {
        email: String,
        given_name: String,
        family_name: String,
        organisation: OrganisationId,
    },
}

pub struct Enrolled {
    pub enrolment: Enrolment,
    /// The person was created by this enrolment and invited.
    pub invited: bool,
}

async fn record(
    tx: &TenantTx,
    enrolment: EnrolmentId,
    kind: &str,
    actor: Option<PersonId>,
) -> Result<()> {
    event::ActiveModel {
        tenant_id: Set(tx.tenant_uuid()),
        id: Set(EnrolmentEventId::new().uuid()),
        enrolment_id: Set(enrolment.uuid()),
        kind: Set(kind.to_owned()),
        actor_id: Set(actor.map(PersonId::uuid)),
        note: Set(None),
        at: Set(Utc::now()),
    }
    .insert(&tx.tx)
    .await?;
    Ok(())
}

/// Locks the edition row: concurrent enrolments into one edition then count seats one at a time
/// (PostgreSQL `FOR UPDATE`; SQLite transactions already hold the write lock).
pub(crate) async fn lock_edition(tx: &TenantTx, edition: EditionId) -> Result<()> {
    tx.select::<editions::entity::edition::Entity>()
        .filter(editions::entity::edition::Column::Id.eq(edition.uuid()))
        .lock_exclusive()
        .one(&tx.tx)
        .await?
        .ok_or(Error::NotFound)?;
    Ok(())
}

/// Enrolments holding a place in the edition (requested, active or completed).
/// The enrolments that hold a seat (and that a person cannot ask for twice).
pub(crate) const SEAT_HOLDING: [EnrolmentStatus; 3] = [
    EnrolmentStatus::PendingApproval,
    EnrolmentStatus::Active,
    EnrolmentStatus::Completed,
];

pub(crate) async fn seats_taken(tx: &TenantTx, edition: EditionId) -> Result<i64> {
    let n = tx
        .select::<enrolment::Entity>()
        .filter(enrolment::Column::EditionId.eq(edition.uuid()))
        .filter(enrolment::Column::Status.is_in(SEAT_HOLDING.map(|s| s.as_str())))
        .count(&tx.tx)
        .await?;
    Ok(n as i64)
}

/// Locks the edition and checks that it takes enrolments now and has a seat left.
async fn admit(tx: &TenantTx, edition: EditionId) -> Result<editions::Edition> {
    lock_edition(tx, edition).await?;
    let e = editions::load(tx, edition).await?;
    if e.status != EditionStatus::Open {
        return Err(Error::refused(
            "EDITION_NOT_OPEN",
            "this edition is not open for enrolment",
        ));
    }
    let now = Utc::now();
    if e.enrol_opens_at.is_some_and(|t| now < t) || e.enrol_closes_at.is_some_and(|t| now >= t) {
        return Err(Error::refused(
            "EDITION_NOT_OPEN",
            "the enrolment window of this edition is closed",
        ));
    }
    if let Some(cap) = e.capacity
        && seats_taken(tx, edition).await? >= i64::from(cap)
    {
        return Err(Error::refused(
            "CAPACITY_REACHED",
            format!("this edition is full ({cap} places)"),
        ));
    }
    Ok(e)
}

/// Re-opens a withdrawn or rejected enrolment as active; its history stays.
pub(crate) async fn reopen(
    tx: &TenantTx,
    id: EnrolmentId,
    source: Source,
    actor: Option<PersonId>,
) -> Result<()> {
    tx.update_many::<enrolment::Entity>()
        .col_expr(
            enrolment::Column::Status,
            Expr::value(EnrolmentStatus::Active.as_str()),
        )
        .col_expr(enrolment::Column::Source, Expr::value(source.as_str()))
        .col_expr(enrolment::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(enrolment::Column::Id.eq(id.uuid()))
        .exec(&tx.tx)
        .await?;
    record(tx, id, "re-enrolled", actor).await
}

/// Creates the enrolment, or re-opens a withdrawn or rejected one (its history stays).
async fn place(
    tx: &TenantTx,
    edition: EditionId,
    person: PersonId,
    status: EnrolmentStatus,
    source: Source,
    due_on: Option<NaiveDate>,
    actor: Option<PersonId>,
) -> Result<Enrolment> {
    let existing = tx
        .select::<enrolment::Entity>()
        .filter(enrolment::Column::EditionId.eq(edition.uuid()))
        .filter(enrolment::Column::PersonId.eq(person.uuid()))
        .one(&tx.tx)
        .await?;
    let now = Utc::now();
    if let Some(m) = existing {
        if EnrolmentStatus::from_db(&m.status).holds_seat() {
            return Err(Error::refused(
                "ALREADY_ENROLLED",
                "this person is already enrolled in this edition",
            ));
        }
        let id = EnrolmentId::from_uuid(m.id);
        let mut am: enrolment::ActiveModel = m.into();
        am.status = Set(status.as_str().to_owned());
        am.source = Set(source.as_str().to_owned());
        am.due_on = Set(due_on);
        am.enrolled_by = Set(actor.map(PersonId::uuid));
        am.updated_at = Set(now);
        let m = am.update(&tx.tx).await?;
        record(tx, id, "re-enrolled", actor).await?;
        return Ok(m.into());
    }
    let id = EnrolmentId::new();
    let m = enrolment::ActiveModel {
        tenant_id: Set(tx.tenant_uuid()),
        id: Set(id.uuid()),
        edition_id: Set(edition.uuid()),
        person_id: Set(person.uuid()),
        status: Set(status.as_str().to_owned()),
        source: Set(source.as_str().to_owned()),
        due_on: Set(due_on),
        enrolled_by: Set(actor.map(PersonId::uuid)),
        created_at: Set(now),
        updated_at: Set(now),
        completed_at: Set(None),
    }
    .insert(&tx.tx)
    .await
    .map_err(|e| match e.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => Error::refused(
            "ALREADY_ENROLLED",
            "this person is already enrolled in this edition",
        ),
        _ => Error::Db(e),
    })?;
    record(
        tx,
        id,
        if status == EnrolmentStatus::PendingApproval {
            "requested"
        } else {
            "enrolled"
        },
        actor,
    )
    .await?;
    Ok(m.into())
}

/// HR enrols a person (by id, or by email: an unknown email becomes a new, invited person).
pub async fn enrol(
    tx: &TenantTx,
    who: &Principal,
    edition: EditionId,
    enrolee: Enrolee,
    due_on: Option<NaiveDate>,
    accept_url: &str,
) -> Result<Enrolled> {
    let actor = who
        .person()
        .map(|(_, p)| p)
        .ok_or(Error::Unauthenticated("sign in first"))?;
    // The edition must exist for the caller before anything else is said about it.
    editions::load(tx, edition)
        .await
        .map_err(|e| e.not_found_as("editionId", "no such edition"))?;
    let (person, invited) = match enrolee {
        Enrolee::Person(id) => (
            people::get(tx, who, id)
                .await
                .map_err(|e| e.not_found_as("personId", "no such person"))?,
            false,
        ),
        Enrolee::Email {
            email,
            given_name,
            family_name,
            organisation,
        } => {
            let parsed = crate::values::Email::parse("email", &email)?;
            match people::model_by_email(tx, &parsed).await? {
                Some(m) => (
                    people::get(tx, who, PersonId::from_uuid(m.id))
                        .await
                        .map_err(|_| out_of_reach())?,
                    false,
                ),
                None => {
                    let new = NewPerson::parse(&email, &given_name, &family_name, organisation)?;
                    let (p, _) = people::invite(tx, who, new, Role::Learner, accept_url).await?;
                    (p, true)
                }
            }
        }
    };
    let org = organisations::load(tx, person.organisation).await?;
    if !who.may(Need::Manage, &org.path) {
        return Err(out_of_reach());
    }
    let e = admit(tx, edition).await?;
    if !editions::visible_to_person(tx, edition, person.id).await? {
        return Err(Error::refused(
            "NOT_VISIBLE",
            "this edition is not offered to this person's organisation",
        ));
    }
    let _ = e;
    let enrolment = place(
        tx,
        edition,
        person.id,
        EnrolmentStatus::Active,
        Source::Assigned,
        due_on,
        Some(actor),
    )
    .await?;
    Ok(Enrolled { enrolment, invited })
}

/// The person is outside the caller's reach (another company of the campus): the same answer
/// whether or not they exist.
fn out_of_reach() -> Error {
    Error::refused(
        "OUT_OF_SUBTREE",
        "this person is not in an organisation you manage",
    )
}

/// A learner enrols themselves (self-enrolment editions) or asks to (on-approval editions).
pub async fn self_enrol(tx: &TenantTx, who: &Principal, edition: EditionId) -> Result<Enrolment> {
    let me = who
        .person()
        .map(|(_, p)| p)
        .ok_or(Error::Unauthenticated("sign in first"))?;
    // Only editions the person may see exist for them.
    let seen = editions::get(tx, who, edition).await?;
    if !editions::visible_to_person(tx, edition, me).await? {
        return Err(Error::NotFound);
    }
    let status = match seen.enrolment_mode {
        EnrolmentMode::SelfEnrolment => EnrolmentStatus::Active,
        EnrolmentMode::OnApproval => EnrolmentStatus::PendingApproval,
        EnrolmentMode::AssignedOnly => {
            return Err(Error::refused(
                "ENROLMENT_MODE",
                "people are enrolled in this edition by their HR",
            ));
        }
    };
    admit(tx, edition).await?;
    place(
        tx,
        edition,
        me,
        status,
        Source::SelfEnrolled,
        None,
        Some(me),
    )
    .await
}

/// An enrolment the caller may see (their own, or of someone in a subtree they read), with the
/// person's organisation, which the callers check rights on.
async fn load_managed(
    tx: &TenantTx,
    who: &Principal,
    id: EnrolmentId,
) -> Result<(enrolment::Model, organisations::Organisation)> {
    let m = tx
        .select::<enrolment::Entity>()
        .filter(enrolment::Column::Id.eq(id.uuid()))
        .one(&tx.tx)
        .await?
        .ok_or(Error::NotFound)?;
    let person = people::home_organisation(tx, PersonId::from_uuid(m.person_id))
        .await?
        .ok_or(Error::NotFound)?;
    let org = organisations::load(tx, person).await?;
    let mine = who.person().is_some_and(|(_, p)| p.uuid() == m.person_id);
    if mine || who.may(Need::Read, &org.path) {
        Ok((m, org))
    } else {
        Err(Error::NotFound)
    }
}

async fn set_status(
    tx: &TenantTx,
    m: enrolment::Model,
    to: EnrolmentStatus,
    kind: &str,
    actor: Option<PersonId>,
) -> Result<Enrolment> {
    let id = EnrolmentId::from_uuid(m.id);
    let mut am: enrolment::ActiveModel = m.into();
    am.status = Set(to.as_str().to_owned());
    am.updated_at = Set(Utc::now());
    let m = am.update(&tx.tx).await?;
    record(tx, id, kind, actor).await?;
    Ok(m.into())
}

/// An admin (HR of the person's organisation) approves or rejects a request.
pub async fn decide(
    tx: &TenantTx,
    who: &Principal,
    id: EnrolmentId,
    approve: bool,
) -> Result<Enrolment> {
    let (m, org) = load_managed(tx, who, id).await?;
    if !who.may(Need::Manage, &org.path) {
        return Err(Error::Forbidden(
            "deciding needs an admin role on the person's organisation",
        ));
    }
    if EnrolmentStatus::from_db(&m.status) != EnrolmentStatus::PendingApproval {
        return Err(Error::conflict(
            "id",
            "this enrolment is not waiting for a decision",
        ));
    }
    let actor = who.person().map(|(_, p)| p);
    if approve {
        // The request already holds its place; the edition must still be open.
        let e = editions::load(tx, EditionId::from_uuid(m.edition_id)).await?;
        if e.status != EditionStatus::Open {
            return Err(Error::refused(
                "EDITION_NOT_OPEN",
                "this edition is not open for enrolment",
            ));
        }
        set_status(tx, m, EnrolmentStatus::Active, "approved", actor).await
    } else {
        set_status(tx, m, EnrolmentStatus::Rejected, "rejected", actor).await
    }
}

/// The learner or their HR withdraws; the enrolment and its history stay.
pub async fn withdraw(tx: &TenantTx, who: &Principal, id: EnrolmentId) -> Result<Enrolment> {
    let (m, org) = load_managed(tx, who, id).await?;
    let mine = who.person().is_some_and(|(_, p)| p.uuid() == m.person_id);
    if !mine && !who.may(Need::Manage, &org.path) {
        return Err(Error::Forbidden(
            "withdrawing someone needs an admin role on their organisation",
        ));
    }
    match EnrolmentStatus::from_db(&m.status) {
        EnrolmentStatus::Active | EnrolmentStatus::PendingApproval => {
            set_status(
                tx,
                m,
                EnrolmentStatus::Withdrawn,
                "withdrawn",
                who.person().map(|(_, p)| p),
            )
            .await
        }
        _ => Err(Error::conflict(
            "id",
            "only active or requested enrolments can be withdrawn",
        )),
    }
}

/// One enrolment the caller may see (their own, or in a subtree they read).
pub async fn get(tx: &TenantTx, who: &Principal, id: EnrolmentId) -> Result<Enrolment> {
    Ok(load_managed(tx, who, id).await?.0.into())
}

/// The caller's own enrolments, oldest first.
pub async fn mine(
    tx: &TenantTx,
    who: &Principal,
    page: PageRequest,
    with_progress: bool,
) -> Result<Page<Enrolment>> {
    let me = who
        .person()
        .map(|(_, p)| p)
        .ok_or(Error::Unauthenticated("sign in first"))?;
    let q = tx
        .select::<enrolment::Entity>()
        .filter(enrolment::Column::PersonId.eq(me.uuid()));
    page_of(tx, q, page, with_progress).await
}

/// An edition's enrolments among the people the caller may read, oldest first.
pub async fn of_edition(
    tx: &TenantTx,
    who: &Principal,
    edition: EditionId,
    status: Option<EnrolmentStatus>,
    under: Option<OrganisationId>,
    page: PageRequest,
    with_progress: bool,
) -> Result<Page<Enrolment>> {
    editions::load(tx, edition).await?;
    let mut q = tx
        .select::<enrolment::Entity>()
        .filter(enrolment::Column::EditionId.eq(edition.uuid()));
    if let Some(s) = status {
        q = q.filter(enrolment::Column::Status.eq(s.as_str()));
    }
    // Only the people of `under`'s subtree when asked, always within what the caller reads.
    let asked = match under {
        Some(id) => Some(organisations::get(tx, who, id).await?.path),
        None => None,
    };
    let roots = match (who.readable_roots(), asked) {
        (Some(r), _) if r.is_empty() => {
            return Err(Error::Forbidden("this needs an HR or manager role"));
        }
        (_, Some(path)) if !who.may(Need::Read, &path) => return Err(Error::NotFound),
        (_, Some(path)) => Some(vec![path]),
        (r, None) => r,
    };
    if let Some(roots) = roots {
        q = q.filter(organisations::in_subtrees(
            "enrolments.tenant_id",
            "(SELECT p.organisation_id FROM people p WHERE p.tenant_id = enrolments.tenant_id AND p.id = enrolments.person_id)",
            &roots,
        ));
    }
    page_of(tx, q, page, with_progress).await
}

/// Progress toward completion: required modules completed, of those the edition requires now.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    pub required_done: i64,
    pub required_total: i64,
}

impl Progress {
    /// Whole percent, rounded down; 0 when nothing is required.
    pub fn percent(self) -> i64 {
        if self.required_total == 0 {
            0
        } else {
            self.required_done * 100 / self.required_total
        }
    }
}

/// Progress of enrolments read without it (one returned by a mutation), in one statement.
pub async fn progress(
    tx: &TenantTx,
    enrolments: &[Enrolment],
) -> Result<std::collections::HashMap<EnrolmentId, Progress>> {
    if enrolments.is_empty() {
        return Ok(std::collections::HashMap::new());
    }
    let q = tx
        .select::<enrolment::Entity>()
        .filter(enrolment::Column::Id.is_in(enrolments.iter().map(|e| e.id.uuid())));
    Ok(with_progress_columns(q)
        .into_model::<WithProgress>()
        .all(&tx.tx)
        .await?
        .into_iter()
        .filter_map(|w| w.0.progress.map(|p| (w.0.id, p)))
        .collect())
}

/// A person's enrolments, for themselves or for whoever may see them (HR, managers), oldest first.
pub async fn of_person(
    tx: &TenantTx,
    who: &Principal,
    person: PersonId,
    status: Option<EnrolmentStatus>,
    page: PageRequest,
    with_progress: bool,
) -> Result<Page<Enrolment>> {
    // The caller's own enrolments need no access check (nor its read).
    if who.person().map(|(_, p)| p) != Some(person) {
        people::get(tx, who, person).await?;
    }
    let mut q = tx
        .select::<enrolment::Entity>()
        .filter(enrolment::Column::PersonId.eq(person.uuid()));
    if let Some(s) = status {
        q = q.filter(enrolment::Column::Status.eq(s.as_str()));
    }
    page_of(tx, q, page, with_progress).await
}
