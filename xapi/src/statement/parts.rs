//! The optional parts of a statement: result (2.4.5), context (2.4.6), authority (2.4.9),
//! version (2.4.10) and attachments (2.4.11).

use serde_json::Value;

use super::activity::activity;
use super::{AttachmentRef, statement_ref};
use crate::agent::{self, Actor, Place};
use crate::values::{
    array, boolean, extensions, index, iri, kind, language_map, language_tag, number, object, only,
    required, string, uuid_value,
};
use crate::{Invalid, Result, duration, join};

const RESULT_KEYS: &[&str] = &[
    "score",
    "success",
    "completion",
    "response",
    "duration",
    "extensions",
];
const CONTEXT_KEYS: &[&str] = &[
    "registration",
    "instructor",
    "team",
    "contextActivities",
    "revision",
    "platform",
    "language",
    "statement",
    "extensions",
];
const CONTEXT_ACTIVITY_KEYS: &[&str] = &["parent", "grouping", "category", "other"];
const ATTACHMENT_KEYS: &[&str] = &[
    "usageType",
    "display",
    "description",
    "contentType",
    "length",
    "sha2",
    "fileUrl",
];

pub fn result(v: &Value, path: &str) -> Result<()> {
    let map = object(v, path)?;
    only(map, path, RESULT_KEYS)?;
    if let Some(s) = map.get("score") {
        score(s, &join(path, "score"))?;
    }
    for key in ["success", "completion"] {
        if let Some(b) = map.get(key) {
            boolean(b, &join(path, key))?;
        }
    }
    if let Some(r) = map.get("response") {
        string(r, &join(path, "response"))?;
    }
    if let Some(d) = map.get("duration") {
        let p = join(path, "duration");
        duration::check(string(d, &p)?, &p)?;
    }
    if let Some(e) = map.get("extensions") {
        extensions(e, &join(path, "extensions"))?;
    }
    Ok(())
}

/// `scaled` within [-1, 1]; `min` below `max`; `raw` between them, inclusive, when they are given.
fn score(v: &Value, path: &str) -> Result<()> {
    let map = object(v, path)?;
    only(map, path, &["scaled", "raw", "min", "max"])?;
    let get = |key: &str| {
        map.get(key)
            .map(|n| number(n, &join(path, key)))
            .transpose()
    };
    let scaled = get("scaled")?;
    let raw = get("raw")?;
    let min = get("min")?;
    let max = get("max")?;
    if let Some(s) = scaled
        && !(-1.0..=1.0).contains(&s)
    {
        return Err(Invalid::new(
            join(path, "scaled"),
            "must be between -1 and 1, inclusive",
        ));
    }
    if let (Some(lo), Some(hi)) = (min, max)
        && lo >= hi
    {
        return Err(Invalid::new(join(path, "min"), "must be less than max"));
    }
    if let Some(r) = raw {
        if min.is_some_and(|lo| r < lo) {
            return Err(Invalid::new(join(path, "raw"), "must not be less than min"));
        }
        if max.is_some_and(|hi| r > hi) {
            return Err(Invalid::new(join(path, "raw"), "must not be more than max"));
        }
    }
    Ok(())
}

/// What a context tells the LRS beyond its validity: the ids and agents its queries match.
#[derive(Clone, Debug, Default)]
pub struct Context {
    pub registration: Option<uuid::Uuid>,
    pub instructor: Option<Actor>,
    pub team: Option<Actor>,
    pub activities: Vec<String>,
}

/// `about_activity`: whether the statement's object is an Activity, which `revision` and
/// `platform` require.
pub fn context(v: &Value, path: &str, about_activity: bool) -> Result<Context> {
    let map = object(v, path)?;
    only(map, path, CONTEXT_KEYS)?;
    let mut out = Context {
        registration: map
            .get("registration")
            .map(|r| uuid_value(r, &join(path, "registration")))
            .transpose()?,
        ..Context::default()
    };
    if let Some(i) = map.get("instructor") {
        out.instructor = Some(agent::actor(i, &join(path, "instructor"), Place::Actor)?);
    }
    if let Some(t) = map.get("team") {
        let p = join(path, "team");
        let team = agent::actor(t, &p, Place::Actor)?;
        if !team.group {
            return Err(Invalid::new(p, "must be a Group (objectType \"Group\")"));
        }
        out.team = Some(team);
    }
    if let Some(ca) = map.get("contextActivities") {
        out.activities = context_activities(ca, &join(path, "contextActivities"))?;
    }
    for key in ["revision", "platform"] {
        if let Some(s) = map.get(key) {
            let p = join(path, key);
            string(s, &p)?;
            if !about_activity {
                return Err(Invalid::new(
                    p,
                    "is only allowed when the statement's object is an Activity",
                ));
            }
        }
    }
    if let Some(l) = map.get("language") {
        let p = join(path, "language");
        language_tag(string(l, &p)?, &p)?;
    }
    if let Some(s) = map.get("statement") {
        statement_ref(s, &join(path, "statement"))?;
    }
    if let Some(e) = map.get("extensions") {
        extensions(e, &join(path, "extensions"))?;
    }
    Ok(out)
}

/// Each of parent, grouping, category, other: one Activity or an array of them.
fn context_activities(v: &Value, path: &str) -> Result<Vec<String>> {
    let map = object(v, path)?;
    only(map, path, CONTEXT_ACTIVITY_KEYS)?;
    let mut ids = Vec::new();
    for (key, value) in map {
        let p = join(path, key);
        match value {
            Value::Array(list) => {
                for (i, a) in list.iter().enumerate() {
                    ids.push(activity(a, &index(&p, i))?);
                }
            }
            Value::Object(_) => ids.push(activity(value, &p)?),
            other => {
                return Err(Invalid::new(
                    p,
                    format!(
                        "must be an Activity or an array of Activities, not {}",
                        kind(other)
                    ),
                ));
            }
        }
    }
    Ok(ids)
}

/// An authority is an Agent, or for three-legged OAuth an anonymous Group of exactly two.
pub fn authority(v: &Value, path: &str) -> Result<Actor> {
    let a = agent::actor(v, path, Place::Actor)?;
    if a.group && (a.ifi.is_some() || a.members.len() != 2) {
        return Err(Invalid::new(
            path,
            "must be an Agent, or an anonymous Group of exactly two Agents (three-legged OAuth)",
        ));
    }
    Ok(a)
}

/// `1.0` or `1.0.x`: any version starting with 1.0 is accepted, every other refused.
pub fn version(v: &Value, path: &str) -> Result<()> {
    let s = string(v, path)?;
    let ok = match s.strip_prefix("1.0") {
        Some("") => true,
        Some(rest) => rest
            .strip_prefix('.')
            .is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())),
        None => false,
    };
    if ok {
        Ok(())
    } else {
        Err(Invalid::new(
            path,
            format!("{s:?} is not a 1.0.x version this LRS accepts"),
        ))
    }
}

pub fn attachments(v: &Value, path: &str) -> Result<Vec<AttachmentRef>> {
    array(v, path)?
        .iter()
        .enumerate()
        .map(|(i, a)| attachment(a, &index(path, i)))
        .collect()
}

fn attachment(v: &Value, path: &str) -> Result<AttachmentRef> {
    let map = object(v, path)?;
    only(map, path, ATTACHMENT_KEYS)?;
    let usage_type = iri(required(map, path, "usageType")?, &join(path, "usageType"))?.to_owned();
    language_map(required(map, path, "display")?, &join(path, "display"))?;
    if let Some(d) = map.get("description") {
        language_map(d, &join(path, "description"))?;
    }
    let ct_path = join(path, "contentType");
    let content_type = string(required(map, path, "contentType")?, &ct_path)?;
    if !media_type(content_type) {
        return Err(Invalid::new(
            ct_path,
            format!("{content_type:?} is not an Internet media type such as text/plain"),
        ));
    }
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    if usage_type == super::SIGNATURE_USAGE
        && !essence.eq_ignore_ascii_case("application/octet-stream")
    {
        return Err(Invalid::new(
            ct_path,
            "a signature (JWS) attachment must be application/octet-stream (2.6.s4.b1)",
        ));
    }
    let len_path = join(path, "length");
    let length = required(map, path, "length")?;
    let length = length.as_u64().ok_or_else(|| {
        Invalid::new(
            &len_path,
            format!("must be a whole number of octets, not {}", kind(length)),
        )
    })?;
    let sha2 = string(required(map, path, "sha2")?, &join(path, "sha2"))?.to_owned();
    if let Some(u) = map.get("fileUrl") {
        iri(u, &join(path, "fileUrl"))?;
    }
    Ok(AttachmentRef {
        usage_type,
        content_type: content_type.to_owned(),
        length,
        sha2,
        has_file_url: map.contains_key("fileUrl"),
    })
}

/// `type/subtype`, parameters allowed after `;`: each side an RFC 2045 token (printable ASCII
/// but no space or tspecial). Parameters are not checked.
fn media_type(s: &str) -> bool {
    let essence = s.split(';').next().unwrap_or_default().trim();
    let token = |t: &str| {
        !t.is_empty()
            && t.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`{|}~".contains(&b))
    };
    matches!(essence.split_once('/'), Some((t, sub)) if token(t) && token(sub))
}
