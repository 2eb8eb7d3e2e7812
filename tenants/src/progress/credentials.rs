//! LRS credentials: what a learning platform sends, as HTTP Basic auth, to the space's xAPI
//! endpoint. Tenant admins create, list and revoke them; the LRS authenticates each request
//! with [`authenticate`].
//!
//! The key is public and readable (`lrs-` and 24 hex digits). The secret is 256 random bits,
//! shown once in the answer that makes it and kept only as its SHA-256 digest: a fast digest is
//! enough for a random secret, and the LRS checks one on every statement (argon2 would cost
//! more than the statement).

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, QueryFilter, Set, sea_query::Expr};
use subtle::ConstantTimeEq;

use crate::auth::secret::{digest, new_token, random_bytes};
use crate::kernel::page::{Page, PageRequest, fetch};
use crate::values::name;
use crate::{Error, LrsCredentialId, PersonId, Principal, Result, TenantTx};

use super::entity::credential;

const MAX_NAME: usize = 200;

/// What a credential may do at the LRS.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// Store statements (xAPI `statements/write`).
    WriteStatements,
    /// Read every statement and document of the space (xAPI `all/read`).
    ReadAll,
    /// Read the statements this credential stored (xAPI `statements/read/mine`).
    ReadOwn,
}

#[derive(Clone, Debug)]
pub struct Credential {
    pub id: LrsCredentialId,
    pub name: String,
    pub key: String,
    /// In the order of [`Scope`], each once.
    pub scopes: Vec<Scope>,
    pub created_by: PersonId,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A new credential and its secret, which exists nowhere else.
pub struct Issued {
    pub credential: Credential,
    pub secret: String,
}

impl std::fmt::Debug for Issued {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Issued")
            .field("credential", &self.credential)
            .field("secret", &"<redacted>")
            .finish()
    }
}

pub struct NewCredential {
    pub name: String,
    pub scopes: Vec<Scope>,
}

/// Who may manage credentials: the space's tenant admins, nobody else.
fn may_manage(who: &Principal) -> Result<PersonId> {
    match who.person() {
        Some((_, person)) if who.is_tenant_admin() => Ok(person),
        _ => Err(Error::Forbidden(
            "LRS credentials need the tenant admin role",
        )),
    }
}

fn from_row(m: credential::Model) -> Credential {
    let mut scopes = Vec::new();
    if m.scope_statements_write {
        scopes.push(Scope::WriteStatements);
    }
    if m.scope_all_read {
        scopes.push(Scope::ReadAll);
    }
    if m.scope_own_read {
        scopes.push(Scope::ReadOwn);
    }
    Credential {
        id: LrsCredentialId::from_uuid(m.id),
        name: m.name,
        key: m.key,
        scopes,
        created_by: PersonId::from_uuid(m.created_by),
        created_at: m.created_at,
        revoked_at: m.revoked_at,
    }
}

fn new_key() -> Result<String> {
    let mut key = String::from("lrs-");
    for b in random_bytes::<12>()? {
        key.push_str(&format!("{b:02x}"));
    }
    Ok(key)
}

/// Tenant admins: a new credential; its secret is in the answer and nowhere else.
pub async fn create(tx: &TenantTx, who: &Principal, new: NewCredential) -> Result<Issued> {
    let person = may_manage(who)?;
    let label = name("name", &new.name, MAX_NAME)?;
    if new.scopes.is_empty() {
        return Err(Error::invalid("scopes", "give at least one scope"));
    }
    let has = |s: Scope| new.scopes.contains(&s);
    let secret = new_token()?;
    let id = LrsCredentialId::new();
    let row = tx
        .insert(credential::ActiveModel {
            tenant_id: Set(tx.tenant_uuid()),
            id: Set(id.uuid()),
            name: Set(label),
            key: Set(new_key()?),
            secret_digest: Set(digest(&secret)),
            scope_statements_write: Set(has(Scope::WriteStatements)),
            scope_all_read: Set(has(Scope::ReadAll)),
            scope_own_read: Set(has(Scope::ReadOwn)),
            created_by: Set(person.uuid()),
            created_at: Set(Utc::now()),
            revoked_at: Set(None),
        })
        .await?;
    Ok(Issued {
        credential: from_row(row),
        secret,
    })
}

/// Tenant admins: the space's credentials, oldest first, revoked ones included.
pub async fn list(tx: &TenantTx, who: &Principal, page: PageRequest) -> Result<Page<Credential>> {
    may_manage(who)?;
    let p = fetch(
        tx.scoped_select::<credential::Entity>(),
        credential::Column::Id,
        page,
        &tx.tx,
    )
    .await?;
    Ok(p.map(from_row))
}

/// Tenant admins: revokes a credential at once. Revoking a revoked one changes nothing (it
/// keeps its first revocation time). Unknown or another space's: NOT_FOUND on `id`.
pub async fn revoke(tx: &TenantTx, who: &Principal, id: LrsCredentialId) -> Result<Credential> {
    may_manage(who)?;
    tx.update_many::<credential::Entity>()
        .col_expr(credential::Column::RevokedAt, Expr::value(Utc::now()))
        .filter(credential::Column::Id.eq(id.uuid()))
        .filter(credential::Column::RevokedAt.is_null())
        .exec()
        .await?;
    tx.select::<credential::Entity>()
        .filter(credential::Column::Id.eq(id.uuid()))
        .one()
        .await?
        .map(from_row)
        .ok_or_else(|| Error::not_found_field("id", "no such LRS credential in this space"))
}

/// The digest an unknown key is compared with, so that an unknown key and a wrong secret take
/// the same work.
const NO_DIGEST: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The credential of this space with this key and secret, if it is not revoked. Every failure
/// (unknown key, wrong secret, revoked) is the same `Unauthenticated`, so the answer does not
/// tell which keys exist.
pub async fn authenticate(tx: &TenantTx, key: &str, secret: &str) -> Result<Credential> {
    let row = tx
        .select::<credential::Entity>()
        .filter(credential::Column::Key.eq(key))
        .one()
        .await?;
    let given = digest(secret);
    let stored = row.as_ref().map_or(NO_DIGEST, |m| m.secret_digest.as_str());
    let same: bool = given.as_bytes().ct_eq(stored.as_bytes()).into();
    match row {
        Some(m) if same && m.revoked_at.is_none() => Ok(from_row(m)),
        _ => Err(Error::Unauthenticated(
            "unknown LRS key, wrong secret or revoked credential",
        )),
    }
}
