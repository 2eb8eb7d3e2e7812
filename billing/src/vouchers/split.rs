//! The arithmetic of a split seat, apart from the database: what each voucher covers of the
//! gross price (price + VAT), and each share's net for its charge.
//!
//! Rounding: shares are whole minor units of the gross price and add up to it exactly (the
//! rest is what the vouchers leave). A charge stores a net; each share but the last gets
//! `gross × 10 000 / (10 000 + rate)` rounded half-up, and the last share gets the price's net
//! less the others, so the nets add up to the price exactly and so do the VAT parts
//! (`share − net`). An invoice recomputes VAT on its own lines per rate, which can differ from
//! a share's VAT part by a cent; the ledger follows the invoice.

use spaces_tenants::{Error, Result};

use super::batch::Value;
use crate::invoices::{Vat, vat::rate_of};

/// The price including VAT.
pub(crate) fn gross_of(price_minor: i64, vat: &Vat) -> Result<i64> {
    match vat {
        Vat::Rate { basis_points } => price_minor
            .checked_add(rate_of(price_minor, *basis_points)?)
            .ok_or_else(|| Error::Internal("a price too large".into())),
        Vat::Exempt { .. } => Ok(price_minor),
    }
}

/// What one voucher is worth on a seat of `gross`, before what is left is considered.
fn worth(value: &Value, gross: i64) -> Result<i64> {
    Ok(match value {
        Value::Face(m) => m.amount_minor(),
        Value::Percent { basis_points, cap } => {
            let p = rate_of(gross, *basis_points)?;
            cap.map_or(p, |c| p.min(c.amount_minor()))
        }
    })
}

/// The gross each voucher covers, in the order given (the edition's funding order): the least
/// of its worth, what is left, and what is left less its batch's minimum learner share. Returns
/// the covers and the rest.
pub(crate) fn cover(gross: i64, vouchers: &[(&Value, Option<i64>)]) -> Result<(Vec<i64>, i64)> {
    let mut left = gross;
    let mut covers = Vec::with_capacity(vouchers.len());
    for (value, min_learner) in vouchers {
        let room = (left - min_learner.unwrap_or(0)).max(0);
        let take = worth(value, gross)?.min(left).min(room).max(0);
        left -= take;
        covers.push(take);
    }
    Ok((covers, left))
}

/// Each gross share's net (see the module's rounding); `shares` add up to the gross of
/// `price_net`.
pub(crate) fn nets(price_net: i64, vat: &Vat, shares: &[i64]) -> Vec<i64> {
    let Vat::Rate { basis_points } = vat else {
        return shares.to_vec();
    };
    let d = 10_000 + i128::from(*basis_points);
    let mut out: Vec<i64> = Vec::with_capacity(shares.len());
    for (i, g) in shares.iter().enumerate() {
        if i + 1 == shares.len() {
            out.push(price_net - out.iter().sum::<i64>());
        } else {
            let n = (2 * i128::from(*g) * 10_000 + d) / (2 * d);
            out.push(i64::try_from(n).unwrap_or(i64::MAX));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Currency, Money};

    fn eur(m: i64) -> Money {
        Money::new(m, Currency::parse("c", "EUR").unwrap())
    }

    #[test]
    fn a_face_value_leaves_the_rest() {
        let v = Value::Face(eur(50_000));
        let (c, rest) = cover(70_000, &[(&v, None)]).unwrap();
        assert_eq!((c, rest), (vec![50_000], 20_000));
    }

    #[test]
    fn vouchers_pay_in_order_and_respect_the_learners_minimum() {
        let pla = Value::Face(eur(40_000));
        let fund = Value::Percent {
            basis_points: 5_000,
            cap: Some(eur(30_000)),
        };
        let (c, rest) = cover(84_000, &[(&pla, None), (&fund, Some(5_000))]).unwrap();
        // The fund's 50 % (42 000) is capped at 30 000, then at what leaves the learner 5 000.
        assert_eq!(c, vec![40_000, 30_000]);
        assert_eq!(rest, 14_000);
        let (c, rest) = cover(84_000, &[(&pla, None), (&pla, None), (&pla, None)]).unwrap();
        assert_eq!((c, rest), (vec![40_000, 40_000, 4_000], 0));
    }

    #[test]
    fn shares_add_up_at_twenty_percent_and_exempt() {
        let vat = Vat::Rate {
            basis_points: 2_000,
        };
        let gross = gross_of(70_001, &vat).unwrap();
        assert_eq!(gross, 84_001);
        let shares = [33_333, 33_333, 17_335];
        assert_eq!(shares.iter().sum::<i64>(), gross);
        let n = nets(70_001, &vat, &shares);
        assert_eq!(n, vec![27_778, 27_778, 14_445]);
        assert_eq!(n.iter().sum::<i64>(), 70_001);
        let vat_parts: i64 = shares.iter().zip(&n).map(|(g, n)| g - n).sum();
        assert_eq!(vat_parts, gross - 70_001);

        let exempt = Vat::Exempt {
            mention: "art. 261".into(),
        };
        assert_eq!(gross_of(70_000, &exempt).unwrap(), 70_000);
        assert_eq!(
            nets(70_000, &exempt, &[50_000, 20_000]),
            vec![50_000, 20_000]
        );
    }
}
