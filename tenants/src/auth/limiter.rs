//! Failed sign-ins are counted per account and per client address. The store is Redis when
//! configured and process memory otherwise; the gateway supplies it.
//!
//! Every attempt is counted before the password is checked, and a success gives its count back:
//! parallel guesses cannot all pass a check made before any of them was recorded.

use std::time::Duration;

use crate::{Error, Result};

pub const MAX_FAILURES: u64 = 10;
pub const WINDOW: Duration = Duration::from_secs(15 * 60);

#[async_trait::async_trait]
pub trait AttemptLimiter: Send + Sync {
    /// Counts one attempt under `key`; returns the count in the current window (this one
    /// included) and the seconds until the window ends.
    async fn hit(&self, key: &str) -> Result<(u64, u64)>;
    /// Gives back one attempt (it succeeded).
    async fn forgive(&self, key: &str) -> Result<()>;
}

/// Counts an attempt under every key; refuses when any is past the limit.
pub async fn attempt(limiter: &dyn AttemptLimiter, keys: &[String]) -> Result<()> {
    let mut refused = None;
    for k in keys {
        let (n, retry) = limiter.hit(k).await?;
        if n > MAX_FAILURES {
            refused = Some(refused.map_or(retry, |r: u64| r.max(retry)));
        }
    }
    match refused {
        Some(retry_after_secs) => Err(Error::RateLimited {
            retry_after_secs: retry_after_secs.max(1),
        }),
        None => Ok(()),
    }
}

/// The attempt succeeded: it does not count against anyone.
pub async fn succeeded(limiter: &dyn AttemptLimiter, keys: &[String]) -> Result<()> {
    for k in keys {
        limiter.forgive(k).await?;
    }
    Ok(())
}
