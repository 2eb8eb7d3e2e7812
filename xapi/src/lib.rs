//! The xAPI 1.0.3 data model, checked as the specification states it: statements, agents and
//! groups, and the values a request names (IRIs, UUIDs, timestamps, language tags). Every check
//! answers with the JSON path of the offending value and the reason, which the LRS sends back
//! in its 400.
//!
//! The LRS stores what passes; nothing here does I/O. [`statement`] checks, normalises and
//! compares statements; [`format`] writes them as `format=ids|canonical` asks; [`signature`]
//! checks the JWS of a signed statement; [`agent`], [`values`] and [`duration`] check the parts.

pub mod agent;
pub mod duration;
pub mod format;
pub mod index;
pub mod signature;
pub mod statement;
pub mod values;

/// Why a value is not valid xAPI: where (a JSON path such as `actor.mbox` or a query parameter
/// name) and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {reason}")]
pub struct Invalid {
    pub path: String,
    pub reason: String,
}

impl Invalid {
    pub fn new(path: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            reason: reason.into(),
        }
    }
}

pub type Result<T, E = Invalid> = std::result::Result<T, E>;

/// The JSON path of a member: `parent.key`, or `key` at the top.
pub fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_owned()
    } else {
        format!("{parent}.{key}")
    }
}
