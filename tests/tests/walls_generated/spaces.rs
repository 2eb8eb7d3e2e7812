//! The two spaces: A, with a row in every table, and B, whose valid rows fill the ids a
//! probe leaves alone.

use std::collections::BTreeMap;

use serde_json::json;
use spaces_tests::TestApp;
use spaces_tests::app::ok;
use spaces_tests::fixtures::{self, Campus, unique};

use super::Kind;

/// A's ids by the kind of row they name, and the secrets B must not be able to use.
pub(super) struct SpaceA {
    pub(super) campus: Campus,
    pub(super) ids: BTreeMap<Kind, Vec<String>>,
    pub(super) admin_email: String,
    pub(super) refresh_token: String,
    pub(super) invitation_token: String,
    pub(super) voucher_code: String,
}

/// A space with something in every table: a tree of organisations (one archived), people in
/// each role (one still invited), draft and open editions, a pathway, enrolments (one waiting
/// for approval), a session.
pub(super) async fn rich_a(app: &TestApp, op: &str, courses: &[String]) -> SpaceA {
    let a = fixtures::campus(app, op).await;
    let company = fixtures::organisation(app, &a, &a.root_id, "COMPANY", &unique("A-Co-")).await;
    let dept = fixtures::organisation(app, &a, &company, "DEPARTMENT", &unique("A-Dept-")).await;
    let team = fixtures::organisation(app, &a, &dept, "TEAM", &unique("A-Team-")).await;
    let gone = fixtures::organisation(app, &a, &company, "TEAM", &unique("A-Gone-")).await;
    let v = app
        .gql(
            Some(&a.slug),
            Some(&a.admin_token),
            "mutation($id: ID!) { archiveOrganisation(id: $id) { id } }",
            json!({ "id": gone }),
        )
        .await;
    ok(&v);
    let mail = |who: &str| format!("{}@{}.test", unique(who), a.slug);
    let (hr, hr_token) =
        fixtures::member(app, &a, &a.admin_token, &company, &mail("hr"), "ORG_ADMIN").await;
    let (manager, _) =
        fixtures::member(app, &a, &a.admin_token, &dept, &mail("mgr"), "MANAGER").await;
    let (learner, learner_token) =
        fixtures::member(app, &a, &a.admin_token, &team, &mail("lea"), "LEARNER").await;
    let invited_email = mail("new");
    let invited = fixtures::invite(
        app,
        &a,
        &team,
        &invited_email,
        &unique("Invitee-"),
        "LEARNER",
    )
    .await;
    let self_ed = fixtures::open_edition(
        app,
        &a,
        &courses[0],
        "SELF_ENROLMENT",
        Some(50),
        &[&company],
    )
    .await;
    let approval_ed = fixtures::open_edition(app, &a, &courses[1], "ON_APPROVAL", None, &[]).await;
    let v = app
        .gql(
            Some(&a.slug),
            Some(&a.admin_token),
            "mutation($i: CreateEditionInput!) { createEdition(input: $i) { id } }",
            json!({ "i": { "courseId": courses[0], "title": unique("A draft "), "enrolmentMode": "ASSIGNED_ONLY", "visibility": "WHOLE_TENANT", "includedInSubscription": true } }),
        )
        .await;
    let draft_ed = ok(&v)["createEdition"]["id"].as_str().unwrap().to_owned();
    for ed in [&self_ed, &approval_ed] {
        let v = app
            .gql(
                Some(&a.slug),
                Some(&a.admin_token),
                "mutation($id: ID!, $t: String!) { updateEdition(id: $id, input: { title: $t, description: $t }) { id } }",
                json!({ "id": ed, "t": unique("A edition ") }),
            )
            .await;
        ok(&v);
    }
    let pathway =
        fixtures::pathway(app, &a, &unique("A pathway "), &[&self_ed, &approval_ed]).await;
    let assigned = fixtures::enrol(app, &a, &hr_token, &self_ed, &learner).await;
    let v = app
        .gql(
            Some(&a.slug),
            Some(&a.admin_token),
            "query($id: ID!) { edition(id: $id) { modules { id } } }",
            json!({ "id": self_ed }),
        )
        .await;
    let module = ok(&v)["edition"]["modules"][0]["id"].as_str().unwrap();
    fixtures::record_progress(app, &a.id, &assigned, module, true).await;
    let v = app
        .gql(
            Some(&a.slug),
            Some(&learner_token),
            "mutation($e: ID!) { selfEnrol(editionId: $e) { id status } }",
            json!({ "e": approval_ed }),
        )
        .await;
    assert_eq!(ok(&v)["selfEnrol"]["status"], "PENDING_APPROVAL");
    let pending = v["data"]["selfEnrol"]["id"].as_str().unwrap().to_owned();
    let root_account = crate::charges::rows_of_a(app, op, &a, &courses[1], &learner).await;
    crate::redeem::rows_of_a(app, &a, &courses[1], &learner).await;
    crate::learner_payment::row_of_a(app, &a, &courses[1]).await;
    let session = fixtures::sign_in(app, &a.slug, &a.admin_email, fixtures::PASSWORD).await;
    let admin = ok(&session)["signIn"]["person"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let refresh_token = session["data"]["signIn"]["refreshToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let invitation_token = fixtures::invitation_token(app, &a.slug, &invited_email).await;
    // Self-registration: A's setting and a pending registration.
    crate::registration::pending_in(app, &a, &mail("reg")).await;
    // A stored idempotent answer (idempotency_keys).
    let keyed = app
        .client
        .post(format!("{}/graphql", app.base))
        .header("X-Tenant", &a.slug)
        .header("Authorization", format!("Bearer {}", a.admin_token))
        .header("Idempotency-Key", unique("a-key-"))
        .json(&json!({ "query": "{ viewer { email } }" }))
        .send()
        .await
        .unwrap();
    assert!(keyed.status().is_success());
    let people = [admin, hr, manager, learner, invited];
    let mut grants = Vec::new();
    for p in &people {
        grants.extend(fixtures::grants_of(app, &a, p).await);
    }
    // Billing: the company's account, an invoice issued to it, paid in part.
    let account = fixtures::billing_account(app, &a, &company).await;
    let v = fixtures::issue_invoice(app, &a, &account).await;
    let invoice = ok(&v)["issueInvoice"]["id"].as_str().unwrap().to_owned();
    let lines: Vec<String> = v["data"]["issueInvoice"]["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap().to_owned())
        .collect();
    let v = app
        .gql(
            Some(&a.slug),
            Some(&a.admin_token),
            "mutation($id: ID!) { recordPayment(invoiceId: $id, amount: { amountMinor: 100, currency: \"EUR\" }, receivedOn: \"2026-01-15\", reference: \"VIR-A\") { id } }",
            json!({ "id": invoice }),
        )
        .await;
    ok(&v);
    let (funder, batch, voucher_code) = crate::funders::funder_with_batch(app, &a).await;
    // An LRS credential of A (lrs_credentials).
    let (lrs_credential, _, _) = crate::lrs_credentials::credential(app, &a).await;
    // A state document of A (xapi_documents).
    crate::xapi_documents::seed(app, &a).await;
    // A statement of A (xapi_statements, xapi_statement_keys, xapi_activities, xapi_agents).
    spaces_tests::xapi::seed_statement(app, &a).await;
    // A statement of A with an attachment (xapi_attachments).
    spaces_tests::xapi::seed_attachment(app, &a).await;
    // A's logo and a signed certificate (space_logos, credential_keys, credentials).
    let certificate = crate::certificates_checks::seed(app, op, &a).await;
    let modules = module_ids(app, &a, &self_ed).await;
    let ids = BTreeMap::from([
        (Kind::Certificate, vec![certificate]),
        (Kind::Module, modules),
        (Kind::BillingAccount, vec![root_account, account]),
        (Kind::Invoice, vec![invoice]),
        (Kind::InvoiceLine, lines),
        (
            Kind::Organisation,
            vec![a.root_id.clone(), company, dept, team, gone],
        ),
        (Kind::Person, people.to_vec()),
        (Kind::Edition, vec![self_ed, approval_ed, draft_ed]),
        (Kind::Pathway, vec![pathway]),
        (Kind::Enrolment, vec![assigned, pending]),
        (Kind::RoleGrant, grants),
        (Kind::Tenant, vec![a.id.clone()]),
        (Kind::Funder, vec![funder]),
        (Kind::VoucherBatch, vec![batch]),
        (Kind::LrsCredential, vec![lrs_credential]),
    ]);
    SpaceA {
        admin_email: a.admin_email.clone(),
        campus: a,
        ids,
        refresh_token,
        invitation_token,
        voucher_code,
    }
}

/// B, with a valid row of each kind (to fill the ids a probe leaves alone), and the tokens of
/// its HR (of the company those rows are in) and of a learner.
pub(super) struct SpaceB {
    pub(super) campus: Campus,
    pub(super) hr_token: String,
    pub(super) learner_token: String,
    pub(super) rows: BTreeMap<Kind, String>,
}

pub(super) async fn plain_b(app: &TestApp, op: &str, courses: &[String], provider: &str) -> SpaceB {
    let b = fixtures::campus(app, op).await;
    let company = fixtures::company(app, &b, "B Corp").await;
    let (_, hr_token) = fixtures::member(
        app,
        &b,
        &b.admin_token,
        &company,
        &format!("hr@{}.test", b.slug),
        "ORG_ADMIN",
    )
    .await;
    let (learner, learner_token) = fixtures::member(
        app,
        &b,
        &b.admin_token,
        &company,
        &format!("lea@{}.test", b.slug),
        "LEARNER",
    )
    .await;
    let edition = fixtures::open_edition(app, &b, &courses[0], "SELF_ENROLMENT", None, &[]).await;
    let pathway = fixtures::pathway(app, &b, "B pathway", &[&edition]).await;
    let enrolment = fixtures::enrol(app, &b, &b.admin_token, &edition, &learner).await;
    let grant = fixtures::grants_of(app, &b, &learner).await.remove(0);
    let account = fixtures::billing_account(app, &b, &company).await;
    let v = fixtures::issue_invoice(app, &b, &account).await;
    let invoice = ok(&v)["issueInvoice"]["id"].as_str().unwrap().to_owned();
    let line = v["data"]["issueInvoice"]["lines"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (funder, batch, _) = crate::funders::funder_with_batch(app, &b).await;
    let (lrs_credential, _, _) = crate::lrs_credentials::credential(app, &b).await;
    let module = module_ids(app, &b, &edition).await.remove(0);
    let certificate = crate::certificates_checks::seed(app, op, &b).await;
    let rows = BTreeMap::from([
        (Kind::Certificate, certificate),
        (Kind::Module, module),
        (Kind::Funder, funder),
        (Kind::VoucherBatch, batch),
        (Kind::LrsCredential, lrs_credential),
        (Kind::BillingAccount, account),
        (Kind::Invoice, invoice),
        (Kind::InvoiceLine, line),
        (Kind::Organisation, company),
        (Kind::Person, learner),
        (Kind::Edition, edition),
        (Kind::Pathway, pathway),
        (Kind::Enrolment, enrolment),
        (Kind::RoleGrant, grant),
        (Kind::Tenant, b.id.clone()),
        (Kind::Course, courses[0].clone()),
        (Kind::Provider, provider.to_owned()),
        (Kind::Plan, crate::seats::plan(app, op, 1, 0).await),
    ]);
    SpaceB {
        campus: b,
        hr_token,
        learner_token,
        rows,
    }
}

/// The ids of an edition's modules.
async fn module_ids(app: &TestApp, c: &Campus, edition: &str) -> Vec<String> {
    let v = app
        .gql(
            Some(&c.slug),
            Some(&c.admin_token),
            "query($id: ID!) { edition(id: $id) { modules { id } } }",
            serde_json::json!({ "id": edition }),
        )
        .await;
    spaces_tests::app::ok(&v)["edition"]["modules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_owned())
        .collect()
}
