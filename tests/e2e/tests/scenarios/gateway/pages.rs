//! The site's pages through the gateway over plain HTTP: language choice
//! at `/`, a post in both languages, the edge's HTML cache and its 304s,
//! the methods a page takes, and fingerprinted assets.
use sealpost_e2e::comments::{create_post, editor, publish_post};
use sealpost_e2e::{Reply, Stack, json, random_hex};

/// A published post in English and Vietnamese: (English slug, Vietnamese slug).
fn bilingual_post(stack: &Stack) -> (String, String) {
    let suffix = random_hex(4);
    let (en, vi) = (format!("page-{suffix}"), format!("trang-{suffix}"));
    let e = editor(stack);
    let post = create_post(
        stack,
        &e,
        &json!({"translations": {
            "en": {"title": format!("Page {suffix}"), "slug": en, "body": "Read me at the edge."},
            "vi": {"title": format!("Trang {suffix} tiếng Việt"), "slug": vi, "body": "Đọc tôi ở biên mạng."},
        }}),
    );
    publish_post(stack, &e, post["id"].as_str().unwrap());
    (en, vi)
}

#[track_caller]
fn html(reply: &Reply) -> String {
    assert_eq!(reply.status, 200, "{reply}");
    assert_eq!(
        reply.header("content-type"),
        Some("text/html; charset=utf-8"),
        "{reply}"
    );
    let csp = reply.header("content-security-policy").unwrap_or_default();
    assert!(
        csp.contains("script-src 'self' 'wasm-unsafe-eval'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert!(reply.header("x-request-id").is_some());
    reply.text()
}

pub(super) fn the_root_answers_in_the_visitors_language_and_a_post_in_both(stack: &Stack) {
    let (en, vi) = bilingual_post(stack);
    let root = stack
        .request("GET", "/")
        .header("Accept-Language", "vi-VN,vi;q=0.9")
        .send();
    let body = html(&root);
    assert!(body.contains(r#"<html lang="vi">"#), "{body}");
    assert!(
        root.header("vary")
            .is_some_and(|v| v.contains("Accept-Language")),
        "{root}"
    );
    let page = html(&stack.get(&format!("/vi/posts/{vi}")));
    assert!(page.contains("tiếng Việt</h1>"), "{page}");
    let base = stack.base_url();
    assert!(
        page.contains(&format!(
            r#"<link rel="alternate" hreflang="en" href="{base}/en/posts/{en}">"#
        )),
        "{page}"
    );
    assert!(html(&stack.get(&format!("/en/posts/{en}"))).contains("Read me at the edge."));
}

pub(super) fn a_page_is_served_from_the_edge_cache_and_revalidated_with_its_etag(stack: &Stack) {
    let (en, _) = bilingual_post(stack);
    let path = format!("/en/posts/{en}");
    let first = stack.get(&path);
    html(&first);
    let tag = first.header("etag").expect("an ETag").to_owned();
    let again = stack.get(&path);
    assert_eq!(again.header("x-sealpost-cache"), Some("hit"), "{again}");
    let not_modified = stack
        .request("GET", &path)
        .header("If-None-Match", &tag)
        .send();
    assert_eq!(not_modified.status, 304, "{not_modified}");
    assert!(not_modified.body.is_empty());
}

pub(super) fn a_page_takes_get_and_head_only_and_head_has_no_body(stack: &Stack) {
    let post = stack.request("POST", "/en/").send();
    assert_eq!(post.status, 405, "{post}");
    assert_eq!(post.header("allow"), Some("GET, HEAD"), "{post}");
    assert_eq!(post.json()["error"]["code"], "METHOD_NOT_ALLOWED");
    let head = stack.request("HEAD", "/en/").send();
    assert_eq!(head.status, 200, "{head}");
    assert!(head.body.is_empty());
    let missing = stack.get("/en/posts/no-such-page-here");
    assert_eq!(missing.status, 404, "{missing}");
    assert!(
        missing.text().contains(r#"data-testid="home-link""#),
        "the site's own 404 page"
    );
}

pub(super) fn assets_are_fingerprinted_and_immutable(stack: &Stack) {
    let page = html(&stack.get("/en/"));
    for marker in [
        r#"<link rel="stylesheet" href=""#,
        r#"<script type="module" src=""#,
    ] {
        let Some(start) = page.find(marker).map(|i| i + marker.len()) else {
            continue;
        };
        let href = &page[start..start + page[start..].find('"').unwrap()];
        let asset = stack.get(href);
        assert_eq!(asset.status, 200, "{href}: {asset}");
        assert_eq!(
            asset.header("cache-control"),
            Some("public, max-age=31536000, immutable"),
            "{href}"
        );
    }
    let wasm_marker = "\"sealWasm\":\"";
    let start = page.find(wasm_marker).expect("the seal wasm in the config") + wasm_marker.len();
    let wasm = &page[start..start + page[start..].find('"').unwrap()];
    let reply = stack.get(wasm);
    assert_eq!(
        reply.header("content-type"),
        Some("application/wasm"),
        "{wasm}"
    );
    assert_eq!(&reply.body[..4], b"\0asm");
}

/// `POST path` from the site's own page, with `cookie` when given.
fn session_call(stack: &Stack, path: &str, cookie: Option<&str>, body: &str) -> Reply {
    let mut call = stack
        .request("POST", path)
        .header("Origin", stack.base_url())
        .header("X-Sealpost-Session", "1");
    if let Some(c) = cookie {
        call = call.header("Cookie", &format!("sealpost_refresh={c}"));
    }
    if !body.is_empty() {
        call = call
            .header("Content-Type", "application/json")
            .body(body.as_bytes().to_vec());
    }
    call.send()
}

fn set_cookie_value(reply: &Reply) -> String {
    let set = reply
        .header("set-cookie")
        .unwrap_or_else(|| panic!("no Set-Cookie: {reply}"));
    assert!(
        set.contains("HttpOnly") && set.contains("Path=/session"),
        "{set}"
    );
    let (pair, _) = set.split_once(';').expect("attributes");
    pair.strip_prefix("sealpost_refresh=")
        .expect("our cookie")
        .to_owned()
}

pub(super) fn the_browser_keeps_its_refresh_token_in_a_cookie_the_site_rotates(stack: &Stack) {
    use sealpost_e2e::auth::{Via, me, sealed_call, strong_password, unique_email};
    let (_, signed_up) = sealed_call(
        stack,
        "/auth/signup",
        &json!({"email": unique_email("site-session"), "password": strong_password(), "displayName": "Lan"}),
        Via::default(),
    );
    let refresh = signed_up["data"]["tokens"]["refreshToken"]
        .as_str()
        .unwrap_or_else(|| panic!("{signed_up}"));
    let started = session_call(
        stack,
        "/session",
        None,
        &json!({"refreshToken": refresh}).to_string(),
    );
    assert_eq!(started.status, 204, "{started}");
    let cookie = set_cookie_value(&started);

    let renewed = session_call(stack, "/session/refresh", Some(&cookie), "");
    assert_eq!(renewed.status, 200, "{renewed}");
    let access = renewed.json()["data"]["accessToken"]
        .as_str()
        .expect("an access token")
        .to_owned();
    assert_eq!(me(stack, &access).status, 200, "the new access token works");
    let rotated = set_cookie_value(&renewed);
    assert_ne!(rotated, cookie);

    let foreign = stack
        .request("POST", "/session/refresh")
        .header("Origin", "https://evil.example")
        .header("X-Sealpost-Session", "1")
        .header("Cookie", &format!("sealpost_refresh={rotated}"))
        .send();
    assert_eq!(foreign.status, 403, "{foreign}");
    assert_eq!(foreign.error_code().as_deref(), Some("FORBIDDEN"));

    let ended = stack
        .request("POST", "/session/end")
        .header("Origin", stack.base_url())
        .header("X-Sealpost-Session", "1")
        .header("Authorization", &format!("Bearer {access}"))
        .send();
    assert_eq!(ended.status, 204, "{ended}");
    assert!(
        ended
            .header("set-cookie")
            .is_some_and(|c| c.contains("Max-Age=0"))
    );
    assert_eq!(me(stack, &access).status, 401, "logged out at auth");
}
