//! The pages' templates (askama, compiled and HTML-escaped by default) and
//! the views they are filled from: the layout every page shares (head,
//! header with the language switch, subscribe footer, the scripts' config)
//! and one view per kind of page.
use askama::Template;
use sealpost_api::{Failure, Locale, pages};
use serde_json::json;

use crate::assets;
use crate::data::{Comment, Post, PostItem};
use crate::i18n::Text;
use crate::seo::{self, Head, SiteInfo};

/// What the site's deployment says about its pages.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// Turnstile's site key; without one, no widget is loaded.
    pub turnstile_site_key: Option<String>,
    /// Local development: the subscribe form sends the dev token `dev-pass`.
    pub dev_mode: bool,
}

/// The part every page shares.
#[derive(Debug)]
pub struct Layout {
    pub t: &'static Text,
    pub head: Head,
    pub page: &'static str,
    pub site_name: String,
    pub home_href: String,
    pub switch_href: String,
    pub switch_lang: &'static str,
    pub login_href: String,
    pub signup_href: String,
    pub account_href: String,
    pub css: String,
    pub icon: String,
    /// The page script, once the tree has one.
    pub app_js: Option<String>,
    pub account_js: Option<String>,
    pub config_json: String,
}

fn asset(name: &str) -> String {
    assets::url(name).unwrap_or_default()
}

impl Layout {
    /// The layout of a page of kind `page` in `lang`; `switch_path` is this
    /// page in the other language.
    pub fn new(
        site: &SiteInfo,
        settings: &Settings,
        lang: Locale,
        page: &'static str,
        head: Head,
        switch_path: String,
    ) -> Layout {
        let t = Text::of(lang);
        let other = other(lang);
        let strings: serde_json::Map<String, serde_json::Value> = t
            .script
            .iter()
            .map(|(k, v)| ((*k).to_owned(), json!(v)))
            .collect();
        let turnstile = settings
            .turnstile_site_key
            .clone()
            .filter(|k| !k.is_empty());
        let config = json!({
            "lang": lang.as_str(),
            "intlLocale": t.intl_locale,
            "turnstileSiteKey": turnstile,
            "devTurnstileToken": (turnstile.is_none() && settings.dev_mode).then_some("dev-pass"),
            "sealJs": asset("sealpost_seal.js"),
            "sealWasm": asset("sealpost_seal_bg.wasm"),
            "qrJs": asset("qr.js"),
            "accountPath": format!("/{}/account", lang.as_str()),
            "loginPath": format!("/{}/login", lang.as_str()),
            "strings": strings,
        });
        let account_page = matches!(page, "signup" | "login" | "account");
        Layout {
            t,
            head,
            page,
            site_name: site.name.clone(),
            home_href: pages::home_path(lang),
            switch_href: switch_path,
            switch_lang: other.as_str(),
            login_href: format!("/{}/login", lang.as_str()),
            signup_href: format!("/{}/signup", lang.as_str()),
            account_href: format!("/{}/account", lang.as_str()),
            css: asset("site.css"),
            icon: asset("icon.svg"),
            app_js: assets::url("app.js"),
            account_js: account_page.then(|| assets::url("account.js")).flatten(),
            config_json: seo::script_json(&config),
        }
    }
}

/// The other language.
pub fn other(lang: Locale) -> Locale {
    match lang {
        Locale::En => Locale::Vi,
        Locale::Vi => Locale::En,
    }
}

/// A post in a list.
#[derive(Debug)]
pub struct ItemView {
    pub href: String,
    pub title: String,
    pub excerpt: String,
    pub author: String,
    pub date_iso: String,
    pub date_text: String,
    /// (tag, its page).
    pub tags: Vec<(String, String)>,
}

fn tag_links(lang: Locale, tags: &[String]) -> Vec<(String, String)> {
    tags.iter()
        .map(|t| (t.clone(), pages::tag_path(lang, t)))
        .collect()
}

impl ItemView {
    pub fn new(lang: Locale, item: &PostItem) -> ItemView {
        let t = Text::of(lang);
        ItemView {
            href: pages::post_path(lang, &item.slug),
            title: item.title.clone(),
            excerpt: item.excerpt.clone(),
            author: item.author.display_name.clone(),
            date_iso: item.published_at.clone(),
            date_text: t.date(&item.published_at),
            tags: tag_links(lang, &item.tags),
        }
    }
}

/// A home, search or tag page.
#[derive(Template, Debug)]
#[template(path = "list.html")]
pub struct ListPage {
    pub l: Layout,
    pub heading: String,
    pub search_action: String,
    pub q: String,
    pub posts: Vec<ItemView>,
    pub page: u64,
    pub total_pages: u64,
    pub prev_href: Option<String>,
    pub next_href: Option<String>,
}

/// A comment as the post page shows it.
#[derive(Debug)]
pub struct CommentView {
    pub id: String,
    pub serial: u64,
    pub author: String,
    pub body: String,
    pub date_iso: String,
    pub date_text: String,
}

/// A post page.
#[derive(Template, Debug)]
#[template(path = "post.html")]
pub struct PostPage {
    pub l: Layout,
    pub id: String,
    pub title: String,
    pub author: String,
    pub date_iso: String,
    pub date_text: String,
    pub minutes: u64,
    pub views: u64,
    pub tags: Vec<(String, String)>,
    pub body_html: String,
    pub rating_average: String,
    pub rating_count: u64,
    pub comments: Vec<CommentView>,
    pub newest_serial: u64,
}

/// Minutes a reader needs for `html` at 200 words a minute (at least 1).
pub fn reading_minutes(html: &str) -> u64 {
    let mut words = 0u64;
    let mut in_tag = false;
    let mut in_word = false;
    for c in html.chars() {
        match c {
            '<' => {
                in_tag = true;
                in_word = false;
            }
            '>' => in_tag = false,
            _ if in_tag => {}
            c if c.is_whitespace() => in_word = false,
            _ => {
                if !in_word {
                    words += 1;
                }
                in_word = true;
            }
        }
    }
    words.div_ceil(200).max(1)
}

impl PostPage {
    pub fn new(l: Layout, lang: Locale, post: &Post, comments: &[Comment]) -> PostPage {
        let t = Text::of(lang);
        let item = &post.item;
        PostPage {
            l,
            id: item.id.clone(),
            title: item.title.clone(),
            author: item.author.display_name.clone(),
            date_iso: item.published_at.clone(),
            date_text: t.date(&item.published_at),
            minutes: reading_minutes(&post.body_html),
            views: item.views,
            tags: tag_links(lang, &item.tags),
            body_html: post.body_html.clone(),
            rating_average: item
                .rating
                .average
                .map_or_else(|| t.no_ratings.to_owned(), |a| format!("{a:.1} ★")),
            rating_count: item.rating.count,
            newest_serial: comments.iter().map(|c| c.serial).max().unwrap_or(0),
            comments: comments
                .iter()
                .map(|c| CommentView {
                    id: c.id.clone(),
                    serial: c.serial,
                    author: c.author.display_name.clone(),
                    body: c.body.clone(),
                    date_iso: c.created_at.clone(),
                    date_text: t.date(&c.created_at),
                })
                .collect(),
        }
    }
}

#[derive(Template, Debug)]
#[template(path = "not_found.html")]
pub struct NotFoundPage {
    pub l: Layout,
}

#[derive(Template, Debug)]
#[template(path = "signup.html")]
pub struct SignupPage {
    pub l: Layout,
}

#[derive(Template, Debug)]
#[template(path = "login.html")]
pub struct LoginPage {
    pub l: Layout,
}

#[derive(Template, Debug)]
#[template(path = "account.html")]
pub struct AccountPage {
    pub l: Layout,
}

/// Renders a template (HTML or XML); a failure is the site's own bug,
/// reported as such.
/// The page of an internal failure. It stands alone (no layout): it is
/// shown when what the layout needs, such as the site's base URL, is missing.
#[derive(Template, Debug)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub t: &'static Text,
    pub css: String,
    pub home_href: String,
    /// The request's id, for a report to the operator.
    pub request_id: String,
}

pub fn html(page: &impl Template) -> Result<String, Failure> {
    page.render()
        .map_err(|e| Failure::Codec(format!("template: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reading_time_counts_the_words_of_the_text_not_its_markup() {
        let words = "xin chào ".repeat(200);
        assert_eq!(
            reading_minutes(&format!("<p class=\"a b c\">{words}</p>")),
            2
        );
        assert_eq!(reading_minutes("<p></p>"), 1);
    }
}
