//! The credential itself: an Open Badges 3.0 `OpenBadgeCredential` (a W3C Verifiable
//! Credential 2.0) with the transcript the Common Microcredential Framework asks for. Pure:
//! facts in, JSON out, so every field is tested without a database.
//!
//! OB 3.0 fields carry what they can: `creditsAvailable`/`creditsEarned` (ECTS), `alignment`
//! (ESCO skills, the EQF level as Europass's EQF concept), `criteria` (the required modules),
//! `result` (the grade), `activityEndDate` (completion), `identifier` (the salted hash of the
//! email). The rest is the documented `cmf` extension on the achievement and
//! `identityVerified` on the subject; the VC 2.0 context's `@vocab` gives them IRIs.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::catalogue::Assessment;
use crate::pathways::cmf::{format_ects, format_hours};

pub const VC_CONTEXT: &str = "https://www.w3.org/ns/credentials/v2";
pub const OB_CONTEXT: &str = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json";
/// The achievement's one result description: the grade, a percentage.
const GRADE: &str = "urn:spaces:result:grade-percent";
/// Europass's EQF levels, as URIs an alignment can point to.
const EQF_URI: &str = "http://data.europa.eu/snb/eqf/";

/// The URLs of a space's credentials, on its host.
#[derive(Clone, Debug)]
pub struct Urls {
    /// `https://campus.example.org`, no trailing slash.
    pub origin: String,
}

impl Urls {
    pub fn issuer(&self) -> String {
        format!("{}/issuer", self.origin)
    }
    pub fn credential(&self, id: uuid::Uuid) -> String {
        format!("{}/credentials/{id}", self.origin)
    }
    pub fn key(&self, id: uuid::Uuid) -> String {
        format!("{}/credentials/keys/{id}", self.origin)
    }
    pub fn status_list(&self, list: i32) -> String {
        format!("{}/credentials/status/{list}", self.origin)
    }
    pub fn verify(&self, id: uuid::Uuid) -> String {
        format!("{}/verify/{id}", self.origin)
    }
    pub fn logo(&self) -> String {
        format!("{}/logo", self.origin)
    }
}

/// The space as issuer.
#[derive(Clone, Debug)]
pub struct IssuerFacts {
    pub name: String,
    pub email: Option<String>,
    pub has_logo: bool,
}

/// An edition's course, or a pathway's courses taken together.
#[derive(Clone, Debug)]
pub struct AchievementFacts {
    /// `urn:uuid:` of the edition or pathway: the same achievement for every learner.
    pub id: String,
    pub pathway: bool,
    pub microcredential: bool,
    pub name: String,
    pub description: String,
    pub language: Option<String>,
    /// The required modules (an edition) or editions (a pathway), in order.
    pub criteria: Vec<String>,
    pub outcomes: Vec<String>,
    /// ESCO skill URI and label.
    pub skills: Vec<(String, String)>,
    pub ects_halves: i64,
    pub study_minutes: i64,
    /// Each level once, lowest first.
    pub eqf_levels: Vec<i32>,
    pub assessment: Assessment,
    /// The course provider(s).
    pub providers: Vec<String>,
}

/// One learner's credential, as issued.
#[derive(Clone, Debug)]
pub struct CredentialFacts {
    pub id: uuid::Uuid,
    pub key: uuid::Uuid,
    pub status_list: i32,
    pub status_index: i32,
    /// Stable and non-personal: see [`subject_id`].
    pub subject: String,
    pub email: String,
    pub salt: String,
    pub grade: Option<f64>,
    pub identity_verified: bool,
    pub completed_at: DateTime<Utc>,
    pub issued_at: DateTime<Utc>,
    pub valid_until: Option<DateTime<Utc>>,
}

/// The learner's subject id: a name-based UUID of the space and the person, so it is the same
/// on every credential of theirs in the space and says nothing about them.
pub fn subject_id(tenant: uuid::Uuid, person: uuid::Uuid) -> String {
    let mut h = Sha256::new();
    h.update(b"spaces credential subject\0");
    h.update(tenant.as_bytes());
    h.update(person.as_bytes());
    let d = h.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&d[..16]);
    // Version 8 (custom) with the RFC 9562 variant.
    bytes[6] = (bytes[6] & 0x0f) | 0x80;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    format!("urn:uuid:{}", uuid::Uuid::from_bytes(bytes))
}

/// OB 3.0's IdentityHash: `sha256$` and the hex digest of the lower-cased email and the salt.
pub fn identity_hash(email: &str, salt: &str) -> String {
    let mut h = Sha256::new();
    h.update(email.trim().to_lowercase().as_bytes());
    h.update(salt.as_bytes());
    let hex: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256${hex}")
}

pub fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn assessment_code(a: Assessment) -> &'static str {
    match a {
        Assessment::None => "none",
        Assessment::OnlineUnverified => "online-unverified",
        Assessment::IdVerifiedSummative => "id-verified-summative",
    }
}

/// The space's `Profile`: what the issuer URL serves, and the credential's `issuer`.
pub fn profile(urls: &Urls, issuer: &IssuerFacts) -> Value {
    let mut p = json!({
        "id": urls.issuer(),
        "type": ["Profile"],
        "name": issuer.name,
        "url": urls.origin,
    });
    if let Some(e) = &issuer.email {
        p["email"] = json!(e);
    }
    if issuer.has_logo {
        p["image"] = json!({ "id": urls.logo(), "type": "Image", "caption": issuer.name });
    }
    p
}

fn achievement(a: &AchievementFacts, issuer: &Value) -> Value {
    let mut alignment: Vec<Value> = a
        .skills
        .iter()
        .map(|(uri, label)| {
            json!({
                "type": ["Alignment"],
                "targetName": label,
                "targetUrl": uri,
                "targetFramework": "ESCO",
                "targetType": "ext:ESCOSkill",
            })
        })
        .collect();
    for level in &a.eqf_levels {
        alignment.push(json!({
            "type": ["Alignment"],
            "targetName": format!("EQF level {level}"),
            "targetUrl": format!("{EQF_URI}{level}"),
            "targetCode": level.to_string(),
            "targetFramework": "European Qualifications Framework",
            "targetType": "ext:EQFLevel",
        }));
    }
    let narrative = a
        .criteria
        .iter()
        .map(|c| format!("- {c}"))
        .collect::<Vec<_>>()
        .join("\n");
    let what = if a.pathway { "editions" } else { "modules" };
    let achievement_type = match (a.pathway, a.microcredential) {
        (_, true) => "MicroCredential",
        (true, false) => "LearningProgram",
        (false, false) => "CertificateOfCompletion",
    };
    let mut v = json!({
        "id": a.id,
        "type": ["Achievement"],
        "achievementType": achievement_type,
        "name": a.name,
        "description": a.description,
        "criteria": { "narrative": format!("Completed every required {}:\n{narrative}", &what[..what.len() - 1]) },
        "creator": issuer,
        "creditsAvailable": a.ects_halves as f64 / 2.0,
        "resultDescription": [{
            "id": GRADE,
            "type": ["ResultDescription"],
            "name": "Grade",
            "resultType": "Percent",
            "valueMin": "0",
            "valueMax": "100",
        }],
        "cmf": {
            "studyHours": a.study_minutes as f64 / 60.0,
            "studyLoad": format_hours(a.study_minutes),
            "ects": a.ects_halves as f64 / 2.0,
            "ectsText": format_ects(a.ects_halves),
            "eqfLevels": a.eqf_levels,
            "assessmentType": assessment_code(a.assessment),
            "learningOutcomes": a.outcomes,
            "providers": a.providers,
            "microcredential": a.microcredential,
        },
    });
    if !alignment.is_empty() {
        v["alignment"] = json!(alignment);
    }
    if let Some(l) = &a.language {
        v["inLanguage"] = json!(l);
    }
    v
}

/// The credential's payload as signed: the OpenBadgeCredential with its JWT claims (`iss`,
/// `jti`, `nbf`, `sub`, and `exp` when it has `validUntil`), as OB 3.0 §8.2 lays them out.
pub fn credential(
    urls: &Urls,
    issuer: &IssuerFacts,
    a: &AchievementFacts,
    c: &CredentialFacts,
) -> Value {
    let profile = profile(urls, issuer);
    let list = urls.status_list(c.status_list);
    let mut subject = json!({
        "id": c.subject,
        "type": ["AchievementSubject"],
        "identifier": [{
            "type": "IdentityObject",
            "identityHash": identity_hash(&c.email, &c.salt),
            "identityType": "emailAddress",
            "hashed": true,
            "salt": c.salt,
        }],
        "achievement": achievement(a, &profile),
        "activityEndDate": time(c.completed_at),
        "creditsEarned": a.ects_halves as f64 / 2.0,
        "identityVerified": c.identity_verified,
    });
    if let Some(g) = c.grade {
        subject["result"] = json!([{
            "type": ["Result"],
            "value": format!("{g}"),
            "resultDescription": GRADE,
            "status": "Completed",
        }]);
    }
    let id = urls.credential(c.id);
    let mut v = json!({
        "@context": [VC_CONTEXT, OB_CONTEXT],
        "id": id,
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": a.name,
        "issuer": profile,
        "validFrom": time(c.issued_at),
        "credentialSubject": subject,
        "credentialStatus": {
            "id": format!("{list}#{}", c.status_index),
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": c.status_index.to_string(),
            "statusListCredential": list,
        },
        "iss": urls.issuer(),
        "jti": id,
        "nbf": c.issued_at.timestamp(),
        "sub": c.subject,
    });
    if let Some(until) = c.valid_until {
        v["validUntil"] = json!(time(until));
        v["exp"] = json!(until.timestamp());
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subject_ids_are_stable_per_space_and_person() {
        let (t, p) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
        let a = subject_id(t, p);
        assert_eq!(a, subject_id(t, p));
        assert_ne!(a, subject_id(uuid::Uuid::now_v7(), p), "another space");
        assert!(a.starts_with("urn:uuid:") && !a.contains(&p.to_string()));
        assert!(uuid::Uuid::parse_str(&a["urn:uuid:".len()..]).is_ok());
    }

    #[test]
    fn identity_hash_is_obs_example() {
        // OB 3.0's own example: "a@example.com" salted with "Kosher".
        assert_eq!(
            identity_hash("a@example.com", "Kosher"),
            "sha256$b5809d8a92f8858436d7e6b87c12ebc0ae1eac4baecc2c0b913aee2c922ef399"
        );
    }
}
