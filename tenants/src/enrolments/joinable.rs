//! The editions a person may join by themselves: what self-enrolment would admit, as a listing.
//! It lives here rather than in editions because it reads enrolments (editions must not).

use chrono::Utc;
use sea_orm::sea_query::{Condition, Expr, ExprTrait};
use sea_orm::{ColumnTrait, EntityTrait, JoinType, QueryFilter, QuerySelect, QueryTrait};

use super::SEAT_HOLDING;
use super::entity::enrolment;
use crate::editions::entity::edition;
use crate::editions::{self, Edition, EditionStatus, EnrolmentMode};
use crate::kernel::page::{Page, PageRequest};
use crate::{Error, PersonId, Principal, Result, TenantTx};

/// Editions the caller may join now by themselves (anyone, admins included), in creation order:
/// open and visible to them, in self-enrolment or on-approval mode, inside the enrolment window,
/// with a seat left, and not already enrolled or asked for (a withdrawn or rejected enrolment may
/// be asked again).
pub async fn joinable(
    tx: &TenantTx,
    who: &Principal,
    status: Option<EditionStatus>,
    page: PageRequest,
) -> Result<Page<Edition>> {
    if status.is_some_and(|s| s != EditionStatus::Open) {
        return Err(Error::invalid("status", "joinable editions are open ones"));
    }
    let Some((_, person)) = who.person() else {
        return Err(Error::Unauthenticated("sign in to this space first"));
    };
    let q = editions::open_and_visible(tx, person).await?;
    editions::page_of(tx, only_joinable(tx, q, person), page).await
}

fn only_joinable(
    tx: &TenantTx,
    q: sea_orm::Select<edition::Entity>,
    person: PersonId,
) -> sea_orm::Select<edition::Entity> {
    let now = Utc::now();
    let held = tx
        .scoped_select::<enrolment::Entity>()
        .select_only()
        .column(enrolment::Column::EditionId)
        .filter(enrolment::Column::PersonId.eq(person.uuid()))
        .filter(enrolment::Column::Status.is_in(SEAT_HOLDING.map(|s| s.as_str())))
        .into_query();
    // Editions whose seats are all held, as admission would count them.
    let full = tx
        .scoped_select::<enrolment::Entity>()
        .select_only()
        .column(enrolment::Column::EditionId)
        .join(
            JoinType::InnerJoin,
            enrolment::Entity::belongs_to(edition::Entity)
                .from(enrolment::Column::EditionId)
                .to(edition::Column::Id)
                .into(),
        )
        .filter(enrolment::Column::Status.is_in(SEAT_HOLDING.map(|s| s.as_str())))
        .filter(edition::Column::Capacity.is_not_null())
        .group_by(enrolment::Column::EditionId)
        .group_by(edition::Column::Capacity)
        .having(
            Expr::col((enrolment::Entity, enrolment::Column::Id))
                .count()
                .gte(Expr::col((edition::Entity, edition::Column::Capacity))),
        )
        .into_query();
    q.filter(edition::Column::EnrolmentMode.is_in([
        EnrolmentMode::SelfEnrolment.as_str(),
        EnrolmentMode::OnApproval.as_str(),
    ]))
    .filter(
        Condition::any()
            .add(edition::Column::EnrolOpensAt.is_null())
            .add(edition::Column::EnrolOpensAt.lte(now)),
    )
    .filter(
        Condition::any()
            .add(edition::Column::EnrolClosesAt.is_null())
            .add(edition::Column::EnrolClosesAt.gt(now)),
    )
    .filter(edition::Column::Id.not_in_subquery(held))
    .filter(edition::Column::Id.not_in_subquery(full))
}
