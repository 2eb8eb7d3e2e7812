//! Building the application from its configuration, and its router.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use axum::Router;
use axum::http::{HeaderName, HeaderValue, Method, Request};
use axum::routing::get;
use redis::aio::ConnectionManager;
use spaces_graphql::{Deps, SpacesSchema, build_schema};
use spaces_migrations::MigratorTrait;
use spaces_tenants::Db;
use spaces_tenants::auth::limiter::AttemptLimiter;
use spaces_tenants::auth::password::Hasher;
use spaces_tenants::auth::tokens::Keys;
use tower_http::LatencyUnit;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};

use crate::config::Config;
use crate::limiter::{FallbackLimiter, MemoryLimiter};
use crate::metrics::Metrics;
use crate::{graphiql, mailer, pages, routes, webhooks};

/// How long a space read to route a request is reused. A change made through this process shows
/// at once; one made through another process serving the same database, within this.
const SPACE_CACHE_TTL: Duration = Duration::from_secs(5);

pub struct AppState {
    pub config: Config,
    pub deps: Arc<Deps>,
    pub schema: SpacesSchema,
    pub metrics: Metrics,
    pub redis: Option<ConnectionManager>,
    /// Live progress: published after statements commit, heard by subscriptions.
    pub live: Arc<crate::live::Live>,
    pub smtp: Option<mailer::Smtp>,
    /// Scheduled work's handlers, by kind (billing registers its own).
    pub jobs: Arc<spaces_tenants::jobs::Handlers>,
    /// The payment provider (Stripe), when it is configured.
    pub payments: Option<Arc<dyn spaces_billing::payments::provider::PaymentProvider>>,
}

pub struct App {
    pub state: Arc<AppState>,
}

/// Runs the migrations as the database owner (on SQLite, the one connection there is).
pub async fn migrate(url: &str) -> anyhow::Result<()> {
    // Quiet: sea-orm-migration runs CREATE TABLE IF NOT EXISTS on every run, and PostgreSQL's
    // notice about the existing table ("relation seaql_migrations already exists") would be
    // logged at INFO by every command.
    let db = Db::connect_quiet(url, 2)
        .await
        .context("connecting to the database to migrate")?;
    spaces_migrations::Migrator::up(db.connection(), None)
        .await
        .context("running migrations")?;
    db.close().await;
    Ok(())
}

/// Writes a new private key readable by its owner only (mode 0600), never over an existing file.
fn write_private_key(path: &std::path::Path, pem: &str) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    f.write_all(pem.as_bytes())
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

fn load_keys(config: &Config) -> anyhow::Result<Keys> {
    let path = match &config.signing_key_file {
        Some(p) => p.clone(),
        None => {
            let p = config.data_dir.join("signing-key.pem");
            if !p.exists() {
                std::fs::create_dir_all(&config.data_dir)
                    .with_context(|| format!("creating {}", config.data_dir.display()))?;
                write_private_key(&p, &Keys::generate_pem()?)?;
            }
            tracing::warn!(path = %p.display(), "using a development signing key generated into the data directory; set SPACES_SIGNING_KEY_FILE in production");
            p
        }
    };
    let pem = std::fs::read_to_string(&path)
        .with_context(|| format!("reading the signing key {}", path.display()))?;
    let mut keys = Keys::from_pem(&pem, &config.issuer, "spaces-api", config.access_token_ttl)
        .with_context(|| format!("the signing key {}", path.display()))?;
    for prev in &config.previous_signing_key_files {
        let pem = std::fs::read_to_string(prev)
            .with_context(|| format!("reading the previous signing key {}", prev.display()))?;
        keys = keys
            .with_previous_pem(&pem)
            .with_context(|| format!("the previous signing key {}", prev.display()))?;
    }
    Ok(keys)
}

/// The voucher code key: the configured file, or one generated into the data directory.
fn load_voucher_key(config: &Config) -> anyhow::Result<spaces_billing::vouchers::VoucherKey> {
    use spaces_billing::vouchers::VoucherKey;
    let path = match &config.voucher_key_file {
        Some(p) => p.clone(),
        // Every gateway must hash codes under one key, or a code issued through one is
        // unknown to the others: no per-machine key where gateways share a database.
        None if !config.is_sqlite() => anyhow::bail!(
            "SPACES_VOUCHER_KEY_FILE is required on PostgreSQL (a file holding 64 hex digits, \
             the same on every gateway: `openssl rand -hex 32 > voucher.key`)"
        ),
        None => {
            let p = config.data_dir.join("voucher-key.hex");
            if !p.exists() {
                std::fs::create_dir_all(&config.data_dir)
                    .with_context(|| format!("creating {}", config.data_dir.display()))?;
                let key = VoucherKey::generate().context("drawing a voucher key")?;
                write_private_key(&p, &key.to_hex())?;
            }
            tracing::warn!(path = %p.display(), "using a development voucher key generated into the data directory; set SPACES_VOUCHER_KEY_FILE in production");
            p
        }
    };
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("reading the voucher key {}", path.display()))?;
    VoucherKey::from_hex(&text).with_context(|| {
        format!(
            "the voucher key {} must hold 64 hex digits (32 bytes)",
            path.display()
        )
    })
}

impl App {
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let hasher = Hasher::global(config.hash_slots, config.hash_queue);
        Self::build_with_hasher(config, hasher).await
    }

    /// As [`App::build`], with the given hashing slots instead of the process's pool (tests run
    /// many servers in one process, each with slots of its own).
    pub async fn build_with_hasher(config: Config, hasher: Hasher) -> anyhow::Result<Self> {
        if !spaces_tenants::APPLICATION_WALL {
            if config.is_sqlite() {
                bail!(
                    "refusing to start: this is the rls-only test build, and SQLite has no row-level security"
                );
            }
            tracing::error!(
                "rls-only test build: the application's tenant filter is off; PostgreSQL RLS alone isolates tenants"
            );
        }
        if config.is_sqlite() {
            std::fs::create_dir_all(&config.data_dir)
                .with_context(|| format!("creating {}", config.data_dir.display()))?;
            migrate(&config.database_url).await?;
        } else if let Some(owner) = &config.database_owner_url {
            migrate(owner).await?;
        }
        let db = Db::connect(&config.database_url, config.db_max_connections)
            .await
            .with_context(|| {
                format!(
                    "connecting to {}",
                    crate::config::redact(&config.database_url)
                )
            })?;
        if let Some(audit) = db.audit_role().await?
            && !audit.is_safe()
        {
            bail!(
                "refusing to start: the database role {:?} could get around row-level security \
                 (superuser: {}, bypassrls: {}, owns tables: {:?}, can become: {:?}). Connect the \
                 server as a role that owns nothing and is a member of {} (see README, PostgreSQL).",
                audit.role,
                audit.superuser,
                audit.bypass_rls,
                audit.owned_tables,
                audit.can_become,
                spaces_migrations::APP_ROLE
            );
        }
        let db = db.with_outbox_key(mailer::outbox_key(&config)?);
        let keys = Arc::new(load_keys(&config)?);
        let metrics = Metrics::default();
        let (redis, limiter, live): (
            Option<ConnectionManager>,
            Arc<dyn AttemptLimiter>,
            crate::live::Live,
        ) = match &config.redis_url {
            Some(url) => {
                let client = redis::Client::open(url.as_str())
                    .context("SPACES_REDIS_URL is not a Redis URL")?;
                let conn = tokio::time::timeout(
                    Duration::from_secs(10),
                    ConnectionManager::new(client.clone()),
                )
                .await
                .context("connecting to Redis timed out")?
                .with_context(|| {
                    format!("connecting to Redis at {}", crate::config::redact(url))
                })?;
                let live = tokio::time::timeout(
                    Duration::from_secs(10),
                    crate::live::Live::redis(config.live_buffer, client, conn.clone()),
                )
                .await
                .context("subscribing to Redis for live progress timed out")?
                .context("subscribing to Redis for live progress")?;
                (
                    Some(conn.clone()),
                    Arc::new(FallbackLimiter::new(conn, &metrics)),
                    live,
                )
            }
            None => (
                None,
                Arc::new(MemoryLimiter::default()),
                crate::live::Live::local(config.live_buffer),
            ),
        };
        let live = Arc::new(live);
        let refresh_ttl = chrono::Duration::from_std(config.refresh_token_ttl)
            .context("SPACES_REFRESH_TOKEN_TTL_SECS")?;
        spaces_billing::invoices::seller::configure(config.seller.clone());
        let clock = spaces_tenants::Clock::system();
        let voucher_key = load_voucher_key(&config)?;
        let payments = crate::webhooks::provider(&config)?;
        // Billing decides seats, prices, vouchers and withdrawals on the same clock as the rest.
        let mut gate = spaces_billing::gate::BillingGate::new(
            clock.clone(),
            match &config.edition_vat_exempt_mention {
                Some(mention) => spaces_billing::invoices::Vat::Exempt {
                    mention: mention.clone(),
                },
                None => spaces_billing::invoices::Vat::Rate {
                    basis_points: config.edition_vat_basis_points,
                },
            },
            voucher_key.clone(),
        );
        // Learners can be left something to pay only where the provider can open a checkout.
        let learner_checkout = match (&payments, &config.stripe_api_key) {
            (Some(provider), Some(_)) => Some(spaces_billing::vouchers::payment::LearnerCheckout {
                provider: provider.clone(),
                links: spaces_tenants::spaces::Links::new(
                    &config.public_url_template,
                    &config.base_domain,
                )?,
            }),
            _ => None,
        };
        if let Some(c) = &learner_checkout {
            gate = gate.with_learner_checkout(c.clone());
        }
        let deps = Arc::new(Deps {
            db,
            keys,
            limiter,
            hasher,
            refresh_ttl,
            base_domain: config.base_domain.clone(),
            spaces: spaces_tenants::spaces::Directory::new(SPACE_CACHE_TTL),
            links: spaces_tenants::spaces::Links::new(
                &config.public_url_template,
                &config.base_domain,
            )?,
            // Billing decides seats, prices and withdrawals on the same clock as the rest.
            admission: Arc::new(gate),
            clock,
            voucher_key,
            live: live.clone(),
        });
        let credential_jobs = spaces_tenants::credentials::issue::CredentialJobs {
            links: deps.links.clone(),
        };
        let schema = build_schema(config.introspection);
        let smtp = config
            .smtp_url
            .as_deref()
            .map(mailer::Smtp::new)
            .transpose()?;
        Ok(Self {
            state: Arc::new(AppState {
                config,
                deps,
                schema,
                metrics,
                redis,
                live,
                smtp,
                jobs: Arc::new(spaces_tenants::jobs::Handlers::new(vec![
                    Arc::new(spaces_billing::jobs::BillingJobs { learner_checkout }),
                    Arc::new(credential_jobs),
                ])),
                payments,
            }),
        })
    }

    pub fn router(&self) -> Router {
        let state = self.state.clone();
        let x_request_id = HeaderName::from_static("x-request-id");
        let mut router = Router::new()
            .route("/graphql", get(routes::graphql_get).post(routes::graphql))
            .route(
                &format!("{}/{{file}}", graphiql::PREFIX),
                get(graphiql::asset),
            )
            .route("/invoices/{file}", get(crate::invoice_files::download))
            .route("/healthz", get(routes::healthz))
            .route("/readyz", get(routes::readyz))
            .route("/metrics", get(routes::metrics))
            .route("/.well-known/jwks.json", get(routes::jwks))
            .route("/webhooks/stripe", axum::routing::post(webhooks::stripe))
            .merge(pages::router())
            .merge(crate::xapi::router())
            .merge(crate::credentials::router())
            .with_state(state.clone());
        if !state.config.cors_origins.is_empty() {
            let origins: Vec<HeaderValue> = state
                .config
                .cors_origins
                .iter()
                .filter_map(|o| o.parse().ok())
                .collect();
            router = router.layer(
                CorsLayer::new()
                    .allow_origin(AllowOrigin::list(origins))
                    .allow_methods([Method::GET, Method::POST])
                    .allow_headers([
                        axum::http::header::AUTHORIZATION,
                        axum::http::header::CONTENT_TYPE,
                        HeaderName::from_static("x-tenant"),
                        HeaderName::from_static(crate::idempotency::HEADER),
                    ])
                    .expose_headers([HeaderName::from_static(crate::idempotency::REPLAYED)]),
            );
        }
        router
            .layer(PropagateRequestIdLayer::new(x_request_id.clone()))
            .layer(TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
                let rid = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("");
                tracing::info_span!("request", request_id = %rid, method = %req.method(), path = %req.uri().path(), tenant = tracing::field::Empty)
            })
            // One line per request at INFO, carrying the span's request id and tenant.
            .on_response(DefaultOnResponse::new().level(tracing::Level::INFO).latency_unit(LatencyUnit::Micros)))
            .layer(SetRequestIdLayer::new(x_request_id, MakeRequestUuid))
            // Times the response, body reading included; a WebSocket, once upgraded, lives on
            // outside it.
            .layer(TimeoutLayer::with_status_code(
                axum::http::StatusCode::REQUEST_TIMEOUT,
                state.config.request_timeout,
            ))
            // Outermost, so that every /xapi answer names its version, a timeout's too.
            .layer(axum::middleware::from_fn(crate::xapi::version_header))
    }

    /// Serves until `shutdown` resolves, then finishes the requests in flight. Connections are
    /// capped and slow clients cannot hold them (see [`crate::server`]).
    pub async fn serve(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let worker = mailer::spawn_outbox_worker(self.state.clone());
        let jobs = crate::jobs::spawn_jobs_worker(self.state.clone());
        let purge = crate::idempotency::spawn_purge(self.state.clone());
        let live = self.state.live.spawn_listener().await;
        let router = self.router();
        crate::server::serve(listener, router, &self.state.config, shutdown).await;
        worker.abort();
        purge.abort();
        if let Some(live) = live {
            live.abort();
        }
        if let Some(jobs) = jobs {
            jobs.abort();
        }
        Ok(())
    }
}
