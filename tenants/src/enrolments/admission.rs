//! The one admission path. `enrol`, `selfEnrol`, approval and the CSV import each lock the
//! edition row ([`lock`]) and then ask [`Locked::admit`] about a batch of people, so every path
//! applies the same rules in the same order:
//!
//! 1. the edition is open (`EDITION_NOT_OPEN`), and inside its enrolment window, except for an
//!    approval: the request was made inside it (`EDITION_NOT_OPEN`);
//! 2. the edition takes this kind of enrolment (`ENROLMENT_MODE`: learners cannot put
//!    themselves into an assigned-only edition);
//! 3. per person: the caller manages their organisation (`OUT_OF_SUBTREE`; a learner enrolling
//!    themselves needs no role), the edition is offered to it (`NOT_VISIBLE`), and they do not
//!    already hold a place (`ALREADY_ENROLLED`; the import counts them as already enrolled);
//!    a disabled person takes no place (`PERSON_DISABLED`, after the reach check);
//! 4. the places the batch takes fit in the capacity left (`CAPACITY_REACHED`), counted after
//!    the lock, so concurrent admissions take turns;
//! 5. the [`AdmissionGate`], once per batch, in the same transaction: where billing adds seats,
//!    prices and vouchers. Its refusal refuses the whole batch.
//!
//! Once the rows are placed, the gate's `placed` hook sees their ids (a priced edition's
//! charges), and a withdrawal calls its `withdrawn` hook (the withdrawal period's refund).

use std::borrow::Cow;
use std::collections::HashSet;

use chrono::{DateTime, Utc};

use crate::editions::{self, Edition, EditionStatus, EnrolmentMode};
use crate::kernel::principal::Need;
use crate::organisations::Organisation;
use crate::{EditionId, EnrolmentId, Error, OrganisationId, PersonId, Principal, Result, TenantTx};

use super::EnrolmentStatus;

/// The way a batch asks for places.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Path {
    /// HR enrols one person (`enrol`).
    Assigned,
    /// A learner enrols themselves or asks to (`selfEnrol`).
    SelfService,
    /// An admin approves a request that already holds its place.
    Approval,
    /// HR imports a CSV file.
    Import,
}

/// What billing sees of a batch that passed every rule: the edition, the way in, and the people
/// who take a new place (or, for an approval, whose requested place becomes active).
pub struct Batch<'a> {
    pub edition: &'a Edition,
    pub path: Path,
    pub people: &'a [PersonId],
    /// Each person's organisation and its ancestors, root first (parallel to `people`): where
    /// billing looks for the nearest billing account.
    pub ancestries: &'a [Vec<OrganisationId>],
    /// A dry-run import: say whether it would pass, change nothing.
    pub dry_run: bool,
    /// Voucher codes as the caller typed them (`enrol` and `selfEnrol`, one person); empty for
    /// the import and an approval. The gate checks them here and redeems them in `placed`.
    pub vouchers: &'a [String],
}

/// Decides, once per admitted batch and inside the admitting transaction, whatever the
/// enrolment rules do not: seats of a subscription, the price of a paid edition, vouchers.
/// Declared here so that enrolments never depend on billing; the gateway supplies the
/// implementation. An error refuses the whole batch. For `enrol`, `selfEnrol` and approval the
/// mutation's savepoint undoes what the gate wrote; the import turns a refusal into its report
/// and commits that, so a gate that refuses must have written nothing.
#[async_trait::async_trait]
pub trait AdmissionGate: Send + Sync {
    async fn admit(&self, tx: &TenantTx, batch: &Batch<'_>) -> Result<()>;

    /// After the admitted batch's rows are placed (same transaction, never for a dry run or an
    /// approval): what needs the enrolment ids, such as a priced edition's charges. An error
    /// refuses the whole batch (the import then writes nothing).
    async fn placed(&self, _tx: &TenantTx, _edition: &Edition, _placed: &[Placed]) -> Result<()> {
        Ok(())
    }

    /// After an enrolment was withdrawn (same transaction): a charge inside the edition's
    /// withdrawal period is dropped or credited.
    async fn withdrawn(
        &self,
        _tx: &TenantTx,
        _edition: &Edition,
        _enrolment: EnrolmentId,
        _enrolled_at: DateTime<Utc>,
    ) -> Result<()> {
        Ok(())
    }
}

/// One enrolment a batch placed.
#[derive(Clone, Debug)]
pub struct Placed {
    pub person: PersonId,
    pub enrolment: EnrolmentId,
    /// The person's organisation and its ancestors, root first.
    pub ancestry: Vec<OrganisationId>,
    /// The voucher codes given with this enrolment, as typed (see [`Batch::vouchers`]).
    pub vouchers: Vec<String>,
    /// The person enrolled themselves (`selfEnrol`): they may redeem their own
    /// personal-learning-account vouchers and pay what is left.
    pub self_service: bool,
}

/// Who holds a seat of the space's subscription: a `PENDING_APPROVAL`, `PENDING_PAYMENT` or
/// `ACTIVE` enrolment in
/// any edition included in the subscription, counted once however many, and not disabled.
const SEAT_HOLDERS: &str = "FROM enrolments e \
     JOIN editions d ON d.tenant_id = e.tenant_id AND d.id = e.edition_id \
     JOIN people p ON p.tenant_id = e.tenant_id AND p.id = e.person_id \
     WHERE e.tenant_id = $1 AND d.included_in_subscription = $2 \
     AND e.status IN ('pending_approval', 'pending_payment', 'active') AND p.status <> 'disabled'";

/// Seats held in the space. Billing counts them after locking the subscription row.
pub async fn seats_used(tx: &TenantTx) -> Result<i64> {
    let rows = tx
        .raw_all(
            &format!("SELECT COUNT(DISTINCT e.person_id) AS n {SEAT_HOLDERS}"),
            vec![tx.tenant_uuid().into(), true.into()],
        )
        .await?;
    match rows.first() {
        Some(r) => Ok(r.try_get::<i64>("", "n")?),
        None => Ok(0),
    }
}

/// Those of `people` who hold a seat already (and take none more).
pub async fn seat_holders_among(tx: &TenantTx, people: &[PersonId]) -> Result<HashSet<PersonId>> {
    let mut held = HashSet::new();
    // In chunks: an import asks about thousands, a statement takes a bounded list.
    for chunk in people.chunks(500) {
        let marks: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 3)).collect();
        let mut values: Vec<sea_orm::Value> = vec![tx.tenant_uuid().into(), true.into()];
        values.extend(chunk.iter().map(|p| p.uuid().into()));
        let rows = tx
            .raw_all(
                &format!(
                    "SELECT DISTINCT e.person_id {SEAT_HOLDERS} AND e.person_id IN ({})",
                    marks.join(", ")
                ),
                values,
            )
            .await?;
        for r in rows {
            held.insert(PersonId::from_uuid(
                r.try_get::<uuid::Uuid>("", "person_id")?,
            ));
        }
    }
    Ok(held)
}

/// The gate while there is no billing: every batch that passes the rules gets in.
pub struct NoGate;

#[async_trait::async_trait]
impl AdmissionGate for NoGate {
    async fn admit(&self, _tx: &TenantTx, _batch: &Batch<'_>) -> Result<()> {
        Ok(())
    }
}

/// One person asking for a place.
pub(crate) struct Candidate<'a> {
    /// An existing person, or the id a new person of an import will get.
    pub person: PersonId,
    /// Their organisation (for a new person, the one they will join).
    pub organisation: &'a Organisation,
    /// Their enrolment in this edition, if any.
    pub existing: Option<EnrolmentStatus>,
    /// Switched off (a leaver): takes no place, and a request of theirs is not approved.
    pub disabled: bool,
}

/// The answer for one candidate.
pub(crate) enum Verdict {
    /// Takes a place in this status (or, for an approval, its requested place turns active).
    Admit(EnrolmentStatus),
    /// Already holds a place in this edition.
    Holds,
    Refused(Error),
}

/// An edition whose row this transaction holds locked.
pub(crate) struct Locked {
    pub edition: Edition,
}

/// Locks the edition row before anything is counted. Unknown: NOT_FOUND.
pub(crate) async fn lock(tx: &TenantTx, edition: EditionId) -> Result<Locked> {
    Ok(Locked {
        edition: editions::load_locked(tx, edition).await?,
    })
}

pub(crate) struct Admission {
    /// The first rule of the edition itself that refuses (open, window, mode).
    pub edition_refusal: Option<Error>,
    /// One per candidate, in order.
    pub verdicts: Vec<Verdict>,
    /// Capacity, then the gate, for the batch as a whole.
    pub batch_refusal: Option<Error>,
}

impl Admission {
    /// The only candidate's answer as a result: its status, or the first refusal.
    pub fn single(mut self) -> Result<EnrolmentStatus> {
        if let Some(e) = self.edition_refusal {
            return Err(e);
        }
        match self.verdicts.pop() {
            Some(Verdict::Refused(e)) => Err(e),
            Some(Verdict::Holds) => Err(already_enrolled()),
            Some(Verdict::Admit(status)) => match self.batch_refusal {
                Some(e) => Err(e),
                None => Ok(status),
            },
            None => Err(Error::Internal("an admission without a candidate".into())),
        }
    }

    /// Whether the whole batch was admitted.
    pub fn passed(&self) -> bool {
        self.edition_refusal.is_none()
            && self.batch_refusal.is_none()
            && !self
                .verdicts
                .iter()
                .any(|v| matches!(v, Verdict::Refused(_)))
    }
}

pub(crate) fn already_enrolled() -> Error {
    Error::refused(
        "ALREADY_ENROLLED",
        "this person is already enrolled in this edition",
    )
}

/// The person is outside the caller's reach (another company of the campus): the same answer
/// whether or not they exist.
pub(crate) fn out_of_reach() -> Error {
    Error::refused(
        "OUT_OF_SUBTREE",
        "this person is not in an organisation you manage",
    )
}

impl Locked {
    /// Applies every rule to the batch, then the gate when all passed. Writes nothing itself
    /// (the gate may): the caller places the admitted people.
    #[allow(clippy::too_many_arguments)]
    pub async fn admit(
        &self,
        tx: &TenantTx,
        who: &Principal,
        gate: &dyn AdmissionGate,
        path: Path,
        candidates: &[Candidate<'_>],
        dry_run: bool,
        vouchers: &[String],
    ) -> Result<Admission> {
        let e = &self.edition;
        let edition_refusal = edition_rule(e, path).err();
        let status = match (path, e.enrolment_mode) {
            (Path::SelfService, EnrolmentMode::OnApproval) => EnrolmentStatus::PendingApproval,
            _ => EnrolmentStatus::Active,
        };
        let verdicts: Vec<Verdict> = candidates
            .iter()
            .map(|c| match candidate_rule(e, who, path, c) {
                Ok(()) => Verdict::Admit(status),
                Err(Held) => Verdict::Holds,
                Err(Refusal(err)) => Verdict::Refused(err),
            })
            .collect();
        let mut admission = Admission {
            edition_refusal,
            verdicts,
            batch_refusal: None,
        };
        let (people, ancestries): (Vec<PersonId>, Vec<Vec<OrganisationId>>) = candidates
            .iter()
            .zip(&admission.verdicts)
            .filter(|(_, v)| matches!(v, Verdict::Admit(_)))
            .map(|(c, _)| (c.person, c.organisation.ancestry()))
            .unzip();
        // An approved request already holds its place: it takes none more.
        let new_places = if path == Path::Approval {
            0
        } else {
            people.len() as i64
        };
        if new_places > 0
            && let Some(cap) = e.capacity
        {
            let left = (i64::from(cap) - super::seats_taken(tx, e.id).await?).max(0);
            if new_places > left {
                admission.batch_refusal = Some(Error::refused(
                    "CAPACITY_REACHED",
                    if left == 0 {
                        Cow::Owned(format!("this edition is full ({cap} places)"))
                    } else {
                        Cow::Owned(format!(
                            "this edition has {left} places left and this would take {new_places}"
                        ))
                    },
                ));
            }
        }
        if admission.passed() && !people.is_empty() {
            let batch = Batch {
                edition: e,
                path,
                people: &people,
                ancestries: &ancestries,
                dry_run,
                vouchers,
            };
            admission.batch_refusal = gate.admit(tx, &batch).await.err();
        }
        Ok(admission)
    }
}

fn edition_rule(e: &Edition, path: Path) -> Result<()> {
    if e.status != EditionStatus::Open {
        return Err(Error::refused(
            "EDITION_NOT_OPEN",
            "this edition is not open for enrolment",
        ));
    }
    let now = Utc::now();
    let outside =
        e.enrol_opens_at.is_some_and(|t| now < t) || e.enrol_closes_at.is_some_and(|t| now >= t);
    if outside && path != Path::Approval {
        return Err(Error::refused(
            "EDITION_NOT_OPEN",
            "the enrolment window of this edition is closed",
        ));
    }
    if path == Path::SelfService && e.enrolment_mode == EnrolmentMode::AssignedOnly {
        return Err(Error::refused(
            "ENROLMENT_MODE",
            "people are enrolled in this edition by their HR",
        ));
    }
    Ok(())
}

/// Why one candidate does not take a new place.
enum NoPlace {
    Held,
    Refusal(Error),
}
use NoPlace::{Held, Refusal};

fn candidate_rule(
    e: &Edition,
    who: &Principal,
    path: Path,
    c: &Candidate<'_>,
) -> std::result::Result<(), NoPlace> {
    let myself = who.person().is_some_and(|(_, p)| p == c.person);
    let needs_role = !(path == Path::SelfService && myself);
    if needs_role && !who.may(Need::Manage, &c.organisation.path) {
        return Err(Refusal(out_of_reach()));
    }
    if c.disabled {
        return Err(Refusal(Error::refused(
            "PERSON_DISABLED",
            "this person's account is disabled; enable it first",
        )));
    }
    if !e.visibility.reaches(&c.organisation.ancestry()) {
        // To someone enrolling themselves, an edition not offered to them does not exist.
        return Err(Refusal(if path == Path::SelfService {
            Error::NotFound
        } else {
            Error::refused(
                "NOT_VISIBLE",
                "this edition is not offered to this person's organisation",
            )
        }));
    }
    match (path, c.existing) {
        (Path::Approval, Some(EnrolmentStatus::PendingApproval)) => Ok(()),
        (Path::Approval, _) => Err(Refusal(Error::conflict(
            "id",
            "this enrolment is not waiting for a decision",
        ))),
        (_, Some(s)) if s.holds_seat() => Err(Held),
        _ => Ok(()),
    }
}
