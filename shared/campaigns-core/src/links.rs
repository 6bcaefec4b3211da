//! The public links emails carry, and the one HTML escape. A site's links
//! start with its canonical base URL (`sealpost_ports::site_base_url`):
//! never a host guessed from `site_hosts`, so a deployment cannot send
//! links to `localhost`.

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
