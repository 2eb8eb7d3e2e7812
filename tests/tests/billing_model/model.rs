//! The model: what a space's ledger should hold after each operation, by the README's rules
//! alone (VAT per rate over the sum of nets, half-up; credit notes take off what their lines
//! added; payments cash against receivable; refunds split between receivable and refunds).

use std::collections::BTreeMap;

use spaces_billing::invoices::Vat;
use spaces_billing::ledger::AccountKind;
use spaces_billing::{BillingAccountId, InvoiceId, InvoiceLineId, PaymentId};

/// splitmix64: small, seedable, and no dependency.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform enough in `lo..=hi` for a test.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % ((hi - lo) as u64 + 1)) as i64
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    pub fn one_in(&mut self, n: u64) -> bool {
        self.next().is_multiple_of(n)
    }
}

/// The model's key of a ledger account: its kind, and the billing account of a receivable.
pub type Key = (AccountKind, Option<uuid::Uuid>);

#[derive(Clone)]
pub struct ModelLine {
    pub id: InvoiceLineId,
    pub net: i64,
    pub vat: Vat,
    pub credited: bool,
}

#[derive(Clone)]
pub struct ModelInvoice {
    pub id: InvoiceId,
    pub buyer: BillingAccountId,
    pub gross: i64,
    pub lines: Vec<ModelLine>,
    /// Gross of its credit notes.
    pub credited: i64,
    /// Payments less the part of refunds that re-opened the receivable.
    pub paid: i64,
}

impl ModelInvoice {
    pub fn due(&self) -> i64 {
        (self.gross - self.credited - self.paid).max(0)
    }
}

#[derive(Clone)]
pub struct ModelPayment {
    pub id: PaymentId,
    pub invoice: usize,
    pub amount: i64,
    pub refunded: i64,
    /// The provider's payment id, for a provider payment.
    pub external: Option<String>,
}

/// A draft: its id, lines (net, VAT) and buyer.
pub type Draft = (InvoiceId, Vec<(i64, Vat)>, BillingAccountId);

/// What the billing of one space should be, by the README's rules.
#[derive(Clone, Default)]
pub struct Model {
    pub balances: BTreeMap<Key, i64>,
    pub invoices: Vec<ModelInvoice>,
    pub payments: Vec<ModelPayment>,
    /// Provider refund ids already recorded, with the payment they refund.
    pub refunds: Vec<(usize, String)>,
    /// Drafts written and not issued yet: their invoice as it will be once issued.
    pub drafts: Vec<Draft>,
    pub issued_invoices: i64,
    pub issued_credit_notes: i64,
    pub ledger_transactions: i64,
}

/// Half-up (away from zero) `amount × bp / 10 000`, amounts being non-negative here.
pub fn vat_of(amount: i64, bp: u32) -> i64 {
    (i128::from(amount) * i128::from(bp) + 5_000).div_euclid(10_000) as i64
}

/// VAT of lines: per rate over the sum of that rate's nets; exempt lines none.
pub fn vat_total<'a>(lines: impl Iterator<Item = (i64, &'a Vat)>) -> i64 {
    let mut per_rate: BTreeMap<u32, i64> = BTreeMap::new();
    for (net, vat) in lines {
        if let Vat::Rate { basis_points } = vat {
            *per_rate.entry(*basis_points).or_default() += net;
        }
    }
    per_rate.iter().map(|(bp, net)| vat_of(*net, *bp)).sum()
}

impl Model {
    /// One ledger transaction; an entry of zero is not written, so it opens no account.
    pub fn post(&mut self, entries: &[(Key, i64)]) {
        assert_eq!(entries.iter().map(|(_, a)| a).sum::<i64>(), 0);
        for (k, a) in entries {
            if *a != 0 {
                *self.balances.entry(*k).or_default() += a;
            }
        }
        self.ledger_transactions += 1;
    }

    pub fn issued(&mut self, buyer: BillingAccountId, ids: &[InvoiceLineId], lines: &[(i64, Vat)]) {
        let net: i64 = lines.iter().map(|(n, _)| n).sum();
        let vat = vat_total(lines.iter().map(|(n, v)| (*n, v)));
        self.post(&[
            (receivable(buyer), net + vat),
            ((AccountKind::Revenue, None), -net),
            ((AccountKind::VatPayable, None), -vat),
        ]);
        self.issued_invoices += 1;
        self.invoices.push(ModelInvoice {
            id: InvoiceId::from_uuid(uuid::Uuid::nil()),
            buyer,
            gross: net + vat,
            lines: ids
                .iter()
                .zip(lines)
                .map(|(id, (net, vat))| ModelLine {
                    id: *id,
                    net: *net,
                    vat: vat.clone(),
                    credited: false,
                })
                .collect(),
            credited: 0,
            paid: 0,
        });
    }

    /// A credit note of these lines: its VAT is what they take off the invoice's VAT.
    pub fn credit(&mut self, i: usize, chosen: &[usize]) -> i64 {
        let inv = &self.invoices[i];
        let left = |skip: &[usize]| {
            vat_total(
                inv.lines
                    .iter()
                    .enumerate()
                    .filter(|(j, l)| !l.credited && !skip.contains(j))
                    .map(|(_, l)| (l.net, &l.vat)),
            )
        };
        let vat = left(&[]) - left(chosen);
        let net: i64 = chosen.iter().map(|j| inv.lines[*j].net).sum();
        let buyer = inv.buyer;
        self.post(&[
            (receivable(buyer), -(net + vat)),
            ((AccountKind::Revenue, None), net),
            ((AccountKind::VatPayable, None), vat),
        ]);
        let inv = &mut self.invoices[i];
        for j in chosen {
            inv.lines[*j].credited = true;
        }
        inv.credited += net + vat;
        self.issued_credit_notes += 1;
        net + vat
    }

    pub fn pay(&mut self, i: usize, amount: i64, id: PaymentId, external: Option<String>) {
        let buyer = self.invoices[i].buyer;
        self.post(&[
            ((AccountKind::Cash, None), amount),
            (receivable(buyer), -amount),
        ]);
        self.invoices[i].paid += amount;
        self.payments.push(ModelPayment {
            id,
            invoice: i,
            amount,
            refunded: 0,
            external,
        });
    }

    /// A refund: what credit notes made owed back to the buyer re-opens the receivable, the
    /// rest is a gesture booked to refunds.
    pub fn refund(&mut self, p: usize, amount: i64) {
        let i = self.payments[p].invoice;
        let inv = &self.invoices[i];
        let owed_back = (inv.paid + inv.credited - inv.gross).max(0);
        let to_receivable = amount.min(owed_back);
        let buyer = inv.buyer;
        self.post(&[
            ((AccountKind::Cash, None), -amount),
            (receivable(buyer), to_receivable),
            ((AccountKind::Refunds, None), amount - to_receivable),
        ]);
        self.invoices[i].paid -= to_receivable;
        self.payments[p].refunded += amount;
    }
}

pub fn receivable(buyer: BillingAccountId) -> Key {
    (AccountKind::Receivable, Some(buyer.uuid()))
}
