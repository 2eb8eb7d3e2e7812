//! Access tokens: short-lived EdDSA JWTs bound to one tenant, verified with only the configured
//! algorithm and key id.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ed25519_dalek::SigningKey;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::auth::secret::random_bytes;
use crate::{Error, OperatorId, PersonId, Result, TenantId};

/// The PKCS#8 DER prefix of an Ed25519 private key; the 32-byte seed follows it.
const PKCS8_ED25519_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

pub const LEEWAY_SECS: u64 = 30;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Subject {
    Person,
    Operator,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    pub sub: String,
    /// The issuing tenant; absent for platform operators.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tid: Option<String>,
    pub typ: Subject,
    /// The person's credential version when issued (see `people.token_version`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ver: Option<i32>,
    pub iat: u64,
    pub nbf: u64,
    pub exp: u64,
}

/// What a verified token says about its bearer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bearer {
    Person {
        tenant: TenantId,
        person: PersonId,
        version: i32,
    },
    Operator {
        operator: OperatorId,
    },
}

/// A public key that verifies tokens, by its key id.
struct VerifyingKey {
    kid: String,
    decoding: DecodingKey,
    public_x: String,
}

impl VerifyingKey {
    fn from_seed(seed: &[u8; 32]) -> Self {
        let public = SigningKey::from_bytes(seed).verifying_key().to_bytes();
        let public_x = URL_SAFE_NO_PAD.encode(public);
        // RFC 7638 thumbprint: the key id is derived from the key, so rotation changes it.
        let thumb_input = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{public_x}"}}"#);
        let kid = URL_SAFE_NO_PAD.encode(Sha256::digest(thumb_input.as_bytes()));
        Self {
            kid,
            decoding: DecodingKey::from_ed_der(&public),
            public_x,
        }
    }

    fn jwk(&self) -> serde_json::Value {
        serde_json::json!({ "kty": "OKP", "crv": "Ed25519", "x": self.public_x, "kid": self.kid, "alg": "EdDSA", "use": "sig" })
    }
}

/// The seed of an Ed25519 private key in PKCS#8 PEM, as `openssl genpkey -algorithm ed25519`
/// writes it.
fn seed_from_pem(pem: &str) -> Result<[u8; 32]> {
    let body: String = pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .map(str::trim)
        .collect::<Vec<_>>()
        .concat();
    let der = STANDARD
        .decode(body)
        .map_err(|_| Error::invalid("signing key", "is not a PEM file"))?;
    if der.len() != 48 || der[..16] != PKCS8_ED25519_PREFIX {
        return Err(Error::invalid(
            "signing key",
            "must be an Ed25519 private key in PKCS#8 PEM",
        ));
    }
    let mut seed = [0u8; 32];
    seed.copy_from_slice(&der[16..]);
    Ok(seed)
}

pub struct Keys {
    encoding: EncodingKey,
    /// The signing key's public half, then the previous keys still accepted during a rotation.
    verifying: Vec<VerifyingKey>,
    issuer: String,
    audience: String,
    access_ttl: Duration,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys")
            .field("kid", &self.kid())
            .finish_non_exhaustive()
    }
}

impl Keys {
    /// A PEM file as `openssl genpkey -algorithm ed25519` writes it.
    pub fn from_pem(pem: &str, issuer: &str, audience: &str, access_ttl: Duration) -> Result<Self> {
        Ok(Self::from_seed(
            seed_from_pem(pem)?,
            issuer,
            audience,
            access_ttl,
        ))
    }

    /// Adds a previous signing key: tokens it signed still verify (until they expire), and the
    /// JWKS still publishes it, but nothing new is signed with it.
    pub fn with_previous_pem(mut self, pem: &str) -> Result<Self> {
        let key = VerifyingKey::from_seed(&seed_from_pem(pem)?);
        if !self.verifying.iter().any(|k| k.kid == key.kid) {
            self.verifying.push(key);
        }
        Ok(self)
    }

    /// A new random key, as PEM, for development.
    pub fn generate_pem() -> Result<String> {
        let mut der = PKCS8_ED25519_PREFIX.to_vec();
        der.extend_from_slice(&random_bytes::<32>()?);
        let b64 = STANDARD.encode(der);
        Ok(format!(
            "-----BEGIN PRIVATE KEY-----\n{b64}\n-----END PRIVATE KEY-----\n"
        ))
    }

    fn from_seed(seed: [u8; 32], issuer: &str, audience: &str, access_ttl: Duration) -> Self {
        let mut der = PKCS8_ED25519_PREFIX.to_vec();
        der.extend_from_slice(&seed);
        Self {
            encoding: EncodingKey::from_ed_der(&der),
            verifying: vec![VerifyingKey::from_seed(&seed)],
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            access_ttl,
        }
    }

    /// The id of the key that signs.
    pub fn kid(&self) -> &str {
        self.verifying.first().map_or("", |k| k.kid.as_str())
    }

    pub fn access_ttl(&self) -> Duration {
        self.access_ttl
    }

    /// The public key set served at `/.well-known/jwks.json`.
    pub fn jwks(&self) -> serde_json::Value {
        let keys: Vec<serde_json::Value> = self.verifying.iter().map(VerifyingKey::jwk).collect();
        serde_json::json!({ "keys": keys })
    }

    pub fn issue(&self, bearer: Bearer, now: u64) -> Result<(String, u64)> {
        let exp = now + self.access_ttl.as_secs();
        let (sub, tid, typ, ver) = match bearer {
            Bearer::Person {
                tenant,
                person,
                version,
            } => (
                person.to_string(),
                Some(tenant.to_string()),
                Subject::Person,
                Some(version),
            ),
            Bearer::Operator { operator } => (operator.to_string(), None, Subject::Operator, None),
        };
        let claims = Claims {
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sub,
            tid,
            typ,
            ver,
            iat: now,
            nbf: now,
            exp,
        };
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid().to_owned());
        let token = jsonwebtoken::encode(&header, &claims, &self.encoding)
            .map_err(|e| Error::Internal(format!("signing a token: {e}")))?;
        Ok((token, exp))
    }

    /// Verifies signature, algorithm, key id, issuer, audience and times (30 s leeway).
    pub fn verify(&self, token: &str, now: u64) -> Result<Bearer> {
        self.verify_until(token, now).map(|(b, _)| b)
    }

    /// As [`Keys::verify`], with the token's expiry (Unix seconds): a long-lived connection
    /// (a subscription) ends there.
    pub fn verify_until(&self, token: &str, now: u64) -> Result<(Bearer, u64)> {
        let bad = || Error::Unauthenticated("invalid or expired token");
        let header = jsonwebtoken::decode_header(token).map_err(|_| bad())?;
        if header.alg != Algorithm::EdDSA {
            return Err(bad());
        }
        let key = header
            .kid
            .as_deref()
            .and_then(|kid| self.verifying.iter().find(|k| k.kid == kid))
            .ok_or_else(bad)?;
        let mut v = Validation::new(Algorithm::EdDSA);
        v.leeway = LEEWAY_SECS;
        v.validate_nbf = true;
        v.set_issuer(&[&self.issuer]);
        v.set_audience(&[&self.audience]);
        v.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        let data = jsonwebtoken::decode::<Claims>(token, &key.decoding, &v).map_err(|_| bad())?;
        let c = data.claims;
        if c.iat > now + LEEWAY_SECS {
            return Err(bad());
        }
        let bearer = match (c.typ, c.tid) {
            (Subject::Person, Some(tid)) => Bearer::Person {
                tenant: tid.parse().map_err(|_| bad())?,
                person: c.sub.parse().map_err(|_| bad())?,
                version: c.ver.ok_or_else(bad)?,
            },
            (Subject::Operator, None) => Bearer::Operator {
                operator: c.sub.parse().map_err(|_| bad())?,
            },
            _ => return Err(bad()),
        };
        Ok((bearer, c.exp))
    }
}

pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn keys() -> Keys {
        Keys::from_pem(
            &Keys::generate_pem().unwrap(),
            "spaces",
            "spaces-api",
            Duration::from_secs(900),
        )
        .unwrap()
    }

    #[test]
    fn round_trip_and_expiry() {
        let k = keys();
        let bearer = Bearer::Person {
            tenant: TenantId::new(),
            person: PersonId::new(),
            version: 0,
        };
        let (t, exp) = k.issue(bearer, 1_000_000).unwrap();
        assert_eq!(exp, 1_000_900);
        // jsonwebtoken checks exp against the real clock, so issue near now for the time checks.
        let now = unix_now();
        let (t2, _) = k.issue(bearer, now).unwrap();
        assert!(matches!(k.verify(&t2, now), Ok(Bearer::Person { .. })));
        assert!(k.verify(&t, now).is_err(), "expired long ago");
        let other = keys();
        assert!(other.verify(&t2, now).is_err(), "another key");
    }

    #[test]
    fn pem_round_trips() {
        let pem = Keys::generate_pem().unwrap();
        let a = Keys::from_pem(&pem, "i", "a", Duration::from_secs(60)).unwrap();
        let b = Keys::from_pem(&pem, "i", "a", Duration::from_secs(60)).unwrap();
        assert_eq!(a.kid(), b.kid());
        assert!(Keys::from_pem("garbage", "i", "a", Duration::from_secs(60)).is_err());
    }

    #[test]
    fn previous_keys_verify_and_are_published_but_never_sign() {
        let old_pem = Keys::generate_pem().unwrap();
        let old =
            Keys::from_pem(&old_pem, "spaces", "spaces-api", Duration::from_secs(900)).unwrap();
        let new = keys().with_previous_pem(&old_pem).unwrap();
        let bearer = Bearer::Operator {
            operator: OperatorId::new(),
        };
        let now = unix_now();
        let (by_old, _) = old.issue(bearer, now).unwrap();
        assert_eq!(new.verify(&by_old, now).unwrap(), bearer);
        let (by_new, _) = new.issue(bearer, now).unwrap();
        assert!(
            old.verify(&by_new, now).is_err(),
            "the old key never signs again"
        );
        let kids: Vec<String> = new.jwks()["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(kids, vec![new.kid().to_owned(), old.kid().to_owned()]);
    }
}
