//! The native world of the site's tests: the testkit's base (SQLite with the
//! real migrations, a manual clock, seeded randomness, real access tokens),
//! the API answered by the real content and comments cores (the site's
//! [`Upstream`]), an in-memory HTML cache modelling the Cache API, and
//! helpers that write posts and comments and fetch pages as a browser would.
#![allow(dead_code)]

use std::rc::Rc;

use sealpost_api::routes::{RouteId, Service};
use sealpost_api::{ApiRequest, ApiResponse, Failure, Method, Outcome, Upstream};
use sealpost_auth_core::password::PasswordPolicy;
use sealpost_auth_core::secrets::AuthSecrets;
use sealpost_auth_core::tokens::SigningKey;
use sealpost_auth_core::{Endpoint, KeyCache, SealSetup};
use sealpost_comments_core::model::NewComment;
use sealpost_comments_core::service::{self as comments, Comments};
use sealpost_content_core::Content;
use sealpost_guard::Role;
use sealpost_ports::{Clock, SiteDb, SiteId, SitePurge, Statement};
use sealpost_site_core::{PageRequest, Settings, Site};
use sealpost_testkit::{Base, MemPageCache, MemRateLimiter, block_on};
use serde_json::{Value, json};

pub const START_MS: i64 = 1_795_000_000_000;
pub const BASE_URL: &str = "https://blog.example";

pub struct World {
    pub base: Base,
    pub limiter: MemRateLimiter,
    /// Content's own edge cache of `GET /posts/{slug}`.
    pub content_cache: MemPageCache,
    /// The site's HTML cache.
    pub html: MemPageCache,
    pub settings: Settings,
    /// An editor's access token (with a second factor).
    pub editor: String,
    /// How many requests reached the API.
    pub calls: std::cell::Cell<u32>,
    /// How many purges writers sent the site.
    pub purges: std::cell::Cell<u32>,
    /// The auth service's copy of its seal keys.
    pub seal_keys: KeyCache,
}

sealpost_testkit::world_on_base!(World);

/// A page as a browser receives it.
#[derive(Debug)]
pub struct Page {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Page {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether the body holds `needle`.
    pub fn has(&self, needle: &str) -> bool {
        self.body.contains(needle)
    }
}

/// The API as the site sees it: content's and comments' real cores.
pub struct Api<'a>(pub &'a World);

impl Upstream for Api<'_> {
    async fn call(&self, req: ApiRequest) -> Outcome {
        let w = self.0;
        w.calls.set(w.calls.get() + 1);
        let db = SiteDb::new(&w.db, req.site.clone());
        if req.route.service == Service::Auth {
            return w.auth().serve(&req).await;
        }
        let answer = match req.id() {
            RouteId::CommentsList => {
                let c = Comments {
                    db,
                    clock: &w.clock,
                    verifier: None,
                };
                let id = req.param("id").unwrap_or_default().to_owned();
                c.list(&id, &req.query).await
            }
            _ => w.content(db).serve(&req).await,
        };
        match answer {
            Err(Failure::Api(e)) => Ok(e.into_response()),
            other => other,
        }
    }
}

/// The site worker's side of a purge, as `POST /__purge` does it: the named
/// pages leave the HTML cache, and the world counts the calls.
impl SitePurge for World {
    async fn purge(&self, site: &SiteId, paths: &[String]) {
        assert_eq!(site, &SiteId::default_site());
        self.purges.set(self.purges.get() + 1);
        let api = Api(self);
        self.site(&api).purge(paths).await;
    }
}

impl World {
    pub fn new() -> World {
        let base = Base::new(START_MS, 7);
        let editor = base.user("editor", &[Role::Editor], &["pwd", "otp"]);
        let w = World {
            editor,
            limiter: MemRateLimiter::new(30, 60, base.clock.clone()),
            content_cache: MemPageCache::new(base.clock.clone()),
            html: MemPageCache::new(base.clock.clone()),
            settings: Settings::default(),
            calls: std::cell::Cell::new(0),
            purges: std::cell::Cell::new(0),
            seal_keys: KeyCache::default(),
            base,
        };
        w.sql(Statement::new("UPDATE sites SET base_url = ?1 WHERE id = 'default'").bind(BASE_URL));
        w
    }

    /// The world's time in Unix seconds.
    pub fn clock_secs(&self) -> i64 {
        self.clock.now_ms() / 1000
    }

    /// The real auth service (cheap password hashing, fixed keys).
    pub fn auth(
        &self,
    ) -> Endpoint<
        '_,
        sealpost_testkit::SqliteDb,
        sealpost_testkit::ManualClock,
        sealpost_testkit::SeededRng,
    > {
        let signing = SigningKey::from_scalar(&[7u8; 32]).expect("scalar");
        Endpoint {
            sql: &self.db,
            clock: &self.clock,
            rng: &self.rng,
            keys: &self.seal_keys,
            seal: SealSetup::from_values(Some(&sealpost_seal::b64(&[42u8; 32])), None, None, None),
            secrets: Ok(Rc::new(
                AuthSecrets::from_parts(signing, &[9u8; 32], None).expect("secrets"),
            )),
            policy: PasswordPolicy {
                m_cost_kib: 64,
                t_cost: 1,
                p_cost: 1,
            },
        }
    }

    pub fn content<'a>(
        &'a self,
        db: SiteDb<'a, sealpost_testkit::SqliteDb>,
    ) -> Content<
        'a,
        sealpost_testkit::SqliteDb,
        sealpost_testkit::ManualClock,
        sealpost_testkit::SeededRng,
        MemRateLimiter,
        MemPageCache,
        World,
    > {
        Content {
            db,
            clock: &self.clock,
            rng: &self.rng,
            verifier: Some(&self.verifier),
            visitor_key: Some(&[9u8; 32]),
            views_limiter: Some(&self.limiter),
            pages: &self.content_cache,
            site_purge: self,
        }
    }

    pub fn admin_call(
        &self,
        route: RouteId,
        token: &str,
        id: Option<&str>,
        body: Option<Value>,
    ) -> Value {
        let mut req = ApiRequest::new(route, SiteId::default_site()).with_bearer(token);
        if let Some(id) = id {
            req = req.with_param("id", id);
        }
        if let Some(b) = body {
            req = req.with_body(b.to_string().into_bytes());
        }
        let db = SiteDb::new(&self.db, SiteId::default_site());
        let resp = block_on(self.content(db).serve(&req)).expect("content answered");
        let json: Value = resp.body_json().unwrap_or(Value::Null);
        assert!(resp.status < 300, "{route:?}: {} {json}", resp.status);
        json["data"].clone()
    }

    /// Writes and publishes a post with `translations` (`{en:{…}, vi:{…}}`)
    /// and `tags`; its id.
    pub fn publish(&self, translations: Value, tags: &[&str]) -> String {
        let editor = self.editor.clone();
        let post = self.admin_call(
            RouteId::AdminPostCreate,
            &editor,
            None,
            Some(json!({"translations": translations, "tags": tags})),
        );
        let id = post["id"].as_str().unwrap().to_owned();
        self.admin_call(RouteId::AdminPostPublish, &editor, Some(&id), None);
        self.clock.advance_ms(1_000);
        id
    }

    /// A post in English and Vietnamese, tagged `rust`; its id.
    pub fn bilingual(&self) -> String {
        self.publish(
            json!({
                "en": {"title": "Hello edge", "slug": "hello-edge", "excerpt": "A first post.", "body": "Hello **world** from the edge."},
                "vi": {"title": "Xin chào biên", "slug": "xin-chao-bien", "excerpt": "Bài viết đầu tiên.", "body": "Xin chào thế giới từ biên mạng, tiếng Việt có dấu."},
            }),
            &["rust"],
        )
    }

    /// A comment on post `id` by a new member named `name`.
    pub fn comment(&self, post_id: &str, name: &str, body: &str) {
        let author = self.signed_in(name, &[Role::Member], &["pwd"]).id;
        let c = Comments {
            db: SiteDb::new(&self.db, SiteId::default_site()),
            clock: &self.clock,
            verifier: None,
        };
        let thread = c.thread(post_id);
        let new = NewComment {
            body: body.to_owned(),
            parent_id: None,
        };
        block_on(comments::create(
            &thread,
            &self.rng,
            &self.clock,
            self,
            &author,
            &new,
            |_| {},
        ))
        .expect("comment");
        self.clock.advance_ms(1_000);
    }

    /// `GET path` with `headers`, through the site.
    pub fn get(&self, path: &str, headers: &[(&str, &str)]) -> Page {
        self.request(Method::Get, path, headers)
    }

    pub fn request(&self, method: Method, path: &str, headers: &[(&str, &str)]) -> Page {
        self.send(method, path, headers, Vec::new())
    }

    /// `method path` with `headers` and `body`, through the site.
    pub fn send(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Page {
        let mut req = PageRequest::new(method, path, SiteId::default_site())
            .with_request_id("rid")
            .with_client_ip("203.0.113.9")
            .with_body(body);
        for (n, v) in headers {
            req = req.with_header(n, *v);
        }
        let api = Api(self);
        let site = self.site(&api);
        let now_secs = self.clock.now_ms() / 1000;
        let resp: ApiResponse = match block_on(site.serve(&req, now_secs, &mut rand_core::OsRng)) {
            Ok(r) => r,
            Err(f) => site.error_page(&req, &format!("{f:?}").len().to_string()),
        };
        self.html.settle();
        Page {
            status: resp.status,
            body: String::from_utf8(resp.body.clone()).unwrap(),
            headers: resp.headers,
        }
    }

    /// Purges `paths` of the default site.
    pub fn purge(&self, paths: &[String]) {
        let api = Api(self);
        block_on(self.site(&api).purge(paths));
    }

    /// The default site as the worker builds it, over `api`.
    fn site<'a>(
        &'a self,
        api: &'a Api<'a>,
    ) -> Site<'a, Api<'a>, sealpost_testkit::SqliteDb, MemPageCache> {
        Site {
            upstream: api,
            db: SiteDb::new(&self.db, SiteId::default_site()),
            cache: &self.html,
            settings: &self.settings,
        }
    }
}
