//! `PostThread`, the Durable Object of one post (named `{site}/{post}`):
//! the only writer of that post's comments and the holder of its live
//! viewers (docs/adr/0012).
//!
//! - Writes: `/create` applies the per-user rate limit (GCRA state in the
//!   object's own SQLite storage, `sealpost_comments_core::bucket`), writes
//!   the comment to D1 with its serial (`store::Thread::create`), then
//!   broadcasts `comment.created`; `/delete` soft-deletes and broadcasts
//!   `comment.deleted`. Either write purges the site worker's cached pages
//!   of the post (the `SITE` binding, `sealpost_cf::SiteWorkerPurge`).
//! - Viewers: `/live` notes the viewer as catching up and accepts the
//!   socket through the hibernation API (so an idle viewer costs the object
//!   no CPU and it can be evicted from memory while its sockets stay open),
//!   answers the upgrade, then streams the backfill from D1 in chunks in a
//!   `waitUntil` task, merged with what was broadcast meanwhile
//!   (`catchup::catch_up`); broadcasts skip sockets still catching up
//!   (`catchup::Hub`). Per-viewer state lives in the socket's tags (the
//!   client IP, for the cap; a random viewer tag, for the register) and
//!   attachment (survives hibernation). `ping` is answered `pong` by the
//!   runtime without waking the object; any other client frame closes the
//!   socket with a reason (`live::judge`).
use std::cell::RefCell;
use std::rc::Rc;

use sealpost_api::Failure;
use sealpost_api::{ApiError, ApiResponse};
use sealpost_cf::PlatformResult;
use sealpost_cf::domain;
use sealpost_cf::http::{self, HEADER_CLIENT_IP, HEADER_REQUEST_ID, HEADER_SITE};
use sealpost_cf::{CryptoRng, D1Sql, SiteWorkerPurge, SystemClock, log};
use sealpost_comments_core::bucket::{self, Decision};
use sealpost_comments_core::catchup::{self, Gone, Hub, Limits, Outbox, Outcome};
use sealpost_comments_core::live::{self, ClientFrame, Kind, Verdict};
use sealpost_comments_core::model::{self, NewComment};
use sealpost_comments_core::service;
use sealpost_comments_core::store::Thread;
use sealpost_ports::{Clock, Rng, SiteDb, SiteId};
use serde::{Deserialize, Serialize};
use worker::{
    DurableObject, Env, Request, Response, State, WebSocket, WebSocketIncomingMessage,
    WebSocketPair, durable_object,
};

use crate::HEADER_POST;

/// `/create`: a validated comment by an authenticated member.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CreateCall {
    pub author_id: String,
    pub comment: NewComment,
}

/// `/delete`: a moderator's removal.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DeleteCall {
    pub comment_id: String,
    pub actor_id: String,
}

/// What a socket carries through hibernation.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Viewer {
    connected_at: i64,
    since: i64,
}

#[derive(Debug, Deserialize)]
struct Tat {
    tat: f64,
}

/// The object's own storage: the per-user rate limit.
const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS comment_limits (\
     user_id TEXT PRIMARY KEY, tat INTEGER NOT NULL)";

#[durable_object(websocket)]
pub struct PostThread {
    state: State,
    env: Env,
    /// The ring of recent broadcasts and the viewers catching up, shared
    /// with the catch-up tasks.
    hub: Rc<RefCell<Hub>>,
}

impl std::fmt::Debug for PostThread {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostThread").finish_non_exhaustive()
    }
}

impl DurableObject for PostThread {
    fn new(state: State, env: Env) -> Self {
        if let Err(e) = state.storage().sql().exec(SCHEMA, None) {
            log::line("error", "comment_limits schema")
                .field("cause", e.to_string())
                .emit();
        }
        match worker::worker_sys::WebSocketRequestResponsePair::new(live::PING, live::PONG) {
            Ok(pair) => state.set_websocket_auto_response(&pair),
            Err(e) => log::line("error", "websocket auto-response")
                .field("cause", format!("{e:?}"))
                .emit(),
        }
        // After hibernation the object starts again with its viewers'
        // sockets still open: the count shows it in the logs.
        log::line("info", "post thread started")
            .field("viewers", state.get_websockets().len())
            .emit();
        PostThread {
            state,
            env,
            hub: Rc::new(RefCell::new(Hub::default())),
        }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        let request_id = http::header(&req, HEADER_REQUEST_ID).unwrap_or_default();
        let path = req.path();
        let outcome = match (req.method(), path.as_str()) {
            (worker::Method::Post, "/create") => self.create(&mut req).await.map(Into::into),
            (worker::Method::Post, "/delete") => self.delete(&mut req).await.map(Into::into),
            (worker::Method::Get, "/live") => self.live(&req).await,
            _ => Err(Failure::Api(ApiError::not_found())),
        };
        match outcome {
            Ok(domain::Answer::Api(resp)) => http::to_response(resp),
            Ok(domain::Answer::Raw(resp)) => Ok(resp),
            Err(f) => http::to_response(domain::answer_failure(
                "comments.thread",
                &request_id,
                &path,
                f,
            )),
        }
    }

    async fn websocket_message(
        &self,
        ws: WebSocket,
        message: WebSocketIncomingMessage,
    ) -> worker::Result<()> {
        let frame = match &message {
            WebSocketIncomingMessage::String(text) => ClientFrame::Text(text),
            WebSocketIncomingMessage::Binary(bytes) => ClientFrame::Binary(bytes.len()),
        };
        match live::judge(frame) {
            Verdict::Pong => ws.send_with_str(live::PONG),
            Verdict::Close { code, reason } => {
                log::line("info", "viewer closed for a bad frame")
                    .field("code", code)
                    .emit();
                ws.close(Some(code), Some(reason))
            }
        }
    }

    async fn websocket_close(
        &self,
        ws: WebSocket,
        code: usize,
        _reason: String,
        _was_clean: bool,
    ) -> worker::Result<()> {
        let viewer = ws.deserialize_attachment::<Viewer>().ok().flatten();
        log::line("info", "viewer left")
            .field("code", code)
            .field(
                "connectedMs",
                viewer.map_or(0, |v| SystemClock.now_ms() - v.connected_at),
            )
            .emit();
        // Complete the closing handshake (a no-op when the runtime already did).
        let _ = ws.close(Some(1000), Some("bye"));
        Ok(())
    }

    async fn websocket_error(&self, _ws: WebSocket, error: worker::Error) -> worker::Result<()> {
        log::line("warn", "viewer socket error")
            .field("cause", error.to_string())
            .emit();
        Ok(())
    }
}

impl PostThread {
    /// The site and post this request is for (set by the worker).
    fn target(req: &Request) -> Result<(SiteId, String), Failure> {
        let site = http::header(req, HEADER_SITE)
            .and_then(|s| SiteId::parse(&s).ok())
            .ok_or_else(|| Failure::Platform("object call without a site".into()))?;
        let post = http::header(req, HEADER_POST)
            .filter(|p| model::is_id(p))
            .ok_or_else(|| Failure::Platform("object call without a post".into()))?;
        Ok((site, post))
    }

    fn d1(&self) -> Result<D1Sql, Failure> {
        D1Sql::from_env(&self.env)
    }

    /// Sends `frame` to every live viewer and remembers it for viewers
    /// still catching up (their sockets are skipped).
    fn broadcast(&self, kind: Kind, serial: i64, frame: String) {
        let mut hub = self.hub.borrow_mut();
        let any_catching = hub.catching() > 0;
        for ws in self.state.get_websockets() {
            if any_catching && hub.skips(&self.state.get_tags(&ws)) {
                continue;
            }
            // A socket that is closing refuses; it is gone either way.
            let _ = ws.send_with_str(&frame);
        }
        hub.record(kind, serial, frame);
    }

    /// Takes one comment from `user`'s allowance (no await: two requests
    /// cannot both take the last one).
    fn take_allowance(&self, user: &str) -> Result<(), Failure> {
        let sql = self.state.storage().sql();
        let now = SystemClock.now_ms();
        sql.exec(
            "DELETE FROM comment_limits WHERE tat <= ?",
            vec![now.into()],
        )
        .platform()?;
        let stored = sql
            .exec(
                "SELECT tat FROM comment_limits WHERE user_id = ?",
                vec![user.into()],
            )
            .platform()?
            .to_array::<Tat>()
            .platform()?
            .first()
            .map(|t| t.tat as i64);
        match bucket::decide(stored, now) {
            Decision::Refuse { retry_after_secs } => Err(service::rate_limited(retry_after_secs)),
            Decision::Allow { tat } => {
                sql.exec(
                    "INSERT INTO comment_limits (user_id, tat) VALUES (?, ?) \
                     ON CONFLICT (user_id) DO UPDATE SET tat = excluded.tat",
                    vec![user.into(), tat.into()],
                )
                .platform()?;
                Ok(())
            }
        }
    }

    async fn create(&self, req: &mut Request) -> Result<ApiResponse, Failure> {
        let (site, post) = Self::target(req)?;
        let call: CreateCall = req.json().await.platform()?;
        self.take_allowance(&call.author_id)?;
        let d1 = self.d1()?;
        let thread = Thread {
            db: SiteDb::new(&d1, site),
            post_id: &post,
        };
        let row = service::create(
            &thread,
            &CryptoRng,
            &SystemClock,
            &SiteWorkerPurge::from_env(&self.env),
            &call.author_id,
            &call.comment,
            |row| self.broadcast(Kind::Created, row.serial, model::created_frame(row)),
        )
        .await?;
        Ok(service::created(&row))
    }

    async fn delete(&self, req: &mut Request) -> Result<ApiResponse, Failure> {
        let (site, post) = Self::target(req)?;
        let call: DeleteCall = req.json().await.platform()?;
        let d1 = self.d1()?;
        let thread = Thread {
            db: SiteDb::new(&d1, site),
            post_id: &post,
        };
        let serial = service::delete(
            &thread,
            &SystemClock,
            &SiteWorkerPurge::from_env(&self.env),
            &call.comment_id,
            &call.actor_id,
            |serial| {
                self.broadcast(
                    Kind::Deleted,
                    serial,
                    model::deleted_frame(&post, &call.comment_id, serial),
                )
            },
        )
        .await?;
        Ok(service::deleted(&post, &call.comment_id, serial))
    }

    /// Refuses a viewer over a cap (checked with no await before the
    /// socket is accepted).
    fn admit(&self, ip_tag: &str) -> Result<(), Failure> {
        let admission = live::admit(
            self.state.get_websockets().len(),
            self.state.get_websockets_with_tag(ip_tag).len(),
        );
        match service::viewers_refused(admission) {
            Some(refusal) => Err(refusal),
            None => Ok(()),
        }
    }

    async fn live(&self, req: &Request) -> Result<domain::Answer, Failure> {
        let (site, post) = Self::target(req)?;
        let since: i64 = req
            .url()
            .platform()?
            .query_pairs()
            .find(|(k, _)| k == "since")
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0);
        let ip = http::header(req, HEADER_CLIENT_IP).unwrap_or_default();
        let ip_tag = format!("ip:{}", ip.chars().take(64).collect::<String>());
        self.admit(&ip_tag)?;

        let d1 = self.d1()?;
        let viewer_tag = format!("v:{}", CryptoRng.token(8)?);
        let pair = WebSocketPair::new().platform()?;
        let response = Response::from_websocket(pair.client).platform()?;
        // From the join to the accept no await: the socket is skipped by
        // every broadcast from the ring's mark on.
        let ticket = self.hub.borrow_mut().join(&viewer_tag, since);
        self.state
            .accept_websocket_with_tags(&pair.server, &[ip_tag.as_str(), viewer_tag.as_str()]);
        if let Err(e) = pair.server.serialize_attachment(Viewer {
            connected_at: SystemClock.now_ms(),
            since,
        }) {
            self.hub.borrow_mut().abandon(ticket);
            let _ = pair
                .server
                .close(Some(catchup::CLOSE_INTERNAL), Some("internal error"));
            return Err(Failure::Platform(e.to_string()));
        }
        let hub = self.hub.clone();
        let server = Socket(pair.server);
        // The task keeps the object in memory while it awaits D1 (pending
        // I/O and a waitUntil promise; docs/adr/0012): no hibernation with a
        // viewer half caught up.
        self.state.wait_until(async move {
            let thread = Thread {
                db: SiteDb::new(&d1, site),
                post_id: &post,
            };
            let outcome =
                catchup::catch_up(&thread, &hub, ticket, &server, Limits::default()).await;
            log_catch_up(&outcome);
        });
        Ok(domain::Answer::Raw(response))
    }
}

/// A catching-up viewer's socket.
struct Socket(WebSocket);

impl Outbox for Socket {
    fn send(&self, frame: &str) -> Result<(), Gone> {
        self.0.send_with_str(frame).map_err(|_| Gone)
    }

    fn close(&self, code: u16, reason: &str) {
        let _ = self.0.close(Some(code), Some(reason));
    }
}

fn log_catch_up(outcome: &Outcome) {
    match outcome {
        Outcome::Live {
            backfilled,
            replayed,
            truncated,
        } => log::line("info", "viewer caught up")
            .field("backfilled", *backfilled)
            .field("replayed", *replayed)
            .field("truncated", *truncated)
            .emit(),
        Outcome::Gone => log::line("info", "viewer left while catching up").emit(),
        Outcome::Overrun => {
            log::line("warn", "viewer closed: ring overrun while catching up").emit()
        }
        Outcome::Failed(e) => log::line("error", "viewer closed: backfill read failed")
            .field("cause", e.to_string())
            .emit(),
    }
}
