//! The LRS's statement attachments, kept by content: the same bytes (one SHA-256) are stored
//! once per space however many statements carry them, and a statement finds its attachments by
//! the `sha2` it names.
//!
//! Like statements, attachments are immutable: the application role may insert and read them.

use sea_orm_migration::prelude::*;

use crate::APP_ROLE;
use crate::builders::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            tenant_table("xapi_attachments")
                // The lowercase hex SHA-256 of `content`, as the statements name it.
                .col(text("sha2"))
                .col(text("content_type"))
                .col(ColumnDef::new("length").big_integer().not_null())
                .col(ColumnDef::new("content").blob().not_null())
                .take(),
        )
        .await?;
        m.create_index(unique(
            "xapi_attachments",
            "uq_xapi_attachments_sha2",
            &["tenant_id", "sha2"],
        ))
        .await?;

        if m.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
            let mut sql = rls_sql("xapi_attachments");
            sql.push_str(&format!(
                "GRANT SELECT, INSERT ON xapi_attachments TO {APP_ROLE};\n"
            ));
            m.get_connection().execute_unprepared(&sql).await?;
        }
        Ok(())
    }
}
