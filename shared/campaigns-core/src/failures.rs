//! What the consumer does with each way a provider request can fail
//! ([`MailerError`]): whether the request provably sent nothing, how it
//! counts towards the breaker, how long to wait, and the ledger's note. The
//! adapters only say what happened; this is the policy (docs/adr/0014,
//! 0015).
use crate::ports::MailerError;
use crate::settings::Settings;

/// The longest retry delay of the backoff (15 minutes).
pub const MAX_RETRY_DELAY_SECS: u32 = 900;
/// The longest provider `Retry-After` honoured.
pub const MAX_PROVIDER_WAIT_SECS: u32 = 3600;

/// Whether the provider refused the request before processing it, so no
/// email of it went out: a rate limit, a refused key or sender, a refusal
/// of the whole request, a reused key. A timeout, a 5xx, an unreadable
/// answer or a request still being processed may have sent everything.
pub fn nothing_sent(err: &MailerError) -> bool {
    match err {
        MailerError::RateLimited { .. }
        | MailerError::Unauthorized
        | MailerError::Forbidden
        | MailerError::KeyReused
        | MailerError::Refused { .. } => true,
        MailerError::Unavailable(_) | MailerError::Timeout | MailerError::InProgress => false,
    }
}

/// Whether the failure opens the breaker at once instead of counting one
/// towards its threshold: a refused API key or sender fails every request
/// until an operator acts, so the campaign pauses at the first.
pub fn opens_breaker_at_once(err: &MailerError) -> bool {
    matches!(err, MailerError::Unauthorized | MailerError::Forbidden)
}

/// Whether the failure ends the batch's rows instead of retrying them: only
/// a key reused with another body, which the consumer never causes (a batch
/// is resent exactly as first composed, docs/adr/0015). Retrying the same
/// request cannot succeed, and another key could send a second copy of
/// what the first request sent.
pub fn fails_the_batch(err: &MailerError) -> bool {
    matches!(err, MailerError::KeyReused)
}

/// The backoff after a provider failure: the provider's `Retry-After` for a
/// 429 that gave one, else `retry_base × 2^(attempt − 1)`, at most 15 min.
pub fn retry_delay(settings: &Settings, attempt: i64, err: &MailerError) -> u32 {
    if let MailerError::RateLimited {
        retry_after_secs: Some(secs),
    } = err
    {
        return (*secs).clamp(1, MAX_PROVIDER_WAIT_SECS);
    }
    let exp = u32::try_from((attempt - 1).clamp(0, 20)).unwrap_or(20);
    let delay = u64::from(settings.retry_base_secs.max(1)) << exp;
    u32::try_from(delay.min(u64::from(MAX_RETRY_DELAY_SECS))).unwrap_or(MAX_RETRY_DELAY_SECS)
}

/// The ledger's note on a failed request: its kind only (a provider message
/// may quote addresses).
pub fn ledger_note(err: &MailerError) -> &'static str {
    match err {
        MailerError::RateLimited { .. } => "provider rate limit (429)",
        MailerError::Unavailable(_) => "provider unavailable",
        MailerError::Timeout => "provider timed out",
        MailerError::Unauthorized => "provider refused the API key (401)",
        MailerError::Forbidden => "provider forbade the send (403)",
        MailerError::InProgress => "provider still processing the batch (409)",
        MailerError::KeyReused => "provider refused the batch's key as reused (409)",
        MailerError::Refused { .. } => "provider refused the request",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backoff_doubles_and_is_capped_at_fifteen_minutes() {
        let s = Settings::default();
        let unavailable = MailerError::Unavailable("503".into());
        let delays: Vec<u32> = (1..=8).map(|a| retry_delay(&s, a, &unavailable)).collect();
        assert_eq!(delays, [10, 20, 40, 80, 160, 320, 640, 900]);
        assert_eq!(retry_delay(&s, 1_000, &unavailable), 900);
    }

    #[test]
    fn a_429_waits_what_the_provider_said() {
        let s = Settings::default();
        let said = MailerError::RateLimited {
            retry_after_secs: Some(7),
        };
        assert_eq!(retry_delay(&s, 5, &said), 7);
        let silent = MailerError::RateLimited {
            retry_after_secs: None,
        };
        assert_eq!(retry_delay(&s, 2, &silent), 20);
    }

    #[test]
    fn only_answers_that_may_have_sent_keep_a_batch_uncertain() {
        assert!(!nothing_sent(&MailerError::Timeout));
        assert!(!nothing_sent(&MailerError::InProgress));
        assert!(!nothing_sent(&MailerError::Unavailable("502".into())));
        assert!(nothing_sent(&MailerError::Unauthorized));
        assert!(nothing_sent(&MailerError::Forbidden));
        assert!(nothing_sent(&MailerError::Refused { status: 422 }));
    }

    #[test]
    fn a_refused_key_or_sender_opens_the_breaker_at_once_and_nothing_but_a_reused_key_fails_rows() {
        assert!(opens_breaker_at_once(&MailerError::Unauthorized));
        assert!(opens_breaker_at_once(&MailerError::Forbidden));
        assert!(!opens_breaker_at_once(&MailerError::InProgress));
        assert!(fails_the_batch(&MailerError::KeyReused));
        for err in [
            MailerError::Unauthorized,
            MailerError::Forbidden,
            MailerError::InProgress,
            MailerError::Refused { status: 422 },
            MailerError::Timeout,
        ] {
            assert!(!fails_the_batch(&err), "{err}");
        }
    }
}
