//! The comment routes (docs/api.md, Comments). The worker runs the
//! stateless part of every route — the caller's token, the input rules, the
//! post check and the public list — and hands writes and live viewers to
//! the post's Durable Object, which runs [`create`] and [`delete`] (the
//! only writers) after its own rate limit; after either write the site's
//! cached pages of the post are purged (`SitePurge`). Platform-free:
//! everything goes through the ports, so the whole flow runs natively
//! against SQLite.
use sealpost_api::query::{KeysetPaging, Query};
use sealpost_api::routes::RouteId;
use sealpost_api::{ApiError, ApiRequest, ApiResponse, ErrorCode, Failure};
use sealpost_guard::{
    AccessClaims, KeyNeed, Role, Verifier, live_caller, require_role, require_staff,
};
use sealpost_ports::{Clock, Rng, SiteDb, SitePurge, Sql};
use serde_json::{Value, json};

use crate::model::{self, CommentRow, LIST_DEFAULT, LIST_MAX, NewComment};
use crate::store::{Refusal, Thread};

/// Largest `since`/`before` accepted: 2^53 − 1, exact in every JSON client
/// and the largest integer D1 binds.
pub const SERIAL_MAX: i64 = sealpost_ports::MAX_SAFE_INTEGER;

/// The stateless side of the comment routes, for one request.
pub struct Comments<'a, S: Sql, C: Clock> {
    pub db: SiteDb<'a, S>,
    pub clock: &'a C,
    /// The access-token keys; needed only by the bearer routes.
    pub verifier: Option<&'a Verifier>,
}

impl<S: Sql, C: Clock> std::fmt::Debug for Comments<'_, S, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Comments")
            .field("site", self.db.site())
            .finish_non_exhaustive()
    }
}

/// 404 for a post that has no comments to show (unknown or unpublished).
pub fn no_post() -> Failure {
    ApiError::not_found().with_message("No such post").into()
}

fn no_comment() -> Failure {
    ApiError::not_found().with_message("No such comment").into()
}

/// A serial from the query: absent → `None`; else an integer in `min..=`[`SERIAL_MAX`].
fn serial_param(query: &Query, name: &str, min: i64) -> Result<Option<i64>, ApiError> {
    let Some(raw) = query.get(name) else {
        return Ok(None);
    };
    raw.parse::<i64>()
        .ok()
        .filter(|n| (min..=SERIAL_MAX).contains(n) && raw.bytes().all(|b| b.is_ascii_digit()))
        .map(Some)
        .ok_or_else(|| ApiError::field(name, format!("Must be an integer of at least {min}")))
}

impl<'a, S: Sql, C: Clock> Comments<'a, S, C> {
    /// The post's comments, for reads and for the object's writes.
    pub fn thread(&self, post_id: &'a str) -> Thread<'a, S> {
        Thread {
            db: self.db.clone(),
            post_id,
        }
    }

    /// The post id of a route, or 404 for one that cannot exist.
    pub fn post_id(id: Option<&str>) -> Result<&str, Failure> {
        id.filter(|id| model::is_id(id)).ok_or_else(no_post)
    }

    /// `GET /posts/{id}/comments?limit&before`.
    pub async fn list(&self, post_id: &'a str, query: &Query) -> Result<ApiResponse, Failure> {
        let paging = KeysetPaging::from_query(query, LIST_DEFAULT, LIST_MAX)?;
        let before = serial_param(query, "before", 1)?;
        let thread = self.thread(post_id);
        if !thread.is_published().await? {
            return Err(no_post());
        }
        let (rows, next) = thread.page(paging.limit, before).await?;
        let items: Vec<Value> = rows.iter().map(CommentRow::to_json).collect();
        Ok(ApiResponse::keyset_list(
            &items,
            paging.limit,
            next.map(|s| s.to_string()),
        ))
    }

    /// `POST /posts/{id}/comments` before the object: a member's live
    /// session and a valid comment (whether the post and the parent exist is
    /// decided in the write's own transaction).
    pub async fn prepare_create(
        &self,
        authorization: Option<&str>,
        body: &[u8],
    ) -> Result<(AccessClaims, NewComment), Failure> {
        let claims = self.caller(authorization).await?;
        require_role(&claims, Role::Member)?;
        let comment = NewComment::parse(body)?;
        Ok((claims, comment))
    }

    /// `DELETE /admin/comments/{postId}/{commentId}` before the object: an
    /// editor or admin with a second factor.
    pub async fn prepare_delete(
        &self,
        authorization: Option<&str>,
    ) -> Result<AccessClaims, Failure> {
        let claims = self.caller(authorization).await?;
        require_staff(&claims, Role::Editor)?;
        Ok(claims)
    }

    /// `GET /posts/{id}/comments/live?since` before the object: `since`
    /// (default 0) and a published post.
    pub async fn prepare_live(&self, post_id: &'a str, query: &Query) -> Result<i64, Failure> {
        let since = serial_param(query, "since", 0)?.unwrap_or(0);
        if !self.thread(post_id).is_published().await? {
            return Err(no_post());
        }
        Ok(since)
    }

    /// The bearer token's claims, its session still live.
    async fn caller(&self, authorization: Option<&str>) -> Result<AccessClaims, Failure> {
        live_caller(self.verifier, authorization, &self.db, self.clock).await
    }
}

/// The object's write of a new comment: 201 with the comment, or 404 (post
/// gone or unpublished) / 400 `parentId`. Right after the write, with no
/// await in between, `announce` gets the row (the object broadcasts it:
/// the catch-up's merge in [`crate::catchup`] relies on a broadcast
/// following its write at once). Then the site's pages of the post are
/// purged; their paths are read before the write, so a failed read writes
/// nothing and a written comment is never reported as failed.
pub async fn create<S: Sql>(
    thread: &Thread<'_, S>,
    rng: &impl Rng,
    clock: &impl Clock,
    site_purge: &impl SitePurge,
    author_id: &str,
    comment: &NewComment,
    announce: impl FnOnce(&CommentRow),
) -> Result<CommentRow, Failure> {
    let id = rng.id()?;
    let pages = thread.page_paths().await?;
    match thread
        .create(&id, author_id, comment, clock.now_ms())
        .await?
    {
        Ok(row) => {
            announce(&row);
            site_purge.purge(thread.db.site(), &pages).await;
            Ok(row)
        }
        Err(Refusal::NoPost) => Err(no_post()),
        Err(Refusal::NoParent) => Err(ApiError::field(
            "parentId",
            "Must be the id of a comment on this post, or null",
        )
        .into()),
    }
}

/// The answer to a created comment.
pub fn created(row: &CommentRow) -> ApiResponse {
    ApiResponse::mutation(201, "Comment posted", &row.to_json())
}

/// The object's moderation: the removed comment's serial, or 404. As in
/// [`create`], `announce` gets the serial right after the write, then the
/// site's pages of the post are purged.
pub async fn delete<S: Sql>(
    thread: &Thread<'_, S>,
    clock: &impl Clock,
    site_purge: &impl SitePurge,
    comment_id: &str,
    actor_id: &str,
    announce: impl FnOnce(i64),
) -> Result<i64, Failure> {
    if !model::is_id(comment_id) {
        return Err(no_comment());
    }
    let pages = thread.page_paths().await?;
    let serial = thread
        .delete(comment_id, actor_id, clock.now_ms())
        .await?
        .ok_or_else(no_comment)?;
    announce(serial);
    site_purge.purge(thread.db.site(), &pages).await;
    Ok(serial)
}

/// The answer to a removed comment.
pub fn deleted(post_id: &str, comment_id: &str, serial: i64) -> ApiResponse {
    ApiResponse::mutation(
        200,
        "Comment deleted",
        &json!({"postId": post_id, "commentId": comment_id, "serial": serial}),
    )
}

/// 429 for a commenter over the per-user rate.
pub fn rate_limited(retry_after_secs: u32) -> Failure {
    ApiError::rate_limited(retry_after_secs)
        .with_message("Too many comments; try again shortly")
        .into()
}

/// The refusal of a new live viewer (HTTP, before the upgrade).
pub fn viewers_refused(admission: crate::live::Admission) -> Option<Failure> {
    use crate::live::{Admission, VIEWERS_RETRY_AFTER_SECS};
    match admission {
        Admission::Admit => None,
        Admission::IpFull => Some(
            ApiError::rate_limited(VIEWERS_RETRY_AFTER_SECS)
                .with_message("Too many live connections to this post from your address")
                .into(),
        ),
        Admission::PostFull => Some(
            ApiError::new(ErrorCode::ServiceUnavailable)
                .with_retry_after(VIEWERS_RETRY_AFTER_SECS)
                .with_message("This post has too many live viewers; try again later")
                .into(),
        ),
    }
}

/// 426 for a plain request to the live route.
pub fn upgrade_required() -> Failure {
    ApiError::new(ErrorCode::UpgradeRequired).into()
}

/// The answer to a live request that is not a WebSocket upgrade: 426 with
/// `Upgrade: websocket`.
pub fn upgrade_refusal() -> ApiResponse {
    ApiError::new(ErrorCode::UpgradeRequired)
        .into_response()
        .with_header("Upgrade", "websocket")
}

/// Whether `req` needs the access-token keys: the two writes, when they
/// carry a token (the reads are public; without a token a write answers
/// 401 before it needs them).
pub fn key_need(req: &ApiRequest) -> KeyNeed {
    let writes = matches!(
        req.id(),
        RouteId::CommentCreate | RouteId::AdminCommentDelete
    );
    if writes && req.authorization().is_some() {
        KeyNeed::Required
    } else {
        KeyNeed::None
    }
}

/// The path parameter that names the post of `route`.
pub fn post_param(route: RouteId) -> &'static str {
    if route == RouteId::AdminCommentDelete {
        "postId"
    } else {
        "id"
    }
}
