use async_graphql::{Context, ID, Object};
use spaces_billing::InvoiceId;
use spaces_billing::invoices::reads;
use spaces_billing::payments;

use crate::error::{ApiResult, parse_id};
use crate::query::billing_accounts::billing_caller;
use crate::types::invoice::InvoiceGql;
use crate::types::money::MoneyInput;

#[derive(Default)]
pub struct PaymentMutation;

#[Object]
impl PaymentMutation {
    /// Records a bank transfer against an issued invoice (the space's admins, platform
    /// operators). Partial payments are allowed; more than what is left to pay is refused with
    /// OVERPAYMENT. Answers the invoice as it now stands.
    async fn record_payment(
        &self,
        ctx: &Context<'_>,
        invoice_id: ID,
        amount: MoneyInput,
        received_on: chrono::NaiveDate,
        reference: String,
    ) -> ApiResult<InvoiceGql> {
        let scope = crate::scope::of(ctx);
        let who = billing_caller(scope)?;
        let invoice: InvoiceId = parse_id("invoiceId", &invoice_id)?;
        let amount = amount.parse("amount")?;
        let now = scope.deps.clock.now();
        scope
            .atomic(async |tx| {
                payments::record_manual(tx, who, now, invoice, amount, received_on, &reference)
                    .await?;
                Ok(InvoiceGql::with_detail(
                    reads::get(tx, who, now.date_naive(), invoice).await?,
                ))
            })
            .await
    }
}
