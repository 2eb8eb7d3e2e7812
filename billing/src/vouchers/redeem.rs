//! Redemption: the codes given with an enrolment in a priced edition, checked at admission
//! (nothing written when one fails), then used once the place is taken, and the seat's price
//! split between the vouchers, the company and the learner.
//!
//! CONTRACT (lead): `confirm` and `give_back` are what learner payments call. The redemption
//! helper fills in the bodies and owns the rest of this file.
//!
//! A code's checks run in this order, and the first that fails answers: `mistyped` (the code
//! cannot be read), `unknown` (no code of this space has its hash: one of another space answers
//! exactly the same), `revoked`, `not_yet_valid`, `expired`, `exhausted`, `not_applicable`.
//! So a wrong code never tells more than `unknown`.
//!
//! Funder charges name the edition and the learner by their person id (never an email: the
//! funder's invoice travels outside the space, the id is what the space's staff look up).

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, QueryFilter, Set};
use spaces_tenants::editions::{Edition, FunderKind, Price};
use spaces_tenants::{EnrolmentId, Error, OrganisationId, PersonId, Result, TenantTx};

use super::batch::Batch;
use super::codes::{Code, VoucherKey};
use super::entity::{batch, redemption, voucher};
use super::payment::{self, LearnerCheckout, LearnerShare};
use super::split;
use crate::accounts::entity::account;
use crate::charges;
use crate::funders::{self, Funder};
use crate::invoices::Vat;
use crate::ledger::{self, Account, Kind, Posting};
use crate::{ChargeId, Money, RedemptionId};

/// Why redemptions are given back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GiveBack {
    /// The learner did not pay in time.
    Released,
    /// The learner withdrew inside the edition's withdrawal period.
    Withdrawn,
}

const FIELD: &str = "voucherCodes";

fn invalid(reason: &'static str, message: &'static str) -> Error {
    Error::VoucherInvalid {
        field: FIELD.into(),
        reason,
        message: message.into(),
    }
}

/// The one answer for a code no row of this space has: the same for a code of another space.
fn unknown() -> Error {
    invalid("unknown", "this code is not a voucher of this space")
}

fn not_applicable(message: &'static str) -> Error {
    invalid("not_applicable", message)
}

/// Who takes the place: where the restrictions and the rest's payer are looked up.
pub(crate) struct Holder<'a> {
    pub ancestry: &'a [OrganisationId],
    /// The learner enrols themselves (`selfEnrol`).
    pub self_service: bool,
}

/// One voucher's share of the seat.
pub(crate) struct Share {
    voucher: voucher::Model,
    batch: Batch,
    funder: Funder,
    /// The funder organisation's billing account.
    account: account::Model,
    /// Gross (VAT included).
    amount: Money,
    net: i64,
}

/// Who pays what the vouchers leave.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Rest {
    Nothing,
    Company {
        account: Box<account::Model>,
        net: i64,
    },
    Learner,
}

/// A seat split between its vouchers and the rest.
pub(crate) struct Plan {
    shares: Vec<Share>,
    /// Gross left after the vouchers.
    rest_gross: Money,
    rest: Rest,
    vat: Vat,
}

/// Checks every code and splits the seat; writes nothing. `vat` is the edition's.
pub(crate) async fn plan(
    tx: &TenantTx,
    key: &VoucherKey,
    now: DateTime<Utc>,
    edition: &Edition,
    vat: &Vat,
    holder: &Holder<'_>,
    codes: &[String],
) -> Result<Plan> {
    let price = match &edition.price {
        Price::PerSeat(m) if m.is_positive() => *m,
        _ => {
            return Err(Error::invalid(
                FIELD,
                "this edition costs nothing to its learners: it takes no vouchers",
            ));
        }
    };
    let mut seen = HashSet::new();
    let mut given: Vec<(voucher::Model, Batch)> = Vec::with_capacity(codes.len());
    for typed in codes {
        let code = Code::parse(typed).map_err(|_| {
            invalid(
                "mistyped",
                "this is not a voucher code: check what you typed",
            )
        })?;
        let v = tx
            .select::<voucher::Entity>()
            .filter(voucher::Column::CodeHash.eq(key.hash(tx.tenant(), &code)))
            .one()
            .await?
            .ok_or_else(unknown)?;
        let b = tx
            .select::<batch::Entity>()
            .filter(batch::Column::Id.eq(v.batch_id))
            .one()
            .await?
            .ok_or_else(|| Error::Internal(format!("voucher {} without its batch", v.id)))?;
        let b = Batch::from_model(b)?;
        if b.revoked_at.is_some() || v.revoked_at.is_some() {
            return Err(invalid("revoked", "this voucher was revoked by its funder"));
        }
        if now < b.valid_from {
            return Err(invalid("not_yet_valid", "this voucher is not valid yet"));
        }
        if now >= b.valid_until {
            return Err(invalid("expired", "this voucher has expired"));
        }
        if v.uses >= v.max_uses {
            return Err(invalid("exhausted", "this voucher has been used up"));
        }
        if !seen.insert(v.id) {
            return Err(not_applicable("this voucher is given twice"));
        }
        applies(tx, edition, price, &b, holder).await?;
        given.push((v, b));
    }
    // The edition's order of payment; codes of one kind keep the order they were given in.
    given.sort_by_key(|(_, b)| edition.billing.funding_order.rank(b.funder_kind));

    let gross = split::gross_of(price.amount_minor(), vat)?;
    let offers: Vec<_> = given
        .iter()
        .map(|(_, b)| (&b.value, b.min_learner_share.map(|m| m.amount_minor())))
        .collect();
    let (covers, rest_gross) = split::cover(gross, &offers)?;
    if covers.contains(&0) {
        return Err(not_applicable(
            "the other vouchers already cover what this one could",
        ));
    }
    let rest = if rest_gross == 0 {
        Rest::Nothing
    } else {
        let accounts = crate::accounts::accounts_on(tx, &[holder.ancestry.to_vec()]).await?;
        match crate::accounts::deepest(&accounts, holder.ancestry) {
            Some(a) if edition.billing.company_cofunding => {
                charges::same_currency(a, price)?;
                Rest::Company {
                    account: Box::new(a.clone()),
                    net: 0,
                }
            }
            _ if holder.self_service => Rest::Learner,
            _ => {
                return Err(Error::refused(
                    "BILLING_ACCOUNT_REQUIRED",
                    "the vouchers leave part of this seat to pay and no company billing account \
                     pays it: the learner may enrol themselves and pay the rest",
                ));
            }
        }
    };
    let mut shares_gross = covers.clone();
    if rest_gross > 0 {
        shares_gross.push(rest_gross);
    }
    let nets = split::nets(price.amount_minor(), vat, &shares_gross);
    let rest = match rest {
        Rest::Company { account, .. } => Rest::Company {
            account,
            net: nets.last().copied().unwrap_or(0),
        },
        r => r,
    };
    let mut shares = Vec::with_capacity(given.len());
    for (((v, b), amount), net) in given.into_iter().zip(covers).zip(nets) {
        let funder = funders::load(tx, b.funder).await?;
        // The funder's own organisation's account, never one above it.
        let own = [funder.organisation];
        let accounts = crate::accounts::accounts_on(tx, &[own.to_vec()]).await?;
        let account = crate::accounts::deepest(&accounts, &own)
            .cloned()
            .ok_or_else(|| {
                Error::refused(
                    "BILLING_ACCOUNT_REQUIRED",
                    format!(
                        "the funder {} has no billing account to be invoiced on",
                        funder.name
                    ),
                )
            })?;
        charges::same_currency(&account, price)?;
        shares.push(Share {
            voucher: v,
            amount: Money::new(amount, price.currency()),
            batch: b,
            funder,
            account,
            net,
        });
    }
    Ok(Plan {
        shares,
        rest_gross: Money::new(rest_gross, price.currency()),
        rest,
        vat: vat.clone(),
    })
}

/// The batch's restrictions, the personal learning account's rules and the currency.
async fn applies(
    tx: &TenantTx,
    edition: &Edition,
    price: Money,
    b: &Batch,
    holder: &Holder<'_>,
) -> Result<()> {
    let r = &b.restrictions;
    if b.currency != price.currency() {
        return Err(not_applicable(
            "this voucher is in another currency than this edition",
        ));
    }
    if r.courses
        .as_ref()
        .is_some_and(|c| !c.contains(&edition.course))
        || r.editions
            .as_ref()
            .is_some_and(|e| !e.contains(&edition.id))
    {
        return Err(not_applicable(
            "this voucher does not apply to this edition",
        ));
    }
    if r.organisations
        .as_ref()
        .is_some_and(|orgs| !holder.ancestry.iter().any(|a| orgs.contains(a)))
    {
        return Err(not_applicable(
            "this voucher does not apply to the learner's organisation",
        ));
    }
    if let Some(bands) = &r.size_bands {
        let band = spaces_tenants::organisations::nearest_size_band(tx, holder.ancestry).await?;
        if !band.is_some_and(|b| bands.contains(&b)) {
            return Err(not_applicable(
                "this voucher does not apply to a company of this size",
            ));
        }
    }
    if b.funder_kind == FunderKind::Pla {
        if !holder.self_service {
            return Err(not_applicable(
                "a personal-learning-account voucher is redeemed by its holder",
            ));
        }
        let course = spaces_tenants::catalogue::get(tx, edition.course).await?;
        if course.pla_registry_code.is_none() {
            return Err(not_applicable(
                "this course is not registered for personal learning accounts",
            ));
        }
    }
    Ok(())
}

/// Whether the vouchers leave the learner something to pay.
impl Plan {
    pub(crate) fn learner_pays(&self) -> bool {
        self.rest == Rest::Learner
    }
}

/// Takes a use of each voucher and records the split of an enrolment just placed: one
/// redemption, funder charge and `redemption` posting per voucher, the company's charge for
/// the rest, or the learner's payment. Returns the charges made.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn redeem(
    tx: &TenantTx,
    now: DateTime<Utc>,
    edition: &Edition,
    plan: Plan,
    enrolment: EnrolmentId,
    person: PersonId,
    checkout: Option<&LearnerCheckout>,
) -> Result<Vec<uuid::Uuid>> {
    // One conditional update per voucher: of racers on the last use, one moves the row.
    for s in &plan.shares {
        let taken = tx
            .update_many::<voucher::Entity>()
            .col_expr(
                voucher::Column::Uses,
                Expr::col(voucher::Column::Uses).add(1),
            )
            .filter(voucher::Column::Id.eq(s.voucher.id))
            .filter(Expr::col(voucher::Column::Uses).lt(Expr::col(voucher::Column::MaxUses)))
            .filter(voucher::Column::RevokedAt.is_null())
            .exec()
            .await?;
        if taken == 0 {
            return Err(invalid("exhausted", "this voucher has been used up"));
        }
    }
    let learner_pays = plan.learner_pays();
    let title = edition
        .title
        .clone()
        .unwrap_or_else(|| format!("edition {}", edition.id));
    let until = now + chrono::Duration::days(i64::from(edition.billing.withdrawal_days));
    let mut made = Vec::new();
    for s in &plan.shares {
        let charge_id = ChargeId::new().uuid();
        let redemption_id = RedemptionId::new().uuid();
        let row = charges::row(
            charges::NewRow {
                id: charge_id,
                enrolment,
                edition: edition.id,
                account: s.account.id,
                description: format!(
                    "Voucher \"{}\" of {}: {title}, learner {person}",
                    s.batch.name, s.funder.name
                ),
                net: Money::new(s.net, s.amount.currency()),
                vat: &plan.vat,
                status: if learner_pays {
                    charges::ON_HOLD
                } else {
                    charges::PENDING
                },
                withdrawal_until: until,
                payer: "funder",
                funder: Some(s.funder.id.uuid()),
                redemption: Some(redemption_id),
            },
            now,
        );
        tx.insert(redemption::ActiveModel {
            tenant_id: Set(tx.tenant().uuid()),
            id: Set(redemption_id),
            voucher_id: Set(s.voucher.id),
            batch_id: Set(s.batch.id.uuid()),
            funder_id: Set(s.funder.id.uuid()),
            enrolment_id: Set(enrolment.uuid()),
            person_id: Set(person.uuid()),
            amount_minor: Set(s.amount.amount_minor()),
            currency: Set(s.amount.currency().code().to_owned()),
            status: Set(if learner_pays { "pending" } else { "confirmed" }.to_owned()),
            // Set once the charge exists: each row names the other.
            charge_id: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        })
        .await?;
        tx.insert(row).await?;
        tx.update_many::<redemption::Entity>()
            .col_expr(redemption::Column::ChargeId, Expr::value(charge_id))
            .filter(redemption::Column::Id.eq(redemption_id))
            .exec()
            .await?;
        ledger::post(
            tx,
            now,
            Posting {
                kind: Kind::Redemption,
                reference: redemption_id,
                entries: vec![
                    (
                        Account::FunderReceivable(crate::BillingAccountId::from_uuid(s.account.id)),
                        s.amount,
                    ),
                    (Account::VoucherLiability, s.amount.neg().map_err(money)?),
                ],
            },
        )
        .await?;
        made.push(charge_id);
    }
    match &plan.rest {
        Rest::Nothing => {}
        Rest::Company { account, net } => {
            let id = ChargeId::new().uuid();
            tx.insert(charges::row(
                charges::NewRow {
                    id,
                    enrolment,
                    edition: edition.id,
                    account: account.id,
                    description: format!("Enrolment: {title} (the part vouchers leave)"),
                    net: Money::new(*net, plan.rest_gross.currency()),
                    vat: &plan.vat,
                    status: charges::PENDING,
                    withdrawal_until: until,
                    payer: "company",
                    funder: None,
                    redemption: None,
                },
                now,
            ))
            .await?;
            made.push(id);
        }
        Rest::Learner => {
            payment::open(
                tx,
                now,
                checkout,
                LearnerShare {
                    edition,
                    enrolment,
                    person,
                    amount: plan.rest_gross,
                    vat: &plan.vat,
                },
            )
            .await?;
        }
    }
    Ok(made)
}

fn money(e: crate::MoneyError) -> Error {
    Error::Internal(format!("redemption amounts: {e}"))
}

/// The learner paid: the enrolment's pending redemptions are confirmed and their funder
/// charges join the next monthly run.
pub async fn confirm(tx: &TenantTx, now: DateTime<Utc>, enrolment: EnrolmentId) -> Result<()> {
    let pending = tx
        .select::<redemption::Entity>()
        .filter(redemption::Column::EnrolmentId.eq(enrolment.uuid()))
        .filter(redemption::Column::Status.eq("pending"))
        .all()
        .await?;
    if pending.is_empty() {
        return Ok(());
    }
    tx.update_many::<redemption::Entity>()
        .col_expr(redemption::Column::Status, Expr::value("confirmed"))
        .col_expr(redemption::Column::UpdatedAt, Expr::value(now))
        .filter(redemption::Column::Id.is_in(pending.iter().map(|r| r.id)))
        .filter(redemption::Column::Status.eq("pending"))
        .exec()
        .await?;
    let charges: Vec<uuid::Uuid> = pending.iter().filter_map(|r| r.charge_id).collect();
    charges::release_hold(tx, now, &charges).await
}

/// The enrolment's redemptions are undone: uses restored, the ledger reversed, the funder
/// charges dropped (or their invoice lines credited). A withdrawal after the edition's period
/// (the charge's `withdrawal_until`) gives nothing back.
pub async fn give_back(
    tx: &TenantTx,
    now: DateTime<Utc>,
    enrolment: EnrolmentId,
    why: GiveBack,
) -> Result<()> {
    let from: &[&str] = match why {
        GiveBack::Released => &["pending"],
        GiveBack::Withdrawn => &["pending", "confirmed"],
    };
    let live = tx
        .select::<redemption::Entity>()
        .filter(redemption::Column::EnrolmentId.eq(enrolment.uuid()))
        .filter(redemption::Column::Status.is_in(from.iter().copied()))
        .all()
        .await?;
    for r in live {
        let c = match r.charge_id {
            Some(id) => charges::load(tx, id).await?,
            None => None,
        };
        if why == GiveBack::Withdrawn && c.as_ref().is_some_and(|c| now >= c.withdrawal_until) {
            continue;
        }
        // Conditional: a redemption given back twice (a replayed release) moves nothing.
        let moved = tx
            .update_many::<redemption::Entity>()
            .col_expr(
                redemption::Column::Status,
                Expr::value(match why {
                    GiveBack::Released => "released",
                    GiveBack::Withdrawn => "withdrawn",
                }),
            )
            .col_expr(redemption::Column::UpdatedAt, Expr::value(now))
            .filter(redemption::Column::Id.eq(r.id))
            .filter(redemption::Column::Status.eq(r.status.clone()))
            .exec()
            .await?;
        if moved == 0 {
            continue;
        }
        tx.update_many::<voucher::Entity>()
            .col_expr(
                voucher::Column::Uses,
                Expr::col(voucher::Column::Uses).sub(1),
            )
            .filter(voucher::Column::Id.eq(r.voucher_id))
            .filter(voucher::Column::Uses.gt(0))
            .exec()
            .await?;
        let invoiced = match &c {
            Some(c) => charges::undo(tx, now, c).await?,
            None => false,
        };
        // Once invoiced, the invoice carries the receivable and its credit note reverses it.
        if !invoiced && let Some(c) = &c {
            let amount = Money::new(
                r.amount_minor,
                crate::Currency::parse("currency", &r.currency)
                    .map_err(|e| Error::Internal(format!("redemption {}: {e}", r.id)))?,
            );
            ledger::post(
                tx,
                now,
                Posting {
                    kind: Kind::RedemptionRelease,
                    reference: r.id,
                    entries: vec![
                        (Account::VoucherLiability, amount),
                        (
                            Account::FunderReceivable(crate::BillingAccountId::from_uuid(
                                c.billing_account_id,
                            )),
                            amount.neg().map_err(money)?,
                        ),
                    ],
                },
            )
            .await?;
        }
    }
    Ok(())
}
