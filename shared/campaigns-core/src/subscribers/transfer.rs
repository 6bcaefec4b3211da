//! Subscribers in and out as CSV (RFC 4180, through the `csv` crate), for
//! admins: `GET /admin/subscribers/export` writes every subscriber of the
//! site (or of one status) with the address opened; `POST
//! /admin/subscribers/import` adds people who already agreed elsewhere, as
//! confirmed, with the admin's note of that consent.
//!
//! An import is all or nothing: at most [`IMPORT_MAX`] rows, written in ONE
//! D1 batch (one transaction), `INSERT OR IGNORE` on the blind index, so an
//! address the site already has is left exactly as it is — above all, a
//! person who unsubscribed is never subscribed again by an import — and
//! importing the same file twice adds nobody the second time. Rows that are
//! not addresses are reported by line and nothing of them is written.
//!
//! An export cell that a spreadsheet would run as a formula (starting with
//! `=`, `+`, `-`, `@`, a tab or a carriage return) is prefixed with `'`
//! (OWASP's advice against CSV injection).
use sealpost_api::body::parse_json;
use sealpost_api::subscribers::{ImportInput, ImportReport, RejectedRow};
use sealpost_api::{ApiError, ApiRequest, ApiResponse, Email, Locale, Validator};
use sealpost_guard::{Role, live_caller, require_staff};
use sealpost_ports::{Clock, RateLimiter, Rng, Sql, SqlValue, rfc3339};
use serde::Deserialize;
use std::collections::HashSet;

use super::{Answer, Failure, Subscriptions};
use crate::model::STATUSES;
use crate::ports::{Mailer, Turnstile};
use crate::rate::Pause;

/// Most rows one import takes (one D1 transaction).
pub const IMPORT_MAX: usize = 1_000;
/// Longest consent note, in characters.
pub const CONSENT_MAX: usize = 500;
/// Most subscribers one export writes.
pub const EXPORT_MAX: i64 = 50_000;
/// Rows read (and opened) per export query.
const EXPORT_CHUNK: usize = 1_000;
/// Rejected rows an import's answer lists at most.
const REJECTED_LISTED: usize = 100;

#[derive(Deserialize)]
struct ExportRow {
    id: String,
    email_sealed: String,
    locale: String,
    status: String,
    created_at: i64,
    confirmed_at: Option<i64>,
    unsubscribed_at: Option<i64>,
    consent: Option<String>,
}

#[derive(Deserialize)]
struct Count {
    n: i64,
}

/// `cell` safe to open in a spreadsheet (see the module documentation).
pub fn neutralised(cell: &str) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell.to_owned()
    }
}

/// The addresses of an import's CSV: a header row naming an `email`
/// column (and optionally `locale`, `en` when absent or empty), then one
/// person per row. Returns the valid rows, each address once, and what was
/// left out.
fn read_rows(
    csv_text: &str,
    v: &mut Validator,
) -> (Vec<(Email, Locale)>, u64, u64, Vec<RejectedRow>) {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(csv_text.as_bytes());
    let header: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(str::to_ascii_lowercase).collect(),
        Err(e) => {
            v.add("csv", format!("Must be CSV: {e}"));
            return (Vec::new(), 0, 0, Vec::new());
        }
    };
    let Some(email_at) = header.iter().position(|h| h == "email") else {
        v.add("csv", "Must have a header row with an email column");
        return (Vec::new(), 0, 0, Vec::new());
    };
    let locale_at = header.iter().position(|h| h == "locale");
    let (mut rows, mut seen) = (Vec::new(), HashSet::new());
    let (mut duplicates, mut rejected_count, mut rejected) = (0, 0, Vec::new());
    let mut reject = |line: u64, reason: String| {
        rejected_count += 1;
        if rejected.len() < REJECTED_LISTED {
            rejected.push(RejectedRow { line, reason });
        }
    };
    for (i, record) in reader.records().enumerate() {
        // Line numbers as a spreadsheet shows them: the header is line 1.
        let line = record
            .as_ref()
            .ok()
            .and_then(|r| r.position())
            .map_or(i as u64 + 2, csv::Position::line);
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                reject(line, format!("Not a CSV row: {e}"));
                continue;
            }
        };
        let raw = record.get(email_at).unwrap_or_default();
        if record.iter().all(str::is_empty) {
            continue;
        }
        let email = match Email::parse(raw) {
            Ok(e) => e,
            Err(why) => {
                reject(line, format!("email: {}", why.message()));
                continue;
            }
        };
        let locale = match locale_at.and_then(|at| record.get(at)).unwrap_or_default() {
            "" => Locale::En,
            l => match Locale::parse(l) {
                Some(l) => l,
                None => {
                    reject(line, "locale: Must be en or vi".to_owned());
                    continue;
                }
            },
        };
        if !seen.insert(email.as_str().to_owned()) {
            duplicates += 1;
            continue;
        }
        rows.push((email, locale));
    }
    if rows.len() > IMPORT_MAX {
        v.add(
            "csv",
            format!("Must have at most {IMPORT_MAX} people; split the file"),
        );
    }
    (rows, duplicates, rejected_count, rejected)
}

impl<S: Sql, C: Clock, R: Rng, L: RateLimiter, T: Turnstile, M: Mailer, P: Pause>
    Subscriptions<'_, S, C, R, L, T, M, P>
{
    async fn require_admin(&self, input: &ApiRequest) -> Result<(), Failure> {
        let claims =
            live_caller(self.verifier, input.authorization(), &self.db, self.clock).await?;
        require_staff(&claims, Role::Admin)?;
        Ok(())
    }

    /// `POST /admin/subscribers/import` `{csv, consent}` → 200 with what it
    /// did; 400 on `csv` or `consent` with nothing written.
    pub(super) async fn import(&self, input: &ApiRequest) -> Answer {
        self.require_admin(input).await?;
        let body: ImportInput = parse_json(&input.body)?;
        let consent = body.consent.trim();
        let mut v = Validator::new();
        v.text_len("consent", consent, 1, CONSENT_MAX);
        let (rows, duplicates, rejected_count, rejected) = read_rows(&body.csv, &mut v);
        v.finish()?;
        let now = self.clock.now_ms();
        let statements = self.confirmed_inserts(&rows, Some(consent), now)?;
        let imported = self.insert_batch(&statements).await?;
        let answer = ImportReport {
            imported,
            existing: rows.len() as u64 - imported,
            duplicates,
            rejected_count,
            rejected,
        };
        Ok(ApiResponse::mutation(200, "Subscribers imported", &answer))
    }

    /// `GET /admin/subscribers/export?status` → 200 `text/csv`, oldest
    /// first: `email,locale,status,created_at,confirmed_at,unsubscribed_at,consent`.
    pub(super) async fn export(&self, input: &ApiRequest) -> Answer {
        self.require_admin(input).await?;
        let status = input.query.get_nonblank("status");
        let mut v = Validator::new();
        if let Some(s) = status {
            v.one_of("status", s, &STATUSES);
        }
        v.finish()?;
        let (filter, mut binds) = match status {
            Some(s) => (" AND status = ?2", vec![SqlValue::from(s)]),
            None => ("", Vec::new()),
        };
        let count: Option<Count> = self
            .db
            .query_one(&binds.iter().cloned().fold(
                self.db.statement(&format!(
                    "SELECT COUNT(*) AS n FROM subscribers WHERE site_id = ?1{filter}"
                )),
                sealpost_ports::Statement::bind,
            ))
            .await?;
        if count.map_or(0, |c| c.n) > EXPORT_MAX {
            return Err(ApiError::field(
                "status",
                format!("More than {EXPORT_MAX} subscribers: export one status at a time"),
            )
            .into());
        }
        let mut out = csv::Writer::from_writer(Vec::new());
        let header = [
            "email",
            "locale",
            "status",
            "created_at",
            "confirmed_at",
            "unsubscribed_at",
            "consent",
        ];
        out.write_record(header).map_err(csv_failure)?;
        let after_at = binds.len() + 2;
        binds.push(SqlValue::from(""));
        loop {
            let stmt = binds.iter().cloned().fold(
                self.db.statement(&format!(
                    "SELECT id, email_sealed, locale, status, created_at, confirmed_at, \
                     unsubscribed_at, consent FROM subscribers WHERE site_id = ?1{filter} \
                     AND id > ?{after_at} ORDER BY id LIMIT {EXPORT_CHUNK}"
                )),
                sealpost_ports::Statement::bind,
            );
            let rows: Vec<ExportRow> = self.db.query_as(&stmt).await?;
            for r in &rows {
                let email = self
                    .keys
                    .open_email(self.site(), &r.id, &r.email_sealed)
                    .unwrap_or_default();
                let time = |ms: Option<i64>| ms.map(rfc3339).unwrap_or_default();
                out.write_record([
                    neutralised(&email),
                    r.locale.clone(),
                    r.status.clone(),
                    rfc3339(r.created_at),
                    time(r.confirmed_at),
                    time(r.unsubscribed_at),
                    neutralised(r.consent.as_deref().unwrap_or_default()),
                ])
                .map_err(csv_failure)?;
            }
            match rows.last() {
                Some(last) if rows.len() == EXPORT_CHUNK => {
                    if let Some(after) = binds.last_mut() {
                        *after = SqlValue::from(last.id.as_str());
                    }
                }
                _ => break,
            }
        }
        let body = out.into_inner().map_err(|e| csv_failure(e.into_error()))?;
        let name = format!(
            "subscribers-{}-{}.csv",
            self.site(),
            rfc3339(self.clock.now_ms()).get(..10).unwrap_or_default()
        );
        Ok(ApiResponse {
            status: 200,
            headers: vec![
                (
                    "content-type".to_owned(),
                    "text/csv; charset=utf-8".to_owned(),
                ),
                (
                    "content-disposition".to_owned(),
                    format!("attachment; filename=\"{name}\""),
                ),
                ("cache-control".to_owned(), "no-store".to_owned()),
            ],
            body,
        })
    }
}

/// Writing CSV into memory fails only on a bug.
fn csv_failure(e: impl std::fmt::Display) -> Failure {
    Failure::Codec(format!("writing the CSV export: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cell_a_spreadsheet_would_run_is_neutralised() {
        assert_eq!(neutralised("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(neutralised("+1"), "'+1");
        assert_eq!(neutralised("ann@example.com"), "ann@example.com");
    }

    #[test]
    fn rows_are_read_by_their_header_deduplicated_and_refused_by_line() {
        let mut v = Validator::new();
        let csv = "Name,EMAIL,locale\nAnn,ann@example.com,vi\nBob,not-an-address,en\n\
                   Ann again,ANN@example.com,en\nCy,cy@example.com,\nDee,dee@example.com,fr\n";
        let (rows, duplicates, rejected_count, rejected) = read_rows(csv, &mut v);
        assert!(v.is_empty());
        let got: Vec<(&str, Locale)> = rows.iter().map(|(e, l)| (e.as_str(), *l)).collect();
        assert_eq!(
            got,
            [
                ("ann@example.com", Locale::Vi),
                ("cy@example.com", Locale::En)
            ]
        );
        assert_eq!(duplicates, 1);
        assert_eq!(rejected_count, 2);
        assert_eq!(rejected[0].line, 3);
        assert!(rejected[0].reason.starts_with("email:"));
        assert_eq!(rejected[1].line, 6);
    }

    #[test]
    fn a_file_without_an_email_column_is_refused() {
        let mut v = Validator::new();
        read_rows("name\nAnn\n", &mut v);
        assert_eq!(v.errors()[0].field, "csv");
    }
}
