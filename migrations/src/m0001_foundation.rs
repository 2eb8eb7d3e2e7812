//! Tenants, domains, operators, organisations, people, roles, invitations, sessions, outbox.

use sea_orm_migration::prelude::*;

use crate::APP_ROLE;
use crate::builders::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Tenant-owned tables created here; each gets RLS on PostgreSQL.
const TENANT_TABLES: &[&str] = &[
    "organisations",
    "people",
    "role_grants",
    "invitations",
    "refresh_tokens",
    "outbox",
    "tenant_domains",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // Platform data: no tenant_id, read-only to tenants.
        m.create_table(
            Table::create()
                .table("tenants")
                .col(uuid("id").primary_key())
                .col(text("slug"))
                .col(text("display_name"))
                .col(text("status"))
                .col(text_null("logo_url"))
                .col(text_null("primary_colour"))
                .col(text_null("accent_colour"))
                .col(text_null("support_email"))
                .col(time("created_at"))
                .col(time("updated_at"))
                .take(),
        )
        .await?;
        m.create_index(unique("tenants", "uq_tenants_slug", &["slug"]))
            .await?;

        m.create_table(
            Table::create()
                .table("platform_operators")
                .col(uuid("id").primary_key())
                .col(text("email"))
                .col(text("password_hash"))
                .col(time("created_at"))
                .take(),
        )
        .await?;
        m.create_index(unique(
            "platform_operators",
            "uq_operators_email",
            &["email"],
        ))
        .await?;

        // The routing table: readable before any tenant is known, written only inside the
        // tenant it belongs to.
        m.create_table(
            Table::create()
                .table("tenant_domains")
                .col(text("domain").primary_key())
                .col(uuid("tenant_id"))
                .col(time("created_at"))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_tenant_domains_tenant")
                        .from_tbl("tenant_domains")
                        .from_col("tenant_id")
                        .to_tbl("tenants")
                        .to_col("id"),
                )
                .take(),
        )
        .await?;
        m.create_index(index(
            "tenant_domains",
            "ix_tenant_domains_tenant",
            &["tenant_id"],
        ))
        .await?;

        m.create_table(
            tenant_table("organisations")
                .col(uuid_null("parent_id"))
                .col(text("kind"))
                .col(text("name"))
                .col(text_null("size_band"))
                .col(text_null("registration_number"))
                .col(text_null("external_ref"))
                // Materialized path of ids, "/root/child/", so a subtree is one prefix scan.
                .col(text("path"))
                .col(time_null("archived_at"))
                .col(time("created_at"))
                .foreign_key(&mut tenant_fk(
                    "organisations",
                    "parent_id",
                    "organisations",
                ))
                .take(),
        )
        .await?;
        m.create_index(index(
            "organisations",
            "ix_organisations_path",
            &["tenant_id", "path"],
        ))
        .await?;
        m.create_index(unique(
            "organisations",
            "uq_organisations_external_ref",
            &["tenant_id", "external_ref"],
        ))
        .await?;

        m.create_table(
            tenant_table("people")
                .col(text("email"))
                .col(text("given_name"))
                .col(text("family_name"))
                .col(uuid("organisation_id"))
                .col(text_null("password_hash"))
                .col(text("status"))
                .col(time_null("password_changed_at"))
                // Bumped on a password change: access tokens carry it, so older ones stop at once.
                .col(int("token_version"))
                .col(time("created_at"))
                .foreign_key(&mut tenant_fk("people", "organisation_id", "organisations"))
                .take(),
        )
        .await?;
        m.create_index(unique("people", "uq_people_email", &["tenant_id", "email"]))
            .await?;
        m.create_index(index(
            "people",
            "ix_people_organisation",
            &["tenant_id", "organisation_id"],
        ))
        .await?;

        m.create_table(
            tenant_table("role_grants")
                .col(uuid("person_id"))
                .col(uuid("organisation_id"))
                .col(text("role"))
                .col(time("created_at"))
                .foreign_key(&mut tenant_fk("role_grants", "person_id", "people"))
                .foreign_key(&mut tenant_fk(
                    "role_grants",
                    "organisation_id",
                    "organisations",
                ))
                .take(),
        )
        .await?;
        m.create_index(unique(
            "role_grants",
            "uq_role_grants",
            &["tenant_id", "person_id", "organisation_id", "role"],
        ))
        .await?;

        m.create_table(
            tenant_table("invitations")
                .col(uuid("person_id"))
                .col(text("token_hash"))
                .col(time("expires_at"))
                .col(time_null("accepted_at"))
                .col(time("created_at"))
                .foreign_key(&mut tenant_fk("invitations", "person_id", "people"))
                .take(),
        )
        .await?;
        m.create_index(unique(
            "invitations",
            "uq_invitations_token",
            &["tenant_id", "token_hash"],
        ))
        .await?;

        m.create_table(
            tenant_table("refresh_tokens")
                .col(uuid("family_id"))
                .col(uuid("person_id"))
                .col(text("token_hash"))
                .col(time("expires_at"))
                .col(time_null("rotated_at"))
                .col(time_null("revoked_at"))
                .col(time("created_at"))
                .foreign_key(&mut tenant_fk("refresh_tokens", "person_id", "people"))
                .take(),
        )
        .await?;
        m.create_index(unique(
            "refresh_tokens",
            "uq_refresh_tokens_hash",
            &["tenant_id", "token_hash"],
        ))
        .await?;
        m.create_index(index(
            "refresh_tokens",
            "ix_refresh_tokens_family",
            &["tenant_id", "family_id"],
        ))
        .await?;

        m.create_table(
            tenant_table("outbox")
                .col(text("kind"))
                .col(text("recipient"))
                .col(text("subject"))
                .col(text("body"))
                .col(int("attempts"))
                .col(time("next_attempt_at"))
                .col(time_null("delivered_at"))
                .col(text_null("last_error"))
                .col(time("created_at"))
                .take(),
        )
        .await?;
        m.create_index(index(
            "outbox",
            "ix_outbox_pending",
            &["tenant_id", "delivered_at", "next_attempt_at"],
        ))
        .await?;

        if m.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
            let mut sql = format!(
                "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN \
                   CREATE ROLE {APP_ROLE} NOLOGIN NOBYPASSRLS; END IF; END $$;\n\
                 GRANT USAGE ON SCHEMA public TO {APP_ROLE};\n\
                 GRANT SELECT, INSERT, UPDATE, DELETE ON tenants, platform_operators TO {APP_ROLE};\n"
            );
            for t in TENANT_TABLES {
                sql.push_str(&rls_sql(t));
                sql.push_str(&format!(
                    "GRANT SELECT, INSERT, UPDATE, DELETE ON {t} TO {APP_ROLE};\n"
                ));
            }
            // Domains are public routing data (they are in DNS): anyone may read the map from
            // host to tenant; writing stays inside the tenant.
            sql.push_str("CREATE POLICY routing_read ON tenant_domains FOR SELECT USING (true);\n");
            m.get_connection().execute_unprepared(&sql).await?;
        }
        Ok(())
    }
}
