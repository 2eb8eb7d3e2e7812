//! Journey 12, generated from the schema. Every query and mutation is called as tenant B's
//! admin, B's HR, B's learner and without a token at B. Each `ID` (an argument, or a field of
//! an input, nested) is probed in turn: once with an id that names nothing, then with each id
//! of A's rows of its type, every other `ID` holding a valid row of B. The two answers must be
//! the same, and say NOT_FOUND on that field (or FORBIDDEN, for a caller who may not do this at
//! all; without a token, UNAUTHENTICATED). Nothing of A (ids, emails, names, secrets) may
//! appear in any answer, and A's rows, dumped below the application before and after, must be
//! unchanged.
//!
//! Operations added later are covered as they appear. One the generator cannot fill fails
//! the test, saying which table to teach (each is a list of one-line entries):
//! - `ID_KINDS`: which rows an `ID` names;
//! - `VALUES`: a plausible value for an argument or an input field;
//! - `COMPANIONS`: fields a probe needs beside the probed id;
//! - `PLATFORM_ONLY`: operations every tenant token must be refused.
//!
//! `UNNAMED_NOT_FOUND` lists the probes still owed a `field` on their NOT_FOUND.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::{Map, Value, json};
use spaces_tests::app::ok;
use spaces_tests::fixtures;
use spaces_tests::{Backend, TestApp};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Kind {
    Organisation,
    Person,
    Edition,
    Pathway,
    Enrolment,
    RoleGrant,
    Tenant,
    Course,
    Provider,
    BillingAccount,
    Invoice,
    InvoiceLine,
    Plan,
    Funder,
    VoucherBatch,
    LrsCredential,
    Module,
    Certificate,
}

impl Kind {
    /// Catalogue rows belong to no tenant: a valid one is given, never probed.
    fn platform(self) -> bool {
        matches!(self, Kind::Course | Kind::Provider | Kind::Plan)
    }
}

/// Which rows an `ID` names, by `Owner.name` (operation or input type) or by name alone. An
/// argument `id` of an operation names a row of the type it returns (`TYPE_KINDS`).
const ID_KINDS: &[(&str, Kind)] = &[
    ("RecordProgressInput.enrolmentId", Kind::Enrolment),
    ("RecordProgressInput.moduleId", Kind::Module),
    ("enrolmentId", Kind::Enrolment),
    ("personId", Kind::Person),
    ("organisationId", Kind::Organisation),
    ("parentId", Kind::Organisation),
    ("newParentId", Kind::Organisation),
    ("under", Kind::Organisation),
    ("visibleTo", Kind::Organisation),
    ("editionId", Kind::Edition),
    ("editionIds", Kind::Edition),
    ("grantId", Kind::RoleGrant),
    ("courseId", Kind::Course),
    ("providerId", Kind::Provider),
    ("buyerId", Kind::BillingAccount),
    ("billingAccountId", Kind::BillingAccount),
    ("invoiceId", Kind::Invoice),
    ("lineIds", Kind::InvoiceLine),
    ("spaceId", Kind::Tenant),
    ("planId", Kind::Plan),
    ("retirePlan.id", Kind::Plan),
    ("funderId", Kind::Funder),
    ("courseIds", Kind::Course),
    ("organisationIds", Kind::Organisation),
];

/// The rows an operation's `id` names, by the type it returns.
const TYPE_KINDS: &[(&str, Kind)] = &[
    ("Organisation", Kind::Organisation),
    ("Person", Kind::Person),
    ("Edition", Kind::Edition),
    ("Pathway", Kind::Pathway),
    ("Enrolment", Kind::Enrolment),
    ("Tenant", Kind::Tenant),
    ("Course", Kind::Course),
    ("Provider", Kind::Provider),
    ("BillingAccount", Kind::BillingAccount),
    ("Invoice", Kind::Invoice),
    ("Funder", Kind::Funder),
    ("VoucherBatch", Kind::VoucherBatch),
    ("LrsCredential", Kind::LrsCredential),
    ("Certificate", Kind::Certificate),
];

/// Plausible values (JSON), by `Owner.name` or by name alone. An `Owner.name` entry also fills
/// an optional field. `$unique` becomes a fresh string; `$a_...` are A's secrets and `$b:Kind`
/// B's rows (see `Ctx`). Anything else gets a value from its type (enums their first value).
const VALUES: &[(&str, &str)] = &[
    ("email", r#""walls-$unique@b.test""#),
    ("supportEmail", r#""help-$unique@b.test""#),
    ("password", r#""walls-probe-password-2026""#),
    ("currentPassword", r#""walls-probe-password-2026""#),
    ("newPassword", r#""walls-new-password-2026""#),
    // A's admin, with A's password, knocking on B's door.
    ("SignInInput.email", r#""$a_admin_email""#),
    ("SignInInput.password", r#""$a_password""#),
    ("requestPasswordReset.email", r#""$a_admin_email""#),
    ("refreshToken", r#""$a_refresh_token""#),
    ("token", r#""$a_invitation_token""#),
    ("revokeVoucher.code", r#""$a_voucher_code""#),
    ("slug", r#""walls-$unique""#),
    ("logoUrl", r#""https://cdn.example.org/walls.svg""#),
    ("website", r#""https://walls.example.org""#),
    ("activityIri", r#""https://lms.example.org/xapi/walls""#),
    ("escoUri", r#""http://data.europa.eu/esco/skill/walls""#),
    ("primaryColour", r##""#112233""##),
    ("accentColour", r##""#445566""##),
    ("currency", r#""EUR""#),
    ("language", r#""fr""#),
    ("country", r#""FR""#),
    ("first", "3"),
    ("studyHours", "20"),
    ("ects", "1"),
    ("eqfLevel", "4"),
    ("CreateOrganisationInput.kind", r#""TEAM""#),
    ("grantRole.role", r#""LEARNER""#),
    ("CreateEditionInput.includedInSubscription", "true"),
    ("UpdateEditionInput.title", r#""Walls probe""#),
    ("InvoiceLineInput.vatBasisPoints", "2000"),
    ("invoiceEmail", r#""billing-$unique@b.test""#),
    ("receivedOn", r#""2026-01-15""#),
    ("postcode", r#""75001""#),
    ("CreateFunderInput.kind", r#""SECTOR_FUND""#),
    ("contactEmail", r#""fund-$unique@b.test""#),
    ("count", "2"),
    ("validUntil", r#""2099-01-01T00:00:00Z""#),
    (
        "CreateVoucherBatchInput.faceValue",
        r#"{ "amountMinor": 50000, "currency": "EUR" }"#,
    ),
];

/// Fields set beside a probed id (`Owner.name` of the probed id), so the call reaches the
/// lookup of that id rather than stopping at a missing companion.
const COMPANIONS: &[(&str, &str)] = &[
    ("EnrolInput.editionId", r#"{ "personId": "$b:Person" }"#),
    (
        "EnrolInput.organisationId",
        r#"{ "email": "walls-$unique@b.test", "givenName": "Walls", "familyName": "Probe" }"#,
    ),
    (
        "CreateEditionInput.visibleTo",
        r#"{ "visibility": "ORGANISATIONS" }"#,
    ),
];

/// Operations for platform operators only: every tenant token gets FORBIDDEN. Operations
/// whose description starts with "Platform operators" count too. `recordProgress` is for a
/// platform's LRS credential (HTTP Basic), so every person's token gets FORBIDDEN as well;
/// its walls for machines are in `xapi_progress`.
const PLATFORM_ONLY: &[&str] = &[
    "recordProgress",
    "tenants",
    "tenant",
    "createTenant",
    "updateTenant",
    "suspendTenant",
    "reactivateTenant",
    "createProvider",
    "createCourse",
    "updateCourse",
    "publishCourse",
    "retireCourse",
    "setCoursePlaRegistryCode",
];

/// Probes (`operation.argument` or `InputType.field`) that still answer NOT_FOUND without naming
/// the field: the same answer for an unknown id and A's, but the client cannot tell which id it
/// is about. Each line is a fix owed by the area named.
const UNNAMED_NOT_FOUND: &[(&str, &str)] = &[];

mod generator;
mod spaces;

use generator::{Ctx, Filler, Op, Probe, Schema, Slot, lookup_exact, named};
use spaces::{SpaceB, plain_b, rich_a};

// --- What A's rows say, and what an answer may not --------------------------------------

/// Columns whose values are A's own words: names, emails, titles.
const TEXT_COLUMNS: &[&str] = &[
    "email",
    "recipient",
    "name",
    "given_name",
    "family_name",
    "title",
    "description",
    "external_ref",
    "registration_number",
];

fn uuid_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => uuid::Uuid::parse_str(s).ok().map(|u| u.to_string()),
        Value::Array(bytes) if bytes.len() == 16 => {
            let b: Vec<u8> = bytes
                .iter()
                .map(|x| u8::try_from(x.as_u64()?).ok())
                .collect::<Option<_>>()?;
            uuid::Uuid::from_slice(&b).ok().map(|u| u.to_string())
        }
        _ => None,
    }
}

/// The ids and words of a space's rows.
fn words(dump: &BTreeMap<&'static str, Vec<Value>>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for row in dump.values().flatten() {
        if let Some(id) = row.get("id").and_then(uuid_text) {
            out.insert(id);
        }
        for c in TEXT_COLUMNS {
            if let Some(s) = row.get(*c).and_then(Value::as_str) {
                out.insert(s.to_owned());
            }
        }
    }
    out
}

/// What a call answered, without what differs from one request to the next.
fn outcome(v: &Value) -> Value {
    let errors: Vec<Value> = v["errors"]
        .as_array()
        .map(|es| {
            es.iter()
                .map(|e| {
                    json!({
                        "message": e["message"],
                        "code": e["extensions"]["code"],
                        "field": e["extensions"]["field"],
                        "reason": e["extensions"]["reason"],
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    json!({ "data": v["data"], "errors": errors })
}

fn code(v: &Value) -> &str {
    v["errors"][0]["extensions"]["code"].as_str().unwrap_or("")
}

/// `visibleTo[0]` and `input.visibleTo` name the field `visibleTo`.
fn field_leaf(f: &str) -> &str {
    let f = f.rsplit('.').next().unwrap_or(f);
    f.split('[').next().unwrap_or(f)
}

// --- The run -------------------------------------------------------------------------------

/// A CSV file for the operations that take an upload.
const CSV: &[u8] = b"email,given name,family name,organisation\nwalls@b.test,Walls,Probe,\n";

struct Run<'a> {
    app: &'a TestApp,
    slug: String,
    forbidden: BTreeSet<String>,
    failures: Vec<String>,
    calls: usize,
}

impl Run<'_> {
    async fn send(
        &mut self,
        token: Option<&str>,
        op: &Op,
        doc: &str,
        vars: Map<String, Value>,
    ) -> Value {
        self.calls += 1;
        let shown = Value::Object(vars.clone());
        let upload = op.args.iter().find(|a| named(&a["type"]) == "Upload");
        let v = match upload {
            Some(a) => {
                // The harness sends the file as `variables.file`.
                assert_eq!(
                    a["name"], "file",
                    "{}: teach the generator uploads",
                    op.name
                );
                let mut vars = vars;
                vars.insert("file".into(), Value::Null);
                let operations = json!({ "query": doc, "variables": vars });
                let form = reqwest::multipart::Form::new()
                    .text("operations", operations.to_string())
                    .text("map", json!({ "0": ["variables.file"] }).to_string())
                    .part(
                        "0",
                        reqwest::multipart::Part::bytes(CSV.to_vec())
                            .file_name("walls.csv")
                            .mime_str("text/csv")
                            .unwrap(),
                    );
                let mut req = self
                    .app
                    .client
                    .post(format!("{}/graphql", self.app.base))
                    .header("X-Tenant", &self.slug)
                    .multipart(form);
                if let Some(t) = token {
                    req = req.header("Authorization", format!("Bearer {t}"));
                }
                req.send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap_or(Value::Null)
            }
            None => {
                self.app
                    .gql(Some(&self.slug), token, doc, Value::Object(vars))
                    .await
            }
        };
        self.check(op, doc, &shown, &v);
        v
    }

    /// What holds for every answer: nothing of A in it, and no sign that the call was wrong.
    fn check(&mut self, op: &Op, doc: &str, vars: &Value, v: &Value) {
        let text = v.to_string();
        for s in &self.forbidden {
            if text.contains(s.as_str()) {
                self.failures.push(format!(
                    "LEAK {}({vars}): the answer holds A's {s:?}: {v}",
                    op.name
                ));
            }
        }
        match code(v) {
            "INTERNAL" => self
                .failures
                .push(format!("{}({vars}): INTERNAL: {v}", op.name)),
            "GRAPHQL_VALIDATION_FAILED" | "GRAPHQL_PARSE_FAILED" | "BAD_REQUEST" => {
                self.failures.push(format!(
                    "{}: the server refused the generated call (teach the generator in tests/tests/walls_generated.rs): {doc} {vars}: {v}",
                    op.name
                ))
            }
            _ => {}
        }
        if v.is_null() {
            self.failures
                .push(format!("{}: no JSON answer for {doc}", op.name));
        }
    }
}

async fn generated_walls(backend: Backend) {
    // The outbox worker would mark A's messages delivered between the two dumps: keep it idle.
    let app = TestApp::start_with(backend, |c| {
        c.outbox_interval = std::time::Duration::from_secs(3600)
    })
    .await;
    let op = fixtures::operator(&app).await;
    let courses = [
        fixtures::published_course(&app, &op, "Hygiène alimentaire").await,
        fixtures::published_course(&app, &op, "Sécurité en atelier").await,
    ];
    let v = app
        .gql(
            None,
            Some(&op),
            "query($id: ID!) { course(id: $id) { providerId } }",
            json!({ "id": courses[0] }),
        )
        .await;
    let provider = ok(&v)["course"]["providerId"].as_str().unwrap().to_owned();
    let a = rich_a(&app, &op, &courses).await;
    let SpaceB {
        campus: b,
        hr_token: b_hr,
        learner_token: b_learner,
        rows: b_rows,
    } = plain_b(&app, &op, &courses, &provider).await;
    let (schema, ops) = Schema::read().await;
    // Some operations write rows of their own kind: A gets one, so that B's calls are shown to
    // leave it alone too (the dump below must hold a row of A in every table).
    if ops.iter().any(|o| o.name == "requestPasswordReset") {
        let v = app
            .gql(
                Some(&a.campus.slug),
                None,
                "mutation($e: String!) { requestPasswordReset(email: $e) }",
                json!({ "e": a.admin_email }),
            )
            .await;
        ok(&v);
    }

    let before = app.dump_tenant(&a.campus.id).await;
    for (t, rows) in &before {
        assert!(
            !rows.is_empty(),
            "A has no row in {t}: make rich_a (tests/tests/walls_generated/spaces.rs) write one, so that B's calls are shown to leave it alone"
        );
    }
    // What is A's alone: words B shares (fixture names, module titles) say nothing.
    let shared = words(&app.dump_tenant(&b.id).await);
    let mut forbidden: BTreeSet<String> = words(&before)
        .into_iter()
        .filter(|w| !shared.contains(w))
        .collect();
    forbidden.extend([
        a.campus.id.clone(),
        a.campus.slug.clone(),
        a.refresh_token.clone(),
        a.invitation_token.clone(),
    ]);
    forbidden.retain(|w| w.chars().count() >= 8);
    for id in a.ids.values().flatten() {
        assert!(forbidden.contains(id), "A's dump holds {id}");
    }
    assert!(
        forbidden.contains(&a.admin_email),
        "A's dump holds its emails"
    );
    let ctx = Ctx {
        values: HashMap::from([
            ("a_admin_email".to_owned(), a.admin_email.clone()),
            ("a_password".to_owned(), fixtures::PASSWORD.to_owned()),
            ("a_refresh_token".to_owned(), a.refresh_token.clone()),
            ("a_invitation_token".to_owned(), a.invitation_token.clone()),
            ("a_voucher_code".to_owned(), a.voucher_code.clone()),
        ]),
        b: b_rows,
        counter: std::cell::Cell::new(0),
    };
    let mut run = Run {
        app: &app,
        slug: b.slug.clone(),
        forbidden,
        failures: Vec::new(),
        calls: 0,
    };
    let mut gaps = BTreeSet::new();
    // Who calls, and whether their roles allow every operation of the space: B's admin may do
    // all of it, so a tenant operation given A's id must answer NOT_FOUND to them, never
    // FORBIDDEN.
    let callers = [
        ("B's admin", Some(b.admin_token.clone()), true),
        ("B's HR", Some(b_hr.clone()), false),
        ("B's learner", Some(b_learner.clone()), false),
        ("anyone at B", None, false),
    ];
    for (who, token, admin) in &callers {
        let token = token.as_deref();
        // Without a token, an operation may also ask the caller to sign in first.
        let refusal = |c: &str| c == "FORBIDDEN" || (token.is_none() && c == "UNAUTHENTICATED");
        for op in &ops {
            let mut slots = Vec::new();
            let mut op_gaps = Vec::new();
            schema.slots(op, &op.name, &op.args, &[], &mut slots, &mut op_gaps);
            if !op_gaps.is_empty() {
                gaps.extend(op_gaps);
                continue;
            }
            let filler = Filler {
                schema: &schema,
                ctx: &ctx,
                op,
            };
            let platform_only = PLATFORM_ONLY.contains(&op.name.as_str())
                || op.description.starts_with("Platform operators");
            let probed: Vec<&Slot> = slots.iter().filter(|s| !s.kind.platform()).collect();
            if probed.is_empty() {
                let (doc, vars) = match filler.call(None) {
                    Ok(c) => c,
                    Err(g) => {
                        gaps.insert(g);
                        continue;
                    }
                };
                let v = run.send(token, op, &doc, vars).await;
                if platform_only && !refusal(code(&v)) {
                    run.failures.push(format!(
                        "{who}: {} is for platform operators, yet answered {v}",
                        op.name
                    ));
                }
                continue;
            }
            for slot in probed {
                let unknown = Probe {
                    slot,
                    id: uuid::Uuid::now_v7().to_string(),
                };
                let (doc, vars) = match filler.call(Some(&unknown)) {
                    Ok(c) => c,
                    Err(g) => {
                        gaps.insert(g);
                        break;
                    }
                };
                let what = format!(
                    "{who}: {}({}) with an unknown {}",
                    op.name,
                    Value::Object(vars.clone()),
                    slot.key
                );
                let base = run.send(token, op, &doc, vars).await;
                let answered = match code(&base) {
                    "NOT_FOUND" => match base["errors"][0]["extensions"]["field"].as_str() {
                        Some(f) => field_leaf(f) == slot.leaf(),
                        None => lookup_exact(UNNAMED_NOT_FOUND, &slot.key).is_some(),
                    },
                    c => refusal(c) && (platform_only || !admin),
                };
                if !answered || (platform_only && !refusal(code(&base))) {
                    run.failures.push(format!(
                        "{what} answered {base}; expected NOT_FOUND on `{}` (or, for a caller who may not do this at all, FORBIDDEN). If another field stopped the call, teach the generator (VALUES, COMPANIONS)",
                        slot.leaf()
                    ));
                }
                if !base["data"].is_null() && !base["data"][&op.name].is_null() {
                    run.failures.push(format!("{what} answered data: {base}"));
                }
                for id in &a.ids[&slot.kind] {
                    let probe = Probe {
                        slot,
                        id: id.clone(),
                    };
                    let (doc, vars) = filler.call(Some(&probe)).unwrap();
                    let v = run.send(token, op, &doc, vars).await;
                    if outcome(&v) != outcome(&base) {
                        run.failures.push(format!(
                            "{who}: {} with A's {:?} {id} in {} answered {v}, but an unknown id {base}",
                            op.name, slot.kind, slot.key
                        ));
                    }
                }
            }
        }
    }
    let (calls, failures) = (run.calls, std::mem::take(&mut run.failures));
    eprintln!(
        "walls_generated: {} operations, {calls} calls as B's admin, HR, learner and anyone at B",
        ops.len()
    );
    assert!(
        gaps.is_empty(),
        "the generator cannot fill these operations:\n{}",
        gaps.into_iter().collect::<Vec<_>>().join("\n")
    );
    assert!(
        failures.is_empty(),
        "{} wall failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    let after = app.dump_tenant(&a.campus.id).await;
    assert_eq!(before, after, "no row of A changed");
    // B's callers were signed in throughout, or the answers above would prove nothing.
    for (who, token, _) in callers.iter().take(3) {
        let v = app
            .gql(
                Some(&b.slug),
                token.as_deref(),
                "{ viewer { id } }",
                json!({}),
            )
            .await;
        assert!(ok(&v)["viewer"]["id"].is_string(), "{who} still signed in");
    }
    let v = app
        .gql(
            Some(&a.campus.slug),
            None,
            "mutation($t: String!) { refreshSession(refreshToken: $t) { accessToken } }",
            json!({ "t": a.refresh_token }),
        )
        .await;
    assert!(
        ok(&v)["refreshSession"]["accessToken"].is_string(),
        "A's session survived B's attempts"
    );
    app.stop().await;
}

#[tokio::test]
async fn generated_walls_hold_on_sqlite() {
    generated_walls(Backend::Sqlite).await;
}

#[tokio::test]
async fn generated_walls_hold_on_postgres() {
    generated_walls(Backend::Postgres).await;
}
