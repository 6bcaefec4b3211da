//! A new live viewer's catch-up (docs/adr/0012, docs/api.md Comments): its
//! socket is accepted first, then its backfill is streamed from D1 in
//! chunks, bounded per connection, and merged with what was broadcast
//! meanwhile; and the object's register of viewers still catching up, which
//! its broadcasts skip ([`Hub`]).
//!
//! The merge: [`Hub::join`] notes the viewer as catching up and takes the
//! ring's mark, with no await before the socket is accepted; from then on
//! broadcasts skip that socket (they are remembered in the ring). The
//! stream ([`catch_up`]) reads the post's last serial `high`, then every
//! live comment in `(start, high]` in chunks of [`Limits::chunk`], sending
//! each chunk before reading the next, so one viewer never holds more than
//! one chunk of comments. Last, with no await, it sends what the ring holds
//! after the mark that the backfill lacks (creations above `high`, every
//! deletion) and takes the viewer off the register: from the next
//! broadcast on it is live. A comment is in the backfill exactly when its
//! serial ≤ `high`, so each one arrives once, in serial order, gap-free.
//!
//! The bound: a viewer gets at most [`Limits::max`] comments of backfill.
//! When `(since, high]` holds more, it first gets a `backfill.truncated`
//! notice naming the list cursor of what it was not sent, then the newest
//! `max`.
use std::cell::RefCell;
use std::collections::HashSet;

use sealpost_ports::{PortError, Sql};

use crate::live::{BACKFILL_CHUNK, BACKFILL_MAX, Kind, RECENT_CAP, Recent};
use crate::model;
use crate::store::Thread;

/// WebSocket close codes of a catch-up that could not finish (RFC 6455
/// §7.4.1): the object failed reading, or so many events were broadcast
/// during the read that the ring no longer holds them. Either way the
/// client reconnects with the last serial it got.
pub const CLOSE_INTERNAL: u16 = 1011;
pub const CLOSE_TRY_AGAIN: u16 = 1013;

/// How much one catch-up reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Comments per D1 read, and so the most one viewer holds at once.
    pub chunk: u32,
    /// Comments of backfill per connection.
    pub max: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            chunk: BACKFILL_CHUNK,
            max: BACKFILL_MAX,
        }
    }
}

/// The socket was closed (by the client, or while closing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gone;

/// A catching-up viewer's socket, as the catch-up uses it.
pub trait Outbox {
    /// Sends one text frame.
    fn send(&self, frame: &str) -> Result<(), Gone>;
    /// Closes the socket with `code` and `reason`.
    fn close(&self, code: u16, reason: &str);
}

/// A viewer that joined and is catching up: its tag, the `since` it asked
/// for and the ring's position when it joined.
#[derive(Debug)]
pub struct Ticket {
    tag: String,
    since: i64,
    mark: u64,
}

impl Ticket {
    pub fn tag(&self) -> &str {
        &self.tag
    }
}

/// How a catch-up ended.
#[derive(Debug)]
pub enum Outcome {
    /// The viewer is live: `backfilled` comments from D1, `replayed`
    /// events from the ring, `truncated` when the bound cut the backfill.
    Live {
        backfilled: usize,
        replayed: usize,
        truncated: bool,
    },
    /// The socket closed during the catch-up.
    Gone,
    /// The ring forgot events the viewer still needed; closed with
    /// [`CLOSE_TRY_AGAIN`].
    Overrun,
    /// A read failed; closed with [`CLOSE_INTERNAL`].
    Failed(PortError),
}

/// The object's live state in memory: the ring of recent broadcasts and
/// the viewers still catching up (by socket tag). It only has to cover
/// catch-ups in flight, and an object is neither hibernated nor evicted
/// while one awaits D1 (docs/adr/0012), so memory is the right place.
#[derive(Debug)]
pub struct Hub {
    recent: Recent,
    catching: HashSet<String>,
}

impl Default for Hub {
    fn default() -> Self {
        Hub::with_capacity(RECENT_CAP)
    }
}

impl Hub {
    /// A hub whose ring remembers `cap` events.
    pub fn with_capacity(cap: usize) -> Hub {
        Hub {
            recent: Recent::with_capacity(cap),
            catching: HashSet::new(),
        }
    }

    /// Notes viewer `tag` (unique among the object's sockets) as catching
    /// up from `since`. Call it with no await before the socket is
    /// accepted, then run [`catch_up`] with the ticket.
    pub fn join(&mut self, tag: &str, since: i64) -> Ticket {
        self.catching.insert(tag.to_owned());
        Ticket {
            tag: tag.to_owned(),
            since,
            mark: self.recent.mark(),
        }
    }

    /// Takes a viewer off the register whose catch-up will not run (its
    /// socket could not be set up).
    pub fn abandon(&mut self, ticket: Ticket) {
        self.catching.remove(&ticket.tag);
    }

    /// Viewers still catching up.
    pub fn catching(&self) -> usize {
        self.catching.len()
    }

    /// Whether a broadcast skips the socket with these tags (its viewer is
    /// still catching up and gets the event from the ring).
    pub fn skips<T: AsRef<str>>(&self, tags: &[T]) -> bool {
        !self.catching.is_empty() && tags.iter().any(|t| self.catching.contains(t.as_ref()))
    }

    /// Notes a broadcast event (after sending it to every socket it does
    /// not skip).
    pub fn record(&mut self, kind: Kind, serial: i64, frame: String) {
        self.recent.record(kind, serial, frame);
    }
}

/// Streams `ticket`'s backfill from `thread` to `out`, then makes the
/// viewer live (see the module header). Never holds the hub across an
/// await; every ending takes the viewer off the register.
pub async fn catch_up<S: Sql, O: Outbox>(
    thread: &Thread<'_, S>,
    hub: &RefCell<Hub>,
    ticket: Ticket,
    out: &O,
    limits: Limits,
) -> Outcome {
    let outcome = stream(thread, hub, &ticket, out, limits).await;
    hub.borrow_mut().catching.remove(&ticket.tag);
    match &outcome {
        Outcome::Overrun => out.close(
            CLOSE_TRY_AGAIN,
            "too many events while catching up; reconnect with since",
        ),
        Outcome::Failed(_) => out.close(
            CLOSE_INTERNAL,
            "could not read the comments; reconnect with since",
        ),
        Outcome::Live { .. } | Outcome::Gone => {}
    }
    outcome
}

enum Stop {
    Gone,
    Failed(PortError),
}

impl From<Gone> for Stop {
    fn from(_: Gone) -> Self {
        Stop::Gone
    }
}

impl From<PortError> for Stop {
    fn from(e: PortError) -> Self {
        Stop::Failed(e)
    }
}

async fn stream<S: Sql, O: Outbox>(
    thread: &Thread<'_, S>,
    hub: &RefCell<Hub>,
    ticket: &Ticket,
    out: &O,
    limits: Limits,
) -> Outcome {
    match read_and_send(thread, hub, ticket, out, limits).await {
        Ok(outcome) => outcome,
        Err(Stop::Gone) => Outcome::Gone,
        Err(Stop::Failed(e)) => Outcome::Failed(e),
    }
}

async fn read_and_send<S: Sql, O: Outbox>(
    thread: &Thread<'_, S>,
    hub: &RefCell<Hub>,
    ticket: &Ticket,
    out: &O,
    limits: Limits,
) -> Result<Outcome, Stop> {
    let chunk = limits.chunk.max(1);
    let high = thread.high_water().await?;
    let mut after = ticket.since;
    // Serials are dense, so (since, high] holds at most high − since
    // comments: the cut is looked for only when it may be needed.
    let truncated = if high.saturating_sub(after) > i64::from(limits.max) {
        match thread.backfill_cut(after, high, limits.max).await? {
            Some(cut) => {
                out.send(&model::truncated_frame(thread.post_id, after, cut + 1))?;
                after = cut;
                true
            }
            None => false,
        }
    } else {
        false
    };
    let mut backfilled = 0;
    while after < high {
        if !hub.borrow().recent.covers(ticket.mark) {
            return Ok(Outcome::Overrun);
        }
        let rows = thread.ascending(after, high, chunk).await?;
        for row in &rows {
            out.send(&model::created_frame(row))?;
        }
        backfilled += rows.len();
        match rows.last() {
            Some(last) if rows.len() == chunk as usize => after = last.serial,
            _ => break,
        }
    }
    // From here on no await: nothing is broadcast until the viewer is live.
    let h = hub.borrow();
    let Some(replay) = h.recent.since(ticket.mark, high.max(ticket.since)) else {
        return Ok(Outcome::Overrun);
    };
    for frame in &replay {
        out.send(frame)?;
    }
    Ok(Outcome::Live {
        backfilled,
        replayed: replay.len(),
        truncated,
    })
}
