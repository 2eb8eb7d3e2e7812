use async_graphql::{Context, ID, InputObject, Object};
use spaces_tenants::LrsCredentialId;
use spaces_tenants::progress::credentials::{self, NewCredential};

use crate::error::{ApiResult, parse_id};
use crate::types::lrs::{CreatedLrsCredentialGql, LrsCredentialGql, LrsScopeGql};

#[derive(InputObject)]
pub struct CreateLrsCredentialInput {
    /// What the credential is for (the platform's name).
    pub name: String,
    /// At least one.
    pub scopes: Vec<LrsScopeGql>,
}

#[derive(Default)]
pub struct LrsMutation;

#[Object]
impl LrsMutation {
    /// Tenant admins: a new LRS credential. The answer holds its secret, once.
    async fn create_lrs_credential(
        &self,
        ctx: &Context<'_>,
        input: CreateLrsCredentialInput,
    ) -> ApiResult<CreatedLrsCredentialGql> {
        let scope = crate::scope::of(ctx);
        let who = scope.require_person()?;
        let new = NewCredential {
            name: input.name,
            scopes: input.scopes.into_iter().map(Into::into).collect(),
        };
        let issued = scope
            .atomic(async |tx| Ok(credentials::create(tx, who, new).await?))
            .await?;
        Ok(CreatedLrsCredentialGql {
            credential: LrsCredentialGql(issued.credential),
            secret: issued.secret,
        })
    }

    /// Tenant admins: revokes an LRS credential at once; revoking it again changes nothing.
    async fn revoke_lrs_credential(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> ApiResult<LrsCredentialGql> {
        let scope = crate::scope::of(ctx);
        let who = scope.require_person()?;
        let id: LrsCredentialId = parse_id("id", &id)?;
        scope
            .atomic(async |tx| Ok(LrsCredentialGql(credentials::revoke(tx, who, id).await?)))
            .await
    }
}
