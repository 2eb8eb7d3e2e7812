//! Scheduled work: one platform table of jobs, each naming its space. Platform data (no RLS):
//! a worker claims due jobs across every space, then runs each in its space's transaction.

use sea_orm_migration::prelude::*;

use crate::APP_ROLE;
use crate::builders::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("jobs")
                .col(uuid("id").primary_key().take())
                // The space the job works in; the worker opens that space's transaction.
                .col(uuid("tenant_id"))
                .col(text("kind"))
                .col(ColumnDef::new("payload").json().not_null())
                .col(time("due_at"))
                .col(int("attempt"))
                // Set while a worker runs it; a crashed worker's claim lapses.
                .col(time_null("locked_until"))
                .col(text_null("last_error"))
                .col(text_null("dedupe_key"))
                .col(time("created_at"))
                .foreign_key(&mut platform_fk("jobs", "tenant_id", "tenants"))
                .take(),
        )
        .await?;
        m.create_index(index("jobs", "ix_jobs_due", &["due_at"]))
            .await?;
        // A job is deleted once done, so every row is pending: one per space, kind and key.
        m.get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX uq_jobs_dedupe ON jobs (tenant_id, kind, dedupe_key) \
                 WHERE dedupe_key IS NOT NULL",
            )
            .await?;
        if m.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
            m.get_connection()
                .execute_unprepared(&format!(
                    "GRANT SELECT, INSERT, UPDATE, DELETE ON jobs TO {APP_ROLE};"
                ))
                .await?;
        }
        Ok(())
    }
}
