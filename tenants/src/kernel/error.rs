use std::borrow::Cow;

/// Everything a tenants service can refuse. The GraphQL crate maps each variant to one code.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{field}: {reason}")]
    Invalid {
        field: Cow<'static, str>,
        reason: Cow<'static, str>,
    },
    #[error("not found")]
    NotFound,
    #[error("not signed in: {0}")]
    Unauthenticated(&'static str),
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    #[error("{field}: {reason}")]
    Conflict {
        field: Cow<'static, str>,
        reason: Cow<'static, str>,
    },
    /// A business rule said no; `code` is the client-facing error code (such as
    /// `CAPACITY_REACHED`), the same for every caller in the same situation.
    #[error("{code}: {reason}")]
    Refused {
        code: &'static str,
        reason: Cow<'static, str>,
    },
    #[error("too many attempts, retry in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    /// The server is busy or a dependency is away; the same request may succeed later.
    #[error("temporarily unavailable, retry in {retry_after_secs} s")]
    Unavailable { retry_after_secs: u64 },
    #[error("database error")]
    Db(#[from] sea_orm::DbErr),
    #[error("internal error: {0}")]
    Internal(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn invalid(
        field: impl Into<Cow<'static, str>>,
        reason: impl Into<Cow<'static, str>>,
    ) -> Self {
        Self::Invalid {
            field: field.into(),
            reason: reason.into(),
        }
    }

    pub fn refused(code: &'static str, reason: impl Into<Cow<'static, str>>) -> Self {
        Self::Refused {
            code,
            reason: reason.into(),
        }
    }

    pub fn conflict(
        field: impl Into<Cow<'static, str>>,
        reason: impl Into<Cow<'static, str>>,
    ) -> Self {
        Self::Conflict {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// An id given as input that names nothing (or nothing the caller may see) is bad input on
    /// that field; any other error stays what it is.
    pub fn not_found_as(self, field: &'static str, reason: &'static str) -> Self {
        match self {
            Self::NotFound => Self::invalid(field, reason),
            e => e,
        }
    }

    /// Turns a unique-constraint violation into a field conflict; anything else stays a database error.
    pub fn on_unique(err: sea_orm::DbErr, field: &'static str, reason: &'static str) -> Self {
        match err.sql_err() {
            Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => Self::conflict(field, reason),
            _ => Self::Db(err),
        }
    }
}
