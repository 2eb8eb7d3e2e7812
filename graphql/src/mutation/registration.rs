//! Self-registration: a tenant admin opens it (to everyone or to listed email domains), a
//! learner registers with an email and confirms through the link it receives.

use async_graphql::{Context, Enum, InputObject, Object, SimpleObject};
use spaces_tenants::auth::registration::{self, Mode, NewRegistration, Pages, Settings};
use spaces_tenants::spaces::SpaceStatus;
use spaces_tenants::values::Password;

use crate::error::{ApiError, ApiResult};
use crate::scope::RequestScope;
use crate::types::session::Session;

/// Who may sign themselves up in a space.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(name = "SelfRegistrationMode")]
pub enum ModeGql {
    /// Nobody (the default).
    Off,
    /// Anyone with an email address.
    Open,
    /// Only email addresses of the listed domains.
    Domains,
}

impl From<Mode> for ModeGql {
    fn from(m: Mode) -> Self {
        match m {
            Mode::Off => Self::Off,
            Mode::Open => Self::Open,
            Mode::Domains => Self::Domains,
        }
    }
}

impl From<ModeGql> for Mode {
    fn from(m: ModeGql) -> Self {
        match m {
            ModeGql::Off => Self::Off,
            ModeGql::Open => Self::Open,
            ModeGql::Domains => Self::Domains,
        }
    }
}

/// A space's self-registration setting.
#[derive(SimpleObject)]
#[graphql(name = "SelfRegistration")]
pub struct SelfRegistrationGql {
    pub mode: ModeGql,
    /// The email domains admitted in the DOMAINS mode; shown to the space's tenant admins and
    /// platform operators only (null for everyone else).
    pub domains: Option<Vec<String>>,
}

impl SelfRegistrationGql {
    pub fn of(s: Settings, show_domains: bool) -> Self {
        Self {
            mode: s.mode.into(),
            domains: show_domains.then_some(s.domains),
        }
    }
}

/// The setting of the request's space, as `Space.selfRegistration` shows it.
pub(crate) async fn setting(scope: &RequestScope) -> ApiResult<SelfRegistrationGql> {
    let tx = scope.tx().await?;
    let s = registration::settings(&tx).await?;
    let admin = scope.principal.is_tenant_admin() || scope.principal.is_operator();
    Ok(SelfRegistrationGql::of(s, admin))
}

#[derive(InputObject)]
pub struct SelfRegistrationInput {
    pub mode: ModeGql,
    /// Email domains (such as `durand.fr`), for the DOMAINS mode only.
    #[graphql(default)]
    pub domains: Vec<String>,
}

#[derive(InputObject)]
pub struct RegisterInput {
    pub email: String,
    pub given_name: String,
    pub family_name: String,
}

#[derive(InputObject)]
pub struct ConfirmRegistrationInput {
    /// The token from the confirmation link.
    pub token: String,
    /// 12 to 256 characters.
    pub password: String,
}

fn active_space(scope: &RequestScope) -> ApiResult<&spaces_tenants::spaces::Space> {
    let space = scope.space()?;
    if space.status == SpaceStatus::Suspended {
        return Err(ApiError::forbidden("this space is suspended"));
    }
    Ok(space)
}

#[derive(Default)]
pub struct RegistrationMutation;

#[Object]
impl RegistrationMutation {
    /// A tenant admin sets who may sign themselves up: OFF (the default), OPEN, or DOMAINS
    /// with the email domains admitted. Bad input is BAD_USER_INPUT on `domains`.
    async fn set_self_registration(
        &self,
        ctx: &Context<'_>,
        input: SelfRegistrationInput,
    ) -> ApiResult<SelfRegistrationGql> {
        let scope = crate::scope::of(ctx);
        let who = &scope.principal;
        if matches!(who, spaces_tenants::Principal::Anonymous) {
            return Err(ApiError::unauthenticated("sign in to this space first"));
        }
        scope.space()?;
        let now = scope.deps.clock.now();
        scope
            .atomic(async |tx| {
                let s = registration::set(tx, who, now, input.mode.into(), &input.domains).await?;
                Ok(SelfRegistrationGql::of(s, true))
            })
            .await
    }

    /// Registers in this space (no sign-in needed). REGISTRATION_CLOSED when the space takes no
    /// self-registrations, EMAIL_DOMAIN_NOT_ALLOWED when the email's domain is not admitted;
    /// otherwise `true`, the same whether or not the email has an account here: the email tells
    /// its owner (a confirmation link, valid 24 hours, or a reminder that they have an account).
    /// Limited per email and per client address (RATE_LIMITED with Retry-After).
    async fn register(&self, ctx: &Context<'_>, input: RegisterInput) -> ApiResult<bool> {
        let scope = crate::scope::of(ctx);
        let space = active_space(scope)?;
        let d = &scope.deps;
        let (confirm_url, forgot_url) = (d.confirm_url(&space.slug), d.forgot_url(&space.slug));
        let now = d.clock.now();
        scope
            .atomic(async |tx| {
                registration::register(
                    tx,
                    d.limiter.as_ref(),
                    now,
                    NewRegistration {
                        email: &input.email,
                        given_name: &input.given_name,
                        family_name: &input.family_name,
                    },
                    &scope.client,
                    Pages {
                        confirm_url: &confirm_url,
                        forgot_url: &forgot_url,
                    },
                )
                .await?;
                Ok(true)
            })
            .await
    }

    /// Confirms a registration by choosing a password: the person is created, active, as a
    /// learner of the space's independent learners, and signed in. A used, expired or unknown
    /// token is BAD_USER_INPUT on `token` (the reason says which); an email that got an
    /// account meanwhile is CONFLICT on `email`. Must be alone in its request.
    async fn confirm_registration(
        &self,
        ctx: &Context<'_>,
        input: ConfirmRegistrationInput,
    ) -> ApiResult<Session> {
        let scope = crate::scope::of(ctx);
        active_space(scope)?;
        let pw = Password::parse("password", &input.password)?;
        let now = scope.deps.clock.now();
        let alone = scope.alone("confirmRegistration").await?;
        let s = registration::confirm(&alone.auth()?, now, &input.token, pw).await?;
        super::auth::session(&*scope.tx().await?, s).await
    }
}
