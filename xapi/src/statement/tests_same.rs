//! [`normalise`] and [`same`] on stored statements.

use serde_json::{Value, json};

use super::tests::{ID, M, apply, base, del, set, sub};
use super::*;

#[test]
fn normalise_makes_context_activities_arrays() {
    let mut v = apply(
        base(),
        &[
            set("/id", json!(ID.to_uppercase())),
            set("/object", sub()),
            del("/context/revision"),
            del("/context/platform"),
        ],
    );
    normalise(&mut v);
    assert_eq!(v["id"], ID);
    let ca = &v["context"]["contextActivities"];
    assert_eq!(
        ca["grouping"],
        json!([{"objectType": "Activity", "id": "http://example.com/activities/course"}])
    );
    assert_eq!(
        ca["parent"],
        json!([{"id": "http://example.com/activities/quiz"}])
    );
    assert_eq!(ca["other"], json!([]));
    assert_eq!(
        v["object"]["context"]["contextActivities"]["parent"],
        json!([{"id": "http://example.com/p"}])
    );
    assert!(check(&v).is_ok());
}

#[test]
fn same_ignores_only_the_immutability_exceptions() {
    let stored = {
        let mut v = base();
        normalise(&mut v);
        v
    };
    let differs = |changes: Vec<M>| {
        let mut v = apply(base(), &changes);
        normalise(&mut v);
        !same(&stored, &v) || !same(&v, &stored)
    };
    // Differences the exceptions allow.
    for changes in [
        vec![],
        vec![
            del("/authority"),
            del("/stored"),
            del("/version"),
            del("/attachments"),
        ],
        vec![
            set("/stored", json!("2030-01-01T00:00:00Z")),
            set("/version", json!("1.0.0")),
        ],
        vec![set(
            "/authority",
            json!({"mbox": "mailto:other@example.com"}),
        )],
        vec![del("/id")],
        vec![set("/id", json!(ID.to_uppercase()))],
        vec![del("/timestamp")],
        vec![set("/timestamp", json!("2026-12-01T10:30:00.123+01:00"))],
        vec![set("/timestamp", json!("2026-12-01T09:30:00.1230Z"))],
        vec![set("/verb/display", json!({"de": "beantwortet"}))],
        vec![del("/object/definition")],
        vec![set("/object/definition/name/fr", json!("Question"))],
        vec![del("/object/objectType")],
        vec![set(
            "/context/contextActivities/parent/0/definition",
            json!({"name": {"en": "Quiz"}}),
        )],
        vec![set(
            "/context/contextActivities/parent",
            json!({"id": "http://example.com/activities/quiz"}),
        )],
        vec![set(
            "/context/registration",
            json!("EC531277-B57B-4C15-8D91-D292C5B2B8F7"),
        )],
        vec![set("/context/language", json!("EN-us"))],
        vec![set("/actor/mbox", json!("mailto:lea@EXAMPLE.com"))],
        vec![del("/actor/objectType")],
        vec![set("/result/score/raw", json!(50.0))],
        vec![set("/result/duration", json!("PT1H0M0.100S"))],
    ] {
        assert!(!differs(changes), "should be the same");
    }
    // Differences that count.
    for changes in [
        vec![set("/id", json!("16fd2706-8baf-433b-82eb-8c7fada847da"))],
        vec![set("/timestamp", json!("2026-12-01T09:30:00.124Z"))],
        vec![set("/verb/id", json!("http://example.com/other"))],
        vec![set("/actor/name", json!("Lea"))],
        vec![set("/actor/mbox", json!("mailto:LEA@example.com"))],
        vec![set("/object/id", json!("http://example.com/activities/q2"))],
        vec![set("/result/score/raw", json!(51))],
        vec![set("/result/duration", json!("PT1H0M0.2S"))],
        vec![set("/result/duration", json!("PT3600.1S"))],
        vec![del("/result")],
        vec![set("/context/platform", json!("ios"))],
        vec![set(
            "/context/extensions/http:~1~1example.com~1blank",
            json!(" "),
        )],
        vec![set(
            "/context/contextActivities/parent/0/id",
            json!("http://example.com/x"),
        )],
        vec![set(
            "/context/registration",
            json!("16fd2706-8baf-433b-82eb-8c7fada847da"),
        )],
    ] {
        assert!(differs(changes), "should differ");
    }
    // A Group's members are a set; a SubStatement's timestamp is an instant.
    let group = |members: Value| {
        apply(
            base(),
            &[set(
                "/actor",
                json!({"objectType": "Group", "member": members}),
            )],
        )
    };
    let (a, b) = (
        json!({"mbox": "mailto:a@example.com"}),
        json!({"mbox": "mailto:b@example.com"}),
    );
    assert!(same(&group(json!([a, b])), &group(json!([b, a]))));
    assert!(!same(&group(json!([a, b])), &group(json!([a]))));
    let with_sub = |t: &str| {
        let mut s = sub();
        s["timestamp"] = json!(t);
        apply(base(), &[set("/object", s)])
    };
    assert!(same(
        &with_sub("2026-12-01T09:30:00+02:00"),
        &with_sub("2026-12-01T07:30:00Z")
    ));
    assert!(!same(
        &with_sub("2026-12-01T09:30:00+02:00"),
        &with_sub("2026-12-01T09:30:00Z")
    ));
}
