//! Unsubscribing: RFC 8058 one-click (urlencoded and multipart forms), the
//! token in a JSON body or the query, forged tokens, the page with its
//! one-click form, and the pending deliveries it skips; natively against
//! SQLite with a recording email provider.
mod common;

use common::subscriptions::{BROWSER, Req, body, code, fields, text};
use common::{MINUTE, SITE, World};
use sealpost_api::routes::RouteId;
use sealpost_ports::Statement;
use serde_json::json;

#[test]
fn one_click_unsubscribe_with_the_rfc_8058_form_unsubscribes() {
    let w = World::new(20);
    let id = w.confirmed_subscriber("leave@example.com", "en");
    let r = w.unsubscribe_one_click(&w.keys.unsubscribe_token(&id));
    assert_eq!(r.status, 200);
    assert_eq!(
        body(&r),
        json!({"success": true, "message": "You have been unsubscribed", "data": null})
    );
    let row = w.row_of("leave@example.com").unwrap();
    assert_eq!(row["status"], "unsubscribed");
    assert_eq!(row["unsubscribed_at"], json!(w.now()));
    // Again: still 200, nothing moves.
    w.clock.advance_ms(MINUTE);
    assert_eq!(
        w.unsubscribe_one_click(&w.keys.unsubscribe_token(&id))
            .status,
        200
    );
    assert_eq!(
        w.row_of("leave@example.com").unwrap()["unsubscribed_at"],
        row["unsubscribed_at"]
    );
}

#[test]
fn unsubscribe_takes_the_token_from_a_json_body_or_the_query_with_an_empty_body() {
    let w = World::new(21);
    let a = w.confirmed_subscriber("json@example.com", "en");
    let b = w.confirmed_subscriber("query@example.com", "en");
    let r = w.serve(
        Req::new(RouteId::Unsubscribe).json(&json!({"token": w.keys.unsubscribe_token(&a)})),
    );
    assert_eq!(r.status, 200);
    assert_eq!(w.status_of("json@example.com"), "unsubscribed");

    let q = format!("token={}", w.keys.unsubscribe_token(&b));
    let r = w.serve(Req::new(RouteId::Unsubscribe).query(&q));
    assert_eq!(r.status, 200);
    assert_eq!(w.status_of("query@example.com"), "unsubscribed");

    let r = w.serve(Req::new(RouteId::Unsubscribe).query(&q).json(&json!({})));
    assert_eq!(r.status, 200);
    let r = w.serve(Req::new(RouteId::Unsubscribe));
    assert_eq!(fields(&r), vec!["token"]);
}

#[test]
fn one_click_unsubscribe_also_takes_the_multipart_form_rfc_8058_allows() {
    let w = World::new(23);
    let a = w.confirmed_subscriber("multi@example.com", "en");
    let b = w.confirmed_subscriber("multi-bad@example.com", "en");
    let multipart = |token: &str, value: &str| {
        let q = format!("token={token}");
        let body = format!(
            "--xyz\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\n\
             {value}\r\n--xyz--\r\n"
        );
        let mut req = Req::new(RouteId::Unsubscribe).query(&q);
        req.body = body.into_bytes();
        req.content_type = Some("multipart/form-data; boundary=xyz");
        w.serve(req)
    };
    assert_eq!(
        multipart(&w.keys.unsubscribe_token(&a), "One-Click").status,
        200
    );
    assert_eq!(w.status_of("multi@example.com"), "unsubscribed");
    let r = multipart(&w.keys.unsubscribe_token(&b), "Two-Clicks");
    assert_eq!(code(&r), "VALIDATION_FAILED");
    assert_eq!(w.status_of("multi-bad@example.com"), "confirmed");
}

#[test]
fn other_form_content_on_unsubscribe_is_refused() {
    let w = World::new(22);
    let id = w.confirmed_subscriber("stay@example.com", "en");
    let q = format!("token={}", w.keys.unsubscribe_token(&id));
    for form in [
        "List-Unsubscribe=Two-Clicks",
        "List-Unsubscribe=One-Click&x=1",
        "foo=bar",
    ] {
        let r = w.serve(Req::new(RouteId::Unsubscribe).query(&q).form(form));
        assert_eq!(code(&r), "VALIDATION_FAILED", "{form}");
    }
    assert_eq!(w.status_of("stay@example.com"), "confirmed");
}

#[test]
fn forged_unsubscribe_tokens_are_refused() {
    let w = World::new(23);
    let id = w.confirmed_subscriber("victim@example.com", "en");
    let genuine = w.keys.unsubscribe_token(&id);
    let (_, tag) = genuine.split_once('.').unwrap();
    for forged in [
        format!("{id}.{}", "A".repeat(tag.len())),
        format!("{}.{tag}", "0".repeat(32)),
        id.clone(),
        "garbage".to_owned(),
    ] {
        let r = w.unsubscribe_one_click(&forged);
        assert_eq!(
            (r.status, code(&r)),
            (400, "TOKEN_INVALID".to_owned()),
            "{forged}"
        );
        let q = format!("token={forged}");
        assert_eq!(
            w.serve(Req::new(RouteId::UnsubscribePage).query(&q)).status,
            400
        );
    }
    assert_eq!(w.status_of("victim@example.com"), "confirmed");
}

#[test]
fn opening_the_unsubscribe_page_changes_nothing_and_shows_a_one_click_form() {
    let w = World::new(24);
    let id = w.confirmed_subscriber("look@example.com", "en");
    let before = w.row_of("look@example.com").unwrap();
    let token = w.keys.unsubscribe_token(&id);
    let q = format!("token={token}");
    let r = w.serve(Req::new(RouteId::UnsubscribePage).query(&q));
    assert_eq!(r.status, 200);
    let html = text(&r);
    assert!(html.contains(&format!(
        "<form method=\"post\" action=\"/unsubscribe?token={token}\">"
    )));
    assert!(html.contains("name=\"List-Unsubscribe\" value=\"One-Click\""));
    assert_eq!(w.row_of("look@example.com").unwrap(), before);

    // The button's browser POST gets a page back.
    let mut req = Req::new(RouteId::Unsubscribe)
        .query(&q)
        .form("List-Unsubscribe=One-Click");
    req.accept = Some(BROWSER);
    let r = w.serve(req);
    assert_eq!(r.status, 200);
    assert!(text(&r).contains("You have been unsubscribed"));
    assert_eq!(w.status_of("look@example.com"), "unsubscribed");
}

#[test]
fn a_genuine_token_of_an_unknown_subscriber_still_answers_200() {
    let w = World::new(25);
    let r = w.unsubscribe_one_click(&w.keys.unsubscribe_token(&"ab".repeat(16)));
    assert_eq!(r.status, 200);
}

#[test]
fn unsubscribing_skips_the_subscribers_pending_deliveries_only() {
    let w = World::new(26);
    let leaving = w.confirmed_subscriber("mid@example.com", "en");
    let staying = w.confirmed_subscriber("rest@example.com", "en");
    let running = w.campaign("sending");
    let earlier = w.campaign("sending");
    for (campaign, subscriber, status) in [
        (&running, &leaving, "pending"),
        (&running, &staying, "pending"),
        (&earlier, &leaving, "sent"),
    ] {
        w.sql(
            Statement::new(
                "INSERT INTO campaign_deliveries (site_id, campaign_id, subscriber_id, status) \
                 VALUES (?1, ?2, ?3, ?4)",
            )
            .bind(SITE)
            .bind(campaign.as_str())
            .bind(subscriber.as_str())
            .bind(status),
        );
    }
    assert_eq!(
        w.unsubscribe_one_click(&w.keys.unsubscribe_token(&leaving))
            .status,
        200
    );
    assert_eq!(w.ledger(&running)[&leaving], "skipped");
    assert_eq!(w.ledger(&running)[&staying], "pending");
    assert_eq!(w.ledger(&earlier)[&leaving], "sent");
}
