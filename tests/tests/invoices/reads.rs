//! The read side: the document an invoice renders to, and what a page of invoices costs.

use serde_json::json;
use spaces_tests::app::ok;
use spaces_tests::fixtures::{self, INVOICE_FIELDS};
use spaces_tests::{Backend, TestApp};

use super::pay;

/// What the PDF and the UBL XML render: the totals, the VAT breakdown, paid and due, the seller
/// and the buyer as issued, a credit note's invoice. A draft, and another space's invoice,
/// have none.
async fn documents(backend: Backend) {
    use spaces_billing::InvoiceId;
    use spaces_billing::documents::DocumentKind;
    use spaces_tenants::{Error, TenantId, TenantTx};
    let app = TestApp::start(backend).await;
    let op = fixtures::operator(&app).await;
    let a = fixtures::campus(&app, &op).await;
    let b = fixtures::campus(&app, &op).await;
    let buyer = fixtures::billing_account(&app, &a, &a.root_id).await;
    let v = fixtures::issue_invoice(&app, &a, &buyer).await;
    let inv = ok(&v)["issueInvoice"].clone();
    let id: InvoiceId = inv["id"].as_str().unwrap().parse().unwrap();
    let v = pay(&app, &a.slug, &a.admin_token, &id.to_string(), 10_000).await;
    ok(&v);
    let v = app
        .gql(
            Some(&a.slug),
            Some(&a.admin_token),
            "mutation($id: ID!, $l: [ID!]!) { creditInvoice(invoiceId: $id, lineIds: $l, reason: \"Seat returned\") { id } }",
            json!({ "id": id.to_string(), "l": [inv["lines"][0]["id"]] }),
        )
        .await;
    let note: InvoiceId = ok(&v)["creditInvoice"]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let draft = app
        .gql(
            Some(&a.slug),
            Some(&a.admin_token),
            "mutation($i: IssueInvoiceInput!) { createDraftInvoice(input: $i) { id } }",
            json!({ "i": { "buyerId": buyer, "dueDate": app.state.deps.clock.today(), "lines": [
                { "description": "Seats", "quantity": 1, "unitPrice": { "amountMinor": 100, "currency": "EUR" }, "vatBasisPoints": 2000 }
            ] } }),
        )
        .await;
    let draft: InvoiceId = ok(&draft)["createDraftInvoice"]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();

    let tenant: TenantId = a.id.parse().unwrap();
    let tx = TenantTx::begin(&app.state.deps.db, tenant).await.unwrap();
    let d = spaces_billing::invoices::document(&tx, id).await.unwrap();
    assert_eq!(d.kind, DocumentKind::Invoice);
    assert_eq!(d.number, inv["number"].as_str().unwrap());
    assert_eq!(d.currency.code(), "EUR");
    assert_eq!(d.seller.legal_name, "Spaces Platform SAS");
    assert_eq!(d.buyer.vat_number.as_deref(), Some(fixtures::VAT_FR));
    assert_eq!(d.lines.len(), 2);
    assert_eq!(
        (
            d.lines[0].quantity,
            d.lines[0].unit_price_minor,
            d.lines[0].net_minor
        ),
        (2, 10_000, 20_000)
    );
    assert_eq!(d.lines[1].vat_basis_points, None);
    assert_eq!(
        d.vat
            .iter()
            .map(|r| (
                r.vat_basis_points,
                r.exemption.is_some(),
                r.taxable_minor,
                r.vat_minor
            ))
            .collect::<Vec<_>>(),
        [(Some(2000), false, 20_000, 4_000), (None, true, 45_000, 0)]
    );
    assert_eq!(
        (d.net_total_minor, d.vat_total_minor, d.gross_total_minor),
        (65_000, 4_000, 69_000)
    );
    // 690.00, of which 240.00 credited and 100.00 paid: 350.00 due.
    assert_eq!((d.paid_minor, d.due_minor), (10_000, 35_000));
    assert!(d.due_date.is_some());
    let n = spaces_billing::invoices::document(&tx, note).await.unwrap();
    assert_eq!(n.kind, DocumentKind::CreditNote);
    assert_eq!(n.corrects, Some((d.number.clone(), d.issue_date)));
    assert_eq!(n.gross_total_minor, 24_000);
    assert!(matches!(
        spaces_billing::invoices::document(&tx, draft).await,
        Err(Error::NotFound)
    ));
    tx.rollback().await.unwrap();
    let tx = TenantTx::begin(&app.state.deps.db, b.id.parse().unwrap())
        .await
        .unwrap();
    assert!(matches!(
        spaces_billing::invoices::document(&tx, id).await,
        Err(Error::NotFound)
    ));
    tx.rollback().await.unwrap();
    app.stop().await;
}

#[tokio::test]
async fn an_issued_invoice_gives_its_document_on_sqlite() {
    documents(Backend::Sqlite).await;
}

#[tokio::test]
async fn an_issued_invoice_gives_its_document_on_postgres() {
    documents(Backend::Postgres).await;
}

/// A page of invoices with their lines, VAT rows, payments and credit notes costs the same
/// statements for 2 invoices as for 6.
#[tokio::test]
async fn a_page_of_invoices_costs_a_constant_number_of_statements() {
    // No background workers: their statements would land in the counts compared.
    let app = TestApp::start_with(Backend::Sqlite, |c| {
        c.outbox_interval = std::time::Duration::from_secs(3600);
        c.jobs_interval = std::time::Duration::ZERO;
    })
    .await;
    let op = fixtures::operator(&app).await;
    let a = fixtures::campus(&app, &op).await;
    let buyer = fixtures::billing_account(&app, &a, &a.root_id).await;
    let q = format!("{{ invoices(first: 10) {{ edges {{ node {{ {INVOICE_FIELDS} }} }} }} }}");
    let mut runs = Vec::new();
    for n in [2, 6] {
        while count(&app, &a, &q).await < n {
            let v = fixtures::issue_invoice(&app, &a, &buyer).await;
            let id = ok(&v)["issueInvoice"]["id"].as_str().unwrap().to_owned();
            ok(&pay(&app, &a.slug, &a.admin_token, &id, 100).await);
        }
        let before = app.state.deps.db.statements_run();
        let v = app
            .gql(Some(&a.slug), Some(&a.admin_token), &q, json!({}))
            .await;
        runs.push(app.state.deps.db.statements_run() - before);
        let edges = ok(&v)["invoices"]["edges"].as_array().unwrap().clone();
        assert_eq!(edges.len(), n);
        assert!(
            edges
                .iter()
                .all(|e| e["node"]["lines"].as_array().unwrap().len() == 2
                    && e["node"]["payments"].as_array().unwrap().len() == 1)
        );
    }
    assert_eq!(runs[0], runs[1], "{runs:?}");
    app.stop().await;
}

async fn count(app: &TestApp, a: &fixtures::Campus, q: &str) -> usize {
    let v = app
        .gql(Some(&a.slug), Some(&a.admin_token), q, json!({}))
        .await;
    ok(&v)["invoices"]["edges"].as_array().unwrap().len()
}
