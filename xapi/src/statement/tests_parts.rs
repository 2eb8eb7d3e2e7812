//! Table-driven checks of result, context, timestamps, stored, authority, version and
//! attachments; then [`normalise`] and [`same`].

use serde_json::{Value, json};

use super::tests::{ID, apply, base, del, run, set, sub};
use super::*;

#[test]
fn results() {
    let mut cases = vec![
        (vec![set("/result", json!({}))], None),
        (vec![set("/result", Value::Null)], Some("result")),
        (
            vec![set("/result/Success", json!(true))],
            Some("result.Success"),
        ),
        (
            vec![set("/result/score", Value::Null)],
            Some("result.score"),
        ),
        (
            vec![set("/result/score/Scaled", json!(1))],
            Some("result.score.Scaled"),
        ),
        (
            vec![set("/result/score/scaled", json!(1.5))],
            Some("result.score.scaled"),
        ),
        (
            vec![set("/result/score/scaled", json!(-1.01))],
            Some("result.score.scaled"),
        ),
        (vec![set("/result/score/scaled", json!(1))], None),
        (vec![set("/result/score/scaled", json!(-1))], None),
        (
            vec![set("/result/score/scaled", json!("0.5"))],
            Some("result.score.scaled"),
        ),
        (
            vec![set("/result/score/raw", json!("50"))],
            Some("result.score.raw"),
        ),
        (
            vec![set("/result/score/max", json!("100"))],
            Some("result.score.max"),
        ),
        (
            vec![set("/result/score/min", Value::Null)],
            Some("result.score.min"),
        ),
        (
            vec![set("/result/score/min", json!(100))],
            Some("result.score.min"),
        ),
        (
            vec![set("/result/score/min", json!(101))],
            Some("result.score.min"),
        ),
        (
            vec![set("/result/score/raw", json!(-1))],
            Some("result.score.raw"),
        ),
        (
            vec![set("/result/score/raw", json!(100.5))],
            Some("result.score.raw"),
        ),
        (vec![set("/result/score/raw", json!(100))], None),
        (vec![set("/result/score/raw", json!(0))], None),
        (
            vec![
                del("/result/score/min"),
                set("/result/score/raw", json!(-5)),
            ],
            None,
        ),
        (
            vec![
                del("/result/score/max"),
                set("/result/score/raw", json!(500)),
            ],
            None,
        ),
        // Floats pass and keep their digits (the LRS stores the text).
        (
            vec![set(
                "/result/score",
                json!({"min": 0.12123434, "raw": 12.125, "max": 45.45, "scaled": 0.12123434}),
            )],
            None,
        ),
        (
            vec![set("/result/success", json!("true"))],
            Some("result.success"),
        ),
        (
            vec![set("/result/completion", json!("false"))],
            Some("result.completion"),
        ),
        (
            vec![set("/result/completion", Value::Null)],
            Some("result.completion"),
        ),
        (
            vec![set("/result/response", json!(1))],
            Some("result.response"),
        ),
        (
            vec![set("/result/extensions/notaniri", json!(1))],
            Some("result.extensions.notaniri"),
        ),
        (
            vec![set("/result/extensions", Value::Null)],
            Some("result.extensions"),
        ),
        (
            vec![set("/result/duration", json!(100))],
            Some("result.duration"),
        ),
        (
            vec![set("/result/duration", json!({}))],
            Some("result.duration"),
        ),
    ];
    for ok in [
        "PT4H35M59.14S",
        "PT16559.14S",
        "P3Y1M29DT4H35M59.14S",
        "P3Y",
        "P4W",
    ] {
        cases.push((vec![set("/result/duration", json!(ok))], None));
    }
    for bad in ["PA1H0M0S", "P4W1D", "should fail", "P", "PT", "P1DT"] {
        cases.push((
            vec![set("/result/duration", json!(bad))],
            Some("result.duration"),
        ));
    }
    run(base, cases);
}

#[test]
fn contexts() {
    let c = "/context";
    let agent = json!({"objectType": "Agent", "mbox": "mailto:o@example.com"});
    let two = json!({"mbox": "mailto:a@example.com", "mbox_sha1sum": "cd6a9b5c4bb0f7a6b4a1c3d2e1f0a9b8c7d6e5f4"});
    run(
        base,
        vec![
            (vec![set(c, json!({}))], None),
            (
                vec![set("/context/Registration", json!(ID))],
                Some("context.Registration"),
            ),
            (
                vec![set("/context/registration", Value::Null)],
                Some("context.registration"),
            ),
            (
                vec![set("/context/registration", json!("wrong"))],
                Some("context.registration"),
            ),
            (
                vec![set(
                    "/context/instructor",
                    json!({"objectType": "Group", "member": [{"mbox": "mailto:m@example.com"}]}),
                )],
                None,
            ),
            (
                vec![set("/context/instructor", two.clone())],
                Some("context.instructor"),
            ),
            (
                vec![set("/context/instructor", json!({}))],
                Some("context.instructor"),
            ),
            (
                vec![set("/context/team", agent.clone())],
                Some("context.team"),
            ),
            (
                vec![set(
                    "/context/team",
                    json!({"mbox": "mailto:o@example.com"}),
                )],
                Some("context.team"),
            ),
            (
                vec![set("/context/team/mbox", json!("mailto:o@example.com"))],
                Some("context.team"),
            ),
            (
                vec![set("/context/team", json!({"objectType": "Group"}))],
                Some("context.team.member"),
            ),
            (
                vec![set(
                    "/context/team",
                    json!({"objectType": "Group", "member": [two.clone()]}),
                )],
                Some("context.team.member[0]"),
            ),
            (vec![set("/context/contextActivities", json!({}))], None),
            (
                vec![set("/context/contextActivities", json!([]))],
                Some("context.contextActivities"),
            ),
            (
                vec![set("/context/contextActivities/Parent", json!([]))],
                Some("context.contextActivities.Parent"),
            ),
            (
                vec![set("/context/contextActivities/sibling", json!([]))],
                Some("context.contextActivities.sibling"),
            ),
            (
                vec![set(
                    "/context/contextActivities/parent",
                    json!({"id": "http://example.com/p"}),
                )],
                None,
            ),
            (
                vec![set(
                    "/context/contextActivities/other",
                    json!({"id": "http://example.com/o"}),
                )],
                None,
            ),
            (
                vec![set(
                    "/context/contextActivities/parent/0/id",
                    json!("example.com/p"),
                )],
                Some("context.contextActivities.parent[0].id"),
            ),
            (
                vec![set(
                    "/context/contextActivities/grouping/id",
                    json!("example.com/p"),
                )],
                Some("context.contextActivities.grouping.id"),
            ),
            (
                vec![set(
                    "/context/contextActivities/parent",
                    json!("http://example.com/p"),
                )],
                Some("context.contextActivities.parent"),
            ),
            (
                vec![set("/context/contextActivities/parent", Value::Null)],
                Some("context.contextActivities.parent"),
            ),
            (
                vec![set("/context/contextActivities/category/0", agent.clone())],
                Some("context.contextActivities.category[0].mbox"),
            ),
            (
                vec![set(
                    "/context/contextActivities/parent/0/objectType",
                    json!("Agent"),
                )],
                Some("context.contextActivities.parent[0].objectType"),
            ),
            (
                vec![set(
                    "/context/contextActivities/parent/0/definition/name/xx-",
                    json!("x"),
                )],
                Some("context.contextActivities.parent[0].definition.name.xx-"),
            ),
            (
                vec![set("/context/revision", json!(1))],
                Some("context.revision"),
            ),
            (
                vec![set("/context/platform", Value::Null)],
                Some("context.platform"),
            ),
            (
                vec![set("/object", agent.clone())],
                Some("context.revision"),
            ),
            (
                vec![set("/object", agent.clone()), del("/context/revision")],
                Some("context.platform"),
            ),
            (
                vec![
                    set("/object", agent.clone()),
                    del("/context/revision"),
                    del("/context/platform"),
                ],
                None,
            ),
            (
                vec![
                    set("/object", json!({"objectType": "StatementRef", "id": ID})),
                    del("/context/revision"),
                ],
                Some("context.platform"),
            ),
            (
                vec![set("/object", sub()), del("/context/platform")],
                Some("context.revision"),
            ),
            // An object without objectType is an Activity: revision and platform are fine.
            (vec![del("/object/objectType")], None),
            (
                vec![set("/context/language", json!("something"))],
                Some("context.language"),
            ),
            (vec![set("/context/language", json!("zh-Hant"))], None),
            (
                vec![set("/context/language", Value::Null)],
                Some("context.language"),
            ),
            (
                vec![set("/context/language", json!(["en"]))],
                Some("context.language"),
            ),
            (
                vec![set("/context/statement", json!({"id": ID}))],
                Some("context.statement.objectType"),
            ),
            (
                vec![set("/context/statement/objectType", json!("Activity"))],
                Some("context.statement.objectType"),
            ),
            (
                vec![set("/context/statement/id", json!("wrong"))],
                Some("context.statement.id"),
            ),
            (
                vec![del("/context/statement/id")],
                Some("context.statement.id"),
            ),
            (
                vec![set("/context/statement/definition", json!({}))],
                Some("context.statement.definition"),
            ),
            (
                vec![set("/context/extensions/notaniri", json!(1))],
                Some("context.extensions.notaniri"),
            ),
            (
                vec![set(
                    "/context/extensions/http:~1~1example.com~1null",
                    Value::Null,
                )],
                None,
            ),
        ],
    );
}

#[test]
fn timestamps_stored_authority_version() {
    let agent = |m: &str| json!({"mbox": format!("mailto:{m}@example.com")});
    let mut cases = vec![
        (vec![set("/timestamp", json!("2099-01-01T00:00:00Z"))], None),
        (
            vec![set("/timestamp", json!("2026-12-01T09:30:00.123+0530"))],
            None,
        ),
        (
            vec![set("/timestamp", json!("01/011/2015"))],
            Some("timestamp"),
        ),
        (
            vec![set("/timestamp", json!("should fail"))],
            Some("timestamp"),
        ),
        (
            vec![set("/timestamp", json!("2026-12-01T09:30:00-00:00"))],
            Some("timestamp"),
        ),
        (
            vec![set("/timestamp", json!("2026-12-01T09:30:00-0000"))],
            Some("timestamp"),
        ),
        (
            vec![set("/timestamp", json!("2026-12-01T09:30:00-00"))],
            Some("timestamp"),
        ),
        (
            vec![set("/timestamp", json!("2026-12-01T09:30:00"))],
            Some("timestamp"),
        ),
        (
            vec![set("/timestamp", json!(1_700_000_000))],
            Some("timestamp"),
        ),
        (vec![set("/timestamp", Value::Null)], Some("timestamp")),
        (vec![set("/stored", json!("yesterday"))], Some("stored")),
        (vec![set("/stored", Value::Null)], Some("stored")),
        (vec![set("/authority", agent("a"))], None),
        (
            vec![set(
                "/authority",
                json!({"objectType": "Group", "member": [agent("a"), agent("b")]}),
            )],
            None,
        ),
        (
            vec![set(
                "/authority",
                json!({"objectType": "Group", "member": [agent("a")]}),
            )],
            Some("authority"),
        ),
        (
            vec![set(
                "/authority",
                json!({"objectType": "Group", "member": [agent("a"), agent("b"), agent("c")]}),
            )],
            Some("authority"),
        ),
        (
            vec![set(
                "/authority",
                json!({"objectType": "Group", "mbox": "mailto:g@example.com", "member": [agent("a"), agent("b")]}),
            )],
            Some("authority"),
        ),
        (
            vec![set(
                "/authority",
                json!({"mbox": "mailto:a@example.com", "openid": "http://o.example.com"}),
            )],
            Some("authority"),
        ),
        (
            vec![set(
                "/authority",
                json!({"objectType": "Group", "member": [agent("a"), {"openid": "o.example.com"}]}),
            )],
            Some("authority.member[1].openid"),
        ),
        (vec![set("/authority", Value::Null)], Some("authority")),
        (vec![set("/version", json!(1.0))], Some("version")),
        (vec![set("/version", Value::Null)], Some("version")),
    ];
    for ok in ["1.0", "1.0.0", "1.0.3", "1.0.9", "1.0.10"] {
        cases.push((vec![set("/version", json!(ok))], None));
    }
    for bad in [
        "0.9.9", "1.1.0", "1.0.", "1.0.x", "1", "2.0.0", "1.00", "v1.0.0", "",
    ] {
        cases.push((vec![set("/version", json!(bad))], Some("version")));
    }
    run(base, cases);
}

#[test]
fn attachments() {
    let mut cases = vec![
        (vec![set("/attachments", json!([]))], None),
        (vec![set("/attachments", json!({}))], Some("attachments")),
        (vec![set("/attachments", Value::Null)], Some("attachments")),
        (
            vec![set("/attachments/0", json!("x"))],
            Some("attachments[0]"),
        ),
        (vec![del("/attachments/0/fileUrl")], None),
        (vec![del("/attachments/0/description")], None),
        (
            vec![set("/attachments/0/FileUrl", json!("http://example.com"))],
            Some("attachments[0].FileUrl"),
        ),
        (
            vec![set("/attachments/0/usageType", json!("certificate"))],
            Some("attachments[0].usageType"),
        ),
        (
            vec![set("/attachments/0/fileUrl", json!("cert.pdf"))],
            Some("attachments[0].fileUrl"),
        ),
        (
            vec![set("/attachments/0/fileUrl", Value::Null)],
            Some("attachments[0].fileUrl"),
        ),
        (
            vec![set("/attachments/0/display/something", json!("x"))],
            Some("attachments[0].display.something"),
        ),
        (
            vec![set("/attachments/0/description/en-US", Value::Null)],
            Some("attachments[0].description.en-US"),
        ),
        (
            vec![set("/attachments/0/contentType", json!("pdf"))],
            Some("attachments[0].contentType"),
        ),
        (
            vec![set(
                "/attachments/0/contentType",
                json!("text/plain; charset=ascii"),
            )],
            None,
        ),
        (
            vec![set("/attachments/0/contentType", json!(7))],
            Some("attachments[0].contentType"),
        ),
        (
            vec![set(
                "/attachments/0/contentType",
                json!("application/vnd.ms-excel"),
            )],
            None,
        ),
        (
            vec![set("/attachments/0/contentType", json!("image/svg+xml"))],
            None,
        ),
        (
            vec![set("/attachments/0/contentType", json!("text/pl ain"))],
            Some("attachments[0].contentType"),
        ),
        (
            vec![set("/attachments/0/contentType", json!("text/"))],
            Some("attachments[0].contentType"),
        ),
        (
            vec![set("/attachments/0/contentType", json!("a/b/c"))],
            Some("attachments[0].contentType"),
        ),
        (
            vec![set("/attachments/0/length", json!(-1))],
            Some("attachments[0].length"),
        ),
        (
            vec![set("/attachments/0/length", json!(1.5))],
            Some("attachments[0].length"),
        ),
        (
            vec![set("/attachments/0/length", json!("1234"))],
            Some("attachments[0].length"),
        ),
        (vec![set("/attachments/0/length", json!(0))], None),
        (
            vec![set("/attachments/0/sha2", json!(1))],
            Some("attachments[0].sha2"),
        ),
    ];
    for key in ["usageType", "display", "contentType", "length", "sha2"] {
        let p: &'static str = Box::leak(format!("/attachments/0/{key}").into_boxed_str());
        let path: &'static str = Box::leak(format!("attachments[0].{key}").into_boxed_str());
        cases.push((vec![del(p)], Some(path)));
    }
    run(base, cases);

    let signed = apply(
        base(),
        &[
            set("/attachments/0/usageType", json!(SIGNATURE_USAGE)),
            set(
                "/attachments/0/contentType",
                json!("application/octet-stream"),
            ),
            del("/attachments/0/fileUrl"),
        ],
    );
    let wrong = apply(
        signed.clone(),
        &[set(
            "/attachments/0/contentType",
            json!("text/plain; charset=ascii"),
        )],
    );
    assert_eq!(
        check(&wrong).unwrap_err().path,
        "attachments[0].contentType"
    );
    let a = &check(&signed).unwrap().attachments[0];
    assert!(a.is_signature() && !a.has_file_url);
    assert_eq!(a.content_type, "application/octet-stream");
}
