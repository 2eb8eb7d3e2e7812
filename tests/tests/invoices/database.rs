//! What the database itself guarantees: an issued invoice is frozen whatever the code does,
//! and numbers stay gapless under concurrency and rollbacks.

use chrono::Datelike;
use serde_json::json;
use spaces_tests::app::ok;
use spaces_tests::fixtures;
use spaces_tests::{Backend, TestApp};

/// The database refuses to change an issued invoice or delete its lines, whatever the code
/// does: as the server's role on PostgreSQL (inside the space, RLS satisfied), and on SQLite.
async fn frozen(backend: Backend) {
    use sea_orm::{ConnectionTrait, Database, DbBackend, Statement, TransactionTrait};
    let app = TestApp::start(backend).await;
    let op = fixtures::operator(&app).await;
    let a = fixtures::campus(&app, &op).await;
    let buyer = fixtures::billing_account(&app, &a, &a.root_id).await;
    let v = fixtures::issue_invoice(&app, &a, &buyer).await;
    let id = uuid::Uuid::parse_str(ok(&v)["issueInvoice"]["id"].as_str().unwrap()).unwrap();
    let (url, db_backend, mark) = match backend {
        Backend::Postgres => (app.server_url().await, DbBackend::Postgres, "$1"),
        Backend::Sqlite => (
            format!("sqlite://{}", app.data_dir.join("spaces.db").display()),
            DbBackend::Sqlite,
            "?1",
        ),
    };
    let conn = Database::connect(url).await.unwrap();
    for sql in [
        format!("UPDATE invoices SET note = 'changed' WHERE id = {mark}"),
        format!("UPDATE invoices SET status = 'draft', number = NULL WHERE id = {mark}"),
        format!("DELETE FROM invoices WHERE id = {mark}"),
        format!(
            "UPDATE invoice_lines SET unit_price_minor = 1, net_minor = quantity WHERE invoice_id = {mark}"
        ),
        format!("DELETE FROM invoice_lines WHERE invoice_id = {mark}"),
        format!("DELETE FROM payments WHERE invoice_id = {mark}"),
    ] {
        let tx = conn.begin().await.unwrap();
        if backend == Backend::Postgres {
            tx.execute_raw(Statement::from_sql_and_values(
                db_backend,
                "SELECT set_config('app.tenant_id', $1, true)",
                [a.id.clone().into()],
            ))
            .await
            .unwrap();
        }
        let r = tx
            .execute_raw(Statement::from_sql_and_values(
                db_backend,
                &sql,
                [id.into()],
            ))
            .await;
        let refused = match &r {
            Err(_) => true,
            // Payments of this invoice: none yet, so the trigger had nothing to refuse.
            Ok(done) => sql.contains("payments") && done.rows_affected() == 0,
        };
        assert!(refused, "{sql}: {r:?}");
        tx.rollback().await.unwrap();
    }
    conn.close().await.unwrap();
    let v = app
        .gql(
            Some(&a.slug),
            Some(&a.admin_token),
            "query($id: ID!) { invoice(id: $id) { note gross { amountMinor } lines { id } } }",
            json!({ "id": id.to_string() }),
        )
        .await;
    assert_eq!(ok(&v)["invoice"]["note"], "Campus subscription");
    assert_eq!(v["data"]["invoice"]["lines"].as_array().unwrap().len(), 2);
    app.stop().await;
}

#[tokio::test]
async fn an_issued_invoice_is_frozen_by_the_database_on_sqlite() {
    frozen(Backend::Sqlite).await;
}

#[tokio::test]
async fn an_issued_invoice_is_frozen_by_the_database_on_postgres() {
    frozen(Backend::Postgres).await;
}

/// 1,000 issues at once in one space, every tenth rolled back on purpose: the numbers kept are
/// 1..900, without gap or duplicate.
#[tokio::test]
async fn concurrent_issues_leave_no_gap_on_postgres() {
    use spaces_billing::invoices::{IssueInput, LineInput, Vat};
    use spaces_billing::{BillingAccountId, Currency, Money};
    use spaces_tenants::{TenantId, TenantTx};
    let app = TestApp::start(Backend::Postgres).await;
    let op = fixtures::operator(&app).await;
    let a = fixtures::campus(&app, &op).await;
    let buyer: BillingAccountId = fixtures::billing_account(&app, &a, &a.root_id)
        .await
        .parse()
        .unwrap();
    let tenant: TenantId = a.id.parse().unwrap();
    // A pool of its own, as wide as the transactions let in at once: the other 936 tasks wait
    // for their turn rather than for a connection (whose wait would time out).
    const AT_ONCE: usize = 64;
    let db = spaces_tenants::Db::connect(&app.server_url().await, AT_ONCE as u32)
        .await
        .unwrap();
    let gate = std::sync::Arc::new(tokio::sync::Semaphore::new(AT_ONCE));
    let now = app.state.deps.clock.now();
    let eur = Currency::parse("currency", "EUR").unwrap();
    let mut tasks = Vec::new();
    for i in 0..1000u32 {
        let db = db.clone();
        let gate = gate.clone();
        tasks.push(tokio::spawn(async move {
            let _turn = gate.acquire().await.unwrap();
            let tx = TenantTx::begin(&db, tenant).await.unwrap();
            let input = IssueInput {
                buyer,
                lines: vec![LineInput {
                    description: format!("Seat {i}"),
                    quantity: 1,
                    unit_price: Money::new(10_000, eur),
                    vat: Vat::Rate { basis_points: 2000 },
                    charge: None,
                }],
                due_date: now.date_naive() + chrono::Duration::days(30),
                note: None,
            };
            let issued = spaces_billing::invoices::issue(&tx, now, input)
                .await
                .unwrap();
            if i % 10 == 0 {
                tx.rollback().await.unwrap();
            } else {
                tx.commit().await.unwrap();
            }
            issued.number
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let out = app
        .owner_sql(&format!(
            "SELECT number FROM invoices WHERE tenant_id = '{}' AND status = 'issued' ORDER BY number",
            a.id
        ))
        .await;
    let got: Vec<&str> = out.lines().collect();
    let want: Vec<String> = (1..=900)
        .map(|n| format!("{}-F-{}-{n:06}", a.slug.to_uppercase(), now.year()))
        .collect();
    assert_eq!(got, want);
    app.stop().await;
}
