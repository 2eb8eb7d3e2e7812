//! xAPI's concurrency control (Communication 3.1): ETags are the SHA-1 of a document's bytes,
//! and `If-Match` / `If-None-Match` guard writes against changes the client has not seen.

use sha1::{Digest, Sha1};

use crate::{Error, Result};

/// The 40 lower-case hex digits of the SHA-1 of `content`: the ETag xAPI prescribes, unquoted.
pub fn etag(content: &[u8]) -> String {
    Sha1::digest(content)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// What a client sent in `If-Match` and `If-None-Match`, each header absent or a list of tags.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Preconditions {
    pub if_match: Option<Tags>,
    pub if_none_match: Option<Tags>,
}

/// A header's entity tags: `*`, or the listed tags without quotes or `W/`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Tags {
    Any,
    Listed(Vec<String>),
}

impl Tags {
    /// Reads one header's value (several headers of the same name joined with commas). Quotes
    /// and a weak `W/` are tolerated, since clients copy tags in every form.
    pub fn parse(raw: &str) -> Tags {
        let mut listed = Vec::new();
        for part in raw.split(',') {
            let t = part.trim();
            if t == "*" {
                return Tags::Any;
            }
            let t = t.strip_prefix("W/").unwrap_or(t).trim_matches('"');
            if !t.is_empty() {
                listed.push(t.to_ascii_lowercase());
            }
        }
        Tags::Listed(listed)
    }

    /// Whether the tags name the current document (`None`: there is none).
    fn hit(&self, current: Option<&str>) -> bool {
        match (self, current) {
            (_, None) => false,
            (Tags::Any, Some(_)) => true,
            (Tags::Listed(tags), Some(c)) => tags.iter().any(|t| t == c),
        }
    }
}

impl Preconditions {
    pub fn none() -> Self {
        Self::default()
    }

    pub fn given(&self) -> bool {
        self.if_match.is_some() || self.if_none_match.is_some()
    }

    /// Checks the headers against the current document's tag (`None`: no document), as RFC
    /// 7232 reads them: `If-Match` needs a document it names, `If-None-Match` one it does not.
    /// A failure is 412 and changes nothing.
    pub fn check(&self, current: Option<&str>) -> Result<()> {
        if let Some(m) = &self.if_match
            && !m.hit(current)
        {
            return Err(failed(match current {
                None => "If-Match: there is no such document",
                Some(_) => "If-Match: the document has changed (its ETag is not one given)",
            }));
        }
        if let Some(n) = &self.if_none_match
            && n.hit(current)
        {
            return Err(failed(
                "If-None-Match: the document exists (GET it and send If-Match with its ETag)",
            ));
        }
        Ok(())
    }
}

fn failed(reason: &'static str) -> Error {
    Error::refused("PRECONDITION_FAILED", reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etag_is_sha1_in_lower_hex() {
        assert_eq!(etag(b""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
        assert_eq!(etag(b"abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
    }

    #[test]
    fn tags_read_quoted_weak_listed_and_star() {
        assert_eq!(Tags::parse("*"), Tags::Any);
        assert_eq!(Tags::parse(" \"a\" , *"), Tags::Any);
        assert_eq!(
            Tags::parse("\"AB\", W/\"cd\",ef"),
            Tags::Listed(vec!["ab".into(), "cd".into(), "ef".into()])
        );
    }

    #[test]
    fn preconditions_against_a_document_and_none() {
        let m = |s: &str| Preconditions {
            if_match: Some(Tags::parse(s)),
            if_none_match: None,
        };
        let n = |s: &str| Preconditions {
            if_match: None,
            if_none_match: Some(Tags::parse(s)),
        };
        assert!(m("\"x\"").check(Some("x")).is_ok());
        assert!(m("\"y\", \"x\"").check(Some("x")).is_ok());
        assert!(m("\"y\"").check(Some("x")).is_err());
        assert!(m("*").check(Some("x")).is_ok());
        assert!(m("*").check(None).is_err());
        assert!(m("\"x\"").check(None).is_err());
        assert!(n("*").check(None).is_ok());
        assert!(n("*").check(Some("x")).is_err());
        assert!(n("\"x\"").check(Some("x")).is_err());
        assert!(n("\"y\"").check(Some("x")).is_ok());
        assert!(Preconditions::none().check(Some("x")).is_ok());
        assert!(!Preconditions::none().given());
    }
}
