//! Progress written through GraphQL by a platform without xAPI: a machine authenticated with an
//! LRS credential (write scope) reports a module completed, passed or failed, with a score.
//! It becomes an xAPI statement stored through the LRS's own path, so it is voidable, readable
//! at `/xapi/statements`, and moves progress by exactly the same rules.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, QueryFilter};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::editions::entity::module;
use crate::enrolments::EnrolmentStatus;
use crate::enrolments::entity::enrolment;
use crate::people::entity::person;
use crate::{EnrolmentId, Error, ModuleId, Result, TenantTx};

use super::credentials::{Credential, Scope};
use super::statements;

const VERBS: &str = "http://adlnet.gov/expapi/verbs/";

/// What the platform reports about one module of one enrolment.
#[derive(Clone, Debug)]
pub struct Report {
    pub enrolment: EnrolmentId,
    pub module: ModuleId,
    pub completed: bool,
    /// `Some(true)` passed, `Some(false)` failed.
    pub passed: Option<bool>,
    /// Scaled, -1 to 1 as xAPI has it (a percentage is `score / 100`).
    pub score: Option<f64>,
    /// The platform's own id for this report: sending it again changes nothing.
    pub statement_id: Option<Uuid>,
}

#[derive(Clone, Debug)]
pub struct Recorded {
    pub statement_id: Uuid,
    pub status: EnrolmentStatus,
    pub grade: Option<f64>,
    /// What the report moved, for live subscribers once the transaction commits.
    pub progressed: Vec<super::Progressed>,
}

pub async fn record(
    tx: &TenantTx,
    credential: &Credential,
    home: &str,
    now: DateTime<Utc>,
    r: Report,
) -> Result<Recorded> {
    if !credential.scopes.contains(&Scope::WriteStatements) {
        return Err(Error::Forbidden(
            "recording progress needs an LRS credential with the WRITE_STATEMENTS scope",
        ));
    }
    if let Some(s) = r.score
        && !(-1.0..=1.0).contains(&s)
    {
        return Err(Error::invalid("score", "must be between -1 and 1 (scaled)"));
    }
    if !r.completed && r.passed.is_none() && r.score.is_none() {
        return Err(Error::invalid(
            "completed",
            "report at least one of completed, passed or score",
        ));
    }
    let not_found = |field: &'static str| Error::NotFoundField {
        field: field.into(),
        reason: "no such id in this space".into(),
    };
    let e = tx
        .select::<enrolment::Entity>()
        .filter(enrolment::Column::Id.eq(r.enrolment.uuid()))
        .one()
        .await?
        .ok_or_else(|| not_found("enrolmentId"))?;
    let m = tx
        .select::<module::Entity>()
        .filter(module::Column::Id.eq(r.module.uuid()))
        .filter(module::Column::EditionId.eq(e.edition_id))
        .one()
        .await?
        .ok_or_else(|| not_found("moduleId"))?;
    let p = tx
        .select::<person::Entity>()
        .filter(person::Column::Id.eq(e.person_id))
        .one()
        .await?
        .ok_or(Error::NotFound)?;
    let verb = match (r.passed, r.completed) {
        (Some(true), _) => "passed",
        (Some(false), _) => "failed",
        (None, true) => "completed",
        (None, false) => "experienced",
    };
    let mut result = serde_json::Map::new();
    if r.completed {
        result.insert("completion".into(), Value::Bool(true));
    }
    if let Some(passed) = r.passed {
        result.insert("success".into(), Value::Bool(passed));
    }
    if let Some(s) = r.score {
        result.insert("score".into(), json!({ "scaled": s }));
    }
    let id = r.statement_id.unwrap_or_else(Uuid::now_v7);
    let statement = json!({
        "id": id.to_string(),
        "actor": { "objectType": "Agent", "mbox": format!("mailto:{}", p.email) },
        "verb": { "id": format!("{VERBS}{verb}"), "display": { "en": verb } },
        "object": { "objectType": "Activity", "id": m.activity_iri },
        "result": result,
        "context": { "registration": e.id.to_string() }
    });
    // Built here, but checked as any statement is: what the LRS stores is valid xAPI.
    spaces_xapi::statement::check(&statement).map_err(|x| Error::invalid(x.path, x.reason))?;
    let authority = statements::authority(home, credential);
    let (_, progressed) =
        statements::store(tx, credential, &authority, now, vec![statement]).await?;
    let e = tx
        .select::<enrolment::Entity>()
        .filter(enrolment::Column::Id.eq(r.enrolment.uuid()))
        .one()
        .await?
        .ok_or(Error::NotFound)?;
    Ok(Recorded {
        statement_id: id,
        status: EnrolmentStatus::from_db(&e.status)?,
        grade: e.grade,
        progressed,
    })
}
