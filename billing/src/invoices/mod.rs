//! Invoices and credit notes: gapless numbers per space, kind and year; immutable once issued.
//!
//! CONTRACT (foundation): the types and signatures below are what other billing modules call.
//! The invoices work fills in the bodies; keep the signatures.

use chrono::{DateTime, NaiveDate, Utc};
use spaces_tenants::{Result, TenantTx};

use crate::{BillingAccountId, ChargeId, InvoiceId, InvoiceLineId, Money};

/// How VAT applies to a line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Vat {
    /// A rate in basis points (2000 = 20 %).
    Rate { basis_points: u32 },
    /// Exempt, with the legal mention printed on the invoice (e.g. "Exonération de TVA, article
    /// 261-4-4° du CGI").
    Exempt { mention: String },
}

/// One line to invoice.
#[derive(Clone, Debug)]
pub struct LineInput {
    pub description: String,
    pub quantity: u32,
    /// Net (VAT excluded), in the buyer's currency.
    pub unit_price: Money,
    pub vat: Vat,
    /// The priced-edition charge this line invoices, if any.
    pub charge: Option<ChargeId>,
}

/// An invoice to issue now to a billing account.
#[derive(Clone, Debug)]
pub struct IssueInput {
    pub buyer: BillingAccountId,
    pub lines: Vec<LineInput>,
    pub due_date: NaiveDate,
    /// What it is for, printed under the title ("Subscription Campus 200, 2026-12-01 to
    /// 2027-11-30").
    pub note: Option<String>,
}

/// What an issued invoice or credit note looks like to its caller.
#[derive(Clone, Debug)]
pub struct Issued {
    pub id: InvoiceId,
    /// `OCAPIAT-F-2026-000123`.
    pub number: String,
    /// VAT included.
    pub total: Money,
    /// In the order of the input lines.
    pub lines: Vec<InvoiceLineId>,
}

/// Issues an invoice: numbers it in the space's series, writes it with its lines and posts its
/// ledger transaction (receivable against revenue and VAT payable), all in `tx`.
pub async fn issue(tx: &TenantTx, now: DateTime<Utc>, input: IssueInput) -> Result<Issued> {
    let _ = (tx, now, input);
    Err(spaces_tenants::Error::Internal(
        "invoices are not built yet".into(),
    ))
}

/// Issues a credit note against an issued invoice for the given lines, whole (each line's full
/// quantity), and posts its ledger transaction.
pub async fn credit(
    tx: &TenantTx,
    now: DateTime<Utc>,
    invoice: InvoiceId,
    lines: &[InvoiceLineId],
    reason: &str,
) -> Result<Issued> {
    let _ = (tx, now, invoice, lines, reason);
    Err(spaces_tenants::Error::Internal(
        "credit notes are not built yet".into(),
    ))
}

/// An issued invoice or credit note as the document its PDF and UBL XML render. Unknown, a
/// draft, or another space's: `NotFound`.
pub async fn document(tx: &TenantTx, id: InvoiceId) -> Result<crate::documents::InvoiceDocument> {
    let _ = (tx, id);
    Err(spaces_tenants::Error::NotFound)
}
