//! An enrolment waiting for the learner's own payment (`PENDING_PAYMENT`): billing puts a place
//! there when vouchers and the company leave something for the learner to pay, and moves it on
//! when the payment arrives or the wait runs out. Each move is a conditional update, so a
//! payment and the release racing each other move the place once.

use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, QueryFilter};

use super::entity::enrolment;
use super::{EnrolmentStatus, record};
use crate::{EnrolmentId, Result, TenantTx};

async fn swap(
    tx: &TenantTx,
    id: EnrolmentId,
    from: EnrolmentStatus,
    to: EnrolmentStatus,
    event: &str,
) -> Result<bool> {
    let now = chrono::Utc::now();
    let moved = tx
        .update_many::<enrolment::Entity>()
        .col_expr(enrolment::Column::Status, Expr::value(to.as_str()))
        .col_expr(enrolment::Column::UpdatedAt, Expr::value(now))
        .filter(enrolment::Column::Id.eq(id.uuid()))
        .filter(enrolment::Column::Status.eq(from.as_str()))
        .exec()
        .await?;
    if moved > 0 {
        record(tx, id, event, None).await?;
    }
    Ok(moved > 0)
}

/// A place just taken (`ACTIVE`) now waits for the learner's payment. False if it was not
/// active.
pub async fn await_payment(tx: &TenantTx, id: EnrolmentId) -> Result<bool> {
    swap(
        tx,
        id,
        EnrolmentStatus::Active,
        EnrolmentStatus::PendingPayment,
        "awaiting_payment",
    )
    .await
}

/// The learner paid: the place turns `ACTIVE`. False if it was not waiting (paid already,
/// released, withdrawn), so a replayed payment moves nothing.
pub async fn payment_confirmed(tx: &TenantTx, id: EnrolmentId) -> Result<bool> {
    swap(
        tx,
        id,
        EnrolmentStatus::PendingPayment,
        EnrolmentStatus::Active,
        "paid",
    )
    .await
}

/// Unpaid in time: the place is given up (`WITHDRAWN`, event `released`). False if it was not
/// waiting any more.
pub async fn release_unpaid(tx: &TenantTx, id: EnrolmentId) -> Result<bool> {
    swap(
        tx,
        id,
        EnrolmentStatus::PendingPayment,
        EnrolmentStatus::Withdrawn,
        "released",
    )
    .await
}
