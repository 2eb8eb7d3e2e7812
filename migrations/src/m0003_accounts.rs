//! Accounts end to end: a default locale per space (the language of its pages and messages), and
//! password resets (single use, one hour, stored hashed).

use sea_orm_migration::prelude::*;

use crate::APP_ROLE;
use crate::builders::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("tenants")
                .add_column(
                    ColumnDef::new("locale")
                        .string()
                        .not_null()
                        .default("en")
                        .take(),
                )
                .take(),
        )
        .await?;

        m.create_table(
            tenant_table("password_resets")
                .col(uuid("person_id"))
                .col(text("token_hash"))
                .col(time("expires_at"))
                .col(time_null("used_at"))
                .col(time("created_at"))
                .foreign_key(&mut tenant_fk("password_resets", "person_id", "people"))
                .take(),
        )
        .await?;
        m.create_index(unique(
            "password_resets",
            "uq_password_resets_token",
            &["tenant_id", "token_hash"],
        ))
        .await?;
        m.create_index(index(
            "password_resets",
            "ix_password_resets_person",
            &["tenant_id", "person_id"],
        ))
        .await?;

        if m.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
            let mut sql = rls_sql("password_resets");
            sql.push_str(&format!(
                "GRANT SELECT, INSERT, UPDATE, DELETE ON password_resets TO {APP_ROLE};\n"
            ));
            m.get_connection().execute_unprepared(&sql).await?;
        }
        Ok(())
    }
}
