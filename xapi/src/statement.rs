//! A statement as xAPI 1.0.3 defines it: [`check`] refuses anything the specification does not
//! allow, [`normalise`] turns what it allows in more than one form into the one the LRS stores.

use serde_json::Value;

use crate::agent::{self, Actor, Place};
use crate::values::{iri, object, uuid_value};
use crate::{Invalid, Result, join};

/// What the LRS needs from a checked statement to store and index it.
#[derive(Clone, Debug)]
pub struct Checked {
    /// The id, when the statement carried one.
    pub id: Option<uuid::Uuid>,
    pub actor: Actor,
    pub verb: String,
    /// The statement's object, as the LRS indexes it.
    pub object: Object,
    pub registration: Option<uuid::Uuid>,
}

#[derive(Clone, Debug)]
pub enum Object {
    Activity(String),
    Actor(Actor),
    StatementRef(uuid::Uuid),
    SubStatement,
}

/// Checks one statement as received (before [`normalise`]).
///
/// The first version checks the skeleton only; the full rules of the specification follow.
pub fn check(v: &Value) -> Result<Checked> {
    let map = object(v, "")?;
    let id = map.get("id").map(|i| uuid_value(i, "id")).transpose()?;
    let actor = agent::actor(
        map.get("actor")
            .ok_or_else(|| Invalid::new("actor", "is required"))?,
        "actor",
        Place::Actor,
    )?;
    let verb = object(
        map.get("verb")
            .ok_or_else(|| Invalid::new("verb", "is required"))?,
        "verb",
    )?;
    let verb = iri(
        verb.get("id")
            .ok_or_else(|| Invalid::new("verb.id", "is required"))?,
        "verb.id",
    )?
    .to_owned();
    let obj = map
        .get("object")
        .ok_or_else(|| Invalid::new("object", "is required"))?;
    let o = object(obj, "object")?;
    let object = match o.get("objectType").and_then(Value::as_str) {
        None | Some("Activity") => Object::Activity(
            iri(
                o.get("id")
                    .ok_or_else(|| Invalid::new("object.id", "is required"))?,
                "object.id",
            )?
            .to_owned(),
        ),
        Some("Agent" | "Group") => Object::Actor(agent::actor(obj, "object", Place::Object)?),
        Some("StatementRef") => Object::StatementRef(uuid_value(
            o.get("id")
                .ok_or_else(|| Invalid::new("object.id", "is required"))?,
            "object.id",
        )?),
        Some("SubStatement") => Object::SubStatement,
        Some(other) => {
            return Err(Invalid::new(
                join("object", "objectType"),
                format!("{other:?} is not an object type"),
            ));
        }
    };
    let registration = map
        .get("context")
        .and_then(Value::as_object)
        .and_then(|c| c.get("registration"))
        .map(|r| uuid_value(r, "context.registration"))
        .transpose()?;
    Ok(Checked {
        id,
        actor,
        verb,
        object,
        registration,
    })
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
