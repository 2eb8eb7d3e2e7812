//! The LRS's documents: xAPI state, activity profiles and agent profiles, one table. A document
//! is named by its kind, its activity and/or agent, a registration (state only) and its id; the
//! parts a kind does not use hold '' rather than NULL, because NULLs never collide in a UNIQUE
//! index and two "same" documents could then coexist.

use sea_orm_migration::prelude::*;

use crate::APP_ROLE;
use crate::builders::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

fn text_default(name: &'static str) -> ColumnDef {
    text(name).default("").take()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            tenant_table("xapi_documents")
                .col(text("kind").check(Expr::col("kind").is_in([
                    "state",
                    "activity_profile",
                    "agent_profile",
                ])))
                .col(text_default("activity_iri"))
                // The agent's canonical IFI key (`mbox:mailto:…`, `account:[…]`, …).
                .col(text_default("agent"))
                // A lower-case hyphenated UUID, or '' when the state has no registration.
                .col(text_default("registration"))
                .col(text("document_id"))
                .col(text("content_type"))
                .col(ColumnDef::new("content").blob().not_null())
                // 40 lower-case hex digits: the SHA-1 of `content`, as xAPI's ETag demands.
                .col(text("etag").check(Expr::expr(Func::char_length(Expr::col("etag"))).eq(40)))
                // Epoch milliseconds: `since` compares exactly, on both databases.
                .col(ColumnDef::new("updated_ms").big_integer().not_null())
                .take(),
        )
        .await?;
        m.create_index(unique(
            "xapi_documents",
            "uq_xapi_documents_name",
            &[
                "tenant_id",
                "kind",
                "activity_iri",
                "agent",
                "registration",
                "document_id",
            ],
        ))
        .await?;
        // Lists: one context's ids, newer than `since`.
        m.create_index(index(
            "xapi_documents",
            "ix_xapi_documents_list",
            &["tenant_id", "kind", "activity_iri", "agent", "updated_ms"],
        ))
        .await?;

        if m.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
            let mut sql = rls_sql("xapi_documents");
            // Clients replace and delete documents: xAPI's DELETE is part of the protocol.
            sql.push_str(&format!(
                "GRANT SELECT, INSERT, UPDATE, DELETE ON xapi_documents TO {APP_ROLE};\n"
            ));
            m.get_connection().execute_unprepared(&sql).await?;
        }
        Ok(())
    }
}
