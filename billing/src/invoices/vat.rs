//! VAT as EN 16931 asks (BR-CO-17): per rate, over the sum of the line net amounts, rounded
//! half-up to the minor unit; never line by line. Exempt lines form one group per legal mention.

use spaces_tenants::{Error, Result};

use super::Vat;

/// One row of the breakdown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Group {
    pub vat: Vat,
    pub taxable_minor: i64,
    pub vat_minor: i64,
}

/// `amount × basis_points / 10 000`, half-up (a half rounds away from zero). Amounts here are
/// never negative, so away from zero is up.
pub fn rate_of(amount_minor: i64, basis_points: u32) -> Result<i64> {
    let x = i128::from(amount_minor) * i128::from(basis_points);
    let rounded = if x >= 0 {
        (x + 5_000) / 10_000
    } else {
        (x - 5_000) / 10_000
    };
    i64::try_from(rounded).map_err(|_| Error::invalid("lines", "amounts are too large"))
}

/// The breakdown of lines given as (net, vat), in the order each rate or mention first
/// appears, and the VAT total.
pub fn breakdown<'a>(lines: impl IntoIterator<Item = (i64, &'a Vat)>) -> Result<(Vec<Group>, i64)> {
    let mut groups: Vec<Group> = Vec::new();
    for (net, vat) in lines {
        match groups.iter_mut().find(|g| &g.vat == vat) {
            Some(g) => {
                g.taxable_minor = g
                    .taxable_minor
                    .checked_add(net)
                    .ok_or_else(|| Error::invalid("lines", "amounts are too large"))?;
            }
            None => groups.push(Group {
                vat: vat.clone(),
                taxable_minor: net,
                vat_minor: 0,
            }),
        }
    }
    let mut total: i64 = 0;
    for g in &mut groups {
        g.vat_minor = match g.vat {
            Vat::Rate { basis_points } => rate_of(g.taxable_minor, basis_points)?,
            Vat::Exempt { .. } => 0,
        };
        total = total
            .checked_add(g.vat_minor)
            .ok_or_else(|| Error::invalid("lines", "amounts are too large"))?;
    }
    Ok((groups, total))
}

/// The VAT breakdown of a credit note for some of an invoice's uncredited lines (`crediting[i]`
/// says whether `uncredited[i]` is credited now): per rate, the VAT of the uncredited lines
/// before, less that of those left after. So the credit notes of an invoice add up to its VAT
/// exactly, never a cent more, and each is within a cent of its own rate × taxable.
pub fn credit_breakdown(uncredited: &[(i64, Vat)], crediting: &[bool]) -> Result<Vec<Group>> {
    let all = |keep: &dyn Fn(usize) -> bool| {
        breakdown(
            uncredited
                .iter()
                .enumerate()
                .filter(|(i, _)| keep(*i))
                .map(|(_, (n, v))| (*n, v)),
        )
    };
    let (before, _) = all(&|_| true)?;
    let (after, _) = all(&|i| !crediting.get(i).copied().unwrap_or(false))?;
    let (mut now, _) = all(&|i| crediting.get(i).copied().unwrap_or(false))?;
    let vat_in = |gs: &[Group], v: &Vat| gs.iter().find(|g| &g.vat == v).map_or(0, |g| g.vat_minor);
    for g in &mut now {
        g.vat_minor = vat_in(&before, &g.vat) - vat_in(&after, &g.vat);
    }
    Ok(now)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate(bp: u32) -> Vat {
        Vat::Rate { basis_points: bp }
    }

    #[test]
    fn half_a_cent_rounds_up_and_less_rounds_down() {
        // 10 % of 0.05 EUR = 0.5 cent: up to 1.
        assert_eq!(rate_of(5, 1000).ok(), Some(1));
        assert_eq!(rate_of(2, 2500).ok(), Some(1)); // 0.5 -> 1
        assert_eq!(rate_of(1, 4999).ok(), Some(0)); // 0.4999 -> 0
        assert_eq!(rate_of(1, 5000).ok(), Some(1)); // 0.5 -> 1
        // 5.5 % of 10.10 EUR = 55.55 cents -> 56.
        assert_eq!(rate_of(1010, 550).ok(), Some(56));
        // 2.1 % of 9.99 EUR = 20.979 cents -> 21.
        assert_eq!(rate_of(999, 210).ok(), Some(21));
        assert_eq!(rate_of(0, 2000).ok(), Some(0));
    }

    #[test]
    fn vat_is_computed_per_rate_over_the_sum_of_nets_not_per_line() {
        // Three lines of 0.33 EUR at 5.5 %: per line 1.815 -> 2 each (6); over the sum
        // 99 × 5.5 % = 5.445 -> 5.
        let r = rate(550);
        let (groups, total) = breakdown([(33, &r), (33, &r), (33, &r)]).unwrap();
        assert_eq!(groups.len(), 1);
        assert_eq!((groups[0].taxable_minor, groups[0].vat_minor), (99, 5));
        assert_eq!(total, 5);
    }

    #[test]
    fn credit_notes_line_by_line_add_up_to_the_invoice_vat() {
        // Three lines of 0.33 EUR at 5.5 %: the invoice's VAT is 0.05 (over 0.99), but each
        // line alone would round to 0.02 (0.06 in all).
        let r = rate(550);
        let lines = vec![(33, r.clone()), (33, r.clone()), (33, r.clone())];
        let first = credit_breakdown(&lines, &[true, false, false]).unwrap();
        // 5 before (99), 4 after (66 -> 3.63 -> 4): 1.
        assert_eq!((first[0].taxable_minor, first[0].vat_minor), (33, 1));
        let rest = &lines[1..];
        let second = credit_breakdown(rest, &[true, false]).unwrap();
        // 4 before (66), 2 after (33 -> 1.815 -> 2): 2.
        assert_eq!(second[0].vat_minor, 2);
        let last = credit_breakdown(&rest[1..], &[true]).unwrap();
        assert_eq!(last[0].vat_minor, 2);
        assert_eq!(
            first[0].vat_minor + second[0].vat_minor + last[0].vat_minor,
            5
        );
        // Crediting everything at once gives the invoice's VAT.
        let whole = credit_breakdown(&lines, &[true, true, true]).unwrap();
        assert_eq!(whole[0].vat_minor, 5);
        // Exempt lines credit no VAT; other rates are untouched.
        let exempt = Vat::Exempt {
            mention: "Art. 261-4-4°".into(),
        };
        let mixed = vec![(45_000, exempt.clone()), (10_000, rate(2000))];
        let g = credit_breakdown(&mixed, &[true, false]).unwrap();
        assert_eq!(
            g,
            vec![Group {
                vat: exempt,
                taxable_minor: 45_000,
                vat_minor: 0
            }]
        );
    }

    #[test]
    fn several_rates_and_exemptions_each_get_their_row() {
        let (twenty, ten) = (rate(2000), rate(1000));
        let exempt = Vat::Exempt {
            mention: "Exonération de TVA, article 261-4-4° du CGI".into(),
        };
        let (groups, total) = breakdown([
            (45_000, &exempt),
            (10_050, &twenty),
            (333, &ten),
            (10_000, &twenty),
            (5_000, &exempt),
        ])
        .unwrap();
        assert_eq!(
            groups
                .iter()
                .map(|g| (g.taxable_minor, g.vat_minor))
                .collect::<Vec<_>>(),
            // Exempt 500.00: 0; 20 % of 200.50 = 40.10; 10 % of 3.33 = 0.333 -> 0.33.
            vec![(50_000, 0), (20_050, 4_010), (333, 33)]
        );
        assert_eq!(total, 4_043);
    }
}
