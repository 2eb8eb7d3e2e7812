//! Table-driven checks of [`check`]: one valid statement using every property, then mutations
//! of it, each expected to pass or to fail at a named path. Statement, actor, verb, object and
//! SubStatement rules here; result, context and the rest in `tests_parts`.

use serde_json::{Value, json};

use super::*;

pub(super) const ID: &str = "aa97b177-9383-4934-8543-0f91a7a02836";

/// A valid statement that uses every property the specification defines.
pub(super) fn base() -> Value {
    json!({
        "id": ID,
        "actor": {"objectType": "Agent", "name": "Léa", "mbox": "mailto:lea@example.com"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/answered", "display": {"en-US": "answered"}},
        "object": {
            "objectType": "Activity",
            "id": "http://example.com/activities/q1",
            "definition": {
                "name": {"en-US": "Question 1"},
                "description": {"en-US": "The first question"},
                "type": "http://adlnet.gov/expapi/activities/cmi.interaction",
                "moreInfo": "http://example.com/q1",
                "interactionType": "choice",
                "correctResponsesPattern": ["a[,]b"],
                "choices": [
                    {"id": "a", "description": {"en-US": "A"}},
                    {"id": "b", "description": {"en-US": "B"}}
                ],
                "extensions": {"http://example.com/ext": {"any": [1, null]}}
            }
        },
        "result": {
            "score": {"scaled": 0.5, "raw": 50, "min": 0, "max": 100},
            "success": true,
            "completion": false,
            "response": "a[,]b",
            "duration": "PT1H0M0.1S",
            "extensions": {"http://example.com/null": null}
        },
        "context": {
            "registration": "ec531277-b57b-4c15-8d91-d292c5b2b8f7",
            "instructor": {"name": "Ines", "openid": "http://openid.example.com/ines"},
            "team": {"objectType": "Group", "name": "Team",
                     "account": {"homePage": "http://lms.example.com", "name": "team-1"}},
            "contextActivities": {
                "parent": [{"id": "http://example.com/activities/quiz"}],
                "grouping": {"objectType": "Activity", "id": "http://example.com/activities/course"},
                "category": [{"id": "http://example.com/profile"}],
                "other": []
            },
            "revision": "r1",
            "platform": "web",
            "language": "en-US",
            "statement": {"objectType": "StatementRef", "id": "16fd2706-8baf-433b-82eb-8c7fada847da"},
            "extensions": {"http://example.com/empty": {}, "http://example.com/blank": ""}
        },
        "timestamp": "2026-12-01T09:30:00.123Z",
        "stored": "2026-12-01T09:30:01.000+01:00",
        "authority": {"objectType": "Agent",
                      "account": {"homePage": "http://lrs.example.com", "name": "key"}},
        "version": "1.0.3",
        "attachments": [{
            "usageType": "http://example.com/usage/certificate",
            "display": {"en-US": "Certificate"},
            "description": {"en-US": "The certificate"},
            "contentType": "application/pdf",
            "length": 1234,
            "sha2": "672fa5fa658017f1b72d65036f13379c6ab05d4ab3b6664908d8acf0b6a0c634",
            "fileUrl": "http://example.com/cert.pdf"
        }]
    })
}

/// A valid SubStatement to put in place of the object.
pub(super) fn sub() -> Value {
    json!({
        "objectType": "SubStatement",
        "actor": {"mbox_sha1sum": "cd6a9b5c4bb0f7a6b4a1c3d2e1f0a9b8c7d6e5f4"},
        "verb": {"id": "http://example.com/verbs/will-attend"},
        "object": {"id": "http://example.com/activities/meeting"},
        "result": {"completion": true},
        "context": {"contextActivities": {"parent": {"id": "http://example.com/p"}},
                    "platform": "web"},
        "timestamp": "2026-12-01T09:30:00+02:00",
        "attachments": [{"usageType": "http://example.com/u", "display": {"en": "x"},
                         "contentType": "text/plain", "length": 0, "sha2": "ab"}]
    })
}

/// A change to the base statement: set (creating missing objects) or remove at a JSON pointer.
pub(super) enum M {
    Set(&'static str, Value),
    Del(&'static str),
}

pub(super) fn set(p: &'static str, v: Value) -> M {
    M::Set(p, v)
}

pub(super) fn del(p: &'static str) -> M {
    M::Del(p)
}

pub(super) fn apply(mut v: Value, changes: &[M]) -> Value {
    for m in changes {
        match m {
            M::Set(p, new) => {
                let (parent, key) = p.rsplit_once('/').expect("pointer");
                let mut at = &mut v;
                let key = key.replace("~1", "/");
                for part in parent.split('/').skip(1) {
                    at = match at {
                        Value::Array(a) => &mut a[part.parse::<usize>().expect("index")],
                        other => {
                            let o = other.as_object_mut().expect("object on the way");
                            o.entry(part).or_insert_with(|| json!({}))
                        }
                    };
                }
                match at {
                    Value::Array(a) => a[key.parse::<usize>().expect("index")] = new.clone(),
                    other => {
                        other
                            .as_object_mut()
                            .expect("object")
                            .insert(key, new.clone());
                    }
                }
            }
            M::Del(p) => {
                let (parent, key) = p.rsplit_once('/').expect("pointer");
                let at = v.pointer_mut(parent).expect("parent exists");
                assert!(
                    at.as_object_mut().expect("object").remove(key).is_some(),
                    "{p} was not there to remove"
                );
            }
        }
    }
    v
}

/// Runs a table: `None` expects the statement to pass, `Some(path)` a refusal at that path.
pub(super) fn run(start: fn() -> Value, cases: Vec<(Vec<M>, Option<&str>)>) {
    assert!(check(&start()).is_ok(), "the base statement must pass");
    for (i, (changes, expect)) in cases.into_iter().enumerate() {
        let v = apply(start(), &changes);
        match (check(&v), expect) {
            (Ok(_), None) => {}
            (Err(e), Some(path)) => assert_eq!(e.path, path, "case {i}: {v}\n{e}"),
            (Ok(_), Some(path)) => panic!("case {i} passed, expected a refusal at {path}: {v}"),
            (Err(e), None) => panic!("case {i} refused, expected to pass: {e}\n{v}"),
        }
    }
}

pub(super) fn with_sub() -> Value {
    apply(
        base(),
        &[
            set("/object", sub()),
            del("/context/revision"),
            del("/context/platform"),
        ],
    )
}

#[test]
fn base_statements_pass_and_report_what_the_lrs_indexes() {
    let c = check(&base()).unwrap();
    assert_eq!(c.id.unwrap().to_string(), ID);
    assert_eq!(c.verb, "http://adlnet.gov/expapi/verbs/answered");
    assert!(matches!(&c.object, Object::Activity(id) if id == "http://example.com/activities/q1"));
    assert_eq!(
        c.registration.unwrap().to_string(),
        "ec531277-b57b-4c15-8d91-d292c5b2b8f7"
    );
    assert_eq!(c.actor.keys(), ["mbox:mailto:lea@example.com"]);
    assert_eq!(c.context_activities.len(), 3);
    assert!(
        c.context_activities
            .contains(&"http://example.com/activities/course".to_owned())
    );
    assert!(c.team.unwrap().group);
    assert!(c.instructor.is_some() && c.authority.is_some());
    assert_eq!(c.attachments.len(), 1);
    let a = &c.attachments[0];
    assert_eq!(a.usage_type, "http://example.com/usage/certificate");
    assert_eq!(a.content_type, "application/pdf");
    assert_eq!(a.length, 1234);
    assert!(a.has_file_url && !a.is_signature());
    assert!(a.sha2.starts_with("672fa5"));

    let c = check(&with_sub()).unwrap();
    assert!(matches!(c.object, Object::SubStatement));
    let s = c.substatement.unwrap();
    assert!(s.id.is_none());
    assert_eq!(s.verb, "http://example.com/verbs/will-attend");
    assert_eq!(s.context_activities, ["http://example.com/p"]);
    assert_eq!(s.attachments.len(), 1);
    assert!(!s.attachments[0].has_file_url);
}

#[test]
fn statement_keys_are_exact() {
    let mut cases = Vec::new();
    for (key, value) in [
        ("iD", json!(ID)),
        ("Actor", json!({"mbox": "mailto:a@example.com"})),
        ("veRb", json!({"id": "http://example.com/v"})),
        ("oBject", json!({"id": "http://example.com/a"})),
        ("RESULT", json!({})),
        ("conText", json!({})),
        ("timeStamp", json!("2026-12-01T09:30:00Z")),
        ("STOred", json!("2026-12-01T09:30:00Z")),
        ("auTHORity", json!({"mbox": "mailto:a@example.com"})),
        ("Version", json!("1.0.0")),
        ("attachmentS", json!([])),
        ("objectType", json!("Statement")),
    ] {
        let p: &'static str = Box::leak(format!("/{key}").into_boxed_str());
        cases.push((vec![set(p, value)], Some(key)));
    }
    for key in ["actor", "verb", "object"] {
        let p: &'static str = Box::leak(format!("/{key}").into_boxed_str());
        cases.push((vec![del(p)], Some(key)));
    }
    for key in [
        "id",
        "result",
        "context",
        "timestamp",
        "stored",
        "authority",
        "version",
        "attachments",
    ] {
        let p: &'static str = Box::leak(format!("/{key}").into_boxed_str());
        cases.push((vec![del(p)], None));
    }
    run(base, cases);
    assert_eq!(check(&json!([])).unwrap_err().path, "statement");
}

#[test]
fn ids_are_hyphenated_uuids() {
    run(
        base,
        vec![
            (vec![set("/id", json!(ID.to_uppercase()))], None),
            (
                vec![set("/id", json!("AA97B177-9383-4934-8543-0F91A7A028368"))],
                Some("id"),
            ),
            (
                vec![set("/id", json!("MA97B177-9383-4934-8543-0F91A7A02836"))],
                Some("id"),
            ),
            (
                vec![set("/id", json!("aa97b17793834934854 30f91a7a02836"))],
                Some("id"),
            ),
            (vec![set("/id", json!(""))], Some("id")),
            (vec![set("/id", json!(1234))], Some("id")),
            (vec![set("/id", json!({"id": ID}))], Some("id")),
            (vec![set("/id", Value::Null)], Some("id")),
        ],
    );
}

#[test]
fn actors() {
    let two = json!({"mbox": "mailto:a@example.com", "openid": "http://o.example.com/a"});
    run(
        base,
        vec![
            (vec![del("/actor/objectType")], None),
            (
                vec![set("/actor/objectType", json!("agent"))],
                Some("actor.objectType"),
            ),
            (
                vec![set("/actor/objectType", json!("Person"))],
                Some("actor.objectType"),
            ),
            (
                vec![set("/actor/objectType", Value::Null)],
                Some("actor.objectType"),
            ),
            (vec![set("/actor/name", Value::Null)], Some("actor.name")),
            (vec![set("/actor/name", json!(7))], Some("actor.name")),
            (vec![set("/actor/Mbox", json!("x"))], Some("actor.Mbox")),
            (vec![set("/actor", two.clone())], Some("actor")),
            (
                vec![set(
                    "/actor/account",
                    json!({"homePage": "http://h.example.com", "name": "n"}),
                )],
                Some("actor"),
            ),
            (vec![del("/actor/mbox")], Some("actor")),
            (
                vec![set("/actor/mbox", json!("mailto:should.fail.com"))],
                Some("actor.mbox"),
            ),
            (
                vec![set("/actor/mbox", json!("http://should.fail.com"))],
                Some("actor.mbox"),
            ),
            (vec![set("/actor/mbox", Value::Null)], Some("actor.mbox")),
            (
                vec![
                    del("/actor/mbox"),
                    set("/actor/openid", json!("open.id.com/testUser")),
                ],
                Some("actor.openid"),
            ),
            (
                vec![
                    del("/actor/mbox"),
                    set("/actor/openid", json!("ab=c://should.fail.com")),
                ],
                Some("actor.openid"),
            ),
            (
                vec![
                    del("/actor/mbox"),
                    set("/actor/mbox_sha1sum", json!("not-a-hash")),
                ],
                Some("actor.mbox_sha1sum"),
            ),
            (
                vec![
                    del("/actor/mbox"),
                    set(
                        "/actor/account",
                        json!({"homePage": "lms.example.com", "name": "n"}),
                    ),
                ],
                Some("actor.account.homePage"),
            ),
            (
                vec![
                    del("/actor/mbox"),
                    set(
                        "/actor/account",
                        json!({"homePage": "http://lms.example.com"}),
                    ),
                ],
                Some("actor.account.name"),
            ),
            (
                vec![
                    del("/actor/mbox"),
                    set(
                        "/actor/account",
                        json!({"homePage": "http://l.example.com", "name": "n", "id": 1}),
                    ),
                ],
                Some("actor.account.id"),
            ),
            // Groups: identified (exactly one IFI, members optional) or anonymous (members).
            (vec![set("/actor/objectType", json!("Group"))], None),
            (
                vec![set(
                    "/actor",
                    json!({"objectType": "Group", "member": [two.clone()]}),
                )],
                Some("actor.member[0]"),
            ),
            (
                vec![set(
                    "/actor",
                    json!({"objectType": "Group", "member": [{"mbox": "mailto:a@example.com"}]}),
                )],
                None,
            ),
            (
                vec![set("/actor", json!({"objectType": "Group", "name": "G"}))],
                Some("actor.member"),
            ),
            (
                vec![set(
                    "/actor",
                    json!({"objectType": "Group", "member": null}),
                )],
                Some("actor.member"),
            ),
            (
                vec![set(
                    "/actor",
                    json!({"objectType": "Group", "member": [{"objectType": "Group", "mbox": "mailto:g@example.com"}]}),
                )],
                Some("actor.member[0]"),
            ),
            (
                vec![set(
                    "/actor",
                    json!({"objectType": "Group", "mbox": "mailto:g@example.com", "openid": "http://o.example.com"}),
                )],
                Some("actor"),
            ),
            (
                vec![set("/actor", json!("mailto:lea@example.com"))],
                Some("actor"),
            ),
            (vec![set("/actor/member", json!([]))], Some("actor.member")),
        ],
    );
}

#[test]
fn verbs() {
    run(
        base,
        vec![
            (vec![del("/verb/display")], None),
            (vec![set("/verb/display", json!({}))], None),
            (vec![del("/verb/id")], Some("verb.id")),
            (
                vec![set("/verb/id", json!("not.a.valid.iri.com/verb"))],
                Some("verb.id"),
            ),
            (vec![set("/verb/id", json!(""))], Some("verb.id")),
            (vec![set("/verb/id", Value::Null)], Some("verb.id")),
            (
                vec![set("/verb/display/en-US", Value::Null)],
                Some("verb.display.en-US"),
            ),
            (
                vec![set("/verb/display/something", json!("x"))],
                Some("verb.display.something"),
            ),
            (
                vec![set("/verb/display/a12345678", json!("x"))],
                Some("verb.display.a12345678"),
            ),
            (
                vec![set("/verb/display/zh-z-aaa-z-bbb-c-ccc", json!("x"))],
                Some("verb.display.zh-z-aaa-z-bbb-c-ccc"),
            ),
            (vec![set("/verb/display/sr-Latn-RS", json!("x"))], None),
            (vec![set("/verb/display/zh-Hans-CN", json!("x"))], None),
            (
                vec![set("/verb/display", json!("answered"))],
                Some("verb.display"),
            ),
            (vec![set("/verb/Display", json!({}))], Some("verb.Display")),
            (
                vec![set("/verb", json!("http://example.com/v"))],
                Some("verb"),
            ),
        ],
    );
}

/// Every member of `v` as (JSON pointer, dotted path), except inside extensions, whose values
/// are free.
fn members(v: &Value, pointer: &str, path: &str, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                let p = format!("{pointer}/{}", k.replace('/', "~1"));
                let dotted = crate::join(path, k);
                out.push((p.clone(), dotted.clone()));
                if k != "extensions" {
                    members(child, &p, &dotted, out);
                }
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                let p = format!("{pointer}/{i}");
                let dotted = format!("{path}[{i}]");
                out.push((p.clone(), dotted.clone()));
                members(child, &p, &dotted, out);
            }
        }
        _ => {}
    }
}

#[test]
fn null_is_refused_everywhere_but_in_extensions() {
    for start in [base, with_sub] {
        let mut all = Vec::new();
        members(&start(), "", "", &mut all);
        assert!(all.len() > 80, "{}", all.len());
        for (pointer, path) in all {
            let mut v = start();
            *v.pointer_mut(&pointer).unwrap() = Value::Null;
            let e = check(&v).expect_err(&pointer);
            assert_eq!(e.path, path, "{pointer}: {e}");
        }
        let mut v = start();
        v["context"]["extensions"] = json!({"http://example.com/x": null});
        v["result"]["extensions"] = json!({"http://example.com/x": {"deep": null}});
        assert!(check(&v).is_ok());
    }
}

#[test]
fn property_names_are_case_exact_at_every_level() {
    for start in [base, with_sub] {
        let mut all = Vec::new();
        members(&start(), "", "", &mut all);
        let mut tried = 0;
        for (pointer, path) in all {
            let (parent, key) = pointer.rsplit_once('/').unwrap();
            let parent_key = parent.rsplit('/').next().unwrap_or_default();
            // Language tags are case-insensitive (RFC 5646) and extension keys are IRIs.
            let free = ["display", "name", "description", "extensions"].contains(&parent_key);
            if free || key.parse::<usize>().is_ok() {
                continue;
            }
            let mut v = start();
            let map = v.pointer_mut(parent).unwrap().as_object_mut().unwrap();
            let value = map.remove(key).unwrap();
            let upper = format!("{}{}", key[..1].to_uppercase(), &key[1..]);
            map.insert(upper.clone(), value);
            let e = check(&v).expect_err(&pointer);
            let (head, _) = path.rsplit_once(key).unwrap_or(("", ""));
            assert_eq!(e.path, format!("{head}{upper}"), "{pointer}: {e}");
            tried += 1;
        }
        assert!(tried > 50, "{tried}");
    }
}

#[test]
fn wrong_json_types_are_refused_at_their_path() {
    for start in [base, with_sub] {
        let mut all = Vec::new();
        members(&start(), "", "", &mut all);
        for (pointer, path) in all {
            let mut v = start();
            let at = v.pointer_mut(&pointer).unwrap();
            // A string that looks right is still the wrong type (2.2.s4.b1.b2).
            *at = match at {
                Value::String(_) => json!(12345),
                Value::Number(n) => json!(n.to_string()),
                Value::Bool(b) => json!(b.to_string()),
                _ => json!("x"),
            };
            let e = check(&v).expect_err(&pointer);
            assert_eq!(e.path, path, "{pointer}: {e}");
        }
    }
}
