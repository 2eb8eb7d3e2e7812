//! Revocation as a W3C Bitstring Status List (v1.0): each credential holds a random index in
//! one of its space's lists; a revoked credential's bit is 1. The list is gzip-compressed,
//! base64url without padding, with the multibase prefix `u`; at least 16 KiB uncompressed
//! (131,072 entries), so a list does not tell which few credentials exist.

use std::io::{Read, Write};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::{Error, Result};

/// Entries per list: the specification's minimum.
pub const LIST_SIZE: i32 = 131_072;

/// The `encodedList` of a list whose set bits are `revoked` (indexes outside are ignored).
pub fn encode(revoked: &[i32]) -> Result<String> {
    let mut bits = vec![0u8; (LIST_SIZE / 8) as usize];
    for &i in revoked {
        if (0..LIST_SIZE).contains(&i) {
            // Index 0 is the left-most bit of the first byte.
            bits[(i / 8) as usize] |= 0x80 >> (i % 8);
        }
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&bits)
        .and_then(|()| gz.finish())
        .map(|bytes| format!("u{}", URL_SAFE_NO_PAD.encode(bytes)))
        .map_err(|e| Error::Internal(format!("compressing a status list: {e}")))
}

/// Whether bit `index` is set in an `encodedList`; `None` when it is not a list at all or too
/// short for the index. Verifiers do exactly this.
pub fn is_set(encoded: &str, index: i32) -> Option<bool> {
    let raw = URL_SAFE_NO_PAD.decode(encoded.strip_prefix('u')?).ok()?;
    let mut bits = Vec::new();
    // A list is 16 KiB; refuse to inflate anything much larger.
    flate2::read::GzDecoder::new(&raw[..])
        .take(1 << 20)
        .read_to_end(&mut bits)
        .ok()?;
    let i = usize::try_from(index).ok()?;
    let byte = bits.get(i / 8)?;
    Some(byte & (0x80 >> (i % 8)) != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_are_where_the_specification_puts_them() -> Result<()> {
        let list = encode(&[0, 7, 94_567, LIST_SIZE - 1, LIST_SIZE, -1])?;
        assert!(
            list.starts_with("uH4sI"),
            "multibase u + gzip magic: {list}"
        );
        for i in [0, 7, 94_567, LIST_SIZE - 1] {
            assert_eq!(is_set(&list, i), Some(true), "{i}");
        }
        for i in [1, 8, 94_566, 94_568] {
            assert_eq!(is_set(&list, i), Some(false), "{i}");
        }
        assert_eq!(is_set(&list, LIST_SIZE), None, "past the end");
        let raw = URL_SAFE_NO_PAD
            .decode(&list[1..])
            .map_err(|e| Error::Internal(e.to_string()))?;
        let mut bits = Vec::new();
        flate2::read::GzDecoder::new(&raw[..])
            .read_to_end(&mut bits)
            .map_err(|e| Error::Internal(e.to_string()))?;
        assert_eq!(bits.len(), 16 * 1024);
        assert_eq!(bits[0], 0b1000_0001);
        assert_eq!(is_set("not a list", 0), None);
        Ok(())
    }
}
