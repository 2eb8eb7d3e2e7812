//! Money as integer minor units tagged with an ISO 4217 [`Currency`]; no floats anywhere.
//!
//! Its own crate so that both `tenants` (an edition's price) and `billing` (everything else)
//! speak the same type while dependencies keep pointing one way.

pub mod currency;
pub mod money;

pub use currency::Currency;
pub use money::{Money, MoneyError};
