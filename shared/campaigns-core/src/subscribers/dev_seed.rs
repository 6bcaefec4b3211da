//! `POST /__dev/subscribers` (`DEV_MODE` only): seeds confirmed subscribers
//! in bulk for benchmarks and the end-to-end tests, sealed and indexed like
//! real ones ([`super::bulk`]), in batches of statements.
use sealpost_api::body::parse_json;
use sealpost_api::{ApiError, ApiRequest, ApiResponse, Email, Locale, Validator};
use sealpost_ports::{Clock, RateLimiter, Rng, Sql};
use serde::Deserialize;
use serde_json::json;

use super::{Answer, Subscriptions};
use crate::ports::{Mailer, Turnstile};
use crate::rate::Pause;

/// Most subscribers `POST /__dev/subscribers` creates at once.
pub const DEV_SEED_MAX: i64 = 20_000;
/// Seeding statements per D1 batch.
const SEED_STATEMENTS_PER_BATCH: usize = 50;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DevSeedInput {
    prefix: String,
    count: i64,
    #[serde(default)]
    locale: Option<String>,
    #[serde(default)]
    domain: Option<String>,
}

impl<S: Sql, C: Clock, R: Rng, L: RateLimiter, T: Turnstile, M: Mailer, P: Pause>
    Subscriptions<'_, S, C, R, L, T, M, P>
{
    /// Creates `count` confirmed subscribers `{prefix}-{i}@{domain}` (for
    /// benchmarks and the e2e tests; DEV_MODE only). Existing addresses are
    /// left alone; `created` counts the new rows.
    pub(super) async fn dev_seed(&self, input: &ApiRequest) -> Answer {
        let body: DevSeedInput = parse_json(&input.body)?;
        let mut v = Validator::new();
        let domain = body.domain.as_deref().unwrap_or("bench.test");
        let domain_ok = Email::parse(&format!("a@{domain}")).is_ok();
        v.check(domain_ok, "domain", "Must be a domain name");
        v.text_len("prefix", &body.prefix, 1, 40);
        v.check(
            (1..=DEV_SEED_MAX).contains(&body.count),
            "count",
            "Must be an integer between 1 and 20000",
        );
        let locale = match body.locale.as_deref() {
            None => Some(Locale::En),
            Some(l) => Locale::parse(l),
        };
        if let (Some(l), None) = (body.locale.as_deref(), locale) {
            v.one_of("locale", l, &Locale::NAMES);
        }
        if v.is_empty() {
            let longest = format!("{}-{}@{domain}", body.prefix, body.count - 1);
            v.check(
                Email::parse(&longest).is_ok(),
                "prefix",
                "Must make valid addresses ({prefix}-{i}@{domain})",
            );
        }
        v.finish()?;
        let locale = locale.unwrap_or(Locale::En);
        let count = usize::try_from(body.count).unwrap_or(0);

        let now = self.clock.now_ms();
        let rows = (0..count)
            .map(|n| {
                Email::parse(&format!("{}-{n}@{domain}", body.prefix))
                    .map(|e| (e, locale))
                    .map_err(|why| ApiError::field("prefix", why.message()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut created: u64 = 0;
        for statements in self
            .confirmed_inserts(&rows, None, now)?
            .chunks(SEED_STATEMENTS_PER_BATCH)
        {
            created += self.insert_batch(statements).await?;
        }
        Ok(ApiResponse::mutation(
            201,
            "Subscribers created",
            &json!({ "created": created }),
        ))
    }
}
