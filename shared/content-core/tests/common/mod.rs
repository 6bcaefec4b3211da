//! The native world of the content tests: the testkit's base (SQLite with
//! the real migrations, a manual clock, seeded randomness, real ES256 access
//! tokens and users with live sessions), the in-memory rate limiter (5 views
//! per 60 s) and the edge cache — with one helper that calls any route, and
//! the route helpers the test files share (editor, create, publish, patch,
//! reads, the cron).
#![allow(dead_code)]

use sealpost_api::routes::RouteId;
use sealpost_api::{ApiRequest, ApiResponse};
use sealpost_content_core::publish::{self, Published};
use sealpost_content_core::{Content, Failure, stale};
use sealpost_guard::Role;
use sealpost_ports::{Clock, SiteDb, SiteId};
use sealpost_testkit::{Base, MemPageCache, MemRateLimiter, MemSitePurge, block_on};
use serde_json::{Value, json};

pub const START_MS: i64 = 1_795_000_000_000;
pub const MINUTE: i64 = 60_000;
/// The `VISITOR_KEY` of this world.
pub const KEY: [u8; 32] = [9u8; 32];

pub struct World {
    /// Database, clock, randomness, token mint and verifier.
    pub base: Base,
    pub limiter: MemRateLimiter,
    /// This data centre's edge cache (writes land on `pages.settle()`).
    pub pages: MemPageCache,
    /// The site worker's purge endpoint: every call content made.
    pub site_purge: MemSitePurge,
}

sealpost_testkit::world_on_base!(World);

/// An answer: status, JSON body and the headers the tests look at.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
    pub etag: Option<String>,
    pub cache_control: Option<String>,
    pub retry_after: Option<String>,
    /// `X-Sealpost-Cache`: whether the edge cache answered.
    pub cache: Option<String>,
}

impl Reply {
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }

    pub fn data(&self) -> &Value {
        &self.body["data"]
    }

    /// The fields of a `VALIDATION_FAILED` answer, in order.
    pub fn fields(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|e| e["field"].as_str().unwrap_or("").to_owned())
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// What a request carries besides its route.
#[derive(Default, Clone, Copy)]
pub struct Req<'a> {
    /// A JSON body…
    pub body: Option<&'a Value>,
    /// …or raw bytes.
    pub raw: Option<&'a [u8]>,
    pub token: Option<&'a str>,
    pub id: Option<&'a str>,
    pub slug: Option<&'a str>,
    pub query: &'a str,
    pub if_none_match: Option<&'a str>,
    pub ip: &'a str,
}

impl World {
    pub fn new(seed: u64) -> World {
        let base = Base::new(START_MS, seed);
        World {
            limiter: MemRateLimiter::new(5, 60, base.clock.clone()),
            pages: MemPageCache::new(base.clock.clone()),
            site_purge: MemSitePurge::new(),
            base,
        }
    }

    /// A member with a password-only session; its token.
    pub fn member(&self, name: &str) -> String {
        self.user(name, &[Role::Member], &["pwd"])
    }

    /// Calls `route` as the worker does (through the edge cache).
    pub fn call(&self, route: RouteId, r: Req<'_>) -> Reply {
        let content = Content {
            db: SiteDb::new(&self.db, SiteId::default_site()),
            clock: &self.clock,
            rng: &self.rng,
            verifier: Some(&self.verifier),
            visitor_key: Some(&KEY),
            views_limiter: Some(&self.limiter),
            pages: &self.pages,
            site_purge: &self.site_purge,
        };
        let body = match (r.raw, r.body) {
            (Some(raw), _) => raw.to_vec(),
            (None, Some(v)) => v.to_string().into_bytes(),
            (None, None) => Vec::new(),
        };
        let mut req = ApiRequest::new(route, SiteId::default_site())
            .with_query(r.query)
            .with_client_ip(r.ip)
            .with_body(body);
        if let Some(t) = r.token {
            req = req.with_bearer(t);
        }
        if let Some(id) = r.id {
            req = req.with_param("id", id);
        }
        if let Some(slug) = r.slug {
            req = req.with_param("slug", slug);
        }
        if let Some(tag) = r.if_none_match {
            req = req.with_header("if-none-match", tag);
        }
        let resp: ApiResponse = match block_on(content.serve(&req)) {
            Ok(r) => r,
            Err(Failure::Api(e)) => e.into_response(),
            Err(f) => panic!("internal failure: {f:?}"),
        };
        Reply {
            status: resp.status,
            etag: resp.header("etag").map(str::to_owned),
            cache_control: resp.header("cache-control").map(str::to_owned),
            retry_after: resp.header("retry-after").map(str::to_owned),
            cache: resp.header("x-sealpost-cache").map(str::to_owned),
            body: resp.body_json().unwrap_or(Value::Null),
        }
    }
}

/// The route helpers the test files share.
impl World {
    pub fn editor(&self) -> String {
        self.user("ed", &[Role::Editor], &["pwd", "otp"])
    }

    pub fn create(&self, token: &str, body: &Value) -> Reply {
        self.call(
            RouteId::AdminPostCreate,
            Req {
                body: Some(body),
                token: Some(token),
                ..Req::default()
            },
        )
    }

    pub fn created(&self, token: &str, body: &Value) -> Value {
        let r = self.create(token, body);
        assert_eq!(r.status, 201, "{r:?}");
        r.data().clone()
    }

    pub fn act(&self, route: RouteId, token: &str, id: &str, body: Option<&Value>) -> Reply {
        self.call(
            route,
            Req {
                body,
                token: Some(token),
                id: Some(id),
                ..Req::default()
            },
        )
    }

    pub fn publish(&self, token: &str, id: &str) -> Reply {
        self.act(RouteId::AdminPostPublish, token, id, None)
    }

    pub fn patch(&self, token: &str, id: &str, body: &Value) -> Reply {
        self.act(RouteId::AdminPostUpdate, token, id, Some(body))
    }

    pub fn get_post(&self, slug: &str, query: &str) -> Reply {
        self.call(
            RouteId::PostGet,
            Req {
                slug: Some(slug),
                query,
                ..Req::default()
            },
        )
    }

    pub fn list(&self, query: &str) -> Reply {
        self.call(
            RouteId::PostsList,
            Req {
                query,
                ..Req::default()
            },
        )
    }

    pub fn admin_list(&self, token: &str, query: &str) -> Reply {
        self.call(
            RouteId::AdminPostsList,
            Req {
                token: Some(token),
                query,
                ..Req::default()
            },
        )
    }

    pub fn run_cron(&self) -> Vec<Published> {
        block_on(publish::publish_due(
            &self.db,
            &self.rng,
            self.clock.now_ms(),
        ))
        .expect("cron")
    }

    /// The cron as the worker runs it: publishes what is due, then purges
    /// the edge cache and the site's pages of each post it published.
    pub fn run_cron_and_purge(&self) -> Vec<Published> {
        let published = self.run_cron();
        block_on(stale::purge_published(
            &self.db,
            &self.pages,
            &self.site_purge,
            &published,
        ))
        .expect("purge");
        published
    }
}

/// A post with an English and a Vietnamese version.
pub fn post(slug: &str) -> Value {
    json!({
        "translations": {
            "en": {"title": format!("Hello {slug}"), "slug": slug, "excerpt": "An excerpt", "body": "# Hi\n\nSome *text*."},
            "vi": {"title": format!("Xin chào {slug}"), "slug": format!("{slug}-vi"), "excerpt": "Tóm tắt", "body": "Nội dung **Việt**."}
        },
        "tags": ["rust", "Edge "]
    })
}

pub fn id_of(v: &Value) -> String {
    v["id"].as_str().expect("id").to_owned()
}
