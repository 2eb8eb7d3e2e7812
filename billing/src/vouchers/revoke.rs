//! Revocation: a whole batch, or one code. A revoked code redeems no more (redemption answers
//! `revoked`); uses already taken stay.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, QueryFilter};
use spaces_tenants::{Error, Principal, Result, TenantTx};

use super::batch::Batch;
use super::codes::{Code, VoucherKey};
use super::entity::{batch, voucher};
use super::views;
use crate::VoucherBatchId;
use crate::funders::{self, policy};

/// Revokes a batch and every code of it (the funder's staff, the space's admins; `NotFound`
/// otherwise). Revoking a revoked batch changes nothing and answers it as it is.
pub async fn batch(
    tx: &TenantTx,
    who: &Principal,
    now: DateTime<Utc>,
    id: VoucherBatchId,
) -> Result<Batch> {
    let b = views::get(tx, who, id).await?;
    if b.revoked_at.is_some() {
        return Ok(b);
    }
    tx.update_many::<batch::Entity>()
        .col_expr(batch::Column::RevokedAt, Expr::value(Some(now)))
        .filter(batch::Column::Id.eq(id.uuid()))
        .filter(batch::Column::RevokedAt.is_null())
        .exec()
        .await?;
    tx.update_many::<voucher::Entity>()
        .col_expr(voucher::Column::RevokedAt, Expr::value(Some(now)))
        .filter(voucher::Column::BatchId.eq(id.uuid()))
        .filter(voucher::Column::RevokedAt.is_null())
        .exec()
        .await?;
    views::load(tx, id).await
}

/// Revokes one code, as typed. The code is hashed and looked up; an unknown code and a code of
/// a funder the caller does not manage answer the same `NOT_FOUND` on `code`. A mistyped code
/// (its check character fails) is bad input, found without a lookup.
pub async fn code(
    tx: &TenantTx,
    who: &Principal,
    key: &VoucherKey,
    now: DateTime<Utc>,
    typed: &str,
) -> Result<()> {
    let code = Code::parse(typed).map_err(|_| {
        Error::invalid(
            "code",
            "is not a voucher code (18 characters, check character included)",
        )
    })?;
    let unknown = || Error::not_found_field("code", "no such voucher code");
    let v = tx
        .select::<voucher::Entity>()
        .filter(voucher::Column::CodeHash.eq(key.hash(tx.tenant(), &code)))
        .one()
        .await?
        .ok_or_else(unknown)?;
    let b = views::load(tx, VoucherBatchId::from_uuid(v.batch_id)).await?;
    let f = funders::load(tx, b.funder).await?;
    if !policy::may_manage_batches(who, &f) {
        return Err(unknown());
    }
    tx.update_many::<voucher::Entity>()
        .col_expr(voucher::Column::RevokedAt, Expr::value(Some(now)))
        .filter(voucher::Column::Id.eq(v.id))
        .filter(voucher::Column::RevokedAt.is_null())
        .exec()
        .await?;
    Ok(())
}
