//! The comment routes and the post object's writes, natively, on the
//! testkit's base: SQLite with the real migrations, a manual clock, seeded
//! randomness and real ES256 access tokens.
use sealpost_api::routes::RouteId;
use sealpost_api::{ApiResponse, ErrorCode, Failure, Query};
use sealpost_comments_core::model::{CommentRow, NewComment};
use sealpost_comments_core::service::{self, Comments};
use sealpost_comments_core::store::Thread;
use sealpost_guard::{AccessClaims, Role};
use sealpost_ports::{Clock, SiteDb, SiteId};
use sealpost_testkit::{Base, ManualClock, MemRateLimiter, MemSitePurge, SqliteDb, block_on, seed};
use serde_json::{Value, json};

const START_MS: i64 = 1_795_000_000_000;

struct World {
    base: Base,
    /// The site worker's purge endpoint: every call the writes made.
    site_purge: MemSitePurge,
}

sealpost_testkit::world_on_base!(World);

/// A user of this world: its id and access token.
struct User {
    id: String,
    token: String,
}

impl User {
    fn bearer(&self) -> String {
        format!("Bearer {}", self.token)
    }
}

fn code(f: Failure) -> (u16, ErrorCode, Vec<String>) {
    match f {
        Failure::Api(e) => (
            e.status(),
            e.code,
            e.errors.iter().map(|x| x.field.clone()).collect(),
        ),
        other => panic!("internal failure: {other:?}"),
    }
}

fn body(resp: &ApiResponse) -> Value {
    resp.body_json().expect("json body")
}

impl World {
    fn new() -> World {
        let w = World {
            base: Base::new(START_MS, 6),
            site_purge: MemSitePurge::new(),
        };
        let editor = w.user("author", &[Role::Editor], &["pwd", "otp"]);
        seed::post(&w.db, "p1", &editor.id, "published", START_MS);
        seed::post(&w.db, "p2", &editor.id, "published", START_MS);
        seed::post(&w.db, "draft", &editor.id, "draft", START_MS);
        w
    }

    fn user(&self, name: &str, roles: &[Role], amr: &[&str]) -> User {
        let signed_in = self.signed_in(name, roles, amr);
        User {
            id: signed_in.id,
            token: signed_in.token,
        }
    }

    fn member(&self, name: &str) -> User {
        self.user(name, &[Role::Member], &["pwd"])
    }

    fn comments(&self) -> Comments<'_, SqliteDb, ManualClock> {
        Comments {
            db: SiteDb::new(&self.db, SiteId::default_site()),
            clock: &self.clock,
            verifier: Some(&self.verifier),
        }
    }

    fn thread<'a>(&'a self, post: &'a str) -> Thread<'a, SqliteDb> {
        Thread {
            db: SiteDb::new(&self.db, SiteId::default_site()),
            post_id: post,
        }
    }

    /// The whole write path of `POST /posts/{post}/comments` (the worker's
    /// checks, then the object's write).
    fn post(&self, post: &str, who: &User, json: &Value) -> Result<CommentRow, Failure> {
        let (claims, comment) = block_on(
            self.comments()
                .prepare_create(Some(&who.bearer()), json.to_string().as_bytes()),
        )?;
        block_on(service::create(
            &self.thread(post),
            &self.rng,
            &self.clock,
            &self.site_purge,
            &claims.sub,
            &comment,
            |_| {},
        ))
    }

    fn say(&self, post: &str, who: &User, text: &str) -> CommentRow {
        self.clock.advance_ms(1_000);
        self.post(post, who, &json!({"body": text}))
            .expect("comment")
    }

    fn delete(&self, post: &str, comment: &str, who: &User) -> Result<i64, Failure> {
        let claims: AccessClaims = block_on(self.comments().prepare_delete(Some(&who.bearer())))?;
        block_on(service::delete(
            &self.thread(post),
            &self.clock,
            &self.site_purge,
            comment,
            &claims.sub,
            |_| {},
        ))
    }

    fn list(&self, post: &str, query: &str) -> Result<Value, Failure> {
        block_on(self.comments().list(post, &Query::parse(query))).map(|r| body(&r))
    }
}

fn serials(list: &Value) -> Vec<i64> {
    list["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|c| c["serial"].as_i64().expect("serial"))
        .collect()
}

#[test]
fn a_member_posts_a_comment_with_the_contract_shape() {
    let w = World::new();
    let lan = w.member("lan");
    let row = w
        .post("p1", &lan, &json!({"body": "  Xin chào\r\nbạn  "}))
        .unwrap();
    let created = body(&service::created(&row));
    assert_eq!(created["success"], json!(true));
    assert_eq!(
        created["data"],
        json!({
            "id": row.id,
            "serial": 1,
            "postId": "p1",
            "author": {"id": lan.id, "displayName": "lan display"},
            "body": "Xin chào\nbạn",
            "parentId": null,
            "createdAt": sealpost_ports::rfc3339(w.clock.now_ms()),
        })
    );
}

#[test]
fn serials_increase_per_post_and_are_never_reused_after_a_deletion() {
    let w = World::new();
    let lan = w.member("lan");
    let admin = w.user("boss", &[Role::Admin], &["pwd", "otp"]);
    let a: Vec<i64> = (0..3)
        .map(|i| w.say("p1", &lan, &format!("a{i}")).serial)
        .collect();
    assert_eq!(a, [1, 2, 3]);
    // Another post counts on its own.
    assert_eq!(w.say("p2", &lan, "b").serial, 1);
    let third = w.list("p1", "").unwrap()["data"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(w.delete("p1", &third, &admin).unwrap(), 3);
    assert_eq!(w.say("p1", &lan, "after").serial, 4);
    assert_eq!(serials(&w.list("p1", "").unwrap()), [4, 2, 1]);
}

#[test]
fn a_refused_comment_writes_nothing_and_takes_no_serial() {
    let w = World::new();
    let lan = w.member("lan");
    let first = w.say("p1", &lan, "first");
    let other_post = w.say("p2", &lan, "elsewhere");
    // Unpublished or unknown post: 404.
    for post in ["draft", "nope"] {
        let err = code(w.post(post, &lan, &json!({"body": "x"})).unwrap_err());
        assert_eq!((err.0, err.1), (404, ErrorCode::NotFound));
    }
    // A parent of another post, an unknown one, a deleted one: 400 parentId.
    let admin = w.user("boss", &[Role::Admin], &["pwd", "otp"]);
    let gone = w.say("p1", &lan, "gone");
    w.delete("p1", &gone.id, &admin).unwrap();
    for parent in [other_post.id.as_str(), "unknown", gone.id.as_str()] {
        let err = code(
            w.post("p1", &lan, &json!({"body": "re", "parentId": parent}))
                .unwrap_err(),
        );
        assert_eq!(
            err,
            (400, ErrorCode::ValidationFailed, vec!["parentId".into()])
        );
    }
    // The next comment takes the next serial: nothing was burnt.
    let reply = w
        .post("p1", &lan, &json!({"body": "re", "parentId": first.id}))
        .unwrap();
    assert_eq!(reply.serial, 3);
    assert_eq!(reply.parent_id.as_deref(), Some(first.id.as_str()));
}

#[test]
fn a_new_comment_purges_the_posts_page_in_each_of_its_languages() {
    let w = World::new();
    w.sql(sealpost_ports::Statement::new(
        "INSERT INTO post_translations (site_id, post_id, lang, slug, title, body, body_html) \
         VALUES ('default', 'p1', 'vi', 'p1-vi', 'Tiêu đề', 'Nội dung', '<p>Nội dung</p>')",
    ));
    let lan = w.member("lan");
    w.say("p1", &lan, "hello");
    assert_eq!(
        w.site_purge.calls(),
        [(
            SiteId::default_site(),
            vec!["/en/posts/p1".to_owned(), "/vi/posts/p1-vi".to_owned()]
        )]
    );
}

#[test]
fn a_removal_purges_the_posts_page_and_a_refused_write_purges_nothing() {
    let w = World::new();
    let lan = w.member("lan");
    let admin = w.user("boss", &[Role::Admin], &["pwd", "otp"]);
    let row = w.say("p2", &lan, "soon gone");
    w.site_purge.clear();
    w.delete("p2", &row.id, &admin).unwrap();
    assert_eq!(
        w.site_purge.purged(&SiteId::default_site()),
        ["/en/posts/p2"]
    );
    w.site_purge.clear();
    assert!(w.delete("p2", &row.id, &admin).is_err());
    assert!(w.post("draft", &lan, &json!({"body": "x"})).is_err());
    assert!(
        w.site_purge.calls().is_empty(),
        "{:?}",
        w.site_purge.calls()
    );
}

#[test]
fn bad_bodies_and_missing_tokens_are_refused_before_the_object() {
    let w = World::new();
    let lan = w.member("lan");
    let c = w.comments();
    let err = code(block_on(c.prepare_create(None, br#"{"body":"x"}"#)).unwrap_err());
    assert_eq!((err.0, err.1), (401, ErrorCode::Unauthorized));
    // The worker fetches no keys for a request without a token: still 401.
    let keyless = Comments {
        verifier: None,
        ..w.comments()
    };
    let err = code(block_on(keyless.prepare_create(None, br#"{"body":"x"}"#)).unwrap_err());
    assert_eq!((err.0, err.1), (401, ErrorCode::Unauthorized));
    let err =
        code(block_on(c.prepare_create(Some("Bearer x.y.z"), br#"{"body":"x"}"#)).unwrap_err());
    assert_eq!((err.0, err.1), (401, ErrorCode::AuthTokenInvalid));
    for bad in [
        json!({"body": ""}),
        json!({"body": "   "}),
        json!({"body": "ring\u{7}"}),
        json!({"body": "x".repeat(2_001)}),
        json!({"body": null}),
    ] {
        let err = code(
            block_on(c.prepare_create(Some(&lan.bearer()), bad.to_string().as_bytes()))
                .unwrap_err(),
        );
        assert_eq!(
            err,
            (400, ErrorCode::ValidationFailed, vec!["body".into()]),
            "{bad}"
        );
    }
    let (_, ok) = block_on(c.prepare_create(
        Some(&lan.bearer()),
        json!({"body": "ệ".repeat(2_000)}).to_string().as_bytes(),
    ))
    .unwrap();
    assert_eq!(
        ok,
        NewComment {
            body: "ệ".repeat(2_000),
            parent_id: None
        }
    );
}

#[test]
fn moderation_needs_an_editor_with_a_second_factor() {
    let w = World::new();
    let lan = w.member("lan");
    let row = w.say("p1", &lan, "spam");
    let editor_pwd = w.user("ed1", &[Role::Editor], &["pwd"]);
    let editor = w.user("ed2", &[Role::Editor], &["pwd", "otp"]);
    for who in [&lan, &editor_pwd] {
        let err = code(w.delete("p1", &row.id, who).unwrap_err());
        assert_eq!((err.0, err.1), (403, ErrorCode::Forbidden));
    }
    assert_eq!(w.delete("p1", &row.id, &editor).unwrap(), 1);
    let deleted = body(&service::deleted("p1", &row.id, 1));
    assert_eq!(
        deleted["data"],
        json!({"postId": "p1", "commentId": row.id, "serial": 1})
    );
    // Gone from the list; a second delete (or one on another post) is 404.
    assert_eq!(serials(&w.list("p1", "").unwrap()), Vec::<i64>::new());
    for (post, id) in [
        ("p1", row.id.as_str()),
        ("p2", row.id.as_str()),
        ("p1", "a/b"),
    ] {
        let err = code(w.delete(post, id, &editor).unwrap_err());
        assert_eq!((err.0, err.1), (404, ErrorCode::NotFound));
    }
    assert_eq!(
        w.scalar_deleted_by(&row.id),
        json!(editor.id),
        "the moderator is recorded"
    );
}

impl World {
    fn scalar_deleted_by(&self, id: &str) -> Value {
        let rows = block_on(sealpost_ports::Sql::query(
            &self.db,
            &sealpost_ports::Statement::new("SELECT deleted_by FROM comments WHERE id = ?1")
                .bind(id),
        ))
        .unwrap();
        rows[0]["deleted_by"].clone()
    }
}

#[test]
fn lists_are_keyset_pages_newest_first() {
    let w = World::new();
    let lan = w.member("lan");
    for i in 0..7 {
        w.say("p1", &lan, &format!("c{i}"));
    }
    let p = w.list("p1", "limit=3").unwrap();
    assert_eq!(serials(&p), [7, 6, 5]);
    assert_eq!(p["pagination"], json!({"limit": 3, "nextCursor": "5"}));
    let p = w.list("p1", "limit=3&before=5").unwrap();
    assert_eq!(serials(&p), [4, 3, 2]);
    assert_eq!(p["pagination"]["nextCursor"], json!("2"));
    let p = w.list("p1", "limit=3&before=2").unwrap();
    assert_eq!(serials(&p), [1]);
    assert_eq!(p["pagination"]["nextCursor"], json!(null));
    // Exactly a page left: no further cursor.
    assert_eq!(
        w.list("p1", "limit=4&before=5").unwrap()["pagination"]["nextCursor"],
        json!(null)
    );
    assert_eq!(serials(&w.list("p1", "").unwrap()).len(), 7);
    // The largest cursor there can be (D1 binds nothing larger).
    assert_eq!(
        serials(&w.list("p1", "before=9007199254740991").unwrap()).len(),
        7
    );
    assert_eq!(w.list("p1", "").unwrap()["pagination"]["limit"], json!(50));

    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=x", "limit"),
        ("before=0", "before"),
        ("before=-3", "before"),
        ("before=abc", "before"),
        ("before=1e3", "before"),
        ("before=9007199254740992", "before"),
    ] {
        let err = code(w.list("p1", query).unwrap_err());
        assert_eq!(
            err,
            (400, ErrorCode::ValidationFailed, vec![field.into()]),
            "{query}"
        );
    }
    for post in ["draft", "nope"] {
        let err = code(w.list(post, "").unwrap_err());
        assert_eq!((err.0, err.1), (404, ErrorCode::NotFound));
    }
}

#[test]
fn the_backfill_reads_ascending_between_since_and_the_high_water_mark() {
    let w = World::new();
    let lan = w.member("lan");
    let admin = w.user("boss", &[Role::Admin], &["pwd", "otp"]);
    let t = w.thread("p1");
    assert_eq!(block_on(t.high_water()).unwrap(), 0);
    let rows: Vec<CommentRow> = (0..5)
        .map(|i| w.say("p1", &lan, &format!("c{i}")))
        .collect();
    w.delete("p1", &rows[2].id, &admin).unwrap();
    assert_eq!(block_on(t.high_water()).unwrap(), 5);
    let got: Vec<i64> = block_on(t.ascending(1, 4, 10))
        .unwrap()
        .iter()
        .map(|r| r.serial)
        .collect();
    assert_eq!(got, [2, 4]);
    let got: Vec<i64> = block_on(t.ascending(0, 5, 2))
        .unwrap()
        .iter()
        .map(|r| r.serial)
        .collect();
    assert_eq!(got, [1, 2]);
}

#[test]
fn the_live_route_takes_since_and_needs_a_published_post() {
    let w = World::new();
    let c = w.comments();
    assert_eq!(
        block_on(c.prepare_live("p1", &Query::parse(""))).unwrap(),
        0
    );
    assert_eq!(
        block_on(c.prepare_live("p1", &Query::parse("since=12"))).unwrap(),
        12
    );
    for bad in [
        "since=-1",
        "since=x",
        "since=",
        "since=99999999999999999999",
    ] {
        let err = code(block_on(c.prepare_live("p1", &Query::parse(bad))).unwrap_err());
        assert_eq!(
            err,
            (400, ErrorCode::ValidationFailed, vec!["since".into()]),
            "{bad}"
        );
    }
    let err = code(block_on(c.prepare_live("draft", &Query::parse(""))).unwrap_err());
    assert_eq!((err.0, err.1), (404, ErrorCode::NotFound));
}

#[test]
fn a_members_live_comments_are_in_their_activity() {
    use sealpost_api::ApiRequest;
    use sealpost_content_core::Content;
    use sealpost_testkit::MemPageCache;
    let w = World::new();
    let lan = w.member("lan");
    let admin = w.user("boss", &[Role::Admin], &["pwd", "otp"]);
    let kept = w.say("p1", &lan, "kept");
    let gone = w.say("p2", &lan, "gone");
    w.say("p1", &admin, "not lan's");
    w.delete("p2", &gone.id, &admin).unwrap();
    let limiter = MemRateLimiter::new(5, 60, w.clock.clone());
    let pages = MemPageCache::new(w.clock.clone());
    let content = Content {
        db: SiteDb::new(&w.db, SiteId::default_site()),
        clock: &w.clock,
        rng: &w.rng,
        verifier: Some(&w.verifier),
        visitor_key: None,
        views_limiter: Some(&limiter),
        pages: &pages,
        site_purge: &w.site_purge,
    };
    let req = ApiRequest::new(RouteId::MeActivity, SiteId::default_site())
        .with_header("authorization", lan.bearer());
    let resp = block_on(content.serve(&req)).unwrap();
    let b = body(&resp);
    assert_eq!(
        b["data"],
        json!([{
            "type": "comment",
            "postId": "p1",
            "commentId": kept.id,
            "at": sealpost_ports::rfc3339(kept.created_at),
            "slug": "p1",
            "title": "Title p1",
        }])
    );
    assert_eq!(b["pagination"]["totalItems"], json!(1));
}

/// A site purge that notes itself in a shared log of what happened.
struct LoggedPurge<'a>(&'a std::cell::RefCell<Vec<String>>);

impl sealpost_ports::SitePurge for LoggedPurge<'_> {
    async fn purge(&self, _: &SiteId, _: &[String]) {
        self.0.borrow_mut().push("purge".into());
    }
}

#[test]
fn live_viewers_hear_of_a_write_before_the_slower_site_purge_starts() {
    // The purge is a call to another worker: while it is awaited a viewer
    // may join and catch up from D1, so a broadcast sent after it would
    // reach that viewer a second time.
    let w = World::new();
    let lan = w.member("lan");
    let log = std::cell::RefCell::new(Vec::new());
    let new = NewComment {
        body: "hello".into(),
        parent_id: None,
    };
    let row = block_on(service::create(
        &w.thread("p1"),
        &w.rng,
        &w.clock,
        &LoggedPurge(&log),
        &lan.id,
        &new,
        |row| log.borrow_mut().push(format!("created {}", row.serial)),
    ))
    .unwrap();
    block_on(service::delete(
        &w.thread("p1"),
        &w.clock,
        &LoggedPurge(&log),
        &row.id,
        &lan.id,
        |serial| log.borrow_mut().push(format!("deleted {serial}")),
    ))
    .unwrap();
    assert_eq!(
        log.into_inner(),
        ["created 1", "purge", "deleted 1", "purge"]
    );
}
