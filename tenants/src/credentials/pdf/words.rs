//! The certificate's fixed words in English and French, and its dates written out.

use chrono::{Datelike, NaiveDate};

use super::Lang;

/// The certificate's fixed words in one language.
pub(super) struct Words {
    pub(super) title: &'static str,
    pub(super) awarded_to: &'static str,
    pub(super) issued_by: &'static str,
    pub(super) provider: &'static str,
    pub(super) issued_on: &'static str,
    pub(super) valid_until: &'static str,
    pub(super) revoked: &'static str,
    pub(super) revoked_note: &'static str,
    pub(super) transcript: &'static str,
    pub(super) outcomes: &'static str,
    pub(super) verify: &'static str,
    pub(super) credential_id: &'static str,
    months: [&'static str; 12],
}

const EN: Words = Words {
    title: "Certificate of completion",
    awarded_to: "awarded to",
    issued_by: "Issued by",
    provider: "Course provider:",
    issued_on: "Issued on",
    valid_until: "Valid until",
    revoked: "REVOKED",
    revoked_note: "REVOKED: this certificate has been withdrawn and is no longer valid.",
    transcript: "Transcript",
    outcomes: "Learning outcomes",
    verify: "Verify this certificate",
    credential_id: "Credential ID:",
    months: [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
};

// French typography: a non-breaking space before a colon, the typographic apostrophe.
const FR: Words = Words {
    title: "Certificat de réussite",
    awarded_to: "décerné à",
    issued_by: "Délivré par",
    provider: "Organisme de formation\u{A0}:",
    issued_on: "Délivré le",
    valid_until: "Valable jusqu’au",
    revoked: "RÉVOQUÉ",
    revoked_note: "RÉVOQUÉ\u{A0}: ce certificat a été retiré et n’est plus valide.",
    transcript: "Relevé",
    outcomes: "Acquis d’apprentissage",
    verify: "Vérifier ce certificat",
    credential_id: "Identifiant du certificat\u{A0}:",
    months: [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ],
};

pub(super) fn words(lang: Lang) -> &'static Words {
    match lang {
        Lang::En => &EN,
        Lang::Fr => &FR,
    }
}

/// "1 December 2026", "1er décembre 2026" (French writes the first of the month as an ordinal).
pub(super) fn date(lang: Lang, d: NaiveDate) -> String {
    let month = words(lang).months[d.month0() as usize];
    match (lang, d.day()) {
        (Lang::Fr, 1) => format!("1er {month} {}", d.year()),
        (_, day) => format!("{day} {month} {}", d.year()),
    }
}
