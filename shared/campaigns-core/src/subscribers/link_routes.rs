//! The confirmation and unsubscribe links: their GET pages, which only show
//! a form and change nothing, and the POSTs that confirm (`{token}` or the
//! form's `token=…`) or unsubscribe (RFC 8058 one-click, an empty body or
//! `{token}`), answering a browser's form post with a page and anything
//! else with JSON.
use sealpost_api::body::{FORM_MEDIA_TYPE, media_type, parse_form, parse_json};
use sealpost_api::{ApiError, ApiRequest, ApiResponse, ErrorCode};
use sealpost_ports::{Clock, PortError, RateLimiter, Rng, Sql, site_profile};
use serde::Deserialize;
use serde_json::json;

use super::{Answer, Failure, Subscriptions};
use crate::pages;
use crate::ports::{Mailer, Turnstile};
use crate::rate::Pause;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct TokenInput {
    #[serde(default)]
    token: Option<String>,
}

#[derive(Deserialize)]
struct StatusRow {
    status: String,
}

fn token_invalid() -> Failure {
    ApiError::new(ErrorCode::TokenInvalid).into()
}

/// Whether the client wants an HTML page back (a browser's form post).
fn accepts_html(accept: Option<&str>) -> bool {
    accept.is_some_and(|a| a.to_ascii_lowercase().contains("text/html"))
}

fn is_form(content_type: Option<&str>) -> bool {
    media_type(content_type).as_deref() == Some(FORM_MEDIA_TYPE)
}

fn is_blank(body: &[u8]) -> bool {
    body.iter().all(u8::is_ascii_whitespace)
}

/// An HTML page that is never cached (it answers one link), under its own
/// policy.
fn html(status: u16, page: String) -> ApiResponse {
    ApiResponse::html(status, page)
        .with_header("cache-control", "no-store")
        .with_header("content-security-policy", pages::PAGE_CSP)
}

/// The site's name when its row cannot be read: the page still works.
const FALLBACK_SITE_NAME: &str = "Sealpost";

impl<S: Sql, C: Clock, R: Rng, L: RateLimiter, T: Turnstile, M: Mailer, P: Pause>
    Subscriptions<'_, S, C, R, L, T, M, P>
{
    /// The page `render` draws in this site's look, answered with `status`.
    async fn page(
        &self,
        status: u16,
        render: impl FnOnce(pages::Look<'_>) -> String,
    ) -> ApiResponse {
        let profile = site_profile(&self.db).await.ok();
        let site_name = profile
            .as_ref()
            .map_or(FALLBACK_SITE_NAME, |p| p.name.as_str());
        html(status, render(pages::Look { site_name }))
    }

    /// `GET /subscribe/confirm?token`: a page with a button; no write.
    pub(super) async fn confirm_page(&self, input: &ApiRequest) -> ApiResponse {
        let now = self.clock.now_ms();
        match input.query.get("token").map(str::trim) {
            Some(token) if self.keys.check_confirm(token, now).is_some() => {
                self.page(200, |l| pages::confirm_page(l, token)).await
            }
            _ => self.page(400, pages::invalid_link_page).await,
        }
    }

    /// `POST /subscribe/confirm` with `{token}` or `token=…`.
    pub(super) async fn confirm(&self, input: &ApiRequest) -> Answer {
        let form = is_form(input.header("content-type"));
        let browser = form && accepts_html(input.header("accept"));
        let token = if form {
            form_token(&input.body)?
        } else if is_blank(&input.body) {
            None
        } else {
            parse_json::<TokenInput>(&input.body)?.token
        };
        let Some(token) = token else {
            return Err(ApiError::field("token", "Required").into());
        };
        let now = self.clock.now_ms();
        let confirmed = match self.keys.check_confirm(&token, now) {
            Some(claim) => {
                self.confirm_claim(&claim.subscriber_id, &claim.nonce, now)
                    .await?
            }
            None => false,
        };
        match (confirmed, browser) {
            (true, true) => Ok(self.page(200, pages::confirmed_page).await),
            (true, false) => Ok(ApiResponse::mutation(
                200,
                "Subscription confirmed",
                &json!({"status": "confirmed"}),
            )),
            (false, true) => Ok(self.page(400, pages::invalid_link_page).await),
            (false, false) => Err(token_invalid()),
        }
    }

    /// Confirms the pending subscriber of this opt-in round; `true` also
    /// when it already is (a repeated click), `false` when the round is
    /// over (a newer nonce, unsubscribed, gone).
    async fn confirm_claim(&self, id: &str, nonce: &str, now: i64) -> Result<bool, PortError> {
        let done = self
            .db
            .execute(
                &self
                    .db
                    .statement(
                        "UPDATE subscribers SET status = 'confirmed', confirmed_at = ?4, \
                         updated_at = ?4 \
                         WHERE site_id = ?1 AND id = ?2 AND confirm_nonce = ?3 \
                         AND status = 'pending'",
                    )
                    .bind(id)
                    .bind(nonce)
                    .bind(now),
            )
            .await?;
        if done.changes > 0 {
            return Ok(true);
        }
        let row: Option<StatusRow> = self
            .db
            .query_one(
                &self
                    .db
                    .statement(
                        "SELECT status FROM subscribers \
                         WHERE site_id = ?1 AND id = ?2 AND confirm_nonce = ?3",
                    )
                    .bind(id)
                    .bind(nonce),
            )
            .await?;
        Ok(row.is_some_and(|r| r.status == "confirmed"))
    }

    /// `GET /unsubscribe?token`: a one-click form; no write.
    pub(super) async fn unsubscribe_page(&self, input: &ApiRequest) -> ApiResponse {
        match input.query.get("token").map(str::trim) {
            Some(token) if self.keys.check_unsubscribe(token).is_some() => {
                self.page(200, |l| pages::unsubscribe_page(l, token)).await
            }
            _ => self.page(400, pages::invalid_link_page).await,
        }
    }

    /// `POST /unsubscribe?token`: RFC 8058 one-click (the form body
    /// `List-Unsubscribe=One-Click`), an empty body, or JSON `{}` /
    /// `{token}`. Repeats and unknown subscribers answer 200 too.
    pub(super) async fn unsubscribe(&self, input: &ApiRequest) -> Answer {
        let form = is_form(input.header("content-type"));
        let browser = form && accepts_html(input.header("accept"));
        let body_token = if is_blank(&input.body) {
            None
        } else if form || is_multipart(input.header("content-type")) {
            let one_click = if form {
                let pairs = parse_form(&input.body);
                pairs.len() == 1
                    && pairs
                        .first()
                        .is_some_and(|(k, v)| k == "List-Unsubscribe" && v == "One-Click")
            } else {
                multipart_one_click(&input.body)
            };
            if !one_click {
                return Err(ApiError::field(
                    "List-Unsubscribe",
                    "The form body must be List-Unsubscribe=One-Click",
                )
                .into());
            }
            None
        } else {
            parse_json::<TokenInput>(&input.body)?.token
        };
        let token = input
            .query
            .get_nonblank("token")
            .map(str::to_owned)
            .or(body_token);
        let Some(token) = token else {
            return Err(ApiError::field("token", "Required").into());
        };
        let Some(id) = self.keys.check_unsubscribe(&token) else {
            return if browser {
                Ok(self.page(400, pages::invalid_link_page).await)
            } else {
                Err(token_invalid())
            };
        };
        let now = self.clock.now_ms();
        self.db
            .batch(&[
                self.db
                    .statement(
                        "UPDATE subscribers SET status = 'unsubscribed', unsubscribed_at = ?3, \
                         updated_at = ?3 \
                         WHERE site_id = ?1 AND id = ?2 AND status != 'unsubscribed'",
                    )
                    .bind(id.as_str())
                    .bind(now),
                self.db
                    .statement(
                        "UPDATE campaign_deliveries SET status = 'skipped' \
                         WHERE site_id = ?1 AND subscriber_id = ?2 AND status = 'pending'",
                    )
                    .bind(id.as_str()),
            ])
            .await?;
        if browser {
            Ok(self.page(200, pages::unsubscribed_page).await)
        } else {
            Ok(ApiResponse::mutation(
                200,
                "You have been unsubscribed",
                &(),
            ))
        }
    }
}

/// Whether the body is `multipart/form-data`.
fn is_multipart(content_type: Option<&str>) -> bool {
    media_type(content_type).as_deref() == Some("multipart/form-data")
}

/// Whether a `multipart/form-data` body (RFC 8058 allows it) has the part
/// `List-Unsubscribe` with the value `One-Click`.
pub fn multipart_one_click(body: &[u8]) -> bool {
    let text = String::from_utf8_lossy(body);
    text.split("name=\"List-Unsubscribe\"")
        .nth(1)
        .and_then(|rest| {
            rest.split_once("\r\n\r\n")
                .or_else(|| rest.split_once("\n\n"))
        })
        .is_some_and(|(_, value)| {
            value
                .split(['\r', '\n'])
                .next()
                .is_some_and(|v| v.trim() == "One-Click")
        })
}

/// The `token` of a confirmation form (`token=…`, nothing else).
pub fn form_token(body: &[u8]) -> Result<Option<String>, ApiError> {
    let mut token = None;
    for (k, v) in parse_form(body) {
        match k.as_str() {
            "token" if token.is_none() => token = Some(v),
            "token" => return Err(ApiError::field(k, "Duplicate field")),
            _ => return Err(ApiError::field(k, "Unknown field")),
        }
    }
    Ok(token)
}
