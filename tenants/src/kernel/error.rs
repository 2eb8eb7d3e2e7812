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
    /// An id given as input names nothing the caller may see in this space: unknown, or
    /// another space's, with the same answer either way. NOT_FOUND on that field.
    #[error("{field}: {reason}")]
    NotFoundField {
        field: Cow<'static, str>,
        reason: Cow<'static, str>,
    },
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
    /// A refusal that carries figures the client needs to act (`SEAT_LIMIT_REACHED` with `seats`
    /// and `used`): each becomes an integer in the error's extensions.
    #[error("{code}: {reason}")]
    RefusedWith {
        code: &'static str,
        reason: Cow<'static, str>,
        figures: Vec<(&'static str, i64)>,
    },
    /// A voucher code that cannot be redeemed. `reason` is the machine word a client switches
    /// on (`expired`, `not_yet_valid`, `revoked`, `exhausted`, `not_applicable`, `mistyped`,
    /// `unknown`); `message` says it to a person. An unknown code and another space's code get
    /// the same one, word for word.
    #[error("VOUCHER_INVALID: {field}: {message}")]
    VoucherInvalid {
        field: Cow<'static, str>,
        reason: &'static str,
        message: Cow<'static, str>,
    },
    #[error("too many attempts, retry in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    /// The database (or another service a request needs) cannot be reached just now; the client
    /// may retry after the given time. Nothing was changed.
    #[error("temporarily unavailable, retry in {retry_after_secs} s")]
    Unavailable { retry_after_secs: u64 },
    #[error("database error")]
    Db(sea_orm::DbErr),
    #[error("internal error: {0}")]
    Internal(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// How long a client is asked to wait when the database cannot be reached: about what a fast
/// restart or a failover takes.
pub const DB_RETRY_AFTER_SECS: u64 = 2;

impl From<sea_orm::DbErr> for Error {
    /// A database that cannot be reached is a passing condition, not a bug: it becomes
    /// `Unavailable` so clients retry; every other database error stays internal.
    fn from(e: sea_orm::DbErr) -> Self {
        if is_connection_error(&e) {
            tracing::warn!(error = %e, "database unreachable");
            Self::Unavailable {
                retry_after_secs: DB_RETRY_AFTER_SECS,
            }
        } else {
            Self::Db(e)
        }
    }
}

/// Whether an error says the connection (not the statement) failed: the pool timed out or is
/// closed, the socket broke, or the server is shutting down or not accepting connections yet.
pub fn is_connection_error(e: &sea_orm::DbErr) -> bool {
    use sea_orm::{DbErr, RuntimeErr};
    match e {
        DbErr::ConnectionAcquire(_) => true,
        DbErr::Conn(RuntimeErr::SqlxError(s))
        | DbErr::Exec(RuntimeErr::SqlxError(s))
        | DbErr::Query(RuntimeErr::SqlxError(s)) => is_sqlx_connection_error(s),
        _ => false,
    }
}

fn is_sqlx_connection_error(e: &sea_orm::sqlx::Error) -> bool {
    use sea_orm::sqlx::Error as E;
    match e {
        E::Io(_) | E::Tls(_) | E::PoolTimedOut | E::PoolClosed | E::WorkerCrashed => true,
        // SQLSTATE class 08 (connection exception), 57P01-57P03 (admin or crash shutdown,
        // cannot connect now).
        E::Database(db) => db
            .code()
            .is_some_and(|c| c.starts_with("08") || matches!(&*c, "57P01" | "57P02" | "57P03")),
        _ => false,
    }
}

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

    pub fn not_found_field(
        field: impl Into<Cow<'static, str>>,
        reason: impl Into<Cow<'static, str>>,
    ) -> Self {
        Self::NotFoundField {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// An id given as input that names nothing (or nothing the caller may see) is NOT_FOUND on
    /// that field; any other error stays what it is.
    pub fn not_found_as(self, field: &'static str, reason: &'static str) -> Self {
        match self {
            Self::NotFound => Self::not_found_field(field, reason),
            e => e,
        }
    }

    /// Turns a unique-constraint violation into a field conflict; anything else stays a database error.
    pub fn on_unique(err: sea_orm::DbErr, field: &'static str, reason: &'static str) -> Self {
        match err.sql_err() {
            Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => Self::conflict(field, reason),
            _ => Self::from(err),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Error;

    #[test]
    fn an_id_naming_nothing_is_not_found_on_its_field_and_other_errors_stay() {
        match Error::NotFound.not_found_as("personId", "no such person") {
            Error::NotFoundField { field, reason } => {
                assert_eq!((&*field, &*reason), ("personId", "no such person"));
            }
            e => panic!("{e:?}"),
        }
        assert!(matches!(
            Error::Forbidden("no").not_found_as("personId", "no such person"),
            Error::Forbidden("no")
        ));
    }
}
