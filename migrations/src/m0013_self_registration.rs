//! Self-registration: a space's setting (off, open, or limited to email domains) with the
//! "independent learners" organisation made on first use, and the pending registrations, each
//! with its single-use confirmation token stored hashed.

use sea_orm_migration::prelude::*;

use crate::APP_ROLE;
use crate::builders::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One row per space at most; no row means off.
        m.create_table(
            tenant_table("registration_settings")
                .col(text("mode").check(Expr::col("mode").is_in(["off", "open", "domains"])))
                // Lower-case host names, comma-separated; empty unless the mode is `domains`.
                .col(text("domains"))
                .col(uuid_null("independent_organisation_id"))
                .col(time("updated_at"))
                .foreign_key(&mut tenant_fk(
                    "registration_settings",
                    "independent_organisation_id",
                    "organisations",
                ))
                .take(),
        )
        .await?;
        m.create_index(unique(
            "registration_settings",
            "uq_registration_settings_tenant",
            &["tenant_id"],
        ))
        .await?;

        m.create_table(
            tenant_table("registrations")
                .col(text("email"))
                .col(text("given_name"))
                .col(text("family_name"))
                .col(text("token_hash"))
                .col(time("expires_at"))
                .col(time_null("confirmed_at"))
                // The person the confirmation created.
                .col(uuid_null("person_id"))
                .col(time("created_at"))
                .foreign_key(&mut tenant_fk("registrations", "person_id", "people"))
                .take(),
        )
        .await?;
        m.create_index(unique(
            "registrations",
            "uq_registrations_token",
            &["tenant_id", "token_hash"],
        ))
        .await?;
        m.create_index(index(
            "registrations",
            "ix_registrations_email",
            &["tenant_id", "email"],
        ))
        .await?;

        if m.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
            let mut sql = rls_sql("registration_settings");
            sql.push_str(&rls_sql("registrations"));
            sql.push_str(&format!(
                "GRANT SELECT, INSERT, UPDATE ON registration_settings TO {APP_ROLE};\n\
                 GRANT SELECT, INSERT, UPDATE, DELETE ON registrations TO {APP_ROLE};\n"
            ));
            m.get_connection().execute_unprepared(&sql).await?;
        }
        Ok(())
    }
}
