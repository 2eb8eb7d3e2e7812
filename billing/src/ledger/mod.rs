//! The double-entry ledger, per space and currency: every money movement is one transaction
//! whose entries sum to zero. Entries are append-only.
//!
//! CONTRACT (foundation): `Account`, `Posting` and `post` are what invoices, payments and
//! subscriptions call. The ledger work fills in the body; keep the signatures.

use chrono::{DateTime, Utc};
use spaces_tenants::{Result, TenantTx};

use crate::{BillingAccountId, LedgerTransactionId, Money};

/// A ledger account of one space. Debits are positive amounts, credits negative.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Account {
    /// What a billing account owes.
    Receivable(BillingAccountId),
    Revenue,
    VatPayable,
    Cash,
    Refunds,
}

/// What a ledger transaction records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Invoice,
    CreditNote,
    Payment,
    Refund,
}

/// One ledger transaction: entries (account, signed amount: debit > 0, credit < 0) summing to
/// zero in one currency, and the document it records (an invoice, a payment) by id.
#[derive(Clone, Debug)]
pub struct Posting {
    pub kind: Kind,
    pub reference: uuid::Uuid,
    pub entries: Vec<(Account, Money)>,
}

/// Writes one balanced transaction. Unbalanced or mixed-currency entries are refused before
/// anything is written (and on PostgreSQL a deferred trigger refuses them at commit too).
pub async fn post(
    tx: &TenantTx,
    now: DateTime<Utc>,
    posting: Posting,
) -> Result<LedgerTransactionId> {
    let _ = (tx, now, posting);
    Err(spaces_tenants::Error::Internal(
        "the ledger is not built yet".into(),
    ))
}
