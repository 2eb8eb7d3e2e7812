//! Links in messages open pages that the gateway serves on the space's own host. Scheme and port
//! come from one setting, `SPACES_PUBLIC_URL_TEMPLATE` (such as `https://{host}`), so the links
//! are right behind a TLS proxy and on a developer's `http://{host}:8080` alike.

use crate::{Error, Result};

pub const ACCEPT_INVITATION_PATH: &str = "/accept-invitation";
pub const RESET_PASSWORD_PATH: &str = "/reset-password";
pub const FORGOT_PASSWORD_PATH: &str = "/forgot-password";
pub const CONFIRM_REGISTRATION_PATH: &str = "/confirm-registration";

#[derive(Clone, Debug)]
pub struct Links {
    template: String,
    base_domain: String,
}

impl Links {
    /// `template` must be an http(s) URL whose host is `{host}`, with no path.
    pub fn new(template: &str, base_domain: &str) -> Result<Self> {
        let t = template.trim().trim_end_matches('/');
        let bad = || {
            Error::invalid(
                "SPACES_PUBLIC_URL_TEMPLATE",
                "must be http://{host} or https://{host}, optionally with :port",
            )
        };
        let rest = t
            .strip_prefix("https://")
            .or_else(|| t.strip_prefix("http://"))
            .ok_or_else(bad)?;
        let port = rest.strip_prefix("{host}").ok_or_else(bad)?;
        if !(port.is_empty()
            || port
                .strip_prefix(':')
                .is_some_and(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit())))
        {
            return Err(bad());
        }
        Ok(Self {
            template: t.to_owned(),
            base_domain: base_domain.to_owned(),
        })
    }

    /// `<slug>.<base domain>`: every space is served there.
    pub fn slug_host(&self, slug: &str) -> String {
        format!("{slug}.{}", self.base_domain)
    }

    pub fn origin(&self, host: &str) -> String {
        self.template.replace("{host}", host)
    }

    /// A page on a host, such as `https://campus.example.org/reset-password`.
    pub fn page(&self, host: &str, path: &str) -> String {
        format!("{}{path}", self.origin(host))
    }

    /// The same link on another host of the space (its custom domain).
    pub fn rebase(&self, link: &str, host: &str) -> String {
        let after_scheme = link.find("://").map_or(0, |i| i + 3);
        let path_at = link[after_scheme..]
            .find('/')
            .map_or(link.len(), |i| i + after_scheme);
        format!("{}{}", self.origin(host), &link[path_at..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_follow_the_template() -> Result<()> {
        let l = Links::new("https://{host}", "spaces.example")?;
        let a = l.page(&l.slug_host("ocapiat"), ACCEPT_INVITATION_PATH);
        assert_eq!(a, "https://ocapiat.spaces.example/accept-invitation");
        assert_eq!(
            l.rebase(&format!("{a}?token=x"), "campus.ocapiat.fr"),
            "https://campus.ocapiat.fr/accept-invitation?token=x"
        );
        let dev = Links::new("http://{host}:8080/", "localhost")?;
        assert_eq!(dev.origin("a.localhost"), "http://a.localhost:8080");
        assert!(Links::new("ftp://{host}", "x").is_err());
        assert!(Links::new("https://example.org", "x").is_err());
        assert!(Links::new("https://{host}/path", "x").is_err());
        Ok(())
    }
}
