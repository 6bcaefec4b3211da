//! [`MemSitePurge`]: the [`SitePurge`] port in memory. It records every call
//! (the site and the page paths, in order) so a test can assert which of
//! the site's cached pages a change named stale.
use std::cell::RefCell;

use sealpost_ports::{SiteId, SitePurge};

/// The site worker's purge endpoint, as a list of the calls it received.
#[derive(Debug, Default)]
pub struct MemSitePurge {
    calls: RefCell<Vec<(SiteId, Vec<String>)>>,
}

impl MemSitePurge {
    pub fn new() -> Self {
        Self::default()
    }

    /// Every call so far, oldest first: the site and the paths it named.
    pub fn calls(&self) -> Vec<(SiteId, Vec<String>)> {
        self.calls.borrow().clone()
    }

    /// Every path purged for `site`, over all calls (sorted, no repeats).
    pub fn purged(&self, site: &SiteId) -> Vec<String> {
        let mut paths: Vec<String> = self
            .calls
            .borrow()
            .iter()
            .filter(|(s, _)| s == site)
            .flat_map(|(_, p)| p.iter().cloned())
            .collect();
        paths.sort();
        paths.dedup();
        paths
    }

    /// Forgets the calls so far (a test's next step starts clean).
    pub fn clear(&self) {
        self.calls.borrow_mut().clear();
    }
}

impl SitePurge for MemSitePurge {
    async fn purge(&self, site: &SiteId, paths: &[String]) {
        self.calls.borrow_mut().push((site.clone(), paths.to_vec()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::executor::block_on;

    #[test]
    fn every_call_is_recorded_with_its_site_in_order() {
        let purge = MemSitePurge::new();
        let a = SiteId::default_site();
        let b = SiteId::parse("other").unwrap();
        block_on(purge.purge(&a, &["/en/".to_owned(), "/".to_owned()]));
        block_on(purge.purge(&b, &["/vi/".to_owned()]));
        block_on(purge.purge(&a, &["/".to_owned()]));
        assert_eq!(purge.calls().len(), 3);
        assert_eq!(purge.calls()[1], (b.clone(), vec!["/vi/".to_owned()]));
        assert_eq!(purge.purged(&a), ["/", "/en/"]);
        assert_eq!(purge.purged(&b), ["/vi/"]);
        purge.clear();
        assert!(purge.calls().is_empty());
    }
}
