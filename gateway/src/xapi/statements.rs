//! `/xapi/statements`.

use axum::http::StatusCode;

use super::{Answer, XRequest};
use crate::app::AppState;
use crate::graphql_http::Refusal;

pub async fn handle(_state: &AppState, _x: XRequest) -> Answer {
    Err(Refusal::new(
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        "statements are not served yet",
    ))
}
