//! Which space a request is addressed to: `X-Tenant: <slug>` (local use), else the `Host`:
//! `<slug>.<base domain>` or a custom domain. The base domain itself, `localhost` and bare
//! addresses address no space (the platform).

use axum::http::HeaderMap;
use spaces_graphql::Deps;
use spaces_tenants::Result;
use spaces_tenants::spaces::Space;

pub enum Addressed {
    Platform,
    Space(Space),
    Unknown(String),
}

pub async fn resolve(deps: &Deps, headers: &HeaderMap) -> Result<Addressed> {
    let (db, base_domain, spaces) = (&deps.db, deps.base_domain.as_str(), &deps.spaces);
    if let Some(slug) = headers.get("x-tenant").and_then(|v| v.to_str().ok()) {
        let slug = slug.trim().to_ascii_lowercase();
        return Ok(match spaces.by_slug(db, &slug).await? {
            Some(s) => Addressed::Space(s),
            None => Addressed::Unknown(slug),
        });
    }
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
