//! An edition's rules changed (its modules, their `moveOn`, which are required, its minimum
//! score): the progress of its active enrolments is judged again by the new rules, in the
//! transaction that changed them. A module's recorded facts (completed, passed, best score) say
//! whether it is done now; an enrolment whose current required modules are all done completes,
//! as a statement would have completed it. Completed enrolments stay completed (completion is
//! final), and progress rows that record no facts (written before the LRS existed) are left as
//! they are.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, QueryFilter, Set};

use crate::editions::MoveOn;
use crate::editions::entity::{edition, module};
use crate::enrolments::entity::enrolment;
use crate::{EditionId, Result, TenantTx};

use super::Progressed;
use super::derive::{done, settle};
use super::entity::module_progress;

/// Judges the edition's active enrolments again; what moved, for live subscribers.
pub async fn edition_rules_changed(
    tx: &TenantTx,
    edition_id: EditionId,
    now: DateTime<Utc>,
) -> Result<Vec<Progressed>> {
    let Some(e) = tx
        .select::<edition::Entity>()
        .filter(edition::Column::Id.eq(edition_id.uuid()))
        .one()
        .await?
    else {
        return Ok(Vec::new());
    };
    let enrolments = tx
        .select::<enrolment::Entity>()
        .filter(enrolment::Column::EditionId.eq(e.id))
        .filter(enrolment::Column::Status.eq("active"))
        .all()
        .await?;
    if enrolments.is_empty() {
        return Ok(Vec::new());
    }
    let modules = tx
        .select::<module::Entity>()
        .filter(module::Column::EditionId.eq(e.id))
        .filter(module::Column::RetiredAt.is_null())
        .all()
        .await?;
    let rows = tx
        .select::<module_progress::Entity>()
        .filter(
            module_progress::Column::EnrolmentId
                .is_in(enrolments.iter().map(|e| e.id).collect::<Vec<_>>()),
        )
        .filter(
            module_progress::Column::ModuleId
                .is_in(modules.iter().map(|m| m.id).collect::<Vec<_>>()),
        )
        .all()
        .await?;
    let mut changed = std::collections::HashSet::new();
    for r in &rows {
        let Some(m) = modules.iter().find(|m| m.id == r.module_id) else {
            continue;
        };
        if !(r.completed || r.passed || r.failed || r.best_scaled.is_some()) {
            continue;
        }
        let is_done = done(
            MoveOn::from_db(&m.move_on)?,
            e.min_score,
            r.completed,
            r.passed,
            r.best_scaled,
        );
        if is_done == r.completed_at.is_some() {
            continue;
        }
        tx.update_many::<module_progress::Entity>()
            .set(module_progress::ActiveModel {
                completed_at: Set(is_done.then_some(now)),
                updated_at: Set(now),
                ..Default::default()
            })
            .filter(module_progress::Column::Id.eq(r.id))
            .exec()
            .await?;
        changed.insert(r.enrolment_id);
    }
    let mut moved = Vec::new();
    for en in &enrolments {
        let completed = settle(tx, en, now).await?;
        if completed || changed.contains(&en.id) {
            moved.push(Progressed::of(en, completed));
        }
    }
    Ok(moved)
}
