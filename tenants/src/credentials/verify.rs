//! Verification, as a relying party would do it: the signature by the key the `kid` names (a
//! key of this space, on this space's host), the JWT claims against the credential they repeat,
//! the validity period, and the revocation status. A stored credential goes through the same
//! checks as one a holder presents; only a presented one can be a tampered copy.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::document::Urls;
use super::records::{self, Certificate};
use super::signing::{self, Refused};
use super::{keys, status};
use crate::{CredentialId, CredentialKeyId, Result, TenantTx};

/// Why a credential does not verify.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// No credential of this space by that id.
    NotFound,
    /// Not a compact JWS.
    Malformed,
    /// Not RS256 with `kid` and `typ` JWT only.
    Header,
    /// Its key or issuer belongs to another host than this space's.
    OtherSpace,
    /// Its `kid` names no key of this space.
    UnknownKey,
    /// Tampered, or signed by another key.
    Signature,
    /// The JWT claims do not repeat the credential (`iss`, `jti`, `sub`, `nbf`, `exp`).
    Claims,
    NotYetValid,
    Expired,
    Revoked,
}

impl Failure {
    pub fn code(self) -> &'static str {
        match self {
            Failure::NotFound => "NOT_FOUND",
            Failure::Malformed => "MALFORMED",
            Failure::Header => "BAD_HEADER",
            Failure::OtherSpace => "OTHER_ISSUER",
            Failure::UnknownKey => "UNKNOWN_KEY",
            Failure::Signature => "BAD_SIGNATURE",
            Failure::Claims => "CLAIMS_MISMATCH",
            Failure::NotYetValid => "NOT_YET_VALID",
            Failure::Expired => "EXPIRED",
            Failure::Revoked => "REVOKED",
        }
    }

    /// In English, for JSON answers; the HTML page words it in the space's language.
    pub fn reason(self) -> &'static str {
        match self {
            Failure::NotFound => "no credential with this id was issued by this space",
            Failure::Malformed => "this is not a signed credential (a compact JWS)",
            Failure::Header => "the signature header is not RS256 with a kid and typ JWT only",
            Failure::OtherSpace => "this credential was not issued by this space",
            Failure::UnknownKey => "the signing key is not one this space publishes",
            Failure::Signature => {
                "the signature does not match: the credential was altered or signed by another key"
            }
            Failure::Claims => "the JWT claims do not match the credential they sign",
            Failure::NotYetValid => "the credential is not valid yet",
            Failure::Expired => "the credential has expired",
            Failure::Revoked => "the issuer revoked this credential",
        }
    }
}

/// What verification found.
#[derive(Clone, Debug)]
pub struct Verdict {
    pub failure: Option<Failure>,
    /// The payload, once its signature checked out.
    pub credential: Option<Value>,
    /// The space's record of it, when it has one.
    pub record: Option<Certificate>,
}

impl Verdict {
    pub fn valid(&self) -> bool {
        self.failure.is_none()
    }

    fn failed(f: Failure) -> Self {
        Verdict {
            failure: Some(f),
            credential: None,
            record: None,
        }
    }
}

/// A stored credential of this space, by id: the checks run on its signed JWT.
pub async fn stored(
    tx: &TenantTx,
    urls: &Urls,
    id: CredentialId,
    now: DateTime<Utc>,
) -> Result<Verdict> {
    match records::find(tx, id).await? {
        Some(c) => presented(tx, urls, &c.jwt, now).await,
        None => Ok(Verdict::failed(Failure::NotFound)),
    }
}

/// A VC-JWT a holder presents.
pub async fn presented(
    tx: &TenantTx,
    urls: &Urls,
    jwt: &str,
    now: DateTime<Utc>,
) -> Result<Verdict> {
    let refused = |r: Refused| {
        Verdict::failed(match r {
            Refused::Malformed => Failure::Malformed,
            Refused::Header => Failure::Header,
            Refused::Signature => Failure::Signature,
        })
    };
    let kid = match signing::kid_of(jwt.trim()) {
        Ok(k) => k,
        Err(r) => return Ok(refused(r)),
    };
    let prefix = urls.key(uuid::Uuid::nil());
    let prefix = &prefix[..prefix.len() - uuid::Uuid::nil().to_string().len()];
    let Some(key_id) = kid.strip_prefix(prefix) else {
        return Ok(Verdict::failed(Failure::OtherSpace));
    };
    let Ok(key_id) = key_id.parse::<CredentialKeyId>() else {
        return Ok(Verdict::failed(Failure::UnknownKey));
    };
    let Some(key) = keys::get(tx, key_id).await? else {
        return Ok(Verdict::failed(Failure::UnknownKey));
    };
    let (_, payload) = match key.public.verify(jwt.trim()) {
        Ok(v) => v,
        Err(r) => return Ok(refused(r)),
    };
    let mut verdict = Verdict {
        failure: None,
        credential: Some(payload.clone()),
        record: None,
    };
    let id = payload["id"].as_str().unwrap_or_default();
    let record_id = id
        .strip_prefix(&format!("{}/credentials/", urls.origin))
        .and_then(|s| s.parse::<CredentialId>().ok());
    if payload["issuer"]["id"] != urls.issuer()
        || payload["iss"] != urls.issuer()
        || record_id.is_none()
    {
        verdict.failure = Some(Failure::OtherSpace);
        return Ok(verdict);
    }
    if !claims_match(&payload) {
        verdict.failure = Some(Failure::Claims);
        return Ok(verdict);
    }
    verdict.record = match record_id {
        Some(r) => records::find(tx, r).await?,
        None => None,
    };
    let Some(record) = &verdict.record else {
        verdict.failure = Some(Failure::NotFound);
        return Ok(verdict);
    };
    let now_s = now.timestamp();
    verdict.failure = if payload["nbf"].as_i64().is_some_and(|nbf| now_s < nbf) {
        Some(Failure::NotYetValid)
    } else if payload["exp"].as_i64().is_some_and(|exp| now_s >= exp) {
        Some(Failure::Expired)
    } else if record.key != key_id.uuid() || record.jwt != jwt.trim() {
        // The space signed each credential once: a copy that differs from it, or names another
        // of its keys (a retired one, say), is not what the space issued.
        Some(Failure::Signature)
    } else if revoked(tx, &payload, record).await? {
        Some(Failure::Revoked)
    } else {
        None
    };
    Ok(verdict)
}

/// OB 3.0 §8.2: `iss`, `jti`, `nbf`, `sub` (and `exp` with `validUntil`) repeat the credential.
fn claims_match(p: &Value) -> bool {
    let seconds = |field: &str| {
        p[field]
            .as_str()
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
            .map(|t| t.timestamp())
    };
    let exp_ok = match (&p["validUntil"], &p["exp"]) {
        (Value::Null, Value::Null) => true,
        (_, exp) => seconds("validUntil").is_some() && exp.as_i64() == seconds("validUntil"),
    };
    p["jti"] == p["id"]
        && p["sub"].is_string()
        && p["sub"] == p["credentialSubject"]["id"]
        && seconds("validFrom").is_some()
        && p["nbf"].as_i64() == seconds("validFrom")
        && exp_ok
}

/// Revoked as the status list the credential names publishes it.
async fn revoked(tx: &TenantTx, payload: &Value, record: &Certificate) -> Result<bool> {
    let s = &payload["credentialStatus"];
    let index = s["statusListIndex"]
        .as_str()
        .and_then(|i| i.parse::<i32>().ok())
        .unwrap_or(record.status_index);
    let list = records::revoked_in(tx, record.status_list).await?;
    let encoded = status::encode(&list)?;
    Ok(status::is_set(&encoded, index).unwrap_or(true) || record.revoked_at.is_some())
}
