//! Stored answers of requests sent with an `Idempotency-Key` (Stripe's semantics; the HTTP side
//! is `spaces_gateway::idempotency`).
//!
//! In a space, the key is claimed and its answer stored inside the request's own transaction:
//! the answer commits exactly when the request's effects do, so "one execution" holds even if
//! the server dies in between (then nothing committed, and a retry runs the request afresh). A
//! duplicate arriving while the first is running is told so at once: on PostgreSQL the first
//! holds a transaction-scoped advisory lock on the key; SQLite runs one transaction at a time,
//! so a duplicate there simply waits and then finds the stored answer.
//!
//! Keys past the retention are unknown at once and deleted by [`purge`], which the gateway runs
//! every hour.
//!
//! On the platform host (operator requests, whose mutations commit on their own), the key is
//! claimed `in_flight` in a committed row first and completed with the answer after. A crash
//! between the two leaves it `in_flight`: retries then get `CONFLICT` until the key expires,
//! which never runs a request twice.

mod entity;

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use sha2::{Digest, Sha256};

use crate::{Db, PlatformTx, Result, TenantTx};
use entity::{key, platform_key};

/// How long a key and its answer are kept.
pub const RETENTION: Duration = Duration::hours(24);

/// A stored answer, replayed byte for byte.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    pub http_status: u16,
    pub content_type: String,
    pub body: String,
}

/// What a key already holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Claim {
    /// Nobody used it (or it expired): the caller now runs the request.
    Fresh,
    /// Another request with this key is running.
    InFlight,
    /// A request with this key ran; its fingerprint and answer.
    Done { fingerprint: String, answer: Answer },
}

/// The advisory lock's key: the space, the caller and the key, hashed to 64 bits. A collision
/// (about 2^-64) only makes a request wait for the other's `CONFLICT`, never replay.
fn lock_id(tx: &TenantTx, caller: &str, idem_key: &str) -> i64 {
    let mut h = Sha256::new();
    h.update(b"idempotency\0");
    h.update(tx.tenant_uuid().as_bytes());
    h.update(caller.as_bytes());
    h.update(b"\0");
    h.update(idem_key.as_bytes());
    let d = h.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&d[..8]);
    i64::from_be_bytes(first)
}

/// Claims `idem_key` for `caller` in the transaction's space, as the request's first work.
/// `Fresh` holds the key (on PostgreSQL) until the transaction ends.
pub async fn claim_in_space(
    tx: &TenantTx,
    now: DateTime<Utc>,
    caller: &str,
    idem_key: &str,
) -> Result<Claim> {
    let cutoff = now - RETENTION;
    // A finished key answers without the lock, so replays never wait on each other.
    if let Some(done) = stored(tx, caller, idem_key, cutoff).await? {
        return Ok(done);
    }
    if tx.tx.get_database_backend() == sea_orm::DbBackend::Postgres {
        let rows = tx
            .raw_all(
                "SELECT pg_try_advisory_xact_lock($1) AS held",
                vec![lock_id(tx, caller, idem_key).into()],
            )
            .await?;
        let held = rows
            .first()
            .map(|r| r.try_get::<bool>("", "held"))
            .transpose()?
            .unwrap_or(false);
        if !held {
            return Ok(Claim::InFlight);
        }
        // The holder before us may have committed between our read and the lock.
        if let Some(done) = stored(tx, caller, idem_key, cutoff).await? {
            return Ok(done);
        }
    }
    // An expired answer under this key makes way for the new one. Only this key's row, under
    // its lock: the request's transaction holds no other row it could wait on.
    tx.delete_many::<key::Entity>()
        .filter(key::Column::Caller.eq(caller))
        .filter(key::Column::IdemKey.eq(idem_key))
        .filter(key::Column::CreatedAt.lt(cutoff))
        .exec()
        .await?;
    Ok(Claim::Fresh)
}

async fn stored(
    tx: &TenantTx,
    caller: &str,
    idem_key: &str,
    cutoff: DateTime<Utc>,
) -> Result<Option<Claim>> {
    let found = tx
        .select::<key::Entity>()
        .filter(key::Column::Caller.eq(caller))
        .filter(key::Column::IdemKey.eq(idem_key))
        .filter(key::Column::CreatedAt.gte(cutoff))
        .one()
        .await?;
    Ok(found.map(|m| Claim::Done {
        fingerprint: m.fingerprint,
        answer: Answer {
            http_status: u16::try_from(m.http_status).unwrap_or(200),
            content_type: m.content_type,
            body: m.body,
        },
    }))
}

/// Stores the answer of a request that claimed `Fresh`, in its transaction (it commits with the
/// request's effects or not at all).
pub async fn complete_in_space(
    tx: &TenantTx,
    now: DateTime<Utc>,
    caller: &str,
    idem_key: &str,
    fingerprint: &str,
    answer: &Answer,
) -> Result<()> {
    tx.insert(key::ActiveModel {
        tenant_id: Set(tx.tenant_uuid()),
        id: Set(uuid::Uuid::now_v7()),
        caller: Set(caller.to_owned()),
        idem_key: Set(idem_key.to_owned()),
        fingerprint: Set(fingerprint.to_owned()),
        http_status: Set(i32::from(answer.http_status)),
        content_type: Set(answer.content_type.clone()),
        body: Set(answer.body.clone()),
        created_at: Set(now),
    })
    .await?;
    Ok(())
}

/// Claims `idem_key` for `caller` on the platform host: a committed `in_flight` row, or what
/// the key already holds.
pub async fn claim_on_platform(
    db: &Db,
    now: DateTime<Utc>,
    caller: &str,
    idem_key: &str,
    fingerprint: &str,
) -> Result<Claim> {
    let tx = PlatformTx::begin(db).await?;
    // An expired answer under this key makes way for the new claim.
    platform_key::Entity::delete_many()
        .filter(platform_key::Column::Caller.eq(caller))
        .filter(platform_key::Column::IdemKey.eq(idem_key))
        .filter(platform_key::Column::CreatedAt.lt(now - RETENTION))
        .exec(&tx.tx)
        .await?;
    let inserted = platform_key::Entity::insert(platform_key::ActiveModel {
        id: Set(uuid::Uuid::now_v7()),
        caller: Set(caller.to_owned()),
        idem_key: Set(idem_key.to_owned()),
        fingerprint: Set(fingerprint.to_owned()),
        status: Set("in_flight".into()),
        http_status: Set(None),
        content_type: Set(None),
        body: Set(None),
        created_at: Set(now),
    })
    .on_conflict(
        OnConflict::columns([platform_key::Column::Caller, platform_key::Column::IdemKey])
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(&tx.tx)
    .await?;
    let claim = if inserted == 1 {
        Claim::Fresh
    } else {
        let m = platform_key::Entity::find()
            .filter(platform_key::Column::Caller.eq(caller))
            .filter(platform_key::Column::IdemKey.eq(idem_key))
            .one(&tx.tx)
            .await?
            .ok_or_else(|| crate::Error::Internal("idempotency key vanished".into()))?;
        match (m.status.as_str(), m.http_status, m.content_type, m.body) {
            ("completed", Some(status), Some(content_type), Some(body)) => Claim::Done {
                fingerprint: m.fingerprint,
                answer: Answer {
                    http_status: u16::try_from(status).unwrap_or(200),
                    content_type,
                    body,
                },
            },
            _ => Claim::InFlight,
        }
    };
    tx.commit().await?;
    Ok(claim)
}

/// Stores the answer of a platform request that claimed `Fresh`.
pub async fn complete_on_platform(
    db: &Db,
    caller: &str,
    idem_key: &str,
    answer: &Answer,
) -> Result<()> {
    let tx = PlatformTx::begin(db).await?;
    let row = platform_key::Entity::find()
        .filter(platform_key::Column::Caller.eq(caller))
        .filter(platform_key::Column::IdemKey.eq(idem_key))
        .filter(platform_key::Column::Status.eq("in_flight"))
        .one(&tx.tx)
        .await?;
    if let Some(m) = row {
        let mut am: platform_key::ActiveModel = m.into();
        am.status = Set("completed".into());
        am.http_status = Set(Some(i32::from(answer.http_status)));
        am.content_type = Set(Some(answer.content_type.clone()));
        am.body = Set(Some(answer.body.clone()));
        am.update(&tx.tx).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Deletes the keys past the retention, space by space (each in its own short transaction: RLS
/// shows one space at a time) and on the platform. Returns the rows deleted.
pub async fn purge(db: &Db, now: DateTime<Utc>) -> Result<u64> {
    let cutoff = now - RETENTION;
    let mut deleted = 0;
    let mut after = None;
    loop {
        let page =
            crate::spaces::list(db, crate::kernel::page::PageRequest { first: 100, after }).await?;
        for space in &page.items {
            let tx = TenantTx::begin(db, space.id).await?;
            deleted += tx
                .delete_many::<key::Entity>()
                .filter(key::Column::CreatedAt.lt(cutoff))
                .exec()
                .await?;
            tx.commit().await?;
        }
        match (page.has_next_page, page.items.last()) {
            (true, Some(last)) => after = Some(last.id.uuid()),
            _ => break,
        }
    }
    let tx = PlatformTx::begin(db).await?;
    deleted += platform_key::Entity::delete_many()
        .filter(platform_key::Column::CreatedAt.lt(cutoff))
        .exec(&tx.tx)
        .await?
        .rows_affected;
    tx.commit().await?;
    Ok(deleted)
}
