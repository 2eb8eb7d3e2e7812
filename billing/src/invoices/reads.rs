//! The read side: invoices with their derived payment state, lists, and the document an issued
//! one renders to.
//!
//! State is never stored. It is, in this order: DRAFT (no number); CREDITED (credit notes
//! cover the whole total); PAID (payments, less what refunds gave back, cover what credit notes
//! left); OVERDUE (something left to pay after the due date); PARTIALLY_PAID (something paid);
//! ISSUED. A credit note is ISSUED.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ColumnTrait, QueryFilter, QueryOrder, QuerySelect};
use spaces_tenants::kernel::page::{Page, PageRequest};
use spaces_tenants::{Error, Principal, Result, TenantTx};

use super::entity::{invoice, line};
use super::{BreakdownRow, PartyRow, Vat};
use crate::accounts::{self, BillingAccount};
use crate::documents::{DocumentKind, DocumentLine, InvoiceDocument, VatBreakdown};
use crate::payments::entity::payment;
use crate::{BillingAccountId, Currency, InvoiceId, InvoiceLineId, Money};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InvoiceKind {
    Invoice,
    CreditNote,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Draft,
    Issued,
    PartiallyPaid,
    Paid,
    Overdue,
    Credited,
}

#[derive(Clone, Debug)]
pub struct Invoice {
    pub id: InvoiceId,
    pub kind: InvoiceKind,
    pub number: Option<String>,
    pub buyer: BillingAccountId,
    pub issue_date: Option<NaiveDate>,
    pub due_date: Option<NaiveDate>,
    pub note: Option<String>,
    /// A credit note's invoice, and why.
    pub corrects: Option<InvoiceId>,
    pub reason: Option<String>,
    pub net: Money,
    pub vat: Money,
    pub gross: Money,
    /// Payments less the refunds that re-opened the invoice.
    pub paid: Money,
    /// Issued credit notes' totals.
    pub credited: Money,
    /// What is left to pay (never below zero).
    pub due: Money,
    pub state: State,
    pub issued_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

#[derive(Clone, Debug)]
pub struct Line {
    pub id: InvoiceLineId,
    pub description: String,
    pub quantity: u32,
    pub unit_price: Money,
    pub net: Money,
    pub vat: Vat,
    /// On a credit note: the invoice line it credits.
    pub credits: Option<InvoiceLineId>,
}

/// One row of the VAT breakdown.
#[derive(Clone, Debug)]
pub struct VatRow {
    pub vat: Vat,
    pub taxable: Money,
    pub amount: Money,
}

/// An invoice with everything its page shows.
#[derive(Clone, Debug)]
pub struct Detail {
    pub invoice: Invoice,
    pub lines: Vec<Line>,
    pub vat: Vec<VatRow>,
    pub payments: Vec<crate::payments::Payment>,
    pub credit_notes: Vec<Invoice>,
}

fn currency_of(code: &str) -> Result<Currency> {
    Currency::parse("currency", code)
        .map_err(|_| Error::Internal(format!("stored currency {code:?}")))
}

/// Sums that state derives from, per invoice.
#[derive(Default, Clone, Copy)]
struct Sums {
    paid: i64,
    credited: i64,
}

async fn sums(tx: &TenantTx, ids: &[uuid::Uuid]) -> Result<HashMap<uuid::Uuid, Sums>> {
    let mut out: HashMap<uuid::Uuid, Sums> = HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    for p in tx
        .select::<payment::Entity>()
        .filter(payment::Column::InvoiceId.is_in(ids.to_vec()))
        .all()
        .await?
    {
        let s = out.entry(p.invoice_id).or_default();
        if p.kind == "payment" {
            s.paid += p.amount_minor;
        } else {
            s.paid -= p.receivable_minor;
        }
    }
    for n in tx
        .select::<invoice::Entity>()
        .filter(invoice::Column::CorrectsId.is_in(ids.to_vec()))
        .filter(invoice::Column::Status.eq("issued"))
        .all()
        .await?
    {
        if let Some(of) = n.corrects_id {
            out.entry(of).or_default().credited += n.gross_minor;
        }
    }
    Ok(out)
}

fn state(m: &invoice::Model, s: Sums, today: NaiveDate) -> State {
    if m.status == "draft" {
        return State::Draft;
    }
    if m.kind == "credit_note" {
        return State::Issued;
    }
    let left = m.gross_minor - s.credited;
    if left <= 0 {
        State::Credited
    } else if s.paid >= left {
        State::Paid
    } else if m.due_date.is_some_and(|d| today > d) {
        State::Overdue
    } else if s.paid > 0 {
        State::PartiallyPaid
    } else {
        State::Issued
    }
}

fn to_invoice(m: invoice::Model, s: Sums, today: NaiveDate) -> Result<Invoice> {
    let c = currency_of(&m.currency)?;
    let st = state(&m, s, today);
    let due = if m.kind == "invoice" && m.status == "issued" {
        (m.gross_minor - s.credited - s.paid).max(0)
    } else {
        0
    };
    Ok(Invoice {
        id: InvoiceId::from_uuid(m.id),
        kind: if m.kind == "credit_note" {
            InvoiceKind::CreditNote
        } else {
            InvoiceKind::Invoice
        },
        number: m.number,
        buyer: BillingAccountId::from_uuid(m.account_id),
        issue_date: m.issue_date,
        due_date: m.due_date,
        note: m.note,
        corrects: m.corrects_id.map(InvoiceId::from_uuid),
        reason: m.reason,
        net: Money::new(m.net_minor, c),
        vat: Money::new(m.vat_minor, c),
        gross: Money::new(m.gross_minor, c),
        paid: Money::new(s.paid, c),
        credited: Money::new(s.credited, c),
        due: Money::new(due, c),
        state: st,
        issued_at: m.issued_at,
        created_at: m.created_at,
    })
}

fn vat_of(l: &line::Model) -> Vat {
    match (l.vat_basis_points, &l.exemption) {
        (Some(bp), _) => Vat::Rate {
            basis_points: bp.max(0) as u32,
        },
        (None, m) => Vat::Exempt {
            mention: m.clone().unwrap_or_default(),
        },
    }
}

fn to_line(l: &line::Model, c: Currency) -> Line {
    Line {
        id: InvoiceLineId::from_uuid(l.id),
        description: l.description.clone(),
        quantity: u32::try_from(l.quantity).unwrap_or(u32::MAX),
        unit_price: Money::new(l.unit_price_minor, c),
        net: Money::new(l.net_minor, c),
        vat: vat_of(l),
        credits: l.credits_line_id.map(InvoiceLineId::from_uuid),
    }
}

fn breakdown_rows(m: &invoice::Model) -> Result<Vec<BreakdownRow>> {
    serde_json::from_str(&m.breakdown).map_err(|e| Error::Internal(format!("breakdown: {e}")))
}

/// Loads an invoice the caller may read (its buyer's account in reach); otherwise `NotFound`.
pub(super) async fn readable(
    tx: &TenantTx,
    who: &Principal,
    id: InvoiceId,
) -> Result<invoice::Model> {
    let m = tx
        .select::<invoice::Entity>()
        .filter(invoice::Column::Id.eq(id.uuid()))
        .one()
        .await?
        .ok_or(Error::NotFound)?;
    let a = accounts::load(tx, BillingAccountId::from_uuid(m.account_id)).await?;
    if accounts::may_read(tx, who, a.organisation).await? {
        Ok(m)
    } else {
        Err(Error::NotFound)
    }
}

pub async fn get(
    tx: &TenantTx,
    who: &Principal,
    today: NaiveDate,
    id: InvoiceId,
) -> Result<Detail> {
    let m = readable(tx, who, id).await?;
    assemble(tx, today, vec![m])
        .await?
        .pop()
        .ok_or(Error::NotFound)
}

/// The details of invoices a list already showed the caller (so no access check here), in a
/// constant number of statements however many there are.
pub async fn details(tx: &TenantTx, today: NaiveDate, invoices: &[Invoice]) -> Result<Vec<Detail>> {
    if invoices.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<uuid::Uuid> = invoices.iter().map(|i| i.id.uuid()).collect();
    let mut models = tx
        .select::<invoice::Entity>()
        .filter(invoice::Column::Id.is_in(ids.clone()))
        .all()
        .await?;
    // In the list's order.
    models.sort_by_key(|m| ids.iter().position(|i| *i == m.id));
    assemble(tx, today, models).await
}

/// Invoices with their lines, VAT rows, payments and credit notes: five statements in all.
async fn assemble(
    tx: &TenantTx,
    today: NaiveDate,
    models: Vec<invoice::Model>,
) -> Result<Vec<Detail>> {
    let ids: Vec<uuid::Uuid> = models.iter().map(|m| m.id).collect();
    let s = sums(tx, &ids).await?;
    let lines = tx
        .select::<line::Entity>()
        .filter(line::Column::InvoiceId.is_in(ids.clone()))
        .order_by_asc(line::Column::Position)
        .all()
        .await?;
    let notes = tx
        .select::<invoice::Entity>()
        .filter(invoice::Column::CorrectsId.is_in(ids.clone()))
        .filter(invoice::Column::Status.eq("issued"))
        .order_by_asc(invoice::Column::Id)
        .all()
        .await?;
    let payments = tx
        .select::<payment::Entity>()
        .filter(payment::Column::InvoiceId.is_in(ids))
        .order_by_asc(payment::Column::Id)
        .all()
        .await?;
    models
        .into_iter()
        .map(|m| {
            let c = currency_of(&m.currency)?;
            let vat = breakdown_rows(&m)?
                .into_iter()
                .map(|b| VatRow {
                    vat: match (b.basis_points, b.exemption) {
                        (Some(bp), _) => Vat::Rate { basis_points: bp },
                        (None, m) => Vat::Exempt {
                            mention: m.unwrap_or_default(),
                        },
                    },
                    taxable: Money::new(b.taxable_minor, c),
                    amount: Money::new(b.vat_minor, c),
                })
                .collect();
            Ok(Detail {
                lines: lines
                    .iter()
                    .filter(|l| l.invoice_id == m.id)
                    .map(|l| to_line(l, c))
                    .collect(),
                vat,
                payments: payments
                    .iter()
                    .filter(|p| p.invoice_id == m.id)
                    .cloned()
                    .map(crate::payments::to_payment)
                    .collect::<Result<_>>()?,
                credit_notes: notes
                    .iter()
                    .filter(|n| n.corrects_id == Some(m.id))
                    .cloned()
                    .map(|n| to_invoice(n, Sums::default(), today))
                    .collect::<Result<_>>()?,
                invoice: to_invoice(m.clone(), s.get(&m.id).copied().unwrap_or_default(), today)?,
            })
        })
        .collect()
}

/// An invoice's state and what is left to pay, without access checks: for billing's own
/// flows (a subscription whose renewal invoice is overdue). Unknown: `NotFound`.
pub async fn status(tx: &TenantTx, today: NaiveDate, id: InvoiceId) -> Result<Invoice> {
    let m = tx
        .select::<invoice::Entity>()
        .filter(invoice::Column::Id.eq(id.uuid()))
        .one()
        .await?
        .ok_or(Error::NotFound)?;
    let s = sums(tx, &[m.id])
        .await?
        .get(&m.id)
        .copied()
        .unwrap_or_default();
    to_invoice(m, s, today)
}

/// The ids of an invoice's lines, in order: what a credit note of the whole invoice names.
pub(crate) async fn line_ids(tx: &TenantTx, id: InvoiceId) -> Result<Vec<crate::InvoiceLineId>> {
    Ok(tx
        .select::<super::entity::line::Entity>()
        .filter(super::entity::line::Column::InvoiceId.eq(id.uuid()))
        .order_by_asc(super::entity::line::Column::Position)
        .all()
        .await?
        .into_iter()
        .map(|l| crate::InvoiceLineId::from_uuid(l.id))
        .collect())
}

/// Filters of the invoices list.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub state: Option<State>,
    pub kind: Option<InvoiceKind>,
    /// Issue dates from and to (both included); drafts have none and are left out by either.
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub buyer: Option<BillingAccountId>,
}

/// The invoices and credit notes the caller may read, oldest first.
pub async fn list(
    tx: &TenantTx,
    who: &Principal,
    today: NaiveDate,
    filter: Filter,
    page: PageRequest,
) -> Result<Page<Invoice>> {
    if !accounts::may_read_any(who) {
        return Err(Error::Forbidden(
            "invoices are read by the space's admins and HR",
        ));
    }
    if let (Some(f), Some(t)) = (filter.from, filter.to)
        && f > t
    {
        return Err(Error::invalid("from", "must not be after `to`"));
    }
    // A buyer named must be one the caller may read, like any id given.
    if let Some(b) = filter.buyer {
        accounts::get(tx, who, b)
            .await
            .map_err(|e| e.not_found_as("buyerId", "no such billing account"))?;
    }
    // HR: only the accounts in reach.
    let reach: Option<Vec<uuid::Uuid>> = if who.is_operator() || who.is_tenant_admin() {
        None
    } else {
        let mut ids = Vec::new();
        for m in tx
            .select::<accounts::entity::account::Entity>()
            .all()
            .await?
        {
            let a = BillingAccount::from_model(m)?;
            if accounts::may_read(tx, who, a.organisation).await? {
                ids.push(a.id.uuid());
            }
        }
        Some(ids)
    };
    let mut out = Vec::new();
    let mut after = page.after;
    // Derived state cannot be filtered in SQL: read in chunks and keep what matches.
    const CHUNK: u64 = 200;
    loop {
        let mut q = tx.select::<invoice::Entity>();
        if let Some(a) = after {
            q = q.filter(invoice::Column::Id.gt(a));
        }
        if let Some(r) = &reach {
            q = q.filter(invoice::Column::AccountId.is_in(r.clone()));
        }
        if let Some(b) = filter.buyer {
            q = q.filter(invoice::Column::AccountId.eq(b.uuid()));
        }
        if let Some(k) = filter.kind {
            q = q.filter(invoice::Column::Kind.eq(match k {
                InvoiceKind::Invoice => "invoice",
                InvoiceKind::CreditNote => "credit_note",
            }));
        }
        if let Some(f) = filter.from {
            q = q.filter(invoice::Column::IssueDate.gte(f));
        }
        if let Some(t) = filter.to {
            q = q.filter(invoice::Column::IssueDate.lte(t));
        }
        let rows = q
            .order_by_asc(invoice::Column::Id)
            .limit(CHUNK)
            .all()
            .await?;
        let n = rows.len() as u64;
        after = rows.last().map(|r| r.id);
        let ids: Vec<uuid::Uuid> = rows.iter().map(|r| r.id).collect();
        let s = sums(tx, &ids).await?;
        for m in rows {
            let id = m.id;
            let inv = to_invoice(m, s.get(&id).copied().unwrap_or_default(), today)?;
            if filter.state.is_none_or(|st| st == inv.state) {
                out.push(inv);
                if out.len() as u64 > page.first {
                    break;
                }
            }
        }
        if n < CHUNK || out.len() as u64 > page.first {
            break;
        }
    }
    Ok(Page::from_overfetch(out, page))
}

/// The document an issued invoice or credit note renders to.
pub(crate) async fn document(tx: &TenantTx, id: InvoiceId) -> Result<InvoiceDocument> {
    let m = tx
        .select::<invoice::Entity>()
        .filter(invoice::Column::Id.eq(id.uuid()))
        .filter(invoice::Column::Status.eq("issued"))
        .one()
        .await?
        .ok_or(Error::NotFound)?;
    let c = currency_of(&m.currency)?;
    let party = |s: &Option<String>| -> Result<crate::documents::Party> {
        let raw = s
            .as_deref()
            .ok_or_else(|| Error::Internal("issued invoice without its parties".into()))?;
        serde_json::from_str::<PartyRow>(raw)
            .map(Into::into)
            .map_err(|e| Error::Internal(format!("party: {e}")))
    };
    let corrects = match m.corrects_id {
        Some(of) => {
            let o = tx
                .select::<invoice::Entity>()
                .filter(invoice::Column::Id.eq(of))
                .one()
                .await?
                .ok_or_else(|| Error::Internal("credit note without its invoice".into()))?;
            o.number.zip(o.issue_date)
        }
        None => None,
    };
    let s = sums(tx, &[m.id])
        .await?
        .get(&m.id)
        .copied()
        .unwrap_or_default();
    let lines = super::lines_of(tx, id).await?;
    let inv = to_invoice(m.clone(), s, chrono::NaiveDate::MIN)?;
    let (paid, due) = match inv.kind {
        InvoiceKind::Invoice => (s.paid.max(0), inv.due.amount_minor()),
        InvoiceKind::CreditNote => (0, 0),
    };
    Ok(InvoiceDocument {
        id,
        kind: match inv.kind {
            InvoiceKind::Invoice => DocumentKind::Invoice,
            InvoiceKind::CreditNote => DocumentKind::CreditNote,
        },
        number: m.number.clone().unwrap_or_default(),
        issue_date: m.issue_date.unwrap_or_default(),
        due_date: m.due_date,
        currency: c,
        seller: party(&m.seller)?,
        buyer: party(&m.buyer)?,
        note: m.note.clone(),
        corrects,
        lines: lines
            .iter()
            .map(|l| DocumentLine {
                description: l.description.clone(),
                quantity: u32::try_from(l.quantity).unwrap_or(u32::MAX),
                unit_price_minor: l.unit_price_minor,
                net_minor: l.net_minor,
                vat_basis_points: l.vat_basis_points.map(|b| b.max(0) as u32),
            })
            .collect(),
        vat: breakdown_rows(&m)?
            .into_iter()
            .map(|b| VatBreakdown {
                vat_basis_points: b.basis_points,
                exemption: b.exemption,
                taxable_minor: b.taxable_minor,
                vat_minor: b.vat_minor,
            })
            .collect(),
        net_total_minor: m.net_minor,
        vat_total_minor: m.vat_minor,
        gross_total_minor: m.gross_minor,
        paid_minor: paid,
        due_minor: due,
    })
}
