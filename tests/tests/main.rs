//! One integration test binary: a module per journey or area.

#![allow(clippy::unwrap_used)]

mod auth;
mod campus;
mod catalogue;
mod editions;
mod enrolments;
mod import;
mod keys_sessions;
mod limits;
mod mail;
mod ops;
mod rls;
mod schema;
mod signin_hardening;
mod walls;
