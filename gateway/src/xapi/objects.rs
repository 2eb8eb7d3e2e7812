//! `/xapi/activities` and `/xapi/agents`: what the LRS knows of an activity (its definition,
//! merged from every statement that named it) and of an agent (a Person: its identifier and
//! the names it was sent with). Both answer for an unknown one too, with what the request told.

use axum::http::{Method, StatusCode};
use serde_json::json;
use spaces_tenants::TenantTx;
use spaces_tenants::progress::statements;

use super::params::{self, Params};
use super::statements::json_response;
use super::{Answer, XRequest};
use crate::app::AppState;
use crate::graphql_http::Refusal;

fn db(e: spaces_tenants::Error) -> Refusal {
    Refusal::from_api(e.into())
}

pub async fn activities(state: &AppState, mut x: XRequest) -> Answer {
    if !matches!(x.method, Method::GET | Method::HEAD) {
        return Err(params::method_not_allowed());
    }
    let iri = x.params.required("activityId")?;
    let iri = params::iri("activityId", iri)?;
    std::mem::take(&mut x.params).finish()?;
    let tx = TenantTx::begin(&state.deps.db, x.space.id)
        .await
        .map_err(db)?;
    let known = statements::activity(&tx, &iri).await.map_err(db)?;
    tx.rollback().await.map_err(db)?;
    let activity = known.unwrap_or_else(|| json!({ "objectType": "Activity", "id": iri }));
    Ok(json_response(StatusCode::OK, &activity))
}

pub async fn agents(state: &AppState, mut x: XRequest) -> Answer {
    if !matches!(x.method, Method::GET | Method::HEAD) {
        return Err(params::method_not_allowed());
    }
    let raw = x.params.required("agent")?;
    let actor = params::agent("agent", &raw)?;
    let rest: Params = std::mem::take(&mut x.params);
    rest.finish()?;
    // `params::agent` refuses an agent without an IFI, so this is always there.
    let Some(ifi) = actor.ifi else {
        return Err(Refusal::bad_request("agent: must be identified"));
    };
    let tx = TenantTx::begin(&state.deps.db, x.space.id)
        .await
        .map_err(db)?;
    let person = statements::person(&tx, &ifi).await.map_err(db)?;
    tx.rollback().await.map_err(db)?;
    Ok(json_response(StatusCode::OK, &person))
}
