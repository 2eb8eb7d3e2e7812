use async_graphql::connection::{Connection, EmptyFields};
use async_graphql::{Context, ID, Object};
use spaces_billing::InvoiceId;
use spaces_billing::payments;
use spaces_tenants::kernel::page::PageRequest;

use crate::error::{ApiResult, parse_id};
use crate::query::billing_accounts::billing_caller;
use crate::types::connection;
use crate::types::payment::PaymentGql;

#[derive(Default)]
pub struct PaymentQuery;

#[Object]
impl PaymentQuery {
    /// Payments and refunds the caller may read, of one invoice or all, oldest first.
    #[graphql(complexity = "first.unwrap_or(20).clamp(1, 100) as usize * child_complexity")]
    async fn payments(
        &self,
        ctx: &Context<'_>,
        invoice_id: Option<ID>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Connection<String, PaymentGql, EmptyFields, EmptyFields>> {
        let scope = crate::scope::of(ctx);
        let who = billing_caller(scope)?;
        let invoice: Option<InvoiceId> = invoice_id
            .as_ref()
            .map(|i| parse_id("invoiceId", i))
            .transpose()?;
        let page = PageRequest::parse(first, after.as_deref())?;
        let tx = scope.tx().await?;
        let p = payments::list(&tx, who, invoice, page)
            .await?
            .map(PaymentGql);
        Ok(connection(p, |p| p.0.id.uuid(), page.after.is_some()))
    }
}
