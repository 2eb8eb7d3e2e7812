use async_graphql::{Context, ID, InputObject, Object};
use spaces_tenants::TenantId;
use spaces_tenants::spaces::{self, BrandingInput, NewSpace, SpaceStatus, SpaceUpdate, operators};

use crate::error::{ApiResult, parse_id};
use crate::scope::RequestScope;
use crate::types::session::OperatorSession;
use crate::types::space::{LocaleGql, Tenant};

#[derive(Default)]
pub struct PlatformMutation;

#[derive(InputObject, Default)]
pub struct BrandingFields {
    /// An https:// URL; an empty string clears it.
    pub logo_url: Option<String>,
    /// `#rrggbb`; an empty string clears it.
    pub primary_colour: Option<String>,
    /// `#rrggbb`; an empty string clears it.
    pub accent_colour: Option<String>,
    /// An empty string clears it.
    pub support_email: Option<String>,
}

pub(super) fn branding(b: Option<BrandingFields>) -> BrandingInput {
    {
        let b = b.unwrap_or_default();
        BrandingInput {
            logo_url: b.logo_url,
            primary_colour: b.primary_colour,
            accent_colour: b.accent_colour,
            support_email: b.support_email,
        }
    }
}

#[derive(InputObject)]
pub struct FirstAdminInput {
    pub email: String,
    pub given_name: String,
    pub family_name: String,
}

#[derive(InputObject)]
pub struct CreateTenantInput {
    /// 2 to 63 lower-case letters, digits or hyphens: `<slug>.<base domain>` and `X-Tenant`.
    pub slug: String,
    pub display_name: String,
    /// Custom domains such as `campus.ocapiat.fr`.
    #[graphql(default)]
    pub domains: Vec<String>,
    pub branding: Option<BrandingFields>,
    /// The language of the space's pages and messages; English when not given.
    pub locale: Option<LocaleGql>,
    /// Invited by email; chooses a password on acceptance.
    pub first_admin: FirstAdminInput,
}

#[derive(InputObject)]
pub struct UpdateTenantInput {
    pub display_name: Option<String>,
    /// Replaces the list when given.
    pub domains: Option<Vec<String>>,
    pub branding: Option<BrandingFields>,
    pub locale: Option<LocaleGql>,
}

#[derive(InputObject)]
pub struct OperatorSignInInput {
    pub email: String,
    pub password: String,
}

async fn tenant(scope: &RequestScope, space: spaces::Space) -> ApiResult<Tenant> {
    let domains = spaces::domains_of(scope.platform_db().await?, space.id).await?;
    Ok(Tenant { space, domains })
}

#[Object]
impl PlatformMutation {
    /// Signs a platform operator in (outside every space).
    async fn operator_sign_in(
        &self,
        ctx: &Context<'_>,
        input: OperatorSignInInput,
    ) -> ApiResult<OperatorSession> {
        let scope = crate::scope::of(ctx);
        let d = &scope.deps;
        let (id, token, exp) = operators::sign_in(
            scope.platform_db().await?,
            &d.hasher,
            &d.keys,
            d.limiter.as_ref(),
            &input.email,
            &input.password,
            &scope.client,
        )
        .await?;
        Ok(OperatorSession {
            operator_id: ID(id.to_string()),
            access_token: token,
            access_token_expires_at: exp,
        })
    }

    /// Creates a tenant space with its root organisation and first admin, who is invited.
    async fn create_tenant(
        &self,
        ctx: &Context<'_>,
        input: CreateTenantInput,
    ) -> ApiResult<Tenant> {
        let scope = crate::scope::of(ctx);
        scope.require_operator()?;
        let d = scope.deps.clone();
        let created = spaces::create(
            scope.platform_db().await?,
            NewSpace {
                slug: input.slug,
                display_name: input.display_name,
                domains: input.domains,
                branding: branding(input.branding),
                locale: input.locale.map(LocaleGql::code),
                admin_email: input.first_admin.email,
                admin_given_name: input.first_admin.given_name,
                admin_family_name: input.first_admin.family_name,
            },
            &d.accept_url("{slug}"),
        )
        .await?;
        Ok(Tenant {
            space: created.space,
            domains: created.domains,
        })
    }

    async fn update_tenant(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateTenantInput,
    ) -> ApiResult<Tenant> {
        let scope = crate::scope::of(ctx);
        scope.require_operator()?;
        let id: TenantId = parse_id("id", &id)?;
        let up = SpaceUpdate {
            display_name: input.display_name,
            domains: input.domains,
            branding: branding(input.branding),
            locale: input.locale.map(LocaleGql::code),
        };
        let space = spaces::update(scope.platform_db().await?, id, up).await?;
        scope.deps.spaces.forget_all();
        tenant(scope, space).await
    }

    /// Refuses sign-in and every authenticated call in the space; deletes nothing.
    async fn suspend_tenant(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Tenant> {
        let scope = crate::scope::of(ctx);
        scope.require_operator()?;
        let id: TenantId = parse_id("id", &id)?;
        let space =
            spaces::set_status(scope.platform_db().await?, id, SpaceStatus::Suspended).await?;
        scope.deps.spaces.forget_all();
        tenant(scope, space).await
    }

    async fn reactivate_tenant(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Tenant> {
        let scope = crate::scope::of(ctx);
        scope.require_operator()?;
        let id: TenantId = parse_id("id", &id)?;
        let space = spaces::set_status(scope.platform_db().await?, id, SpaceStatus::Active).await?;
        scope.deps.spaces.forget_all();
        tenant(scope, space).await
    }
}
