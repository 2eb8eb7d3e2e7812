//! Enrolments of people in editions, their history and module progress.
//!
//! Every way in (`enrol`, `self_enrol`, `decide`, the CSV import) goes through the one admission
//! function in [`admission`], where every rule has its own code so HR sees why, and where billing
//! plugs in through [`AdmissionGate`].

pub mod admission;
pub(crate) mod entity;
pub mod import;
mod joinable;
mod listing;
mod payment;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, PaginatorTrait, QueryFilter, Set};

use crate::editions;
use crate::kernel::principal::Need;
use crate::people::{self, NewPerson};
use crate::{
    EditionId, EnrolmentEventId, EnrolmentId, Error, OrganisationId, PersonId, Principal, Result,
    Role, TenantTx, organisations,
};

pub use admission::{AdmissionGate, NoGate, Placed, seat_holders_among, seats_used};
pub use joinable::joinable;
pub use listing::{Progress, mine, of_edition, of_person, progress};
pub use payment::{await_payment, payment_confirmed, release_unpaid};

use admission::{Candidate, Path};
use entity::{enrolment, event};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EnrolmentStatus {
    /// Asked for, waiting for an admin (on-approval editions).
    PendingApproval,
    /// Placed, waiting for the learner's own payment (what vouchers and the company left);
    /// released if unpaid in time.
    PendingPayment,
    Active,
    Completed,
    Withdrawn,
    Rejected,
}

impl EnrolmentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            EnrolmentStatus::PendingApproval => "pending_approval",
            EnrolmentStatus::PendingPayment => "pending_payment",
            EnrolmentStatus::Active => "active",
            EnrolmentStatus::Completed => "completed",
            EnrolmentStatus::Withdrawn => "withdrawn",
            EnrolmentStatus::Rejected => "rejected",
        }
    }

    /// A status as stored. An unknown one is an error, never a guess: reading a status this
    /// build does not know as `ACTIVE` would hand out access nobody granted.
    pub fn from_db(s: &str) -> Result<Self> {
        Ok(match s {
            "pending_approval" => EnrolmentStatus::PendingApproval,
            "pending_payment" => EnrolmentStatus::PendingPayment,
            "active" => EnrolmentStatus::Active,
            "completed" => EnrolmentStatus::Completed,
            "withdrawn" => EnrolmentStatus::Withdrawn,
            "rejected" => EnrolmentStatus::Rejected,
            other => {
                return Err(Error::Internal(format!(
                    "an enrolment has the unknown status {other:?}"
                )));
            }
        })
    }

    /// Whether the enrolment holds a place in the edition.
    pub(crate) fn holds_seat(self) -> bool {
        matches!(
            self,
            EnrolmentStatus::PendingApproval
                | EnrolmentStatus::PendingPayment
                | EnrolmentStatus::Active
                | EnrolmentStatus::Completed
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

    fn from_db(s: &str) -> Result<Self> {
        Ok(match s {
            "assigned" => Source::Assigned,
            "self" => Source::SelfEnrolled,
            "import" => Source::Import,
            other => {
                return Err(Error::Internal(format!(
                    "an enrolment has the unknown source {other:?}"
                )));
            }
        })
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
    /// The mean best score (0–100) on the required modules, once any is scored.
    pub grade: Option<f64>,
    /// Read with the page when the lister asks for it (`with_progress`); `None` otherwise.
    pub progress: Option<Progress>,
}

impl TryFrom<enrolment::Model> for Enrolment {
    type Error = Error;

    fn try_from(m: enrolment::Model) -> Result<Self> {
        Ok(Self {
            id: EnrolmentId::from_uuid(m.id),
            edition: EditionId::from_uuid(m.edition_id),
            person: PersonId::from_uuid(m.person_id),
            status: EnrolmentStatus::from_db(&m.status)?,
            source: Source::from_db(&m.source)?,
            due_on: m.due_on,
            grade: m.grade,
            enrolled_by: m.enrolled_by.map(PersonId::from_uuid),
            created_at: m.created_at,
            updated_at: m.updated_at,
            completed_at: m.completed_at,
            progress: None,
        })
    }
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

/// The enrolments that hold a place in the edition (and that a person cannot ask for twice).
pub(crate) const SEAT_HOLDING: [EnrolmentStatus; 4] = [
    EnrolmentStatus::PendingApproval,
    EnrolmentStatus::PendingPayment,
    EnrolmentStatus::Active,
    EnrolmentStatus::Completed,
];

/// Places held in the edition. Admission counts them only once the edition row is locked.
pub(crate) async fn seats_taken(tx: &TenantTx, edition: EditionId) -> Result<i64> {
    let n = tx
        .scoped_select::<enrolment::Entity>()
        .filter(enrolment::Column::EditionId.eq(edition.uuid()))
        .filter(enrolment::Column::Status.is_in(SEAT_HOLDING.map(|s| s.as_str())))
        .count(&tx.tx)
        .await?;
    Ok(n as i64)
}

/// Re-opens a withdrawn or rejected enrolment as active; its history stays.
pub(crate) async fn reopen(
    tx: &TenantTx,
    id: EnrolmentId,
    source: Source,
    actor: Option<PersonId>,
) -> Result<()> {
    tx.scoped_update::<enrolment::Entity>()
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

/// The person's enrolment in the edition, whatever its status.
async fn enrolment_of(
    tx: &TenantTx,
    edition: EditionId,
    person: PersonId,
) -> Result<Option<enrolment::Model>> {
    Ok(tx
        .scoped_select::<enrolment::Entity>()
        .filter(enrolment::Column::EditionId.eq(edition.uuid()))
        .filter(enrolment::Column::PersonId.eq(person.uuid()))
        .one(&tx.tx)
        .await?)
}

/// Creates the admitted enrolment, or re-opens the person's withdrawn or rejected one (its
/// history stays).
#[allow(clippy::too_many_arguments)]
async fn place(
    tx: &TenantTx,
    existing: Option<enrolment::Model>,
    edition: EditionId,
    person: PersonId,
    status: EnrolmentStatus,
    source: Source,
    due_on: Option<NaiveDate>,
    actor: Option<PersonId>,
) -> Result<Enrolment> {
    let now = Utc::now();
    if let Some(m) = existing {
        if EnrolmentStatus::from_db(&m.status)?.holds_seat() {
            return Err(admission::already_enrolled());
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
        return m.try_into();
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
        grade: Set(None),
        identity_verified_at: Set(None),
        identity_verified_source: Set(None),
    }
    .insert(&tx.tx)
    .await
    .map_err(|e| match e.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => admission::already_enrolled(),
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
    m.try_into()
}

/// HR enrols a person (by id, or by email: an unknown email becomes a new, invited person).
#[allow(clippy::too_many_arguments)]
pub async fn enrol(
    tx: &TenantTx,
    who: &Principal,
    gate: &dyn AdmissionGate,
    edition: EditionId,
    enrolee: Enrolee,
    due_on: Option<NaiveDate>,
    accept_url: &str,
    vouchers: &[String],
) -> Result<Enrolled> {
    let actor = who
        .person()
        .map(|(_, p)| p)
        .ok_or(Error::Unauthenticated("sign in first"))?;
    // The edition must exist for the caller before anything else is said about it; it stays
    // locked until the transaction ends.
    let locked = admission::lock(tx, edition)
        .await
        .map_err(|e| e.not_found_as("editionId", "no such edition"))?;
    let (person, org, invited, disabled) = match enrolee {
        // Any person of this space: one outside the caller's reach is OUT_OF_SUBTREE below,
        // one that names nothing here is NOT_FOUND on the field.
        Enrolee::Person(id) => {
            let m = people::model(tx, id)
                .await?
                .ok_or(Error::NotFound)
                .map_err(|e| e.not_found_as("personId", "no such person"))?;
            let org = organisations::load(tx, OrganisationId::from_uuid(m.organisation_id)).await?;
            (id, org, false, is_disabled(&m))
        }
        Enrolee::Email {
            email,
            given_name,
            family_name,
            organisation,
        } => {
            let parsed = crate::values::Email::parse("email", &email)?;
            match people::model_by_email(tx, &parsed).await? {
                Some(m) => {
                    let org = organisations::load(tx, OrganisationId::from_uuid(m.organisation_id))
                        .await?;
                    (PersonId::from_uuid(m.id), org, false, is_disabled(&m))
                }
                None => {
                    let new = NewPerson::parse(&email, &given_name, &family_name, organisation)?;
                    let (p, _) = people::invite(tx, who, new, Role::Learner, accept_url).await?;
                    let org = organisations::load(tx, p.organisation).await?;
                    (p.id, org, true, false)
                }
            }
        }
    };
    let existing = enrolment_of(tx, edition, person).await?;
    locked
        .admit(
            tx,
            who,
            gate,
            Path::Assigned,
            &[Candidate {
                person,
                organisation: &org,
                existing: existing
                    .as_ref()
                    .map(|m| EnrolmentStatus::from_db(&m.status))
                    .transpose()?,
                disabled,
            }],
            false,
            vouchers,
        )
        .await?
        .single()?;
    let enrolment = place(
        tx,
        existing,
        edition,
        person,
        EnrolmentStatus::Active,
        Source::Assigned,
        due_on,
        Some(actor),
    )
    .await?;
    gate.placed(
        tx,
        &locked.edition,
        &[placed_of(&enrolment, &org, vouchers, false)],
    )
    .await?;
    // The gate may have left the place waiting for a payment: answer what is stored.
    let enrolment = reload(tx, enrolment.id).await?;
    Ok(Enrolled { enrolment, invited })
}

/// A learner enrols themselves (self-enrolment editions) or asks to (on-approval editions).
pub async fn self_enrol(
    tx: &TenantTx,
    who: &Principal,
    gate: &dyn AdmissionGate,
    edition: EditionId,
    vouchers: &[String],
) -> Result<Enrolment> {
    let me = who
        .person()
        .map(|(_, p)| p)
        .ok_or(Error::Unauthenticated("sign in first"))?;
    // Only editions the person may see exist for them (a draft one does not).
    editions::get(tx, who, edition).await?;
    let locked = admission::lock(tx, edition).await?;
    let org = match people::home_organisation(tx, me).await? {
        Some(o) => organisations::load(tx, o).await?,
        None => return Err(Error::Unauthenticated("this account no longer exists")),
    };
    let existing = enrolment_of(tx, edition, me).await?;
    let status = locked
        .admit(
            tx,
            who,
            gate,
            Path::SelfService,
            &[Candidate {
                person: me,
                organisation: &org,
                existing: existing
                    .as_ref()
                    .map(|m| EnrolmentStatus::from_db(&m.status))
                    .transpose()?,
                // Signed in, so active.
                disabled: false,
            }],
            false,
            vouchers,
        )
        .await?
        .single()?;
    if status == EnrolmentStatus::PendingApproval && !vouchers.is_empty() {
        // Codes are redeemed when a place is taken; a request takes it only when approved.
        return Err(Error::invalid(
            "voucherCodes",
            "this edition admits on approval: vouchers are redeemed on editions you enrol in directly",
        ));
    }
    let enrolment = place(
        tx,
        existing,
        edition,
        me,
        status,
        Source::SelfEnrolled,
        None,
        Some(me),
    )
    .await?;
    // A request is charged when it is approved.
    if status == EnrolmentStatus::Active {
        gate.placed(
            tx,
            &locked.edition,
            &[placed_of(&enrolment, &org, vouchers, true)],
        )
        .await?;
        return reload(tx, enrolment.id).await;
    }
    Ok(enrolment)
}

fn placed_of(
    e: &Enrolment,
    org: &organisations::Organisation,
    vouchers: &[String],
    self_service: bool,
) -> admission::Placed {
    admission::Placed {
        person: e.person,
        enrolment: e.id,
        ancestry: org.ancestry(),
        vouchers: vouchers.to_vec(),
        self_service,
    }
}

async fn reload(tx: &TenantTx, id: EnrolmentId) -> Result<Enrolment> {
    tx.scoped_select::<enrolment::Entity>()
        .filter(enrolment::Column::Id.eq(id.uuid()))
        .one(&tx.tx)
        .await?
        .ok_or_else(|| Error::Internal(format!("enrolment {id} vanished while placing it")))?
        .try_into()
}

/// An enrolment the caller may see (their own, or of someone in a subtree they read), with the
/// person's organisation, which the callers check rights on.
async fn load_managed(
    tx: &TenantTx,
    who: &Principal,
    id: EnrolmentId,
) -> Result<(enrolment::Model, organisations::Organisation)> {
    let m = tx
        .scoped_select::<enrolment::Entity>()
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
    m.try_into()
}

fn is_disabled(m: &people::entity::person::Model) -> bool {
    people::PersonStatus::from_db_str(&m.status) == people::PersonStatus::Disabled
}

/// An admin (HR of the person's organisation) approves or rejects a request.
pub async fn decide(
    tx: &TenantTx,
    who: &Principal,
    gate: &dyn AdmissionGate,
    id: EnrolmentId,
    approve: bool,
) -> Result<Enrolment> {
    let (m, org) = load_managed(tx, who, id).await?;
    if !who.may(Need::Manage, &org.path) {
        return Err(Error::Forbidden(
            "deciding needs an admin role on the person's organisation",
        ));
    }
    if EnrolmentStatus::from_db(&m.status)? != EnrolmentStatus::PendingApproval {
        return Err(Error::conflict(
            "id",
            "this enrolment is not waiting for a decision",
        ));
    }
    let actor = who.person().map(|(_, p)| p);
    if !approve {
        return set_status(tx, m, EnrolmentStatus::Rejected, "rejected", actor).await;
    }
    // The request holds its place already; approval re-checks the edition, the approver's
    // reach and the edition's visibility, but not the enrolment window it was asked in.
    let locked = admission::lock(tx, EditionId::from_uuid(m.edition_id)).await?;
    let person = PersonId::from_uuid(m.person_id);
    let disabled = people::model(tx, person)
        .await?
        .is_none_or(|p| is_disabled(&p));
    locked
        .admit(
            tx,
            who,
            gate,
            Path::Approval,
            &[Candidate {
                person,
                organisation: &org,
                existing: Some(EnrolmentStatus::from_db(&m.status)?),
                disabled,
            }],
            false,
            &[],
        )
        .await?
        .single()?;
    let enrolment = set_status(tx, m, EnrolmentStatus::Active, "approved", actor).await?;
    gate.placed(
        tx,
        &locked.edition,
        &[placed_of(&enrolment, &org, &[], false)],
    )
    .await?;
    Ok(enrolment)
}

/// The learner or their HR withdraws; the enrolment and its history stay.
pub async fn withdraw(
    tx: &TenantTx,
    who: &Principal,
    gate: &dyn AdmissionGate,
    id: EnrolmentId,
) -> Result<Enrolment> {
    let (m, org) = load_managed(tx, who, id).await?;
    let mine = who.person().is_some_and(|(_, p)| p.uuid() == m.person_id);
    if !mine && !who.may(Need::Manage, &org.path) {
        return Err(Error::Forbidden(
            "withdrawing someone needs an admin role on their organisation",
        ));
    }
    match EnrolmentStatus::from_db(&m.status)? {
        EnrolmentStatus::Active
        | EnrolmentStatus::PendingApproval
        | EnrolmentStatus::PendingPayment => {
            let edition = editions::load_locked(tx, EditionId::from_uuid(m.edition_id)).await?;
            let enrolled_at = m.created_at;
            let e = set_status(
                tx,
                m,
                EnrolmentStatus::Withdrawn,
                "withdrawn",
                who.person().map(|(_, p)| p),
            )
            .await?;
            gate.withdrawn(tx, &edition, e.id, enrolled_at).await?;
            Ok(e)
        }
        _ => Err(Error::conflict(
            "id",
            "only active, requested or unpaid enrolments can be withdrawn",
        )),
    }
}

/// One enrolment the caller may see (their own, or in a subtree they read).
pub async fn get(tx: &TenantTx, who: &Principal, id: EnrolmentId) -> Result<Enrolment> {
    load_managed(tx, who, id).await?.0.try_into()
}

/// One step of an enrolment's history.
#[derive(Clone, Debug)]
pub struct HistoryEvent {
    /// `requested`, `approved`, `rejected`, `enrolled`, `withdrawn`, `completed`,
    /// `voided_after_completion`, ...: as the enrolment's areas record them.
    pub kind: String,
    pub at: DateTime<Utc>,
    /// Who did it, when a person did.
    pub actor: Option<PersonId>,
    pub note: Option<String>,
}

/// The enrolment's history, oldest first. The caller has already read the enrolment (the
/// learner, or HR who may see it), so may read this.
pub async fn history(tx: &TenantTx, id: EnrolmentId) -> Result<Vec<HistoryEvent>> {
    use sea_orm::QueryOrder;
    Ok(tx
        .select::<event::Entity>()
        .filter(event::Column::EnrolmentId.eq(id.uuid()))
        .order_by_asc(event::Column::At)
        .order_by_asc(event::Column::Id)
        .all()
        .await?
        .into_iter()
        .map(|e| HistoryEvent {
            kind: e.kind,
            at: e.at,
            actor: e.actor_id.map(PersonId::from_uuid),
            note: e.note,
        })
        .collect())
}
