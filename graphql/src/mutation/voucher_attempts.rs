//! Failed redemptions are counted per person and per client address, with the sign-in
//! limiter's store (Redis or process memory) and window (15 minutes). Every attempt with codes
//! is counted before any code is looked up, and given back unless it failed with
//! VOUCHER_INVALID; past the limit, the attempt is refused (RATE_LIMITED with Retry-After)
//! before any lookup, and counts nothing.

use spaces_tenants::auth::limiter::address_group;
use spaces_tenants::{Error, Principal};

use crate::RequestScope;
use crate::error::{ApiError, ApiResult};

/// Failed redemptions a person may make in the window.
pub const PERSON_MAX_FAILURES: u64 = 10;
/// Failed redemptions from one client address (IPv6: its /64) over every person of a space.
pub const ADDRESS_MAX_FAILURES: u64 = 30;

pub(crate) struct Attempt {
    keys: [(String, u64); 2],
}

/// Counts the attempt, or refuses it past a limit. `None` when no codes are given.
pub(crate) async fn begin(
    scope: &RequestScope,
    who: &Principal,
    codes: &[String],
) -> ApiResult<Option<Attempt>> {
    if codes.is_empty() {
        return Ok(None);
    }
    let space = scope.space()?.id;
    let person = who.person().map(|(_, p)| p.to_string()).unwrap_or_default();
    let a = Attempt {
        keys: [
            (
                format!("t:{space}:voucher:person:{person}"),
                PERSON_MAX_FAILURES,
            ),
            (
                format!("t:{space}:voucher:ip:{}", address_group(&scope.client)),
                ADDRESS_MAX_FAILURES,
            ),
        ],
    };
    let limiter = scope.deps.limiter.as_ref();
    let mut refused: Option<u64> = None;
    for (k, max) in &a.keys {
        let (n, retry) = limiter.hit(k).await?;
        if n > *max {
            refused = Some(refused.map_or(retry, |r| r.max(retry)));
        }
    }
    if let Some(retry) = refused {
        give_back(scope, &a).await?;
        return Err(Error::RateLimited {
            retry_after_secs: retry.max(1),
        }
        .into());
    }
    Ok(Some(a))
}

async fn give_back(scope: &RequestScope, a: &Attempt) -> ApiResult<()> {
    for (k, _) in &a.keys {
        scope.deps.limiter.forgive(k).await?;
    }
    Ok(())
}

/// Only a VOUCHER_INVALID answer keeps its count.
pub(crate) async fn end<T>(
    scope: &RequestScope,
    attempt: Option<Attempt>,
    result: ApiResult<T>,
) -> ApiResult<T> {
    if let Some(a) = attempt
        && !matches!(
            &result,
            Err(ApiError {
                code: "VOUCHER_INVALID",
                ..
            })
        )
    {
        give_back(scope, &a).await?;
    }
    result
}
