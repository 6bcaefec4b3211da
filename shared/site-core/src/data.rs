//! What pages show, read through the API ([`Upstream`]) exactly as a
//! client would: post lists, one post, its comments. The API's answers are
//! parsed into the few fields pages use; a 404 is `None`, any other answer
//! that is not a success is a [`Failure`] (the page becomes an error page
//! and is never cached).
use sealpost_api::query::encode_component;
use sealpost_api::routes::{Params, RouteId};
use sealpost_api::{ApiRequest, Failure, Locale, Upstream};
use sealpost_ports::SiteId;
use serde::Deserialize;
use serde::de::DeserializeOwned;

pub use sealpost_api::posts::{Author, PostItem, Rating};

/// Another language of a post.
#[derive(Debug, Clone, Deserialize)]
pub struct Alternate {
    pub lang: String,
    pub slug: String,
}

/// One post (`GET /posts/{slug}?lang`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Post {
    #[serde(flatten)]
    pub item: PostItem,
    pub body_html: String,
    pub alternates: Vec<Alternate>,
    #[serde(default)]
    pub json_ld: serde_json::Value,
}

/// One comment (`GET /posts/{id}/comments` items).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Comment {
    pub id: String,
    pub serial: u64,
    pub author: Author,
    pub body: String,
    pub created_at: String,
}

/// An offset page of the post list.
#[derive(Debug, Clone)]
pub struct PostPage {
    pub items: Vec<PostItem>,
    pub page: u64,
    pub total_pages: u64,
}

/// What a page asks for a list of posts.
#[derive(Debug, Clone, Default)]
pub struct ListQuery<'a> {
    pub page: u64,
    pub page_size: u32,
    pub tag: Option<&'a str>,
    pub q: Option<&'a str>,
}

/// How pages read the API: through `upstream`, as the site `site`, under
/// the page request's id.
#[derive(Debug)]
pub struct Reader<'a, U> {
    pub upstream: &'a U,
    pub site: SiteId,
    pub request_id: &'a str,
}

#[derive(Deserialize)]
struct Data<T> {
    data: T,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Pagination {
    page: u64,
    total_pages: u64,
}

#[derive(Deserialize)]
struct Listed<T> {
    data: Vec<T>,
    pagination: Pagination,
}

impl<U: Upstream> Reader<'_, U> {
    fn request(&self, route: RouteId, params: Params, query: &str) -> ApiRequest {
        ApiRequest::new(route, self.site.clone())
            .with_params(params)
            .with_query(query)
            .with_request_id(self.request_id)
    }

    /// The API's 200 body as `T`; `None` on 404.
    async fn read<T: DeserializeOwned>(&self, req: ApiRequest) -> Result<Option<T>, Failure> {
        let route = req.id();
        let resp = self.upstream.call(req).await?;
        match resp.status {
            200 => serde_json::from_slice(&resp.body)
                .map(Some)
                .map_err(|e| Failure::Codec(format!("{} answer: {e}", route.as_str()))),
            404 => Ok(None),
            status => Err(Failure::Platform(format!(
                "{} answered {status}",
                route.as_str()
            ))),
        }
    }

    /// Published posts in `lang`, newest first. A query the API refuses (a
    /// page past the end is not refused; a malformed one is) reads as empty.
    pub async fn posts(&self, lang: Locale, q: &ListQuery<'_>) -> Result<PostPage, Failure> {
        let mut query = format!(
            "lang={}&page={}&pageSize={}",
            lang.as_str(),
            q.page.max(1),
            q.page_size.clamp(1, 100)
        );
        for (name, value) in [("tag", q.tag), ("q", q.q)] {
            if let Some(v) = value {
                query.push_str(&format!("&{name}={}", encode_component(v)));
            }
        }
        let req = self.request(RouteId::PostsList, Params::new(), &query);
        let listed: Option<Listed<PostItem>> = self.read(req).await?;
        Ok(match listed {
            Some(l) => PostPage {
                items: l.data,
                page: l.pagination.page,
                total_pages: l.pagination.total_pages,
            },
            None => PostPage {
                items: Vec::new(),
                page: 1,
                total_pages: 0,
            },
        })
    }

    /// The post `slug` in `lang`, if published.
    pub async fn post(&self, lang: Locale, slug: &str) -> Result<Option<Post>, Failure> {
        let mut params = Params::new();
        params.push("slug", slug);
        let req = self.request(RouteId::PostGet, params, &format!("lang={}", lang.as_str()));
        Ok(self.read::<Data<Post>>(req).await?.map(|d| d.data))
    }

    /// The newest `limit` comments of post `id`, newest first.
    pub async fn comments(&self, id: &str, limit: u32) -> Result<Vec<Comment>, Failure> {
        let mut params = Params::new();
        params.push("id", id);
        let req = self.request(RouteId::CommentsList, params, &format!("limit={limit}"));
        Ok(self
            .read::<Data<Vec<Comment>>>(req)
            .await?
            .map(|d| d.data)
            .unwrap_or_default())
    }
}
