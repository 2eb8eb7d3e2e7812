//! A statement as xAPI 1.0.3 defines it: [`check`] refuses anything the specification does not
//! allow, [`normalise`] turns what it allows in more than one form into the one the LRS stores,
//! [`same`] tells whether two statements with one id are the same statement.
//!
//! Every member is checked against an exact-case allow-list and for its JSON type, so `null`
//! fails wherever a value is expected; only an extension's values are left unchecked.

mod activity;
mod compare;
mod parts;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_objects;
#[cfg(test)]
mod tests_parts;
#[cfg(test)]
mod tests_same;

use serde_json::{Map, Value};

use crate::agent::{self, Actor, Place};
use crate::values::{iri, language_map, object, only, required, string, timestamp, uuid_value};
use crate::{Invalid, Result, join};

pub use activity::COMPONENT_LISTS;
pub use compare::same;

const STATEMENT_KEYS: &[&str] = &[
    "id",
    "actor",
    "verb",
    "object",
    "result",
    "context",
    "timestamp",
    "stored",
    "authority",
    "version",
    "attachments",
];
const SUBSTATEMENT_KEYS: &[&str] = &[
    "objectType",
    "actor",
    "verb",
    "object",
    "result",
    "context",
    "timestamp",
    "attachments",
];

/// The verb of a statement that voids another (2.3.2).
pub const VOIDED: &str = "http://adlnet.gov/expapi/verbs/voided";

/// The attachment usage type that marks a JWS signature (2.6).
pub const SIGNATURE_USAGE: &str = "http://adlnet.gov/expapi/attachments/signature";

/// What the LRS needs from a checked statement to store and index it.
#[derive(Clone, Debug)]
pub struct Checked {
    /// The id, when the statement carried one (never for a SubStatement).
    pub id: Option<uuid::Uuid>,
    pub actor: Actor,
    pub verb: String,
    /// The statement's object, as the LRS indexes it.
    pub object: Object,
    pub registration: Option<uuid::Uuid>,
    /// The statement's own attachments, in order (a SubStatement's are in its `substatement`).
    pub attachments: Vec<AttachmentRef>,
    /// The ids of every context activity (parent, grouping, category, other).
    pub context_activities: Vec<String>,
    pub instructor: Option<Actor>,
    pub team: Option<Actor>,
    /// The authority as sent, before the LRS replaces it.
    pub authority: Option<Actor>,
    /// When the object is a SubStatement: what was checked inside it.
    pub substatement: Option<Box<Checked>>,
}

#[derive(Clone, Debug)]
pub enum Object {
    Activity(String),
    Actor(Actor),
    StatementRef(uuid::Uuid),
    SubStatement,
}

/// An attachment's header, what multipart requests and signed statements are checked against.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttachmentRef {
    pub usage_type: String,
    pub content_type: String,
    pub length: u64,
    pub sha2: String,
    pub has_file_url: bool,
}

impl Checked {
    /// The statement this one voids: its verb is `voided` and its object the reference.
    pub fn voids(&self) -> Option<uuid::Uuid> {
        match self.object {
            Object::StatementRef(id) if self.verb == VOIDED => Some(id),
            _ => None,
        }
    }
}

impl AttachmentRef {
    /// Whether this attachment is a statement's JWS signature.
    pub fn is_signature(&self) -> bool {
        self.usage_type == SIGNATURE_USAGE
    }
}

/// Checks one statement as received (before [`normalise`]).
pub fn check(v: &Value) -> Result<Checked> {
    let map = object(v, "statement")?;
    only(map, "", STATEMENT_KEYS)?;
    let id = map.get("id").map(|i| uuid_value(i, "id")).transpose()?;
    let mut checked = body(map, "", false)?;
    checked.id = id;
    if checked.verb == VOIDED && !matches!(checked.object, Object::StatementRef(_)) {
        return Err(Invalid::new(
            "object.objectType",
            "a voiding statement's object must be a StatementRef to the statement it voids",
        ));
    }
    if let Some(s) = map.get("stored") {
        // Checked, then overwritten by the LRS (2.4.8.s3.b2).
        timestamp(string(s, "stored")?, "stored")?;
    }
    if let Some(a) = map.get("authority") {
        checked.authority = Some(parts::authority(a, "authority")?);
    }
    if let Some(v) = map.get("version") {
        parts::version(v, "version")?;
    }
    Ok(checked)
}

/// What a statement and a SubStatement share: actor, verb, object, result, context, timestamp,
/// attachments. `sub`: this is a SubStatement, whose object may not be another.
fn body(map: &Map<String, Value>, path: &str, sub: bool) -> Result<Checked> {
    let actor_path = join(path, "actor");
    let actor = agent::actor(required(map, path, "actor")?, &actor_path, Place::Actor)?;
    let verb = verb(required(map, path, "verb")?, &join(path, "verb"))?;
    let (object, substatement) =
        statement_object(required(map, path, "object")?, &join(path, "object"), sub)?;
    if let Some(r) = map.get("result") {
        parts::result(r, &join(path, "result"))?;
    }
    let context = match map.get("context") {
        Some(c) => parts::context(
            c,
            &join(path, "context"),
            matches!(object, Object::Activity(_)),
        )?,
        None => parts::Context::default(),
    };
    if let Some(t) = map.get("timestamp") {
        let p = join(path, "timestamp");
        timestamp(string(t, &p)?, &p)?;
    }
    let attachments = match map.get("attachments") {
        Some(a) => parts::attachments(a, &join(path, "attachments"))?,
        None => Vec::new(),
    };
    Ok(Checked {
        id: None,
        actor,
        verb,
        object,
        registration: context.registration,
        attachments,
        context_activities: context.activities,
        instructor: context.instructor,
        team: context.team,
        authority: None,
        substatement,
    })
}

fn verb(v: &Value, path: &str) -> Result<String> {
    let map = object(v, path)?;
    only(map, path, &["id", "display"])?;
    let id = iri(required(map, path, "id")?, &join(path, "id"))?.to_owned();
    if let Some(d) = map.get("display") {
        language_map(d, &join(path, "display"))?;
    }
    Ok(id)
}

/// The object by its `objectType` (absent means Activity), which is case-exact.
fn statement_object(v: &Value, path: &str, in_sub: bool) -> Result<(Object, Option<Box<Checked>>)> {
    let map = object(v, path)?;
    let type_path = join(path, "objectType");
    let kind = match map.get("objectType") {
        Some(t) => string(t, &type_path)?,
        // An Agent or Group as object must say so (2.4.4.2.s1.b1); say that, not "unknown key".
        None if ["mbox", "mbox_sha1sum", "openid", "account", "member"]
            .iter()
            .any(|k| map.contains_key(*k)) =>
        {
            return Err(Invalid::new(
                type_path,
                "is required for an Agent or Group used as an object",
            ));
        }
        None => "Activity",
    };
    Ok(match kind {
        "Activity" => (Object::Activity(activity::activity(v, path)?), None),
        "Agent" | "Group" => (Object::Actor(agent::actor(v, path, Place::Object)?), None),
        "StatementRef" => (Object::StatementRef(statement_ref(v, path)?), None),
        "SubStatement" if in_sub => {
            return Err(Invalid::new(
                type_path,
                "a SubStatement cannot contain another SubStatement",
            ));
        }
        "SubStatement" => (
            Object::SubStatement,
            Some(Box::new(substatement(map, path)?)),
        ),
        other => {
            return Err(Invalid::new(
                type_path,
                format!(
                    "{other:?} is not an object type (Activity, Agent, Group, StatementRef, SubStatement; case-exact)"
                ),
            ));
        }
    })
}

fn substatement(map: &Map<String, Value>, path: &str) -> Result<Checked> {
    for key in ["id", "stored", "version", "authority"] {
        if map.contains_key(key) {
            return Err(Invalid::new(
                join(path, key),
                "a SubStatement must not have id, stored, version or authority",
            ));
        }
    }
    only(map, path, SUBSTATEMENT_KEYS)?;
    body(map, path, true)
}

/// A Statement Reference: `{"objectType": "StatementRef", "id": <UUID>}`.
fn statement_ref(v: &Value, path: &str) -> Result<uuid::Uuid> {
    let map = object(v, path)?;
    only(map, path, &["objectType", "id"])?;
    let type_path = join(path, "objectType");
    if string(required(map, path, "objectType")?, &type_path)? != "StatementRef" {
        return Err(Invalid::new(type_path, "must be \"StatementRef\""));
    }
    uuid_value(required(map, path, "id")?, &join(path, "id"))
}

/// Rewrites a checked statement into the form the LRS stores: `contextActivities` members as
/// arrays (also inside a SubStatement), ids lower-case.
pub fn normalise(v: &mut Value) {
    if let Some(id) = v.get_mut("id")
        && let Some(s) = id.as_str()
    {
        *id = Value::String(s.to_ascii_lowercase());
    }
    arrays(v);
    if let Some(sub) = v.get_mut("object")
        && sub.get("objectType").and_then(Value::as_str) == Some("SubStatement")
    {
        arrays(sub);
    }
}

fn arrays(v: &mut Value) {
    let Some(ca) = v
        .get_mut("context")
        .and_then(|c| c.get_mut("contextActivities"))
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    for (_, list) in ca.iter_mut() {
        if list.is_object() {
            *list = Value::Array(vec![list.take()]);
        }
    }
}
