//! [`Upstream`]: the API as a caller inside the deployment sees it — a
//! routed [`ApiRequest`] in, the owning worker's answer out. The site's
//! pages read posts and comments through it, so a page shows exactly what
//! the API answers (one implementation of every read rule). The Cloudflare
//! adapter sends the request over the owning worker's service binding with
//! the headers the gateway would add; tests hand the request to a core.
use crate::{ApiRequest, Outcome};

/// Answers routed requests as their owning worker does.
#[allow(async_fn_in_trait)]
pub trait Upstream {
    /// The owning worker's answer to `req` (any status); `Err` only when the
    /// worker could not be reached or its answer could not be read.
    async fn call(&self, req: ApiRequest) -> Outcome;
}
