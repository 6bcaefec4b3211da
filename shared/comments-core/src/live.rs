//! The live protocol of `GET /posts/{id}/comments/live` (docs/api.md,
//! Comments): what clients may send ([`judge`]), the caps on viewers and on
//! one viewer's backfill, and the ring of recent broadcasts ([`Recent`])
//! that a new viewer's catch-up (`crate::catchup`) merges with its
//! backfill.
//!
//! The ring: every broadcast is numbered in order and remembered (the last
//! [`RECENT_CAP`]). A viewer that starts catching up notes [`Recent::mark`];
//! when its backfill of every comment up to serial `high` has been sent,
//! [`Recent::since`]`(mark, high)` gives the events broadcast after the mark
//! that the backfill does not already hold. A comment is in the backfill
//! exactly when its serial ≤ `high` (serials are taken in commit order, in
//! the same transaction as the row), so every comment reaches the viewer
//! once, in serial order.
use std::collections::VecDeque;

/// Longest text frame a client may send, in bytes.
pub const CLIENT_FRAME_MAX: usize = 128;
/// The keep-alive a client may send, and the answer the runtime gives
/// without waking the object.
pub const PING: &str = "ping";
pub const PONG: &str = "pong";
/// Live viewers per post (the object answers 503 beyond).
pub const VIEWERS_PER_POST: usize = 10_000;
/// Live viewers per post from one client IP (429 beyond).
pub const VIEWERS_PER_IP: usize = 20;
/// `Retry-After` of both refusals, seconds.
pub const VIEWERS_RETRY_AFTER_SECS: u32 = 60;
/// Backfill rows per D1 read, and so the most comments one catching-up
/// viewer holds at once (`crate::catchup`).
pub const BACKFILL_CHUNK: u32 = 200;
/// Comments of backfill one connection gets at most; a `since` further
/// back gets the newest ones and a `backfill.truncated` notice.
pub const BACKFILL_MAX: u32 = 1_000;
/// Events the object remembers for the merge.
pub const RECENT_CAP: usize = 1_024;

/// WebSocket close codes the object uses (RFC 6455 §7.4.1).
pub const CLOSE_UNSUPPORTED: u16 = 1003;
pub const CLOSE_POLICY: u16 = 1008;
pub const CLOSE_TOO_BIG: u16 = 1009;

/// A frame a client sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientFrame<'a> {
    Text(&'a str),
    Binary(usize),
}

/// What the object does with a client's frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Answer `pong` (the runtime normally does this itself).
    Pong,
    /// Close the socket with this code and reason.
    Close { code: u16, reason: &'static str },
}

/// Judges a client frame: `ping` is answered, anything else closes.
pub fn judge(frame: ClientFrame<'_>) -> Verdict {
    match frame {
        ClientFrame::Text(PING) => Verdict::Pong,
        ClientFrame::Binary(_) => Verdict::Close {
            code: CLOSE_UNSUPPORTED,
            reason: "binary frames are not accepted",
        },
        ClientFrame::Text(t) if t.len() > CLIENT_FRAME_MAX => Verdict::Close {
            code: CLOSE_TOO_BIG,
            reason: "frame too large",
        },
        ClientFrame::Text(_) => Verdict::Close {
            code: CLOSE_POLICY,
            reason: "clients may only send ping",
        },
    }
}

/// Why a new viewer is refused, from the counts before it joins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    Admit,
    /// The post has [`VIEWERS_PER_POST`] viewers (503).
    PostFull,
    /// This IP has [`VIEWERS_PER_IP`] viewers on the post (429).
    IpFull,
}

pub fn admit(viewers_on_post: usize, viewers_from_ip: usize) -> Admission {
    if viewers_on_post >= VIEWERS_PER_POST {
        Admission::PostFull
    } else if viewers_from_ip >= VIEWERS_PER_IP {
        Admission::IpFull
    } else {
        Admission::Admit
    }
}

/// What a broadcast event was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Created,
    Deleted,
}

#[derive(Debug, Clone)]
struct Recorded {
    seq: u64,
    kind: Kind,
    serial: i64,
    frame: String,
}

/// The events this instance of the object broadcast lately, numbered in
/// broadcast order (in memory: it only has to cover catch-ups in flight,
/// and an object is neither hibernated nor evicted while one awaits D1).
#[derive(Debug)]
pub struct Recent {
    next_seq: u64,
    events: VecDeque<Recorded>,
    cap: usize,
}

impl Default for Recent {
    fn default() -> Self {
        Recent::with_capacity(RECENT_CAP)
    }
}

impl Recent {
    pub fn with_capacity(cap: usize) -> Recent {
        Recent {
            next_seq: 0,
            events: VecDeque::new(),
            cap: cap.max(1),
        }
    }

    /// The position a backfill read starts from.
    pub fn mark(&self) -> u64 {
        self.next_seq
    }

    /// Notes a broadcast event.
    pub fn record(&mut self, kind: Kind, serial: i64, frame: String) {
        if self.events.len() == self.cap {
            self.events.pop_front();
        }
        self.events.push_back(Recorded {
            seq: self.next_seq,
            kind,
            serial,
            frame,
        });
        self.next_seq += 1;
    }

    /// Whether every event broadcast since `mark` is still remembered.
    pub fn covers(&self, mark: u64) -> bool {
        mark >= self.next_seq || self.events.front().is_some_and(|first| first.seq <= mark)
    }

    /// The frames broadcast since `mark` that a backfill holding every
    /// comment up to serial `high` lacks, in broadcast order; `None` when
    /// some of them are no longer remembered (the viewer cannot be caught
    /// up from this mark).
    pub fn since(&self, mark: u64, high: i64) -> Option<Vec<&str>> {
        if !self.covers(mark) {
            return None;
        }
        Some(
            self.events
                .iter()
                .filter(|e| e.seq >= mark)
                .filter(|e| e.kind == Kind::Deleted || e.serial > high)
                .map(|e| e.frame.as_str())
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_ping_is_accepted_from_clients() {
        assert_eq!(judge(ClientFrame::Text("ping")), Verdict::Pong);
        assert!(matches!(
            judge(ClientFrame::Binary(3)),
            Verdict::Close { code: 1003, .. }
        ));
        assert!(matches!(
            judge(ClientFrame::Text(&"x".repeat(CLIENT_FRAME_MAX + 1))),
            Verdict::Close { code: 1009, .. }
        ));
        assert!(matches!(
            judge(ClientFrame::Text("hello")),
            Verdict::Close { code: 1008, .. }
        ));
        assert!(matches!(
            judge(ClientFrame::Text("PING")),
            Verdict::Close { code: 1008, .. }
        ));
    }

    #[test]
    fn viewers_are_capped_per_post_then_per_ip() {
        assert_eq!(admit(0, 0), Admission::Admit);
        assert_eq!(
            admit(VIEWERS_PER_POST - 1, VIEWERS_PER_IP - 1),
            Admission::Admit
        );
        assert_eq!(admit(5, VIEWERS_PER_IP), Admission::IpFull);
        assert_eq!(admit(VIEWERS_PER_POST, 0), Admission::PostFull);
    }

    fn created(r: &mut Recent, serial: i64) {
        r.record(Kind::Created, serial, format!("c{serial}"));
    }

    #[test]
    fn the_replay_holds_what_the_backfill_lacks_in_broadcast_order() {
        let mut r = Recent::default();
        created(&mut r, 1);
        let mark = r.mark();
        // Broadcast while the backfill was read: 2 was committed before the
        // read took high = 2, 3 after.
        created(&mut r, 2);
        r.record(Kind::Deleted, 1, "d1".into());
        created(&mut r, 3);
        assert_eq!(r.since(mark, 2), Some(vec!["d1", "c3"]));
        // Nothing happened since the mark: nothing to add.
        assert_eq!(r.since(r.mark(), 3), Some(vec![]));
    }

    #[test]
    fn a_replay_that_was_partly_forgotten_is_refused() {
        let mut r = Recent::with_capacity(2);
        let mark = r.mark();
        created(&mut r, 1);
        created(&mut r, 2);
        assert_eq!(r.since(mark, 0), Some(vec!["c1", "c2"]));
        created(&mut r, 3);
        assert_eq!(r.since(mark, 0), None);
        assert!(!r.covers(mark));
        assert_eq!(r.since(mark + 1, 1), Some(vec!["c2", "c3"]));
        assert!(r.covers(mark + 1) && r.covers(r.mark()));
    }
}
