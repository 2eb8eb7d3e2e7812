//! Billing: plans, seat subscriptions, billing accounts, invoices and credit notes, the
//! double-entry ledger, payments, funders and their vouchers. Entities stay private to this crate; every service takes the
//! request's `TenantTx` and reaches tables only through its scoped door.
//!
//! Amounts are [`Money`]: integer minor units tagged with an ISO 4217 [`Currency`]; there are no
//! floats anywhere in billing.

pub mod accounts;
pub mod charges;
pub mod documents;
pub mod funders;
pub mod gate;
pub mod ids;
pub mod invoices;
pub mod jobs;
pub mod ledger;
pub mod payments;
pub mod plans;
pub mod subscriptions;
pub mod vouchers;

pub use ids::*;
pub use spaces_money::{Currency, Money, MoneyError, currency, money};
