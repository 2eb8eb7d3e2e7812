//! What a learner pays themselves: the rest of a seat that vouchers (and no company) cover.
//! Their own billing account, an invoice issued at once, the provider's checkout for it; the
//! enrolment waits in `PENDING_PAYMENT` until the invoice is paid, and is released (its
//! voucher uses given back, its invoice cancelled by a credit note) when unpaid after the hold.
//!
//! Everything here runs in the caller's transaction: the admission's (so a refused enrolment
//! leaves no account, invoice or payment behind), the payment's, or the release job's.

use std::sync::Arc;

use chrono::{DateTime, Days, Duration, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, QueryFilter, QueryOrder};
use spaces_tenants::editions::Edition;
use spaces_tenants::spaces::Links;
use spaces_tenants::{EnrolmentId, Error, PersonId, Result, TenantTx, enrolments, jobs, people};

use super::entity::payment;
use super::redeem::{self, GiveBack};
use crate::accounts::entity::account;
use crate::invoices::{self, IssueInput, LineInput, Vat, vat};
use crate::payments::entity::payment as paid;
use crate::payments::provider::{CheckoutRequest, CheckoutState, Metadata, PaymentProvider};
use crate::{BillingAccountId, Currency, EnrolmentPaymentId, InvoiceId, Money};

/// How long an unpaid place is held.
pub const HOLD: Duration = Duration::hours(48);
/// The job that releases places unpaid after their hold.
pub const RELEASE: &str = "vouchers.release_unpaid";
/// Renews a learner's checkout before the provider closes it, while the hold runs.
pub const RENEW: &str = "vouchers.renew_checkout";
/// The longest a checkout may stay open at the provider (Stripe: 24 hours), and how long
/// before it closes a renewal replaces it.
const CHECKOUT_LIFETIME: Duration = Duration::hours(24);
const RENEW_AHEAD: Duration = Duration::minutes(10);
/// Days after issue a learner's invoice is due: the hold, rounded up.
const DUE_DAYS: u64 = 2;

const AWAITING: &str = "awaiting";
const PAID: &str = "paid";
const RELEASED: &str = "released";
const REFUNDED: &str = "refunded";

/// The provider and the pages a learner returns to. Absent (no provider configured), a
/// learner cannot be left anything to pay: `PAYMENT_UNAVAILABLE`.
#[derive(Clone)]
pub struct LearnerCheckout {
    pub provider: Arc<dyn PaymentProvider>,
    /// The learner comes back to their space's host (`<slug>.<base domain>`).
    pub links: Links,
}

/// The learner's share of one seat.
pub struct LearnerShare<'a> {
    pub edition: &'a Edition,
    pub enrolment: EnrolmentId,
    pub person: PersonId,
    /// Including VAT, like every share.
    pub amount: Money,
    pub vat: &'a Vat,
}

/// The net whose VAT brings it to `gross` (the invoice computes VAT from nets, half-up). Some
/// gross amounts no net reaches (at 20 %, 3 cents: a net of 2 makes 2, a net of 3 makes 4);
/// then the nearest net above, so the learner is never asked for less than their share's VAT
/// requires, and the invoice shows the one-cent difference.
pub fn net_for_gross(gross: Money, vat: &Vat) -> Result<Money> {
    let Vat::Rate { basis_points } = vat else {
        return Ok(gross);
    };
    let g = i128::from(gross.amount_minor());
    let bp = i128::from(*basis_points);
    let guess = (g * 10_000 + (10_000 + bp) / 2) / (10_000 + bp);
    let guess = i64::try_from(guess).map_err(|_| Error::invalid("amount", "is too large"))?;
    for n in [guess - 1, guess, guess + 1] {
        if n >= 0 && n + vat::rate_of(n, *basis_points)? == gross.amount_minor() {
            return Ok(Money::new(n, gross.currency()));
        }
    }
    Ok(Money::new(guess.max(0), gross.currency()))
}

fn unavailable() -> Error {
    Error::refused(
        "PAYMENT_UNAVAILABLE",
        "this space takes no card payments, and the vouchers given leave something to pay",
    )
}

/// The learner's own billing account in `currency`: found, or made from their name and email.
async fn learner_account(
    tx: &TenantTx,
    now: DateTime<Utc>,
    person: PersonId,
    currency: Currency,
) -> Result<BillingAccountId> {
    if let Some(a) = tx
        .select::<account::Entity>()
        .filter(account::Column::PersonId.eq(person.uuid()))
        .one()
        .await?
    {
        if a.currency != currency.code() {
            return Err(Error::refused(
                "BILLING_ACCOUNT_REQUIRED",
                format!(
                    "your billing account pays in {}, this edition is priced in {}",
                    a.currency,
                    currency.code()
                ),
            ));
        }
        return Ok(BillingAccountId::from_uuid(a.id));
    }
    let p = people::load(tx, person).await?;
    let id = BillingAccountId::new();
    tx.insert(account::ActiveModel {
        tenant_id: Set(tx.tenant().uuid()),
        id: Set(id.uuid()),
        organisation_id: Set(p.organisation.uuid()),
        person_id: Set(Some(person.uuid())),
        legal_name: Set(format!("{} {}", p.given_name, p.family_name)),
        address_line: Set(String::new()),
        postcode: Set(String::new()),
        city: Set(String::new()),
        country: Set(invoices::seller::current().country),
        registration_number: Set(None),
        vat_number: Set(None),
        invoice_email: Set(p.email),
        currency: Set(currency.code().to_owned()),
        created_at: Set(now),
        updated_at: Set(now),
    })
    .await?;
    Ok(id)
}

/// Opens the learner's payment in the admitting transaction: account, invoice, checkout,
/// the enrolment to `PENDING_PAYMENT`, the release job at `now + HOLD`. A provider that
/// cannot be reached refuses the enrolment (nothing is kept).
pub async fn open(
    tx: &TenantTx,
    now: DateTime<Utc>,
    checkout: Option<&LearnerCheckout>,
    share: LearnerShare<'_>,
) -> Result<()> {
    let checkout = checkout.ok_or_else(unavailable)?;
    if !share.amount.is_positive() {
        return Err(Error::Internal(
            "a learner's payment of nothing was opened".into(),
        ));
    }
    let buyer = learner_account(tx, now, share.person, share.amount.currency()).await?;
    let title = share
        .edition
        .title
        .clone()
        .unwrap_or_else(|| format!("edition {}", share.edition.id));
    let issued = invoices::issue(
        tx,
        now,
        IssueInput {
            buyer,
            lines: vec![LineInput {
                description: format!("Enrolment: {title} (your share)"),
                quantity: 1,
                unit_price: net_for_gross(share.amount, share.vat)?,
                vat: share.vat.clone(),
                charge: None,
            }],
            due_date: now.date_naive() + Days::new(DUE_DAYS),
            note: Some("What your vouchers leave you to pay".into()),
        },
    )
    .await?;
    let id = EnrolmentPaymentId::new();
    let expires = now + HOLD;
    let opened = open_checkout(
        tx,
        checkout,
        share.enrolment,
        issued.id,
        issued.total,
        &title,
        now,
        expires,
    )
    .await?;
    tx.insert(payment::ActiveModel {
        tenant_id: Set(tx.tenant().uuid()),
        id: Set(id.uuid()),
        enrolment_id: Set(share.enrolment.uuid()),
        person_id: Set(share.person.uuid()),
        invoice_id: Set(issued.id.uuid()),
        amount_minor: Set(issued.total.amount_minor()),
        currency: Set(issued.total.currency().code().to_owned()),
        provider: Set(checkout.provider.name().to_owned()),
        checkout_id: Set(opened.id.clone()),
        checkout_url: Set(opened.url.clone()),
        status: Set(AWAITING.to_owned()),
        expires_at: Set(expires),
        created_at: Set(now),
        updated_at: Set(now),
    })
    .await?;
    if !enrolments::await_payment(tx, share.enrolment).await? {
        return Err(Error::Internal(
            "the enrolment to pay for was not active".into(),
        ));
    }
    schedule_renewal(tx, id, &opened, expires).await?;
    jobs::enqueue(
        tx,
        RELEASE,
        expires,
        serde_json::json!({}),
        Some(&format!("{RELEASE}:{id}")),
    )
    .await
}

/// A checkout opened for the learner's invoice, open until the hold ends or as long as the
/// provider allows, whichever comes first.
#[allow(clippy::too_many_arguments)]
async fn open_checkout(
    tx: &TenantTx,
    checkout: &LearnerCheckout,
    enrolment: EnrolmentId,
    invoice: InvoiceId,
    amount: Money,
    what: &str,
    now: DateTime<Utc>,
    hold_ends: DateTime<Utc>,
) -> Result<Opened> {
    let space = spaces_tenants::spaces::current(tx).await?;
    let host = checkout.links.slug_host(&space.slug);
    let page = |outcome: &str| {
        checkout
            .links
            .page(&host, &format!("/?payment={outcome}&enrolment={enrolment}"))
    };
    let closes = (now + CHECKOUT_LIFETIME).min(hold_ends);
    let c = checkout
        .provider
        .create_checkout(CheckoutRequest {
            amount,
            description: format!("{} — {what}", space.display_name),
            metadata: Metadata {
                space: Some(tx.tenant()),
                invoice: Some(invoice),
                purpose: Some("enrolment".into()),
            },
            success_url: page("done"),
            cancel_url: page("cancelled"),
            expires_at: Some(closes),
        })
        .await?;
    Ok(Opened {
        id: c.id,
        url: c.url,
        closes,
    })
}

struct Opened {
    id: String,
    url: String,
    closes: DateTime<Utc>,
}

/// While the hold outlives the checkout, a renewal is due shortly before it closes.
async fn schedule_renewal(
    tx: &TenantTx,
    payment: EnrolmentPaymentId,
    opened: &Opened,
    hold_ends: DateTime<Utc>,
) -> Result<()> {
    if opened.closes >= hold_ends {
        return Ok(());
    }
    jobs::enqueue(
        tx,
        RENEW,
        opened.closes - RENEW_AHEAD,
        serde_json::json!({ "payment": payment.to_string() }),
        Some(&format!("{RENEW}:{}", opened.id)),
    )
    .await
}

/// The renewal job: an awaited payment's checkout is closed at the provider and a new one
/// opened for the rest of the hold (`Enrolment.payment.checkoutUrl` changes). A checkout the
/// learner completed meanwhile is left to its webhook.
pub async fn renew_checkout(
    tx: &TenantTx,
    now: DateTime<Utc>,
    checkout: Option<&LearnerCheckout>,
    id: EnrolmentPaymentId,
) -> Result<()> {
    // Without a provider any more, nothing can be renewed; the release comes as planned.
    let Some(checkout) = checkout else {
        return Ok(());
    };
    let Some(p) = tx
        .select::<payment::Entity>()
        .filter(payment::Column::Id.eq(id.uuid()))
        .one()
        .await?
    else {
        return Ok(());
    };
    if p.status != AWAITING || now >= p.expires_at {
        return Ok(());
    }
    if checkout.provider.expire_checkout(&p.checkout_id).await? == CheckoutState::Complete {
        return Ok(());
    }
    let invoice = InvoiceId::from_uuid(p.invoice_id);
    let number = tx
        .select::<crate::invoices::entity::invoice::Entity>()
        .filter(crate::invoices::entity::invoice::Column::Id.eq(invoice.uuid()))
        .one()
        .await?
        .and_then(|i| i.number)
        .unwrap_or_default();
    let currency = Currency::parse("currency", &p.currency)
        .map_err(|e| Error::Internal(format!("enrolment payment {}: {e}", p.id)))?;
    let opened = open_checkout(
        tx,
        checkout,
        EnrolmentId::from_uuid(p.enrolment_id),
        invoice,
        Money::new(p.amount_minor, currency),
        &format!("invoice {number}"),
        now,
        p.expires_at,
    )
    .await?;
    tx.update_many::<payment::Entity>()
        .col_expr(payment::Column::CheckoutId, Expr::value(opened.id.clone()))
        .col_expr(
            payment::Column::CheckoutUrl,
            Expr::value(opened.url.clone()),
        )
        .col_expr(payment::Column::UpdatedAt, Expr::value(now))
        .filter(payment::Column::Id.eq(p.id))
        .filter(payment::Column::Status.eq(AWAITING))
        .exec()
        .await?;
    schedule_renewal(tx, id, &opened, p.expires_at).await
}

/// Moves one payment row from `from` to `to`; false if it was not in `from` (another
/// delivery, the release or a withdrawal moved it first).
async fn swap(
    tx: &TenantTx,
    now: DateTime<Utc>,
    id: uuid::Uuid,
    from: &str,
    to: &str,
) -> Result<bool> {
    Ok(tx
        .update_many::<payment::Entity>()
        .col_expr(payment::Column::Status, Expr::value(to))
        .col_expr(payment::Column::UpdatedAt, Expr::value(now))
        .filter(payment::Column::Id.eq(id))
        .filter(payment::Column::Status.eq(from))
        .exec()
        .await?
        > 0)
}

/// After a payment was recorded on `invoice` (webhook or by hand): when it settles a
/// learner's invoice still awaited, the enrolment turns `ACTIVE` and its redemptions are
/// confirmed. A payment for a place already released stays recorded on its invoice (the
/// admins see an invoice both paid and credited: money to give back; see the README).
pub async fn invoice_paid(tx: &TenantTx, now: DateTime<Utc>, invoice: InvoiceId) -> Result<()> {
    let Some(p) = tx
        .select::<payment::Entity>()
        .filter(payment::Column::InvoiceId.eq(invoice.uuid()))
        .one()
        .await?
    else {
        return Ok(());
    };
    if p.status != AWAITING {
        return Ok(());
    }
    let (received, _) = crate::payments::settled(tx, invoice.uuid()).await?;
    if received < p.amount_minor {
        return Ok(());
    }
    if swap(tx, now, p.id, AWAITING, PAID).await? {
        let enrolment = EnrolmentId::from_uuid(p.enrolment_id);
        enrolments::payment_confirmed(tx, enrolment).await?;
        redeem::confirm(tx, now, enrolment).await?;
    }
    Ok(())
}

/// Gives one awaited payment up: the checkout closed at the provider first (so that nobody
/// pays for a place already given back), then the place released, the redemptions given back,
/// the unpaid invoice cancelled by a credit note. A checkout the learner completed meanwhile is
/// left to its webhook, which is on its way: nothing is released.
async fn release(
    tx: &TenantTx,
    now: DateTime<Utc>,
    checkout: Option<&LearnerCheckout>,
    p: &payment::Model,
    why: GiveBack,
) -> Result<bool> {
    if p.status != AWAITING {
        return Ok(false);
    }
    if let Some(c) = checkout
        && c.provider.expire_checkout(&p.checkout_id).await? == CheckoutState::Complete
    {
        tracing::info!(payment = %p.id, "checkout completed before its release: the webhook pays it");
        return Ok(false);
    }
    if !swap(tx, now, p.id, AWAITING, RELEASED).await? {
        return Ok(false);
    }
    let enrolment = EnrolmentId::from_uuid(p.enrolment_id);
    if why == GiveBack::Released {
        enrolments::release_unpaid(tx, enrolment).await?;
    }
    redeem::give_back(tx, now, enrolment, why).await?;
    let invoice = InvoiceId::from_uuid(p.invoice_id);
    let lines: Vec<_> = invoices::reads::line_ids(tx, invoice).await?;
    invoices::credit(
        tx,
        now,
        invoice,
        &lines,
        match why {
            GiveBack::Released => "Unpaid within 48 hours: the place was released",
            GiveBack::Withdrawn => "Withdrawn before payment",
        },
    )
    .await?;
    Ok(true)
}

/// The release job: every payment of the space still awaited past its hold is released.
/// Returns how many were.
pub async fn release_due(
    tx: &TenantTx,
    now: DateTime<Utc>,
    checkout: Option<&LearnerCheckout>,
) -> Result<u32> {
    let due = tx
        .select::<payment::Entity>()
        .filter(payment::Column::Status.eq(AWAITING))
        .filter(payment::Column::ExpiresAt.lte(now))
        .order_by_asc(payment::Column::Id)
        .all()
        .await?;
    let mut n = 0;
    for p in &due {
        if release(tx, now, checkout, p, GiveBack::Released).await? {
            n += 1;
        }
    }
    Ok(n)
}

/// A withdrawal: an awaited payment is released (whenever it happens); inside the edition's
/// period, what the learner paid goes back through the provider, with a credit note (the
/// provider's refund event books the money going out). After the period, the payment stays.
pub async fn withdrawn(
    tx: &TenantTx,
    now: DateTime<Utc>,
    checkout: Option<&LearnerCheckout>,
    enrolment: EnrolmentId,
    inside_period: bool,
) -> Result<()> {
    let rows = tx
        .select::<payment::Entity>()
        .filter(payment::Column::EnrolmentId.eq(enrolment.uuid()))
        .filter(payment::Column::Status.is_in([AWAITING, PAID]))
        .all()
        .await?;
    for p in rows {
        if p.status == AWAITING {
            release(tx, now, checkout, &p, GiveBack::Withdrawn).await?;
            continue;
        }
        if !inside_period {
            continue;
        }
        let checkout = checkout.ok_or_else(unavailable)?;
        if !swap(tx, now, p.id, PAID, REFUNDED).await? {
            continue;
        }
        let invoice = InvoiceId::from_uuid(p.invoice_id);
        let lines = invoices::reads::line_ids(tx, invoice).await?;
        invoices::credit(
            tx,
            now,
            invoice,
            &lines,
            "Withdrawal within the withdrawal period",
        )
        .await?;
        let payments = tx
            .select::<paid::Entity>()
            .filter(paid::Column::InvoiceId.eq(invoice.uuid()))
            .filter(paid::Column::Kind.eq("payment"))
            .all()
            .await?;
        for pay in payments {
            let (Some(provider), Some(external)) = (pay.provider, pay.external_id) else {
                // Paid by hand: the admins give it back by hand; the credit note says it is due.
                continue;
            };
            if provider != checkout.provider.name() {
                continue;
            }
            let currency = Currency::parse("currency", &pay.currency)
                .map_err(|e| Error::Internal(format!("payment {}: {e}", pay.id)))?;
            checkout
                .provider
                .refund(&external, Money::new(pay.amount_minor, currency))
                .await?;
        }
    }
    Ok(())
}

/// A learner's payment as the API shows it.
#[derive(Clone, Debug)]
pub struct LearnerPayment {
    pub amount: Money,
    /// `awaiting` | `paid` | `released` | `refunded`.
    pub status: String,
    pub checkout_url: Option<String>,
    pub expires_at: DateTime<Utc>,
    pub invoice: InvoiceId,
}

/// The latest learner's payment of an enrolment (a re-enrolment opens another). The caller
/// has checked who may read the enrolment.
pub async fn of_enrolment(tx: &TenantTx, enrolment: EnrolmentId) -> Result<Option<LearnerPayment>> {
    let Some(p) = tx
        .select::<payment::Entity>()
        .filter(payment::Column::EnrolmentId.eq(enrolment.uuid()))
        .order_by_desc(payment::Column::Id)
        .one()
        .await?
    else {
        return Ok(None);
    };
    let currency = Currency::parse("currency", &p.currency)
        .map_err(|e| Error::Internal(format!("enrolment payment {}: {e}", p.id)))?;
    Ok(Some(LearnerPayment {
        amount: Money::new(p.amount_minor, currency),
        checkout_url: (p.status == AWAITING).then_some(p.checkout_url),
        status: p.status,
        expires_at: p.expires_at,
        invoice: InvoiceId::from_uuid(p.invoice_id),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eur(n: i64) -> Money {
        Money::new(n, Currency::parse("c", "EUR").unwrap())
    }

    #[test]
    fn the_net_brings_the_invoice_back_to_the_share() {
        let rate = Vat::Rate { basis_points: 2000 };
        for gross in [1, 2, 4, 100, 12_000, 20_000, 33_333, 99_999] {
            let net = net_for_gross(eur(gross), &rate).unwrap().amount_minor();
            let back = net + vat::rate_of(net, 2000).unwrap();
            assert!(
                back == gross || back == gross + 1,
                "{gross}: {net} -> {back}"
            );
        }
        assert_eq!(net_for_gross(eur(24_000), &rate).unwrap(), eur(20_000));
        let exempt = Vat::Exempt {
            mention: "Exonération".into(),
        };
        assert_eq!(net_for_gross(eur(20_000), &exempt).unwrap(), eur(20_000));
    }
}
