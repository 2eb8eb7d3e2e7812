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

/// Wrong passwords allowed per (account, address) pair in a window; past it, that pair waits.
pub const PAIR_MAX_FAILURES: u64 = 10;
/// Wrong passwords allowed per address (IPv6: per /64) over every account of a space.
pub const ADDRESS_MAX_FAILURES: u64 = 30;
/// Failures on one account, from every address, before its sign-ins are slowed down.
pub const ACCOUNT_DELAY_AFTER: u64 = 10;
/// The longest delay an attacked account's sign-ins get (never a lock-out).
pub const MAX_ACCOUNT_DELAY: Duration = Duration::from_secs(5);

/// The counters one sign-in attempt touches.
#[derive(Debug, Clone)]
pub struct SignInKeys {
    pair: String,
    address: String,
    account: String,
}

impl SignInKeys {
    /// `prefix` names the space (`t:{tenant}`) or the platform (`p`): every counter belongs to
    /// one space, like everything else a space holds.
    pub fn new(prefix: &str, email: &str, client: &str) -> Self {
        use sha2::{Digest, Sha256};
        let acct = Sha256::digest(email.trim().to_lowercase().as_bytes());
        let acct: String = acct.iter().take(12).map(|b| format!("{b:02x}")).collect();
        let net = address_group(client);
        Self {
            pair: format!("{prefix}:signin:pair:{acct}:{net}"),
            address: format!("{prefix}:signin:ip:{net}"),
            account: format!("{prefix}:signin:acct:{acct}"),
        }
    }

    fn all(&self) -> [&str; 3] {
        [&self.pair, &self.address, &self.account]
    }
}

/// The address as counted: IPv4 as is, IPv6 by its /64 (one subscriber's usual allocation),
/// an IPv4-mapped IPv6 address as the IPv4 one.
pub fn address_group(client: &str) -> String {
    use std::net::IpAddr;
    match client.trim().parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => v4.to_string(),
        Ok(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                let net = std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0);
                format!("{net}/64")
            }
        },
        Err(_) => client.trim().chars().take(64).collect(),
    }
}

/// Counts one sign-in attempt on every counter. Refuses when the pair or the address is past
/// its limit; otherwise returns how long to wait first, which grows with the failures on the
/// account from everywhere (so an account attacked from many addresses slows its attackers
/// down, while its owner, from an address of their own, still gets in).
pub async fn sign_in_attempt(limiter: &dyn AttemptLimiter, keys: &SignInKeys) -> Result<Duration> {
    let (pair, pair_retry) = limiter.hit(&keys.pair).await?;
    let (addr, addr_retry) = limiter.hit(&keys.address).await?;
    let (acct, _) = limiter.hit(&keys.account).await?;
    let mut refused = None;
    if pair > PAIR_MAX_FAILURES {
        refused = Some(pair_retry);
    }
    if addr > ADDRESS_MAX_FAILURES {
        refused = Some(refused.map_or(addr_retry, |r: u64| r.max(addr_retry)));
    }
    if let Some(retry_after_secs) = refused {
        // A refused attempt tested no password: it gives its counts back, so refusals (and
        // sign-ins that were only in flight together) cannot keep a pair or address shut.
        sign_in_succeeded(limiter, keys).await?;
        return Err(Error::RateLimited {
            retry_after_secs: retry_after_secs.max(1),
        });
    }
    Ok(account_delay(acct))
}

/// 250 ms after [`ACCOUNT_DELAY_AFTER`] failures, doubling with each further one, at most
/// [`MAX_ACCOUNT_DELAY`].
pub fn account_delay(failures: u64) -> Duration {
    if failures <= ACCOUNT_DELAY_AFTER {
        return Duration::ZERO;
    }
    let doublings = (failures - ACCOUNT_DELAY_AFTER - 1).min(8) as u32;
    (Duration::from_millis(250) * 2u32.pow(doublings)).min(MAX_ACCOUNT_DELAY)
}

/// The sign-in succeeded: its attempt counts against nobody.
pub async fn sign_in_succeeded(limiter: &dyn AttemptLimiter, keys: &SignInKeys) -> Result<()> {
    for k in keys.all() {
        limiter.forgive(k).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_is_grouped_by_64_and_mapped_ipv4_is_ipv4() {
        assert_eq!(address_group("2001:db8:1:2:3:4:5:6"), "2001:db8:1:2::/64");
        assert_eq!(
            address_group("2001:db8:1:2:ffff::1"),
            address_group("2001:db8:1:2::9")
        );
        assert_ne!(
            address_group("2001:db8:1:3::1"),
            address_group("2001:db8:1:2::1")
        );
        assert_eq!(address_group("::ffff:192.0.2.7"), "192.0.2.7");
        assert_eq!(address_group("192.0.2.7"), "192.0.2.7");
    }

    #[test]
    fn delays_grow_and_stop_at_the_cap() {
        assert_eq!(account_delay(ACCOUNT_DELAY_AFTER), Duration::ZERO);
        assert_eq!(
            account_delay(ACCOUNT_DELAY_AFTER + 1),
            Duration::from_millis(250)
        );
        assert_eq!(
            account_delay(ACCOUNT_DELAY_AFTER + 2),
            Duration::from_millis(500)
        );
        assert_eq!(account_delay(ACCOUNT_DELAY_AFTER + 100), MAX_ACCOUNT_DELAY);
    }
}
