//! The comments worker: owns comments and their live viewers.
//! Reached only through the gateway's service binding (see docs/adr/0001);
//! every request runs through the shared scaffold `sealpost_cf::domain`.
//!
//! This stateless part answers the public list from D1 and does every
//! check that needs no single writer — the caller's token (keys from auth
//! through the `AUTH` binding, `sealpost_cf::auth`), the input rules, the
//! post — then hands writes and live viewers to the post's Durable Object
//! ([`thread::PostThread`], one per site and post; docs/adr/0012).
use sealpost_api::routes::{RouteId, Service};
use sealpost_api::{ApiRequest, Failure};
use sealpost_cf::domain::{self, Answer};
use sealpost_cf::http::{HEADER_CLIENT_IP, HEADER_REQUEST_ID, HEADER_SITE};
use sealpost_cf::{D1Sql, PlatformResult, SystemClock};
use sealpost_comments_core::service::{self, Comments};
use sealpost_ports::SiteDb;
use serde::Serialize;
use worker::{Context, Env, Headers, Method, Request, RequestInit, Response, Result, event};

mod thread;

const SERVICE: Service = Service::Comments;

/// The Durable Object namespace binding (wrangler.toml).
const THREADS_BINDING: &str = "THREADS";
/// The header that names the post for the object.
pub(crate) const HEADER_POST: &str = "x-sealpost-post";

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    domain::serve(
        req,
        SERVICE,
        false,
        || domain::standard_health(&env, SERVICE, false),
        |r| handle(r, &env),
    )
    .await
}

/// Dispatches a catalogue route of this worker.
async fn handle(r: ApiRequest, env: &Env) -> std::result::Result<Answer, Failure> {
    let sql = D1Sql::from_env(env)?;
    let route = r.id();
    let verifier = sealpost_cf::auth::keys_for(env, &r, service::key_need(&r)).await?;
    let comments = Comments {
        db: SiteDb::new(&sql, r.site.clone()),
        clock: &SystemClock,
        verifier: verifier.as_deref(),
    };
    let post =
        Comments::<D1Sql, SystemClock>::post_id(r.param(service::post_param(route)))?.to_owned();
    match route {
        RouteId::CommentsList => Ok(comments.list(&post, &r.query).await?.into()),
        RouteId::CommentCreate => {
            let (claims, comment) = comments.prepare_create(r.authorization(), &r.body).await?;
            if !comments.thread(&post).is_published().await? {
                return Err(service::no_post());
            }
            let call = thread::CreateCall {
                author_id: claims.sub,
                comment,
            };
            object_call(env, &r, &post, "/create", &call).await
        }
        RouteId::AdminCommentDelete => {
            let claims = comments.prepare_delete(r.authorization()).await?;
            let call = thread::DeleteCall {
                comment_id: r.param("commentId").unwrap_or_default().to_owned(),
                actor_id: claims.sub,
            };
            object_call(env, &r, &post, "/delete", &call).await
        }
        RouteId::CommentsLive => {
            let since = comments.prepare_live(&post, &r.query).await?;
            if !r
                .header("upgrade")
                .is_some_and(|u| u.eq_ignore_ascii_case("websocket"))
            {
                return Ok(service::upgrade_refusal().into());
            }
            let headers = object_headers(&r, &post).platform()?;
            headers.set("upgrade", "websocket").platform()?;
            let mut init = RequestInit::new();
            init.with_method(Method::Get).with_headers(headers);
            let req = Request::new_with_init(
                &format!("https://thread.internal/live?since={since}"),
                &init,
            )
            .platform()?;
            Ok(stub(env, &r, &post)
                .platform()?
                .fetch_with_request(req)
                .await
                .platform()?
                .into())
        }
        _ => Err(sealpost_api::ApiError::not_found().into()),
    }
}

/// The post's object: one per site and post, named `{site}/{post}`.
fn stub(env: &Env, r: &ApiRequest, post: &str) -> worker::Result<worker::Stub> {
    env.durable_object(THREADS_BINDING)?
        .id_from_name(&format!("{}/{post}", r.site.as_str()))?
        .get_stub()
}

/// What the object needs to know of the request: the site, the post, the
/// request id (its logs) and the client's IP (the viewer caps).
fn object_headers(r: &ApiRequest, post: &str) -> worker::Result<Headers> {
    let headers = Headers::new();
    headers.set(HEADER_SITE, r.site.as_str())?;
    headers.set(HEADER_POST, post)?;
    headers.set(HEADER_REQUEST_ID, &r.request_id)?;
    headers.set(HEADER_CLIENT_IP, &r.client_ip)?;
    Ok(headers)
}

/// Asks the post's object to run a write; its answer goes back as it is.
async fn object_call<T: Serialize>(
    env: &Env,
    r: &ApiRequest,
    post: &str,
    path: &str,
    call: &T,
) -> std::result::Result<Answer, Failure> {
    let headers = object_headers(r, post).platform()?;
    headers.set("content-type", "application/json").platform()?;
    let body = serde_json::to_string(call).map_err(|e| Failure::Codec(e.to_string()))?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_headers(headers)
        .with_body(Some(body.into()));
    let req =
        Request::new_with_init(&format!("https://thread.internal{path}"), &init).platform()?;
    Ok(stub(env, r, post)
        .platform()?
        .fetch_with_request(req)
        .await
        .platform()?
        .into())
}
