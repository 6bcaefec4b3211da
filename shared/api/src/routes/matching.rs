//! Resolving a request path against the catalogue: segment matching, the
//! literal-beats-parameter rank, the `Allow` list of a 405, and strict
//! percent-decoding of parameters, under the rules stated in [`super`].

use super::catalogue::{ROUTES, RouteSpec};
use crate::method::Method;

/// Decoded path parameters, in pattern order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params(Vec<(&'static str, String)>);

impl Params {
    pub fn new() -> Params {
        Params::default()
    }

    /// Adds a parameter (for building requests in tests and adapters).
    pub fn push(&mut self, name: &'static str, value: impl Into<String>) {
        self.0.push((name, value.into()));
    }

    /// The decoded value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &str)> {
        self.0.iter().map(|(n, v)| (*n, v.as_str()))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl FromIterator<(&'static str, String)> for Params {
    fn from_iter<I: IntoIterator<Item = (&'static str, String)>>(iter: I) -> Params {
        Params(iter.into_iter().collect())
    }
}

/// The outcome of [`resolve`].
#[derive(Debug)]
pub enum Resolution {
    Found {
        route: &'static RouteSpec,
        params: Params,
    },
    /// The path exists, but not for this method; `allow` lists, in catalogue order and
    /// without repeats, every method that has a route for it.
    MethodNotAllowed {
        allow: Vec<Method>,
    },
    NotFound,
}

/// Resolves a request against the whole catalogue, dev-only routes included.
pub fn resolve(method: Method, path: &str) -> Resolution {
    resolve_in(ROUTES.iter(), method, path)
}

/// Like [`resolve`], but dev-only routes exist only when `dev_enabled` (otherwise
/// they are 404, exactly as if absent).
pub fn resolve_with_dev(method: Method, path: &str, dev_enabled: bool) -> Resolution {
    resolve_in(
        ROUTES.iter().filter(|r| dev_enabled || !r.dev_only),
        method,
        path,
    )
}

impl RouteSpec {
    /// The decoded parameters of `path` under this route's pattern alone
    /// (for a hop that already knows the route); `None` when it does not
    /// match.
    pub fn params(&self, path: &str) -> Option<Params> {
        let rest = path.strip_prefix('/')?;
        let segments: Vec<&str> = rest.split('/').collect();
        match_pattern(self.pattern, &segments)
    }

    /// The concrete path of this route with `params` in its pattern, each
    /// percent-encoded (the inverse of [`RouteSpec::params`]); a parameter
    /// missing from `params` is left empty, which no route matches.
    pub fn path(&self, params: &Params) -> String {
        let mut out = String::with_capacity(self.pattern.len() + 16);
        for part in self.pattern.split('/').skip(1) {
            out.push('/');
            match param_name(part) {
                Some(name) => out.push_str(&crate::query::encode_component(
                    params.get(name).unwrap_or_default(),
                )),
                None => out.push_str(part),
            }
        }
        out
    }
}

pub(super) fn resolve_in(
    routes: impl Iterator<Item = &'static RouteSpec>,
    method: Method,
    path: &str,
) -> Resolution {
    let Some(rest) = path.strip_prefix('/') else {
        return Resolution::NotFound;
    };
    let segments: Vec<&str> = rest.split('/').collect();
    let mut best: Option<(&'static RouteSpec, Params, Vec<bool>)> = None;
    let mut allow: Vec<Method> = Vec::new();
    for route in routes {
        let Some(params) = match_pattern(route.pattern, &segments) else {
            continue;
        };
        if !allow.contains(&route.method) {
            allow.push(route.method);
        }
        if route.method != method {
            continue;
        }
        let rank = literal_mask(route.pattern);
        // `true` (literal) sorts after `false` (parameter): the larger mask is more specific.
        if best.as_ref().is_none_or(|(_, _, r)| rank > *r) {
            best = Some((route, params, rank));
        }
    }
    match best {
        Some((route, params, _)) => Resolution::Found { route, params },
        None if !allow.is_empty() => Resolution::MethodNotAllowed { allow },
        None => Resolution::NotFound,
    }
}

pub(super) fn param_name(segment: &str) -> Option<&str> {
    segment.strip_prefix('{')?.strip_suffix('}')
}

fn literal_mask(pattern: &str) -> Vec<bool> {
    pattern
        .split('/')
        .skip(1)
        .map(|s| param_name(s).is_none())
        .collect()
}

fn match_pattern(pattern: &'static str, segments: &[&str]) -> Option<Params> {
    let mut parts = pattern.strip_prefix('/')?.split('/');
    let mut params = Params::new();
    for segment in segments {
        let part = parts.next()?;
        match param_name(part) {
            Some(name) => {
                if segment.is_empty() {
                    return None;
                }
                params.push(name, percent_decode(segment)?);
            }
            None if part == *segment => {}
            None => return None,
        }
    }
    if parts.next().is_some() {
        return None;
    }
    Some(params)
}

/// Strict percent-decoding: `%XX` only, result must be UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    if !s.contains('%') {
        return Some(s.to_owned());
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hi = (hex[0] as char).to_digit(16)?;
            let lo = (hex[1] as char).to_digit(16)?;
            out.push(u8::try_from(hi * 16 + lo).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::super::catalogue::{
        BodyPolicy::None as NoBody, RouteId, RouteId as R, Service::Content, route,
    };
    use super::super::test_support::found;
    use super::*;
    use Method::{Delete, Get, Patch, Post, Put};

    #[test]
    fn a_route_path_built_from_params_resolves_back_to_the_same_params() {
        let spec = RouteId::PostGet.spec();
        let mut params = Params::new();
        params.push("slug", "xin chào/1");
        let path = spec.path(&params);
        assert_eq!(path, "/posts/xin%20ch%C3%A0o%2F1");
        assert_eq!(spec.params(&path).unwrap().get("slug"), Some("xin chào/1"));
    }

    fn is_not_found(method: Method, path: &str) -> bool {
        matches!(resolve(method, path), Resolution::NotFound)
    }

    fn allow(method: Method, path: &str) -> Vec<Method> {
        match resolve(method, path) {
            Resolution::MethodNotAllowed { allow } => allow,
            other => panic!("{method} {path}: expected 405, got {other:?}"),
        }
    }

    #[test]
    fn unknown_paths_are_not_found() {
        for path in [
            "/",
            "",
            "health",
            "/nope",
            "/auth",
            "/auth/keys/extra",
            "/posts/a/b",
            "/admin/comments/p",
        ] {
            assert!(is_not_found(Get, path), "{path}");
        }
    }

    #[test]
    fn trailing_slashes_and_empty_segments_do_not_match() {
        assert!(is_not_found(Get, "/health/"));
        assert!(is_not_found(Get, "/posts/"));
        assert!(is_not_found(Get, "//health"));
        assert!(is_not_found(Delete, "/admin/comments//c1"));
        assert!(is_not_found(Get, "/posts//comments"));
    }

    #[test]
    fn wrong_method_is_405_with_allowed_methods_in_catalogue_order() {
        assert_eq!(allow(Get, "/auth/login"), vec![Post]);
        assert_eq!(allow(Put, "/subscribe/confirm"), vec![Get, Post]);
        assert_eq!(allow(Put, "/admin/posts/p1"), vec![Patch, Delete, Get]);
        assert_eq!(allow(Delete, "/admin/posts"), vec![Get, Post]);
        assert_eq!(allow(Post, "/posts/p1"), vec![Get]);
        assert_eq!(allow(Delete, "/posts/p1/comments"), vec![Get, Post]);
    }

    #[test]
    fn head_and_options_are_not_special() {
        assert_eq!(allow(Method::Head, "/posts"), vec![Get]);
        assert_eq!(allow(Method::Options, "/auth/login"), vec![Post]);
    }

    #[test]
    fn literal_segments_beat_parameters() {
        let (live, params) = found(Get, "/posts/p1/comments/live");
        assert_eq!(live.id, RouteId::CommentsLive);
        assert_eq!(params.get("id"), Some("p1"));
        // Synthetic catalogue where both shapes exist, in either order.
        static A: RouteSpec = route(R::PostGet, Get, "/x/{slug}", Content, NoBody);
        static B: RouteSpec = route(R::PostsList, Get, "/x/new", Content, NoBody);
        for routes in [[&A, &B], [&B, &A]] {
            match resolve_in(routes.into_iter(), Get, "/x/new") {
                Resolution::Found { route, params } => {
                    assert_eq!(route.id, RouteId::PostsList);
                    assert!(params.is_empty());
                }
                other => panic!("{other:?}"),
            }
            match resolve_in(routes.into_iter(), Get, "/x/old") {
                Resolution::Found { route, params } => {
                    assert_eq!(route.id, RouteId::PostGet);
                    assert_eq!(params.get("slug"), Some("old"));
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn parameters_are_percent_decoded() {
        let (route, params) = found(Get, "/posts/xin-ch%C3%A0o");
        assert_eq!(route.id, RouteId::PostGet);
        assert_eq!(params.get("slug"), Some("xin-chào"));
        let (_, params) = found(Get, "/posts/a%2Fb+c%20d");
        assert_eq!(params.get("slug"), Some("a/b+c d"));
        let (route, params) = found(Delete, "/admin/comments/p%31/c%3f");
        assert_eq!(route.id, RouteId::AdminCommentDelete);
        assert_eq!(params.get("postId"), Some("p1"));
        assert_eq!(params.get("commentId"), Some("c?"));
        assert_eq!(
            params.iter().collect::<Vec<_>>(),
            vec![("postId", "p1"), ("commentId", "c?")]
        );
        assert_eq!(params.get("id"), None);
    }

    #[test]
    fn invalid_escapes_and_invalid_utf8_are_not_found() {
        assert!(is_not_found(Get, "/posts/%FF"));
        assert!(is_not_found(Get, "/posts/%C3"));
        assert!(is_not_found(Get, "/posts/%zz"));
        assert!(is_not_found(Get, "/posts/abc%4"));
        assert!(is_not_found(Get, "/posts/%"));
        // Literal segments are compared as sent, not decoded.
        assert!(is_not_found(Get, "/auth/%6Beys"));
    }

    #[test]
    fn dev_routes_exist_only_with_the_dev_flag() {
        assert!(matches!(
            resolve_with_dev(Get, "/__dev/mail", true),
            Resolution::Found { route, .. } if route.id == RouteId::DevMail
        ));
        assert!(matches!(
            resolve_with_dev(Get, "/__dev/mail", false),
            Resolution::NotFound
        ));
        assert!(matches!(
            resolve_with_dev(Post, "/__dev/mail", false),
            Resolution::NotFound
        ));
        assert!(matches!(
            resolve_with_dev(Get, "/health", false),
            Resolution::Found { route, .. } if route.id == RouteId::Health
        ));
    }

    #[test]
    fn params_can_be_built_by_hand() {
        let mut p = Params::new();
        p.push("id", "42");
        let q: Params = [("id", "42".to_owned())].into_iter().collect();
        assert_eq!(p, q);
        assert_eq!(p.get("id"), Some("42"));
        assert!(!p.is_empty());
    }
}
