//! Writing a campaign's texts and schedule: creating one, and changing one
//! while it is still a draft or scheduled. A change is one `UPDATE` guarded
//! by that status in its `WHERE`, so it cannot race the cron's start or a
//! send: whichever statement runs first wins, and a change that came second
//! is refused with 409 and changes nothing.
use sealpost_api::body::parse_json;
use sealpost_api::campaigns::{CampaignInput, CampaignPatch, LocalisedPatch};
use sealpost_api::{ApiError, ApiRequest, ApiResponse, ErrorCode, Validator};
use sealpost_ports::{Clock, Rng, Sql, parse_rfc3339};

use super::{Answer, BODY_MAX, SCHEDULE_HORIZON_MS, SUBJECT_MAX, Sending, not_found};
use crate::ports::WorkQueue;

/// The message of a change to a campaign that already started or ended.
pub const NOT_EDITABLE_MESSAGE: &str = "Only a draft or scheduled campaign can be changed";

/// Checks a subject (after trimming): 1–200 characters, no control
/// characters (a CR/LF would be a header injection).
fn check_subject(v: &mut Validator, field: &str, subject: &str) {
    v.text_len(field, subject, 1, SUBJECT_MAX);
    v.check(
        !subject.chars().any(char::is_control),
        field,
        "Must not contain control characters",
    );
}

/// Checks a body (Markdown): 1–50,000 characters, not only whitespace.
fn check_body(v: &mut Validator, field: &str, body: &str) {
    let before = v.errors().len();
    v.text_len(field, body, 1, BODY_MAX);
    if v.errors().len() == before {
        v.check(!body.trim().is_empty(), field, "Must not be blank");
    }
}

/// Checks a schedule: RFC 3339, in the future, at most a year ahead.
fn check_schedule(v: &mut Validator, at: &str, now: i64) -> Option<i64> {
    let parsed = parse_rfc3339(at);
    match parsed {
        None => v.add("scheduledAt", "Must be an RFC 3339 date-time"),
        Some(at) if at <= now => v.add("scheduledAt", "Must be in the future"),
        Some(at) if at > now.saturating_add(SCHEDULE_HORIZON_MS) => {
            v.add("scheduledAt", "Must be within a year")
        }
        Some(_) => {}
    }
    parsed
}

/// The trimmed subjects and checked bodies of a patch, field by field.
struct Texts<'a> {
    subject_en: Option<&'a str>,
    subject_vi: Option<&'a str>,
    body_en: Option<&'a str>,
    body_vi: Option<&'a str>,
}

fn patch_texts<'a>(
    v: &mut Validator,
    subject: Option<&'a LocalisedPatch>,
    body: Option<&'a LocalisedPatch>,
) -> Texts<'a> {
    let subject_en = subject.and_then(|s| s.en.as_deref()).map(str::trim);
    let subject_vi = subject.and_then(|s| s.vi.as_deref()).map(str::trim);
    let body_en = body.and_then(|b| b.en.as_deref());
    let body_vi = body.and_then(|b| b.vi.as_deref());
    if let Some(s) = subject_en {
        check_subject(v, "subject.en", s);
    }
    if let Some(s) = subject_vi {
        check_subject(v, "subject.vi", s);
    }
    if let Some(b) = body_en {
        check_body(v, "body.en", b);
    }
    if let Some(b) = body_vi {
        check_body(v, "body.vi", b);
    }
    Texts {
        subject_en,
        subject_vi,
        body_en,
        body_vi,
    }
}

impl<S: Sql, C: Clock, R: Rng, Q: WorkQueue> Sending<'_, S, C, R, Q> {
    /// `POST /admin/campaigns`: a draft, or scheduled when `scheduledAt` is
    /// given.
    pub(super) async fn create(&self, input: &ApiRequest) -> Answer {
        let claims = self.admin(input).await?;
        let body: CampaignInput = parse_json(&input.body)?;
        let now = self.clock.now_ms();
        let subject_en = body.subject.en.trim();
        let subject_vi = body.subject.vi.trim();
        let mut v = Validator::new();
        check_subject(&mut v, "subject.en", subject_en);
        check_subject(&mut v, "subject.vi", subject_vi);
        check_body(&mut v, "body.en", &body.body.en);
        check_body(&mut v, "body.vi", &body.body.vi);
        let scheduled_at = body
            .scheduled_at
            .as_deref()
            .and_then(|at| check_schedule(&mut v, at, now));
        v.finish()?;
        let id = self.rng.id()?;
        let status = if scheduled_at.is_some() {
            "scheduled"
        } else {
            "draft"
        };
        self.db
            .execute(
                &self
                    .db
                    .statement(
                        "INSERT INTO campaigns (site_id, id, subject_en, subject_vi, body_en, \
                         body_vi, status, scheduled_at, created_by, created_at, updated_at) \
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)",
                    )
                    .bind(id.as_str())
                    .bind(subject_en)
                    .bind(subject_vi)
                    .bind(body.body.en.as_str())
                    .bind(body.body.vi.as_str())
                    .bind(status)
                    .bind(scheduled_at)
                    .bind(claims.sub.as_str())
                    .bind(now),
            )
            .await?;
        Ok(ApiResponse::mutation(
            201,
            "Campaign created",
            &self.object(&id).await?,
        ))
    }

    /// `PATCH /admin/campaigns/{id}`: changes the texts given and, with
    /// `scheduledAt`, the schedule (`null` makes it a draft again). One
    /// statement, guarded by `status IN ('draft', 'scheduled')`.
    pub(super) async fn update(&self, input: &ApiRequest) -> Answer {
        self.admin(input).await?;
        let id = input.param("id").unwrap_or_default();
        let patch: CampaignPatch = parse_json(&input.body)?;
        let now = self.clock.now_ms();
        let mut v = Validator::new();
        let texts = patch_texts(&mut v, patch.subject.as_ref(), patch.body.as_ref());
        let schedule = patch
            .scheduled_at
            .as_ref()
            .map(|at| at.as_deref().and_then(|at| check_schedule(&mut v, at, now)));
        v.finish()?;
        // ?7: whether the schedule changes; ?8 the new time (NULL: a draft).
        let changed = self
            .db
            .execute(
                &self
                    .db
                    .statement(
                        "UPDATE campaigns SET \
                         subject_en = COALESCE(?3, subject_en), \
                         subject_vi = COALESCE(?4, subject_vi), \
                         body_en = COALESCE(?5, body_en), \
                         body_vi = COALESCE(?6, body_vi), \
                         scheduled_at = CASE WHEN ?7 THEN ?8 ELSE scheduled_at END, \
                         status = CASE WHEN ?7 THEN \
                           (CASE WHEN ?8 IS NULL THEN 'draft' ELSE 'scheduled' END) \
                           ELSE status END, \
                         updated_at = ?9 \
                         WHERE site_id = ?1 AND id = ?2 AND status IN ('draft', 'scheduled')",
                    )
                    .bind(id)
                    .bind(texts.subject_en)
                    .bind(texts.subject_vi)
                    .bind(texts.body_en)
                    .bind(texts.body_vi)
                    .bind(i64::from(schedule.is_some()))
                    .bind(schedule.flatten())
                    .bind(now),
            )
            .await?;
        if changed.changes == 0 {
            // Gone, or no longer editable: say which.
            self.load(id).await?.ok_or_else(not_found)?;
            return Err(ApiError::new(ErrorCode::Conflict)
                .with_message(NOT_EDITABLE_MESSAGE)
                .into());
        }
        Ok(ApiResponse::mutation(
            200,
            "Campaign updated",
            &self.object(id).await?,
        ))
    }
}
