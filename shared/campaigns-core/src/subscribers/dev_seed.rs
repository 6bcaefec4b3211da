//! `POST /__dev/subscribers` (`DEV_MODE` only): seeds confirmed subscribers
//! in bulk for benchmarks and the end-to-end tests, sealed and indexed like
//! real ones, in batches within D1's bound-parameter limit.
use sealpost_api::body::parse_json;
use sealpost_api::{ApiError, ApiRequest, ApiResponse, Email, Locale, Validator};
use sealpost_ports::{Clock, PortError, RateLimiter, Rng, Sql, SqlValue, Statement};
use serde::Deserialize;
use serde_json::json;

use super::{Answer, Subscriptions};
use crate::ports::{Mailer, Turnstile};
use crate::rate::Pause;

/// Most subscribers `POST /__dev/subscribers` creates at once.
pub const DEV_SEED_MAX: i64 = 20_000;
/// Rows per seeding INSERT (3 shared + 4 per row ≤ 100 bound parameters).
const SEED_ROWS_PER_STATEMENT: usize = 24;
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
        let mut statements = Vec::new();
        let mut created: u64 = 0;
        let mut i = 0;
        while i < count {
            let end = (i + SEED_ROWS_PER_STATEMENT).min(count);
            let mut values = Vec::with_capacity(end - i);
            let mut stmt_binds: Vec<SqlValue> = vec![locale.as_str().into(), now.into()];
            for n in i..end {
                let raw = format!("{}-{n}@{domain}", body.prefix);
                let email =
                    Email::parse(&raw).map_err(|why| ApiError::field("prefix", why.message()))?;
                let id = self.rng.id()?;
                let sealed = self
                    .keys
                    .seal_email(self.rng, self.site(), &id, email.as_str())?;
                let at = stmt_binds.len() + 2;
                values.push(format!(
                    "(?1, ?{at}, ?{}, ?{}, ?2, 'confirmed', ?{}, ?3, ?3, ?3)",
                    at + 1,
                    at + 2,
                    at + 3
                ));
                stmt_binds.push(id.into());
                stmt_binds.push(self.keys.blind_index(email.as_str()).into());
                stmt_binds.push(sealed.into());
                stmt_binds.push(self.rng.id()?.into());
            }
            let mut stmt = self.db.statement(&format!(
                "INSERT OR IGNORE INTO subscribers (site_id, id, email_index, email_sealed, \
                 locale, status, confirm_nonce, created_at, updated_at, confirmed_at) VALUES {}",
                values.join(", ")
            ));
            for b in stmt_binds {
                stmt = stmt.bind(b);
            }
            statements.push(stmt);
            if statements.len() == SEED_STATEMENTS_PER_BATCH {
                created += self.seed_batch(&statements).await?;
                statements.clear();
            }
            i = end;
        }
        if !statements.is_empty() {
            created += self.seed_batch(&statements).await?;
        }
        Ok(ApiResponse::mutation(
            201,
            "Subscribers created",
            &json!({ "created": created }),
        ))
    }

    async fn seed_batch(&self, statements: &[Statement]) -> Result<u64, PortError> {
        for s in statements {
            s.check()?;
        }
        let results = self.db.batch(statements).await?;
        Ok(results.iter().map(|r| r.changes).sum())
    }
}
