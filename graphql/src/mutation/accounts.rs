//! Accounts: password reset, resending invitations, switching people off and on, and a space's
//! own branding.

use async_graphql::{Context, ID, InputObject, Object};
use spaces_tenants::PersonId;
use spaces_tenants::auth::{invitations, reset};
use spaces_tenants::people;
use spaces_tenants::spaces::{self, BrandingUpdate, SpaceStatus};
use spaces_tenants::values::Password;

use super::platform::{BrandingFields, branding};
use crate::error::{ApiError, ApiResult, parse_id};
use crate::scope::RequestScope;
use crate::types::person::PersonGql;
use crate::types::space::{LocaleGql, PublicSpace};

#[derive(Default)]
pub struct AccountsMutation;

#[derive(InputObject)]
pub struct ResetPasswordInput {
    /// The token from the reset link.
    pub token: String,
    /// 12 to 256 characters.
    pub password: String,
}

#[derive(InputObject)]
pub struct SpaceBrandingInput {
    pub display_name: Option<String>,
    pub branding: Option<BrandingFields>,
    pub locale: Option<LocaleGql>,
}

fn active_space(scope: &RequestScope) -> ApiResult<&spaces::Space> {
    let space = scope.space()?;
    if space.status == SpaceStatus::Suspended {
        return Err(ApiError::forbidden("this space is suspended"));
    }
    Ok(space)
}

#[Object]
impl AccountsMutation {
    /// Sends a link to choose a new password (single use, valid one hour) when the email has an
    /// active account here. Answers `true` either way, so it tells nothing about who has an
    /// account; limited per client address and per email (RATE_LIMITED).
    async fn request_password_reset(&self, ctx: &Context<'_>, email: String) -> ApiResult<bool> {
        let scope = crate::scope::of(ctx);
        let space = active_space(scope)?;
        let url = scope.deps.reset_url(&space.slug);
        scope
            .atomic(async |tx| {
                reset::request(tx, scope.deps.limiter.as_ref(), &email, &scope.client, &url)
                    .await?;
                Ok(true)
            })
            .await
    }

    /// Chooses a new password with the token of a reset link. Every session of the person ends
    /// and every access token they hold stops; an unknown, used or expired token is refused.
    async fn reset_password(
        &self,
        ctx: &Context<'_>,
        input: ResetPasswordInput,
    ) -> ApiResult<bool> {
        let scope = crate::scope::of(ctx);
        active_space(scope)?;
        let pw = Password::parse("password", &input.password)?;
        // Alone in its request: the request's transaction ends, the password hashes with none
        // open (an unknown token costs the same hash that a sign-in with an unknown email
        // does), then a short transaction claims the link.
        let alone = scope.alone("resetPassword").await?;
        let auth = alone.auth()?;
        let hash = auth.hasher.hash(pw).await?;
        let tx = auth.begin().await?;
        match reset::complete(&tx, &input.token, hash).await {
            Ok(_) => {
                tx.commit().await?;
                Ok(true)
            }
            Err(e) => {
                tx.rollback().await?;
                Err(e.into())
            }
        }
    }

    /// Sends a person who has not accepted their invitation a new one; the previous link stops
    /// working. Needs an admin role on the person's organisation.
    async fn resend_invitation(&self, ctx: &Context<'_>, person_id: ID) -> ApiResult<PersonGql> {
        let scope = crate::scope::of(ctx);
        let who = scope.require_person()?;
        let id: PersonId = parse_id("personId", &person_id)?;
        let url = scope.deps.accept_url(&scope.space()?.slug);
        scope
            .atomic(async |tx| {
                let (person, _token) = invitations::resend(tx, who, id, &url).await?;
                Ok(PersonGql(person))
            })
            .await
    }

    /// Switches a person of the caller's subtree off (a leaver): they cannot sign in and every
    /// token they hold stops on its next request. Enrolments and history stay.
    async fn disable_person(&self, ctx: &Context<'_>, id: ID) -> ApiResult<PersonGql> {
        set_enabled(ctx, id, false).await
    }

    /// Switches a disabled person on again; they sign in with their password (or accept a
    /// resent invitation if they never chose one).
    async fn enable_person(&self, ctx: &Context<'_>, id: ID) -> ApiResult<PersonGql> {
        set_enabled(ctx, id, true).await
    }

    /// A tenant admin changes their space's name, branding, support contact and locale.
    /// Domains stay with platform operators.
    async fn update_space_branding(
        &self,
        ctx: &Context<'_>,
        input: SpaceBrandingInput,
    ) -> ApiResult<PublicSpace> {
        let scope = crate::scope::of(ctx);
        let who = scope.require_person()?;
        let up = BrandingUpdate {
            display_name: input.display_name,
            branding: branding(input.branding),
            locale: input.locale.map(LocaleGql::code),
        };
        let space = scope
            .atomic(async |tx| Ok(spaces::update_branding(tx, who, up).await?))
            .await?;
        scope.deps.spaces.forget_all();
        Ok(PublicSpace(space))
    }
}

async fn set_enabled(ctx: &Context<'_>, id: ID, enabled: bool) -> ApiResult<PersonGql> {
    let scope = crate::scope::of(ctx);
    let who = scope.require_person()?;
    let id: PersonId = parse_id("id", &id)?;
    scope
        .atomic(async |tx| Ok(PersonGql(people::set_enabled(tx, who, id, enabled).await?)))
        .await
}
