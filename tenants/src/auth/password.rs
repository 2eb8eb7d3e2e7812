//! argon2id hashing off the async runtime, bounded: at most one hash per slot (as many slots as
//! the machine has cores), a bounded queue of waiters, and one reused 19 MiB buffer per slot.
//!
//! The bound keeps a flood of sign-ins from piling up CPU work and memory: past the queue's
//! length, or after waiting [`MAX_WAIT`], the caller gets `Error::Unavailable`. Reusing the
//! buffers keeps the allocator from holding one 19 MiB block per hash ever run at once.
//! Unknown accounts are checked against a dummy hash, so the time a sign-in takes tells nothing
//! about whether the email exists.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{ARGON2ID_IDENT, Algorithm, Argon2, Block, Params, Version};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};

use crate::auth::secret::random_bytes;
use crate::values::Password;
use crate::{Error, Result};

/// How long a hash may wait for a slot before the caller is told to come back.
pub const MAX_WAIT: Duration = Duration::from_secs(2);
/// Waiters allowed per slot by default (a morning rush queues; a flood is turned away).
pub const DEFAULT_QUEUE_PER_SLOT: usize = 32;
/// What a refused caller is told to wait: about the time the queue takes to drain.
const RETRY_AFTER_SECS: u64 = 2;

const SALT_LEN: usize = 16;
const OUTPUT_LEN: usize = 32;

fn params() -> Result<Params> {
    // OWASP's first recommended argon2id setting: m=19 MiB, t=2, p=1.
    Params::new(19_456, 2, 1, Some(OUTPUT_LEN))
        .map_err(|e| Error::Internal(format!("argon2 params: {e}")))
}

/// The number of cores, the default number of slots.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

struct Inner {
    slots: Arc<Semaphore>,
    slot_count: usize,
    queue: usize,
    max_wait: Duration,
    waiting: AtomicUsize,
    /// Told whenever a caller starts waiting (the test hook watches it).
    queued: Notify,
    /// One buffer per slot that has hashed, reused by the next hash on any slot.
    buffers: Arc<Mutex<Vec<Vec<Block>>>>,
}

/// A bounded pool of hashing slots. Cheap to clone: clones share the slots.
#[derive(Clone)]
pub struct Hasher(Arc<Inner>);

impl std::fmt::Debug for Hasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hasher")
            .field("slots", &self.0.slot_count)
            .field("queue", &self.0.queue)
            .finish_non_exhaustive()
    }
}

static GLOBAL: OnceLock<Hasher> = OnceLock::new();

/// Decrements the waiter count however the wait ends.
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Every slot, held by a test until dropped.
#[doc(hidden)]
pub struct Parked(#[allow(dead_code)] OwnedSemaphorePermit);

impl Hasher {
    pub fn new(slots: usize, queue: usize, max_wait: Duration) -> Self {
        let slots = slots.max(1);
        Self(Arc::new(Inner {
            slots: Arc::new(Semaphore::new(slots)),
            slot_count: slots,
            queue,
            max_wait,
            waiting: AtomicUsize::new(0),
            queued: Notify::new(),
            buffers: Arc::default(),
        }))
    }

    /// One slot per core, [`DEFAULT_QUEUE_PER_SLOT`] waiters per slot, [`MAX_WAIT`].
    pub fn for_this_machine() -> Self {
        let n = cores();
        Self::new(n, n * DEFAULT_QUEUE_PER_SLOT, MAX_WAIT)
    }

    /// The process's pool: the first call sets its size, later calls share it. The server uses
    /// it, and so do [`hash`] and [`verify`], so the whole process stays within one bound.
    pub fn global(slots: usize, queue: usize) -> Self {
        GLOBAL
            .get_or_init(|| Self::new(slots, queue, MAX_WAIT))
            .clone()
    }

    fn default_global() -> Self {
        GLOBAL.get_or_init(Self::for_this_machine).clone()
    }

    pub fn slots(&self) -> usize {
        self.0.slot_count
    }

    /// Callers waiting for a slot now.
    pub fn waiting(&self) -> usize {
        self.0.waiting.load(Ordering::SeqCst)
    }

    /// Test hook: takes every slot and holds them until the returned guard is dropped.
    #[doc(hidden)]
    pub async fn park_all(&self) -> Result<Parked> {
        let n = u32::try_from(self.0.slot_count)
            .map_err(|_| Error::Internal("too many hashing slots".into()))?;
        let permit = self
            .0
            .slots
            .clone()
            .acquire_many_owned(n)
            .await
            .map_err(|_| Error::Internal("hashing slots closed".into()))?;
        Ok(Parked(permit))
    }

    /// Test hook: resolves once at least `n` callers wait for a slot (no polling, no sleeps).
    #[doc(hidden)]
    pub async fn until_waiting(&self, n: usize) {
        loop {
            let notified = self.0.queued.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.waiting() >= n {
                return;
            }
            notified.await;
        }
    }

    async fn slot(&self) -> Result<OwnedSemaphorePermit> {
        let unavailable = || Error::Unavailable {
            retry_after_secs: RETRY_AFTER_SECS,
        };
        if let Ok(p) = self.0.slots.clone().try_acquire_owned() {
            return Ok(p);
        }
        let before = self.0.waiting.fetch_add(1, Ordering::SeqCst);
        let _waiting = Waiting(&self.0.waiting);
        if before >= self.0.queue {
            return Err(unavailable());
        }
        self.0.queued.notify_waiters();
        match tokio::time::timeout(self.0.max_wait, self.0.slots.clone().acquire_owned()).await {
            Ok(Ok(p)) => Ok(p),
            _ => Err(unavailable()),
        }
    }

    /// Runs `f` on the blocking pool with a slot and that slot's buffer. The permit moves into
    /// the blocking task, so a caller that goes away does not free its slot before the work ends.
    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Vec<Block>) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let permit = self.slot().await?;
        let buffers = self.0.buffers.clone();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let mut buf = buffers
                .lock()
                .map_err(|_| Error::Internal("hash buffers poisoned".into()))?
                .pop()
                .unwrap_or_default();
            let out = f(&mut buf);
            if let Ok(mut b) = buffers.lock() {
                b.push(buf);
            }
            out
        })
        .await
        .map_err(|e| Error::Internal(format!("hashing task: {e}")))?
    }

    /// The PHC string of a new hash of `password`.
    pub async fn hash(&self, password: Password) -> Result<String> {
        self.run(move |buf| hash_with(password.expose().as_bytes(), buf))
            .await
    }

    /// Whether `password` matches `stored`; with no stored hash, spends the same time and says no.
    pub async fn verify(&self, password: String, stored: Option<String>) -> Result<bool> {
        self.run(move |buf| {
            let (phc, real) = match stored {
                Some(s) => (s, true),
                None => (dummy_hash(buf)?, false),
            };
            Ok(verify_with(password.as_bytes(), &phc, buf)? && real)
        })
        .await
    }
}

/// The buffer, grown to `blocks` if it is smaller (it is sized once, then reused).
fn blocks(buf: &mut Vec<Block>, blocks: usize) -> &mut [Block] {
    if buf.len() < blocks {
        buf.resize(blocks, Block::new());
    }
    &mut buf[..blocks]
}

fn hash_with(password: &[u8], buf: &mut Vec<Block>) -> Result<String> {
    let params = params()?;
    let salt_bytes = random_bytes::<SALT_LEN>()?;
    let mut out = [0u8; OUTPUT_LEN];
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
        .hash_password_into_with_memory(
            password,
            &salt_bytes,
            &mut out,
            blocks(buf, params.block_count()),
        )
        .map_err(|e| Error::Internal(format!("argon2 hash: {e}")))?;
    let fail = |e: argon2::password_hash::phc::Error| Error::Internal(format!("argon2 phc: {e}"));
    let phc = PasswordHash {
        algorithm: ARGON2ID_IDENT,
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params)
            .map_err(|e| Error::Internal(format!("argon2 params: {e}")))?,
        salt: Some(Salt::new(&salt_bytes).map_err(fail)?),
        hash: Some(Output::new(&out).map_err(fail)?),
    };
    Ok(phc.to_string())
}

fn verify_with(password: &[u8], phc: &str, buf: &mut Vec<Block>) -> Result<bool> {
    let unreadable =
        |e: &dyn std::fmt::Display| Error::Internal(format!("stored hash unreadable: {e}"));
    let parsed = PasswordHash::new(phc).map_err(|e| unreadable(&e))?;
    if parsed.algorithm != ARGON2ID_IDENT {
        return Err(unreadable(&"not argon2id"));
    }
    let params = Params::try_from(&parsed).map_err(|e| unreadable(&e))?;
    let version = parsed
        .version
        .map(Version::try_from)
        .transpose()
        .map_err(|e| unreadable(&e))?
        .unwrap_or_default();
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return Err(unreadable(&"no salt or no hash"));
    };
    let mut out = vec![0u8; expected.len()];
    Argon2::new(Algorithm::Argon2id, version, params.clone())
        .hash_password_into_with_memory(
            password,
            &salt,
            &mut out,
            blocks(buf, params.block_count()),
        )
        .map_err(|e| Error::Internal(format!("argon2 verify: {e}")))?;
    // Constant time: how much of the hash matched must not show in how long the answer takes.
    let diff = out
        .iter()
        .zip(expected.as_bytes())
        .fold(0u8, |acc, (a, b)| acc | (a ^ b));
    Ok(diff == 0)
}

static DUMMY_HASH: OnceLock<String> = OnceLock::new();

fn dummy_hash(buf: &mut Vec<Block>) -> Result<String> {
    if let Some(h) = DUMMY_HASH.get() {
        return Ok(h.clone());
    }
    let h = hash_with(b"not a password anybody has, only spent time", buf)?;
    Ok(DUMMY_HASH.get_or_init(|| h).clone())
}

/// Hashes through the process's pool (see [`Hasher::global`]).
pub async fn hash(password: Password) -> Result<String> {
    Hasher::default_global().hash(password).await
}

/// Verifies through the process's pool (see [`Hasher::global`]).
pub async fn verify(password: String, stored: Option<String>) -> Result<bool> {
    Hasher::default_global().verify(password, stored).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_unknown_accounts_never_match() -> Result<()> {
        let h = hash(Password::parse("p", "correct horse battery")?).await?;
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify("correct horse battery".into(), Some(h.clone())).await?);
        assert!(!verify("wrong horse battery".into(), Some(h)).await?);
        assert!(!verify("not a password anybody has, only spent time".into(), None).await?);
        Ok(())
    }

    #[tokio::test]
    async fn hashes_of_the_argon2_crate_still_verify() -> Result<()> {
        use argon2::PasswordHasher;
        let old = Argon2::new(Algorithm::Argon2id, Version::V0x13, params()?)
            .hash_password(b"an older stored password")
            .map_err(|e| Error::Internal(e.to_string()))?
            .to_string();
        let h = Hasher::new(1, 1, MAX_WAIT);
        assert!(
            h.verify("an older stored password".into(), Some(old.clone()))
                .await?
        );
        assert!(!h.verify("another password".into(), Some(old)).await?);
        Ok(())
    }

    #[tokio::test]
    async fn a_full_queue_and_a_long_wait_are_unavailable() -> Result<()> {
        let h = Hasher::new(1, 1, Duration::from_millis(50));
        let parked = h.park_all().await?;
        // The queue holds one waiter: the second caller is turned away at once.
        let first = tokio::spawn({
            let h = h.clone();
            async move { h.verify("x".into(), None).await }
        });
        h.until_waiting(1).await;
        let second = h.verify("y".into(), None).await;
        assert!(
            matches!(second, Err(Error::Unavailable { .. })),
            "{second:?}"
        );
        // The first waits out its time with every slot parked.
        let first = first.await.map_err(|e| Error::Internal(e.to_string()))?;
        assert!(matches!(first, Err(Error::Unavailable { .. })), "{first:?}");
        drop(parked);
        assert!(!h.verify("z".into(), None).await?);
        Ok(())
    }
}
