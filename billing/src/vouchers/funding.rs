//! Who pays an enrolment's seat, as the learner and their HR read it: the vouchers' funders,
//! the company, the learner. Amounts include VAT, like the shares were split.

use sea_orm::{ColumnTrait, QueryFilter, QueryOrder};
use spaces_tenants::enrolments::Enrolment;
use spaces_tenants::{Error, Principal, Result, TenantTx, people};

use super::entity::{payment, redemption};
use crate::charges::charge;
use crate::funders::entity::funder;
use crate::invoices::vat::rate_of;
use crate::{Currency, FunderId, Money};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Payer {
    Funder,
    Company,
    Learner,
}

#[derive(Clone, Debug)]
pub struct FundingShare {
    pub payer: Payer,
    /// The funder's id and name (funder shares only).
    pub funder: Option<(FunderId, String)>,
    pub amount: Money,
    /// A redemption's (`pending|confirmed|released|withdrawn`), a charge's
    /// (`pending|invoiced|dropped|credited`) or a learner payment's (`awaiting|paid|..`).
    pub status: String,
}

fn currency(code: &str) -> Result<Currency> {
    Currency::parse("currency", code).map_err(|e| Error::Internal(format!("stored {code}: {e}")))
}

/// The shares of the enrolment's latest placement (a re-enrolment is split anew). The learner
/// reads their own; HR of the learner's organisation (and the space's admins) theirs; anyone
/// else reads an empty list.
pub async fn of_enrolment(
    tx: &TenantTx,
    who: &Principal,
    e: &Enrolment,
) -> Result<Vec<FundingShare>> {
    let mine = who.person().is_some_and(|(_, p)| p == e.person);
    if !mine {
        let org = people::many(tx, &[e.person])
            .await?
            .pop()
            .map(|p| p.organisation);
        let may = match org {
            Some(o) => crate::accounts::may_read(tx, who, o).await?,
            None => false,
        };
        if !may {
            return Ok(Vec::new());
        }
    }
    let charges = tx
        .select::<charge::Entity>()
        .filter(charge::Column::EnrolmentId.eq(e.id.uuid()))
        .order_by_desc(charge::Column::CreatedAt)
        .all()
        .await?;
    let Some(latest) = charges.first().map(|c| c.created_at) else {
        return Ok(Vec::new());
    };
    let charges: Vec<charge::Model> = charges
        .into_iter()
        .filter(|c| c.created_at == latest)
        .collect();
    let redemptions = tx
        .select::<redemption::Entity>()
        .filter(redemption::Column::ChargeId.is_in(charges.iter().map(|c| c.id)))
        .order_by_asc(redemption::Column::CreatedAt)
        .all()
        .await?;
    let funders = tx
        .select::<funder::Entity>()
        .filter(funder::Column::Id.is_in(redemptions.iter().map(|r| r.funder_id)))
        .all()
        .await?;
    let mut out = Vec::new();
    // The VAT parts of funder shares (gross − net): the company's share is the rest of the
    // placement's VAT, so the shares add up to the gross exactly.
    let mut funder_vat = 0;
    for r in &redemptions {
        let c = currency(&r.currency)?;
        if let Some(ch) = charges.iter().find(|ch| Some(ch.id) == r.charge_id) {
            funder_vat += r.amount_minor - ch.amount_minor;
        }
        out.push(FundingShare {
            payer: Payer::Funder,
            funder: funders
                .iter()
                .find(|f| f.id == r.funder_id)
                .map(|f| (FunderId::from_uuid(f.id), f.name.clone())),
            amount: Money::new(r.amount_minor, c),
            status: r.status.clone(),
        });
    }
    let net_total: i64 = charges.iter().map(|c| c.amount_minor).sum();
    for c in charges.iter().filter(|c| c.payer == "company") {
        let vat_total = match c.vat_basis_points {
            Some(bp) => rate_of(net_total, u32::try_from(bp).unwrap_or(0))?,
            None => 0,
        };
        out.push(FundingShare {
            payer: Payer::Company,
            funder: None,
            amount: Money::new(
                c.amount_minor + vat_total - funder_vat,
                currency(&c.currency)?,
            ),
            status: c.status.clone(),
        });
    }
    if let Some(p) = tx
        .select::<payment::Entity>()
        .filter(payment::Column::EnrolmentId.eq(e.id.uuid()))
        .filter(payment::Column::CreatedAt.gte(latest))
        .order_by_desc(payment::Column::CreatedAt)
        .one()
        .await?
    {
        out.push(FundingShare {
            payer: Payer::Learner,
            funder: None,
            amount: Money::new(p.amount_minor, currency(&p.currency)?),
            status: p.status,
        });
    }
    Ok(out)
}
