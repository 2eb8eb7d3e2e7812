//! The space's logo: checked when it is uploaded ([`check_logo`]) and made ready to embed when a
//! certificate is drawn ([`prepare`]). A JPEG goes into the PDF as it is, since PDF readers
//! decode JPEG themselves; a PNG is decoded, shrunk to what the logo box needs and compressed
//! again, its alpha channel becoming a soft mask.

use std::io::{Cursor, Write};

use flate2::Compression;
use flate2::write::ZlibEncoder;
use png::{ColorType, DecodingError, Transformations};

/// The largest logo file accepted.
pub const MAX_LOGO_BYTES: usize = 512 * 1024;
/// The largest side accepted, in pixels: bounds what decoding a PNG can cost.
pub const MAX_LOGO_SIDE: u32 = 4096;

/// What an uploaded logo is, once checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LogoInfo {
    pub format: LogoFormat,
    pub width: u32,
    pub height: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogoFormat {
    Png,
    Jpeg,
}

/// Why an uploaded logo was refused, in words for the person who uploaded it.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum LogoError {
    #[error("the logo must be a PNG or JPEG image")]
    NotAnImage,
    #[error("the logo is larger than {} KiB", MAX_LOGO_BYTES / 1024)]
    TooLarge,
    #[error("the logo is {0} px wide; at most {MAX_LOGO_SIDE}")]
    TooWide(u32),
    #[error("the logo is {0} px tall; at most {MAX_LOGO_SIDE}")]
    TooTall(u32),
    #[error(
        "the logo is a kind of JPEG that cannot be used ({0}); save it as a standard JPEG or as a PNG"
    )]
    UnsupportedJpeg(&'static str),
    #[error("the logo file is damaged: {0}")]
    Damaged(String),
}

/// Checks an uploaded logo before it is stored: PNG or JPEG, at most [`MAX_LOGO_BYTES`] and
/// [`MAX_LOGO_SIDE`] pixels on a side, and readable to its end.
pub fn check_logo(bytes: &[u8]) -> Result<LogoInfo, LogoError> {
    if bytes.len() > MAX_LOGO_BYTES {
        return Err(LogoError::TooLarge);
    }
    match sniff(bytes) {
        Some(LogoFormat::Png) => {
            let mut reader = open_png(bytes)?;
            let (width, height) = reader.info().size();
            // Row by row, keeping none: the whole image is never held.
            while reader.next_row().map_err(png_damaged)?.is_some() {}
            reader.finish().map_err(png_damaged)?;
            Ok(LogoInfo {
                format: LogoFormat::Png,
                width,
                height,
            })
        }
        Some(LogoFormat::Jpeg) => {
            let jpeg = parse_jpeg(bytes)?;
            Ok(LogoInfo {
                format: LogoFormat::Jpeg,
                width: jpeg.width,
                height: jpeg.height,
            })
        }
        None => Err(LogoError::NotAnImage),
    }
}

fn sniff(bytes: &[u8]) -> Option<LogoFormat> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(LogoFormat::Png)
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(LogoFormat::Jpeg)
    } else {
        None
    }
}

fn check_side(width: u32, height: u32) -> Result<(), LogoError> {
    if width > MAX_LOGO_SIDE {
        Err(LogoError::TooWide(width))
    } else if height > MAX_LOGO_SIDE {
        Err(LogoError::TooTall(height))
    } else {
        Ok(())
    }
}

fn damaged(why: &str) -> LogoError {
    LogoError::Damaged(why.to_owned())
}

const TRUNCATED: &str = "it ends too early";

fn png_damaged(e: DecodingError) -> LogoError {
    match e {
        DecodingError::IoError(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            damaged(TRUNCATED)
        }
        DecodingError::LimitsExceeded => damaged("it needs too much memory to read"),
        other => LogoError::Damaged(other.to_string()),
    }
}

/// A PNG reader past the header, set to give 8-bit grey or RGB rows, with alpha if the image
/// has any. The size is checked from the header before any pixel is decoded.
fn open_png(bytes: &[u8]) -> Result<png::Reader<Cursor<&[u8]>>, LogoError> {
    // The decoder's own buffers (rows, inflate state); text and ICC chunks are skipped.
    let limits = png::Limits {
        bytes: 8 * 1024 * 1024,
    };
    let mut decoder = png::Decoder::new_with_limits(Cursor::new(bytes), limits);
    decoder.set_ignore_text_chunk(true);
    decoder.set_ignore_iccp_chunk(true);
    // Palette and 1-, 2-, 4-bit grey to 8 bits, tRNS to alpha, 16-bit down to 8.
    decoder.set_transformations(Transformations::EXPAND | Transformations::STRIP_16);
    let (width, height) = decoder.read_header_info().map_err(png_damaged)?.size();
    check_side(width, height)?;
    decoder.read_info().map_err(png_damaged)
}

/// What a JPEG says about itself, from its frame header and markers.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Jpeg {
    pub width: u32,
    pub height: u32,
    /// 1 grey, 3 RGB (or YCbCr), 4 CMYK.
    pub components: u8,
    /// An Adobe APP14 marker: Adobe's CMYK JPEGs store their inks inverted.
    pub adobe: bool,
}

/// Walks a JPEG's markers from start to end: the frame header for the size and colours, each
/// segment skipped by its length, each scan's coded data to the next marker. A file cut short
/// anywhere is refused.
pub(super) fn parse_jpeg(bytes: &[u8]) -> Result<Jpeg, LogoError> {
    let mut frame: Option<Jpeg> = None;
    let mut adobe = false;
    let mut scanned = false;
    let mut i = 2; // past SOI
    loop {
        match bytes.get(i) {
            None => return Err(damaged(TRUNCATED)),
            Some(0xFF) => {}
            Some(_) => return Err(damaged("a JPEG marker is missing")),
        }
        // Any number of 0xFF may pad before a marker.
        while bytes.get(i) == Some(&0xFF) {
            i += 1;
        }
        let Some(&marker) = bytes.get(i) else {
            return Err(damaged(TRUNCATED));
        };
        i += 1;
        match marker {
            // End of image.
            0xD9 => {
                return match frame {
                    Some(f) if scanned => Ok(Jpeg { adobe, ..f }),
                    _ => Err(damaged("it holds no image")),
                };
            }
            // Markers without a segment.
            0x01 | 0xD0..=0xD7 => continue,
            0x00 => return Err(damaged("a JPEG marker is broken")),
            _ => {}
        }
        let Some(len) = bytes.get(i..i + 2) else {
            return Err(damaged(TRUNCATED));
        };
        let len = usize::from(u16::from_be_bytes([len[0], len[1]]));
        if len < 2 {
            return Err(damaged("a JPEG segment is broken"));
        }
        let end = i + len;
        let Some(segment) = bytes.get(i + 2..end) else {
            return Err(damaged(TRUNCATED));
        };
        match marker {
            // Baseline, extended and progressive Huffman-coded frames: what PDF readers take.
            0xC0..=0xC2 => {
                if frame.is_some() {
                    return Err(damaged("it has two frame headers"));
                }
                frame = Some(parse_frame(segment)?);
            }
            0xC3 => return Err(LogoError::UnsupportedJpeg("lossless")),
            0xC5..=0xC7 => return Err(LogoError::UnsupportedJpeg("hierarchical")),
            0xC9..=0xCB | 0xCD..=0xCF => {
                return Err(LogoError::UnsupportedJpeg("arithmetic-coded"));
            }
            0xEE if segment.starts_with(b"Adobe") => adobe = true,
            // Start of scan: coded data follows the header, up to the next real marker.
            0xDA => {
                if frame.is_none() {
                    return Err(damaged("image data comes before the frame header"));
                }
                i = scan_end(bytes, end)?;
                scanned = true;
                continue;
            }
            _ => {}
        }
        i = end;
    }
}

fn parse_frame(segment: &[u8]) -> Result<Jpeg, LogoError> {
    let [precision, h1, h0, w1, w0, components, ..] = *segment else {
        return Err(damaged("the JPEG frame header is too short"));
    };
    if precision != 8 {
        return Err(LogoError::UnsupportedJpeg("12-bit"));
    }
    let height = u32::from(u16::from_be_bytes([h1, h0]));
    let width = u32::from(u16::from_be_bytes([w1, w0]));
    if height == 0 {
        return Err(LogoError::UnsupportedJpeg(
            "height given after the image data",
        ));
    }
    if width == 0 {
        return Err(damaged("it is 0 px wide"));
    }
    check_side(width, height)?;
    if !matches!(components, 1 | 3 | 4) {
        return Err(LogoError::UnsupportedJpeg("unusual colour channels"));
    }
    if segment.len() < 6 + 3 * usize::from(components) {
        return Err(damaged("the JPEG frame header is too short"));
    }
    Ok(Jpeg {
        width,
        height,
        components,
        adobe: false,
    })
}

/// Where a scan's coded data ends: the next 0xFF that is neither a stuffed 0xFF00 nor a restart
/// marker.
fn scan_end(bytes: &[u8], from: usize) -> Result<usize, LogoError> {
    let mut i = from;
    loop {
        let Some(offset) = bytes
            .get(i..)
            .and_then(|b| b.iter().position(|&b| b == 0xFF))
        else {
            return Err(damaged(TRUNCATED));
        };
        i += offset;
        match bytes.get(i + 1) {
            None => return Err(damaged(TRUNCATED)),
            Some(0x00 | 0xD0..=0xD7) => i += 2,
            // Padding: the marker comes after it.
            Some(0xFF) => i += 1,
            Some(_) => return Ok(i),
        }
    }
}

/// A logo ready to go into the PDF.
pub(super) struct Embed<'a> {
    /// The image's own size in pixels, for its aspect ratio.
    pub aspect: (u32, u32),
    pub image: Image<'a>,
}

pub(super) enum Image<'a> {
    /// The uploaded bytes, for `/DCTDecode`.
    Jpeg { data: &'a [u8], info: Jpeg },
    /// Zlib-compressed rows with the PNG "up" predictor, for `/FlateDecode`.
    Flate {
        width: u32,
        height: u32,
        grey: bool,
        colour: Vec<u8>,
        /// The alpha channel, when some pixel is not opaque.
        alpha: Option<Vec<u8>>,
    },
}

/// The logo ready to draw in a `box_w` x `box_h` point box, or `None` if it cannot be read: a
/// certificate is never refused for its logo.
pub(super) fn prepare(bytes: &[u8], box_w: f32, box_h: f32) -> Option<Embed<'_>> {
    if bytes.len() > MAX_LOGO_BYTES {
        return None;
    }
    match sniff(bytes)? {
        LogoFormat::Jpeg => {
            let info = parse_jpeg(bytes).ok()?;
            Some(Embed {
                aspect: (info.width, info.height),
                image: Image::Jpeg { data: bytes, info },
            })
        }
        LogoFormat::Png => prepare_png(bytes, box_w, box_h).ok(),
    }
}

fn prepare_png(bytes: &[u8], box_w: f32, box_h: f32) -> Result<Embed<'static>, LogoError> {
    let mut reader = open_png(bytes)?;
    let (w, h) = reader.info().size();
    let (channels, has_alpha) = match reader.output_color_type().0 {
        ColorType::Grayscale => (1, false),
        ColorType::GrayscaleAlpha => (2, true),
        ColorType::Rgb => (3, false),
        ColorType::Rgba => (4, true),
        ColorType::Indexed => return Err(damaged("its palette was not expanded")),
    };
    // Enough pixels for 300 dpi in the box, no more: a large logo would only make every
    // certificate heavier.
    let scale = (box_w / w as f32).min(box_h / h as f32);
    let factor = ((72.0 / 300.0 / scale).floor() as u32).clamp(1, 16);
    let mut shrink = Shrink::new(w, h, factor, channels, has_alpha);
    if reader.info().interlaced {
        // Interlaced rows come in passes, so the whole image is decoded first; the side limit
        // bounds it (64 MiB at most).
        let size = reader
            .output_buffer_size()
            .ok_or_else(|| damaged("it is too large"))?;
        let mut buf = vec![0; size];
        let out = reader.next_frame(&mut buf).map_err(png_damaged)?;
        for (y, row) in buf.chunks(out.line_size).take(h as usize).enumerate() {
            shrink.add(y, row);
        }
    } else {
        let mut y = 0;
        while let Some(row) = reader.next_row().map_err(png_damaged)? {
            shrink.add(y, row.data());
            y += 1;
        }
    }
    Ok(shrink.finish())
}

/// Shrinks an image by an integer factor as its rows arrive, averaging each square of pixels.
/// Colours are weighted by their alpha, so that fully transparent pixels (often black) do not
/// darken the edges.
struct Shrink {
    w: usize,
    h: usize,
    factor: usize,
    channels: usize,
    has_alpha: bool,
    out_w: usize,
    out_h: usize,
    /// Per output pixel and colour channel, the sum of colour times alpha.
    colour: Vec<u32>,
    /// Per output pixel, the sum of alpha.
    alpha: Vec<u32>,
}

impl Shrink {
    fn new(w: u32, h: u32, factor: u32, channels: usize, has_alpha: bool) -> Self {
        let (w, h, factor) = (w as usize, h as usize, factor as usize);
        let (out_w, out_h) = (w.div_ceil(factor), h.div_ceil(factor));
        let colours = channels - usize::from(has_alpha);
        Self {
            w,
            h,
            factor,
            channels,
            has_alpha,
            out_w,
            out_h,
            colour: vec![0; out_w * out_h * colours],
            alpha: vec![0; out_w * out_h],
        }
    }

    fn colours(&self) -> usize {
        self.channels - usize::from(self.has_alpha)
    }

    fn add(&mut self, y: usize, row: &[u8]) {
        let oy = y / self.factor;
        if oy >= self.out_h {
            return;
        }
        let colours = self.colours();
        for (x, px) in row.chunks_exact(self.channels).take(self.w).enumerate() {
            let cell = oy * self.out_w + x / self.factor;
            // At most 16 x 16 pixels of 255 x 255 per cell: no overflow.
            let a = if self.has_alpha {
                u32::from(px[colours])
            } else {
                255
            };
            self.alpha[cell] += a;
            for (sum, &v) in self.colour[cell * colours..][..colours].iter_mut().zip(px) {
                *sum += u32::from(v) * a;
            }
        }
    }

    fn finish(self) -> Embed<'static> {
        let colours = self.colours();
        let mut colour = Vec::with_capacity(self.colour.len());
        let mut alpha = Vec::with_capacity(self.alpha.len());
        for cell in 0..self.out_w * self.out_h {
            let (ox, oy) = (cell % self.out_w, cell / self.out_w);
            let cw = self.factor.min(self.w - ox * self.factor) as u32;
            let ch = self.factor.min(self.h - oy * self.factor) as u32;
            let a = self.alpha[cell];
            alpha.push(((a + cw * ch / 2) / (cw * ch)) as u8);
            for &sum in &self.colour[cell * colours..][..colours] {
                // Fully transparent: any colour will do.
                colour.push((sum + a / 2).checked_div(a).unwrap_or(0) as u8);
            }
        }
        let opaque = alpha.iter().all(|&a| a == 255);
        Embed {
            aspect: (self.w as u32, self.h as u32),
            image: Image::Flate {
                width: self.out_w as u32,
                height: self.out_h as u32,
                grey: colours == 1,
                colour: deflate_rows(&colour, self.out_w * colours),
                alpha: (self.has_alpha && !opaque).then(|| deflate_rows(&alpha, self.out_w)),
            },
        }
    }
}

/// Compresses rows with the PNG "up" predictor (PDF's `/Predictor` 12), which logos' flat
/// areas compress well under.
fn deflate_rows(data: &[u8], row_len: usize) -> Vec<u8> {
    let mut out = ZlibEncoder::new(Vec::new(), Compression::default());
    let mut previous = vec![0u8; row_len];
    let mut line = Vec::with_capacity(row_len + 1);
    for row in data.chunks(row_len.max(1)) {
        line.clear();
        line.push(2); // the "up" filter
        line.extend(row.iter().zip(&previous).map(|(v, up)| v.wrapping_sub(*up)));
        previous[..row.len()].copy_from_slice(row);
        // Writing to a Vec cannot fail.
        let _ = out.write_all(&line);
    }
    out.finish().unwrap_or_default()
}

#[cfg(test)]
pub(super) mod tests;
