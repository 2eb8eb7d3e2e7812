use async_graphql::{Enum, ID, Object, SimpleObject};
use spaces_tenants::spaces::{Locale, Space, SpaceStatus};

/// The language of a space's pages and messages.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(name = "Locale")]
pub enum LocaleGql {
    En,
    Fr,
}

impl From<Locale> for LocaleGql {
    fn from(l: Locale) -> Self {
        match l {
            Locale::En => Self::En,
            Locale::Fr => Self::Fr,
        }
    }
}

impl LocaleGql {
    pub fn code(self) -> String {
        match self {
            Self::En => "en",
            Self::Fr => "fr",
        }
        .to_owned()
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(name = "SpaceStatus")]
pub enum SpaceStatusGql {
    Active,
    Suspended,
}

impl From<SpaceStatus> for SpaceStatusGql {
    fn from(s: SpaceStatus) -> Self {
        match s {
            SpaceStatus::Active => Self::Active,
            SpaceStatus::Suspended => Self::Suspended,
        }
    }
}

#[derive(SimpleObject, Clone)]
pub struct Branding {
    pub logo_url: Option<String>,
    /// `#rrggbb`
    pub primary_colour: Option<String>,
    /// `#rrggbb`
    pub accent_colour: Option<String>,
    pub support_email: Option<String>,
}

fn branding(s: &Space) -> Branding {
    Branding {
        logo_url: s.branding.logo_url.clone(),
        primary_colour: s.branding.primary_colour.clone(),
        accent_colour: s.branding.accent_colour.clone(),
        support_email: s.branding.support_email.clone(),
    }
}

/// The public face of the space a request is addressed to: enough to render a sign-in page.
pub struct PublicSpace(pub Space);

#[Object(name = "Space")]
impl PublicSpace {
    async fn slug(&self) -> &str {
        &self.0.slug
    }
    async fn display_name(&self) -> &str {
        &self.0.display_name
    }
    async fn branding(&self) -> Branding {
        branding(&self.0)
    }
    /// A suspended space refuses sign-in.
    async fn status(&self) -> SpaceStatusGql {
        self.0.status.into()
    }
    /// The language of the space's pages and messages.
    async fn locale(&self) -> LocaleGql {
        self.0.locale.into()
    }
    /// Whether people may sign themselves up here (`register`); public, so a sign-in page can
    /// offer it. The admitted domains show to tenant admins only.
    async fn self_registration(
        &self,
        ctx: &async_graphql::Context<'_>,
    ) -> crate::error::ApiResult<crate::mutation::registration::SelfRegistrationGql> {
        crate::mutation::registration::setting(crate::scope::of(ctx)).await
    }
}

/// A tenant as platform operators manage it.
pub struct Tenant {
    pub space: Space,
    pub domains: Vec<String>,
}

#[Object]
impl Tenant {
    async fn id(&self) -> ID {
        ID(self.space.id.to_string())
    }
    async fn slug(&self) -> &str {
        &self.space.slug
    }
    async fn display_name(&self) -> &str {
        &self.space.display_name
    }
    async fn status(&self) -> SpaceStatusGql {
        self.space.status.into()
    }
    async fn branding(&self) -> Branding {
        branding(&self.space)
    }
    async fn locale(&self) -> LocaleGql {
        self.space.locale.into()
    }
    async fn domains(&self) -> &[String] {
        &self.domains
    }
    async fn created_at(&self) -> chrono::DateTime<chrono::Utc> {
        self.space.created_at
    }
    async fn updated_at(&self) -> chrono::DateTime<chrono::Utc> {
        self.space.updated_at
    }
}
