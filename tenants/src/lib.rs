//! The tenancy kernel and everything that lives inside a space.
//!
//! Every tenant-owned table is reached only through services that take a [`TenantTx`];
//! entities stay private to this crate so no caller can write an unscoped query.

pub mod auth;
pub mod catalogue;
pub mod credentials;
pub mod editions;
pub mod enrolments;
pub mod idempotency;
pub mod jobs;
pub mod kernel;
pub mod organisations;
pub mod outbox;
pub mod pathways;
pub mod people;
pub mod progress;
pub mod spaces;

pub use kernel::clock::Clock;
pub use kernel::db::Db;

/// False only in the test build that drops the application's tenant filter (`rls-only`); the
/// server refuses to run such a build where no other wall stands (SQLite).
pub const APPLICATION_WALL: bool = cfg!(not(feature = "rls-only"));
pub use kernel::error::{Error, Result};
pub use kernel::ids::*;
pub use kernel::principal::{Principal, Role};
pub use kernel::tx::{PlatformTx, TenantTx};
pub use kernel::values;
