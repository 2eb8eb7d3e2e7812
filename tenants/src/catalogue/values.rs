//! The catalogue's typed values, parsed once from what an operator types, each error naming
//! its field: language tags, study hours, ECTS credits, EQF levels, ESCO skills and
//! personal-learning-account registry codes.

use super::Skill;
use crate::values::name;
use crate::{Error, Result};

/// A BCP 47 language tag, normalised: `fr`, `fr-FR`, `zh-Hant-TW`.
pub fn parse_language(field: &'static str, raw: &str) -> Result<String> {
    let bad = || Error::invalid(field, "must be a BCP 47 language tag such as fr or fr-FR");
    let mut parts = raw.trim().split('-');
    let primary = parts
        .next()
        .filter(|p| (2..=3).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphabetic()))
        .ok_or_else(bad)?;
    let mut out = primary.to_ascii_lowercase();
    for p in parts {
        if p.is_empty() || p.len() > 8 || !p.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(bad());
        }
        out.push('-');
        out.push_str(&match p.len() {
            2 if p.chars().all(|c| c.is_ascii_alphabetic()) => p.to_ascii_uppercase(),
            4 => {
                let mut s = p[..1].to_ascii_uppercase();
                s.push_str(&p[1..].to_ascii_lowercase());
                s
            }
            _ => p.to_ascii_lowercase(),
        });
    }
    Ok(out)
}

/// Study hours as typed (whole or fractional), kept as whole minutes.
pub fn parse_study_hours(field: &'static str, hours: f64) -> Result<i32> {
    if !hours.is_finite() || hours <= 0.0 || hours > 10_000.0 {
        return Err(Error::invalid(
            field,
            "must be more than 0 and at most 10000 hours",
        ));
    }
    let minutes = (hours * 60.0).round();
    if (minutes / 60.0 - hours).abs() > 1e-9 {
        return Err(Error::invalid(field, "must be a whole number of minutes"));
    }
    Ok(minutes as i32)
}

/// ECTS credits, exact in halves: 0, 0.5, 1, .. 180.
pub fn parse_ects(field: &'static str, ects: f64) -> Result<i32> {
    let halves = ects * 2.0;
    if !ects.is_finite() || !(0.0..=180.0).contains(&ects) || halves.fract() != 0.0 {
        return Err(Error::invalid(
            field,
            "must be between 0 and 180 in steps of 0.5",
        ));
    }
    Ok(halves as i32)
}

pub fn parse_eqf(field: &'static str, level: i32) -> Result<i32> {
    if !(1..=8).contains(&level) {
        return Err(Error::invalid(field, "must be an EQF level from 1 to 8"));
    }
    Ok(level)
}

pub(super) fn parse_skill(i: usize, uri: &str, label: &str) -> Result<Skill> {
    let uri = uri.trim();
    // ESCO concept URIs: http://data.europa.eu/esco/skill/<uuid> (and occupation, isco..).
    if !(uri.starts_with("http://data.europa.eu/esco/")
        || uri.starts_with("https://data.europa.eu/esco/"))
        || uri.len() > 300
    {
        return Err(Error::invalid(
            format!("skills[{i}].escoUri"),
            "must be an ESCO URI (http://data.europa.eu/esco/...)",
        ));
    }
    let label = name("skills.label", label, 200)
        .map_err(|_| Error::invalid(format!("skills[{i}].label"), "must be 1 to 200 characters"))?;
    Ok(Skill {
        esco_uri: uri.to_owned(),
        label,
    })
}

/// A personal-learning-account registry code as an operator types it: `RNCP` or `RS` and
/// digits (up to 10), trimmed and upper-cased. Anything else is `Invalid` on `registryCode`.
pub fn parse_pla_registry_code(raw: &str) -> Result<String> {
    let code = raw.trim().to_ascii_uppercase();
    let digits = code
        .strip_prefix("RNCP")
        .or_else(|| code.strip_prefix("RS"))
        .unwrap_or("");
    if digits.is_empty() || digits.len() > 10 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::invalid(
            "registryCode",
            "must be RNCP or RS followed by digits, such as RNCP34825",
        ));
    }
    Ok(code)
}

#[cfg(test)]
mod tests {
    #[test]
    fn registry_codes_are_rncp_or_rs_and_digits() {
        assert_eq!(
            super::parse_pla_registry_code(" rncp34825 ")
                .ok()
                .as_deref(),
            Some("RNCP34825")
        );
        assert_eq!(
            super::parse_pla_registry_code("RS5060").ok().as_deref(),
            Some("RS5060")
        );
        for bad in ["", "RNCP", "RS", "34825", "RNCP34A25", "XRNCP1", "RNCP 1"] {
            assert!(super::parse_pla_registry_code(bad).is_err(), "{bad}");
        }
    }

    use super::*;

    #[test]
    fn language_tags_are_checked_and_normalised() {
        assert_eq!(parse_language("l", "FR").unwrap(), "fr");
        assert_eq!(parse_language("l", "fr-fr").unwrap(), "fr-FR");
        assert_eq!(parse_language("l", "zh-hant-tw").unwrap(), "zh-Hant-TW");
        for bad in ["", "f", "french", "fr_FR", "fr-", "fr--FR", "12"] {
            assert!(parse_language("l", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn hours_and_credits_are_exact() {
        assert_eq!(parse_study_hours("h", 2.5).unwrap(), 150);
        assert!(parse_study_hours("h", 0.0).is_err());
        assert!(parse_study_hours("h", 1.0 / 7.0).is_err());
        assert_eq!(parse_ects("e", 1.5).unwrap(), 3);
        assert!(parse_ects("e", 1.25).is_err());
        assert!(parse_ects("e", -1.0).is_err());
        assert!(parse_eqf("q", 9).is_err());
    }
}
