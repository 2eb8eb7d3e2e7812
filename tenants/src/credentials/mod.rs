//! Certificates: Open Badges 3.0 credentials a space issues to the learners who complete. So
//! far the signing primitive ([`signing`]); issuance, verification and revocation build on it.

pub mod signing;
