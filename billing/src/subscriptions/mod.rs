//! Seat subscriptions: a space buys a plan for terms. One live subscription per space (a unique
//! index over the rows not cancelled). A term is `[starts_on, ends_on)`: `ends_on` is the next
//! term's first day, when the renewal job runs.
//!
//! - Sale: the plan's terms are copied onto the row, and the first term's invoice is issued
//!   (none for a free plan).
//! - More seats mid-term: a prorated invoice now ([`proration`]); fewer: recorded for renewal.
//! - Cancellation takes effect at term end: the renewal job then ends the subscription.
//! - A renewal invoice still due 30 days after its due date makes the subscription `PAST_DUE`
//!   (new enrolments into included editions are refused); paid, it is `ACTIVE` again.

pub(crate) mod entity;
pub mod proration;

use chrono::{DateTime, Months, NaiveDate, NaiveTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use spaces_tenants::{Error, Result, TenantTx, jobs};

use crate::accounts::entity::account;
use crate::invoices::{self, IssueInput, LineInput, Vat};
use crate::plans::{Plan, Term};
use crate::{BillingAccountId, Currency, InvoiceId, Money, PlanId, SubscriptionId};
use entity::subscription;

/// Days after issue an invoice of a subscription is due.
pub const PAYMENT_DAYS: u64 = 30;
/// Days after its due date an unpaid renewal invoice makes the subscription past due.
pub const OVERDUE_DAYS: u64 = 30;

pub const RENEW: &str = "subscription.renew";
pub const OVERDUE: &str = "subscription.overdue";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Active,
    PastDue,
    Cancelled,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::PastDue => "past_due",
            Status::Cancelled => "cancelled",
        }
    }

    fn from_db(s: &str) -> Self {
        match s {
            "past_due" => Status::PastDue,
            "cancelled" => Status::Cancelled,
            _ => Status::Active,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Subscription {
    pub id: SubscriptionId,
    pub plan: PlanId,
    pub plan_name: String,
    pub billing_account: BillingAccountId,
    pub term: Term,
    /// What the plan priced: `price` for `plan_seats` seats per term, VAT excluded.
    pub plan_seats: i32,
    pub price: Money,
    pub vat_basis_points: i32,
    pub seats: i32,
    /// The seats the next term opens with.
    pub renewal_seats: i32,
    pub starts_on: NaiveDate,
    /// The next term's first day.
    pub ends_on: NaiveDate,
    pub status: Status,
    pub cancel_at_term_end: bool,
    /// The latest renewal's invoice, which the overdue job watches.
    pub renewal_invoice: Option<InvoiceId>,
}

impl TryFrom<subscription::Model> for Subscription {
    type Error = Error;
    fn try_from(m: subscription::Model) -> Result<Self> {
        let currency = Currency::parse("currency", &m.currency)
            .map_err(|e| Error::Internal(format!("subscription {}: {e}", m.id)))?;
        Ok(Self {
            id: SubscriptionId::from_uuid(m.id),
            plan: PlanId::from_uuid(m.plan_id),
            plan_name: m.plan_name,
            billing_account: BillingAccountId::from_uuid(m.billing_account_id),
            term: Term::from_db(&m.term),
            plan_seats: m.plan_seats,
            price: Money::new(m.price_minor, currency),
            vat_basis_points: m.vat_basis_points,
            seats: m.seats,
            renewal_seats: m.renewal_seats,
            starts_on: m.starts_on,
            ends_on: m.ends_on,
            status: Status::from_db(&m.status),
            cancel_at_term_end: m.cancel_at_term_end,
            renewal_invoice: m.renewal_invoice_id.map(InvoiceId::from_uuid),
        })
    }
}

fn term_end(term: Term, starts_on: NaiveDate) -> Result<NaiveDate> {
    starts_on
        .checked_add_months(Months::new(term.months()))
        .ok_or_else(|| Error::invalid("startsOn", "is too far in the future"))
}

fn midnight(d: NaiveDate) -> DateTime<Utc> {
    d.and_time(NaiveTime::MIN).and_utc()
}

fn seats_in_range(field: &'static str, seats: i32) -> Result<()> {
    if (1..=crate::plans::MAX_SEATS).contains(&seats) {
        Ok(())
    } else {
        Err(Error::invalid(
            field,
            format!("must be between 1 and {}", crate::plans::MAX_SEATS),
        ))
    }
}

/// The subscription not cancelled, locked for the rest of the transaction when `lock`.
pub(crate) async fn live_model(tx: &TenantTx, lock: bool) -> Result<Option<subscription::Model>> {
    let mut q = tx
        .select::<subscription::Entity>()
        .filter(subscription::Column::Status.ne(Status::Cancelled.as_str()));
    if lock {
        q = q.lock_exclusive();
    }
    q.one().await
}

/// The space's subscription to show: the live one, or else the latest that ended.
pub async fn current(tx: &TenantTx) -> Result<Option<Subscription>> {
    if let Some(m) = live_model(tx, false).await? {
        return Some(m.try_into()).transpose();
    }
    tx.select::<subscription::Entity>()
        .order_by_desc(subscription::Column::EndsOn)
        .one()
        .await?
        .map(Subscription::try_from)
        .transpose()
}

/// Seats held now (distinct learners with a live enrolment in an included edition).
pub async fn used(tx: &TenantTx) -> Result<i64> {
    spaces_tenants::enrolments::seats_used(tx).await
}

/// What an operator sells.
pub struct Sale {
    pub starts_on: NaiveDate,
    /// The plan's seats when not given.
    pub seats: Option<i32>,
    pub billing_account: BillingAccountId,
}

/// Sells `plan` to the transaction's space: the subscription, its first term's invoice and its
/// renewal job, all in `tx`.
pub async fn sell(
    tx: &TenantTx,
    now: DateTime<Utc>,
    plan: &Plan,
    sale: Sale,
) -> Result<(Subscription, Option<InvoiceId>)> {
    if plan.retired_at.is_some() {
        return Err(Error::conflict("planId", "this plan is retired"));
    }
    let seats = sale.seats.unwrap_or(plan.seats);
    seats_in_range("seats", seats)?;
    let acc = tx
        .select::<account::Entity>()
        .filter(account::Column::Id.eq(sale.billing_account.uuid()))
        .one()
        .await?
        .ok_or_else(|| Error::not_found_field("billingAccountId", "no such billing account"))?;
    if acc.currency != plan.price.currency().code() {
        return Err(Error::invalid(
            "planId",
            format!(
                "this plan is priced in {}, the billing account pays in {}",
                plan.price.currency().code(),
                acc.currency
            ),
        ));
    }
    if let Some(old) = live_model(tx, true).await? {
        // A cancelled subscription past its end, which its renewal job has not closed yet, is
        // closed here so that the space can buy again.
        if old.cancel_at_term_end && now.date_naive() >= old.ends_on {
            set_status(
                tx,
                now,
                SubscriptionId::from_uuid(old.id),
                Status::Cancelled,
            )
            .await?;
        } else {
            return Err(Error::conflict(
                "spaceId",
                "this space already has a subscription; change its seats or cancel it",
            ));
        }
    }
    let ends_on = term_end(plan.term, sale.starts_on)?;
    if ends_on <= now.date_naive() {
        return Err(Error::invalid(
            "startsOn",
            "the first term would already be over; start it later",
        ));
    }
    let id = SubscriptionId::new();
    let m = tx
        .insert(subscription::ActiveModel {
            tenant_id: sea_orm::NotSet,
            id: Set(id.uuid()),
            plan_id: Set(plan.id.uuid()),
            billing_account_id: Set(sale.billing_account.uuid()),
            plan_name: Set(plan.name.clone()),
            term: Set(plan.term.as_str().to_owned()),
            plan_seats: Set(plan.seats),
            price_minor: Set(plan.price.amount_minor()),
            currency: Set(plan.price.currency().code().to_owned()),
            vat_basis_points: Set(plan.vat_basis_points),
            seats: Set(seats),
            renewal_seats: Set(seats),
            starts_on: Set(sale.starts_on),
            ends_on: Set(ends_on),
            status: Set(Status::Active.as_str().to_owned()),
            cancel_at_term_end: Set(false),
            renewal_invoice_id: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        })
        .await
        .map_err(|e| match e {
            // Another sale won the race for the space's one live subscription.
            Error::Db(ref db)
                if matches!(
                    db.sql_err(),
                    Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
                ) =>
            {
                Error::conflict("spaceId", "this space already has a subscription")
            }
            e => e,
        })?;
    let sub: Subscription = m.try_into()?;
    let invoice = term_invoice(tx, now, &sub).await?;
    schedule_renewal(tx, &sub).await?;
    Ok((sub, invoice))
}

/// The invoice of the subscription's current term (none when it costs nothing).
async fn term_invoice(
    tx: &TenantTx,
    now: DateTime<Utc>,
    sub: &Subscription,
) -> Result<Option<InvoiceId>> {
    let amount = proration::term_price(sub.price.amount_minor(), sub.plan_seats, sub.seats)?;
    let description = format!(
        "{}: {} seats, {} to {}",
        sub.plan_name,
        sub.seats,
        sub.starts_on,
        sub.ends_on.pred_opt().unwrap_or(sub.ends_on)
    );
    issue(tx, now, sub, amount, description).await
}

async fn issue(
    tx: &TenantTx,
    now: DateTime<Utc>,
    sub: &Subscription,
    amount_minor: i64,
    description: String,
) -> Result<Option<InvoiceId>> {
    if amount_minor == 0 {
        return Ok(None);
    }
    let issued = invoices::issue(
        tx,
        now,
        IssueInput {
            buyer: sub.billing_account,
            lines: vec![LineInput {
                description: description.clone(),
                quantity: 1,
                unit_price: Money::new(amount_minor, sub.price.currency()),
                vat: Vat::Rate {
                    basis_points: u32::try_from(sub.vat_basis_points).unwrap_or(0),
                },
                charge: None,
            }],
            due_date: now.date_naive() + chrono::Days::new(PAYMENT_DAYS),
            note: Some(format!("Subscription {description}")),
        },
    )
    .await?;
    Ok(Some(issued.id))
}

async fn schedule_renewal(tx: &TenantTx, sub: &Subscription) -> Result<()> {
    let key = format!("{RENEW}:{}:{}", sub.id, sub.ends_on);
    jobs::enqueue(
        tx,
        RENEW,
        midnight(sub.ends_on),
        serde_json::json!({ "subscription": sub.id.to_string() }),
        Some(&key),
    )
    .await
}

async fn locked_live(tx: &TenantTx) -> Result<subscription::Model> {
    live_model(tx, true)
        .await?
        .ok_or_else(|| Error::refused("SUBSCRIPTION_REQUIRED", "this space has no subscription"))
}

/// More seats now, with a prorated invoice for the rest of the term; fewer seats from the next
/// term on. Returns the subscription and the prorated invoice, if any.
pub async fn change_seats(
    tx: &TenantTx,
    now: DateTime<Utc>,
    seats: i32,
) -> Result<(Subscription, Option<InvoiceId>)> {
    seats_in_range("seats", seats)?;
    let m = locked_live(tx).await?;
    let sub: Subscription = m.clone().try_into()?;
    if sub.cancel_at_term_end {
        return Err(Error::conflict(
            "seats",
            "this subscription ends at its term end; sell a new one instead",
        ));
    }
    let today = now.date_naive();
    let mut am: subscription::ActiveModel = m.into();
    let mut invoice = None;
    if seats > sub.seats {
        let added = seats - sub.seats;
        let term_days = (sub.ends_on - sub.starts_on).num_days();
        let from = today.max(sub.starts_on);
        let remaining = (sub.ends_on - from).num_days().max(0);
        let amount = proration::prorated(
            sub.price.amount_minor(),
            sub.plan_seats,
            added,
            remaining,
            term_days,
        )?;
        invoice = issue(
            tx,
            now,
            &sub,
            amount,
            format!(
                "{}: {added} more seats, {from} to {} ({remaining}/{term_days} days)",
                sub.plan_name,
                sub.ends_on.pred_opt().unwrap_or(sub.ends_on)
            ),
        )
        .await?;
        am.seats = Set(seats);
    }
    // Fewer seats never take seats away mid-term: they apply from the next term.
    am.renewal_seats = Set(seats);
    am.updated_at = Set(now);
    let m = tx
        .update_many::<subscription::Entity>()
        .set(am)
        .filter(subscription::Column::Id.eq(sub.id.uuid()))
        .exec_with_returning()
        .await?;
    let m = m
        .into_iter()
        .next()
        .ok_or_else(|| Error::Internal("the locked subscription vanished".into()))?;
    Ok((m.try_into()?, invoice))
}

/// Cancels at term end: seats stay until then, no renewal follows.
pub async fn cancel(tx: &TenantTx, now: DateTime<Utc>) -> Result<Subscription> {
    let m = locked_live(tx).await?;
    let id = m.id;
    tx.update_many::<subscription::Entity>()
        .col_expr(subscription::Column::CancelAtTermEnd, Expr::value(true))
        .col_expr(subscription::Column::UpdatedAt, Expr::value(now))
        .filter(subscription::Column::Id.eq(id))
        .exec()
        .await?;
    let mut sub: Subscription = m.try_into()?;
    sub.cancel_at_term_end = true;
    Ok(sub)
}

/// The renewal job: at the end of a term, opens the next one with the seats asked for renewal
/// and issues its invoice; a cancelled subscription ends instead. Running it again for the same
/// term changes nothing.
pub async fn renew(tx: &TenantTx, now: DateTime<Utc>, id: SubscriptionId) -> Result<()> {
    let Some(m) = tx
        .select::<subscription::Entity>()
        .filter(subscription::Column::Id.eq(id.uuid()))
        .lock_exclusive()
        .one()
        .await?
    else {
        return Ok(());
    };
    let sub: Subscription = m.try_into()?;
    // Already renewed past this point, ended, or not due yet.
    if sub.status == Status::Cancelled || now < midnight(sub.ends_on) {
        return Ok(());
    }
    if sub.cancel_at_term_end {
        tx.update_many::<subscription::Entity>()
            .col_expr(
                subscription::Column::Status,
                Expr::value(Status::Cancelled.as_str()),
            )
            .col_expr(subscription::Column::UpdatedAt, Expr::value(now))
            .filter(subscription::Column::Id.eq(id.uuid()))
            .exec()
            .await?;
        return Ok(());
    }
    let starts_on = sub.ends_on;
    let ends_on = term_end(sub.term, starts_on)?;
    let next = Subscription {
        seats: sub.renewal_seats,
        starts_on,
        ends_on,
        ..sub
    };
    let invoice = term_invoice(tx, now, &next).await?;
    tx.update_many::<subscription::Entity>()
        .col_expr(subscription::Column::Seats, Expr::value(next.seats))
        .col_expr(subscription::Column::StartsOn, Expr::value(starts_on))
        .col_expr(subscription::Column::EndsOn, Expr::value(ends_on))
        // Past due, it keeps watching the overdue invoice; the new one gets its own job.
        .col_expr(
            subscription::Column::RenewalInvoiceId,
            if next.status == Status::PastDue {
                Expr::value(next.renewal_invoice.map(|i| i.uuid()))
            } else {
                Expr::value(invoice.map(|i| i.uuid()))
            },
        )
        .col_expr(subscription::Column::UpdatedAt, Expr::value(now))
        .filter(subscription::Column::Id.eq(id.uuid()))
        .exec()
        .await?;
    schedule_renewal(tx, &next).await?;
    if let Some(invoice) = invoice {
        let due = now.date_naive() + chrono::Days::new(PAYMENT_DAYS + OVERDUE_DAYS);
        jobs::enqueue(
            tx,
            OVERDUE,
            midnight(due),
            serde_json::json!({ "subscription": id.to_string(), "invoice": invoice.to_string() }),
            Some(&format!("{OVERDUE}:{invoice}")),
        )
        .await?;
    }
    Ok(())
}

/// Whether an issued invoice still has something due.
async fn unpaid(tx: &TenantTx, invoice: InvoiceId) -> Result<bool> {
    Ok(invoices::document(tx, invoice).await?.due_minor > 0)
}

/// The overdue job, 30 days after a renewal invoice's due date: still unpaid, the subscription
/// becomes `PAST_DUE` watching this invoice, and the job looks again the next day; paid, a
/// subscription past due for this invoice is `ACTIVE` again (one past due for another overdue
/// invoice stays so: that invoice's own job decides).
pub async fn check_overdue(
    tx: &TenantTx,
    now: DateTime<Utc>,
    id: SubscriptionId,
    invoice: InvoiceId,
) -> Result<()> {
    let Some(m) = live_model(tx, true).await? else {
        return Ok(());
    };
    if m.id != id.uuid() {
        return Ok(());
    }
    if unpaid(tx, invoice).await? {
        jobs::enqueue(
            tx,
            OVERDUE,
            now + chrono::Duration::days(1),
            serde_json::json!({ "subscription": id.to_string(), "invoice": invoice.to_string() }),
            Some(&format!("{OVERDUE}:{invoice}:{}", now.date_naive())),
        )
        .await?;
        tx.update_many::<subscription::Entity>()
            .col_expr(
                subscription::Column::Status,
                Expr::value(Status::PastDue.as_str()),
            )
            .col_expr(
                subscription::Column::RenewalInvoiceId,
                Expr::value(invoice.uuid()),
            )
            .col_expr(subscription::Column::UpdatedAt, Expr::value(now))
            .filter(subscription::Column::Id.eq(id.uuid()))
            .exec()
            .await?;
        return Ok(());
    }
    if m.status == Status::PastDue.as_str() && m.renewal_invoice_id == Some(invoice.uuid()) {
        set_status(tx, now, id, Status::Active).await?;
    }
    Ok(())
}

async fn set_status(
    tx: &TenantTx,
    now: DateTime<Utc>,
    id: SubscriptionId,
    to: Status,
) -> Result<()> {
    tx.update_many::<subscription::Entity>()
        .col_expr(subscription::Column::Status, Expr::value(to.as_str()))
        .col_expr(subscription::Column::UpdatedAt, Expr::value(now))
        .filter(subscription::Column::Id.eq(id.uuid()))
        .exec()
        .await?;
    Ok(())
}

/// For the gate: a past-due subscription whose renewal invoice was paid since is active again
/// at once (the overdue job would say so the next day). Returns whether it is still past due.
pub(crate) async fn still_past_due(
    tx: &TenantTx,
    now: DateTime<Utc>,
    m: &subscription::Model,
) -> Result<bool> {
    let Some(invoice) = m.renewal_invoice_id.map(InvoiceId::from_uuid) else {
        return Ok(false);
    };
    if unpaid(tx, invoice).await? {
        return Ok(true);
    }
    set_status(tx, now, SubscriptionId::from_uuid(m.id), Status::Active).await?;
    Ok(false)
}
