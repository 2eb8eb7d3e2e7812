//! Funders' vouchers: batches of codes, their redemption on enrolments, and the views funders
//! and learners read.

pub mod batch;
pub mod codes;
#[allow(dead_code)] // Redemptions and payments are read and written by the work that lands next.
pub(crate) mod entity;
pub mod funding;
pub mod payment;
pub mod redeem;
pub mod revoke;
mod split;
pub mod views;

pub use codes::{Code, Mistyped, VoucherKey};
