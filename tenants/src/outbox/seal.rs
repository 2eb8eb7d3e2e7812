//! Message payloads at rest: sealed with XChaCha20-Poly1305 under the deployment's outbox key.
//! The tenant and the message id are the associated data, so a sealed payload cannot be moved to
//! another row or another space. A random 192-bit nonce per message needs no counter shared
//! between gateways.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

use crate::auth::secret::random_bytes;
use crate::{Error, Result};

const VERSION: &str = "v1:";

pub struct OutboxKey(XChaCha20Poly1305);

impl std::fmt::Debug for OutboxKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OutboxKey(..)")
    }
}

impl OutboxKey {
    /// `SPACES_OUTBOX_KEY`: 32 bytes in standard base64.
    pub fn from_base64(raw: &str) -> Result<Self> {
        let bad = || Error::invalid("SPACES_OUTBOX_KEY", "must be 32 bytes in base64");
        let bytes = STANDARD.decode(raw.trim()).map_err(|_| bad())?;
        let key = XChaCha20Poly1305::new_from_slice(&bytes).map_err(|_| bad())?;
        if bytes.len() != 32 {
            return Err(bad());
        }
        Ok(Self(key))
    }

    /// A new random key, in the form `from_base64` reads.
    pub fn generate_base64() -> Result<String> {
        Ok(STANDARD.encode(random_bytes::<32>()?))
    }

    pub(crate) fn seal(&self, tenant: uuid::Uuid, id: uuid::Uuid, plain: &[u8]) -> Result<String> {
        self.seal_for(b"", tenant, id, plain)
    }

    pub(crate) fn open(&self, tenant: uuid::Uuid, id: uuid::Uuid, sealed: &str) -> Result<Vec<u8>> {
        self.open_for(b"", tenant, id, sealed)
    }

    /// Sealing for another kind of row (a credential signing key): the `purpose` is bound in
    /// beside the tenant and the id, so nothing sealed for one use opens as another.
    pub(crate) fn seal_for(
        &self,
        purpose: &[u8],
        tenant: uuid::Uuid,
        id: uuid::Uuid,
        plain: &[u8],
    ) -> Result<String> {
        let nonce_bytes = random_bytes::<24>()?;
        let nonce = XNonce::from(nonce_bytes);
        let aad = associated(purpose, tenant, id);
        let ct = self
            .0
            .encrypt(
                &nonce,
                Payload {
                    msg: plain,
                    aad: &aad,
                },
            )
            .map_err(|_| Error::Internal("sealing an outbox message failed".into()))?;
        let mut out = nonce_bytes.to_vec();
        out.extend_from_slice(&ct);
        Ok(format!("{VERSION}{}", STANDARD.encode(out)))
    }

    pub(crate) fn open_for(
        &self,
        purpose: &[u8],
        tenant: uuid::Uuid,
        id: uuid::Uuid,
        sealed: &str,
    ) -> Result<Vec<u8>> {
        let unreadable =
            || Error::Internal("an outbox message cannot be opened with this outbox key".into());
        let b64 = sealed.strip_prefix(VERSION).ok_or_else(unreadable)?;
        let raw = STANDARD.decode(b64).map_err(|_| unreadable())?;
        if raw.len() < 24 {
            return Err(unreadable());
        }
        let (n, ct) = raw.split_at(24);
        let mut nonce_bytes = [0u8; 24];
        nonce_bytes.copy_from_slice(n);
        let aad = associated(purpose, tenant, id);
        self.0
            .decrypt(&XNonce::from(nonce_bytes), Payload { msg: ct, aad: &aad })
            .map_err(|_| unreadable())
    }
}

/// Tenant, id, then the purpose (none for outbox messages, as they were first sealed).
fn associated(purpose: &[u8], tenant: uuid::Uuid, id: uuid::Uuid) -> Vec<u8> {
    let mut aad = Vec::with_capacity(32 + purpose.len());
    aad.extend_from_slice(tenant.as_bytes());
    aad.extend_from_slice(id.as_bytes());
    aad.extend_from_slice(purpose);
    aad
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_and_opens_only_in_its_row() -> Result<()> {
        let k = OutboxKey::from_base64(&OutboxKey::generate_base64()?)?;
        let (t, id) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
        let s = k.seal(t, id, b"secret token")?;
        assert!(!s.contains("secret"));
        assert_eq!(k.open(t, id, &s)?, b"secret token");
        assert!(k.open(t, uuid::Uuid::now_v7(), &s).is_err(), "another row");
        let other = OutboxKey::from_base64(&OutboxKey::generate_base64()?)?;
        assert!(other.open(t, id, &s).is_err(), "another key");
        assert!(OutboxKey::from_base64("c2hvcnQ=").is_err());
        let key = k.seal_for(b"credential-key", t, id, b"pkcs8")?;
        assert_eq!(k.open_for(b"credential-key", t, id, &key)?, b"pkcs8");
        assert!(k.open(t, id, &key).is_err(), "another purpose");
        Ok(())
    }
}
