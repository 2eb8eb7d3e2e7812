//! The invoice or credit note as an A4 PDF: seller, buyer, number and dates, the lines, the VAT
//! breakdown with any exemption mention, totals, paid and due. As many pages as the lines need.
//!
//! Built with `pdf-writer` and the PDF's built-in Helvetica in WinAnsi encoding: no font file
//! to embed, a few kilobytes per invoice. Layout coordinates are PDF points (`f32`, the PDF
//! format's own unit); amounts never pass through them: they are formatted from integer minor
//! units by [`super::ubl::amount`].

use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str, TextStr};
use spaces_tenants::kernel::helvetica::{self, width, win_ansi};

use super::ubl::{amount, percent, settled_minor};
use super::{DocumentKind, InvoiceDocument, Party};

const PAGE_W: f32 = 595.0;
const PAGE_H: f32 = 842.0;
const LEFT: f32 = 50.0;
const RIGHT: f32 = 545.0;
const TOP: f32 = 792.0;
/// Lowest baseline for content; the page footer sits below it.
const BOTTOM: f32 = 70.0;

const REGULAR: Name<'static> = Name(b"F1");
const BOLD: Name<'static> = Name(b"F2");

// Table columns: right edges of the numeric columns, and the description's width.
const COL_QTY: f32 = 345.0;
const COL_PRICE: f32 = 425.0;
const COL_VAT: f32 = 470.0;
const DESC_WIDTH: f32 = 255.0;

/// The document as PDF bytes.
pub fn invoice_pdf(doc: &InvoiceDocument) -> Vec<u8> {
    let credit = doc.kind == DocumentKind::CreditNote;
    let exp = doc.currency.exponent();
    let cur = doc.currency.code();
    let money = |minor: i64| format!("{} {cur}", amount(minor, exp));
    let mut w = Writer::new();

    // Header: the seller on the left, the title and references on the right.
    let title = if credit { "CREDIT NOTE" } else { "INVOICE" };
    w.text_right(RIGHT, TOP, BOLD, 18.0, title);
    let mut refs = vec![
        format!("Number: {}", doc.number),
        format!("Issue date: {}", doc.issue_date.format("%Y-%m-%d")),
    ];
    if let Some(due) = doc.due_date {
        refs.push(format!("Due date: {}", due.format("%Y-%m-%d")));
    }
    if let Some((number, date)) = &doc.corrects {
        refs.push(format!(
            "Corrects invoice {number} of {}",
            date.format("%Y-%m-%d")
        ));
    }
    let mut y = TOP - 20.0;
    for r in &refs {
        w.text_right(RIGHT, y, REGULAR, 10.0, r);
        y -= 13.0;
    }
    let seller_end = party(&mut w, LEFT, TOP, &doc.seller, None);

    // The buyer, under whichever header block ends lower.
    let mut y = seller_end.min(y) - 22.0;
    y = party(&mut w, LEFT, y, &doc.buyer, Some("Bill to"));
    w.y = y - 10.0;

    if let Some(note) = doc.note.as_deref().filter(|n| !n.trim().is_empty()) {
        for l in wrap(note, RIGHT - LEFT, 10.0) {
            w.line(REGULAR, 10.0, &[(LEFT, Align::Left, &l)], 13.0);
        }
        w.y -= 6.0;
    }

    // Lines.
    w.gap(14.0);
    table_header(&mut w);
    for line in &doc.lines {
        let vat = match line.vat_basis_points {
            Some(bp) => format!("{} %", percent(bp)),
            None => "exempt".to_owned(),
        };
        let desc = wrap(&line.description, DESC_WIDTH, 9.0);
        // Keep a line's wrapped description on one page.
        if w.y - 12.0 * (desc.len() as f32) < BOTTOM {
            w.new_page();
            table_header(&mut w);
        }
        let qty = line.quantity.to_string();
        let unit = money(line.unit_price_minor);
        let net = money(line.net_minor);
        for (i, d) in desc.iter().enumerate() {
            let mut cells = vec![(LEFT, Align::Left, d.as_str())];
            if i == 0 {
                cells.extend([
                    (COL_QTY, Align::Right, qty.as_str()),
                    (COL_PRICE, Align::Right, unit.as_str()),
                    (COL_VAT, Align::Right, vat.as_str()),
                    (RIGHT, Align::Right, net.as_str()),
                ]);
            }
            w.line(REGULAR, 9.0, &cells, 12.0);
        }
        w.y -= 2.0;
    }
    w.rule(w.y + 8.0);
    w.y -= 12.0;

    // VAT breakdown.
    w.gap(40.0);
    w.line(BOLD, 10.0, &[(LEFT, Align::Left, "VAT breakdown")], 14.0);
    w.line(
        BOLD,
        9.0,
        &[
            (LEFT, Align::Left, "Rate"),
            (COL_PRICE, Align::Right, "Taxable amount"),
            (RIGHT, Align::Right, "VAT"),
        ],
        12.0,
    );
    let mut mentions = Vec::new();
    for row in &doc.vat {
        let rate = match row.vat_basis_points {
            Some(bp) => format!("{} %", percent(bp)),
            None => "Exempt".to_owned(),
        };
        let (taxable, vat) = (money(row.taxable_minor), money(row.vat_minor));
        w.gap(12.0);
        w.line(
            REGULAR,
            9.0,
            &[
                (LEFT, Align::Left, &rate),
                (COL_PRICE, Align::Right, &taxable),
                (RIGHT, Align::Right, &vat),
            ],
            12.0,
        );
        if let Some(m) = row.exemption.as_deref().filter(|m| !m.trim().is_empty()) {
            mentions.push(m);
        }
    }

    // Totals, right-aligned.
    w.gap(90.0);
    w.y -= 8.0;
    let totals = [
        ("Total excluding VAT", doc.net_total_minor, REGULAR),
        ("VAT", doc.vat_total_minor, REGULAR),
        ("Total including VAT", doc.gross_total_minor, BOLD),
        (
            if credit {
                "Set off against the invoice"
            } else if settled_minor(doc) == doc.paid_minor {
                "Paid"
            } else {
                "Paid or credited"
            },
            settled_minor(doc),
            REGULAR,
        ),
        (
            if credit {
                "Amount to refund"
            } else {
                "Amount due"
            },
            doc.due_minor,
            BOLD,
        ),
    ];
    for (label, minor, font) in totals {
        let value = money(minor);
        w.line(
            font,
            10.0,
            &[
                (COL_PRICE, Align::Right, label),
                (RIGHT, Align::Right, &value),
            ],
            14.0,
        );
    }

    // Exemption mentions: legally required wording, printed in full.
    if !mentions.is_empty() {
        w.y -= 10.0;
        for m in mentions {
            for l in wrap(m, RIGHT - LEFT, 9.0) {
                w.gap(12.0);
                w.line(REGULAR, 9.0, &[(LEFT, Align::Left, &l)], 12.0);
            }
        }
    }

    w.finish(&doc.number, title)
}

/// Prints a party block from `top` down; returns the baseline below it.
fn party(w: &mut Writer, x: f32, top: f32, p: &Party, heading: Option<&str>) -> f32 {
    let mut y = top;
    if let Some(h) = heading {
        w.text(x, y, BOLD, 9.0, h);
        y -= 13.0;
    }
    w.text(x, y, BOLD, 12.0, &p.legal_name);
    y -= 14.0;
    let mut rows = vec![
        p.address_line.clone(),
        format!("{} {}", p.postcode, p.city).trim().to_owned(),
        p.country.to_ascii_uppercase(),
    ];
    if let Some(v) = p.vat_number.as_deref().filter(|v| !v.is_empty()) {
        rows.push(format!("VAT number: {v}"));
    }
    if let Some(r) = p.registration_number.as_deref().filter(|r| !r.is_empty()) {
        rows.push(format!("Registration: {r}"));
    }
    if let Some(e) = p.email.as_deref().filter(|e| !e.is_empty()) {
        rows.push(e.to_owned());
    }
    for r in rows.iter().filter(|r| !r.is_empty()) {
        w.text(x, y, REGULAR, 9.0, r);
        y -= 12.0;
    }
    y
}

fn table_header(w: &mut Writer) {
    w.line(
        BOLD,
        9.0,
        &[
            (LEFT, Align::Left, "Description"),
            (COL_QTY, Align::Right, "Qty"),
            (COL_PRICE, Align::Right, "Unit price"),
            (COL_VAT, Align::Right, "VAT"),
            (RIGHT, Align::Right, "Net"),
        ],
        4.0,
    );
    w.rule(w.y);
    w.y -= 12.0;
}

#[derive(Clone, Copy)]
enum Align {
    Left,
    Right,
}

/// Pages of content with a cursor; starts a new page when the cursor would pass the bottom.
struct Writer {
    pages: Vec<Content>,
    y: f32,
}

impl Writer {
    fn new() -> Self {
        Self {
            pages: vec![Content::new()],
            y: TOP,
        }
    }

    fn page(&mut self) -> &mut Content {
        if self.pages.is_empty() {
            self.pages.push(Content::new());
        }
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    fn new_page(&mut self) {
        self.pages.push(Content::new());
        self.y = TOP;
    }

    /// Makes room for `height` points below the cursor, on a new page if needed.
    fn gap(&mut self, height: f32) {
        if self.y - height < BOTTOM {
            self.new_page();
        }
    }

    fn text(&mut self, x: f32, y: f32, font: Name<'static>, size: f32, s: &str) {
        let bytes = win_ansi(s);
        self.page()
            .begin_text()
            .set_font(font, size)
            .next_line(x, y)
            .show(Str(&bytes))
            .end_text();
    }

    fn text_right(&mut self, right: f32, y: f32, font: Name<'static>, size: f32, s: &str) {
        let x = right - width(s, size, font == BOLD);
        self.text(x, y, font, size, s);
    }

    /// One row of cells at the cursor, then moves the cursor down by `advance`.
    fn line(&mut self, font: Name<'static>, size: f32, cells: &[(f32, Align, &str)], advance: f32) {
        if self.y < BOTTOM {
            self.new_page();
        }
        let y = self.y;
        for (x, align, s) in cells {
            match align {
                Align::Left => self.text(*x, y, font, size, s),
                Align::Right => self.text_right(*x, y, font, size, s),
            }
        }
        self.y -= advance;
    }

    fn rule(&mut self, y: f32) {
        self.page()
            .set_line_width(0.5)
            .move_to(LEFT, y)
            .line_to(RIGHT, y)
            .stroke();
    }

    fn finish(mut self, number: &str, title: &str) -> Vec<u8> {
        let total = self.pages.len();
        // Page footers, now that the count is known.
        for (i, page) in self.pages.iter_mut().enumerate() {
            let footer = format!("{number}  -  page {} of {total}", i + 1);
            let bytes = win_ansi(&footer);
            page.begin_text()
                .set_font(REGULAR, 8.0)
                .next_line(LEFT, 40.0)
                .show(Str(&bytes))
                .end_text();
        }

        let mut pdf = Pdf::new();
        let catalog = Ref::new(1);
        let tree = Ref::new(2);
        let regular = Ref::new(3);
        let bold = Ref::new(4);
        let info = Ref::new(5);
        let first = 6;
        let page_ref = |i: usize| Ref::new(first + 2 * i as i32);
        let content_ref = |i: usize| Ref::new(first + 2 * i as i32 + 1);

        pdf.catalog(catalog).pages(tree);
        pdf.pages(tree)
            .kids((0..total).map(page_ref))
            .count(total as i32);
        pdf.type1_font(regular)
            .base_font(Name(b"Helvetica"))
            .encoding_predefined(Name(b"WinAnsiEncoding"));
        pdf.type1_font(bold)
            .base_font(Name(b"Helvetica-Bold"))
            .encoding_predefined(Name(b"WinAnsiEncoding"));
        pdf.document_info(info)
            .title(TextStr(&format!("{title} {number}")))
            .creator(TextStr("Spaces"));
        for (i, content) in self.pages.into_iter().enumerate() {
            let mut page = pdf.page(page_ref(i));
            page.media_box(Rect::new(0.0, 0.0, PAGE_W, PAGE_H))
                .parent(tree)
                .contents(content_ref(i));
            let mut resources = page.resources();
            resources.fonts().pair(REGULAR, regular).pair(BOLD, bold);
            resources.finish();
            page.finish();
            pdf.stream(content_ref(i), &content.finish());
        }
        pdf.finish()
    }
}

/// The invoice's body text is regular weight.
fn wrap(text: &str, max: f32, size: f32) -> Vec<String> {
    helvetica::wrap(text, max, size, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn win_ansi_keeps_latin1_and_the_euro() {
        assert_eq!(win_ansi("Exonération €"), b"Exon\xe9ration \x80".to_vec());
        assert_eq!(win_ansi("日本"), b"??".to_vec());
    }

    #[test]
    fn wrap_respects_the_width() {
        let text = "Subscription Campus 200 seats for the academic year, billed yearly in advance";
        let lines = wrap(text, 120.0, 9.0);
        assert!(lines.len() > 1, "{lines:?}");
        assert!(lines.iter().all(|l| width(l, 9.0, false) <= 120.0));
        assert_eq!(lines.join(" "), text);
    }
}
