//! Funders: bodies that pay for training through vouchers (a personal-learning-account scheme,
//! a public employment service, a sector fund, an employer). Each is invoiced on its
//! organisation's billing account; its staff hold `Role::Funder` on that organisation.

#[allow(dead_code)] // Read and written by the funders and redemption work that lands next.
pub(crate) mod entity;
