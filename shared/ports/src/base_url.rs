//! [`BaseUrl`]: a site's canonical origin, the one every absolute link it
//! sends (confirmation, unsubscribe) starts with. An absolute
//! `https://host[:port]` without path, query or fragment; `http://` only on a
//! loopback host (`localhost`, `*.localhost`, `127.0.0.0/8`), which is local
//! development and never valid in a deployment ([`BaseUrl::is_local`]).
//! A site's own one is read from `sites.base_url` ([`site_base_url`], set
//! with `scripts/site --base-url`; docs/adr/0016), together with its name
//! ([`site_profile`]): never a host guessed from `site_hosts`, so a
//! deployment cannot link to `localhost`.
use std::fmt;
use std::net::Ipv4Addr;

use serde::Deserialize;

use crate::{PortError, SiteDb, SiteId, Sql};

/// A validated, normalised (lower-case, no trailing `/`) site origin.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BaseUrl {
    origin: String,
    local: bool,
}

/// Why a text is not a [`BaseUrl`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvalidBaseUrl {
    /// Not `scheme://authority` with scheme `https` or `http`.
    Scheme,
    /// A path (other than one trailing `/`), query, fragment or user info.
    NotAnOrigin,
    /// The host is not a DNS name or an IPv4 address.
    Host,
    /// The port is not a number from 1 to 65535.
    Port,
    /// `http://` on a host that is not loopback.
    PlainHttp,
}

impl fmt::Display for InvalidBaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            InvalidBaseUrl::Scheme => "a base URL starts with https://",
            InvalidBaseUrl::NotAnOrigin => {
                "a base URL is an origin: no path, query, fragment or user info"
            }
            InvalidBaseUrl::Host => "the base URL's host is not a host name",
            InvalidBaseUrl::Port => "the base URL's port is not 1-65535",
            InvalidBaseUrl::PlainHttp => "http:// is only for localhost in local development",
        })
    }
}

impl std::error::Error for InvalidBaseUrl {}

impl BaseUrl {
    /// Parses `https://host[:port]` (or `http://` on a loopback host), case
    /// insensitively, with at most one trailing `/`.
    pub fn parse(text: &str) -> Result<BaseUrl, InvalidBaseUrl> {
        let text = text.trim().to_ascii_lowercase();
        let (scheme, rest) = text.split_once("://").ok_or(InvalidBaseUrl::Scheme)?;
        if scheme != "https" && scheme != "http" {
            return Err(InvalidBaseUrl::Scheme);
        }
        let authority = rest.strip_suffix('/').unwrap_or(rest);
        if authority.contains(['/', '?', '#', '@', '\\']) {
            return Err(InvalidBaseUrl::NotAnOrigin);
        }
        let (host, port) = match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        };
        let local = if let Ok(ip) = host.parse::<Ipv4Addr>() {
            ip.is_loopback()
        } else if is_dns_name(host) {
            host == "localhost" || host.ends_with(".localhost")
        } else {
            return Err(InvalidBaseUrl::Host);
        };
        if let Some(port) = port {
            let ok = !port.is_empty()
                && port.len() <= 5
                && port.bytes().all(|b| b.is_ascii_digit())
                && port.parse::<u32>().is_ok_and(|p| (1..=65_535).contains(&p));
            if !ok {
                return Err(InvalidBaseUrl::Port);
            }
        }
        if scheme == "http" && !local {
            return Err(InvalidBaseUrl::PlainHttp);
        }
        Ok(BaseUrl {
            origin: format!("{scheme}://{authority}"),
            local,
        })
    }

    /// `scheme://host[:port]`, without a trailing `/`.
    pub fn as_str(&self) -> &str {
        &self.origin
    }

    /// A loopback host: the reader's own machine. Only for local development.
    pub fn is_local(&self) -> bool {
        self.local
    }
}

/// Dot-separated labels of `[a-z0-9-]`, 1–63 each, not starting or ending
/// with `-`, 253 characters at most; the last label is not all digits.
fn is_dns_name(host: &str) -> bool {
    let labels_ok = host.split('.').all(|label| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    });
    let last_is_name = host
        .rsplit('.')
        .next()
        .is_some_and(|l| !l.bytes().all(|b| b.is_ascii_digit()));
    !host.is_empty() && host.len() <= 253 && labels_ok && last_is_name
}

impl fmt::Display for BaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.origin)
    }
}

/// What the `sites` row says of a site: its name and its base URL as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteProfile {
    site: SiteId,
    /// The site's display name (`sites.name`).
    pub name: String,
    stored_base_url: Option<String>,
}

impl SiteProfile {
    /// The site's base URL; [`PortError::NotConfigured`] when it has none
    /// (or an invalid one), so no link is built rather than a wrong one.
    pub fn base_url(&self) -> Result<BaseUrl, PortError> {
        let site = &self.site;
        let text = self.stored_base_url.as_deref().ok_or_else(|| {
            PortError::NotConfigured(format!(
                "site {site} has no base URL (scripts/site --base-url)"
            ))
        })?;
        BaseUrl::parse(text).map_err(|e| {
            PortError::NotConfigured(format!("site {site} has an invalid base URL: {e}"))
        })
    }
}

/// The `sites` row of `db`'s site, in one read;
/// [`PortError::NotConfigured`] when there is none.
pub async fn site_profile<S: Sql>(db: &SiteDb<'_, S>) -> Result<SiteProfile, PortError> {
    #[derive(Deserialize)]
    struct Row {
        name: String,
        base_url: Option<String>,
    }
    // `sites` is global; the derived table names its key `site_id` so the
    // site-scoped handle accepts the read as constrained by the site.
    let row: Option<Row> = db
        .query_one(&db.statement(
            "SELECT name, base_url FROM (SELECT id AS site_id, name, base_url FROM sites) \
             WHERE site_id = ?1",
        ))
        .await?;
    let site = db.site().clone();
    let row = row.ok_or_else(|| PortError::NotConfigured(format!("no site {site}")))?;
    Ok(SiteProfile {
        site,
        name: row.name,
        stored_base_url: row.base_url,
    })
}

/// The base URL of `db`'s site ([`SiteProfile::base_url`]).
pub async fn site_base_url<S: Sql>(db: &SiteDb<'_, S>) -> Result<BaseUrl, PortError> {
    site_profile(db).await?.base_url()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_https_origin_is_normalised() {
        let url = BaseUrl::parse(" HTTPS://Blog.Example.com/ ").unwrap();
        assert_eq!(url.as_str(), "https://blog.example.com");
        assert!(!url.is_local());
        let url = BaseUrl::parse("https://example.com:8443").unwrap();
        assert_eq!(url.to_string(), "https://example.com:8443");
    }

    #[test]
    fn plain_http_is_accepted_only_on_a_loopback_host_which_is_local() {
        for local in [
            "http://localhost:8787",
            "http://127.0.0.1:41234",
            "http://api.localhost",
            "https://localhost",
        ] {
            assert!(BaseUrl::parse(local).unwrap().is_local(), "{local}");
        }
        assert_eq!(
            BaseUrl::parse("http://example.com"),
            Err(InvalidBaseUrl::PlainHttp)
        );
        assert_eq!(
            BaseUrl::parse("http://10.0.0.1:8787"),
            Err(InvalidBaseUrl::PlainHttp)
        );
    }

    #[test]
    fn anything_but_an_origin_is_refused_with_its_reason() {
        for (text, why) in [
            ("", InvalidBaseUrl::Scheme),
            ("example.com", InvalidBaseUrl::Scheme),
            ("ftp://example.com", InvalidBaseUrl::Scheme),
            ("//example.com", InvalidBaseUrl::Scheme),
            ("https://example.com/news", InvalidBaseUrl::NotAnOrigin),
            ("https://example.com//", InvalidBaseUrl::NotAnOrigin),
            ("https://example.com?x=1", InvalidBaseUrl::NotAnOrigin),
            ("https://example.com#top", InvalidBaseUrl::NotAnOrigin),
            ("https://user@example.com", InvalidBaseUrl::NotAnOrigin),
            ("https://", InvalidBaseUrl::Host),
            ("https://exa mple.com", InvalidBaseUrl::Host),
            ("https://-a.example", InvalidBaseUrl::Host),
            ("https://a..example", InvalidBaseUrl::Host),
            ("https://999.1.1.1", InvalidBaseUrl::Host),
            ("https://[::1]", InvalidBaseUrl::Host),
            ("https://example.com:", InvalidBaseUrl::Port),
            ("https://example.com:0", InvalidBaseUrl::Port),
            ("https://example.com:65536", InvalidBaseUrl::Port),
            ("https://example.com:+80", InvalidBaseUrl::Port),
            ("https://example.com:1:2", InvalidBaseUrl::Port),
        ] {
            assert_eq!(BaseUrl::parse(text), Err(why), "{text:?}");
        }
    }
}
