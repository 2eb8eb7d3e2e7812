//! Which space a request is addressed to: the `Host` (`<slug>.<base domain>` or a custom domain),
//! or for local use an `X-Tenant: <slug>` header (unless `SPACES_TENANT_HEADER=false`). The base
//! domain itself, `localhost` and bare addresses address no space (the platform). A `Host` that
//! names one space and an `X-Tenant` that names another is refused: which one was meant?

use axum::http::HeaderMap;
use spaces_graphql::Deps;
use spaces_tenants::Result;
use spaces_tenants::spaces::Space;

pub enum Addressed {
    Platform,
    Space(Space),
    Unknown(String),
}

/// Resolves with the tenant header honoured (the default setting).
pub async fn resolve(deps: &Deps, headers: &HeaderMap) -> Result<Addressed> {
    resolve_with(deps, headers, true).await
}

/// Resolves the request's space; `tenant_header` is `SPACES_TENANT_HEADER` (when false,
/// `X-Tenant` is ignored).
pub async fn resolve_with(
    deps: &Deps,
    headers: &HeaderMap,
    tenant_header: bool,
) -> Result<Addressed> {
    let by_host = resolve_host(deps, headers).await?;
    let header = tenant_header
        .then(|| headers.get("x-tenant"))
        .flatten()
        .map(|v| {
            v.to_str()
                .map(|s| s.trim().to_ascii_lowercase())
                .unwrap_or_default()
        });
    let Some(slug) = header else {
        return Ok(by_host);
    };
    let by_header = match deps.spaces.by_slug(&deps.db, &slug).await? {
        Some(s) => Addressed::Space(s),
        None => Addressed::Unknown(slug),
    };
    match (&by_host, &by_header) {
        (Addressed::Space(h), Addressed::Space(x)) if h.id == x.id => Ok(by_header),
        (Addressed::Space(h), _) => Err(spaces_tenants::Error::refused(
            "TENANT_MISMATCH",
            format!(
                "the Host names the space {:?} and X-Tenant another; send one or make them agree",
                h.slug
            ),
        )),
        _ => Ok(by_header),
    }
}

async fn resolve_host(deps: &Deps, headers: &HeaderMap) -> Result<Addressed> {
    let (db, base_domain, spaces) = (&deps.db, deps.base_domain.as_str(), &deps.spaces);
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let host = strip_port(host).trim_end_matches('.').to_ascii_lowercase();
    if host.is_empty()
        || host == base_domain
        || host == "localhost"
        || host.parse::<std::net::IpAddr>().is_ok()
    {
        return Ok(Addressed::Platform);
    }
    if let Some(slug) = host
        .strip_suffix(base_domain)
        .and_then(|s| s.strip_suffix('.'))
    {
        return Ok(match spaces.by_slug(db, slug).await? {
            Some(s) => Addressed::Space(s),
            None => Addressed::Unknown(host),
        });
    }
    Ok(match spaces.by_domain(db, &host).await? {
        Some(s) => Addressed::Space(s),
        None => Addressed::Unknown(host),
    })
}

fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        // [::1]:8080
        return host
            .split(']')
            .next()
            .map(|h| h.trim_start_matches('['))
            .unwrap_or(host);
    }
    match host.rsplit_once(':') {
        Some((h, p)) if p.chars().all(|c| c.is_ascii_digit()) => h,
        _ => host,
    }
}
