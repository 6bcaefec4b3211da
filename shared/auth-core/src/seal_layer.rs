//! The sealing layer of sealed routes: the edge-seal contract's server
//! checks, in the contract's order and with its codes; then the route's own handler on the
//! plaintext; then every answer sealed — errors too — once a request opened.
//! Refusals before a successful open are ordinary, unsealed envelopes.
use std::future::Future;

use sealpost_api::{ApiError, ApiResponse, ErrorCode, Failure};
use sealpost_ports::{Clock, PortError, Rng, Sql, rfc3339};
use sealpost_seal::{
    MAX_ENVELOPE_BYTES, ParsedEnvelope, ResponseSealer, SealError, VERSION, looks_sealed,
    open_request, outer_body, parse_envelope, ts_is_fresh, validate_enc,
};
use zeroize::Zeroizing;

use crate::keys::{KeyCache, KeyPolicy, WrapKey};
use crate::replay;

/// What the layer needs from the platform.
#[derive(Debug)]
pub struct SealContext<'a, S, C, R> {
    pub sql: &'a S,
    pub clock: &'a C,
    pub rng: &'a R,
    pub wrap: &'a WrapKey,
    pub policy: KeyPolicy,
}

/// A request that opened: its plaintext and what seals the answer.
pub struct Opened {
    pub plaintext: Zeroizing<Vec<u8>>,
    sealer: ResponseSealer,
}

impl std::fmt::Debug for Opened {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Opened(..)")
    }
}

impl Opened {
    /// Seals `inner` (an ordinary response envelope) into the outer body,
    /// keeping the inner status and headers.
    pub fn seal(&self, inner: ApiResponse, rng: &impl Rng) -> Result<ApiResponse, PortError> {
        let mut nonce = [0u8; 32];
        rng.fill(&mut nonce)?;
        let sealed = self.sealer.seal(inner.status, &inner.body, nonce);
        Ok(ApiResponse {
            status: inner.status,
            headers: inner.headers,
            body: outer_body(&inner.body, &sealed),
        })
    }
}

/// How a sealed request fared.
#[derive(Debug)]
pub enum Outcome {
    /// Opened; the handler runs on the plaintext.
    Open(Opened),
    /// Opened, but its nonce was used before: answer 409 `SEAL_REPLAY`, sealed.
    Replay(Opened),
    /// Refused before opening: this unsealed error envelope.
    Refused(ApiResponse),
}

fn refuse(code: ErrorCode) -> Outcome {
    Outcome::Refused(ApiError::new(code).into_response())
}

/// `Date` header value (IMF-fixdate, RFC 9110) for `ms`.
pub fn http_date(ms: i64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let iso = rfc3339(ms); // YYYY-MM-DDTHH:MM:SSZ
    let weekday = DAYS[usize::try_from(ms.div_euclid(86_400_000).rem_euclid(7)).unwrap_or(0)];
    let month = iso
        .get(5..7)
        .and_then(|m| m.parse::<usize>().ok())
        .and_then(|m| MONTHS.get(m.wrapping_sub(1)))
        .copied()
        .unwrap_or("Jan");
    format!(
        "{weekday}, {} {month} {} {} GMT",
        iso.get(8..10).unwrap_or("01"),
        iso.get(0..4).unwrap_or("1970"),
        iso.get(11..19).unwrap_or("00:00:00")
    )
}

/// Runs the edge-seal contract's checks on `body` for `METHOD PATH`.
pub async fn open<S: Sql, C: Clock, R: Rng>(
    ctx: &SealContext<'_, S, C, R>,
    cache: &KeyCache,
    method: &str,
    path: &str,
    body: &[u8],
) -> Result<Outcome, Failure> {
    if body.len() > MAX_ENVELOPE_BYTES {
        return Ok(Outcome::Refused(
            sealpost_api::body::check_size(body.len(), MAX_ENVELOPE_BYTES)
                .err()
                .unwrap_or_else(|| ApiError::new(ErrorCode::PayloadTooLarge))
                .into_response(),
        ));
    }
    let env: ParsedEnvelope = match parse_envelope(body) {
        Ok(env) => env,
        Err(_) if !looks_sealed(body) => return Ok(refuse(ErrorCode::SealRequired)),
        Err(_) => return Ok(refuse(ErrorCode::SealMalformed)),
    };
    if env.v != u64::from(VERSION) {
        return Ok(refuse(ErrorCode::SealUnsupportedVersion));
    }
    let Ok(kid) = u8::try_from(env.kid) else {
        return Ok(refuse(ErrorCode::SealUnknownKey));
    };
    let ring = cache
        .get(ctx.sql, ctx.clock, ctx.rng, ctx.wrap, ctx.policy, Some(kid))
        .await?;
    let now_ms = ctx.clock.now_ms();
    let Some(key) = ring.live(kid, now_ms) else {
        return Ok(refuse(ErrorCode::SealUnknownKey));
    };
    if validate_enc(&env.enc).is_err() {
        return Ok(refuse(ErrorCode::SealInvalid));
    }
    let now = ctx.clock.now_secs();
    if !ts_is_fresh(env.ts, now) {
        return Ok(Outcome::Refused(
            ApiError::new(ErrorCode::SealStale)
                .into_response()
                .with_header("Date", http_date(now_ms)),
        ));
    }
    let (plaintext, sealer) = match open_request(&key.secret, &env, method, path) {
        Ok(opened) => opened,
        Err(SealError::Crypto) => return Err(Failure::Crypto("opening a sealed request".into())),
        Err(_) => return Ok(refuse(ErrorCode::SealInvalid)),
    };
    let opened = Opened { plaintext, sealer };
    if replay::record(ctx.sql, &env.nonce_b64, env.ts, now).await? {
        Ok(Outcome::Open(opened))
    } else {
        Ok(Outcome::Replay(opened))
    }
}

/// A sealed route end to end: the checks, `handler` on the plaintext, and
/// the sealed answer.
pub async fn serve<S, C, R, F, Fut>(
    ctx: &SealContext<'_, S, C, R>,
    cache: &KeyCache,
    method: &str,
    path: &str,
    body: &[u8],
    handler: F,
) -> Result<ApiResponse, Failure>
where
    S: Sql,
    C: Clock,
    R: Rng,
    F: FnOnce(Zeroizing<Vec<u8>>) -> Fut,
    Fut: Future<Output = ApiResponse>,
{
    match open(ctx, cache, method, path, body).await? {
        Outcome::Refused(resp) => Ok(resp),
        Outcome::Replay(opened) => Ok(opened.seal(
            ApiError::new(ErrorCode::SealReplay).into_response(),
            ctx.rng,
        )?),
        Outcome::Open(opened) => {
            let inner = handler(opened.plaintext.clone()).await;
            Ok(opened.seal(inner, ctx.rng)?)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::http_date;

    #[test]
    fn http_dates_are_imf_fixdate() {
        assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(
            http_date(1_795_000_000_000),
            "Wed, 18 Nov 2026 11:06:40 GMT"
        );
    }
}
