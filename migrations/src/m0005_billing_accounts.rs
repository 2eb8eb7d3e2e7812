//! Billing accounts: the paying organisation behind a space's subscription or a member
//! company's enrolments. One per organisation; an enrolment is charged to the nearest one up the
//! tree.

use sea_orm_migration::prelude::*;

use crate::APP_ROLE;
use crate::builders::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            tenant_table("billing_accounts")
                .col(uuid("organisation_id"))
                .col(text("legal_name"))
                .col(text("address_line"))
                .col(text("postcode"))
                .col(text("city"))
                // ISO 3166-1 alpha-2.
                .col(text("country"))
                // SIREN/SIRET in France; free form elsewhere.
                .col(text_null("registration_number"))
                .col(text_null("vat_number"))
                .col(text("invoice_email"))
                // ISO 4217: every invoice and ledger account of this buyer is in it.
                .col(text("currency"))
                .col(time("created_at"))
                .col(time("updated_at"))
                .foreign_key(&mut tenant_fk(
                    "billing_accounts",
                    "organisation_id",
                    "organisations",
                ))
                .take(),
        )
        .await?;
        m.create_index(unique(
            "billing_accounts",
            "uq_billing_accounts_organisation",
            &["tenant_id", "organisation_id"],
        ))
        .await?;
        if m.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
            let mut sql = rls_sql("billing_accounts");
            sql.push_str(&format!(
                "GRANT SELECT, INSERT, UPDATE ON billing_accounts TO {APP_ROLE};\n"
            ));
            m.get_connection().execute_unprepared(&sql).await?;
        }
        Ok(())
    }
}
