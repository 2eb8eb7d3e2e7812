//! One integration test binary: a module per journey or area.

#![allow(clippy::unwrap_used)]

mod accounts;
mod auth;
mod billing_accounts;
mod billing_model;
mod campus;
mod catalogue;
mod charges;
mod demo;
mod editions;
mod einvoice;
mod enrolments;
mod funders;
mod http;
mod idempotency;
mod import;
mod invoice_files;
mod invoices;
mod jobs;
mod keys_sessions;
mod learner_payment;
mod ledger;
mod limits;
mod lrs_credentials;
mod mail;
mod operate;
mod ops;
mod outage;
mod payments;
mod redeem;
mod registration;
mod rls;
mod schema;
mod seats;
mod signin_hardening;
mod subscriptions;
mod voucher_journey;
mod vouchers_core;
mod walls;
mod walls_generated;
mod webhooks;
mod xapi_attachments;
mod xapi_statements;
