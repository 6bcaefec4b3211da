//! The public links emails carry, and the one HTML escape. A site's links
//! use its canonical host (docs/api.md, Campaigns): the shortest host name
//! of the site that is not an IP address (`example.com` before
//! `www.example.com`; `localhost` locally), always `https://` — the
//! contract wants an https `List-Unsubscribe` URL.
use sealpost_ports::{PortError, Sql, Statement};
use serde::Deserialize;

#[derive(Deserialize)]
struct Host {
    host: String,
}

/// `https://{canonical host}` of `site`; `https://localhost` if the site
/// has no host name at all.
pub async fn site_origin<S: Sql>(sql: &S, site: &str) -> Result<String, PortError> {
    let hosts: Vec<Host> = sql
        .query_as(
            &Statement::new(
                "SELECT host FROM site_hosts WHERE site_id = ?1 ORDER BY length(host), host",
            )
            .bind(site),
        )
        .await?;
    let host = hosts
        .iter()
        .map(|h| h.host.as_str())
        .find(|h| h.parse::<std::net::IpAddr>().is_err())
        .unwrap_or("localhost");
    Ok(format!("https://{host}"))
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
