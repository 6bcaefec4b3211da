//! Fuzz target: the gateway's live body checks (`edge::body::check_declared`
//! before reading, `check_body` after), for every route's policy. Input: one
//! byte choosing the policy and the `Content-Type`, then the body. Oracle: no
//! panic; both answer only with 413, 415 or 400 `MALFORMED_JSON`; a body over
//! the limit is 413 by both; a JSON route's body passes `check_body` exactly
//! when it is well-formed JSON (or empty where optional); and a request whose
//! declared headers and body both pass has the media type its policy names:
//! JSON for a sealed route, and for a form-or-JSON route with a body JSON, a
//! urlencoded form or the multipart form of one-click unsubscribe.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sealpost_api::ErrorCode;
use sealpost_api::body::media_type;
use sealpost_api::routes::ROUTES;
use sealpost_edge::body::{check_body, check_declared};

const TYPES: &[Option<&str>] = &[
    None,
    Some("application/json"),
    Some("Application/JSON ; charset=UTF-8"),
    Some("application/x-www-form-urlencoded"),
    Some("multipart/form-data; boundary=x"),
    Some("text/plain"),
    Some("application/json-seq"),
    Some(""),
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let route = &ROUTES[usize::from(pick) % ROUTES.len()];
    let content_type = TYPES[usize::from(pick / 8) % TYPES.len()];
    let policy = route.body;
    let limit = policy.max_bytes();

    let declared = check_declared(policy, content_type, Some(body.len() as u64));
    let read = check_body(policy, content_type, body);
    for r in [&declared, &read] {
        if let Err(e) = r {
            assert!(
                matches!(
                    e.code,
                    ErrorCode::PayloadTooLarge
                        | ErrorCode::UnsupportedMediaType
                        | ErrorCode::MalformedJson
                ),
                "{e:?}"
            );
        }
    }
    if body.len() > limit {
        assert_eq!(
            declared.as_ref().err().map(|e| e.code),
            Some(ErrorCode::PayloadTooLarge)
        );
        assert_eq!(
            read.as_ref().err().map(|e| e.code),
            Some(ErrorCode::PayloadTooLarge)
        );
        return;
    }
    if let sealpost_api::BodyPolicy::Json { required, .. } = policy {
        let well_formed = serde_json::from_slice::<serde::de::IgnoredAny>(body).is_ok();
        let ok = well_formed || (!required && body.is_empty());
        assert_eq!(read.is_ok(), ok, "{:?} on {}", read, route.pattern);
    }
    if declared.is_ok() && read.is_ok() {
        let essence = media_type(content_type);
        match policy {
            sealpost_api::BodyPolicy::Sealed => {
                assert_eq!(essence.as_deref(), Some("application/json"), "{}", route.pattern)
            }
            sealpost_api::BodyPolicy::FormOrJson { .. } if !body.is_empty() => assert!(
                matches!(
                    essence.as_deref(),
                    Some("application/json")
                        | Some("application/x-www-form-urlencoded")
                        | Some("multipart/form-data")
                ),
                "{essence:?} on {}",
                route.pattern
            ),
            _ => {}
        }
    }
});
