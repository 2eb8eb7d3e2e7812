//! `Enrolment.payment`: what the learner pays themselves, when vouchers and their company
//! leave them something.

use async_graphql::{Context, Enum, ID, SimpleObject};
use spaces_billing::vouchers::payment;
use spaces_tenants::EnrolmentId;

use crate::error::{ApiError, ApiResult};
use crate::types::money::Money;

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(name = "EnrolmentPaymentStatus")]
pub enum EnrolmentPaymentStatusGql {
    /// The checkout is open; the place is PENDING_PAYMENT until the provider confirms it.
    Awaiting,
    Paid,
    /// Unpaid in time (or withdrawn before paying): the place was given up.
    Released,
    /// Paid, then withdrawn inside the withdrawal period: sent back through the provider.
    Refunded,
}

#[derive(SimpleObject)]
#[graphql(name = "EnrolmentPayment")]
pub struct EnrolmentPaymentGql {
    /// VAT included.
    pub amount: Money,
    pub status: EnrolmentPaymentStatusGql,
    /// Where the learner pays; null once the payment is no longer awaited.
    pub checkout_url: Option<String>,
    /// When an unpaid place is released.
    pub expires_at: chrono::DateTime<chrono::Utc>,
    /// The learner's invoice (`GET /invoices/{id}.pdf`).
    pub invoice_id: ID,
}

/// The enrolment's payment; the caller already read the enrolment, so may read this.
pub async fn of(
    ctx: &Context<'_>,
    enrolment: EnrolmentId,
) -> ApiResult<Option<EnrolmentPaymentGql>> {
    let scope = crate::scope::of(ctx);
    let tx = scope.tx().await?;
    let Some(p) = payment::of_enrolment(&tx, enrolment).await? else {
        return Ok(None);
    };
    let status = match p.status.as_str() {
        "awaiting" => EnrolmentPaymentStatusGql::Awaiting,
        "paid" => EnrolmentPaymentStatusGql::Paid,
        "released" => EnrolmentPaymentStatusGql::Released,
        "refunded" => EnrolmentPaymentStatusGql::Refunded,
        _ => return Err(ApiError::internal()),
    };
    Ok(Some(EnrolmentPaymentGql {
        amount: p.amount.into(),
        status,
        checkout_url: p.checkout_url,
        expires_at: p.expires_at,
        invoice_id: ID(p.invoice.to_string()),
    }))
}
