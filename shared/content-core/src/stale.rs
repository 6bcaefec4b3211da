//! What a change of a post makes stale, and the purges of it: the edge
//! cache's `GET /posts/{slug}` entries of every slug the post has or had
//! ([`edge_cache::purge`]) and the site worker's cached pages that show it
//! (its page under each slug, the homes, the feeds, the sitemap, its tags'
//! pages: `sealpost_api::pages::pages_showing_post`, through the
//! [`SitePurge`] port). Run after every admin change of a post
//! ([`Content::serve_post_mutation`]) and after the cron publishes; both
//! purges are best effort.
use sealpost_api::routes::RouteId;
use sealpost_api::{ApiRequest, Failure, Locale, Outcome};
use sealpost_ports::{
    Clock, PageCache, PortError, RateLimiter, Rng, SiteDb, SiteId, SitePurge, Sql,
};
use serde::Deserialize;

use crate::edge_cache;
use crate::publish::Published;
use crate::service::Content;

impl<S: Sql, C: Clock, R: Rng, L: RateLimiter, P: PageCache, U: SitePurge>
    Content<'_, S, C, R, L, P, U>
{
    /// Serves an admin change of a post ([`edge_cache::is_post_mutation`]) and, when it
    /// succeeded, purges what the post showed before and after it.
    pub(crate) async fn serve_post_mutation(&self, req: &ApiRequest) -> Outcome {
        let id = req.param("id").unwrap_or_default();
        // A PATCH may rename slugs and retag: note the old ones (only for a
        // caller with a token; without one the change is refused anyway).
        let mut before = if req.id() == RouteId::AdminPostUpdate && req.authorization().is_some() {
            shown(&self.db, id).await?
        } else {
            Shown::default()
        };
        let resp = self.handle(req).await?;
        if (200..300).contains(&resp.status) {
            before.extend(shown(&self.db, id).await?);
            purge(self.pages, self.site_purge, self.db.site(), &before).await;
        }
        Ok(resp)
    }
}

/// Where a post shows: its (language, slug) pairs and its tags.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Shown {
    pub slugs: Vec<(Locale, String)>,
    pub tags: Vec<String>,
}

impl Shown {
    /// Adds what `other` names (a post before and after a change).
    pub fn extend(&mut self, other: Shown) {
        self.slugs.extend(other.slugs);
        self.tags.extend(other.tags);
        self.tidy();
    }

    /// Sorted, without repeats.
    fn tidy(&mut self) {
        self.slugs.sort();
        self.slugs.dedup();
        self.tags.sort();
        self.tags.dedup();
    }
}

/// Where post `id` shows now (empty for an unknown post), in one read.
pub async fn shown<S: Sql>(db: &SiteDb<'_, S>, id: &str) -> Result<Shown, PortError> {
    #[derive(Deserialize)]
    struct Row {
        slugs: String,
        tags: String,
    }
    let row: Option<Row> = db
        .query_one(
            &db.statement(
                "SELECT (SELECT json_group_array(json_array(lang, slug)) FROM post_translations \
                 WHERE site_id = ?1 AND post_id = ?2) AS slugs, \
                 (SELECT json_group_array(tag) FROM post_tags \
                 WHERE site_id = ?1 AND post_id = ?2) AS tags",
            )
            .bind(id),
        )
        .await?;
    let Some(row) = row else {
        return Ok(Shown::default());
    };
    let decode = |e: serde_json::Error| PortError::Decode(e.to_string());
    let pairs: Vec<(String, String)> = serde_json::from_str(&row.slugs).map_err(decode)?;
    let mut out = Shown {
        slugs: pairs
            .into_iter()
            .filter_map(|(lang, slug)| Some((Locale::parse(&lang)?, slug)))
            .collect(),
        tags: serde_json::from_str(&row.tags).map_err(decode)?,
    };
    out.tidy();
    Ok(out)
}

/// Purges every cached copy that shows `shown` of `site`: the edge cache's
/// entries of its slugs and the site's pages.
pub async fn purge(
    pages: &impl PageCache,
    site_purge: &impl SitePurge,
    site: &SiteId,
    shown: &Shown,
) {
    let slugs = shown.slugs.iter().map(|(_, s)| s.clone()).collect();
    edge_cache::purge(pages, site, slugs).await;
    let paths = sealpost_api::pages::pages_showing_post(&shown.slugs, &shown.tags);
    site_purge.purge(site, &paths).await;
}

/// After the cron published `published`: each post's pages are purged like
/// after an editor's publish (a newly public post may also take over the
/// `lang`-less edge-cache key of a slug another post shares).
pub async fn purge_published<S: Sql>(
    sql: &S,
    pages: &impl PageCache,
    site_purge: &impl SitePurge,
    published: &[Published],
) -> Result<(), Failure> {
    for p in published {
        let Ok(site) = SiteId::parse(&p.site_id) else {
            continue;
        };
        let shown = shown(&SiteDb::new(sql, site.clone()), &p.id).await?;
        purge(pages, site_purge, &site, &shown).await;
    }
    Ok(())
}
