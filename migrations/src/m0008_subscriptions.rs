//! Plans (platform data), seat subscriptions and priced-edition charges (tenant data), and the
//! edition's billing columns: withdrawal period, immediate invoice, VAT rate.

use sea_orm_migration::prelude::*;

use crate::APP_ROLE;
use crate::builders::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

fn bigint(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).big_integer().not_null().take()
}

fn date(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).date().not_null().take()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let pg = m.get_database_backend() == sea_orm::DatabaseBackend::Postgres;
        m.create_table(
            Table::create()
                .table("plans")
                .col(ColumnDef::new("id").uuid().not_null().primary_key())
                .col(text("name"))
                .col(int("seats"))
                // `annual` or `monthly`.
                .col(text("term"))
                .col(bigint("price_minor"))
                .col(text("currency"))
                .col(int("vat_basis_points"))
                .col(time_null("retired_at"))
                .col(time("created_at"))
                .take(),
        )
        .await?;
        // The plan's terms are copied onto the subscription at sale: retiring or later plans
        // never change what a space bought.
        m.create_table(
            tenant_table("subscriptions")
                .col(uuid("plan_id"))
                .col(uuid("billing_account_id"))
                .col(text("plan_name"))
                .col(text("term"))
                .col(int("plan_seats"))
                .col(bigint("price_minor"))
                .col(text("currency"))
                .col(int("vat_basis_points"))
                .col(int("seats"))
                // Fewer seats asked mid-term take effect at renewal.
                .col(int("renewal_seats"))
                // The term is [starts_on, ends_on): ends_on is the next term's first day.
                .col(date("starts_on"))
                .col(date("ends_on"))
                // `active`, `past_due`, `cancelled`.
                .col(text("status"))
                .col(boolean("cancel_at_term_end"))
                // The latest renewal invoice, which the overdue job watches.
                .col(uuid_null("renewal_invoice_id"))
                .col(time("created_at"))
                .col(time("updated_at"))
                .foreign_key(&mut platform_fk("subscriptions", "plan_id", "plans"))
                .foreign_key(&mut tenant_fk(
                    "subscriptions",
                    "billing_account_id",
                    "billing_accounts",
                ))
                .take(),
        )
        .await?;
        // One live subscription per space, even under concurrent sales.
        m.get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX uq_subscriptions_live ON subscriptions (tenant_id) \
                 WHERE status <> 'cancelled'",
            )
            .await?;
        m.create_table(
            tenant_table("charges")
                .col(uuid("enrolment_id"))
                .col(uuid("edition_id"))
                .col(uuid("billing_account_id"))
                // The invoice line's text, fixed when the charge is made.
                .col(text("description"))
                .col(bigint("amount_minor"))
                .col(text("currency"))
                // A rate, or NULL with an exemption mention.
                .col(int_null("vat_basis_points"))
                .col(text_null("vat_exempt_mention"))
                // `pending`, `invoiced`, `dropped`, `credited`.
                .col(text("status"))
                .col(uuid_null("invoice_id"))
                .col(uuid_null("invoice_line_id"))
                .col(time("withdrawal_until"))
                .col(time("created_at"))
                .col(time("updated_at"))
                .foreign_key(&mut tenant_fk("charges", "enrolment_id", "enrolments"))
                .foreign_key(&mut tenant_fk("charges", "edition_id", "editions"))
                .foreign_key(&mut tenant_fk(
                    "charges",
                    "billing_account_id",
                    "billing_accounts",
                ))
                .take(),
        )
        .await?;
        m.create_index(index(
            "charges",
            "ix_charges_account_status",
            &["tenant_id", "billing_account_id", "status"],
        ))
        .await?;
        m.create_index(index(
            "charges",
            "ix_charges_enrolment",
            &["tenant_id", "enrolment_id"],
        ))
        .await?;
        for col in [
            ColumnDef::new("withdrawal_days")
                .integer()
                .not_null()
                .default(14)
                .take(),
            ColumnDef::new("invoice_immediately")
                .boolean()
                .not_null()
                .default(false)
                .take(),
            int_null("vat_basis_points"),
        ] {
            m.alter_table(
                Table::alter()
                    .table("editions")
                    .add_column(col.clone())
                    .take(),
            )
            .await?;
        }
        if pg {
            let mut sql = String::new();
            for t in ["subscriptions", "charges"] {
                sql.push_str(&rls_sql(t));
            }
            sql.push_str(&format!(
                "GRANT SELECT, INSERT, UPDATE ON plans TO {APP_ROLE};\n\
                 GRANT SELECT, INSERT, UPDATE ON subscriptions TO {APP_ROLE};\n\
                 GRANT SELECT, INSERT, UPDATE ON charges TO {APP_ROLE};\n"
            ));
            m.get_connection().execute_unprepared(&sql).await?;
        }
        Ok(())
    }
}
