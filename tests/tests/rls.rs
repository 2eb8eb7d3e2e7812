//! The database wall on PostgreSQL: every table with a tenant_id has RLS enabled, forced, and
//! a policy; the server's role owns nothing and cannot bypass it.

use spaces_tests::{Backend, TestApp};

#[tokio::test]
async fn every_tenant_table_has_forced_rls_with_a_policy() {
    let app = TestApp::start(Backend::Postgres).await;
    let out = app
        .owner_sql(
            "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, \
                    (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid) \
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = 'public' AND c.relkind = 'r' \
               AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped) \
             ORDER BY 1",
        )
        .await;
    let rows: Vec<&str> = out.lines().collect();
    assert!(rows.len() >= 7, "tenant tables found: {rows:?}");
    for r in rows {
        let cols: Vec<&str> = r.split('|').collect();
        assert_eq!(
            &cols[1..3],
            ["t", "t"],
            "{} must have RLS enabled and forced",
            cols[0]
        );
        assert!(
            cols[3].parse::<u32>().unwrap() >= 1,
            "{} needs a policy",
            cols[0]
        );
    }
    let role = app
        .owner_sql("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = 'spaces_server'")
        .await;
    assert_eq!(role, "f|f");
    let owned = app
        .owner_sql("SELECT count(*) FROM pg_tables WHERE tableowner = 'spaces_server'")
        .await;
    assert_eq!(owned, "0");
    app.stop().await;
}

#[tokio::test]
async fn the_server_refuses_to_start_as_a_role_that_could_bypass_rls() {
    let s = spaces_tests::app::shared().await;
    let url = s.pg.url("owner", None, "postgres");
    let mut config = spaces_gateway::Config::from_lookup(&|_| None).unwrap();
    config.database_url = url;
    config.data_dir = std::env::temp_dir().join(format!("spaces-refuse-{}", uuid::Uuid::now_v7()));
    let err = match spaces_gateway::App::build(config).await {
        Ok(_) => panic!("the server started as a superuser"),
        Err(e) => format!("{e:#}"),
    };
    assert!(
        err.contains("refusing to start") && err.contains("superuser: true"),
        "{err}"
    );
}
