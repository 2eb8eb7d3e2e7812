//! Statements become progress. People gain what an LMS names them by besides the email: an
//! external reference (an xAPI account: home page and name) and the SHA-1 of their mailto IRI
//! (`mbox_sha1sum`). Each module gains its cmi5 `moveOn` rule; module progress records
//! completed, passed, failed and the best scaled score (`completed_at` stays "the module is
//! done": its rule and the edition's minimum score are met, which the dashboards count).
//! Enrolments keep their grade. Statements about actors or activities the space does not know
//! are recorded per space (insert-only, summed by the admins' report).

use sea_orm_migration::prelude::*;

use crate::APP_ROLE;
use crate::builders::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

fn flag(name: &'static str) -> ColumnDef {
    ColumnDef::new(name)
        .boolean()
        .not_null()
        .default(false)
        .take()
}

async fn add(m: &SchemaManager<'_>, table: &'static str, col: ColumnDef) -> Result<(), DbErr> {
    m.alter_table(Table::alter().table(table).add_column(col).take())
        .await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        add(m, "people", text_null("external_home_page")).await?;
        add(m, "people", text_null("external_ref")).await?;
        add(m, "people", text_null("mbox_sha1sum")).await?;
        m.create_index(unique(
            "people",
            "uq_people_external_ref",
            &["tenant_id", "external_home_page", "external_ref"],
        ))
        .await?;
        m.create_index(index(
            "people",
            "ix_people_mbox_sha1sum",
            &["tenant_id", "mbox_sha1sum"],
        ))
        .await?;

        add(
            m,
            "edition_modules",
            ColumnDef::new("move_on")
                .string()
                .not_null()
                .default("completed")
                .check(Expr::col("move_on").is_in([
                    "completed",
                    "passed",
                    "completed_and_passed",
                    "completed_or_passed",
                    "not_applicable",
                ]))
                .take(),
        )
        .await?;

        add(m, "module_progress", flag("completed")).await?;
        add(m, "module_progress", flag("passed")).await?;
        add(m, "module_progress", flag("failed")).await?;
        add(
            m,
            "module_progress",
            ColumnDef::new("best_scaled").double().null().take(),
        )
        .await?;
        add(
            m,
            "enrolments",
            ColumnDef::new("grade").double().null().take(),
        )
        .await?;

        m.create_table(
            tenant_table("xapi_unmatched")
                // actor: no person of the space; activity: no module of the space.
                .col(text("kind").check(Expr::col("kind").is_in(["actor", "activity"])))
                .col(text("value"))
                .col(ColumnDef::new("statements").big_integer().not_null().take())
                .col(time("last_seen_at"))
                .take(),
        )
        .await?;
        // Insert-only (one row per request and value, summed by the report): writers never
        // wait on each other's counter row.
        m.create_index(index(
            "xapi_unmatched",
            "ix_xapi_unmatched",
            &["tenant_id", "kind", "value"],
        ))
        .await?;

        if m.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
            let mut sql = rls_sql("xapi_unmatched");
            sql.push_str(&format!(
                "GRANT SELECT, INSERT ON xapi_unmatched TO {APP_ROLE};\n"
            ));
            m.get_connection().execute_unprepared(&sql).await?;
        }
        Ok(())
    }
}
