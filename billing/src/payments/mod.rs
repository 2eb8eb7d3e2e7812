//! Payments against invoices: recorded by hand (bank transfer) or from a provider's webhook.
//!
//! CONTRACT (foundation): `record` and `refund` are what the provider webhooks call. The
//! invoices work fills in the bodies; keep the signatures.

pub mod provider;
pub mod stripe;
pub mod webhooks;

use chrono::{DateTime, NaiveDate, Utc};
use spaces_tenants::{Result, TenantTx};

use crate::{InvoiceId, Money, PaymentId};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Method {
    /// Recorded by an admin (bank transfer).
    Manual,
    /// Confirmed by a payment provider; the id is the provider's (a Stripe payment intent),
    /// unique per space so the same payment is never recorded twice.
    Provider {
        provider: String,
        external_id: String,
    },
}

#[derive(Clone, Debug)]
pub struct PaymentInput {
    pub invoice: InvoiceId,
    pub amount: Money,
    pub received_on: NaiveDate,
    pub method: Method,
    pub reference: String,
}

/// Records a payment and posts its ledger transaction (cash against the buyer's receivable).
/// Recording the same provider payment twice returns the first one's id and posts nothing.
pub async fn record(tx: &TenantTx, now: DateTime<Utc>, input: PaymentInput) -> Result<PaymentId> {
    let _ = (tx, now, input);
    Err(spaces_tenants::Error::Internal(
        "payments are not built yet".into(),
    ))
}

/// Records a refund of a recorded payment (refunds against cash), whole or in part. A refund of
/// a payment not recorded (yet: provider events arrive out of order) is `NotFound`; the
/// webhook side keeps such an event and applies it when the payment arrives.
pub async fn refund(
    tx: &TenantTx,
    now: DateTime<Utc>,
    payment: &Method,
    amount: Money,
    reference: &str,
) -> Result<()> {
    let _ = (tx, now, payment, amount, reference);
    Err(spaces_tenants::Error::Internal(
        "refunds are not built yet".into(),
    ))
}
