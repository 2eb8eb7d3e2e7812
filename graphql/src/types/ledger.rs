//! The ledger as admins read it: balances per account, and an account's entries.

use async_graphql::{Enum, ID, SimpleObject};
use spaces_billing::ledger::{self, Account, AccountKind};

use crate::types::money::Money;

/// A kind of ledger account. Receivables belong to one billing account; the rest are the
/// space's own.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(name = "LedgerAccountKind")]
pub enum LedgerAccountKindGql {
    /// What a billing account owes (debit balance).
    Receivable,
    /// Earned (credit balance).
    Revenue,
    /// VAT collected, owed to the tax authority (credit balance).
    VatPayable,
    /// Money received (debit balance).
    Cash,
    /// Money paid back.
    Refunds,
    /// What a funder owes for redemptions not invoiced yet (debit balance).
    FunderReceivable,
    /// The counterpart of redemptions not invoiced yet (credit balance).
    VoucherLiability,
}

impl From<AccountKind> for LedgerAccountKindGql {
    fn from(k: AccountKind) -> Self {
        match k {
            AccountKind::Receivable => Self::Receivable,
            AccountKind::Revenue => Self::Revenue,
            AccountKind::VatPayable => Self::VatPayable,
            AccountKind::Cash => Self::Cash,
            AccountKind::Refunds => Self::Refunds,
            AccountKind::FunderReceivable => Self::FunderReceivable,
            AccountKind::VoucherLiability => Self::VoucherLiability,
        }
    }
}

impl From<LedgerAccountKindGql> for AccountKind {
    fn from(k: LedgerAccountKindGql) -> Self {
        match k {
            LedgerAccountKindGql::Receivable => Self::Receivable,
            LedgerAccountKindGql::Revenue => Self::Revenue,
            LedgerAccountKindGql::VatPayable => Self::VatPayable,
            LedgerAccountKindGql::Cash => Self::Cash,
            LedgerAccountKindGql::Refunds => Self::Refunds,
            LedgerAccountKindGql::FunderReceivable => Self::FunderReceivable,
            LedgerAccountKindGql::VoucherLiability => Self::VoucherLiability,
        }
    }
}

/// What a ledger transaction records.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(name = "LedgerTransactionKind")]
pub enum LedgerKindGql {
    Invoice,
    CreditNote,
    Payment,
    Refund,
    /// A voucher covered part of a seat.
    Redemption,
    /// A redemption given back (released unpaid, or withdrawn before it was invoiced).
    RedemptionRelease,
    /// A redemption now carried by the funder's invoice.
    RedemptionInvoiced,
}

impl From<ledger::Kind> for LedgerKindGql {
    fn from(k: ledger::Kind) -> Self {
        match k {
            ledger::Kind::Invoice => Self::Invoice,
            ledger::Kind::CreditNote => Self::CreditNote,
            ledger::Kind::Payment => Self::Payment,
            ledger::Kind::Refund => Self::Refund,
            ledger::Kind::Redemption => Self::Redemption,
            ledger::Kind::RedemptionRelease => Self::RedemptionRelease,
            ledger::Kind::RedemptionInvoiced => Self::RedemptionInvoiced,
        }
    }
}

/// The sum of an account's entries in one currency: debits positive, credits negative.
#[derive(SimpleObject)]
#[graphql(name = "LedgerBalance")]
pub struct LedgerBalanceGql {
    pub account_kind: LedgerAccountKindGql,
    /// The billing account a receivable belongs to; null for the space's own accounts.
    pub billing_account_id: Option<ID>,
    pub balance: Money,
}

impl From<(Account, spaces_billing::Money)> for LedgerBalanceGql {
    fn from((account, balance): (Account, spaces_billing::Money)) -> Self {
        Self {
            account_kind: account.kind().into(),
            billing_account_id: account.billing_account().map(|id| ID(id.to_string())),
            balance: balance.into(),
        }
    }
}

/// One entry of a ledger account.
#[derive(SimpleObject)]
#[graphql(name = "LedgerEntry")]
pub struct LedgerEntryGql {
    pub id: ID,
    /// The ledger transaction the entry belongs to (its entries sum to zero).
    pub transaction_id: ID,
    pub kind: LedgerKindGql,
    /// The document the transaction records: an invoice, a credit note, a payment.
    pub reference_id: ID,
    /// Debit > 0, credit < 0.
    pub amount: Money,
    pub created_at: chrono::DateTime<chrono::Utc>,
    #[graphql(skip)]
    pub cursor: uuid::Uuid,
}

impl From<ledger::Entry> for LedgerEntryGql {
    fn from(e: ledger::Entry) -> Self {
        Self {
            id: ID(e.id.to_string()),
            transaction_id: ID(e.transaction.to_string()),
            kind: e.kind.into(),
            reference_id: ID(e.reference.to_string()),
            amount: e.amount.into(),
            created_at: e.created_at,
            cursor: e.id.uuid(),
        }
    }
}
