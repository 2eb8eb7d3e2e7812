//! ISO 8601 durations as xAPI allows them (4.6): the format with designators, `PnW` or
//! `PnYnMnDTnHnMnS`, never the alternative `PYYYY-MM-DD…` form. Only the seconds may carry a
//! fraction, as in the grammar the conformance suite applies.

use crate::{Invalid, Result};

/// Checks a duration string: `PT1H0M0.1S`, `P3Y1M29DT4H35M59.14S`, `P4W` pass; `P4W1D`, `P`,
/// `PT`, `PA1H` do not.
pub fn check(s: &str, path: &str) -> Result<()> {
    if valid(s) {
        Ok(())
    } else {
        Err(Invalid::new(
            path,
            format!("{s:?} is not an ISO 8601 duration such as PT1H30M or P1DT2.5S"),
        ))
    }
}

fn valid(s: &str) -> bool {
    let Some(rest) = s.strip_prefix('P') else {
        return false;
    };
    if rest.is_empty() {
        return false;
    }
    // Weeks stand alone: `P4W`, never `P4W1D`.
    if let Some(n) = rest.strip_suffix('W') {
        return !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit());
    }
    let (date, time) = match rest.split_once('T') {
        Some((d, t)) => (d, Some(t)),
        None => (rest, None),
    };
    if !components(date, b"YMD", false) {
        return false;
    }
    match time {
        // A `T` must be followed by at least one time component.
        Some(t) => !t.is_empty() && components(t, b"HMS", true),
        None => true,
    }
}

/// `s` as a run of `<digits><designator>`, designators in the given order, each at most once;
/// with `seconds`, the last designator (S) may take a decimal fraction.
fn components(s: &str, designators: &[u8], seconds: bool) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    let mut next = 0; // the first designator still allowed
    while i < b.len() {
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return false;
        }
        let mut fraction = false;
        if i < b.len() && b[i] == b'.' {
            i += 1;
            let f = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            if i == f {
                return false;
            }
            fraction = true;
        }
        let Some(&d) = b.get(i) else {
            return false;
        };
        let Some(pos) = designators[next..].iter().position(|&x| x == d) else {
            return false;
        };
        let pos = next + pos;
        if fraction && !(seconds && d == b'S') {
            return false;
        }
        next = pos + 1;
        i += 1;
    }
    true
}

/// The duration as statement comparison sees it: a string, with any precision beyond 0.01 s
/// dropped (4.6.s1.b5).
pub fn comparable(s: &str) -> String {
    let Some(dot) = s.rfind('.') else {
        return s.to_owned();
    };
    let Some(end) = s.strip_suffix('S').map(str::len) else {
        return s.to_owned();
    };
    if end < dot {
        return s.to_owned();
    }
    let fraction = &s[dot + 1..end];
    let kept = fraction.get(..2).unwrap_or(fraction).trim_end_matches('0');
    if kept.is_empty() {
        format!("{}S", &s[..dot])
    } else {
        format!("{}.{kept}S", &s[..dot])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        for ok in [
            "PT1H0M0.1S",
            "PT4H35M59.14S",
            "PT16559.14S",
            "P3Y1M29DT4H35M59.14S",
            "P3Y",
            "P4W",
            "P1D",
            "PT0S",
            "P1M",
            "PT1M",
            "P1Y2M3DT4H5M6S",
        ] {
            assert!(check(ok, "d").is_ok(), "{ok}");
        }
        for bad in [
            "PA1H0M0S",
            "P4W1D",
            "should fail",
            "P",
            "PT",
            "P1DT",
            "",
            "1H",
            "P1.5Y",
            "PT1.5H",
            "P1M1Y",
            "PT1S1M",
            "P1D1D",
            "P-1D",
            "PT.5S",
            "PT1.S",
            "P2026-12-01",
            "P1W2W",
            "pt1h",
        ] {
            assert!(check(bad, "d").is_err(), "{bad}");
        }
    }

    #[test]
    fn comparison_ignores_precision_below_a_hundredth() {
        assert_eq!(comparable("PT1.234S"), "PT1.23S");
        assert_eq!(comparable("PT1.230S"), "PT1.23S");
        assert_eq!(comparable("PT1.001S"), "PT1S");
        assert_eq!(comparable("PT1.5S"), "PT1.5S");
        assert_eq!(comparable("P1D"), "P1D");
        assert_ne!(comparable("PT1.2S"), comparable("PT1.3S"));
    }
}
