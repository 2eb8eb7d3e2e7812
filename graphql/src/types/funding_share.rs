//! `Enrolment.funding`: who pays the seat (the vouchers' funders, the company, the learner).

use async_graphql::{Enum, ID, SimpleObject};
use spaces_billing::vouchers::funding::{self, Payer};
use spaces_tenants::enrolments::Enrolment;

use super::money::Money;
use crate::error::ApiResult;

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(name = "Payer")]
pub enum PayerGql {
    /// A funder, through a voucher.
    Funder,
    /// The learner's company, on its billing account.
    Company,
    /// The learner themselves.
    Learner,
}

/// The funder of a voucher share.
#[derive(SimpleObject)]
#[graphql(name = "FundingFunder")]
pub struct FundingFunderGql {
    pub id: ID,
    pub name: String,
}

/// One party's share of a seat, VAT included; the shares add up to the seat's gross price.
#[derive(SimpleObject)]
#[graphql(name = "FundingShare")]
pub struct FundingShareGql {
    pub payer: PayerGql,
    /// Null unless the payer is a funder.
    pub funder: Option<FundingFunderGql>,
    pub amount: Money,
    /// A voucher share: pending (the learner's payment awaited), confirmed, released or
    /// withdrawn; the company's: its charge's (pending, invoiced, dropped, credited); the
    /// learner's: their payment's.
    pub status: String,
}

/// The shares of the enrolment's latest placement: for the learner and HR of the learner's
/// organisation (anyone else reads an empty list).
pub async fn funding_of(
    ctx: &async_graphql::Context<'_>,
    e: &Enrolment,
) -> ApiResult<Vec<FundingShareGql>> {
    let scope = crate::scope::of(ctx);
    let who = scope.require_person()?;
    let tx = scope.tx().await?;
    Ok(funding::of_enrolment(&tx, who, e)
        .await?
        .into_iter()
        .map(|s| FundingShareGql {
            payer: match s.payer {
                Payer::Funder => PayerGql::Funder,
                Payer::Company => PayerGql::Company,
                Payer::Learner => PayerGql::Learner,
            },
            funder: s.funder.map(|(id, name)| FundingFunderGql {
                id: ID(id.to_string()),
                name,
            }),
            amount: s.amount.into(),
            status: s.status,
        })
        .collect())
}
