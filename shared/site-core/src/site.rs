//! [`Site`]: one page request in, its answer out. Decides the page and its
//! language, answers from the HTML cache when it can (query-less `GET` and
//! `HEAD` of the pages every visitor sees alike), otherwise reads what the
//! page shows through the API, renders it, stores it for
//! [`CACHE_MAX_AGE_SECS`], and finishes it with its caching and security
//! headers. Purges drop the cached copies of the paths a writer names.
use rand_core::CryptoRngCore;
use sealpost_api::{ApiResponse, Failure, Locale, Method, Upstream, pages};
use sealpost_ports::{PageCache, SiteDb, Sql};

use crate::data::{ListQuery, Reader};
use crate::i18n::Text;
use crate::policy::{self, PAGE_CACHE_CONTROL};
use crate::render::{self, ItemView, Layout, ListPage, PostPage, Settings, other};
use crate::request::PageRequest;
use crate::routing::{Page, negotiate};
use crate::seo::{self, SiteInfo};
use crate::session::SessionCall;
use crate::{assets, feeds, studio};

/// How long a rendered page is kept at the edge: the most a page can lag
/// behind a change whose purge did not reach this data centre (ratings and
/// read counts, which purge nothing, lag at most this long).
pub const CACHE_MAX_AGE_SECS: u32 = 60;
/// Says whether the HTML cache answered: `hit`, `miss` or `bypass`.
pub const CACHE_STATUS: &str = "X-Sealpost-Cache";
/// Posts per list page.
pub const PAGE_SIZE: u32 = 10;
/// Posts in a feed.
pub const FEED_SIZE: u32 = 20;
/// Comments a post page shows (the newest; the live socket brings the rest).
pub const COMMENTS_SHOWN: u32 = 50;
/// The longest search the API accepts.
const QUERY_MAX_CHARS: usize = 100;
/// Pages of 100 posts per language the sitemap reads at most.
const SITEMAP_PAGES: u64 = 50;
/// The headers a cached copy keeps (the rest is rebuilt on every answer).
const KEPT: [&str; 2] = ["content-type", "etag"];

/// The site of one request: the API it reads through, its settings table
/// (`sites`, through [`SiteDb`]), the HTML cache and the deployment's
/// settings.
#[derive(Debug)]
pub struct Site<'a, U, S: Sql, P> {
    pub upstream: &'a U,
    pub db: SiteDb<'a, S>,
    pub cache: &'a P,
    pub settings: &'a Settings,
}

impl<U: Upstream, S: Sql, P: PageCache> Site<'_, U, S, P> {
    /// The answer to `req` at `now_secs` (Unix seconds; `rng` seals what
    /// the session endpoints send to auth). `Err` only for internal
    /// failures (the adapter logs them and answers [`Site::error_page`]).
    pub async fn serve(
        &self,
        req: &PageRequest,
        now_secs: i64,
        rng: &mut impl CryptoRngCore,
    ) -> Result<ApiResponse, Failure> {
        let page = Page::parse(&req.path);
        let lang = page
            .lang()
            .unwrap_or_else(|| negotiate(req.header("accept-language")));
        match (&page, req.method) {
            (Page::Session(action), Method::Post) => {
                let info = self.info().await?;
                let call = SessionCall {
                    upstream: self.upstream,
                    base_url: &info.base_url,
                    now_secs,
                };
                return call.serve(req, *action, rng).await;
            }
            (Page::Session(_), _) => {
                return Ok(ApiResponse::empty(405).with_header("Allow", "POST"));
            }
            (_, Method::Get | Method::Head) => {}
            _ => {
                return Ok(ApiResponse::empty(405).with_header("Allow", "GET, HEAD"));
            }
        }
        match &page {
            Page::Asset(name) => {
                return Ok(assets::serve(name).unwrap_or_else(|| {
                    ApiResponse::empty(404).with_header("Cache-Control", "no-store")
                }));
            }
            Page::Favicon => {
                let icon = assets::url(assets::ICON).unwrap_or_default();
                let served = icon.trim_start_matches(pages::ASSETS_PREFIX);
                return Ok(assets::serve(served)
                    .map(|mut r| {
                        r.headers
                            .retain(|(n, _)| !n.eq_ignore_ascii_case("cache-control"));
                        r.with_header("Cache-Control", "public, max-age=86400")
                    })
                    .unwrap_or_else(|| ApiResponse::empty(404)));
            }
            Page::LangNoSlash(l) => {
                return Ok(ApiResponse::empty(308)
                    .with_header("Location", pages::home_path(*l))
                    .with_header("Cache-Control", "public, max-age=3600"));
            }
            _ => {}
        }

        let cacheable = req.query.is_empty() && is_cacheable(&page);
        let key = pages::cache_key(&req.site, &req.path, lang);
        if cacheable && let Some(copy) = self.cache.get(&key).await {
            return Ok(self.finish(req, &page, ApiResponse::from_cached(copy, &KEPT), "hit"));
        }
        let mut resp = self.render(req, &page, lang).await?;
        let tag = policy::etag(&resp.body);
        resp = resp.with_header("ETag", tag);
        let state = if cacheable && resp.status == 200 {
            self.cache
                .put(key, resp.to_cached(&KEPT), CACHE_MAX_AGE_SECS)
                .await;
            "miss"
        } else {
            "bypass"
        };
        Ok(self.finish(req, &page, resp, state))
    }

    /// Drops this data centre's cached copies of `paths`, in every language
    /// they are rendered in.
    pub async fn purge(&self, paths: &[String]) {
        let keys: Vec<String> = paths
            .iter()
            .flat_map(|p| Locale::ALL.map(|l| pages::cache_key(self.db.site(), p, l)))
            .collect();
        self.cache.delete(&keys).await;
    }

    /// The site's name and canonical base URL (`sites`).
    pub async fn info(&self) -> Result<SiteInfo, Failure> {
        let profile = sealpost_ports::site_profile(&self.db).await?;
        let base = profile.base_url()?;
        Ok(SiteInfo {
            name: profile.name,
            base_url: base.as_str().to_owned(),
        })
    }

    /// The page shown for an internal failure: the site's look, a 500, never
    /// cached, no detail.
    pub fn error_page(&self, req: &PageRequest, request_id: &str) -> ApiResponse {
        let lang = Page::parse(&req.path)
            .lang()
            .unwrap_or_else(|| negotiate(req.header("accept-language")));
        let t = Text::of(lang);
        let page = render::ErrorPage {
            t,
            css: assets::url(assets::STYLESHEET).unwrap_or_default(),
            home_href: pages::home_path(lang),
            request_id: escape_id(request_id),
        };
        // The template has no failure mode but a formatter's; a bare status
        // line still tells the visitor what happened.
        let body = render::html(&page).unwrap_or_else(|_| "500".to_owned());
        let mut resp = ApiResponse::html(500, body)
            .with_header("Cache-Control", "no-store")
            .with_header("Content-Security-Policy", policy::csp(false));
        if req.method == Method::Head {
            resp.body.clear();
        }
        resp
    }

    fn finish(
        &self,
        req: &PageRequest,
        page: &Page,
        resp: ApiResponse,
        state: &str,
    ) -> ApiResponse {
        let mut resp = resp
            .with_header("Cache-Control", PAGE_CACHE_CONTROL)
            .with_header(CACHE_STATUS, state)
            .with_header(
                "Content-Security-Policy",
                policy::csp(self.settings.turnstile_site_key.is_some()),
            );
        if *page == Page::Root {
            resp = resp.with_header("Vary", "Accept-Language");
        }
        let mut resp = policy::conditional(resp, req.header("if-none-match"));
        if req.method == Method::Head {
            resp.body.clear();
        }
        resp
    }

    async fn render(
        &self,
        req: &PageRequest,
        page: &Page,
        lang: Locale,
    ) -> Result<ApiResponse, Failure> {
        let site = self.info().await?;
        let reader = Reader {
            upstream: self.upstream,
            site: req.site.clone(),
            request_id: &req.request_id,
        };
        let t = Text::of(lang);
        let layout = |kind: &'static str, head: seo::Head, switch: String| {
            Layout::new(&site, self.settings, lang, kind, head, switch)
        };
        let html = |status: u16, body: String| Ok(ApiResponse::html(status, body));
        match page {
            Page::Root | Page::Home(_) => {
                let path = if *page == Page::Root {
                    "/".to_owned()
                } else {
                    pages::home_path(lang)
                };
                let q: String = req
                    .query
                    .get_nonblank("q")
                    .map(|q| q.trim().chars().take(QUERY_MAX_CHARS).collect())
                    .unwrap_or_default();
                let head = seo::home(&site, lang, &path, t.tagline, q.is_empty());
                let l = layout("home", head, pages::home_path(other(lang)));
                let list = self
                    .list(&reader, req, lang, None, &q, l, t.newest_posts.to_owned())
                    .await?;
                html(200, render::html(&list)?)
            }
            Page::Tag(_, tag) => {
                let heading = format!("{} #{tag}", t.tagged);
                let head = seo::tag(&site, lang, tag, &heading);
                let l = layout("tag", head, pages::tag_path(other(lang), tag));
                let list = self
                    .list(&reader, req, lang, Some(tag), "", l, heading)
                    .await?;
                html(200, render::html(&list)?)
            }
            Page::Post(_, slug) => match reader.post(lang, slug).await? {
                Some(post) => {
                    let comments = reader.comments(&post.item.id, COMMENTS_SHOWN).await?;
                    let switch = seo::post_pages(&post)
                        .into_iter()
                        .find(|(l, _)| *l == other(lang))
                        .map_or_else(|| pages::home_path(other(lang)), |(_, p)| p);
                    let head = seo::post(&site, lang, &post);
                    let view = PostPage::new(layout("post", head, switch), lang, &post, &comments);
                    html(200, render::html(&view)?)
                }
                None => self.not_found(&site, lang, &req.path),
            },
            Page::Feed(_) => {
                let q = ListQuery {
                    page: 1,
                    page_size: FEED_SIZE,
                    tag: None,
                    q: None,
                };
                let posts = reader.posts(lang, &q).await?;
                let feed = feeds::atom(
                    &site,
                    lang,
                    &format!("{} · {}", site.name, t.newest_posts),
                    &posts.items,
                );
                Ok(text(
                    200,
                    "application/atom+xml; charset=utf-8",
                    render::html(&feed)?,
                ))
            }
            Page::Sitemap => {
                let mut all = Vec::new();
                for l in Locale::ALL {
                    for n in 1..=SITEMAP_PAGES {
                        let q = ListQuery {
                            page: n,
                            page_size: 100,
                            tag: None,
                            q: None,
                        };
                        let page = reader.posts(l, &q).await?;
                        all.extend(page.items);
                        if n >= page.total_pages {
                            break;
                        }
                    }
                }
                let xml = render::html(&feeds::sitemap(&site, &all))?;
                Ok(text(200, "application/xml; charset=utf-8", xml))
            }
            Page::Robots => Ok(text(200, "text/plain; charset=utf-8", feeds::robots(&site))),
            Page::Signup(_) | Page::Login(_) | Page::Account(_) => {
                let (kind, title) = match page {
                    Page::Signup(_) => ("signup", t.signup_title),
                    Page::Login(_) => ("login", t.login_title),
                    _ => ("account", t.account),
                };
                let head = seo::private(&site, lang, &req.path, title);
                let rest = req
                    .path
                    .strip_prefix(&format!("/{}", lang.as_str()))
                    .unwrap_or("/");
                let l = layout(kind, head, format!("/{}{rest}", other(lang).as_str()));
                let body = match page {
                    Page::Signup(_) => render::html(&render::SignupPage { l })?,
                    Page::Login(_) => render::html(&render::LoginPage { l })?,
                    _ => render::html(&render::AccountPage { l })?,
                };
                html(200, body)
            }
            Page::Studio => studio::shell(&site.name),
            _ => self.not_found(&site, lang, &req.path),
        }
    }

    fn not_found(&self, site: &SiteInfo, lang: Locale, path: &str) -> Result<ApiResponse, Failure> {
        let t = Text::of(lang);
        let head = seo::private(site, lang, path, t.not_found_title);
        let l = Layout::new(
            site,
            self.settings,
            lang,
            "notfound",
            head,
            pages::home_path(other(lang)),
        );
        Ok(ApiResponse::html(
            404,
            render::html(&render::NotFoundPage { l })?,
        ))
    }

    #[allow(clippy::too_many_arguments)]
    async fn list(
        &self,
        reader: &Reader<'_, U>,
        req: &PageRequest,
        lang: Locale,
        tag: Option<&str>,
        q: &str,
        l: Layout,
        heading: String,
    ) -> Result<ListPage, Failure> {
        let page = req
            .query
            .get("page")
            .and_then(|p| p.parse::<u64>().ok())
            .filter(|p| (1..=10_000).contains(p))
            .unwrap_or(1);
        let tag = tag.or_else(|| {
            req.query
                .get_nonblank("tag")
                .filter(|t| crate::routing::is_slug(t))
        });
        let query = ListQuery {
            page,
            page_size: PAGE_SIZE,
            tag,
            q: (!q.is_empty()).then_some(q),
        };
        let found = reader.posts(lang, &query).await?;
        let base = req.path.clone();
        let link = |n: u64| {
            let mut href = format!("{base}?page={n}");
            if !q.is_empty() {
                href.push_str(&format!("&q={}", sealpost_api::query::encode_component(q)));
            }
            if let (Some(t), false) = (req.query.get_nonblank("tag"), matches!(l.page, "tag")) {
                href.push_str(&format!(
                    "&tag={}",
                    sealpost_api::query::encode_component(t)
                ));
            }
            href
        };
        Ok(ListPage {
            search_action: pages::home_path(lang),
            q: q.to_owned(),
            posts: found.items.iter().map(|i| ItemView::new(lang, i)).collect(),
            page,
            total_pages: found.total_pages.max(1),
            prev_href: (page > 1).then(|| link(page - 1)),
            next_href: (page < found.total_pages).then(|| link(page + 1)),
            heading,
            l,
        })
    }
}

/// The pages every visitor is shown alike (no query): what the HTML cache
/// keeps. Not-found pages are not kept (anyone can ask for endless paths).
fn is_cacheable(page: &Page) -> bool {
    matches!(
        page,
        Page::Root
            | Page::Home(_)
            | Page::Post(..)
            | Page::Tag(..)
            | Page::Feed(_)
            | Page::Sitemap
            | Page::Robots
            | Page::Signup(_)
            | Page::Login(_)
            | Page::Account(_)
            | Page::Studio
    )
}

fn text(status: u16, content_type: &str, body: String) -> ApiResponse {
    ApiResponse {
        status,
        headers: vec![("content-type".into(), content_type.into())],
        body: body.into_bytes(),
    }
}

/// A request id as page text (ids are base64url; anything else is dropped).
fn escape_id(id: &str) -> String {
    id.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}
