//! The public links emails carry, and the one HTML escape. A site's links
//! start with its canonical base URL (`sites.base_url`, set with
//! `scripts/site --base-url`; docs/adr/0016): never a host guessed from
//! `site_hosts`, so a deployment cannot send links to `localhost`.
use sealpost_ports::{BaseUrl, PortError, SiteDb, Sql};
use serde::Deserialize;

#[derive(Deserialize)]
struct Site {
    base_url: Option<String>,
}

/// The base URL of `db`'s site (`https://host[:port]`, no trailing `/`);
/// [`PortError::NotConfigured`] when the site has none (or an invalid one),
/// so no link is built rather than a wrong one.
pub async fn site_origin<S: Sql>(db: &SiteDb<'_, S>) -> Result<String, PortError> {
    // `sites` is global; the derived table names its key `site_id` so the
    // site-scoped handle accepts the read as constrained by the site.
    let row: Option<Site> = db
        .query_one(&db.statement(
            "SELECT base_url FROM (SELECT id AS site_id, base_url FROM sites) WHERE site_id = ?1",
        ))
        .await?;
    let site = db.site();
    let text = row.and_then(|r| r.base_url).ok_or_else(|| {
        PortError::NotConfigured(format!(
            "site {site} has no base URL (scripts/site --base-url)"
        ))
    })?;
    let url = BaseUrl::parse(&text).map_err(|e| {
        PortError::NotConfigured(format!("site {site} has an invalid base URL: {e}"))
    })?;
    Ok(url.as_str().to_owned())
}

/// `{origin}/unsubscribe?token={token}` (the token is URL-safe as it is).
pub fn unsubscribe_url(origin: &str, token: &str) -> String {
    format!("{origin}/unsubscribe?token={token}")
}

/// `{origin}/subscribe/confirm?token={token}`.
pub fn confirm_url(origin: &str, token: &str) -> String {
    format!("{origin}/subscribe/confirm?token={token}")
}

/// The RFC 2369 / RFC 8058 headers of every list email.
pub fn list_unsubscribe_headers(unsubscribe_url: &str) -> Vec<(String, String)> {
    vec![
        (
            "List-Unsubscribe".to_owned(),
            format!("<{unsubscribe_url}>"),
        ),
        (
            "List-Unsubscribe-Post".to_owned(),
            "List-Unsubscribe=One-Click".to_owned(),
        ),
    ]
}

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use sealpost_ports::SiteId;
    use sealpost_testkit::{SqliteDb, block_on};

    #[test]
    fn the_default_site_links_to_its_base_url_not_localhost() {
        let db = SqliteDb::open_migrated();
        db.exec_raw("UPDATE sites SET base_url = 'https://news.example.com' WHERE id = 'default'");
        let site = SiteDb::new(&db, SiteId::parse("default").unwrap());
        assert_eq!(
            block_on(site_origin(&site)).unwrap(),
            "https://news.example.com"
        );
    }

    #[test]
    fn a_site_without_a_base_url_builds_no_links() {
        let db = SqliteDb::open_migrated();
        let origin = block_on(site_origin(&SiteDb::new(&db, SiteId::default_site())));
        assert!(
            matches!(&origin, Err(PortError::NotConfigured(why)) if why.contains("default")),
            "{origin:?}"
        );
    }

    #[test]
    fn list_headers_follow_rfc_8058() {
        let h = list_unsubscribe_headers("https://example.com/unsubscribe?token=a.b");
        assert_eq!(h[0].1, "<https://example.com/unsubscribe?token=a.b>");
        assert_eq!(
            h[1],
            (
                "List-Unsubscribe-Post".into(),
                "List-Unsubscribe=One-Click".into()
            )
        );
    }

    #[test]
    fn escape_covers_markup_and_quotes() {
        assert_eq!(
            escape(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }
}
