//! Stores for failed sign-in counts: Redis when configured (shared by every gateway), process
//! memory otherwise. Fixed 15-minute windows.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use redis::aio::ConnectionManager;
use spaces_tenants::auth::limiter::{AttemptLimiter, WINDOW};
use spaces_tenants::{Error, Result};

#[derive(Default)]
pub struct MemoryLimiter {
    windows: Mutex<HashMap<String, (u64, Instant)>>,
}

impl MemoryLimiter {
    fn with<T>(&self, f: impl FnOnce(&mut HashMap<String, (u64, Instant)>) -> T) -> Result<T> {
        let mut g = self
            .windows
            .lock()
            .map_err(|_| Error::Internal("limiter lock poisoned".into()))?;
        // Forget ended windows now and then, so the map does not grow without bound.
        if g.len() > 100_000 {
            g.retain(|_, (_, start)| start.elapsed() < WINDOW);
        }
        Ok(f(&mut g))
    }
}

#[async_trait::async_trait]
impl AttemptLimiter for MemoryLimiter {
    async fn hit(&self, key: &str) -> Result<(u64, u64)> {
        self.with(|m| {
            let e = m.entry(key.to_owned()).or_insert((0, Instant::now()));
            if e.1.elapsed() >= WINDOW {
                *e = (0, Instant::now());
            }
            e.0 += 1;
            (e.0, WINDOW.saturating_sub(e.1.elapsed()).as_secs().max(1))
        })
    }

    async fn forgive(&self, key: &str) -> Result<()> {
        self.with(|m| {
            if let Some(e) = m.get_mut(key) {
                e.0 = e.0.saturating_sub(1);
            }
        })
    }
}

pub struct RedisLimiter {
    conn: ConnectionManager,
}

impl RedisLimiter {
    pub fn new(conn: ConnectionManager) -> Self {
        Self { conn }
    }
}

fn redis_err(e: redis::RedisError) -> Error {
    Error::Internal(format!("redis: {e}"))
}

#[async_trait::async_trait]
impl AttemptLimiter for RedisLimiter {
    async fn hit(&self, key: &str) -> Result<(u64, u64)> {
        let mut c = self.conn.clone();
        // One atomic step: the window's expiry is set with its first attempt, never missed.
        let (n, ttl): (u64, i64) = redis::pipe()
            .atomic()
            .cmd("SET")
            .arg(key)
            .arg(0)
            .arg("NX")
            .arg("EX")
            .arg(WINDOW.as_secs())
            .ignore()
            .incr(key, 1u64)
            .ttl(key)
            .query_async(&mut c)
            .await
            .map_err(redis_err)?;
        Ok((n, ttl.max(1) as u64))
    }

    async fn forgive(&self, key: &str) -> Result<()> {
        let mut c = self.conn.clone();
        // DECR only an existing counter: a forgotten window must not come back negative.
        redis::Script::new("if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('DECR', KEYS[1]) end return 0")
            .key(key)
            .invoke_async::<i64>(&mut c)
            .await
            .map_err(redis_err)?;
        Ok(())
    }
}

/// Redis while it answers, this process's memory while it does not: sign-in limits never fail a
/// sign-in because Redis went away. Counting is then per instance (an attacker spread over
/// several gateways gets that many allowances) until Redis answers again; the switch is logged
/// once each way and `spaces_limiter_fallback` counts the attempts counted in memory.
pub struct FallbackLimiter {
    redis: RedisLimiter,
    memory: MemoryLimiter,
    degraded: std::sync::atomic::AtomicBool,
    fallbacks: prometheus_client::metrics::counter::Counter,
    degraded_gauge: prometheus_client::metrics::gauge::Gauge,
}

/// How long a Redis call may take before this attempt is counted in memory instead.
const REDIS_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(500);

impl FallbackLimiter {
    pub fn new(conn: ConnectionManager, metrics: &crate::metrics::Metrics) -> Self {
        Self {
            redis: RedisLimiter::new(conn),
            memory: MemoryLimiter::default(),
            degraded: std::sync::atomic::AtomicBool::new(false),
            fallbacks: metrics.limiter_fallbacks.clone(),
            degraded_gauge: metrics.limiter_degraded.clone(),
        }
    }

    fn mark(&self, degraded: bool, why: Option<&Error>) {
        use std::sync::atomic::Ordering;
        let was = self.degraded.swap(degraded, Ordering::SeqCst);
        self.degraded_gauge.set(i64::from(degraded));
        match (was, degraded) {
            (false, true) => tracing::warn!(
                error = %why.map(ToString::to_string).unwrap_or_default(),
                "Redis is unreachable: sign-in limits are counted by this process alone until it answers again"
            ),
            (true, false) => tracing::warn!("Redis answers again: sign-in limits are shared again"),
            _ => {}
        }
    }

    async fn redis<T>(&self, f: impl std::future::Future<Output = Result<T>>) -> Option<T> {
        let r = match tokio::time::timeout(REDIS_TIMEOUT, f).await {
            Ok(r) => r,
            Err(_) => Err(Error::Internal("redis: timed out".into())),
        };
        match r {
            Ok(v) => {
                self.mark(false, None);
                Some(v)
            }
            Err(e) => {
                self.mark(true, Some(&e));
                self.fallbacks.inc();
                None
            }
        }
    }
}

#[async_trait::async_trait]
impl AttemptLimiter for FallbackLimiter {
    async fn hit(&self, key: &str) -> Result<(u64, u64)> {
        match self.redis(self.redis.hit(key)).await {
            Some(v) => Ok(v),
            None => self.memory.hit(key).await,
        }
    }

    async fn forgive(&self, key: &str) -> Result<()> {
        match self.redis(self.redis.forgive(key)).await {
            Some(()) => Ok(()),
            None => self.memory.forgive(key).await,
        }
    }
}
