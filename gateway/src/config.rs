//! Configuration from `SPACES_*` environment variables only; the defaults run the embedded
//! setup (SQLite in `./data`, in-process limits, a development signing key).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};

#[derive(Clone)]
pub struct Config {
    pub addr: SocketAddr,
    pub data_dir: PathBuf,
    pub database_url: String,
    /// PostgreSQL: the owner's URL, used only to run migrations.
    pub database_owner_url: Option<String>,
    pub db_max_connections: u32,
    pub redis_url: Option<String>,
    pub base_domain: String,
    pub signing_key_file: Option<PathBuf>,
    pub issuer: String,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    pub cors_origins: Vec<String>,
    pub introspection: bool,
    pub smtp_url: Option<String>,
    pub smtp_from: String,
    pub outbox_interval: Duration,
    // HTTP: the tenant header and connection limits (see README, HTTP).
    /// Whether `X-Tenant` may address a space (local use); production addresses by `Host`.
    pub tenant_header: bool,
    /// Connections served at once; further ones wait in the kernel's backlog.
    pub max_connections: usize,
    /// A client must send a request's headers within this, or the connection is closed.
    pub header_read_timeout: Duration,
    /// A request (body included) must be answered within this, or it gets 408.
    pub request_timeout: Duration,
    // Accounts: links in messages, and the outbox at rest.
    /// `SPACES_PUBLIC_URL_TEMPLATE`: scheme and port of links to the pages, `{host}` standing
    /// for the space's host.
    pub public_url_template: String,
    /// `SPACES_OUTBOX_KEY`: base64 of 32 bytes; required on PostgreSQL, generated into the data
    /// directory on SQLite.
    pub outbox_key: Option<String>,
    // Sign-in and keys (auth area).
    /// Proxies whose `X-Forwarded-For` entries are believed (CIDRs; empty: none).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Keys that verify tokens but no longer sign them, during a rotation.
    pub previous_signing_key_files: Vec<PathBuf>,
    /// Password hashes run at once (default: the machine's cores).
    pub hash_slots: usize,
    /// Password hashes that may wait for a slot; past that, UNAVAILABLE.
    pub hash_queue: usize,
    /// `SPACES_LIVE_BUFFER`: progress events a subscription may fall behind before it is ended.
    pub live_buffer: usize,
    // Scheduled work (jobs area).
    /// `SPACES_JOBS_INTERVAL_SECS`: how often the worker runs due jobs; 0 runs no worker.
    pub jobs_interval: Duration,
    // Invoices: the seller printed on every invoice (`SPACES_SELLER_*`, see README, Invoices).
    /// The platform's legal entity.
    pub seller: spaces_billing::documents::Party,
    // Payments and webhooks (billing, edges).
    /// `SPACES_STRIPE_WEBHOOK_SECRETS`: the endpoint's signing secrets, comma-separated (two
    /// during a rotation); none: `/webhooks/stripe` answers 404.
    pub stripe_webhook_secrets: Vec<String>,
    /// `SPACES_STRIPE_API_KEY`: the secret key for checkouts and refunds.
    pub stripe_api_key: Option<String>,
    /// `SPACES_STRIPE_API_BASE`: where Stripe's API is (tests point it at a fake).
    pub stripe_api_base: String,
    // Seats and priced editions (billing): the VAT of an edition that sets no rate of its own.
    /// `SPACES_EDITION_VAT_BASIS_POINTS` (default 2000 = 20 %).
    pub edition_vat_basis_points: u32,
    /// `SPACES_EDITION_VAT_EXEMPT_MENTION`: when set, such editions are VAT-exempt with this legal
    /// mention instead (a training body under article 261-4-4° a of the French CGI).
    pub edition_vat_exempt_mention: Option<String>,
    // Vouchers: the key of the code hashes.
    /// `SPACES_VOUCHER_KEY_FILE`: 64 hex digits, the HMAC key voucher codes are stored under.
    /// Unset: a key generated into the data directory (development). Losing or changing it
    /// makes every issued code unknown.
    pub voucher_key_file: Option<PathBuf>,
}

impl std::fmt::Debug for Config {
    // Secrets live in URLs (passwords) and files; print neither.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("addr", &self.addr)
            .field("database", &redact(&self.database_url))
            .field("redis", &self.redis_url.as_deref().map(redact))
            .field("base_domain", &self.base_domain)
            .finish_non_exhaustive()
    }
}

/// `scheme://user:secret@host/db` -> `scheme://user:***@host/db`.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            let user = creds.split(':').next().unwrap_or("");
            format!("{}://{user}:***@{}", &url[..s], &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The seller of every invoice from `SPACES_SELLER_*`; each unset part keeps its default.
fn seller(
    var: &dyn Fn(&str) -> Option<String>,
) -> anyhow::Result<spaces_billing::documents::Party> {
    let d = spaces_billing::invoices::seller::default();
    let country = match var("SPACES_SELLER_COUNTRY") {
        Some(c) => spaces_billing::accounts::checks::country("SPACES_SELLER_COUNTRY", &c)
            .map_err(|e| anyhow::anyhow!("{e}"))?,
        None => d.country,
    };
    let vat_number = var("SPACES_SELLER_VAT_NUMBER")
        .map(|v| {
            spaces_billing::accounts::checks::vat_number("SPACES_SELLER_VAT_NUMBER", &v, &country)
        })
        .transpose()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(spaces_billing::documents::Party {
        legal_name: var("SPACES_SELLER_LEGAL_NAME").unwrap_or(d.legal_name),
        address_line: var("SPACES_SELLER_ADDRESS_LINE").unwrap_or(d.address_line),
        postcode: var("SPACES_SELLER_POSTCODE").unwrap_or(d.postcode),
        city: var("SPACES_SELLER_CITY").unwrap_or(d.city),
        country,
        registration_number: var("SPACES_SELLER_REGISTRATION_NUMBER"),
        vat_number,
        email: var("SPACES_SELLER_EMAIL"),
    })
}

fn secs(var: Lookup, name: &str, default: u64) -> anyhow::Result<Duration> {
    match var(name) {
        None => Ok(Duration::from_secs(default)),
        Some(v) => {
            Ok(Duration::from_secs(v.trim().parse().with_context(
                || format!("{name} must be a number of seconds"),
            )?))
        }
    }
}

fn flag(var: Lookup, name: &str, default: bool) -> anyhow::Result<bool> {
    match var(name).as_deref().map(str::trim) {
        None => Ok(default),
        Some("1" | "true" | "yes" | "on") => Ok(true),
        Some("0" | "false" | "no" | "off") => Ok(false),
        Some(other) => bail!("{name} must be true or false, not {other:?}"),
    }
}

/// A comma-separated list; blanks dropped.
fn list(var: Lookup, name: &str) -> Vec<String> {
    var(name)
        .map(|v| {
            v.split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

fn number(var: Lookup, name: &str) -> anyhow::Result<Option<usize>> {
    var(name)
        .map(|v| v.trim().parse())
        .transpose()
        .with_context(|| format!("{name} must be a whole number"))
}

/// A CIDR (`10.0.0.0/8`, `2001:db8::/32`) or a single address.
fn parse_net(s: &str) -> anyhow::Result<ipnet::IpNet> {
    if let Ok(n) = s.parse::<ipnet::IpNet>() {
        return Ok(n.trunc());
    }
    s.parse::<std::net::IpAddr>()
        .map(ipnet::IpNet::from)
        .with_context(|| format!("SPACES_TRUSTED_PROXIES: {s:?} is not an address or a CIDR"))
}

impl Config {
    pub fn from_env() -> anyhow::Result<Self> {
        Self::from_lookup(&|name| std::env::var(name).ok())
    }

    /// Reads each setting through `lookup`; blank values count as unset.
    pub fn from_lookup(lookup: Lookup) -> anyhow::Result<Self> {
        let var = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let data_dir = PathBuf::from(var("SPACES_DATA_DIR").unwrap_or_else(|| "./data".into()));
        let database_url = var("SPACES_DATABASE_URL").unwrap_or_else(|| {
            format!("sqlite://{}?mode=rwc", data_dir.join("spaces.db").display())
        });
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            bail!("SPACES_DATABASE_URL must start with sqlite: or postgres://");
        }
        let access_token_ttl = secs(&var, "SPACES_ACCESS_TOKEN_TTL_SECS", 900)?;
        if access_token_ttl.as_secs() < 60 || access_token_ttl.as_secs() > 3600 {
            bail!("SPACES_ACCESS_TOKEN_TTL_SECS must be between 60 and 3600");
        }
        if var("SPACES_TRUST_FORWARDED_FOR").is_some() {
            bail!(
                "SPACES_TRUST_FORWARDED_FOR is gone: list your proxies in SPACES_TRUSTED_PROXIES (CIDRs, such as 10.0.0.0/8)"
            );
        }
        let hash_slots = number(&var, "SPACES_HASH_SLOTS")?
            .unwrap_or_else(spaces_tenants::auth::password::cores);
        if hash_slots == 0 {
            bail!("SPACES_HASH_SLOTS must be at least 1");
        }
        let addr: SocketAddr = var("SPACES_ADDR")
            .unwrap_or_else(|| "127.0.0.1:8080".into())
            .parse()
            .context("SPACES_ADDR must be host:port, such as 127.0.0.1:8080")?;
        let public_url_template = var("SPACES_PUBLIC_URL_TEMPLATE")
            .unwrap_or_else(|| format!("http://{{host}}:{}", addr.port()));
        let base_domain = var("SPACES_BASE_DOMAIN")
            .unwrap_or_else(|| "localhost".into())
            .to_ascii_lowercase();
        spaces_tenants::spaces::Links::new(&public_url_template, &base_domain)?;
        let config = Self {
            addr,
            data_dir,
            database_url,
            database_owner_url: var("SPACES_DATABASE_OWNER_URL"),
            db_max_connections: var("SPACES_DB_MAX_CONNECTIONS")
                .map(|v| v.parse())
                .transpose()
                .context("SPACES_DB_MAX_CONNECTIONS")?
                .unwrap_or(16),
            redis_url: var("SPACES_REDIS_URL"),
            base_domain,
            signing_key_file: var("SPACES_SIGNING_KEY_FILE").map(PathBuf::from),
            issuer: var("SPACES_ISSUER").unwrap_or_else(|| "spaces".into()),
            access_token_ttl,
            refresh_token_ttl: secs(&var, "SPACES_REFRESH_TOKEN_TTL_SECS", 30 * 24 * 3600)?,
            cors_origins: var("SPACES_CORS_ORIGINS")
                .map(|v| {
                    v.split(',')
                        .map(|s| s.trim().to_owned())
                        .filter(|s| !s.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
            introspection: flag(&var, "SPACES_INTROSPECTION", true)?,
            smtp_url: var("SPACES_SMTP_URL"),
            smtp_from: var("SPACES_SMTP_FROM")
                .unwrap_or_else(|| "Spaces <no-reply@localhost>".into()),
            outbox_interval: Duration::from_millis(
                var("SPACES_OUTBOX_INTERVAL_MS")
                    .map(|v| v.parse())
                    .transpose()
                    .context("SPACES_OUTBOX_INTERVAL_MS")?
                    .unwrap_or(2000),
            ),
            tenant_header: flag(&var, "SPACES_TENANT_HEADER", true)?,
            max_connections: var("SPACES_MAX_CONNECTIONS")
                .map(|v| v.trim().parse())
                .transpose()
                .context("SPACES_MAX_CONNECTIONS must be a number")?
                .unwrap_or(1024),
            header_read_timeout: secs(&var, "SPACES_HEADER_READ_TIMEOUT_SECS", 10)?,
            request_timeout: secs(&var, "SPACES_REQUEST_TIMEOUT_SECS", 30)?,
            public_url_template,
            outbox_key: var("SPACES_OUTBOX_KEY"),
            trusted_proxies: list(&var, "SPACES_TRUSTED_PROXIES")
                .iter()
                .map(|c| parse_net(c))
                .collect::<anyhow::Result<_>>()?,
            previous_signing_key_files: list(&var, "SPACES_PREVIOUS_SIGNING_KEY_FILES")
                .into_iter()
                .map(PathBuf::from)
                .collect(),
            hash_slots,
            hash_queue: number(&var, "SPACES_HASH_QUEUE")?
                .unwrap_or(hash_slots * spaces_tenants::auth::password::DEFAULT_QUEUE_PER_SLOT),
            live_buffer: number(&var, "SPACES_LIVE_BUFFER")?.unwrap_or(256).max(1),
            jobs_interval: secs(&var, "SPACES_JOBS_INTERVAL_SECS", 5)?,
            seller: seller(&var)?,
            stripe_webhook_secrets: list(&var, "SPACES_STRIPE_WEBHOOK_SECRETS"),
            stripe_api_key: var("SPACES_STRIPE_API_KEY"),
            stripe_api_base: var("SPACES_STRIPE_API_BASE")
                .unwrap_or_else(|| spaces_billing::payments::stripe::DEFAULT_API_BASE.into()),
            edition_vat_basis_points: number(&var, "SPACES_EDITION_VAT_BASIS_POINTS")?
                .map(u32::try_from)
                .transpose()
                .context("SPACES_EDITION_VAT_BASIS_POINTS is too large")?
                .unwrap_or(2000),
            edition_vat_exempt_mention: var("SPACES_EDITION_VAT_EXEMPT_MENTION")
                .filter(|m| !m.trim().is_empty()),
            voucher_key_file: var("SPACES_VOUCHER_KEY_FILE").map(PathBuf::from),
        };
        if config.edition_vat_basis_points > 10_000 {
            bail!("SPACES_EDITION_VAT_BASIS_POINTS must be at most 10000 (100 %)");
        }
        if config.max_connections == 0
            || config.header_read_timeout.is_zero()
            || config.request_timeout.is_zero()
        {
            bail!(
                "SPACES_MAX_CONNECTIONS, SPACES_HEADER_READ_TIMEOUT_SECS and SPACES_REQUEST_TIMEOUT_SECS must be above 0"
            );
        }
        Ok(config)
    }

    pub fn is_sqlite(&self) -> bool {
        self.database_url.starts_with("sqlite:")
    }
}
