//! Subscribers in and out as CSV (`POST /admin/subscribers/import`,
//! `GET /admin/subscribers/export`), natively against SQLite: admin only,
//! an import all or nothing and never touching an address the site has,
//! the export readable back and safe to open in a spreadsheet.
mod common;

use common::subscriptions::{Req, body, code, fields, text};
use common::{SITE, World};
use sealpost_api::ApiResponse;
use sealpost_api::routes::RouteId;
use sealpost_campaigns_core::subscribers::IMPORT_MAX;
use sealpost_guard::Role;
use sealpost_ports::Statement;
use serde_json::{Value, json};

impl World {
    fn import(&self, bearer: &str, input: &Value) -> ApiResponse {
        let mut req = Req::new(RouteId::AdminSubscribersImport).json(input);
        req.bearer = Some(bearer);
        self.serve(req)
    }

    fn export(&self, bearer: &str, query: &str) -> ApiResponse {
        let mut req = Req::new(RouteId::AdminSubscribersExport).query(query);
        req.bearer = Some(bearer);
        self.serve(req)
    }

    fn subscriber_count(&self) -> i64 {
        self.count_of("SELECT COUNT(*) FROM subscribers")
    }
}

fn consent() -> &'static str {
    "Signed up on the paper form at the 2026 book fair"
}

#[test]
fn an_import_adds_the_new_addresses_as_confirmed_with_the_consent_note() {
    let w = World::new(71);
    let admin = w.admin("root");
    let r = w.import(
        &admin,
        &json!({"csv": "email,locale\nann@example.com,vi\nbob@example.com,\n", "consent": consent()}),
    );
    assert_eq!(r.status, 200, "{}", text(&r));
    assert_eq!(body(&r)["message"], "Subscribers imported");
    assert_eq!(
        body(&r)["data"],
        json!({"imported": 2, "existing": 0, "duplicates": 0, "rejectedCount": 0, "rejected": []})
    );
    assert_eq!(w.status_of("ann@example.com"), "confirmed");
    let ann = w.row_of("ann@example.com").expect("ann");
    assert_eq!(ann["locale"], "vi");
    assert_eq!(ann["consent"], consent());
    assert_eq!(w.row_of("bob@example.com").expect("bob")["locale"], "en");
    // Nobody was emailed: they agreed elsewhere.
    assert!(w.mails("ann@example.com").is_empty());
}

#[test]
fn an_import_never_changes_an_address_the_site_has_and_running_it_twice_adds_nobody() {
    let w = World::new(72);
    let admin = w.admin("root");
    w.subscriber("gone@example.com", "en", "unsubscribed");
    w.subscribe("waiting@example.com", "en");
    let csv = "email\ngone@example.com\nwaiting@example.com\nnew@example.com\nNEW@example.com\n";
    let first = w.import(&admin, &json!({"csv": csv, "consent": consent()}));
    assert_eq!(first.status, 200, "{}", text(&first));
    let data = &body(&first)["data"];
    assert_eq!(
        (&data["imported"], &data["existing"], &data["duplicates"]),
        (&json!(1), &json!(2), &json!(1))
    );
    // An unsubscribed person stays unsubscribed; a pending one pending.
    assert_eq!(w.status_of("gone@example.com"), "unsubscribed");
    assert_eq!(w.status_of("waiting@example.com"), "pending");
    let again = w.import(&admin, &json!({"csv": csv, "consent": consent()}));
    assert_eq!(body(&again)["data"]["imported"], 0);
    assert_eq!(w.subscriber_count(), 3);
}

#[test]
fn rows_that_are_not_addresses_are_reported_by_line_and_the_rest_imported() {
    let w = World::new(73);
    let admin = w.admin("root");
    let csv =
        "name,email,locale\nAnn,ann@example.com,en\nBob,bob at example,en\nCy,cy@example.com,fr\n";
    let r = w.import(&admin, &json!({"csv": csv, "consent": consent()}));
    assert_eq!(r.status, 200, "{}", text(&r));
    let data = &body(&r)["data"];
    assert_eq!(data["imported"], 1);
    assert_eq!(data["rejectedCount"], 2);
    assert_eq!(data["rejected"][0]["line"], 3);
    assert_eq!(data["rejected"][1]["line"], 4);
    assert_eq!(w.subscriber_count(), 1);
}

#[test]
fn an_import_without_consent_an_email_column_or_within_the_row_limit_writes_nothing() {
    let w = World::new(74);
    let admin = w.admin("root");
    let bad = w.import(&admin, &json!({"csv": "name\nAnn\n", "consent": "  "}));
    assert_eq!(bad.status, 400);
    assert_eq!(fields(&bad), ["consent", "csv"]);
    let many: String = std::iter::once("email".to_owned())
        .chain((0..=IMPORT_MAX).map(|i| format!("p{i}@example.com")))
        .collect::<Vec<_>>()
        .join("\n");
    let too_many = w.import(&admin, &json!({"csv": many, "consent": consent()}));
    assert_eq!(too_many.status, 400, "{}", text(&too_many));
    assert_eq!(fields(&too_many), ["csv"]);
    let unknown = w.import(
        &admin,
        &json!({"csv": "email\n", "consent": "x", "status": "confirmed"}),
    );
    assert_eq!(unknown.status, 400);
    assert_eq!(w.subscriber_count(), 0);
}

#[test]
fn only_an_admin_with_a_second_factor_imports_or_exports() {
    let w = World::new(75);
    let editor = w.user("ed", &[Role::Editor], &["pwd", "otp"]);
    let r = w.import(
        &editor,
        &json!({"csv": "email\na@example.com\n", "consent": consent()}),
    );
    assert_eq!((r.status, code(&r)), (403, "FORBIDDEN".to_owned()));
    assert_eq!(w.export(&editor, "").status, 403);
    assert_eq!(w.subscriber_count(), 0);
}

#[test]
fn the_export_lists_every_subscriber_with_the_address_opened_and_reads_back() {
    let w = World::new(76);
    let admin = w.admin("root");
    w.confirmed_subscriber("ann@example.com", "vi");
    w.subscriber("gone@example.com", "en", "unsubscribed");
    w.import(
        &admin,
        &json!({"csv": "email\n=cmd@example.com\n", "consent": "=HYPERLINK(\"x\")"}),
    );
    let r = w.export(&admin, "");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/csv; charset=utf-8"));
    assert!(
        r.header("content-disposition")
            .is_some_and(|d| d.starts_with(&format!("attachment; filename=\"subscribers-{SITE}-")))
    );
    let csv = String::from_utf8(r.body.clone()).expect("utf-8");
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    assert_eq!(
        reader.headers().expect("header").iter().collect::<Vec<_>>(),
        [
            "email",
            "locale",
            "status",
            "created_at",
            "confirmed_at",
            "unsubscribed_at",
            "consent"
        ]
    );
    let mut rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.expect("row").iter().map(str::to_owned).collect())
        .collect();
    rows.sort();
    assert_eq!(rows.len(), 3);
    // A cell a spreadsheet would run is neutralised.
    assert_eq!(rows[0][0], "'=cmd@example.com");
    assert_eq!(rows[0][6], "'=HYPERLINK(\"x\")");
    assert_eq!(&rows[1][..3], ["ann@example.com", "vi", "confirmed"]);
    assert!(rows[1][4].ends_with('Z'));
    assert_eq!(&rows[2][..3], ["gone@example.com", "en", "unsubscribed"]);

    let confirmed = w.export(&admin, "status=confirmed");
    let text = String::from_utf8(confirmed.body).expect("utf-8");
    assert_eq!(text.lines().count(), 3, "{text}");
    let bad = w.export(&admin, "status=sent");
    assert_eq!(bad.status, 400);
}

#[test]
fn an_export_longer_than_one_read_holds_every_row_once() {
    let w = World::new(77);
    let admin = w.admin("root");
    let seeded = w.dev_seed(true, &json!({"prefix": "many", "count": 2_345}));
    assert_eq!(seeded.status, 201, "{}", text(&seeded));
    let r = w.export(&admin, "");
    let csv = String::from_utf8(r.body).expect("utf-8");
    let mut emails: Vec<&str> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap_or(""))
        .collect();
    emails.sort_unstable();
    emails.dedup();
    assert_eq!(emails.len(), 2_345);
    assert_eq!(
        w.rows(
            Statement::new("SELECT COUNT(*) AS n FROM subscribers WHERE site_id = ?1").bind(SITE)
        )[0]["n"],
        2_345
    );
}
