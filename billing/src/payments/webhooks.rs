//! Provider webhooks, as the platform endpoint receives them: verified, de-duplicated by event
//! id, and acted on in the space the event's metadata names.
//!
//! - A payment is recorded against its invoice ([`super::record`]) in that space's `TenantTx`.
//! - A refund is recorded against its payment ([`super::refund`]). Providers report the running
//!   total refunded; this refund is that total less the refunds already seen for the payment.
//!   A refund whose payment is not recorded yet (events arrive out of order) is parked and
//!   applied, in the payment's transaction, when the payment arrives.
//! - Anything else is recorded and ignored.
//!
//! The event row (platform data) is written after the space's work commits; they cannot share
//! a transaction (SQLite has one connection). If the server stops in between, the provider
//! sends the event again and the space's work runs again: recording a payment is idempotent by
//! the provider's payment id, and a refund carries a reference that is the same on every
//! delivery.

use chrono::{DateTime, Utc};
use reqwest::header::HeaderMap;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, Set,
};
use spaces_tenants::{Db, Error, PlatformTx, Result, TenantId, TenantTx};

use super::provider::{Event, EventKind, PaymentProvider};
use super::{Method, PaymentInput};
use crate::{Currency, Money, PaymentId};

pub(crate) mod event {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "webhook_events")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub provider: String,
        pub event_id: String,
        pub kind: String,
        pub space_id: Option<Uuid>,
        pub status: String,
        pub payment_ref: Option<String>,
        pub amount_minor: Option<i64>,
        pub currency: Option<String>,
        pub reference: Option<String>,
        pub payload: String,
        pub received_at: DateTimeUtc,
        pub applied_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// What became of a delivery.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Applied,
    /// A refund waiting for its payment.
    Parked,
    /// Recorded, nothing to do (an event type we do not act on, or one naming no space).
    Ignored,
    /// Seen before: nothing changed.
    Replayed,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Applied => "applied",
            Outcome::Parked => "parked",
            Outcome::Ignored => "ignored",
            Outcome::Replayed => "replayed",
        }
    }
}

/// Where the money movements go: [`Payments`] (the payments service) in the server; tests give
/// a fake to exercise ordering and de-duplication on their own.
#[async_trait::async_trait]
pub trait Books: Send + Sync {
    async fn record(
        &self,
        tx: &TenantTx,
        now: DateTime<Utc>,
        input: PaymentInput,
    ) -> Result<PaymentId>;
    async fn refund(
        &self,
        tx: &TenantTx,
        now: DateTime<Utc>,
        payment: &Method,
        amount: Money,
        reference: &str,
    ) -> Result<()>;
}

/// The payments service: [`super::record`] and [`super::refund`].
pub struct Payments;

#[async_trait::async_trait]
impl Books for Payments {
    async fn record(
        &self,
        tx: &TenantTx,
        now: DateTime<Utc>,
        input: PaymentInput,
    ) -> Result<PaymentId> {
        super::record(tx, now, input).await
    }

    async fn refund(
        &self,
        tx: &TenantTx,
        now: DateTime<Utc>,
        payment: &Method,
        amount: Money,
        reference: &str,
    ) -> Result<()> {
        super::refund(tx, now, payment, amount, reference).await
    }
}

/// Receives one delivery: `Invalid` (answer 400, nothing kept) when it does not verify.
pub async fn receive(
    db: &Db,
    provider: &dyn PaymentProvider,
    books: &dyn Books,
    headers: &HeaderMap,
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<Outcome> {
    let event = provider.verify_webhook(headers, body, now)?;
    handle(db, provider.name(), books, event, body, now).await
}

/// Acts on a verified event.
pub async fn handle(
    db: &Db,
    provider: &str,
    books: &dyn Books,
    event: Event,
    payload: &[u8],
    now: DateTime<Utc>,
) -> Result<Outcome> {
    if find(db, provider, &event.id).await?.is_some() {
        return Ok(Outcome::Replayed);
    }
    let mut row = event::ActiveModel {
        id: Set(uuid::Uuid::now_v7()),
        provider: Set(provider.to_owned()),
        event_id: Set(event.id.clone()),
        kind: Set(event.kind_name.clone()),
        space_id: Set(None),
        status: Set("ignored".into()),
        payment_ref: Set(None),
        amount_minor: Set(None),
        currency: Set(None),
        reference: Set(None),
        payload: Set(String::from_utf8_lossy(payload).into_owned()),
        received_at: Set(now),
        applied_at: Set(None),
    };
    let outcome = match event.kind {
        EventKind::Other => Outcome::Ignored,
        EventKind::PaymentSucceeded {
            external_id,
            amount,
            metadata,
        } => {
            // `amount_minor` stays empty on payment rows: it sums the refunds of a payment.
            row.payment_ref = Set(Some(external_id.clone()));
            row.currency = Set(Some(amount.currency().code().to_owned()));
            row.reference = Set(Some(event.id.clone()));
            match (metadata.space, metadata.invoice) {
                (Some(space), Some(invoice)) => {
                    row.space_id = Set(Some(space.uuid()));
                    let waiting = parked_for(db, provider, &external_id).await?;
                    let input = PaymentInput {
                        invoice,
                        amount,
                        received_on: now.date_naive(),
                        method: Method::Provider {
                            provider: provider.to_owned(),
                            external_id: external_id.clone(),
                        },
                        reference: event.id.clone(),
                    };
                    match pay(db, books, space, now, input, &waiting).await? {
                        true => {
                            row.status = Set("applied".into());
                            row.applied_at = Set(Some(now));
                            mark_applied(db, &waiting, space, now).await?;
                            Outcome::Applied
                        }
                        false => {
                            tracing::warn!(event = %event.id, %space, %invoice, "a payment for an invoice this space does not have; ignored");
                            Outcome::Ignored
                        }
                    }
                }
                _ => {
                    tracing::warn!(event = %event.id, "a payment naming no space and invoice; ignored");
                    Outcome::Ignored
                }
            }
        }
        EventKind::RefundSucceeded {
            payment_external_id,
            refund_id,
            total_refunded,
            metadata,
        } => {
            let before = refunded_so_far(
                db,
                provider,
                &payment_external_id,
                total_refunded.currency(),
            )
            .await?;
            let amount = Money::new(
                total_refunded.amount_minor().saturating_sub(before),
                total_refunded.currency(),
            );
            row.payment_ref = Set(Some(payment_external_id.clone()));
            row.currency = Set(Some(amount.currency().code().to_owned()));
            row.reference = Set(Some(refund_id.clone()));
            if !amount.is_positive() {
                // An older total arriving after a newer one: already counted.
                Outcome::Ignored
            } else {
                row.amount_minor = Set(Some(amount.amount_minor()));
                let space = match metadata.space {
                    Some(s) => Some(s),
                    None => payment_space(db, provider, &payment_external_id).await?,
                };
                row.space_id = Set(space.map(TenantId::uuid));
                let method = Method::Provider {
                    provider: provider.to_owned(),
                    external_id: payment_external_id.clone(),
                };
                let applied = match space {
                    None => false,
                    Some(space) => {
                        let tx = TenantTx::begin(db, space).await?;
                        match books.refund(&tx, now, &method, amount, &refund_id).await {
                            Ok(()) => {
                                tx.commit().await?;
                                true
                            }
                            Err(Error::NotFound) => {
                                tx.rollback().await?;
                                false
                            }
                            Err(e) => return Err(e),
                        }
                    }
                };
                if applied {
                    row.status = Set("applied".into());
                    row.applied_at = Set(Some(now));
                    Outcome::Applied
                } else {
                    row.status = Set("parked".into());
                    Outcome::Parked
                }
            }
        }
    };
    let payment_ref = row.payment_ref.clone().take().flatten();
    let tx = PlatformTx::begin(db).await?;
    match row.insert(tx.platform_conn()).await {
        Ok(_) => {}
        // The same event delivered twice at once: the other delivery recorded it first.
        Err(e)
            if matches!(
                e.sql_err(),
                Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
            ) =>
        {
            tx.rollback().await?;
            return Ok(Outcome::Replayed);
        }
        Err(e) => return Err(e.into()),
    }
    tx.commit().await?;
    if outcome == Outcome::Parked
        && let Some(payment) = payment_ref
    {
        // The payment may have been recorded while this refund was being parked (it read the
        // parked refunds before this one was written): apply it now rather than leave it.
        return retry_parked(db, provider, books, &payment, now).await;
    }
    Ok(outcome)
}

/// Applies refunds parked for a payment that is now recorded; `Parked` while it is not.
async fn retry_parked(
    db: &Db,
    provider: &str,
    books: &dyn Books,
    payment: &str,
    now: DateTime<Utc>,
) -> Result<Outcome> {
    let Some(space) = payment_space(db, provider, payment).await? else {
        return Ok(Outcome::Parked);
    };
    let waiting = parked_for(db, provider, payment).await?;
    let method = Method::Provider {
        provider: provider.to_owned(),
        external_id: payment.to_owned(),
    };
    let tx = TenantTx::begin(db, space).await?;
    for w in &waiting {
        let currency = w
            .currency
            .as_deref()
            .and_then(|c| Currency::parse("currency", c).ok());
        if let (Some(minor), Some(currency)) = (w.amount_minor, currency) {
            let reference = w.reference.clone().unwrap_or_else(|| w.event_id.clone());
            match books
                .refund(&tx, now, &method, Money::new(minor, currency), &reference)
                .await
            {
                Ok(()) => {}
                Err(Error::NotFound) => {
                    tx.rollback().await?;
                    return Ok(Outcome::Parked);
                }
                Err(e) => return Err(e),
            }
        }
    }
    tx.commit().await?;
    mark_applied(db, &waiting, space, now).await?;
    Ok(Outcome::Applied)
}

/// Records a payment and applies the refunds that waited for it, in one transaction of the
/// space. False when the space has no such invoice.
async fn pay(
    db: &Db,
    books: &dyn Books,
    space: TenantId,
    now: DateTime<Utc>,
    input: PaymentInput,
    waiting: &[event::Model],
) -> Result<bool> {
    let method = input.method.clone();
    let currency = input.amount.currency();
    let tx = TenantTx::begin(db, space).await?;
    match books.record(&tx, now, input).await {
        Ok(_) => {}
        Err(Error::NotFound | Error::NotFoundField { .. }) => {
            tx.rollback().await?;
            return Ok(false);
        }
        Err(e) => return Err(e),
    }
    for w in waiting {
        let amount = Money::new(w.amount_minor.unwrap_or(0), currency);
        if amount.is_positive() {
            let reference = w.reference.clone().unwrap_or_else(|| w.event_id.clone());
            books.refund(&tx, now, &method, amount, &reference).await?;
        }
    }
    tx.commit().await?;
    Ok(true)
}

async fn find(db: &Db, provider: &str, event_id: &str) -> Result<Option<event::Model>> {
    let tx = PlatformTx::begin(db).await?;
    let m = event::Entity::find()
        .filter(event::Column::Provider.eq(provider))
        .filter(event::Column::EventId.eq(event_id))
        .one(tx.platform_conn())
        .await?;
    tx.commit().await?;
    Ok(m)
}

/// Refund events parked for this payment, oldest first.
async fn parked_for(db: &Db, provider: &str, payment: &str) -> Result<Vec<event::Model>> {
    let tx = PlatformTx::begin(db).await?;
    let rows = event::Entity::find()
        .filter(event::Column::Provider.eq(provider))
        .filter(event::Column::PaymentRef.eq(payment))
        .filter(event::Column::Status.eq("parked"))
        .order_by_asc(event::Column::ReceivedAt)
        .all(tx.platform_conn())
        .await?;
    tx.commit().await?;
    Ok(rows)
}

async fn mark_applied(
    db: &Db,
    rows: &[event::Model],
    space: TenantId,
    now: DateTime<Utc>,
) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let tx = PlatformTx::begin(db).await?;
    for r in rows {
        let mut am = r.clone().into_active_model();
        am.status = Set("applied".into());
        am.space_id = Set(Some(space.uuid()));
        am.applied_at = Set(Some(now));
        am.update(tx.platform_conn()).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// What this payment has had refunded so far, by the refund events applied or parked.
async fn refunded_so_far(
    db: &Db,
    provider: &str,
    payment: &str,
    currency: Currency,
) -> Result<i64> {
    let tx = PlatformTx::begin(db).await?;
    let rows = event::Entity::find()
        .filter(event::Column::Provider.eq(provider))
        .filter(event::Column::PaymentRef.eq(payment))
        .filter(event::Column::Status.is_in(["applied", "parked"]))
        .filter(event::Column::Currency.eq(currency.code()))
        .all(tx.platform_conn())
        .await?;
    tx.commit().await?;
    Ok(rows.iter().filter_map(|r| r.amount_minor).sum())
}

/// The space of a recorded payment, when a refund's metadata names none.
async fn payment_space(db: &Db, provider: &str, payment: &str) -> Result<Option<TenantId>> {
    let tx = PlatformTx::begin(db).await?;
    let row = event::Entity::find()
        .filter(event::Column::Provider.eq(provider))
        .filter(event::Column::PaymentRef.eq(payment))
        .filter(event::Column::Status.eq("applied"))
        .filter(event::Column::SpaceId.is_not_null())
        .one(tx.platform_conn())
        .await?;
    tx.commit().await?;
    Ok(row.and_then(|r| r.space_id).map(TenantId::from_uuid))
}

/// What became of an event, if it was received (`applied`, `ignored`, `parked`).
pub async fn status_of(db: &Db, provider: &str, event_id: &str) -> Result<Option<String>> {
    Ok(find(db, provider, event_id).await?.map(|m| m.status))
}
