//! The LRS's statements: each kept as the JSON it is served as (`jsonb` on PostgreSQL), with the
//! columns voiding and paging need, and one row per filterable key (verb, agent, activity,
//! registration) so a filtered GET reads an index, not JSON. Activities and agents the
//! statements name are kept merged for `GET /activities` and `GET /agents`.
//!
//! Statements are immutable: the application role may insert them and set `voided`, nothing
//! else, and deletes nothing.

use sea_orm_migration::prelude::*;

use crate::APP_ROLE;
use crate::builders::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

fn bigint(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).big_integer().not_null().take()
}

fn json(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).json_binary().not_null().take()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            tenant_table("xapi_statements")
                .col(uuid("statement_id"))
                // Milliseconds since the epoch: `stored` as served, ordered and compared exactly.
                .col(bigint("stored_ms"))
                .col(json("statement"))
                // The statement a StatementRef object names; set for voiding statements too.
                .col(uuid_null("object_ref"))
                .col(boolean("voiding"))
                .col(boolean("voided"))
                .col(uuid("credential_id"))
                .foreign_key(&mut tenant_fk(
                    "xapi_statements",
                    "credential_id",
                    "lrs_credentials",
                ))
                .take(),
        )
        .await?;
        m.create_index(unique(
            "xapi_statements",
            "uq_xapi_statements_statement_id",
            &["tenant_id", "statement_id"],
        ))
        .await?;
        m.create_index(index(
            "xapi_statements",
            "ix_xapi_statements_stored",
            &["tenant_id", "stored_ms", "id"],
        ))
        .await?;
        m.create_index(index(
            "xapi_statements",
            "ix_xapi_statements_object_ref",
            &["tenant_id", "object_ref"],
        ))
        .await?;

        m.create_table(
            tenant_table("xapi_statement_keys")
                .col(uuid("statement_row"))
                // 1 verb, 2 agent, 3 related agent, 4 activity, 5 related activity, 6 registration.
                .col(
                    ColumnDef::new("kind")
                        .small_integer()
                        .not_null()
                        .check(Expr::col("kind").between(1, 6))
                        .take(),
                )
                .col(text("value"))
                // The statement's, copied so a filter pages through one index.
                .col(bigint("stored_ms"))
                .foreign_key(&mut tenant_fk(
                    "xapi_statement_keys",
                    "statement_row",
                    "xapi_statements",
                ))
                .take(),
        )
        .await?;
        m.create_index(index(
            "xapi_statement_keys",
            "ix_xapi_statement_keys_value",
            &["tenant_id", "kind", "value", "stored_ms", "statement_row"],
        ))
        .await?;
        m.create_index(index(
            "xapi_statement_keys",
            "ix_xapi_statement_keys_row",
            &["tenant_id", "statement_row", "kind", "value"],
        ))
        .await?;

        m.create_table(
            tenant_table("xapi_activities")
                .col(text("activity_iri"))
                // The Activity object, definitions merged from every statement that named it.
                .col(json("activity"))
                .col(bigint("updated_ms"))
                .take(),
        )
        .await?;
        m.create_index(unique(
            "xapi_activities",
            "uq_xapi_activities_iri",
            &["tenant_id", "activity_iri"],
        ))
        .await?;

        m.create_table(
            tenant_table("xapi_agents")
                // The canonical IFI (`mbox:mailto:…`, `account:[…]`).
                .col(text("agent"))
                // The IFI as xAPI writes it (`{"mbox": "mailto:…"}`) and every name seen with it.
                .col(json("ifi"))
                .col(json("names"))
                .col(bigint("updated_ms"))
                .take(),
        )
        .await?;
        m.create_index(unique(
            "xapi_agents",
            "uq_xapi_agents_agent",
            &["tenant_id", "agent"],
        ))
        .await?;

        if m.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
            let mut sql = String::new();
            for t in [
                "xapi_statements",
                "xapi_statement_keys",
                "xapi_activities",
                "xapi_agents",
            ] {
                sql.push_str(&rls_sql(t));
            }
            sql.push_str(&format!(
                "GRANT SELECT, INSERT ON xapi_statements TO {APP_ROLE};\n\
                 GRANT UPDATE (voided) ON xapi_statements TO {APP_ROLE};\n\
                 GRANT SELECT, INSERT ON xapi_statement_keys TO {APP_ROLE};\n\
                 GRANT SELECT, INSERT, UPDATE ON xapi_activities TO {APP_ROLE};\n\
                 GRANT SELECT, INSERT, UPDATE ON xapi_agents TO {APP_ROLE};\n"
            ));
            m.get_connection().execute_unprepared(&sql).await?;
        }
        Ok(())
    }
}
