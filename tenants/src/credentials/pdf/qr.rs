//! The QR code to the verification page, drawn as filled rectangles: vector, so it prints sharp
//! at any size, with no image to encode.

use pdf_writer::Content;
use qrcode::types::QrError;
use qrcode::{Color, EcLevel, QrCode};

use super::PdfError;

/// Light modules around the code: the QR standard asks for four so that readers find it.
pub(super) const QUIET_ZONE: usize = 4;

/// The code for `url`; level M survives a scuffed or folded print.
pub(super) fn encode(url: &str) -> Result<QrCode, PdfError> {
    QrCode::with_error_correction_level(url.as_bytes(), EcLevel::M).map_err(|e| match e {
        QrError::DataTooLong => PdfError::VerifyUrlTooLong(url.len()),
        other => PdfError::Qr(other.to_string()),
    })
}

/// Draws `code` in black, quiet zone included, as a `size`-point square whose lower-left corner
/// is at (`x`, `y`). One rectangle per horizontal run of dark modules, all filled at once: a
/// single fill leaves no hairline seams between neighbouring modules.
pub(super) fn draw(content: &mut Content, code: &QrCode, x: f32, y: f32, size: f32) {
    let n = code.width();
    let module = size / (n + 2 * QUIET_ZONE) as f32;
    let colors = code.to_colors();
    content.save_state().set_fill_gray(0.0);
    for (row, line) in colors.chunks(n).enumerate() {
        // PDF's y axis points up; the code's rows go down from the top.
        let bottom = y + size - (QUIET_ZONE + row + 1) as f32 * module;
        let mut col = 0;
        while col < line.len() {
            if line[col] != Color::Dark {
                col += 1;
                continue;
            }
            let start = col;
            while col < line.len() && line[col] == Color::Dark {
                col += 1;
            }
            let left = x + (QUIET_ZONE + start) as f32 * module;
            content.rect(left, bottom, (col - start) as f32 * module, module);
        }
    }
    content.fill_nonzero().restore_state();
}

#[cfg(test)]
mod tests {
    use super::super::tests::ops;
    use super::*;

    /// Reads the drawn rectangles back into a grid of modules, as a scanner would see them.
    fn read_back(content: &[u8], n: usize, x: f32, y: f32, size: f32) -> Vec<Color> {
        let module = size / (n + 2 * QUIET_ZONE) as f32;
        let mut grid = vec![Color::Light; n * n];
        for (op, args) in ops(content) {
            if op != "re" {
                continue;
            }
            let [left, bottom, w, h] = [args[0].num(), args[1].num(), args[2].num(), args[3].num()];
            assert!((h - module).abs() < 0.01, "a rectangle one module high");
            let col = ((left - x) / module).round() as usize - QUIET_ZONE;
            let run = (w / module).round() as usize;
            let row = ((y + size - bottom) / module).round() as usize - QUIET_ZONE - 1;
            for c in col..col + run {
                assert_eq!(grid[row * n + c], Color::Light, "drawn once");
                grid[row * n + c] = Color::Dark;
            }
        }
        grid
    }

    #[test]
    fn the_drawn_modules_are_the_code() {
        let url = "https://spaces.example/verify/0190c3a2-7d1e-7b9a-9f00-5e2b1c4d8a77";
        let code = encode(url).expect("encodes");
        let mut content = Content::new();
        draw(&mut content, &code, 700.0, 80.0, 100.0);
        let bytes = content.finish();
        let grid = read_back(&bytes, code.width(), 700.0, 80.0, 100.0);
        assert_eq!(grid, code.to_colors());
        // Everything drawn stays inside the square.
        for (op, args) in ops(&bytes) {
            if op == "re" {
                let [l, b, w, h] = [args[0].num(), args[1].num(), args[2].num(), args[3].num()];
                assert!(l >= 700.0 && b >= 80.0 && l + w <= 800.01 && b + h <= 180.01);
            }
        }
    }

    #[test]
    fn a_url_too_long_for_any_qr_code_is_refused() {
        let url = format!("https://spaces.example/verify/{}", "a".repeat(3000));
        let Err(err) = encode(&url) else {
            panic!("too long for a QR code");
        };
        assert!(matches!(err, PdfError::VerifyUrlTooLong(n) if n == url.len()));
        assert!(err.to_string().contains("too long"), "{err}");
    }
}
