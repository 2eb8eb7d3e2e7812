//! Frozen schema history for SQLite and PostgreSQL. Imports nothing of ours.
//!
//! On PostgreSQL the migrations run as the database owner and set up the wall that the server
//! cannot get around: every tenant-owned table has row-level security enabled and forced, with a
//! policy on `app.tenant_id`, and the server's role (a member of `spaces_app`) owns nothing.

pub use sea_orm_migration::prelude::*;

mod builders;
mod m0001_foundation;
mod m0002_catalogue_editions;
mod m0003_accounts;
mod m0004_session_version;
mod m0005_billing_accounts;
mod m0006_invoices;
mod m0007_ledger;
mod m0008_subscriptions;
mod m0009_jobs;
mod m0010_idempotency;
mod m0011_webhook_events;
mod m0012_vouchers;
mod m0013_self_registration;
mod m0014_lrs_credentials;
mod m0015_xapi_statements;
mod m0016_xapi_documents;
mod m0017_xapi_attachments;
mod m0018_progress;
pub mod m0019_xapi_verb_activity_keys;
mod m0020_credentials;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m0001_foundation::Migration),
            Box::new(m0002_catalogue_editions::Migration),
            Box::new(m0003_accounts::Migration),
            Box::new(m0004_session_version::Migration),
            Box::new(m0005_billing_accounts::Migration),
            Box::new(m0006_invoices::Migration),
            Box::new(m0007_ledger::Migration),
            Box::new(m0008_subscriptions::Migration),
            Box::new(m0009_jobs::Migration),
            Box::new(m0010_idempotency::Migration),
            Box::new(m0011_webhook_events::Migration),
            Box::new(m0012_vouchers::Migration),
            Box::new(m0013_self_registration::Migration),
            Box::new(m0014_lrs_credentials::Migration),
            Box::new(m0015_xapi_statements::Migration),
            Box::new(m0016_xapi_documents::Migration),
            Box::new(m0017_xapi_attachments::Migration),
            Box::new(m0018_progress::Migration),
            Box::new(m0019_xapi_verb_activity_keys::Migration),
            Box::new(m0020_credentials::Migration),
        ]
    }
}

/// The role the server's login role must be a member of; it is granted table privileges only.
pub const APP_ROLE: &str = "spaces_app";
