//! The space's brand colours, and the few fixed ones the page is drawn in.

#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Rgb(pub(super) f32, pub(super) f32, pub(super) f32);

/// #1f3a5f: the default when a space has set no colour.
pub(super) const DEFAULT_PRIMARY: Rgb = Rgb(0.122, 0.227, 0.373);
pub(super) const INK: Rgb = Rgb(0.13, 0.14, 0.16);
pub(super) const MUTED: Rgb = Rgb(0.4, 0.42, 0.46);
pub(super) const RED: Rgb = Rgb(0.75, 0.08, 0.08);
pub(super) const PALE_RED: Rgb = Rgb(0.98, 0.85, 0.85);

/// "#rrggbb" as a colour; anything else is `None`.
pub(super) fn parse_colour(s: Option<&str>) -> Option<Rgb> {
    let hex = s?.trim().strip_prefix('#')?;
    if hex.len() != 6 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let channel = |i: usize| {
        u8::from_str_radix(hex.get(i..i + 2)?, 16)
            .ok()
            .map(|v| f32::from(v) / 255.0)
    };
    Some(Rgb(channel(0)?, channel(2)?, channel(4)?))
}

impl Rgb {
    /// This colour for text on white, or ink when it is too light to read (a yellow brand).
    pub(super) fn readable(self) -> Self {
        if 0.299 * self.0 + 0.587 * self.1 + 0.114 * self.2 > 0.6 {
            INK
        } else {
            self
        }
    }
}
