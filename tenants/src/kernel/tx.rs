//! One transaction per request, bound to one tenant before its first statement.

use sea_orm::{ConnectionTrait, DatabaseTransaction, DbBackend, Statement, TransactionTrait};

use crate::{Db, Result, TenantId};

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
    pub async fn begin(db: &Db) -> Result<Self> {
        Ok(Self {
            tx: db.conn.begin().await?,
        })
    }

    pub async fn commit(self) -> Result<()> {
        Ok(self.tx.commit().await?)
    }

    pub async fn rollback(self) -> Result<()> {
        Ok(self.tx.rollback().await?)
    }
}
