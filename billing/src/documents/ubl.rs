//! EN 16931 UBL 2.1 XML: an `Invoice` (type code 380) or a `CreditNote` (381) referring to the
//! invoice it corrects. Element order follows the OASIS UBL 2.1 schemas (validated in
//! `tests/tests/einvoice.rs`) and the business rules of the EN 16931 schematron
//! (`bench/einvoice-validate.sh`).
//!
//! Written by hand with a tiny escaping writer: the document is flat and fixed, and an XML
//! crate would add a dependency for what `escape` does.

use chrono::NaiveDate;

use super::{DocumentKind, DocumentLine, InvoiceDocument, Party, VatBreakdown};

/// BT-24: EN 16931 itself, no extension.
pub const CUSTOMIZATION_ID: &str = "urn:cen.eu:en16931:2017";
/// BT-23: the business process (Peppol's billing process, the most widely known identifier).
pub const PROFILE_ID: &str = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0";

const NS_INVOICE: &str = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2";
const NS_CREDIT_NOTE: &str = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2";
const NS_CAC: &str = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2";
const NS_CBC: &str = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2";

/// UNCL 4461 code 1, "instrument not defined": the document carries no bank account, and the
/// credit-transfer codes (30, 58) require one (BR-61).
const PAYMENT_MEANS_CODE: &str = "1";
/// UN/ECE Rec 20 "one" (piece): seats, subscriptions and fees are counted, not measured.
const UNIT_CODE: &str = "C62";

/// The document as UBL 2.1 XML (UTF-8, with declaration).
///
/// Amounts print from integer minor units with the currency's exponent. A credit note's amounts
/// print positive whichever sign the rows carry: the document type says it is a credit.
pub fn invoice_xml(doc: &InvoiceDocument) -> String {
    let credit = doc.kind == DocumentKind::CreditNote;
    // EN 16931 credit notes carry positive amounts; accept rows stored either way.
    let sign: i64 = if credit && doc.gross_total_minor < 0 {
        -1
    } else {
        1
    };
    let cur = doc.currency.code();
    let exp = doc.currency.exponent();
    let money = |minor: i64| amount(sign * minor, exp);

    let mut x = Xml::default();
    x.raw(r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    x.raw("\n");
    let root = if credit { "CreditNote" } else { "Invoice" };
    x.raw(&format!(
        r#"<{root} xmlns="{}" xmlns:cac="{NS_CAC}" xmlns:cbc="{NS_CBC}">"#,
        if credit { NS_CREDIT_NOTE } else { NS_INVOICE },
    ));
    x.raw("\n");

    x.leaf("cbc:CustomizationID", &[], CUSTOMIZATION_ID);
    x.leaf("cbc:ProfileID", &[], PROFILE_ID);
    x.leaf("cbc:ID", &[], &doc.number);
    x.leaf("cbc:IssueDate", &[], &date(doc.issue_date));
    if credit {
        x.leaf("cbc:CreditNoteTypeCode", &[], "381");
    } else {
        // In an Invoice the due date (BT-9) has its own element before the type code.
        if let Some(due) = doc.due_date {
            x.leaf("cbc:DueDate", &[], &date(due));
        }
        x.leaf("cbc:InvoiceTypeCode", &[], "380");
    }
    if let Some(note) = doc.note.as_deref().filter(|n| !n.trim().is_empty()) {
        x.leaf("cbc:Note", &[], note);
    }
    x.leaf("cbc:DocumentCurrencyCode", &[], cur);
    if let Some((number, issued)) = &doc.corrects {
        x.open("cac:BillingReference");
        x.open("cac:InvoiceDocumentReference");
        x.leaf("cbc:ID", &[], number);
        x.leaf("cbc:IssueDate", &[], &date(*issued));
        x.close("cac:InvoiceDocumentReference");
        x.close("cac:BillingReference");
    }
    party(&mut x, "cac:AccountingSupplierParty", &doc.seller);
    party(&mut x, "cac:AccountingCustomerParty", &doc.buyer);

    x.open("cac:PaymentMeans");
    x.leaf("cbc:PaymentMeansCode", &[], PAYMENT_MEANS_CODE);
    if credit {
        // A CreditNote has no top-level DueDate: BT-9 maps here.
        if let Some(due) = doc.due_date {
            x.leaf("cbc:PaymentDueDate", &[], &date(due));
        }
    }
    // BT-83: the reference to quote when paying.
    x.leaf("cbc:PaymentID", &[], &doc.number);
    x.close("cac:PaymentMeans");
    if let Some(due) = doc.due_date {
        x.open("cac:PaymentTerms");
        x.leaf("cbc:Note", &[], &format!("Payment due by {}", date(due)));
        x.close("cac:PaymentTerms");
    }

    let cur_attr = [("currencyID", cur)];
    x.open("cac:TaxTotal");
    x.leaf("cbc:TaxAmount", &cur_attr, &money(doc.vat_total_minor));
    for row in &doc.vat {
        tax_subtotal(&mut x, row, &cur_attr, &money);
    }
    x.close("cac:TaxTotal");

    x.open("cac:LegalMonetaryTotal");
    x.leaf(
        "cbc:LineExtensionAmount",
        &cur_attr,
        &money(doc.net_total_minor),
    );
    x.leaf(
        "cbc:TaxExclusiveAmount",
        &cur_attr,
        &money(doc.net_total_minor),
    );
    x.leaf(
        "cbc:TaxInclusiveAmount",
        &cur_attr,
        &money(doc.gross_total_minor),
    );
    // BT-113 is what is already settled, so that payable = inclusive − prepaid (BR-CO-16)
    // holds: payments, and credit notes applied to the invoice since; for a credit note, what
    // was set off against its invoice.
    let settled = settled_minor(doc);
    if settled != 0 {
        x.leaf("cbc:PrepaidAmount", &cur_attr, &money(settled));
    }
    x.leaf("cbc:PayableAmount", &cur_attr, &money(doc.due_minor));
    x.close("cac:LegalMonetaryTotal");

    for (i, line) in doc.lines.iter().enumerate() {
        invoice_line(&mut x, credit, i + 1, line, &cur_attr, &money);
    }

    x.raw(&format!("</{root}>\n"));
    x.out
}

fn party(x: &mut Xml, role: &str, p: &Party) {
    x.open(role);
    x.open("cac:Party");
    if let Some(email) = p.email.as_deref().filter(|e| !e.is_empty()) {
        // BT-34/BT-49 electronic address; EAS code EM is an e-mail address.
        x.leaf("cbc:EndpointID", &[("schemeID", "EM")], email);
    }
    x.open("cac:PartyName");
    x.leaf("cbc:Name", &[], &p.legal_name);
    x.close("cac:PartyName");
    x.open("cac:PostalAddress");
    if !p.address_line.is_empty() {
        x.leaf("cbc:StreetName", &[], &p.address_line);
    }
    if !p.city.is_empty() {
        x.leaf("cbc:CityName", &[], &p.city);
    }
    if !p.postcode.is_empty() {
        x.leaf("cbc:PostalZone", &[], &p.postcode);
    }
    x.open("cac:Country");
    x.leaf(
        "cbc:IdentificationCode",
        &[],
        &p.country.to_ascii_uppercase(),
    );
    x.close("cac:Country");
    x.close("cac:PostalAddress");
    if let Some(vat) = p.vat_number.as_deref().filter(|v| !v.is_empty()) {
        x.open("cac:PartyTaxScheme");
        x.leaf("cbc:CompanyID", &[], vat);
        tax_scheme(x);
        x.close("cac:PartyTaxScheme");
    }
    x.open("cac:PartyLegalEntity");
    x.leaf("cbc:RegistrationName", &[], &p.legal_name);
    if let Some(reg) = p.registration_number.as_deref().filter(|r| !r.is_empty()) {
        x.leaf("cbc:CompanyID", &[], reg);
    }
    x.close("cac:PartyLegalEntity");
    if let Some(email) = p.email.as_deref().filter(|e| !e.is_empty()) {
        x.open("cac:Contact");
        x.leaf("cbc:ElectronicMail", &[], email);
        x.close("cac:Contact");
    }
    x.close("cac:Party");
    x.close(role);
}

fn tax_subtotal(
    x: &mut Xml,
    row: &VatBreakdown,
    cur_attr: &[(&str, &str)],
    money: &impl Fn(i64) -> String,
) {
    x.open("cac:TaxSubtotal");
    x.leaf("cbc:TaxableAmount", cur_attr, &money(row.taxable_minor));
    x.leaf("cbc:TaxAmount", cur_attr, &money(row.vat_minor));
    x.open("cac:TaxCategory");
    x.leaf("cbc:ID", &[], category(row.vat_basis_points));
    x.leaf(
        "cbc:Percent",
        &[],
        &percent(row.vat_basis_points.unwrap_or(0)),
    );
    if row.vat_basis_points.is_none() {
        // BR-E-10: an exempt breakdown states why.
        let reason = row
            .exemption
            .as_deref()
            .filter(|r| !r.trim().is_empty())
            .unwrap_or("Exempt from VAT");
        x.leaf("cbc:TaxExemptionReason", &[], reason);
    }
    tax_scheme(x);
    x.close("cac:TaxCategory");
    x.close("cac:TaxSubtotal");
}

fn invoice_line(
    x: &mut Xml,
    credit: bool,
    n: usize,
    line: &DocumentLine,
    cur_attr: &[(&str, &str)],
    money: &impl Fn(i64) -> String,
) {
    let (tag, qty_tag) = if credit {
        ("cac:CreditNoteLine", "cbc:CreditedQuantity")
    } else {
        ("cac:InvoiceLine", "cbc:InvoicedQuantity")
    };
    x.open(tag);
    x.leaf("cbc:ID", &[], &n.to_string());
    x.leaf(
        qty_tag,
        &[("unitCode", UNIT_CODE)],
        &line.quantity.to_string(),
    );
    x.leaf("cbc:LineExtensionAmount", cur_attr, &money(line.net_minor));
    x.open("cac:Item");
    x.leaf("cbc:Name", &[], &line.description);
    x.open("cac:ClassifiedTaxCategory");
    x.leaf("cbc:ID", &[], category(line.vat_basis_points));
    x.leaf(
        "cbc:Percent",
        &[],
        &percent(line.vat_basis_points.unwrap_or(0)),
    );
    tax_scheme(x);
    x.close("cac:ClassifiedTaxCategory");
    x.close("cac:Item");
    x.open("cac:Price");
    x.leaf("cbc:PriceAmount", cur_attr, &money(line.unit_price_minor));
    x.close("cac:Price");
    x.close(tag);
}

fn tax_scheme(x: &mut Xml) {
    x.open("cac:TaxScheme");
    x.leaf("cbc:ID", &[], "VAT");
    x.close("cac:TaxScheme");
}

/// What is no longer due: the total including VAT less what is left to pay. It is `paid_minor`
/// until part of an invoice is credited, and all of a credit note set off against its invoice.
pub fn settled_minor(doc: &InvoiceDocument) -> i64 {
    doc.gross_total_minor.saturating_sub(doc.due_minor)
}

/// UNCL 5305: S standard rate, Z zero rated, E exempt (with its mention).
pub fn category(basis_points: Option<u32>) -> &'static str {
    match basis_points {
        None => "E",
        Some(0) => "Z",
        Some(_) => "S",
    }
}

/// Basis points as a percentage without trailing zeros: 2000 → "20", 550 → "5.5", 1234 → "12.34".
pub fn percent(basis_points: u32) -> String {
    let (whole, frac) = (basis_points / 100, basis_points % 100);
    match frac {
        0 => whole.to_string(),
        f if f % 10 == 0 => format!("{whole}.{}", f / 10),
        f => format!("{whole}.{f:02}"),
    }
}

/// Minor units as a decimal with exactly `exponent` fraction digits, by integer arithmetic:
/// (12345, 2) → "123.45", (-5, 2) → "-0.05", (7, 0) → "7".
pub fn amount(minor: i64, exponent: u8) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let magnitude = minor.unsigned_abs();
    if exponent == 0 {
        return format!("{sign}{magnitude}");
    }
    let scale = 10u64.pow(u32::from(exponent));
    format!(
        "{sign}{}.{:0width$}",
        magnitude / scale,
        magnitude % scale,
        width = usize::from(exponent)
    )
}

fn date(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// Escapes text and attribute values: the five XML entities, and drops the control characters
/// XML 1.0 cannot carry at all (a stray one would make the whole document unreadable).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

/// Indented output; element and attribute names are constants here, only values are escaped.
#[derive(Default)]
struct Xml {
    out: String,
    depth: usize,
}

impl Xml {
    fn raw(&mut self, s: &str) {
        self.out.push_str(s);
    }

    fn indent(&mut self) {
        for _ in 0..=self.depth {
            self.out.push_str("  ");
        }
    }

    fn open(&mut self, tag: &str) {
        self.indent();
        self.out.push('<');
        self.out.push_str(tag);
        self.out.push_str(">\n");
        self.depth += 1;
    }

    fn close(&mut self, tag: &str) {
        self.depth = self.depth.saturating_sub(1);
        self.indent();
        self.out.push_str("</");
        self.out.push_str(tag);
        self.out.push_str(">\n");
    }

    fn leaf(&mut self, tag: &str, attrs: &[(&str, &str)], text: &str) {
        self.indent();
        self.out.push('<');
        self.out.push_str(tag);
        for (name, value) in attrs {
            self.out.push(' ');
            self.out.push_str(name);
            self.out.push_str("=\"");
            self.out.push_str(&escape(value));
            self.out.push('"');
        }
        self.out.push('>');
        self.out.push_str(&escape(text));
        self.out.push_str("</");
        self.out.push_str(tag);
        self.out.push_str(">\n");
    }
}
