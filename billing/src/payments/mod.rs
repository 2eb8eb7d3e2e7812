//! Payments against invoices: recorded by hand (bank transfer) or from a provider's webhook.
//!
//! CONTRACT (foundation): `record` and `refund` are what the provider webhooks call; their
//! signatures stay.
//!
//! Rules: partial payments are allowed; a payment above what is left to pay is refused with
//! `OVERPAYMENT` (its `dueMinor` says what is due), so cash never sits unallocated. A provider's
//! payment or refund is recorded once per space, keyed by its external id. Payments are
//! append-only (triggers on both databases). Ledger: a payment debits cash and credits the
//! buyer's receivable; a refund credits cash and debits the receivable for what a credit note
//! had made owed back to the buyer, the refunds account for the rest (a gesture that leaves the
//! invoice paid).

pub(crate) mod entity;
pub mod provider;
pub mod stripe;
pub mod webhooks;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ActiveValue::Set, ColumnTrait, QueryFilter, QueryOrder, QuerySelect};
use spaces_tenants::kernel::page::{Page, PageRequest};
use spaces_tenants::kernel::values::name;
use spaces_tenants::{Error, Principal, Result, TenantTx};

use crate::accounts::{self, BillingAccount};
use crate::invoices::entity::invoice;
use crate::ledger::{self, Account, Kind, Posting};
use crate::{BillingAccountId, Currency, InvoiceId, Money, PaymentId};
use entity::payment;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Method {
    /// Recorded by an admin (bank transfer).
    Manual,
    /// Confirmed by a payment provider; the id is the provider's (a Stripe payment intent),
    /// unique per space so the same payment is never recorded twice.
    Provider {
        provider: String,
        external_id: String,
    },
}

#[derive(Clone, Debug)]
pub struct PaymentInput {
    pub invoice: InvoiceId,
    pub amount: Money,
    pub received_on: NaiveDate,
    pub method: Method,
    pub reference: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PaymentKind {
    Payment,
    Refund,
}

/// A recorded payment or refund.
#[derive(Clone, Debug)]
pub struct Payment {
    pub id: PaymentId,
    pub invoice: InvoiceId,
    pub kind: PaymentKind,
    pub amount: Money,
    pub received_on: NaiveDate,
    pub method: Method,
    pub reference: String,
    pub refund_of: Option<PaymentId>,
    pub created_at: DateTime<Utc>,
}

pub(crate) fn to_payment(m: payment::Model) -> Result<Payment> {
    let c = Currency::parse("currency", &m.currency)
        .map_err(|_| Error::Internal(format!("stored currency {:?}", m.currency)))?;
    Ok(Payment {
        id: PaymentId::from_uuid(m.id),
        invoice: InvoiceId::from_uuid(m.invoice_id),
        kind: if m.kind == "refund" {
            PaymentKind::Refund
        } else {
            PaymentKind::Payment
        },
        amount: Money::new(m.amount_minor, c),
        received_on: m.received_on,
        method: match (m.provider, m.external_id) {
            (Some(provider), Some(external_id)) => Method::Provider {
                provider,
                external_id,
            },
            _ => Method::Manual,
        },
        reference: m.reference,
        refund_of: m.refund_of.map(PaymentId::from_uuid),
        created_at: m.created_at,
    })
}

/// An issued invoice (not a credit note), locked until the transaction ends, so payments,
/// refunds and credit notes of one invoice are decided one after the other.
async fn locked_invoice(tx: &TenantTx, id: InvoiceId) -> Result<invoice::Model> {
    tx.select::<invoice::Entity>()
        .filter(invoice::Column::Id.eq(id.uuid()))
        .filter(invoice::Column::Kind.eq("invoice"))
        .filter(invoice::Column::Status.eq("issued"))
        .lock_exclusive()
        .one()
        .await?
        .ok_or_else(|| Error::not_found_field("invoiceId", "no such issued invoice"))
}

/// (paid, credited) of an invoice: payments less the receivable part of refunds, and the
/// totals of its issued credit notes.
pub(crate) async fn settled(tx: &TenantTx, id: uuid::Uuid) -> Result<(i64, i64)> {
    let mut paid = 0i64;
    for p in tx
        .select::<payment::Entity>()
        .filter(payment::Column::InvoiceId.eq(id))
        .all()
        .await?
    {
        if p.kind == "payment" {
            paid += p.amount_minor;
        } else {
            paid -= p.receivable_minor;
        }
    }
    let credited = tx
        .select::<invoice::Entity>()
        .filter(invoice::Column::CorrectsId.eq(id))
        .filter(invoice::Column::Status.eq("issued"))
        .all()
        .await?
        .iter()
        .map(|n| n.gross_minor)
        .sum();
    Ok((paid, credited))
}

fn positive_in(field: &'static str, amount: Money, currency: &str) -> Result<()> {
    if amount.currency().code() != currency {
        return Err(Error::invalid(
            field,
            format!("must be in the invoice's currency, {currency}"),
        ));
    }
    if !amount.is_positive() {
        return Err(Error::invalid(field, "must be more than zero"));
    }
    Ok(())
}

/// Records a payment and posts its ledger transaction (cash against the buyer's receivable).
/// Recording the same provider payment twice returns the first one's id and posts nothing.
pub async fn record(tx: &TenantTx, now: DateTime<Utc>, input: PaymentInput) -> Result<PaymentId> {
    let reference = name("reference", &input.reference, 200)?;
    let inv = locked_invoice(tx, input.invoice).await?;
    if let Method::Provider {
        provider,
        external_id,
    } = &input.method
        && let Some(first) = tx
            .select::<payment::Entity>()
            .filter(payment::Column::Kind.eq("payment"))
            .filter(payment::Column::Provider.eq(provider.as_str()))
            .filter(payment::Column::ExternalId.eq(external_id.as_str()))
            .one()
            .await?
    {
        return Ok(PaymentId::from_uuid(first.id));
    }
    positive_in("amount", input.amount, &inv.currency)?;
    if input.method == Method::Manual && input.received_on > now.date_naive() {
        return Err(Error::invalid("receivedOn", "must not be in the future"));
    }
    let (paid, credited) = settled(tx, inv.id).await?;
    let due = (inv.gross_minor - credited - paid).max(0);
    if input.amount.amount_minor() > due {
        return Err(Error::RefusedWith {
            code: "OVERPAYMENT",
            reason: format!(
                "amount: more than what is left to pay on this invoice ({} minor units)",
                due
            )
            .into(),
            figures: vec![("dueMinor", due)],
        });
    }
    let (provider, external_id, method) = match input.method {
        Method::Manual => (None, None, "manual"),
        Method::Provider {
            provider,
            external_id,
        } => (Some(provider), Some(external_id), "provider"),
    };
    let id = PaymentId::new();
    tx.insert(payment::ActiveModel {
        tenant_id: Set(uuid::Uuid::nil()),
        id: Set(id.uuid()),
        invoice_id: Set(inv.id),
        kind: Set("payment".to_owned()),
        amount_minor: Set(input.amount.amount_minor()),
        currency: Set(inv.currency.clone()),
        receivable_minor: Set(input.amount.amount_minor()),
        received_on: Set(input.received_on),
        method: Set(method.to_owned()),
        provider: Set(provider),
        external_id: Set(external_id),
        reference: Set(reference),
        refund_of: Set(None),
        created_at: Set(now),
    })
    .await?;
    let buyer = BillingAccountId::from_uuid(inv.account_id);
    ledger::post(
        tx,
        now,
        Posting {
            kind: Kind::Payment,
            reference: id.uuid(),
            entries: vec![
                (Account::Cash, input.amount),
                (
                    Account::Receivable(buyer),
                    input
                        .amount
                        .neg()
                        .map_err(|_| Error::invalid("amount", "is too large"))?,
                ),
            ],
        },
    )
    .await?;
    // A learner's invoice, once paid, lets their place in.
    crate::vouchers::payment::invoice_paid(tx, now, InvoiceId::from_uuid(inv.id)).await?;
    Ok(id)
}

/// A bank transfer recorded by an admin (operators and tenant admins).
pub async fn record_manual(
    tx: &TenantTx,
    who: &Principal,
    now: DateTime<Utc>,
    invoice: InvoiceId,
    amount: Money,
    received_on: NaiveDate,
    reference: &str,
) -> Result<PaymentId> {
    accounts::require_manager(who)?;
    record(
        tx,
        now,
        PaymentInput {
            invoice,
            amount,
            received_on,
            method: Method::Manual,
            reference: reference.to_owned(),
        },
    )
    .await
}

/// Records a refund of a recorded payment (refunds against cash), whole or in part. A refund of
/// a payment not recorded (yet: provider events arrive out of order) is `NotFound`; the
/// webhook side keeps such an event and applies it when the payment arrives.
///
/// For a provider, `reference` is the refund's own id there: the same refund recorded twice
/// changes nothing. A manual payment is refunded by id (`refund_payment`).
pub async fn refund(
    tx: &TenantTx,
    now: DateTime<Utc>,
    payment: &Method,
    amount: Money,
    reference: &str,
) -> Result<()> {
    let Method::Provider {
        provider,
        external_id,
    } = payment
    else {
        return Err(Error::invalid(
            "payment",
            "a manual payment is refunded by its id",
        ));
    };
    let Some(paid) = tx
        .select::<payment::Entity>()
        .filter(payment::Column::Kind.eq("payment"))
        .filter(payment::Column::Provider.eq(provider.as_str()))
        .filter(payment::Column::ExternalId.eq(external_id.as_str()))
        .one()
        .await?
    else {
        return Err(Error::NotFound);
    };
    // The invoice's lock first, as `record` takes it: two deliveries of one refund then take
    // turns, and the second sees the first's row instead of hitting the unique index.
    locked_invoice(tx, InvoiceId::from_uuid(paid.invoice_id)).await?;
    let done = tx
        .select::<payment::Entity>()
        .filter(payment::Column::Kind.eq("refund"))
        .filter(payment::Column::Provider.eq(provider.as_str()))
        .filter(payment::Column::ExternalId.eq(reference))
        .count()
        .await?;
    if done > 0 {
        return Ok(());
    }
    refund_of(
        tx,
        now,
        paid,
        amount,
        reference,
        Some((provider, reference)),
    )
    .await
}

/// Refunds a recorded payment by id (operators and tenant admins): a bank transfer back.
pub async fn refund_payment(
    tx: &TenantTx,
    who: &Principal,
    now: DateTime<Utc>,
    payment_id: PaymentId,
    amount: Money,
    reference: &str,
) -> Result<()> {
    accounts::require_manager(who)?;
    let paid = tx
        .select::<payment::Entity>()
        .filter(payment::Column::Id.eq(payment_id.uuid()))
        .filter(payment::Column::Kind.eq("payment"))
        .one()
        .await?
        .ok_or_else(|| Error::not_found_field("paymentId", "no such payment"))?;
    refund_of(tx, now, paid, amount, reference, None).await
}

async fn refund_of(
    tx: &TenantTx,
    now: DateTime<Utc>,
    paid: payment::Model,
    amount: Money,
    reference: &str,
    provider: Option<(&String, &str)>,
) -> Result<()> {
    let reference = name("reference", reference, 200)?;
    let inv = locked_invoice(tx, InvoiceId::from_uuid(paid.invoice_id)).await?;
    positive_in("amount", amount, &inv.currency)?;
    let refunded: i64 = tx
        .select::<payment::Entity>()
        .filter(payment::Column::RefundOf.eq(paid.id))
        .all()
        .await?
        .iter()
        .map(|r| r.amount_minor)
        .sum();
    let left = paid.amount_minor - refunded;
    if amount.amount_minor() > left {
        return Err(Error::invalid(
            "amount",
            format!("more than what is left of the payment to refund ({left} minor units)"),
        ));
    }
    let (paid_total, credited) = settled(tx, inv.id).await?;
    // What the buyer is owed back (credit notes over an invoice already paid) re-opens the
    // receivable; the rest of the refund is a gesture, booked to refunds.
    let owed_back = (paid_total + credited - inv.gross_minor).max(0);
    let to_receivable = amount.amount_minor().min(owed_back);
    let to_refunds = amount.amount_minor() - to_receivable;
    let id = PaymentId::new();
    let (prov, ext, method) = match provider {
        Some((p, r)) => (Some(p.clone()), Some(r.to_owned()), "provider"),
        None => (None, None, "manual"),
    };
    tx.insert(payment::ActiveModel {
        tenant_id: Set(uuid::Uuid::nil()),
        id: Set(id.uuid()),
        invoice_id: Set(inv.id),
        kind: Set("refund".to_owned()),
        amount_minor: Set(amount.amount_minor()),
        currency: Set(inv.currency.clone()),
        receivable_minor: Set(to_receivable),
        received_on: Set(now.date_naive()),
        method: Set(method.to_owned()),
        provider: Set(prov),
        external_id: Set(ext),
        reference: Set(reference),
        refund_of: Set(Some(paid.id)),
        created_at: Set(now),
    })
    .await?;
    let c = amount.currency();
    let buyer = BillingAccountId::from_uuid(inv.account_id);
    let mut entries = vec![
        (Account::Receivable(buyer), Money::new(to_receivable, c)),
        (Account::Refunds, Money::new(to_refunds, c)),
        (Account::Cash, Money::new(-amount.amount_minor(), c)),
    ];
    entries.retain(|(_, m)| !m.is_zero());
    ledger::post(
        tx,
        now,
        Posting {
            kind: Kind::Refund,
            reference: id.uuid(),
            entries,
        },
    )
    .await?;
    Ok(())
}

/// Payments and refunds the caller may read (of one invoice, or all), oldest first.
pub async fn list(
    tx: &TenantTx,
    who: &Principal,
    invoice: Option<InvoiceId>,
    page: PageRequest,
) -> Result<Page<Payment>> {
    if !accounts::may_read_any(who) {
        return Err(Error::Forbidden(
            "payments are read by the space's admins and HR",
        ));
    }
    let mut q = tx.select::<payment::Entity>();
    if let Some(i) = invoice {
        let m = tx
            .select::<invoice::Entity>()
            .filter(invoice::Column::Id.eq(i.uuid()))
            .one()
            .await?
            .ok_or_else(|| Error::not_found_field("invoiceId", "no such invoice"))?;
        let a = accounts::load(tx, BillingAccountId::from_uuid(m.account_id)).await?;
        if !accounts::may_read(tx, who, a.organisation).await? {
            return Err(Error::not_found_field("invoiceId", "no such invoice"));
        }
        q = q.filter(payment::Column::InvoiceId.eq(i.uuid()));
    } else if !(who.is_operator() || who.is_tenant_admin()) {
        let mut accounts_in_reach = Vec::new();
        for m in tx
            .select::<accounts::entity::account::Entity>()
            .all()
            .await?
        {
            let a = BillingAccount::from_model(m)?;
            if accounts::may_read(tx, who, a.organisation).await? {
                accounts_in_reach.push(a.id.uuid());
            }
        }
        let invoices: Vec<uuid::Uuid> = tx
            .select::<invoice::Entity>()
            .filter(invoice::Column::AccountId.is_in(accounts_in_reach))
            .all()
            .await?
            .into_iter()
            .map(|i| i.id)
            .collect();
        q = q.filter(payment::Column::InvoiceId.is_in(invoices));
    }
    if let Some(a) = page.after {
        q = q.filter(payment::Column::Id.gt(a));
    }
    let rows = q
        .order_by_asc(payment::Column::Id)
        .limit(page.first + 1)
        .all()
        .await?
        .into_iter()
        .map(to_payment)
        .collect::<Result<Vec<_>>>()?;
    Ok(Page::from_overfetch(rows, page))
}
