//! Resend's batch endpoint (`POST /emails/batch`), free of the platform: the
//! request body, and what an answer means — each email's result, or the
//! [`MailerError`] of a whole request. The worker's adapter only performs
//! the HTTP call and hands the status, the body and `Retry-After` here.
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::ports::{Accepted, Batch, MailerError};

/// The endpoint.
pub const BATCH_URL: &str = "https://api.resend.com/emails/batch";
/// The header selecting the validation mode, and the mode asked for:
/// `permissive` sends the valid emails and lists the invalid ones by index,
/// so one bad address fails only its own row.
pub const VALIDATION_HEADER: (&str, &str) = ("x-batch-validation", "permissive");

/// The JSON body of `batch`, every email from `from`.
pub fn request_body(from: &str, batch: &Batch) -> String {
    let emails: Vec<Value> = batch
        .emails
        .iter()
        .map(|e| {
            let headers: Map<String, Value> = e
                .headers
                .iter()
                .map(|(k, v)| (k.clone(), Value::from(v.as_str())))
                .collect();
            json!({
                "from": from,
                "to": [e.to],
                "subject": e.subject,
                "text": e.text,
                "html": e.html,
                "headers": headers,
            })
        })
        .collect();
    Value::Array(emails).to_string()
}

#[derive(Deserialize)]
struct Created {
    id: String,
}

#[derive(Deserialize)]
struct ValidationError {
    index: usize,
    #[serde(default)]
    message: String,
}

#[derive(Deserialize)]
struct BatchAnswer {
    data: Vec<Created>,
    #[serde(default)]
    errors: Vec<ValidationError>,
}

/// The `name` of an error answer (`{"statusCode", "name", "message"}`).
#[derive(Deserialize)]
struct ErrorAnswer {
    #[serde(default)]
    name: String,
}

/// What an answer with HTTP `status` and `body` (and `Retry-After`) says
/// about a request of `emails` emails. Only a per-email validation error
/// (permissive mode's `errors`) refuses an email for good; every refusal of
/// the whole request is a [`MailerError`], whose handling is
/// [`crate::failures`]'s.
pub fn answer(
    status: u16,
    body: &str,
    retry_after: Option<&str>,
    emails: usize,
) -> Result<Vec<Accepted>, MailerError> {
    match status {
        200..=299 => accepted(body, emails),
        401 => Err(MailerError::Unauthorized),
        403 => Err(MailerError::Forbidden),
        409 => Err(
            match serde_json::from_str::<ErrorAnswer>(body).map(|e| e.name) {
                Ok(name) if name == "invalid_idempotent_request" => MailerError::KeyReused,
                _ => MailerError::InProgress,
            },
        ),
        429 => Err(MailerError::RateLimited {
            retry_after_secs: retry_after.and_then(|v| v.trim().parse().ok()),
        }),
        400..=499 => Err(MailerError::Refused { status }),
        _ => Err(MailerError::Unavailable(format!(
            "provider answered {status}"
        ))),
    }
}

/// A 2xx answer: `data` holds the created emails in request order, and (in
/// permissive mode) `errors` the others by index; together, every email
/// exactly once, or the answer cannot be trusted.
fn accepted(body: &str, emails: usize) -> Result<Vec<Accepted>, MailerError> {
    let unreadable = || MailerError::Unavailable("unreadable provider answer".into());
    let parsed: BatchAnswer = serde_json::from_str(body).map_err(|_| unreadable())?;
    if parsed.data.len() + parsed.errors.len() != emails {
        return Err(MailerError::Unavailable(
            "provider answered a different number of emails".into(),
        ));
    }
    let mut out: Vec<Option<Accepted>> = vec![None; emails];
    for e in parsed.errors {
        match out.get_mut(e.index) {
            Some(slot @ None) => *slot = Some(Accepted::Rejected { reason: e.message }),
            _ => return Err(unreadable()),
        }
    }
    let mut ids = parsed.data.into_iter();
    for slot in out.iter_mut().filter(|s| s.is_none()) {
        let id = ids.next().ok_or_else(unreadable)?;
        *slot = Some(Accepted::Sent { provider_id: id.id });
    }
    out.into_iter().map(|a| a.ok_or_else(unreadable)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(status: u16, name: &str) -> Result<Vec<Accepted>, MailerError> {
        let body = format!(r#"{{"statusCode":{status},"name":"{name}","message":"m"}}"#);
        answer(status, &body, None, 2)
    }

    #[test]
    fn a_refused_key_sender_or_conflict_is_an_error_of_the_request_not_a_rejection() {
        assert_eq!(
            error(401, "missing_api_key"),
            Err(MailerError::Unauthorized)
        );
        assert_eq!(error(403, "invalid_api_key"), Err(MailerError::Forbidden));
        assert_eq!(error(403, "validation_error"), Err(MailerError::Forbidden));
        assert_eq!(
            error(409, "concurrent_idempotent_requests"),
            Err(MailerError::InProgress)
        );
        assert_eq!(
            error(409, "invalid_idempotent_request"),
            Err(MailerError::KeyReused)
        );
        assert_eq!(
            error(422, "validation_error"),
            Err(MailerError::Refused { status: 422 })
        );
        assert_eq!(
            error(400, "validation_error"),
            Err(MailerError::Refused { status: 400 })
        );
    }

    #[test]
    fn a_429_carries_its_retry_after_and_a_5xx_is_unavailable() {
        assert_eq!(
            answer(429, "{}", Some(" 3 "), 1),
            Err(MailerError::RateLimited {
                retry_after_secs: Some(3)
            })
        );
        assert!(matches!(
            answer(502, "", None, 1),
            Err(MailerError::Unavailable(_))
        ));
    }

    #[test]
    fn permissive_errors_refuse_their_own_email_and_the_ids_fill_the_rest_in_order() {
        let body = r#"{"data":[{"id":"a"},{"id":"c"}],"errors":[{"index":1,"message":"bad to"}]}"#;
        assert_eq!(
            answer(200, body, None, 3),
            Ok(vec![
                Accepted::Sent {
                    provider_id: "a".into()
                },
                Accepted::Rejected {
                    reason: "bad to".into()
                },
                Accepted::Sent {
                    provider_id: "c".into()
                },
            ])
        );
    }

    #[test]
    fn an_answer_that_does_not_cover_every_email_once_is_not_trusted() {
        let short = r#"{"data":[{"id":"a"}]}"#;
        assert!(matches!(
            answer(200, short, None, 2),
            Err(MailerError::Unavailable(_))
        ));
        let twice = r#"{"data":[{"id":"a"}],"errors":[{"index":0,"message":"x"},{"index":0,"message":"y"}]}"#;
        assert!(matches!(
            answer(200, twice, None, 2),
            Err(MailerError::Unavailable(_))
        ));
        let outside = r#"{"data":[{"id":"a"}],"errors":[{"index":5,"message":"x"}]}"#;
        assert!(matches!(
            answer(200, outside, None, 2),
            Err(MailerError::Unavailable(_))
        ));
    }

    #[test]
    fn the_body_has_one_object_per_email_from_the_sender() {
        let batch = Batch {
            idempotency_key: "k".into(),
            emails: vec![crate::ports::OutgoingEmail {
                to: "a@x.test".into(),
                subject: "S".into(),
                text: "t".into(),
                html: "<p>h</p>".into(),
                headers: vec![("List-Unsubscribe".into(), "<https://x.test/u>".into())],
                idempotency_key: "e".into(),
            }],
        };
        let body: Value = serde_json::from_str(&request_body("News <n@x.test>", &batch)).unwrap();
        assert_eq!(
            body,
            json!([{"from": "News <n@x.test>", "to": ["a@x.test"], "subject": "S",
                "text": "t", "html": "<p>h</p>",
                "headers": {"List-Unsubscribe": "<https://x.test/u>"}}])
        );
    }
}
