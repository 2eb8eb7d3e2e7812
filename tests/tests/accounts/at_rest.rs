//! No usable token can be read from the database or the logs after a full invite, accept and
//! reset cycle, and PostgreSQL gateways refuse to start without a shared outbox key.

use serde_json::{Value, json};
use spaces_tenants::outbox::MessageKind;
use spaces_tests::app::ok;
use spaces_tests::fixtures::{self, PASSWORD};
use spaces_tests::{Backend, TestApp};

use super::{
    NEW_PASSWORD, REQUEST_RESET, RESET, choose_password, deliver, delivered_link, invite, open,
    start,
};

/// Every row of every table, each value as text.
async fn every_row(app: &TestApp) -> String {
    use sea_orm::{ConnectionTrait, Database, DbBackend, FromQueryResult, Statement};
    let mut out = String::new();
    match app.backend {
        Backend::Sqlite => {
            let conn = Database::connect(format!(
                "sqlite://{}?mode=ro",
                app.data_dir.join("spaces.db").display()
            ))
            .await
            .unwrap();
            let tables = conn
                .query_all_raw(Statement::from_string(
                    DbBackend::Sqlite,
                    "SELECT name FROM sqlite_master WHERE type = 'table'",
                ))
                .await
                .unwrap();
            for t in tables {
                let name: String = t.try_get("", "name").unwrap();
                let rows = Value::find_by_statement(Statement::from_string(
                    DbBackend::Sqlite,
                    format!("SELECT * FROM \"{name}\""),
                ))
                .all(&conn)
                .await
                .unwrap();
                for r in rows {
                    out.push_str(&r.to_string());
                    out.push('\n');
                }
            }
            conn.close().await.unwrap();
        }
        Backend::Postgres => {
            let tables = app
                .owner_sql("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
                .await;
            for t in tables.lines().map(str::trim).filter(|t| !t.is_empty()) {
                out.push_str(
                    &app.owner_sql(&format!("SELECT row_to_json(x)::text FROM \"{t}\" x"))
                        .await,
                );
                out.push('\n');
            }
        }
    }
    out
}

async fn tokens_at_rest(backend: Backend) {
    let logs = spaces_tests::logs::Capture::start();
    let app = start(backend).await;
    let op = fixtures::operator(&app).await;
    let c = fixtures::campus(&app, &op).await;
    let mut tokens = vec![fixtures::invitation_token(&app, &c.slug, &c.admin_email).await];
    let company = fixtures::company(&app, &c, "Durand").await;
    let email = "lea@durand.test";
    ok(&invite(&app, &c, &c.admin_token, &company, email).await);
    let link = delivered_link(&app, &c, email, MessageKind::Invitation).await;
    tokens.push(fixtures::token_of_link(&link));
    assert_eq!(open(&app, &link).await.status, 200);
    assert_eq!(choose_password(&app, &link, PASSWORD).await.status, 200);
    ok(&app
        .gql(Some(&c.slug), None, REQUEST_RESET, json!({ "e": email }))
        .await);
    let reset = delivered_link(&app, &c, email, MessageKind::PasswordReset).await;
    tokens.push(fixtures::token_of_link(&reset));
    assert_eq!(open(&app, &reset).await.status, 200);
    assert_eq!(
        choose_password(&app, &reset, NEW_PASSWORD).await.status,
        200
    );
    ok(&app
        .gql(Some(&c.slug), None, REQUEST_RESET, json!({ "e": email }))
        .await);
    let reset = delivered_link(&app, &c, email, MessageKind::PasswordReset).await;
    tokens.push(fixtures::token_of_link(&reset));
    ok(&app
        .gql(
            Some(&c.slug),
            None,
            RESET,
            json!({ "i": { "token": fixtures::token_of_link(&reset), "password": PASSWORD } }),
        )
        .await);
    ok(&fixtures::sign_in(&app, &c.slug, email, PASSWORD).await);
    deliver(&app).await;

    let rows = every_row(&app).await;
    assert!(rows.contains(email), "the scan reads the tables");
    let logged = logs.text();
    assert!(
        logged.contains("mail written to the outbox directory")
            && logged.contains("\"level\":\"TRACE\""),
        "the capture holds the server's logs at every level: {} bytes, {}",
        logged.len(),
        &logged[..logged.len().min(3000)]
    );
    for t in &tokens {
        assert_eq!(t.len(), 43);
        let encoded: String = t
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect();
        let every_byte: String = t.bytes().map(|b| format!("%{b:02X}")).collect();
        for form in [t.as_str(), encoded.as_str(), every_byte.as_str()] {
            assert!(!rows.contains(form), "a token is readable in the database");
            assert!(!logged.contains(form), "a token is in the logs");
        }
    }
    app.stop().await;
}

#[tokio::test]
async fn no_token_is_readable_in_the_database_or_the_logs_on_sqlite() {
    tokens_at_rest(Backend::Sqlite).await;
}

#[tokio::test]
async fn no_token_is_readable_in_the_database_or_the_logs_on_postgres() {
    tokens_at_rest(Backend::Postgres).await;
}

/// The error `App::build` gives on a fresh PostgreSQL database with `tweak` applied to a
/// configuration that sets nothing else.
async fn postgres_start_error(tweak: impl FnOnce(&mut spaces_gateway::Config)) -> String {
    let s = spaces_tests::app::shared().await;
    let db = format!("t_{}", uuid::Uuid::now_v7().simple());
    let (s2, db2) = (s.clone(), db.clone());
    tokio::task::spawn_blocking(move || {
        s2.pg
            .create_database(&db2, Some(spaces_tests::app::TEMPLATE_DB), None)
            .unwrap()
    })
    .await
    .unwrap();
    let mut config = spaces_gateway::Config::from_lookup(&|_| None).unwrap();
    config.database_url = s.pg.url(
        spaces_tests::app::SERVER_ROLE,
        Some(spaces_tests::app::SERVER_PASSWORD),
        &db,
    );
    config.data_dir = std::env::temp_dir().join(format!("spaces-nokey-{}", uuid::Uuid::now_v7()));
    tweak(&mut config);
    match spaces_gateway::App::build(config).await {
        Ok(_) => panic!("the server started on PostgreSQL without a shared key"),
        Err(e) => format!("{e:#}"),
    }
}

/// On PostgreSQL several gateways read each other's messages: without a shared key the server
/// refuses to start, saying which setting is missing.
#[tokio::test]
async fn postgres_refuses_to_start_without_an_outbox_key() {
    let err = postgres_start_error(|_| {}).await;
    assert!(err.contains("SPACES_OUTBOX_KEY is required"), "{err}");
}

/// Likewise for voucher codes: a code issued through one gateway must be found through
/// another, so a key generated per machine is refused on PostgreSQL.
#[tokio::test]
async fn postgres_refuses_to_start_without_a_voucher_key() {
    let err = postgres_start_error(|c| {
        c.outbox_key = Some(spaces_tests::app::TEST_OUTBOX_KEY.into());
    })
    .await;
    assert!(err.contains("SPACES_VOUCHER_KEY_FILE is required"), "{err}");
}
