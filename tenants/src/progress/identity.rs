//! The identity-verified fact an LMS reports with a statement (the extension
//! [`IDENTITY_VERIFIED_EXTENSION`]) on a passed or completed required module. Like module
//! progress, it stands only while a statement that reported it stands: voiding the last one, before
//! the certificate is signed, takes the fact away again. An admin's record is not the LMS's to
//! take back.

use serde_json::Value;
use uuid::Uuid;

use super::derive::{Fact, IDENTITY_VERIFIED_EXTENSION};
use crate::enrolments::entity::enrolment;
use crate::{EditionId, Result, TenantTx};
use sea_orm::{ColumnTrait, QueryFilter, Set};

/// Whether a statement reports an identity-verified assessment.
pub(super) fn reported(s: &Value) -> bool {
    let says = ["/context/extensions", "/result/extensions"]
        .iter()
        .any(|at| {
            s.pointer(at)
                .and_then(|x| x.get(IDENTITY_VERIFIED_EXTENSION))
                .and_then(Value::as_bool)
                == Some(true)
        });
    let fact = Fact::of(s);
    says && (fact.passed || fact.completed)
}

/// After a voiding: the enrolment keeps its LMS-reported fact only if a statement still standing
/// about one of its edition's required modules, by the learner (`agents`), reports it.
pub(super) async fn recheck(
    tx: &TenantTx,
    enrolment_id: Uuid,
    edition: Uuid,
    agents: &[String],
) -> Result<()> {
    for m in crate::editions::required_modules(tx, EditionId::from_uuid(edition)).await? {
        let standing = super::query::about(tx, &m.activity_iri, agents).await?;
        if standing.iter().any(reported) {
            return Ok(());
        }
    }
    tx.update_many::<enrolment::Entity>()
        .set(enrolment::ActiveModel {
            identity_verified_at: Set(None),
            identity_verified_source: Set(None),
            ..Default::default()
        })
        .filter(enrolment::Column::Id.eq(enrolment_id))
        .filter(enrolment::Column::IdentityVerifiedSource.eq("lms"))
        .exec()
        .await?;
    Ok(())
}
