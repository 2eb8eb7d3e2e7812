//! The only place where errors become GraphQL error codes. Internal errors are logged with
//! their cause chain and answered as `INTERNAL` with nothing of SQL in them.

use async_graphql::ErrorExtensions;
use spaces_tenants::Error;

/// A client-facing error. Deliberately not `Display`: every domain error must pass through
/// `From<Error>` here to reach a client, never through async-graphql's generic conversion.
#[derive(Clone, Debug)]
pub struct ApiError {
    pub code: &'static str,
    pub message: String,
    pub field: Option<String>,
    pub reason: Option<String>,
    pub retry_after_secs: Option<u64>,
    /// Integer extensions a refusal carries (`seats`, `used`).
    pub figures: Box<[(&'static str, i64)]>,
}

impl ApiError {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            field: None,
            reason: None,
            retry_after_secs: None,
            figures: Box::default(),
        }
    }

    pub fn bad_input(field: &str, reason: &str) -> Self {
        Self {
            code: "BAD_USER_INPUT",
            message: format!("{field}: {reason}"),
            field: Some(field.to_owned()),
            reason: Some(reason.to_owned()),
            retry_after_secs: None,
            figures: Box::default(),
        }
    }

    pub fn unauthenticated(message: &str) -> Self {
        Self::new("UNAUTHENTICATED", message)
    }

    pub fn forbidden(message: &str) -> Self {
        Self::new("FORBIDDEN", message)
    }

    pub fn not_found() -> Self {
        Self::new("NOT_FOUND", "not found")
    }

    /// The service cannot answer just now (the database is unreachable); the HTTP layer adds a
    /// `Retry-After` header.
    pub fn unavailable(retry_after_secs: u64) -> Self {
        Self {
            code: "UNAVAILABLE",
            message: format!("temporarily unavailable; retry in {retry_after_secs} s"),
            field: None,
            reason: None,
            retry_after_secs: Some(retry_after_secs),
            figures: Box::default(),
        }
    }

    pub fn internal() -> Self {
        Self::new("INTERNAL", "internal error")
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        match e {
            Error::Invalid { field, reason } => ApiError::bad_input(&field, &reason),
            Error::NotFound => ApiError::not_found(),
            Error::NotFoundField { field, reason } => ApiError {
                code: "NOT_FOUND",
                message: format!("{field}: {reason}"),
                field: Some(field.into_owned()),
                reason: Some(reason.into_owned()),
                retry_after_secs: None,
                figures: Box::default(),
            },
            Error::Unauthenticated(m) => ApiError::unauthenticated(m),
            Error::Forbidden(m) => ApiError::forbidden(m),
            Error::Conflict { field, reason } => ApiError {
                code: "CONFLICT",
                message: format!("{field}: {reason}"),
                field: Some(field.into_owned()),
                reason: Some(reason.into_owned()),
                retry_after_secs: None,
                figures: Box::default(),
            },
            Error::Refused { code, reason } => ApiError {
                code,
                message: reason.to_string(),
                field: None,
                reason: Some(reason.into_owned()),
                retry_after_secs: None,
                figures: Box::default(),
            },
            Error::RefusedWith {
                code,
                reason,
                figures,
            } => ApiError {
                code,
                message: reason.to_string(),
                field: None,
                reason: Some(reason.into_owned()),
                retry_after_secs: None,
                figures: figures.into(),
            },
            Error::VoucherInvalid {
                field,
                reason,
                message,
            } => ApiError {
                code: "VOUCHER_INVALID",
                message: format!("{field}: {message}"),
                field: Some(field.into_owned()),
                reason: Some(reason.to_owned()),
                retry_after_secs: None,
                figures: Box::default(),
            },
            Error::RateLimited { retry_after_secs } => ApiError {
                code: "RATE_LIMITED",
                message: format!("too many attempts; retry in {retry_after_secs} s"),
                field: None,
                reason: None,
                retry_after_secs: Some(retry_after_secs),
                figures: Box::default(),
            },
            Error::Unavailable { retry_after_secs } => ApiError::unavailable(retry_after_secs),
            // Built directly (not through `From<DbErr>`) somewhere: still a passing outage.
            Error::Db(e) if spaces_tenants::kernel::error::is_connection_error(&e) => {
                tracing::warn!(error = %e, "database unreachable");
                ApiError::unavailable(spaces_tenants::kernel::error::DB_RETRY_AFTER_SECS)
            }
            e @ (Error::Db(_) | Error::Internal(_)) => {
                let mut chain = e.to_string();
                let mut src = std::error::Error::source(&e);
                while let Some(s) = src {
                    chain.push_str(": ");
                    chain.push_str(&s.to_string());
                    src = s.source();
                }
                tracing::error!(error = %chain, "internal error");
                ApiError::internal()
            }
        }
    }
}

impl From<ApiError> for async_graphql::Error {
    fn from(e: ApiError) -> Self {
        async_graphql::Error::new(e.message.clone()).extend_with(|_, ext| {
            ext.set("code", e.code);
            if let Some(f) = &e.field {
                ext.set("field", f.as_str());
            }
            if let Some(r) = &e.reason {
                ext.set("reason", r.as_str());
            }
            if let Some(s) = e.retry_after_secs {
                ext.set("retryAfterSeconds", s);
            }
            for (name, value) in &e.figures {
                ext.set(*name, *value);
            }
        })
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// Parses a GraphQL `ID` into a typed id, naming the argument when it is not one.
pub fn parse_id<T: std::str::FromStr>(field: &str, id: &async_graphql::ID) -> ApiResult<T> {
    id.parse::<T>()
        .map_err(|_| ApiError::bad_input(field, "is not a valid id"))
}

/// Names the id a bare NOT_FOUND is about, when the field takes exactly one `ID` argument: the
/// client learns which id named nothing, with the same answer for an unknown id and another
/// space's. Where a call carries several ids, the service names the field itself
/// (`Error::not_found_as`), and this leaves it alone.
pub struct NameTheId;

impl async_graphql::extensions::ExtensionFactory for NameTheId {
    fn create(&self) -> std::sync::Arc<dyn async_graphql::extensions::Extension> {
        std::sync::Arc::new(NameTheId)
    }
}

#[async_trait::async_trait]
impl async_graphql::extensions::Extension for NameTheId {
    async fn resolve(
        &self,
        ctx: &async_graphql::extensions::ExtensionContext<'_>,
        info: async_graphql::extensions::ResolveInfo<'_>,
        next: async_graphql::extensions::NextResolve<'_>,
    ) -> async_graphql::ServerResult<Option<async_graphql::Value>> {
        if info.field.arguments.is_empty() {
            return next.run(ctx, info).await;
        }
        let (parent, name, path) = (info.parent_type, info.name, info.path_node.to_string_vec());
        let given: Vec<String> = info
            .field
            .arguments
            .iter()
            .map(|(n, _)| n.node.to_string())
            .collect();
        next.run(ctx, info).await.map_err(|mut e| {
            let bare_not_found = e.extensions.as_ref().is_some_and(|x| {
                x.get("code") == Some(&async_graphql::Value::from("NOT_FOUND"))
                    && x.get("field").is_none()
            });
            // Only the field's own error: one bubbling up from below is about another id.
            let own = e.path.len() == path.len();
            if bare_not_found
                && own
                && let Some(arg) = sole_id_argument(ctx, parent, name, &given)
                && let Some(x) = e.extensions.as_mut()
            {
                x.set("field", arg);
            }
            e
        })
    }
}

/// The one `ID` (or list of `ID`s) argument of `parent.name` that the query gives, if exactly one.
fn sole_id_argument(
    ctx: &async_graphql::extensions::ExtensionContext<'_>,
    parent: &str,
    name: &str,
    given: &[String],
) -> Option<String> {
    let field = ctx
        .schema_env
        .registry
        .types
        .get(parent)?
        .field_by_name(name)?;
    let mut ids = field.args.values().filter(|a| {
        given.contains(&a.name) && a.ty.trim_matches(|c| matches!(c, '[' | ']' | '!')) == "ID"
    });
    match (ids.next(), ids.next()) {
        (Some(a), None) => Some(a.name.clone()),
        _ => None,
    }
}
