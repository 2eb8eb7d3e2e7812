//! Failed sign-ins are counted per account and per client address. The store is Redis when
//! configured and process memory otherwise; the gateway supplies it.

use std::time::Duration;

use crate::Result;

pub const MAX_FAILURES: u64 = 10;
pub const WINDOW: Duration = Duration::from_secs(15 * 60);

#[async_trait::async_trait]
pub trait AttemptLimiter: Send + Sync {
    /// Failures recorded under `key` in the current window, and seconds until it resets.
    async fn failures(&self, key: &str) -> Result<(u64, u64)>;
    /// Records one failure under `key`.
    async fn record_failure(&self, key: &str) -> Result<()>;
}
