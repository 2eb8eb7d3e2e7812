use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use spaces_billing::invoices::reads::{Detail, VatRow};
use spaces_billing::invoices::{self, Invoice, InvoiceKind, Line, LineInput, State, Vat};
use tokio::sync::OnceCell;

use crate::error::{ApiError, ApiResult};
use crate::types::money::{Money, MoneyInput};
use crate::types::payment::PaymentGql;

/// The payment state of an invoice, derived from its payments, credit notes and the clock.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(name = "InvoiceStatus")]
pub enum InvoiceStatusGql {
    /// Not issued yet: no number.
    Draft,
    /// Issued, nothing paid, not past its due date.
    Issued,
    /// Paid in part, not past its due date.
    PartiallyPaid,
    Paid,
    /// Something left to pay after its due date.
    Overdue,
    /// Credit notes cover its whole total.
    Credited,
}

impl From<State> for InvoiceStatusGql {
    fn from(s: State) -> Self {
        match s {
            State::Draft => Self::Draft,
            State::Issued => Self::Issued,
            State::PartiallyPaid => Self::PartiallyPaid,
            State::Paid => Self::Paid,
            State::Overdue => Self::Overdue,
            State::Credited => Self::Credited,
        }
    }
}

impl From<InvoiceStatusGql> for State {
    fn from(s: InvoiceStatusGql) -> Self {
        match s {
            InvoiceStatusGql::Draft => Self::Draft,
            InvoiceStatusGql::Issued => Self::Issued,
            InvoiceStatusGql::PartiallyPaid => Self::PartiallyPaid,
            InvoiceStatusGql::Paid => Self::Paid,
            InvoiceStatusGql::Overdue => Self::Overdue,
            InvoiceStatusGql::Credited => Self::Credited,
        }
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(name = "InvoiceKind")]
pub enum InvoiceKindGql {
    /// Numbered `<SLUG>-F-<year>-<n>`.
    Invoice,
    /// Numbered `<SLUG>-A-<year>-<n>`; corrects an invoice.
    CreditNote,
}

impl From<InvoiceKindGql> for InvoiceKind {
    fn from(k: InvoiceKindGql) -> Self {
        match k {
            InvoiceKindGql::Invoice => Self::Invoice,
            InvoiceKindGql::CreditNote => Self::CreditNote,
        }
    }
}

#[derive(InputObject)]
pub struct InvoiceLineInput {
    pub description: String,
    pub quantity: i32,
    /// VAT excluded, in the buyer's currency.
    pub unit_price: MoneyInput,
    /// The VAT rate in basis points (2000 = 20 %); or, for an exempt line, `exemption`.
    pub vat_basis_points: Option<i32>,
    /// The legal mention of an exempt line ("Exonération de TVA, article 261-4-4° du CGI").
    pub exemption: Option<String>,
}

#[derive(InputObject)]
pub struct IssueInvoiceInput {
    pub buyer_id: ID,
    pub lines: Vec<InvoiceLineInput>,
    pub due_date: chrono::NaiveDate,
    pub note: Option<String>,
}

pub fn lines_in(lines: &[InvoiceLineInput]) -> ApiResult<Vec<LineInput>> {
    lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let at = |f: &str| format!("lines[{i}].{f}");
            let quantity = u32::try_from(l.quantity)
                .map_err(|_| ApiError::bad_input(&at("quantity"), "must be at least 1"))?;
            let vat = match (l.vat_basis_points, &l.exemption) {
                (Some(bp), None) => Vat::Rate {
                    basis_points: u32::try_from(bp).map_err(|_| {
                        ApiError::bad_input(
                            &at("vatBasisPoints"),
                            "must be between 0 and 10000 (100 %)",
                        )
                    })?,
                },
                (None, Some(m)) => Vat::Exempt { mention: m.clone() },
                _ => {
                    return Err(ApiError::bad_input(
                        &at("vatBasisPoints"),
                        "give either a VAT rate or an exemption with its legal mention",
                    ));
                }
            };
            Ok(LineInput {
                description: l.description.clone(),
                quantity,
                unit_price: l.unit_price.parse(&at("unitPrice"))?,
                vat,
                charge: None,
            })
        })
        .collect()
}

#[derive(SimpleObject)]
#[graphql(name = "InvoiceLine")]
pub struct LineGql {
    pub id: ID,
    pub description: String,
    pub quantity: i64,
    pub unit_price: Money,
    /// quantity × unit price.
    pub net: Money,
    /// `null` for an exempt line.
    pub vat_basis_points: Option<i32>,
    pub exemption: Option<String>,
    /// On a credit note: the invoice line it credits.
    pub credits_line_id: Option<ID>,
}

fn vat_parts(v: &Vat) -> (Option<i32>, Option<String>) {
    match v {
        Vat::Rate { basis_points } => (i32::try_from(*basis_points).ok(), None),
        Vat::Exempt { mention } => (None, Some(mention.clone())),
    }
}

impl From<&Line> for LineGql {
    fn from(l: &Line) -> Self {
        let (bp, ex) = vat_parts(&l.vat);
        Self {
            id: ID(l.id.to_string()),
            description: l.description.clone(),
            quantity: i64::from(l.quantity),
            unit_price: l.unit_price.into(),
            net: l.net.into(),
            vat_basis_points: bp,
            exemption: ex,
            credits_line_id: l.credits.map(|c| ID(c.to_string())),
        }
    }
}

/// One row of the VAT breakdown: per rate (over the sum of its lines' nets, rounded half-up),
/// or one per exemption.
#[derive(SimpleObject)]
#[graphql(name = "VatBreakdown")]
pub struct VatRowGql {
    pub vat_basis_points: Option<i32>,
    pub exemption: Option<String>,
    pub taxable: Money,
    pub amount: Money,
}

impl From<&VatRow> for VatRowGql {
    fn from(r: &VatRow) -> Self {
        let (bp, ex) = vat_parts(&r.vat);
        Self {
            vat_basis_points: bp,
            exemption: ex,
            taxable: r.taxable.into(),
            amount: r.amount.into(),
        }
    }
}

pub struct InvoiceGql {
    pub inv: Invoice,
    detail: OnceCell<Detail>,
}

impl InvoiceGql {
    pub fn new(inv: Invoice) -> Self {
        Self {
            inv,
            detail: OnceCell::new(),
        }
    }

    pub fn with_detail(d: Detail) -> Self {
        Self {
            inv: d.invoice.clone(),
            detail: OnceCell::new_with(Some(d)),
        }
    }

    async fn detail(&self, ctx: &Context<'_>) -> ApiResult<&Detail> {
        self.detail
            .get_or_try_init(|| async {
                let scope = crate::scope::of(ctx);
                let tx = scope.tx().await?;
                let today = scope.deps.clock.today();
                Ok::<_, ApiError>(
                    invoices::reads::get(&tx, &scope.principal, today, self.inv.id).await?,
                )
            })
            .await
    }
}

/// An invoice or a credit note. Amounts are VAT excluded (net), VAT, and VAT included (gross).
#[Object(name = "Invoice")]
impl InvoiceGql {
    async fn id(&self) -> ID {
        ID(self.inv.id.to_string())
    }
    async fn kind(&self) -> InvoiceKindGql {
        match self.inv.kind {
            InvoiceKind::Invoice => InvoiceKindGql::Invoice,
            InvoiceKind::CreditNote => InvoiceKindGql::CreditNote,
        }
    }
    /// `OCAPIAT-F-2026-000123`; `null` for a draft.
    async fn number(&self) -> Option<&str> {
        self.inv.number.as_deref()
    }
    async fn status(&self) -> InvoiceStatusGql {
        self.inv.state.into()
    }
    async fn buyer_id(&self) -> ID {
        ID(self.inv.buyer.to_string())
    }
    async fn issue_date(&self) -> Option<chrono::NaiveDate> {
        self.inv.issue_date
    }
    async fn due_date(&self) -> Option<chrono::NaiveDate> {
        self.inv.due_date
    }
    async fn note(&self) -> Option<&str> {
        self.inv.note.as_deref()
    }
    /// A credit note's invoice.
    async fn corrects_id(&self) -> Option<ID> {
        self.inv.corrects.map(|c| ID(c.to_string()))
    }
    /// Why a credit note was issued.
    async fn reason(&self) -> Option<&str> {
        self.inv.reason.as_deref()
    }
    async fn net(&self) -> Money {
        self.inv.net.into()
    }
    async fn vat(&self) -> Money {
        self.inv.vat.into()
    }
    async fn gross(&self) -> Money {
        self.inv.gross.into()
    }
    /// Payments less refunds that re-opened it.
    async fn paid(&self) -> Money {
        self.inv.paid.into()
    }
    /// The totals of its credit notes.
    async fn credited(&self) -> Money {
        self.inv.credited.into()
    }
    /// What is left to pay.
    async fn due(&self) -> Money {
        self.inv.due.into()
    }
    async fn issued_at(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.inv.issued_at
    }
    async fn created_at(&self) -> chrono::DateTime<chrono::Utc> {
        self.inv.created_at
    }
    async fn lines(&self, ctx: &Context<'_>) -> ApiResult<Vec<LineGql>> {
        Ok(self
            .detail(ctx)
            .await?
            .lines
            .iter()
            .map(Into::into)
            .collect())
    }
    async fn vat_breakdown(&self, ctx: &Context<'_>) -> ApiResult<Vec<VatRowGql>> {
        Ok(self.detail(ctx).await?.vat.iter().map(Into::into).collect())
    }
    async fn payments(&self, ctx: &Context<'_>) -> ApiResult<Vec<PaymentGql>> {
        Ok(self
            .detail(ctx)
            .await?
            .payments
            .iter()
            .cloned()
            .map(PaymentGql)
            .collect())
    }
    async fn credit_notes(&self, ctx: &Context<'_>) -> ApiResult<Vec<InvoiceGql>> {
        Ok(self
            .detail(ctx)
            .await?
            .credit_notes
            .iter()
            .cloned()
            .map(InvoiceGql::new)
            .collect())
    }
}
