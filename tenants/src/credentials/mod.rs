//! Certificates: Open Badges 3.0 credentials a space issues to the learners who complete.

pub mod document;
pub(crate) mod entity;
pub mod issue;
pub mod keys;
pub mod logo;
pub mod pdf;
pub mod records;
pub mod signing;
pub mod status;
pub mod verify;
