//! Query parameters as xAPI reads them: names case-exact, each once, none unknown (400 names
//! the one that is not), and the typed values resources share.

use axum::http::StatusCode;
use spaces_xapi::agent::{self, Actor, Place};
use spaces_xapi::{Invalid, values};

use crate::graphql_http::Refusal;

use super::invalid;

#[derive(Debug, Default)]
pub struct Params(Vec<(String, String)>);

impl Params {
    /// Splits a query string (or a form body); a parameter given twice is refused.
    pub fn parse(query: Option<&str>) -> Result<Self, Refusal> {
        let mut pairs: Vec<(String, String)> = Vec::new();
        for (k, v) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
            if pairs.iter().any(|(seen, _)| *seen == k) {
                return Err(invalid(Invalid::new(k, "is given more than once")));
            }
            pairs.push((k.into_owned(), v.into_owned()));
        }
        Ok(Self(pairs))
    }

    /// Every pair, in order.
    pub fn into_pairs(self) -> Vec<(String, String)> {
        self.0
    }

    /// Adds a pair the caller has checked is not there yet.
    pub fn push(&mut self, name: String, value: String) {
        self.0.push((name, value));
    }

    pub fn take(&mut self, name: &str) -> Option<String> {
        let i = self.0.iter().position(|(k, _)| k == name)?;
        Some(self.0.remove(i).1)
    }

    pub fn has(&self, name: &str) -> bool {
        self.0.iter().any(|(k, _)| k == name)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(k, _)| k.as_str())
    }

    /// Every parameter left is one this resource does not know: 400 naming it.
    pub fn finish(self) -> Result<(), Refusal> {
        match self.0.first() {
            Some((k, _)) => Err(invalid(Invalid::new(
                k.as_str(),
                "is not a parameter of this resource (names are case-sensitive)",
            ))),
            None => Ok(()),
        }
    }

    /// A parameter the resource cannot do without.
    pub fn required(&mut self, name: &str) -> Result<String, Refusal> {
        self.take(name)
            .ok_or_else(|| invalid(Invalid::new(name, "is required")))
    }
}

/// An `agent` parameter: the JSON of an Agent (or Group) with exactly one IFI.
pub fn agent(name: &str, raw: &str) -> Result<Actor, Refusal> {
    let v: serde_json::Value = serde_json::from_str(raw)
        .map_err(|e| invalid(Invalid::new(name, format!("is not JSON: {e}"))))?;
    let a = agent::actor(&v, name, Place::Actor).map_err(invalid)?;
    if a.ifi.is_none() {
        return Err(invalid(Invalid::new(
            name,
            "must be identified by one of mbox, mbox_sha1sum, openid, account",
        )));
    }
    Ok(a)
}

pub fn iri(name: &str, raw: String) -> Result<String, Refusal> {
    if values::is_iri(&raw) {
        Ok(raw)
    } else {
        Err(invalid(Invalid::new(
            name,
            "must be an absolute IRI, with a scheme",
        )))
    }
}

pub fn uuid(name: &str, raw: &str) -> Result<uuid::Uuid, Refusal> {
    values::uuid(raw, name).map_err(invalid)
}

/// A timestamp parameter. A `+` left unescaped in a query reads as a space: put it back.
pub fn timestamp(name: &str, raw: &str) -> Result<chrono::DateTime<chrono::Utc>, Refusal> {
    let fixed = raw.replace(' ', "+");
    values::timestamp(&fixed, name)
        .map(|t| t.with_timezone(&chrono::Utc))
        .map_err(invalid)
}

/// `true` or `false`, nothing else.
pub fn boolean(name: &str, raw: &str) -> Result<bool, Refusal> {
    match raw {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(invalid(Invalid::new(name, "must be true or false"))),
    }
}

/// 405 for a method the resource does not serve.
pub fn method_not_allowed() -> Refusal {
    Refusal::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "METHOD_NOT_ALLOWED",
        "this xAPI resource does not serve that method",
    )
}
