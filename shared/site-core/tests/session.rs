//! The browser's session endpoints against the real auth service: a
//! refresh token handed over once becomes an HttpOnly cookie, the cookie
//! buys access tokens and rotates, a replayed cookie ends the session, and
//! only the site's own pages may call.
mod common;

use common::{BASE_URL, Page, World};
use sealpost_api::routes::RouteId;
use sealpost_api::{ApiRequest, Method};
use sealpost_ports::{SiteId, Statement};
use sealpost_seal::{KeyConfig, seal_request};
use serde_json::{Value, json};

/// `route` sealed to the auth service with `inner`; the opened answer.
fn sealed(w: &World, route: RouteId, inner: &Value) -> Value {
    let keys = futures::executor::block_on(
        w.auth()
            .serve(&ApiRequest::new(RouteId::AuthKeys, SiteId::default_site())),
    )
    .expect("keys");
    let key: KeyConfig =
        serde_json::from_value(keys.body_json().unwrap()["data"]["keys"][0].clone()).unwrap();
    let spec = route.spec();
    let now = w.clock_secs();
    let req = seal_request(
        &key,
        spec.method.as_str(),
        spec.pattern,
        inner.to_string().as_bytes(),
        now,
        &mut rand_core::OsRng,
    )
    .unwrap();
    let call = ApiRequest::new(route, SiteId::default_site()).with_body(req.envelope.to_json());
    let resp = futures::executor::block_on(w.auth().serve(&call)).expect("auth answered");
    serde_json::from_slice(&req.opener.open(resp.status, &resp.body).unwrap()).unwrap()
}

/// A new member's tokens: (access, refresh).
fn sign_up(w: &World) -> (String, String) {
    let answer = sealed(
        w,
        RouteId::AuthSignup,
        &json!({"email": "lan@example.com", "password": "correct horse battery", "displayName": "Lan"}),
    );
    let tokens = &answer["data"]["tokens"];
    (
        tokens["accessToken"].as_str().expect("tokens").to_owned(),
        tokens["refreshToken"].as_str().unwrap().to_owned(),
    )
}

const FROM_PAGE: [(&str, &str); 3] = [
    ("origin", BASE_URL),
    ("x-sealpost-session", "1"),
    ("content-type", "application/json"),
];

fn post(w: &World, path: &str, extra: &[(&str, &str)], body: &str) -> Page {
    let mut headers: Vec<(&str, &str)> = FROM_PAGE.to_vec();
    headers.extend_from_slice(extra);
    w.send(Method::Post, path, &headers, body.as_bytes().to_vec())
}

/// The cookie's value as `Set-Cookie` gave it.
fn cookie_value(page: &Page) -> String {
    let set = page.header("set-cookie").expect("a Set-Cookie");
    let (pair, _) = set.split_once(';').unwrap();
    pair.strip_prefix("sealpost_refresh=")
        .expect("our cookie")
        .to_owned()
}

fn code(page: &Page) -> String {
    let body: Value = serde_json::from_str(&page.body).unwrap();
    body["error"]["code"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

fn start(w: &World, refresh: &str) -> String {
    let page = post(
        w,
        "/session",
        &[],
        &json!({"refreshToken": refresh}).to_string(),
    );
    assert_eq!(page.status, 204, "{}", page.body);
    cookie_value(&page)
}

fn refresh(w: &World, cookie: &str) -> Page {
    let header = format!("theme=dark; sealpost_refresh={cookie}");
    post(w, "/session/refresh", &[("cookie", header.as_str())], "")
}

#[test]
fn a_refresh_token_handed_over_once_becomes_a_cookie_no_script_can_read() {
    let w = World::new();
    let (_, token) = sign_up(&w);
    let page = post(
        &w,
        "/session",
        &[],
        &json!({"refreshToken": token}).to_string(),
    );
    assert_eq!(page.status, 204, "{}", page.body);
    let set = page.header("set-cookie").unwrap();
    assert!(
        set.starts_with(&format!("sealpost_refresh={token};")),
        "{set}"
    );
    for attribute in [
        "HttpOnly",
        "SameSite=Strict",
        "Path=/session",
        "Secure",
        "Max-Age=",
    ] {
        assert!(set.contains(attribute), "{attribute} in {set}");
    }
}

#[test]
fn the_cookie_buys_an_access_token_and_rotates_on_every_use() {
    let w = World::new();
    let (_, token) = sign_up(&w);
    let cookie = start(&w, &token);
    let page = refresh(&w, &cookie);
    assert_eq!(page.status, 200, "{}", page.body);
    let body: Value = serde_json::from_str(&page.body).unwrap();
    let access = body["data"]["accessToken"]
        .as_str()
        .expect("an access token");
    assert_eq!(access.split('.').count(), 3, "a JWT");
    assert_eq!(body["data"]["expiresIn"], 900);
    assert!(
        !page.body.contains("refreshToken"),
        "the page never sees it"
    );
    assert_eq!(page.header("cache-control"), Some("no-store"));
    let rotated = cookie_value(&page);
    assert_ne!(rotated, cookie);
    assert_eq!(refresh(&w, &rotated).status, 200, "the new cookie works");
}

#[test]
fn a_replayed_cookie_is_refused_and_ends_the_session_for_every_copy() {
    let w = World::new();
    let (_, token) = sign_up(&w);
    let stolen = start(&w, &token);
    let rotated = cookie_value(&refresh(&w, &stolen));
    // Within auth's grace window a stale copy is a racing tab, not a thief.
    let race = refresh(&w, &stolen);
    assert_eq!(code(&race), "AUTH_REFRESH_SUPERSEDED", "{}", race.body);
    assert_eq!(race.header("set-cookie"), None, "the newer cookie stays");
    w.clock
        .advance_ms(sealpost_auth_core::sessions::GRACE_MS + 1_000);
    let replay = refresh(&w, &stolen);
    assert_eq!(replay.status, 401, "{}", replay.body);
    assert_eq!(code(&replay), "AUTH_REFRESH_REUSED");
    assert!(
        replay.header("set-cookie").unwrap().contains("Max-Age=0"),
        "cleared"
    );
    assert_eq!(refresh(&w, &rotated).status, 401, "the session is over");
}

#[test]
fn without_a_cookie_there_is_no_session() {
    let w = World::new();
    let page = post(&w, "/session/refresh", &[], "");
    assert_eq!(page.status, 401);
    assert_eq!(code(&page), "AUTH_TOKEN_INVALID");
    let junk = refresh(&w, "not a token");
    assert_eq!(code(&junk), "AUTH_TOKEN_INVALID");
}

#[test]
fn only_the_sites_own_pages_may_call_the_session_endpoints() {
    let w = World::new();
    let (_, token) = sign_up(&w);
    let body = json!({"refreshToken": token}).to_string().into_bytes();
    let cases: [&[(&str, &str)]; 3] = [
        &[
            ("origin", "https://evil.example"),
            ("x-sealpost-session", "1"),
        ],
        &[("origin", BASE_URL)],
        &[("x-sealpost-session", "1")],
    ];
    for headers in cases {
        let page = w.send(Method::Post, "/session", headers, body.clone());
        assert_eq!(page.status, 403, "{headers:?}");
        assert_eq!(code(&page), "FORBIDDEN");
        assert_eq!(page.header("set-cookie"), None, "{headers:?}");
    }
    let get = w.get("/session/refresh", &[]);
    assert_eq!((get.status, get.header("allow")), (405, Some("POST")));
}

#[test]
fn a_body_without_a_token_is_refused_with_the_field() {
    let w = World::new();
    for body in [
        "{}",
        r#"{"refreshToken":"a b"}"#,
        "not json",
        r#"{"refreshToken":""}"#,
    ] {
        let page = post(&w, "/session", &[], body);
        assert_eq!(page.status, 400, "{body}");
        assert_eq!(code(&page), "VALIDATION_FAILED");
        assert!(page.body.contains("refreshToken"), "{}", page.body);
        assert_eq!(page.header("set-cookie"), None);
    }
}

#[test]
fn ending_the_session_logs_out_at_auth_and_clears_the_cookie() {
    let w = World::new();
    let (access, token) = sign_up(&w);
    let cookie = start(&w, &token);
    let bearer = format!("Bearer {access}");
    let end = post(
        &w,
        "/session/end",
        &[("authorization", bearer.as_str())],
        "",
    );
    assert_eq!(end.status, 204);
    assert!(end.header("set-cookie").unwrap().contains("Max-Age=0"));
    assert_eq!(refresh(&w, &cookie).status, 401, "auth ended the session");
}

#[test]
fn a_site_served_from_this_machine_gets_a_cookie_without_secure() {
    let w = World::new();
    w.sql(Statement::new(
        "UPDATE sites SET base_url = 'http://127.0.0.1:8787' WHERE id = 'default'",
    ));
    let (_, token) = sign_up(&w);
    let page = w.send(
        Method::Post,
        "/session",
        &[
            ("origin", "http://127.0.0.1:8787"),
            ("x-sealpost-session", "1"),
        ],
        json!({"refreshToken": token}).to_string().into_bytes(),
    );
    assert_eq!(page.status, 204, "{}", page.body);
    assert!(!page.header("set-cookie").unwrap().contains("Secure"));
}
