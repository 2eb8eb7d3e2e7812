//! Funders, their staff and their voucher batches through the API: who may do what (the
//! space's admins everything, a funder's staff their funder's batches only, anyone else
//! nothing), every field of `createVoucherBatch` checked by name, revocation of a batch and of
//! one code, the batches' figures, courses' registry codes, another space's rows answering like
//! unknown ones, and codes never kept or logged in plaintext.

use chrono::{Duration, Utc};
use serde_json::{Value, json};
use spaces_billing::vouchers::codes;
use spaces_tests::app::{code, ok};
use spaces_tests::fixtures::{self, Campus};
use spaces_tests::{Backend, TestApp};

const CREATE_FUNDER: &str = "mutation($i: CreateFunderInput!) { createFunder(input: $i) { id name kind contactName contactEmail organisation { id name } } }";
const CREATE_BATCH: &str = "mutation($i: CreateVoucherBatchInput!) { createVoucherBatch(input: $i) { batch { id name kind count usesPerCode faceValue { amountMinor currency } percentBasisPoints cap { amountMinor currency } validUntil revokedAt funder { id name } } codes csv } }";
const STATS: &str = "query($f: ID!) { voucherBatches(funderId: $f, first: 10) { edges { node { id revokedAt stats { issued redeemed pending expired revoked consumed { amountMinor currency } } } } } }";
const INVITE_STAFF: &str = "mutation($f: ID!, $e: String!) { inviteFunderStaff(funderId: $f, email: $e, givenName: \"Nadia\", familyName: \"Benali\") { id email } }";

/// An error as a client compares it (the request id differs on every call).
fn same(v: &Value) -> Value {
    let e = &v["errors"][0];
    json!([
        e["message"],
        e["extensions"]["code"],
        e["extensions"]["field"],
        e["extensions"]["reason"]
    ])
}

fn field(v: &Value) -> String {
    v["errors"][0]["extensions"]["field"]
        .as_str()
        .unwrap_or("")
        .to_owned()
}

async fn gql(app: &TestApp, c: &Campus, token: &str, q: &str, vars: Value) -> Value {
    app.gql(Some(&c.slug), Some(token), q, vars).await
}

async fn funder(app: &TestApp, c: &Campus, kind: &str, org: Option<&str>) -> Value {
    let v = gql(
        app,
        c,
        &c.admin_token,
        CREATE_FUNDER,
        json!({ "i": { "name": fixtures::unique("Fonds "), "kind": kind, "contactName": "Claire Petit",
                       "contactEmail": "claire@fonds.test", "organisationId": org } }),
    )
    .await;
    ok(&v)["createFunder"].clone()
}

fn batch_input(funder: &str, count: i64) -> Value {
    json!({
        "funderId": funder, "name": "Autumn", "count": count,
        "faceValue": { "amountMinor": 50000, "currency": "EUR" },
        "validUntil": (Utc::now() + Duration::days(90)).to_rfc3339(),
    })
}

async fn batch(app: &TestApp, c: &Campus, token: &str, input: Value) -> Value {
    let v = gql(app, c, token, CREATE_BATCH, json!({ "i": input })).await;
    ok(&v)["createVoucherBatch"].clone()
}

fn codes_of(b: &Value) -> Vec<String> {
    b["codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect()
}

/// Invites a funder's staff member and signs them in; returns (person id, token).
async fn staff(app: &TestApp, c: &Campus, funder: &str, email: &str) -> (String, String) {
    let v = gql(
        app,
        c,
        &c.admin_token,
        INVITE_STAFF,
        json!({ "f": funder, "e": email }),
    )
    .await;
    let id = ok(&v)["inviteFunderStaff"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let token = fixtures::invitation_token(app, &c.slug, email).await;
    let s = fixtures::accept(app, &c.slug, &token).await;
    (id, s["accessToken"].as_str().unwrap().to_owned())
}

/// A sector fund and a batch of two codes of it, made by the space's admin: (funder, batch,
/// one of its codes).
pub(crate) async fn funder_with_batch(app: &TestApp, c: &Campus) -> (String, String, String) {
    let f = funder(app, c, "SECTOR_FUND", None).await;
    let id = f["id"].as_str().unwrap().to_owned();
    let made = batch(app, c, &c.admin_token, batch_input(&id, 2)).await;
    (
        id,
        made["batch"]["id"].as_str().unwrap().to_owned(),
        codes_of(&made)[0].clone(),
    )
}

fn ids(v: &Value) -> Vec<String> {
    v["edges"]
        .as_array()
        .map(|e| {
            e.iter()
                .map(|n| n["node"]["id"].as_str().unwrap_or("").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

async fn funders_and_their_staff(backend: Backend) {
    let app = TestApp::start(backend).await;
    let op = fixtures::operator(&app).await;
    let c = fixtures::campus(&app, &op).await;
    // A sector fund with no organisation gets one under the root, in its name.
    let fund = funder(&app, &c, "SECTOR_FUND", None).await;
    assert_eq!(fund["kind"], "SECTOR_FUND");
    assert_eq!(fund["organisation"]["name"], fund["name"]);
    assert_ne!(fund["organisation"]["id"], c.root_id.as_str());
    // An employer funds through its own company; one funder per organisation.
    let company = fixtures::company(&app, &c, "Durand").await;
    let employer = funder(&app, &c, "EMPLOYER", Some(&company)).await;
    assert_eq!(employer["organisation"]["id"], company.as_str());
    let again = gql(
        &app,
        &c,
        &c.admin_token,
        CREATE_FUNDER,
        json!({ "i": { "name": "Again", "kind": "EMPLOYER", "contactName": "X", "contactEmail": "x@y.test", "organisationId": company } }),
    )
    .await;
    assert_eq!(code(&again), "CONFLICT");
    assert_eq!(field(&again), "organisationId");
    for (input, f) in [
        (
            json!({ "name": "F", "kind": "PLA", "contactName": "X", "contactEmail": "not an email" }),
            "contactEmail",
        ),
        (
            json!({ "name": " ", "kind": "PLA", "contactName": "X", "contactEmail": "x@y.test" }),
            "name",
        ),
        (
            json!({ "name": "F", "kind": "PLA", "contactName": "", "contactEmail": "x@y.test" }),
            "contactName",
        ),
        (
            json!({ "name": "F", "kind": "PLA", "contactName": "X", "contactEmail": "x@y.test", "organisationId": uuid::Uuid::now_v7().to_string() }),
            "organisationId",
        ),
    ] {
        let v = gql(
            &app,
            &c,
            &c.admin_token,
            CREATE_FUNDER,
            json!({ "i": input }),
        )
        .await;
        assert_eq!(field(&v), f, "{v:#}");
    }

    // The fund's staff: a person of its organisation with the FUNDER role there.
    let fund_id = fund["id"].as_str().unwrap();
    let employer_id = employer["id"].as_str().unwrap();
    let (staff_id, staff_token) = staff(&app, &c, fund_id, "nadia@fonds.test").await;
    let v = gql(
        &app,
        &c,
        &c.admin_token,
        "query($id: ID!) { person(id: $id) { organisation { id } roles { role organisationId } } }",
        json!({ "id": staff_id }),
    )
    .await;
    let org = fund["organisation"]["id"].clone();
    assert_eq!(ok(&v)["person"]["organisation"]["id"], org);
    assert_eq!(
        ok(&v)["person"]["roles"],
        json!([{ "role": "FUNDER", "organisationId": org }])
    );
    let v = gql(
        &app,
        &c,
        &staff_token,
        "{ funders { edges { node { id } } } }",
        json!({}),
    )
    .await;
    assert_eq!(ids(&ok(&v)["funders"]), vec![fund_id.to_owned()]);
    let v = gql(
        &app,
        &c,
        &staff_token,
        "query($id: ID!) { funder(id: $id) { id name } }",
        json!({ "id": employer_id }),
    )
    .await;
    assert_eq!(code(&v), "NOT_FOUND");
    // Nothing else of the space widens for them: they read as a plain person.
    let v = gql(
        &app,
        &c,
        &staff_token,
        "{ viewer { id organisation { id } } }",
        json!({}),
    )
    .await;
    assert_eq!(ok(&v)["viewer"]["id"], staff_id.as_str());
    let v = gql(
        &app,
        &c,
        &staff_token,
        "{ organisations(first: 50) { edges { node { id } } } }",
        json!({}),
    )
    .await;
    if v.get("errors").is_some() {
        assert_eq!(code(&v), "FORBIDDEN", "{v:#}");
    } else {
        let seen = ids(&v["data"]["organisations"]);
        assert!(
            seen.iter()
                .all(|o| o == fund["organisation"]["id"].as_str().unwrap()),
            "{seen:?}"
        );
    }
    let v = gql(
        &app,
        &c,
        &staff_token,
        "{ people(first: 50) { edges { node { id } } } }",
        json!({}),
    )
    .await;
    if v.get("errors").is_some() {
        assert_eq!(code(&v), "FORBIDDEN", "{v:#}");
    } else {
        let seen = ids(&v["data"]["people"]);
        assert!(seen.iter().all(|p| *p == staff_id), "{seen:?}");
    }
    let v = gql(
        &app,
        &c,
        &staff_token,
        "{ billingAccounts { edges { node { id } } } }",
        json!({}),
    )
    .await;
    assert!(
        v.get("errors").is_some() || ids(&v["data"]["billingAccounts"]).is_empty(),
        "{v:#}"
    );
    // Staff do not create funders nor invite staff; a plain learner sees no funder at all.
    let v = gql(&app, &c, &staff_token, CREATE_FUNDER, json!({ "i": { "name": "Mine", "kind": "PLA", "contactName": "X", "contactEmail": "x@y.test" } })).await;
    assert_eq!(code(&v), "FORBIDDEN");
    let v = gql(
        &app,
        &c,
        &staff_token,
        INVITE_STAFF,
        json!({ "f": fund_id, "e": "other@fonds.test" }),
    )
    .await;
    assert_eq!(code(&v), "FORBIDDEN");
    let (_, learner) = fixtures::member(
        &app,
        &c,
        &c.admin_token,
        &company,
        "lea@durand.test",
        "LEARNER",
    )
    .await;
    let v = gql(
        &app,
        &c,
        &learner,
        "{ funders { edges { node { id } } } }",
        json!({}),
    )
    .await;
    assert_eq!(code(&v), "FORBIDDEN");
    let v = gql(
        &app,
        &c,
        &learner,
        "query($id: ID!) { funder(id: $id) { id } }",
        json!({ "id": fund_id }),
    )
    .await;
    assert_eq!(code(&v), "NOT_FOUND");
    let v = gql(
        &app,
        &c,
        &learner,
        INVITE_STAFF,
        json!({ "f": fund_id, "e": "x@fonds.test" }),
    )
    .await;
    assert_eq!(code(&v), "NOT_FOUND");
    assert_eq!(field(&v), "funderId");
    let v = gql(
        &app,
        &c,
        &learner,
        CREATE_BATCH,
        json!({ "i": batch_input(fund_id, 1) }),
    )
    .await;
    assert_eq!(code(&v), "FORBIDDEN");
    app.stop().await;
}

#[tokio::test]
async fn funders_and_their_staff_on_sqlite() {
    funders_and_their_staff(Backend::Sqlite).await;
}

#[tokio::test]
async fn funders_and_their_staff_on_postgres() {
    funders_and_their_staff(Backend::Postgres).await;
}

async fn batches_checked_revoked_and_counted(backend: Backend) {
    let app = TestApp::start(backend).await;
    let op = fixtures::operator(&app).await;
    let c = fixtures::campus(&app, &op).await;
    let fund = funder(&app, &c, "SECTOR_FUND", None).await;
    let fund_id = fund["id"].as_str().unwrap().to_owned();
    let pla = funder(&app, &c, "PLA", None).await;
    let pla_id = pla["id"].as_str().unwrap().to_owned();
    let (_, staff_token) = staff(&app, &c, &fund_id, "nadia@fonds.test").await;

    // Every field is checked by name, and nothing is made when one fails.
    let unknown = uuid::Uuid::now_v7().to_string();
    let until = (Utc::now() + Duration::days(90)).to_rfc3339();
    let past = (Utc::now() - Duration::days(1)).to_rfc3339();
    let with = |patch: Value| {
        let mut i = batch_input(&fund_id, 5);
        for (k, v) in patch.as_object().unwrap() {
            if v.is_null() {
                i.as_object_mut().unwrap().remove(k);
            } else {
                i[k] = v.clone();
            }
        }
        i
    };
    for (input, code_, f) in [
        (with(json!({ "count": 0 })), "BAD_USER_INPUT", "count"),
        (with(json!({ "count": 100_001 })), "BAD_USER_INPUT", "count"),
        (
            with(json!({ "percentBasisPoints": 5000 })),
            "BAD_USER_INPUT",
            "percentBasisPoints",
        ),
        (
            with(json!({ "faceValue": null })),
            "BAD_USER_INPUT",
            "faceValue",
        ),
        (
            with(json!({ "cap": { "amountMinor": 100, "currency": "EUR" } })),
            "BAD_USER_INPUT",
            "cap",
        ),
        (
            with(
                json!({ "faceValue": null, "percentBasisPoints": 20000, "cap": { "amountMinor": 100, "currency": "EUR" } }),
            ),
            "BAD_USER_INPUT",
            "percentBasisPoints",
        ),
        (
            with(json!({ "faceValue": null, "percentBasisPoints": 5000 })),
            "BAD_USER_INPUT",
            "cap",
        ),
        (
            with(json!({ "faceValue": { "amountMinor": 0, "currency": "EUR" } })),
            "BAD_USER_INPUT",
            "faceValue",
        ),
        (
            with(json!({ "faceValue": { "amountMinor": 100, "currency": "EURO" } })),
            "BAD_USER_INPUT",
            "faceValue.currency",
        ),
        (
            with(json!({ "minLearnerShare": { "amountMinor": 100, "currency": "USD" } })),
            "BAD_USER_INPUT",
            "minLearnerShare.currency",
        ),
        (
            with(json!({ "validUntil": past })),
            "BAD_USER_INPUT",
            "validUntil",
        ),
        (
            with(json!({ "validFrom": until, "validUntil": until })),
            "BAD_USER_INPUT",
            "validUntil",
        ),
        (
            with(json!({ "usesPerCode": 0 })),
            "BAD_USER_INPUT",
            "usesPerCode",
        ),
        (with(json!({ "name": "" })), "BAD_USER_INPUT", "name"),
        (
            with(json!({ "funderId": "nope" })),
            "BAD_USER_INPUT",
            "funderId",
        ),
        (
            with(json!({ "funderId": unknown })),
            "NOT_FOUND",
            "funderId",
        ),
        (
            with(json!({ "courseIds": [unknown] })),
            "NOT_FOUND",
            "courseIds",
        ),
        (
            with(json!({ "editionIds": [unknown] })),
            "NOT_FOUND",
            "editionIds",
        ),
        (
            with(json!({ "organisationIds": [unknown] })),
            "NOT_FOUND",
            "organisationIds",
        ),
        (
            with(json!({ "courseIds": [] })),
            "BAD_USER_INPUT",
            "courseIds",
        ),
        // Staff of one funder cannot issue another's codes: it does not exist for them.
        (with(json!({ "funderId": pla_id })), "NOT_FOUND", "funderId"),
    ] {
        let v = gql(&app, &c, &staff_token, CREATE_BATCH, json!({ "i": input })).await;
        assert_eq!(
            (code(&v), field(&v)),
            (code_.to_owned(), f.to_owned()),
            "{v:#}"
        );
    }
    let v = gql(&app, &c, &c.admin_token, STATS, json!({ "f": fund_id })).await;
    assert!(ids(&ok(&v)["voucherBatches"]).is_empty());

    // The fund's staff issue a batch restricted to a company's subtree and a size band.
    let company = fixtures::company(&app, &c, "Durand").await;
    let made = batch(
        &app,
        &c,
        &staff_token,
        with(json!({ "organisationIds": [company], "sizeBands": ["FROM_11_TO_49"], "usesPerCode": 2 })),
    )
    .await;
    assert_eq!(made["batch"]["kind"], "SECTOR_FUND");
    assert_eq!(made["batch"]["count"], 5);
    assert_eq!(made["batch"]["usesPerCode"], 2);
    assert_eq!(made["batch"]["funder"]["id"], fund_id.as_str());
    let codes = codes_of(&made);
    assert_eq!(codes.len(), 5);
    let csv: Vec<&str> = made["csv"].as_str().unwrap().lines().collect();
    assert_eq!(csv[0], "code");
    assert_eq!(
        &csv[1..],
        codes.iter().map(String::as_str).collect::<Vec<_>>()
    );
    for k in &codes {
        assert_eq!(k.len(), 20);
        assert!(codes::Code::parse(k).is_ok(), "{k}");
    }
    // The PLA funder's batch (by an admin) is a PLA batch: the kind is the funder's.
    let pla_batch = batch(
        &app,
        &c,
        &c.admin_token,
        json!({ "funderId": pla_id, "name": "CPF", "count": 3, "percentBasisPoints": 5000,
                "cap": { "amountMinor": 50000, "currency": "EUR" }, "validUntil": until,
                "minLearnerShare": { "amountMinor": 10000, "currency": "EUR" } }),
    )
    .await;
    assert_eq!(pla_batch["batch"]["kind"], "PLA");
    assert_eq!(pla_batch["batch"]["percentBasisPoints"], 5000);
    assert_eq!(pla_batch["batch"]["faceValue"], Value::Null);
    let pla_codes = codes_of(&pla_batch);
    let batch_id = made["batch"]["id"].as_str().unwrap().to_owned();
    let pla_batch_id = pla_batch["batch"]["id"].as_str().unwrap().to_owned();

    // Figures as made.
    let v = gql(&app, &c, &staff_token, STATS, json!({ "f": fund_id })).await;
    let node = &ok(&v)["voucherBatches"]["edges"][0]["node"];
    assert_eq!(node["id"], batch_id.as_str());
    assert_eq!(
        node["stats"],
        json!({ "issued": 5, "redeemed": 0, "pending": 0, "expired": 0, "revoked": 0, "consumed": { "amountMinor": 0, "currency": "EUR" } })
    );
    // Staff see their batch, not the PLA funder's.
    let q = "query($id: ID!) { voucherBatch(id: $id) { id stats { issued } } }";
    let v = gql(&app, &c, &staff_token, q, json!({ "id": batch_id })).await;
    assert_eq!(ok(&v)["voucherBatch"]["stats"]["issued"], 5);
    let v = gql(&app, &c, &staff_token, q, json!({ "id": pla_batch_id })).await;
    assert_eq!(code(&v), "NOT_FOUND");
    let v = gql(&app, &c, &staff_token, STATS, json!({ "f": pla_id })).await;
    assert_eq!(
        (code(&v), field(&v)),
        ("NOT_FOUND".into(), "funderId".into())
    );

    // One code revoked as typed (grouped), another in lower case without hyphens.
    let rv = "mutation($c: String!) { revokeVoucher(code: $c) }";
    let v = gql(&app, &c, &staff_token, rv, json!({ "c": codes[0] })).await;
    assert_eq!(ok(&v)["revokeVoucher"], true);
    let v = gql(
        &app,
        &c,
        &staff_token,
        rv,
        json!({ "c": codes[1].replace('-', "").to_lowercase() }),
    )
    .await;
    assert_eq!(ok(&v)["revokeVoucher"], true);
    // Revoking again changes nothing.
    let v = gql(&app, &c, &staff_token, rv, json!({ "c": codes[0] })).await;
    assert_eq!(ok(&v)["revokeVoucher"], true);
    // Another funder's code and an unknown well-formed code answer alike; a mistyped one is
    // caught by its check character.
    let other = gql(&app, &c, &staff_token, rv, json!({ "c": pla_codes[0] })).await;
    let fresh = codes::generate(1).unwrap()[0].grouped();
    let unknown_code = gql(&app, &c, &staff_token, rv, json!({ "c": fresh })).await;
    assert_eq!(
        (code(&other), field(&other)),
        ("NOT_FOUND".into(), "code".into())
    );
    assert_eq!(same(&other), same(&unknown_code));
    let mut typo: Vec<char> = codes[2].chars().collect();
    typo[0] = if typo[0] == 'A' { 'B' } else { 'A' };
    let v = gql(
        &app,
        &c,
        &staff_token,
        rv,
        json!({ "c": typo.iter().collect::<String>() }),
    )
    .await;
    assert_eq!(
        (code(&v), field(&v)),
        ("BAD_USER_INPUT".into(), "code".into())
    );
    let v = gql(&app, &c, &staff_token, STATS, json!({ "f": fund_id })).await;
    assert_eq!(
        ok(&v)["voucherBatches"]["edges"][0]["node"]["stats"]["revoked"],
        2
    );

    // The whole batch revoked: every code counts as revoked; again answers the same batch.
    let rb =
        "mutation($id: ID!) { revokeVoucherBatch(id: $id) { id revokedAt stats { revoked } } }";
    let v = gql(&app, &c, &staff_token, rb, json!({ "id": pla_batch_id })).await;
    assert_eq!(code(&v), "NOT_FOUND");
    let v = gql(&app, &c, &staff_token, rb, json!({ "id": batch_id })).await;
    let revoked_at = ok(&v)["revokeVoucherBatch"]["revokedAt"].clone();
    assert!(revoked_at.is_string());
    assert_eq!(ok(&v)["revokeVoucherBatch"]["stats"]["revoked"], 5);
    let v = gql(&app, &c, &staff_token, rb, json!({ "id": batch_id })).await;
    assert_eq!(ok(&v)["revokeVoucherBatch"]["revokedAt"], revoked_at);

    // Past its window, the PLA batch's unused codes count as expired (the revoked ones do not).
    let v = gql(&app, &c, &c.admin_token, rv, json!({ "c": pla_codes[1] })).await;
    assert_eq!(ok(&v)["revokeVoucher"], true);
    app.state.deps.clock.advance(Duration::days(91));
    let v = gql(&app, &c, &c.admin_token, STATS, json!({ "f": pla_id })).await;
    let s = &ok(&v)["voucherBatches"]["edges"][0]["node"]["stats"];
    assert_eq!(
        (
            s["issued"].clone(),
            s["expired"].clone(),
            s["revoked"].clone()
        ),
        (json!(3), json!(2), json!(1))
    );
    // The same figures through `funder { batches }`.
    let v = gql(
        &app,
        &c,
        &c.admin_token,
        "query($id: ID!) { funder(id: $id) { batches { edges { node { stats { expired } } } } } }",
        json!({ "id": pla_id }),
    )
    .await;
    assert_eq!(
        ok(&v)["funder"]["batches"]["edges"][0]["node"]["stats"]["expired"],
        2
    );
    app.stop().await;
}

#[tokio::test]
async fn batches_checked_revoked_and_counted_on_sqlite() {
    batches_checked_revoked_and_counted(Backend::Sqlite).await;
}

#[tokio::test]
async fn batches_checked_revoked_and_counted_on_postgres() {
    batches_checked_revoked_and_counted(Backend::Postgres).await;
}

async fn another_space_is_unknown(backend: Backend) {
    let app = TestApp::start(backend).await;
    let op = fixtures::operator(&app).await;
    let a = fixtures::campus(&app, &op).await;
    let b = fixtures::campus(&app, &op).await;
    let fb = funder(&app, &b, "SECTOR_FUND", None).await;
    let fb_id = fb["id"].as_str().unwrap().to_owned();
    let made = batch(&app, &b, &b.admin_token, batch_input(&fb_id, 3)).await;
    let bb_id = made["batch"]["id"].as_str().unwrap().to_owned();
    let b_code = codes_of(&made)[0].clone();
    let unknown = uuid::Uuid::now_v7().to_string();
    let fresh = codes::generate(1).unwrap()[0].grouped();
    // Each operation of A, given B's row and given an unknown one: the same answer.
    let cases: Vec<(&str, Value, Value)> = vec![
        (
            "query($id: ID!) { funder(id: $id) { id } }",
            json!({ "id": fb_id }),
            json!({ "id": unknown }),
        ),
        (
            "query($id: ID!) { voucherBatch(id: $id) { id } }",
            json!({ "id": bb_id }),
            json!({ "id": unknown }),
        ),
        (STATS, json!({ "f": fb_id }), json!({ "f": unknown })),
        (
            CREATE_BATCH,
            json!({ "i": batch_input(&fb_id, 1) }),
            json!({ "i": batch_input(&unknown, 1) }),
        ),
        (
            "mutation($id: ID!) { revokeVoucherBatch(id: $id) { id } }",
            json!({ "id": bb_id }),
            json!({ "id": unknown }),
        ),
        (
            "mutation($c: String!) { revokeVoucher(code: $c) }",
            json!({ "c": b_code }),
            json!({ "c": fresh }),
        ),
        (
            INVITE_STAFF,
            json!({ "f": fb_id, "e": "x@a.test" }),
            json!({ "f": unknown, "e": "x@a.test" }),
        ),
        (
            CREATE_FUNDER,
            json!({ "i": { "name": "X", "kind": "PLA", "contactName": "X", "contactEmail": "x@a.test", "organisationId": b.root_id } }),
            json!({ "i": { "name": "X", "kind": "PLA", "contactName": "X", "contactEmail": "x@a.test", "organisationId": unknown } }),
        ),
    ];
    for (q, foreign, missing) in cases {
        let f = gql(&app, &a, &a.admin_token, q, foreign).await;
        let m = gql(&app, &a, &a.admin_token, q, missing).await;
        assert_eq!(code(&f), "NOT_FOUND", "{q}: {f:#}");
        assert_eq!(same(&f), same(&m), "{q}");
    }
    // Nothing of B changed: its batch and codes stand, unrevoked, and no staff was invited.
    let v = gql(&app, &b, &b.admin_token, STATS, json!({ "f": fb_id })).await;
    let node = &ok(&v)["voucherBatches"]["edges"][0]["node"];
    assert_eq!(node["revokedAt"], Value::Null);
    assert_eq!(node["stats"]["revoked"], 0);
    let v = gql(
        &app,
        &b,
        &b.admin_token,
        "{ funders { edges { node { id } } } }",
        json!({}),
    )
    .await;
    assert_eq!(ids(&ok(&v)["funders"]), vec![fb_id]);
    let v = gql(
        &app,
        &a,
        &a.admin_token,
        "{ funders { edges { node { id } } } }",
        json!({}),
    )
    .await;
    assert!(ids(&ok(&v)["funders"]).is_empty());
    app.stop().await;
}

#[tokio::test]
async fn another_space_is_unknown_on_sqlite() {
    another_space_is_unknown(Backend::Sqlite).await;
}

#[tokio::test]
async fn another_space_is_unknown_on_postgres() {
    another_space_is_unknown(Backend::Postgres).await;
}

async fn codes_never_kept_nor_logged(backend: Backend) {
    let logs = spaces_tests::logs::Capture::start();
    let app = TestApp::start(backend).await;
    let op = fixtures::operator(&app).await;
    let c = fixtures::campus(&app, &op).await;
    let f = funder(&app, &c, "SECTOR_FUND", None).await;
    let made = batch(
        &app,
        &c,
        &c.admin_token,
        batch_input(f["id"].as_str().unwrap(), 50),
    )
    .await;
    let codes = codes_of(&made);
    // Read and revoke through the API too, so every path that sees a code has run.
    let rv = "mutation($c: String!) { revokeVoucher(code: $c) }";
    ok(&gql(&app, &c, &c.admin_token, rv, json!({ "c": codes[0] })).await);
    // Redeem: a learner's own code (and a refused one), and HR's enrolment with one typed in
    // lower case without hyphens.
    let durand = fixtures::company(&app, &c, "Durand").await;
    fixtures::billing_account(&app, &c, &durand).await;
    fixtures::billing_account(&app, &c, f["organisation"]["id"].as_str().unwrap()).await;
    let course = fixtures::published_course(&app, &op, "HACCP").await;
    let e = fixtures::open_edition(&app, &c, &course, "SELF_ENROLMENT", None, &[]).await;
    let v = gql(
        &app,
        &c,
        &c.admin_token,
        "mutation($id: ID!) { updateEdition(id: $id, input: { price: { amountMinor: 70000, currency: \"EUR\" } }) { id } }",
        json!({ "id": e }),
    )
    .await;
    ok(&v);
    let (_, lea) = fixtures::member(
        &app,
        &c,
        &c.admin_token,
        &durand,
        "lea@durand.test",
        "LEARNER",
    )
    .await;
    let (max, _) = fixtures::member(
        &app,
        &c,
        &c.admin_token,
        &durand,
        "max@durand.test",
        "LEARNER",
    )
    .await;
    let redeem = "mutation($e: ID!, $c: [String!]) { selfEnrol(editionId: $e, voucherCodes: $c) { status } }";
    let v = gql(&app, &c, &lea, redeem, json!({ "e": e, "c": [codes[0]] })).await;
    assert_eq!(v["errors"][0]["extensions"]["reason"], "revoked", "{v}");
    let v = gql(&app, &c, &lea, redeem, json!({ "e": e, "c": [codes[1]] })).await;
    assert_eq!(ok(&v)["selfEnrol"]["status"], "ACTIVE");
    let v = gql(
        &app,
        &c,
        &c.admin_token,
        "mutation($i: EnrolInput!) { enrol(input: $i) { status } }",
        json!({ "i": { "editionId": e, "personId": max, "voucherCodes": [codes[2].replace('-', "").to_lowercase()] } }),
    )
    .await;
    assert_eq!(ok(&v)["enrol"]["status"], "ACTIVE");
    assert_eq!(app.dump_tenant(&c.id).await["voucher_redemptions"].len(), 2);
    let dump = serde_json::to_string(&app.dump_tenant(&c.id).await).unwrap();
    let text = logs.text();
    assert!(!text.is_empty(), "the capture saw the requests");
    for k in &codes {
        let bare = k.replace('-', "");
        for form in [
            k.clone(),
            bare.clone(),
            k.to_lowercase(),
            bare.to_lowercase(),
        ] {
            assert!(!dump.contains(&form), "a code is stored in plaintext");
            assert!(!text.contains(&form), "a code is logged in plaintext");
        }
    }
    app.stop().await;
}

#[tokio::test]
async fn codes_never_kept_nor_logged_on_sqlite() {
    codes_never_kept_nor_logged(Backend::Sqlite).await;
}

#[tokio::test]
async fn codes_never_kept_nor_logged_on_postgres() {
    codes_never_kept_nor_logged(Backend::Postgres).await;
}

#[tokio::test]
async fn courses_take_a_registry_code() {
    let app = TestApp::start(Backend::Sqlite).await;
    let op = fixtures::operator(&app).await;
    let c = fixtures::campus(&app, &op).await;
    let course = fixtures::published_course(&app, &op, "HACCP").await;
    let set = "mutation($id: ID!, $r: String) { setCoursePlaRegistryCode(courseId: $id, registryCode: $r) { id plaRegistryCode } }";
    let v = app
        .gql(
            None,
            Some(&op),
            set,
            json!({ "id": course, "r": " rncp34825 " }),
        )
        .await;
    assert_eq!(
        ok(&v)["setCoursePlaRegistryCode"]["plaRegistryCode"],
        "RNCP34825"
    );
    for bad in ["34825", "RNCP", "RNCP34A", "XYZ12"] {
        let v = app
            .gql(None, Some(&op), set, json!({ "id": course, "r": bad }))
            .await;
        assert_eq!(
            (code(&v), field(&v)),
            ("BAD_USER_INPUT".into(), "registryCode".into()),
            "{bad}"
        );
    }
    let v = app
        .gql(
            Some(&c.slug),
            Some(&c.admin_token),
            set,
            json!({ "id": course, "r": "RS5060" }),
        )
        .await;
    assert_eq!(code(&v), "FORBIDDEN");
    let v = app
        .gql(
            None,
            Some(&op),
            set,
            json!({ "id": uuid::Uuid::now_v7().to_string(), "r": "RS5060" }),
        )
        .await;
    assert_eq!(code(&v), "NOT_FOUND");
    let v = app
        .gql(None, Some(&op), set, json!({ "id": course, "r": null }))
        .await;
    assert_eq!(
        ok(&v)["setCoursePlaRegistryCode"]["plaRegistryCode"],
        Value::Null
    );
    app.stop().await;
}
