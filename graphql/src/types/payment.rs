use async_graphql::{Enum, ID, Object};
use spaces_billing::payments::{Method, Payment, PaymentKind};

use crate::types::money::Money;

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(name = "PaymentKind")]
pub enum PaymentKindGql {
    Payment,
    Refund,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(name = "PaymentMethod")]
pub enum PaymentMethodGql {
    /// Recorded by an admin (bank transfer).
    Manual,
    /// Confirmed by the payment provider.
    Provider,
}

pub struct PaymentGql(pub Payment);

/// A payment received against an invoice, or a refund of one.
#[Object(name = "Payment")]
impl PaymentGql {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn invoice_id(&self) -> ID {
        ID(self.0.invoice.to_string())
    }
    async fn kind(&self) -> PaymentKindGql {
        match self.0.kind {
            PaymentKind::Payment => PaymentKindGql::Payment,
            PaymentKind::Refund => PaymentKindGql::Refund,
        }
    }
    async fn amount(&self) -> Money {
        self.0.amount.into()
    }
    async fn received_on(&self) -> chrono::NaiveDate {
        self.0.received_on
    }
    async fn method(&self) -> PaymentMethodGql {
        match self.0.method {
            Method::Manual => PaymentMethodGql::Manual,
            Method::Provider { .. } => PaymentMethodGql::Provider,
        }
    }
    async fn reference(&self) -> &str {
        &self.0.reference
    }
    /// A refund's payment.
    async fn refund_of(&self) -> Option<ID> {
        self.0.refund_of.map(|p| ID(p.to_string()))
    }
    async fn created_at(&self) -> chrono::DateTime<chrono::Utc> {
        self.0.created_at
    }
}
