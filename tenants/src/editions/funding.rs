//! Who pays a seat of a priced edition, and in which order: the vouchers of each kind of
//! funder, then the learner's company when the edition allows it, then the learner.

use crate::{Error, Result};

/// The kind of body a funder is. It sets a voucher's place in the order of payment, and a
/// personal-learning-account voucher is its holder's own right.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FunderKind {
    /// A personal-learning-account scheme (France's CPF).
    Pla,
    /// A public employment service.
    PublicEmployment,
    /// A sector training fund.
    SectorFund,
    /// An employer.
    Employer,
}

impl FunderKind {
    pub const ALL: [FunderKind; 4] = [
        FunderKind::Pla,
        FunderKind::PublicEmployment,
        FunderKind::SectorFund,
        FunderKind::Employer,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FunderKind::Pla => "pla",
            FunderKind::PublicEmployment => "public_employment",
            FunderKind::SectorFund => "sector_fund",
            FunderKind::Employer => "employer",
        }
    }

    /// A kind as stored; an unknown one is an error, never a guess.
    pub fn from_db(s: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| Error::Internal(format!("unknown funder kind {s:?}")))
    }
}

/// The order in which the kinds of vouchers pay: a permutation of the four kinds. By default
/// the personal learning account first, then public and sector funds, then an employer's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FundingOrder(pub [FunderKind; 4]);

impl Default for FundingOrder {
    fn default() -> Self {
        Self(FunderKind::ALL)
    }
}

impl FundingOrder {
    /// The order an admin gives: the kinds named first, in their order, then the others in the
    /// default order. A kind named twice is refused.
    pub fn parse(field: &'static str, given: &[FunderKind]) -> Result<Self> {
        let mut order = Vec::with_capacity(4);
        for k in given {
            if order.contains(k) {
                return Err(Error::invalid(
                    field,
                    format!("{} is named twice", k.as_str()),
                ));
            }
            order.push(*k);
        }
        for k in FunderKind::ALL {
            if !order.contains(&k) {
                order.push(k);
            }
        }
        let mut out = FunderKind::ALL;
        out.copy_from_slice(&order);
        Ok(Self(out))
    }

    /// A kind's place: lower pays first.
    pub fn rank(&self, kind: FunderKind) -> usize {
        self.0.iter().position(|k| *k == kind).unwrap_or(4)
    }

    pub(crate) fn to_db(self) -> Option<String> {
        if self == Self::default() {
            return None;
        }
        let names: Vec<&str> = self.0.iter().map(|k| k.as_str()).collect();
        Some(names.join(","))
    }

    pub(crate) fn from_db(s: Option<&str>) -> Result<Self> {
        let Some(s) = s else {
            return Ok(Self::default());
        };
        let kinds = s
            .split(',')
            .map(FunderKind::from_db)
            .collect::<Result<Vec<_>>>()?;
        Self::parse("fundingOrder", &kinds)
            .map_err(|e| Error::Internal(format!("stored funding order {s:?}: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_partial_order_keeps_the_default_for_the_rest() {
        let o = FundingOrder::parse("f", &[FunderKind::Employer]).unwrap();
        assert_eq!(
            o.0,
            [
                FunderKind::Employer,
                FunderKind::Pla,
                FunderKind::PublicEmployment,
                FunderKind::SectorFund
            ]
        );
        assert_eq!(FundingOrder::from_db(o.to_db().as_deref()).unwrap(), o);
        assert_eq!(FundingOrder::default().to_db(), None);
        assert!(FundingOrder::parse("f", &[FunderKind::Pla, FunderKind::Pla]).is_err());
    }
}
