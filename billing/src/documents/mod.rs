//! An issued invoice or credit note as a document: everything the PDF and the EN 16931 UBL 2.1
//! XML print, computed once from the stored rows. Pure data; rendering lives in submodules.
//!
//! CONTRACT (foundation): `invoices::document` builds this; `ubl` and `pdf` render it.

use chrono::NaiveDate;

use crate::{Currency, InvoiceId};

pub mod pdf;
pub mod sample;
#[cfg(test)]
mod tests;
pub mod ubl;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DocumentKind {
    /// UBL `Invoice`, type code 380.
    Invoice,
    /// UBL `CreditNote`, type code 381.
    CreditNote,
}

/// A legal party: the platform's legal entity (seller) or a billing account (buyer).
#[derive(Clone, Debug)]
pub struct Party {
    pub legal_name: String,
    pub address_line: String,
    pub postcode: String,
    pub city: String,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    /// SIREN/SIRET in France.
    pub registration_number: Option<String>,
    pub vat_number: Option<String>,
    pub email: Option<String>,
}

#[derive(Clone, Debug)]
pub struct DocumentLine {
    pub description: String,
    pub quantity: u32,
    pub unit_price_minor: i64,
    /// quantity × unit price.
    pub net_minor: i64,
    /// `None`: exempt (the mention is in the VAT breakdown).
    pub vat_basis_points: Option<u32>,
}

/// One row of the VAT breakdown (EN 16931 BG-23): per rate, or one for exempt lines.
#[derive(Clone, Debug)]
pub struct VatBreakdown {
    pub vat_basis_points: Option<u32>,
    /// Legal mention of an exemption (BT-120), with `vat_basis_points: None`.
    pub exemption: Option<String>,
    pub taxable_minor: i64,
    /// Rate × taxable, rounded half-up to the minor unit (BR-CO-17).
    pub vat_minor: i64,
}

#[derive(Clone, Debug)]
pub struct InvoiceDocument {
    pub id: InvoiceId,
    pub kind: DocumentKind,
    /// `OCAPIAT-F-2026-000123`.
    pub number: String,
    pub issue_date: NaiveDate,
    pub due_date: Option<NaiveDate>,
    pub currency: Currency,
    pub seller: Party,
    pub buyer: Party,
    pub note: Option<String>,
    /// A credit note's invoice: its number and issue date (BG-3).
    pub corrects: Option<(String, NaiveDate)>,
    pub lines: Vec<DocumentLine>,
    pub vat: Vec<VatBreakdown>,
    pub net_total_minor: i64,
    pub vat_total_minor: i64,
    pub gross_total_minor: i64,
    /// Paid so far (BT-113) and what is left to pay (BT-115).
    pub paid_minor: i64,
    pub due_minor: i64,
}
