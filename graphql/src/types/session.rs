use async_graphql::{ID, SimpleObject};
use chrono::{DateTime, Utc};

use super::person::PersonGql;

/// Tokens for a signed-in person. Send the access token as `Authorization: Bearer ..`; exchange
/// the refresh token (once) for new tokens before the access token expires.
#[derive(SimpleObject)]
pub struct Session {
    pub access_token: String,
    pub access_token_expires_at: DateTime<Utc>,
    pub refresh_token: String,
    pub refresh_token_expires_at: DateTime<Utc>,
    pub person: PersonGql,
}

/// A platform operator's access token (no refresh: operators sign in again).
#[derive(SimpleObject)]
pub struct OperatorSession {
    pub operator_id: ID,
    pub access_token: String,
    pub access_token_expires_at: DateTime<Utc>,
}
