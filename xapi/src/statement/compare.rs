//! Statement comparison (2.3.1.s9): two statements are the same when they differ only where the
//! immutability exceptions (2.3.1) allow. Each statement is rewritten into a comparable form,
//! dropping or canonicalising exactly those parts, and the forms are compared as JSON.

use chrono::SecondsFormat;
use serde_json::{Map, Value};

use crate::duration;
use crate::values::timestamp;

/// Whether two statements are the same statement for the "same id, same content" rule (409)
/// and for a signature's payload. Ignored, as the exceptions say:
/// * `authority`, `stored`, `version`, `attachments` (b1, b6); `id` and `timestamp` when only one
///   side has them (the LRS may have assigned them, b1);
/// * Activity definitions and a Verb's `display` (b2, b3);
/// * a timestamp's serialisation: compared as instants (b4);
/// * the order of a Group's members (b5);
/// * case where the value is case-insensitive: UUIDs, the domain of an `mbox`, `mbox_sha1sum`,
///   `context.language` (b7).
///
/// The Result Duration is compared as a string, to 0.01 s (b8, 4.6.s1.b5). A single context
/// activity equals a one-element array (2.4.6.2.s4.b3), an absent `objectType` its default, and
/// numbers compare by value.
pub fn same(a: &Value, b: &Value) -> bool {
    let (Some(a), Some(b)) = (a.as_object(), b.as_object()) else {
        return a == b;
    };
    for key in ["id", "timestamp"] {
        if let (Some(x), Some(y)) = (a.get(key), b.get(key)) {
            let one = |v: &Value| {
                if key == "id" { lower(v) } else { instant(v) }
            };
            if one(x) != one(y) {
                return false;
            }
        }
    }
    comparable(a) == comparable(b)
}

fn comparable(map: &Map<String, Value>) -> Value {
    let mut out = map.clone();
    for key in [
        "id",
        "timestamp",
        "authority",
        "stored",
        "version",
        "attachments",
    ] {
        out.remove(key);
    }
    let mut v = Value::Object(out);
    body(&mut v);
    numbers(&mut v);
    v
}

/// Actor, verb, object, result, context of a statement or SubStatement, in place.
fn body(v: &mut Value) {
    let Some(map) = v.as_object_mut() else {
        return;
    };
    if let Some(a) = map.get_mut("actor") {
        actor(a);
    }
    if let Some(verb) = map.get_mut("verb").and_then(Value::as_object_mut) {
        verb.remove("display");
    }
    if let Some(o) = map.get_mut("object") {
        object(o);
    }
    if let Some(Value::String(d)) = map.get_mut("result").and_then(|r| r.get_mut("duration")) {
        *d = duration::comparable(d);
    }
    if let Some(c) = map.get_mut("context") {
        context(c);
    }
}

fn object(o: &mut Value) {
    let kind = o
        .get("objectType")
        .and_then(Value::as_str)
        .unwrap_or("Activity")
        .to_owned();
    match kind.as_str() {
        "Activity" => activity(o),
        "Agent" | "Group" => actor(o),
        "StatementRef" => statement_ref(o),
        "SubStatement" => {
            if let Some(m) = o.as_object_mut() {
                m.remove("attachments");
                if let Some(t) = m.get_mut("timestamp") {
                    *t = instant(t);
                }
            }
            body(o);
        }
        _ => {}
    }
}

fn activity(a: &mut Value) {
    if let Some(m) = a.as_object_mut() {
        m.remove("definition");
        m.insert("objectType".into(), "Activity".into());
    }
}

fn statement_ref(r: &mut Value) {
    if let Some(id) = r.get_mut("id") {
        *id = lower(id);
    }
}

/// Agents and Groups: default `objectType`, case-insensitive IFI parts, members as a set.
fn actor(a: &mut Value) {
    let Some(m) = a.as_object_mut() else {
        return;
    };
    m.entry("objectType").or_insert_with(|| "Agent".into());
    if let Some(Value::String(mbox)) = m.get_mut("mbox")
        && let Some((local, domain)) = mbox.rsplit_once('@')
    {
        *mbox = format!("{local}@{}", domain.to_lowercase());
    }
    if let Some(h) = m.get_mut("mbox_sha1sum") {
        *h = lower(h);
    }
    if let Some(Value::Array(members)) = m.get_mut("member") {
        members.iter_mut().for_each(actor);
        members.sort_by_cached_key(Value::to_string);
    }
}

fn context(c: &mut Value) {
    let Some(m) = c.as_object_mut() else {
        return;
    };
    for key in ["registration", "language"] {
        if let Some(v) = m.get_mut(key) {
            *v = lower(v);
        }
    }
    for key in ["instructor", "team"] {
        if let Some(a) = m.get_mut(key) {
            actor(a);
        }
    }
    if let Some(s) = m.get_mut("statement") {
        statement_ref(s);
    }
    if let Some(ca) = m
        .get_mut("contextActivities")
        .and_then(Value::as_object_mut)
    {
        for list in ca.values_mut() {
            if list.is_object() {
                *list = Value::Array(vec![list.take()]);
            }
            if let Value::Array(items) = list {
                items.iter_mut().for_each(activity);
            }
        }
    }
}

/// Every number as a float, so that `1` and `1.0` compare equal.
fn numbers(v: &mut Value) {
    match v {
        Value::Number(n) => {
            if let Some(f) = n.as_f64().and_then(serde_json::Number::from_f64) {
                *n = f;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(numbers),
        Value::Object(m) => m.values_mut().for_each(numbers),
        _ => {}
    }
}

fn lower(v: &Value) -> Value {
    match v.as_str() {
        Some(s) => Value::String(s.to_lowercase()),
        None => v.clone(),
    }
}

/// A timestamp as the instant it names, in UTC, so `+01:00` and `Z` forms of it are equal.
fn instant(v: &Value) -> Value {
    match v.as_str().and_then(|s| timestamp(s, "").ok()) {
        Some(t) => Value::String(
            t.with_timezone(&chrono::Utc)
                .to_rfc3339_opts(SecondsFormat::Nanos, true),
        ),
        None => v.clone(),
    }
}
