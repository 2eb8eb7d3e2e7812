//! What the LRS indexes of a stored statement, so that `GET /statements` filters by columns and
//! not by reading JSON: its verb, agents, activities and registration, each as a key of a
//! [`Kind`]. Related kinds include the direct ones, so one filter reads one kind.

use std::collections::BTreeSet;

use serde_json::Value;
use uuid::Uuid;

use crate::agent::{self, Actor, Place};

/// The verb that voids the statement its object refers to.
pub const VOIDED: &str = "http://adlnet.gov/expapi/verbs/voided";

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Verb = 1,
    /// The actor (a group's members too) or an Agent/Group object.
    Agent = 2,
    /// Any agent: with authority, instructor, team, and those of a SubStatement.
    AgentRelated = 3,
    /// The object's id.
    Activity = 4,
    /// Any activity: with context activities, and those of a SubStatement.
    ActivityRelated = 5,
    Registration = 6,
    /// A verb key and an object activity key of the same statement, as one value: never made by
    /// [`keys`], but by the store from the key values it writes, so that `verb` with `activity`
    /// reads one index range.
    VerbActivity = 7,
}

impl Kind {
    pub fn code(self) -> i16 {
        self as i16
    }
}

#[derive(Clone, Debug, Default)]
pub struct Keys {
    pub keys: BTreeSet<(Kind, String)>,
    /// The statement a StatementRef object names.
    pub object_ref: Option<Uuid>,
    /// A voiding statement: verb `voided` and a StatementRef object.
    pub voiding: bool,
}

/// The keys of a checked, normalised statement.
pub fn keys(s: &Value) -> Keys {
    let mut k = Keys::default();
    if let Some(verb) = s.pointer("/verb/id").and_then(Value::as_str) {
        k.keys.insert((Kind::Verb, verb.to_owned()));
    }
    if let Some(r) = s.pointer("/context/registration").and_then(Value::as_str) {
        k.keys.insert((Kind::Registration, r.to_ascii_lowercase()));
    }
    let agent = |v: Option<&Value>, place: Place, direct: bool, k: &mut Keys| {
        if let Some(a) = v.and_then(|v| agent::actor(v, "", place).ok()) {
            for key in a.keys() {
                if direct {
                    k.keys.insert((Kind::Agent, key.clone()));
                }
                k.keys.insert((Kind::AgentRelated, key));
            }
        }
    };
    agent(s.get("actor"), Place::Actor, true, &mut k);
    agent(s.get("authority"), Place::Actor, false, &mut k);
    agent(
        s.pointer("/context/instructor"),
        Place::Actor,
        false,
        &mut k,
    );
    agent(s.pointer("/context/team"), Place::Actor, false, &mut k);
    let object = s.get("object");
    match object_type(object) {
        "Agent" | "Group" => agent(object, Place::Object, true, &mut k),
        "StatementRef" => {
            k.object_ref = object
                .and_then(|o| o.get("id"))
                .and_then(Value::as_str)
                .and_then(|id| Uuid::parse_str(id).ok());
            k.voiding = s.pointer("/verb/id").and_then(Value::as_str) == Some(VOIDED);
        }
        "SubStatement" => {
            let sub = object;
            agent(
                sub.and_then(|o| o.get("actor")),
                Place::Actor,
                false,
                &mut k,
            );
            let so = sub.and_then(|o| o.get("object"));
            match object_type(so) {
                "Agent" | "Group" => agent(so, Place::Object, false, &mut k),
                "Activity" => {
                    if let Some(id) = so.and_then(|o| o.get("id")).and_then(Value::as_str) {
                        k.keys.insert((Kind::ActivityRelated, id.to_owned()));
                    }
                }
                _ => {}
            }
            if let Some(c) = sub.and_then(|o| o.get("context")) {
                agent(c.get("instructor"), Place::Actor, false, &mut k);
                agent(c.get("team"), Place::Actor, false, &mut k);
                for id in context_activities(c) {
                    k.keys.insert((Kind::ActivityRelated, id.to_owned()));
                }
            }
        }
        _ => {
            if let Some(id) = object.and_then(|o| o.get("id")).and_then(Value::as_str) {
                k.keys.insert((Kind::Activity, id.to_owned()));
                k.keys.insert((Kind::ActivityRelated, id.to_owned()));
            }
        }
    }
    if let Some(c) = s.get("context") {
        for id in context_activities(c) {
            k.keys.insert((Kind::ActivityRelated, id.to_owned()));
        }
    }
    k
}

/// `objectType`, with an absent one read as Activity.
fn object_type(o: Option<&Value>) -> &str {
    o.and_then(|o| o.get("objectType"))
        .and_then(Value::as_str)
        .unwrap_or("Activity")
}

fn context_activities(context: &Value) -> impl Iterator<Item = &str> {
    context
        .get("contextActivities")
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|m| m.values())
        .flat_map(|list| match list {
            Value::Array(a) => a.iter().collect::<Vec<_>>(),
            one => vec![one],
        })
        .filter_map(|a| a.get("id").and_then(Value::as_str))
}

/// Every Activity object a statement carries (object, context activities, and a
/// SubStatement's), for `GET /activities`.
pub fn activities(s: &Value) -> Vec<&Value> {
    let mut out = Vec::new();
    collect_activities(s, &mut out);
    if let Some(sub) = s.get("object")
        && object_type(Some(sub)) == "SubStatement"
    {
        collect_activities(sub, &mut out);
    }
    out
}

fn collect_activities<'a>(stmt: &'a Value, out: &mut Vec<&'a Value>) {
    let object = stmt.get("object");
    if object_type(object) == "Activity"
        && let Some(o) = object
    {
        out.push(o);
    }
    if let Some(ca) = stmt
        .pointer("/context/contextActivities")
        .and_then(Value::as_object)
    {
        for list in ca.values() {
            match list {
                Value::Array(a) => out.extend(a.iter()),
                one => out.push(one),
            }
        }
    }
}

/// Every identified Agent a statement names (actor, object, team, instructor, members,
/// authority), with the name it gave, for `GET /agents`.
pub fn agents(s: &Value) -> Vec<Actor> {
    let mut out = Vec::new();
    let mut push = |v: Option<&Value>, place: Place| {
        if let Some(a) = v.and_then(|v| agent::actor(v, "", place).ok()) {
            for m in &a.members {
                out.push(m.clone());
            }
            if a.ifi.is_some() {
                out.push(Actor {
                    members: Vec::new(),
                    ..a
                });
            }
        }
    };
    push(s.get("actor"), Place::Actor);
    push(s.get("authority"), Place::Actor);
    push(s.pointer("/context/instructor"), Place::Actor);
    push(s.pointer("/context/team"), Place::Actor);
    if matches!(object_type(s.get("object")), "Agent" | "Group") {
        push(s.get("object"), Place::Object);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn direct_and_related() {
        let s = json!({
            "actor": {"objectType": "Group", "mbox": "mailto:team@example.com",
                      "member": [{"mbox": "mailto:lea@example.com"}]},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
            "object": {"id": "https://lms.example/m1"},
            "authority": {"account": {"homePage": "https://spaces.example", "name": "lrs-1"}},
            "context": {
                "registration": "AA97B177-9383-4934-8543-0F91A7A02836",
                "instructor": {"mbox": "mailto:tutor@example.com"},
                "contextActivities": {"parent": [{"id": "https://lms.example/course"}]}
            }
        });
        let k = keys(&s);
        let has = |kind, v: &str| k.keys.contains(&(kind, v.to_owned()));
        assert!(has(Kind::Verb, "http://adlnet.gov/expapi/verbs/completed"));
        assert!(has(Kind::Agent, "mbox:mailto:team@example.com"));
        assert!(has(Kind::Agent, "mbox:mailto:lea@example.com"));
        assert!(!has(Kind::Agent, "mbox:mailto:tutor@example.com"));
        assert!(has(Kind::AgentRelated, "mbox:mailto:tutor@example.com"));
        assert!(has(Kind::Activity, "https://lms.example/m1"));
        assert!(!has(Kind::Activity, "https://lms.example/course"));
        assert!(has(Kind::ActivityRelated, "https://lms.example/course"));
        assert!(has(
            Kind::Registration,
            "aa97b177-9383-4934-8543-0f91a7a02836"
        ));
        assert!(!k.voiding && k.object_ref.is_none());
        assert_eq!(activities(&s).len(), 2);
        assert_eq!(agents(&s).len(), 4);
    }

    #[test]
    fn voiding() {
        let s = json!({
            "actor": {"mbox": "mailto:admin@example.com"},
            "verb": {"id": VOIDED},
            "object": {"objectType": "StatementRef", "id": "aa97b177-9383-4934-8543-0f91a7a02836"}
        });
        let k = keys(&s);
        assert!(k.voiding);
        assert_eq!(
            k.object_ref.map(|u| u.to_string()).as_deref(),
            Some("aa97b177-9383-4934-8543-0f91a7a02836")
        );
    }
}
