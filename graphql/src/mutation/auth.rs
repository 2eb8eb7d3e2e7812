use async_graphql::{Context, InputObject, Object};
use spaces_tenants::auth::{invitations, signin};
use spaces_tenants::spaces::{Space, SpaceStatus};
use spaces_tenants::values::Password;
use spaces_tenants::{TenantTx, people};

use crate::error::{ApiError, ApiResult};
use crate::scope::RequestScope;
use crate::types::person::PersonGql;
use crate::types::session::Session;

#[derive(Default)]
pub struct AuthMutation;

#[derive(InputObject)]
pub struct SignInInput {
    pub email: String,
    pub password: String,
}

#[derive(InputObject)]
pub struct ChangePasswordInput {
    pub current_password: String,
    pub new_password: String,
}

#[derive(InputObject)]
pub struct AcceptInvitationInput {
    /// The token from the invitation link.
    pub token: String,
    /// 12 to 256 characters.
    pub password: String,
}

fn active_space(scope: &RequestScope) -> ApiResult<&Space> {
    let space = scope.space()?;
    if space.status == SpaceStatus::Suspended {
        return Err(ApiError::forbidden("this space is suspended"));
    }
    Ok(space)
}

async fn session(tx: &TenantTx, s: signin::SignedIn) -> ApiResult<Session> {
    // A person always sees themselves.
    let me = spaces_tenants::Principal::Person {
        tenant: tx.tenant(),
        person: s.person,
        grants: vec![],
    };
    let person = people::get(tx, &me, s.person).await?;
    Ok(Session {
        access_token: s.access_token,
        access_token_expires_at: s.access_expires_at,
        refresh_token: s.refresh_token,
        refresh_token_expires_at: s.refresh_expires_at,
        person: PersonGql(person),
    })
}

#[Object]
impl AuthMutation {
    /// Signs in to this space. An unknown email and a wrong password get the same answer;
    /// after 10 failures in 15 minutes for an account or an address, RATE_LIMITED.
    async fn sign_in(&self, ctx: &Context<'_>, input: SignInInput) -> ApiResult<Session> {
        let scope = crate::scope::of(ctx);
        active_space(scope)?;
        let d = &scope.deps;
        scope
            .atomic(async |tx| {
                let s = signin::sign_in(
                    tx,
                    &d.keys,
                    d.limiter.as_ref(),
                    &input.email,
                    &input.password,
                    &scope.client,
                    d.refresh_ttl,
                )
                .await?;
                session(tx, s).await
            })
            .await
    }

    /// Exchanges a refresh token for new tokens; each refresh token works once. Presenting
    /// one that was already used ends every session descended from the same sign-in.
    async fn refresh_session(
        &self,
        ctx: &Context<'_>,
        refresh_token: String,
    ) -> ApiResult<Session> {
        let scope = crate::scope::of(ctx);
        active_space(scope)?;
        let d = &scope.deps;
        // Not `atomic`: a refused reuse must still keep the family's revocation.
        let sp = scope.tx().await?.savepoint().await?;
        match signin::refresh(&sp, &d.keys, &refresh_token, d.refresh_ttl).await {
            Ok(Ok(s)) => {
                let out = session(&sp, s).await;
                sp.commit().await?;
                out
            }
            Ok(Err(refused)) => {
                sp.commit().await?;
                Err(refused.into())
            }
            Err(fault) => {
                sp.rollback().await?;
                Err(fault.into())
            }
        }
    }

    /// Ends the session the refresh token belongs to.
    async fn sign_out(&self, ctx: &Context<'_>, refresh_token: String) -> ApiResult<bool> {
        let scope = crate::scope::of(ctx);
        let who = scope.require_person()?;
        let (_, me) = who.person().ok_or_else(ApiError::internal)?;
        scope
            .atomic(async |tx| {
                Ok(spaces_tenants::auth::sessions::sign_out(tx, me, &refresh_token).await?)
            })
            .await
    }

    /// Changes the caller's password; every session of theirs ends, this one included.
    async fn change_password(
        &self,
        ctx: &Context<'_>,
        input: ChangePasswordInput,
    ) -> ApiResult<bool> {
        let scope = crate::scope::of(ctx);
        let who = scope.require_person()?;
        let (_, me) = who.person().ok_or_else(ApiError::internal)?;
        let new = Password::parse("newPassword", &input.new_password)?;
        scope
            .atomic(async |tx| {
                signin::change_password(
                    tx,
                    scope.deps.limiter.as_ref(),
                    me,
                    &input.current_password,
                    new,
                )
                .await?;
                Ok(true)
            })
            .await
    }

    /// Accepts an invitation by choosing a password, and signs in.
    async fn accept_invitation(
        &self,
        ctx: &Context<'_>,
        input: AcceptInvitationInput,
    ) -> ApiResult<Session> {
        let scope = crate::scope::of(ctx);
        active_space(scope)?;
        let pw = Password::parse("password", &input.password)?;
        scope
            .atomic(async |tx| {
                let person = invitations::accept(tx, &input.token, pw).await?;
                let d = &scope.deps;
                let s = signin::issue(tx, &d.keys, person, d.refresh_ttl).await?;
                session(tx, s).await
            })
            .await
    }
}
