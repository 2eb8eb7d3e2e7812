//! Tenant spaces, managed by platform operators: slug, display name, domains, branding, status.
//! Tenants and domains are platform data; changes to one tenant run inside that tenant's
//! transaction, so its root organisation and first admin are written with it.

mod directory;
pub(crate) mod entity;
pub mod links;
pub mod operators;

pub use directory::Directory;
pub use links::Links;

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use crate::kernel::page::{Page, PageRequest, fetch};
use crate::people::NewPerson;
use crate::values::{Domain, Email, HexColour, HttpsUrl, Slug, name};
use crate::{Db, Error, Principal, Result, Role, TenantId, TenantTx, organisations, people};

use entity::{domain, tenant};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpaceStatus {
    Active,
    /// Refuses sign-in and every authenticated call; keeps every row.
    Suspended,
}

impl SpaceStatus {
    fn as_str(self) -> &'static str {
        match self {
            SpaceStatus::Active => "active",
            SpaceStatus::Suspended => "suspended",
        }
    }
}

/// The language of a space's pages and messages.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Locale {
    #[default]
    En,
    Fr,
}

impl Locale {
    pub fn as_str(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::Fr => "fr",
        }
    }

    pub fn parse(field: &'static str, raw: &str) -> Result<Self> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "en" => Ok(Locale::En),
            "fr" => Ok(Locale::Fr),
            _ => Err(Error::invalid(field, "must be en or fr")),
        }
    }

    fn from_db(s: &str) -> Self {
        if s == "fr" { Locale::Fr } else { Locale::En }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Branding {
    pub logo_url: Option<String>,
    pub primary_colour: Option<String>,
    pub accent_colour: Option<String>,
    pub support_email: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Space {
    pub id: TenantId,
    pub slug: String,
    pub display_name: String,
    pub status: SpaceStatus,
    pub branding: Branding,
    pub locale: Locale,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<tenant::Model> for Space {
    fn from(m: tenant::Model) -> Self {
        Self {
            id: TenantId::from_uuid(m.id),
            slug: m.slug,
            display_name: m.display_name,
            status: if m.status == "suspended" {
                SpaceStatus::Suspended
            } else {
                SpaceStatus::Active
            },
            branding: Branding {
                logo_url: m.logo_url,
                primary_colour: m.primary_colour,
                accent_colour: m.accent_colour,
                support_email: m.support_email,
            },
            locale: Locale::from_db(&m.locale),
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

/// Branding as typed; `None` fields are left as they are on update, empty strings clear them.
#[derive(Clone, Debug, Default)]
pub struct BrandingInput {
    pub logo_url: Option<String>,
    pub primary_colour: Option<String>,
    pub accent_colour: Option<String>,
    pub support_email: Option<String>,
}

/// A parsed optional field: not given, cleared, or set.
enum Change<T> {
    Keep,
    Clear,
    Set(T),
}

fn change<T>(raw: Option<&str>, parse: impl FnOnce(&str) -> Result<T>) -> Result<Change<T>> {
    match raw {
        None => Ok(Change::Keep),
        Some(s) if s.trim().is_empty() => Ok(Change::Clear),
        Some(s) => parse(s).map(Change::Set),
    }
}

struct ParsedBranding {
    logo_url: Change<String>,
    primary_colour: Change<String>,
    accent_colour: Change<String>,
    support_email: Change<String>,
}

impl BrandingInput {
    fn parse(&self) -> Result<ParsedBranding> {
        Ok(ParsedBranding {
            logo_url: change(self.logo_url.as_deref(), |s| {
                Ok(HttpsUrl::parse("branding.logoUrl", s)?.as_str().to_owned())
            })?,
            primary_colour: change(self.primary_colour.as_deref(), |s| {
                Ok(HexColour::parse("branding.primaryColour", s)?
                    .as_str()
                    .to_owned())
            })?,
            accent_colour: change(self.accent_colour.as_deref(), |s| {
                Ok(HexColour::parse("branding.accentColour", s)?
                    .as_str()
                    .to_owned())
            })?,
            support_email: change(self.support_email.as_deref(), |s| {
                Ok(Email::parse("branding.supportEmail", s)?
                    .as_str()
                    .to_owned())
            })?,
        })
    }
}

fn apply(field: &mut sea_orm::ActiveValue<Option<String>>, c: Change<String>) {
    match c {
        Change::Keep => {}
        Change::Clear => *field = Set(None),
        Change::Set(v) => *field = Set(Some(v)),
    }
}

pub struct NewSpace {
    pub slug: String,
    pub display_name: String,
    pub domains: Vec<String>,
    pub branding: BrandingInput,
    /// `en` (the default) or `fr`.
    pub locale: Option<String>,
    pub admin_email: String,
    pub admin_given_name: String,
    pub admin_family_name: String,
}

#[derive(Debug)]
pub struct CreatedSpace {
    pub space: Space,
    pub domains: Vec<String>,
    pub admin: people::Person,
    /// Shown once to the operator only when no mail is configured; otherwise it is in the outbox.
    pub invitation_token: String,
}

fn parse_domains(raw: &[String]) -> Result<Vec<Domain>> {
    if raw.len() > 20 {
        return Err(Error::invalid("domains", "at most 20 domains per space"));
    }
    let mut out: Vec<Domain> = Vec::with_capacity(raw.len());
    for d in raw {
        let d = Domain::parse("domains", d)?;
        if !out.contains(&d) {
            out.push(d);
        }
    }
    Ok(out)
}

/// Creates a space with its root organisation and first admin (invited), all or nothing.
/// `accept_url` may contain `{slug}`, replaced by the new space's slug.
pub async fn create(db: &Db, new: NewSpace, accept_url: &str) -> Result<CreatedSpace> {
    let slug = Slug::parse("slug", &new.slug)?;
    let display_name = name("displayName", &new.display_name, 200)?;
    let domains = parse_domains(&new.domains)?;
    let branding = new.branding.parse()?;
    let locale = new
        .locale
        .as_deref()
        .map(|l| Locale::parse("locale", l))
        .transpose()?
        .unwrap_or_default();
    let id = TenantId::new();
    let admin_org_placeholder = crate::OrganisationId::new();
    let admin = NewPerson::parse(
        &new.admin_email,
        &new.admin_given_name,
        &new.admin_family_name,
        admin_org_placeholder,
    )
    .map_err(|e| match e {
        Error::Invalid { field, reason } => Error::invalid(format!("admin.{field}"), reason),
        e => e,
    })?;
    let now = Utc::now();
    let tx = TenantTx::begin(db, id).await?;
    let mut am = tenant::ActiveModel {
        id: Set(id.uuid()),
        slug: Set(slug.as_str().to_owned()),
        display_name: Set(display_name.clone()),
        status: Set(SpaceStatus::Active.as_str().to_owned()),
        logo_url: Set(None),
        primary_colour: Set(None),
        accent_colour: Set(None),
        support_email: Set(None),
        locale: Set(locale.as_str().to_owned()),
        created_at: Set(now),
        updated_at: Set(now),
    };
    apply(&mut am.logo_url, branding.logo_url);
    apply(&mut am.primary_colour, branding.primary_colour);
    apply(&mut am.accent_colour, branding.accent_colour);
    apply(&mut am.support_email, branding.support_email);
    let m = am
        .insert(&tx.tx)
        .await
        .map_err(|e| Error::on_unique(e, "slug", "is already taken"))?;
    replace_domains(&tx, &domains).await?;
    let root = organisations::create_root(&tx, &display_name).await?;
    let admin = NewPerson {
        organisation: root.id,
        ..admin
    };
    let person = people::insert(&tx, &admin, None).await?;
    people::insert_grant(&tx, person.id, root.id, Role::TenantAdmin).await?;
    let token = crate::auth::invitations::create(
        &tx,
        &person,
        &accept_url.replace("{slug}", slug.as_str()),
    )
    .await?;
    tx.commit().await?;
    Ok(CreatedSpace {
        space: m.into(),
        domains: domains.iter().map(|d| d.as_str().to_owned()).collect(),
        admin: person,
        invitation_token: token,
    })
}

async fn replace_domains(tx: &TenantTx, domains: &[Domain]) -> Result<()> {
    tx.scoped_delete::<domain::Entity>().exec(&tx.tx).await?;
    let now = Utc::now();
    for d in domains {
        domain::ActiveModel {
            domain: Set(d.as_str().to_owned()),
            tenant_id: Set(tx.tenant_uuid()),
            created_at: Set(now),
        }
        .insert(&tx.tx)
        .await
        .map_err(|e| Error::on_unique(e, "domains", "a domain is already used by another space"))?;
    }
    Ok(())
}

#[derive(Default)]
pub struct SpaceUpdate {
    pub display_name: Option<String>,
    pub domains: Option<Vec<String>>,
    pub branding: BrandingInput,
    pub locale: Option<String>,
}

/// What a tenant admin may change about their own space: everything but its domains, which stay
/// with platform operators (a domain routes requests).
#[derive(Default)]
pub struct BrandingUpdate {
    pub display_name: Option<String>,
    pub branding: BrandingInput,
    pub locale: Option<String>,
}

struct ParsedLook {
    display_name: Option<String>,
    branding: ParsedBranding,
    locale: Option<Locale>,
}

fn parse_look(
    display_name: Option<&str>,
    branding: &BrandingInput,
    locale: Option<&str>,
) -> Result<ParsedLook> {
    Ok(ParsedLook {
        display_name: display_name
            .map(|s| name("displayName", s, 200))
            .transpose()?,
        branding: branding.parse()?,
        locale: locale.map(|l| Locale::parse("locale", l)).transpose()?,
    })
}

/// Writes name, branding and locale of the transaction's own tenant.
async fn write_look(tx: &TenantTx, look: ParsedLook) -> Result<Space> {
    let m = tenant::Entity::find_by_id(tx.tenant_uuid())
        .one(&tx.tx)
        .await?
        .ok_or(Error::NotFound)?;
    let mut am: tenant::ActiveModel = m.into();
    if let Some(n) = look.display_name {
        am.display_name = Set(n);
    }
    apply(&mut am.logo_url, look.branding.logo_url);
    apply(&mut am.primary_colour, look.branding.primary_colour);
    apply(&mut am.accent_colour, look.branding.accent_colour);
    apply(&mut am.support_email, look.branding.support_email);
    if let Some(l) = look.locale {
        am.locale = Set(l.as_str().to_owned());
    }
    am.updated_at = Set(Utc::now());
    Ok(am.update(&tx.tx).await?.into())
}

pub async fn update(db: &Db, id: TenantId, up: SpaceUpdate) -> Result<Space> {
    let look = parse_look(
        up.display_name.as_deref(),
        &up.branding,
        up.locale.as_deref(),
    )?;
    let domains = up.domains.as_deref().map(parse_domains).transpose()?;
    let tx = TenantTx::begin(db, id).await?;
    let space = write_look(&tx, look).await?;
    if let Some(d) = domains {
        replace_domains(&tx, &d).await?;
    }
    tx.commit().await?;
    Ok(space)
}

/// A tenant admin edits the name, branding, support contact and locale of their own space.
pub async fn update_branding(tx: &TenantTx, who: &Principal, up: BrandingUpdate) -> Result<Space> {
    if !who.is_tenant_admin() {
        return Err(Error::Forbidden(
            "only a tenant admin may change the space's branding",
        ));
    }
    let look = parse_look(
        up.display_name.as_deref(),
        &up.branding,
        up.locale.as_deref(),
    )?;
    write_look(tx, look).await
}

/// The transaction's own space (its slug names the space's invoice series).
pub async fn current(tx: &TenantTx) -> Result<Space> {
    Ok(tenant::Entity::find_by_id(tx.tenant_uuid())
        .one(&tx.tx)
        .await?
        .ok_or(Error::NotFound)?
        .into())
}

/// The host a space's links point to: its first custom domain, else `<slug>.<base domain>`.
pub async fn public_host(db: &Db, space: &Space, base_domain: &str) -> Result<String> {
    Ok(domains_of(db, space.id)
        .await?
        .into_iter()
        .next()
        .unwrap_or_else(|| format!("{}.{base_domain}", space.slug)))
}

pub async fn set_status(db: &Db, id: TenantId, status: SpaceStatus) -> Result<Space> {
    let m = tenant::Entity::find_by_id(id.uuid())
        .one(&db.conn)
        .await?
        .ok_or(Error::NotFound)?;
    let mut am: tenant::ActiveModel = m.into();
    am.status = Set(status.as_str().to_owned());
    am.updated_at = Set(Utc::now());
    Ok(am.update(&db.conn).await?.into())
}

pub async fn get(db: &Db, id: TenantId) -> Result<Space> {
    Ok(tenant::Entity::find_by_id(id.uuid())
        .one(&db.conn)
        .await?
        .ok_or(Error::NotFound)?
        .into())
}

pub async fn by_slug(db: &Db, slug: &str) -> Result<Option<Space>> {
    Ok(tenant::Entity::find()
        .filter(tenant::Column::Slug.eq(slug))
        .one(&db.conn)
        .await?
        .map(Space::from))
}

pub async fn by_domain(db: &Db, host: &str) -> Result<Option<Space>> {
    let Some(d) = domain::Entity::find_by_id(host.to_owned())
        .one(&db.conn)
        .await?
    else {
        return Ok(None);
    };
    Ok(tenant::Entity::find_by_id(d.tenant_id)
        .one(&db.conn)
        .await?
        .map(Space::from))
}

pub async fn domains_of(db: &Db, id: TenantId) -> Result<Vec<String>> {
    Ok(domain::Entity::find()
        .filter(domain::Column::TenantId.eq(id.uuid()))
        .order_by_asc(domain::Column::Domain)
        .all(&db.conn)
        .await?
        .into_iter()
        .map(|d| d.domain)
        .collect())
}

pub async fn list(db: &Db, page: PageRequest) -> Result<Page<Space>> {
    Ok(
        fetch(tenant::Entity::find(), tenant::Column::Id, page, &db.conn)
            .await?
            .map(Space::from),
    )
}
