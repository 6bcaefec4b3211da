//! A new live viewer's catch-up, natively: SQLite with the real migrations
//! behind a double of D1 that lets the object serve other requests (new
//! comments, deletions and their broadcasts) while a read is in flight, as
//! the object does during an await, and that counts the comments a viewer
//! holds at once (read from D1, not yet handed to its socket). Broadcasts
//! go to every socket the hub does not skip, then into its ring, exactly as
//! the post's object sends them.
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::pin::pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use sealpost_comments_core::catchup::{
    CLOSE_INTERNAL, CLOSE_TRY_AGAIN, Gone, Hub, Limits, Outbox, Outcome, catch_up,
};
use sealpost_comments_core::live::{BACKFILL_CHUNK, BACKFILL_MAX, Kind};
use sealpost_comments_core::model::{self, CommentRow, NewComment};
use sealpost_comments_core::service;
use sealpost_comments_core::store::Thread;
use sealpost_guard::Role;
use sealpost_ports::{ExecResult, PortError, Row, SiteDb, SiteId, Sql, Statement};
use sealpost_testkit::{Base, MemSitePurge, SqliteDb, block_on, seed};
use serde_json::Value;

const START_MS: i64 = 1_795_000_000_000;
const POST: &str = "p1";

/// What happened, in order: a D1 read (with the comments it returned) or a
/// frame sent to a socket.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Entry {
    Read { comments: usize },
    Sent { tag: String },
}

type Log = Rc<RefCell<Vec<Entry>>>;

/// A viewer's socket: the frames it got, and its close.
#[derive(Debug)]
struct Socket {
    tag: String,
    frames: RefCell<Vec<Value>>,
    closed: RefCell<Option<(u16, String)>>,
    log: Log,
}

impl Socket {
    fn new(tag: &str, log: &Log) -> Rc<Socket> {
        Rc::new(Socket {
            tag: tag.to_owned(),
            frames: RefCell::new(Vec::new()),
            closed: RefCell::new(None),
            log: log.clone(),
        })
    }

    /// The frames as `created <serial>` / `deleted <serial>` / the notice.
    fn events(&self) -> Vec<String> {
        self.frames.borrow().iter().map(describe).collect()
    }

    fn created_count(&self) -> usize {
        self.frames
            .borrow()
            .iter()
            .filter(|f| f["type"] == "comment.created")
            .count()
    }
}

fn describe(frame: &Value) -> String {
    match frame["type"].as_str() {
        Some("comment.created") => format!("created {}", frame["comment"]["serial"]),
        Some("comment.deleted") => format!("deleted {}", frame["serial"]),
        Some("backfill.truncated") => format!(
            "truncated since {} before {}",
            frame["since"], frame["before"]
        ),
        _ => panic!("an unknown frame: {frame}"),
    }
}

impl Outbox for Socket {
    fn send(&self, frame: &str) -> Result<(), Gone> {
        if self.closed.borrow().is_some() {
            return Err(Gone);
        }
        self.frames
            .borrow_mut()
            .push(serde_json::from_str(frame).expect("a JSON frame"));
        self.log.borrow_mut().push(Entry::Sent {
            tag: self.tag.clone(),
        });
        Ok(())
    }

    fn close(&self, code: u16, reason: &str) {
        *self.closed.borrow_mut() = Some((code, reason.to_owned()));
    }
}

/// Something the object does while a read of the catch-up is in flight.
type Between = Box<dyn Fn(&World)>;

/// One post's object: the database, its hub and its accepted sockets.
struct World {
    base: Base,
    author: String,
    hub: RefCell<Hub>,
    sockets: RefCell<Vec<Rc<Socket>>>,
    log: Log,
    site_purge: MemSitePurge,
}

sealpost_testkit::world_on_base!(World);

impl World {
    fn new(hub: Hub) -> World {
        let base = Base::new(START_MS, 13);
        let author = base.signed_in("lan", &[Role::Member], &["pwd"]).id;
        seed::post(&base.db, POST, &author, "published", START_MS);
        World {
            base,
            author,
            hub: RefCell::new(hub),
            sockets: RefCell::new(Vec::new()),
            log: Rc::new(RefCell::new(Vec::new())),
            site_purge: MemSitePurge::new(),
        }
    }

    fn thread(&self) -> Thread<'_, SqliteDb> {
        Thread {
            db: SiteDb::new(&self.db, SiteId::default_site()),
            post_id: POST,
        }
    }

    /// Sends `frame` to every socket the hub does not skip, then records
    /// it (the object's broadcast).
    fn broadcast(&self, kind: Kind, serial: i64, frame: String) {
        let mut hub = self.hub.borrow_mut();
        for socket in self.sockets.borrow().iter() {
            if !hub.skips(&[socket.tag.as_str()]) {
                let _ = socket.send(&frame);
            }
        }
        hub.record(kind, serial, frame);
    }

    /// The object's `/create`: the write, then its broadcast.
    fn say(&self, text: &str) -> CommentRow {
        self.clock.advance_ms(1);
        let comment = NewComment {
            body: text.to_owned(),
            parent_id: None,
        };
        ready(service::create(
            &self.thread(),
            &self.rng,
            &self.clock,
            &self.site_purge,
            &self.author,
            &comment,
            |row| self.broadcast(Kind::Created, row.serial, model::created_frame(row)),
        ))
        .expect("comment")
    }

    /// `n` comments; their rows.
    fn say_n(&self, n: usize) -> Vec<CommentRow> {
        (0..n).map(|i| self.say(&format!("comment {i}"))).collect()
    }

    /// The object's `/delete` of the comment with `serial`.
    fn delete(&self, rows: &[CommentRow], serial: i64) {
        let row = rows.iter().find(|r| r.serial == serial).expect("a comment");
        let deleted = ready(service::delete(
            &self.thread(),
            &self.clock,
            &self.site_purge,
            &row.id,
            &self.author,
            |serial| {
                self.broadcast(
                    Kind::Deleted,
                    serial,
                    model::deleted_frame(POST, &row.id, serial),
                )
            },
        ))
        .expect("delete");
        assert!(deleted > 0);
    }

    /// A viewer already live (it joined earlier and caught up).
    fn live_viewer(&self, tag: &str) -> Rc<Socket> {
        let socket = Socket::new(tag, &self.log);
        self.sockets.borrow_mut().push(socket.clone());
        socket
    }

    /// A new viewer from `since`: joined, accepted, then caught up through
    /// `d1` with `between[i]` run while read `i` is in flight.
    fn connect(
        &self,
        tag: &str,
        since: i64,
        between: HashMap<usize, Between>,
        fail_at: Option<usize>,
    ) -> (Rc<Socket>, Outcome, Paced<'_>) {
        let ticket = self.hub.borrow_mut().join(tag, since);
        let socket = self.live_viewer(tag);
        let d1 = Paced {
            world: self,
            between,
            fail_at,
            reads: Cell::new(0),
            held: Cell::new(0),
            most_held: Cell::new(0),
            socket: socket.clone(),
        };
        let thread = Thread {
            db: SiteDb::new(&d1, SiteId::default_site()),
            post_id: POST,
        };
        let outcome = block_on(catch_up(
            &thread,
            &self.hub,
            ticket,
            &*socket,
            Limits::default(),
        ));
        (socket, outcome, d1)
    }

    /// The log of one socket's frames and the reads, in order, as
    /// (comments read, frames sent to `tag` after it) per read.
    fn reads_and_sends(&self, tag: &str) -> Vec<(usize, usize)> {
        let mut out: Vec<(usize, usize)> = Vec::new();
        for entry in self.log.borrow().iter() {
            match entry {
                Entry::Read { comments } => out.push((*comments, 0)),
                Entry::Sent { tag: t } if t == tag => {
                    if let Some(last) = out.last_mut() {
                        last.1 += 1;
                    }
                }
                Entry::Sent { .. } => {}
            }
        }
        out
    }
}

/// D1 as the object sees it: each read is an await during which the
/// object serves other requests (`between`), and it may fail. Counts the
/// comments the viewer holds: read so far, less those already sent to it.
struct Paced<'a> {
    world: &'a World,
    between: HashMap<usize, Between>,
    fail_at: Option<usize>,
    reads: Cell<usize>,
    held: Cell<usize>,
    most_held: Cell<usize>,
    socket: Rc<Socket>,
}

impl Paced<'_> {
    fn before_read(&self) -> Result<(), PortError> {
        let i = self.reads.get();
        self.reads.set(i + 1);
        if let Some(act) = self.between.get(&i) {
            act(self.world);
        }
        if self.fail_at == Some(i) {
            return Err(PortError::Unavailable("D1 went away".into()));
        }
        Ok(())
    }
}

impl Sql for Paced<'_> {
    async fn query(&self, stmt: &Statement) -> Result<Vec<Row>, PortError> {
        self.before_read()?;
        let rows = self.world.db.query(stmt).await?;
        let comments = rows.iter().filter(|r| r.contains_key("body")).count();
        self.world.log.borrow_mut().push(Entry::Read { comments });
        // Held now: every comment read for this viewer, less those it was
        // sent (a frame sent is the socket's, not the object's).
        let sent = self.socket.created_count();
        let read_total = self.held.get() + comments;
        self.held.set(read_total);
        self.most_held
            .set(self.most_held.get().max(read_total.saturating_sub(sent)));
        Ok(rows)
    }

    async fn execute(&self, stmt: &Statement) -> Result<ExecResult, PortError> {
        self.before_read()?;
        self.world.db.execute(stmt).await
    }

    async fn batch(&self, stmts: &[Statement]) -> Result<Vec<ExecResult>, PortError> {
        self.before_read()?;
        self.world.db.batch(stmts).await
    }
}

/// The value of a future of the SQLite double, which never waits (the
/// object's writes run here while a read of the catch-up is in flight, so
/// inside the executor already running it).
fn ready<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("the SQLite double waited"),
    }
}

fn created(range: impl IntoIterator<Item = i64>) -> Vec<String> {
    range.into_iter().map(|s| format!("created {s}")).collect()
}

fn between(actions: Vec<(usize, Between)>) -> HashMap<usize, Between> {
    actions.into_iter().collect()
}

#[test]
fn a_backfill_is_sent_in_chunks_of_at_most_the_chunk_size_after_accept() {
    let w = World::new(Hub::default());
    w.say_n(450);
    let (socket, outcome, _) = w.connect("v:new", 0, HashMap::new(), None);
    assert!(
        matches!(
            outcome,
            Outcome::Live {
                backfilled: 450,
                replayed: 0,
                truncated: false
            }
        ),
        "{outcome:?}"
    );
    assert_eq!(socket.events(), created(1..=450));
    assert_eq!(BACKFILL_CHUNK, 200);
    // The last serial, then each chunk is read and sent before the next.
    assert_eq!(
        w.reads_and_sends("v:new"),
        [(0, 0), (200, 200), (200, 200), (50, 50)]
    );
}

#[test]
fn comments_posted_during_a_chunked_backfill_arrive_once_in_order_after_it() {
    let w = World::new(Hub::default());
    let rows = Rc::new(w.say_n(450));
    let watcher = w.live_viewer("v:watcher");
    let (r2, r3) = (rows.clone(), rows.clone());
    // Read 0 is the last serial (450), reads 1-3 the chunks. While chunk 2
    // is read: a new comment, the deletion of one already sent and of one
    // not yet read; while chunk 3 is read: another comment.
    let (socket, outcome, _) = w.connect(
        "v:new",
        0,
        between(vec![
            (
                2,
                Box::new(move |w: &World| {
                    w.say("during chunk 2");
                    w.delete(&r2, 10);
                    w.delete(&r2, 300);
                }),
            ),
            (
                3,
                Box::new(move |w: &World| {
                    let _ = &r3;
                    w.say("during chunk 3");
                }),
            ),
        ]),
        None,
    );
    assert!(
        matches!(
            outcome,
            Outcome::Live {
                backfilled: 449,
                replayed: 4,
                truncated: false
            }
        ),
        "{outcome:?}"
    );
    let mut want: Vec<String> = created((1..=450).filter(|s| *s != 300));
    want.extend(["created 451", "deleted 10", "deleted 300", "created 452"].map(str::to_owned));
    assert_eq!(socket.events(), want);
    // Live from now on: the next comment reaches it once, after the rest.
    w.say("after");
    assert_eq!(
        socket.events().last().map(String::as_str),
        Some("created 453")
    );
    assert_eq!(socket.events().len(), want.len() + 1);
    assert_eq!(w.hub.borrow().catching(), 0);
    // The viewer that was already live got each event as it happened.
    assert_eq!(
        watcher.events(),
        [
            "created 451",
            "deleted 10",
            "deleted 300",
            "created 452",
            "created 453"
        ]
    );
}

#[test]
fn a_since_beyond_the_bound_gets_the_newest_comments_and_a_notice() {
    let w = World::new(Hub::default());
    assert_eq!(BACKFILL_MAX, 1_000);
    w.say_n(1_030);
    let (socket, outcome, _) = w.connect("v:new", 5, HashMap::new(), None);
    assert!(
        matches!(
            outcome,
            Outcome::Live {
                backfilled: 1_000,
                replayed: 0,
                truncated: true
            }
        ),
        "{outcome:?}"
    );
    // 6-30 are not sent: the notice says to list them with before=31.
    let mut want = vec!["truncated since 5 before 31".to_owned()];
    want.extend(created(31..=1_030));
    assert_eq!(socket.events(), want);
    assert_eq!(
        socket.frames.borrow()[0],
        serde_json::json!({"type": "backfill.truncated", "postId": POST, "since": 5, "before": 31})
    );
}

#[test]
fn the_bound_counts_live_comments_so_deletions_do_not_cut_a_backfill() {
    let w = World::new(Hub::default());
    let rows = w.say_n(1_010);
    for serial in 1..=20 {
        w.delete(&rows, serial);
    }
    let (socket, outcome, _) = w.connect("v:new", 0, HashMap::new(), None);
    assert!(
        matches!(
            outcome,
            Outcome::Live {
                backfilled: 990,
                truncated: false,
                ..
            }
        ),
        "{outcome:?}"
    );
    assert_eq!(socket.events(), created(21..=1_010));
}

#[test]
fn a_catching_up_viewer_holds_at_most_one_chunk_of_comments() {
    let w = World::new(Hub::default());
    w.say_n(1_000);
    let (socket, _, d1) = w.connect("v:new", 0, HashMap::new(), None);
    assert_eq!(socket.created_count(), 1_000);
    assert!(
        d1.most_held.get() <= BACKFILL_CHUNK as usize,
        "held {} comments at once",
        d1.most_held.get()
    );
}

#[test]
fn a_viewer_that_leaves_during_its_backfill_stops_the_reads() {
    let w = World::new(Hub::default());
    w.say_n(450);
    let (socket, outcome, d1) = w.connect(
        "v:new",
        0,
        between(vec![(
            2,
            Box::new(|w: &World| {
                let sockets = w.sockets.borrow();
                let s = sockets.iter().find(|s| s.tag == "v:new").expect("socket");
                s.close(1000, "bye");
            }),
        )]),
        None,
    );
    assert!(matches!(outcome, Outcome::Gone), "{outcome:?}");
    assert_eq!(socket.created_count(), 200);
    assert_eq!(d1.reads.get(), 3, "no read after the one it left during");
    assert_eq!(w.hub.borrow().catching(), 0);
}

#[test]
fn a_viewer_whose_catch_up_outgrows_the_ring_is_closed_to_reconnect() {
    let w = World::new(Hub::with_capacity(4));
    w.say_n(450);
    let (socket, outcome, d1) = w.connect(
        "v:new",
        0,
        between(vec![(
            2,
            Box::new(|w: &World| {
                w.say_n(5);
            }),
        )]),
        None,
    );
    assert!(matches!(outcome, Outcome::Overrun), "{outcome:?}");
    assert_eq!(
        socket.closed.borrow().as_ref().map(|c| c.0),
        Some(CLOSE_TRY_AGAIN)
    );
    assert_eq!(
        d1.reads.get(),
        3,
        "stopped at the first chunk after the loss"
    );
    assert_eq!(w.hub.borrow().catching(), 0);
}

#[test]
fn a_failed_read_closes_the_viewer_and_takes_it_off_the_register() {
    let w = World::new(Hub::default());
    w.say_n(450);
    let (socket, outcome, _) = w.connect("v:new", 0, HashMap::new(), Some(2));
    assert!(matches!(outcome, Outcome::Failed(_)), "{outcome:?}");
    assert_eq!(
        socket.closed.borrow().as_ref().map(|c| c.0),
        Some(CLOSE_INTERNAL)
    );
    assert_eq!(w.hub.borrow().catching(), 0);
    // Its socket gets nothing more; other viewers still get broadcasts.
    let other = w.live_viewer("v:other");
    w.say("later");
    assert_eq!(other.events(), ["created 451"]);
}

#[test]
fn a_since_past_the_last_serial_reads_nothing_and_goes_live() {
    let w = World::new(Hub::default());
    w.say_n(3);
    let (socket, outcome, d1) = w.connect("v:new", 7, HashMap::new(), None);
    assert!(
        matches!(
            outcome,
            Outcome::Live {
                backfilled: 0,
                replayed: 0,
                truncated: false
            }
        ),
        "{outcome:?}"
    );
    assert_eq!(d1.reads.get(), 1, "only the last serial");
    assert!(socket.events().is_empty());
}
