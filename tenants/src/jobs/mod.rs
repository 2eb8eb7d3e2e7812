//! Scheduled work: one platform `jobs` table, each job naming its space. A worker claims due
//! jobs (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so two gateways never run one twice) and runs
//! each in its space's `TenantTx`. Time comes from the [`Clock`](crate::Clock).
//!
//! CONTRACT (foundation): `JobHandler`, `Job` and `enqueue` are what billing (renewals, invoice
//! runs, overdue marking) and later areas use.

pub(crate) mod entity;
mod runner;

use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::EntityTrait;
use sea_orm::sea_query::OnConflict;

use crate::{Result, TenantTx};

pub use runner::{Handlers, LEASE, Ran, backoff, run_due};

/// A due job as its handler sees it.
#[derive(Clone, Debug)]
pub struct Job {
    pub kind: String,
    pub payload: serde_json::Value,
    /// When it was due (not when it runs): renewals date terms from this.
    pub due_at: DateTime<Utc>,
    /// 0 on the first run.
    pub attempt: u32,
}

/// Runs one kind of job, inside the job's space, in a transaction that commits only if it
/// returns `Ok` (the job is then done); an error leaves the job to be retried later.
#[async_trait::async_trait]
pub trait JobHandler: Send + Sync {
    /// The kinds this handler runs (`subscription.renew`, ..).
    fn kinds(&self) -> &'static [&'static str];
    async fn run(&self, tx: &TenantTx, now: DateTime<Utc>, job: &Job) -> Result<()>;
}

/// Schedules a job in the transaction's space, due at `due_at`, in the same transaction as the
/// work that asks for it (so it exists only if that work commits). `dedupe`: at most one
/// pending job of this kind with this key in the space (a second enqueue is a no-op).
pub async fn enqueue(
    tx: &TenantTx,
    kind: &str,
    due_at: DateTime<Utc>,
    payload: serde_json::Value,
    dedupe: Option<&str>,
) -> Result<()> {
    let row = entity::ActiveModel {
        id: Set(uuid::Uuid::now_v7()),
        tenant_id: Set(tx.tenant_uuid()),
        kind: Set(kind.to_owned()),
        payload: Set(payload),
        due_at: Set(due_at),
        attempt: Set(0),
        locked_until: Set(None),
        last_error: Set(None),
        dedupe_key: Set(dedupe.map(str::to_owned)),
        // Bookkeeping for operators only; scheduling goes by `due_at`, from the caller's clock.
        created_at: Set(Utc::now()),
    };
    // A pending job with the same key wins (the partial unique index): nothing is inserted.
    entity::Entity::insert(row)
        .on_conflict(OnConflict::new().do_nothing().to_owned())
        .try_insert()
        .exec_without_returning(&tx.tx)
        .await?;
    Ok(())
}
