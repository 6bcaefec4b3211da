//! Fuzz target: route matching and path-parameter percent-decoding
//! (`routes::resolve`, `resolve_with_dev`). Input: one byte picking the method
//! and the dev flag, then the path. Oracle: no panic; a found route has the
//! request's method, is dev-only only with the dev flag, and its parameters
//! round-trip (re-encoding them into the pattern resolves to the same route
//! with the same values); a 405 lists distinct methods, never the request's;
//! the dev flag on resolves exactly like the whole catalogue.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sealpost_api::routes::{Resolution, resolve, resolve_with_dev};
use sealpost_api::{Method, Params};

/// Percent-encodes every byte outside the unreserved set.
fn encode(value: &str) -> String {
    let mut out = String::new();
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn fill(pattern: &str, params: &Params) -> String {
    pattern
        .split('/')
        .map(
            |seg| match seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(name) => encode(params.get(name).expect("every parameter is decoded")),
                None => seg.to_owned(),
            },
        )
        .collect::<Vec<_>>()
        .join("/")
}

fn same(a: &Resolution, b: &Resolution) -> bool {
    match (a, b) {
        (
            Resolution::Found {
                route: r1,
                params: p1,
            },
            Resolution::Found {
                route: r2,
                params: p2,
            },
        ) => r1.id == r2.id && p1 == p2,
        (
            Resolution::MethodNotAllowed { allow: a1 },
            Resolution::MethodNotAllowed { allow: a2 },
        ) => a1 == a2,
        (Resolution::NotFound, Resolution::NotFound) => true,
        _ => false,
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let Ok(path) = std::str::from_utf8(rest) else {
        return;
    };
    let method = Method::ALL[usize::from(pick) % Method::ALL.len()];
    let dev = pick & 0x80 != 0;
    let got = resolve_with_dev(method, path, dev);
    if dev {
        assert!(
            same(&got, &resolve(method, path)),
            "dev flag on must equal the whole catalogue"
        );
    }
    match &got {
        Resolution::Found { route, params } => {
            assert_eq!(route.method, method);
            assert!(
                dev || !route.dev_only,
                "a dev-only route resolved without the dev flag"
            );
            assert!(params.iter().all(|(_, v)| !v.is_empty()), "empty parameter");
            let again = fill(route.pattern, params);
            match resolve_with_dev(method, &again, dev) {
                Resolution::Found {
                    route: r2,
                    params: p2,
                } => {
                    assert_eq!(r2.id, route.id, "{again}");
                    assert_eq!(&p2, params, "{again}");
                }
                other => panic!("re-encoded {again} resolved to {other:?}"),
            }
        }
        Resolution::MethodNotAllowed { allow } => {
            assert!(!allow.is_empty());
            assert!(
                !allow.contains(&method),
                "405 lists the request's own method"
            );
            for (i, m) in allow.iter().enumerate() {
                assert!(!allow[..i].contains(m), "repeated method in Allow");
                assert!(
                    matches!(resolve_with_dev(*m, path, dev), Resolution::Found { .. }),
                    "Allow lists {m} but it does not resolve"
                );
            }
        }
        Resolution::NotFound => {
            for m in Method::ALL {
                assert!(
                    !matches!(resolve_with_dev(m, path, dev), Resolution::Found { .. }),
                    "404 for {method} but {m} resolves"
                );
            }
        }
    }
});
