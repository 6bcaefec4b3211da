//! [`SitePurge`]: tells the site worker that pages it may have cached are
//! out of date. The writer of what a page shows (content after a post
//! changes or the cron publishes, comments after a removal) names the page
//! paths (`sealpost_api::pages`); the site deletes its cached copies in this
//! data centre. Best effort, like every cache call: a failed purge leaves a
//! copy that expires at its lifetime.
use crate::SiteId;

/// Purges the site's cached pages.
#[allow(async_fn_in_trait)]
pub trait SitePurge {
    /// Deletes this data centre's cached copies of `paths` (absolute paths
    /// without a query, in every language they are rendered in) of `site`.
    async fn purge(&self, site: &SiteId, paths: &[String]);
}
