//! The payment provider trait: checkouts, refunds, and signed webhooks. Stripe
//! ([`super::stripe`]) is the first implementation; another provider implements the same four
//! calls and gets the same webhook handling ([`super::webhooks`]).

use chrono::{DateTime, Utc};
use reqwest::header::HeaderMap;
use spaces_tenants::{Result, TenantId};

use crate::{InvoiceId, Money};

/// What a payment is for, carried through the provider and back in its events: the space (the
/// handler's `TenantTx`) and the invoice it pays, or another purpose (the next issue's learner
/// checkouts).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Metadata {
    pub space: Option<TenantId>,
    pub invoice: Option<InvoiceId>,
    pub purpose: Option<String>,
}

#[derive(Clone, Debug)]
pub struct CheckoutRequest {
    pub amount: Money,
    pub description: String,
    pub metadata: Metadata,
    pub success_url: String,
    pub cancel_url: String,
    /// When the checkout stops taking payment (Stripe: 30 minutes to 24 hours ahead; none:
    /// the provider's default, 24 hours).
    pub expires_at: Option<DateTime<Utc>>,
}

/// A hosted payment page: send the payer to `url`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkout {
    pub id: String,
    pub url: String,
}

/// Where a checkout stands once we have tried to close it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckoutState {
    Expired,
    Complete,
}

/// A verified event, as the handler acts on it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// The provider's event id: replays carry the same one.
    pub id: String,
    /// The provider's name for the event type (`payment_intent.succeeded`).
    pub kind_name: String,
    pub kind: EventKind,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// Money arrived: `external_id` is the provider's payment id, the same across the events
    /// that report one payment (so recording it twice records it once).
    PaymentSucceeded {
        external_id: String,
        amount: Money,
        metadata: Metadata,
    },
    /// Money went back. `total_refunded` is what the payment has had refunded so far, all
    /// refunds together (providers report the running total); `refund_id` names this state.
    RefundSucceeded {
        payment_external_id: String,
        refund_id: String,
        total_refunded: Money,
        metadata: Metadata,
    },
    /// Anything else: recorded and ignored.
    Other,
}

#[async_trait::async_trait]
pub trait PaymentProvider: Send + Sync {
    /// `stripe`: the provider named in `Method::Provider` and in the events table.
    fn name(&self) -> &'static str;

    async fn create_checkout(&self, request: CheckoutRequest) -> Result<Checkout>;

    /// Refunds `amount` of a payment; returns the provider's refund id.
    async fn refund(&self, payment_external_id: &str, amount: Money) -> Result<String>;

    /// Closes a checkout so that it can no longer be paid. `Complete` when the payer got there
    /// first (the payment's webhook is on its way); expiring twice answers `Expired` again.
    async fn expire_checkout(&self, checkout_id: &str) -> Result<CheckoutState>;

    /// Checks the signature (against `now`, the app's clock) and parses the event. Any
    /// failure is `Invalid` on the signature header: the caller answers 400 and keeps nothing.
    fn verify_webhook(&self, headers: &HeaderMap, body: &[u8], now: DateTime<Utc>)
    -> Result<Event>;
}
