//! Enrolment and dashboard output types, loaded a page at a time: a page of enrolments costs
//! the same few statements whatever its size.

use std::collections::HashMap;

use async_graphql::connection::{Connection, EmptyFields};
use async_graphql::{Enum, ID, Object, SimpleObject};
use spaces_tenants::enrolments::{self, Enrolment, EnrolmentStatus, Progress, Source};
use spaces_tenants::kernel::page::{Page, PageRequest};
use spaces_tenants::{TenantTx, editions, people};

use super::edition::EditionGql;
use super::person::PersonGql;
use crate::error::ApiResult;

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(name = "EnrolmentStatus")]
pub enum EnrolmentStatusGql {
    /// Asked for; waiting for an admin's decision.
    PendingApproval,
    /// Placed; waiting for the learner to pay what vouchers and their company leave. Released
    /// (WITHDRAWN) if unpaid in time.
    PendingPayment,
    Active,
    Completed,
    Withdrawn,
    Rejected,
}

impl From<EnrolmentStatus> for EnrolmentStatusGql {
    fn from(s: EnrolmentStatus) -> Self {
        match s {
            EnrolmentStatus::PendingApproval => Self::PendingApproval,
            EnrolmentStatus::PendingPayment => Self::PendingPayment,
            EnrolmentStatus::Active => Self::Active,
            EnrolmentStatus::Completed => Self::Completed,
            EnrolmentStatus::Withdrawn => Self::Withdrawn,
            EnrolmentStatus::Rejected => Self::Rejected,
        }
    }
}

impl From<EnrolmentStatusGql> for EnrolmentStatus {
    fn from(s: EnrolmentStatusGql) -> Self {
        match s {
            EnrolmentStatusGql::PendingApproval => Self::PendingApproval,
            EnrolmentStatusGql::PendingPayment => Self::PendingPayment,
            EnrolmentStatusGql::Active => Self::Active,
            EnrolmentStatusGql::Completed => Self::Completed,
            EnrolmentStatusGql::Withdrawn => Self::Withdrawn,
            EnrolmentStatusGql::Rejected => Self::Rejected,
        }
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(name = "EnrolmentSource")]
pub enum SourceGql {
    /// By HR or an admin.
    Assigned,
    /// By the learner.
    SelfEnrolled,
    /// By a CSV import.
    Import,
}

impl From<Source> for SourceGql {
    fn from(s: Source) -> Self {
        match s {
            Source::Assigned => Self::Assigned,
            Source::SelfEnrolled => Self::SelfEnrolled,
            Source::Import => Self::Import,
        }
    }
}

#[derive(SimpleObject, Clone, Copy)]
#[graphql(name = "Progress")]
pub struct ProgressGql {
    pub required_done: i64,
    pub required_total: i64,
    /// Whole percent of the required modules completed.
    pub percent: i64,
}

impl From<Progress> for ProgressGql {
    fn from(p: Progress) -> Self {
        Self {
            required_done: p.required_done,
            required_total: p.required_total,
            percent: p.percent(),
        }
    }
}

/// One step of an enrolment's history.
#[derive(async_graphql::SimpleObject, Clone)]
#[graphql(name = "EnrolmentEvent")]
pub struct EnrolmentEventGql {
    /// `requested`, `approved`, `rejected`, `withdrawn`, `completed`,
    /// `voided_after_completion`, ... (lower case, as recorded).
    pub kind: String,
    pub at: chrono::DateTime<chrono::Utc>,
    /// The person who did it, when a person did (null for the LRS and jobs).
    pub actor_id: Option<ID>,
    pub note: Option<String>,
}

#[derive(Clone)]
pub struct EnrolmentGql {
    pub enrolment: Enrolment,
    pub person: Option<PersonGql>,
    pub edition: Option<EditionGql>,
    pub progress: Progress,
}

#[Object(name = "Enrolment")]
impl EnrolmentGql {
    async fn id(&self) -> ID {
        ID(self.enrolment.id.to_string())
    }
    async fn status(&self) -> EnrolmentStatusGql {
        self.enrolment.status.into()
    }
    async fn source(&self) -> SourceGql {
        self.enrolment.source.into()
    }
    async fn due_on(&self) -> Option<chrono::NaiveDate> {
        self.enrolment.due_on
    }
    async fn created_at(&self) -> chrono::DateTime<chrono::Utc> {
        self.enrolment.created_at
    }
    async fn completed_at(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.enrolment.completed_at
    }
    /// The xAPI registration (a UUID) an LMS puts in `context.registration`, as a cmi5 launch
    /// does, to name this enrolment in its statements.
    async fn registration(&self) -> uuid::Uuid {
        self.enrolment.id.uuid()
    }
    /// The enrolment's history, oldest first: requested, approved, completed, a statement
    /// voided after completion, ...
    async fn events(&self, ctx: &async_graphql::Context<'_>) -> ApiResult<Vec<EnrolmentEventGql>> {
        let tx = crate::scope::of(ctx).tx().await?;
        Ok(enrolments::history(&tx, self.enrolment.id)
            .await?
            .into_iter()
            .map(|e| EnrolmentEventGql {
                kind: e.kind,
                at: e.at,
                actor_id: e.actor.map(|p| ID(p.to_string())),
                note: e.note,
            })
            .collect())
    }
    /// The mean of the best scores (0–100) on the required modules; null until one is scored.
    async fn grade(&self) -> Option<f64> {
        self.enrolment.grade
    }
    async fn person(&self) -> Option<&PersonGql> {
        self.person.as_ref()
    }
    async fn edition(&self) -> Option<&EditionGql> {
        self.edition.as_ref()
    }
    async fn progress(&self) -> ProgressGql {
        self.progress.into()
    }
    /// What the learner pays themselves, when vouchers and their company leave them something
    /// (null otherwise).
    async fn payment(
        &self,
        ctx: &async_graphql::Context<'_>,
    ) -> ApiResult<Option<super::enrolment_payment::EnrolmentPaymentGql>> {
        super::enrolment_payment::of(ctx, self.enrolment.id).await
    }
    /// Who pays the seat of a priced edition: vouchers' funders, the company, the learner
    /// (VAT included). The learner and their HR read it; others read an empty list.
    async fn funding(
        &self,
        ctx: &async_graphql::Context<'_>,
    ) -> crate::error::ApiResult<Vec<super::funding_share::FundingShareGql>> {
        super::funding_share::funding_of(ctx, &self.enrolment).await
    }
}

/// Which parts of an enrolment a query selects: only those are loaded.
#[derive(Clone, Copy)]
pub struct Wants {
    pub person: bool,
    pub edition: bool,
    /// The edition's related rows; its `visibility` kind needs none.
    pub edition_parts: editions::Parts,
    pub course_skills: bool,
    pub progress: bool,
}

impl Wants {
    pub const ALL: Wants = Wants {
        person: true,
        edition: true,
        edition_parts: editions::Parts::ALL,
        course_skills: true,
        progress: true,
    };

    /// From the selection under a connection's `edges { node { .. } }`.
    pub fn of_connection(ctx: &async_graphql::Context<'_>) -> Self {
        let node = ctx.look_ahead().field("edges").field("node");
        let edition = node.field("edition");
        Wants {
            person: node.field("person").exists(),
            edition: edition.exists(),
            edition_parts: editions::Parts {
                visibility: edition.field("visibleTo").exists(),
                modules: edition.field("modules").exists(),
            },
            course_skills: edition.field("course").field("skills").exists(),
            progress: node.field("progress").exists(),
        }
    }
}

/// Loads what a page of enrolments shows: people, editions, courses and progress, each in one
/// batch and only when selected.
pub async fn hydrate(
    tx: &TenantTx,
    page: Vec<Enrolment>,
    wants: Wants,
) -> ApiResult<Vec<EnrolmentGql>> {
    let mut persons: HashMap<_, _> = if wants.person {
        let ids: Vec<_> = page.iter().map(|e| e.person).collect();
        people::many(tx, &ids)
            .await?
            .into_iter()
            .map(|p| (p.id, p))
            .collect()
    } else {
        HashMap::new()
    };
    let eds = if wants.edition {
        let ids: Vec<_> = page.iter().map(|e| e.edition).collect();
        editions::many_with_courses(tx, &ids, wants.edition_parts, wants.course_skills).await?
    } else {
        HashMap::new()
    };
    // Pages read their progress with them; single enrolments (from mutations) read it here.
    let mut progress = if wants.progress && page.iter().any(|e| e.progress.is_none()) {
        enrolments::progress(tx, &page).await?
    } else {
        HashMap::new()
    };
    Ok(page
        .into_iter()
        .map(|e| {
            let edition = eds.get(&e.edition).map(|(edition, course)| EditionGql {
                edition: edition.clone(),
                course: course.clone(),
            });
            EnrolmentGql {
                person: persons.remove(&e.person).map(PersonGql),
                edition,
                progress: e
                    .progress
                    .or_else(|| progress.remove(&e.id))
                    .unwrap_or_default(),
                enrolment: e,
            }
        })
        .collect())
}

/// A page of enrolments as a connection, with the parts the query selects loaded.
pub async fn enrolment_connection(
    tx: &TenantTx,
    p: Page<Enrolment>,
    wants: Wants,
    req: PageRequest,
) -> ApiResult<Connection<String, EnrolmentGql, EmptyFields, EmptyFields>> {
    let has_next_page = p.has_next_page;
    let items = hydrate(tx, p.items, wants).await?;
    Ok(super::connection(
        Page {
            items,
            has_next_page,
        },
        |e| e.enrolment.id.uuid(),
        req.after.is_some(),
    ))
}
