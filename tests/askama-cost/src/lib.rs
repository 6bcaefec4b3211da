//! The wasm bytes askama adds: one page rendered with askama (feature
//! `askama`) or with hand-written escaping, exported so neither is dropped.
#[cfg(feature = "askama")]
mod page {
    use askama::Template;
    #[derive(Template)]
    #[template(path = "page.html")]
    struct Page<'a> { lang: &'a str, title: &'a str, posts: Vec<(&'a str, &'a str)> }
    pub fn render(lang: &str, title: &str, posts: Vec<(&str, &str)>) -> String {
        Page { lang, title, posts }.render().unwrap_or_default()
    }
}
#[cfg(not(feature = "askama"))]
mod page {
    fn escape(s: &str, out: &mut String) {
        for c in s.chars() {
            match c { '<' => out.push_str("&lt;"), '>' => out.push_str("&gt;"), '&' => out.push_str("&amp;"),
                '"' => out.push_str("&quot;"), '\'' => out.push_str("&#39;"), c => out.push(c) }
        }
    }
    pub fn render(lang: &str, title: &str, posts: Vec<(&str, &str)>) -> String {
        let mut o = String::new();
        o.push_str("<!doctype html><html lang=\""); escape(lang, &mut o);
        o.push_str("\"><head><title>"); escape(title, &mut o);
        o.push_str("</title></head>\n<body><h1>"); escape(title, &mut o); o.push_str("</h1><ol>");
        for (slug, t) in posts { o.push_str("<li><a href=\"/"); escape(lang, &mut o); o.push_str("/posts/");
            escape(slug, &mut o); o.push_str("\">"); escape(t, &mut o); o.push_str("</a></li>"); }
        o.push_str("</ol></body></html>"); o
    }
}
#[unsafe(no_mangle)]
pub extern "C" fn render_len(n: u32) -> u32 {
    let posts = (0..n).map(|_| ("a-slug", "A <title>")).collect();
    page::render("en", "Home & more", posts).len() as u32
}
