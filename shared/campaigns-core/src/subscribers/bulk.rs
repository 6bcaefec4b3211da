//! Writing many confirmed subscribers at once (an admin's import, the local
//! seeding route): each address sealed and blind-indexed like one that
//! subscribed, `INSERT OR IGNORE` so an address the site already has — in
//! any state — is left exactly as it is, in statements within D1's
//! bound-parameter limit.
use sealpost_api::{Email, Locale};
use sealpost_ports::{PortError, Rng, SqlValue, Statement};

use super::{Failure, Subscriptions};
use crate::ports::{Mailer, Turnstile};
use crate::rate::Pause;
use sealpost_ports::{Clock, RateLimiter, Sql};

/// Rows per INSERT (3 shared + 5 per row ≤ 100 bound parameters).
const ROWS_PER_STATEMENT: usize = 19;

impl<S: Sql, C: Clock, R: Rng, L: RateLimiter, T: Turnstile, M: Mailer, P: Pause>
    Subscriptions<'_, S, C, R, L, T, M, P>
{
    /// The INSERT statements that add `rows` as confirmed at `now`, with
    /// the `consent` note (how these people agreed; `None` for the dev
    /// seed).
    pub(super) fn confirmed_inserts(
        &self,
        rows: &[(Email, Locale)],
        consent: Option<&str>,
        now: i64,
    ) -> Result<Vec<Statement>, Failure> {
        let mut statements = Vec::new();
        for chunk in rows.chunks(ROWS_PER_STATEMENT) {
            let mut values = Vec::with_capacity(chunk.len());
            let mut binds: Vec<SqlValue> = vec![now.into(), consent.into()];
            for (email, locale) in chunk {
                let id = self.rng.id()?;
                let sealed = self
                    .keys
                    .seal_email(self.rng, self.site(), &id, email.as_str())?;
                let at = binds.len() + 2;
                values.push(format!(
                    "(?1, ?{at}, ?{}, ?{}, ?{}, 'confirmed', ?{}, ?2, ?2, ?2, ?3)",
                    at + 1,
                    at + 2,
                    at + 3,
                    at + 4
                ));
                binds.push(id.into());
                binds.push(self.keys.blind_index(email.as_str()).into());
                binds.push(sealed.into());
                binds.push(locale.as_str().into());
                binds.push(self.rng.id()?.into());
            }
            let stmt = binds.into_iter().fold(
                self.db.statement(&format!(
                    "INSERT OR IGNORE INTO subscribers (site_id, id, email_index, email_sealed, \
                     locale, status, confirm_nonce, created_at, updated_at, confirmed_at, \
                     consent) VALUES {}",
                    values.join(", ")
                )),
                Statement::bind,
            );
            stmt.check()?;
            statements.push(stmt);
        }
        Ok(statements)
    }

    /// Runs `statements` as one D1 batch (one transaction); the rows added.
    pub(super) async fn insert_batch(&self, statements: &[Statement]) -> Result<u64, PortError> {
        if statements.is_empty() {
            return Ok(0);
        }
        let results = self.db.batch(statements).await?;
        Ok(results.iter().map(|r| r.changes).sum())
    }
}
