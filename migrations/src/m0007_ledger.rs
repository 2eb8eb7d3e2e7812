//! The double-entry ledger: one transaction per money movement, its entries summing to zero.
//! Append-only at the database, not only in the code: the server's role may only SELECT and
//! INSERT, a trigger refuses UPDATE and DELETE (both backends), and on PostgreSQL a deferred
//! constraint trigger refuses to commit a transaction whose entries do not balance.

use sea_orm_migration::prelude::*;

use crate::APP_ROLE;
use crate::builders::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Kinds of ledger transaction (`invoice`, ..) and of account. The account list already holds
/// the next issue's funder receivables and voucher liability, so adding them needs no table
/// rebuild on SQLite.
const TRANSACTION_KINDS: &[&str] = &["invoice", "credit_note", "payment", "refund"];
const ACCOUNT_KINDS: &[&str] = &[
    "receivable",
    "revenue",
    "vat_payable",
    "cash",
    "refunds",
    "funder_receivable",
    "voucher_liability",
];

fn one_of(col: &'static str, values: &[&str]) -> ColumnDef {
    ColumnDef::new(col)
        .string()
        .not_null()
        .check(Expr::col(col).is_in(values.iter().map(|v| (*v).to_owned())))
        .take()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            tenant_table("ledger_transactions")
                .col(one_of("kind", TRANSACTION_KINDS))
                // The document the transaction records (an invoice, a payment..).
                .col(uuid("reference_id"))
                .col(time("created_at"))
                .take(),
        )
        .await?;
        m.create_index(index(
            "ledger_transactions",
            "ix_ledger_transactions_reference",
            &["tenant_id", "reference_id"],
        ))
        .await?;

        m.create_table(
            tenant_table("ledger_entries")
                .col(uuid("transaction_id"))
                .col(one_of("account_kind", ACCOUNT_KINDS))
                // Set for the accounts that belong to one buyer (receivables), null otherwise.
                .col(uuid_null("billing_account_id"))
                // Debit > 0, credit < 0.
                .col(ColumnDef::new("amount_minor").big_integer().not_null())
                .col(
                    ColumnDef::new("currency")
                        .string()
                        .not_null()
                        .check(Expr::cust("length(currency) = 3"))
                        .take(),
                )
                .col(time("created_at"))
                .check(Expr::cust(
                    "account_kind NOT IN ('receivable', 'funder_receivable') OR billing_account_id IS NOT NULL",
                ))
                .foreign_key(&mut tenant_fk(
                    "ledger_entries",
                    "transaction_id",
                    "ledger_transactions",
                ))
                .foreign_key(&mut tenant_fk(
                    "ledger_entries",
                    "billing_account_id",
                    "billing_accounts",
                ))
                .take(),
        )
        .await?;
        m.create_index(index(
            "ledger_entries",
            "ix_ledger_entries_transaction",
            &["tenant_id", "transaction_id"],
        ))
        .await?;
        // An account's entries, paged by id.
        m.create_index(index(
            "ledger_entries",
            "ix_ledger_entries_account",
            &["tenant_id", "account_kind", "billing_account_id", "id"],
        ))
        .await?;

        let conn = m.get_connection();
        if m.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
            let mut sql = rls_sql("ledger_transactions");
            sql.push_str(&rls_sql("ledger_entries"));
            sql.push_str(&format!(
                "GRANT SELECT, INSERT ON ledger_transactions, ledger_entries TO {APP_ROLE};\n"
            ));
            sql.push_str(PG_TRIGGERS);
            conn.execute_unprepared(&sql).await?;
        } else {
            for t in ["ledger_transactions", "ledger_entries"] {
                for op in ["UPDATE", "DELETE"] {
                    conn.execute_unprepared(&format!(
                        "CREATE TRIGGER {t}_no_{op} BEFORE {op} ON {t} \
                         BEGIN SELECT RAISE(ABORT, 'the ledger is append-only: {op} of {t} refused'); END;",
                        op = op.to_lowercase()
                    ))
                    .await?;
                }
            }
        }
        Ok(())
    }
}

/// Append-only on every path the server's role could take (its grants already refuse UPDATE,
/// DELETE and TRUNCATE; the triggers hold even for a role granted more by mistake), and the
/// balance checked at COMMIT: per transaction and currency, the entries sum to zero, and a
/// transaction has entries. Deferred, so `post` can insert the entries one statement after the
/// transaction row; it runs with the committing role's rights, under its row-level security,
/// and filters by the row's own tenant anyway.
const PG_TRIGGERS: &str = r#"
CREATE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the ledger is append-only: % of % refused', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'restrict_violation';
END $$;
CREATE TRIGGER ledger_transactions_append_only BEFORE UPDATE OR DELETE ON ledger_transactions
  FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER ledger_entries_append_only BEFORE UPDATE OR DELETE ON ledger_entries
  FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER ledger_transactions_no_truncate BEFORE TRUNCATE ON ledger_transactions
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER ledger_entries_no_truncate BEFORE TRUNCATE ON ledger_entries
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();

CREATE FUNCTION ledger_entries_balance() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  bad record;
BEGIN
  SELECT currency, sum(amount_minor) AS total INTO bad
    FROM ledger_entries
   WHERE tenant_id = NEW.tenant_id AND transaction_id = NEW.transaction_id
   GROUP BY currency HAVING sum(amount_minor) <> 0
   LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'ledger transaction % does not balance: its % entries sum to %',
      NEW.transaction_id, bad.currency, bad.total
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER ledger_entries_balanced AFTER INSERT ON ledger_entries
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_entries_balance();

CREATE FUNCTION ledger_transactions_have_entries() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM ledger_entries
                  WHERE tenant_id = NEW.tenant_id AND transaction_id = NEW.id) THEN
    RAISE EXCEPTION 'ledger transaction % has no entries', NEW.id
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER ledger_transactions_not_empty AFTER INSERT ON ledger_transactions
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_transactions_have_entries();
"#;
