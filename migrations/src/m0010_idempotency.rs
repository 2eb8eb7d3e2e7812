//! Idempotency keys: the stored answer of each POST /graphql that carried an `Idempotency-Key`.
//!
//! Two tables, because the two kinds of request commit differently:
//! - `idempotency_keys` (tenant-owned, RLS): requests addressed to a space. A row is written in
//!   the request's own transaction, so it exists exactly when the request's effects committed.
//! - `platform_idempotency_keys` (platform): operator requests on the platform host, whose
//!   mutations commit in transactions of their own. A row is claimed `in_flight` first and
//!   completed with the answer after.

use sea_orm_migration::prelude::*;

use crate::APP_ROLE;
use crate::builders::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            tenant_table("idempotency_keys")
                // `person:<uuid>` or `operator:<uuid>`: keys are the caller's own.
                .col(text("caller"))
                .col(text("idem_key"))
                // SHA-256 (hex) of the canonical request.
                .col(text("fingerprint"))
                .col(int("http_status"))
                .col(text("content_type"))
                // The answer as sent, byte for byte (GraphQL answers are UTF-8 JSON).
                .col(text("body"))
                .col(time("created_at"))
                .take(),
        )
        .await?;
        m.create_index(unique(
            "idempotency_keys",
            "uq_idempotency_keys_caller_key",
            &["tenant_id", "caller", "idem_key"],
        ))
        .await?;
        m.create_index(index(
            "idempotency_keys",
            "ix_idempotency_keys_created",
            &["tenant_id", "created_at"],
        ))
        .await?;

        m.create_table(
            Table::create()
                .table("platform_idempotency_keys")
                .col(uuid("id").primary_key())
                .col(text("caller"))
                .col(text("idem_key"))
                .col(text("fingerprint"))
                // `in_flight` until the answer is stored, then `completed`.
                .col(text("status").check(Expr::col("status").is_in(["in_flight", "completed"])))
                .col(int_null("http_status"))
                .col(text_null("content_type"))
                .col(text_null("body"))
                .col(time("created_at"))
                .take(),
        )
        .await?;
        m.create_index(unique(
            "platform_idempotency_keys",
            "uq_platform_idempotency_keys_caller_key",
            &["caller", "idem_key"],
        ))
        .await?;
        m.create_index(index(
            "platform_idempotency_keys",
            "ix_platform_idempotency_keys_created",
            &["created_at"],
        ))
        .await?;

        if m.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
            let mut sql = rls_sql("idempotency_keys");
            // No UPDATE: a stored answer never changes; DELETE for the purge of old keys.
            sql.push_str(&format!(
                "GRANT SELECT, INSERT, DELETE ON idempotency_keys TO {APP_ROLE};\n\
                 GRANT SELECT, INSERT, UPDATE, DELETE ON platform_idempotency_keys TO {APP_ROLE};\n"
            ));
            m.get_connection().execute_unprepared(&sql).await?;
        }
        Ok(())
    }
}
