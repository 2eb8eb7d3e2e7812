//! What funders read about their batches: the batches, and per batch the codes issued,
//! redeemed, pending, expired and revoked, and the amount consumed. The figures of any number
//! of batches come from two grouped statements, never a walk over codes.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, QueryFilter, QueryOrder, QuerySelect};
use spaces_tenants::kernel::page::{Page, PageRequest};
use spaces_tenants::{Error, Principal, Result, TenantTx};

use super::batch::Batch;
use super::entity::{batch, redemption, voucher};
use crate::funders::{self, policy};
use crate::{FunderId, Money, VoucherBatchId};

/// A batch's figures at a moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stats {
    /// Codes made.
    pub issued: u32,
    /// Confirmed uses.
    pub redeemed: u32,
    /// Uses waiting for a learner's payment.
    pub pending: u32,
    /// Codes never used, not revoked, and past the batch's window.
    pub expired: u32,
    /// Codes revoked (all of them once the batch is).
    pub revoked: u32,
    /// What confirmed and pending uses cover.
    pub consumed: Money,
}

/// A batch without access checks (the caller checks): unknown is `NotFound`.
pub(crate) async fn load(tx: &TenantTx, id: VoucherBatchId) -> Result<Batch> {
    tx.select::<batch::Entity>()
        .filter(batch::Column::Id.eq(id.uuid()))
        .one()
        .await?
        .ok_or(Error::NotFound)
        .and_then(Batch::from_model)
}

/// A batch the caller may see (its funder's staff, the space's admins); `NotFound` otherwise,
/// as for an unknown id.
pub async fn get(tx: &TenantTx, who: &Principal, id: VoucherBatchId) -> Result<Batch> {
    let b = load(tx, id).await?;
    let f = funders::load(tx, b.funder).await?;
    if policy::may_manage_batches(who, &f) {
        Ok(b)
    } else {
        Err(Error::NotFound)
    }
}

/// A funder's batches, in creation order (its staff, the space's admins; `NOT_FOUND` on
/// `funderId` otherwise).
pub async fn list(
    tx: &TenantTx,
    who: &Principal,
    funder: FunderId,
    page: PageRequest,
) -> Result<Page<Batch>> {
    let f = funders::get(tx, who, funder)
        .await
        .map_err(|e| e.not_found_as("funderId", "no such funder"))?;
    let mut q = tx
        .select::<batch::Entity>()
        .filter(batch::Column::FunderId.eq(f.id.uuid()));
    if let Some(after) = page.after {
        q = q.filter(batch::Column::Id.gt(after));
    }
    let rows = q
        .order_by_asc(batch::Column::Id)
        .limit(page.first + 1)
        .all()
        .await?;
    let items = rows
        .into_iter()
        .map(Batch::from_model)
        .collect::<Result<Vec<_>>>()?;
    Ok(Page::from_overfetch(items, page))
}

fn count(v: i64) -> u32 {
    u32::try_from(v.max(0)).unwrap_or(u32::MAX)
}

/// The figures of these batches (already checked) at `now`: two statements whatever their
/// number.
pub async fn stats(
    tx: &TenantTx,
    batches: &[&Batch],
    now: DateTime<Utc>,
) -> Result<HashMap<VoucherBatchId, Stats>> {
    let mut out: HashMap<VoucherBatchId, Stats> = batches
        .iter()
        .map(|b| {
            (
                b.id,
                Stats {
                    issued: b.code_count,
                    redeemed: 0,
                    pending: 0,
                    expired: 0,
                    revoked: 0,
                    consumed: Money::new(0, b.currency),
                },
            )
        })
        .collect();
    if batches.is_empty() {
        return Ok(out);
    }
    let ids: Vec<uuid::Uuid> = batches.iter().map(|b| b.id.uuid()).collect();
    // Per batch: revoked codes, and codes never used nor revoked.
    let codes: Vec<(uuid::Uuid, i64, i64)> = tx
        .select::<voucher::Entity>()
        .select_only()
        .column(voucher::Column::BatchId)
        .column_as(
            Expr::cust("CAST(SUM(CASE WHEN revoked_at IS NOT NULL THEN 1 ELSE 0 END) AS BIGINT)"),
            "revoked",
        )
        .column_as(
            Expr::cust(
                "CAST(SUM(CASE WHEN revoked_at IS NULL AND uses = 0 THEN 1 ELSE 0 END) AS BIGINT)",
            ),
            "unused",
        )
        .filter(voucher::Column::BatchId.is_in(ids.clone()))
        .group_by(voucher::Column::BatchId)
        .tuples()
        .await?;
    let by_id: HashMap<uuid::Uuid, &Batch> = batches.iter().map(|b| (b.id.uuid(), *b)).collect();
    for (id, revoked, unused) in codes {
        let (Some(b), Some(s)) = (by_id.get(&id), out.get_mut(&VoucherBatchId::from_uuid(id)))
        else {
            continue;
        };
        s.revoked = count(revoked);
        if now >= b.valid_until {
            s.expired = count(unused);
        }
    }
    // Per batch and status: uses and what they cover.
    let uses: Vec<(uuid::Uuid, String, i64, i64)> = tx
        .select::<redemption::Entity>()
        .select_only()
        .column(redemption::Column::BatchId)
        .column(redemption::Column::Status)
        .column_as(Expr::cust("CAST(COUNT(*) AS BIGINT)"), "n")
        .column_as(
            Expr::cust("CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT)"),
            "amount",
        )
        .filter(redemption::Column::BatchId.is_in(ids))
        .filter(redemption::Column::Status.is_in(["pending", "confirmed"]))
        .group_by(redemption::Column::BatchId)
        .group_by(redemption::Column::Status)
        .tuples()
        .await?;
    for (id, status, n, amount) in uses {
        let Some(s) = out.get_mut(&VoucherBatchId::from_uuid(id)) else {
            continue;
        };
        match status.as_str() {
            "confirmed" => s.redeemed = count(n),
            _ => s.pending = count(n),
        }
        s.consumed = Money::new(s.consumed.amount_minor() + amount, s.consumed.currency());
    }
    Ok(out)
}
