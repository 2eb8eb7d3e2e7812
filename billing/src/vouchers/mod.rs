//! Funders' vouchers: batches of codes, their redemption on enrolments, and the views funders
//! and learners read.

pub mod codes;
#[allow(dead_code)] // Read and written by the funders and redemption work that lands next.
pub(crate) mod entity;

pub use codes::{Code, Mistyped, VoucherKey};
