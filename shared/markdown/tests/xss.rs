//! The Markdown renderer against XSS payloads: whatever an author writes,
//! the HTML has no script element, no event-handler attribute, no style or
//! embedding element and no `javascript:`/`data:`/`vbscript:` URL — and
//! ordinary formatting still renders.
use sealpost_markdown::render;

/// Payloads from the usual cheat sheets (OWASP, PortSwigger), adapted to the
/// ways Markdown can carry them: raw HTML, links, images, autolinks,
/// reference definitions, entities and encodings.
const PAYLOADS: &[&str] = &[
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    "<svg/onload=alert(1)>",
    "<body onload=alert(1)>",
    "<iframe src=\"javascript:alert(1)\"></iframe>",
    "<a href=\"javascript:alert(1)\">x</a>",
    "<div style=\"background:url(javascript:alert(1))\">x</div>",
    "<object data=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\"></object>",
    "<embed src=\"javascript:alert(1)\">",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<details open ontoggle=alert(1)>",
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](  javascript:alert(1))",
    "[click](java&#09;script:alert(1))",
    "[click](&#106;avascript:alert(1))",
    "[click](&#x6A;avascript&colon;alert(1))",
    "[click](javascript&#58;alert(1))",
    "[click](<javascript:alert(1)>)",
    "[click](vbscript:msgbox(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![x](javascript:alert(1))",
    "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "![x\" onerror=\"alert(1)](https://e.example/i.png)",
    "[x](https://e.example/\" onmouseover=\"alert(1))",
    "[x](https://e.example/ \"title\\\" onmouseover=\\\"alert(1)\")",
    "<javascript:alert(1)>",
    "[ref]\n\n[ref]: javascript:alert(1)",
    "![ref]\n\n[ref]: javascript:alert(1)",
    "```\n</code><script>alert(1)</script>\n```",
    "`<script>alert(1)</script>`",
    "<!-- --><script>alert(1)</script>",
    "<![CDATA[<script>alert(1)</script>]]>",
    "<a href=\"#\" onclick=\"alert(1)\">x</a>",
    "[x](#\"onclick=\"alert(1))",
    "<<script>script>alert(1)<</script>/script>",
    "<form action=javascript:alert(1)><input type=submit>",
    "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">",
    "<base href=\"javascript:alert(1)//\">",
    "| a |\n|---|\n| <img src=x onerror=alert(1)> |",
    "- [ ] <script>alert(1)</script>",
    "> <iframe srcdoc=\"<script>alert(1)</script>\">",
];

/// Tags and attributes that must never appear.
const FORBIDDEN: &[&str] = &[
    "<script",
    "<iframe",
    "<svg",
    "<object",
    "<embed",
    "<style",
    "<form",
    "<meta",
    "<base",
    "<details",
    "<body",
    "<math",
    "<div",
    "javascript:",
    "vbscript:",
    "data:",
];

/// Every `on…=` inside a tag (attribute position), case-insensitive.
fn has_event_handler(html: &str) -> bool {
    let lower = html.to_ascii_lowercase();
    let mut in_tag = false;
    let mut quote: Option<char> = None;
    let chars: Vec<char> = lower.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        match (in_tag, quote, c) {
            (false, _, '<') => in_tag = true,
            (true, None, '>') => in_tag = false,
            (true, None, '"' | '\'') => quote = Some(c),
            (true, Some(q), c) if c == q => quote = None,
            (true, None, c) if c.is_whitespace() || c == '/' => {
                let rest: String = chars[i + 1..].iter().take(20).collect();
                let rest = rest.trim_start();
                if rest.starts_with("on")
                    && rest[2..]
                        .trim_start_matches(char::is_alphanumeric)
                        .trim_start()
                        .starts_with('=')
                {
                    return true;
                }
            }
            _ => {}
        }
    }
    false
}

/// Every attribute value in the output as written (between quotes in a tag).
fn attribute_values(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        let Some(end) = rest[start..].find('>') else {
            break;
        };
        let tag = &rest[start..start + end];
        for part in tag.split('"').skip(1).step_by(2) {
            out.push(part.to_owned());
        }
        rest = &rest[start + end + 1..];
    }
    out
}

#[test]
fn at_least_twenty_payloads_are_checked() {
    assert!(PAYLOADS.len() >= 20, "{}", PAYLOADS.len());
}

#[test]
fn no_payload_yields_a_script_an_event_handler_or_a_dangerous_url() {
    for payload in PAYLOADS {
        let html = render(payload);
        let lower = html.to_ascii_lowercase();
        for bad in FORBIDDEN {
            // Text content may mention the words escaped; only markup counts.
            if bad.starts_with('<') {
                assert!(!lower.contains(bad), "{payload:?} → {html:?} has {bad}");
            } else {
                for value in attribute_values(&lower) {
                    assert!(
                        !value.trim_start().starts_with(bad),
                        "{payload:?} → {html:?}: {value}"
                    );
                    assert!(!value.contains(bad), "{payload:?} → {html:?}: {value}");
                }
            }
        }
        assert!(!has_event_handler(&html), "{payload:?} → {html:?}");
        // The only input is a task list's disabled checkbox.
        for (i, _) in lower.match_indices("<input") {
            assert!(
                lower[i..].starts_with("<input disabled=\"\" type=\"checkbox\""),
                "{payload:?} → {html:?}"
            );
        }
    }
}

#[test]
fn raw_html_is_shown_as_text() {
    assert_eq!(
        render("<script>alert(1)</script>"),
        "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>\n"
    );
    assert_eq!(
        render("a <b onclick=x>b</b>"),
        "<p>a &lt;b onclick=x&gt;b&lt;/b&gt;</p>\n"
    );
}

#[test]
fn a_refused_link_keeps_its_text_and_a_refused_image_its_alt() {
    assert_eq!(render("[click](javascript:alert(1))"), "<p>click</p>\n");
    assert_eq!(render("![alt](data:image/png;base64,AA)"), "<p>alt</p>\n");
}

#[test]
fn safe_links_images_and_formatting_render() {
    let html = render(
        "## Title\n\n[a](https://e.example/x) [b](/posts/b) [c](mailto:a@e.example) \
         ![i](https://e.example/i.png \"t\")\n\n| h |\n|---|\n| c |\n\n~~del~~ `code`\n\n- [x] done",
    );
    for want in [
        "<h2>Title</h2>",
        "<a href=\"https://e.example/x\">a</a>",
        "<a href=\"/posts/b\">b</a>",
        "<a href=\"mailto:a@e.example\">c</a>",
        "<img src=\"https://e.example/i.png\" alt=\"i\" title=\"t\" />",
        "<table>",
        "<del>del</del>",
        "<code>code</code>",
        "checked=\"\"",
    ] {
        assert!(html.contains(want), "{want} not in {html}");
    }
}

#[test]
fn an_image_cannot_be_a_mailto() {
    assert_eq!(render("![x](mailto:a@e.example)"), "<p>x</p>\n");
}
