//! Invoices and credit notes: gapless numbers per space, kind and year; immutable once issued.
//!
//! CONTRACT (foundation): `issue`, `credit`, `document` and their types are what other billing
//! modules call; their signatures stay.
//!
//! A draft has no number and may be issued later; issuing numbers it, freezes it (triggers
//! refuse any later change) and posts its ledger transaction. Payment state is derived from
//! payments, credit notes and the clock (see `reads`).

mod credit;
pub(crate) mod entity;
pub mod numbering;
pub mod reads;
pub mod seller;
pub mod vat;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use sea_orm::{ActiveValue::Set, ColumnTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::{Deserialize, Serialize};
use spaces_tenants::kernel::values::name;
use spaces_tenants::{Error, Principal, Result, TenantTx};

use crate::accounts::{self, BillingAccount};
use crate::documents::Party;
use crate::ledger::{self, Account, Kind, Posting};
use crate::{BillingAccountId, ChargeId, InvoiceId, InvoiceLineId, Money};
use entity::{invoice, line};
use numbering::Series;

pub use credit::{credit, credit_as};
pub use reads::{Invoice, InvoiceKind, Line, State};

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

/// The highest VAT rate a line may carry (100 %): anything above is a typing error.
const MAX_BASIS_POINTS: u32 = 10_000;

/// A party as stored on an issued invoice.
#[derive(Serialize, Deserialize)]
pub(crate) struct PartyRow {
    legal_name: String,
    address_line: String,
    postcode: String,
    city: String,
    country: String,
    registration_number: Option<String>,
    vat_number: Option<String>,
    email: Option<String>,
}

impl From<Party> for PartyRow {
    fn from(p: Party) -> Self {
        Self {
            legal_name: p.legal_name,
            address_line: p.address_line,
            postcode: p.postcode,
            city: p.city,
            country: p.country,
            registration_number: p.registration_number,
            vat_number: p.vat_number,
            email: p.email,
        }
    }
}

impl From<PartyRow> for Party {
    fn from(p: PartyRow) -> Self {
        Self {
            legal_name: p.legal_name,
            address_line: p.address_line,
            postcode: p.postcode,
            city: p.city,
            country: p.country,
            registration_number: p.registration_number,
            vat_number: p.vat_number,
            email: p.email,
        }
    }
}

pub(crate) fn buyer_party(a: &BillingAccount) -> Party {
    Party {
        legal_name: a.legal_name.clone(),
        address_line: a.address_line.clone(),
        postcode: a.postcode.clone(),
        city: a.city.clone(),
        country: a.country.clone(),
        registration_number: a.registration_number.clone(),
        vat_number: a.vat_number.clone(),
        email: Some(a.invoice_email.clone()),
    }
}

/// One row of the stored VAT breakdown.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct BreakdownRow {
    pub basis_points: Option<u32>,
    pub exemption: Option<String>,
    pub taxable_minor: i64,
    pub vat_minor: i64,
}

impl BreakdownRow {
    fn from_group(g: &vat::Group) -> Self {
        match &g.vat {
            Vat::Rate { basis_points } => Self {
                basis_points: Some(*basis_points),
                exemption: None,
                taxable_minor: g.taxable_minor,
                vat_minor: g.vat_minor,
            },
            Vat::Exempt { mention } => Self {
                basis_points: None,
                exemption: Some(mention.clone()),
                taxable_minor: g.taxable_minor,
                vat_minor: g.vat_minor,
            },
        }
    }
}

fn too_large() -> Error {
    Error::invalid("lines", "amounts are too large")
}

/// A line checked and priced.
struct PricedLine {
    input: LineInput,
    net_minor: i64,
    credits: Option<uuid::Uuid>,
}

fn price_lines(lines: Vec<LineInput>, buyer: &BillingAccount) -> Result<Vec<PricedLine>> {
    if lines.is_empty() {
        return Err(Error::invalid(
            "lines",
            "an invoice needs at least one line",
        ));
    }
    if lines.len() > 500 {
        return Err(Error::invalid("lines", "at most 500 lines"));
    }
    lines
        .into_iter()
        .enumerate()
        .map(|(i, mut l)| {
            let at = |f: &str| format!("lines[{i}].{f}");
            l.description = name("description", &l.description, 500)
                .map_err(|_| Error::invalid(at("description"), "must be 1 to 500 characters"))?;
            if l.quantity == 0 {
                return Err(Error::invalid(at("quantity"), "must be at least 1"));
            }
            if l.unit_price.currency() != buyer.currency {
                return Err(Error::invalid(
                    at("unitPrice"),
                    format!("must be in the buyer's currency, {}", buyer.currency),
                ));
            }
            if l.unit_price.is_negative() {
                return Err(Error::invalid(
                    at("unitPrice"),
                    "must not be negative; a credit note corrects an invoice",
                ));
            }
            match &mut l.vat {
                Vat::Rate { basis_points } if *basis_points > MAX_BASIS_POINTS => {
                    return Err(Error::invalid(
                        at("vatBasisPoints"),
                        "must be between 0 and 10000 (100 %)",
                    ));
                }
                Vat::Exempt { mention } => {
                    *mention = name("exemption", mention, 300).map_err(|_| {
                        Error::invalid(
                            at("exemption"),
                            "an exemption needs its legal mention (1 to 300 characters)",
                        )
                    })?;
                }
                Vat::Rate { .. } => {}
            }
            let net_minor = l
                .unit_price
                .checked_mul(u64::from(l.quantity))
                .map_err(|_| too_large())?
                .amount_minor();
            Ok(PricedLine {
                input: l,
                net_minor,
                credits: None,
            })
        })
        .collect()
}

/// Writes a draft (no number) with its lines and totals, VAT per rate over the lines.
#[allow(clippy::too_many_arguments)]
async fn write_draft(
    tx: &TenantTx,
    now: DateTime<Utc>,
    buyer: &BillingAccount,
    lines: Vec<PricedLine>,
    breakdown: Vec<BreakdownRow>,
    due_date: Option<NaiveDate>,
    note: Option<String>,
    corrects: Option<(InvoiceId, String)>,
) -> Result<(invoice::Model, Vec<line::Model>)> {
    let mut net: i64 = 0;
    for l in &lines {
        net = net.checked_add(l.net_minor).ok_or_else(too_large)?;
    }
    let vat: i64 = breakdown.iter().map(|b| b.vat_minor).sum();
    let gross = net.checked_add(vat).ok_or_else(too_large)?;
    let id = InvoiceId::new();
    let kind = if corrects.is_some() {
        "credit_note"
    } else {
        "invoice"
    };
    let (corrects_id, reason) = match corrects {
        Some((i, r)) => (Some(i.uuid()), Some(r)),
        None => (None, None),
    };
    let inv = tx
        .insert(invoice::ActiveModel {
            tenant_id: Set(uuid::Uuid::nil()),
            id: Set(id.uuid()),
            account_id: Set(buyer.id.uuid()),
            kind: Set(kind.to_owned()),
            status: Set("draft".to_owned()),
            number: Set(None),
            currency: Set(buyer.currency.code().to_owned()),
            issue_date: Set(None),
            due_date: Set(due_date),
            note: Set(note),
            corrects_id: Set(corrects_id),
            reason: Set(reason),
            net_minor: Set(net),
            vat_minor: Set(vat),
            gross_minor: Set(gross),
            breakdown: Set(
                serde_json::to_string(&breakdown).map_err(|e| Error::Internal(e.to_string()))?
            ),
            seller: Set(None),
            buyer: Set(None),
            issued_at: Set(None),
            created_at: Set(now),
        })
        .await?;
    let rows: Vec<line::ActiveModel> = lines
        .into_iter()
        .enumerate()
        .map(|(i, l)| {
            let (bp, exemption) = match l.input.vat {
                Vat::Rate { basis_points } => (Some(basis_points as i32), None),
                Vat::Exempt { mention } => (None, Some(mention)),
            };
            line::ActiveModel {
                tenant_id: Set(uuid::Uuid::nil()),
                id: Set(InvoiceLineId::new().uuid()),
                invoice_id: Set(id.uuid()),
                position: Set(i as i32),
                description: Set(l.input.description),
                quantity: Set(i64::from(l.input.quantity)),
                unit_price_minor: Set(l.input.unit_price.amount_minor()),
                net_minor: Set(l.net_minor),
                vat_basis_points: Set(bp),
                exemption: Set(exemption),
                charge_id: Set(l.input.charge.map(ChargeId::uuid)),
                credits_line_id: Set(l.credits),
            }
        })
        .collect();
    tx.insert_many(rows).await?;
    let stored = lines_of(tx, id).await?;
    Ok((inv, stored))
}

pub(crate) async fn lines_of(tx: &TenantTx, id: InvoiceId) -> Result<Vec<line::Model>> {
    tx.select::<line::Entity>()
        .filter(line::Column::InvoiceId.eq(id.uuid()))
        .order_by_asc(line::Column::Position)
        .all()
        .await
}

fn breakdown_of(lines: &[PricedLine]) -> Result<Vec<BreakdownRow>> {
    let (groups, _) = vat::breakdown(lines.iter().map(|l| (l.net_minor, &l.input.vat)))?;
    Ok(groups.iter().map(BreakdownRow::from_group).collect())
}

/// Numbers a draft, freezes it with the parties as they are now, and posts its ledger
/// transaction.
async fn finalise(
    tx: &TenantTx,
    now: DateTime<Utc>,
    draft: invoice::Model,
    buyer: &BillingAccount,
    lines: &[line::Model],
) -> Result<Issued> {
    if draft.gross_minor <= 0 {
        return Err(Error::invalid("lines", "the total must be more than zero"));
    }
    let credit = draft.kind == "credit_note";
    let series = if credit {
        Series::CreditNote
    } else {
        Series::Invoice
    };
    let space = spaces_tenants::spaces::current(tx).await?;
    let n = numbering::take(tx, series, now.year()).await?;
    let number = numbering::format(&space.slug, series, now.year(), n);
    let json = |p: Party| serde_json::to_string(&PartyRow::from(p));
    let seller = json(seller::current()).map_err(|e| Error::Internal(e.to_string()))?;
    let buyer_json = json(buyer_party(buyer)).map_err(|e| Error::Internal(e.to_string()))?;
    let issued = tx
        .update_many::<invoice::Entity>()
        .set(invoice::ActiveModel {
            status: Set("issued".to_owned()),
            number: Set(Some(number.clone())),
            issue_date: Set(Some(now.date_naive())),
            seller: Set(Some(seller)),
            buyer: Set(Some(buyer_json)),
            issued_at: Set(Some(now)),
            ..Default::default()
        })
        .filter(invoice::Column::Id.eq(draft.id))
        .filter(invoice::Column::Status.eq("draft"))
        .exec_with_returning()
        .await?
        .into_iter()
        .next()
        .ok_or(Error::NotFound)?;
    let c = buyer.currency;
    let sign = if credit { -1 } else { 1 };
    let mut entries = vec![
        (
            Account::Receivable(buyer.id),
            Money::new(sign * issued.gross_minor, c),
        ),
        (Account::Revenue, Money::new(-sign * issued.net_minor, c)),
        (Account::VatPayable, Money::new(-sign * issued.vat_minor, c)),
    ];
    entries.retain(|(_, m)| !m.is_zero());
    ledger::post(
        tx,
        now,
        Posting {
            kind: if credit {
                Kind::CreditNote
            } else {
                Kind::Invoice
            },
            reference: issued.id,
            entries,
        },
    )
    .await?;
    Ok(Issued {
        id: InvoiceId::from_uuid(issued.id),
        number,
        total: Money::new(issued.gross_minor, c),
        lines: lines
            .iter()
            .map(|l| InvoiceLineId::from_uuid(l.id))
            .collect(),
    })
}

fn clean_note(note: Option<String>) -> Result<Option<String>> {
    spaces_tenants::kernel::values::long_text("note", note, 1000)
}

/// Issues an invoice: numbers it in the space's series, writes it with its lines and posts its
/// ledger transaction (receivable against revenue and VAT payable), all in `tx`.
pub async fn issue(tx: &TenantTx, now: DateTime<Utc>, input: IssueInput) -> Result<Issued> {
    let buyer = accounts::load(tx, input.buyer)
        .await
        .map_err(|e| e.not_found_as("buyerId", "no such billing account"))?;
    if input.due_date < now.date_naive() {
        return Err(Error::invalid(
            "dueDate",
            "must not be before the issue date",
        ));
    }
    let note = clean_note(input.note)?;
    let lines = price_lines(input.lines, &buyer)?;
    let breakdown = breakdown_of(&lines)?;
    let (draft, lines) = write_draft(
        tx,
        now,
        &buyer,
        lines,
        breakdown,
        Some(input.due_date),
        note,
        None,
    )
    .await?;
    finalise(tx, now, draft, &buyer, &lines).await
}

/// `issue` for an admin (operators and tenant admins).
pub async fn issue_as(
    tx: &TenantTx,
    who: &Principal,
    now: DateTime<Utc>,
    input: IssueInput,
) -> Result<Issued> {
    accounts::require_manager(who)?;
    issue(tx, now, input).await
}

/// A draft: written and totalled, without a number, and not posted. `issue_draft` issues it.
pub async fn create_draft(
    tx: &TenantTx,
    who: &Principal,
    now: DateTime<Utc>,
    input: IssueInput,
) -> Result<InvoiceId> {
    accounts::require_manager(who)?;
    let buyer = accounts::load(tx, input.buyer)
        .await
        .map_err(|e| e.not_found_as("buyerId", "no such billing account"))?;
    let note = clean_note(input.note)?;
    let lines = price_lines(input.lines, &buyer)?;
    let breakdown = breakdown_of(&lines)?;
    let (draft, _) = write_draft(
        tx,
        now,
        &buyer,
        lines,
        breakdown,
        Some(input.due_date),
        note,
        None,
    )
    .await?;
    Ok(InvoiceId::from_uuid(draft.id))
}

/// Issues a draft invoice: its number is taken now, in this transaction.
pub async fn issue_draft(
    tx: &TenantTx,
    who: &Principal,
    now: DateTime<Utc>,
    id: InvoiceId,
) -> Result<Issued> {
    accounts::require_manager(who)?;
    let draft = tx
        .select::<invoice::Entity>()
        .filter(invoice::Column::Id.eq(id.uuid()))
        .lock_exclusive()
        .one()
        .await?
        .ok_or(Error::NotFound)?;
    if draft.status != "draft" {
        return Err(Error::conflict("id", "this invoice is already issued"));
    }
    if draft.due_date.is_some_and(|d| d < now.date_naive()) {
        return Err(Error::invalid("dueDate", "the draft's due date has passed"));
    }
    let buyer = accounts::load(tx, BillingAccountId::from_uuid(draft.account_id)).await?;
    let lines = lines_of(tx, id).await?;
    finalise(tx, now, draft, &buyer, &lines).await
}

/// Whether a billing account has any invoice (drafts included).
pub(crate) async fn any_for(tx: &TenantTx, account: BillingAccountId) -> Result<bool> {
    Ok(tx
        .select::<invoice::Entity>()
        .filter(invoice::Column::AccountId.eq(account.uuid()))
        .count()
        .await?
        > 0)
}

/// An issued invoice or credit note as the document its PDF and UBL XML render. Unknown, a
/// draft, or another space's: `NotFound`.
pub async fn document(tx: &TenantTx, id: InvoiceId) -> Result<crate::documents::InvoiceDocument> {
    reads::document(tx, id).await
}

/// Whether the caller may download invoices at all (operators, tenant admins, organisation
/// admins): decided before any id is looked up, so a refusal says nothing about which exist.
pub fn may_download(who: &Principal) -> bool {
    crate::accounts::may_read_any(who)
}

/// The document of an invoice the caller may read, under the rule of the `invoice` query: an
/// organisation admin reads only their own billing account's. Otherwise `NotFound`, like an
/// unknown id.
pub async fn document_for(
    tx: &TenantTx,
    who: &Principal,
    id: InvoiceId,
) -> Result<crate::documents::InvoiceDocument> {
    reads::readable(tx, who, id).await?;
    reads::document(tx, id).await
}
