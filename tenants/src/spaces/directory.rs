//! Spaces as requests address them (by slug or domain), kept for a few seconds: every request
//! resolves its space before anything else, and spaces change rarely. Changes made through this
//! process clear it at once; other processes serving the same database see them within the TTL.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::{Space, by_domain, by_slug};
use crate::{Db, Result};

/// More entries than any platform has spaces and domains; past it the cache starts over.
const MAX_ENTRIES: usize = 10_000;

#[derive(Clone, PartialEq, Eq, Hash)]
enum Key {
    Slug(String),
    Domain(String),
}

#[derive(Default)]
struct Entries {
    /// Bumped by `forget_all`: a read that began before a change may not store what it read.
    generation: u64,
    map: HashMap<Key, (Instant, Space)>,
}

pub struct Directory {
    ttl: Duration,
    entries: Mutex<Entries>,
}

impl Directory {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: Mutex::default(),
        }
    }

    pub async fn by_slug(&self, db: &Db, slug: &str) -> Result<Option<Space>> {
        self.lookup(Key::Slug(slug.to_owned()), by_slug(db, slug))
            .await
    }

    pub async fn by_domain(&self, db: &Db, host: &str) -> Result<Option<Space>> {
        self.lookup(Key::Domain(host.to_owned()), by_domain(db, host))
            .await
    }

    /// After a space changes (status, branding, domains) or is created: the next request reads
    /// it afresh. Call it once the change has committed.
    pub fn forget_all(&self) {
        let mut e = self.lock();
        e.generation += 1;
        e.map.clear();
    }

    async fn lookup(
        &self,
        key: Key,
        read: impl Future<Output = Result<Option<Space>>>,
    ) -> Result<Option<Space>> {
        let generation = {
            let e = self.lock();
            if let Some((at, space)) = e.map.get(&key)
                && at.elapsed() < self.ttl
            {
                return Ok(Some(space.clone()));
            }
            e.generation
        };
        let found = read.await?;
        // Unknown names are not kept: anyone can send any Host.
        if let Some(space) = &found {
            let mut e = self.lock();
            if e.generation == generation {
                if e.map.len() >= MAX_ENTRIES {
                    e.map.clear();
                }
                e.map.insert(key, (Instant::now(), space.clone()));
            }
        }
        Ok(found)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        // The map holds no invariant a panicking holder could break.
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
