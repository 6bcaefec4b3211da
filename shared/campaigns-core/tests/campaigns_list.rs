//! The campaigns list an admin browses: newest first, with live delivery
//! counts and without bodies, filtered by status, paged; natively against
//! SQLite.
mod common;

use common::sending::valid_campaign;
use common::{SECOND, World};
use sealpost_guard::Role;
use serde_json::{Value, json};

fn created(w: &World, admin: &str, subject: &str) -> String {
    let mut body = valid_campaign();
    body["subject"]["en"] = json!(subject);
    let r = w.create(admin, &body);
    assert_eq!(r.status, 201, "{}", r.body);
    r.body["data"]["id"].as_str().expect("id").to_owned()
}

fn ids(list: &Value) -> Vec<&str> {
    list["data"]
        .as_array()
        .expect("data[]")
        .iter()
        .map(|c| c["id"].as_str().unwrap_or_default())
        .collect()
}

#[test]
fn the_list_shows_the_newest_campaign_first_with_its_counts_and_no_bodies() {
    let w = World::new(31);
    let admin = w.admin("admin");
    w.confirmed("reader", "example.com", 3);
    let older = created(&w, &admin, "Older news");
    w.clock.advance_ms(10 * SECOND);
    let newer = created(&w, &admin, "Newer news");
    assert_eq!(w.send(&admin, &newer).status, 202);

    let r = w.list(&admin, "");
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(ids(&r.body), [newer.as_str(), older.as_str()]);
    let first = &r.body["data"][0];
    assert_eq!(first["subject"]["en"], "Newer news");
    assert_eq!(first["status"], "sending");
    assert_eq!(first["counts"]["total"], 3);
    assert_eq!(first.get("body"), None, "a list item carries no body");
    assert_eq!(r.body["data"][1]["counts"]["total"], 0);
    assert_eq!(r.body["pagination"]["totalItems"], 2);
}

#[test]
fn the_list_filters_by_status_and_pages() {
    let w = World::new(32);
    let admin = w.admin("admin");
    let mut drafts = Vec::new();
    for i in 0..3 {
        drafts.push(created(&w, &admin, &format!("Draft {i}")));
        w.clock.advance_ms(SECOND);
    }
    // With nobody subscribed, a send is done at once.
    let sent = drafts.pop().expect("a draft");
    assert_eq!(w.send(&admin, &sent).status, 202);

    let r = w.list(&admin, "status=draft&pageSize=1&page=2");
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(ids(&r.body), [drafts[0].as_str()]);
    assert_eq!(r.body["pagination"]["totalItems"], 2);
    assert_eq!(ids(&w.list(&admin, "status=sent").body), [sent.as_str()]);
    assert!(ids(&w.list(&admin, "status=scheduled").body).is_empty());
}

#[test]
fn an_unknown_status_is_a_validation_error_on_status() {
    let w = World::new(33);
    let admin = w.admin("admin");
    let r = w.list(&admin, "status=archived");
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.body["errors"][0]["field"], "status");
}

#[test]
fn only_an_admin_with_a_second_factor_lists_campaigns() {
    let w = World::new(34);
    let editor = w.user("ed", &[Role::Editor], &["pwd", "otp"]);
    assert_eq!(w.list(&editor, "").status, 403);
    let no_otp = w.user("adm", &[Role::Admin], &["pwd"]);
    assert_eq!(w.list(&no_otp, "").status, 403);
}
