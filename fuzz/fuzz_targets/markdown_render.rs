//! Fuzz target: the Markdown renderer (`sealpost_markdown::render`), the
//! HTML of every post and campaign body. Input: the Markdown (lossy UTF-8).
//! Oracle: no panic, and the output, parsed as a browser parses an HTML
//! fragment (html5ever, through `scraper`), holds only elements and
//! attributes the renderer is meant to write: no `<script>`, no raw HTML
//! element, no `on*` handler attribute, and every `href`/`src` is relative or
//! `http:`/`https:` (plus `mailto:` for links) by the URL standard's scheme
//! rule. The scheme check here is written from the standard, independently
//! of the renderer's own `is_safe_url`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scraper::{Html, Node};
use sealpost_markdown::render;

/// Elements pulldown-cmark writes for CommonMark plus tables, strikethrough
/// and task lists.
const ELEMENTS: &[&str] = &[
    "p",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "em",
    "strong",
    "del",
    "a",
    "img",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "hr",
    "br",
    "input",
];

fn attribute_allowed(element: &str, attr: &str) -> bool {
    matches!(
        (element, attr),
        ("a", "href" | "title")
            | ("img", "src" | "alt" | "title")
            | ("ol", "start")
            | ("code", "class")
            | ("th" | "td", "style")
            | ("input", "type" | "checked" | "disabled")
    )
}

/// The scheme a browser reads from a URL attribute, lower-cased, if any
/// (WHATWG URL: strip leading/trailing C0 controls and spaces, remove tabs
/// and newlines, then `ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":"`).
fn scheme(url: &str) -> Option<String> {
    let cleaned: String = url
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect();
    let t = cleaned.trim_matches(|c: char| c <= ' ');
    let colon = t.find(':')?;
    let s = &t[..colon];
    let mut chars = s.chars();
    let ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    ok.then(|| s.to_ascii_lowercase())
}

fuzz_target!(|data: &[u8]| {
    let markdown = String::from_utf8_lossy(data);
    let html = render(&markdown);
    let doc = Html::parse_fragment(&html);
    // The fragment parser's own `html` root (and its context element) come
    // first; everything else is the renderer's.
    let mut structural = 0;
    for node in doc.tree.nodes() {
        let Node::Element(el) = node.value() else {
            continue;
        };
        let name = el.name();
        if matches!(name, "html" | "body") && structural < 2 && el.attrs().next().is_none() {
            structural += 1;
            continue;
        }
        assert!(ELEMENTS.contains(&name), "element <{name}> in {html:?}");
        for (attr, value) in el.attrs() {
            assert!(!attr.starts_with("on"), "handler {attr} in {html:?}");
            assert!(attribute_allowed(name, attr), "<{name} {attr}> in {html:?}");
            match (name, attr) {
                ("a", "href") => assert!(
                    scheme(value).is_none_or(|s| matches!(s.as_str(), "http" | "https" | "mailto")),
                    "link to {value:?} in {html:?}"
                ),
                ("img", "src") => assert!(
                    scheme(value).is_none_or(|s| matches!(s.as_str(), "http" | "https")),
                    "image from {value:?} in {html:?}"
                ),
                ("th" | "td", "style") => assert!(
                    matches!(
                        value,
                        "text-align: left" | "text-align: center" | "text-align: right"
                    ),
                    "style {value:?} in {html:?}"
                ),
                ("input", "type") => assert_eq!(value, "checkbox"),
                _ => {}
            }
        }
    }
});
