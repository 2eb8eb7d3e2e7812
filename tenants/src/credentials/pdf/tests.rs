use pdf_writer::Content;

use super::colour::{DEFAULT_PRIMARY, INK, Rgb, parse_colour};
use super::logo::tests::{baseline_jpeg, jpeg, png, rgba_png};
use super::text::{fit, width, win_ansi};
use super::words::date;
use super::*;

/// An operand in a content stream, as the tests read it back.
#[derive(Clone, Debug)]
pub(super) enum Operand {
    Num(f32),
    Name(String),
    Str(Vec<u8>),
}

impl Operand {
    pub(super) fn num(&self) -> f32 {
        match self {
            Operand::Num(n) => *n,
            other => panic!("not a number: {other:?}"),
        }
    }
}

/// A content stream as (operator, operands), enough of PDF's syntax for what is drawn here.
pub(super) fn ops(content: &[u8]) -> Vec<(String, Vec<Operand>)> {
    let delimiter = |b: u8| b.is_ascii_whitespace() || b"()<>[]/".contains(&b);
    let (mut out, mut args, mut i) = (Vec::new(), Vec::new(), 0);
    while i < content.len() {
        match content[i] {
            b if b.is_ascii_whitespace() || b == b'[' || b == b']' => i += 1,
            b'(' => {
                let (mut s, mut depth) = (Vec::new(), 1);
                i += 1;
                loop {
                    match content[i] {
                        b'\\' => {
                            i += 1;
                            match content[i] {
                                b'n' => s.push(b'\n'),
                                b'r' => s.push(b'\r'),
                                b't' => s.push(b'\t'),
                                b'b' => s.push(8),
                                b'f' => s.push(12),
                                d @ b'0'..=b'7' => {
                                    let mut v = u32::from(d - b'0');
                                    for _ in 0..2 {
                                        if matches!(content[i + 1], b'0'..=b'7') {
                                            i += 1;
                                            v = v * 8 + u32::from(content[i] - b'0');
                                        }
                                    }
                                    s.push(v as u8);
                                }
                                other => s.push(other),
                            }
                        }
                        b'(' => {
                            depth += 1;
                            s.push(b'(');
                        }
                        b')' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                            s.push(b')');
                        }
                        other => s.push(other),
                    }
                    i += 1;
                }
                i += 1;
                args.push(Operand::Str(s));
            }
            b'<' => {
                let end = i + content[i..].iter().position(|&b| b == b'>').expect(">");
                let hex: Vec<u8> = content[i + 1..end]
                    .iter()
                    .copied()
                    .filter(|b| !b.is_ascii_whitespace())
                    .collect();
                let bytes = hex
                    .chunks(2)
                    .map(|p| u8::from_str_radix(std::str::from_utf8(p).expect("hex"), 16))
                    .collect::<Result<_, _>>()
                    .expect("hex string");
                args.push(Operand::Str(bytes));
                i = end + 1;
            }
            b'/' => {
                let start = i + 1;
                i = start;
                while i < content.len() && !delimiter(content[i]) {
                    i += 1;
                }
                args.push(Operand::Name(
                    String::from_utf8_lossy(&content[start..i]).into(),
                ));
            }
            // A stray delimiter (the end of a dictionary).
            b if delimiter(b) => i += 1,
            _ => {
                let start = i;
                while i < content.len() && !delimiter(content[i]) {
                    i += 1;
                }
                let token = String::from_utf8_lossy(&content[start..i]).into_owned();
                match token.parse::<f32>() {
                    Ok(n) => args.push(Operand::Num(n)),
                    Err(_) => out.push((token, std::mem::take(&mut args))),
                }
            }
        }
    }
    out
}

/// WinAnsi bytes back to text.
fn from_win_ansi(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| match b {
            0x20..=0x7E | 0xA0..=0xFF => char::from(b),
            0x80 => '€',
            0x85 => '…',
            0x8C => 'Œ',
            0x91 => '‘',
            0x92 => '’',
            0x95 => '•',
            0x97 => '—',
            0x9C => 'œ',
            other => panic!("unexpected byte {other:#x}"),
        })
        .collect()
}

/// A line of text as drawn.
#[derive(Debug)]
struct Shown {
    text: String,
    bold: bool,
    size: f32,
    x: f32,
    y: f32,
    slanted: bool,
}

fn shown(content: &[u8]) -> Vec<Shown> {
    let (mut bold, mut size, mut x, mut y, mut slanted) = (false, 0.0, 0.0, 0.0, false);
    let mut out = Vec::new();
    for (op, args) in ops(content) {
        match op.as_str() {
            "BT" => (x, y, slanted) = (0.0, 0.0, false),
            "Tf" => {
                bold = matches!(&args[0], Operand::Name(n) if n == "F2");
                size = args[1].num();
            }
            "Td" => (x, y) = (args[0].num(), args[1].num()),
            "Tm" => slanted = true,
            "Tj" => {
                let Operand::Str(s) = &args[0] else {
                    panic!("Tj takes a string");
                };
                let text = from_win_ansi(s);
                out.push(Shown {
                    text,
                    bold,
                    size,
                    x,
                    y,
                    slanted,
                });
            }
            _ => {}
        }
    }
    out
}

fn texts(content: &[u8]) -> Vec<String> {
    shown(content).into_iter().map(|s| s.text).collect()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The page's content stream, read out of the PDF.
fn content_of(pdf: &[u8]) -> Vec<u8> {
    let obj = pdf
        .windows(7)
        .position(|w| w == b"4 0 obj")
        .expect("content object");
    let start = obj
        + pdf[obj..]
            .windows(7)
            .position(|w| w == b"stream\n")
            .expect("stream")
        + 7;
    let end = start
        + pdf[start..]
            .windows(10)
            .position(|w| w == b"\nendstream")
            .expect("endstream");
    pdf[start..end].to_vec()
}

/// The document info's title, decoded from its UTF-16 text string (a hex string, as the
/// title's dash is not ASCII).
fn info_title(pdf: &[u8]) -> String {
    let at = pdf
        .windows(8)
        .position(|w| w == b"/Title <")
        .expect("title")
        + 8;
    let end = at + pdf[at..].iter().position(|&b| b == b'>').expect(">");
    let hex = std::str::from_utf8(&pdf[at..end]).expect("hex");
    assert!(hex.starts_with("FEFF"), "UTF-16 with its byte order mark");
    let units: Vec<u16> = (4..hex.len())
        .step_by(4)
        .map(|i| u16::from_str_radix(&hex[i..i + 4], 16).expect("hex"))
        .collect();
    String::from_utf16(&units).expect("utf-16")
}

fn transcript() -> Vec<(String, String)> {
    [
        ("Study time", "12 hours"),
        ("Credits", "1 ECTS"),
        ("EQF level", "5"),
        ("Grade", "87.5 / 100"),
        ("Identity verified", "Yes"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

fn outcomes() -> Vec<String> {
    vec![
        "Describe the main soil types of temperate Europe and how they form".to_owned(),
        "Take and read a soil sample".to_owned(),
    ]
}

const URL: &str = "https://campus.example/verify/0190c3a2-7d1e-7b9a-9f00-5e2b1c4d8a77";

fn sample<'a>(transcript: &'a [(String, String)], outcomes: &'a [String]) -> CertificatePdf<'a> {
    CertificatePdf {
        lang: Lang::En,
        space_name: "Chambre d'agriculture de Bretagne",
        primary_colour: Some("#2e7d32"),
        accent_colour: Some("#c9a227"),
        logo: None,
        learner_name: "Marie Curie",
        achievement_name: "Soil Science Fundamentals",
        provider: Some("Institut Agro"),
        transcript,
        outcomes,
        issued_on: NaiveDate::from_ymd_opt(2026, 12, 1).expect("date"),
        valid_until: NaiveDate::from_ymd_opt(2029, 11, 30),
        revoked: false,
        verify_url: URL,
        credential_id: "urn:uuid:0190c3a2-7d1e-7b9a-9f00-5e2b1c4d8a77",
    }
}

fn ends_with_eof(pdf: &[u8]) -> bool {
    pdf.trim_ascii_end().ends_with(b"%%EOF")
}

#[test]
fn a_certificate_is_a_pdf_that_says_who_achieved_what() {
    let (t, o) = (transcript(), outcomes());
    let pdf = render(&sample(&t, &o)).expect("renders");
    assert!(pdf.starts_with(b"%PDF-"));
    assert!(ends_with_eof(&pdf));
    // Plain ASCII names are literal strings in the uncompressed content stream.
    assert!(contains(&pdf, b"(Marie Curie) Tj"));
    assert!(contains(&pdf, b"(Soil Science Fundamentals) Tj"));

    let lines = texts(&content_of(&pdf));
    for expected in [
        "Certificate of completion",
        "awarded to",
        "Issued by",
        "Chambre d'agriculture de Bretagne",
        "Course provider: Institut Agro",
        "Issued on 1 December 2026 · Valid until 30 November 2029",
        "Transcript",
        "Study time",
        "12 hours",
        "Identity verified",
        "Yes",
        "Learning outcomes",
        "Take and read a soil sample",
        "Verify this certificate",
        "Credential ID: urn:uuid:0190c3a2-7d1e-7b9a-9f00-5e2b1c4d8a77",
    ] {
        assert!(
            lines.iter().any(|l| l == expected),
            "{expected:?} in {lines:?}"
        );
    }
    // The verification URL is printed whole, over as many lines as it takes.
    assert!(lines.concat().contains(URL), "{lines:?}");
    assert!(!lines.iter().any(|l| l.contains("REVOKED")));
    assert_eq!(info_title(&pdf), "Certificate — Soil Science Fundamentals");
    assert!(contains(&pdf, b"/Lang (en)"));
}

#[test]
fn a_french_certificate_speaks_french() {
    let (t, o) = (transcript(), outcomes());
    let mut c = sample(&t, &o);
    c.lang = Lang::Fr;
    c.learner_name = "Hélène Lefèvre-Œhlenschläger";
    c.achievement_name = "Agroécologie : les bases";
    c.valid_until = NaiveDate::from_ymd_opt(2027, 8, 15);
    let pdf = render(&c).expect("renders");
    let lines = texts(&content_of(&pdf));
    for expected in [
        "Certificat de réussite",
        "décerné à",
        "Délivré par",
        "Hélène Lefèvre-Œhlenschläger",
        "Agroécologie : les bases",
        "Organisme de formation\u{A0}: Institut Agro",
        "Délivré le 1er décembre 2026 · Valable jusqu’au 15 août 2027",
        "Relevé",
        "Acquis d’apprentissage",
        "Vérifier ce certificat",
    ] {
        assert!(
            lines.iter().any(|l| l == expected),
            "{expected:?} in {lines:?}"
        );
    }
    // Accented names go in as WinAnsi bytes (pdf-writer writes those as a hex string).
    let hex: String = win_ansi(c.learner_name)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect();
    assert!(
        hex.contains("E9") && hex.contains("8C"),
        "é and Œ in WinAnsi"
    );
    assert!(contains(&pdf, format!("<{hex}> Tj").as_bytes()));
    assert_eq!(info_title(&pdf), "Certificat — Agroécologie : les bases");
}

#[test]
fn dates_are_written_out_in_each_language() {
    let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).expect("date");
    assert_eq!(date(Lang::En, d(2026, 12, 1)), "1 December 2026");
    assert_eq!(date(Lang::Fr, d(2026, 12, 1)), "1er décembre 2026");
    assert_eq!(date(Lang::Fr, d(2027, 2, 14)), "14 février 2027");
    assert_eq!(date(Lang::En, d(2027, 8, 31)), "31 August 2027");
}

#[test]
fn a_revoked_certificate_says_so_in_large() {
    let (t, o) = (transcript(), outcomes());
    let mut c = sample(&t, &o);
    c.revoked = true;
    let shown_en = shown(&content_of(&render(&c).expect("renders")));
    let mark = shown_en
        .iter()
        .find(|s| s.text == "REVOKED")
        .expect("watermark");
    assert!(mark.slanted && mark.size >= 100.0 && mark.bold);
    assert!(
        shown_en
            .iter()
            .any(|s| s.text.starts_with("REVOKED: this certificate"))
    );

    c.lang = Lang::Fr;
    let shown_fr = texts(&content_of(&render(&c).expect("renders")));
    assert!(shown_fr.iter().any(|s| s == "RÉVOQUÉ"), "{shown_fr:?}");
}

#[test]
fn text_outside_win_ansi_prints_as_question_marks() {
    let (t, o) = (transcript(), outcomes());
    let mut c = sample(&t, &o);
    c.learner_name = "Łukasz Żółkiewski";
    c.achievement_name = "Φυσική 101";
    c.space_name = "学院";
    let pdf = render(&c).expect("renders");
    assert!(ends_with_eof(&pdf));
    let lines = texts(&content_of(&pdf));
    for expected in ["?ukasz ?ó?kiewski", "?????? 101", "??"] {
        assert!(
            lines.iter().any(|l| l == expected),
            "{expected:?} in {lines:?}"
        );
    }
    // The document info keeps the real characters.
    assert_eq!(info_title(&pdf), "Certificate — Φυσική 101");
}

#[test]
fn long_text_wraps_or_shrinks_and_stays_on_the_page() {
    let long = |word: &str, n: usize| vec![word; n].join(" ");
    let t: Vec<(String, String)> = (0..30)
        .map(|i| (format!("{} {i}", long("Assessment", 4)), long("passed", 30)))
        .collect();
    let o: Vec<String> = (0..20).map(|_| long("Understand", 15)).collect();
    let url = format!("https://campus.example/verify/{}", "x".repeat(300));
    let mut c = sample(&t, &o);
    let space = "Wojewódzki Ośrodek Doradztwa Rolniczego ".repeat(6);
    c.space_name = &space;
    let learner = format!(
        "Maria {} Consuelo",
        long("Wolfeschlegelsteinhausenbergerdorff", 6)
    );
    c.learner_name = &learner;
    let achievement = long("Advanced Precision Agriculture and Sustainability", 8);
    c.achievement_name = &achievement;
    let provider = long("Institut Agro Rennes-Angers", 10);
    c.provider = Some(&provider);
    c.verify_url = &url;
    let id = format!("https://campus.example/credentials/{}", "y".repeat(400));
    c.credential_id = &id;
    c.revoked = true;
    let content = content_of(&render(&c).expect("renders"));
    let lines = shown(&content);
    for s in lines.iter().filter(|s| !s.slanted) {
        let right = s.x + width(&s.text, s.size, s.bold);
        assert!(
            s.x >= 30.0 && right <= PAGE_W - 30.0 && s.y >= 30.0 && s.y <= PAGE_H - 30.0,
            "off the page: {s:?}"
        );
        // Nothing is printed over the QR code.
        let qr_x = RIGHT - QR_SIZE;
        let over_qr = right > qr_x && s.x < RIGHT && s.y > QR_Y && s.y < QR_Y + QR_SIZE;
        assert!(!over_qr, "over the QR code: {s:?}");
    }
    // Outcomes: at most eight lines, then an ellipsis.
    let outcome_lines = lines.iter().filter(|s| s.x == 422.0).count();
    assert_eq!(outcome_lines, OUTCOME_LINES + 1);
    assert!(lines.iter().any(|s| s.x == 422.0 && s.text == "…"));
}

#[test]
fn fitted_text_never_exceeds_its_width() {
    let name = "Anne-Catherine de La Tour d'Auvergne-Lauraguais Wolfeschlegelsteinhausen";
    for max_w in [80.0, 200.0, 680.0] {
        let f = fit(name, max_w, true, (28.0, 18.0, 14.0), 2);
        assert!(f.lines.len() <= 2);
        assert!(
            f.lines.iter().all(|l| width(l, f.size, true) <= max_w),
            "{max_w}"
        );
    }
    let short = fit("Ada Lovelace", 680.0, true, (28.0, 18.0, 14.0), 2);
    assert_eq!((short.size, short.lines.len()), (28.0, 1));
    let cut = fit(&"word ".repeat(200), 100.0, false, (9.0, 9.0, 9.0), 3);
    assert_eq!(cut.lines.len(), 3);
    assert!(cut.lines[2].ends_with('…'));
}

#[test]
fn the_page_draws_the_qr_code_of_the_verification_url() {
    let (t, o) = (transcript(), outcomes());
    let content = content_of(&render(&sample(&t, &o)).expect("renders"));
    let mut expected = Content::new();
    let code = qr::encode(URL).expect("encodes");
    qr::draw(&mut expected, &code, RIGHT - QR_SIZE, QR_Y, QR_SIZE);
    assert!(contains(&content, &expected.finish()));
}

#[test]
fn brand_colours_fall_back_to_dark_blue() {
    assert_eq!(
        parse_colour(Some("#ff8000")),
        Some(Rgb(1.0, 128.0 / 255.0, 0.0))
    );
    assert_eq!(parse_colour(Some(" #FFFFFF ")), Some(Rgb(1.0, 1.0, 1.0)));
    for bad in [
        None,
        Some(""),
        Some("red"),
        Some("#fff"),
        Some("#12345g"),
        Some("#1234567"),
    ] {
        assert_eq!(parse_colour(bad), None, "{bad:?}");
    }
    let (t, o) = (transcript(), outcomes());
    let mut c = sample(&t, &o);
    c.primary_colour = Some("not a colour");
    let ops = ops(&content_of(&render(&c).expect("renders")));
    // The frame is stroked in the default dark blue.
    let strokes: Vec<Vec<f32>> = ops
        .iter()
        .filter(|(op, _)| op == "RG")
        .map(|(_, a)| a.iter().map(Operand::num).collect())
        .collect();
    let blue = DEFAULT_PRIMARY;
    assert!(
        strokes.iter().any(|s| s == &[blue.0, blue.1, blue.2]),
        "{strokes:?}"
    );
    // A yellow brand colour is kept for the frame but not used for text.
    assert_eq!(Rgb(1.0, 0.84, 0.0).readable(), INK);
    assert_eq!(blue.readable(), blue);
}

#[test]
fn a_png_logo_with_transparency_gets_a_soft_mask() {
    let (t, o) = (transcript(), outcomes());
    let logo = rgba_png();
    let mut c = sample(&t, &o);
    c.logo = Some(&logo);
    let pdf = render(&c).expect("renders");
    assert!(contains(&pdf, b"/SMask 9 0 R"));
    assert!(contains(&pdf, b"/FlateDecode"));
    assert!(contains(&pdf, b"/Im1 Do"));
    // Drawn top-left, fitted to the box: 4x3 px becomes 80x60 pt.
    let cm = ops(&content_of(&pdf))
        .into_iter()
        .find(|(op, _)| op == "cm")
        .expect("placed");
    let m: Vec<f32> = cm.1.iter().map(Operand::num).collect();
    assert_eq!(m, vec![80.0, 0.0, 0.0, 60.0, LEFT, HEAD_TOP - 60.0]);
}

#[test]
fn an_opaque_palette_png_logo_has_no_mask() {
    let (t, o) = (transcript(), outcomes());
    let logo = png(
        2,
        2,
        png::ColorType::Indexed,
        png::BitDepth::Eight,
        &[0, 1, 1, 0],
        Some((&[255, 0, 0, 0, 0, 255], &[255, 255])),
    );
    let mut c = sample(&t, &o);
    c.logo = Some(&logo);
    let pdf = render(&c).expect("renders");
    assert!(contains(&pdf, b"/Im1 Do"));
    assert!(contains(&pdf, b"/DeviceRGB"));
    assert!(!contains(&pdf, b"/SMask"));
}

#[test]
fn a_jpeg_logo_is_embedded_as_it_is() {
    let (t, o) = (transcript(), outcomes());
    let logo = baseline_jpeg();
    let mut c = sample(&t, &o);
    c.logo = Some(&logo);
    let pdf = render(&c).expect("renders");
    assert!(contains(&pdf, b"/DCTDecode"));
    assert!(contains(&pdf, b"/DeviceRGB"));
    assert!(contains(&pdf, &logo), "the JPEG bytes unchanged");

    let cmyk = jpeg(super::logo::tests::ADOBE_CMYK);
    c.logo = Some(&cmyk);
    let pdf = render(&c).expect("renders");
    assert!(contains(&pdf, b"/DeviceCMYK"));
    assert!(contains(&pdf, b"/Decode [1 0 1 0 1 0 1 0]"));
}

#[test]
fn a_damaged_logo_is_left_out() {
    let (t, o) = (transcript(), outcomes());
    let png = rgba_png();
    let jpeg = baseline_jpeg();
    for bad in [
        &png[..png.len() / 2],
        &jpeg[..jpeg.len() / 2],
        b"GIF89a".as_slice(),
    ] {
        let mut c = sample(&t, &o);
        c.logo = Some(bad);
        let pdf = render(&c).expect("renders without the logo");
        assert!(pdf.starts_with(b"%PDF-") && ends_with_eof(&pdf));
        assert!(!contains(&pdf, b"/XObject"));
        assert!(!contains(&pdf, b" Do"));
    }
}

#[test]
fn win_ansi_keeps_latin1_and_typographic_marks() {
    assert_eq!(
        win_ansi("Réussite — n’est"),
        b"R\xe9ussite \x97 n\x92est".to_vec()
    );
    assert_eq!(win_ansi("Ωμέγα"), b"?????".to_vec());
}
