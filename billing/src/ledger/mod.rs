//! The double-entry ledger, per space and currency: every money movement is one transaction
//! whose entries sum to zero. Entries are append-only.
//!
//! Sign convention: debits are positive, credits negative. So an asset (cash, a receivable)
//! has a positive balance, and revenue, VAT payable and other liabilities a negative one.
//!
//! CONTRACT (foundation): `Account`, `Posting` and `post` are what invoices, payments and
//! subscriptions call.

mod entity;
mod reads;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use spaces_tenants::{Error, Principal, Result, TenantTx};

use crate::{BillingAccountId, Currency, LedgerEntryId, LedgerTransactionId, Money};

pub use reads::{Entry, balances, entries};

/// A ledger account of one space. Debits are positive amounts, credits negative.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Account {
    /// What a billing account owes.
    Receivable(BillingAccountId),
    Revenue,
    VatPayable,
    Cash,
    Refunds,
    /// What a funder owes for redemptions of its vouchers not invoiced yet (its billing
    /// account).
    FunderReceivable(BillingAccountId),
    /// The counterpart of a redemption not invoiced yet: cleared when the funder's invoice is
    /// issued, reversed when the redemption is released or withdrawn.
    VoucherLiability,
}

/// An account's kind, without the billing account a receivable belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AccountKind {
    Receivable,
    Revenue,
    VatPayable,
    Cash,
    Refunds,
    FunderReceivable,
    VoucherLiability,
}

impl AccountKind {
    pub(crate) fn as_db(self) -> &'static str {
        match self {
            AccountKind::Receivable => "receivable",
            AccountKind::Revenue => "revenue",
            AccountKind::VatPayable => "vat_payable",
            AccountKind::Cash => "cash",
            AccountKind::Refunds => "refunds",
            AccountKind::FunderReceivable => "funder_receivable",
            AccountKind::VoucherLiability => "voucher_liability",
        }
    }

    pub(crate) fn from_db(s: &str) -> Option<Self> {
        Some(match s {
            "receivable" => AccountKind::Receivable,
            "revenue" => AccountKind::Revenue,
            "vat_payable" => AccountKind::VatPayable,
            "cash" => AccountKind::Cash,
            "refunds" => AccountKind::Refunds,
            "funder_receivable" => AccountKind::FunderReceivable,
            "voucher_liability" => AccountKind::VoucherLiability,
            _ => return None,
        })
    }
}

impl Account {
    pub fn kind(self) -> AccountKind {
        match self {
            Account::Receivable(_) => AccountKind::Receivable,
            Account::Revenue => AccountKind::Revenue,
            Account::VatPayable => AccountKind::VatPayable,
            Account::Cash => AccountKind::Cash,
            Account::Refunds => AccountKind::Refunds,
            Account::FunderReceivable(_) => AccountKind::FunderReceivable,
            Account::VoucherLiability => AccountKind::VoucherLiability,
        }
    }

    /// The billing account a receivable belongs to (None for the space's own accounts).
    pub fn billing_account(self) -> Option<BillingAccountId> {
        match self {
            Account::Receivable(id) | Account::FunderReceivable(id) => Some(id),
            _ => None,
        }
    }

    /// The account a client names by kind and billing account: a receivable needs one, the
    /// space's own accounts take none. `field` names the billing account's input.
    pub fn from_parts(
        kind: AccountKind,
        billing_account: Option<BillingAccountId>,
        field: &'static str,
    ) -> Result<Self> {
        match (kind, billing_account) {
            (AccountKind::Receivable, Some(id)) => Ok(Account::Receivable(id)),
            (AccountKind::FunderReceivable, Some(id)) => Ok(Account::FunderReceivable(id)),
            (AccountKind::Receivable | AccountKind::FunderReceivable, None) => Err(Error::invalid(
                field,
                "a receivable belongs to a billing account: name it",
            )),
            (_, Some(_)) => Err(Error::invalid(
                field,
                "only a receivable belongs to a billing account",
            )),
            (AccountKind::Revenue, None) => Ok(Account::Revenue),
            (AccountKind::VatPayable, None) => Ok(Account::VatPayable),
            (AccountKind::Cash, None) => Ok(Account::Cash),
            (AccountKind::Refunds, None) => Ok(Account::Refunds),
            (AccountKind::VoucherLiability, None) => Ok(Account::VoucherLiability),
        }
    }
}

/// What a ledger transaction records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Invoice,
    CreditNote,
    Payment,
    Refund,
    /// A voucher covered part of a seat: the funder owes it (funder receivable), against the
    /// voucher liability.
    Redemption,
    /// A redemption given back (released unpaid, or withdrawn before the funder's invoice):
    /// the reverse of its `Redemption`.
    RedemptionRelease,
    /// The funder's invoice now carries the redemption: its funder receivable and liability are
    /// cleared, and the invoice's own posting holds the receivable.
    RedemptionInvoiced,
}

impl Kind {
    pub(crate) fn as_db(self) -> &'static str {
        match self {
            Kind::Invoice => "invoice",
            Kind::CreditNote => "credit_note",
            Kind::Payment => "payment",
            Kind::Refund => "refund",
            Kind::Redemption => "redemption",
            Kind::RedemptionRelease => "redemption_release",
            Kind::RedemptionInvoiced => "redemption_invoiced",
        }
    }

    pub(crate) fn from_db(s: &str) -> Option<Self> {
        Some(match s {
            "invoice" => Kind::Invoice,
            "credit_note" => Kind::CreditNote,
            "payment" => Kind::Payment,
            "refund" => Kind::Refund,
            "redemption" => Kind::Redemption,
            "redemption_release" => Kind::RedemptionRelease,
            "redemption_invoiced" => Kind::RedemptionInvoiced,
            _ => return None,
        })
    }
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
    check_balanced(&posting.entries)?;
    let id = LedgerTransactionId::new();
    tx.insert(entity::transaction::ActiveModel {
        tenant_id: Set(tx.tenant().uuid()),
        id: Set(id.uuid()),
        kind: Set(posting.kind.as_db().to_owned()),
        reference_id: Set(posting.reference),
        created_at: Set(now),
    })
    .await?;
    let rows = posting
        .entries
        .iter()
        .map(|(account, amount)| entity::entry::ActiveModel {
            tenant_id: Set(tx.tenant().uuid()),
            id: Set(LedgerEntryId::new().uuid()),
            transaction_id: Set(id.uuid()),
            account_kind: Set(account.kind().as_db().to_owned()),
            billing_account_id: Set(account.billing_account().map(BillingAccountId::uuid)),
            amount_minor: Set(amount.amount_minor()),
            currency: Set(amount.currency().code().to_owned()),
            created_at: Set(now),
        })
        .collect();
    tx.insert_many(rows).await?;
    Ok(id)
}

/// Non-empty, one currency, summing to zero (in i128, so no sum of i64 amounts overflows).
fn check_balanced(entries: &[(Account, Money)]) -> Result<()> {
    let Some((_, first)) = entries.first() else {
        return Err(Error::invalid(
            "entries",
            "a ledger transaction needs at least one entry",
        ));
    };
    let mut sums: BTreeMap<&'static str, i128> = BTreeMap::new();
    for (_, m) in entries {
        *sums.entry(m.currency().code()).or_default() += i128::from(m.amount_minor());
    }
    if sums.len() > 1 {
        return Err(Error::invalid(
            "entries",
            format!(
                "a ledger transaction is in one currency, not {}",
                sums.keys().copied().collect::<Vec<_>>().join(", ")
            ),
        ));
    }
    let currency: Currency = first.currency();
    match sums.get(currency.code()) {
        Some(0) => Ok(()),
        Some(total) => Err(Error::invalid(
            "entries",
            format!(
                "the entries sum to {total} {currency} minor units, not 0: debits must equal credits"
            ),
        )),
        None => Err(Error::Internal("ledger sums lost a currency".into())),
    }
}

/// Who reads the ledger: the space's admins and platform operators.
pub fn authorise_read(who: &Principal) -> Result<()> {
    match who {
        Principal::Operator { .. } => Ok(()),
        Principal::Person { .. } if who.is_tenant_admin() => Ok(()),
        Principal::Person { .. } => Err(Error::Forbidden(
            "only the space's admins and platform operators read the ledger",
        )),
        Principal::Anonymous => Err(Error::Unauthenticated("sign in to this space first")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eur(n: i64) -> Money {
        Money::new(n, Currency::EUR)
    }

    #[test]
    fn balanced_entries_pass_and_the_rest_are_refused() {
        let buyer = BillingAccountId::new();
        let invoice = [
            (Account::Receivable(buyer), eur(12_000)),
            (Account::Revenue, eur(-10_000)),
            (Account::VatPayable, eur(-2_000)),
        ];
        assert!(check_balanced(&invoice).is_ok());

        let refused = |e: &[(Account, Money)]| match check_balanced(e) {
            Err(Error::Invalid { field, reason }) => {
                assert_eq!(field, "entries");
                reason.into_owned()
            }
            other => panic!("expected Invalid, got {other:?}"),
        };
        assert!(refused(&[]).contains("at least one"));
        assert!(refused(&invoice[..2]).contains("sum to 2000 EUR"));
        let mixed = [
            (Account::Cash, eur(100)),
            (Account::Revenue, Money::new(-100, Currency::USD)),
        ];
        assert!(refused(&mixed).contains("one currency"));
        // Sums are exact even where i64 would overflow.
        let huge = [
            (Account::Cash, eur(i64::MAX)),
            (Account::Cash, eur(i64::MAX)),
            (Account::Revenue, eur(i64::MIN)),
            (Account::Revenue, eur(i64::MIN)),
        ];
        assert!(refused(&huge).contains("sum to -2 EUR"));
    }

    #[test]
    fn accounts_round_trip_through_their_parts() {
        let id = BillingAccountId::new();
        for a in [
            Account::Receivable(id),
            Account::Revenue,
            Account::VatPayable,
            Account::Cash,
            Account::Refunds,
        ] {
            assert_eq!(
                Account::from_parts(a.kind(), a.billing_account(), "b").ok(),
                Some(a)
            );
            assert_eq!(AccountKind::from_db(a.kind().as_db()), Some(a.kind()));
        }
        assert!(Account::from_parts(AccountKind::Receivable, None, "b").is_err());
        assert!(Account::from_parts(AccountKind::Cash, Some(id), "b").is_err());
        for k in [Kind::Invoice, Kind::CreditNote, Kind::Payment, Kind::Refund] {
            assert_eq!(Kind::from_db(k.as_db()), Some(k));
        }
    }
}
