//! The page's content stream: the frame, the head, the centred block, the columns and the
//! QR code.

use pdf_writer::{Content, Name, Str};
use qrcode::QrCode;

use super::colour::{DEFAULT_PRIMARY, INK, MUTED, PALE_RED, RED, Rgb, parse_colour};
use super::text::{Fitted, fit, width, win_ansi, wrap};
use super::words::{date, words};
use super::{
    BLOCK_TOP, BOLD, BOTTOM, CENTRE, CENTRE_W, COLUMNS_TOP, CertificatePdf, HEAD_TOP, LEAD, LEFT,
    LOGO, LOGO_H, LOGO_W, OUTCOME_LINES, PAGE_H, PAGE_W, QR_SIZE, QR_Y, REGULAR, RIGHT, qr,
};

/// The page's content stream, drawn back to front.
pub(super) fn page(c: &CertificatePdf<'_>, code: &QrCode, logo: Option<(u32, u32)>) -> Vec<u8> {
    let w = words(c.lang);
    let primary = parse_colour(c.primary_colour).unwrap_or(DEFAULT_PRIMARY);
    let accent = parse_colour(c.accent_colour).unwrap_or(primary);
    let heading = primary.readable();
    let mut p = Page(Content::new());

    if c.revoked {
        p.watermark(w.revoked);
    }
    p.frame(primary, accent);

    // Head: the logo on the left, the issuer on the right.
    if let Some((px_w, px_h)) = logo.filter(|(w, h)| *w > 0 && *h > 0) {
        let scale = (LOGO_W / px_w as f32).min(LOGO_H / px_h as f32);
        let (dw, dh) = (px_w as f32 * scale, px_h as f32 * scale);
        p.0.save_state()
            .transform([dw, 0.0, 0.0, dh, LEFT, HEAD_TOP - dh])
            .x_object(LOGO)
            .restore_state();
    }
    let label = fit(w.issued_by, 380.0, false, (9.0, 9.0, 9.0), 1);
    let mut y = p.block(HEAD_TOP, REGULAR, MUTED, &label, Align::Right(RIGHT));
    let issuer = fit(c.space_name, 380.0, true, (14.0, 11.0, 9.0), 2);
    p.block(y - 3.0, BOLD, heading, &issuer, Align::Right(RIGHT));

    // The centred block, laid out first so that it can be centred in its space.
    let mut dates = format!("{} {}", w.issued_on, date(c.lang, c.issued_on));
    if let Some(until) = c.valid_until {
        dates.push_str(&format!(" · {} {}", w.valid_until, date(c.lang, until)));
    }
    let mut block = vec![(
        0.0,
        BOLD,
        heading,
        fit(w.title, CENTRE_W, true, (30.0, 20.0, 20.0), 1),
    )];
    if c.revoked {
        let note = fit(w.revoked_note, CENTRE_W, true, (13.0, 9.0, 9.0), 2);
        block.push((8.0, BOLD, RED, note));
    }
    let awarded = fit(w.awarded_to, CENTRE_W, false, (12.0, 12.0, 12.0), 1);
    block.push((10.0, REGULAR, MUTED, awarded));
    let learner = fit(c.learner_name, CENTRE_W, true, (28.0, 18.0, 14.0), 2);
    block.push((6.0, BOLD, INK, learner));
    let achievement = fit(c.achievement_name, CENTRE_W, true, (17.0, 12.0, 11.0), 2);
    block.push((10.0, BOLD, heading, achievement));
    if let Some(provider) = c.provider.filter(|s| !s.trim().is_empty()) {
        let line = format!("{} {provider}", w.provider);
        block.push((
            5.0,
            REGULAR,
            MUTED,
            fit(&line, CENTRE_W, false, (11.0, 9.0, 8.0), 1),
        ));
    }
    block.push((
        8.0,
        REGULAR,
        INK,
        fit(&dates, CENTRE_W, false, (10.0, 8.0, 8.0), 1),
    ));
    let height: f32 = block.iter().map(|(gap, _, _, f)| gap + f.height()).sum();
    y = BLOCK_TOP - ((BLOCK_TOP - COLUMNS_TOP - 20.0 - height) / 2.0).max(0.0);
    for (gap, font, colour, fitted) in &block {
        y = p.block(y - gap, *font, *colour, fitted, Align::Centre(CENTRE));
    }

    // Columns: transcript, outcomes, and the QR code.
    let top = COLUMNS_TOP.min(y - 18.0);
    if !c.transcript.is_empty() {
        p.transcript(top, w.transcript, c.transcript, heading, accent);
    }
    let outcomes: Vec<&String> = c.outcomes.iter().filter(|o| !o.trim().is_empty()).collect();
    if !outcomes.is_empty() {
        p.outcomes(top, w.outcomes, &outcomes, heading, accent);
    }
    let qr_x = RIGHT - QR_SIZE;
    let label = fit(w.verify, QR_SIZE + 20.0, true, (8.0, 6.0, 6.0), 1);
    p.block(
        QR_Y + QR_SIZE + 14.0,
        BOLD,
        heading,
        &label,
        Align::Centre(qr_x + QR_SIZE / 2.0),
    );
    qr::draw(&mut p.0, code, qr_x, QR_Y, QR_SIZE);
    let url = fit(c.verify_url, QR_SIZE, false, (6.5, 6.5, 5.0), 4);
    p.block(
        QR_Y - 3.0,
        REGULAR,
        INK,
        &url,
        Align::Centre(qr_x + QR_SIZE / 2.0),
    );

    // Foot: the credential id, small.
    let id = format!("{} {}", w.credential_id, c.credential_id);
    let id = fit(&id, RIGHT - LEFT, false, (7.0, 5.0, 5.0), 1);
    p.block(42.0, REGULAR, MUTED, &id, Align::Left(LEFT));

    p.0.finish().to_vec()
}

#[derive(Clone, Copy)]
enum Align {
    Left(f32),
    Right(f32),
    /// Centred on this x.
    Centre(f32),
}

struct Page(Content);

impl Page {
    fn colour(&mut self, c: Rgb) -> &mut Self {
        self.0.set_fill_rgb(c.0, c.1, c.2);
        self
    }

    fn text(&mut self, x: f32, y: f32, font: Name<'static>, size: f32, s: &str) {
        let bytes = win_ansi(s);
        self.0
            .begin_text()
            .set_font(font, size)
            .next_line(x, y)
            .show(Str(&bytes))
            .end_text();
    }

    /// Fitted lines from `top` (their capitals' top) down; returns the bottom of the last.
    fn block(
        &mut self,
        top: f32,
        font: Name<'static>,
        colour: Rgb,
        f: &Fitted,
        align: Align,
    ) -> f32 {
        self.colour(colour);
        let mut y = top - 0.8 * f.size;
        for line in &f.lines {
            let w = width(line, f.size, font == BOLD);
            let x = match align {
                Align::Left(x) => x,
                Align::Right(x) => x - w,
                Align::Centre(x) => x - w / 2.0,
            };
            self.text(x, y, font, f.size, line);
            y -= 1.2 * f.size;
        }
        top - f.height()
    }

    /// A heading over a thin rule, for a column; returns the first baseline under it.
    fn column_heading(
        &mut self,
        x: f32,
        top: f32,
        w: f32,
        text: &str,
        colour: Rgb,
        rule: Rgb,
    ) -> f32 {
        let f = fit(text, w, true, (10.0, 8.0, 8.0), 1);
        let bottom = self.block(top, BOLD, colour, &f, Align::Left(x));
        self.0
            .save_state()
            .set_stroke_rgb(rule.0, rule.1, rule.2)
            .set_line_width(0.6)
            .move_to(x, bottom)
            .line_to(x + w, bottom)
            .stroke()
            .restore_state();
        bottom - 11.0
    }

    /// The transcript as a two-column table, as many rows as fit above the bottom.
    fn transcript(
        &mut self,
        top: f32,
        title: &str,
        rows: &[(String, String)],
        colour: Rgb,
        rule: Rgb,
    ) {
        const KEY_W: f32 = 125.0;
        const VALUE_X: f32 = LEFT + KEY_W + 10.0;
        const VALUE_W: f32 = 195.0;
        let mut y = self.column_heading(LEFT, top, KEY_W + 10.0 + VALUE_W, title, colour, rule);
        for (key, value) in rows {
            let key = fit(key, KEY_W, true, (9.0, 9.0, 9.0), 3);
            let value = fit(value, VALUE_W, false, (9.0, 9.0, 9.0), 3);
            let n = key.lines.len().max(value.lines.len());
            if y - (n - 1) as f32 * LEAD < BOTTOM {
                if y >= BOTTOM {
                    self.colour(INK).text(LEFT, y, REGULAR, 9.0, "…");
                }
                break;
            }
            for (i, line) in key.lines.iter().enumerate() {
                self.colour(MUTED)
                    .text(LEFT, y - i as f32 * LEAD, BOLD, 9.0, line);
            }
            for (i, line) in value.lines.iter().enumerate() {
                self.colour(INK)
                    .text(VALUE_X, y - i as f32 * LEAD, REGULAR, 9.0, line);
            }
            y -= n as f32 * LEAD + 2.0;
        }
    }

    /// The outcomes as a bulleted list of at most [`OUTCOME_LINES`] lines, then an ellipsis.
    fn outcomes(&mut self, top: f32, title: &str, outcomes: &[&String], colour: Rgb, bullet: Rgb) {
        const X: f32 = 410.0;
        const W: f32 = 250.0;
        let mut y = self.column_heading(X, top, W, title, colour, bullet);
        let mut lines: Vec<(bool, String)> = outcomes
            .iter()
            .flat_map(|o| {
                wrap(o, W - 12.0, 9.0, false)
                    .into_iter()
                    .enumerate()
                    .map(|(i, l)| (i == 0, l))
            })
            .collect();
        let room = ((y - BOTTOM) / LEAD).floor().max(0.0) as usize + 1;
        if lines.len() > OUTCOME_LINES.min(room) {
            lines.truncate(OUTCOME_LINES.min(room.saturating_sub(1)));
            lines.push((false, "…".to_owned()));
        }
        for (first, line) in lines {
            if first {
                self.colour(bullet).text(X, y, BOLD, 9.0, "•");
            }
            self.colour(INK).text(X + 12.0, y, REGULAR, 9.0, &line);
            y -= LEAD;
        }
    }

    /// A thick frame in the primary colour, a thin one inside it in the accent colour.
    fn frame(&mut self, primary: Rgb, accent: Rgb) {
        self.0
            .save_state()
            .set_stroke_rgb(primary.0, primary.1, primary.2)
            .set_line_width(5.0)
            .rect(16.0, 16.0, PAGE_W - 32.0, PAGE_H - 32.0)
            .stroke()
            .set_stroke_rgb(accent.0, accent.1, accent.2)
            .set_line_width(0.8)
            .rect(24.0, 24.0, PAGE_W - 48.0, PAGE_H - 48.0)
            .stroke()
            .restore_state();
    }

    /// The word large, pale and slanted across the page, under everything else: a revoked
    /// certificate cannot be printed to look valid.
    fn watermark(&mut self, word: &str) {
        let size = 110.0;
        let w = width(word, size, true);
        let (sin, cos) = 30f32.to_radians().sin_cos();
        // The word's middle, half a capital up from its baseline, on the page's centre.
        let lift = 0.35 * size;
        let x = CENTRE - cos * w / 2.0 + sin * lift;
        let y = PAGE_H / 2.0 - sin * w / 2.0 - cos * lift;
        let bytes = win_ansi(word);
        self.colour(PALE_RED);
        self.0
            .begin_text()
            .set_font(BOLD, size)
            .set_text_matrix([cos, sin, -sin, cos, x, y])
            .show(Str(&bytes))
            .end_text();
    }
}
