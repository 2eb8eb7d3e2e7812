//! The certificate as a one-page A4 landscape PDF: the space's colours and logo, the learner,
//! the achievement, its transcript and outcomes, the dates, and a QR code to the public
//! verification page, so that a printed certificate can still be checked. Pure: bytes in,
//! bytes out.
//!
//! Built like the invoice PDF (`billing/src/documents/pdf.rs`): `pdf-writer` and the PDF's
//! built-in Helvetica in WinAnsi encoding, so no font file to embed; what WinAnsi cannot carry
//! prints `?`. The page's content stream is left uncompressed, like the invoice's.

mod colour;
mod document;
mod logo;
mod page;
mod qr;
mod text;
mod words;

pub use logo::{LogoError, LogoFormat, LogoInfo, MAX_LOGO_BYTES, MAX_LOGO_SIDE, check_logo};

use chrono::NaiveDate;
use pdf_writer::Name;

/// The language of the certificate's fixed words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    En,
    Fr,
}

#[derive(Clone, Copy, Debug)]
pub struct CertificatePdf<'a> {
    pub lang: Lang,
    /// The issuing space (sector body or company), shown as the issuer.
    pub space_name: &'a str,
    /// Branding, "#rrggbb"; when missing or malformed, a sober dark blue.
    pub primary_colour: Option<&'a str>,
    pub accent_colour: Option<&'a str>,
    /// The logo the space uploaded (PNG or JPEG), checked with [`check_logo`] then; drawn
    /// top-left in a 160 x 60 pt box. One that cannot be read now is left out.
    pub logo: Option<&'a [u8]>,
    pub learner_name: &'a str,
    /// The course edition or pathway title.
    pub achievement_name: &'a str,
    /// The course provider, if any.
    pub provider: Option<&'a str>,
    /// Transcript rows, formatted by the caller, e.g. ("Credits", "1 ECTS").
    pub transcript: &'a [(String, String)],
    /// Learning outcomes, bulleted; at most 8 lines are shown.
    pub outcomes: &'a [String],
    pub issued_on: NaiveDate,
    pub valid_until: Option<NaiveDate>,
    /// Printed prominently, so that a printed revoked certificate says so.
    pub revoked: bool,
    /// The public verification page: in the QR code and printed under it.
    pub verify_url: &'a str,
    /// The credential id (a URL or URN), printed small at the bottom.
    pub credential_id: &'a str,
}

#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    #[error("the verification URL is too long for a QR code ({0} bytes)")]
    VerifyUrlTooLong(usize),
    #[error("the verification URL cannot be put in a QR code: {0}")]
    Qr(String),
}

/// The certificate as PDF bytes. Fails only when the verification URL cannot fit in a QR code
/// (over about 2,300 bytes).
pub fn render(c: &CertificatePdf<'_>) -> Result<Vec<u8>, PdfError> {
    let code = qr::encode(c.verify_url)?;
    let logo = c
        .logo
        .and_then(|bytes| logo::prepare(bytes, LOGO_W, LOGO_H));
    let content = page::page(c, &code, logo.as_ref().map(|l| l.aspect));
    Ok(document::assemble(c, &content, logo.as_ref()))
}

const PAGE_W: f32 = 842.0;
const PAGE_H: f32 = 595.0;
const LEFT: f32 = 50.0;
const RIGHT: f32 = 792.0;
const CENTRE: f32 = PAGE_W / 2.0;
/// Width of the centred lines: clear of the frame on both sides.
const CENTRE_W: f32 = 680.0;
/// Lowest baseline of the columns; the credential id sits below it.
const BOTTOM: f32 = 62.0;
const HEAD_TOP: f32 = 555.0;
const LOGO_W: f32 = 160.0;
const LOGO_H: f32 = 60.0;
/// The centred block (title to dates) sits between these.
const BLOCK_TOP: f32 = 480.0;
const COLUMNS_TOP: f32 = 262.0;
const QR_SIZE: f32 = 100.0;
const QR_Y: f32 = 96.0;
/// Distance between baselines in the columns.
const LEAD: f32 = 11.5;
const OUTCOME_LINES: usize = 8;

const REGULAR: Name<'static> = Name(b"F1");
const BOLD: Name<'static> = Name(b"F2");
const LOGO: Name<'static> = Name(b"Im1");

#[cfg(test)]
mod tests;
