//! Invoices and credit notes, their lines, their numbering counters, and payments.
//!
//! An issued invoice and its lines are frozen by triggers on both databases (UPDATE, DELETE, and
//! a line added to an issued invoice are refused), and on PostgreSQL the server's role has no
//! DELETE on them. Payment state is derived from payments, credit notes and the clock; nothing
//! of it is stored on the invoice row. Payments are append-only.

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

fn check(sql: &str) -> SimpleExpr {
    Expr::cust(sql.to_owned())
}

const SQLITE_TRIGGERS: &str = "
CREATE TRIGGER invoices_frozen_update BEFORE UPDATE ON invoices
  FOR EACH ROW WHEN OLD.status = 'issued'
  BEGIN SELECT RAISE(ABORT, 'an issued invoice cannot change'); END;
CREATE TRIGGER invoices_frozen_delete BEFORE DELETE ON invoices
  FOR EACH ROW WHEN OLD.status = 'issued'
  BEGIN SELECT RAISE(ABORT, 'an issued invoice cannot be deleted'); END;
CREATE TRIGGER invoice_lines_frozen_insert BEFORE INSERT ON invoice_lines
  FOR EACH ROW WHEN EXISTS (SELECT 1 FROM invoices i WHERE i.tenant_id = NEW.tenant_id AND i.id = NEW.invoice_id AND i.status = 'issued')
  BEGIN SELECT RAISE(ABORT, 'an issued invoice cannot gain lines'); END;
CREATE TRIGGER invoice_lines_frozen_update BEFORE UPDATE ON invoice_lines
  FOR EACH ROW WHEN EXISTS (SELECT 1 FROM invoices i WHERE i.tenant_id = OLD.tenant_id AND i.id = OLD.invoice_id AND i.status = 'issued')
  BEGIN SELECT RAISE(ABORT, 'the lines of an issued invoice cannot change'); END;
CREATE TRIGGER invoice_lines_frozen_delete BEFORE DELETE ON invoice_lines
  FOR EACH ROW WHEN EXISTS (SELECT 1 FROM invoices i WHERE i.tenant_id = OLD.tenant_id AND i.id = OLD.invoice_id AND i.status = 'issued')
  BEGIN SELECT RAISE(ABORT, 'the lines of an issued invoice cannot be deleted'); END;
CREATE TRIGGER payments_append_only_update BEFORE UPDATE ON payments
  BEGIN SELECT RAISE(ABORT, 'payments are append-only'); END;
CREATE TRIGGER payments_append_only_delete BEFORE DELETE ON payments
  BEGIN SELECT RAISE(ABORT, 'payments are append-only'); END;
";

const PG_TRIGGERS: &str = "
CREATE FUNCTION invoices_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.status = 'issued' THEN
    RAISE EXCEPTION 'issued invoice % cannot change', OLD.id USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER invoices_frozen BEFORE UPDATE OR DELETE ON invoices
  FOR EACH ROW EXECUTE FUNCTION invoices_frozen();
CREATE FUNCTION invoice_lines_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE r invoice_lines;
BEGIN
  IF TG_OP = 'INSERT' THEN r := NEW; ELSE r := OLD; END IF;
  IF EXISTS (SELECT 1 FROM invoices i WHERE i.tenant_id = r.tenant_id AND i.id = r.invoice_id AND i.status = 'issued') THEN
    RAISE EXCEPTION 'the lines of issued invoice % cannot change', r.invoice_id USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER invoice_lines_frozen BEFORE INSERT OR UPDATE OR DELETE ON invoice_lines
  FOR EACH ROW EXECUTE FUNCTION invoice_lines_frozen();
CREATE FUNCTION payments_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'payments are append-only' USING ERRCODE = 'integrity_constraint_violation';
END $$;
CREATE TRIGGER payments_append_only BEFORE UPDATE OR DELETE ON payments
  FOR EACH ROW EXECUTE FUNCTION payments_append_only();
";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One row per space, kind (F invoice, A credit note) and year: the next number. Taken
        // with `UPDATE .. RETURNING` in the invoice's own transaction, so a rollback gives the
        // number back and the series has no gap.
        m.create_table(
            tenant_table("invoice_counters")
                .col(text("kind"))
                .col(int("year"))
                .col(bigint("next"))
                .check(check("kind IN ('F', 'A')"))
                .take(),
        )
        .await?;
        m.create_index(unique(
            "invoice_counters",
            "uq_invoice_counters_series",
            &["tenant_id", "kind", "year"],
        ))
        .await?;

        m.create_table(
            tenant_table("invoices")
                .col(uuid("account_id"))
                .col(text("kind"))
                // draft, then issued (frozen); payment state is derived, never stored.
                .col(text("status"))
                .col(text_null("number"))
                .col(text("currency"))
                .col(date_null("issue_date"))
                .col(date_null("due_date"))
                .col(text_null("note"))
                // A credit note's invoice.
                .col(uuid_null("corrects_id"))
                .col(text_null("reason"))
                .col(bigint("net_minor"))
                .col(bigint("vat_minor"))
                .col(bigint("gross_minor"))
                // The VAT breakdown (JSON) as issued: per rate or exemption, taxable and VAT.
                .col(text("breakdown"))
                // The parties as they were at issue (JSON), so later edits change no invoice.
                .col(text_null("seller"))
                .col(text_null("buyer"))
                .col(time_null("issued_at"))
                .col(time("created_at"))
                .check(check("kind IN ('invoice', 'credit_note')"))
                .check(check("status IN ('draft', 'issued')"))
                .check(check("(status = 'draft') = (number IS NULL)"))
                .check(check("(kind = 'credit_note') = (corrects_id IS NOT NULL)"))
                .check(check(
                    "net_minor >= 0 AND vat_minor >= 0 AND gross_minor = net_minor + vat_minor",
                ))
                .foreign_key(&mut tenant_fk("invoices", "account_id", "billing_accounts"))
                .foreign_key(&mut tenant_fk("invoices", "corrects_id", "invoices"))
                .take(),
        )
        .await?;
        m.create_index(unique(
            "invoices",
            "uq_invoices_number",
            &["tenant_id", "number"],
        ))
        .await?;
        m.create_index(index(
            "invoices",
            "ix_invoices_account",
            &["tenant_id", "account_id"],
        ))
        .await?;
        m.create_index(index(
            "invoices",
            "ix_invoices_corrects",
            &["tenant_id", "corrects_id"],
        ))
        .await?;

        m.create_table(
            tenant_table("invoice_lines")
                .col(uuid("invoice_id"))
                .col(int("position"))
                .col(text("description"))
                .col(bigint("quantity"))
                .col(bigint("unit_price_minor"))
                .col(bigint("net_minor"))
                // Basis points, or NULL with an exemption mention.
                .col(int_null("vat_basis_points"))
                .col(text_null("exemption"))
                .col(uuid_null("charge_id"))
                // On a credit note: the invoice line it credits.
                .col(uuid_null("credits_line_id"))
                .check(check("quantity > 0 AND unit_price_minor >= 0 AND net_minor = quantity * unit_price_minor"))
                .check(check("(vat_basis_points IS NULL) = (exemption IS NOT NULL)"))
                .foreign_key(&mut tenant_fk("invoice_lines", "invoice_id", "invoices"))
                .foreign_key(&mut tenant_fk("invoice_lines", "credits_line_id", "invoice_lines"))
                .take(),
        )
        .await?;
        m.create_index(index(
            "invoice_lines",
            "ix_invoice_lines_invoice",
            &["tenant_id", "invoice_id"],
        ))
        .await?;
        m.create_index(index(
            "invoice_lines",
            "ix_invoice_lines_credits",
            &["tenant_id", "credits_line_id"],
        ))
        .await?;

        m.create_table(
            tenant_table("payments")
                .col(uuid("invoice_id"))
                .col(text("kind"))
                .col(bigint("amount_minor"))
                .col(text("currency"))
                // The part of a refund that re-opens the buyer's receivable (what a credit
                // note made owed back); the rest goes to the refunds account.
                .col(bigint("receivable_minor"))
                .col(date("received_on"))
                .col(text("method"))
                .col(text_null("provider"))
                .col(text_null("external_id"))
                .col(text("reference"))
                .col(uuid_null("refund_of"))
                .col(time("created_at"))
                .check(check("kind IN ('payment', 'refund')"))
                .check(check("method IN ('manual', 'provider')"))
                .check(check("amount_minor > 0"))
                .check(check(
                    "(method = 'provider') = (provider IS NOT NULL AND external_id IS NOT NULL)",
                ))
                .foreign_key(&mut tenant_fk("payments", "invoice_id", "invoices"))
                .foreign_key(&mut tenant_fk("payments", "refund_of", "payments"))
                .take(),
        )
        .await?;
        m.create_index(index(
            "payments",
            "ix_payments_invoice",
            &["tenant_id", "invoice_id"],
        ))
        .await?;
        // A provider's payment (or refund) is recorded once per space, however often its
        // webhook arrives.
        m.get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX uq_payments_provider ON payments (tenant_id, kind, provider, external_id) WHERE provider IS NOT NULL",
            )
            .await?;

        if m.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
            let mut sql = String::new();
            for t in ["invoice_counters", "invoices", "invoice_lines", "payments"] {
                sql.push_str(&rls_sql(t));
            }
            sql.push_str(&format!(
                "GRANT SELECT, INSERT, UPDATE ON invoice_counters TO {APP_ROLE};\n\
                 GRANT SELECT, INSERT, UPDATE ON invoices TO {APP_ROLE};\n\
                 GRANT SELECT, INSERT, UPDATE ON invoice_lines TO {APP_ROLE};\n\
                 GRANT SELECT, INSERT ON payments TO {APP_ROLE};\n"
            ));
            sql.push_str(PG_TRIGGERS);
            m.get_connection().execute_unprepared(&sql).await?;
        } else {
            m.get_connection()
                .execute_unprepared(SQLITE_TRIGGERS)
                .await?;
        }
        Ok(())
    }
}
