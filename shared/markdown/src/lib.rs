//! Markdown → HTML that is safe to insert into a page.
//!
//! `pulldown-cmark` parses CommonMark (plus tables, strikethrough and task
//! lists); this crate then changes the event stream before rendering:
//!
//! - raw HTML (blocks and inline tags) is never passed through: it becomes
//!   text, so `<script>` arrives as `&lt;script&gt;` — no element, no event
//!   handler attribute can come from the author;
//! - a link whose destination is not `http:`, `https:`, `mailto:` or
//!   relative loses its `<a>` (its text stays); an image whose source is not
//!   `http:`, `https:` or relative loses its `<img>` (its alt text stays).
//!   The check runs on the destination as the browser would read it
//!   (entities decoded by the parser; tabs and newlines removed; leading
//!   controls and spaces ignored; scheme case-insensitive), and anything with
//!   a malformed scheme is refused, so `javascript:`, `JaVaScRiPt:`,
//!   `java&#09;script:`, `data:`, `vbscript:` never reach an attribute;
//! - heading attributes, math, footnotes and metadata blocks stay off.
//!
//! Every attribute value and text the renderer writes is escaped by it.
//! Decision and alternative (`ammonia`): docs/adr/0011.
#![forbid(unsafe_code)]

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd, html};

fn options() -> Options {
    Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS
}

/// Whether a link (`allow_mailto`) or image destination may be rendered.
pub fn is_safe_url(url: &str, allow_mailto: bool) -> bool {
    // Browsers drop ASCII tab and newlines anywhere in a URL and ignore
    // leading C0 controls and spaces.
    let cleaned: String = url
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect();
    let trimmed = cleaned.trim_start_matches(|c: char| c <= ' ');
    match trimmed.find([':', '/', '?', '#']) {
        Some(i) if trimmed.as_bytes()[i] == b':' => {
            let scheme = &trimmed[..i];
            let well_formed = scheme
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
            if !well_formed {
                return false;
            }
            let scheme = scheme.to_ascii_lowercase();
            scheme == "http" || scheme == "https" || (allow_mailto && scheme == "mailto")
        }
        // No scheme: relative (path, query, fragment or `//host`).
        _ => true,
    }
}

/// Renders `markdown` as safe HTML (see the crate doc).
pub fn render(markdown: &str) -> String {
    let mut out = String::with_capacity(markdown.len() + markdown.len() / 2);
    // For each open link/image: whether its tags were dropped.
    let mut links: Vec<bool> = Vec::new();
    let mut images: Vec<bool> = Vec::new();
    let events = Parser::new_ext(markdown, options()).filter_map(|event| match event {
        Event::Html(raw) | Event::InlineHtml(raw) => Some(Event::Text(raw)),
        Event::Start(Tag::HtmlBlock) => Some(Event::Start(Tag::Paragraph)),
        Event::End(TagEnd::HtmlBlock) => Some(Event::End(TagEnd::Paragraph)),
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) => {
            let safe = is_safe_url(&dest_url, true);
            links.push(!safe);
            safe.then_some(Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            }))
        }
        Event::End(TagEnd::Link) => {
            let dropped = links.pop().unwrap_or(false);
            (!dropped).then_some(Event::End(TagEnd::Link))
        }
        Event::Start(Tag::Image {
            link_type,
            dest_url,
            title,
            id,
        }) => {
            let safe = is_safe_url(&dest_url, false);
            images.push(!safe);
            safe.then_some(Event::Start(Tag::Image {
                link_type,
                dest_url,
                title,
                id,
            }))
        }
        Event::End(TagEnd::Image) => {
            let dropped = images.pop().unwrap_or(false);
            (!dropped).then_some(Event::End(TagEnd::Image))
        }
        other => Some(other),
    });
    html::push_html(&mut out, events);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_markdown_renders() {
        assert_eq!(
            render("# Hi\n\n*a* **b**"),
            "<h1>Hi</h1>\n<p><em>a</em> <strong>b</strong></p>\n"
        );
        assert!(
            render("[x](https://e.example/a?b=1&c=2)")
                .contains("href=\"https://e.example/a?b=1&amp;c=2\"")
        );
    }

    #[test]
    fn schemes_are_checked_as_a_browser_reads_them() {
        for ok in [
            "https://a",
            "HTTP://a",
            "/p",
            "p",
            "#f",
            "?q",
            "//host/p",
            "mailto:a@b",
        ] {
            assert!(is_safe_url(ok, true), "{ok}");
        }
        for bad in [
            "javascript:x",
            " JavaScript:x",
            "java\tscript:x",
            "\u{1}javascript:x",
            "data:x",
            "vbscript:x",
            "jav\u{fffd}ascript:x",
            ":x",
        ] {
            assert!(!is_safe_url(bad, true), "{bad:?}");
        }
        assert!(!is_safe_url("mailto:a@b", false));
    }
}
