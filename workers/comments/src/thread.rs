//! `PostThread`, the Durable Object of one post (named `{site}/{post}`):
//! the only writer of that post's comments and the holder of its live
//! viewers (docs/adr/0012).
//!
//! - Writes: `/create` applies the per-user rate limit (GCRA state in the
//!   object's own SQLite storage, `sealpost_comments_core::bucket`), writes
//!   the comment to D1 with its serial (`store::Thread::create`), then
//!   broadcasts `comment.created`; `/delete` soft-deletes and broadcasts
//!   `comment.deleted`.
//! - Viewers: `/live` reads the backfill from D1, then accepts the socket
//!   through the hibernation API (so an idle viewer costs the object no
//!   CPU and it can be evicted from memory while its sockets stay open) and
//!   sends the backfill plus what was broadcast meanwhile (`live::Recent`).
//!   Per-viewer state lives in the socket's tag (the client IP, for the cap)
//!   and attachment (survives hibernation). `ping` is answered `pong` by
//!   the runtime without waking the object; any other client frame closes
//!   the socket with a reason (`live::judge`).
use std::cell::RefCell;

use sealpost_api::{ApiError, ApiResponse};
use sealpost_cf::domain::{self, Failure};
use sealpost_cf::http::{self, HEADER_CLIENT_IP, HEADER_REQUEST_ID, HEADER_SITE};
use sealpost_cf::{CryptoRng, D1Sql, SystemClock, log};
use sealpost_comments_core::bucket::{self, Decision};
use sealpost_comments_core::live::{self, ClientFrame, Kind, Recent, Verdict};
use sealpost_comments_core::model::{self, NewComment};
use sealpost_comments_core::service;
use sealpost_comments_core::store::Thread;
use sealpost_ports::{Clock, SiteDb, SiteId};
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
    recent: RefCell<Recent>,
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
            recent: RefCell::new(Recent::default()),
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
            Err(Failure::Api(e)) => http::to_response(e.into_response()),
            Err(Failure::Internal(cause)) => {
                log::internal_failure("comments.thread", &request_id, &path, cause);
                http::to_response(ApiError::internal(Some(request_id)).into_response())
            }
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
            .ok_or_else(|| Failure::Internal("object call without a site".into()))?;
        let post = http::header(req, HEADER_POST)
            .filter(|p| model::is_id(p))
            .ok_or_else(|| Failure::Internal("object call without a post".into()))?;
        Ok((site, post))
    }

    fn d1(&self) -> Result<D1Sql, Failure> {
        Ok(D1Sql(self.env.d1(domain::DB_BINDING)?))
    }

    /// Sends `frame` to every live viewer and remembers it for viewers
    /// whose backfill is being read.
    fn broadcast(&self, kind: Kind, serial: i64, frame: String) {
        for ws in self.state.get_websockets() {
            // A socket that is closing refuses; it is gone either way.
            let _ = ws.send_with_str(&frame);
        }
        self.recent.borrow_mut().record(kind, serial, frame);
    }

    /// Takes one comment from `user`'s allowance (no await: two requests
    /// cannot both take the last one).
    fn take_allowance(&self, user: &str) -> Result<(), Failure> {
        let sql = self.state.storage().sql();
        let now = SystemClock.now_ms();
        sql.exec(
            "DELETE FROM comment_limits WHERE tat <= ?",
            vec![now.into()],
        )?;
        let stored = sql
            .exec(
                "SELECT tat FROM comment_limits WHERE user_id = ?",
                vec![user.into()],
            )?
            .to_array::<Tat>()?
            .first()
            .map(|t| t.tat as i64);
        match bucket::decide(stored, now) {
            Decision::Refuse { retry_after_secs } => {
                Err(service::rate_limited(retry_after_secs).into())
            }
            Decision::Allow { tat } => {
                sql.exec(
                    "INSERT INTO comment_limits (user_id, tat) VALUES (?, ?) \
                     ON CONFLICT (user_id) DO UPDATE SET tat = excluded.tat",
                    vec![user.into(), tat.into()],
                )?;
                Ok(())
            }
        }
    }

    async fn create(&self, req: &mut Request) -> Result<ApiResponse, Failure> {
        let (site, post) = Self::target(req)?;
        let call: CreateCall = req.json().await?;
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
            &call.author_id,
            &call.comment,
        )
        .await?;
        self.broadcast(Kind::Created, row.serial, model::created_frame(&row));
        Ok(service::created(&row))
    }

    async fn delete(&self, req: &mut Request) -> Result<ApiResponse, Failure> {
        let (site, post) = Self::target(req)?;
        let call: DeleteCall = req.json().await?;
        let d1 = self.d1()?;
        let thread = Thread {
            db: SiteDb::new(&d1, site),
            post_id: &post,
        };
        let serial =
            service::delete(&thread, &SystemClock, &call.comment_id, &call.actor_id).await?;
        self.broadcast(
            Kind::Deleted,
            serial,
            model::deleted_frame(&post, &call.comment_id, serial),
        );
        Ok(service::deleted(&post, &call.comment_id, serial))
    }

    /// Refuses a viewer over a cap (checked before the backfill read and
    /// again just before the socket is accepted).
    fn admit(&self, ip_tag: &str) -> Result<(), Failure> {
        let admission = live::admit(
            self.state.get_websockets().len(),
            self.state.get_websockets_with_tag(ip_tag).len(),
        );
        match service::viewers_refused(admission) {
            Some(refusal) => Err(refusal.into()),
            None => Ok(()),
        }
    }

    async fn live(&self, req: &Request) -> Result<domain::Answer, Failure> {
        let (site, post) = Self::target(req)?;
        let since: i64 = req
            .url()?
            .query_pairs()
            .find(|(k, _)| k == "since")
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0);
        let ip = http::header(req, HEADER_CLIENT_IP).unwrap_or_default();
        let ip_tag = format!("ip:{}", ip.chars().take(64).collect::<String>());
        self.admit(&ip_tag)?;

        let d1 = self.d1()?;
        let thread = Thread {
            db: SiteDb::new(&d1, site),
            post_id: &post,
        };
        let frames = loop {
            let mark = self.recent.borrow().mark();
            let high = thread.high_water().await?;
            let mut frames = Vec::new();
            let mut after = since;
            loop {
                let rows = thread.ascending(after, high, live::BACKFILL_CHUNK).await?;
                frames.extend(rows.iter().map(model::created_frame));
                match rows.last() {
                    Some(last) if rows.len() == live::BACKFILL_CHUNK as usize => {
                        after = last.serial;
                    }
                    _ => break,
                }
            }
            // From here to the accept there is no await: nothing can be
            // broadcast in between.
            if let Some(replay) = self.recent.borrow().since(mark, high.max(since)) {
                frames.extend(replay.into_iter().map(str::to_owned));
                break frames;
            }
        };
        self.admit(&ip_tag)?;
        let pair = WebSocketPair::new()?;
        self.state
            .accept_websocket_with_tags(&pair.server, &[ip_tag.as_str()]);
        pair.server.serialize_attachment(Viewer {
            connected_at: SystemClock.now_ms(),
            since,
        })?;
        for frame in &frames {
            pair.server.send_with_str(frame)?;
        }
        Ok(domain::Answer::Raw(Response::from_websocket(pair.client)?))
    }
}
