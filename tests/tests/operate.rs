//! Operating on PostgreSQL as the README says: an owner that is not a superuser (it owns the
//! database and may create roles) migrates, which creates `spaces_app`; then the server role
//! is created; then the server starts and serves. On a cluster of the test's own.

use std::sync::Arc;

use serde_json::json;
use spaces_tests::app::ok;
use spaces_tests::fixtures::{campus, operator};
use spaces_tests::pg::PgCluster;
use spaces_tests::{Backend, TestApp};

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.unwrap()
}

#[tokio::test]
async fn a_non_superuser_owner_with_createrole_migrates_and_the_server_role_serves() {
    let pg = Arc::new(blocking(|| PgCluster::start().unwrap()).await);
    let p = pg.clone();
    blocking(move || {
        p.psql(
            "postgres",
            "CREATE ROLE spaces_owner LOGIN PASSWORD 'owner-pw' NOSUPERUSER CREATEROLE",
        )
        .unwrap();
        p.create_database("spaces", None, Some("spaces_owner"))
            .unwrap();
    })
    .await;
    let owner_url = pg.url("spaces_owner", Some("owner-pw"), "spaces");
    // 1. Migrate as the owner (twice: the second run has nothing to do).
    spaces_gateway::app::migrate(&owner_url).await.unwrap();
    spaces_gateway::app::migrate(&owner_url).await.unwrap();
    // 2. The owner creates the server role, a member of spaces_app.
    let db = sea_orm::Database::connect(owner_url.clone()).await.unwrap();
    sea_orm::ConnectionTrait::execute_unprepared(
        &db,
        &format!(
            "CREATE ROLE spaces_server LOGIN PASSWORD 'server-pw' IN ROLE {}",
            spaces_migrations::APP_ROLE
        ),
    )
    .await
    .unwrap();
    db.close().await.unwrap();
    // 3. Serve, migrating as the owner on start as `serve` does.
    let server_url = pg.url("spaces_server", Some("server-pw"), "spaces");
    let app = TestApp::start_with(Backend::Postgres, |c| {
        c.database_url = server_url;
        c.database_owner_url = Some(owner_url);
    })
    .await;
    let op = operator(&app).await;
    let c = campus(&app, &op).await;
    let v = app
        .gql(
            Some(&c.slug),
            Some(&c.admin_token),
            "{ viewer { email } }",
            json!({}),
        )
        .await;
    assert_eq!(ok(&v)["viewer"]["email"], c.admin_email.as_str());
    // The server's role owns nothing and cannot get around row-level security.
    let audit = app.state.deps.db.audit_role().await.unwrap().unwrap();
    assert!(audit.is_safe(), "{audit:?}");
    app.stop().await;
}
