//! What the gateway does with a request's method and path, before any site,
//! body or upstream is involved: answer `/health` itself, answer a CORS
//! preflight, forward to the owning worker, or refuse with 404 / 405. Dev-only
//! routes exist only in dev mode; otherwise every method on their paths is
//! answered exactly as on a path the catalogue does not know.
use sealpost_api::Method;
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
    /// 404 `NOT_FOUND`.
    NotFound,
}

/// Decides for `method` (`None`: a method the catalogue never serves) on `path`.
pub fn decide(config: &EdgeConfig, method: Option<Method>, path: &str) -> Decision {
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
