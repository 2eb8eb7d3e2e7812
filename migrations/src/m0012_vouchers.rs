//! Funders, voucher batches and their codes, redemptions, and what a learner pays themselves:
//! - `funders`: a body that pays through vouchers, invoiced on its organisation's billing account;
//! - `voucher_batches` and `vouchers` (one row per code, stored only as a keyed hash);
//! - `voucher_redemptions`: a use of a code on an enrolment, and the amount it covered;
//! - `enrolment_payments`: the learner's own share, paid through the provider's checkout;
//! - `charges` learn who pays a share (`payer`, `funder_id`, `redemption_id`);
//! - `billing_accounts` may belong to one person (a learner paying for themselves);
//! - `courses` carry the registry code that makes them eligible to a personal learning account;
//! - `editions` say whether a company co-funds what vouchers leave, and in which order funders pay;
//! - the ledger accepts the redemption transactions.

use sea_orm::DatabaseBackend;
use sea_orm_migration::prelude::*;

use crate::APP_ROLE;
use crate::builders::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const FUNDER_KINDS: [&str; 4] = ["pla", "public_employment", "sector_fund", "employer"];

/// The ledger's transaction kinds after this migration (m0007 had the first four).
const TRANSACTION_KINDS: &str = "'invoice', 'credit_note', 'payment', 'refund', \
     'redemption', 'redemption_release', 'redemption_invoiced'";

fn bigint(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).big_integer().not_null().take()
}

fn currency(name: &'static str) -> ColumnDef {
    ColumnDef::new(name)
        .string()
        .not_null()
        .check(Expr::cust(format!("length({name}) = 3")))
        .take()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let pg = m.get_database_backend() == DatabaseBackend::Postgres;

        m.create_table(
            tenant_table("funders")
                .col(text("name"))
                .col(text("kind").check(Expr::col("kind").is_in(FUNDER_KINDS)))
                .col(text("contact_name"))
                .col(text("contact_email"))
                // Its billing account is this organisation's.
                .col(uuid("organisation_id"))
                .col(time("created_at"))
                .col(time("updated_at"))
                .foreign_key(&mut tenant_fk(
                    "funders",
                    "organisation_id",
                    "organisations",
                ))
                .take(),
        )
        .await?;
        m.create_index(unique(
            "funders",
            "uq_funders_organisation",
            &["tenant_id", "organisation_id"],
        ))
        .await?;

        m.create_table(
            tenant_table("voucher_batches")
                .col(uuid("funder_id"))
                .col(text("name"))
                // Copied from the funder: a PLA batch is the learner's own right.
                .col(text("funder_kind").check(Expr::col("funder_kind").is_in(FUNDER_KINDS)))
                .col(int("code_count"))
                // Either a face value, or a percentage of the price (basis points) with a cap.
                .col(bigint_null("face_value_minor"))
                .col(int_null("percent_basis_points"))
                .col(bigint_null("cap_minor"))
                .col(currency("currency"))
                // What the learner keeps paying at least, whatever the vouchers cover.
                .col(bigint_null("min_learner_share_minor"))
                .col(time("valid_from"))
                .col(time("valid_until"))
                .col(int("uses_per_code"))
                // Restrictions, each a JSON array or null (no restriction).
                .col(text_null("course_ids"))
                .col(text_null("edition_ids"))
                .col(text_null("organisation_ids"))
                .col(text_null("size_bands"))
                .col(time_null("revoked_at"))
                .col(uuid_null("created_by"))
                .col(time("created_at"))
                .check(Expr::cust(
                    "(face_value_minor IS NOT NULL AND face_value_minor > 0 \
                       AND percent_basis_points IS NULL) \
                     OR (face_value_minor IS NULL AND percent_basis_points > 0 \
                       AND percent_basis_points <= 10000)",
                ))
                .check(Expr::cust("uses_per_code >= 1"))
                .check(Expr::cust("code_count >= 1 AND code_count <= 100000"))
                .foreign_key(&mut tenant_fk("voucher_batches", "funder_id", "funders"))
                .take(),
        )
        .await?;
        m.create_index(index(
            "voucher_batches",
            "ix_voucher_batches_funder",
            &["tenant_id", "funder_id", "id"],
        ))
        .await?;

        m.create_table(
            tenant_table("vouchers")
                .col(uuid("batch_id"))
                // HMAC-SHA256 (server key) of the tenant and the normalized code, in hex.
                .col(text("code_hash"))
                // Uses taken, pending ones included; a release or a withdrawal gives them back.
                .col(int("uses"))
                .col(int("max_uses"))
                .col(time_null("revoked_at"))
                .check(Expr::cust("uses >= 0 AND uses <= max_uses"))
                .foreign_key(&mut tenant_fk("vouchers", "batch_id", "voucher_batches"))
                .take(),
        )
        .await?;
        m.create_index(unique(
            "vouchers",
            "uq_vouchers_code_hash",
            &["tenant_id", "code_hash"],
        ))
        .await?;
        m.create_index(index(
            "vouchers",
            "ix_vouchers_batch",
            &["tenant_id", "batch_id"],
        ))
        .await?;

        m.create_table(
            tenant_table("voucher_redemptions")
                .col(uuid("voucher_id"))
                .col(uuid("batch_id"))
                .col(uuid("funder_id"))
                .col(uuid("enrolment_id"))
                .col(uuid("person_id"))
                .col(bigint("amount_minor"))
                .col(currency("currency"))
                .col(text("status").check(Expr::col("status").is_in([
                    "pending",
                    "confirmed",
                    "released",
                    "withdrawn",
                ])))
                // The funder's charge for this redemption.
                .col(uuid_null("charge_id"))
                .col(time("created_at"))
                .col(time("updated_at"))
                .check(Expr::cust("amount_minor >= 0"))
                .foreign_key(&mut tenant_fk(
                    "voucher_redemptions",
                    "voucher_id",
                    "vouchers",
                ))
                .foreign_key(&mut tenant_fk(
                    "voucher_redemptions",
                    "batch_id",
                    "voucher_batches",
                ))
                .foreign_key(&mut tenant_fk(
                    "voucher_redemptions",
                    "funder_id",
                    "funders",
                ))
                .foreign_key(&mut tenant_fk(
                    "voucher_redemptions",
                    "enrolment_id",
                    "enrolments",
                ))
                .foreign_key(&mut tenant_fk("voucher_redemptions", "person_id", "people"))
                .foreign_key(&mut tenant_fk(
                    "voucher_redemptions",
                    "charge_id",
                    "charges",
                ))
                .take(),
        )
        .await?;
        m.create_index(index(
            "voucher_redemptions",
            "ix_voucher_redemptions_enrolment",
            &["tenant_id", "enrolment_id"],
        ))
        .await?;
        m.create_index(index(
            "voucher_redemptions",
            "ix_voucher_redemptions_batch",
            &["tenant_id", "batch_id", "status"],
        ))
        .await?;

        m.create_table(
            tenant_table("enrolment_payments")
                .col(uuid("enrolment_id"))
                .col(uuid("person_id"))
                // The learner's invoice, issued when the checkout opens.
                .col(uuid("invoice_id"))
                .col(bigint("amount_minor"))
                .col(currency("currency"))
                .col(text("provider"))
                .col(text("checkout_id"))
                .col(text("checkout_url"))
                .col(
                    text("status").check(
                        Expr::col("status").is_in(["awaiting", "paid", "released", "refunded"]),
                    ),
                )
                .col(time("expires_at"))
                .col(time("created_at"))
                .col(time("updated_at"))
                .check(Expr::cust("amount_minor > 0"))
                .foreign_key(&mut tenant_fk(
                    "enrolment_payments",
                    "enrolment_id",
                    "enrolments",
                ))
                .foreign_key(&mut tenant_fk("enrolment_payments", "person_id", "people"))
                .foreign_key(&mut tenant_fk(
                    "enrolment_payments",
                    "invoice_id",
                    "invoices",
                ))
                .take(),
        )
        .await?;
        m.create_index(index(
            "enrolment_payments",
            "ix_enrolment_payments_enrolment",
            &["tenant_id", "enrolment_id"],
        ))
        .await?;
        m.create_index(index(
            "enrolment_payments",
            "ix_enrolment_payments_invoice",
            &["tenant_id", "invoice_id"],
        ))
        .await?;

        // Who pays a charge: the company (as before), a funder (a redemption) or the learner.
        for col in [
            ColumnDef::new("payer")
                .string()
                .not_null()
                .default("company")
                .check(Expr::col("payer").is_in(["company", "funder", "learner"]))
                .take(),
            uuid_null("funder_id"),
            uuid_null("redemption_id"),
        ] {
            m.alter_table(Table::alter().table("charges").add_column(col).take())
                .await?;
        }

        // A billing account of one person (a learner who pays for themselves). One account per
        // organisation stays the rule for the others.
        m.alter_table(
            Table::alter()
                .table("billing_accounts")
                .add_column(uuid_null("person_id"))
                .take(),
        )
        .await?;
        let conn = m.get_connection();
        conn.execute_unprepared(
            "DROP INDEX uq_billing_accounts_organisation;\n\
             CREATE UNIQUE INDEX uq_billing_accounts_organisation ON billing_accounts \
               (tenant_id, organisation_id) WHERE person_id IS NULL;\n\
             CREATE UNIQUE INDEX uq_billing_accounts_person ON billing_accounts \
               (tenant_id, person_id) WHERE person_id IS NOT NULL;",
        )
        .await?;

        m.alter_table(
            Table::alter()
                .table("courses")
                .add_column(text_null("pla_registry_code"))
                .take(),
        )
        .await?;
        for col in [
            ColumnDef::new("company_cofunding")
                .boolean()
                .not_null()
                .default(true)
                .take(),
            // A JSON array of funder kinds, first pays first; null: the default order.
            text_null("funding_order"),
        ] {
            m.alter_table(Table::alter().table("editions").add_column(col).take())
                .await?;
        }

        if pg {
            let mut sql = String::new();
            for t in [
                "funders",
                "voucher_batches",
                "vouchers",
                "voucher_redemptions",
                "enrolment_payments",
            ] {
                sql.push_str(&rls_sql(t));
            }
            sql.push_str(&format!(
                "GRANT SELECT, INSERT, UPDATE ON funders, voucher_batches, vouchers, \
                   voucher_redemptions, enrolment_payments TO {APP_ROLE};\n\
                 ALTER TABLE charges ADD CONSTRAINT fk_charges_funder_id \
                   FOREIGN KEY (tenant_id, funder_id) REFERENCES funders (tenant_id, id);\n\
                 ALTER TABLE charges ADD CONSTRAINT fk_charges_redemption_id \
                   FOREIGN KEY (tenant_id, redemption_id) REFERENCES voucher_redemptions (tenant_id, id);\n\
                 ALTER TABLE billing_accounts ADD CONSTRAINT fk_billing_accounts_person_id \
                   FOREIGN KEY (tenant_id, person_id) REFERENCES people (tenant_id, id);\n\
                 ALTER TABLE ledger_transactions DROP CONSTRAINT ledger_transactions_kind_check;\n\
                 ALTER TABLE ledger_transactions ADD CONSTRAINT ledger_transactions_kind_check \
                   CHECK (kind IN ({TRANSACTION_KINDS}));\n"
            ));
            conn.execute_unprepared(&sql).await?;
        } else {
            conn.execute_unprepared(&sqlite_ledger_kinds()).await?;
        }
        Ok(())
    }
}

/// SQLite cannot change a CHECK in place: the transaction table is rebuilt (it references
/// nothing but its tenant, and `ledger_entries` names it by name, so its foreign key holds again
/// once the new table takes the name). SQLite's own recipe: foreign keys off (possible only
/// outside a transaction, and sea-orm-migration opens none on SQLite), the swap in one
/// transaction, foreign keys back on; all in one call, so on one pooled connection. DROP TABLE
/// fires no trigger, so the append-only triggers do not refuse it.
fn sqlite_ledger_kinds() -> String {
    format!(
        "PRAGMA foreign_keys = OFF;\n\
         BEGIN;\n\
         CREATE TABLE ledger_transactions_new (\n\
           tenant_id uuid_text NOT NULL,\n\
           id uuid_text NOT NULL,\n\
           kind varchar NOT NULL CHECK (kind IN ({TRANSACTION_KINDS})),\n\
           reference_id uuid_text NOT NULL,\n\
           created_at timestamp_with_timezone_text NOT NULL,\n\
           PRIMARY KEY (tenant_id, id),\n\
           FOREIGN KEY (tenant_id) REFERENCES tenants (id)\n\
         );\n\
         INSERT INTO ledger_transactions_new (tenant_id, id, kind, reference_id, created_at) \
           SELECT tenant_id, id, kind, reference_id, created_at FROM ledger_transactions;\n\
         DROP TABLE ledger_transactions;\n\
         ALTER TABLE ledger_transactions_new RENAME TO ledger_transactions;\n\
         CREATE INDEX ix_ledger_transactions_reference ON ledger_transactions (tenant_id, reference_id);\n\
         CREATE TRIGGER ledger_transactions_no_update BEFORE UPDATE ON ledger_transactions \
           BEGIN SELECT RAISE(ABORT, 'the ledger is append-only: update of ledger_transactions refused'); END;\n\
         CREATE TRIGGER ledger_transactions_no_delete BEFORE DELETE ON ledger_transactions \
           BEGIN SELECT RAISE(ABORT, 'the ledger is append-only: delete of ledger_transactions refused'); END;\n\
         COMMIT;\n\
         PRAGMA foreign_keys = ON;\n"
    )
}
