//! Billing: money, plans, vouchers, invoices and the ledger.
//!
//! Only [`Money`] exists so far. Amounts are integer minor units tagged with an
//! ISO 4217 [`Currency`]; there are no floats anywhere in billing.

pub mod currency;
pub mod money;

pub use currency::Currency;
pub use money::{Money, MoneyError};
