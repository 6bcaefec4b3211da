//! What the gateway does with a request's method and path, before any site,
//! body or upstream is involved: answer `/health` itself, answer a CORS
//! preflight, forward to the owning worker, or refuse with 404 / 405. Dev-only
//! routes exist only in dev mode; otherwise every method on their paths is
//! answered exactly as on a path the catalogue does not know. Paths of the
//! site's page namespace (`sealpost_api::pages`) go to the site worker:
//! `GET`/`HEAD` on every page, `POST` only on the session endpoints.
use sealpost_api::Method;
use sealpost_api::pages;
use sealpost_api::routes::{self, Params, Resolution, RouteId, RouteSpec};

use crate::EdgeConfig;

/// The gateway's decision for one request line.
#[derive(Debug)]
pub enum Decision {
    /// `GET /health`: the gateway answers itself.
    Health,
    /// A catalogue route owned by a domain worker.
    Forward {
        route: &'static RouteSpec,
        params: Params,
    },
    /// `OPTIONS` on a path whose routes accept `allow`.
    Preflight { allow: Vec<Method> },
    /// 405 `METHOD_NOT_ALLOWED` with `Allow: allow`.
    MethodNotAllowed { allow: Vec<Method> },
    /// A page of the site (`session`: one of the session endpoints, whose
    /// `POST` carries a small JSON body and the session cookie).
    Page { session: bool },
    /// 404 `NOT_FOUND`.
    NotFound,
}

/// The largest body a session endpoint takes (a refresh token in JSON).
pub const SESSION_BODY_MAX: usize = 4 * 1024;

/// Decides for `method` (`None`: a method the catalogue never serves) on `path`.
pub fn decide(config: &EdgeConfig, method: Option<Method>, path: &str) -> Decision {
    if pages::owns(path) {
        let session = pages::is_session(path);
        return match method {
            Some(Method::Post) if session => Decision::Page { session },
            Some(Method::Get | Method::Head) if !session => Decision::Page { session },
            _ => Decision::MethodNotAllowed {
                allow: if session {
                    vec![Method::Post]
                } else {
                    vec![Method::Get, Method::Head]
                },
            },
        };
    }
    let resolve = |m: Method| routes::resolve_with_dev(m, path, config.dev_mode);
    let Some(method) = method else {
        return match resolve(Method::Options) {
            Resolution::MethodNotAllowed { allow } => Decision::MethodNotAllowed { allow },
            _ => Decision::NotFound,
        };
    };
    if method == Method::Options {
        return match resolve(Method::Options) {
            Resolution::MethodNotAllowed { allow } => Decision::Preflight { allow },
            _ => Decision::NotFound,
        };
    }
    match resolve(method) {
        Resolution::Found { route, .. } if route.id == RouteId::Health => Decision::Health,
        Resolution::Found { route, params } => Decision::Forward { route, params },
        Resolution::MethodNotAllowed { allow } => Decision::MethodNotAllowed { allow },
        Resolution::NotFound => Decision::NotFound,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sealpost_api::routes::ROUTES;

    fn config(dev_mode: bool) -> EdgeConfig {
        EdgeConfig {
            dev_mode,
            ..EdgeConfig::default()
        }
    }

    /// Every method, and a method the catalogue never serves.
    fn methods() -> impl Iterator<Item = Option<Method>> {
        Method::ALL.into_iter().map(Some).chain([None])
    }

    #[test]
    fn with_dev_mode_off_every_method_on_a_dev_path_is_answered_like_an_unknown_path() {
        let off = config(false);
        for route in ROUTES.iter().filter(|r| r.dev_only) {
            for method in methods() {
                let dev = decide(&off, method, route.pattern);
                let unknown = decide(&off, method, "/__no/such/path");
                assert!(
                    matches!(unknown, Decision::NotFound),
                    "{method:?}: {unknown:?}"
                );
                assert!(
                    matches!(dev, Decision::NotFound),
                    "{method:?} {}: {dev:?} (an unknown path is NotFound)",
                    route.pattern
                );
            }
        }
    }

    #[test]
    fn with_dev_mode_on_dev_routes_are_forwarded_and_other_methods_are_405() {
        let on = config(true);
        assert!(matches!(
            decide(&on, Some(Method::Get), "/__dev/mail"),
            Decision::Forward { route, .. } if route.id == RouteId::DevMail
        ));
        assert!(matches!(
            decide(&on, Some(Method::Post), "/__dev/mail"),
            Decision::MethodNotAllowed { allow } if allow == vec![Method::Get]
        ));
        assert!(matches!(
            decide(&on, Some(Method::Options), "/__dev/mail"),
            Decision::Preflight { allow } if allow == vec![Method::Get]
        ));
    }

    #[test]
    fn pages_are_read_with_get_or_head_and_only_session_endpoints_take_post() {
        let cfg = config(false);
        for path in [
            "/",
            "/en/",
            "/vi/posts/xin-chao",
            "/sitemap.xml",
            "/assets/site.0123456789.css",
        ] {
            for m in [Method::Get, Method::Head] {
                assert!(
                    matches!(
                        decide(&cfg, Some(m), path),
                        Decision::Page { session: false }
                    ),
                    "{m:?} {path}"
                );
            }
            for m in [Method::Post, Method::Put, Method::Delete, Method::Options] {
                assert!(
                    matches!(decide(&cfg, Some(m), path), Decision::MethodNotAllowed { ref allow } if *allow == vec![Method::Get, Method::Head]),
                    "{m:?} {path}"
                );
            }
        }
        assert!(matches!(
            decide(&cfg, Some(Method::Post), "/session/refresh"),
            Decision::Page { session: true }
        ));
        assert!(matches!(
            decide(&cfg, Some(Method::Get), "/session/refresh"),
            Decision::MethodNotAllowed { allow } if allow == vec![Method::Post]
        ));
    }

    #[test]
    fn api_paths_next_to_pages_stay_with_the_api() {
        let cfg = config(false);
        assert!(matches!(
            decide(&cfg, Some(Method::Get), "/posts"),
            Decision::Forward { route, .. } if route.id == RouteId::PostsList
        ));
        assert!(matches!(
            decide(&cfg, Some(Method::Get), "/auth/sessions"),
            Decision::Forward { route, .. } if route.id == RouteId::AuthSessions
        ));
    }

    #[test]
    fn public_routes_are_decided_the_same_with_dev_mode_on_or_off() {
        for dev_mode in [false, true] {
            let cfg = config(dev_mode);
            assert!(matches!(
                decide(&cfg, Some(Method::Get), "/health"),
                Decision::Health
            ));
            assert!(matches!(
                decide(&cfg, Some(Method::Delete), "/health"),
                Decision::MethodNotAllowed { allow } if allow == vec![Method::Get]
            ));
            assert!(matches!(
                decide(&cfg, Some(Method::Get), "/posts/abc"),
                Decision::Forward { route, params }
                    if route.id == RouteId::PostGet && params.get("slug") == Some("abc")
            ));
            assert!(matches!(
                decide(&cfg, Some(Method::Options), "/auth/login"),
                Decision::Preflight { allow } if allow == vec![Method::Post]
            ));
            assert!(matches!(
                decide(&cfg, None, "/auth/login"),
                Decision::MethodNotAllowed { allow } if allow == vec![Method::Post]
            ));
            assert!(matches!(
                decide(&cfg, Some(Method::Get), "/nope"),
                Decision::NotFound
            ));
        }
    }
}
