//! `multipart/mixed` as xAPI uses it (Communication 1.5.2): a first part `application/json`
//! holding the statement or statements, then one part per attachment, each named by the
//! SHA-256 of its bytes (`X-Experience-API-Hash`) and sent as `Content-Transfer-Encoding:
//! binary`. Reading checks the wire format and the hashes; which attachment a part belongs to is
//! the statements' business ([`super::attachments`]).

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use spaces_tenants::progress::attachments::Part;
use spaces_xapi::Invalid;

use super::invalid;
use crate::graphql_http::{Refusal, essence};

pub const HASH: &str = "x-experience-api-hash";
const TRANSFER_ENCODING: &str = "content-transfer-encoding";

/// A `multipart/mixed` request: the JSON of the first part and every other part, hashes checked.
#[derive(Debug)]
pub struct Mixed {
    pub json: Bytes,
    pub parts: Vec<Part>,
}

/// The `boundary` parameter of a Content-Type, unquoted.
fn boundary(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|p| {
        let (name, value) = p.split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("boundary") {
            return None;
        }
        let value = value.trim();
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(value);
        (!value.is_empty()).then(|| value.to_owned())
    })
}

fn header_str<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

/// Lower-case hex SHA-256, as `sha2` is written in statements.
pub fn sha256_hex(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

/// Reads a `multipart/mixed` body (`content_type` is the request's header). A preamble before
/// the first boundary is skipped; header lines may lack the space after the colon.
pub async fn read(content_type: &str, body: Bytes) -> Result<Mixed, Refusal> {
    let Some(boundary) = boundary(content_type) else {
        return Err(invalid(Invalid::new(
            "Content-Type",
            "multipart/mixed needs a boundary parameter",
        )));
    };
    // multer::parse_boundary only takes multipart/form-data, so the boundary is ours; multer
    // reads parts without a Content-Disposition all the same.
    let mut mp = multer::Multipart::new(Body::from(body).into_data_stream(), boundary);
    let malformed = |e: multer::Error| {
        invalid(Invalid::new(
            "body",
            format!("is not a well-formed multipart/mixed body: {e}"),
        ))
    };
    let Some(first) = mp.next_field().await.map_err(malformed)? else {
        return Err(invalid(Invalid::new(
            "body",
            "holds no part; the first must be the statements as application/json",
        )));
    };
    if essence(header_str(first.headers(), "content-type").unwrap_or("")) != "application/json" {
        return Err(invalid(Invalid::new(
            "parts[0].Content-Type",
            "must be application/json: the first part holds the statements",
        )));
    }
    let json = first.bytes().await.map_err(malformed)?;
    let mut parts = Vec::new();
    let mut index = 0;
    while let Some(field) = mp.next_field().await.map_err(malformed)? {
        index += 1;
        let at = |name: &str| format!("parts[{index}].{name}");
        let headers = field.headers().clone();
        let Some(hash) = header_str(&headers, HASH).map(str::to_ascii_lowercase) else {
            let why = if essence(header_str(&headers, "content-type").unwrap_or(""))
                == "application/json"
            {
                "is required: every statement goes in the first part, and an attachment part is named by its hash"
            } else {
                "is required on every attachment part"
            };
            return Err(invalid(Invalid::new(at("X-Experience-API-Hash"), why)));
        };
        match header_str(&headers, TRANSFER_ENCODING) {
            Some(te) if te.eq_ignore_ascii_case("binary") => {}
            _ => {
                return Err(invalid(Invalid::new(
                    at("Content-Transfer-Encoding"),
                    "must be binary",
                )));
            }
        }
        let content = field.bytes().await.map_err(malformed)?;
        if sha256_hex(&content) != hash {
            return Err(invalid(Invalid::new(
                at("X-Experience-API-Hash"),
                "is not the SHA-256 of the part's content",
            )));
        }
        let content_type = header_str(&headers, "content-type")
            .filter(|t| !t.is_empty())
            .unwrap_or("application/octet-stream")
            .to_owned();
        parts.push(Part {
            sha2: hash,
            content_type,
            content: content.to_vec(),
        });
    }
    Ok(Mixed { json, parts })
}

/// A `multipart/mixed` answer: `json` first, then each part (callers pass distinct hashes).
pub fn write(status: StatusCode, json: &serde_json::Value, parts: &[Part]) -> Response {
    let json = serde_json::to_vec(json).unwrap_or_default();
    // A fresh random boundary; drawn again in the unlikely case some content holds it.
    let boundary = loop {
        let b = format!("xapi-{}", uuid::Uuid::new_v4().simple());
        let needle = b.as_bytes();
        let inside = |c: &[u8]| c.windows(needle.len()).any(|w| w == needle);
        if !inside(&json) && !parts.iter().any(|p| inside(&p.content)) {
            break b;
        }
    };
    let size = json.len() + parts.iter().map(|p| p.content.len() + 256).sum::<usize>() + 256;
    let mut body = Vec::with_capacity(size);
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Type: application/json\r\n\r\n").as_bytes(),
    );
    body.extend_from_slice(&json);
    for p in parts {
        body.extend_from_slice(
            format!(
                "\r\n--{boundary}\r\nContent-Type: {}\r\nContent-Transfer-Encoding: binary\r\nX-Experience-API-Hash: {}\r\n\r\n",
                p.content_type, p.sha2
            )
            .as_bytes(),
        );
        body.extend_from_slice(&p.content);
    }
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let content_type = HeaderValue::from_str(&format!("multipart/mixed; boundary={boundary}"))
        .unwrap_or_else(|_| HeaderValue::from_static("multipart/mixed"));
    (status, [(header::CONTENT_TYPE, content_type)], body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(parts: &[(&str, &[u8])]) -> Bytes {
        let mut b = b"preamble\r\n".to_vec();
        for (headers, content) in parts {
            b.extend_from_slice(format!("--B\r\n{headers}\r\n\r\n").as_bytes());
            b.extend_from_slice(content);
            b.extend_from_slice(b"\r\n");
        }
        b.extend_from_slice(b"--B--\r\n");
        Bytes::from(b)
    }

    #[tokio::test]
    async fn reads_parts_and_checks_hashes() {
        let text = b"hello attachment";
        let hash = sha256_hex(text);
        let ok = body(&[
            ("Content-Type:application/json", b"{}"),
            (
                &format!(
                    "Content-Type: text/plain\r\nContent-Transfer-Encoding:binary\r\nX-Experience-API-Hash: {hash}"
                ),
                text,
            ),
        ]);
        let m = read("multipart/mixed; boundary=\"B\"", ok).await.unwrap();
        assert_eq!(&m.json[..], b"{}");
        assert_eq!(m.parts.len(), 1);
        assert_eq!(m.parts[0].sha2, hash);
        assert_eq!(m.parts[0].content, text);
        assert_eq!(m.parts[0].content_type, "text/plain");

        let wrong = body(&[
            ("Content-Type: application/json", b"{}"),
            (
                &format!("Content-Transfer-Encoding: binary\r\nX-Experience-API-Hash: {hash}"),
                b"other bytes",
            ),
        ]);
        let e = read("multipart/mixed; boundary=B", wrong)
            .await
            .unwrap_err();
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        for (headers, why) in [
            (
                format!("Content-Transfer-Encoding: base64\r\nX-Experience-API-Hash: {hash}"),
                "base64",
            ),
            (format!("X-Experience-API-Hash: {hash}"), "no encoding"),
            ("Content-Type: application/json".to_owned(), "second JSON"),
        ] {
            let b = body(&[("Content-Type: application/json", b"{}"), (&headers, text)]);
            let e = read("multipart/mixed; boundary=B", b).await.unwrap_err();
            assert_eq!(e.status, StatusCode::BAD_REQUEST, "{why}");
        }
        // The boundary of the specification's example, quoted, with its `=` and `:`.
        let spec = body(&[("Content-Type:application/json", b"[]")]);
        let boundary = "abcABC0123'()+_,-./:=?";
        let spec = Bytes::from(
            String::from_utf8(spec.to_vec())
                .unwrap()
                .replace("--B", &format!("--{boundary}")),
        );
        let m = read(&format!("multipart/mixed; boundary=\"{boundary}\""), spec)
            .await
            .unwrap();
        assert_eq!(&m.json[..], b"[]");

        let not_json = body(&[("Content-Type: text/plain", b"{}")]);
        assert!(read("multipart/mixed; boundary=B", not_json).await.is_err());
        let any = body(&[("Content-Type: application/json", b"{}")]);
        assert!(read("multipart/mixed", any).await.is_err());
    }

    #[tokio::test]
    async fn what_is_written_reads_back() {
        let part = Part {
            sha2: sha256_hex(b"abc"),
            content_type: "text/plain".into(),
            content: b"abc".to_vec(),
        };
        let resp = write(
            StatusCode::OK,
            &serde_json::json!({"a": 1}),
            std::slice::from_ref(&part),
        );
        let ct = resp.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .to_owned();
        let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .unwrap();
        let m = read(&ct, bytes).await.unwrap();
        assert_eq!(&m.json[..], br#"{"a":1}"#);
        assert_eq!(m.parts, vec![part]);
    }
}
