//! What search engines and link previews read in a page's head, built from
//! the site's canonical base URL: the absolute canonical URL, `hreflang`
//! alternates for every language plus `x-default`, OpenGraph and Twitter
//! card fields, and schema.org JSON-LD (a `BlogPosting` with its publisher
//! on a post, a `WebSite` with a `SearchAction` on a home page), serialised
//! so it cannot end its `<script>` element early.
use sealpost_api::Locale;
use sealpost_api::pages;
use serde_json::{Value, json};

use crate::data::Post;

/// The site as SEO needs it.
#[derive(Debug, Clone)]
pub struct SiteInfo {
    pub name: String,
    /// `https://host[:port]`, no trailing `/`.
    pub base_url: String,
}

/// One `<link rel="alternate" hreflang>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alternate {
    pub hreflang: String,
    pub href: String,
}

/// The head of one page.
#[derive(Debug, Clone)]
pub struct Head {
    pub title: String,
    pub description: String,
    pub canonical: String,
    pub alternates: Vec<Alternate>,
    /// `website` or `article`.
    pub og_type: &'static str,
    /// `og:locale`: `en_US` or `vi_VN`.
    pub og_locale: &'static str,
    pub published_time: Option<String>,
    pub json_ld: Option<String>,
    /// `noindex` for pages search engines should not list.
    pub robots: Option<&'static str>,
    pub feed: String,
}

fn og_locale(lang: Locale) -> &'static str {
    match lang {
        Locale::En => "en_US",
        Locale::Vi => "vi_VN",
    }
}

/// `hreflang` links: each language's page, then `x-default` (the first
/// language given, or `x_default` when set).
fn alternates(
    site: &SiteInfo,
    pages: &[(Locale, String)],
    x_default: Option<&str>,
) -> Vec<Alternate> {
    let mut out: Vec<Alternate> = pages
        .iter()
        .map(|(lang, path)| Alternate {
            hreflang: lang.as_str().to_owned(),
            href: format!("{}{path}", site.base_url),
        })
        .collect();
    let default = x_default
        .map(str::to_owned)
        .or_else(|| pages.first().map(|(_, p)| p.clone()));
    if let Some(path) = default {
        out.push(Alternate {
            hreflang: "x-default".into(),
            href: format!("{}{path}", site.base_url),
        });
    }
    out
}

/// JSON for a `<script type="application/ld+json">`: `<`, `>` and `&` as
/// `\u` escapes, so no text in it can close the element.
pub fn script_json(value: &Value) -> String {
    value
        .to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// The head of a home page (`path` is `/` or `/{lang}/`).
pub fn home(site: &SiteInfo, lang: Locale, path: &str, description: &str, indexable: bool) -> Head {
    let homes: Vec<(Locale, String)> = Locale::ALL
        .iter()
        .map(|l| (*l, pages::home_path(*l)))
        .collect();
    let search = format!(
        "{}{}?q={{search_term_string}}",
        site.base_url,
        pages::home_path(lang)
    );
    let ld = json!({
        "@context": "https://schema.org",
        "@type": "WebSite",
        "name": site.name,
        "url": format!("{}{}", site.base_url, path),
        "inLanguage": lang.as_str(),
        "potentialAction": {
            "@type": "SearchAction",
            "target": {"@type": "EntryPoint", "urlTemplate": search},
            "query-input": "required name=search_term_string",
        },
    });
    Head {
        title: site.name.clone(),
        description: description.to_owned(),
        canonical: format!("{}{path}", site.base_url),
        alternates: alternates(site, &homes, Some("/")),
        og_type: "website",
        og_locale: og_locale(lang),
        published_time: None,
        json_ld: Some(script_json(&ld)),
        robots: (!indexable).then_some("noindex, follow"),
        feed: format!("{}{}", site.base_url, pages::feed_path(lang)),
    }
}

/// The head of a tag page.
pub fn tag(site: &SiteInfo, lang: Locale, tag: &str, title: &str) -> Head {
    let paths: Vec<(Locale, String)> = Locale::ALL
        .iter()
        .map(|l| (*l, pages::tag_path(*l, tag)))
        .collect();
    Head {
        title: format!("{title} · {}", site.name),
        description: title.to_owned(),
        canonical: format!("{}{}", site.base_url, pages::tag_path(lang, tag)),
        alternates: alternates(site, &paths, None),
        og_type: "website",
        og_locale: og_locale(lang),
        published_time: None,
        json_ld: None,
        robots: None,
        feed: format!("{}{}", site.base_url, pages::feed_path(lang)),
    }
}

/// The (language, page path) of every language of `post`, in the order of
/// [`Locale::ALL`].
pub fn post_pages(post: &Post) -> Vec<(Locale, String)> {
    let mut out: Vec<(Locale, String)> = post
        .alternates
        .iter()
        .filter_map(|a| Locale::parse(&a.lang).map(|l| (l, pages::post_path(l, &a.slug))))
        .collect();
    out.sort_by_key(|(l, _)| *l);
    out
}

/// The head of a post page: its own canonical URL, its languages, and a
/// `BlogPosting` naming the site as publisher.
pub fn post(site: &SiteInfo, lang: Locale, post: &Post) -> Head {
    let item = &post.item;
    let path = pages::post_path(lang, &item.slug);
    let url = format!("{}{path}", site.base_url);
    let mut ld = if post.json_ld.is_object() {
        post.json_ld.clone()
    } else {
        json!({"@context": "https://schema.org", "@type": "BlogPosting"})
    };
    ld["headline"] = json!(item.title);
    ld["description"] = json!(item.excerpt);
    ld["inLanguage"] = json!(item.lang);
    ld["datePublished"] = json!(item.published_at);
    if ld.get("dateModified").is_none() {
        ld["dateModified"] = json!(item.published_at);
    }
    ld["author"] = json!({"@type": "Person", "name": item.author.display_name});
    ld["url"] = json!(url);
    ld["mainEntityOfPage"] = json!({"@type": "WebPage", "@id": url});
    ld["publisher"] = json!({"@type": "Organization", "name": site.name, "url": site.base_url});
    Head {
        title: format!("{} · {}", item.title, site.name),
        description: item.excerpt.clone(),
        canonical: url,
        alternates: alternates(site, &post_pages(post), None),
        og_type: "article",
        og_locale: og_locale(lang),
        published_time: Some(item.published_at.clone()),
        json_ld: Some(script_json(&ld)),
        robots: None,
        feed: format!("{}{}", site.base_url, pages::feed_path(lang)),
    }
}

/// The head of a page search engines should not list (account pages, 404).
pub fn private(site: &SiteInfo, lang: Locale, path: &str, title: &str) -> Head {
    let paths: Vec<(Locale, String)> = Locale::ALL
        .iter()
        .map(|l| {
            let rest = path
                .strip_prefix(&format!("/{}", lang.as_str()))
                .unwrap_or(path);
            (*l, format!("/{}{rest}", l.as_str()))
        })
        .collect();
    Head {
        title: format!("{title} · {}", site.name),
        description: title.to_owned(),
        canonical: format!("{}{path}", site.base_url),
        alternates: alternates(site, &paths, None),
        og_type: "website",
        og_locale: og_locale(lang),
        published_time: None,
        json_ld: None,
        robots: Some("noindex"),
        feed: format!("{}{}", site.base_url, pages::feed_path(lang)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_ld_cannot_close_its_script_element() {
        let text = script_json(&json!({"headline": "</script><script>alert(1)</script> & more"}));
        assert!(!text.contains('<') && !text.contains('>') && !text.contains('&'));
        let back: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            back["headline"],
            "</script><script>alert(1)</script> & more"
        );
    }

    #[test]
    fn a_home_page_links_every_language_and_the_language_choosing_root_as_default() {
        let site = SiteInfo {
            name: "Sealpost".into(),
            base_url: "https://blog.example".into(),
        };
        let head = home(&site, Locale::Vi, "/vi/", "", true);
        assert_eq!(head.canonical, "https://blog.example/vi/");
        let links: Vec<(&str, &str)> = head
            .alternates
            .iter()
            .map(|a| (a.hreflang.as_str(), a.href.as_str()))
            .collect();
        assert_eq!(
            links,
            vec![
                ("en", "https://blog.example/en/"),
                ("vi", "https://blog.example/vi/"),
                ("x-default", "https://blog.example/"),
            ]
        );
        assert!(head.json_ld.unwrap().contains("SearchAction"));
    }
}
