use super::*;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

// Made with Pillow and checked by reading them back with it: 3x2 baseline RGB (JFIF), 3x2
// progressive grey, 3x2 CMYK with Adobe's APP14 marker.
const BASELINE_RGB: &str = concat!(
    "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDABALDA4MChAODQ4SERATGCgaGBYWGDEjJR0oOjM9PDkzODdASFxO",
    "QERXRTc4UG1RV19iZ2hnPk1xeXBkeFxlZ2P/2wBDARESEhgVGC8aGi9jQjhCY2NjY2NjY2NjY2NjY2NjY2Nj",
    "Y2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2P/wAARCAACAAMDASIAAhEBAxEB/8QAFQABAQAAAAAA",
    "AAAAAAAAAAAAAAX/xAAUEAEAAAAAAAAAAAAAAAAAAAAA/8QAFQEBAQAAAAAAAAAAAAAAAAAABAb/xAAUEQEA",
    "AAAAAAAAAAAAAAAAAAAA/9oADAMBAAIRAxEAPwCOACqH/9k=",
);
const PROGRESSIVE_GREY: &str = concat!(
    "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDABALDA4MChAODQ4SERATGCgaGBYWGDEjJR0oOjM9PDkzODdASFxO",
    "QERXRTc4UG1RV19iZ2hnPk1xeXBkeFxlZ2P/wgALCAACAAMBAREA/8QAFAABAAAAAAAAAAAAAAAAAAAAA//a",
    "AAgBAQAAAAEP/8QAFBABAAAAAAAAAAAAAAAAAAAAAP/aAAgBAQABBQJ//8QAFBABAAAAAAAAAAAAAAAAAAAA",
    "AP/aAAgBAQAGPwJ//8QAFBABAAAAAAAAAAAAAAAAAAAAAP/aAAgBAQABPyF//9oACAEBAAAAEH//xAAUEAEA",
    "AAAAAAAAAAAAAAAAAAAA/9oACAEBAAE/EH//2Q==",
);
pub(in super::super) const ADOBE_CMYK: &str = concat!(
    "/9j/7gAOQWRvYmUAZAAAAAAA/9sAQwAQCwwODAoQDg0OEhEQExgoGhgWFhgxIyUdKDozPTw5Mzg3QEhcTkBE",
    "V0U3OFBtUVdfYmdoZz5NcXlwZHhcZWdj/8AAFAgAAgADBEMRAE0RAFkRAEsRAP/EABQAAQAAAAAAAAAAAAAA",
    "AAAAAAf/xAAUEAEAAAAAAAAAAAAAAAAAAAAA/9oADgRDAE0AWQBLAAA/AEAfj8gP/9k=",
);

pub(in super::super) fn jpeg(which: &str) -> Vec<u8> {
    STANDARD.decode(which).expect("fixture")
}

pub(in super::super) fn baseline_jpeg() -> Vec<u8> {
    jpeg(BASELINE_RGB)
}

/// A PNG from raw samples.
pub(in super::super) fn png(
    width: u32,
    height: u32,
    colour: ColorType,
    depth: png::BitDepth,
    data: &[u8],
    palette: Option<(&[u8], &[u8])>,
) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, width, height);
        enc.set_color(colour);
        enc.set_depth(depth);
        if let Some((plte, trns)) = palette {
            enc.set_palette(plte.to_vec());
            enc.set_trns(trns.to_vec());
        }
        let mut w = enc.write_header().expect("header");
        w.write_image_data(data).expect("data");
    }
    out
}

/// A 4x3 RGBA PNG whose left column is transparent.
pub(in super::super) fn rgba_png() -> Vec<u8> {
    let mut data = Vec::new();
    for _y in 0..3 {
        for x in 0..4u8 {
            data.extend([200, 40 * x, 10, if x == 0 { 0 } else { 255 }]);
        }
    }
    png(4, 3, ColorType::Rgba, png::BitDepth::Eight, &data, None)
}

fn message(bytes: &[u8]) -> String {
    check_logo(bytes).expect_err("refused").to_string()
}

#[test]
fn pngs_of_every_kind_are_accepted_with_their_size() {
    let rgba = rgba_png();
    let info = check_logo(&rgba).expect("rgba");
    assert_eq!(
        info,
        LogoInfo {
            format: LogoFormat::Png,
            width: 4,
            height: 3
        }
    );
    // A 2-bit palette image, 5x2, with a transparent entry.
    let palette = png(
        5,
        2,
        ColorType::Indexed,
        png::BitDepth::Two,
        &[0b0001_1011, 0b0000_0000, 0b1110_0100, 0b0100_0000],
        Some((
            &[255, 0, 0, 0, 255, 0, 0, 0, 255, 9, 9, 9],
            &[0, 255, 255, 255],
        )),
    );
    assert_eq!(check_logo(&palette).expect("palette").width, 5);
    let grey16 = png(
        2,
        7,
        ColorType::Grayscale,
        png::BitDepth::Sixteen,
        &[0x80; 28],
        None,
    );
    assert_eq!(check_logo(&grey16).expect("16-bit").height, 7);
}

#[test]
fn jpegs_are_accepted_with_their_size_and_colours() {
    let info = check_logo(&baseline_jpeg()).expect("baseline");
    assert_eq!(
        info,
        LogoInfo {
            format: LogoFormat::Jpeg,
            width: 3,
            height: 2
        }
    );
    let rgb = parse_jpeg(&baseline_jpeg()).expect("parses");
    assert_eq!((rgb.components, rgb.adobe), (3, false));
    let grey = parse_jpeg(&jpeg(PROGRESSIVE_GREY)).expect("progressive");
    assert_eq!((grey.width, grey.height, grey.components), (3, 2, 1));
    let cmyk = parse_jpeg(&jpeg(ADOBE_CMYK)).expect("cmyk");
    assert_eq!((cmyk.components, cmyk.adobe), (4, true));
}

#[test]
fn what_is_not_a_logo_is_refused_with_the_reason() {
    assert_eq!(
        message(b"<svg xmlns='http://www.w3.org/2000/svg'/>"),
        "the logo must be a PNG or JPEG image"
    );
    assert_eq!(message(b""), "the logo must be a PNG or JPEG image");

    let rgba = rgba_png();
    assert_eq!(
        message(&rgba[..rgba.len() / 2]),
        "the logo file is damaged: it ends too early"
    );
    // The image data complete, the end marker cut off.
    assert_eq!(
        message(&rgba[..rgba.len() - 12]),
        "the logo file is damaged: it ends too early"
    );
    let jpeg = baseline_jpeg();
    for cut in [jpeg.len() / 2, jpeg.len() - 2, 4] {
        assert_eq!(
            message(&jpeg[..cut]),
            "the logo file is damaged: it ends too early",
            "cut at {cut}"
        );
    }

    let mut huge = b"\x89PNG\r\n\x1a\n".to_vec();
    huge.resize(MAX_LOGO_BYTES + 1, 0);
    assert_eq!(message(&huge), "the logo is larger than 512 KiB");
}

#[test]
fn an_oversized_png_is_refused_from_its_header() {
    // The header alone, no image data: refused before any pixel would be decoded.
    let mut header = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut header, 5000, 1);
        enc.set_color(ColorType::Rgba);
        let _ = enc.write_header().expect("header");
    }
    assert_eq!(message(&header), "the logo is 5000 px wide; at most 4096");
    let mut tall = Vec::new();
    {
        let _ = png::Encoder::new(&mut tall, 10, 4097)
            .write_header()
            .expect("header");
    }
    assert_eq!(message(&tall), "the logo is 4097 px tall; at most 4096");
}

#[test]
fn an_oversized_jpeg_is_refused() {
    let mut jpeg = baseline_jpeg();
    let sof = jpeg
        .windows(2)
        .position(|w| w == [0xFF, 0xC0])
        .expect("SOF0");
    // Width sits after the marker, length, precision and height.
    jpeg[sof + 7..sof + 9].copy_from_slice(&5000u16.to_be_bytes());
    assert_eq!(message(&jpeg), "the logo is 5000 px wide; at most 4096");
}

#[test]
fn a_large_png_is_shrunk_for_the_box_and_keeps_its_alpha() {
    // 400x100, the right half transparent: in a 160x60 pt box it is drawn 160x40 pt,
    // which needs 667 px at 300 dpi, so it is kept whole; at 1600x400 it is halved.
    let mut data = Vec::new();
    for _y in 0..400 {
        for x in 0..1600 {
            data.extend([10, 20, 30, if x < 800 { 255 } else { 0 }]);
        }
    }
    let big = png(
        1600,
        400,
        ColorType::Rgba,
        png::BitDepth::Eight,
        &data,
        None,
    );
    let embed = prepare(&big, 160.0, 60.0).expect("prepared");
    assert_eq!(embed.aspect, (1600, 400));
    let Image::Flate {
        width,
        height,
        grey,
        alpha,
        ..
    } = embed.image
    else {
        panic!("a PNG is re-encoded");
    };
    assert_eq!((width, height, grey), (800, 200, false));
    assert!(alpha.is_some());
}

/// `width` x `height` RGB pixels, as a PNG, Adam7-interlaced if asked (the png crate only
/// writes plain PNGs, so the passes are laid out here).
fn rgb_png(width: u32, height: u32, pixels: &[u8], interlaced: bool) -> Vec<u8> {
    if !interlaced {
        return png(
            width,
            height,
            ColorType::Rgb,
            png::BitDepth::Eight,
            pixels,
            None,
        );
    }
    let (w, h) = (width as usize, height as usize);
    let mut raw = Vec::new();
    for (x0, y0, dx, dy) in [
        (0, 0, 8, 8),
        (4, 0, 8, 8),
        (0, 4, 4, 8),
        (2, 0, 4, 4),
        (0, 2, 2, 4),
        (1, 0, 2, 2),
        (0, 1, 1, 2),
    ] {
        if x0 >= w {
            continue; // an empty pass has no rows at all
        }
        for y in (y0..h).step_by(dy) {
            raw.push(0);
            for x in (x0..w).step_by(dx) {
                raw.extend(&pixels[(y * w + x) * 3..][..3]);
            }
        }
    }
    let mut z = ZlibEncoder::new(Vec::new(), Compression::default());
    z.write_all(&raw).expect("deflates");
    let mut info = png::Info::with_size(width, height);
    info.color_type = ColorType::Rgb;
    info.bit_depth = png::BitDepth::Eight;
    info.interlaced = true;
    let mut out = Vec::new();
    {
        let mut w = png::Encoder::with_info(&mut out, info)
            .expect("info")
            .write_header()
            .expect("header");
        w.write_chunk(png::chunk::IDAT, &z.finish().expect("deflates"))
            .expect("IDAT");
    }
    out
}

/// The raw samples of a prepared image: inflated, the "up" predictor undone.
fn samples(packed: &[u8], row_len: usize) -> Vec<u8> {
    use std::io::Read;
    let mut raw = Vec::new();
    flate2::read::ZlibDecoder::new(packed)
        .read_to_end(&mut raw)
        .expect("inflates");
    let mut out: Vec<u8> = Vec::new();
    for row in raw.chunks(row_len + 1) {
        assert_eq!(row[0], 2, "the up filter");
        let above = out.len().checked_sub(row_len);
        for (i, v) in row[1..].iter().enumerate() {
            let up = above.map_or(0, |a| out[a + i]);
            out.push(v.wrapping_add(up));
        }
    }
    out
}

#[test]
fn plain_and_interlaced_pngs_give_the_same_pixels() {
    let (w, h) = (10u32, 9u32);
    let pixels: Vec<u8> = (0..h)
        .flat_map(|y| (0..w).flat_map(move |x| [x as u8 * 20, y as u8 * 25, 7]))
        .collect();
    for interlaced in [false, true] {
        let file = rgb_png(w, h, &pixels, interlaced);
        assert_eq!(check_logo(&file).expect("accepted").width, w);
        // A box large enough that nothing is shrunk.
        let embed = prepare(&file, 1000.0, 1000.0).expect("prepared");
        let Image::Flate {
            width,
            height,
            colour,
            alpha,
            ..
        } = embed.image
        else {
            panic!("a PNG is re-encoded");
        };
        assert_eq!((width, height, alpha), (w, h, None));
        assert_eq!(
            samples(&colour, 3 * w as usize),
            pixels,
            "interlaced: {interlaced}"
        );
    }
}

#[test]
fn shrinking_averages_by_alpha() {
    // Two pixels into one: opaque white beside transparent black stays white, half opaque.
    let mut s = Shrink::new(2, 1, 2, 4, true);
    s.add(0, &[255, 255, 255, 255, 0, 0, 0, 0]);
    let cell_colour: Vec<u32> = s.colour.clone();
    assert_eq!(cell_colour, vec![255 * 255; 3]);
    assert_eq!(s.alpha, vec![255]);
}

#[test]
fn rows_are_compressed_with_the_up_predictor() {
    use std::io::Read;
    let rows = [1u8, 2, 3, 1, 2, 5];
    let packed = deflate_rows(&rows, 3);
    let mut raw = Vec::new();
    flate2::read::ZlibDecoder::new(&packed[..])
        .read_to_end(&mut raw)
        .expect("inflates");
    assert_eq!(raw, vec![2, 1, 2, 3, 2, 0, 0, 2]);
    assert_eq!(samples(&packed, 3), rows);
}
