//! LRS credentials as GraphQL shows them: never the secret's digest.

use async_graphql::{Enum, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use spaces_tenants::progress::credentials::{Credential, Scope};

/// What an LRS credential may do at the space's xAPI endpoint.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(name = "LrsScope")]
pub enum LrsScopeGql {
    /// Store statements (xAPI `statements/write`).
    WriteStatements,
    /// Read every statement and document of the space (xAPI `all/read`).
    ReadAll,
    /// Read the statements this credential stored (xAPI `statements/read/mine`).
    ReadOwn,
}

impl From<LrsScopeGql> for Scope {
    fn from(s: LrsScopeGql) -> Self {
        match s {
            LrsScopeGql::WriteStatements => Scope::WriteStatements,
            LrsScopeGql::ReadAll => Scope::ReadAll,
            LrsScopeGql::ReadOwn => Scope::ReadOwn,
        }
    }
}

impl From<Scope> for LrsScopeGql {
    fn from(s: Scope) -> Self {
        match s {
            Scope::WriteStatements => LrsScopeGql::WriteStatements,
            Scope::ReadAll => LrsScopeGql::ReadAll,
            Scope::ReadOwn => LrsScopeGql::ReadOwn,
        }
    }
}

/// A key and secret a learning platform sends, as HTTP Basic auth, to the space's `/xapi/`.
#[derive(Clone)]
pub struct LrsCredentialGql(pub Credential);

#[Object(name = "LrsCredential")]
impl LrsCredentialGql {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The Basic auth user name.
    async fn key(&self) -> &str {
        &self.0.key
    }
    async fn scopes(&self) -> Vec<LrsScopeGql> {
        self.0.scopes.iter().map(|s| (*s).into()).collect()
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// Set once the credential is revoked; the LRS refuses it from then on.
    async fn revoked_at(&self) -> Option<DateTime<Utc>> {
        self.0.revoked_at
    }
}

/// A new credential and its secret: the only answer that ever holds the secret.
#[derive(SimpleObject)]
#[graphql(name = "CreatedLrsCredential")]
pub struct CreatedLrsCredentialGql {
    pub credential: LrsCredentialGql,
    /// The Basic auth password. Shown once: only its digest is kept.
    pub secret: String,
}

/// Statements about an activity that is no module of the space, or by an actor who is nobody
/// in it: stored, counted, and moving no progress.
#[derive(SimpleObject, Clone)]
#[graphql(name = "LrsUnmatched")]
pub struct LrsUnmatchedGql {
    /// The activity IRI, or the actor's identifier (`mbox:mailto:…`, `mbox_sha1sum:…`,
    /// `openid:…`, `account:["homePage","name"]`).
    pub value: String,
    pub statements: i64,
    pub last_seen_at: DateTime<Utc>,
}

/// A statement voided after the enrolment it counted for had completed: completion stands.
#[derive(SimpleObject, Clone)]
#[graphql(name = "LrsLateVoiding")]
pub struct LrsLateVoidingGql {
    pub enrolment_id: ID,
    pub note: String,
    pub at: DateTime<Utc>,
}

/// What the LRS could not turn into progress, for the space's admins (at most 100 of each,
/// most frequent or newest first).
#[derive(SimpleObject, Clone)]
#[graphql(name = "LrsReport")]
pub struct LrsReportGql {
    pub unknown_activities: Vec<LrsUnmatchedGql>,
    pub unknown_actors: Vec<LrsUnmatchedGql>,
    pub voided_after_completion: Vec<LrsLateVoidingGql>,
}

impl From<spaces_tenants::progress::report::Report> for LrsReportGql {
    fn from(r: spaces_tenants::progress::report::Report) -> Self {
        let un = |v: Vec<spaces_tenants::progress::report::Unmatched>| {
            v.into_iter()
                .map(|u| LrsUnmatchedGql {
                    value: u.value,
                    statements: u.statements,
                    last_seen_at: u.last_seen_at,
                })
                .collect()
        };
        Self {
            unknown_activities: un(r.unknown_activities),
            unknown_actors: un(r.unknown_actors),
            voided_after_completion: r
                .voided_after_completion
                .into_iter()
                .map(|l| LrsLateVoidingGql {
                    enrolment_id: ID(l.enrolment.to_string()),
                    note: l.note,
                    at: l.at,
                })
                .collect(),
        }
    }
}
