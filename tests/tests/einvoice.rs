//! The UBL documents against the OASIS UBL 2.1 schemas vendored in `tests/fixtures/ubl-2.1/`,
//! with `xmllint` (Debian's libxml2-utils). The EN 16931 business rules are checked by
//! `bench/einvoice-validate.sh` (Saxon, by hand).

use std::path::PathBuf;
use std::process::Command;

use spaces_billing::documents::{DocumentKind, InvoiceDocument, sample, ubl};

fn schema(kind: DocumentKind) -> PathBuf {
    let name = match kind {
        DocumentKind::Invoice => "UBL-Invoice-2.1.xsd",
        DocumentKind::CreditNote => "UBL-CreditNote-2.1.xsd",
    };
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/ubl-2.1/maindoc")
        .join(name)
}

/// Runs `xmllint --schema` on `xml`; Ok or the validator's complaint.
pub(crate) fn xsd_validate(kind: DocumentKind, xml: &str) -> Result<(), String> {
    let path = std::env::temp_dir().join(format!("spaces-ubl-{}.xml", uuid::Uuid::new_v4()));
    std::fs::write(&path, xml).unwrap();
    let out = Command::new("xmllint")
        .arg("--noout")
        .arg("--nonet")
        .arg("--schema")
        .arg(schema(kind))
        .arg(&path)
        .output();
    let _ = std::fs::remove_file(&path);
    let out = match out {
        Ok(out) => out,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!(
            "xmllint is missing: apt-get install -y libxml2-utils (the UBL XSD tests need it)"
        ),
        Err(e) => panic!("running xmllint: {e}"),
    };
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

fn valid(doc: &InvoiceDocument) {
    let xml = ubl::invoice_xml(doc);
    if let Err(e) = xsd_validate(doc.kind, &xml) {
        panic!("{} is not valid UBL 2.1:\n{e}\n{xml}", doc.number);
    }
}

#[test]
fn invoice_is_valid_ubl() {
    valid(&sample::invoice());
}

#[test]
fn credit_note_is_valid_ubl() {
    valid(&sample::credit_note());
}

#[test]
fn every_sample_is_valid_ubl() {
    // Credited, three rates, a currency without decimals: what the schematron script checks too.
    for (_, doc) in sample::all() {
        valid(&doc);
    }
}

#[test]
fn minimal_documents_are_valid_ubl() {
    // No due date, note, e-mail, VAT or registration numbers, nothing paid; a zero-rated line.
    for mut doc in [sample::invoice(), sample::credit_note()] {
        doc.due_date = None;
        doc.note = None;
        for p in [&mut doc.seller, &mut doc.buyer] {
            p.email = None;
            p.vat_number = None;
            p.registration_number = None;
        }
        doc.lines[0].vat_basis_points = Some(0);
        valid(&doc);
    }
}

#[test]
fn the_schema_check_catches_a_broken_document() {
    // The validator really reads the schema: an element out of order is refused.
    let xml = ubl::invoice_xml(&sample::invoice());
    let broken = xml.replacen(
        "<cbc:CustomizationID>urn:cen.eu:en16931:2017</cbc:CustomizationID>",
        "",
        1,
    );
    let broken = broken.replacen(
        "<cbc:DocumentCurrencyCode>",
        "<cbc:CustomizationID>urn:cen.eu:en16931:2017</cbc:CustomizationID><cbc:DocumentCurrencyCode>",
        1,
    );
    assert!(xsd_validate(DocumentKind::Invoice, &broken).is_err());
    // And an invoice is not a credit note.
    assert!(xsd_validate(DocumentKind::CreditNote, &xml).is_err());
}

#[test]
fn hostile_text_stays_well_formed_and_valid() {
    // Markup, entities, quotes, control characters and non-Latin text in every free-text field.
    let nasty = "A&B <Invoice> \"q\" 'a' ]]> \u{1}\u{7}\u{1b} €漢字🙂 </cbc:Name>";
    for mut doc in [sample::invoice(), sample::credit_note()] {
        doc.number = format!("N-{nasty}");
        doc.note = Some(nasty.into());
        for p in [&mut doc.seller, &mut doc.buyer] {
            p.legal_name = nasty.into();
            p.address_line = nasty.into();
            p.city = nasty.into();
            p.postcode = nasty.into();
            p.email = Some(nasty.into());
        }
        for l in &mut doc.lines {
            l.description = nasty.into();
        }
        for v in &mut doc.vat {
            if v.exemption.is_some() {
                v.exemption = Some(nasty.into());
            }
        }
        if let Some((n, _)) = &mut doc.corrects {
            *n = nasty.into();
        }
        valid(&doc);
        let xml = ubl::invoice_xml(&doc);
        assert!(!xml.contains("<Invoice> "), "markup in text is escaped");
        assert!(xml.contains("€漢字🙂"), "text beyond ASCII is kept");
    }
}
