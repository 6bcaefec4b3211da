//! Which page a path names: the site's half of the page namespace
//! (`sealpost_api::pages` decides which paths are the site's at all).
//! Parsing is total: every path is a [`Page`], unknown ones
//! [`Page::NotFound`] in the language their prefix names.
use sealpost_api::Locale;
use sealpost_api::pages::{self, ASSETS_PREFIX, SESSION_PREFIX, SITEMAP_PATH};

/// What the browser's session endpoints do (`POST` only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionAction {
    /// `POST /session`: keep a refresh token in the cookie.
    Start,
    /// `POST /session/refresh`: a new access token from the cookie.
    Refresh,
    /// `POST /session/end`: forget it (and log out at auth).
    End,
}

/// One page of the site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Page {
    /// `/`: the home page in the visitor's language.
    Root,
    /// `/{lang}` without the slash: sent on to `/{lang}/`.
    LangNoSlash(Locale),
    Home(Locale),
    Post(Locale, String),
    Tag(Locale, String),
    Feed(Locale),
    Signup(Locale),
    Login(Locale),
    Account(Locale),
    Sitemap,
    Robots,
    Favicon,
    Asset(String),
    Session(SessionAction),
    /// `/studio` and everything below it: the console's shell.
    Studio,
    /// Nothing here; shown in this language.
    NotFound(Option<Locale>),
}

impl Page {
    /// The page `path` names.
    pub fn parse(path: &str) -> Page {
        match path {
            "/" => return Page::Root,
            SITEMAP_PATH => return Page::Sitemap,
            "/robots.txt" => return Page::Robots,
            "/favicon.ico" => return Page::Favicon,
            _ => {}
        }
        if let Some(name) = path.strip_prefix(ASSETS_PREFIX) {
            return Page::Asset(name.to_owned());
        }
        if pages::is_studio(path) {
            return Page::Studio;
        }
        if let Some(rest) = path.strip_prefix(SESSION_PREFIX) {
            return match rest {
                "" => Page::Session(SessionAction::Start),
                "/refresh" => Page::Session(SessionAction::Refresh),
                "/end" => Page::Session(SessionAction::End),
                _ => Page::NotFound(None),
            };
        }
        let mut parts = path.trim_start_matches('/').splitn(2, '/');
        let Some(lang) = parts.next().and_then(Locale::parse) else {
            return Page::NotFound(None);
        };
        let Some(rest) = parts.next() else {
            return Page::LangNoSlash(lang);
        };
        let segments: Vec<&str> = rest.split('/').collect();
        match segments.as_slice() {
            [""] => Page::Home(lang),
            ["posts", slug] if is_slug(slug) => Page::Post(lang, (*slug).to_owned()),
            ["tags", tag] if is_slug(tag) => Page::Tag(lang, (*tag).to_owned()),
            ["feed.xml"] => Page::Feed(lang),
            ["signup"] => Page::Signup(lang),
            ["login"] => Page::Login(lang),
            ["account"] => Page::Account(lang),
            _ => Page::NotFound(Some(lang)),
        }
    }

    /// The language the page itself names (`None`: `/` and the language-free files).
    pub fn lang(&self) -> Option<Locale> {
        match self {
            Page::LangNoSlash(l)
            | Page::Home(l)
            | Page::Post(l, _)
            | Page::Tag(l, _)
            | Page::Feed(l)
            | Page::Signup(l)
            | Page::Login(l)
            | Page::Account(l) => Some(*l),
            Page::NotFound(l) => *l,
            _ => None,
        }
    }
}

/// A slug or tag that could exist (anything else is a 404 without asking
/// the API): the API's slug rule at the slug's length.
pub fn is_slug(s: &str) -> bool {
    sealpost_api::slug::is_slug(s, sealpost_api::slug::SLUG_MAX)
}

/// The visitor's language from `Accept-Language`: the supported language
/// with the highest weight (a region is ignored: `vi-VN` is `vi`); English
/// when none is acceptable.
pub fn negotiate(accept_language: Option<&str>) -> Locale {
    let mut best: Option<(Locale, u32)> = None;
    for part in accept_language.unwrap_or_default().split(',') {
        let mut fields = part.split(';');
        let tag = fields
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        let primary = tag.split('-').next().unwrap_or_default();
        let weight = fields
            .find_map(|f| f.trim().strip_prefix("q="))
            .map_or(1000, parse_weight);
        let Some(lang) = Locale::parse(primary) else {
            continue;
        };
        if weight > 0 && best.is_none_or(|(_, w)| weight > w) {
            best = Some((lang, weight));
        }
    }
    best.map(|(l, _)| l).unwrap_or_default()
}

/// A `q` value as thousandths (invalid: 0, never chosen).
fn parse_weight(q: &str) -> u32 {
    let q = q.trim();
    let (int, frac) = q.split_once('.').unwrap_or((q, ""));
    if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return 0;
    }
    let frac_value = format!("{frac:0<3}").parse::<u32>().unwrap_or(0);
    match int {
        "0" => frac_value,
        "1" if frac_value == 0 => 1000,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_page_path_parses_to_its_page() {
        use Locale::{En, Vi};
        for (path, page) in [
            ("/", Page::Root),
            ("/en/", Page::Home(En)),
            ("/vi", Page::LangNoSlash(Vi)),
            ("/vi/posts/xin-chao", Page::Post(Vi, "xin-chao".into())),
            ("/en/tags/rust", Page::Tag(En, "rust".into())),
            ("/vi/feed.xml", Page::Feed(Vi)),
            ("/en/signup", Page::Signup(En)),
            ("/vi/login", Page::Login(Vi)),
            ("/en/account", Page::Account(En)),
            ("/sitemap.xml", Page::Sitemap),
            ("/robots.txt", Page::Robots),
            (
                "/assets/app.0123456789.js",
                Page::Asset("app.0123456789.js".into()),
            ),
            ("/session", Page::Session(SessionAction::Start)),
            ("/session/refresh", Page::Session(SessionAction::Refresh)),
            ("/session/end", Page::Session(SessionAction::End)),
            ("/studio", Page::Studio),
            ("/studio/posts/01HX/edit", Page::Studio),
        ] {
            assert_eq!(Page::parse(path), page, "{path}");
        }
    }

    #[test]
    fn a_path_no_post_could_have_is_not_found_in_its_language() {
        for (path, lang) in [
            ("/en/posts/Hello", Some(Locale::En)),
            ("/vi/posts/", Some(Locale::Vi)),
            ("/en/posts/a/b", Some(Locale::En)),
            ("/en/nope", Some(Locale::En)),
            ("/session/other", None),
            ("/fr/", None),
        ] {
            assert_eq!(Page::parse(path), Page::NotFound(lang), "{path}");
        }
    }

    #[test]
    fn the_visitor_gets_the_supported_language_they_weigh_highest() {
        assert_eq!(negotiate(Some("vi-VN,vi;q=0.9,en;q=0.8")), Locale::Vi);
        assert_eq!(negotiate(Some("fr-FR, en;q=0.5, vi;q=0.7")), Locale::Vi);
        assert_eq!(negotiate(Some("en-GB,en;q=0.9")), Locale::En);
        assert_eq!(negotiate(Some("vi;q=0, en;q=0.1")), Locale::En);
    }

    #[test]
    fn without_an_acceptable_language_the_visitor_gets_english() {
        for header in [
            None,
            Some(""),
            Some("fr, de;q=0.5"),
            Some("vi;q=0"),
            Some("vi;q=2"),
        ] {
            assert_eq!(negotiate(header), Locale::En, "{header:?}");
        }
    }
}
