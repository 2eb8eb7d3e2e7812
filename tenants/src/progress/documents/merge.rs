//! POST's merge (Communication 2.2, "JSON Procedure"): a JSON object posted onto a stored JSON
//! object sets its top-level properties, each replaced whole; anything else is refused and
//! leaves the stored document as it was.

use serde_json::{Map, Value};

use crate::{Error, Result};

pub const JSON: &str = "application/json";

/// Whether a content type is JSON: the MIME essence only (`application/json; charset=utf-8` is).
pub fn is_json(content_type: &str) -> bool {
    content_type
        .split(';')
        .next()
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case(JSON))
}

/// A body sent as JSON that must be a JSON object; `what` names it in the error.
pub fn object(bytes: &[u8], field: &'static str, what: &str) -> Result<Map<String, Value>> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(Error::invalid(
            field,
            format!("{what} is not a JSON object"),
        )),
        Err(e) => Err(Error::invalid(field, format!("{what} is not JSON: {e}"))),
    }
}

/// The document a POST leaves: the stored one (content type and bytes) with the posted one's
/// top-level properties set. Both must be JSON objects.
pub fn merged(
    stored_type: &str,
    stored: &[u8],
    posted_type: &str,
    posted: &[u8],
) -> Result<Vec<u8>> {
    if !is_json(posted_type) {
        return Err(Error::invalid(
            "Content-Type",
            "a POST onto a stored document merges JSON objects: send application/json, or PUT to replace it",
        ));
    }
    if !is_json(stored_type) {
        return Err(Error::invalid(
            "Content-Type",
            "the stored document is not application/json, so it cannot be merged: PUT to replace it",
        ));
    }
    let new = object(posted, "body", "the posted document")?;
    let mut old = object(stored, "body", "the stored document")?;
    old.extend(new);
    serde_json::to_vec(&Value::Object(old))
        .map_err(|e| Error::Internal(format!("a merged document did not serialise: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_by_essence() {
        assert!(is_json("application/json"));
        assert!(is_json("Application/JSON; charset=utf-8"));
        assert!(!is_json("application/octet-stream"));
        assert!(!is_json("application/jsonx"));
        assert!(!is_json(""));
    }

    #[test]
    fn merges_top_level_keys_only() {
        let out = merged(
            JSON,
            br#"{"x":"foo","y":"bar","n":{"a":1,"b":2}}"#,
            JSON,
            br#"{"x":"bash","z":"faz","n":{"c":3}}"#,
        )
        .unwrap();
        let v: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"x":"bash","y":"bar","z":"faz","n":{"c":3}})
        );
    }

    #[test]
    fn refuses_anything_but_two_objects() {
        let obj = br#"{"a":1}"#;
        for (st, s, pt, p, field) in [
            (
                JSON,
                &obj[..],
                "application/octet-stream",
                &b"xx"[..],
                "Content-Type",
            ),
            (
                "application/octet-stream",
                &b"xx"[..],
                JSON,
                &obj[..],
                "Content-Type",
            ),
            (JSON, &obj[..], JSON, &b"[1,2]"[..], "body"),
            (JSON, &obj[..], JSON, &b"{nope"[..], "body"),
            (JSON, &b"\"s\""[..], JSON, &obj[..], "body"),
        ] {
            match merged(st, s, pt, p) {
                Err(Error::Invalid { field: f, .. }) => assert_eq!(f, field),
                other => panic!("{other:?}"),
            }
        }
    }
}
