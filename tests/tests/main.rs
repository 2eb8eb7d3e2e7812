//! One integration test binary: a module per journey or area.

#![allow(clippy::unwrap_used)]

mod accounts;
mod auth;
mod campus;
mod catalogue;
mod charges;
mod editions;
mod enrolments;
mod http;
mod import;
mod keys_sessions;
mod limits;
mod mail;
mod operate;
mod ops;
mod outage;
mod rls;
mod schema;
mod seats;
mod signin_hardening;
mod subscriptions;
mod walls;
mod walls_generated;
