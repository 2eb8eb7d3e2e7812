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
        let tx = scope.tx().await?;
        let d = &scope.deps;
        let s = signin::sign_in(
            &tx,
            &d.keys,
            d.limiter.as_ref(),
            &input.email,
            &input.password,
            &scope.client,
            d.refresh_ttl,
        )
        .await?;
        session(&tx, s).await
    }

    /// Exchanges a refresh token for new tokens; each refresh token works once. Presenting
    /// one that was already used ends every session descended from the same sign-in.
    async fn refresh_session(
        &self,
        ctx: &Context<'_>,
        refresh_token: String,
    ) -> ApiResult<Session> {
        let scope = crate::scope::of(ctx);
        let space = active_space(scope)?;
        let d = &scope.deps;
        // Its own transaction: a refused reuse must still commit the family's revocation.
        let tx = TenantTx::begin(&d.db, space.id).await?;
        let outcome = signin::refresh(&tx, &d.keys, &refresh_token, d.refresh_ttl).await;
        match outcome {
            Ok(Ok(s)) => {
                let out = session(&tx, s).await;
                tx.commit().await?;
                out
            }
            Ok(Err(refused)) => {
                tx.commit().await?;
                Err(refused.into())
            }
            Err(fault) => {
                let _ = tx.rollback().await;
                Err(fault.into())
            }
        }
    }

    /// Ends the session the refresh token belongs to.
    async fn sign_out(&self, ctx: &Context<'_>, refresh_token: String) -> ApiResult<bool> {
        let scope = crate::scope::of(ctx);
        let who = scope.require_person()?;
        let (_, me) = who.person().ok_or_else(ApiError::internal)?;
        let tx = scope.tx().await?;
        Ok(spaces_tenants::auth::sessions::sign_out(&tx, me, &refresh_token).await?)
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
        let tx = scope.tx().await?;
        signin::change_password(&tx, me, &input.current_password, new).await?;
        Ok(true)
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
        let tx = scope.tx().await?;
        let person = invitations::accept(&tx, &input.token, pw).await?;
        let d = &scope.deps;
        let s = signin::issue(&tx, &d.keys, person, d.refresh_ttl).await?;
        session(&tx, s).await
    }
}
