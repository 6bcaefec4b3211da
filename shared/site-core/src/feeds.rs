//! What crawlers and feed readers fetch: `sitemap.xml` (every published
//! post in every language, with `xhtml:link` alternates pairing its
//! translations, and the homes), `robots.txt`, and an Atom feed per
//! language. XML through the same escaping templates as the pages.
use std::collections::BTreeMap;

use askama::Template;
use sealpost_api::{Locale, pages};

use crate::data::PostItem;
use crate::seo::{Alternate, SiteInfo};

/// One `<url>` of the sitemap.
#[derive(Debug)]
pub struct SitemapUrl {
    pub loc: String,
    pub lastmod: Option<String>,
    pub alternates: Vec<Alternate>,
}

#[derive(Template, Debug)]
#[template(path = "sitemap.xml")]
pub struct Sitemap {
    pub urls: Vec<SitemapUrl>,
}

/// The sitemap of the homes and of `posts` (every language's published
/// posts): a post's translations are found by its id and each lists all of
/// them, itself included, plus `x-default` (its first language).
pub fn sitemap(site: &SiteInfo, posts: &[PostItem]) -> Sitemap {
    let abs = |path: String| format!("{}{path}", site.base_url);
    let homes: Vec<Alternate> = Locale::ALL
        .iter()
        .map(|l| Alternate {
            hreflang: l.as_str().into(),
            href: abs(pages::home_path(*l)),
        })
        .chain([Alternate {
            hreflang: "x-default".into(),
            href: abs("/".into()),
        }])
        .collect();
    let mut urls: Vec<SitemapUrl> = Locale::ALL
        .iter()
        .map(|l| SitemapUrl {
            loc: abs(pages::home_path(*l)),
            lastmod: None,
            alternates: homes.clone(),
        })
        .collect();
    let mut by_id: BTreeMap<&str, Vec<(Locale, &PostItem)>> = BTreeMap::new();
    for p in posts {
        if let Some(lang) = Locale::parse(&p.lang) {
            by_id.entry(p.id.as_str()).or_default().push((lang, p));
        }
    }
    let mut ordered: Vec<&Vec<(Locale, &PostItem)>> = by_id.values().collect();
    ordered.sort_by(|a, b| b[0].1.published_at.cmp(&a[0].1.published_at));
    for versions in ordered {
        let mut versions = versions.clone();
        versions.sort_by_key(|(l, _)| *l);
        let mut alternates: Vec<Alternate> = versions
            .iter()
            .map(|(l, p)| Alternate {
                hreflang: l.as_str().into(),
                href: abs(pages::post_path(*l, &p.slug)),
            })
            .collect();
        alternates.push(Alternate {
            hreflang: "x-default".into(),
            href: alternates[0].href.clone(),
        });
        for (l, p) in &versions {
            urls.push(SitemapUrl {
                loc: abs(pages::post_path(*l, &p.slug)),
                lastmod: Some(p.published_at.clone()),
                alternates: alternates.clone(),
            });
        }
    }
    Sitemap { urls }
}

/// One entry of a feed.
#[derive(Debug)]
pub struct Entry {
    pub title: String,
    pub url: String,
    pub published: String,
    pub author: String,
    pub summary: String,
    pub tags: Vec<String>,
}

#[derive(Template, Debug)]
#[template(path = "feed.xml")]
pub struct Feed {
    pub lang: &'static str,
    pub title: String,
    pub self_url: String,
    pub home_url: String,
    pub updated: String,
    pub entries: Vec<Entry>,
}

/// The Atom feed of `lang` from its newest posts. `updated` is the newest
/// post's time (a fixed date for an empty feed, so the feed's bytes change
/// only when its posts do).
pub fn atom(site: &SiteInfo, lang: Locale, title: &str, posts: &[PostItem]) -> Feed {
    Feed {
        lang: lang.as_str(),
        title: title.to_owned(),
        self_url: format!("{}{}", site.base_url, pages::feed_path(lang)),
        home_url: format!("{}{}", site.base_url, pages::home_path(lang)),
        updated: posts
            .iter()
            .map(|p| p.published_at.clone())
            .max()
            .unwrap_or_else(|| "2026-01-01T00:00:00Z".into()),
        entries: posts
            .iter()
            .map(|p| Entry {
                title: p.title.clone(),
                url: format!("{}{}", site.base_url, pages::post_path(lang, &p.slug)),
                published: p.published_at.clone(),
                author: p.author.display_name.clone(),
                summary: p.excerpt.clone(),
                tags: p.tags.clone(),
            })
            .collect(),
    }
}

/// `robots.txt`: everything may be crawled but the account pages and the
/// session endpoints; the sitemap's absolute URL.
pub fn robots(site: &SiteInfo) -> String {
    let mut out = String::from("User-agent: *\nAllow: /\n");
    for lang in Locale::ALL {
        for page in ["signup", "login", "account"] {
            out.push_str(&format!("Disallow: /{}/{page}\n", lang.as_str()));
        }
    }
    out.push_str(&format!(
        "Disallow: {}\nSitemap: {}{}\n",
        pages::SESSION_PREFIX,
        site.base_url,
        pages::SITEMAP_PATH
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{Author, Rating};

    fn item(id: &str, lang: &str, slug: &str) -> PostItem {
        PostItem {
            id: id.into(),
            slug: slug.into(),
            lang: lang.into(),
            title: format!("{slug} <&>"),
            excerpt: String::new(),
            tags: vec!["rust".into()],
            published_at: "2026-12-01T00:00:00Z".into(),
            author: Author::default(),
            rating: Rating::default(),
            views: 0,
        }
    }

    fn site() -> SiteInfo {
        SiteInfo {
            name: "S".into(),
            base_url: "https://b.example".into(),
        }
    }

    #[test]
    fn the_sitemap_pairs_each_posts_translations_by_its_id() {
        let posts = [
            item("p1", "en", "hello"),
            item("p1", "vi", "xin-chao"),
            item("p2", "en", "only"),
        ];
        let xml = sitemap(&site(), &posts).render().unwrap();
        assert!(xml.contains("<loc>https://b.example/vi/posts/xin-chao</loc>"));
        let vi_entry = xml
            .split("<url>")
            .find(|u| u.contains("<loc>https://b.example/vi/posts/xin-chao"))
            .unwrap();
        assert!(vi_entry.contains(r#"hreflang="en" href="https://b.example/en/posts/hello""#));
        assert!(
            vi_entry.contains(r#"hreflang="x-default" href="https://b.example/en/posts/hello""#)
        );
        let only = xml
            .split("<url>")
            .find(|u| u.contains("<loc>https://b.example/en/posts/only"))
            .unwrap();
        assert!(!only.contains("hreflang=\"vi\""));
    }

    #[test]
    fn feed_text_is_escaped_as_xml() {
        let xml = atom(&site(), Locale::En, "S", &[item("p1", "en", "hello")])
            .render()
            .unwrap();
        assert!(
            xml.contains("<title>hello &#60;&#38;&#62;</title>")
                || xml.contains("<title>hello &lt;&amp;&gt;</title>"),
            "{xml}"
        );
        assert!(xml.contains("<id>https://b.example/en/posts/hello</id>"));
    }

    #[test]
    fn robots_keeps_crawlers_out_of_accounts_and_names_the_sitemap() {
        let text = robots(&site());
        assert!(text.contains("Disallow: /vi/account\n"));
        assert!(text.ends_with("Sitemap: https://b.example/sitemap.xml\n"));
    }
}
