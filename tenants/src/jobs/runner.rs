//! The worker's side: claim due jobs, run each in its space, then delete it or schedule a retry.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, RwLock};

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, LockBehavior, LockType};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::{Job, JobHandler, entity};
use crate::{Clock, Db, Error, PlatformTx, Result, TenantId, TenantTx};

/// How long a claimed job is reserved for its worker. A worker that dies mid-job leaves it to be
/// claimed again once this has passed, so a job runs at least once; it runs twice only if a
/// handler outlives its lease.
pub const LEASE: Duration = Duration::minutes(5);

/// Jobs claimed per statement on PostgreSQL; SQLite claims one at a time (it has one writer).
const BATCH: u64 = 20;

/// The wait before retry `attempt + 1` of a job that failed `attempt + 1` times: 30 s,
/// doubling, at most an hour.
pub fn backoff(attempt: u32) -> Duration {
    Duration::seconds(30i64.saturating_mul(1i64 << attempt.min(7)).min(3600))
}

/// The handlers a worker runs, by kind. Shared by the worker loop; areas register theirs when
/// the gateway starts.
#[derive(Default)]
pub struct Handlers {
    by_kind: RwLock<HashMap<&'static str, Arc<dyn JobHandler>>>,
    /// Kinds found due with no handler, already logged (once each).
    unknown: Mutex<HashSet<String>>,
}

impl Handlers {
    pub fn new(handlers: Vec<Arc<dyn JobHandler>>) -> Self {
        let h = Self::default();
        for handler in handlers {
            h.register(handler);
        }
        h
    }

    /// Adds a handler for each of its kinds (a later one for the same kind replaces it).
    pub fn register(&self, handler: Arc<dyn JobHandler>) {
        if let Ok(mut map) = self.by_kind.write() {
            for kind in handler.kinds() {
                map.insert(kind, handler.clone());
            }
        }
    }

    fn kinds(&self) -> Vec<&'static str> {
        self.by_kind
            .read()
            .map(|m| m.keys().copied().collect())
            .unwrap_or_default()
    }

    fn get(&self, kind: &str) -> Option<Arc<dyn JobHandler>> {
        self.by_kind.read().ok()?.get(kind).cloned()
    }
}

/// What one pass did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Ran {
    /// Jobs that succeeded (and are gone).
    pub done: usize,
    /// Jobs that failed and wait for a retry.
    pub failed: usize,
}

/// Runs every job due by `clock.now()` whose kind has a handler, until none is left; jobs of
/// other kinds stay where they are (each such kind is logged once). Safe to call from several
/// workers at once: on PostgreSQL each claims with `FOR UPDATE SKIP LOCKED` and marks its jobs
/// leased before running them, so no job runs twice.
pub async fn run_due(db: &Db, clock: &Clock, handlers: &Handlers) -> Result<Ran> {
    let kinds = handlers.kinds();
    let mut ran = Ran::default();
    if !kinds.is_empty() {
        loop {
            let claimed = claim(db, clock.now(), &kinds).await?;
            if claimed.is_empty() {
                break;
            }
            for job in claimed {
                if run_one(db, clock, handlers, job).await? {
                    ran.done += 1;
                } else {
                    ran.failed += 1;
                }
            }
        }
    }
    log_unknown(db, clock.now(), &kinds, handlers).await?;
    Ok(ran)
}

/// Claims due, unleased jobs of these kinds in one short transaction: they are leased (and the
/// lease committed) before anything runs, so other workers skip them.
async fn claim(db: &Db, now: DateTime<Utc>, kinds: &[&str]) -> Result<Vec<entity::Model>> {
    let tx = PlatformTx::begin(db).await?;
    let mut q = entity::Entity::find()
        .filter(entity::Column::DueAt.lte(now))
        .filter(
            Condition::any()
                .add(entity::Column::LockedUntil.is_null())
                .add(entity::Column::LockedUntil.lte(now)),
        )
        .filter(entity::Column::Kind.is_in(kinds.iter().copied()))
        .order_by_asc(entity::Column::DueAt)
        .order_by_asc(entity::Column::Id);
    if db.is_postgres() {
        q = q
            .limit(BATCH)
            .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    } else {
        q = q.limit(1);
    }
    let jobs = q.all(&tx.tx).await?;
    if !jobs.is_empty() {
        entity::Entity::update_many()
            .col_expr(entity::Column::LockedUntil, Expr::value(now + LEASE))
            .filter(entity::Column::Id.is_in(jobs.iter().map(|j| j.id)))
            .exec(&tx.tx)
            .await?;
    }
    tx.commit().await?;
    Ok(jobs)
}

/// Runs one claimed job in its space. Success deletes the job in the handler's own transaction,
/// so the work and its completion commit together; failure undoes the work and schedules a
/// retry. True when it succeeded.
async fn run_one(db: &Db, clock: &Clock, handlers: &Handlers, row: entity::Model) -> Result<bool> {
    let Some(handler) = handlers.get(&row.kind) else {
        // Unregistered since the claim: give the job back.
        release(db, row.id).await?;
        return Ok(false);
    };
    let job = Job {
        kind: row.kind.clone(),
        payload: row.payload.clone(),
        due_at: row.due_at,
        attempt: u32::try_from(row.attempt).unwrap_or(0),
    };
    // In a task of its own, so a handler that panics fails its job (retried like an error)
    // instead of ending the worker; its transaction is rolled back as it drops.
    let task = {
        let (db, clock, job, id, tenant) = (
            db.clone(),
            clock.clone(),
            job.clone(),
            row.id,
            TenantId::from_uuid(row.tenant_id),
        );
        tokio::spawn(async move {
            let tx = TenantTx::begin(&db, tenant).await?;
            match handler.run(&tx, clock.now(), &job).await {
                Ok(()) => {
                    entity::Entity::delete_many()
                        .filter(entity::Column::Id.eq(id))
                        .exec(&tx.tx)
                        .await?;
                    tx.commit().await
                }
                Err(e) => {
                    tx.rollback().await?;
                    Err(e)
                }
            }
        })
    };
    let outcome = match task.await {
        Ok(r) => r,
        Err(e) => Err(Error::Internal(format!("the job's handler panicked: {e}"))),
    };
    match outcome {
        Ok(()) => Ok(true),
        Err(e) => {
            let reason = describe(&e);
            tracing::warn!(job = %row.id, kind = %row.kind, tenant = %row.tenant_id, attempt = job.attempt, error = %reason, "job failed; retrying later");
            let tx = PlatformTx::begin(db).await?;
            entity::Entity::update_many()
                .col_expr(
                    entity::Column::Attempt,
                    sea_orm::sea_query::ExprTrait::add(Expr::col(entity::Column::Attempt), 1),
                )
                .col_expr(
                    entity::Column::DueAt,
                    Expr::value(clock.now() + backoff(job.attempt)),
                )
                .col_expr(
                    entity::Column::LockedUntil,
                    Expr::value(None::<DateTime<Utc>>),
                )
                .col_expr(entity::Column::LastError, Expr::value(reason))
                .filter(entity::Column::Id.eq(row.id))
                .exec(&tx.tx)
                .await?;
            tx.commit().await?;
            Ok(false)
        }
    }
}

async fn release(db: &Db, id: uuid::Uuid) -> Result<()> {
    let tx = PlatformTx::begin(db).await?;
    entity::Entity::update_many()
        .col_expr(
            entity::Column::LockedUntil,
            Expr::value(None::<DateTime<Utc>>),
        )
        .filter(entity::Column::Id.eq(id))
        .exec(&tx.tx)
        .await?;
    tx.commit().await
}

/// The error as stored for operators: the database's own message where there is one (the
/// jobs table is never shown to a client), cut to a sane length.
fn describe(e: &Error) -> String {
    let s = match e {
        Error::Db(db) => db.to_string(),
        other => other.to_string(),
    };
    s.chars().take(1000).collect()
}

/// Logs, once per kind, due jobs that no handler runs (a handler not wired, or a job left by a
/// newer version).
async fn log_unknown(
    db: &Db,
    now: DateTime<Utc>,
    kinds: &[&str],
    handlers: &Handlers,
) -> Result<()> {
    let tx = PlatformTx::begin(db).await?;
    let found: Vec<String> = entity::Entity::find()
        .select_only()
        .column(entity::Column::Kind)
        .distinct()
        .filter(entity::Column::DueAt.lte(now))
        .filter(entity::Column::Kind.is_not_in(kinds.iter().copied()))
        .into_tuple()
        .all(&tx.tx)
        .await?;
    tx.commit().await?;
    if let Ok(mut seen) = handlers.unknown.lock() {
        for kind in found {
            if seen.insert(kind.clone()) {
                tracing::warn!(kind, "due jobs of a kind no handler runs: left in place");
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_an_hour() {
        assert_eq!(backoff(0), Duration::seconds(30));
        assert_eq!(backoff(1), Duration::seconds(60));
        assert_eq!(backoff(5), Duration::seconds(960));
        assert_eq!(backoff(7), Duration::seconds(3600));
        assert_eq!(backoff(u32::MAX), Duration::seconds(3600));
    }
}
