//! The double-entry ledger: balanced postings and what admins read of them (balances, an
//! account's entries), unbalanced ones refused, append-only at the database on both backends,
//! and a ledger no other space can read.

use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement};
use serde_json::{Value, json};
use spaces_billing::ledger::{self, Account, Kind, Posting};
use spaces_billing::{BillingAccountId, Currency, Money};
use spaces_tenants::{TenantId, TenantTx};
use spaces_tests::app::{code, ok};
use spaces_tests::fixtures::{self, Campus};
use spaces_tests::{Backend, TestApp};

const BALANCES: &str =
    "{ ledgerBalances { accountKind billingAccountId balance { amountMinor currency } } }";
const ENTRIES: &str = "query($k: LedgerAccountKind!, $b: ID, $first: Int, $after: String) { ledgerEntries(accountKind: $k, billingAccountId: $b, first: $first, after: $after) { pageInfo { hasNextPage endCursor } edges { node { id transactionId kind referenceId amount { amountMinor currency } createdAt } } } }";

fn eur(n: i64) -> Money {
    Money::new(n, Currency::EUR)
}

/// A connection below the application: the owner on PostgreSQL, the file on SQLite.
pub(crate) async fn below(app: &TestApp) -> DatabaseConnection {
    match app.backend {
        Backend::Sqlite => Database::connect(format!(
            "sqlite://{}?mode=rw",
            app.data_dir.join("spaces.db").display()
        ))
        .await
        .unwrap(),
        Backend::Postgres => {
            let s = spaces_tests::app::shared().await;
            Database::connect(s.pg.url("owner", None, app.database.as_deref().unwrap()))
                .await
                .unwrap()
        }
    }
}

/// A billing account of `org`, written below the application (the accounts API is another
/// area's): receivables belong to one.
pub(crate) async fn billing_account(app: &TestApp, tenant: &str, org: &str) -> String {
    let conn = below(app).await;
    let id = uuid::Uuid::now_v7();
    let sql = "INSERT INTO billing_accounts (tenant_id, id, organisation_id, legal_name, address_line, postcode, city, country, invoice_email, currency, created_at, updated_at) \
               VALUES ($1, $2, $3, 'Buyer SAS', '1 rue du Port', '44000', 'Nantes', 'FR', 'billing@buyer.test', 'EUR', $4, $4)";
    let backend = conn.get_database_backend();
    let sql = if backend == DbBackend::Sqlite {
        sql.replace('$', "?")
    } else {
        sql.to_owned()
    };
    conn.execute_raw(Statement::from_sql_and_values(
        backend,
        sql,
        [
            uuid::Uuid::parse_str(tenant).unwrap().into(),
            id.into(),
            uuid::Uuid::parse_str(org).unwrap().into(),
            chrono::Utc::now().into(),
        ],
    ))
    .await
    .unwrap();
    conn.close().await.unwrap();
    id.to_string()
}

pub(crate) async fn post(app: &TestApp, tenant: &str, posting: Posting) -> String {
    let db = &app.state.deps.db;
    let tx = TenantTx::begin(db, TenantId::from_uuid(tenant.parse().unwrap()))
        .await
        .unwrap();
    let id = ledger::post(&tx, app.state.deps.clock.now(), posting)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    id.to_string()
}

/// An invoice of 100 EUR + 20 EUR VAT to `buyer`: what the invoices area posts.
pub(crate) fn invoice(buyer: &str, net: i64, vat: i64) -> Posting {
    Posting {
        kind: Kind::Invoice,
        reference: uuid::Uuid::now_v7(),
        entries: vec![
            (
                Account::Receivable(BillingAccountId::from_uuid(buyer.parse().unwrap())),
                eur(net + vat),
            ),
            (Account::Revenue, eur(-net)),
            (Account::VatPayable, eur(-vat)),
        ],
    }
}

fn balances_of(v: &Value) -> Vec<(String, Option<String>, i64)> {
    ok(v)["ledgerBalances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            assert_eq!(b["balance"]["currency"], "EUR");
            (
                b["accountKind"].as_str().unwrap().to_owned(),
                b["billingAccountId"].as_str().map(str::to_owned),
                b["balance"]["amountMinor"].as_i64().unwrap(),
            )
        })
        .collect()
}

async fn balances(app: &TestApp, c: &Campus, token: &str) -> Value {
    app.gql(Some(&c.slug), Some(token), BALANCES, json!({}))
        .await
}

async fn ledger_journey(backend: Backend) {
    let app = TestApp::start(backend).await;
    let op = fixtures::operator(&app).await;
    let a = fixtures::campus(&app, &op).await;
    let b = fixtures::campus(&app, &op).await;
    let company = fixtures::company(&app, &a, "Durand").await;
    let buyer = billing_account(&app, &a.id, &company).await;
    let (_, hr) = fixtures::member(
        &app,
        &a,
        &a.admin_token,
        &company,
        "hr@durand.test",
        "ORG_ADMIN",
    )
    .await;

    // An invoice, its payment, a second invoice.
    let first = invoice(&buyer, 10_000, 2_000);
    let first_ref = first.reference;
    post(&app, &a.id, first).await;
    let payment = Posting {
        kind: Kind::Payment,
        reference: uuid::Uuid::now_v7(),
        entries: vec![
            (Account::Cash, eur(12_000)),
            (
                Account::Receivable(BillingAccountId::from_uuid(buyer.parse().unwrap())),
                eur(-12_000),
            ),
        ],
    };
    let payment_ref = payment.reference;
    let payment_tx = post(&app, &a.id, payment).await;
    post(&app, &a.id, invoice(&buyer, 5_000, 1_000)).await;

    let want = vec![
        ("RECEIVABLE".to_owned(), Some(buyer.clone()), 6_000),
        ("REVENUE".to_owned(), None, -15_000),
        ("VAT_PAYABLE".to_owned(), None, -3_000),
        ("CASH".to_owned(), None, 12_000),
    ];
    let seen = balances_of(&balances(&app, &a, &a.admin_token).await);
    assert_eq!(seen, want);
    assert_eq!(
        seen.iter().map(|b| b.2).sum::<i64>(),
        0,
        "the ledger balances"
    );
    // Operators read a space's ledger on its host too.
    assert_eq!(balances_of(&balances(&app, &a, &op).await), want);

    // The buyer's receivable, two entries a page.
    let page = |after: Value| {
        let (app, a, buyer) = (&app, &a, &buyer);
        async move {
            app.gql(
                Some(&a.slug),
                Some(&a.admin_token),
                ENTRIES,
                json!({ "k": "RECEIVABLE", "b": buyer, "first": 2, "after": after }),
            )
            .await
        }
    };
    let v = page(Value::Null).await;
    let c = &ok(&v)["ledgerEntries"];
    assert_eq!(c["pageInfo"]["hasNextPage"], true);
    let e = &c["edges"];
    assert_eq!(e[0]["node"]["kind"], "INVOICE");
    assert_eq!(e[0]["node"]["referenceId"], first_ref.to_string());
    assert_eq!(
        e[0]["node"]["amount"],
        json!({ "amountMinor": 12_000, "currency": "EUR" })
    );
    assert_eq!(e[1]["node"]["kind"], "PAYMENT");
    assert_eq!(e[1]["node"]["referenceId"], payment_ref.to_string());
    assert_eq!(e[1]["node"]["transactionId"], payment_tx);
    assert_eq!(e[1]["node"]["amount"]["amountMinor"], -12_000);
    let v = page(c["pageInfo"]["endCursor"].clone()).await;
    let c = &ok(&v)["ledgerEntries"];
    assert_eq!(c["pageInfo"]["hasNextPage"], false);
    assert_eq!(c["edges"].as_array().unwrap().len(), 1);
    assert_eq!(c["edges"][0]["node"]["amount"]["amountMinor"], 6_000);
    // The space's own accounts take no billing account; a receivable needs one.
    let v = app
        .gql(
            Some(&a.slug),
            Some(&a.admin_token),
            ENTRIES,
            json!({ "k": "CASH" }),
        )
        .await;
    assert_eq!(
        ok(&v)["ledgerEntries"]["edges"][0]["node"]["amount"]["amountMinor"],
        12_000
    );
    for vars in [
        json!({ "k": "RECEIVABLE" }),
        json!({ "k": "CASH", "b": buyer }),
    ] {
        let v = app
            .gql(Some(&a.slug), Some(&a.admin_token), ENTRIES, vars)
            .await;
        assert_eq!(code(&v), "BAD_USER_INPUT", "{v}");
        assert_eq!(v["errors"][0]["extensions"]["field"], "billingAccountId");
    }

    // An unbalanced posting is refused, naming the entries, and writes nothing.
    let db = &app.state.deps.db;
    let tx = TenantTx::begin(db, TenantId::from_uuid(a.id.parse().unwrap()))
        .await
        .unwrap();
    for entries in [
        vec![(Account::Cash, eur(100)), (Account::Revenue, eur(-99))],
        vec![],
        vec![
            (Account::Cash, eur(100)),
            (Account::Revenue, Money::new(-100, Currency::USD)),
        ],
    ] {
        let r = ledger::post(
            &tx,
            app.state.deps.clock.now(),
            Posting {
                kind: Kind::Invoice,
                reference: uuid::Uuid::now_v7(),
                entries,
            },
        )
        .await;
        match r {
            Err(spaces_tenants::Error::Invalid { field, .. }) => assert_eq!(field, "entries"),
            other => panic!("an unbalanced posting was not refused: {other:?}"),
        }
    }
    tx.commit().await.unwrap();
    assert_eq!(balances_of(&balances(&app, &a, &a.admin_token).await), want);

    // Below the application, the rows refuse to change (a trigger on both backends; on
    // PostgreSQL this is the owner, whose grants would allow it).
    let conn = below(&app).await;
    for sql in [
        "UPDATE ledger_entries SET amount_minor = 0",
        "DELETE FROM ledger_entries",
        "UPDATE ledger_transactions SET kind = 'refund'",
        "DELETE FROM ledger_transactions",
    ] {
        let err = conn
            .execute_raw(Statement::from_string(conn.get_database_backend(), sql))
            .await
            .expect_err(sql);
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }
    conn.close().await.unwrap();
    assert_eq!(balances_of(&balances(&app, &a, &a.admin_token).await), want);

    // Walls: another space's admin sees an empty ledger, and A's billing account is unknown
    // there; in A, only admins (and operators) read it.
    assert_eq!(
        balances_of(&balances(&app, &b, &b.admin_token).await),
        vec![]
    );
    let v = app
        .gql(
            Some(&b.slug),
            Some(&b.admin_token),
            ENTRIES,
            json!({ "k": "RECEIVABLE", "b": buyer }),
        )
        .await;
    assert_eq!(code(&v), "NOT_FOUND", "{v}");
    assert_eq!(v["errors"][0]["extensions"]["field"], "billingAccountId");
    let unknown = uuid::Uuid::now_v7().to_string();
    let v2 = app
        .gql(
            Some(&b.slug),
            Some(&b.admin_token),
            ENTRIES,
            json!({ "k": "RECEIVABLE", "b": unknown }),
        )
        .await;
    assert_eq!(
        v["errors"][0]["message"], v2["errors"][0]["message"],
        "a foreign id answers as an unknown one"
    );
    let v = app
        .gql(
            Some(&b.slug),
            Some(&b.admin_token),
            ENTRIES,
            json!({ "k": "CASH" }),
        )
        .await;
    assert_eq!(ok(&v)["ledgerEntries"]["edges"], json!([]));
    // A's admin token on B's host is refused; HR and anonymous callers read nothing.
    assert_eq!(
        code(&balances(&app, &b, &a.admin_token).await),
        "UNAUTHENTICATED"
    );
    assert_eq!(code(&balances(&app, &a, &hr).await), "FORBIDDEN");
    let v = app
        .gql(
            Some(&a.slug),
            Some(&hr),
            ENTRIES,
            json!({ "k": "RECEIVABLE", "b": buyer }),
        )
        .await;
    assert_eq!(code(&v), "FORBIDDEN");
    let v = app.gql(Some(&a.slug), None, BALANCES, json!({})).await;
    assert_eq!(code(&v), "UNAUTHENTICATED");
    app.stop().await;
}

#[tokio::test]
async fn ledger_posts_balanced_transactions_and_admins_read_them_on_sqlite() {
    ledger_journey(Backend::Sqlite).await;
}

#[tokio::test]
async fn ledger_posts_balanced_transactions_and_admins_read_them_on_postgres() {
    ledger_journey(Backend::Postgres).await;
}

/// As the server's own role: no UPDATE or DELETE of ledger rows (permission denied), and an
/// unbalanced transaction written by hand, past `post`, fails at COMMIT.
#[tokio::test]
async fn the_server_role_cannot_rewrite_or_unbalance_the_ledger_on_postgres() {
    use sea_orm::TransactionTrait;

    let app = TestApp::start(Backend::Postgres).await;
    let op = fixtures::operator(&app).await;
    let a = fixtures::campus(&app, &op).await;
    post(
        &app,
        &a.id,
        Posting {
            kind: Kind::Payment,
            reference: uuid::Uuid::now_v7(),
            entries: vec![(Account::Cash, eur(500)), (Account::Revenue, eur(-500))],
        },
    )
    .await;
    let count = "SELECT count(*) FROM ledger_entries";
    assert_eq!(app.owner_sql(count).await, "2");

    let server = Database::connect(app.server_url().await).await.unwrap();
    let scoped = || async {
        let tx = server.begin().await.unwrap();
        tx.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT set_config('app.tenant_id', $1, true)",
            [a.id.clone().into()],
        ))
        .await
        .unwrap();
        tx
    };
    for sql in [
        "UPDATE ledger_entries SET amount_minor = amount_minor * 2",
        "DELETE FROM ledger_entries",
        "UPDATE ledger_transactions SET kind = 'refund'",
        "DELETE FROM ledger_transactions",
    ] {
        let tx = scoped().await;
        let err = tx
            .execute_raw(Statement::from_string(DbBackend::Postgres, sql))
            .await
            .expect_err(sql);
        assert!(
            err.to_string().contains("permission denied"),
            "{sql}: {err}"
        );
        tx.rollback().await.unwrap();
    }

    // Written by hand: each statement passes, the COMMIT does not.
    let t = uuid::Uuid::now_v7();
    let insert_tx = format!(
        "INSERT INTO ledger_transactions (tenant_id, id, kind, reference_id, created_at) VALUES ('{}', '{t}', 'payment', gen_random_uuid(), now())",
        a.id
    );
    let entry = |amount: i64| {
        format!(
            "INSERT INTO ledger_entries (tenant_id, id, transaction_id, account_kind, amount_minor, currency, created_at) VALUES ('{}', gen_random_uuid(), '{t}', 'cash', {amount}, 'EUR', now())",
            a.id
        )
    };
    for (statements, why) in [
        (
            vec![insert_tx.clone(), entry(700), entry(-699)],
            "does not balance",
        ),
        (vec![insert_tx.clone()], "has no entries"),
    ] {
        let tx = scoped().await;
        for s in statements {
            tx.execute_raw(Statement::from_string(DbBackend::Postgres, s))
                .await
                .unwrap();
        }
        let err = tx
            .commit()
            .await
            .expect_err("an unbalanced ledger transaction committed");
        assert!(err.to_string().contains(why), "{err}");
    }
    // Balanced by hand, it commits.
    let tx = scoped().await;
    for s in [insert_tx, entry(700), entry(-700)] {
        tx.execute_raw(Statement::from_string(DbBackend::Postgres, s))
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    assert_eq!(app.owner_sql(count).await, "4");
    server.close().await.unwrap();
    app.stop().await;
}

/// Postings from many requests at once each balance on their own: the deferred check sees
/// only its own transaction's entries, and every posting lands.
#[tokio::test]
async fn concurrent_postings_all_land_and_the_ledger_balances_on_postgres() {
    let app = TestApp::start(Backend::Postgres).await;
    let op = fixtures::operator(&app).await;
    let a = fixtures::campus(&app, &op).await;
    let (c1, c2) = (
        fixtures::company(&app, &a, "Durand").await,
        fixtures::company(&app, &a, "Leroy").await,
    );
    let buyers = [
        billing_account(&app, &a.id, &c1).await,
        billing_account(&app, &a.id, &c2).await,
    ];
    // Each posting in its own transaction, all at once.
    let mut set = tokio::task::JoinSet::new();
    for i in 0..40i64 {
        let (db, clock) = (app.state.deps.db.clone(), app.state.deps.clock.clone());
        let (tenant, posting) = (
            TenantId::from_uuid(a.id.parse().unwrap()),
            invoice(&buyers[(i % 2) as usize], 1_000 + i, 200),
        );
        set.spawn(async move {
            let tx = TenantTx::begin(&db, tenant).await.unwrap();
            ledger::post(&tx, clock.now(), posting).await.unwrap();
            tx.commit().await.unwrap();
        });
    }
    while let Some(r) = set.join_next().await {
        r.unwrap();
    }

    let seen = balances_of(&balances(&app, &a, &a.admin_token).await);
    let even: i64 = (0..40).step_by(2).map(|i| 1_200 + i).sum();
    let odd: i64 = (1..40).step_by(2).map(|i| 1_200 + i).sum();
    let mut receivables: Vec<(String, i64)> = seen
        .iter()
        .filter(|b| b.0 == "RECEIVABLE")
        .map(|b| (b.1.clone().unwrap(), b.2))
        .collect();
    receivables.sort();
    let mut want = vec![(buyers[0].clone(), even), (buyers[1].clone(), odd)];
    want.sort();
    assert_eq!(receivables, want);
    assert!(seen.contains(&("VAT_PAYABLE".into(), None, -8_000)));
    assert_eq!(seen.iter().map(|b| b.2).sum::<i64>(), 0);
    assert_eq!(
        app.owner_sql("SELECT count(*) FROM ledger_transactions")
            .await,
        "40"
    );
    app.stop().await;
}
