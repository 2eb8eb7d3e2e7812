//! Table-driven checks of a statement's object: Activities and their definitions, Agents and
//! Groups, StatementRefs and SubStatements.

use serde_json::{Value, json};

use super::tests::{ID, apply, base, del, run, set, sub, with_sub};

#[test]
fn activities() {
    let d = "/object/definition";
    let mut cases = vec![
        (vec![del("/object/objectType")], None),
        (vec![del("/object/definition")], None),
        (
            vec![set("/object/objectType", json!("activity"))],
            Some("object.objectType"),
        ),
        (
            vec![set("/object/objectType", json!("Thing"))],
            Some("object.objectType"),
        ),
        (
            vec![set("/object/objectType", Value::Null)],
            Some("object.objectType"),
        ),
        (vec![del("/object/id")], Some("object.id")),
        (
            vec![set("/object/id", json!("example.com/a"))],
            Some("object.id"),
        ),
        (
            vec![set("/object/Definition", json!({}))],
            Some("object.Definition"),
        ),
        (vec![set(d, json!("x"))], Some("object.definition")),
        (
            vec![set("/object/definition/name/en-US", Value::Null)],
            Some("object.definition.name.en-US"),
        ),
        (
            vec![set("/object/definition/description/something", json!("x"))],
            Some("object.definition.description.something"),
        ),
        (
            vec![set("/object/definition/type", json!("cmi.interaction"))],
            Some("object.definition.type"),
        ),
        (
            vec![set("/object/definition/moreInfo", json!("example.com"))],
            Some("object.definition.moreInfo"),
        ),
        (
            vec![set("/object/definition/moreInfo", Value::Null)],
            Some("object.definition.moreInfo"),
        ),
        (
            vec![set("/object/definition/Name", json!({}))],
            Some("object.definition.Name"),
        ),
        (
            vec![set("/object/definition/extensions/notaniri", json!(1))],
            Some("object.definition.extensions.notaniri"),
        ),
        (
            vec![set("/object/definition/extensions", json!([]))],
            Some("object.definition.extensions"),
        ),
        (
            vec![set(
                "/object/definition/interactionType",
                json!("true-faLse"),
            )],
            Some("object.definition.interactionType"),
        ),
        (
            vec![set("/object/definition/interactionType", json!("Other"))],
            Some("object.definition.interactionType"),
        ),
        (
            vec![set(
                "/object/definition/interactionType",
                json!("sequencing"),
            )],
            None,
        ),
        (
            vec![set(
                "/object/definition/correctResponsesPattern",
                json!("a"),
            )],
            Some("object.definition.correctResponsesPattern"),
        ),
        (
            vec![set(
                "/object/definition/correctResponsesPattern",
                json!([1]),
            )],
            Some("object.definition.correctResponsesPattern[0]"),
        ),
        (
            vec![set("/object/definition/correctResponsesPattern", json!([]))],
            None,
        ),
        (
            vec![set("/object/definition/choices", json!({}))],
            Some("object.definition.choices"),
        ),
        (
            vec![set(
                "/object/definition/choices/0",
                json!({"description": {"en": "x"}}),
            )],
            Some("object.definition.choices[0].id"),
        ),
        (
            vec![set("/object/definition/choices/0/id", json!(1))],
            Some("object.definition.choices[0].id"),
        ),
        (
            vec![set("/object/definition/choices/1/id", json!("a"))],
            Some("object.definition.choices[1].id"),
        ),
        (
            vec![set(
                "/object/definition/choices/0/description/something",
                json!("x"),
            )],
            Some("object.definition.choices[0].description.something"),
        ),
        (
            vec![set("/object/definition/choices/0/Description", json!({}))],
            Some("object.definition.choices[0].Description"),
        ),
        (
            vec![set("/object/definition/choices/0", json!(null))],
            Some("object.definition.choices[0]"),
        ),
    ];
    // Each component list, and the response pattern, need an interactionType.
    for key in [
        "correctResponsesPattern",
        "choices",
        "scale",
        "source",
        "target",
        "steps",
    ] {
        let p: &'static str = Box::leak(format!("{d}/{key}").into_boxed_str());
        let path: &'static str = Box::leak(format!("object.definition.{key}").into_boxed_str());
        let value = if key == "correctResponsesPattern" {
            json!(["a"])
        } else {
            json!([{"id": "a"}])
        };
        cases.push((vec![set(p, value.clone())], None));
        cases.push((
            vec![
                del("/object/definition/interactionType"),
                del("/object/definition/correctResponsesPattern"),
                del("/object/definition/choices"),
                set(p, value),
            ],
            Some(path),
        ));
    }
    run(base, cases);
}

#[test]
fn other_objects() {
    let agent = json!({"objectType": "Agent", "mbox": "mailto:o@example.com"});
    let revision_free = || {
        apply(
            base(),
            &[del("/context/revision"), del("/context/platform")],
        )
    };
    run(
        revision_free,
        vec![
            (vec![set("/object", agent.clone())], None),
            (
                vec![set("/object", json!({"mbox": "mailto:o@example.com"}))],
                Some("object.objectType"),
            ),
            (
                vec![set(
                    "/object",
                    json!({"member": [{"mbox": "mailto:o@example.com"}]}),
                )],
                Some("object.objectType"),
            ),
            (
                vec![set(
                    "/object",
                    json!({"objectType": "agent", "mbox": "mailto:o@example.com"}),
                )],
                Some("object.objectType"),
            ),
            (
                vec![set(
                    "/object",
                    json!({"objectType": "group", "mbox": "mailto:o@example.com"}),
                )],
                Some("object.objectType"),
            ),
            (
                vec![set(
                    "/object",
                    json!({"objectType": "Agent", "mbox": "mailto:o@example.com", "mbox_sha1sum": "cd6a9b5c4bb0f7a6b4a1c3d2e1f0a9b8c7d6e5f4"}),
                )],
                Some("object"),
            ),
            (
                vec![set(
                    "/object",
                    json!({"objectType": "Group", "member": [{"mbox": "mailto:o@example.com"}]}),
                )],
                None,
            ),
            (
                vec![set("/object", json!({"objectType": "Group"}))],
                Some("object.member"),
            ),
            (
                vec![set(
                    "/object",
                    json!({"objectType": "StatementRef", "id": ID}),
                )],
                None,
            ),
            (
                vec![set(
                    "/object",
                    json!({"objectType": "statementref", "id": ID}),
                )],
                Some("object.objectType"),
            ),
            (
                vec![set("/object", json!({"objectType": "StatementRef"}))],
                Some("object.id"),
            ),
            (
                vec![set(
                    "/object",
                    json!({"objectType": "StatementRef", "id": "x"}),
                )],
                Some("object.id"),
            ),
            (
                vec![set(
                    "/object",
                    json!({"objectType": "StatementRef", "id": ID, "definition": {}}),
                )],
                Some("object.definition"),
            ),
            (
                vec![set("/object", json!({"objectType": "substatement"}))],
                Some("object.objectType"),
            ),
            (vec![set("/object", json!([]))], Some("object")),
        ],
    );
}

#[test]
fn substatements() {
    let mut cases = vec![
        (vec![set("/object/id", json!(ID))], Some("object.id")),
        (
            vec![set("/object/stored", json!("2026-12-01T09:30:00Z"))],
            Some("object.stored"),
        ),
        (
            vec![set("/object/version", json!("1.0.0"))],
            Some("object.version"),
        ),
        (
            vec![set(
                "/object/authority",
                json!({"mbox": "mailto:a@example.com"}),
            )],
            Some("object.authority"),
        ),
        (
            vec![set("/object/Context", json!({}))],
            Some("object.Context"),
        ),
        (
            vec![set("/object/object", sub())],
            Some("object.object.objectType"),
        ),
        (
            vec![
                set(
                    "/object/object",
                    json!({"objectType": "Agent", "mbox": "mailto:o@example.com"}),
                ),
                del("/object/context/platform"),
            ],
            None,
        ),
        (
            vec![set(
                "/object/object",
                json!({"mbox": "mailto:o@example.com"}),
            )],
            Some("object.object.objectType"),
        ),
        (
            vec![
                set(
                    "/object/object",
                    json!({"objectType": "StatementRef", "id": ID}),
                ),
                del("/object/context/platform"),
            ],
            None,
        ),
        (
            vec![set(
                "/object/object",
                json!({"objectType": "StatementRef", "id": ID}),
            )],
            Some("object.context.platform"),
        ),
        (
            vec![set("/object/actor/openid", json!("http://o.example.com"))],
            Some("object.actor"),
        ),
        (
            vec![set("/object/verb/id", json!("will-attend"))],
            Some("object.verb.id"),
        ),
        (
            vec![set("/object/object/id", json!("meeting"))],
            Some("object.object.id"),
        ),
        (
            vec![set("/object/result/score", json!({"scaled": 2}))],
            Some("object.result.score.scaled"),
        ),
        (
            vec![set(
                "/object/context/contextActivities/parent/id",
                json!("p"),
            )],
            Some("object.context.contextActivities.parent.id"),
        ),
        (
            vec![set("/object/timestamp", json!("2026-12-01T09:30:00-00:00"))],
            Some("object.timestamp"),
        ),
        (
            vec![del("/object/attachments/0/sha2")],
            Some("object.attachments[0].sha2"),
        ),
    ];
    for key in ["actor", "verb", "object"] {
        let p: &'static str = Box::leak(format!("/object/{key}").into_boxed_str());
        let path: &'static str = Box::leak(format!("object.{key}").into_boxed_str());
        cases.push((vec![del(p)], Some(path)));
    }
    for key in [
        "result",
        "context",
        "timestamp",
        "attachments",
        "objectType",
    ] {
        let p: &'static str = Box::leak(format!("/object/{key}").into_boxed_str());
        // Without objectType the object reads as an Activity, which has no actor.
        let expect = (key == "objectType").then_some("object.actor");
        cases.push((vec![del(p)], expect));
    }
    run(with_sub, cases);
}

#[test]
fn voiding_statements_reference_a_statement() {
    let voiding = |object: Value| {
        apply(
            base(),
            &[
                set("/verb/id", json!(super::VOIDED)),
                set("/object", object),
                del("/context/revision"),
                del("/context/platform"),
            ],
        )
    };
    let c = super::check(&voiding(json!({"objectType": "StatementRef", "id": ID}))).unwrap();
    assert_eq!(c.voids().unwrap().to_string(), ID);
    assert!(super::check(&base()).unwrap().voids().is_none());
    for object in [
        json!({"objectType": "Activity", "id": "http://example.com/a"}),
        json!({"objectType": "Agent", "mbox": "mailto:a@example.com"}),
    ] {
        let e = super::check(&voiding(object)).unwrap_err();
        assert_eq!(e.path, "object.objectType");
    }
    // Inside a SubStatement the verb voids nothing, so any object will do.
    let mut s = sub();
    s["verb"]["id"] = json!(super::VOIDED);
    let ok = apply(
        base(),
        &[
            set("/object", s),
            del("/context/revision"),
            del("/context/platform"),
        ],
    );
    assert!(super::check(&ok).unwrap().voids().is_none());
}
