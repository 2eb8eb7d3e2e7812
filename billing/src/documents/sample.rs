//! Two hand-built documents, an invoice with a standard-rated and an exempt line and the credit
//! note correcting it: what the unit tests, the XSD test and the EN 16931 schematron script
//! (`bench/einvoice-validate.sh`, through `spaces-gateway invoice-sample`) render. Their figures
//! are consistent, as the invoices module computes them.

use chrono::NaiveDate;

use super::{DocumentKind, DocumentLine, InvoiceDocument, Party, VatBreakdown};
use crate::{Currency, InvoiceId};

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
}

fn seller() -> Party {
    Party {
        legal_name: "Spaces SAS".into(),
        address_line: "12 rue des Écoles".into(),
        postcode: "75005".into(),
        city: "Paris".into(),
        country: "FR".into(),
        registration_number: Some("123456789".into()),
        vat_number: Some("FR32123456789".into()),
        email: Some("billing@spaces.example".into()),
    }
}

fn buyer() -> Party {
    Party {
        legal_name: "Lycée Jean Moulin & Co <Formation>".into(),
        address_line: "1 avenue de la République".into(),
        postcode: "69001".into(),
        city: "Lyon".into(),
        country: "FR".into(),
        registration_number: Some("98765432100017".into()),
        vat_number: Some("FR40987654321".into()),
        email: Some("compta@lycee.example".into()),
    }
}

const EXEMPTION: &str = "Exonération de TVA, article 261-4-4° du CGI";

/// Invoice `OCAPIAT-F-2026-000123`: 200 seats at 12.50 EUR + 20 % VAT, and an exempt training
/// day at 350.00 EUR; 100.00 EUR already paid.
pub fn invoice() -> InvoiceDocument {
    InvoiceDocument {
        id: InvoiceId::new(),
        kind: DocumentKind::Invoice,
        number: "OCAPIAT-F-2026-000123".into(),
        issue_date: date(2026, 12, 1),
        due_date: Some(date(2026, 12, 31)),
        currency: Currency::EUR,
        seller: seller(),
        buyer: buyer(),
        note: Some("Subscription Campus 200, 2026-12-01 to 2027-11-30".into()),
        corrects: None,
        lines: vec![
            DocumentLine {
                description: "Campus 200 seat, yearly".into(),
                quantity: 200,
                unit_price_minor: 1250,
                net_minor: 250_000,
                vat_basis_points: Some(2000),
            },
            DocumentLine {
                description: "Training day for administrators".into(),
                quantity: 1,
                unit_price_minor: 35_000,
                net_minor: 35_000,
                vat_basis_points: None,
            },
        ],
        vat: vec![
            VatBreakdown {
                vat_basis_points: Some(2000),
                exemption: None,
                taxable_minor: 250_000,
                vat_minor: 50_000,
            },
            VatBreakdown {
                vat_basis_points: None,
                exemption: Some(EXEMPTION.into()),
                taxable_minor: 35_000,
                vat_minor: 0,
            },
        ],
        net_total_minor: 285_000,
        vat_total_minor: 50_000,
        gross_total_minor: 335_000,
        paid_minor: 10_000,
        due_minor: 325_000,
    }
}

/// Credit note `OCAPIAT-A-2026-000007` crediting the training day of [`invoice`]: set off
/// against that invoice, so nothing is left to refund (as the invoices module reports it).
pub fn credit_note() -> InvoiceDocument {
    let invoice = invoice();
    InvoiceDocument {
        id: InvoiceId::new(),
        kind: DocumentKind::CreditNote,
        number: "OCAPIAT-A-2026-000007".into(),
        issue_date: date(2026, 12, 5),
        due_date: Some(date(2026, 12, 5)),
        currency: Currency::EUR,
        seller: seller(),
        buyer: buyer(),
        note: Some("Training day cancelled".into()),
        corrects: Some((invoice.number, invoice.issue_date)),
        lines: vec![invoice.lines[1].clone()],
        vat: vec![invoice.vat[1].clone()],
        net_total_minor: 35_000,
        vat_total_minor: 0,
        gross_total_minor: 35_000,
        paid_minor: 0,
        due_minor: 0,
    }
}

/// [`invoice`] with its training day credited since: 100.00 paid, 350.00 credited, 2900.00 due.
pub fn credited_invoice() -> InvoiceDocument {
    InvoiceDocument {
        due_minor: 290_000,
        ..invoice()
    }
}

/// Three rates on one invoice (20 %, 5.5 % with VAT rounded half-up, exempt), nothing paid.
pub fn multi_rate_invoice() -> InvoiceDocument {
    let mut doc = invoice();
    doc.number = "OCAPIAT-F-2026-000124".into();
    doc.note = None;
    doc.lines.insert(
        1,
        DocumentLine {
            description: "Printed course book".into(),
            quantity: 3,
            unit_price_minor: 4115,
            net_minor: 12_345,
            vat_basis_points: Some(550),
        },
    );
    // 5.5 % of 123.45 is 6.78975: 6.79.
    doc.vat.insert(
        1,
        VatBreakdown {
            vat_basis_points: Some(550),
            exemption: None,
            taxable_minor: 12_345,
            vat_minor: 679,
        },
    );
    doc.net_total_minor = 297_345;
    doc.vat_total_minor = 50_679;
    doc.gross_total_minor = 348_024;
    doc.paid_minor = 0;
    doc.due_minor = 348_024;
    doc
}

/// A currency without minor units (JPY), 10 %, no due date nor e-mail addresses.
pub fn yen_invoice() -> InvoiceDocument {
    let mut doc = invoice();
    doc.number = "OCAPIAT-F-2026-000125".into();
    doc.currency = Currency::JPY;
    doc.due_date = None;
    doc.seller.email = None;
    doc.buyer.email = None;
    doc.lines = vec![DocumentLine {
        description: "Campus seat, monthly".into(),
        quantity: 3,
        unit_price_minor: 1200,
        net_minor: 3600,
        vat_basis_points: Some(1000),
    }];
    doc.vat = vec![VatBreakdown {
        vat_basis_points: Some(1000),
        exemption: None,
        taxable_minor: 3600,
        vat_minor: 360,
    }];
    doc.net_total_minor = 3600;
    doc.vat_total_minor = 360;
    doc.gross_total_minor = 3960;
    doc.paid_minor = 3960;
    doc.due_minor = 0;
    doc
}

/// Every sample, named for its file.
pub fn all() -> Vec<(&'static str, InvoiceDocument)> {
    vec![
        ("invoice", invoice()),
        ("credit-note", credit_note()),
        ("credited-invoice", credited_invoice()),
        ("multi-rate-invoice", multi_rate_invoice()),
        ("yen-invoice", yen_invoice()),
    ]
}
