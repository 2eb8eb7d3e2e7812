//! The database wall on PostgreSQL: every table with a tenant_id has RLS enabled, forced, and
//! a policy; the server's role owns nothing and cannot bypass it.

use spaces_tests::{Backend, TestApp};

#[tokio::test]
async fn every_tenant_table_has_forced_rls_with_a_policy() {
    let app = TestApp::start(Backend::Postgres).await;
    let out = app
        .owner_sql(&format!(
            "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, \
                    (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid) \
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = 'public' AND c.relkind = 'r' {} \
               AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped) \
             ORDER BY 1",
            not_platform()
        ))
        .await;
    let rows: Vec<&str> = out.lines().collect();
    let names: Vec<&str> = rows.iter().map(|r| r.split('|').next().unwrap()).collect();
    assert_eq!(
        names,
        spaces_tests::app::TENANT_TABLES,
        "the harness's list of tenant tables (used to compare rows) is complete"
    );
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

/// Leaves out the platform tables that name a space per row (the jobs table): no RLS by design.
fn not_platform() -> String {
    spaces_tests::app::PLATFORM_TABLES_NAMING_A_TENANT
        .iter()
        .map(|t| format!("AND c.relname <> '{t}'"))
        .collect::<Vec<_>>()
        .join(" ")
}

async fn refusal(url: String) -> String {
    let mut config = spaces_gateway::Config::from_lookup(&|_| None).unwrap();
    config.database_url = url;
    config.data_dir = std::env::temp_dir().join(format!("spaces-refuse-{}", uuid::Uuid::now_v7()));
    match spaces_gateway::App::build(config).await {
        Ok(_) => panic!("the server started as a role that can get around RLS"),
        Err(e) => format!("{e:#}"),
    }
}

#[tokio::test]
async fn the_server_refuses_roles_that_own_tables_or_bypass_rls() {
    let s = spaces_tests::app::shared().await;
    let db = format!("t_{}", uuid::Uuid::now_v7().simple());
    let (owner_role, bypass_role) = (format!("own_{}", &db[2..14]), format!("byp_{}", &db[2..14]));
    let s2 = s.clone();
    let (db2, o2, b2) = (db.clone(), owner_role.clone(), bypass_role.clone());
    tokio::task::spawn_blocking(move || {
        s2.pg.create_database(&db2, Some(spaces_tests::app::TEMPLATE_DB), None).unwrap();
        s2.pg
            .psql(&db2, &format!("CREATE ROLE {o2} LOGIN PASSWORD 'x' IN ROLE spaces_app; CREATE TABLE stray (id int); ALTER TABLE stray OWNER TO {o2}; CREATE ROLE {b2} LOGIN PASSWORD 'x' BYPASSRLS IN ROLE spaces_app;"))
            .unwrap();
    })
    .await
    .unwrap();
    let err = refusal(s.pg.url(&owner_role, Some("x"), &db)).await;
    assert!(
        err.contains("refusing to start") && err.contains("public.stray"),
        "{err}"
    );
    let err = refusal(s.pg.url(&bypass_role, Some("x"), &db)).await;
    assert!(
        err.contains("refusing to start") && err.contains("bypassrls: true"),
        "{err}"
    );
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

/// As the server's role with `app.tenant_id` set to B, for every tenant-owned table: A's rows
/// are invisible, UPDATE and DELETE touch none, and an INSERT carrying A's tenant_id is refused.
#[tokio::test]
async fn rls_alone_hides_and_protects_another_tenants_rows() {
    use sea_orm::{ConnectionTrait, Database, DbBackend, Statement, TransactionTrait};
    use spaces_tests::fixtures;

    let app = TestApp::start(Backend::Postgres).await;
    let op = fixtures::operator(&app).await;
    let a = fixtures::campus(&app, &op).await;
    let b = fixtures::campus(&app, &op).await;
    // Give A a row in every table: a company, a learner with a session.
    let company = fixtures::company(&app, &a, "A Corp").await;
    fixtures::member(&app, &a, &a.admin_token, &company, "lea@a.test", "LEARNER").await;
    assert!(
        fixtures::sign_in(&app, &a.slug, "lea@a.test", fixtures::PASSWORD).await["errors"]
            .is_null()
    );
    // A password reset link (password_resets).
    let v = app
        .gql(
            Some(&a.slug),
            None,
            "mutation { requestPasswordReset(email: \"lea@a.test\") }",
            serde_json::json!({}),
        )
        .await;
    assert_eq!(v["data"]["requestPasswordReset"], true, "{v}");
    seed_curriculum_rows(&app, &op, &a.id, &company).await;
    // An LRS credential (lrs_credentials).
    crate::lrs_credentials::credential(&app, &a).await;
    // A state document (xapi_documents).
    crate::xapi_documents::seed(&app, &a).await;
    // A statement (xapi_statements, xapi_statement_keys, xapi_activities, xapi_agents).
    spaces_tests::xapi::seed_statement(&app, &a).await;
    // A statement with an attachment (xapi_attachments).
    spaces_tests::xapi::seed_attachment(&app, &a).await;
    // A signed certificate (credentials, credential_keys) and the space's logo (space_logos).
    crate::certificates_checks::seed(&app, &op, &a).await;

    let tables: Vec<String> = app
        .owner_sql(&format!(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = 'public' AND c.relkind = 'r' {} AND EXISTS (SELECT 1 FROM pg_attribute a \
             WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped) ORDER BY 1",
            not_platform()
        ))
        .await
        .lines()
        .map(str::to_owned)
        .collect();
    let server = Database::connect(app.server_url().await).await.unwrap();
    for t in &tables {
        let count_a = format!("SELECT count(*) FROM {t} WHERE tenant_id = '{}'", a.id);
        let before = app.owner_sql(&count_a).await;
        assert_ne!(before, "0", "{t}: the probe needs a row of A");
        let row = app
            .owner_sql(&format!(
                "SELECT row_to_json(x)::text FROM {t} x WHERE tenant_id = '{}' LIMIT 1",
                a.id
            ))
            .await;

        let tx = server.begin().await.unwrap();
        let run = |sql: String| Statement::from_string(DbBackend::Postgres, sql);
        tx.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT set_config('app.tenant_id', $1, true)",
            [b.id.clone().into()],
        ))
        .await
        .unwrap();
        let seen = tx
            .query_one_raw(run(count_a.clone()))
            .await
            .unwrap()
            .unwrap()
            .try_get_by_index::<i64>(0)
            .unwrap();
        if t == "tenant_domains" {
            // The routing table: public by design (domains are in DNS), still write-protected.
            assert!(seen >= 1);
        } else {
            assert_eq!(seen, 0, "{t}: A's rows are visible to B");
        }
        // Each write in its own savepoint: a table the role may not update or delete at all
        // (issued invoices, ledger entries) refuses with "permission denied", which also counts.
        for (what, sql) in [
            (
                "updated",
                format!(
                    "UPDATE {t} SET tenant_id = tenant_id WHERE tenant_id = '{}'",
                    a.id
                ),
            ),
            (
                "deleted",
                format!("DELETE FROM {t} WHERE tenant_id = '{}'", a.id),
            ),
        ] {
            let sp = tx.begin().await.unwrap();
            match sp.execute_raw(run(sql)).await {
                Ok(r) => assert_eq!(r.rows_affected(), 0, "{t}: B {what} A's rows"),
                Err(e) => assert!(e.to_string().contains("permission denied"), "{t}: {e}"),
            }
            sp.rollback().await.unwrap();
        }
        tx.rollback().await.unwrap();

        // A copy of A's row under a new key, inserted while scoped to B.
        let tx = server.begin().await.unwrap();
        tx.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT set_config('app.tenant_id', $1, true)",
            [b.id.clone().into()],
        ))
        .await
        .unwrap();
        let key = if t == "tenant_domains" {
            "domain"
        } else {
            "id"
        };
        let fresh = if t == "tenant_domains" {
            "'probe.example.org'::text".to_owned()
        } else {
            "gen_random_uuid()".to_owned()
        };
        let err = tx
            .execute_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                format!("INSERT INTO {t} SELECT * FROM json_populate_record(NULL::{t}, jsonb_set($1::jsonb, '{{{key}}}', to_jsonb({fresh}))::json)"),
                [row.clone().into()],
            ))
            .await
            .expect_err("inserting a row of A while scoped to B must fail");
        assert!(err.to_string().contains("row-level security"), "{t}: {err}");
        tx.rollback().await.unwrap();
        assert_eq!(
            app.owner_sql(&count_a).await,
            before,
            "{t}: A's rows changed"
        );
    }
    assert!(tables.len() >= 7, "{tables:?}");
    app.stop().await;
}

/// Rows of A in the curriculum tables (editions, modules, visibility, pathways, enrolments,
/// events, progress), written as the owner: the probe needs a row of A in every tenant table,
/// whatever the API can create yet.
async fn seed_curriculum_rows(app: &TestApp, op: &str, tenant: &str, org: &str) {
    use serde_json::json;
    let v = app
        .gql(
            None,
            Some(op),
            "mutation($i: ProviderInput!) { createProvider(input: $i) { id } }",
            json!({ "i": { "name": spaces_tests::fixtures::unique("Probe U") } }),
        )
        .await;
    let provider = v["data"]["createProvider"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let v = app
        .gql(
            None,
            Some(op),
            "mutation($i: CourseFactsInput!) { createCourse(input: $i) { id } }",
            json!({ "i": { "providerId": provider, "title": "Probe", "language": "fr", "studyHours": 1, "ects": 0, "eqfLevel": 4, "assessment": "NONE" } }),
        )
        .await;
    let course = v["data"]["createCourse"]["id"].as_str().unwrap().to_owned();
    let person = app
        .owner_sql(&format!(
            "SELECT id FROM people WHERE tenant_id = '{tenant}' LIMIT 1"
        ))
        .await;
    let t = tenant;
    app.owner_sql(&format!(
        "INSERT INTO editions (tenant_id, id, course_id, enrolment_mode, visibility, included_in_subscription, status, created_at, updated_at) \
           VALUES ('{t}', '00000000-0000-7000-8000-000000000001', '{course}', 'self', 'organisations', true, 'open', now(), now()); \
         INSERT INTO edition_organisations (tenant_id, id, edition_id, organisation_id) \
           VALUES ('{t}', gen_random_uuid(), '00000000-0000-7000-8000-000000000001', '{org}'); \
         INSERT INTO edition_modules (tenant_id, id, edition_id, position, title, required, estimated_minutes, activity_iri, created_at) \
           VALUES ('{t}', '00000000-0000-7000-8000-000000000002', '00000000-0000-7000-8000-000000000001', 0, 'M1', true, 30, 'https://lms.example.org/m1', now()); \
         INSERT INTO pathways (tenant_id, id, title, created_at, updated_at) VALUES ('{t}', '00000000-0000-7000-8000-000000000003', 'P', now(), now()); \
         INSERT INTO pathway_editions (tenant_id, id, pathway_id, edition_id, position) \
           VALUES ('{t}', gen_random_uuid(), '00000000-0000-7000-8000-000000000003', '00000000-0000-7000-8000-000000000001', 0); \
         INSERT INTO enrolments (tenant_id, id, edition_id, person_id, status, source, created_at, updated_at) \
           VALUES ('{t}', '00000000-0000-7000-8000-000000000004', '00000000-0000-7000-8000-000000000001', '{person}', 'active', 'assigned', now(), now()); \
         INSERT INTO enrolment_events (tenant_id, id, enrolment_id, kind, at) \
           VALUES ('{t}', gen_random_uuid(), '00000000-0000-7000-8000-000000000004', 'enrolled', now()); \
         INSERT INTO module_progress (tenant_id, id, enrolment_id, module_id, updated_at) \
           VALUES ('{t}', gen_random_uuid(), '00000000-0000-7000-8000-000000000004', '00000000-0000-7000-8000-000000000002', now());"
    ))
    .await;
    seed_billing_rows(app, t, org).await;
}

/// Billing's tables, one row of A each.
async fn seed_billing_rows(app: &TestApp, t: &str, org: &str) {
    app.owner_sql(&format!(
        "INSERT INTO billing_accounts (tenant_id, id, organisation_id, legal_name, address_line, postcode, city, country, invoice_email, currency, created_at, updated_at) \
           VALUES ('{t}', '00000000-0000-7000-8000-0000000000b1', '{org}', 'A Corp SAS', '1 rue A', '75001', 'Paris', 'FR', 'billing@a.test', 'EUR', now(), now()); \
         INSERT INTO ledger_transactions (tenant_id, id, kind, reference_id, created_at) \
           VALUES ('{t}', '00000000-0000-7000-8000-0000000000c1', 'invoice', gen_random_uuid(), now()); \
         INSERT INTO ledger_entries (tenant_id, id, transaction_id, account_kind, billing_account_id, amount_minor, currency, created_at) \
           VALUES ('{t}', gen_random_uuid(), '00000000-0000-7000-8000-0000000000c1', 'receivable', '00000000-0000-7000-8000-0000000000b1', 1200, 'EUR', now()), \
                  ('{t}', gen_random_uuid(), '00000000-0000-7000-8000-0000000000c1', 'revenue', NULL, -1200, 'EUR', now());"
    ))
    .await;
    // A draft (issued invoices take no new lines), its line, a counter and a payment.
    app.owner_sql(&format!(
        "INSERT INTO invoice_counters (tenant_id, id, kind, year, next) VALUES ('{t}', gen_random_uuid(), 'F', 2026, 2); \
         INSERT INTO invoices (tenant_id, id, account_id, kind, status, currency, due_date, net_minor, vat_minor, gross_minor, breakdown, created_at) \
           VALUES ('{t}', '00000000-0000-7000-8000-0000000000c1', '00000000-0000-7000-8000-0000000000b1', 'invoice', 'draft', 'EUR', '2026-12-31', 100, 20, 120, '[]', now()); \
         INSERT INTO invoice_lines (tenant_id, id, invoice_id, position, description, quantity, unit_price_minor, net_minor, vat_basis_points) \
           VALUES ('{t}', gen_random_uuid(), '00000000-0000-7000-8000-0000000000c1', 0, 'Seats', 1, 100, 100, 2000); \
         INSERT INTO payments (tenant_id, id, invoice_id, kind, amount_minor, currency, receivable_minor, received_on, method, reference, created_at) \
           VALUES ('{t}', gen_random_uuid(), '00000000-0000-7000-8000-0000000000c1', 'payment', 120, 'EUR', 120, '2026-11-30', 'manual', 'VIR-1', now());"
    ))
    .await;
    app.owner_sql(&format!(
        "INSERT INTO idempotency_keys (tenant_id, id, caller, idem_key, fingerprint, http_status, content_type, body, created_at) \
           VALUES ('{t}', gen_random_uuid(), 'person:a', 'k', 'f', 200, 'application/json', '{{}}', now());"
    ))
    .await;
    // Seats: a plan (platform), A's subscription on it, a charge of A's enrolment.
    app.owner_sql(&format!(
        "INSERT INTO plans (id, name, seats, term, price_minor, currency, vat_basis_points, created_at) \
           VALUES ('00000000-0000-7000-8000-0000000000c1', 'Probe plan', 5, 'annual', 100000, 'EUR', 2000, now()) ON CONFLICT DO NOTHING; \
         INSERT INTO subscriptions (tenant_id, id, plan_id, billing_account_id, plan_name, term, plan_seats, price_minor, currency, vat_basis_points, seats, renewal_seats, starts_on, ends_on, status, cancel_at_term_end, created_at, updated_at) \
           VALUES ('{t}', gen_random_uuid(), '00000000-0000-7000-8000-0000000000c1', '00000000-0000-7000-8000-0000000000b1', 'Probe plan', 'annual', 5, 100000, 'EUR', 2000, 5, 5, current_date, current_date + 365, 'active', false, now(), now()); \
         INSERT INTO charges (tenant_id, id, enrolment_id, edition_id, billing_account_id, description, amount_minor, currency, vat_basis_points, status, withdrawal_until, created_at, updated_at) \
           VALUES ('{t}', gen_random_uuid(), '00000000-0000-7000-8000-000000000004', '00000000-0000-7000-8000-000000000001', '00000000-0000-7000-8000-0000000000b1', 'Probe', 4500, 'EUR', 2000, 'pending', now(), now(), now());"
    ))
    .await;
    // Vouchers: a funder on A's organisation, a batch, a code, its redemption on A's enrolment
    // (by that enrolment's person), and a learner's payment for it.
    app.owner_sql(&format!(
        "INSERT INTO funders (tenant_id, id, name, kind, contact_name, contact_email, organisation_id, created_at, updated_at) \
           VALUES ('{t}', '00000000-0000-7000-8000-0000000000f1', 'Probe fund', 'sector_fund', 'C', 'c@a.test', '{org}', now(), now()); \
         INSERT INTO voucher_batches (tenant_id, id, funder_id, name, funder_kind, code_count, face_value_minor, currency, valid_from, valid_until, uses_per_code, created_at) \
           VALUES ('{t}', '00000000-0000-7000-8000-0000000000f2', '00000000-0000-7000-8000-0000000000f1', 'B', 'sector_fund', 1, 5000, 'EUR', now(), now() + interval '1 day', 1, now()); \
         INSERT INTO vouchers (tenant_id, id, batch_id, code_hash, uses, max_uses) \
           VALUES ('{t}', '00000000-0000-7000-8000-0000000000f3', '00000000-0000-7000-8000-0000000000f2', 'probe-hash', 1, 1); \
         INSERT INTO voucher_redemptions (tenant_id, id, voucher_id, batch_id, funder_id, enrolment_id, person_id, amount_minor, currency, status, created_at, updated_at) \
           SELECT '{t}', gen_random_uuid(), '00000000-0000-7000-8000-0000000000f3', '00000000-0000-7000-8000-0000000000f2', '00000000-0000-7000-8000-0000000000f1', e.id, e.person_id, 5000, 'EUR', 'confirmed', now(), now() \
             FROM enrolments e WHERE e.tenant_id = '{t}' AND e.id = '00000000-0000-7000-8000-000000000004'; \
         INSERT INTO enrolment_payments (tenant_id, id, enrolment_id, person_id, invoice_id, amount_minor, currency, provider, checkout_id, checkout_url, status, expires_at, created_at, updated_at) \
           SELECT '{t}', gen_random_uuid(), e.id, e.person_id, '00000000-0000-7000-8000-0000000000c1', 1000, 'EUR', 'stripe', 'cs_probe', 'https://pay.test/cs_probe', 'awaiting', now(), now(), now() \
             FROM enrolments e WHERE e.tenant_id = '{t}' AND e.id = '00000000-0000-7000-8000-000000000004';"
    ))
    .await;
    // Self-registration: the setting and a pending registration.
    app.owner_sql(&format!(
        "INSERT INTO registration_settings (tenant_id, id, mode, domains, independent_organisation_id, updated_at) \
           VALUES ('{t}', gen_random_uuid(), 'domains', 'a.test', '{org}', now()); \
         INSERT INTO registrations (tenant_id, id, email, given_name, family_name, token_hash, expires_at, created_at) \
           VALUES ('{t}', gen_random_uuid(), 'sam@a.test', 'Sam', 'A', 'probe-hash', now(), now());"
    ))
    .await;
}
