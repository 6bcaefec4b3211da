//! What an editor reads beyond the list: one post with every language's
//! Markdown (to reopen a saved draft), and a preview of Markdown rendered by
//! the same renderer and limits as a save, so the preview is the HTML the
//! site will show.
use sealpost_api::body::parse_json;
use sealpost_api::posts::edits::{Preview, PreviewInput};
use sealpost_api::{ApiRequest, ApiResponse, Validator};
use sealpost_ports::{Clock, PageCache, RateLimiter, Rng, SitePurge, Sql};

use super::{Answer, Content};
use crate::model;

impl<S: Sql, C: Clock, R: Rng, L: RateLimiter, P: PageCache, U: SitePurge>
    Content<'_, S, C, R, L, P, U>
{
    /// `GET /admin/posts/{id}`: the admin object with each language's
    /// `body`; 404 for an unknown or deleted post.
    pub(super) async fn admin_get(&self, input: &ApiRequest) -> Answer {
        self.editor(input).await?;
        let id = input.param("id").unwrap_or_default();
        let post = self.live(id).await?;
        let translations = self.translations(id).await?;
        Ok(ApiResponse::query(&model::admin_view(
            &post,
            &translations,
            true,
        )))
    }

    /// `POST /admin/preview` `{body}`: `{html}`, the Markdown rendered as a
    /// save would store it; the same field errors as a save's body.
    pub(super) async fn preview(&self, input: &ApiRequest) -> Answer {
        self.editor(input).await?;
        let body: PreviewInput = parse_json(&input.body)?;
        let mut v = Validator::new();
        let html = model::rendered_body(&mut v, "body", &body.body);
        v.finish()?;
        Ok(ApiResponse::query(&Preview {
            html: html.unwrap_or_default(),
        }))
    }
}
