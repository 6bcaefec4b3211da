//! [`MemPageCache`]: the [`PageCache`] port in memory, as strict as the
//! Workers Cache API it stands for: one data centre's cache (a delete here
//! leaves other instances' copies alone), only what was put is returned, an
//! entry is gone once its `max-age` has passed on the injected clock, and
//! writes land when the test says the deferred work ran
//! ([`MemPageCache::settle`]), as `waitUntil` work lands after the answer.
use std::cell::RefCell;
use std::collections::HashMap;

use sealpost_ports::{CachedPage, Clock, PageCache};

use crate::clock::ManualClock;

/// One data centre's cache of whole answers.
#[derive(Debug)]
pub struct MemPageCache {
    clock: ManualClock,
    entries: RefCell<HashMap<String, (CachedPage, i64)>>,
    pending: RefCell<Vec<(String, CachedPage, u32)>>,
    /// Every key deleted, in order (what a test may assert was purged).
    pub deleted: RefCell<Vec<String>>,
}

impl MemPageCache {
    pub fn new(clock: ManualClock) -> Self {
        Self {
            clock,
            entries: RefCell::default(),
            pending: RefCell::default(),
            deleted: RefCell::default(),
        }
    }

    /// Runs the deferred writes (what `waitUntil` does after the answer).
    pub fn settle(&self) {
        let now = self.clock.now_ms();
        for (key, page, max_age) in self.pending.borrow_mut().drain(..) {
            let expires = now + i64::from(max_age) * 1000;
            self.entries.borrow_mut().insert(key, (page, expires));
        }
    }

    /// How many live entries there are.
    pub fn len(&self) -> usize {
        let now = self.clock.now_ms();
        self.entries
            .borrow()
            .values()
            .filter(|(_, e)| *e > now)
            .count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl PageCache for MemPageCache {
    async fn get(&self, key: &str) -> Option<CachedPage> {
        let now = self.clock.now_ms();
        let entries = self.entries.borrow();
        let (page, expires) = entries.get(key)?;
        (*expires > now).then(|| page.clone())
    }

    async fn put(&self, key: String, page: CachedPage, max_age_secs: u32) {
        self.pending.borrow_mut().push((key, page, max_age_secs));
    }

    async fn delete(&self, keys: &[String]) {
        let mut entries = self.entries.borrow_mut();
        for key in keys {
            entries.remove(key);
            self.deleted.borrow_mut().push(key.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::executor::block_on;

    fn page(body: &str) -> CachedPage {
        CachedPage {
            headers: vec![("etag".into(), "\"t\"".into())],
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn a_put_is_visible_only_after_the_deferred_work_ran() {
        let cache = MemPageCache::new(ManualClock::new(0));
        block_on(cache.put("k".into(), page("a"), 60));
        assert_eq!(block_on(cache.get("k")), None);
        cache.settle();
        assert_eq!(block_on(cache.get("k")), Some(page("a")));
    }

    #[test]
    fn an_entry_is_gone_once_its_max_age_has_passed() {
        let clock = ManualClock::new(0);
        let cache = MemPageCache::new(clock.clone());
        block_on(cache.put("k".into(), page("a"), 60));
        cache.settle();
        clock.advance_ms(59_999);
        assert!(block_on(cache.get("k")).is_some());
        clock.advance_ms(1);
        assert_eq!(block_on(cache.get("k")), None);
    }

    #[test]
    fn a_delete_removes_only_the_named_keys() {
        let cache = MemPageCache::new(ManualClock::new(0));
        block_on(cache.put("a".into(), page("a"), 60));
        block_on(cache.put("b".into(), page("b"), 60));
        cache.settle();
        block_on(cache.delete(&["a".to_owned()]));
        assert_eq!(block_on(cache.get("a")), None);
        assert!(block_on(cache.get("b")).is_some());
        assert_eq!(cache.deleted.borrow().as_slice(), ["a".to_owned()]);
    }
}
