use async_graphql::{Context, ID, Object};
use spaces_billing::invoices::{self, IssueInput, reads};
use spaces_billing::{BillingAccountId, InvoiceId, InvoiceLineId};

use crate::error::{ApiResult, parse_id};
use crate::query::billing_accounts::billing_caller;
use crate::types::invoice::{InvoiceGql, IssueInvoiceInput, lines_in};

#[derive(Default)]
pub struct InvoiceMutation;

fn issue_input(input: &IssueInvoiceInput) -> ApiResult<IssueInput> {
    let buyer: BillingAccountId = parse_id("buyerId", &input.buyer_id)?;
    Ok(IssueInput {
        buyer,
        lines: lines_in(&input.lines)?,
        due_date: input.due_date,
        note: input.note.clone(),
    })
}

#[Object]
impl InvoiceMutation {
    /// Issues an invoice now: numbered in the space's series, frozen, posted to the ledger
    /// (the space's admins, platform operators).
    async fn issue_invoice(
        &self,
        ctx: &Context<'_>,
        input: IssueInvoiceInput,
    ) -> ApiResult<InvoiceGql> {
        let scope = crate::scope::of(ctx);
        let who = billing_caller(scope)?;
        let issue = issue_input(&input)?;
        let now = scope.deps.clock.now();
        scope
            .atomic(async |tx| {
                let issued = invoices::issue_as(tx, who, now, issue).await?;
                Ok(InvoiceGql::with_detail(
                    reads::get(tx, who, now.date_naive(), issued.id).await?,
                ))
            })
            .await
    }

    /// Writes a draft invoice: totalled, without a number, changing no balance.
    async fn create_draft_invoice(
        &self,
        ctx: &Context<'_>,
        input: IssueInvoiceInput,
    ) -> ApiResult<InvoiceGql> {
        let scope = crate::scope::of(ctx);
        let who = billing_caller(scope)?;
        let draft = issue_input(&input)?;
        let now = scope.deps.clock.now();
        scope
            .atomic(async |tx| {
                let id = invoices::create_draft(tx, who, now, draft).await?;
                Ok(InvoiceGql::with_detail(
                    reads::get(tx, who, now.date_naive(), id).await?,
                ))
            })
            .await
    }

    /// Issues a draft: it takes the next number of the series now.
    async fn issue_draft_invoice(&self, ctx: &Context<'_>, id: ID) -> ApiResult<InvoiceGql> {
        let scope = crate::scope::of(ctx);
        let who = billing_caller(scope)?;
        let id: InvoiceId = parse_id("id", &id)?;
        let now = scope.deps.clock.now();
        scope
            .atomic(async |tx| {
                let issued = invoices::issue_draft(tx, who, now, id).await?;
                Ok(InvoiceGql::with_detail(
                    reads::get(tx, who, now.date_naive(), issued.id).await?,
                ))
            })
            .await
    }

    /// Issues a credit note for whole lines of an issued invoice; a line is credited once.
    async fn credit_invoice(
        &self,
        ctx: &Context<'_>,
        invoice_id: ID,
        line_ids: Vec<ID>,
        reason: String,
    ) -> ApiResult<InvoiceGql> {
        let scope = crate::scope::of(ctx);
        let who = billing_caller(scope)?;
        let invoice: InvoiceId = parse_id("invoiceId", &invoice_id)?;
        let lines: Vec<InvoiceLineId> = line_ids
            .iter()
            .map(|l| parse_id("lineIds", l))
            .collect::<ApiResult<_>>()?;
        let now = scope.deps.clock.now();
        scope
            .atomic(async |tx| {
                let issued = invoices::credit_as(tx, who, now, invoice, &lines, &reason).await?;
                Ok(InvoiceGql::with_detail(
                    reads::get(tx, who, now.date_naive(), issued.id).await?,
                ))
            })
            .await
    }
}
