use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use serde_json::{Value, json};
use spaces_gateway::{App, Config};
use tokio::sync::{OnceCell, oneshot};

use crate::pg::PgCluster;
use crate::redis_server::RedisServer;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// The embedded default: SQLite, in-process limits.
    Sqlite,
    /// PostgreSQL with row-level security, and Redis.
    Postgres,
}

/// One PostgreSQL cluster and one Redis server per test binary; a migrated template database
/// that each test clones in milliseconds.
pub struct Shared {
    pub pg: PgCluster,
    pub redis: RedisServer,
}

pub const TEMPLATE_DB: &str = "spaces_template";
pub const SERVER_ROLE: &str = "spaces_server";
pub const SERVER_PASSWORD: &str = "server-password";
/// 32 bytes in base64, for the PostgreSQL tests' gateways.
pub const TEST_OUTBOX_KEY: &str = "c3BhY2VzLXRlc3RzLW91dGJveC1rZXktMzItYnl0ZXM=";
/// Voucher codes hash under this key on PostgreSQL (required there, as in production).
pub const TEST_VOUCHER_KEY: &str =
    "7370616365732d74657374732d766f75636865722d6b65792d33322d62797465";

static SHARED: OnceCell<Arc<Shared>> = OnceCell::const_new();

pub async fn shared() -> Arc<Shared> {
    SHARED
        .get_or_init(|| async {
            let (pg, redis) = tokio::task::spawn_blocking(|| {
                let pg = PgCluster::start().expect("starting PostgreSQL for the tests");
                let redis = RedisServer::start().expect("starting Redis for the tests");
                (pg, redis)
            })
            .await
            .unwrap();
            pg.create_database(TEMPLATE_DB, None, None).unwrap();
            spaces_gateway::app::migrate(&pg.url("owner", None, TEMPLATE_DB)).await.expect("migrating the template");
            pg.psql(
                "postgres",
                &format!(
                    "CREATE ROLE {SERVER_ROLE} LOGIN PASSWORD '{SERVER_PASSWORD}' NOSUPERUSER NOBYPASSRLS IN ROLE {}",
                    spaces_migrations::APP_ROLE
                ),
            )
            .unwrap();
            Arc::new(Shared { pg, redis })
        })
        .await
        .clone()
}

pub struct TestApp {
    pub base: String,
    pub backend: Backend,
    pub client: reqwest::Client,
    pub data_dir: PathBuf,
    /// PostgreSQL only: the test's own database name, for owner-side probes.
    pub database: Option<String>,
    pub state: Arc<spaces_gateway::app::AppState>,
    shutdown: Option<oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

fn fresh_dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("spaces-test-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

impl TestApp {
    pub async fn start(backend: Backend) -> TestApp {
        Self::start_with(backend, |_| {}).await
    }

    pub async fn start_with(backend: Backend, tweak: impl FnOnce(&mut Config)) -> TestApp {
        Self::start_with_hasher(backend, tweak, None).await
    }

    /// As `start_with`; every server gets hashing slots of its own (`hasher`, or ones sized by
    /// its configuration), so a test that parks them holds up no other test.
    pub async fn start_with_hasher(
        backend: Backend,
        tweak: impl FnOnce(&mut Config),
        hasher: Option<spaces_tenants::auth::password::Hasher>,
    ) -> TestApp {
        Self::start_inner(backend, tweak, hasher, None).await
    }

    /// As `start_with`, with `gate` in place of billing's admission gate (the billing bench
    /// compares enrolment with and without it, e.g. `enrolments::NoGate`).
    pub async fn start_with_gate(
        backend: Backend,
        tweak: impl FnOnce(&mut Config),
        gate: Arc<dyn spaces_tenants::enrolments::AdmissionGate>,
    ) -> TestApp {
        Self::start_inner(backend, tweak, None, Some(gate)).await
    }

    async fn start_inner(
        backend: Backend,
        tweak: impl FnOnce(&mut Config),
        hasher: Option<spaces_tenants::auth::password::Hasher>,
        gate: Option<Arc<dyn spaces_tenants::enrolments::AdmissionGate>>,
    ) -> TestApp {
        // Logs go to the test's captured output, shown when a test fails (see `logs`).
        crate::logs::init();
        let data_dir = fresh_dir();
        let mut config = Config::from_lookup(&|_| None).unwrap();
        config.addr = "127.0.0.1:0".parse().unwrap();
        config.data_dir = data_dir.clone();
        config.database_url = format!("sqlite://{}?mode=rwc", data_dir.join("spaces.db").display());
        config.base_domain = "spaces.test".into();
        config.outbox_interval = std::time::Duration::from_millis(200);
        let mut database = None;
        if backend == Backend::Postgres {
            let s = shared().await;
            let name = format!("t_{}", uuid::Uuid::now_v7().simple());
            let pg_name = name.clone();
            let s2 = s.clone();
            tokio::task::spawn_blocking(move || {
                s2.pg.create_database(&pg_name, Some(TEMPLATE_DB), None)
            })
            .await
            .unwrap()
            .unwrap();
            config.database_url = s.pg.url(SERVER_ROLE, Some(SERVER_PASSWORD), &name);
            config.db_max_connections = 8;
            config.redis_url = Some(s.redis.url());
            // Required on PostgreSQL (the embedded setup generates one).
            config.outbox_key = Some(TEST_OUTBOX_KEY.into());
            let voucher_key = data_dir.join("voucher.key");
            std::fs::write(&voucher_key, TEST_VOUCHER_KEY).unwrap();
            config.voucher_key_file = Some(voucher_key);
            database = Some(name);
        }
        tweak(&mut config);
        let hasher = hasher.unwrap_or_else(|| {
            spaces_tenants::auth::password::Hasher::new(
                config.hash_slots,
                config.hash_queue,
                spaces_tenants::auth::password::MAX_WAIT,
            )
        });
        let mut app = App::build_with_hasher(config, hasher)
            .await
            .context("building the app")
            .unwrap();
        if let Some(gate) = gate {
            // Nothing else holds the state before `serve`, so it can still be changed in place.
            let deps = Arc::get_mut(&mut app.state)
                .and_then(|s| Arc::get_mut(&mut s.deps))
                .expect("the app's state is not shared before serve");
            deps.admission = gate;
        }
        let state = app.state.clone();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = oneshot::channel::<()>();
        let handle = tokio::spawn(app.serve(listener, async {
            let _ = rx.await;
        }));
        TestApp {
            base: format!("http://{addr}"),
            backend,
            client: reqwest::Client::new(),
            data_dir,
            database,
            state,
            shutdown: Some(tx),
            handle: Some(handle),
        }
    }

    /// A second gateway beside this one (PostgreSQL): the same database, Redis and signing
    /// key, so a token of one is good on the other.
    pub async fn beside(&self) -> TestApp {
        let url = self.server_url().await;
        let key = self.data_dir.join("signing-key.pem");
        let mut app = Self::start_with(Backend::Postgres, move |c| {
            c.database_url = url;
            c.signing_key_file = Some(key);
        })
        .await;
        app.database.clone_from(&self.database);
        app
    }

    /// A POST to /graphql addressed to a space by `X-Tenant` (or to the platform), with a token.
    pub async fn gql(
        &self,
        tenant: Option<&str>,
        token: Option<&str>,
        query: &str,
        variables: Value,
    ) -> Value {
        let mut req = self
            .client
            .post(format!("{}/graphql", self.base))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(t) = tenant {
            req = req.header("X-Tenant", t);
        }
        if let Some(t) = token {
            req = req.header("Authorization", format!("Bearer {t}"));
        }
        req.send().await.unwrap().json().await.unwrap()
    }

    /// Same, addressed by `Host`.
    pub async fn gql_host(
        &self,
        host: &str,
        token: Option<&str>,
        query: &str,
        variables: Value,
    ) -> Value {
        let mut req = self
            .client
            .post(format!("{}/graphql", self.base))
            .header("Host", host)
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(t) = token {
            req = req.header("Authorization", format!("Bearer {t}"));
        }
        req.send().await.unwrap().json().await.unwrap()
    }

    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.handle.take() {
            h.await.unwrap().unwrap();
        }
    }

    /// Runs SQL as the database owner (PostgreSQL) and returns psql's unaligned output.
    pub async fn owner_sql(&self, sql: &str) -> String {
        let db = self
            .database
            .clone()
            .expect("owner_sql needs the PostgreSQL backend");
        let s = shared().await;
        let sql = sql.to_owned();
        tokio::task::spawn_blocking(move || s.pg.psql(&db, &sql))
            .await
            .unwrap()
            .unwrap()
    }

    /// A connection that owns the tables (migrations' view, no RLS): the database owner on
    /// PostgreSQL, the server's own connection on SQLite.
    pub async fn owner_db(&self) -> sea_orm::DatabaseConnection {
        match &self.database {
            Some(db) => {
                let url = shared().await.pg.url(crate::pg::SUPERUSER, None, db);
                sea_orm::Database::connect(url).await.unwrap()
            }
            None => self.state.deps.db.connection().clone(),
        }
    }

    /// The server role's URL for this test's database (PostgreSQL).
    pub async fn server_url(&self) -> String {
        let s = shared().await;
        s.pg.url(
            SERVER_ROLE,
            Some(SERVER_PASSWORD),
            self.database.as_deref().unwrap(),
        )
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

/// The code of the first error, or "" when there is none.
pub fn code(v: &Value) -> String {
    v["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("")
        .to_owned()
}

/// The data of an answer that must have no errors.
pub fn ok(v: &Value) -> &Value {
    assert!(v.get("errors").is_none(), "unexpected errors: {v:#}");
    &v["data"]
}

/// Tenant-owned tables, as the migrations create them (the RLS catalog test checks the list).
pub const TENANT_TABLES: &[&str] = &[
    "billing_accounts",
    "charges",
    "credential_keys",
    "credentials",
    "edition_modules",
    "edition_organisations",
    "editions",
    "enrolment_events",
    "enrolment_payments",
    "enrolments",
    "funders",
    "idempotency_keys",
    "invitations",
    "invoice_counters",
    "invoice_lines",
    "invoices",
    "ledger_entries",
    "ledger_transactions",
    "lrs_credentials",
    "module_progress",
    "organisations",
    "outbox",
    "password_resets",
    "pathway_editions",
    "pathways",
    "payments",
    "people",
    "refresh_tokens",
    "registration_settings",
    "registrations",
    "role_grants",
    "space_logos",
    "subscriptions",
    "tenant_domains",
    "voucher_batches",
    "voucher_redemptions",
    "vouchers",
    "xapi_activities",
    "xapi_agents",
    "xapi_attachments",
    "xapi_documents",
    "xapi_statement_keys",
    "xapi_statements",
    "xapi_unmatched",
];

/// Platform tables whose rows name a space but belong to none (no RLS: a worker reads across
/// spaces, then works inside each through its `TenantTx`).
pub const PLATFORM_TABLES_NAMING_A_TENANT: &[&str] = &["jobs"];

impl TestApp {
    /// Every row a tenant owns, table by table, read below the application (as the database
    /// owner on PostgreSQL, from the file on SQLite): what "nothing changed" is checked against.
    pub async fn dump_tenant(
        &self,
        tenant: &str,
    ) -> std::collections::BTreeMap<&'static str, Vec<Value>> {
        use sea_orm::{DbBackend, FromQueryResult, Statement};
        let tenant = uuid::Uuid::parse_str(tenant).unwrap();
        let conn = self.owner_conn().await;
        let backend = conn.get_database_backend();
        let mark = if backend == DbBackend::Postgres {
            "$1"
        } else {
            "?"
        };
        let mut out = std::collections::BTreeMap::new();
        for t in TENANT_TABLES {
            let key = if *t == "tenant_domains" {
                "domain"
            } else {
                "id"
            };
            let stmt = Statement::from_sql_and_values(
                backend,
                format!("SELECT * FROM {t} WHERE tenant_id = {mark} ORDER BY {key}"),
                [tenant.into()],
            );
            out.insert(*t, Value::find_by_statement(stmt).all(&conn).await.unwrap());
        }
        conn.close().await.unwrap();
        out
    }

    /// A connection that sees every row: the owner on PostgreSQL, the file on SQLite (read
    /// only).
    async fn owner_conn(&self) -> sea_orm::DatabaseConnection {
        use sea_orm::Database;
        match self.backend {
            Backend::Sqlite => Database::connect(format!(
                "sqlite://{}?mode=ro",
                self.data_dir.join("spaces.db").display()
            ))
            .await
            .unwrap(),
            Backend::Postgres => {
                let s = shared().await;
                Database::connect(s.pg.url("owner", None, self.database.as_deref().unwrap()))
                    .await
                    .unwrap()
            }
        }
    }

    /// The payloads of the space's jobs of one kind, on either backend.
    pub async fn jobs_of(&self, tenant: &str, kind: &str) -> Vec<Value> {
        use sea_orm::{DbBackend, FromQueryResult, Statement};
        let conn = self.owner_conn().await;
        let backend = conn.get_database_backend();
        let sql = if backend == DbBackend::Postgres {
            "SELECT payload FROM jobs WHERE tenant_id = $1 AND kind = $2 ORDER BY id"
        } else {
            "SELECT payload FROM jobs WHERE tenant_id = ? AND kind = ? ORDER BY id"
        };
        let tenant = uuid::Uuid::parse_str(tenant).unwrap();
        let stmt = Statement::from_sql_and_values(backend, sql, [tenant.into(), kind.into()]);
        let rows = Value::find_by_statement(stmt).all(&conn).await.unwrap();
        conn.close().await.unwrap();
        rows.into_iter()
            .map(|r| match &r["payload"] {
                Value::String(s) => serde_json::from_str(s).unwrap(),
                v => v.clone(),
            })
            .collect()
    }
}

impl TestApp {
    /// A GraphQL multipart upload (the multipart request spec): `file` goes to `variables.file`.
    pub async fn upload(
        &self,
        tenant: &str,
        token: &str,
        query: &str,
        mut variables: Value,
        file_name: &str,
        file: Vec<u8>,
    ) -> (u16, Value) {
        variables["file"] = Value::Null;
        let operations = json!({ "query": query, "variables": variables });
        let form = reqwest::multipart::Form::new()
            .text("operations", operations.to_string())
            .text("map", json!({ "0": ["variables.file"] }).to_string())
            .part(
                "0",
                reqwest::multipart::Part::bytes(file)
                    .file_name(file_name.to_owned())
                    .mime_str("text/csv")
                    .unwrap(),
            );
        let r = self
            .client
            .post(format!("{}/graphql", self.base))
            .header("X-Tenant", tenant)
            .header("Authorization", format!("Bearer {token}"))
            .multipart(form)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }
}
