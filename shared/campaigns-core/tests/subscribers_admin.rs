//! The admins' subscriber list (`GET /admin/subscribers`: access, decrypted
//! addresses, filters, paging, the substring-search cap) and the dev
//! seeding route (`POST /__dev/subscribers`), natively against SQLite.
mod common;

use common::subscriptions::{body, code, fields};
use common::{SITE, World};
use sealpost_guard::Role;
use sealpost_ports::Statement;
use serde_json::{Value, json};

// ---- GET /admin/subscribers ----------------------------------------------------

#[test]
fn the_admin_list_needs_an_admin_with_a_second_factor() {
    let w = World::new(30);
    let r = w.admin_list(None, "");
    assert_eq!((r.status, code(&r)), (401, "AUTH_REQUIRED".to_owned()));
    let editor = w.user("ed", &[Role::Editor], &["pwd", "otp"]);
    assert_eq!(w.admin_list(Some(&editor), "").status, 403);
    let no_otp = w.user("nootp", &[Role::Admin], &["pwd"]);
    assert_eq!(w.admin_list(Some(&no_otp), "").status, 403);
    let admin = w.admin("root");
    assert_eq!(w.admin_list(Some(&admin), "").status, 200);
}

#[test]
fn the_admin_list_shows_decrypted_addresses_newest_first_with_filters_and_paging() {
    let w = World::new(31);
    let admin = w.admin("root");
    let first = w.confirmed_subscriber("first@alpha.test", "en");
    w.clock.advance_ms(1000);
    w.subscribe("second@beta.test", "vi");
    w.clock.advance_ms(1000);
    w.subscriber("third@alpha.test", "en", "unsubscribed");

    let r = w.admin_list(Some(&admin), "");
    assert_eq!(r.status, 200);
    let b = body(&r);
    let emails: Vec<&str> = b["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["email"].as_str().unwrap())
        .collect();
    assert_eq!(
        emails,
        vec!["third@alpha.test", "second@beta.test", "first@alpha.test"]
    );
    assert_eq!(
        b["pagination"],
        json!({"page": 1, "pageSize": 20, "totalItems": 3, "totalPages": 1})
    );
    let item = &b["data"][2];
    assert_eq!(item["id"], json!(first));
    assert_eq!(item["locale"], "en");
    assert_eq!(item["status"], "confirmed");
    assert!(item["createdAt"].as_str().unwrap().ends_with('Z'));
    assert!(item["confirmedAt"].is_string());
    assert_eq!(b["data"][1]["confirmedAt"], Value::Null);
    let keys: Vec<&String> = item.as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 6);

    let only = |q: &str| -> Vec<String> {
        body(&w.admin_list(Some(&admin), q))["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["email"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(only("status=pending"), vec!["second@beta.test"]);
    assert_eq!(only("status=confirmed"), vec!["first@alpha.test"]);
    assert_eq!(only("pageSize=1&page=2"), vec!["second@beta.test"]);
    // Search: a full address (any case) exactly, a part by substring.
    assert_eq!(only("q=FIRST@alpha.test"), vec!["first@alpha.test"]);
    assert_eq!(
        only("q=first@alpha.test&status=pending"),
        Vec::<String>::new()
    );
    assert_eq!(
        only("q=ALPHA"),
        vec!["third@alpha.test", "first@alpha.test"]
    );
    assert_eq!(
        only("q=alpha&status=unsubscribed"),
        vec!["third@alpha.test"]
    );
    assert_eq!(only("q=alpha&pageSize=1&page=2"), vec!["first@alpha.test"]);
    assert_eq!(only("q=nobody"), Vec::<String>::new());
    let r = w.admin_list(Some(&admin), "q=alpha&pageSize=1");
    assert_eq!(body(&r)["pagination"]["totalItems"], 2);
    assert_eq!(body(&r)["pagination"]["totalPages"], 2);
}

#[test]
fn bad_admin_list_parameters_are_validation_errors() {
    let w = World::new(32);
    let admin = w.admin("root");
    let r = w.admin_list(Some(&admin), "status=sent&page=0&pageSize=101");
    assert_eq!(code(&r), "VALIDATION_FAILED");
    assert_eq!(fields(&r), vec!["page", "pageSize", "status"]);
    let q = format!("q={}", "a".repeat(255));
    assert_eq!(fields(&w.admin_list(Some(&admin), &q)), vec!["q"]);
    // Unknown parameters are ignored.
    assert_eq!(w.admin_list(Some(&admin), "sort=email").status, 200);
}

#[test]
fn a_substring_search_over_more_than_20000_subscribers_asks_for_a_full_address() {
    let w = World::new(33);
    let admin = w.admin("root");
    // 20,001 rows straight into the table (their sealed addresses are
    // placeholders: the search must refuse before decrypting any).
    w.sql(
        Statement::new(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20001) \
             INSERT INTO subscribers (site_id, id, email_index, email_sealed, locale, status, \
             confirm_nonce, created_at, updated_at) \
             SELECT ?1, printf('%032x', i), printf('idx%d', i), 'x', 'en', \
             CASE WHEN i % 2 = 0 THEN 'confirmed' ELSE 'pending' END, 'n', i, i FROM n",
        )
        .bind(SITE),
    );
    let r = w.admin_list(Some(&admin), "q=example");
    assert_eq!(code(&r), "VALIDATION_FAILED");
    assert_eq!(fields(&r), vec!["q"]);
    assert!(
        body(&r)["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("full address")
    );
    // Narrowed by status to 10,000 rows, the search runs.
    let r = w.admin_list(Some(&admin), "q=example&status=confirmed");
    assert_eq!(r.status, 200);
    assert_eq!(body(&r)["pagination"]["totalItems"], 0);
    // A full address is an index lookup at any size.
    let r = w.admin_list(Some(&admin), "q=someone@example.com");
    assert_eq!(r.status, 200);
}

// ---- POST /__dev/subscribers -----------------------------------------------------

#[test]
fn dev_seeding_creates_confirmed_subscribers_only_in_dev_mode() {
    let w = World::new(40);
    let r = w.dev_seed(false, &json!({"prefix": "bench", "count": 3}));
    assert_eq!((r.status, code(&r)), (404, "NOT_FOUND".to_owned()));
    assert_eq!(w.count_of("SELECT COUNT(*) FROM subscribers"), 0);

    let r = w.dev_seed(
        true,
        &json!({"prefix": "bench", "count": 60, "locale": "vi", "domain": "Scn-1.test"}),
    );
    assert_eq!(r.status, 201);
    assert_eq!(
        body(&r),
        json!({"success": true, "message": "Subscribers created", "data": {"created": 60}})
    );
    assert_eq!(
        w.count_of("SELECT COUNT(*) FROM subscribers WHERE status = 'confirmed' AND locale = 'vi' AND confirmed_at IS NOT NULL"),
        60
    );
    let row = w.row_of("bench-59@scn-1.test").expect("normalised address");
    let id = row["id"].as_str().unwrap();
    assert_eq!(
        w.keys
            .open_email(SITE, id, row["email_sealed"].as_str().unwrap())
            .as_deref(),
        Some("bench-59@scn-1.test")
    );
    // Again: nothing new.
    let r = w.dev_seed(
        true,
        &json!({"prefix": "bench", "count": 61, "domain": "scn-1.test"}),
    );
    assert_eq!(body(&r)["data"]["created"], 1);
}

#[test]
fn dev_seeding_validates_its_body() {
    let w = World::new(41);
    let r = w.dev_seed(
        true,
        &json!({"prefix": "", "count": 0, "locale": "fr", "domain": "nodot"}),
    );
    assert_eq!(fields(&r), vec!["domain", "prefix", "count", "locale"]);
    let r = w.dev_seed(true, &json!({"prefix": "a b", "count": 1}));
    assert_eq!(fields(&r), vec!["prefix"]);
    let r = w.dev_seed(true, &json!({"prefix": "a", "count": 20001}));
    assert_eq!(fields(&r), vec!["count"]);
    let r = w.dev_seed(true, &json!({"prefix": "a", "count": 1, "extra": true}));
    assert_eq!(fields(&r), vec!["extra"]);
}
