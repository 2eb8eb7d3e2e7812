//! The live progress hub: statements' progress, announced once they commit, reaches the
//! subscriptions of every gateway. With Redis, each event is published on its space's channel
//! (`t:{tenant}:progress`) and one pattern subscription per gateway feeds a bounded broadcast
//! per space; without Redis the broadcast alone carries it, in this process.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_graphql::futures_util::StreamExt;
use redis::aio::ConnectionManager;
use serde::{Deserialize, Serialize};
use spaces_graphql::live::LiveFeed;
use spaces_tenants::progress::Progressed;
use spaces_tenants::{EditionId, EnrolmentId, PersonId, TenantId};
use tokio::sync::broadcast;

const PATTERN: &str = "t:*:progress";

fn channel(tenant: TenantId) -> String {
    format!("t:{tenant}:progress")
}

/// The space a channel names, when it is one of ours.
fn tenant_of(channel: &str) -> Option<TenantId> {
    channel
        .strip_prefix("t:")?
        .strip_suffix(":progress")?
        .parse()
        .ok()
}

/// What travels through Redis: ids only.
#[derive(Serialize, Deserialize)]
struct Wire {
    enrolment: EnrolmentId,
    person: PersonId,
    edition: EditionId,
    completed: bool,
}

impl From<&Progressed> for Wire {
    fn from(p: &Progressed) -> Self {
        Self {
            enrolment: p.enrolment,
            person: p.person,
            edition: p.edition,
            completed: p.completed,
        }
    }
}

impl From<Wire> for Progressed {
    fn from(w: Wire) -> Self {
        Self {
            enrolment: w.enrolment,
            person: w.person,
            edition: w.edition,
            completed: w.completed,
        }
    }
}

pub struct Live {
    spaces: Mutex<HashMap<TenantId, broadcast::Sender<Progressed>>>,
    capacity: usize,
    redis: Option<ConnectionManager>,
    /// The pattern subscription made at build time, taken by the listener `serve` starts.
    pending: tokio::sync::Mutex<Option<(redis::Client, redis::aio::PubSubStream)>>,
}

impl Live {
    /// In this process only.
    pub fn local(capacity: usize) -> Self {
        Self {
            spaces: Mutex::new(HashMap::new()),
            capacity,
            redis: None,
            pending: tokio::sync::Mutex::new(None),
        }
    }

    /// Through Redis: subscribes now, so an event published once this returns is heard.
    pub async fn redis(
        capacity: usize,
        client: redis::Client,
        conn: ConnectionManager,
    ) -> redis::RedisResult<Self> {
        let stream = listen(&client).await?;
        Ok(Self {
            spaces: Mutex::new(HashMap::new()),
            capacity,
            redis: Some(conn),
            pending: tokio::sync::Mutex::new(Some((client, stream))),
        })
    }

    /// Announces what committed statements moved. Never fails the request: live progress is
    /// a courtesy on top of what is stored.
    pub async fn publish(&self, tenant: TenantId, events: &[Progressed]) {
        let Some(conn) = &self.redis else {
            for e in events {
                self.here(tenant, *e);
            }
            return;
        };
        let mut conn = conn.clone();
        for e in events {
            let Ok(payload) = serde_json::to_string(&Wire::from(e)) else {
                continue;
            };
            let sent = redis::cmd("PUBLISH")
                .arg(channel(tenant))
                .arg(payload)
                .query_async::<i64>(&mut conn)
                .await;
            if let Err(err) = sent {
                // This gateway's subscribers still hear it; the others miss it.
                tracing::warn!(error = %err, "publishing live progress to Redis failed");
                self.here(tenant, *e);
            }
        }
    }

    /// Hands an event to this process's subscribers of the space.
    fn here(&self, tenant: TenantId, e: Progressed) {
        let Ok(mut spaces) = self.spaces.lock() else {
            return;
        };
        if let Some(tx) = spaces.get(&tenant)
            && tx.send(e).is_err()
        {
            // Nobody listens in this space any more.
            spaces.remove(&tenant);
        }
    }

    /// Feeds this process's subscribers from Redis until aborted, subscribing again after a
    /// lost connection. `None` without Redis.
    pub async fn spawn_listener(self: &Arc<Self>) -> Option<tokio::task::JoinHandle<()>> {
        let (client, mut stream) = self.pending.lock().await.take()?;
        let live = self.clone();
        Some(tokio::spawn(async move {
            loop {
                while let Some(msg) = stream.next().await {
                    let Some(tenant) = tenant_of(msg.get_channel_name()) else {
                        continue;
                    };
                    match serde_json::from_slice::<Wire>(msg.get_payload_bytes()) {
                        Ok(w) => live.here(tenant, w.into()),
                        Err(e) => tracing::warn!(error = %e, "an unreadable live progress event"),
                    }
                }
                tracing::warn!("the Redis subscription for live progress ended; subscribing again");
                stream = loop {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    match listen(&client).await {
                        Ok(s) => break s,
                        Err(e) => tracing::warn!(error = %e, "subscribing to Redis failed"),
                    }
                };
            }
        }))
    }
}

async fn listen(client: &redis::Client) -> redis::RedisResult<redis::aio::PubSubStream> {
    let mut pubsub = client.get_async_pubsub().await?;
    pubsub.psubscribe(PATTERN).await?;
    Ok(pubsub.into_on_message())
}

#[async_trait::async_trait]
impl LiveFeed for Live {
    async fn publish(&self, tenant: TenantId, events: &[Progressed]) {
        Live::publish(self, tenant, events).await
    }

    fn subscribe(&self, tenant: TenantId) -> broadcast::Receiver<Progressed> {
        match self.spaces.lock() {
            Ok(mut spaces) => spaces
                .entry(tenant)
                .or_insert_with(|| broadcast::channel(self.capacity).0)
                .subscribe(),
            // A poisoned map serves a receiver that hears nothing rather than failing.
            Err(_) => broadcast::channel(1).1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channels_name_their_space() {
        let t = TenantId::from_uuid(uuid::Uuid::now_v7());
        assert_eq!(tenant_of(&channel(t)), Some(t));
        assert_eq!(tenant_of("t:nope:progress"), None);
        assert_eq!(tenant_of("x:1:progress"), None);
    }
}
