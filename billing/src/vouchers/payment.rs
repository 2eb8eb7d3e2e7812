//! What a learner pays themselves: the rest of a seat that vouchers (and no company) cover.
//! Their own billing account, an invoice issued at once, the provider's checkout for it; the
//! enrolment waits in `PENDING_PAYMENT` until the invoice is paid, and is released (its
//! voucher uses given back) when unpaid after the hold.
//!
//! CONTRACT (lead): the signatures below are what redemption (`redeem`), payments and the jobs
//! call. The learner-payment helper fills in the bodies.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use spaces_tenants::editions::Edition;
use spaces_tenants::{EnrolmentId, Error, PersonId, Result, TenantTx};

use crate::invoices::Vat;
use crate::payments::provider::PaymentProvider;
use crate::{InvoiceId, Money};

/// How long an unpaid place is held.
pub const HOLD: Duration = Duration::hours(48);

/// The provider and the pages a learner returns to. Absent (no provider configured), a
/// learner cannot be left anything to pay: `PAYMENT_UNAVAILABLE`.
#[derive(Clone)]
pub struct LearnerCheckout {
    pub provider: Arc<dyn PaymentProvider>,
    /// Where the provider sends the learner back; `{space}` is replaced by the space's host.
    pub success_url: String,
    pub cancel_url: String,
}

/// The learner's share of one seat.
pub struct LearnerShare<'a> {
    pub edition: &'a Edition,
    pub enrolment: EnrolmentId,
    pub person: PersonId,
    /// Including VAT, like every share.
    pub amount: Money,
    pub vat: &'a Vat,
}

/// Opens the learner's payment in the admitting transaction: account, invoice, checkout,
/// the enrolment to `PENDING_PAYMENT`, the release job at `now + HOLD`.
pub async fn open(
    _tx: &TenantTx,
    _now: DateTime<Utc>,
    checkout: Option<&LearnerCheckout>,
    _share: LearnerShare<'_>,
) -> Result<()> {
    if checkout.is_none() {
        return Err(Error::refused(
            "PAYMENT_UNAVAILABLE",
            "this space takes no card payments, and the vouchers given leave something to pay",
        ));
    }
    Err(Error::Internal(
        "learner payments land with the next commit".into(),
    ))
}

/// After a payment was recorded on `invoice` (webhook or by hand): when it settles a
/// learner's invoice, the enrolment turns `ACTIVE` and its redemptions are confirmed.
pub async fn invoice_paid(_tx: &TenantTx, _now: DateTime<Utc>, _invoice: InvoiceId) -> Result<()> {
    Ok(())
}

/// The release job: every payment of the space still awaited past its hold is released.
/// Returns how many were.
pub async fn release_due(_tx: &TenantTx, _now: DateTime<Utc>) -> Result<u32> {
    Ok(0)
}

/// A withdrawal inside the edition's period: what the learner paid goes back through the
/// provider (and a credit note); an awaited payment is released.
pub async fn withdrawn(
    _tx: &TenantTx,
    _now: DateTime<Utc>,
    _checkout: Option<&LearnerCheckout>,
    _enrolment: EnrolmentId,
) -> Result<()> {
    Ok(())
}
