//! Billing's scheduled work, run by the jobs worker in each job's space: renewals, the overdue
//! check of renewal invoices, the monthly invoice run of priced-edition charges, the release of
//! places a learner left unpaid.

use chrono::{DateTime, Utc};
use spaces_tenants::jobs::{Job, JobHandler};
use spaces_tenants::{Error, Result, TenantTx};

use crate::{InvoiceId, SubscriptionId, charges, subscriptions, vouchers};

pub struct BillingJobs {
    /// Closes a learner's checkout before their place is released (none: no provider).
    pub learner_checkout: Option<vouchers::payment::LearnerCheckout>,
}

fn id_in<T: std::str::FromStr>(job: &Job, key: &str) -> Result<T> {
    job.payload
        .get(key)
        .and_then(|v| v.as_str())
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| Error::Internal(format!("job {} without a valid {key}", job.kind)))
}

#[async_trait::async_trait]
impl JobHandler for BillingJobs {
    fn kinds(&self) -> &'static [&'static str] {
        &[
            subscriptions::RENEW,
            subscriptions::OVERDUE,
            charges::INVOICE_RUN,
            vouchers::payment::RELEASE,
            vouchers::payment::RENEW,
        ]
    }

    async fn run(&self, tx: &TenantTx, now: DateTime<Utc>, job: &Job) -> Result<()> {
        match job.kind.as_str() {
            subscriptions::RENEW => {
                subscriptions::renew(tx, now, id_in::<SubscriptionId>(job, "subscription")?).await
            }
            subscriptions::OVERDUE => {
                subscriptions::check_overdue(
                    tx,
                    now,
                    id_in::<SubscriptionId>(job, "subscription")?,
                    id_in::<InvoiceId>(job, "invoice")?,
                )
                .await
            }
            charges::INVOICE_RUN => charges::invoice_due_charges(tx, now).await.map(|_| ()),
            vouchers::payment::RELEASE => {
                vouchers::payment::release_due(tx, now, self.learner_checkout.as_ref())
                    .await
                    .map(|_| ())
            }
            vouchers::payment::RENEW => {
                vouchers::payment::renew_checkout(
                    tx,
                    now,
                    self.learner_checkout.as_ref(),
                    id_in::<crate::EnrolmentPaymentId>(job, "payment")?,
                )
                .await
            }
            other => Err(Error::Internal(format!("billing runs no job {other}"))),
        }
    }
}
