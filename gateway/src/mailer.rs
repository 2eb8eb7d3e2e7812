//! The outbox worker: delivers queued messages (invitations) and records each attempt. With no
//! SMTP configured it logs them instead.

use std::sync::Arc;

use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use spaces_tenants::kernel::page::PageRequest;
use spaces_tenants::outbox::{self, Message};
use spaces_tenants::{TenantTx, spaces};

use crate::app::AppState;

pub fn spawn_outbox_worker(state: Arc<AppState>) -> tokio::task::JoinHandle<()> {
    if state.smtp.is_none() && !state.config.is_sqlite() {
        // Logging invitations (their tokens open accounts) is for the embedded development
        // setup only; elsewhere they wait in the outbox until SMTP is configured.
        tracing::warn!("SPACES_SMTP_URL is not set: invitations stay queued in the outbox");
        return tokio::spawn(async {});
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

/// One pass over every tenant's due messages. Each tenant is read in its own transaction:
/// row-level security shows a transaction one tenant only.
pub async fn drain(state: &AppState) -> spaces_tenants::Result<usize> {
    let db = &state.deps.db;
    let mut sent = 0;
    let mut after = None;
    loop {
        let page = spaces::list(db, PageRequest { first: 100, after }).await?;
        for space in &page.items {
            // Claim in one short transaction, send with none open (SMTP can take seconds), then
            // record each outcome in its own short transaction.
            let tx = TenantTx::begin(db, space.id).await?;
            let claimed = outbox::claim(&tx, chrono::Utc::now(), 50).await?;
            tx.commit().await?;
            for msg in claimed {
                let outcome = deliver(state, &msg).await;
                let tx = TenantTx::begin(db, space.id).await?;
                match outcome {
                    Ok(()) => {
                        outbox::mark_delivered(&tx, msg.id).await?;
                        sent += 1;
                    }
                    Err(e) => outbox::mark_failed(&tx, &msg, &e).await?,
                }
                tx.commit().await?;
            }
        }
        match (page.has_next_page, page.items.last()) {
            (true, Some(last)) => after = Some(last.id.uuid()),
            _ => return Ok(sent),
        }
    }
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

async fn deliver(state: &AppState, msg: &Message) -> Result<(), String> {
    let Some(smtp) = &state.smtp else {
        tracing::info!(kind = %msg.kind, to = %msg.recipient, subject = %msg.subject, body = %msg.body, "mail not sent: SPACES_SMTP_URL is not set");
        return Ok(());
    };
    let email = lettre::Message::builder()
        .from(
            state
                .config
                .smtp_from
                .parse()
                .map_err(|e| format!("SPACES_SMTP_FROM: {e}"))?,
        )
        .to(msg
            .recipient
            .parse()
            .map_err(|e| format!("recipient: {e}"))?)
        .subject(msg.subject.as_str())
        .header(lettre::message::header::ContentType::TEXT_PLAIN)
        .body(msg.body.clone())
        .map_err(|e| format!("building the message: {e}"))?;
    smtp.transport
        .send(email)
        .await
        .map_err(|e| format!("SMTP: {e}"))?;
    tracing::info!(kind = %msg.kind, to = %msg.recipient, "mail sent");
    Ok(())
}
