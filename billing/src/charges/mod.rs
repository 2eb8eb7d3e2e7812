//! Charges of priced editions: one per enrolment, on the nearest billing account up the
//! person's organisation tree, at the edition's price and VAT. Invoiced in the monthly run per
//! billing account (one line per enrolment), or at once when the edition asks. A withdrawal
//! within the edition's period drops a charge not yet invoiced, or credits its line.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Days, Months, NaiveDate, NaiveTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, QueryFilter, QueryOrder, Set};
use spaces_tenants::editions::{Edition, Price};
use spaces_tenants::{EnrolmentId, Error, OrganisationId, Result, TenantTx, jobs};

use crate::accounts::entity::account;
use crate::invoices::{self, IssueInput, LineInput, Vat};
use crate::{BillingAccountId, ChargeId, Currency, InvoiceId, InvoiceLineId, Money};

pub const INVOICE_RUN: &str = "charges.invoice_run";
/// Days after issue a charges invoice is due.
pub const PAYMENT_DAYS: u64 = 30;

pub(crate) mod charge {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "charges")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub enrolment_id: Uuid,
        pub edition_id: Uuid,
        pub billing_account_id: Uuid,
        pub description: String,
        pub amount_minor: i64,
        pub currency: String,
        pub vat_basis_points: Option<i32>,
        pub vat_exempt_mention: Option<String>,
        pub status: String,
        pub invoice_id: Option<Uuid>,
        pub invoice_line_id: Option<Uuid>,
        pub withdrawal_until: DateTimeUtc,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
        /// `company` | `funder` | `learner`: whose share of the seat this is.
        pub payer: String,
        pub funder_id: Option<Uuid>,
        pub redemption_id: Option<Uuid>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

spaces_tenants::tenant_entity!(charge);

pub(crate) const PENDING: &str = "pending";
/// A funder's share waiting for the learner's own payment: not invoiced until it arrives.
pub(crate) const ON_HOLD: &str = "on_hold";
const INVOICED: &str = "invoiced";
const DROPPED: &str = "dropped";
const CREDITED: &str = "credited";

/// One share of a seat to charge (see `vouchers::split` for how shares get their net).
pub(crate) struct NewRow<'a> {
    pub id: uuid::Uuid,
    pub enrolment: EnrolmentId,
    pub edition: spaces_tenants::EditionId,
    pub account: uuid::Uuid,
    pub description: String,
    pub net: Money,
    pub vat: &'a Vat,
    pub status: &'static str,
    pub withdrawal_until: DateTime<Utc>,
    /// `company` | `funder` | `learner`.
    pub payer: &'static str,
    pub funder: Option<uuid::Uuid>,
    pub redemption: Option<uuid::Uuid>,
}

pub(crate) fn row(r: NewRow<'_>, now: DateTime<Utc>) -> charge::ActiveModel {
    let (vat_bp, mention) = match r.vat {
        Vat::Rate { basis_points } => (Some(*basis_points as i32), None),
        Vat::Exempt { mention } => (None, Some(mention.clone())),
    };
    charge::ActiveModel {
        tenant_id: sea_orm::NotSet,
        id: Set(r.id),
        enrolment_id: Set(r.enrolment.uuid()),
        edition_id: Set(r.edition.uuid()),
        billing_account_id: Set(r.account),
        description: Set(r.description),
        amount_minor: Set(r.net.amount_minor()),
        currency: Set(r.net.currency().code().to_owned()),
        vat_basis_points: Set(vat_bp),
        vat_exempt_mention: Set(mention),
        status: Set(r.status.to_owned()),
        invoice_id: Set(None),
        invoice_line_id: Set(None),
        withdrawal_until: Set(r.withdrawal_until),
        created_at: Set(now),
        updated_at: Set(now),
        payer: Set(r.payer.to_owned()),
        funder_id: Set(r.funder),
        redemption_id: Set(r.redemption),
    }
}

/// After charges were written: invoiced at once when the edition asks (those pending), else
/// the monthly run is scheduled.
pub(crate) async fn invoice_or_schedule(
    tx: &TenantTx,
    now: DateTime<Utc>,
    edition: &Edition,
    ids: Vec<uuid::Uuid>,
) -> Result<()> {
    if edition.billing.invoice_immediately {
        let charges = tx
            .select::<charge::Entity>()
            .filter(charge::Column::Id.is_in(ids))
            .filter(charge::Column::Status.eq(PENDING))
            .order_by_asc(charge::Column::BillingAccountId)
            .all()
            .await?;
        invoice_charges(tx, now, charges).await?;
        Ok(())
    } else {
        schedule_run(tx, now).await
    }
}

pub(crate) async fn load(tx: &TenantTx, id: uuid::Uuid) -> Result<Option<charge::Model>> {
    tx.select::<charge::Entity>()
        .filter(charge::Column::Id.eq(id))
        .one()
        .await
}

/// Held charges whose learner paid join the monthly run.
pub(crate) async fn release_hold(
    tx: &TenantTx,
    now: DateTime<Utc>,
    ids: &[uuid::Uuid],
) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    tx.update_many::<charge::Entity>()
        .col_expr(charge::Column::Status, Expr::value(PENDING))
        .col_expr(charge::Column::UpdatedAt, Expr::value(now))
        .filter(charge::Column::Id.is_in(ids.iter().copied()))
        .filter(charge::Column::Status.eq(ON_HOLD))
        .exec()
        .await?;
    schedule_run(tx, now).await
}

/// Undoes one charge: dropped when not invoiced yet, its line credited when it was. Returns
/// whether it had been invoiced.
pub(crate) async fn undo(tx: &TenantTx, now: DateTime<Utc>, c: &charge::Model) -> Result<bool> {
    match (c.status.as_str(), c.invoice_id, c.invoice_line_id) {
        (INVOICED, Some(inv), Some(line)) => {
            invoices::credit(
                tx,
                now,
                InvoiceId::from_uuid(inv),
                &[InvoiceLineId::from_uuid(line)],
                "Withdrawal within the withdrawal period",
            )
            .await?;
            mark(tx, now, c.id, CREDITED, None).await?;
            Ok(true)
        }
        (PENDING | ON_HOLD, _, _) => {
            mark(tx, now, c.id, DROPPED, None).await?;
            Ok(false)
        }
        _ => Ok(c.status == CREDITED),
    }
}

/// The price a priced edition charges per enrolment; `None` for an included or free edition.
pub fn price_of(edition: &Edition) -> Result<Option<Money>> {
    match &edition.price {
        Price::PerSeat(m) if m.is_positive() => Ok(Some(*m)),
        _ => Ok(None),
    }
}

pub(crate) fn billing_account_required() -> Error {
    Error::refused(
        "BILLING_ACCOUNT_REQUIRED",
        "this edition is priced and no organisation above this person has a billing account",
    )
}

/// The nearest billing account must pay in the edition's currency (no conversion).
pub(crate) fn same_currency(acc: &account::Model, price: Money) -> Result<()> {
    if acc.currency == price.currency().code() {
        return Ok(());
    }
    Err(Error::refused(
        "BILLING_ACCOUNT_REQUIRED",
        format!(
            "this edition is priced in {}, the billing account that would pay is in {}",
            price.currency().code(),
            acc.currency
        ),
    ))
}

/// The charges of a batch just placed, with their immediate invoice when the edition asks.
pub(crate) async fn create(
    tx: &TenantTx,
    now: DateTime<Utc>,
    edition: &Edition,
    price: Money,
    vat: &Vat,
    placed: &[spaces_tenants::enrolments::Placed],
) -> Result<()> {
    let ancestries: Vec<Vec<OrganisationId>> = placed.iter().map(|p| p.ancestry.clone()).collect();
    let accounts = crate::accounts::accounts_on(tx, &ancestries).await?;
    let until = now + chrono::Duration::days(i64::from(edition.billing.withdrawal_days));
    let description = format!(
        "Enrolment: {}",
        edition
            .title
            .clone()
            .unwrap_or_else(|| format!("edition {}", edition.id))
    );
    let (vat_bp, mention) = match vat {
        Vat::Rate { basis_points } => (Some(*basis_points as i32), None),
        Vat::Exempt { mention } => (None, Some(mention.clone())),
    };
    let mut rows = Vec::with_capacity(placed.len());
    for p in placed {
        let acc = crate::accounts::deepest(&accounts, &p.ancestry)
            .ok_or_else(billing_account_required)?;
        same_currency(acc, price)?;
        rows.push(charge::ActiveModel {
            tenant_id: sea_orm::NotSet,
            id: Set(ChargeId::new().uuid()),
            enrolment_id: Set(p.enrolment.uuid()),
            edition_id: Set(edition.id.uuid()),
            billing_account_id: Set(acc.id),
            description: Set(description.clone()),
            amount_minor: Set(price.amount_minor()),
            currency: Set(price.currency().code().to_owned()),
            vat_basis_points: Set(vat_bp),
            vat_exempt_mention: Set(mention.clone()),
            status: Set(PENDING.to_owned()),
            invoice_id: Set(None),
            invoice_line_id: Set(None),
            withdrawal_until: Set(until),
            created_at: Set(now),
            updated_at: Set(now),
            payer: Set("company".to_owned()),
            funder_id: Set(None),
            redemption_id: Set(None),
        });
    }
    let ids: Vec<uuid::Uuid> = rows
        .iter()
        .filter_map(|r| r.id.try_as_ref().copied())
        .collect();
    for chunk in rows.chunks(500) {
        tx.insert_many(chunk.to_vec()).await?;
    }
    if edition.billing.invoice_immediately {
        let charges = tx
            .select::<charge::Entity>()
            .filter(charge::Column::Id.is_in(ids))
            .order_by_asc(charge::Column::BillingAccountId)
            .all()
            .await?;
        invoice_charges(tx, now, charges).await?;
    } else {
        schedule_run(tx, now).await?;
    }
    Ok(())
}

fn midnight(d: NaiveDate) -> DateTime<Utc> {
    d.and_time(NaiveTime::MIN).and_utc()
}

/// The first day of the month after `now`'s, when the monthly run invoices what is pending.
pub fn next_run(now: DateTime<Utc>) -> DateTime<Utc> {
    let first = now.date_naive().with_day(1).unwrap_or(now.date_naive());
    midnight(first.checked_add_months(Months::new(1)).unwrap_or(first))
}

/// At most one pending run per space and month.
async fn schedule_run(tx: &TenantTx, now: DateTime<Utc>) -> Result<()> {
    let at = next_run(now);
    jobs::enqueue(
        tx,
        INVOICE_RUN,
        at,
        serde_json::json!({}),
        Some(&format!("{INVOICE_RUN}:{}", at.date_naive())),
    )
    .await
}

fn vat_of(c: &charge::Model) -> Vat {
    match (c.vat_basis_points, &c.vat_exempt_mention) {
        (Some(bp), _) => Vat::Rate {
            basis_points: u32::try_from(bp).unwrap_or(0),
        },
        (None, Some(m)) => Vat::Exempt { mention: m.clone() },
        (None, None) => Vat::Rate { basis_points: 0 },
    }
}

/// One invoice per billing account for the given pending charges (one line each), and the
/// charges marked invoiced with their line.
async fn invoice_charges(
    tx: &TenantTx,
    now: DateTime<Utc>,
    charges: Vec<charge::Model>,
) -> Result<Vec<InvoiceId>> {
    let mut by_account: BTreeMap<uuid::Uuid, Vec<charge::Model>> = BTreeMap::new();
    for c in charges {
        by_account.entry(c.billing_account_id).or_default().push(c);
    }
    let mut issued = Vec::new();
    for (acc, charges) in by_account {
        let mut lines = Vec::with_capacity(charges.len());
        for c in &charges {
            let currency = Currency::parse("currency", &c.currency)
                .map_err(|e| Error::Internal(format!("charge {}: {e}", c.id)))?;
            lines.push(LineInput {
                description: c.description.clone(),
                quantity: 1,
                unit_price: Money::new(c.amount_minor, currency),
                vat: vat_of(c),
                charge: Some(ChargeId::from_uuid(c.id)),
            });
        }
        let inv = invoices::issue(
            tx,
            now,
            IssueInput {
                buyer: BillingAccountId::from_uuid(acc),
                lines,
                due_date: now.date_naive() + Days::new(PAYMENT_DAYS),
                note: Some(if charges.iter().all(|c| c.payer == "funder") {
                    "Vouchers redeemed on enrolments, one line per redemption".into()
                } else {
                    "Enrolments in priced editions".into()
                }),
            },
        )
        .await?;
        for (c, line) in charges.iter().zip(&inv.lines) {
            mark(tx, now, c.id, INVOICED, Some((inv.id, *line))).await?;
        }
        redemptions_invoiced(tx, now, &charges).await?;
        issued.push(inv.id);
    }
    Ok(issued)
}

/// The redemptions of funder charges just invoiced: their funder receivable moves to the
/// invoice's own posting (`redemption_invoiced`, the reverse of each `redemption`).
async fn redemptions_invoiced(
    tx: &TenantTx,
    now: DateTime<Utc>,
    charges: &[charge::Model],
) -> Result<()> {
    use crate::ledger::{self, Account, Kind, Posting};
    use crate::vouchers::entity::redemption;
    let ids: Vec<uuid::Uuid> = charges.iter().filter_map(|c| c.redemption_id).collect();
    if ids.is_empty() {
        return Ok(());
    }
    for r in tx
        .select::<redemption::Entity>()
        .filter(redemption::Column::Id.is_in(ids))
        .all()
        .await?
    {
        let Some(c) = charges.iter().find(|c| c.redemption_id == Some(r.id)) else {
            continue;
        };
        let currency = Currency::parse("currency", &r.currency)
            .map_err(|e| Error::Internal(format!("redemption {}: {e}", r.id)))?;
        ledger::post(
            tx,
            now,
            Posting {
                kind: Kind::RedemptionInvoiced,
                reference: r.id,
                entries: vec![
                    (
                        Account::VoucherLiability,
                        Money::new(r.amount_minor, currency),
                    ),
                    (
                        Account::FunderReceivable(BillingAccountId::from_uuid(
                            c.billing_account_id,
                        )),
                        Money::new(-r.amount_minor, currency),
                    ),
                ],
            },
        )
        .await?;
    }
    Ok(())
}

async fn mark(
    tx: &TenantTx,
    now: DateTime<Utc>,
    id: uuid::Uuid,
    status: &str,
    invoiced: Option<(InvoiceId, InvoiceLineId)>,
) -> Result<()> {
    let mut q = tx
        .update_many::<charge::Entity>()
        .col_expr(charge::Column::Status, Expr::value(status))
        .col_expr(charge::Column::UpdatedAt, Expr::value(now));
    if let Some((inv, line)) = invoiced {
        q = q
            .col_expr(charge::Column::InvoiceId, Expr::value(inv.uuid()))
            .col_expr(charge::Column::InvoiceLineId, Expr::value(line.uuid()));
    }
    q.filter(charge::Column::Id.eq(id)).exec().await?;
    Ok(())
}

/// The monthly run: every pending charge of the space made before `now`, one invoice per
/// billing account. Pending charges are then none, so running it twice issues nothing more.
pub async fn invoice_due_charges(tx: &TenantTx, now: DateTime<Utc>) -> Result<Vec<InvoiceId>> {
    let charges = tx
        .select::<charge::Entity>()
        .filter(charge::Column::Status.eq(PENDING))
        .filter(charge::Column::CreatedAt.lt(now))
        .order_by_asc(charge::Column::CreatedAt)
        .order_by_asc(charge::Column::Id)
        .all()
        .await?;
    invoice_charges(tx, now, charges).await
}

/// A withdrawal: inside the period, a pending charge is dropped and an invoiced one credited
/// (a credit note for its line); after it, the charge stays.
pub(crate) async fn withdrawn(
    tx: &TenantTx,
    now: DateTime<Utc>,
    enrolment: EnrolmentId,
) -> Result<()> {
    let charges = tx
        .select::<charge::Entity>()
        .filter(charge::Column::EnrolmentId.eq(enrolment.uuid()))
        .filter(charge::Column::Status.is_in([PENDING, ON_HOLD, INVOICED]))
        .all()
        .await?;
    for c in charges {
        if now >= c.withdrawal_until {
            continue;
        }
        undo(tx, now, &c).await?;
    }
    Ok(())
}

/// A charge as the API shows it.
#[derive(Clone, Debug)]
pub struct Charge {
    pub id: ChargeId,
    pub enrolment: EnrolmentId,
    pub billing_account: BillingAccountId,
    pub amount: Money,
    pub status: String,
    pub invoice: Option<InvoiceId>,
    pub withdrawal_until: DateTime<Utc>,
    /// `company` | `funder` | `learner`: whose share of the seat this is (net of VAT).
    pub payer: String,
    pub funder: Option<crate::FunderId>,
}

/// The charges of one enrolment (a re-enrolment makes a second), oldest first.
pub async fn of_enrolment(tx: &TenantTx, enrolment: EnrolmentId) -> Result<Vec<Charge>> {
    tx.select::<charge::Entity>()
        .filter(charge::Column::EnrolmentId.eq(enrolment.uuid()))
        .order_by_asc(charge::Column::CreatedAt)
        .all()
        .await?
        .into_iter()
        .map(|c| {
            let currency = Currency::parse("currency", &c.currency)
                .map_err(|e| Error::Internal(format!("charge {}: {e}", c.id)))?;
            Ok(Charge {
                id: ChargeId::from_uuid(c.id),
                enrolment: EnrolmentId::from_uuid(c.enrolment_id),
                billing_account: BillingAccountId::from_uuid(c.billing_account_id),
                amount: Money::new(c.amount_minor, currency),
                status: c.status,
                invoice: c.invoice_id.map(InvoiceId::from_uuid),
                withdrawal_until: c.withdrawal_until,
                funder: c.funder_id.map(crate::FunderId::from_uuid),
                payer: c.payer,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_monthly_run_is_on_the_first_of_next_month() {
        let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        assert_eq!(
            next_run(at("2026-11-30T23:59:59Z")),
            at("2026-12-01T00:00:00Z")
        );
        assert_eq!(
            next_run(at("2026-12-01T00:00:00Z")),
            at("2027-01-01T00:00:00Z")
        );
        assert_eq!(
            next_run(at("2027-01-31T12:00:00Z")),
            at("2027-02-01T00:00:00Z")
        );
    }
}
