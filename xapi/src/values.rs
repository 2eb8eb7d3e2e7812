//! The scalar values of xAPI: IRIs, UUIDs, timestamps, language tags and maps, durations.

use chrono::{DateTime, FixedOffset};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::{Invalid, Result, join};

/// An absolute IRI (RFC 3987): a scheme, then the rest. `example.com/verb` has no scheme.
pub fn is_iri(s: &str) -> bool {
    iri_string::validate::iri::<iri_string::spec::IriSpec>(s).is_ok()
}

pub fn iri<'a>(v: &'a Value, path: &str) -> Result<&'a str> {
    let s = string(v, path)?;
    if is_iri(s) {
        Ok(s)
    } else {
        Err(Invalid::new(path, "must be an absolute IRI, with a scheme"))
    }
}

pub fn string<'a>(v: &'a Value, path: &str) -> Result<&'a str> {
    v.as_str()
        .ok_or_else(|| Invalid::new(path, format!("must be a string, not {}", kind(v))))
}

pub fn object<'a>(v: &'a Value, path: &str) -> Result<&'a Map<String, Value>> {
    v.as_object()
        .ok_or_else(|| Invalid::new(path, format!("must be an object, not {}", kind(v))))
}

/// What a JSON value is, for messages.
pub fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Refuses a member not in `allowed`; names are case-exact, as the specification's are.
pub fn only(map: &Map<String, Value>, path: &str, allowed: &[&str]) -> Result<()> {
    match map.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(Invalid::new(
            join(path, k),
            format!("is not a property here (allowed: {})", allowed.join(", ")),
        )),
        None => Ok(()),
    }
}

/// A UUID in its hyphenated 8-4-4-4-12 form, any case; returned lower-case.
pub fn uuid(s: &str, path: &str) -> Result<Uuid> {
    let shape = s.len() == 36
        && s.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        });
    match shape.then(|| Uuid::parse_str(s).ok()).flatten() {
        Some(u) => Ok(u),
        None => Err(Invalid::new(
            path,
            "must be a UUID in the form xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx",
        )),
    }
}

pub fn uuid_value(v: &Value, path: &str) -> Result<Uuid> {
    uuid(string(v, path)?, path)
}

/// An ISO 8601 timestamp with a zone, as RFC 3339 has it (`+hhmm` accepted too). A negative
/// zero offset (`-00:00`) means "zone unknown" in RFC 3339, which xAPI refuses.
pub fn timestamp(s: &str, path: &str) -> Result<DateTime<FixedOffset>> {
    let bad = || {
        Invalid::new(
            path,
            "must be an ISO 8601 timestamp with a time zone, such as 2026-12-01T09:30:00.000Z",
        )
    };
    if s.ends_with("-00:00") || s.ends_with("-0000") || s.ends_with("-00") {
        return Err(Invalid::new(
            path,
            "a negative zero offset (-00:00) is not allowed: write Z or +00:00",
        ));
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t);
    }
    // `+hhmm` and `+hh` offsets: rewrite as `+hh:mm` and parse again.
    let b = s.as_bytes();
    let fixed = if b.len() > 5 && matches!(b[b.len() - 5], b'+' | b'-') {
        format!("{}:{}", &s[..s.len() - 2], &s[s.len() - 2..])
    } else if b.len() > 3
        && matches!(b[b.len() - 3], b'+' | b'-')
        && !s[..s.len() - 3].ends_with(':')
    {
        format!("{s}:00")
    } else {
        return Err(bad());
    };
    DateTime::parse_from_rfc3339(&fixed).map_err(|_| bad())
}

/// A well-formed RFC 5646 language tag; an extension singleton may appear once.
pub fn language_tag(s: &str, path: &str) -> Result<()> {
    let bad = || Invalid::new(path, format!("{s:?} is not an RFC 5646 language tag"));
    let tag = language_tags::LanguageTag::parse(s).map_err(|_| bad())?;
    let mut seen: Vec<char> = Vec::new();
    for (singleton, _) in tag.extension_subtags() {
        let c = singleton.to_ascii_lowercase();
        if seen.contains(&c) {
            return Err(bad());
        }
        seen.push(c);
    }
    Ok(())
}

/// A language map: language tags to strings.
pub fn language_map(v: &Value, path: &str) -> Result<()> {
    for (tag, text) in object(v, path)? {
        let p = join(path, tag);
        language_tag(tag, &p)?;
        string(text, &p)?;
    }
    Ok(())
}

/// A member that must be present.
pub fn required<'a>(map: &'a Map<String, Value>, path: &str, key: &str) -> Result<&'a Value> {
    map.get(key)
        .ok_or_else(|| Invalid::new(join(path, key), "is required"))
}

pub fn array<'a>(v: &'a Value, path: &str) -> Result<&'a Vec<Value>> {
    v.as_array()
        .ok_or_else(|| Invalid::new(path, format!("must be an array, not {}", kind(v))))
}

/// A JSON number; a string holding digits is still a string, as the specification insists.
pub fn number(v: &Value, path: &str) -> Result<f64> {
    v.as_f64()
        .ok_or_else(|| Invalid::new(path, format!("must be a number, not {}", kind(v))))
}

pub fn boolean(v: &Value, path: &str) -> Result<bool> {
    v.as_bool()
        .ok_or_else(|| Invalid::new(path, format!("must be true or false, not {}", kind(v))))
}

/// An extensions map: IRI keys, any value, `null` included (the one place xAPI allows it).
pub fn extensions(v: &Value, path: &str) -> Result<()> {
    for key in object(v, path)?.keys() {
        if !is_iri(key) {
            return Err(Invalid::new(
                join(path, key),
                "an extension key must be an absolute IRI",
            ));
        }
    }
    Ok(())
}

/// The path of an array element: `parent.key[i]`.
pub fn index(path: &str, i: usize) -> String {
    format!("{path}[{i}]")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iris() {
        for ok in ["http://example.com/verb", "urn:uuid:1", "mailto:a@b.c"] {
            assert!(is_iri(ok), "{ok}");
        }
        for bad in ["example.com/verb", "ab=c://x", "", "not an iri"] {
            assert!(!is_iri(bad), "{bad}");
        }
    }

    #[test]
    fn uuids() {
        let u = uuid("AA97B177-9383-4934-8543-0F91A7A02836", "id").unwrap();
        assert_eq!(u.to_string(), "aa97b177-9383-4934-8543-0f91a7a02836");
        for bad in [
            "AA97B177-9383-4934-8543-0F91A7A028368",
            "MA97B177-9383-4934-8543-0F91A7A02836",
            "aa97b17793834934854 30f91a7a02836",
            "{aa97b177-9383-4934-8543-0f91a7a02836}",
            "urn:uuid:aa97b177-9383-4934-8543-0f91a7a02836",
        ] {
            assert!(uuid(bad, "id").is_err(), "{bad}");
        }
    }

    #[test]
    fn timestamps() {
        for ok in [
            "2013-05-18T05:32:34.804Z",
            "2013-05-18T05:32:34+00:00",
            "2013-05-18T05:32:34.804+0100",
            "2013-05-18T05:32:34.804+01",
            "2013-05-18T05:32:34.804-05:00",
        ] {
            assert!(timestamp(ok, "t").is_ok(), "{ok}");
        }
        for bad in [
            "01/011/2015",
            "should fail",
            "2013-05-18T05:32:34.804-00:00",
            "2013-05-18T05:32:34.804-0000",
            "2013-05-18T05:32:34.804-00",
            "2013-05-18T05:32:34",
        ] {
            assert!(timestamp(bad, "t").is_err(), "{bad}");
        }
    }

    #[test]
    fn language_tags() {
        for ok in [
            "de",
            "de-DE",
            "zh-Hant",
            "sr-Latn-RS",
            "cmn",
            "es-MX",
            "zh-Hans-CN",
            "ase",
            "fr-CA",
        ] {
            assert!(language_tag(ok, "l").is_ok(), "{ok}");
        }
        for bad in ["something", "a12345678", "zh-z-aaa-z-bbb-c-ccc", ""] {
            assert!(language_tag(bad, "l").is_err(), "{bad}");
        }
    }
}
