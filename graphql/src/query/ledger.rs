use async_graphql::connection::{Connection, EmptyFields};
use async_graphql::{Context, ID, Object};
use spaces_billing::BillingAccountId;
use spaces_billing::ledger::{self, Account};
use spaces_tenants::kernel::page::PageRequest;

use crate::error::{ApiResult, parse_id};
use crate::types::connection;
use crate::types::ledger::{LedgerAccountKindGql, LedgerBalanceGql, LedgerEntryGql};

#[derive(Default)]
pub struct LedgerQuery;

#[Object]
impl LedgerQuery {
    /// The space's ledger balances: one per account and currency that has entries (debits
    /// positive, credits negative). Tenant admins and platform operators.
    async fn ledger_balances(&self, ctx: &Context<'_>) -> ApiResult<Vec<LedgerBalanceGql>> {
        let scope = crate::scope::of(ctx);
        ledger::authorise_read(&scope.principal)?;
        let tx = scope.tx().await?;
        Ok(ledger::balances(&tx)
            .await?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// One account's entries, oldest first: a receivable names its billing account, the
    /// space's own accounts take none. Tenant admins and platform operators.
    #[graphql(complexity = "first.unwrap_or(20).clamp(1, 100) as usize * child_complexity")]
    async fn ledger_entries(
        &self,
        ctx: &Context<'_>,
        account_kind: LedgerAccountKindGql,
        billing_account_id: Option<ID>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Connection<String, LedgerEntryGql, EmptyFields, EmptyFields>> {
        let scope = crate::scope::of(ctx);
        ledger::authorise_read(&scope.principal)?;
        let billing: Option<BillingAccountId> = billing_account_id
            .as_ref()
            .map(|i| parse_id("billingAccountId", i))
            .transpose()?;
        let account = Account::from_parts(account_kind.into(), billing, "billingAccountId")?;
        let page = PageRequest::parse(first, after.as_deref())?;
        let tx = scope.tx().await?;
        let p = ledger::entries(&tx, account, page).await?;
        Ok(connection(
            p.map(LedgerEntryGql::from),
            |e| e.cursor,
            page.after.is_some(),
        ))
    }
}
