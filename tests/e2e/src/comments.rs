//! Comments clients for the e2e scenarios (API.md, Comments; docs/api.md,
//! Comments): posts to comment on (made and published by one shared editor
//! with a second factor, also used by the content scenarios), posting,
//! listing and deleting comments, and a live viewer over tungstenite that
//! reads JSON text frames with a timeout, sends `ping` and reads close frames.
//!
//! Helpers that expect a success assert it and show the whole answer when it
//! is not one.
use std::collections::BTreeSet;
use std::io::ErrorKind;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tungstenite::Message;

use crate::auth::{
    Session, admin_set_roles, bearer_get, bearer_request, enable_totp, login, login_with_totp,
    new_member, refreshed,
};
use crate::{CLIENT_IP_HEADER, Reply, Stack, Value, WebSocket, json, random_hex, unique_ip};

/// How long a viewer waits for a frame the scenario expects.
pub const FRAME_TIMEOUT: Duration = Duration::from_secs(20);
/// The keys of a comment, exactly (docs/api.md, Comments).
pub const COMMENT_KEYS: [&str; 7] = [
    "id",
    "serial",
    "postId",
    "author",
    "body",
    "parentId",
    "createdAt",
];
/// Access tokens live 15 minutes: the shared editor refreshes its sessions
/// when they are older than this.
const EDITOR_REFRESH_AFTER: Duration = Duration::from_secs(10 * 60);

// ------------------------------------------------------------ the editor

/// An editor: the session logged in with its password only (no second
/// factor) and the one logged in with a TOTP code.
#[derive(Debug, Clone)]
pub struct Editor {
    pub pwd_only: Session,
    pub otp: Session,
    since: Instant,
}

static EDITOR: Mutex<Option<Editor>> = Mutex::new(None);

/// One editor per process: a member promoted by the admin, who then enrols
/// TOTP and logs in with a code. Both sessions are refreshed (same session,
/// same `amr`) once they are older than ten minutes.
pub fn editor(stack: &Stack) -> Editor {
    let mut cache = EDITOR.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(e) = &*cache {
        if e.since.elapsed() < EDITOR_REFRESH_AFTER {
            return e.clone();
        }
        let fresh = Editor {
            pwd_only: refreshed(stack, &e.pwd_only),
            otp: refreshed(stack, &e.otp),
            since: Instant::now(),
        };
        *cache = Some(fresh.clone());
        return fresh;
    }
    let member = new_member(stack, "editor");
    let promoted = admin_set_roles(stack, &member.user_id(), &json!(["editor"]));
    assert_eq!(promoted.status, 200, "promote: {promoted}");
    // The role change revoked the member's token; log in again.
    let pwd_only = login(stack, &member.email, &member.password);
    let mut totp = enable_totp(stack, &pwd_only);
    let since = Instant::now();
    let otp = login_with_totp(stack, &member.email, &member.password, &mut totp);
    let e = Editor {
        pwd_only,
        otp,
        since,
    };
    *cache = Some(e.clone());
    e
}

// ------------------------------------------------------------------ posts

/// A post to comment on: its id and its English slug and title.
#[derive(Debug, Clone)]
pub struct Post {
    pub id: String,
    pub slug: String,
    pub title: String,
}

/// The `data` of a mutation answer with `status`.
#[track_caller]
pub fn mutation_data(reply: &Reply, status: u16) -> Value {
    assert_eq!(reply.status, status, "{reply}");
    let body = reply.json();
    assert_eq!(body["success"], json!(true), "{reply}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "a mutation without a message: {reply}"
    );
    body.get("data")
        .cloned()
        .unwrap_or_else(|| panic!("a mutation without data: {reply}"))
}

/// `POST /admin/posts` with `body` by editor `e`; asserts 201, returns the post.
pub fn create_post(stack: &Stack, e: &Editor, body: &Value) -> Value {
    let reply = bearer_request(stack, "POST", "/admin/posts", &e.otp.access)
        .json(body)
        .send();
    mutation_data(&reply, 201)
}

/// `POST /admin/posts/{id}/publish` by editor `e`; asserts 200, returns the post.
pub fn publish_post(stack: &Stack, e: &Editor, id: &str) -> Value {
    let path = format!("/admin/posts/{id}/publish");
    mutation_data(
        &bearer_request(stack, "POST", &path, &e.otp.access).send(),
        200,
    )
}

/// A fresh English post by the shared editor, created but not published.
pub fn draft_post(stack: &Stack) -> Post {
    let suffix = random_hex(4);
    let slug = format!("comments-{suffix}");
    let title = format!("Comments {suffix}");
    let body = json!({"translations": {"en": {
        "title": title, "slug": slug, "excerpt": "For comments",
        "body": "A post to comment on."
    }}});
    let post = create_post(stack, &editor(stack), &body);
    Post {
        id: post["id"].as_str().expect("post id").to_owned(),
        slug,
        title,
    }
}

/// A fresh English post by the shared editor, published.
pub fn published_post(stack: &Stack) -> Post {
    let post = draft_post(stack);
    publish_post(stack, &editor(stack), &post.id);
    post
}

// --------------------------------------------------------------- comments

/// `/posts/{post_id}/comments`.
pub fn comments_path(post_id: &str) -> String {
    format!("/posts/{post_id}/comments")
}

/// `POST /posts/{post_id}/comments` with JSON `body`, with the bearer
/// `token` when given, from a fresh client address.
pub fn post_comment(stack: &Stack, post_id: &str, token: Option<&str>, body: &Value) -> Reply {
    let path = comments_path(post_id);
    let call = match token {
        Some(t) => bearer_request(stack, "POST", &path, t),
        None => stack.request("POST", &path),
    };
    call.json(body).send()
}

/// `author` comments `text` on the post, as a reply to `parent_id` when
/// given; asserts 201 and the comment's shape, author, text and parent.
#[track_caller]
pub fn comment_on(
    stack: &Stack,
    post_id: &str,
    author: &Session,
    text: &str,
    parent_id: Option<&str>,
) -> Value {
    let body = match parent_id {
        Some(p) => json!({"body": text, "parentId": p}),
        None => json!({"body": text}),
    };
    let c = mutation_data(
        &post_comment(stack, post_id, Some(&author.access), &body),
        201,
    );
    assert_comment_shape(&c);
    assert_eq!(c["postId"], json!(post_id), "{c:#}");
    assert_eq!(c["author"]["id"], json!(author.user_id()), "{c:#}");
    assert_eq!(
        c["author"]["displayName"], author.user["displayName"],
        "{c:#}"
    );
    assert_eq!(c["body"], json!(text.trim()), "{c:#}");
    assert_eq!(c["parentId"], json!(parent_id), "{c:#}");
    c
}

/// A top-level comment (see [`comment_on`]).
#[track_caller]
pub fn comment(stack: &Stack, post_id: &str, author: &Session, text: &str) -> Value {
    comment_on(stack, post_id, author, text, None)
}

/// A comment's `serial`.
#[track_caller]
pub fn serial(c: &Value) -> u64 {
    c["serial"]
        .as_u64()
        .unwrap_or_else(|| panic!("no serial: {c:#}"))
}

/// A comment's `id`.
#[track_caller]
pub fn comment_id(c: &Value) -> String {
    c["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id: {c:#}"))
        .to_owned()
}

/// The sorted keys of a JSON object.
pub fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default()
}

/// Asserts the comment shape `{id, serial, postId, author:{id,
/// displayName}, body, parentId, createdAt}`, nothing more.
#[track_caller]
pub fn assert_comment_shape(c: &Value) {
    let want: BTreeSet<String> = COMMENT_KEYS.iter().map(|k| (*k).to_owned()).collect();
    assert_eq!(keys(c), want, "comment keys: {c:#}");
    assert!(c["id"].as_str().is_some_and(|s| !s.is_empty()), "{c:#}");
    assert!(c["serial"].as_u64().is_some_and(|s| s >= 1), "{c:#}");
    assert!(c["postId"].is_string(), "{c:#}");
    let author_keys: BTreeSet<String> = ["id", "displayName"].map(str::to_owned).into();
    assert_eq!(keys(&c["author"]), author_keys, "author keys: {c:#}");
    assert!(c["author"]["id"].is_string(), "{c:#}");
    assert!(c["author"]["displayName"].is_string(), "{c:#}");
    assert!(c["body"].is_string(), "{c:#}");
    assert!(
        c["parentId"].is_null() || c["parentId"].is_string(),
        "{c:#}"
    );
    assert!(
        c["createdAt"]
            .as_str()
            .and_then(crate::parse_rfc3339_utc)
            .is_some(),
        "createdAt is not RFC 3339 UTC: {c:#}"
    );
}

/// `GET /posts/{post_id}/comments{query}` (query with its `?`).
pub fn list(stack: &Stack, post_id: &str, query: &str) -> Reply {
    stack.get(&format!("{}{query}", comments_path(post_id)))
}

/// One keyset page: asserts the envelope `{"success":true,"data":[…],
/// "pagination":{"limit","nextCursor"}}` with `limit`; returns the comments
/// (each shape checked) and `nextCursor`.
#[track_caller]
pub fn page(reply: &Reply, limit: u64) -> (Vec<Value>, Option<String>) {
    assert_eq!(reply.status, 200, "{reply}");
    let body = reply.json();
    assert_eq!(body["success"], json!(true), "{reply}");
    let pagination_keys: BTreeSet<String> = ["limit", "nextCursor"].map(str::to_owned).into();
    assert_eq!(keys(&body["pagination"]), pagination_keys, "{reply}");
    assert_eq!(body["pagination"]["limit"], json!(limit), "{reply}");
    let cursor = &body["pagination"]["nextCursor"];
    assert!(cursor.is_null() || cursor.is_string(), "{reply}");
    let items = body["data"]
        .as_array()
        .unwrap_or_else(|| panic!("no data[]: {reply}"))
        .clone();
    for c in &items {
        assert_comment_shape(c);
    }
    (items, cursor.as_str().map(str::to_owned))
}

/// Every comment of the post, newest first (pages of 100 by cursor).
pub fn all_comments(stack: &Stack, post_id: &str) -> Vec<Value> {
    let mut all = Vec::new();
    let mut query = "?limit=100".to_owned();
    loop {
        let (items, next) = page(&list(stack, post_id, &query), 100);
        all.extend(items);
        match next {
            Some(cursor) => query = format!("?limit=100&before={cursor}"),
            None => return all,
        }
    }
}

/// `DELETE /admin/comments/{post_id}/{comment_id}` with the bearer `token`.
pub fn delete_comment(
    stack: &Stack,
    token: Option<&str>,
    post_id: &str,
    comment_id: &str,
) -> Reply {
    let path = format!("/admin/comments/{post_id}/{comment_id}");
    match token {
        Some(t) => bearer_request(stack, "DELETE", &path, t).send(),
        None => stack.request("DELETE", &path).send(),
    }
}

/// The caller's `GET /me/activity?pageSize=100` items.
#[track_caller]
pub fn activity(stack: &Stack, session: &Session) -> Vec<Value> {
    let reply = bearer_get(stack, "/me/activity?pageSize=100", &session.access);
    assert_eq!(reply.status, 200, "{reply}");
    reply.json()["data"]
        .as_array()
        .unwrap_or_else(|| panic!("no data[]: {reply}"))
        .clone()
}

// ------------------------------------------------------------------- live

/// `/posts/{post_id}/comments/live`, with `?since=` when given.
pub fn live_path(post_id: &str, since: Option<&str>) -> String {
    match since {
        Some(s) => format!("/posts/{post_id}/comments/live?since={s}"),
        None => format!("/posts/{post_id}/comments/live"),
    }
}

/// One frame (or its absence) as a viewer sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    Text(String),
    Binary(Vec<u8>),
    /// A close frame: its code and reason (1005 and "" when it had none).
    Close(u16, String),
    /// The connection ended without a close frame (the error).
    Gone(String),
    /// Nothing arrived in time.
    Timeout,
}

/// A refused upgrade: the plain HTTP answer.
#[derive(Debug, Clone)]
pub struct Refused {
    pub status: u16,
    pub retry_after: Option<String>,
    /// `error.code` when tungstenite kept the body (it keeps only what came
    /// with the head).
    pub code: Option<String>,
    pub request_id: Option<String>,
}

impl Refused {
    /// Asserts the status and, when the body was kept, the error code.
    #[track_caller]
    pub fn assert_error(&self, status: u16, code: &str) {
        assert_eq!(self.status, status, "{self:?}");
        if let Some(got) = &self.code {
            assert_eq!(got, code, "{self:?}");
        }
        assert!(self.request_id.is_some(), "no X-Request-Id: {self:?}");
    }
}

/// A live viewer of one post's comments.
#[derive(Debug)]
pub struct Viewer {
    socket: WebSocket,
    /// The client address it connected from.
    pub ip: String,
}

impl Viewer {
    /// Opens `path` (a live path with its query) from client address `ip`
    /// on the gateway at 127.0.0.1:`port`. A refused upgrade is `Err`; any
    /// other failure panics.
    pub fn open(port: u16, path: &str, ip: &str) -> Result<Viewer, Refused> {
        use tungstenite::Error;
        match crate::ws_connect_to(port, path, &[(CLIENT_IP_HEADER, ip)]) {
            Ok(socket) => Ok(Viewer {
                socket,
                ip: ip.to_owned(),
            }),
            Err(Error::Http(response)) => {
                let header = |name: &str| {
                    response
                        .headers()
                        .get(name)
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned)
                };
                let code = response
                    .body()
                    .as_deref()
                    .and_then(|b| serde_json::from_slice::<Value>(b).ok())
                    .and_then(|v| v.pointer("/error/code")?.as_str().map(str::to_owned));
                Err(Refused {
                    status: response.status().as_u16(),
                    retry_after: header("retry-after"),
                    code,
                    request_id: header("x-request-id"),
                })
            }
            Err(e) => panic!("GET {path} (WebSocket): no HTTP answer: {e}"),
        }
    }

    /// [`Viewer::open`] on `stack`'s gateway.
    pub fn try_connect(stack: &Stack, path: &str, ip: &str) -> Result<Viewer, Refused> {
        Viewer::open(stack.port(), path, ip)
    }

    /// A viewer of `post_id` from a fresh address, with `?since=` when
    /// given; panics when refused.
    #[track_caller]
    pub fn connect(stack: &Stack, post_id: &str, since: Option<u64>) -> Viewer {
        let since = since.map(|s| s.to_string());
        let path = live_path(post_id, since.as_deref());
        Viewer::try_connect(stack, &path, &unique_ip())
            .unwrap_or_else(|r| panic!("GET {path}: the upgrade was refused: {r:?}"))
    }

    /// The next data or close frame within `timeout` (control frames are
    /// handled by tungstenite and skipped).
    pub fn next_frame(&mut self, timeout: Duration) -> Frame {
        let until = Instant::now() + timeout;
        loop {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Frame::Timeout;
            }
            if let Err(e) = self.socket.get_mut().set_read_timeout(Some(left)) {
                return Frame::Gone(e.to_string());
            }
            match self.socket.read() {
                Ok(Message::Text(t)) => return Frame::Text(t.as_str().to_owned()),
                Ok(Message::Binary(b)) => return Frame::Binary(b.to_vec()),
                Ok(Message::Close(frame)) => {
                    return match frame {
                        Some(f) => Frame::Close(u16::from(f.code), f.reason.as_str().to_owned()),
                        None => Frame::Close(1005, String::new()),
                    };
                }
                Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_)) => {}
                Err(tungstenite::Error::Io(e))
                    if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) =>
                {
                    return Frame::Timeout;
                }
                Err(e) => return Frame::Gone(e.to_string()),
            }
        }
    }

    /// The next frame, which must be a JSON text frame within [`FRAME_TIMEOUT`].
    #[track_caller]
    pub fn event(&mut self) -> Value {
        match self.next_frame(FRAME_TIMEOUT) {
            Frame::Text(t) => serde_json::from_str(&t)
                .unwrap_or_else(|e| panic!("a text frame that is not JSON ({e}): {t:?}")),
            other => panic!("expected a JSON event within {FRAME_TIMEOUT:?}, got {other:?}"),
        }
    }

    /// The next event, which must be `{"type":"comment.created","comment":…}`;
    /// returns the comment (shape checked).
    #[track_caller]
    pub fn created(&mut self) -> Value {
        let event = self.event();
        let want: BTreeSet<String> = ["type", "comment"].map(str::to_owned).into();
        assert_eq!(keys(&event), want, "event keys: {event:#}");
        assert_eq!(event["type"], "comment.created", "{event:#}");
        assert_comment_shape(&event["comment"]);
        event["comment"].clone()
    }

    /// The next `n` `comment.created` comments.
    #[track_caller]
    pub fn created_n(&mut self, n: usize) -> Vec<Value> {
        (0..n).map(|_| self.created()).collect()
    }

    /// Asserts that no frame arrives for `d`.
    #[track_caller]
    pub fn quiet(&mut self, d: Duration) {
        match self.next_frame(d) {
            Frame::Timeout => {}
            other => panic!("expected nothing for {d:?}, got {other:?}"),
        }
    }

    /// Sends a text frame.
    #[track_caller]
    pub fn send_text(&mut self, text: &str) {
        self.socket
            .send(Message::text(text))
            .unwrap_or_else(|e| panic!("sending a text frame: {e}"));
    }

    /// Sends a binary frame.
    #[track_caller]
    pub fn send_binary(&mut self, bytes: &[u8]) {
        self.socket
            .send(Message::binary(bytes.to_vec()))
            .unwrap_or_else(|e| panic!("sending a binary frame: {e}"));
    }

    /// Sends the text `ping`; the next frame must be the text `pong`.
    #[track_caller]
    pub fn ping(&mut self) {
        self.send_text("ping");
        let got = self.next_frame(FRAME_TIMEOUT);
        assert_eq!(got, Frame::Text("pong".to_owned()), "answer to ping");
    }

    /// The next frame, which must be a close frame: its code and reason.
    #[track_caller]
    pub fn close_frame(&mut self) -> (u16, String) {
        match self.next_frame(FRAME_TIMEOUT) {
            Frame::Close(code, reason) => (code, reason),
            other => panic!("expected a close frame, got {other:?}"),
        }
    }

    /// Closes politely (1000) and waits up to 5 s for the server's answer.
    pub fn close(mut self) {
        if self.socket.close(None).is_err() {
            return;
        }
        let until = Instant::now() + Duration::from_secs(5);
        while Instant::now() < until {
            match self.next_frame(Duration::from_millis(500)) {
                Frame::Gone(_) | Frame::Close(..) => return,
                _ => {}
            }
        }
    }
}
