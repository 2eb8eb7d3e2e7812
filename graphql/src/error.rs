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
}

impl ApiError {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            field: None,
            reason: None,
            retry_after_secs: None,
        }
    }

    pub fn bad_input(field: &str, reason: &str) -> Self {
        Self {
            code: "BAD_USER_INPUT",
            message: format!("{field}: {reason}"),
            field: Some(field.to_owned()),
            reason: Some(reason.to_owned()),
            retry_after_secs: None,
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

    pub fn internal() -> Self {
        Self::new("INTERNAL", "internal error")
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        match e {
            Error::Invalid { field, reason } => ApiError::bad_input(&field, &reason),
            Error::NotFound => ApiError::not_found(),
            Error::Unauthenticated(m) => ApiError::unauthenticated(m),
            Error::Forbidden(m) => ApiError::forbidden(m),
            Error::Conflict { field, reason } => ApiError {
                code: "CONFLICT",
                message: format!("{field}: {reason}"),
                field: Some(field.into_owned()),
                reason: Some(reason.into_owned()),
                retry_after_secs: None,
            },
            Error::Refused { code, reason } => ApiError {
                code,
                message: reason.to_string(),
                field: None,
                reason: Some(reason.into_owned()),
                retry_after_secs: None,
            },
            Error::RateLimited { retry_after_secs } => ApiError {
                code: "RATE_LIMITED",
                message: format!("too many attempts; retry in {retry_after_secs} s"),
                field: None,
                reason: None,
                retry_after_secs: Some(retry_after_secs),
            },
            Error::Unavailable { retry_after_secs } => ApiError {
                code: "UNAVAILABLE",
                message: format!("temporarily unavailable; retry in {retry_after_secs} s"),
                field: None,
                reason: None,
                retry_after_secs: Some(retry_after_secs),
            },
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
        })
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// Parses a GraphQL `ID` into a typed id, naming the argument when it is not one.
pub fn parse_id<T: std::str::FromStr>(field: &str, id: &async_graphql::ID) -> ApiResult<T> {
    id.parse::<T>()
        .map_err(|_| ApiError::bad_input(field, "is not a valid id"))
}
