//! Signed statements (2.6): the JWS in a signature attachment must be well formed, use an RSA
//! algorithm, and sign the statement it is attached to.
//!
//! The signature itself is not verified: that needs the signer's certificate (`x5c`), which is
//! optional, and the specification calls the check a way to catch mistakes, not a security
//! measure (2.6.s5 note).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

use crate::statement::same;
use crate::{Invalid, Result};

/// The algorithms 2.6.s4.b4 allows.
pub const ALGORITHMS: &[&str] = &["RS256", "RS384", "RS512"];

const PATH: &str = "signature";

/// Checks a JWS (compact serialisation, or the JSON one) against the statement it came with:
/// its header's `alg` is RS256, RS384 or RS512, its payload is JSON and is the same statement
/// (2.3.1.s9: attachments, authority, stored, version and an id the payload lacks are ignored).
pub fn check(jws: &str, statement: &Value) -> Result<()> {
    let (header, payload, signature) = parts(jws.trim())?;
    let header: Value = serde_json::from_slice(&decode(&header, "header")?)
        .map_err(|_| Invalid::new(PATH, "the JWS header is not JSON"))?;
    let alg = header
        .get("alg")
        .and_then(Value::as_str)
        .ok_or_else(|| Invalid::new(PATH, "the JWS header must name its algorithm (alg)"))?;
    if !ALGORITHMS.contains(&alg) {
        return Err(Invalid::new(
            PATH,
            format!("the JWS algorithm must be RS256, RS384 or RS512, not {alg:?}"),
        ));
    }
    if signature.is_empty() {
        return Err(Invalid::new(PATH, "the JWS has no signature"));
    }
    decode(&signature, "signature")?;
    let payload: Value = serde_json::from_slice(&decode(&payload, "payload")?)
        .map_err(|_| Invalid::new(PATH, "the JWS payload is not JSON"))?;
    if !payload.is_object() {
        return Err(Invalid::new(PATH, "the JWS payload must be a statement"));
    }
    if !same(&payload, statement) {
        return Err(Invalid::new(
            PATH,
            "the JWS payload is not the statement it is attached to",
        ));
    }
    Ok(())
}

/// The base64url header, payload and signature of a compact JWS (`a.b.c`) or of the JSON
/// serialisation, flattened or general (its first signature).
fn parts(jws: &str) -> Result<(String, String, String)> {
    if jws.starts_with('{') {
        let v: Value = serde_json::from_str(jws)
            .map_err(|_| Invalid::new(PATH, "the JWS is neither compact nor JSON"))?;
        let sig = match v.get("signatures").and_then(Value::as_array) {
            Some(list) => list.first().cloned().unwrap_or(Value::Null),
            None => v.clone(),
        };
        let field = |from: &Value, key: &str| {
            from.get(key)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| Invalid::new(PATH, format!("the JWS has no {key:?}")))
        };
        return Ok((
            field(&sig, "protected")?,
            field(&v, "payload")?,
            field(&sig, "signature")?,
        ));
    }
    let mut it = jws.split('.');
    match (it.next(), it.next(), it.next(), it.next()) {
        (Some(h), Some(p), Some(s), None) => Ok((h.to_owned(), p.to_owned(), s.to_owned())),
        _ => Err(Invalid::new(
            PATH,
            "a JWS in compact form has three parts separated by dots",
        )),
    }
}

/// base64url, with or without padding.
fn decode(part: &str, what: &str) -> Result<Vec<u8>> {
    URL_SAFE_NO_PAD
        .decode(part.trim_end_matches('='))
        .map_err(|_| Invalid::new(PATH, format!("the JWS {what} is not base64url")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn b64(v: &str) -> String {
        URL_SAFE_NO_PAD.encode(v)
    }

    fn statement() -> Value {
        json!({
            "actor": {"mbox": "mailto:lea@example.com"},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/completed", "display": {"en": "completed"}},
            "object": {"id": "http://example.com/a"}
        })
    }

    fn jws(alg: &str, payload: &str) -> String {
        format!(
            "{}.{}.{}",
            b64(&json!({"alg": alg}).to_string()),
            b64(payload),
            b64("not really a signature")
        )
    }

    /// The statement as the LRS receives it: with the signature attachment and an id.
    fn received() -> Value {
        let mut s = statement();
        s["id"] = json!("aa97b177-9383-4934-8543-0f91a7a02836");
        s["attachments"] = json!([{"usageType": crate::statement::SIGNATURE_USAGE,
            "display": {"en": "Signature"}, "contentType": "application/octet-stream",
            "length": 100, "sha2": "ab"}]);
        s["version"] = json!("1.0.0");
        s
    }

    #[test]
    fn rsa_signatures_of_the_statement_pass() {
        let payload = statement().to_string();
        for alg in ALGORITHMS {
            assert!(check(&jws(alg, &payload), &received()).is_ok(), "{alg}");
        }
        // Trailing CRLF from a multipart body, and padding, are tolerated.
        let padded = format!("{}==\r\n", jws("RS256", &payload));
        assert!(check(&padded, &received()).is_ok());
        let flattened = json!({"protected": b64(r#"{"alg":"RS384"}"#),
            "payload": b64(&payload), "signature": b64("sig")});
        assert!(check(&flattened.to_string(), &received()).is_ok());
        let general = json!({"payload": b64(&payload),
            "signatures": [{"protected": b64(r#"{"alg":"RS512"}"#), "signature": b64("sig")}]});
        assert!(check(&general.to_string(), &received()).is_ok());
    }

    #[test]
    fn malformed_signatures_are_refused() {
        let payload = statement().to_string();
        let mut other = statement();
        other["verb"]["id"] = json!("http://adlnet.gov/expapi/verbs/failed");
        let mut other_id = statement();
        other_id["id"] = json!("16fd2706-8baf-433b-82eb-8c7fada847da");
        let header = b64(r#"{"alg":"RS256"}"#);
        for (jws, why) in [
            (jws("HS256", &payload), "HS256"),
            (jws("none", &payload), "none"),
            (jws("rs256", &payload), "case"),
            (jws("RS256", &payload.replace('"', "'")), "payload not JSON"),
            (jws("RS256", "[]"), "payload not an object"),
            (jws("RS256", &other.to_string()), "different verb"),
            (jws("RS256", &other_id.to_string()), "different id"),
            (format!("{header}.{}", b64(&payload)), "two parts"),
            (format!("{header}.{}.", b64(&payload)), "no signature"),
            (format!("{header}.{}.x.y", b64(&payload)), "four parts"),
            (format!("{}.{}.c2ln", b64("{}"), b64(&payload)), "no alg"),
            (
                format!("{}.{}.c2ln", b64("alg"), b64(&payload)),
                "header not JSON",
            ),
            (format!("{header}.!!!.c2ln"), "payload not base64url"),
            ("{not json".to_owned(), "broken JSON serialisation"),
            (String::new(), "empty"),
        ] {
            let e = check(&jws, &received()).expect_err(why);
            assert_eq!(e.path, "signature", "{why}");
        }
    }
}
