//! The outbox worker: delivers queued messages (invitations) and records each attempt. With no
//! SMTP configured it logs them instead.

use std::sync::Arc;

use spaces_tenants::kernel::page::PageRequest;
use spaces_tenants::outbox::{self, Message};
use spaces_tenants::{TenantTx, spaces};

use crate::app::AppState;

pub fn spawn_outbox_worker(state: Arc<AppState>) -> tokio::task::JoinHandle<()> {
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
            let tx = TenantTx::begin(db, space.id).await?;
            for msg in outbox::due(&tx, chrono::Utc::now(), 50).await? {
                match deliver(state, &msg).await {
                    Ok(()) => {
                        outbox::mark_delivered(&tx, msg.id).await?;
                        sent += 1;
                    }
                    Err(e) => outbox::mark_failed(&tx, &msg, &e).await?,
                }
            }
            tx.commit().await?;
        }
        match (page.has_next_page, page.items.last()) {
            (true, Some(last)) => after = Some(last.id.uuid()),
            _ => return Ok(sent),
        }
    }
}

async fn deliver(state: &AppState, msg: &Message) -> Result<(), String> {
    match &state.config.smtp_url {
        None => {
            tracing::info!(kind = %msg.kind, to = %msg.recipient, subject = %msg.subject, body = %msg.body, "mail not sent: SPACES_SMTP_URL is not set");
            Ok(())
        }
        Some(_url) => Err("SMTP delivery is not available in this build".into()),
    }
}
