//! What admins read of the ledger: balances per account, and an account's entries.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, QueryFilter, QueryOrder, QuerySelect};
use spaces_tenants::kernel::page::{Page, PageRequest};
use spaces_tenants::{Error, Result, TenantTx};
use uuid::Uuid;

use super::entity::{entry, transaction};
use super::{Account, AccountKind, Kind};
use crate::accounts::entity::account as billing_account;
use crate::{BillingAccountId, Currency, LedgerEntryId, LedgerTransactionId, Money};

/// One entry of an account, with the transaction it belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub id: LedgerEntryId,
    pub transaction: LedgerTransactionId,
    pub kind: Kind,
    /// The document the transaction records (an invoice, a payment..).
    pub reference: Uuid,
    /// Debit > 0, credit < 0.
    pub amount: Money,
    pub created_at: DateTime<Utc>,
}

fn currency(code: &str) -> Result<Currency> {
    Currency::parse("currency", code)
        .map_err(|_| Error::Internal(format!("a ledger entry in an unknown currency {code}")))
}

/// Every account of the space with entries, per currency: (account, sum of its entries).
/// Ordered by account kind, billing account, then currency.
pub async fn balances(tx: &TenantTx) -> Result<Vec<(Account, Money)>> {
    let rows: Vec<(String, Option<Uuid>, String, i64)> = tx
        .select::<entry::Entity>()
        .select_only()
        .column(entry::Column::AccountKind)
        .column(entry::Column::BillingAccountId)
        .column(entry::Column::Currency)
        // PostgreSQL sums bigints as numeric; the total fits i64 or the query fails loudly.
        .column_as(Expr::cust("CAST(SUM(amount_minor) AS BIGINT)"), "total")
        .group_by(entry::Column::AccountKind)
        .group_by(entry::Column::BillingAccountId)
        .group_by(entry::Column::Currency)
        .tuples()
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for (kind, billing, code, total) in rows {
        let Some(kind) = AccountKind::from_db(&kind) else {
            // An account kind of a later version (funder receivables..): not ours to show.
            tracing::warn!(
                kind,
                "ledger balance of an account kind this version does not know"
            );
            continue;
        };
        let account = Account::from_parts(kind, billing.map(BillingAccountId::from_uuid), "")
            .map_err(|_| Error::Internal("a ledger entry with a malformed account".into()))?;
        out.push((account, Money::new(total, currency(&code)?)));
    }
    out.sort_by_key(|(a, m)| (a.kind(), a.billing_account(), m.currency().code()));
    Ok(out)
}

/// One page of an account's entries, oldest first. A receivable of a billing account that is
/// not this space's answers NOT_FOUND on `billingAccountId`, as an unknown one does.
pub async fn entries(tx: &TenantTx, account: Account, page: PageRequest) -> Result<Page<Entry>> {
    let mut q = tx
        .select::<entry::Entity>()
        .filter(entry::Column::AccountKind.eq(account.kind().as_db()));
    match account.billing_account() {
        Some(id) => {
            let known = tx
                .select::<billing_account::Entity>()
                .filter(billing_account::Column::Id.eq(id.uuid()))
                .count()
                .await?;
            if known == 0 {
                return Err(Error::NotFoundField {
                    field: "billingAccountId".into(),
                    reason: "no such billing account in this space".into(),
                });
            }
            q = q.filter(entry::Column::BillingAccountId.eq(id.uuid()));
        }
        None => q = q.filter(entry::Column::BillingAccountId.is_null()),
    }
    if let Some(after) = page.after {
        q = q.filter(entry::Column::Id.gt(after));
    }
    let rows = q
        .order_by_asc(entry::Column::Id)
        .limit(page.first + 1)
        .all()
        .await?;
    let page = Page::from_overfetch(rows, page);
    // The page's transactions in one statement, however long the page.
    let ids: Vec<Uuid> = page.items.iter().map(|e| e.transaction_id).collect();
    let txs: HashMap<Uuid, transaction::Model> = if ids.is_empty() {
        HashMap::new()
    } else {
        tx.select::<transaction::Entity>()
            .filter(transaction::Column::Id.is_in(ids))
            .all()
            .await?
            .into_iter()
            .map(|t| (t.id, t))
            .collect()
    };
    let items = page
        .items
        .into_iter()
        .map(|e| {
            let t = txs
                .get(&e.transaction_id)
                .ok_or_else(|| Error::Internal("a ledger entry without its transaction".into()))?;
            let kind = Kind::from_db(&t.kind)
                .ok_or_else(|| Error::Internal(format!("unknown ledger kind {}", t.kind)))?;
            Ok(Entry {
                id: LedgerEntryId::from_uuid(e.id),
                transaction: LedgerTransactionId::from_uuid(e.transaction_id),
                kind,
                reference: t.reference_id,
                amount: Money::new(e.amount_minor, currency(&e.currency)?),
                created_at: e.created_at,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Page {
        items,
        has_next_page: page.has_next_page,
    })
}
