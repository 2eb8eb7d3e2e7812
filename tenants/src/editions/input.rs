//! What an admin types for an edition, parsed once where it enters: titles, capacity, price,
//! visibility (with its organisations checked to exist in this space) and the row it becomes.

use super::*;

/// A new edition as an admin types it.
pub struct NewEdition {
    pub course: CourseId,
    pub title: Option<String>,
    pub description: Option<String>,
    pub starts_on: Option<NaiveDate>,
    pub ends_on: Option<NaiveDate>,
    pub enrol_opens_at: Option<DateTime<Utc>>,
    pub enrol_closes_at: Option<DateTime<Utc>>,
    pub capacity: Option<i32>,
    pub enrolment_mode: EnrolmentMode,
    pub visibility: VisibilityKind,
    pub visible_to: Option<Vec<OrganisationId>>,
    /// A price per seat (minor units, ISO 4217 code) ...
    pub price: Option<(i64, String)>,
    /// ... or `Some(true)`: exactly one of the two.
    pub included_in_subscription: Option<bool>,
    pub min_score: Option<i32>,
    /// Billing of a priced edition; defaults when not given.
    pub billing: BillingPatch,
}

/// A partial update: `None` leaves a field alone, `Some(None)` clears a nullable one.
#[derive(Default)]
pub struct EditionPatch {
    pub title: Option<Option<String>>,
    pub description: Option<Option<String>>,
    pub starts_on: Option<Option<NaiveDate>>,
    pub ends_on: Option<Option<NaiveDate>>,
    pub enrol_opens_at: Option<Option<DateTime<Utc>>>,
    pub enrol_closes_at: Option<Option<DateTime<Utc>>>,
    pub capacity: Option<Option<i32>>,
    pub enrolment_mode: Option<EnrolmentMode>,
    pub visibility: Option<VisibilityKind>,
    pub visible_to: Option<Vec<OrganisationId>>,
    pub price: Option<(i64, String)>,
    pub included_in_subscription: Option<bool>,
    pub min_score: Option<Option<i32>>,
    pub billing: BillingPatch,
}

/// The billing fields of an edition as typed: `None` leaves one alone (or takes its default).
#[derive(Default)]
pub struct BillingPatch {
    pub withdrawal_days: Option<i32>,
    pub invoice_immediately: Option<bool>,
    /// `Some(None)`: back to the platform's default VAT.
    pub vat_basis_points: Option<Option<i32>>,
    pub company_cofunding: Option<bool>,
    /// The kinds named first pay first; the others follow in the default order.
    pub funding_order: Option<Vec<super::FunderKind>>,
}

impl BillingPatch {
    pub(super) fn apply(self, to: &mut EditionBilling) -> Result<()> {
        if let Some(d) = self.withdrawal_days {
            if !(0..=365).contains(&d) {
                return Err(Error::invalid(
                    "withdrawalDays",
                    "must be between 0 and 365",
                ));
            }
            to.withdrawal_days = d;
        }
        if let Some(i) = self.invoice_immediately {
            to.invoice_immediately = i;
        }
        if let Some(v) = self.vat_basis_points {
            if v.is_some_and(|bp| !(0..=10_000).contains(&bp)) {
                return Err(Error::invalid(
                    "vatBasisPoints",
                    "must be between 0 and 10000 (100 %)",
                ));
            }
            to.vat_basis_points = v;
        }
        if let Some(c) = self.company_cofunding {
            to.company_cofunding = c;
        }
        if let Some(o) = self.funding_order {
            to.funding_order = super::FundingOrder::parse("fundingOrder", &o)?;
        }
        Ok(())
    }
}

/// Everything about an edition that a create or an update sets, checked as a whole.
pub(super) struct Fields {
    pub(super) title: Option<String>,
    pub(super) description: Option<String>,
    pub(super) starts_on: Option<NaiveDate>,
    pub(super) ends_on: Option<NaiveDate>,
    pub(super) enrol_opens_at: Option<DateTime<Utc>>,
    pub(super) enrol_closes_at: Option<DateTime<Utc>>,
    pub(super) capacity: Option<i32>,
    pub(super) enrolment_mode: EnrolmentMode,
    pub(super) price: Price,
    pub(super) min_score: Option<i32>,
    pub(super) billing: EditionBilling,
}

impl Fields {
    /// The rules between fields, checked after a create or a partial update is merged.
    pub(super) fn check(&self) -> Result<()> {
        if let (Some(s), Some(e)) = (self.starts_on, self.ends_on)
            && e < s
        {
            return Err(Error::invalid("endsOn", "must not be before startsOn"));
        }
        if let (Some(o), Some(c)) = (self.enrol_opens_at, self.enrol_closes_at)
            && c <= o
        {
            return Err(Error::invalid(
                "enrolClosesAt",
                "must be after enrolOpensAt",
            ));
        }
        Ok(())
    }

    pub(super) fn active_model(&self) -> edition::ActiveModel {
        let (price_minor, price_currency, included) = match &self.price {
            Price::PerSeat(m) => (
                Some(m.amount_minor()),
                Some(m.currency().code().to_owned()),
                false,
            ),
            Price::IncludedInSubscription => (None, None, true),
        };
        edition::ActiveModel {
            title: Set(self.title.clone()),
            description: Set(self.description.clone()),
            starts_on: Set(self.starts_on),
            ends_on: Set(self.ends_on),
            enrol_opens_at: Set(self.enrol_opens_at),
            enrol_closes_at: Set(self.enrol_closes_at),
            capacity: Set(self.capacity),
            enrolment_mode: Set(self.enrolment_mode.as_str().to_owned()),
            price_minor: Set(price_minor),
            price_currency: Set(price_currency),
            included_in_subscription: Set(included),
            min_score: Set(self.min_score),
            withdrawal_days: Set(self.billing.withdrawal_days),
            invoice_immediately: Set(self.billing.invoice_immediately),
            vat_basis_points: Set(self.billing.vat_basis_points),
            company_cofunding: Set(self.billing.company_cofunding),
            funding_order: Set(self.billing.funding_order.to_db()),
            ..Default::default()
        }
    }
}

pub(super) fn title(raw: Option<String>) -> Result<Option<String>> {
    match raw {
        Some(s) if s.trim().is_empty() => Ok(None),
        Some(s) => name("title", &s, 300).map(Some),
        None => Ok(None),
    }
}

/// Free text over several lines: trimmed, empty means "use the course's".
pub(super) fn description(raw: Option<String>) -> Result<Option<String>> {
    long_text("description", raw, MAX_DESCRIPTION)
}

pub(super) fn capacity(c: Option<i32>) -> Result<Option<i32>> {
    match c {
        Some(n) if !(1..=MAX_CAPACITY).contains(&n) => Err(Error::invalid(
            "capacity",
            format!("must be between 1 and {MAX_CAPACITY}, or absent for no limit"),
        )),
        c => Ok(c),
    }
}

pub(super) fn min_score(s: Option<i32>) -> Result<Option<i32>> {
    match s {
        Some(n) if !(0..=100).contains(&n) => {
            Err(Error::invalid("minScore", "must be between 0 and 100"))
        }
        s => Ok(s),
    }
}

/// An ISO 4217 code as stored: three upper-case letters (billing knows which ones it charges in).
pub fn parse_currency(field: &'static str, raw: &str) -> Result<String> {
    if raw.len() == 3 && raw.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(raw.to_owned())
    } else {
        Err(Error::invalid(
            field,
            "must be a three-letter upper-case ISO 4217 code",
        ))
    }
}

/// A price per seat or "included in the subscription": exactly one. `None`: neither was given.
pub(super) fn price(
    per_seat: Option<(i64, String)>,
    included: Option<bool>,
) -> Result<Option<Price>> {
    match (per_seat, included) {
        (Some(_), Some(true)) => Err(Error::invalid(
            "price",
            "give either a price or includedInSubscription: true, not both",
        )),
        (Some((amount_minor, currency)), _) => {
            if amount_minor < 0 {
                return Err(Error::invalid("price.amountMinor", "must not be negative"));
            }
            let code = parse_currency("price.currency", &currency)?;
            let currency = Currency::parse("price.currency", &code)
                .map_err(|_| Error::invalid("price.currency", "is not a currency we bill in"))?;
            Ok(Some(Price::PerSeat(Money::new(amount_minor, currency))))
        }
        (None, Some(true)) => Ok(Some(Price::IncludedInSubscription)),
        (None, Some(false)) => Err(Error::invalid(
            "price",
            "an edition not included in the subscription needs a price per seat",
        )),
        (None, None) => Ok(None),
    }
}

/// The visibility asked for; `None` when neither field was given.
pub(super) fn visibility(
    kind: Option<VisibilityKind>,
    orgs: Option<Vec<OrganisationId>>,
) -> Result<Option<Visibility>> {
    let orgs = orgs.map(|o| {
        // A repeated organisation adds nothing; keep the first mention's order.
        let mut seen = HashSet::new();
        o.into_iter()
            .filter(|i| seen.insert(*i))
            .collect::<Vec<_>>()
    });
    match (kind, orgs) {
        (None, None) => Ok(None),
        (Some(VisibilityKind::WholeTenant), None) => Ok(Some(Visibility::WholeTenant)),
        (Some(VisibilityKind::WholeTenant), Some(o)) if o.is_empty() => {
            Ok(Some(Visibility::WholeTenant))
        }
        (Some(VisibilityKind::WholeTenant), Some(_)) => Err(Error::invalid(
            "visibleTo",
            "must be empty when the edition is visible to the whole tenant",
        )),
        (Some(VisibilityKind::Organisations) | None, o) => {
            let o = o.unwrap_or_default();
            if o.is_empty() {
                return Err(Error::invalid(
                    "visibleTo",
                    "name at least one organisation",
                ));
            }
            if o.len() > MAX_VISIBLE_TO {
                return Err(Error::invalid(
                    "visibleTo",
                    format!("at most {MAX_VISIBLE_TO} organisations"),
                ));
            }
            Ok(Some(Visibility::Organisations(o)))
        }
    }
}

pub(super) fn require_admin(who: &Principal) -> Result<()> {
    if who.is_tenant_admin() {
        Ok(())
    } else {
        Err(Error::Forbidden(
            "curating editions needs the tenant admin role",
        ))
    }
}

/// Every organisation named must exist in this tenant and be active; the error names the index
/// of the first that is not (another tenant's id reads exactly like an unknown one).
pub(super) async fn check_organisations(tx: &TenantTx, v: &Visibility) -> Result<()> {
    use crate::organisations::entity as org;
    let ids = v.organisations();
    if ids.is_empty() {
        return Ok(());
    }
    let found: HashMap<uuid::Uuid, org::Model> = tx
        .scoped_select::<org::Entity>()
        .filter(org::Column::Id.is_in(ids.iter().map(|i| i.uuid())))
        .all(&tx.tx)
        .await?
        .into_iter()
        .map(|m| (m.id, m))
        .collect();
    for (i, id) in ids.iter().enumerate() {
        match found.get(&id.uuid()) {
            None => {
                return Err(Error::not_found_field(
                    format!("visibleTo[{i}]"),
                    "no such organisation",
                ));
            }
            Some(m) if m.archived_at.is_some() => {
                return Err(Error::invalid(format!("visibleTo[{i}]"), "is archived"));
            }
            Some(_) => {}
        }
    }
    Ok(())
}

pub(super) async fn write_visibility(tx: &TenantTx, id: EditionId, v: &Visibility) -> Result<()> {
    tx.scoped_delete::<visible_to::Entity>()
        .filter(visible_to::Column::EditionId.eq(id.uuid()))
        .exec(&tx.tx)
        .await?;
    for org in v.organisations() {
        visible_to::ActiveModel {
            tenant_id: Set(tx.tenant_uuid()),
            id: Set(uuid::Uuid::now_v7()),
            edition_id: Set(id.uuid()),
            organisation_id: Set(org.uuid()),
        }
        .insert(&tx.tx)
        .await?;
    }
    Ok(())
}

pub(super) fn visibility_str(v: &Visibility) -> &'static str {
    match v {
        Visibility::WholeTenant => "whole_tenant",
        Visibility::Organisations(_) => "organisations",
    }
}
