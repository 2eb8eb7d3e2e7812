//! What one request knows: its tenant (from the host), its principal (from the token, with roles
//! read now), and one transaction that every resolver shares and the gateway ends.

use std::sync::Arc;

use spaces_tenants::auth::limiter::AttemptLimiter;
use spaces_tenants::auth::tokens::{Bearer, Keys, unix_now};
use spaces_tenants::spaces::{self, Space, SpaceStatus, operators};
use spaces_tenants::{Db, Principal, TenantTx, people};
use tokio::sync::Mutex;

use crate::error::{ApiError, ApiResult};

/// Long-lived services every request uses.
pub struct Deps {
    pub db: Db,
    pub keys: Arc<Keys>,
    pub limiter: Arc<dyn AttemptLimiter>,
    pub refresh_ttl: chrono::Duration,
    /// `<slug>.<base domain>` serves each space; used in links sent to people.
    pub base_domain: String,
    /// Spaces by slug and domain, as requests address them.
    pub spaces: spaces::Directory,
    /// Where links in messages point (`SPACES_PUBLIC_URL_TEMPLATE`).
    pub links: spaces::Links,
}

impl Deps {
    /// The invitation page of a space, on `<slug>.<base domain>`; the outbox worker moves the
    /// link to the space's custom domain when it has one.
    pub fn accept_url(&self, slug: &str) -> String {
        self.links.page(
            &self.links.slug_host(slug),
            spaces::links::ACCEPT_INVITATION_PATH,
        )
    }

    /// The password-reset page of a space, like `accept_url`.
    pub fn reset_url(&self, slug: &str) -> String {
        self.links.page(
            &self.links.slug_host(slug),
            spaces::links::RESET_PASSWORD_PATH,
        )
    }
}

/// The request's scope, as every resolver reaches it.
pub fn of<'a>(ctx: &async_graphql::Context<'a>) -> &'a RequestScope {
    ctx.data_unchecked::<Arc<RequestScope>>()
}

pub struct RequestScope {
    pub deps: Arc<Deps>,
    pub tenant: Option<Space>,
    pub principal: Principal,
    /// The client address, for sign-in limits.
    pub client: String,
    tx: Mutex<Option<Arc<TenantTx>>>,
    /// The signed-in person, as read with the principal (so `viewer` costs no second read).
    pub me: Option<spaces_tenants::people::Person>,
    /// The name of the operation run, read from the document (for metrics and logs).
    pub operation: std::sync::Mutex<Option<String>>,
}

impl RequestScope {
    /// Establishes who is calling. A token is valid only in the tenant that issued it, and a
    /// suspended tenant accepts no authenticated call.
    pub async fn open(
        deps: Arc<Deps>,
        tenant: Option<Space>,
        bearer_token: Option<&str>,
        client: String,
    ) -> ApiResult<Self> {
        let mut scope = Self {
            deps,
            tenant,
            principal: Principal::Anonymous,
            client,
            tx: Mutex::new(None),
            operation: std::sync::Mutex::new(None),
            me: None,
        };
        let Some(token) = bearer_token else {
            return Ok(scope);
        };
        let bearer = scope.deps.keys.verify(token, unix_now())?;
        scope.principal = match bearer {
            Bearer::Operator { operator } => {
                if !operators::exists(&scope.deps.db, operator).await? {
                    return Err(ApiError::unauthenticated("invalid or expired token"));
                }
                Principal::Operator { operator }
            }
            Bearer::Person {
                tenant,
                person,
                version,
            } => {
                let space = scope
                    .tenant
                    .as_ref()
                    .filter(|s| s.id == tenant)
                    .ok_or_else(|| {
                        ApiError::unauthenticated(
                            "this token belongs to another space; sign in here",
                        )
                    })?;
                if space.status == SpaceStatus::Suspended {
                    return Err(ApiError::forbidden("this space is suspended"));
                }
                let tx = scope.tx().await?;
                let (who, me) = people::load_principal(&tx, person, version).await?;
                scope.me = Some(me);
                who
            }
        };
        Ok(scope)
    }

    /// The request's tenant, or a clear error when the request named none.
    pub fn space(&self) -> ApiResult<&Space> {
        self.tenant.as_ref().ok_or_else(|| {
            ApiError::bad_input(
                "host",
                "no space here: use the space's domain or an X-Tenant header",
            )
        })
    }

    /// The request's transaction, begun on first use and bound to the request's tenant.
    pub async fn tx(&self) -> ApiResult<Arc<TenantTx>> {
        let mut guard = self.tx.lock().await;
        if let Some(tx) = guard.as_ref() {
            return Ok(tx.clone());
        }
        let space = self.space()?;
        let tx = Arc::new(TenantTx::begin(&self.deps.db, space.id).await?);
        *guard = Some(tx.clone());
        Ok(tx)
    }

    /// Runs one mutation in a savepoint: its writes are kept when it succeeds and undone when it
    /// fails, so nothing is half-applied while other fields of the request keep theirs.
    pub async fn atomic<T>(&self, f: impl AsyncFnOnce(&TenantTx) -> ApiResult<T>) -> ApiResult<T> {
        let tx = self.tx().await?;
        let sp = tx.savepoint().await?;
        match f(&sp).await {
            Ok(v) => {
                sp.commit().await?;
                Ok(v)
            }
            Err(e) => {
                sp.rollback().await?;
                Err(e)
            }
        }
    }

    /// Ends the transaction: commits what the mutations kept (each one already kept or undid
    /// its own writes).
    pub async fn finish(&self) -> ApiResult<()> {
        let Some(tx) = self.tx.lock().await.take() else {
            return Ok(());
        };
        let tx = Arc::try_unwrap(tx).map_err(|_| {
            tracing::error!("request transaction still shared after execution");
            ApiError::internal()
        })?;
        tx.commit().await?;
        Ok(())
    }

    /// The pool, for platform work (tenants, catalogue, operators) that runs outside the
    /// request's tenant transaction. On SQLite the pool is that one connection: once the request
    /// holds it, platform work in the same request would wait for itself, so it is refused.
    pub async fn platform_db(&self) -> ApiResult<&spaces_tenants::Db> {
        if !self.deps.db.is_postgres() && self.tx.lock().await.is_some() {
            return Err(ApiError::bad_input(
                "query",
                "platform operations cannot share a request with operations inside a space; send them separately",
            ));
        }
        Ok(&self.deps.db)
    }

    /// Guards: the calling person, in an active space.
    pub fn require_person(&self) -> ApiResult<&Principal> {
        match &self.principal {
            Principal::Person { .. } => Ok(&self.principal),
            _ => Err(ApiError::unauthenticated("sign in to this space first")),
        }
    }

    pub fn require_operator(&self) -> ApiResult<()> {
        match &self.principal {
            Principal::Operator { .. } => Ok(()),
            Principal::Anonymous => Err(ApiError::unauthenticated(
                "sign in as a platform operator first",
            )),
            Principal::Person { .. } => {
                Err(ApiError::forbidden("only platform operators may do this"))
            }
        }
    }
}
