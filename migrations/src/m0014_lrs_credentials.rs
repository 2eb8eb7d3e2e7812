//! LRS credentials: the key and secret a learning platform sends with HTTP Basic auth to a
//! space's xAPI endpoint. The secret is kept only as its SHA-256 digest (hex): it is 256 random
//! bits, so a fast digest is enough, and the LRS checks it on every request.

use sea_orm_migration::prelude::*;

use crate::APP_ROLE;
use crate::builders::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let scope = |c: &'static str| Expr::col(c).eq(true);
        m.create_table(
            tenant_table("lrs_credentials")
                .col(text("name"))
                // The public half, sent as the Basic user name.
                .col(text("key"))
                .col(
                    text("secret_digest")
                        .check(Expr::expr(Func::char_length(Expr::col("secret_digest"))).eq(64)),
                )
                // The three scopes of the issue; a credential holds at least one.
                .col(boolean("scope_statements_write"))
                .col(boolean("scope_all_read"))
                .col(boolean("scope_own_read"))
                .check(
                    scope("scope_statements_write")
                        .or(scope("scope_all_read"))
                        .or(scope("scope_own_read")),
                )
                .col(uuid("created_by"))
                .col(time("created_at"))
                .col(time_null("revoked_at"))
                .foreign_key(&mut tenant_fk("lrs_credentials", "created_by", "people"))
                .take(),
        )
        .await?;
        m.create_index(unique(
            "lrs_credentials",
            "uq_lrs_credentials_key",
            &["tenant_id", "key"],
        ))
        .await?;

        if m.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
            let mut sql = rls_sql("lrs_credentials");
            // Credentials are revoked, never deleted: a statement's authority keeps naming one.
            sql.push_str(&format!(
                "GRANT SELECT, INSERT, UPDATE ON lrs_credentials TO {APP_ROLE};\n"
            ));
            m.get_connection().execute_unprepared(&sql).await?;
        }
        Ok(())
    }
}
