//! Adding a site, another host for one, or its base URL, without hand-written
//! SQL (`scripts/site`). The statements are all-or-nothing: a host already
//! serving another site, or a site that would be left without a base URL,
//! writes nothing. A deployment's base URL is public (`https://`, not a
//! loopback host); a local database may also take `http://localhost:PORT`.
use sealpost_ports::{BaseUrl, InvalidBaseUrl, SiteId};

/// Which database the statements are for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// Local development (`--local`): loopback base URLs are allowed.
    Local,
    /// A deployment (`--remote`).
    Remote,
}

/// Why a site cannot be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SiteError {
    Host,
    Name,
    BaseUrl(InvalidBaseUrl),
    /// A loopback base URL for a deployment.
    LocalBaseUrl,
}

impl std::fmt::Display for SiteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SiteError::Host => write!(f, "HOST must be a host name without port"),
            SiteError::Name => {
                write!(
                    f,
                    "NAME must be 1-100 characters without quotes or backslashes"
                )
            }
            SiteError::BaseUrl(e) => write!(f, "--base-url: {e}"),
            SiteError::LocalBaseUrl => write!(
                f,
                "--base-url: a deployment's links cannot point at localhost; give its public https:// origin"
            ),
        }
    }
}

impl std::error::Error for SiteError {}

/// What to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteInput<'a> {
    pub site: &'a SiteId,
    pub host: &'a str,
    /// The name of a new site (an existing one keeps its name).
    pub name: &'a str,
    /// The site's base URL; `None` keeps the one it has.
    pub base_url: Option<&'a str>,
    pub target: Target,
}

/// A host name as `site_hosts` holds it: lower case, no port, no trailing dot.
pub fn normalize_host(host: &str) -> Result<String, SiteError> {
    let host = host.trim().trim_end_matches('.').to_ascii_lowercase();
    let ok = !host.is_empty()
        && host.len() <= 253
        && host
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        && !host.starts_with(['-', '.'])
        && !host.ends_with('-');
    if ok { Ok(host) } else { Err(SiteError::Host) }
}

/// A base URL for `target`.
pub fn base_url_for(text: &str, target: Target) -> Result<BaseUrl, SiteError> {
    let url = BaseUrl::parse(text).map_err(SiteError::BaseUrl)?;
    if url.is_local() && target == Target::Remote {
        return Err(SiteError::LocalBaseUrl);
    }
    Ok(url)
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// The statements for `wrangler d1 execute`. The last one answers one row:
/// the site the host now serves (`site_id`, NULL when nothing was written)
/// and that site's `base_url`.
pub fn site_sql(input: &SiteInput<'_>, now: &str) -> Result<String, SiteError> {
    let host = normalize_host(input.host)?;
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.contains(['\'', '"', '\\']) {
        return Err(SiteError::Name);
    }
    let base_url = input
        .base_url
        .map(|u| base_url_for(u, input.target))
        .transpose()?;
    let site = quote(input.site.as_str());
    let host = quote(&host);
    let url = base_url.map_or_else(|| "NULL".to_owned(), |u| quote(u.as_str()));
    Ok(format!(
        "INSERT INTO sites (id, name, created_at, base_url)\n\
         SELECT {site}, {name}, {now}, {url}\n\
         WHERE NOT EXISTS (SELECT 1 FROM site_hosts WHERE host = {host} AND site_id <> {site})\n  \
         AND ({url} IS NOT NULL OR EXISTS (SELECT 1 FROM sites WHERE id = {site}))\n\
         ON CONFLICT (id) DO UPDATE SET base_url = excluded.base_url\n  \
         WHERE excluded.base_url IS NOT NULL;\n\
         INSERT INTO site_hosts (host, site_id) SELECT {host}, {site}\n\
         WHERE EXISTS (SELECT 1 FROM sites WHERE id = {site} AND base_url IS NOT NULL)\n\
         ON CONFLICT (host) DO NOTHING;\n\
         SELECT (SELECT site_id FROM site_hosts WHERE host = {host}) AS site_id,\n  \
         (SELECT base_url FROM sites WHERE id = {site}) AS base_url;\n",
        name = quote(name),
        now = quote(now),
    ))
}

/// The usage of `sealpost-admin site-sql`.
pub const USAGE: &str =
    "usage: sealpost-admin site-sql --local|--remote SITE_ID HOST [NAME] [--base-url URL]";

/// `sealpost-admin site-sql --local|--remote SITE_ID HOST [NAME] [--base-url URL]`:
/// the statements of [`site_sql`] for the command line's arguments.
pub fn cli(args: impl Iterator<Item = String>) -> Result<String, Box<dyn std::error::Error>> {
    let mut target = None;
    let mut base_url = None;
    let mut positional = Vec::new();
    let mut args = args;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--local" => target = Some(Target::Local),
            "--remote" => target = Some(Target::Remote),
            "--base-url" => base_url = Some(args.next().ok_or(USAGE)?),
            _ if arg.starts_with("--") => return Err(USAGE.into()),
            _ => positional.push(arg),
        }
    }
    let (target, [site, host, rest @ ..]) = (target.ok_or(USAGE)?, positional.as_slice()) else {
        return Err(USAGE.into());
    };
    let name = match rest {
        [] => site.as_str(),
        [name] => name.as_str(),
        _ => return Err(USAGE.into()),
    };
    let site = SiteId::parse(site)
        .map_err(|_| "SITE_ID must be 1-32 of [a-z0-9-], starting with a letter or digit")?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_millis();
    let now = sealpost_ports::rfc3339(i64::try_from(now)?);
    let input = SiteInput {
        site: &site,
        host,
        name,
        base_url: base_url.as_deref(),
        target,
    };
    Ok(site_sql(&input, &now)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sealpost_ports::{Sql, Statement};
    use sealpost_testkit::{SqliteDb, block_on};

    fn run(db: &SqliteDb, input: &SiteInput<'_>) -> (Option<String>, Option<String>) {
        let sql = site_sql(input, "2026-12-01T00:00:00Z").expect("valid input");
        let (writes, last) = sql.trim_end().rsplit_once(";\n").expect("statements");
        db.exec_raw(&format!("{writes};"));
        let rows = block_on(db.query(&Statement::new(last))).expect("select");
        let get = |k: &str| rows[0].get(k).and_then(|v| v.as_str()).map(str::to_owned);
        (get("site_id"), get("base_url"))
    }

    fn input<'a>(site: &'a SiteId, host: &'a str, base_url: Option<&'a str>) -> SiteInput<'a> {
        SiteInput {
            site,
            host,
            name: "News",
            base_url,
            target: Target::Remote,
        }
    }

    #[test]
    fn the_default_site_gets_its_base_url_and_a_public_host() {
        let db = SqliteDb::open_migrated();
        let site = SiteId::default_site();
        let got = run(
            &db,
            &input(&site, "News.Example.com", Some("https://news.example.com")),
        );
        assert_eq!(
            got,
            (
                Some("default".into()),
                Some("https://news.example.com".into())
            )
        );
    }

    #[test]
    fn a_new_site_without_a_base_url_writes_nothing() {
        let db = SqliteDb::open_migrated();
        let site = SiteId::parse("blog").unwrap();
        assert_eq!(
            run(&db, &input(&site, "blog.example.com", None)),
            (None, None)
        );
        let sites = block_on(db.query(&Statement::new("SELECT id FROM sites WHERE id = 'blog'")));
        assert!(sites.unwrap().is_empty());
    }

    #[test]
    fn a_host_of_another_site_is_refused_and_that_site_is_not_touched() {
        let db = SqliteDb::open_migrated();
        let blog = SiteId::parse("blog").unwrap();
        run(
            &db,
            &input(&blog, "blog.example.com", Some("https://blog.example.com")),
        );
        let other = SiteId::parse("other").unwrap();
        let got = run(
            &db,
            &input(&other, "blog.example.com", Some("https://other.example")),
        );
        assert_eq!(got, (Some("blog".into()), None));
    }

    #[test]
    fn an_existing_site_keeps_its_base_url_when_none_is_given() {
        let db = SqliteDb::open_migrated();
        let blog = SiteId::parse("blog").unwrap();
        run(
            &db,
            &input(&blog, "blog.example.com", Some("https://blog.example.com")),
        );
        let got = run(&db, &input(&blog, "www.blog.example.com", None));
        assert_eq!(
            got,
            (Some("blog".into()), Some("https://blog.example.com".into()))
        );
    }

    #[test]
    fn a_loopback_base_url_is_only_for_the_local_database() {
        let site = SiteId::default_site();
        let remote = input(&site, "127.0.0.1", Some("http://127.0.0.1:8787"));
        assert_eq!(site_sql(&remote, "now"), Err(SiteError::LocalBaseUrl));
        let local = SiteInput {
            target: Target::Local,
            ..remote
        };
        let db = SqliteDb::open_migrated();
        assert_eq!(
            run(&db, &local),
            (Some("default".into()), Some("http://127.0.0.1:8787".into()))
        );
    }

    #[test]
    fn junk_is_refused_before_any_sql() {
        let site = SiteId::default_site();
        for (host, url, why) in [
            ("bad host", None, SiteError::Host),
            (
                "a.example",
                Some("https://a.example/path"),
                SiteError::BaseUrl(InvalidBaseUrl::NotAnOrigin),
            ),
            (
                "a.example",
                Some("http://a.example"),
                SiteError::BaseUrl(InvalidBaseUrl::PlainHttp),
            ),
        ] {
            assert_eq!(
                site_sql(&input(&site, host, url), "now"),
                Err(why),
                "{host} {url:?}"
            );
        }
        let quoted = SiteInput {
            name: "it's",
            ..input(&site, "a.example", None)
        };
        assert_eq!(site_sql(&quoted, "now"), Err(SiteError::Name));
    }
}
