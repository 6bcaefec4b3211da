//! Subscribing with double opt-in: `POST /subscribe` (one answer whatever
//! the address's state, the bot check, the per-IP throttle, validation, the
//! sealed address), the confirmation email, link and page, resubscribing,
//! and the per-address email budget; natively against SQLite with the dev
//! Turnstile and a recording email provider.
mod common;

use common::subscriptions::{
    BROWSER, CONFIRM_PREFIX, IP, Req, UNSUB_PREFIX, body, code, fields, link_token, text,
};
use common::{MINUTE, SITE, World};
use sealpost_api::ApiResponse;
use sealpost_api::routes::RouteId;
use sealpost_campaigns_core::keys::CONFIRM_TTL_MS;
use sealpost_campaigns_core::ports::DEV_PASS;
use serde_json::{Value, json};

#[test]
fn every_accepted_subscribe_gets_the_same_202_whatever_the_address_state() {
    let w = World::new(1);
    w.subscriber("confirmed@example.com", "en", "confirmed");
    w.subscriber("gone@example.com", "vi", "unsubscribed");
    w.subscriber("waiting@example.com", "en", "pending");
    let answers: Vec<ApiResponse> = [
        "new@example.com",
        "waiting@example.com",
        "confirmed@example.com",
        "gone@example.com",
    ]
    .iter()
    .map(|e| w.subscribe(e, "en"))
    .collect();
    for a in &answers {
        assert_eq!(a.status, 202);
        assert_eq!(a.headers, answers[0].headers);
        assert_eq!(a.body, answers[0].body, "byte-identical answers");
    }
    assert_eq!(
        body(&answers[0]),
        json!({"success": true, "message": "Check your inbox to confirm your subscription", "data": null})
    );
    // Each got exactly one email.
    for e in [
        "new@example.com",
        "waiting@example.com",
        "confirmed@example.com",
        "gone@example.com",
    ] {
        assert_eq!(w.mails(e).len(), 1, "{e}");
    }
}

#[test]
fn a_failed_bot_check_is_refused_and_stores_nothing() {
    let w = World::new(2);
    let r = w.serve(Req::new(RouteId::Subscribe).json(&json!({
        "email": "bot@example.com", "locale": "en", "turnstileToken": "dev-fail"
    })));
    assert_eq!(r.status, 400);
    assert_eq!(code(&r), "TURNSTILE_FAILED");
    assert!(w.row_of("bot@example.com").is_none());
    assert_eq!(w.mailer.calls.get(), 0);
}

#[test]
fn too_many_subscribes_from_one_ip_are_throttled_with_retry_after() {
    let w = World::new(3);
    // The world's limiter allows 5 a minute per IP.
    for i in 0..5 {
        let r = w.subscribe_from(IP, &format!("p{i}@example.com"), "en");
        assert_eq!(r.status, 202, "request {i}");
    }
    let r = w.subscribe_from(IP, "p5@example.com", "en");
    assert_eq!(r.status, 429);
    assert_eq!(code(&r), "RATE_LIMITED");
    assert_eq!(r.header("retry-after"), Some("60"));
    assert!(w.row_of("p5@example.com").is_none(), "nothing stored");
    // Another visitor is not affected, and the next minute is open again.
    assert_eq!(
        w.subscribe_from("192.0.2.1", "q@example.com", "en").status,
        202
    );
    w.clock.advance_ms(MINUTE);
    assert_eq!(w.subscribe_from(IP, "p5@example.com", "en").status, 202);
}

#[test]
fn invalid_subscribe_bodies_name_every_bad_field() {
    let w = World::new(4);
    let r = w.serve(Req::new(RouteId::Subscribe).json(&json!({
        "email": "not an address", "locale": "fr", "turnstileToken": ""
    })));
    assert_eq!(r.status, 400);
    assert_eq!(code(&r), "VALIDATION_FAILED");
    assert_eq!(fields(&r), vec!["email", "locale", "turnstileToken"]);

    let long = format!("{}@example.com", "a".repeat(250));
    let r = w.serve(Req::new(RouteId::Subscribe).json(&json!({
        "email": long, "locale": "en", "turnstileToken": "x".repeat(2049)
    })));
    assert_eq!(fields(&r), vec!["email", "turnstileToken"]);

    let r = w.serve(Req::new(RouteId::Subscribe).json(&json!({
        "email": "a@example.com", "locale": "en", "turnstileToken": DEV_PASS, "name": "A"
    })));
    assert_eq!(code(&r), "VALIDATION_FAILED");
    assert_eq!(fields(&r), vec!["name"]);

    let r = w.serve(Req::new(RouteId::Subscribe).json(&json!({"email": "a@example.com"})));
    assert_eq!(code(&r), "VALIDATION_FAILED");
    assert_eq!(w.count_of("SELECT COUNT(*) FROM subscribers"), 0);
    assert_eq!(w.mailer.calls.get(), 0);
}

#[test]
fn the_stored_subscriber_holds_no_plaintext_address() {
    let w = World::new(5);
    assert_eq!(
        w.subscribe("  Secret.Person@Example.org ", "vi").status,
        202
    );
    let row = w
        .row_of("secret.person@example.org")
        .expect("stored under the normalised address");
    let dump = row.to_string().to_lowercase();
    assert!(!dump.contains("secret"), "{dump}");
    assert!(!dump.contains("example.org"), "{dump}");
    let id = row["id"].as_str().unwrap();
    let sealed = row["email_sealed"].as_str().unwrap();
    assert_eq!(
        w.keys.open_email(SITE, id, sealed).as_deref(),
        Some("secret.person@example.org")
    );
    assert_eq!(row["status"], "pending");
    assert_eq!(row["locale"], "vi");
    assert_eq!(row["confirmed_at"], Value::Null);
}

#[test]
fn the_confirmation_email_carries_a_link_that_confirms_the_subscription() {
    let w = World::new(6);
    assert_eq!(w.subscribe("ann@example.com", "en").status, 202);
    let mails = w.mails("ann@example.com");
    assert_eq!(mails.len(), 1);
    let mail = &mails[0];
    assert_eq!(mail.subject, "Confirm your subscription");
    assert!(
        mail.html
            .contains("href=\"https://news.example.com/subscribe/confirm?token=")
    );
    let token = link_token(&mail.text, CONFIRM_PREFIX);

    // The page shows a form posting the token; the button's POST confirms.
    let page = w.confirm_page(&token);
    assert_eq!(page.status, 200);
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    let html = text(&page);
    assert!(html.contains("<form method=\"post\" action=\"/subscribe/confirm\">"));
    assert!(html.contains(&format!("name=\"token\" value=\"{token}\"")));

    let r = w.confirm_json(&token);
    assert_eq!(r.status, 200);
    assert_eq!(
        body(&r),
        json!({"success": true, "message": "Subscription confirmed", "data": {"status": "confirmed"}})
    );
    let row = w.row_of("ann@example.com").unwrap();
    assert_eq!(row["status"], "confirmed");
    assert_eq!(row["confirmed_at"], json!(w.now()));
    // A second click is fine.
    assert_eq!(w.confirm_json(&token).status, 200);
    assert_eq!(w.status_of("ann@example.com"), "confirmed");
}

#[test]
fn a_vietnamese_subscriber_gets_the_vietnamese_email() {
    let w = World::new(7);
    w.subscribe("binh@example.com", "vi");
    let mail = &w.mails("binh@example.com")[0];
    assert_eq!(mail.subject, "Xác nhận đăng ký nhận bản tin");
    assert!(mail.html.contains("lang=\"vi\""));
}

#[test]
fn opening_the_confirmation_page_changes_nothing() {
    let w = World::new(8);
    w.subscribe("scanner@example.com", "en");
    let before = w.row_of("scanner@example.com").unwrap();
    let token = w.confirm_token("scanner@example.com");
    for _ in 0..3 {
        assert_eq!(w.confirm_page(&token).status, 200);
    }
    assert_eq!(w.row_of("scanner@example.com").unwrap(), before);
    assert_eq!(before["status"], "pending");
}

#[test]
fn the_confirmation_page_wears_the_sites_name_and_stylesheet_under_a_policy_without_scripts() {
    let w = World::new(11);
    w.db.exec_raw("UPDATE sites SET name = 'Sổ tay Lan' WHERE id = 'default'");
    w.subscribe("look@example.com", "vi");
    let r = w.confirm_page(&w.confirm_token("look@example.com"));
    assert_eq!(r.status, 200);
    let html = text(&r);
    assert!(html.contains(">Sổ tay Lan</a>"), "{html}");
    let css = sealpost_site_assets::url(sealpost_site_assets::STYLESHEET).unwrap();
    assert!(html.contains(&format!("href=\"{css}\"")), "{html}");
    let csp = r.header("content-security-policy").unwrap();
    assert!(csp.contains("style-src 'self'") && csp.contains("frame-ancestors 'none'"));
    assert!(!csp.contains("script-src") && csp.starts_with("default-src 'none'"));
}

#[test]
fn a_browser_form_confirmation_gets_an_html_page() {
    let w = World::new(9);
    w.subscribe("form@example.com", "en");
    let token = w.confirm_token("form@example.com");
    let mut req = Req::new(RouteId::SubscribeConfirm).form(&format!("token={token}"));
    req.accept = Some(BROWSER);
    let r = w.serve(req);
    assert_eq!(r.status, 200);
    assert!(text(&r).contains("Subscription confirmed"));
    assert_eq!(w.status_of("form@example.com"), "confirmed");
    // A form without Accept: text/html gets JSON.
    let r = w.serve(Req::new(RouteId::SubscribeConfirm).form(&format!("token={token}")));
    assert_eq!(body(&r)["data"]["status"], "confirmed");
}

#[test]
fn expired_and_tampered_confirmation_links_are_refused() {
    let w = World::new(10);
    w.subscribe("late@example.com", "en");
    let token = w.confirm_token("late@example.com");

    let mut tampered = token.clone().into_bytes();
    let last = tampered.len() - 1;
    tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    let r = w.confirm_json(&tampered);
    assert_eq!((r.status, code(&r)), (400, "TOKEN_INVALID".to_owned()));
    assert_eq!(w.confirm_page(&tampered).status, 400);
    assert_eq!(w.confirm_page("").status, 400);
    let missing = w.serve(Req::new(RouteId::SubscribeConfirmPage));
    assert_eq!(missing.status, 400);
    assert!(text(&missing).contains("Invalid or expired link"));

    w.clock.advance_ms(CONFIRM_TTL_MS + 1);
    let r = w.confirm_json(&token);
    assert_eq!((r.status, code(&r)), (400, "TOKEN_INVALID".to_owned()));
    assert_eq!(w.confirm_page(&token).status, 400);
    assert_eq!(w.status_of("late@example.com"), "pending");
}

#[test]
fn a_confirmation_without_a_token_names_the_field() {
    let w = World::new(11);
    let r = w.serve(Req::new(RouteId::SubscribeConfirm));
    assert_eq!(fields(&r), vec!["token"]);
    let r = w.serve(Req::new(RouteId::SubscribeConfirm).json(&json!({"token": "x", "more": 1})));
    assert_eq!(fields(&r), vec!["more"]);
    let r = w.serve(Req::new(RouteId::SubscribeConfirm).form("token=x&more=1"));
    assert_eq!(fields(&r), vec!["more"]);
}

#[test]
fn resubscribing_after_unsubscribing_needs_a_new_confirmation_and_old_links_die() {
    let w = World::new(12);
    let id = w.confirmed_subscriber("again@example.com", "en");
    let old = w.confirm_token("again@example.com");
    let r = w.unsubscribe_one_click(&w.keys.unsubscribe_token(&id));
    assert_eq!(r.status, 200);
    assert_eq!(w.status_of("again@example.com"), "unsubscribed");
    // The old link does not bring them back.
    assert_eq!(code(&w.confirm_json(&old)), "TOKEN_INVALID");
    assert_eq!(w.status_of("again@example.com"), "unsubscribed");

    assert_eq!(w.subscribe("again@example.com", "vi").status, 202);
    let row = w.row_of("again@example.com").unwrap();
    assert_eq!(row["status"], "pending");
    assert_eq!(row["locale"], "vi");
    assert_eq!(row["confirmed_at"], Value::Null);
    assert_eq!(row["id"], json!(id), "same subscriber");
    assert_eq!(code(&w.confirm_json(&old)), "TOKEN_INVALID");
    let new = w.confirm_token("again@example.com");
    assert_ne!(new, old);
    assert_eq!(w.confirm_json(&new).status, 200);
    assert_eq!(w.status_of("again@example.com"), "confirmed");
}

#[test]
fn a_confirmed_address_subscribing_again_gets_a_note_with_its_unsubscribe_link() {
    let w = World::new(13);
    let id = w.confirmed_subscriber("known@example.com", "en");
    let before = w.row_of("known@example.com").unwrap();
    assert_eq!(w.subscribe("known@example.com", "vi").status, 202);
    let after = w.row_of("known@example.com").unwrap();
    assert_eq!(after["status"], "confirmed");
    assert_eq!(
        after["locale"], "en",
        "a confirmed subscriber is left as is"
    );
    assert_eq!(after["confirmed_at"], before["confirmed_at"]);

    let mails = w.mails("known@example.com");
    assert_eq!(mails.len(), 2);
    let note = &mails[1];
    assert_eq!(note.subject, "You are already subscribed");
    let token = link_token(&note.text, UNSUB_PREFIX);
    assert_eq!(w.keys.check_unsubscribe(&token), Some(id));
    assert!(note.headers.contains(&(
        "List-Unsubscribe".to_owned(),
        format!("<{UNSUB_PREFIX}{token}>")
    )));
    assert!(note.headers.contains(&(
        "List-Unsubscribe-Post".to_owned(),
        "List-Unsubscribe=One-Click".to_owned()
    )));
}

#[test]
fn the_email_budget_sends_three_in_a_row_then_one_per_ten_minutes_and_still_answers_202() {
    let w = World::new(14);
    for i in 0..4 {
        let r = w.subscribe("eager@example.com", "en");
        assert_eq!(r.status, 202, "request {i}");
    }
    assert_eq!(
        w.mails("eager@example.com").len(),
        3,
        "the 4th sends nothing"
    );
    w.clock.advance_ms(5 * MINUTE);
    assert_eq!(w.subscribe("eager@example.com", "en").status, 202);
    assert_eq!(w.mails("eager@example.com").len(), 3);
    w.clock.advance_ms(5 * MINUTE);
    assert_eq!(w.subscribe("eager@example.com", "en").status, 202);
    assert_eq!(
        w.mails("eager@example.com").len(),
        4,
        "one more after 10 minutes"
    );
    // Every email used a distinct idempotency key.
    let mut keys: Vec<String> = w
        .mails("eager@example.com")
        .into_iter()
        .map(|m| m.idempotency_key)
        .collect();
    keys.dedup();
    assert_eq!(keys.len(), 4);
}
