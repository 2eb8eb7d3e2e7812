//! The outbox worker: delivers queued messages (invitations, password resets) and records each
//! attempt. Messages are rendered at delivery in the space's language and branding. With SMTP
//! configured they are sent; without, they are written as `.eml` files (mode 0600) into
//! `<data dir>/outbox/`, where a developer opens them like a mail catcher. Either way the stored
//! message then drops its token, and no log line carries a message's text.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use lettre::message::Body;
use lettre::message::header::ContentType;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use spaces_tenants::kernel::page::PageRequest;
use spaces_tenants::outbox::{self, Message, OutboxKey};
use spaces_tenants::spaces::{self, Space};
use spaces_tenants::{TenantId, TenantTx};

use crate::app::AppState;
use crate::config::Config;
use crate::pages::texts;

/// The key that seals the outbox: `SPACES_OUTBOX_KEY`, or on the embedded setup a key generated
/// once into the data directory. PostgreSQL has no default: several gateways must read each
/// other's messages, so they must share the key.
pub fn outbox_key(config: &Config) -> anyhow::Result<OutboxKey> {
    if let Some(k) = &config.outbox_key {
        return OutboxKey::from_base64(k).context("SPACES_OUTBOX_KEY");
    }
    if !config.is_sqlite() {
        bail!(
            "SPACES_OUTBOX_KEY is required on PostgreSQL (32 random bytes in base64, the same on \
             every gateway: `openssl rand -base64 32`)"
        );
    }
    let path = config.data_dir.join("outbox.key");
    if !path.exists() {
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("creating {}", config.data_dir.display()))?;
        write_private(&path, OutboxKey::generate_base64()?.as_bytes(), false)
            .with_context(|| format!("writing {}", path.display()))?;
        tracing::warn!(path = %path.display(), "generated an outbox key into the data directory; set SPACES_OUTBOX_KEY in production");
    }
    let raw = std::fs::read_to_string(&path)
        .with_context(|| format!("reading the outbox key {}", path.display()))?;
    OutboxKey::from_base64(&raw).with_context(|| format!("the outbox key in {}", path.display()))
}

/// Writes a file readable by its owner only (mode 0600). A key is never overwritten; a message
/// written again (a retry after its outcome could not be recorded) replaces its earlier copy.
fn write_private(path: &Path, bytes: &[u8], replace: bool) -> std::io::Result<()> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true);
    if replace {
        o.create(true).truncate(true);
    } else {
        o.create_new(true);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    let mut f = o.open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

pub fn spawn_outbox_worker(state: Arc<AppState>) -> tokio::task::JoinHandle<()> {
    if state.smtp.is_none() {
        tracing::info!(dir = %outbox_dir(&state.config).display(), "SPACES_SMTP_URL is not set: messages are written as .eml files");
    }
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(state.config.outbox_interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = drain(&state).await {
                tracing::warn!(error = %e, "outbox pass failed; retrying next tick");
            }
        }
    })
}

pub fn outbox_dir(config: &Config) -> PathBuf {
    config.data_dir.join("outbox")
}

/// One pass over every tenant's due messages. Each tenant is read in its own transaction:
/// row-level security shows a transaction one tenant only.
pub async fn drain(state: &AppState) -> spaces_tenants::Result<usize> {
    let db = &state.deps.db;
    let mut sent = 0;
    let mut after = None;
    loop {
        let page = spaces::list(db, PageRequest { first: 100, after }).await?;
        for space in &page.items {
            sent += drain_space(state, space).await?;
        }
        match (page.has_next_page, page.items.last()) {
            (true, Some(last)) => after = Some(last.id.uuid()),
            _ => return Ok(sent),
        }
    }
}

async fn drain_space(state: &AppState, space: &Space) -> spaces_tenants::Result<usize> {
    let db = &state.deps.db;
    // Claim in one short transaction, send with none open (SMTP can take seconds), then record
    // each outcome in its own short transaction.
    let tx = TenantTx::begin(db, space.id).await?;
    let claimed = outbox::claim(&tx, chrono::Utc::now(), 50).await?;
    tx.commit().await?;
    if claimed.is_empty() {
        return Ok(0);
    }
    // Links go to the space's own host: its custom domain when it has one.
    let custom = spaces::domains_of(db, space.id).await?.into_iter().next();
    let mut sent = 0;
    for msg in claimed {
        let outcome = match render(state, space, custom.as_deref(), &msg) {
            Ok(email) => deliver(state, space.id, &msg, email.1)
                .await
                .map(|()| email.0),
            Err(e) => Err(e),
        };
        let tx = TenantTx::begin(db, space.id).await?;
        match outcome {
            Ok(subject) => {
                outbox::mark_delivered(&tx, msg.id, &subject).await?;
                sent += 1;
            }
            Err(e) => outbox::mark_failed(&tx, &msg, &e).await?,
        }
        tx.commit().await?;
    }
    Ok(sent)
}

/// The message as it leaves: (subject, the whole email).
fn render(
    state: &AppState,
    space: &Space,
    custom_host: Option<&str>,
    msg: &Message,
) -> Result<(String, lettre::Message), String> {
    let (Some(kind), Some(p)) = (msg.kind, &msg.payload) else {
        return Err("the message cannot be opened with this outbox key".into());
    };
    let link = match custom_host {
        Some(h) => state.deps.links.rebase(&p.link, h),
        None => p.link.clone(),
    };
    let (subject, text) = texts::message(space, kind, &p.name, &link);
    // Lettre picks the transfer encoding (quoted-printable for the long link line).
    let body = Body::new(text);
    let from: lettre::message::Mailbox = state
        .config
        .smtp_from
        .parse()
        .map_err(|e| format!("SPACES_SMTP_FROM: {e}"))?;
    // The sender's address stays the platform's; the name is the space's.
    let from = lettre::message::Mailbox::new(Some(space.display_name.clone()), from.email);
    let email = lettre::Message::builder()
        .from(from)
        .to(msg
            .recipient
            .parse()
            .map_err(|e| format!("recipient: {e}"))?)
        .subject(subject.as_str())
        .header(ContentType::TEXT_PLAIN)
        .body(body)
        .map_err(|e| format!("building the message: {e}"))?;
    Ok((subject, email))
}

/// An SMTP relay, as lettre reads its URL: `smtp://host:25` (plain, for a relay on a trusted
/// network), `smtp://host:587?tls=required` (STARTTLS), `smtps://host:465` (TLS), with
/// `user:password@` for a login.
pub struct Smtp {
    transport: AsyncSmtpTransport<Tokio1Executor>,
}

impl Smtp {
    pub fn new(url: &str) -> anyhow::Result<Self> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| anyhow::anyhow!("SPACES_SMTP_URL is not usable: {e}"))?
            .timeout(Some(std::time::Duration::from_secs(20)))
            .build();
        Ok(Self { transport })
    }
}

async fn deliver(
    state: &AppState,
    tenant: TenantId,
    msg: &Message,
    email: lettre::Message,
) -> Result<(), String> {
    let kind = msg.kind.map_or("unknown", |k| k.as_str());
    let Some(smtp) = &state.smtp else {
        let dir = outbox_dir(&state.config);
        let name = format!("{}-{}.eml", tenant, msg.id);
        let path = dir.join(&name);
        let bytes = email.formatted();
        tokio::task::spawn_blocking(move || {
            std::fs::create_dir_all(&dir)?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))?;
            }
            write_private(&path, &bytes, true)
        })
        .await
        .map_err(|e| format!("writing the message: {e}"))?
        .map_err(|e| format!("writing the message: {e}"))?;
        tracing::info!(kind, file = %name, "mail written to the outbox directory");
        return Ok(());
    };
    smtp.transport
        .send(email)
        .await
        .map_err(|e| format!("SMTP: {e}"))?;
    tracing::info!(kind, message = %msg.id, "mail sent");
    Ok(())
}
