//! Money as integer minor units of one currency.
//!
//! All arithmetic is checked: billing must fail loudly rather than wrap or round.

use std::fmt;

use serde::{Deserialize, Serialize};

pub use crate::currency::Currency;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("currency mismatch: {left} vs {right}")]
    CurrencyMismatch { left: Currency, right: Currency },
    #[error("amount out of range")]
    Overflow,
    #[error("invalid {field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("cannot allocate into zero parts")]
    NoParts,
}

/// An amount in minor units (cents, fils, yen) of one currency.
///
/// Deliberately not `Ord`: comparing across currencies is meaningless, use [`Money::min`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    amount_minor: i64,
    currency: Currency,
}

impl Money {
    pub const fn new(amount_minor: i64, currency: Currency) -> Money {
        Money {
            amount_minor,
            currency,
        }
    }

    pub const fn zero(currency: Currency) -> Money {
        Money::new(0, currency)
    }

    pub const fn amount_minor(&self) -> i64 {
        self.amount_minor
    }

    pub const fn currency(&self) -> Currency {
        self.currency
    }

    pub const fn is_zero(&self) -> bool {
        self.amount_minor == 0
    }

    pub const fn is_negative(&self) -> bool {
        self.amount_minor < 0
    }

    pub const fn is_positive(&self) -> bool {
        self.amount_minor > 0
    }

    fn same_currency(&self, other: &Money) -> Result<(), MoneyError> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(MoneyError::CurrencyMismatch {
                left: self.currency,
                right: other.currency,
            })
        }
    }

    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(&other)?;
        let amount = self
            .amount_minor
            .checked_add(other.amount_minor)
            .ok_or(MoneyError::Overflow)?;
        Ok(Money::new(amount, self.currency))
    }

    pub fn checked_sub(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(&other)?;
        let amount = self
            .amount_minor
            .checked_sub(other.amount_minor)
            .ok_or(MoneyError::Overflow)?;
        Ok(Money::new(amount, self.currency))
    }

    /// Multiplies by a quantity (seats, months).
    pub fn checked_mul(self, qty: u64) -> Result<Money, MoneyError> {
        // i64 × u64 always fits in i128, so only the narrowing can fail.
        let product = i128::from(self.amount_minor) * i128::from(qty);
        let amount = i64::try_from(product).map_err(|_| MoneyError::Overflow)?;
        Ok(Money::new(amount, self.currency))
    }

    /// Negation; fallible because `-i64::MIN` does not fit, hence not `ops::Neg`.
    #[allow(clippy::should_implement_trait, reason = "negation can overflow")]
    pub fn neg(self) -> Result<Money, MoneyError> {
        let amount = self
            .amount_minor
            .checked_neg()
            .ok_or(MoneyError::Overflow)?;
        Ok(Money::new(amount, self.currency))
    }

    /// The smaller of two amounts in the same currency.
    pub fn min(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(&other)?;
        Ok(if other.amount_minor < self.amount_minor {
            other
        } else {
            self
        })
    }

    /// Splits into `parts` amounts that sum exactly to `self` and differ by at most
    /// one minor unit; larger (in magnitude) parts come first.
    pub fn allocate(&self, parts: usize) -> Result<Vec<Money>, MoneyError> {
        if parts == 0 {
            return Err(MoneyError::NoParts);
        }
        let n = i64::try_from(parts).map_err(|_| MoneyError::Overflow)?;
        // Truncating division keeps the remainder's sign equal to the amount's,
        // which makes negative amounts mirror positive ones.
        let base = self.amount_minor / n;
        let rem = self.amount_minor % n;
        let extra = rem.signum();
        let bumped = rem.unsigned_abs();
        Ok((0..parts)
            .map(|i| {
                // `i < bumped` only when rem != 0, and then |base| < i64::MAX.
                let amount = if (i as u64) < bumped {
                    base + extra
                } else {
                    base
                };
                Money::new(amount, self.currency)
            })
            .collect())
    }

    /// Splits proportionally to `ratios`. Each part is rounded towards zero, then the
    /// leftover units go one at a time to the largest fractional remainders (earlier
    /// parts win ties), so the parts always sum exactly to `self`.
    pub fn allocate_by_ratios(&self, ratios: &[u64]) -> Result<Vec<Money>, MoneyError> {
        let total = ratios.iter().try_fold(0u128, |acc, &r| {
            acc.checked_add(u128::from(r)).ok_or(MoneyError::Overflow)
        })?;
        if total == 0 {
            return Err(MoneyError::NoParts);
        }
        // Work on the magnitude so negative amounts round symmetrically.
        // |i64| × u64 < 2^127, so the products fit in u128.
        let magnitude = u128::from(self.amount_minor.unsigned_abs());
        let mut shares = Vec::with_capacity(ratios.len());
        let mut remainders = Vec::with_capacity(ratios.len());
        let mut allocated = 0u128;
        for (i, &r) in ratios.iter().enumerate() {
            let product = magnitude * u128::from(r);
            let share = product / total;
            allocated += share;
            shares.push(share);
            remainders.push((product % total, i));
        }
        // Less than one unit per part with a non-zero remainder, so never more than `len`.
        let leftover = usize::try_from(magnitude - allocated).map_err(|_| MoneyError::Overflow)?;
        remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        for &(_, i) in remainders.iter().take(leftover) {
            if let Some(share) = shares.get_mut(i) {
                *share += 1;
            }
        }
        let negative = self.amount_minor < 0;
        shares
            .into_iter()
            .map(|share| {
                let share = i128::try_from(share).map_err(|_| MoneyError::Overflow)?;
                let signed = if negative { -share } else { share };
                let amount = i64::try_from(signed).map_err(|_| MoneyError::Overflow)?;
                Ok(Money::new(amount, self.currency))
            })
            .collect()
    }

    /// Parses a plain decimal such as `12.34` or `-0.5` into minor units.
    ///
    /// At most `currency.exponent()` fraction digits are accepted so nothing is
    /// silently rounded; `field` names the input in errors.
    pub fn parse_decimal(
        field: &'static str,
        input: &str,
        currency: Currency,
    ) -> Result<Money, MoneyError> {
        let invalid = |reason: String| MoneyError::Invalid { field, reason };
        let exponent = currency.exponent();
        let shape = || {
            invalid(match exponent {
                0 => format!("must be a whole number of {currency}, like 1000"),
                1 => "must be a decimal number like 12.3".to_owned(),
                2 => "must be a decimal number like 12.34".to_owned(),
                _ => "must be a decimal number like 12.345".to_owned(),
            })
        };

        let (negative, unsigned) = match input.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, input),
        };
        let (int_part, frac_part) = match unsigned.split_once('.') {
            Some((i, f)) => (i, Some(f)),
            None => (unsigned, None),
        };
        let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !all_digits(int_part) || frac_part.is_some_and(|f| !all_digits(f)) {
            return Err(shape());
        }
        let frac_part = frac_part.unwrap_or("");
        if frac_part.len() > usize::from(exponent) {
            return Err(invalid(if exponent == 0 {
                format!("{currency} has no decimal places")
            } else {
                format!("{currency} allows at most {exponent} decimal places")
            }));
        }

        let out_of_range = || invalid("amount out of range".to_owned());
        // Right-pad the fraction to the currency exponent: "12.3" EUR -> 1230.
        let padding = usize::from(exponent) - frac_part.len();
        let digits = int_part
            .bytes()
            .chain(frac_part.bytes())
            .chain(std::iter::repeat_n(b'0', padding));
        let mut magnitude: i128 = 0;
        for d in digits {
            magnitude = magnitude
                .checked_mul(10)
                .and_then(|m| m.checked_add(i128::from(d - b'0')))
                .ok_or_else(out_of_range)?;
        }
        let signed = if negative { -magnitude } else { magnitude };
        let amount = i64::try_from(signed).map_err(|_| out_of_range())?;
        Ok(Money::new(amount, currency))
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let exponent = u32::from(self.currency.exponent());
        if exponent == 0 {
            return write!(f, "{} {}", self.amount_minor, self.currency);
        }
        let scale = 10u64.pow(exponent);
        let magnitude = self.amount_minor.unsigned_abs();
        let sign = if self.amount_minor < 0 { "-" } else { "" };
        write!(
            f,
            "{sign}{}.{:0width$} {}",
            magnitude / scale,
            magnitude % scale,
            self.currency,
            width = exponent as usize,
        )
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const EUR: Currency = Currency::EUR;

    fn eur(amount: i64) -> Money {
        Money::new(amount, EUR)
    }

    fn amounts(parts: &[Money]) -> Vec<i64> {
        parts.iter().map(Money::amount_minor).collect()
    }

    fn assert_exact_split(total: Money, parts: &[Money]) {
        let sum = parts
            .iter()
            .try_fold(Money::zero(total.currency()), |acc, p| acc.checked_add(*p))
            .unwrap();
        assert_eq!(sum, total, "parts {:?}", amounts(parts));
        assert!(parts.iter().all(|p| p.currency() == total.currency()));
    }

    #[test]
    fn constructors_and_predicates() {
        let z = Money::zero(Currency::JPY);
        assert!(z.is_zero() && !z.is_negative() && !z.is_positive());
        assert!(eur(-1).is_negative());
        assert!(eur(1).is_positive());
        assert_eq!(eur(5).amount_minor(), 5);
        assert_eq!(eur(5).currency(), EUR);
    }

    #[test]
    fn add_sub_check_currency_and_overflow() {
        assert_eq!(eur(150).checked_add(eur(-50)).unwrap(), eur(100));
        assert_eq!(eur(150).checked_sub(eur(200)).unwrap(), eur(-50));
        let usd = Money::new(1, Currency::USD);
        assert_eq!(
            eur(1).checked_add(usd),
            Err(MoneyError::CurrencyMismatch {
                left: EUR,
                right: Currency::USD
            })
        );
        assert_eq!(
            eur(1).checked_sub(usd).unwrap_err().to_string(),
            "currency mismatch: EUR vs USD"
        );
        assert_eq!(eur(i64::MAX).checked_add(eur(1)), Err(MoneyError::Overflow));
        assert_eq!(eur(i64::MIN).checked_sub(eur(1)), Err(MoneyError::Overflow));
        // Mismatch is reported even when the sum would also overflow.
        assert!(matches!(
            eur(i64::MAX).checked_add(Money::new(1, Currency::GBP)),
            Err(MoneyError::CurrencyMismatch { .. })
        ));
    }

    #[test]
    fn mul_neg_min() {
        assert_eq!(eur(-250).checked_mul(4).unwrap(), eur(-1000));
        assert_eq!(eur(0).checked_mul(u64::MAX).unwrap(), eur(0));
        assert_eq!(eur(2).checked_mul(u64::MAX), Err(MoneyError::Overflow));
        assert_eq!(eur(i64::MAX).checked_mul(2), Err(MoneyError::Overflow));
        assert_eq!(eur(i64::MIN).checked_mul(1).unwrap(), eur(i64::MIN));
        assert_eq!(eur(-1).checked_mul(1 << 63).unwrap(), eur(i64::MIN));

        assert_eq!(eur(7).neg().unwrap(), eur(-7));
        assert_eq!(eur(i64::MAX).neg().unwrap(), eur(-i64::MAX));
        assert_eq!(eur(i64::MIN).neg(), Err(MoneyError::Overflow));

        assert_eq!(eur(3).min(eur(-2)).unwrap(), eur(-2));
        assert_eq!(eur(-2).min(eur(3)).unwrap(), eur(-2));
        assert!(matches!(
            eur(1).min(Money::new(0, Currency::CHF)),
            Err(MoneyError::CurrencyMismatch { .. })
        ));
    }

    #[test]
    fn allocate_examples() {
        assert_eq!(amounts(&eur(100).allocate(3).unwrap()), [34, 33, 33]);
        assert_eq!(amounts(&eur(-100).allocate(3).unwrap()), [-34, -33, -33]);
        assert_eq!(amounts(&eur(5).allocate(3).unwrap()), [2, 2, 1]);
        assert_eq!(amounts(&eur(2).allocate(5).unwrap()), [1, 1, 0, 0, 0]);
        assert_eq!(amounts(&eur(0).allocate(2).unwrap()), [0, 0]);
        assert_eq!(eur(100).allocate(0), Err(MoneyError::NoParts));
    }

    #[test]
    fn allocate_always_sums_and_is_even() {
        for amount in -1000..1000 {
            for parts in 1..12 {
                let total = eur(amount);
                let split = total.allocate(parts).unwrap();
                assert_eq!(split.len(), parts);
                assert_exact_split(total, &split);
                let v = amounts(&split);
                let (max, min) = (v.iter().max().unwrap(), v.iter().min().unwrap());
                assert!(max - min <= 1, "{amount}/{parts}: {v:?}");
                // Larger magnitudes first.
                assert!(
                    v.windows(2).all(|w| w[0].abs() >= w[1].abs()),
                    "{amount}/{parts}: {v:?}"
                );
            }
        }
    }

    #[test]
    fn allocate_extremes() {
        for total in [eur(i64::MAX), eur(i64::MIN), eur(i64::MIN + 1)] {
            for parts in [1, 2, 3, 7, 1000] {
                assert_exact_split(total, &total.allocate(parts).unwrap());
            }
        }
    }

    #[test]
    fn ratio_examples() {
        assert_eq!(
            amounts(&eur(100).allocate_by_ratios(&[1, 1, 1]).unwrap()),
            [34, 33, 33]
        );
        assert_eq!(
            amounts(&eur(-100).allocate_by_ratios(&[1, 1, 1]).unwrap()),
            [-34, -33, -33]
        );
        assert_eq!(
            amounts(&eur(5).allocate_by_ratios(&[3, 7]).unwrap()),
            [2, 3] // 1.5 and 3.5: tie goes to the earlier part
        );
        assert_eq!(
            amounts(&eur(100).allocate_by_ratios(&[70, 20, 10]).unwrap()),
            [70, 20, 10]
        );
        // 1000 × (1/6, 2/6, 3/6) = 166.67, 333.33, 500: the .67 gets the unit.
        assert_eq!(
            amounts(&eur(1000).allocate_by_ratios(&[1, 2, 3]).unwrap()),
            [167, 333, 500]
        );
        assert_eq!(
            amounts(&eur(10).allocate_by_ratios(&[0, 1, 0, 1]).unwrap()),
            [0, 5, 0, 5]
        );
        assert_eq!(
            amounts(&eur(1).allocate_by_ratios(&[1, 0, 1]).unwrap()),
            [1, 0, 0]
        );
    }

    #[test]
    fn ratio_errors() {
        assert_eq!(eur(100).allocate_by_ratios(&[]), Err(MoneyError::NoParts));
        assert_eq!(
            eur(100).allocate_by_ratios(&[0, 0]),
            Err(MoneyError::NoParts)
        );
    }

    #[test]
    fn ratios_always_sum_and_stay_close_to_exact_share() {
        let ratio_sets: &[&[u64]] = &[
            &[1],
            &[1, 1],
            &[1, 2, 3],
            &[3, 3, 3, 1],
            &[0, 5, 0, 7],
            &[1, 1, 1, 1, 1, 1, 1],
            &[99, 1],
            &[u64::MAX, 1, u64::MAX],
            &[13, 17, 19, 23, 29],
        ];
        for &ratios in ratio_sets {
            let total_ratio: i128 = ratios.iter().map(|&r| i128::from(r)).sum();
            for amount in (-1000..1000).chain([i64::MAX, i64::MIN, i64::MIN + 1]) {
                let total = eur(amount);
                let split = total.allocate_by_ratios(ratios).unwrap();
                assert_eq!(split.len(), ratios.len());
                assert_exact_split(total, &split);
                for (part, &r) in split.iter().zip(ratios) {
                    // Each part is within one unit of its exact proportional share.
                    let exact_times_total = i128::from(amount) * i128::from(r);
                    let diff = i128::from(part.amount_minor()) * total_ratio - exact_times_total;
                    assert!(
                        diff.abs() < total_ratio,
                        "{amount} by {ratios:?}: {:?}",
                        amounts(&split)
                    );
                    if r == 0 {
                        assert!(part.is_zero());
                    }
                }
            }
        }
    }

    #[test]
    fn display() {
        assert_eq!(eur(1234).to_string(), "12.34 EUR");
        assert_eq!(eur(-5).to_string(), "-0.05 EUR");
        assert_eq!(eur(0).to_string(), "0.00 EUR");
        assert_eq!(eur(-100).to_string(), "-1.00 EUR");
        assert_eq!(Money::new(1000, Currency::JPY).to_string(), "1000 JPY");
        assert_eq!(Money::new(-7, Currency::JPY).to_string(), "-7 JPY");
        assert_eq!(Money::new(1234, Currency::KWD).to_string(), "1.234 KWD");
        assert_eq!(Money::new(-1, Currency::BHD).to_string(), "-0.001 BHD");
        assert_eq!(eur(i64::MIN).to_string(), "-92233720368547758.08 EUR");
        assert_eq!(eur(i64::MAX).to_string(), "92233720368547758.07 EUR");
    }

    #[test]
    fn parse_decimal_valid() {
        let p = |s: &str, c: Currency| Money::parse_decimal("price", s, c).unwrap();
        assert_eq!(p("12.34", EUR), eur(1234));
        assert_eq!(p("12.3", EUR), eur(1230));
        assert_eq!(p("12", EUR), eur(1200));
        assert_eq!(p("-0.05", EUR), eur(-5));
        assert_eq!(p("-0", EUR), eur(0));
        assert_eq!(p("007.50", EUR), eur(750));
        assert_eq!(p("1000", Currency::JPY), Money::new(1000, Currency::JPY));
        assert_eq!(p("1.234", Currency::KWD), Money::new(1234, Currency::KWD));
        assert_eq!(p("92233720368547758.07", EUR), eur(i64::MAX));
        assert_eq!(p("-92233720368547758.08", EUR), eur(i64::MIN));
    }

    #[test]
    fn parse_decimal_round_trips_display() {
        for &c in Currency::ALL {
            for amount in [0, 1, -1, 5, -5, 1234, -1234, 100_000, i64::MAX, i64::MIN] {
                let m = Money::new(amount, c);
                let text = m.to_string();
                let number = text.split(' ').next().unwrap();
                assert_eq!(Money::parse_decimal("x", number, c).unwrap(), m, "{text}");
            }
        }
    }

    #[test]
    fn parse_decimal_errors_name_the_field() {
        let cases: &[(&str, Currency)] = &[
            ("", EUR),
            ("-", EUR),
            (".5", EUR),
            ("12.", EUR),
            ("1.2.3", EUR),
            ("+1.00", EUR),
            ("--1", EUR),
            (" 1.00", EUR),
            ("1,00", EUR),
            ("1e3", EUR),
            ("NaN", EUR),
            ("1.-5", EUR),
            ("١٢", EUR),
            ("12.345", EUR),
            ("1.5", Currency::JPY),
            ("1.0", Currency::JPY),
            ("1.2345", Currency::KWD),
            ("92233720368547758.08", EUR),
            ("-92233720368547758.09", EUR),
            ("99999999999999999999999999999999999999999999999999", EUR),
        ];
        for &(input, currency) in cases {
            match Money::parse_decimal("voucher.amount", input, currency) {
                Err(MoneyError::Invalid { field, .. }) => assert_eq!(field, "voucher.amount"),
                other => panic!("{input:?} {currency}: {other:?}"),
            }
        }
        assert_eq!(
            Money::parse_decimal("price", "12.345", EUR)
                .unwrap_err()
                .to_string(),
            "invalid price: EUR allows at most 2 decimal places"
        );
        assert_eq!(
            Money::parse_decimal("price", "1.5", Currency::JPY)
                .unwrap_err()
                .to_string(),
            "invalid price: JPY has no decimal places"
        );
        assert_eq!(
            Money::parse_decimal("price", "abc", EUR)
                .unwrap_err()
                .to_string(),
            "invalid price: must be a decimal number like 12.34"
        );
        assert_eq!(
            Money::parse_decimal("price", "abc", Currency::JPY)
                .unwrap_err()
                .to_string(),
            "invalid price: must be a whole number of JPY, like 1000"
        );
        assert_eq!(
            Money::parse_decimal("price", "99999999999999999999", EUR)
                .unwrap_err()
                .to_string(),
            "invalid price: amount out of range"
        );
    }
}
