//! Plans and seat subscriptions as the API shows them.

use async_graphql::{Enum, ID, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use spaces_billing::plans::{Plan, Term};
use spaces_billing::subscriptions::{Status, Subscription};

use crate::types::edition::MoneyGql;

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(name = "PlanTerm")]
pub enum TermGql {
    /// Twelve months (the default).
    Annual,
    Monthly,
}

impl From<TermGql> for Term {
    fn from(t: TermGql) -> Self {
        match t {
            TermGql::Annual => Term::Annual,
            TermGql::Monthly => Term::Monthly,
        }
    }
}

impl From<Term> for TermGql {
    fn from(t: Term) -> Self {
        match t {
            Term::Annual => TermGql::Annual,
            Term::Monthly => TermGql::Monthly,
        }
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(name = "SubscriptionStatus")]
pub enum StatusGql {
    Active,
    /// A renewal invoice is unpaid 30 days after its due date: new enrolments into included
    /// editions are refused until it is paid.
    PastDue,
    Cancelled,
}

impl From<Status> for StatusGql {
    fn from(s: Status) -> Self {
        match s {
            Status::Active => StatusGql::Active,
            Status::PastDue => StatusGql::PastDue,
            Status::Cancelled => StatusGql::Cancelled,
        }
    }
}

pub fn money(m: spaces_billing::Money) -> MoneyGql {
    MoneyGql {
        amount_minor: m.amount_minor(),
        currency: m.currency().code().to_owned(),
    }
}

#[derive(SimpleObject)]
#[graphql(name = "Plan")]
pub struct PlanGql {
    pub id: ID,
    pub name: String,
    pub seats: i32,
    pub term: TermGql,
    /// For `seats` seats and one term, VAT excluded.
    pub price: MoneyGql,
    /// 2000 = 20 %.
    pub vat_basis_points: i32,
    /// Retired plans are no longer sold; subscriptions keep them.
    pub retired_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl From<Plan> for PlanGql {
    fn from(p: Plan) -> Self {
        Self {
            id: ID(p.id.to_string()),
            name: p.name,
            seats: p.seats,
            term: p.term.into(),
            price: money(p.price),
            vat_basis_points: p.vat_basis_points,
            retired_at: p.retired_at,
            created_at: p.created_at,
        }
    }
}

#[derive(SimpleObject)]
#[graphql(name = "Subscription")]
pub struct SubscriptionGql {
    pub id: ID,
    pub plan_id: ID,
    pub plan_name: String,
    pub billing_account_id: ID,
    pub term: TermGql,
    /// The current term's first day.
    pub starts_on: NaiveDate,
    /// The next term's first day (the current term runs until the day before).
    pub ends_on: NaiveDate,
    pub seats: i32,
    /// Seats held now: distinct learners with a pending or active enrolment in an included
    /// edition.
    pub used: i64,
    /// The seats the next term opens with.
    pub renewal_seats: i32,
    pub status: StatusGql,
    /// Cancelled: ends at `endsOn`, not renewed.
    pub cancel_at_term_end: bool,
    /// The plan's price per term for `planSeats` seats, VAT excluded, as sold.
    pub price_per_term: MoneyGql,
    pub plan_seats: i32,
    pub vat_basis_points: i32,
}

pub fn subscription_gql(s: Subscription, used: i64) -> SubscriptionGql {
    SubscriptionGql {
        id: ID(s.id.to_string()),
        plan_id: ID(s.plan.to_string()),
        plan_name: s.plan_name,
        billing_account_id: ID(s.billing_account.to_string()),
        term: s.term.into(),
        starts_on: s.starts_on,
        ends_on: s.ends_on,
        seats: s.seats,
        used,
        renewal_seats: s.renewal_seats,
        status: s.status.into(),
        cancel_at_term_end: s.cancel_at_term_end,
        price_per_term: money(s.price),
        plan_seats: s.plan_seats,
        vat_basis_points: s.vat_basis_points,
    }
}

/// A subscription change and the invoice it issued, if any.
#[derive(SimpleObject)]
pub struct SubscriptionChange {
    pub subscription: SubscriptionGql,
    /// The invoice issued now (the first term's at sale, a prorated one for added seats); null
    /// when nothing was invoiced.
    pub invoice_id: Option<ID>,
}
