//! Billing's side of admission (`spaces_tenants::enrolments::AdmissionGate`), in the admitting
//! transaction:
//!
//! - an edition included in the subscription needs a live subscription (`SUBSCRIPTION_REQUIRED`),
//!   not past due (`SUBSCRIPTION_PAST_DUE`), with a seat for every person of the batch who does
//!   not hold one yet (`SEAT_LIMIT_REACHED` with `seats` and `used`). The subscription row is
//!   locked before seats are counted, so admissions into different editions take turns;
//! - a priced edition needs a billing account up each person's tree
//!   (`BILLING_ACCOUNT_REQUIRED`), checked before anything is written, and charges each placed
//!   enrolment;
//! - voucher codes (enrol and selfEnrol) are checked before anything is written
//!   (`VOUCHER_INVALID` with its reason), then redeemed once the place is taken: the seat's
//!   price split between the vouchers' funders, the company and the learner
//!   (`vouchers::redeem`);
//! - a withdrawal inside the edition's period drops or credits the charges, gives the
//!   vouchers' uses back and the learner's payment.

use std::collections::HashSet;

use chrono::{DateTime, NaiveDate, Utc};
use spaces_tenants::editions::{Edition, Price};
use spaces_tenants::enrolments::admission::{AdmissionGate, Batch, Path, Placed};
use spaces_tenants::enrolments::{seat_holders_among, seats_used};
use spaces_tenants::{Clock, EnrolmentId, Error, Result, TenantTx};

use crate::invoices::Vat;
use crate::subscriptions::{self, Status};
use crate::vouchers::VoucherKey;
use crate::vouchers::payment::{self, LearnerCheckout};
use crate::vouchers::redeem::{self, GiveBack, Holder};
use crate::{charges, subscriptions::entity::subscription};

pub struct BillingGate {
    clock: Clock,
    /// The VAT of a priced edition that sets no rate of its own.
    default_vat: Vat,
    /// Voucher codes are looked up by their hash under this key.
    voucher_key: VoucherKey,
    /// How a learner pays what vouchers leave them; none: `PAYMENT_UNAVAILABLE`.
    learner_checkout: Option<LearnerCheckout>,
}

impl BillingGate {
    pub fn new(clock: Clock, default_vat: Vat, voucher_key: VoucherKey) -> Self {
        Self {
            clock,
            default_vat,
            voucher_key,
            learner_checkout: None,
        }
    }

    /// Learners pay what vouchers leave them through this provider.
    pub fn with_learner_checkout(mut self, checkout: LearnerCheckout) -> Self {
        self.learner_checkout = Some(checkout);
        self
    }

    pub(crate) fn learner_checkout(&self) -> Option<&LearnerCheckout> {
        self.learner_checkout.as_ref()
    }

    /// The key voucher codes are looked up under.
    pub fn voucher_key(&self) -> &VoucherKey {
        &self.voucher_key
    }

    fn vat_of(&self, edition: &Edition) -> Vat {
        match edition.billing.vat_basis_points {
            Some(bp) => Vat::Rate {
                basis_points: u32::try_from(bp).unwrap_or(0),
            },
            None => self.default_vat.clone(),
        }
    }
}

fn subscription_required() -> Error {
    Error::refused(
        "SUBSCRIPTION_REQUIRED",
        "this edition is included in the subscription and this space has no live subscription",
    )
}

/// Whether a subscription row gives seats today.
fn live_on(m: &subscription::Model, now: DateTime<Utc>) -> bool {
    gives_seats(
        m.starts_on,
        m.ends_on,
        m.cancel_at_term_end,
        now.date_naive(),
    )
}

/// A term not begun yet gives nothing; a term ended with a cancellation that the renewal job
/// has not closed yet gives nothing either (an ended term awaiting its renewal still does).
fn gives_seats(
    starts_on: NaiveDate,
    ends_on: NaiveDate,
    cancelled: bool,
    today: NaiveDate,
) -> bool {
    today >= starts_on && !(cancelled && today >= ends_on)
}

/// The seat check, under the subscription row's lock.
pub async fn check_seats(
    tx: &TenantTx,
    now: DateTime<Utc>,
    people: &[spaces_tenants::PersonId],
) -> Result<()> {
    let m = subscriptions::live_model(tx, true)
        .await?
        .filter(|m| live_on(m, now))
        .ok_or_else(subscription_required)?;
    if m.status == Status::PastDue.as_str() && subscriptions::still_past_due(tx, now, &m).await? {
        return Err(Error::refused(
            "SUBSCRIPTION_PAST_DUE",
            "this space's subscription has an unpaid renewal invoice; pay it to enrol again",
        ));
    }
    let used = seats_used(tx).await?;
    let holders = seat_holders_among(tx, people).await?;
    let new: HashSet<_> = people.iter().filter(|p| !holders.contains(p)).collect();
    let seats = i64::from(m.seats);
    if used + new.len() as i64 > seats {
        let left = (seats - used).max(0);
        return Err(Error::RefusedWith {
            code: "SEAT_LIMIT_REACHED",
            reason: if new.len() == 1 || left == 0 {
                format!("all {seats} seats of the subscription are taken").into()
            } else {
                format!(
                    "{left} seats of the subscription are left and this would take {}",
                    new.len()
                )
                .into()
            },
            figures: vec![("seats", seats), ("used", used)],
        });
    }
    Ok(())
}

#[async_trait::async_trait]
impl AdmissionGate for BillingGate {
    async fn admit(&self, tx: &TenantTx, batch: &Batch<'_>) -> Result<()> {
        let now = self.clock.now();
        // An approved request already holds its seat (pending requests count).
        if batch.edition.price == Price::IncludedInSubscription && batch.path != Path::Approval {
            check_seats(tx, now, batch.people).await?;
        }
        if !batch.vouchers.is_empty() {
            // Codes come with one person (enrol, selfEnrol); checked in full, written nothing.
            for a in batch.ancestries {
                redeem::plan(
                    tx,
                    &self.voucher_key,
                    now,
                    batch.edition,
                    &self.vat_of(batch.edition),
                    &Holder {
                        ancestry: a,
                        self_service: batch.path == Path::SelfService,
                    },
                    batch.vouchers,
                )
                .await?;
            }
            return Ok(());
        }
        // Checked here, before the batch is placed, so that a refusal writes nothing.
        if let Some(price) = charges::price_of(batch.edition)? {
            let accounts = crate::accounts::accounts_on(tx, batch.ancestries).await?;
            for a in batch.ancestries {
                let account = crate::accounts::deepest(&accounts, a)
                    .ok_or_else(charges::billing_account_required)?;
                charges::same_currency(account, price)?;
            }
        }
        Ok(())
    }

    async fn placed(&self, tx: &TenantTx, edition: &Edition, placed: &[Placed]) -> Result<()> {
        let Some(price) = charges::price_of(edition)? else {
            return Ok(());
        };
        let now = self.clock.now();
        let vat = self.vat_of(edition);
        let (with, without): (Vec<&Placed>, Vec<&Placed>) =
            placed.iter().partition(|p| !p.vouchers.is_empty());
        if !without.is_empty() {
            let without: Vec<Placed> = without.into_iter().cloned().collect();
            charges::create(tx, now, edition, price, &vat, &without).await?;
        }
        for p in with {
            let plan = redeem::plan(
                tx,
                &self.voucher_key,
                now,
                edition,
                &vat,
                &Holder {
                    ancestry: &p.ancestry,
                    self_service: p.self_service,
                },
                &p.vouchers,
            )
            .await?;
            let made = redeem::redeem(
                tx,
                now,
                edition,
                plan,
                p.enrolment,
                p.person,
                self.learner_checkout.as_ref(),
            )
            .await?;
            charges::invoice_or_schedule(tx, now, edition, made).await?;
        }
        Ok(())
    }

    async fn withdrawn(
        &self,
        tx: &TenantTx,
        edition: &Edition,
        enrolment: EnrolmentId,
        enrolled_at: DateTime<Utc>,
    ) -> Result<()> {
        if charges::price_of(edition)?.is_none() {
            return Ok(());
        }
        let now = self.clock.now();
        // Vouchers first (their funder charges with them), then the company's charges, then
        // what the learner paid (refunded inside the period; an awaited payment is cancelled).
        redeem::give_back(tx, now, enrolment, GiveBack::Withdrawn).await?;
        charges::withdrawn(tx, now, enrolment).await?;
        let period = chrono::Duration::days(i64::from(edition.billing.withdrawal_days));
        let inside = now < enrolled_at + period;
        payment::withdrawn(tx, now, self.learner_checkout(), enrolment, inside).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn a_term_gives_seats_from_its_first_day() {
        let (start, end) = (d("2026-12-01"), d("2027-12-01"));
        assert!(!gives_seats(start, end, false, d("2026-11-30")));
        assert!(gives_seats(start, end, false, d("2026-12-01")));
        assert!(gives_seats(start, end, false, d("2027-11-30")));
        // Past its end, awaiting the renewal job: still live.
        assert!(gives_seats(start, end, false, d("2027-12-01")));
    }

    #[test]
    fn a_cancelled_term_ends_on_its_last_day() {
        let (start, end) = (d("2026-12-01"), d("2027-12-01"));
        assert!(gives_seats(start, end, true, d("2027-11-30")));
        assert!(!gives_seats(start, end, true, d("2027-12-01")));
    }
}
