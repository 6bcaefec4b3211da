//! Fuzz target: query strings (`Query::parse`, form-urlencoded with `%XX` and
//! `+`) and the two paging schemes read from them. Input: the raw query.
//! Oracle: no panic; the decoded pairs round-trip (re-encoding and parsing
//! them gives the same pairs, with or without the leading `?`); `get` is the
//! first pair, `get_all` every pair of a name; accepted paging is in range,
//! and its offset fits a JavaScript number; a rejected one names only
//! parameters that were sent.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sealpost_api::query::{
    KeysetPaging, MAX_CURSOR_CHARS, MAX_PAGE, MAX_PAGE_SIZE, OffsetPaging, Query,
};

fuzz_target!(|data: &[u8]| {
    let raw = String::from_utf8_lossy(data);
    let q = Query::parse(&raw);
    let encoded = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(q.pairs())
        .finish();
    assert_eq!(
        Query::parse(&encoded),
        q,
        "pairs round-trip through {encoded:?}"
    );
    assert_eq!(Query::parse(&format!("?{encoded}")), q);
    for (name, value) in q.pairs() {
        let first = q
            .pairs()
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str());
        assert_eq!(q.get(name), first);
        assert!(q.get_all(name).contains(&value.as_str()));
    }

    match OffsetPaging::from_query(&q) {
        Ok(p) => {
            assert!((1..=MAX_PAGE).contains(&p.page));
            assert!((1..=MAX_PAGE_SIZE).contains(&p.page_size));
            assert!(
                p.offset() < (1u64 << 53),
                "offset beyond JavaScript's exact integers"
            );
            if let Some(v) = q.get("page") {
                assert!(
                    v.bytes().all(|b| b.is_ascii_digit()),
                    "page {v:?} is not digits"
                );
                assert_eq!(v.parse::<u32>().ok(), Some(p.page));
            }
        }
        Err(e) => {
            assert!(!e.errors.is_empty());
            for f in &e.errors {
                assert!(
                    q.get(&f.field).is_some(),
                    "error names {} which was not sent",
                    f.field
                );
            }
        }
    }
    match KeysetPaging::from_query(&q, 50, 100) {
        Ok(k) => {
            assert!((1..=100).contains(&k.limit));
            if let Some(b) = &k.before {
                assert!(!b.is_empty() && b.chars().count() <= MAX_CURSOR_CHARS);
                assert_eq!(q.get("before"), Some(b.as_str()));
            }
        }
        Err(e) => {
            for f in &e.errors {
                assert!(
                    q.get(&f.field).is_some(),
                    "error names {} which was not sent",
                    f.field
                );
            }
        }
    }
});
