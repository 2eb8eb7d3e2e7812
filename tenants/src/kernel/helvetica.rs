//! Text for PDFs set in the built-in Helvetica (WinAnsi encoding, no font file): advance
//! widths from its AFM files, greedy wrapping to a width, and the bytes a string becomes. The
//! invoice and the certificate PDFs both measure and write text through it.

/// Whitespace a line may break at: all but the non-breaking spaces.
pub fn breakable(c: char) -> bool {
    c.is_whitespace() && !matches!(c, '\u{A0}' | '\u{202F}')
}

/// Greedy word wrap to `max` points; a word longer than the line is cut.
pub fn wrap(text: &str, max: f32, size: f32, bold: bool) -> Vec<String> {
    let mut lines = Vec::new();
    for paragraph in text.lines() {
        let mut current = String::new();
        for word in paragraph.split(breakable).filter(|w| !w.is_empty()) {
            let candidate = if current.is_empty() {
                word.to_owned()
            } else {
                format!("{current} {word}")
            };
            if width(&candidate, size, bold) <= max {
                current = candidate;
                continue;
            }
            if !current.is_empty() {
                lines.push(std::mem::take(&mut current));
            }
            let mut piece = String::new();
            for c in word.chars() {
                piece.push(c);
                if width(&piece, size, bold) > max && piece.chars().count() > 1 {
                    piece.pop();
                    lines.push(std::mem::take(&mut piece));
                    piece.push(c);
                }
            }
            current = piece;
        }
        if !current.is_empty() {
            lines.push(current);
        }
    }
    if lines.is_empty() {
        lines.push(String::new());
    }
    lines
}

/// Text width in points from Helvetica's metrics (thousandths of the font size).
pub fn width(s: &str, size: f32, bold: bool) -> f32 {
    let units: u32 = s.chars().map(|c| advance(c, bold)).sum();
    units as f32 * size / 1000.0
}

/// Helvetica and Helvetica-Bold advance widths (their AFM files): printable ASCII from the
/// tables, accented Latin letters as their base letter, a few marks by hand, anything else as
/// `?`, which is what prints for it.
fn advance(c: char, bold: bool) -> u32 {
    const REGULAR: [u16; 95] = [
        278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278,
        278, // ' '..'/'
        556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584,
        556, // '0'..'?'
        1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722,
        778, // '@'..'O'
        667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469,
        556, // 'P'..'_'
        333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556,
        556, // '`'..'o'
        556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584, // 'p'..'~'
    ];
    const BOLD: [u16; 95] = [
        278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278,
        278, // ' '..'/'
        556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 333, 333, 584, 584, 584,
        611, // '0'..'?'
        975, 722, 722, 722, 722, 667, 611, 778, 722, 278, 556, 722, 611, 833, 722,
        778, // '@'..'O'
        667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 333, 278, 333, 584,
        556, // 'P'..'_'
        333, 556, 611, 556, 611, 556, 333, 611, 611, 278, 278, 556, 278, 889, 611,
        611, // '`'..'o'
        611, 611, 389, 556, 333, 611, 556, 778, 556, 556, 500, 389, 280, 389, 584, // 'p'..'~'
    ];
    let c = match c {
        'À'..='Å' => 'A',
        'Ç' => 'C',
        'È'..='Ë' => 'E',
        'Ì'..='Ï' => 'I',
        'Ñ' => 'N',
        'Ò'..='Ö' | 'Ø' => 'O',
        'Ù'..='Ü' => 'U',
        'Ý' | 'Ÿ' => 'Y',
        'à'..='å' => 'a',
        'ç' => 'c',
        'è'..='ë' => 'e',
        'ì'..='ï' => 'i',
        'ñ' => 'n',
        'ò'..='ö' | 'ø' => 'o',
        'ù'..='ü' => 'u',
        'ý' | 'ÿ' => 'y',
        '\u{A0}' | '\u{202F}' => ' ',
        '‘' | '’' | '‚' => '\'',
        '“' | '”' | '„' => '"',
        '–' => '-',
        // Wider than any table entry: the ellipsis, the em dash, the ligatures.
        '…' | '—' | 'Œ' | 'Æ' => return 1000,
        'œ' => return 944,
        'æ' => return 889,
        '•' => return 350,
        '·' => return 278,
        c => c,
    };
    let code = c as u32;
    if !(32..127).contains(&code) {
        return 556;
    }
    let table = if bold { &BOLD } else { &REGULAR };
    u32::from(table[(code - 32) as usize])
}

/// Text in Windows-1252, the built-in fonts' WinAnsi encoding; what it cannot carry prints `?`.
pub fn win_ansi(s: &str) -> Vec<u8> {
    s.chars()
        .map(|c| match c {
            '\u{20}'..='\u{7E}' | '\u{A0}'..='\u{FF}' => c as u8,
            '€' => 0x80,
            '‚' => 0x82,
            '„' => 0x84,
            '…' => 0x85,
            '‘' => 0x91,
            '’' => 0x92,
            '“' => 0x93,
            '”' => 0x94,
            '•' => 0x95,
            '–' => 0x96,
            '—' => 0x97,
            'œ' => 0x9C,
            'Œ' => 0x8C,
            'Ÿ' => 0x9F,
            '\u{202F}' => 0xA0,
            _ => b'?',
        })
        .collect()
}
