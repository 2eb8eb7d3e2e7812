//! Rendering tests on the hand-built samples: no database.

use super::ubl::{amount, escape, invoice_xml, percent};
use super::{pdf::invoice_pdf, sample};

/// The text of the first `<tag>` in `xml` (our writer puts each leaf on one line).
fn first<'a>(xml: &'a str, tag: &str) -> Option<&'a str> {
    let open = format!("<{tag}");
    let start = xml.find(&open)?;
    let rest = &xml[start..];
    let gt = rest.find('>')?;
    let end = rest.find(&format!("</{tag}>"))?;
    Some(&rest[gt + 1..end])
}

#[test]
fn amounts_are_integer_formatted_with_the_currency_exponent() {
    assert_eq!(amount(12_345, 2), "123.45");
    assert_eq!(amount(5, 2), "0.05");
    assert_eq!(amount(-5, 2), "-0.05");
    assert_eq!(amount(0, 2), "0.00");
    assert_eq!(amount(1_500, 0), "1500");
    assert_eq!(amount(1_234, 3), "1.234");
    assert_eq!(amount(i64::MIN, 2), "-92233720368547758.08");
}

#[test]
fn rates_print_without_trailing_zeros() {
    assert_eq!(percent(2000), "20");
    assert_eq!(percent(550), "5.5");
    assert_eq!(percent(210), "2.1");
    assert_eq!(percent(1234), "12.34");
    assert_eq!(percent(5), "0.05");
}

#[test]
fn text_is_escaped() {
    assert_eq!(
        escape(r#"a & b <c> "d" 'e'"#),
        "a &amp; b &lt;c&gt; &quot;d&quot; &apos;e&apos;"
    );
    assert_eq!(escape("bell\u{7}ok\nline"), "bellok\nline");
}

#[test]
fn invoice_carries_the_en16931_core() {
    let xml = invoice_xml(&sample::invoice());
    assert!(xml.starts_with(r#"<?xml version="1.0" encoding="UTF-8"?>"#));
    assert!(
        xml.contains(r#"<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2""#)
    );
    assert_eq!(
        first(&xml, "cbc:CustomizationID"),
        Some("urn:cen.eu:en16931:2017")
    );
    assert_eq!(first(&xml, "cbc:ID"), Some("OCAPIAT-F-2026-000123"));
    assert_eq!(first(&xml, "cbc:IssueDate"), Some("2026-12-01"));
    assert_eq!(first(&xml, "cbc:DueDate"), Some("2026-12-31"));
    assert_eq!(first(&xml, "cbc:InvoiceTypeCode"), Some("380"));
    assert_eq!(first(&xml, "cbc:DocumentCurrencyCode"), Some("EUR"));
    assert!(!xml.contains("BillingReference"));
    // Both parties with their VAT ids under the VAT scheme and their legal names, escaped.
    assert!(xml.contains("<cbc:CompanyID>FR32123456789</cbc:CompanyID>"));
    assert!(xml.contains("<cbc:CompanyID>FR40987654321</cbc:CompanyID>"));
    assert!(xml.contains("Lycée Jean Moulin &amp; Co &lt;Formation&gt;"));
    assert!(!xml.contains("<Formation>"));
    // Totals.
    assert_eq!(
        first(&xml, "cbc:TaxAmount"),
        Some("500.00"),
        "document VAT total first"
    );
    assert!(xml.contains(
        r#"<cbc:LineExtensionAmount currencyID="EUR">2850.00</cbc:LineExtensionAmount>"#
    ));
    assert!(
        xml.contains(
            r#"<cbc:TaxInclusiveAmount currencyID="EUR">3350.00</cbc:TaxInclusiveAmount>"#
        )
    );
    assert!(xml.contains(r#"<cbc:PrepaidAmount currencyID="EUR">100.00</cbc:PrepaidAmount>"#));
    assert!(xml.contains(r#"<cbc:PayableAmount currencyID="EUR">3250.00</cbc:PayableAmount>"#));
    // Lines: counted in pieces, standard and exempt categories.
    assert_eq!(xml.matches("<cac:InvoiceLine>").count(), 2);
    assert!(xml.contains(r#"<cbc:InvoicedQuantity unitCode="C62">200</cbc:InvoicedQuantity>"#));
    assert!(xml.contains(r#"<cbc:PriceAmount currencyID="EUR">12.50</cbc:PriceAmount>"#));
}

#[test]
fn exempt_vat_is_category_e_with_its_mention() {
    let xml = invoice_xml(&sample::invoice());
    let subtotals: Vec<&str> = xml.split("<cac:TaxSubtotal>").skip(1).collect();
    assert_eq!(subtotals.len(), 2);
    let standard = subtotals[0];
    assert_eq!(first(standard, "cbc:ID"), Some("S"));
    assert_eq!(first(standard, "cbc:Percent"), Some("20"));
    assert_eq!(first(standard, "cbc:TaxableAmount"), Some("2500.00"));
    assert!(!standard.contains("TaxExemptionReason"));
    let exempt = subtotals[1];
    assert_eq!(first(exempt, "cbc:ID"), Some("E"));
    assert_eq!(first(exempt, "cbc:Percent"), Some("0"));
    assert_eq!(
        first(exempt, "cbc:TaxExemptionReason"),
        Some("Exonération de TVA, article 261-4-4° du CGI")
    );
    let second_line = xml.split("<cac:InvoiceLine>").nth(2).unwrap_or_default();
    assert!(second_line.contains("<cbc:ID>E</cbc:ID>"), "{second_line}");
}

#[test]
fn credit_note_refers_to_its_invoice() {
    let xml = invoice_xml(&sample::credit_note());
    assert!(xml.contains(
        r#"<CreditNote xmlns="urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2""#
    ));
    assert!(xml.trim_end().ends_with("</CreditNote>"));
    assert_eq!(first(&xml, "cbc:CreditNoteTypeCode"), Some("381"));
    assert!(!xml.contains("InvoiceTypeCode"));
    let reference = first(&xml, "cac:InvoiceDocumentReference").unwrap_or_default();
    assert_eq!(first(reference, "cbc:ID"), Some("OCAPIAT-F-2026-000123"));
    assert_eq!(first(reference, "cbc:IssueDate"), Some("2026-12-01"));
    // A CreditNote's due date lives in PaymentMeans.
    assert!(!xml.contains("<cbc:DueDate>"));
    assert_eq!(first(&xml, "cbc:PaymentDueDate"), Some("2026-12-05"));
    assert!(xml.contains(r#"<cbc:CreditedQuantity unitCode="C62">1</cbc:CreditedQuantity>"#));
    assert!(!xml.contains("<cac:InvoiceLine>"));
    // Set off against its invoice: settled in full, nothing left (BR-CO-16 holds).
    assert!(xml.contains(r#"<cbc:PrepaidAmount currencyID="EUR">350.00</cbc:PrepaidAmount>"#));
    assert!(xml.contains(r#"<cbc:PayableAmount currencyID="EUR">0.00</cbc:PayableAmount>"#));
}

#[test]
fn a_credited_invoice_counts_the_credit_as_settled() {
    // 100.00 paid and the 350.00 training day credited: 2900.00 left of 3350.00.
    let mut doc = sample::invoice();
    doc.due_minor = 290_000;
    let xml = invoice_xml(&doc);
    assert!(xml.contains(r#"<cbc:PrepaidAmount currencyID="EUR">450.00</cbc:PrepaidAmount>"#));
    assert!(xml.contains(r#"<cbc:PayableAmount currencyID="EUR">2900.00</cbc:PayableAmount>"#));
    // Nothing settled: no PrepaidAmount at all.
    let mut doc = sample::invoice();
    doc.paid_minor = 0;
    doc.due_minor = doc.gross_total_minor;
    assert!(!invoice_xml(&doc).contains("PrepaidAmount"));
}

#[test]
fn negative_credit_note_rows_print_positive() {
    let mut doc = sample::credit_note();
    for l in &mut doc.lines {
        l.net_minor = -l.net_minor;
        l.unit_price_minor = -l.unit_price_minor;
    }
    for v in &mut doc.vat {
        v.taxable_minor = -v.taxable_minor;
    }
    doc.net_total_minor = -doc.net_total_minor;
    doc.gross_total_minor = -doc.gross_total_minor;
    doc.due_minor = -doc.due_minor;
    assert_eq!(invoice_xml(&doc), invoice_xml(&sample::credit_note()));
}

#[test]
fn pdf_is_a_pdf_with_the_number() {
    for doc in [sample::invoice(), sample::credit_note()] {
        let pdf = invoice_pdf(&doc);
        assert!(pdf.starts_with(b"%PDF-1."), "header");
        let tail = &pdf[pdf.len().saturating_sub(64)..];
        assert!(tail.windows(5).any(|w| w == b"%%EOF"), "trailer");
        assert!(tail.windows(9).any(|w| w == b"startxref"), "xref pointer");
        let text = String::from_utf8_lossy(&pdf);
        assert!(
            text.contains(&format!("(Number: {})", doc.number)),
            "number printed"
        );
        assert!(text.contains("/BaseFont /Helvetica"));
    }
    let text = String::from_utf8_lossy(&invoice_pdf(&sample::invoice())).into_owned();
    assert!(text.contains("(3250.00 EUR)"), "amount due printed");
    assert!(text.contains("(INVOICE)"));
    let credit = String::from_utf8_lossy(&invoice_pdf(&sample::credit_note())).into_owned();
    assert!(credit.contains("(CREDIT NOTE)"));
    assert!(credit.contains("(Corrects invoice OCAPIAT-F-2026-000123 of 2026-12-01)"));
    assert!(credit.contains("(Set off against the invoice)"));
}

#[test]
fn long_invoices_run_to_more_pages() {
    let mut doc = sample::invoice();
    let line = doc.lines[0].clone();
    doc.lines = vec![line; 120];
    let text = String::from_utf8_lossy(&invoice_pdf(&doc)).into_owned();
    let count: usize = text
        .split("/Count ")
        .nth(1)
        .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(
        count >= 3,
        "120 lines need at least three pages, got {count}"
    );
    assert!(text.contains(&format!("page {count} of {count})")));
    // Every line is printed.
    assert_eq!(text.matches("(Campus 200 seat, yearly)").count(), 120);
}

#[test]
fn samples_add_up() {
    // The samples stand for what the invoices module computes: lines sum to the net, the
    // breakdown to the VAT, net + VAT to the gross.
    for (name, doc) in sample::all() {
        let lines: i64 = doc.lines.iter().map(|l| l.net_minor).sum();
        assert_eq!(lines, doc.net_total_minor, "{name}");
        for l in &doc.lines {
            assert_eq!(
                i64::from(l.quantity) * l.unit_price_minor,
                l.net_minor,
                "{name}"
            );
        }
        let taxable: i64 = doc.vat.iter().map(|v| v.taxable_minor).sum();
        assert_eq!(taxable, doc.net_total_minor, "{name}");
        let vat: i64 = doc.vat.iter().map(|v| v.vat_minor).sum();
        assert_eq!(vat, doc.vat_total_minor, "{name}");
        assert_eq!(
            doc.net_total_minor + doc.vat_total_minor,
            doc.gross_total_minor,
            "{name}"
        );
        let xml = invoice_xml(&doc);
        assert_eq!(
            xml.matches("<cac:TaxSubtotal>").count(),
            doc.vat.len(),
            "{name}"
        );
    }
    let yen = invoice_xml(&sample::yen_invoice());
    assert!(yen.contains(r#"<cbc:PriceAmount currencyID="JPY">1200</cbc:PriceAmount>"#));
    let multi = invoice_xml(&sample::multi_rate_invoice());
    assert!(multi.contains("<cbc:Percent>5.5</cbc:Percent>"));
}

#[test]
fn pdf_survives_odd_text() {
    let mut doc = sample::invoice();
    doc.number = r"N-(1)\2".into();
    doc.note = Some("first line\n\nthird (line) \\ end".into());
    doc.buyer.legal_name = "漢字 🙂 Ünïcödé".into();
    doc.lines[0].description = "x".repeat(5000);
    doc.lines[1].description = String::new();
    let pdf = invoice_pdf(&doc);
    assert!(pdf.starts_with(b"%PDF-1."));
    let text = String::from_utf8_lossy(&pdf).into_owned();
    // Backslashes are escaped inside PDF strings (balanced parentheses need not be).
    assert!(text.contains(r"(Number: N-(1)\\2)"), "number escaped");
    // The long word is cut across lines, not lost.
    let xs: usize = text
        .split('(')
        .filter_map(|s| s.split(')').next())
        .filter(|s| !s.is_empty() && s.chars().all(|c| c == 'x'))
        .map(str::len)
        .sum();
    assert_eq!(xs, 5000);
    // No lines at all still renders.
    doc.lines.clear();
    assert!(invoice_pdf(&doc).starts_with(b"%PDF-1."));
}
