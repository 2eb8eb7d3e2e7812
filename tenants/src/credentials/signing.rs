//! Signing credentials as VC-JWTs, as Open Badges 3.0 (§8.2) asks: the credential itself is
//! the JWT's payload, the header is `alg` RS256 (which every verifier supports), the `kid` URL
//! of the public key and `typ` JWT, and nothing else.
//!
//! RSA runs on aws-lc-rs, whose private-key operations are blinded and constant-time; never on
//! the `rsa` crate (RUSTSEC-2023-0071). Keys are 3072 bits: credentials stay valid for years.

use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    self, KeyPair as _, RSA_PKCS1_SHA256, RsaKeyPair, RsaPublicKeyComponents,
};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use crate::{Error, Result};

/// A space's credential signing key (the private half).
pub struct SigningKey {
    pair: RsaKeyPair,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKey(RSA)")
    }
}

/// The public half, as a JWK's `n` and `e` (big-endian, base64url).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicKey {
    pub n: String,
    pub e: String,
}

/// Why a presented VC-JWT is refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("not a compact JWS of three base64url parts")]
    Malformed,
    #[error("the header is not RS256 with a kid and typ JWT and nothing else")]
    Header,
    #[error("the signature does not match this key")]
    Signature,
}

impl SigningKey {
    /// A new key, and its PKCS#8 encoding to keep (sealed) so the space signs with it again.
    pub fn generate() -> Result<(SigningKey, Vec<u8>)> {
        let pair = RsaKeyPair::generate(KeySize::Rsa3072)
            .map_err(|_| Error::Internal("RSA key generation failed".into()))?;
        let der: Pkcs8V1Der<'static> = AsDer::<Pkcs8V1Der>::as_der(&pair)
            .map_err(|_| Error::Internal("RSA key encoding failed".into()))?;
        let der = der.as_ref().to_vec();
        Ok((SigningKey { pair }, der))
    }

    pub fn from_pkcs8(der: &[u8]) -> Result<SigningKey> {
        let pair = RsaKeyPair::from_pkcs8(der)
            .map_err(|e| Error::Internal(format!("stored credential key unreadable: {e}")))?;
        Ok(SigningKey { pair })
    }

    pub fn public(&self) -> PublicKey {
        let c = RsaPublicKeyComponents::<Vec<u8>>::from(self.pair.public_key());
        PublicKey {
            n: URL_SAFE_NO_PAD.encode(&c.n),
            e: URL_SAFE_NO_PAD.encode(&c.e),
        }
    }

    /// The compact JWS of `payload` (the credential with its JWT claims).
    pub fn sign(&self, kid: &str, payload: &Value) -> Result<String> {
        let header = json!({ "alg": "RS256", "kid": kid, "typ": "JWT" });
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(payload.to_string())
        );
        let mut sig = vec![0; self.pair.public_modulus_len()];
        self.pair
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                input.as_bytes(),
                &mut sig,
            )
            .map_err(|_| Error::Internal("RSA signing failed".into()))?;
        Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig)))
    }
}

impl PublicKey {
    /// The JWK a `kid` URL serves: never the private parts.
    pub fn jwk(&self, kid: &str) -> Value {
        json!({ "kty": "RSA", "alg": "RS256", "use": "sig", "kid": kid, "n": self.n, "e": self.e })
    }

    /// The header's `kid` and the payload of a VC-JWT this key signed.
    pub fn verify(&self, jwt: &str) -> std::result::Result<(String, Value), Refused> {
        let (header, kid, payload, input, sig) = parts(jwt)?;
        if header.as_object().map(|h| h.len()) != Some(3)
            || header["alg"] != "RS256"
            || header["typ"] != "JWT"
        {
            return Err(Refused::Header);
        }
        let (Ok(n), Ok(e)) = (
            URL_SAFE_NO_PAD.decode(&self.n),
            URL_SAFE_NO_PAD.decode(&self.e),
        ) else {
            return Err(Refused::Signature);
        };
        RsaPublicKeyComponents { n, e }
            .verify(
                &signature::RSA_PKCS1_2048_8192_SHA256,
                input.as_bytes(),
                &sig,
            )
            .map_err(|_| Refused::Signature)?;
        Ok((kid, payload))
    }
}

/// The payload of a VC-JWT, unchecked: for showing a credential this space signed and stored.
pub fn payload_of(jwt: &str) -> std::result::Result<Value, Refused> {
    parts(jwt).map(|(_, _, payload, ..)| payload)
}

/// The `kid` a VC-JWT names (to find its key before checking it).
pub fn kid_of(jwt: &str) -> std::result::Result<String, Refused> {
    parts(jwt).map(|(_, kid, ..)| kid)
}

type Parts<'a> = (Value, String, Value, &'a str, Vec<u8>);

fn parts(jwt: &str) -> std::result::Result<Parts<'_>, Refused> {
    let mut it = jwt.split('.');
    let (Some(h), Some(p), Some(s), None) = (it.next(), it.next(), it.next(), it.next()) else {
        return Err(Refused::Malformed);
    };
    let json = |b64: &str| -> std::result::Result<Value, Refused> {
        let bytes = URL_SAFE_NO_PAD
            .decode(b64)
            .map_err(|_| Refused::Malformed)?;
        serde_json::from_slice(&bytes).map_err(|_| Refused::Malformed)
    };
    let header = json(h)?;
    let payload = json(p)?;
    let sig = URL_SAFE_NO_PAD.decode(s).map_err(|_| Refused::Malformed)?;
    let kid = header["kid"].as_str().ok_or(Refused::Header)?.to_owned();
    let input = &jwt[..h.len() + 1 + p.len()];
    Ok((header, kid, payload, input, sig))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims() -> Value {
        json!({ "@context": ["https://www.w3.org/ns/credentials/v2"], "id": "urn:uuid:1", "iss": "https://a.example/issuer" })
    }

    #[test]
    fn signs_and_verifies_with_exactly_the_ob3_header() {
        let (key, der) = SigningKey::generate().unwrap();
        let public = key.public();
        let jwt = key.sign("https://a.example/keys/1", &claims()).unwrap();
        let (kid, payload) = public.verify(&jwt).unwrap();
        assert_eq!(kid, "https://a.example/keys/1");
        assert_eq!(payload, claims());
        let header: Value = serde_json::from_slice(
            &URL_SAFE_NO_PAD
                .decode(jwt.split('.').next().unwrap())
                .unwrap(),
        )
        .unwrap();
        assert_eq!(
            header,
            json!({ "alg": "RS256", "kid": "https://a.example/keys/1", "typ": "JWT" })
        );
        // The stored key signs again under the same public key, and the JWK has no private part.
        let again = SigningKey::from_pkcs8(&der).unwrap();
        assert_eq!(again.public(), public);
        let jwk = public.jwk("k");
        assert_eq!(
            jwk.as_object().unwrap().keys().collect::<Vec<_>>(),
            ["alg", "e", "kid", "kty", "n", "use"]
        );
        assert_eq!(URL_SAFE_NO_PAD.decode(&public.n).unwrap().len(), 384);
    }

    #[test]
    fn refuses_tampering_other_keys_and_other_headers() {
        let (key, _) = SigningKey::generate().unwrap();
        let (other, _) = SigningKey::generate().unwrap();
        let jwt = key.sign("k", &claims()).unwrap();
        let [h, _, s]: [&str; 3] = jwt.split('.').collect::<Vec<_>>().try_into().unwrap();
        let forged = URL_SAFE_NO_PAD.encode(json!({ "id": "urn:uuid:2" }).to_string());
        assert_eq!(
            key.public().verify(&format!("{h}.{forged}.{s}")),
            Err(Refused::Signature)
        );
        assert_eq!(other.public().verify(&jwt), Err(Refused::Signature));
        assert_eq!(key.public().verify("a.b"), Err(Refused::Malformed));
        assert_eq!(
            key.public().verify(&format!("{jwt}.x")),
            Err(Refused::Malformed)
        );
        // alg none, or an extra header, is refused before any signature is looked at.
        let none = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","kid":"k","typ":"JWT"}"#);
        let (_, rest) = jwt.split_once('.').unwrap();
        assert_eq!(
            key.public().verify(&format!("{none}.{rest}")),
            Err(Refused::Header)
        );
        let extra = URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256","kid":"k","typ":"JWT","jku":"x"}"#);
        assert_eq!(
            key.public().verify(&format!("{extra}.{rest}")),
            Err(Refused::Header)
        );
        assert_eq!(kid_of(&jwt).unwrap(), "k");
    }

    #[test]
    fn a_second_implementation_accepts_the_signature() {
        let (key, _) = SigningKey::generate().unwrap();
        let jwt = key.sign("k", &claims()).unwrap();
        let (input, sig) = jwt.rsplit_once('.').unwrap();
        let public = key.public();
        let ring_key = ring::signature::RsaPublicKeyComponents {
            n: URL_SAFE_NO_PAD.decode(&public.n).unwrap(),
            e: URL_SAFE_NO_PAD.decode(&public.e).unwrap(),
        };
        let sig = URL_SAFE_NO_PAD.decode(sig).unwrap();
        ring_key
            .verify(
                &ring::signature::RSA_PKCS1_2048_8192_SHA256,
                input.as_bytes(),
                &sig,
            )
            .expect("ring verifies what aws-lc-rs signed");
        assert!(
            ring_key
                .verify(
                    &ring::signature::RSA_PKCS1_2048_8192_SHA256,
                    b"other input",
                    &sig
                )
                .is_err()
        );
    }
}
