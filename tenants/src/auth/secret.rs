//! Opaque secrets (refresh tokens, invitation tokens): 256 random bits shown once, stored only
//! as a SHA-256 digest, so a database leak reveals no usable token.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use crate::{Error, Result};

pub fn random_bytes<const N: usize>() -> Result<[u8; N]> {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf)
        .map_err(|e| Error::Internal(format!("system randomness failed: {e}")))?;
    Ok(buf)
}

/// A new secret token, URL-safe, 43 characters.
pub fn new_token() -> Result<String> {
    Ok(URL_SAFE_NO_PAD.encode(random_bytes::<32>()?))
}

/// The stored form of a token.
pub fn digest(token: &str) -> String {
    let d = Sha256::digest(token.as_bytes());
    let mut out = String::with_capacity(64);
    for b in d {
        out.push_str(&format!("{b:02x}"));
    }
    out
}
