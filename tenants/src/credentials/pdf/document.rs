//! The PDF document around the page: catalog, fonts, the logo's image objects, the
//! document info.

use pdf_writer::types::Predictor;
use pdf_writer::{Filter, Finish, Name, Pdf, Rect, Ref, TextStr};

use super::{BOLD, CertificatePdf, LOGO, Lang, PAGE_H, PAGE_W, REGULAR, logo};

/// The PDF around the page: catalog, fonts, the logo, the document info.
pub(super) fn assemble(
    c: &CertificatePdf<'_>,
    content: &[u8],
    logo: Option<&logo::Embed<'_>>,
) -> Vec<u8> {
    let mut pdf = Pdf::new();
    let catalog = Ref::new(1);
    let tree = Ref::new(2);
    let page_ref = Ref::new(3);
    let content_ref = Ref::new(4);
    let regular = Ref::new(5);
    let bold = Ref::new(6);
    let info = Ref::new(7);
    let image = Ref::new(8);
    let mask = Ref::new(9);

    let lang = match c.lang {
        Lang::En => "en",
        Lang::Fr => "fr",
    };
    pdf.catalog(catalog).pages(tree).lang(TextStr(lang));
    pdf.pages(tree).kids([page_ref]).count(1);
    let mut page = pdf.page(page_ref);
    page.media_box(Rect::new(0.0, 0.0, PAGE_W, PAGE_H))
        .parent(tree)
        .contents(content_ref);
    let mut resources = page.resources();
    resources.fonts().pair(REGULAR, regular).pair(BOLD, bold);
    if logo.is_some() {
        resources.x_objects().pair(LOGO, image);
    }
    resources.finish();
    page.finish();
    pdf.stream(content_ref, content);
    pdf.type1_font(regular)
        .base_font(Name(b"Helvetica"))
        .encoding_predefined(Name(b"WinAnsiEncoding"));
    pdf.type1_font(bold)
        .base_font(Name(b"Helvetica-Bold"))
        .encoding_predefined(Name(b"WinAnsiEncoding"));
    let title = match c.lang {
        Lang::En => "Certificate",
        Lang::Fr => "Certificat",
    };
    // Document info is Unicode: the names go in whole, whatever WinAnsi could print.
    pdf.document_info(info)
        .title(TextStr(&format!("{title} — {}", c.achievement_name)))
        .author(TextStr(c.space_name))
        .subject(TextStr(c.learner_name))
        .creator(TextStr("Spaces"));
    if let Some(embed) = logo {
        write_logo(&mut pdf, embed, image, mask);
    }
    pdf.finish()
}

fn write_logo(pdf: &mut Pdf, embed: &logo::Embed<'_>, image: Ref, mask: Ref) {
    match &embed.image {
        logo::Image::Jpeg { data, info } => {
            let mut x = pdf.image_xobject(image, data);
            x.filter(Filter::DctDecode);
            x.width(info.width as i32)
                .height(info.height as i32)
                .bits_per_component(8)
                .color_space_name(Name(match info.components {
                    1 => b"DeviceGray",
                    4 => b"DeviceCMYK",
                    _ => b"DeviceRGB",
                }));
            if info.components == 4 && info.adobe {
                x.decode([1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0]);
            }
        }
        logo::Image::Flate {
            width,
            height,
            grey,
            colour,
            alpha,
        } => {
            let flate = |pdf: &mut Pdf, id: Ref, data: &[u8], grey: bool, mask: Option<Ref>| {
                let mut x = pdf.image_xobject(id, data);
                x.filter(Filter::FlateDecode);
                x.decode_parms()
                    .predictor(Predictor::PngUp)
                    .colors(if grey { 1 } else { 3 })
                    .bits_per_component(8)
                    .columns(*width as i32);
                x.width(*width as i32)
                    .height(*height as i32)
                    .bits_per_component(8)
                    .color_space_name(Name(if grey { b"DeviceGray" } else { b"DeviceRGB" }));
                if let Some(mask) = mask {
                    x.s_mask(mask);
                }
            };
            flate(pdf, image, colour, *grey, alpha.as_ref().map(|_| mask));
            if let Some(alpha) = alpha {
                flate(pdf, mask, alpha, true, None);
            }
        }
    }
}
