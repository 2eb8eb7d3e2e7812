//! Credit notes: whole lines of an issued invoice, each line credited at most once, so never
//! more than what is left uncredited.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, QueryFilter, QuerySelect};
use spaces_tenants::kernel::values::name;
use spaces_tenants::{Error, Principal, Result, TenantTx};

use super::entity::{invoice, line};
use super::{
    BreakdownRow, Issued, LineInput, PricedLine, Vat, finalise, lines_of, too_large, vat,
    write_draft,
};
use crate::accounts;
use crate::{BillingAccountId, ChargeId, InvoiceId, InvoiceLineId, Money};

/// Issues a credit note against an issued invoice for the given lines, whole (each line's full
/// quantity), and posts its ledger transaction.
///
/// Its VAT per rate is what crediting these lines takes off the invoice's VAT: the VAT of the
/// lines left uncredited before, less that of the lines left after (each rounded as BR-CO-17
/// says). So the credit notes of an invoice add up to its VAT exactly, never a cent more.
pub async fn credit(
    tx: &TenantTx,
    now: DateTime<Utc>,
    invoice: InvoiceId,
    lines: &[InvoiceLineId],
    reason: &str,
) -> Result<Issued> {
    let reason = name("reason", reason, 500)?;
    // The lock orders credit notes (and payments) of one invoice one after the other.
    let inv = tx
        .select::<invoice::Entity>()
        .filter(invoice::Column::Id.eq(invoice.uuid()))
        .filter(invoice::Column::Kind.eq("invoice"))
        .filter(invoice::Column::Status.eq("issued"))
        .lock_exclusive()
        .one()
        .await?
        .ok_or_else(|| Error::not_found_field("invoiceId", "no such issued invoice"))?;
    if lines.is_empty() {
        return Err(Error::invalid(
            "lineIds",
            "name at least one line to credit",
        ));
    }
    let all = lines_of(tx, invoice).await?;
    let credited = credited_lines(tx, invoice).await?;
    let mut chosen: Vec<&line::Model> = Vec::new();
    for id in lines {
        let l = all
            .iter()
            .find(|l| l.id == id.uuid())
            .ok_or_else(|| Error::not_found_field("lineIds", "no such line on this invoice"))?;
        if credited.contains(&l.id) {
            return Err(Error::conflict("lineIds", "this line is already credited"));
        }
        if !chosen.iter().any(|c| c.id == l.id) {
            chosen.push(l);
        }
    }
    let buyer = accounts::load(tx, BillingAccountId::from_uuid(inv.account_id)).await?;
    let c = buyer.currency;
    let vat_of = |l: &line::Model| match (l.vat_basis_points, &l.exemption) {
        (Some(bp), _) => Vat::Rate {
            basis_points: bp as u32,
        },
        (None, m) => Vat::Exempt {
            mention: m.clone().unwrap_or_default(),
        },
    };
    // Lines as (net, VAT), the ones left uncredited before this note and the ones it credits.
    let uncredited: Vec<(i64, Vat)> = all
        .iter()
        .filter(|l| !credited.contains(&l.id))
        .map(|l| (l.net_minor, vat_of(l)))
        .collect();
    let crediting: Vec<bool> = all
        .iter()
        .filter(|l| !credited.contains(&l.id))
        .map(|l| chosen.iter().any(|c| c.id == l.id))
        .collect();
    let breakdown: Vec<BreakdownRow> = vat::credit_breakdown(&uncredited, &crediting)?
        .iter()
        .map(BreakdownRow::from_group)
        .collect();
    let priced: Vec<PricedLine> = chosen
        .iter()
        .map(|l| {
            Ok(PricedLine {
                input: LineInput {
                    description: l.description.clone(),
                    quantity: u32::try_from(l.quantity).map_err(|_| too_large())?,
                    unit_price: Money::new(l.unit_price_minor, c),
                    vat: vat_of(l),
                    charge: l.charge_id.map(ChargeId::from_uuid),
                },
                net_minor: l.net_minor,
                credits: Some(l.id),
            })
        })
        .collect::<Result<_>>()?;
    let (draft, stored) = write_draft(
        tx,
        now,
        &buyer,
        priced,
        breakdown,
        None,
        None,
        Some((invoice, reason)),
    )
    .await?;
    finalise(tx, now, draft, &buyer, &stored).await
}

/// `credit` for an admin (operators and tenant admins).
pub async fn credit_as(
    tx: &TenantTx,
    who: &Principal,
    now: DateTime<Utc>,
    invoice: InvoiceId,
    lines: &[InvoiceLineId],
    reason: &str,
) -> Result<Issued> {
    accounts::require_manager(who)?;
    credit(tx, now, invoice, lines, reason).await
}

/// The invoice lines already credited by issued credit notes.
async fn credited_lines(tx: &TenantTx, invoice: InvoiceId) -> Result<Vec<uuid::Uuid>> {
    let notes: Vec<uuid::Uuid> = tx
        .select::<invoice::Entity>()
        .filter(invoice::Column::CorrectsId.eq(invoice.uuid()))
        .filter(invoice::Column::Status.eq("issued"))
        .all()
        .await?
        .into_iter()
        .map(|n| n.id)
        .collect();
    if notes.is_empty() {
        return Ok(Vec::new());
    }
    Ok(tx
        .select::<line::Entity>()
        .filter(line::Column::InvoiceId.is_in(notes))
        .all()
        .await?
        .into_iter()
        .filter_map(|l| l.credits_line_id)
        .collect())
}
