//! Reading enrolments: the learner's own, an edition's, a person's, each page with its progress
//! in the same statement when asked.

use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, QueryFilter, QuerySelect};

use super::entity::enrolment;
use super::{Enrolment, EnrolmentStatus};
use crate::kernel::page::{Page, PageRequest, fetch, fetch_as};
use crate::kernel::principal::Need;
use crate::people;
use crate::{
    EditionId, EnrolmentId, Error, OrganisationId, PersonId, Principal, Result, TenantTx, editions,
    organisations,
};

/// Required current modules of the row's edition, and those of them the enrolment completed:
/// correlated to the page's `enrolments` row, so a page and its progress are one statement.
const REQUIRED_TOTAL: &str = "(SELECT COUNT(*) FROM edition_modules m \
     WHERE m.tenant_id = enrolments.tenant_id AND m.edition_id = enrolments.edition_id \
     AND m.required AND m.retired_at IS NULL)";
const REQUIRED_DONE: &str = "(SELECT COUNT(*) FROM module_progress p \
     JOIN edition_modules m ON m.tenant_id = p.tenant_id AND m.id = p.module_id \
     WHERE p.tenant_id = enrolments.tenant_id AND p.enrolment_id = enrolments.id \
     AND p.completed_at IS NOT NULL AND m.edition_id = enrolments.edition_id \
     AND m.required AND m.retired_at IS NULL)";

/// An enrolment row with its progress columns.
struct WithProgress(Enrolment);

impl sea_orm::FromQueryResult for WithProgress {
    fn from_query_result(
        row: &sea_orm::QueryResult,
        pre: &str,
    ) -> std::result::Result<Self, sea_orm::DbErr> {
        let mut e = Enrolment::try_from(enrolment::Model::from_query_result(row, pre)?)
            .map_err(|e| sea_orm::DbErr::Type(e.to_string()))?;
        e.progress = Some(Progress {
            required_done: row.try_get(pre, "required_done")?,
            required_total: row.try_get(pre, "required_total")?,
        });
        Ok(WithProgress(e))
    }
}

/// One page of `q` in id order, with each enrolment's progress in the same statement when asked.
async fn page_of(
    tx: &TenantTx,
    q: sea_orm::Select<enrolment::Entity>,
    page: PageRequest,
    with_progress: bool,
) -> Result<Page<Enrolment>> {
    if !with_progress {
        return fetch(q, enrolment::Column::Id, page, &tx.tx)
            .await?
            .try_map(Enrolment::try_from);
    }
    Ok(fetch_as::<_, WithProgress, _>(
        with_progress_columns(q),
        enrolment::Column::Id,
        page,
        &tx.tx,
    )
    .await?
    .map(|w| w.0))
}

fn with_progress_columns(
    q: sea_orm::Select<enrolment::Entity>,
) -> sea_orm::Select<enrolment::Entity> {
    q.column_as(Expr::cust(REQUIRED_TOTAL), "required_total")
        .column_as(Expr::cust(REQUIRED_DONE), "required_done")
}

/// The caller's own enrolments, oldest first.
pub async fn mine(
    tx: &TenantTx,
    who: &Principal,
    page: PageRequest,
    with_progress: bool,
) -> Result<Page<Enrolment>> {
    let me = who
        .person()
        .map(|(_, p)| p)
        .ok_or(Error::Unauthenticated("sign in first"))?;
    let q = tx
        .scoped_select::<enrolment::Entity>()
        .filter(enrolment::Column::PersonId.eq(me.uuid()));
    page_of(tx, q, page, with_progress).await
}

/// An edition's enrolments among the people the caller may read, oldest first.
pub async fn of_edition(
    tx: &TenantTx,
    who: &Principal,
    edition: EditionId,
    status: Option<EnrolmentStatus>,
    under: Option<OrganisationId>,
    page: PageRequest,
    with_progress: bool,
) -> Result<Page<Enrolment>> {
    editions::load(tx, edition)
        .await
        .map_err(|e| e.not_found_as("editionId", "no such edition"))?;
    let mut q = tx
        .scoped_select::<enrolment::Entity>()
        .filter(enrolment::Column::EditionId.eq(edition.uuid()));
    if let Some(s) = status {
        q = q.filter(enrolment::Column::Status.eq(s.as_str()));
    }
    // Only the people of `under`'s subtree when asked, always within what the caller reads.
    let asked = match under {
        Some(id) => Some(
            organisations::get(tx, who, id)
                .await
                .map_err(|e| e.not_found_as("organisationId", "no such organisation"))?
                .path,
        ),
        None => None,
    };
    let roots = match (who.readable_roots(), asked) {
        (Some(r), _) if r.is_empty() => {
            return Err(Error::Forbidden("this needs an HR or manager role"));
        }
        (_, Some(path)) if !who.may(Need::Read, &path) => {
            return Err(Error::not_found_field(
                "organisationId",
                "no such organisation",
            ));
        }
        (_, Some(path)) => Some(vec![path]),
        (r, None) => r,
    };
    if let Some(roots) = roots {
        q = q.filter(organisations::in_subtrees(
            "enrolments.tenant_id",
            "(SELECT p.organisation_id FROM people p WHERE p.tenant_id = enrolments.tenant_id AND p.id = enrolments.person_id)",
            &roots,
        ));
    }
    page_of(tx, q, page, with_progress).await
}

/// Progress toward completion: required modules completed, of those the edition requires now.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    pub required_done: i64,
    pub required_total: i64,
}

impl Progress {
    /// Whole percent, rounded down; 0 when nothing is required.
    pub fn percent(self) -> i64 {
        if self.required_total == 0 {
            0
        } else {
            self.required_done * 100 / self.required_total
        }
    }
}

/// Progress of enrolments read without it (one returned by a mutation), in one statement.
pub async fn progress(
    tx: &TenantTx,
    enrolments: &[Enrolment],
) -> Result<std::collections::HashMap<EnrolmentId, Progress>> {
    if enrolments.is_empty() {
        return Ok(std::collections::HashMap::new());
    }
    let q = tx
        .scoped_select::<enrolment::Entity>()
        .filter(enrolment::Column::Id.is_in(enrolments.iter().map(|e| e.id.uuid())));
    Ok(with_progress_columns(q)
        .into_model::<WithProgress>()
        .all(&tx.tx)
        .await?
        .into_iter()
        .filter_map(|w| w.0.progress.map(|p| (w.0.id, p)))
        .collect())
}

/// A person's enrolments, for themselves or for whoever may see them (HR, managers), oldest first.
pub async fn of_person(
    tx: &TenantTx,
    who: &Principal,
    person: PersonId,
    status: Option<EnrolmentStatus>,
    page: PageRequest,
    with_progress: bool,
) -> Result<Page<Enrolment>> {
    // The caller's own enrolments need no access check (nor its read).
    if who.person().map(|(_, p)| p) != Some(person) {
        people::get(tx, who, person).await?;
    }
    let mut q = tx
        .scoped_select::<enrolment::Entity>()
        .filter(enrolment::Column::PersonId.eq(person.uuid()));
    if let Some(s) = status {
        q = q.filter(enrolment::Column::Status.eq(s.as_str()));
    }
    page_of(tx, q, page, with_progress).await
}
