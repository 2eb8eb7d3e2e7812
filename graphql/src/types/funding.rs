//! The kinds of funders, as editions order them and funders are created with.

use async_graphql::Enum;
use spaces_tenants::editions::FunderKind;

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(name = "FunderKind")]
pub enum FunderKindGql {
    /// A personal-learning-account scheme (France's CPF): its vouchers are their holder's own
    /// and apply only to eligible courses.
    Pla,
    /// A public employment service.
    PublicEmployment,
    /// A sector training fund.
    SectorFund,
    /// An employer.
    Employer,
}

impl From<FunderKind> for FunderKindGql {
    fn from(k: FunderKind) -> Self {
        match k {
            FunderKind::Pla => Self::Pla,
            FunderKind::PublicEmployment => Self::PublicEmployment,
            FunderKind::SectorFund => Self::SectorFund,
            FunderKind::Employer => Self::Employer,
        }
    }
}

impl From<FunderKindGql> for FunderKind {
    fn from(k: FunderKindGql) -> Self {
        match k {
            FunderKindGql::Pla => Self::Pla,
            FunderKindGql::PublicEmployment => Self::PublicEmployment,
            FunderKindGql::SectorFund => Self::SectorFund,
            FunderKindGql::Employer => Self::Employer,
        }
    }
}
