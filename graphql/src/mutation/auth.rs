use async_graphql::{Context, InputObject, Object};
use spaces_tenants::auth::signin;
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

pub(super) async fn session(tx: &TenantTx, s: signin::SignedIn) -> ApiResult<Session> {
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
    /// Signs in to this space. An unknown email and a wrong password get the same answer.
    /// After 10 failures in 15 minutes for an account from one address, or 30 from one address
    /// over all accounts, RATE_LIMITED; an account failing from many addresses answers more
    /// slowly instead. Must be alone in its request; UNAVAILABLE when the server is too busy
    /// hashing passwords.
    async fn sign_in(&self, ctx: &Context<'_>, input: SignInInput) -> ApiResult<Session> {
        let scope = crate::scope::of(ctx);
        active_space(scope)?;
        let alone = scope.alone("signIn").await?;
        let s =
            signin::sign_in(&alone.auth()?, &input.email, &input.password, &scope.client).await?;
        // The session is read like any other answer, in the request's transaction.
        session(&*scope.tx().await?, s).await
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

    /// Changes the caller's password; every session of theirs ends, this one included. Must be
    /// alone in its request.
    async fn change_password(
        &self,
        ctx: &Context<'_>,
        input: ChangePasswordInput,
    ) -> ApiResult<bool> {
        let scope = crate::scope::of(ctx);
        let who = scope.require_person()?;
        let (_, me) = who.person().ok_or_else(ApiError::internal)?;
        let new = Password::parse("newPassword", &input.new_password)?;
        let alone = scope.alone("changePassword").await?;
        signin::change_password(&alone.auth()?, me, &input.current_password, new).await?;
        Ok(true)
    }

    /// Accepts an invitation by choosing a password, and signs in. Must be alone in its request.
    async fn accept_invitation(
        &self,
        ctx: &Context<'_>,
        input: AcceptInvitationInput,
    ) -> ApiResult<Session> {
        let scope = crate::scope::of(ctx);
        active_space(scope)?;
        let pw = Password::parse("password", &input.password)?;
        let alone = scope.alone("acceptInvitation").await?;
        let s = signin::accept_invitation(&alone.auth()?, &input.token, pw).await?;
        session(&*scope.tx().await?, s).await
    }
}
