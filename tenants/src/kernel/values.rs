//! Values a user types, parsed once where they enter. Each error names its field.

use crate::{Error, Result};

/// An email address, trimmed and compared without case (stored lower-cased).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    pub fn parse(field: &'static str, raw: &str) -> Result<Self> {
        let s = raw.trim();
        let invalid = |reason: &'static str| Error::invalid(field, reason);
        if s.is_empty() {
            return Err(invalid("must not be empty"));
        }
        if s.len() > 254 {
            return Err(invalid("must be at most 254 characters"));
        }
        let (local, domain) = s
            .rsplit_once('@')
            .ok_or_else(|| invalid("must be an email address"))?;
        let domain_ok = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && domain
                .split('.')
                .all(|l| !l.is_empty() && l.chars().all(|c| c.is_alphanumeric() || c == '-'));
        if local.is_empty()
            || local.len() > 64
            || local.chars().any(|c| c.is_whitespace() || c == '@')
            || !domain_ok
        {
            return Err(invalid("must be an email address"));
        }
        Ok(Self(s.to_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A tenant slug: the `<slug>` of `<slug>.<base domain>` and of `X-Tenant`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Slug(String);

impl Slug {
    pub fn parse(field: &'static str, raw: &str) -> Result<Self> {
        let s = raw.trim();
        let ok_len = (2..=63).contains(&s.len());
        let ok_chars = s
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !ok_len || !ok_chars || s.starts_with('-') || s.ends_with('-') {
            return Err(Error::invalid(
                field,
                "must be 2 to 63 lower-case letters, digits or hyphens, not starting or ending with a hyphen",
            ));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A host name a tenant is served on, such as `campus.ocapiat.fr`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Domain(String);

impl Domain {
    pub fn parse(field: &'static str, raw: &str) -> Result<Self> {
        let s = raw.trim().trim_end_matches('.').to_ascii_lowercase();
        let labels_ok = s.split('.').count() >= 2
            && s.split('.').all(|l| {
                (1..=63).contains(&l.len())
                    && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                    && !l.starts_with('-')
                    && !l.ends_with('-')
            });
        if s.len() > 253 || !labels_ok {
            return Err(Error::invalid(
                field,
                "must be a host name such as campus.example.org",
            ));
        }
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password as typed: 12 to 256 characters, never logged.
pub struct Password(String);

impl Password {
    pub fn parse(field: &'static str, raw: &str) -> Result<Self> {
        let n = raw.chars().count();
        if n < 12 {
            return Err(Error::invalid(field, "must be at least 12 characters"));
        }
        if n > 256 {
            return Err(Error::invalid(field, "must be at most 256 characters"));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(..)")
    }
}

/// A colour as `#rrggbb`, stored lower-case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HexColour(String);

impl HexColour {
    pub fn parse(field: &'static str, raw: &str) -> Result<Self> {
        let s = raw.trim();
        let ok =
            s.len() == 7 && s.starts_with('#') && s[1..].chars().all(|c| c.is_ascii_hexdigit());
        if !ok {
            return Err(Error::invalid(field, "must be a colour written #rrggbb"));
        }
        Ok(Self(s.to_ascii_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An `https://` URL (a logo), at most 2048 characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpsUrl(String);

impl HttpsUrl {
    pub fn parse(field: &'static str, raw: &str) -> Result<Self> {
        let s = raw.trim();
        let host = s.strip_prefix("https://").unwrap_or("");
        let host = host.split(['/', '?', '#']).next().unwrap_or("");
        if s.len() > 2048 || host.is_empty() || s.chars().any(char::is_whitespace) {
            return Err(Error::invalid(field, "must be an https:// URL"));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A name shown to people (a space, an organisation, a person's given name): trimmed, 1 to `max`
/// characters, no control characters.
pub fn name(field: &'static str, raw: &str, max: usize) -> Result<String> {
    let s = raw.trim();
    if s.is_empty() {
        return Err(Error::invalid(field, "must not be empty"));
    }
    if s.chars().count() > max {
        return Err(Error::invalid(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    if s.chars().any(char::is_control) {
        return Err(Error::invalid(field, "must not contain control characters"));
    }
    Ok(s.to_owned())
}

/// Free text over several lines (a description): trimmed, at most `max` characters, no control
/// characters but line breaks and tabs. Missing or blank is `None`.
pub fn long_text(field: &'static str, raw: Option<String>, max: usize) -> Result<Option<String>> {
    let Some(s) = raw else { return Ok(None) };
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    if s.chars().count() > max {
        return Err(Error::invalid(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    if s.chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(Error::invalid(field, "must not contain control characters"));
    }
    Ok(Some(s.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_is_lowercased_and_checked() {
        assert_eq!(
            Email::parse("email", "  Ana@Example.ORG ")
                .unwrap()
                .as_str(),
            "ana@example.org"
        );
        for bad in [
            "",
            "ana",
            "ana@",
            "@example.org",
            "ana@example",
            "a b@example.org",
            "ana@exa_mple.org",
        ] {
            let err = Email::parse("email", bad).unwrap_err();
            assert!(
                matches!(err, Error::Invalid { ref field, .. } if field == "email"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn slugs_domains_colours() {
        assert!(Slug::parse("slug", "ocapiat").is_ok());
        assert!(Slug::parse("slug", "Ocapiat").is_err());
        assert!(Slug::parse("slug", "-x").is_err());
        assert_eq!(
            Domain::parse("d", "Campus.Ocapiat.fr.").unwrap().as_str(),
            "campus.ocapiat.fr"
        );
        assert!(Domain::parse("d", "localhost").is_err());
        assert!(Domain::parse("d", "a..b").is_err());
        assert_eq!(
            HexColour::parse("c", "#A1B2C3").unwrap().as_str(),
            "#a1b2c3"
        );
        assert!(HexColour::parse("c", "red").is_err());
        assert!(HexColour::parse("c", "#12345").is_err());
        assert!(HttpsUrl::parse("u", "https://cdn.example.org/logo.svg").is_ok());
        assert!(HttpsUrl::parse("u", "http://cdn.example.org/logo.svg").is_err());
        assert!(HttpsUrl::parse("u", "javascript:alert(1)").is_err());
    }

    #[test]
    fn password_length_is_counted_in_characters() {
        assert!(Password::parse("p", "short").is_err());
        assert!(Password::parse("p", "éééééééééééé").is_ok());
        assert!(Password::parse("p", &"x".repeat(257)).is_err());
        assert_eq!(
            format!(
                "{:?}",
                Password::parse("p", "correct horse battery").unwrap()
            ),
            "Password(..)"
        );
    }
}
