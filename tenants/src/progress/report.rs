//! The LRS report for a space's admins: statements the space could not turn into progress
//! (about an activity that is no module, or by an actor who is nobody here), and statements
//! voided after the enrolment they counted for had completed (completion stands).

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::enrolments::entity::event;
use crate::{EnrolmentId, Error, Principal, Result, TenantTx};

/// How many entries of each list the report shows, most frequent (or newest) first.
pub const REPORT_ROWS: u64 = 100;

#[derive(Clone, Debug)]
pub struct Unmatched {
    /// An activity IRI, or an actor's canonical identifier (`mbox:mailto:…`, `account:[…]`).
    pub value: String,
    pub statements: i64,
    pub last_seen_at: DateTime<Utc>,
}

#[derive(Clone, Debug)]
pub struct LateVoiding {
    pub enrolment: EnrolmentId,
    pub note: String,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug)]
pub struct Report {
    pub unknown_activities: Vec<Unmatched>,
    pub unknown_actors: Vec<Unmatched>,
    pub voided_after_completion: Vec<LateVoiding>,
}

pub async fn report(tx: &TenantTx, who: &Principal) -> Result<Report> {
    if !who.is_tenant_admin() {
        return Err(Error::Forbidden(
            "the LRS report needs the tenant admin role",
        ));
    }
    let list = |kind: &'static str| async move {
        let rows = tx
            .raw_all(
                "SELECT value, CAST(SUM(statements) AS BIGINT) AS statements, MAX(last_seen_at) AS last_seen_at \
                 FROM xapi_unmatched WHERE tenant_id = $1 AND kind = $2 \
                 GROUP BY value ORDER BY 2 DESC, value LIMIT 100",
                vec![tx.tenant_uuid().into(), kind.into()],
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(Unmatched {
                    value: r.try_get("", "value")?,
                    statements: r.try_get("", "statements")?,
                    last_seen_at: r.try_get("", "last_seen_at")?,
                })
            })
            .collect::<Result<Vec<_>>>()
    };
    let unknown_activities = list("activity").await?;
    let unknown_actors = list("actor").await?;
    let voided_after_completion = tx
        .select::<event::Entity>()
        .filter(event::Column::Kind.eq("voided_after_completion"))
        .order_by_desc(event::Column::At)
        .limit(REPORT_ROWS)
        .all()
        .await?
        .into_iter()
        .map(|e| LateVoiding {
            enrolment: EnrolmentId::from_uuid(e.enrolment_id),
            note: e.note.unwrap_or_default(),
            at: e.at,
        })
        .collect();
    Ok(Report {
        unknown_activities,
        unknown_actors,
        voided_after_completion,
    })
}
