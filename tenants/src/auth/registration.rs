//! Self-registration: a space may let learners sign themselves up, openly or only with an email
//! of listed domains. Registering answers the same and does the same work whether or not the
//! email has an account: a registration row with a fresh token and one message are written
//! either way, and only the message differs (a confirmation link for a new address, "you already
//! have an account" for a known one). The link works once, for 24 hours; confirming it creates
//! the person, active, as a learner of the space's "independent learners" organisation (made
//! under the root on first use, with no billing account), and signs them in.
//!
//! Time comes from the caller's clock (`Clock`), so tests move past the expiry without waiting.

use chrono::{DateTime, Duration, Utc};
use sea_orm::Condition;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use sha2::{Digest, Sha256};

use super::limiter::{AttemptLimiter, WINDOW, address_group};
use super::secret;
use super::signin::{Auth, SignedIn, issue};
use crate::organisations::{self, OrgKind};
use crate::outbox::{self, MessageKind, Payload};
use crate::people::{self, NewPerson};
use crate::spaces::{self, Locale};
use crate::values::{Domain, Email, Password};
use crate::{Error, OrganisationId, PersonId, Principal, Result, Role, TenantTx};

pub(crate) mod entity {
    pub(crate) mod settings {
        use sea_orm::entity::prelude::*;

        #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
        #[sea_orm(table_name = "registration_settings")]
        pub struct Model {
            #[sea_orm(primary_key, auto_increment = false)]
            pub tenant_id: Uuid,
            #[sea_orm(primary_key, auto_increment = false)]
            pub id: Uuid,
            pub mode: String,
            pub domains: String,
            pub independent_organisation_id: Option<Uuid>,
            pub updated_at: DateTimeUtc,
        }

        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}

        impl ActiveModelBehavior for ActiveModel {}
    }

    pub(crate) mod registration {
        use sea_orm::entity::prelude::*;

        #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
        #[sea_orm(table_name = "registrations")]
        pub struct Model {
            #[sea_orm(primary_key, auto_increment = false)]
            pub tenant_id: Uuid,
            #[sea_orm(primary_key, auto_increment = false)]
            pub id: Uuid,
            pub email: String,
            pub given_name: String,
            pub family_name: String,
            pub token_hash: String,
            pub expires_at: DateTimeUtc,
            pub confirmed_at: Option<DateTimeUtc>,
            pub person_id: Option<Uuid>,
            pub created_at: DateTimeUtc,
        }

        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}

        impl ActiveModelBehavior for ActiveModel {}
    }

    crate::tenant_entity!(settings, registration);
}

use entity::{registration as reg, settings};

/// How long a confirmation link works.
pub const VALIDITY: Duration = Duration::hours(24);
/// Registrations per email per limiter window (15 minutes): enough for a lost message, too few
/// to flood someone's inbox.
pub const MAX_PER_EMAIL: u64 = 3;
/// Registrations per client address (IPv6: per /64) per window, over every email.
pub const MAX_PER_ADDRESS: u64 = 10;
/// How long an unconfirmed registration is kept after its link expired.
const KEPT_AFTER_EXPIRY: Duration = Duration::days(7);
/// At most this many listed domains.
pub const MAX_DOMAINS: usize = 50;

/// Who may sign themselves up in a space.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Mode {
    /// Nobody (the default).
    #[default]
    Off,
    /// Anyone with an email address.
    Open,
    /// Only addresses of the listed domains.
    Domains,
}

impl Mode {
    fn as_str(self) -> &'static str {
        match self {
            Mode::Off => "off",
            Mode::Open => "open",
            Mode::Domains => "domains",
        }
    }

    fn from_db(s: &str) -> Result<Self> {
        match s {
            "off" => Ok(Mode::Off),
            "open" => Ok(Mode::Open),
            "domains" => Ok(Mode::Domains),
            other => Err(Error::Internal(format!(
                "unknown self-registration mode {other}"
            ))),
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Settings {
    pub mode: Mode,
    /// Lower-case host names; empty unless the mode is `Domains`.
    pub domains: Vec<String>,
}

impl Settings {
    fn from_model(m: &settings::Model) -> Result<Self> {
        Ok(Self {
            mode: Mode::from_db(&m.mode)?,
            domains: m
                .domains
                .split(',')
                .filter(|d| !d.is_empty())
                .map(str::to_owned)
                .collect(),
        })
    }

    /// Refuses an email this setting does not let in. The refusal says only what the space's
    /// rule is, nothing about people.
    fn admits(&self, email: &Email) -> Result<()> {
        match self.mode {
            Mode::Off => Err(Error::refused(
                "REGISTRATION_CLOSED",
                "this space does not take self-registrations",
            )),
            Mode::Open => Ok(()),
            Mode::Domains => {
                let domain = email.as_str().rsplit_once('@').map_or("", |(_, d)| d);
                if self.domains.iter().any(|d| d == domain) {
                    Ok(())
                } else {
                    Err(Error::refused(
                        "EMAIL_DOMAIN_NOT_ALLOWED",
                        "this space takes self-registrations only from the email domains it lists",
                    ))
                }
            }
        }
    }
}

async fn settings_row(tx: &TenantTx, lock: bool) -> Result<Option<settings::Model>> {
    let mut q = tx.scoped_select::<settings::Entity>();
    if lock {
        // Serialises the first confirmations of a space on PostgreSQL, so one "independent
        // learners" organisation is made; SQLite has one writer anyway.
        q = q.lock_exclusive();
    }
    Ok(q.one(&tx.tx).await?)
}

/// The space's setting; no row means off.
pub async fn settings(tx: &TenantTx) -> Result<Settings> {
    match settings_row(tx, false).await? {
        Some(m) => Settings::from_model(&m),
        None => Ok(Settings::default()),
    }
}

/// A tenant admin (or a platform operator) sets who may sign themselves up. `Domains` needs at
/// least one well-formed domain; the other modes take none.
pub async fn set(
    tx: &TenantTx,
    who: &Principal,
    now: DateTime<Utc>,
    mode: Mode,
    domains: &[String],
) -> Result<Settings> {
    if !(who.is_tenant_admin() || who.is_operator()) {
        return Err(Error::Forbidden(
            "only a tenant admin may change self-registration",
        ));
    }
    let mut parsed: Vec<String> = Vec::new();
    for d in domains {
        let d = Domain::parse("domains", d)?.as_str().to_owned();
        if !parsed.contains(&d) {
            parsed.push(d);
        }
    }
    match mode {
        Mode::Domains if parsed.is_empty() => {
            return Err(Error::invalid(
                "domains",
                "DOMAINS needs at least one email domain",
            ));
        }
        Mode::Domains if parsed.len() > MAX_DOMAINS => {
            return Err(Error::invalid("domains", "at most 50 domains"));
        }
        Mode::Off | Mode::Open if !parsed.is_empty() => {
            return Err(Error::invalid(
                "domains",
                "only the DOMAINS mode takes a list of domains",
            ));
        }
        _ => {}
    }
    let joined = parsed.join(",");
    match settings_row(tx, true).await? {
        Some(m) => {
            tx.scoped_update::<settings::Entity>()
                .col_expr(settings::Column::Mode, Expr::value(mode.as_str()))
                .col_expr(settings::Column::Domains, Expr::value(joined))
                .col_expr(settings::Column::UpdatedAt, Expr::value(now))
                .filter(settings::Column::Id.eq(m.id))
                .exec(&tx.tx)
                .await?;
        }
        None => {
            settings::ActiveModel {
                tenant_id: Set(tx.tenant_uuid()),
                id: Set(uuid::Uuid::now_v7()),
                mode: Set(mode.as_str().to_owned()),
                domains: Set(joined),
                independent_organisation_id: Set(None),
                updated_at: Set(now),
            }
            .insert(&tx.tx)
            .await?;
        }
    }
    Ok(Settings {
        mode,
        domains: parsed,
    })
}

/// Limiter keys for registration, apart from sign-in's and reset's so none spends another's
/// budget.
fn limiter_keys(tx: &TenantTx, email: &Email, client: &str) -> (String, String) {
    let acct = Sha256::digest(email.as_str().as_bytes());
    let acct: String = acct.iter().take(12).map(|b| format!("{b:02x}")).collect();
    (
        format!("t:{}:register:acct:{acct}", tx.tenant()),
        format!("t:{}:register:ip:{}", tx.tenant(), address_group(client)),
    )
}

async fn limit(
    tx: &TenantTx,
    limiter: &dyn AttemptLimiter,
    email: &Email,
    client: &str,
) -> Result<()> {
    let (acct_key, ip_key) = limiter_keys(tx, email, client);
    let (by_ip, ip_retry) = limiter.hit(&ip_key).await?;
    let (by_acct, acct_retry) = limiter.hit(&acct_key).await?;
    let over_ip = by_ip > MAX_PER_ADDRESS;
    let over_acct = by_acct > MAX_PER_EMAIL;
    if !(over_ip || over_acct) {
        return Ok(());
    }
    let retry = match (over_ip, over_acct) {
        (true, true) => Ord::max(ip_retry, acct_retry),
        (true, false) => ip_retry,
        _ => acct_retry,
    };
    Err(Error::RateLimited {
        retry_after_secs: retry.clamp(1, WINDOW.as_secs()),
    })
}

/// What a person types to register.
pub struct NewRegistration<'a> {
    pub email: &'a str,
    pub given_name: &'a str,
    pub family_name: &'a str,
}

/// Where the messages point: the confirmation page and the forgotten-password page of the
/// space, on `<slug>.<base domain>` (the outbox worker moves them to a custom domain).
pub struct Pages<'a> {
    pub confirm_url: &'a str,
    pub forgot_url: &'a str,
}

/// Registers an address. Refused before anything (no count, no row, no message) when the
/// space's setting does not admit the email; then limited per email and per client address;
/// then the same work and the same `Ok` for a new and a known address, the message alone
/// telling the owner which.
pub async fn register(
    tx: &TenantTx,
    limiter: &dyn AttemptLimiter,
    now: DateTime<Utc>,
    new: NewRegistration<'_>,
    client: &str,
    pages: Pages<'_>,
) -> Result<()> {
    // The organisation is a placeholder: only the parsing of the fields is wanted here.
    let person = NewPerson::parse(
        new.email,
        new.given_name,
        new.family_name,
        OrganisationId::from_uuid(uuid::Uuid::nil()),
    )?;
    settings(tx).await?.admits(&person.email)?;
    limit(tx, limiter, &person.email, client).await?;
    // Only the newest link of an address works, and the names and emails of registrations
    // never confirmed are not kept long past their expiry (a week, so a late click still
    // hears "expired" rather than "unknown").
    tx.scoped_delete::<reg::Entity>()
        .filter(reg::Column::ConfirmedAt.is_null())
        .filter(
            Condition::any()
                .add(reg::Column::Email.eq(person.email.as_str()))
                .add(reg::Column::ExpiresAt.lte(now - KEPT_AFTER_EXPIRY)),
        )
        .exec(&tx.tx)
        .await?;
    let token = secret::new_token()?;
    reg::ActiveModel {
        tenant_id: Set(tx.tenant_uuid()),
        id: Set(uuid::Uuid::now_v7()),
        email: Set(person.email.as_str().to_owned()),
        given_name: Set(person.given_name.clone()),
        family_name: Set(person.family_name.clone()),
        token_hash: Set(secret::digest(&token)),
        expires_at: Set(now + VALIDITY),
        confirmed_at: Set(None),
        person_id: Set(None),
        created_at: Set(now),
    }
    .insert(&tx.tx)
    .await?;
    let known = people::model_by_email(tx, &person.email).await?.is_some();
    let (kind, payload) = if known {
        // The token is never sent: confirming it would be refused anyway (the email is taken).
        (
            MessageKind::RegistrationKnown,
            Payload {
                name: person.given_name.clone(),
                link: pages.forgot_url.to_owned(),
                token: String::new(),
            },
        )
    } else {
        (
            MessageKind::Registration,
            Payload {
                name: person.given_name.clone(),
                link: format!("{}?token={token}", pages.confirm_url),
                token,
            },
        )
    };
    outbox::enqueue(tx, kind, person.email.as_str(), &payload).await
}

/// What a presented confirmation token is worth now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenState {
    Valid,
    Expired,
    Used,
    /// Unknown, or another space's: the same answer.
    Unknown,
}

async fn row_of(tx: &TenantTx, token: &str) -> Result<Option<reg::Model>> {
    if token.is_empty() || token.len() > 100 {
        return Ok(None);
    }
    Ok(tx
        .scoped_select::<reg::Entity>()
        .filter(reg::Column::TokenHash.eq(secret::digest(token)))
        .order_by_asc(reg::Column::Id)
        .one(&tx.tx)
        .await?)
}

/// What the token is worth at `now`, read without changing anything.
pub async fn check(tx: &TenantTx, now: DateTime<Utc>, token: &str) -> Result<TokenState> {
    Ok(match row_of(tx, token).await? {
        None => TokenState::Unknown,
        Some(r) if r.confirmed_at.is_some() => TokenState::Used,
        Some(r) if r.expires_at <= now => TokenState::Expired,
        Some(_) => TokenState::Valid,
    })
}

/// The refusal for a token that is not valid, as the mutation answers it.
pub fn refusal(state: TokenState) -> Error {
    let reason = match state {
        TokenState::Expired => "this confirmation link has expired: register again for a new one",
        TokenState::Used => "this confirmation link has already been used: sign in instead",
        TokenState::Unknown | TokenState::Valid => "this confirmation link is not valid here",
    };
    Error::invalid("token", reason)
}

fn independent_name(locale: Locale) -> &'static str {
    match locale {
        Locale::En => "Independent learners",
        Locale::Fr => "Apprenants indépendants",
    }
}

/// The space's "independent learners" organisation, made under the root on first use. The
/// settings row is locked while it is looked up and made, so concurrent first confirmations
/// make one.
async fn independent_organisation(
    tx: &TenantTx,
    now: DateTime<Utc>,
    row: &settings::Model,
) -> Result<OrganisationId> {
    if let Some(id) = row.independent_organisation_id {
        return Ok(OrganisationId::from_uuid(id));
    }
    let root = organisations::root(tx).await?;
    let locale = spaces::current(tx).await?.locale;
    let org = organisations::create_child_unchecked(
        tx,
        &root,
        OrgKind::Department,
        independent_name(locale),
    )
    .await?;
    tx.scoped_update::<settings::Entity>()
        .col_expr(
            settings::Column::IndependentOrganisationId,
            Expr::value(org.id.uuid()),
        )
        .col_expr(settings::Column::UpdatedAt, Expr::value(now))
        .filter(settings::Column::Id.eq(row.id))
        .exec(&tx.tx)
        .await?;
    Ok(org.id)
}

/// The space's "independent learners" organisation, if self-registration has made it (billing
/// tells independent learners from staff by it).
pub async fn independent_learners(tx: &TenantTx) -> Result<Option<OrganisationId>> {
    Ok(settings_row(tx, false)
        .await?
        .and_then(|m| m.independent_organisation_id)
        .map(OrganisationId::from_uuid))
}

/// Claims the token and creates the person with the password hashed beforehand. The claim is a
/// conditional update, so of two concurrent confirmations exactly one wins; an email that
/// became registered meanwhile, or a setting that no longer admits it, is refused (the caller
/// rolls back and the token stays unused).
pub async fn complete(
    tx: &TenantTx,
    now: DateTime<Utc>,
    token: &str,
    password_hash: String,
) -> Result<PersonId> {
    let claimed = tx
        .scoped_update::<reg::Entity>()
        .col_expr(reg::Column::ConfirmedAt, Expr::value(now))
        .filter(reg::Column::TokenHash.eq(secret::digest(token)))
        .filter(reg::Column::ConfirmedAt.is_null())
        .filter(reg::Column::ExpiresAt.gt(now))
        .exec(&tx.tx)
        .await?;
    if claimed.rows_affected != 1 {
        // Used, expired or unknown: say which, as a fresh read finds it.
        let state = check(tx, now, token).await?;
        return Err(refusal(if state == TokenState::Valid {
            TokenState::Used
        } else {
            state
        }));
    }
    let r = row_of(tx, token)
        .await?
        .ok_or_else(|| refusal(TokenState::Unknown))?;
    let email = Email::parse("email", &r.email)?;
    let row = settings_row(tx, true).await?;
    let settings = match &row {
        Some(m) => Settings::from_model(m)?,
        None => Settings::default(),
    };
    settings.admits(&email)?;
    let row = row.ok_or_else(|| Error::Internal("self-registration has no setting".into()))?;
    if people::model_by_email(tx, &email).await?.is_some() {
        return Err(Error::conflict(
            "email",
            "this email already has an account in this space: sign in, or reset your password",
        ));
    }
    let org = independent_organisation(tx, now, &row).await?;
    let person = people::insert(
        tx,
        &NewPerson {
            email,
            given_name: r.given_name,
            family_name: r.family_name,
            organisation: org,
        },
        Some(password_hash),
    )
    .await?;
    people::insert_grant(tx, person.id, org, Role::Learner).await?;
    tx.scoped_update::<reg::Entity>()
        .col_expr(reg::Column::PersonId, Expr::value(person.id.uuid()))
        .filter(reg::Column::Id.eq(r.id))
        .exec(&tx.tx)
        .await?;
    Ok(person.id)
}

/// Confirms a registration and signs in: the token is checked, the password hashed with no
/// transaction open, then the token claimed and the person created in one short transaction.
pub async fn confirm(
    auth: &Auth<'_>,
    now: DateTime<Utc>,
    token: &str,
    password: Password,
) -> Result<SignedIn> {
    let read = auth.begin().await?;
    let state = check(&read, now, token).await?;
    read.commit().await?;
    if state != TokenState::Valid {
        return Err(refusal(state));
    }
    let hash = auth.hasher.hash(password).await?;
    // Dropping `write` on an error rolls the claim back.
    let write = auth.begin().await?;
    let person = complete(&write, now, token, hash).await?;
    let s = issue(&write, auth.keys, person, 0, auth.refresh_ttl).await?;
    write.commit().await?;
    Ok(s)
}
