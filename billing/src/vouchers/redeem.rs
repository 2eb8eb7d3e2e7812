//! Redemption: the codes given with an enrolment in a priced edition, checked at admission
//! (nothing written when one fails), then used once the place is taken, and the seat's price
//! split between the vouchers, the company and the learner.
//!
//! CONTRACT (lead): `confirm` and `give_back` are what learner payments call. The redemption
//! helper fills in the bodies and owns the rest of this file.

use chrono::{DateTime, Utc};
use spaces_tenants::{EnrolmentId, Result, TenantTx};

/// Why redemptions are given back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GiveBack {
    /// The learner did not pay in time.
    Released,
    /// The learner withdrew inside the edition's withdrawal period.
    Withdrawn,
}

/// The learner paid: the enrolment's pending redemptions are confirmed and their funder
/// charges join the next monthly run.
pub async fn confirm(_tx: &TenantTx, _now: DateTime<Utc>, _enrolment: EnrolmentId) -> Result<()> {
    Ok(())
}

/// The enrolment's redemptions are undone: uses restored, the ledger reversed, the funder
/// charges dropped (or their invoice lines credited).
pub async fn give_back(
    _tx: &TenantTx,
    _now: DateTime<Utc>,
    _enrolment: EnrolmentId,
    _why: GiveBack,
) -> Result<()> {
    Ok(())
}
