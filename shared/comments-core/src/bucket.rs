//! The per-user comment rate limit a post's Durable Object holds: a burst
//! of [`BURST`], then one comment per [`EVERY_MS`]. Kept as GCRA (the
//! generic cell rate algorithm, a token bucket in one number): per user the
//! object stores only the "theoretical arrival time" `tat`, in its own
//! SQLite storage, which is strongly consistent and survives hibernation
//! and restarts. A `tat` in the past is the same as no entry, so entries
//! can be dropped once it has passed.

/// Comments allowed back to back.
pub const BURST: i64 = 5;
/// One more comment allowed per this many milliseconds.
pub const EVERY_MS: i64 = 5_000;

/// The decision on one comment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Allowed: store this `tat` for the user.
    Allow { tat: i64 },
    /// Refused: the next comment is allowed in this many seconds (≥ 1).
    Refuse { retry_after_secs: u32 },
}

/// Decides on a comment at `now_ms` from the user's stored `tat` (none:
/// the user is at full burst).
pub fn decide(stored_tat: Option<i64>, now_ms: i64) -> Decision {
    let tolerance = EVERY_MS * (BURST - 1);
    let tat = stored_tat.unwrap_or(now_ms).max(now_ms);
    let wait = tat - tolerance - now_ms;
    if wait > 0 {
        let secs = (wait + 999) / 1000;
        Decision::Refuse {
            retry_after_secs: u32::try_from(secs).unwrap_or(u32::MAX).max(1),
        }
    } else {
        Decision::Allow {
            tat: tat + EVERY_MS,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `n` attempts at `now`, storing what is allowed; the outcomes.
    fn attempts(tat: &mut Option<i64>, now: i64, n: usize) -> Vec<bool> {
        (0..n)
            .map(|_| match decide(*tat, now) {
                Decision::Allow { tat: t } => {
                    *tat = Some(t);
                    true
                }
                Decision::Refuse { .. } => false,
            })
            .collect()
    }

    #[test]
    fn a_burst_of_five_is_allowed_then_the_sixth_is_refused() {
        let mut tat = None;
        let now = 1_000_000;
        assert_eq!(
            attempts(&mut tat, now, 6),
            [true, true, true, true, true, false]
        );
        assert_eq!(
            decide(tat, now),
            Decision::Refuse {
                retry_after_secs: 5
            }
        );
    }

    #[test]
    fn one_more_is_allowed_every_five_seconds() {
        let mut tat = None;
        let now = 1_000_000;
        attempts(&mut tat, now, 5);
        assert_eq!(attempts(&mut tat, now + 4_999, 1), [false]);
        assert_eq!(
            decide(tat, now + 4_001),
            Decision::Refuse {
                retry_after_secs: 1
            }
        );
        assert_eq!(attempts(&mut tat, now + 5_000, 2), [true, false]);
        assert_eq!(attempts(&mut tat, now + 10_000, 2), [true, false]);
    }

    #[test]
    fn a_quiet_user_gets_the_whole_burst_back() {
        let mut tat = None;
        let now = 1_000_000;
        attempts(&mut tat, now, 5);
        // After 25 s the stored tat has passed: the same as no entry.
        let later = now + BURST * EVERY_MS;
        assert!(tat.unwrap() <= later);
        assert_eq!(
            attempts(&mut tat, later, 6),
            [true, true, true, true, true, false]
        );
    }

    #[test]
    fn a_clock_going_back_never_grants_more_than_the_burst() {
        let mut tat = None;
        attempts(&mut tat, 1_000_000, 5);
        assert_eq!(attempts(&mut tat, 990_000, 1), [false]);
    }
}
