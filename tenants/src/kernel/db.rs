//! The connection pool, and the only doors to it: [`TenantTx`] and [`PlatformTx`].

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement,
    TransactionTrait,
};

use crate::{Error, Result};

#[derive(Clone, Debug)]
pub struct Db {
    pub(crate) conn: DatabaseConnection,
    /// SQL statements run so far (metrics; tests check that a page costs a fixed number).
    statements: Arc<AtomicU64>,
    health: Arc<Health>,
    /// Seals message payloads in the outbox; the gateway sets it from its configuration.
    outbox_key: Option<Arc<crate::outbox::OutboxKey>>,
}

/// When a pooled connection was last found dead. After a database restart every idle connection
/// in the pool is dead; the first failure marks the time, and the pool then drops (instead of
/// handing out) every connection opened before it, so a retry gets a fresh one.
#[derive(Debug)]
struct Health {
    start: Instant,
    /// Milliseconds after `start` of the last failure, plus one (0: none yet).
    last_failure: AtomicU64,
}

impl Default for Health {
    fn default() -> Self {
        Self {
            start: Instant::now(),
            last_failure: AtomicU64::new(0),
        }
    }
}

impl Health {
    fn failed(&self) {
        let now = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_failure
            .fetch_max(now.saturating_add(1), Ordering::Relaxed);
    }

    /// Whether a connection of this age was opened before the last failure.
    fn predates_failure(&self, age: Duration) -> bool {
        let last = self.last_failure.load(Ordering::Relaxed);
        if last == 0 {
            return false;
        }
        let since = self
            .start
            .elapsed()
            .saturating_sub(Duration::from_millis(last - 1));
        age > since
    }
}

/// How long a pool waits for a connection (a free one, or a new one when the database is
/// restarting) before the request is answered `UNAVAILABLE`.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);
/// Readiness answers within this, reachable or not.
const PING_TIMEOUT: Duration = Duration::from_secs(1);

/// What the server's PostgreSQL role may do; it must be able to do none of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleAudit {
    pub role: String,
    pub superuser: bool,
    pub bypass_rls: bool,
    pub owned_tables: Vec<String>,
    /// Roles with superuser or BYPASSRLS that this role may SET ROLE to.
    pub can_become: Vec<String>,
}

impl RoleAudit {
    pub fn is_safe(&self) -> bool {
        !self.superuser
            && !self.bypass_rls
            && self.owned_tables.is_empty()
            && self.can_become.is_empty()
    }
}

impl Db {
    /// Connects the server's pool. SQLite gets one connection: the embedded default serves one
    /// writer at a time anyway, and a single connection never meets `SQLITE_BUSY`. (A request
    /// therefore never uses the pool beside its own transaction: see `RequestScope::platform_db`.)
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self> {
        Self::connect_with(url, max_connections, false).await
    }

    /// Connects with PostgreSQL's notices turned off (`client_min_messages = warning`): for
    /// migrations, whose `IF NOT EXISTS` statements would otherwise log a notice on every run.
    pub async fn connect_quiet(url: &str, max_connections: u32) -> Result<Self> {
        Self::connect_with(url, max_connections, true).await
    }

    async fn connect_with(url: &str, max_connections: u32, quiet: bool) -> Result<Self> {
        let health = Arc::new(Health::default());
        let mut opts = ConnectOptions::new(url.to_owned());
        opts.sqlx_logging(false)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_timeout(ACQUIRE_TIMEOUT);
        if url.starts_with("sqlite:") {
            opts.max_connections(1)
                .min_connections(1)
                .map_sqlx_sqlite_opts(|o| {
                    o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                        .foreign_keys(true)
                });
        } else {
            if quiet {
                opts.map_sqlx_postgres_opts(|o| o.options([("client_min_messages", "warning")]));
            }
            let h = health.clone();
            opts.max_connections(max_connections)
                .min_connections(1)
                .test_before_acquire(false)
                .map_sqlx_postgres_before_acquire(move |_conn, meta| {
                    let stale = h.predates_failure(meta.age);
                    Box::pin(async move { Ok(!stale) })
                });
        }
        let mut conn = Database::connect(opts).await?;
        let statements = Arc::new(AtomicU64::new(0));
        let counter = statements.clone();
        conn.set_metric_callback(move |_| {
            counter.fetch_add(1, Ordering::Relaxed);
        });
        Ok(Self {
            conn,
            statements,
            health,
            outbox_key: None,
        })
    }

    /// Notes that a pooled connection was found dead: connections opened before now are
    /// dropped as they come out of the pool.
    pub(crate) fn connection_failed(&self) {
        self.health.failed();
    }

    /// SQL statements run through this pool so far.
    pub fn statements_run(&self) -> u64 {
        self.statements.load(Ordering::Relaxed)
    }

    /// A transaction; IMMEDIATE on SQLite, so it holds the write lock from its first statement.
    pub(crate) async fn begin(
        &self,
    ) -> std::result::Result<sea_orm::DatabaseTransaction, sea_orm::DbErr> {
        let mut o = sea_orm::TransactionOptions::default();
        if self.backend() == DbBackend::Sqlite {
            o.sqlite_transaction_mode = Some(sea_orm::SqliteTransactionMode::Immediate);
        }
        self.conn.begin_with_options(o).await
    }

    /// The raw connection, for migrations only: everything else goes through a transaction.
    pub fn connection(&self) -> &DatabaseConnection {
        &self.conn
    }

    pub fn from_connection(conn: DatabaseConnection) -> Self {
        Self {
            conn,
            statements: Arc::default(),
            health: Arc::default(),
            outbox_key: None,
        }
    }

    /// The key that seals and opens outbox messages (`SPACES_OUTBOX_KEY`).
    pub fn with_outbox_key(mut self, key: crate::outbox::OutboxKey) -> Self {
        self.outbox_key = Some(Arc::new(key));
        self
    }

    pub(crate) fn outbox_key(&self) -> Option<Arc<crate::outbox::OutboxKey>> {
        self.outbox_key.clone()
    }

    pub fn backend(&self) -> DbBackend {
        self.conn.get_database_backend()
    }

    pub fn is_postgres(&self) -> bool {
        self.backend() == DbBackend::Postgres
    }

    /// Readiness: one round trip, answered within a second. A failed ping marks the pool's
    /// connections stale, so the next one opens a fresh connection: readiness comes back with
    /// the first probe after the database does, and the pool's own back-off never delays it.
    pub async fn ping(&self) -> Result<()> {
        match tokio::time::timeout(PING_TIMEOUT, self.conn.ping()).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => {
                self.connection_failed();
                Err(Error::from(e))
            }
            Err(_) => {
                self.connection_failed();
                Err(Error::Unavailable {
                    retry_after_secs: crate::kernel::error::DB_RETRY_AFTER_SECS,
                })
            }
        }
    }

    /// Pool use, for metrics: (connections open, of which idle).
    pub fn pool_state(&self) -> (u32, u32) {
        match self.backend() {
            DbBackend::Postgres => {
                let pool = self.conn.get_postgres_connection_pool();
                (pool.size(), pool.num_idle() as u32)
            }
            DbBackend::Sqlite => {
                let pool = self.conn.get_sqlite_connection_pool();
                (pool.size(), pool.num_idle() as u32)
            }
            _ => (0, 0),
        }
    }

    pub async fn close(self) {
        let _ = self.conn.close().await;
    }

    /// On PostgreSQL, what the connected role could do to get around row-level security.
    pub async fn audit_role(&self) -> Result<Option<RoleAudit>> {
        if !self.is_postgres() {
            return Ok(None);
        }
        let row = self
            .conn
            .query_one_raw(Statement::from_string(
                DbBackend::Postgres,
                "SELECT current_user::text AS role, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user",
            ))
            .await?
            .ok_or_else(|| Error::Internal("current role not in pg_roles".into()))?;
        let owned = self
            .conn
            .query_all_raw(Statement::from_string(
                DbBackend::Postgres,
                "SELECT schemaname || '.' || tablename AS t FROM pg_tables \
                 WHERE pg_has_role(current_user, tableowner, 'USAGE') AND schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1",
            ))
            .await?;
        let can_become = self
            .conn
            .query_all_raw(Statement::from_string(
                DbBackend::Postgres,
                "SELECT rolname::text AS r FROM pg_roles WHERE (rolsuper OR rolbypassrls) \
                 AND rolname <> current_user AND pg_has_role(current_user, oid, 'MEMBER') ORDER BY 1",
            ))
            .await?;
        Ok(Some(RoleAudit {
            role: row.try_get("", "role")?,
            superuser: row.try_get("", "rolsuper")?,
            bypass_rls: row.try_get("", "rolbypassrls")?,
            can_become: can_become
                .iter()
                .map(|r| r.try_get("", "r"))
                .collect::<Result<_, _>>()?,
            owned_tables: owned
                .iter()
                .map(|r| r.try_get("", "t"))
                .collect::<Result<_, _>>()?,
        }))
    }
}
