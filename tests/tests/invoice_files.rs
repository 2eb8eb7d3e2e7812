//! Invoice downloads, `GET /invoices/{id}.pdf` and `.xml`: who may ask, on which host, and that
//! an id of another space answers exactly like an unknown one; what a real invoice downloads as.

use reqwest::StatusCode;
use reqwest::header::AUTHORIZATION;
use serde_json::Value;
use spaces_billing::documents::DocumentKind;
use spaces_tests::app::code;
use spaces_tests::fixtures::{billing_account, campus, company, issue_invoice, member, operator};
use spaces_tests::{Backend, TestApp};

/// GET a file with an optional `Host` (default: the platform's `localhost`) and token.
async fn get(app: &TestApp, host: &str, token: Option<&str>, file: &str) -> (StatusCode, Value) {
    let mut req = app
        .client
        .get(format!("{}/invoices/{file}", app.base))
        .header("Host", host);
    if let Some(t) = token {
        req = req.header(AUTHORIZATION, format!("Bearer {t}"));
    }
    let r = req.send().await.unwrap();
    let status = r.status();
    let body: Value = r.json().await.unwrap_or(Value::Null);
    (status, body)
}

async fn downloads_are_guarded(backend: Backend) {
    let app = TestApp::start(backend).await;
    let op = operator(&app).await;
    let a = campus(&app, &op).await;
    let b = campus(&app, &op).await;
    let host_a = format!("{}.spaces.test", a.slug);
    let host_b = format!("{}.spaces.test", b.slug);
    let unknown = uuid::Uuid::now_v7();

    for ext in ["pdf", "xml"] {
        let file = format!("{unknown}.{ext}");
        // Without a token: 401, before anything is looked up.
        let (s, v) = get(&app, &host_a, None, &file).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{v}");
        assert_eq!(code(&v), "UNAUTHENTICATED");

        // The space's admin and a platform operator: an unknown id is NOT_FOUND.
        for token in [&a.admin_token, &op] {
            let (s, v) = get(&app, &host_a, Some(token), &file).await;
            assert_eq!(s, StatusCode::NOT_FOUND, "{v}");
            assert_eq!(code(&v), "NOT_FOUND");
        }
        // Also by the custom domain.
        let (s, _) = get(
            &app,
            &format!("{}.example.org", a.slug),
            Some(&a.admin_token),
            &file,
        )
        .await;
        assert_eq!(s, StatusCode::NOT_FOUND);

        // A token of space B on A's host is no credential here (as on /graphql).
        let (s, v) = get(&app, &host_a, Some(&b.admin_token), &file).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{v}");
        // On the platform's host or an unknown space's, there are no invoices at all.
        for host in ["localhost", "nowhere.spaces.test"] {
            let (s, v) = get(&app, host, Some(&a.admin_token), &file).await;
            assert_eq!(s, StatusCode::NOT_FOUND, "{host}: {v}");
        }
    }

    // Malformed names are no files: the same NOT_FOUND as an unknown id.
    for file in [
        format!("{unknown}.html"),
        format!("{unknown}"),
        "not-an-id.pdf".to_owned(),
    ] {
        let (s, v) = get(&app, &host_b, Some(&b.admin_token), &file).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{file}: {v}");
        assert_eq!(code(&v), "NOT_FOUND");
    }

    // A learner of the space may not download invoices; refused before any lookup.
    let acme = company(&app, &a, "Acme").await;
    let (_, learner) = member(&app, &a, &a.admin_token, &acme, "lea@acme.test", "LEARNER").await;
    let (s, v) = get(&app, &host_a, Some(&learner), &format!("{unknown}.pdf")).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    assert_eq!(code(&v), "FORBIDDEN");

    // A real invoice to Acme: its admin and an operator download it; Acme's HR too, another
    // company's HR and space B's admin (on B's host) find nothing.
    let buyer = billing_account(&app, &a, &acme).await;
    let inv = issue_invoice(&app, &a, &buyer).await;
    let id = inv["data"]["issueInvoice"]["id"]
        .as_str()
        .expect("issued")
        .to_owned();
    let number = inv["data"]["issueInvoice"]["number"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, acme_hr) = member(&app, &a, &a.admin_token, &acme, "hr@acme.test", "ORG_ADMIN").await;
    let other = company(&app, &a, "Other").await;
    let (_, other_hr) = member(
        &app,
        &a,
        &a.admin_token,
        &other,
        "hr@other.test",
        "ORG_ADMIN",
    )
    .await;
    for token in [&a.admin_token, &op, &acme_hr] {
        let r = app
            .client
            .get(format!("{}/invoices/{id}.pdf", app.base))
            .header("Host", &host_a)
            .header(AUTHORIZATION, format!("Bearer {token}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()["content-type"], "application/pdf");
        assert!(r.bytes().await.unwrap().starts_with(b"%PDF-"));
        let r = app
            .client
            .get(format!("{}/invoices/{id}.xml", app.base))
            .header("Host", &host_a)
            .header(AUTHORIZATION, format!("Bearer {token}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let xml = r.text().await.unwrap();
        assert!(xml.contains(&format!("<cbc:ID>{number}</cbc:ID>")), "{xml}");
        if let Err(e) = crate::einvoice::xsd_validate(DocumentKind::Invoice, &xml) {
            panic!("the downloaded invoice is not valid UBL 2.1:\n{e}\n{xml}");
        }
    }
    // Its credit note (the exempt line) downloads as a valid UBL CreditNote naming the invoice.
    let exempt = inv["data"]["issueInvoice"]["lines"][1]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let v = app
        .gql(
            Some(&a.slug),
            Some(&a.admin_token),
            "mutation($x: ID!, $l: [ID!]!) { creditInvoice(invoiceId: $x, lineIds: $l, reason: \"Withdrawal\") { id } }",
            serde_json::json!({ "x": id, "l": [exempt] }),
        )
        .await;
    let note = v["data"]["creditInvoice"]["id"]
        .as_str()
        .expect("credited")
        .to_owned();
    let r = app
        .client
        .get(format!("{}/invoices/{note}.xml", app.base))
        .header("Host", &host_a)
        .header(AUTHORIZATION, format!("Bearer {}", a.admin_token))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let xml = r.text().await.unwrap();
    assert!(
        xml.contains(&number),
        "the credit note names its invoice: {xml}"
    );
    if let Err(e) = crate::einvoice::xsd_validate(DocumentKind::CreditNote, &xml) {
        panic!("the downloaded credit note is not valid UBL 2.1:\n{e}\n{xml}");
    }
    let (s, v) = get(&app, &host_a, Some(&other_hr), &format!("{id}.pdf")).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "another company's HR: {v}");
    let (s, v) = get(&app, &host_b, Some(&b.admin_token), &format!("{id}.xml")).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "space B: {v}");
    app.stop().await;
}

#[tokio::test]
async fn invoice_downloads_are_guarded_on_sqlite() {
    downloads_are_guarded(Backend::Sqlite).await;
}

#[tokio::test]
async fn invoice_downloads_are_guarded_on_postgres() {
    downloads_are_guarded(Backend::Postgres).await;
}
