//! Text on the page: fitting to a width (size, lines, ellipsis); widths, wrapping and WinAnsi
//! bytes come from [`crate::kernel::helvetica`].

pub(super) use crate::kernel::helvetica::{breakable, width, win_ansi, wrap};

/// Text fitted to a width: its size and lines.
pub(super) struct Fitted {
    pub(super) size: f32,
    pub(super) lines: Vec<String>,
}

impl Fitted {
    /// From the top of the first line's capitals to below the last line's descenders.
    pub(super) fn height(&self) -> f32 {
        self.size * (1.1 + 1.2 * (self.lines.len().max(1) - 1) as f32)
    }
}

/// Fits `text` in `max_w` points: on one line at the largest size from `max` down to
/// `one_line`; else wrapped onto at most `max_lines` at the largest size from `one_line` down
/// to `min`; else cut at `min`, the last line ending with an ellipsis. Never wider than `max_w`.
pub(super) fn fit(
    text: &str,
    max_w: f32,
    bold: bool,
    (max, one_line, min): (f32, f32, f32),
    max_lines: usize,
) -> Fitted {
    // Tabs and line breaks from a form field would otherwise print as `?`.
    let text = text
        .split(breakable)
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let mut size = max;
    while size >= one_line {
        if width(&text, size, bold) <= max_w {
            return Fitted {
                size,
                lines: vec![text],
            };
        }
        size -= 1.0;
    }
    let mut size = one_line;
    while size >= min {
        let lines = wrap(&text, max_w, size, bold);
        if lines.len() <= max_lines {
            return Fitted { size, lines };
        }
        size -= 1.0;
    }
    let mut lines = wrap(&text, max_w, min, bold);
    lines.truncate(max_lines.max(1));
    if let Some(last) = lines.last_mut() {
        *last = ellipsize(last, max_w, min, bold);
    }
    Fitted { size: min, lines }
}

/// `line` with a trailing ellipsis, shortened until both fit in `max_w`.
fn ellipsize(line: &str, max_w: f32, size: f32, bold: bool) -> String {
    let mut s = line.to_owned();
    while !s.is_empty() && width(&format!("{s}…"), size, bold) > max_w {
        s.pop();
    }
    format!("{}…", s.trim_end())
}
