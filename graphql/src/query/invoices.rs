use async_graphql::connection::{Connection, EmptyFields};
use async_graphql::{Context, ID, Object};
use spaces_billing::invoices::reads::{self, Filter};
use spaces_billing::{BillingAccountId, InvoiceId};
use spaces_tenants::kernel::page::PageRequest;

use crate::error::{ApiResult, parse_id};
use crate::query::billing_accounts::billing_caller;
use crate::types::connection;
use crate::types::invoice::{InvoiceGql, InvoiceKindGql, InvoiceStatusGql};

#[derive(Default)]
pub struct InvoiceQuery;

#[Object]
impl InvoiceQuery {
    /// An invoice or credit note, with its lines, VAT breakdown, payments and credit notes.
    async fn invoice(&self, ctx: &Context<'_>, id: ID) -> ApiResult<InvoiceGql> {
        let scope = crate::scope::of(ctx);
        let who = billing_caller(scope)?;
        let id: InvoiceId = parse_id("id", &id)?;
        let tx = scope.tx().await?;
        let today = scope.deps.clock.today();
        Ok(InvoiceGql::with_detail(
            reads::get(&tx, who, today, id).await?,
        ))
    }

    /// Invoices and credit notes the caller may read (the space's admins: all; HR: their
    /// organisations' billing accounts), oldest first, by derived status, kind, buyer and issue
    /// dates (`from` and `to` included).
    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "first.unwrap_or(20).clamp(1, 100) as usize * child_complexity")]
    async fn invoices(
        &self,
        ctx: &Context<'_>,
        status: Option<InvoiceStatusGql>,
        kind: Option<InvoiceKindGql>,
        buyer_id: Option<ID>,
        from: Option<chrono::NaiveDate>,
        to: Option<chrono::NaiveDate>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Connection<String, InvoiceGql, EmptyFields, EmptyFields>> {
        let scope = crate::scope::of(ctx);
        let who = billing_caller(scope)?;
        let buyer: Option<BillingAccountId> = buyer_id
            .as_ref()
            .map(|b| parse_id("buyerId", b))
            .transpose()?;
        let page = PageRequest::parse(first, after.as_deref())?;
        let tx = scope.tx().await?;
        let filter = Filter {
            state: status.map(Into::into),
            kind: kind.map(Into::into),
            from,
            to,
            buyer,
        };
        let today = scope.deps.clock.today();
        let p = reads::list(&tx, who, today, filter, page).await?;
        // Lines, VAT rows, payments or credit notes asked for: loaded for the whole page at
        // once, not invoice by invoice.
        let node = ctx.look_ahead().field("edges").field("node");
        let deep = ["lines", "vatBreakdown", "payments", "creditNotes"]
            .iter()
            .any(|f| node.field(f).exists());
        let p = if deep {
            let details = reads::details(&tx, today, &p.items).await?;
            spaces_tenants::kernel::page::Page {
                items: details.into_iter().map(InvoiceGql::with_detail).collect(),
                has_next_page: p.has_next_page,
            }
        } else {
            p.map(InvoiceGql::new)
        };
        Ok(connection(p, |i| i.inv.id.uuid(), page.after.is_some()))
    }
}
