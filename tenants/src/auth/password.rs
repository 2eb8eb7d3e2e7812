//! argon2id hashing off the async runtime, with a dummy hash for unknown accounts so the time a
//! sign-in takes tells nothing about whether the email exists.

use std::sync::LazyLock;

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::values::Password;
use crate::{Error, Result};

fn hasher() -> Result<Argon2<'static>> {
    // OWASP's first recommended argon2id setting: m=19 MiB, t=2, p=1.
    let params = Params::new(19_456, 2, 1, None)
        .map_err(|e| Error::Internal(format!("argon2 params: {e}")))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

static DUMMY_HASH: LazyLock<Option<String>> = LazyLock::new(|| {
    hasher()
        .ok()?
        .hash_password(b"not a password anybody has, only spent time")
        .ok()
        .map(|h| h.to_string())
});

pub async fn hash(password: Password) -> Result<String> {
    tokio::task::spawn_blocking(move || {
        hasher()?
            .hash_password(password.expose().as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| Error::Internal(format!("argon2 hash: {e}")))
    })
    .await
    .map_err(|e| Error::Internal(format!("hashing task: {e}")))?
}

/// Whether `password` matches `stored`; with no stored hash, spends the same time and says no.
pub async fn verify(password: String, stored: Option<String>) -> Result<bool> {
    tokio::task::spawn_blocking(move || {
        let (phc, real) = match stored {
            Some(s) => (s, true),
            None => (
                DUMMY_HASH
                    .clone()
                    .ok_or_else(|| Error::Internal("dummy hash unavailable".into()))?,
                false,
            ),
        };
        let parsed = PasswordHash::new(&phc)
            .map_err(|e| Error::Internal(format!("stored hash unreadable: {e}")))?;
        let ok = hasher()?
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        Ok(ok && real)
    })
    .await
    .map_err(|e| Error::Internal(format!("hashing task: {e}")))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_unknown_accounts_never_match() -> Result<()> {
        let h = hash(Password::parse("p", "correct horse battery")?).await?;
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify("correct horse battery".into(), Some(h.clone())).await?);
        assert!(!verify("wrong horse battery".into(), Some(h)).await?);
        assert!(!verify("not a password anybody has, only spent time".into(), None).await?);
        Ok(())
    }
}
