//! People of one tenant, their roles on the organisation tree, and who may see whom.

pub(crate) mod entity;

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, QueryFilter, QuerySelect, Set};

use crate::kernel::page::{Page, PageRequest, fetch};
use crate::kernel::principal::{Grant, Need};
use crate::organisations;
use crate::values::{Email, name};
use crate::{Error, OrganisationId, PersonId, Principal, Result, Role, RoleGrantId, TenantTx};

use entity::{grant, person};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PersonStatus {
    /// Invited, no password yet.
    Invited,
    Active,
    Disabled,
}

impl PersonStatus {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            PersonStatus::Invited => "invited",
            PersonStatus::Active => "active",
            PersonStatus::Disabled => "disabled",
        }
    }

    pub(crate) fn from_db_str(s: &str) -> Self {
        match s {
            "active" => PersonStatus::Active,
            "invited" => PersonStatus::Invited,
            _ => PersonStatus::Disabled,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Person {
    pub id: PersonId,
    pub email: String,
    pub given_name: String,
    pub family_name: String,
    pub organisation: OrganisationId,
    pub status: PersonStatus,
    pub created_at: DateTime<Utc>,
    /// What an LMS names this person by in xAPI statements, besides the email.
    pub external_ref: Option<ExternalRef>,
}

/// An xAPI account: the LMS's home page (an IRI) and the person's name (id) there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExternalRef {
    pub home_page: String,
    pub name: String,
}

impl ExternalRef {
    /// Checks what HR or an import typed: an absolute IRI and a name, both bounded.
    pub fn parse(field: &str, home_page: &str, name: &str) -> Result<Self> {
        let home_page = home_page.trim();
        let name = name.trim();
        if home_page.len() > 2048 || !spaces_xapi::values::is_iri(home_page) {
            return Err(Error::invalid(
                format!("{field}.homePage"),
                "must be an absolute IRI such as https://lms.example.org",
            ));
        }
        if name.is_empty() || name.chars().count() > 200 {
            return Err(Error::invalid(
                format!("{field}.name"),
                "must be 1 to 200 characters",
            ));
        }
        Ok(Self {
            home_page: home_page.to_owned(),
            name: name.to_owned(),
        })
    }
}

impl From<person::Model> for Person {
    fn from(m: person::Model) -> Self {
        Self {
            id: PersonId::from_uuid(m.id),
            email: m.email,
            given_name: m.given_name,
            family_name: m.family_name,
            organisation: OrganisationId::from_uuid(m.organisation_id),
            status: PersonStatus::from_db_str(&m.status),
            created_at: m.created_at,
            external_ref: match (m.external_home_page, m.external_ref) {
                (Some(home_page), Some(name)) => Some(ExternalRef { home_page, name }),
                _ => None,
            },
        }
    }
}

#[derive(Clone, Debug)]
pub struct NewPerson {
    pub email: Email,
    pub given_name: String,
    pub family_name: String,
    pub organisation: OrganisationId,
}

impl NewPerson {
    pub fn parse(
        email: &str,
        given_name: &str,
        family_name: &str,
        organisation: OrganisationId,
    ) -> Result<Self> {
        Ok(Self {
            email: Email::parse("email", email)?,
            given_name: name("givenName", given_name, 100)?,
            family_name: name("familyName", family_name, 100)?,
            organisation,
        })
    }
}

/// Inserts a person; the email is unique per tenant without regard to case.
pub(crate) async fn insert(
    tx: &TenantTx,
    new: &NewPerson,
    password_hash: Option<String>,
) -> Result<Person> {
    let status = if password_hash.is_some() {
        PersonStatus::Active
    } else {
        PersonStatus::Invited
    };
    let now = Utc::now();
    let m = person::ActiveModel {
        tenant_id: Set(tx.tenant_uuid()),
        id: Set(PersonId::new().uuid()),
        email: Set(new.email.as_str().to_owned()),
        given_name: Set(new.given_name.clone()),
        family_name: Set(new.family_name.clone()),
        organisation_id: Set(new.organisation.uuid()),
        password_hash: Set(password_hash),
        status: Set(status.as_str().to_owned()),
        password_changed_at: Set(None),
        token_version: Set(0),
        created_at: Set(now),
        external_home_page: Set(None),
        external_ref: Set(None),
        mbox_sha1sum: Set(None),
    }
    .insert(&tx.tx)
    .await
    .map_err(|e| {
        Error::on_unique(
            e,
            "email",
            "a person with this email already exists in this space",
        )
    })?;
    Ok(m.into())
}

pub(crate) async fn insert_grant(
    tx: &TenantTx,
    person: PersonId,
    org: OrganisationId,
    role: Role,
) -> Result<RoleGrantId> {
    let id = RoleGrantId::new();
    grant::ActiveModel {
        tenant_id: Set(tx.tenant_uuid()),
        id: Set(id.uuid()),
        person_id: Set(person.uuid()),
        organisation_id: Set(org.uuid()),
        role: Set(role.as_str().to_owned()),
        created_at: Set(Utc::now()),
    }
    .insert(&tx.tx)
    .await
    .map_err(|e| Error::on_unique(e, "role", "this person already holds this role here"))?;
    Ok(id)
}

pub(crate) async fn model(tx: &TenantTx, id: PersonId) -> Result<Option<person::Model>> {
    Ok(tx
        .scoped_select::<person::Entity>()
        .filter(person::Column::Id.eq(id.uuid()))
        .one(&tx.tx)
        .await?)
}

/// People by id (no access check: for pages whose rows the caller was already allowed to see),
/// in one statement.
pub async fn many(tx: &TenantTx, ids: &[PersonId]) -> Result<Vec<Person>> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    let rows = tx
        .scoped_select::<person::Entity>()
        .filter(person::Column::Id.is_in(ids.iter().map(|i| i.uuid())))
        .all(&tx.tx)
        .await?;
    Ok(rows.into_iter().map(Person::from).collect())
}

pub(crate) async fn model_by_email(tx: &TenantTx, email: &Email) -> Result<Option<person::Model>> {
    Ok(tx
        .scoped_select::<person::Entity>()
        .filter(person::Column::Email.eq(email.as_str()))
        .one(&tx.tx)
        .await?)
}

pub(crate) async fn home_organisation(
    tx: &TenantTx,
    id: PersonId,
) -> Result<Option<OrganisationId>> {
    Ok(model(tx, id)
        .await?
        .map(|m| OrganisationId::from_uuid(m.organisation_id)))
}

/// The principal behind a verified token: the person must exist, be active, and not have
/// changed their password since the token was issued. Roles are read now, not from the token.
pub async fn load_principal(
    tx: &TenantTx,
    id: PersonId,
    token_version: i32,
) -> Result<(Principal, Person)> {
    // One statement for the person and their grants with the nodes' paths: this runs on every
    // authenticated request. A person without grants comes back as one row of NULL grant columns.
    let rows = tx
        .raw_all(
            "SELECT p.tenant_id, p.id, p.email, p.given_name, p.family_name, p.organisation_id, \
             p.password_hash, p.status, p.password_changed_at, p.token_version, p.created_at, \
             g.id AS grant_id, g.role AS grant_role, g.organisation_id AS grant_org, o.path AS grant_path \
             FROM people p \
             LEFT JOIN role_grants g ON g.tenant_id = p.tenant_id AND g.person_id = p.id \
             LEFT JOIN organisations o ON o.tenant_id = g.tenant_id AND o.id = g.organisation_id \
             AND o.archived_at IS NULL \
             WHERE p.tenant_id = $1 AND p.id = $2 ORDER BY g.id",
            vec![tx.tenant_uuid().into(), id.uuid().into()],
        )
        .await?;
    let Some(first) = rows.first() else {
        return Err(Error::Unauthenticated("this account no longer exists"));
    };
    let m = <person::Model as sea_orm::FromQueryResult>::from_query_result(first, "")?;
    if PersonStatus::from_db_str(&m.status) != PersonStatus::Active {
        return Err(Error::Unauthenticated("this account is not active"));
    }
    if m.token_version != token_version {
        return Err(Error::Unauthenticated(
            "the password changed since this token was issued",
        ));
    }
    let mut grants = Vec::with_capacity(rows.len());
    for r in &rows {
        grants.extend(grant_of_row(r)?);
    }
    let who = Principal::Person {
        tenant: tx.tenant(),
        person: id,
        grants,
    };
    Ok((who, m.into()))
}

pub async fn grants_of(tx: &TenantTx, id: PersonId) -> Result<Vec<Grant>> {
    let rows = tx
        .raw_all(
            "SELECT g.id AS grant_id, g.role AS grant_role, g.organisation_id AS grant_org, o.path AS grant_path \
             FROM role_grants g JOIN organisations o ON o.tenant_id = g.tenant_id AND o.id = g.organisation_id \
             WHERE g.tenant_id = $1 AND g.person_id = $2 AND o.archived_at IS NULL ORDER BY g.id",
            vec![tx.tenant_uuid().into(), id.uuid().into()],
        )
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        out.extend(grant_of_row(r)?);
    }
    Ok(out)
}

/// A grant from a row of `grant_*` columns; none for a row without one (a person without
/// grants, or a grant on an archived organisation) or with a role this build does not know.
fn grant_of_row(r: &sea_orm::QueryResult) -> Result<Option<Grant>> {
    let Some(path) = r.try_get::<Option<String>>("", "grant_path")? else {
        return Ok(None);
    };
    let Some(role) = Role::from_db(&r.try_get::<String>("", "grant_role")?) else {
        return Ok(None);
    };
    Ok(Some(Grant {
        id: RoleGrantId::from_uuid(r.try_get("", "grant_id")?),
        role,
        organisation: OrganisationId::from_uuid(r.try_get("", "grant_org")?),
        path,
    }))
}

/// A person the principal may see: themselves, or someone in a subtree they may read.
/// A person of this space, with no access check: for billing, which invoices a learner who
/// pays for themselves in the request that they made.
pub async fn load(tx: &TenantTx, id: PersonId) -> Result<Person> {
    Ok(model(tx, id).await?.ok_or(Error::NotFound)?.into())
}

pub async fn get(tx: &TenantTx, who: &Principal, id: PersonId) -> Result<Person> {
    let m = model(tx, id).await?.ok_or(Error::NotFound)?;
    if who.person().map(|(_, p)| p) == Some(id) {
        return Ok(m.into());
    }
    let org = organisations::load(tx, OrganisationId::from_uuid(m.organisation_id)).await?;
    if who.may(Need::Read, &org.path) {
        Ok(m.into())
    } else {
        Err(Error::NotFound)
    }
}

/// Invites a person into an organisation the principal manages, with a role there.
pub async fn invite(
    tx: &TenantTx,
    who: &Principal,
    new: NewPerson,
    role: Role,
    accept_url: &str,
) -> Result<(Person, String)> {
    let org = organisations::get(tx, who, new.organisation)
        .await
        .map_err(|e| e.not_found_as("organisationId", "no such organisation"))?;
    if !who.may(Need::Manage, &org.path) {
        return Err(Error::Forbidden(
            "inviting people needs an admin role on their organisation",
        ));
    }
    if role == Role::TenantAdmin && !who.is_tenant_admin() {
        return Err(Error::Forbidden("only a tenant admin can make another"));
    }
    let grant_org = if role == Role::TenantAdmin {
        organisations::root(tx).await?.id
    } else {
        org.id
    };
    if let Some(existing) = model_by_email(tx, &new.email).await?
        && PersonStatus::from_db_str(&existing.status) == PersonStatus::Invited
        && !crate::auth::invitations::has_live(tx, PersonId::from_uuid(existing.id)).await?
        && who.may(
            Need::Manage,
            &organisations::load(tx, OrganisationId::from_uuid(existing.organisation_id))
                .await?
                .path,
        )
    {
        // Their invitation expired: inviting them again sends a new one (to the organisation
        // they were first invited into) rather than refusing the email as taken. Someone who
        // does not manage that organisation gets the CONFLICT below, as before.
        return crate::auth::invitations::resend(
            tx,
            who,
            PersonId::from_uuid(existing.id),
            accept_url,
        )
        .await;
    }
    let person = insert(tx, &new, None).await?;
    insert_grant(tx, person.id, grant_org, role).await?;
    let token = crate::auth::invitations::create(tx, &person, accept_url).await?;
    Ok((person, token))
}

/// Grants a role on a node the principal manages.
pub async fn grant_role(
    tx: &TenantTx,
    who: &Principal,
    person: PersonId,
    org: OrganisationId,
    role: Role,
) -> Result<RoleGrantId> {
    let target = get(tx, who, person)
        .await
        .map_err(|e| e.not_found_as("personId", "no such person"))?;
    let node = organisations::get(tx, who, org)
        .await
        .map_err(|e| e.not_found_as("organisationId", "no such organisation"))?;
    if !who.may(Need::Manage, &node.path) {
        return Err(Error::Forbidden(
            "granting roles needs an admin role on that organisation",
        ));
    }
    if role == Role::TenantAdmin
        && (!who.is_tenant_admin() || node.kind != organisations::OrgKind::Root)
    {
        return Err(Error::Forbidden(
            "only a tenant admin can make another, on the root",
        ));
    }
    insert_grant(tx, target.id, node.id, role).await
}

/// Revokes a grant; takes effect on the holder's next request.
pub async fn revoke_role(tx: &TenantTx, who: &Principal, grant_id: RoleGrantId) -> Result<()> {
    let g = tx
        .scoped_select::<grant::Entity>()
        .filter(grant::Column::Id.eq(grant_id.uuid()))
        .one(&tx.tx)
        .await?
        .ok_or(Error::NotFound)?;
    let node = organisations::load(tx, OrganisationId::from_uuid(g.organisation_id)).await?;
    if !who.may(Need::Manage, &node.path) {
        return Err(Error::NotFound);
    }
    if Role::from_db(&g.role) == Some(Role::TenantAdmin) {
        if !who.is_tenant_admin() {
            return Err(Error::Forbidden(
                "only a tenant admin can revoke a tenant admin",
            ));
        }
        // Lock the admin grants (PostgreSQL: FOR UPDATE; SQLite transactions already hold the
        // write lock), so two concurrent revocations cannot both see "another admin is left".
        let admins = tx
            .scoped_select::<grant::Entity>()
            .filter(grant::Column::Role.eq(Role::TenantAdmin.as_str()))
            .lock_exclusive()
            .all(&tx.tx)
            .await?;
        let mut active_others = 0;
        for a in admins.iter().filter(|a| a.id != g.id) {
            let holder = model(tx, PersonId::from_uuid(a.person_id)).await?;
            if holder.is_some_and(|h| PersonStatus::from_db_str(&h.status) == PersonStatus::Active)
            {
                active_others += 1;
            }
        }
        if active_others == 0 {
            return Err(Error::conflict(
                "grantId",
                "a space keeps at least one active tenant admin",
            ));
        }
    }
    tx.scoped_delete::<grant::Entity>()
        .filter(grant::Column::Id.eq(grant_id.uuid()))
        .exec(&tx.tx)
        .await?;
    Ok(())
}

/// People in the subtree under `under` (or all the principal may read), in creation order.
pub async fn list(
    tx: &TenantTx,
    who: &Principal,
    under: Option<OrganisationId>,
    page: PageRequest,
) -> Result<Page<Person>> {
    let roots: Option<Vec<String>> = match under {
        Some(id) => {
            let node = organisations::get(tx, who, id).await?;
            if !who.may(Need::Read, &node.path) {
                return Err(Error::NotFound);
            }
            Some(vec![node.path])
        }
        None => who.readable_roots(),
    };
    let mut q = tx.scoped_select::<person::Entity>();
    if let Some(roots) = roots {
        if roots.is_empty() {
            // A learner sees only themselves.
            let me = who.person().map(|(_, p)| p.uuid());
            q = q.filter(person::Column::Id.eq(me));
        } else {
            q = q.filter(organisations::in_subtrees(
                "people.tenant_id",
                "people.organisation_id",
                &roots,
            ));
        }
    }
    Ok(fetch(q, person::Column::Id, page, &tx.tx)
        .await?
        .map(Person::from))
}

/// HR switches a person of their subtree off (a leaver) or on again. A disabled person cannot
/// sign in, refresh, accept an invitation or reset their password, and every token they hold
/// stops on its next request; their enrolments and history stay.
/// Sets (or, with `None`, clears) the xAPI account an LMS names the person by. HR of the
/// person's organisation or a tenant admin; one account names one person of the space.
pub async fn set_external_ref(
    tx: &TenantTx,
    who: &Principal,
    id: PersonId,
    external: Option<ExternalRef>,
) -> Result<Person> {
    let target = get(tx, who, id).await?;
    let org = organisations::load(tx, target.organisation).await?;
    if !who.may(Need::Manage, &org.path) {
        return Err(Error::Forbidden(
            "an external reference is set by an admin of the person's organisation",
        ));
    }
    if let Some(x) = &external {
        let taken = tx
            .select::<person::Entity>()
            .filter(person::Column::ExternalHomePage.eq(x.home_page.clone()))
            .filter(person::Column::ExternalRef.eq(x.name.clone()))
            .filter(person::Column::Id.ne(id.uuid()))
            .one()
            .await?;
        if taken.is_some() {
            return Err(Error::Conflict {
                field: "externalRef".into(),
                reason: "this account already names another person of the space".into(),
            });
        }
    }
    let (home_page, name) = match external {
        Some(x) => (Some(x.home_page), Some(x.name)),
        None => (None, None),
    };
    tx.update_many::<person::Entity>()
        .set(person::ActiveModel {
            external_home_page: Set(home_page),
            external_ref: Set(name),
            ..Default::default()
        })
        .filter(person::Column::Id.eq(id.uuid()))
        .exec()
        .await?;
    load(tx, id).await
}

pub async fn set_enabled(
    tx: &TenantTx,
    who: &Principal,
    id: PersonId,
    enabled: bool,
) -> Result<Person> {
    let target = get(tx, who, id).await?;
    let org = organisations::load(tx, target.organisation).await?;
    if !who.may(Need::Manage, &org.path) {
        return Err(Error::Forbidden(
            "disabling or enabling people needs an admin role on their organisation",
        ));
    }
    if who.person().map(|(_, p)| p) == Some(id) {
        return Err(Error::invalid(
            "id",
            "you cannot disable or enable yourself",
        ));
    }
    let m = model(tx, id).await?.ok_or(Error::NotFound)?;
    let status = PersonStatus::from_db_str(&m.status);
    if enabled {
        if status != PersonStatus::Disabled {
            return Ok(m.into());
        }
        let back = if m.password_hash.is_some() {
            PersonStatus::Active
        } else {
            PersonStatus::Invited
        };
        set_status(tx, id, back).await?;
    } else {
        if status == PersonStatus::Disabled {
            return Ok(m.into());
        }
        if grants_of(tx, id)
            .await?
            .iter()
            .any(|g| g.role == Role::TenantAdmin)
        {
            if !who.is_tenant_admin() {
                return Err(Error::Forbidden(
                    "only a tenant admin can disable a tenant admin",
                ));
            }
            keep_an_admin(tx, id).await?;
        }
        set_status(tx, id, PersonStatus::Disabled).await?;
        crate::auth::sessions::revoke_all(tx, id).await?;
    }
    Ok(model(tx, id).await?.ok_or(Error::NotFound)?.into())
}

async fn set_status(tx: &TenantTx, id: PersonId, status: PersonStatus) -> Result<()> {
    use sea_orm::sea_query::{Expr, ExprTrait};
    let mut up = tx
        .scoped_update::<person::Entity>()
        .col_expr(person::Column::Status, Expr::value(status.as_str()));
    if status == PersonStatus::Disabled {
        // Access tokens carry the version: bumping it stops them even where status is not read.
        up = up.col_expr(
            person::Column::TokenVersion,
            Expr::col(person::Column::TokenVersion).add(1),
        );
    }
    up.filter(person::Column::Id.eq(id.uuid()))
        .exec(&tx.tx)
        .await?;
    Ok(())
}

/// Refuses to switch off the last active tenant admin other than `leaving`.
async fn keep_an_admin(tx: &TenantTx, leaving: PersonId) -> Result<()> {
    let admins = tx
        .scoped_select::<grant::Entity>()
        .filter(grant::Column::Role.eq(Role::TenantAdmin.as_str()))
        .lock_exclusive()
        .all(&tx.tx)
        .await?;
    for a in admins.iter().filter(|a| a.person_id != leaving.uuid()) {
        let holder = model(tx, PersonId::from_uuid(a.person_id)).await?;
        if holder.is_some_and(|h| PersonStatus::from_db_str(&h.status) == PersonStatus::Active) {
            return Ok(());
        }
    }
    Err(Error::conflict(
        "id",
        "a space keeps at least one active tenant admin",
    ))
}

/// The xAPI `mbox_sha1sum` of an email: SHA-1 of `mailto:` and the address, lower-case hex.
pub fn mbox_sha1sum(email: &str) -> String {
    use sha1::{Digest, Sha1};
    format!("{:x}", Sha1::digest(format!("mailto:{email}").as_bytes()))
}

/// "Given Family" of a person of this space, without access checks (for pages that show a
/// name the person chose to show); `None` for an unknown person.
pub async fn display_name(tx: &TenantTx, id: PersonId) -> Result<Option<String>> {
    Ok(model(tx, id)
        .await?
        .map(|m| format!("{} {}", m.given_name, m.family_name)))
}
