//! What one request knows: its tenant (from the host), its principal (from the token, with roles
//! read now), and one transaction that every resolver shares and the gateway ends.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use spaces_tenants::auth::limiter::AttemptLimiter;
use spaces_tenants::auth::password::Hasher;
use spaces_tenants::auth::signin::Auth;
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
    /// The bounded argon2 slots every password hash goes through.
    pub hasher: Hasher,
    pub refresh_ttl: chrono::Duration,
    /// `<slug>.<base domain>` serves each space; used in links sent to people.
    pub base_domain: String,
    /// Spaces by slug and domain, as requests address them.
    pub spaces: spaces::Directory,
    /// Where links in messages point (`SPACES_PUBLIC_URL_TEMPLATE`).
    pub links: spaces::Links,
    /// What admission asks beyond the enrolment rules (seats, prices, vouchers): billing's
    /// implementation, wired by the gateway.
    pub admission: Arc<dyn spaces_tenants::enrolments::AdmissionGate>,
    /// The time billing and scheduled work go by; tests move it forward.
    pub clock: spaces_tenants::Clock,
    /// Where subscriptions hear of progress (this process alone, or every gateway via Redis).
    pub live: Arc<dyn crate::live::LiveFeed>,
    /// The key voucher codes are stored under (HMAC).
    pub voucher_key: spaces_billing::vouchers::VoucherKey,
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

    /// The self-registration confirmation page of a space, like `accept_url`.
    pub fn confirm_url(&self, slug: &str) -> String {
        self.links.page(
            &self.links.slug_host(slug),
            spaces::links::CONFIRM_REGISTRATION_PATH,
        )
    }

    /// The page that asks for a password-reset link, like `accept_url`.
    pub fn forgot_url(&self, slug: &str) -> String {
        self.links.page(
            &self.links.slug_host(slug),
            spaces::links::FORGOT_PASSWORD_PATH,
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
    /// A platform calling with an LRS credential (HTTP Basic) instead of a person's token.
    pub machine: Option<spaces_tenants::progress::credentials::Credential>,
    /// The verified token and its expiry (Unix seconds): a subscription re-reads the
    /// principal from it at each event and ends at the expiry.
    pub bearer: Option<(Bearer, u64)>,
    /// The name of the operation run, read from the document (for metrics and logs).
    pub operation: std::sync::Mutex<Option<String>>,
    /// Operations in the HTTP request (a batch holds several), and the most root fields any
    /// of them selects: what [`RequestScope::alone`] checks.
    batch_len: usize,
    root_fields: AtomicUsize,
}

impl RequestScope {
    /// Establishes who is calling. A token is valid only in the tenant that issued it, and a
    /// suspended tenant accepts no authenticated call.
    pub async fn open(
        deps: Arc<Deps>,
        tenant: Option<Space>,
        bearer_token: Option<&str>,
        client: String,
        batch_len: usize,
    ) -> ApiResult<Self> {
        let mut scope = Self {
            deps,
            tenant,
            principal: Principal::Anonymous,
            client,
            tx: Mutex::new(None),
            operation: std::sync::Mutex::new(None),
            me: None,
            machine: None,
            bearer: None,
            batch_len,
            root_fields: AtomicUsize::new(0),
        };
        let Some(token) = bearer_token else {
            return Ok(scope);
        };
        let (bearer, expires) = scope.deps.keys.verify_until(token, unix_now())?;
        scope.bearer = Some((bearer, expires));
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

    /// A platform's LRS credential, sent as HTTP Basic on the space's host: the request then
    /// runs as that machine (it may record progress, nothing a person does).
    pub async fn authenticate_machine(&mut self, key: &str, secret: &str) -> ApiResult<()> {
        let space = self.space()?;
        if space.status == SpaceStatus::Suspended {
            return Err(ApiError::forbidden("this space is suspended"));
        }
        let tx = self.tx().await?;
        self.machine =
            Some(spaces_tenants::progress::credentials::authenticate(&tx, key, secret).await?);
        Ok(())
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

    /// For the mutations that hash a password (sign-in, invitation acceptance, password change
    /// and reset): they must be the only field of the only operation of their request, so that
    /// "one request, one transaction" holds for everything else. The request's transaction
    /// (which so far read at most the caller's principal) ends here; the mutation then works
    /// in short transactions of its own and hashes with none open, so no connection (on
    /// SQLite, not the one there is) waits on argon2.
    pub async fn alone(&self, field: &str) -> ApiResult<Alone<'_>> {
        if self.batch_len > 1 || self.root_fields.load(Ordering::SeqCst) > 1 {
            return Err(ApiError::bad_input(
                "query",
                &format!(
                    "{field} must be the only operation of its request: send it alone, not batched or beside other fields"
                ),
            ));
        }
        self.finish().await?;
        Ok(Alone { scope: self })
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

/// A mutation that runs alone in its request (see [`RequestScope::alone`]).
pub struct Alone<'a> {
    scope: &'a RequestScope,
}

impl Alone<'_> {
    /// What the password flows of `spaces_tenants::auth::signin` need, in the request's space.
    pub fn auth(&self) -> ApiResult<Auth<'_>> {
        let d = &self.scope.deps;
        Ok(Auth {
            db: &d.db,
            tenant: self.scope.space()?.id,
            hasher: &d.hasher,
            keys: &d.keys,
            limiter: d.limiter.as_ref(),
            refresh_ttl: d.refresh_ttl,
        })
    }
}

/// Counts the root fields of the operation a request runs, fragments spread in place, for
/// [`RequestScope::alone`]. Runs before execution, so the first field already knows.
pub struct RootFields;

impl async_graphql::extensions::ExtensionFactory for RootFields {
    fn create(&self) -> Arc<dyn async_graphql::extensions::Extension> {
        Arc::new(RootFieldsExtension::default())
    }
}

#[derive(Default)]
struct RootFieldsExtension {
    operation: std::sync::Mutex<Option<String>>,
}

/// Root fields of `set`, fragments spread in place, counted only up to 2 (all that
/// [`RequestScope::alone`] asks): the walk stops there, so no document, however its fragments
/// spread each other, costs more than a few steps.
fn count_root(
    set: &async_graphql::parser::types::SelectionSet,
    doc: &async_graphql::parser::types::ExecutableDocument,
    depth: usize,
) -> usize {
    use async_graphql::parser::types::Selection;
    // A cycle of fragments fails validation later; meanwhile count it as more than one.
    if depth > 16 {
        return 2;
    }
    let mut n = 0;
    for item in &set.items {
        n += match &item.node {
            Selection::Field(_) => 1,
            Selection::InlineFragment(f) => count_root(&f.node.selection_set.node, doc, depth + 1),
            Selection::FragmentSpread(sp) => doc
                .fragments
                .get(&sp.node.fragment_name.node)
                .map_or(0, |d| {
                    count_root(&d.node.selection_set.node, doc, depth + 1)
                }),
        };
        if n >= 2 {
            return 2;
        }
    }
    n
}

#[async_trait::async_trait]
impl async_graphql::extensions::Extension for RootFieldsExtension {
    async fn prepare_request(
        &self,
        ctx: &async_graphql::extensions::ExtensionContext<'_>,
        request: async_graphql::Request,
        next: async_graphql::extensions::NextPrepareRequest<'_>,
    ) -> async_graphql::ServerResult<async_graphql::Request> {
        if let Ok(mut slot) = self.operation.lock() {
            slot.clone_from(&request.operation_name);
        }
        next.run(ctx, request).await
    }

    async fn parse_query(
        &self,
        ctx: &async_graphql::extensions::ExtensionContext<'_>,
        query: &str,
        variables: &async_graphql::Variables,
        next: async_graphql::extensions::NextParseQuery<'_>,
    ) -> async_graphql::ServerResult<async_graphql::parser::types::ExecutableDocument> {
        let doc = next.run(ctx, query, variables).await?;
        let wanted = self.operation.lock().ok().and_then(|g| g.clone());
        // The operation that will run: the named one, or the only one. A document whose
        // operation cannot be chosen fails validation anyway; count all of it meanwhile.
        let n = doc
            .operations
            .iter()
            .filter(|(name, _)| {
                wanted
                    .as_deref()
                    .is_none_or(|w| name.is_some_and(|n| n.as_str() == w))
            })
            .map(|(_, op)| count_root(&op.node.selection_set.node, &doc, 0))
            .sum::<usize>();
        if let Some(scope) = ctx.data_opt::<Arc<RequestScope>>() {
            scope.root_fields.fetch_max(n, Ordering::SeqCst);
        }
        Ok(doc)
    }
}
