//! One transaction per request, bound to one tenant before its first statement.

use sea_orm::{ConnectionTrait, DatabaseTransaction, DbBackend, Statement, TransactionTrait};

use crate::kernel::error::is_connection_error;
use crate::{Db, Result, TenantId};

/// Whether a failed `begin` is worth one more try: the pooled connection it got was dead (the
/// database restarted since it was opened). Nothing has run yet, so a retry is safe, and the pool
/// then hands out only connections opened after the failure. Waiting for a connection that never
/// came is not retried: that would only double the wait.
fn retry_begin(db: &Db, e: &sea_orm::DbErr, attempt: u32) -> bool {
    let retry = attempt == 0
        && is_connection_error(e)
        && !matches!(e, sea_orm::DbErr::ConnectionAcquire(_));
    if retry {
        db.connection_failed();
        tracing::info!(error = %e, "a pooled connection was dead; retrying on a fresh one");
    }
    retry
}

/// A transaction inside one tenant. On PostgreSQL its first statement sets `app.tenant_id`
/// with `is_local = true`, so row-level security scopes everything in it and the setting dies
/// with the transaction: a pooled connection carries nothing over.
pub struct TenantTx {
    pub(crate) tx: DatabaseTransaction,
    tenant: TenantId,
    outbox_key: Option<std::sync::Arc<crate::outbox::OutboxKey>>,
}

impl TenantTx {
    pub async fn begin(db: &Db, tenant: TenantId) -> Result<Self> {
        let mut attempt = 0;
        loop {
            match Self::begin_once(db, tenant).await {
                Err(e) if retry_begin(db, &e, attempt) => attempt += 1,
                r => return Ok(r?),
            }
        }
    }

    async fn begin_once(db: &Db, tenant: TenantId) -> Result<Self, sea_orm::DbErr> {
        let tx = db.begin().await?;
        if tx.get_database_backend() == DbBackend::Postgres {
            tx.execute_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT set_config('app.tenant_id', $1, true)",
                [tenant.uuid().to_string().into()],
            ))
            .await?;
        }
        Ok(Self {
            tx,
            tenant,
            outbox_key: db.outbox_key(),
        })
    }

    pub fn tenant(&self) -> TenantId {
        self.tenant
    }

    /// A nested transaction (a savepoint) in the same tenant: one mutation's writes, kept or
    /// undone together without ending the request's transaction.
    pub async fn savepoint(&self) -> Result<TenantTx> {
        Ok(TenantTx {
            tx: self.tx.begin().await?,
            tenant: self.tenant,
            outbox_key: self.outbox_key.clone(),
        })
    }

    /// The key outbox messages are sealed with; a pool built without one cannot queue messages.
    pub(crate) fn outbox_key(&self) -> Result<&crate::outbox::OutboxKey> {
        self.outbox_key
            .as_deref()
            .ok_or_else(|| crate::Error::Internal("no outbox key configured".into()))
    }

    pub(crate) fn tenant_uuid(&self) -> uuid::Uuid {
        self.tenant.uuid()
    }

    pub async fn commit(self) -> Result<()> {
        Ok(self.tx.commit().await?)
    }

    pub async fn rollback(self) -> Result<()> {
        Ok(self.tx.rollback().await?)
    }
}

/// A transaction over platform data only (tenants, domains, operators). Tenant-owned tables are
/// invisible here on PostgreSQL: `app.tenant_id` is unset, so every RLS policy is false.
pub struct PlatformTx {
    pub(crate) tx: DatabaseTransaction,
}

impl PlatformTx {
    /// The transaction, for sibling crates' platform tables (billing's plans, webhook events). Tenant
    /// rows stay out of reach on PostgreSQL: no tenant is set here, so every RLS policy is false.
    pub fn platform_conn(&self) -> &DatabaseTransaction {
        &self.tx
    }

    pub async fn begin(db: &Db) -> Result<Self> {
        let mut attempt = 0;
        loop {
            match db.conn.begin().await {
                Err(e) if retry_begin(db, &e, attempt) => attempt += 1,
                r => return Ok(Self { tx: r? }),
            }
        }
    }

    pub async fn commit(self) -> Result<()> {
        Ok(self.tx.commit().await?)
    }

    pub async fn rollback(self) -> Result<()> {
        Ok(self.tx.rollback().await?)
    }
}
