//! The public reads: `GET /posts` (newest first, tag filter, full-text
//! search, offset paging) and `GET /posts/{slug}` (one language version,
//! with its alternates), both with `ETag`/`Cache-Control` and 304s. A
//! post's links (its alternates' `url`, its JSON-LD `url`) are its site
//! pages under the site's base URL (`sealpost_api::pages::post_path`); each
//! alternate keeps its API URL as `apiUrl`.

use sealpost_api::query::{OffsetPaging, Query};
use sealpost_api::{ApiRequest, ApiResponse, Locale, PageInfo, Validator};
use sealpost_ports::{
    Clock, PageCache, RateLimiter, Rng, SitePurge, Sql, SqlValue, rfc3339, site_profile,
};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Answer, Content, Failure, api_url, fts_query, not_found, page_url};
use crate::cache;
use crate::model::{self, Author, PublicItem, QUERY_MAX, Rating};

/// A row of `GET /posts`.
#[derive(Deserialize)]
struct PublicRow {
    id: String,
    slug: String,
    lang: String,
    title: String,
    excerpt: String,
    #[serde(default)]
    body_html: String,
    published_at: Option<i64>,
    updated_at: i64,
    author_id: String,
    author_name: Option<String>,
    tags: String,
    rating_sum: i64,
    rating_count: i64,
    view_count: i64,
}

impl PublicRow {
    fn item(&self) -> PublicItem {
        PublicItem {
            id: self.id.clone(),
            slug: self.slug.clone(),
            lang: self.lang.clone(),
            title: self.title.clone(),
            excerpt: self.excerpt.clone(),
            tags: serde_json::from_str(&self.tags).unwrap_or_default(),
            published_at: model::published(self.published_at),
            author: Author {
                id: self.author_id.clone(),
                display_name: self.author_name.clone().unwrap_or_default(),
            },
            rating: Rating::of(self.rating_sum, self.rating_count),
            views: u64::try_from(self.view_count).unwrap_or(0),
        }
    }
}

const PUBLIC_COLUMNS: &str = "p.id, t.slug, t.lang, t.title, t.excerpt, p.published_at, \
     p.updated_at, p.author_id, u.display_name AS author_name, \
     p.rating_sum, p.rating_count, p.view_count, \
     (SELECT json_group_array(tag) FROM (SELECT g.tag FROM post_tags g \
       WHERE g.post_id = p.id ORDER BY g.position)) AS tags";

const PUBLIC_FROM: &str = "FROM posts p \
     JOIN post_translations t ON t.post_id = p.id AND t.site_id = p.site_id \
     LEFT JOIN users u ON u.id = p.author_id AND u.site_id = p.site_id";

impl<S: Sql, C: Clock, R: Rng, L: RateLimiter, P: PageCache, U: SitePurge>
    Content<'_, S, C, R, L, P, U>
{
    // ---- public reads ------------------------------------------------------

    fn lang(query: &Query, v: &mut Validator) -> Option<&'static str> {
        let lang = query.get("lang")?;
        let found = Locale::parse(lang).map(Locale::as_str);
        if found.is_none() {
            v.one_of("lang", lang, &Locale::NAMES);
        }
        found
    }

    pub(super) async fn public_list(&self, input: &ApiRequest) -> Answer {
        let paging = OffsetPaging::from_query(&input.query)?;
        let mut v = Validator::new();
        let lang = Self::lang(&input.query, &mut v).unwrap_or("en");
        let tag = input.query.get_nonblank("tag").map(str::to_lowercase);
        if let Some(tag) = &tag {
            v.check(
                model::is_slug(tag, model::TAG_MAX),
                "tag",
                "Must be a tag: a-z, 0-9 and '-'",
            );
        }
        let q = input.query.get_nonblank("q");
        if let Some(q) = q {
            v.text_len("q", q, 1, QUERY_MAX);
        }
        v.finish()?;
        let fts = match q {
            Some(q) => match fts_query(q) {
                Some(m) => Some(m),
                // Nothing searchable: no result, no query.
                None => {
                    let resp =
                        ApiResponse::offset_list::<PublicItem>(&[], PageInfo::new(&paging, 0));
                    return Ok(cache::conditional(resp, input.header("if-none-match")));
                }
            },
            None => None,
        };
        let mut filter =
            String::from("WHERE p.site_id = ?1 AND p.status = 'published' AND t.lang = ?2");
        let mut n = 2;
        if tag.is_some() {
            n += 1;
            filter.push_str(&format!(
                " AND EXISTS (SELECT 1 FROM post_tags g WHERE g.site_id = ?1 \
                 AND g.post_id = p.id AND g.tag = ?{n})"
            ));
        }
        if fts.is_some() {
            n += 1;
            filter.push_str(&format!(
                " AND t.id IN (SELECT rowid FROM post_fts WHERE post_fts MATCH ?{n})"
            ));
        }
        let mut binds = vec![SqlValue::from(lang)];
        binds.extend(tag.as_deref().map(SqlValue::from));
        binds.extend(fts.as_deref().map(SqlValue::from));
        let (rows, total): (Vec<PublicRow>, _) = self
            .db
            .offset_page(
                PUBLIC_COLUMNS,
                &format!("{PUBLIC_FROM} {filter}"),
                &binds,
                "p.published_at DESC, p.id DESC",
                paging.limit(),
                paging.offset(),
            )
            .await?;
        let page = PageInfo::new(&paging, total);
        let items: Vec<PublicItem> = rows.iter().map(PublicRow::item).collect();
        let resp = ApiResponse::offset_list(&items, page);
        Ok(cache::conditional(resp, input.header("if-none-match")))
    }

    pub(super) async fn public_get(
        &self,
        input: &ApiRequest,
        if_none_match: Option<&str>,
    ) -> Answer {
        let mut v = Validator::new();
        let lang = Self::lang(&input.query, &mut v);
        v.finish()?;
        let slug = input.param("slug").unwrap_or_default();
        if !model::is_slug(slug, model::SLUG_MAX) {
            return Err(not_found());
        }
        // Without `lang`, the slug in any language, English first.
        let stmt = match lang {
            Some(lang) => self
                .db
                .statement(&format!(
                    "SELECT {PUBLIC_COLUMNS}, t.body_html {PUBLIC_FROM} \
                     WHERE p.site_id = ?1 AND p.status = 'published' AND t.lang = ?2 AND t.slug = ?3"
                ))
                .bind(lang)
                .bind(slug),
            None => self
                .db
                .statement(&format!(
                    "SELECT {PUBLIC_COLUMNS}, t.body_html {PUBLIC_FROM} \
                     WHERE p.site_id = ?1 AND p.status = 'published' AND t.slug = ?2 \
                     ORDER BY t.lang = 'en' DESC LIMIT 1"
                ))
                .bind(slug),
        };
        let row: PublicRow = self.db.query_one(&stmt).await?.ok_or_else(not_found)?;
        #[derive(Deserialize)]
        struct Alt {
            lang: String,
            slug: String,
        }
        let alternates: Vec<Alt> = self
            .db
            .query_as(
                &self
                    .db
                    .statement(
                        "SELECT lang, slug FROM post_translations WHERE site_id = ?1 AND post_id = ?2 \
                         ORDER BY lang",
                    )
                    .bind(row.id.as_str()),
            )
            .await?;
        let item = row.item();
        // Links to the site's pages: absolute under its base URL (a site
        // without one gets paths relative to its origin).
        let profile = site_profile(&self.db).await?;
        let base = profile.base_url().ok();
        let page = |lang: &str, slug: &str| {
            Locale::parse(lang).map(|lang| page_url(base.as_ref(), lang, slug))
        };
        let url = page(&row.lang, &row.slug);
        let mut publisher = json!({"@type": "Organization", "name": profile.name});
        if let Some(base) = &base {
            publisher["url"] = Value::String(base.to_string());
        }
        let json_ld = json!({
            "@context": "https://schema.org",
            "@type": "BlogPosting",
            "headline": item.title,
            "description": item.excerpt,
            "inLanguage": item.lang,
            "datePublished": item.published_at,
            "dateModified": rfc3339(row.updated_at),
            "author": {"@type": "Person", "name": item.author.display_name},
            "publisher": publisher,
            "keywords": item.tags.join(", "),
            "url": url,
            "mainEntityOfPage": url,
        });
        let mut data = serde_json::to_value(&item).map_err(|e| Failure::Codec(e.to_string()))?;
        data["bodyHtml"] = Value::String(row.body_html.clone());
        data["alternates"] = alternates
            .iter()
            .map(|a| {
                json!({
                    "lang": a.lang,
                    "slug": a.slug,
                    "url": page(&a.lang, &a.slug),
                    "apiUrl": api_url(&a.slug, &a.lang),
                })
            })
            .collect();
        data["jsonLd"] = json_ld;
        Ok(cache::conditional(ApiResponse::query(&data), if_none_match))
    }
}
