//! The public route catalogue — the one source of truth for which routes exist, which
//! service owns each, and what body each accepts — and the path resolver used by the
//! gateway (dispatch, 404/405, body policy) and by every domain worker (handlers).
//!
//! Patterns are absolute paths whose segments are literals or `{name}` parameters.
//! Matching is exact per segment: no trailing-slash folding, an empty segment never
//! matches a parameter, parameters are percent-decoded (`+` stays `+`; an invalid
//! escape or invalid UTF-8 means "no match"), and a literal segment beats a
//! parameter when two routes of the same method could match. `HEAD` is not special.
//! Paths are given without their query string.

mod catalogue;
mod matching;

pub use catalogue::{
    BodyPolicy, ROUTES, RouteId, RouteSpec, SEALED_MAX_BYTES, Service, routes_for,
};
pub use matching::{Params, Resolution, resolve, resolve_with_dev};

#[cfg(test)]
mod test_support {
    use super::{Params, Resolution, RouteSpec, resolve};
    use crate::method::Method;

    pub(super) fn found(method: Method, path: &str) -> (&'static RouteSpec, Params) {
        match resolve(method, path) {
            Resolution::Found { route, params } => (route, params),
            other => panic!("{method} {path}: expected Found, got {other:?}"),
        }
    }
}
