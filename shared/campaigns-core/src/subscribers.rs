//! Subscribers: the public double opt-in routes (`POST /subscribe`, the
//! confirmation and unsubscribe links and their pages), the admins' list
//! (`GET /admin/subscribers`), the CSV import and export, and the local
//! seeding route
//! (`POST /__dev/subscribers`), served by [`Subscriptions`]; each group of
//! routes has its own module.
//!
//! Addresses are stored only sealed, found by their blind index
//! (docs/adr/0013). `POST /subscribe` answers the same 202 for every
//! accepted request, whatever the address's state, so it tells nobody
//! whether an address is subscribed; each address has its own email budget
//! (GCRA on `subscribers.mail_tat`: [`MAIL_BURST`] emails, then one per
//! [`MAIL_INTERVAL_MS`]). The GET pages of the links change nothing (link
//! scanners follow links); only their forms' POSTs do. Decisions where the
//! API contract is silent: docs/api.md (Campaigns).
use sealpost_api::routes::RouteId;
use sealpost_api::{ApiError, ApiRequest, ApiResponse};
use sealpost_guard::Verifier;
use sealpost_ports::{Clock, RateLimiter, Rng, SiteDb, Sql};

use crate::keys::CampaignKeys;
use crate::ports::{Mailer, Turnstile};
use crate::rate::Pause;
use crate::settings::Settings;

pub use sealpost_api::Failure;

mod admin_list;
mod bulk;
mod dev_seed;
mod link_routes;
mod subscribe;
mod transfer;

pub use admin_list::{QUERY_MAX, SEARCH_CHUNK, SEARCH_SCAN_MAX};
pub use dev_seed::DEV_SEED_MAX;
pub use link_routes::{form_token, multipart_one_click};
pub use subscribe::{
    MAIL_BURST, MAIL_INTERVAL_MS, SEND_BUSY_MESSAGE, SEND_FAILED_MESSAGE, SEND_SLOT_WAIT_MS,
    SUBSCRIBE_MESSAGE, SUBSCRIBE_RETRY_AFTER_SECS, TURNSTILE_TOKEN_MAX,
};
pub(crate) use subscribe::{address_and_locale, send_busy, send_single};
pub use transfer::{CONSENT_MAX, EXPORT_MAX, IMPORT_MAX, neutralised};

type Answer = Result<ApiResponse, Failure>;

/// The subscriptions service for one request (routes `Subscribe`,
/// `SubscribeConfirmPage`, `SubscribeConfirm`, `UnsubscribePage`,
/// `Unsubscribe`, `AdminSubscribers`, `AdminSubscribersExport`,
/// `AdminSubscribersImport`, `DevSubscribers`).
pub struct Subscriptions<
    'a,
    S: Sql,
    C: Clock,
    R: Rng,
    L: RateLimiter,
    T: Turnstile,
    M: Mailer,
    P: Pause,
> {
    pub db: SiteDb<'a, S>,
    /// The plain SQL port, for the one global row a subscribe touches: the
    /// provider's send-rate cell (`send_rate`, [`crate::rate`]).
    pub rate_sql: &'a S,
    /// The send-rate cap (`SEND_RATE_PER_SEC`, `SEND_RATE_BURST`).
    pub settings: &'a Settings,
    /// Waits for a send slot reserved a moment ahead.
    pub pause: &'a P,
    pub clock: &'a C,
    pub rng: &'a R,
    pub keys: &'a CampaignKeys,
    pub turnstile: &'a T,
    pub mailer: &'a M,
    /// The per-IP throttle of `POST /subscribe`; `None`: off.
    pub limiter: Option<&'a L>,
    /// The access-token keys (the admin list only).
    pub verifier: Option<&'a Verifier>,
    /// `DEV_MODE`: `POST /__dev/subscribers` exists.
    pub dev: bool,
}

impl<S: Sql, C: Clock, R: Rng, L: RateLimiter, T: Turnstile, M: Mailer, P: Pause> std::fmt::Debug
    for Subscriptions<'_, S, C, R, L, T, M, P>
{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscriptions")
            .field("site", self.db.site())
            .field("dev", &self.dev)
            .finish_non_exhaustive()
    }
}

impl<S: Sql, C: Clock, R: Rng, L: RateLimiter, T: Turnstile, M: Mailer, P: Pause>
    Subscriptions<'_, S, C, R, L, T, M, P>
{
    /// Serves `input`.
    pub async fn handle(&self, input: &ApiRequest) -> Answer {
        match input.id() {
            RouteId::Subscribe => self.subscribe(input).await,
            RouteId::SubscribeConfirmPage => Ok(self.confirm_page(input).await),
            RouteId::SubscribeConfirm => self.confirm(input).await,
            RouteId::UnsubscribePage => Ok(self.unsubscribe_page(input).await),
            RouteId::Unsubscribe => self.unsubscribe(input).await,
            RouteId::AdminSubscribers => self.admin_list(input).await,
            RouteId::AdminSubscribersExport => self.export(input).await,
            RouteId::AdminSubscribersImport => self.import(input).await,
            RouteId::DevSubscribers if self.dev => self.dev_seed(input).await,
            _ => Err(ApiError::not_found().into()),
        }
    }

    fn site(&self) -> &str {
        self.db.site().as_str()
    }
}
