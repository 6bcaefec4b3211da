//! Tokens and sessions: refresh rotation, reuse and races, unknown refresh
//! tokens, logout, bearer refusals, the session list and revoking one, and
//! a password change ending the other sessions.
use std::sync::{Barrier, Mutex};
use std::thread;

use sealpost_e2e::auth::{
    ACCESS_TTL_SECS, Via, assert_error, assert_mutation, assert_tokens, assert_validation,
    bearer_get, bearer_request, claims, login, login_via, new_member, refresh, refreshed,
    sealed_bearer_post, sealed_call, sealed_call_any, strong_password, try_login,
};
use sealpost_e2e::sealed::{envelope, first_key, open};
use sealpost_e2e::{Stack, Value, json, parse_rfc3339_utc, random_hex, unix_now};

use super::{assert_me_refused, assert_refresh_refused, audit_events, me_ok, sorted_keys};

pub(super) fn refresh_rotates_the_pair_and_the_previous_token_is_superseded_not_revoked(
    stack: &Stack,
) {
    let s0 = new_member(stack, "refresh");
    let (reply, inner) = refresh(stack, &s0.refresh);
    let data = assert_mutation(&reply, &inner, 200);
    assert_eq!(sorted_keys(&data), ["tokens"], "{data:#}");
    assert_tokens(&data["tokens"]);
    let s1 = s0.with_tokens(&data["tokens"]);
    assert_ne!(s1.refresh, s0.refresh, "the refresh token rotates");
    assert_ne!(s1.access, s0.access);
    let (c0, c1) = (claims(&s0.access), claims(&s1.access));
    assert_eq!(c1["sid"], c0["sid"], "the same session");
    assert_ne!(c1["jti"], c0["jti"]);
    assert_eq!(c1["sub"], c0["sub"]);
    assert_eq!(c1["roles"], json!(["member"]));
    assert_eq!(c1["amr"], json!(["pwd"]));
    assert_eq!(
        c1["exp"].as_i64().unwrap_or(0) - c1["iat"].as_i64().unwrap_or(0),
        ACCESS_TTL_SECS
    );
    me_ok(stack, &s1.access);

    // The previous token again, at once (a retry, another tab): superseded.
    assert_refresh_refused(stack, &s0.refresh, 409, "AUTH_REFRESH_SUPERSEDED");
    // Nothing was revoked: the newest token and the session still work.
    me_ok(stack, &s1.access);
    let s2 = refreshed(stack, &s1);
    me_ok(stack, &s2.access);
    // And the just-rotated one is superseded in turn.
    assert_refresh_refused(stack, &s1.refresh, 409, "AUTH_REFRESH_SUPERSEDED");
    refreshed(stack, &s2);
}

pub(super) fn a_refresh_token_reused_after_two_rotations_ends_the_session(stack: &Stack) {
    let t0 = new_member(stack, "reuse");
    let other = login(stack, &t0.email, &t0.password);
    let t1 = refreshed(stack, &t0);
    let t2 = refreshed(stack, &t1);
    me_ok(stack, &t2.access);
    // T0 is two rotations old: theft is assumed, the session ends.
    assert_refresh_refused(stack, &t0.refresh, 401, "AUTH_REFRESH_REUSED");
    assert_refresh_refused(stack, &t2.refresh, 401, "AUTH_TOKEN_REVOKED");
    assert_me_refused(stack, &t2.access, "AUTH_TOKEN_REVOKED");
    assert_me_refused(stack, &t0.access, "AUTH_TOKEN_REVOKED");
    // Only that session: the account's other session lives on.
    me_ok(stack, &other.access);
    refreshed(stack, &other);
    // The event is audited.
    let (events, items) = audit_events(stack, "refresh.reuse", &t0.user_id());
    assert!(events >= 1, "no refresh.reuse event: {items:?}");
}

pub(super) fn two_concurrent_refreshes_with_one_token_rotate_it_exactly_once(stack: &Stack) {
    for round in 1..=3 {
        let session = new_member(stack, "race");
        let key = first_key(stack);
        let barrier = Barrier::new(2);
        let answers: Mutex<Vec<(u16, Value)>> = Mutex::new(Vec::new());
        thread::scope(|s| {
            for _ in 0..2 {
                let (key, barrier, answers, token) = (&key, &barrier, &answers, &session.refresh);
                s.spawn(move || {
                    let now = i64::try_from(unix_now()).expect("time");
                    let body = json!({"refreshToken": token});
                    let (env, opener) = envelope(key, "/auth/refresh", &body, now);
                    let call = stack.request("POST", "/auth/refresh").json(&env);
                    barrier.wait();
                    let reply = call.send();
                    let inner = open(&opener, &reply);
                    answers.lock().expect("answers").push((reply.status, inner));
                });
            }
        });
        let mut answers = answers.into_inner().expect("answers");
        answers.sort_by_key(|(s, _)| *s);
        let statuses: Vec<u16> = answers.iter().map(|(s, _)| *s).collect();
        assert_eq!(statuses, [200, 409], "round {round}: {answers:#?}");
        assert_eq!(
            answers[1].1["error"]["code"], "AUTH_REFRESH_SUPERSEDED",
            "round {round}: {answers:#?}"
        );
        // The winner's pair works; the session was not revoked.
        let winner = session.with_tokens(&answers[0].1["data"]["tokens"]);
        me_ok(stack, &winner.access);
        refreshed(stack, &winner);
    }
}

pub(super) fn an_unknown_refresh_token_is_token_invalid(stack: &Stack) {
    assert_refresh_refused(
        stack,
        &sealpost_seal::b64(&sealpost_e2e::random_bytes(32)),
        401,
        "AUTH_TOKEN_INVALID",
    );
    assert_refresh_refused(stack, "not-a-token", 401, "AUTH_TOKEN_INVALID");
    let session = new_member(stack, "unknown-refresh");
    for (body, field) in [
        (json!({}), "refreshToken"),
        (json!({"refreshToken": 7}), "refreshToken"),
        (
            json!({"refreshToken": session.refresh, "extra": 1}),
            "extra",
        ),
    ] {
        let (reply, inner) = sealed_call(stack, "/auth/refresh", &body, Via::default());
        assert_validation(&reply, &inner, field);
    }
    // Refusals spent nothing: the real token still rotates.
    refreshed(stack, &session);
}

pub(super) fn logout_ends_the_session_with_or_without_a_body(stack: &Stack) {
    let a = new_member(stack, "logout");
    let b = login(stack, &a.email, &a.password);

    let reply = bearer_request(stack, "POST", "/auth/logout", &a.access)
        .json(&json!({}))
        .send();
    assert_eq!(reply.status, 200, "{reply}");
    let body = reply.json();
    assert_eq!(assert_mutation(&reply, &body, 200), Value::Null, "{body:#}");
    assert_me_refused(stack, &a.access, "AUTH_TOKEN_REVOKED");
    assert_refresh_refused(stack, &a.refresh, 401, "AUTH_TOKEN_REVOKED");
    // The account's other session is not ended.
    me_ok(stack, &b.access);

    // No body at all.
    let reply = bearer_request(stack, "POST", "/auth/logout", &b.access).send();
    let body = reply.json();
    assert_eq!(assert_mutation(&reply, &body, 200), Value::Null, "{body:#}");
    assert_me_refused(stack, &b.access, "AUTH_TOKEN_REVOKED");
    assert_refresh_refused(stack, &b.refresh, 401, "AUTH_TOKEN_REVOKED");
    // Logging out again with the ended session's token.
    bearer_request(stack, "POST", "/auth/logout", &b.access)
        .send()
        .assert_error(401, "AUTH_TOKEN_REVOKED");
    // The password still logs in.
    login(stack, &a.email, &a.password);
}

pub(super) fn bearer_routes_refuse_a_missing_or_bad_token(stack: &Stack) {
    let session = new_member(stack, "bearer");
    for (method, path) in [
        ("GET", "/auth/me"),
        ("GET", "/auth/sessions"),
        ("POST", "/auth/logout"),
    ] {
        stack
            .request(method, path)
            .send()
            .assert_error(401, "AUTH_REQUIRED");
        stack
            .request(method, path)
            .header("Authorization", &format!("Basic {}", session.access))
            .send()
            .assert_error(401, "AUTH_REQUIRED");
        bearer_request(stack, method, path, "garbage")
            .send()
            .assert_error(401, "AUTH_TOKEN_INVALID");
    }
    // A forged payload (roles admin) under the genuine signature.
    let parts: Vec<&str> = session.access.split('.').collect();
    let mut payload = claims(&session.access);
    payload["roles"] = json!(["admin"]);
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        sealpost_seal::b64(payload.to_string().as_bytes()),
        parts[2]
    );
    assert_me_refused(stack, &forged, "AUTH_TOKEN_INVALID");
    // alg none.
    let none = format!(
        "{}.{}.",
        sealpost_seal::b64(br#"{"alg":"none","typ":"JWT"}"#),
        parts[1]
    );
    assert_me_refused(stack, &none, "AUTH_TOKEN_INVALID");
    // A refresh token is not an access token.
    assert_me_refused(stack, &session.refresh, "AUTH_TOKEN_INVALID");
    // The genuine token still works; sealed bearer routes want one too.
    me_ok(stack, &session.access);
    let (reply, inner) = sealed_call_any(
        stack,
        "/auth/password",
        &json!({"currentPassword": session.password, "newPassword": strong_password()}),
        Via::default(),
    );
    assert_error(&reply, &inner, 401, "AUTH_REQUIRED");
    let (reply, inner) = sealed_call_any(
        stack,
        "/auth/mfa/totp/setup",
        &json!({}),
        Via::bearer("garbage"),
    );
    assert_error(&reply, &inner, 401, "AUTH_TOKEN_INVALID");
}

pub(super) fn sessions_lists_the_live_sessions_and_delete_revokes_one(stack: &Stack) {
    let tag = random_hex(4);
    let (ua_a, ua_b) = (format!("e2e-agent-A-{tag}"), format!("e2e-agent-B-{tag}"));
    let first = new_member(stack, "sessions");
    let a = login_via(
        stack,
        &first.email,
        &first.password,
        Via {
            user_agent: Some(&ua_a),
            ..Via::default()
        },
    );
    let b = login_via(
        stack,
        &first.email,
        &first.password,
        Via {
            user_agent: Some(&ua_b),
            ..Via::default()
        },
    );
    let list = |token: &str| -> Vec<Value> {
        let reply = bearer_get(stack, "/auth/sessions", token);
        assert_eq!(reply.status, 200, "{reply}");
        let body = reply.json();
        body["data"]
            .as_array()
            .unwrap_or_else(|| panic!("data[]: {body:#}"))
            .clone()
    };
    let sessions = list(&b.access);
    assert_eq!(sessions.len(), 3, "signup + two logins: {sessions:#?}");
    for s in &sessions {
        assert_eq!(
            sorted_keys(s),
            ["createdAt", "current", "id", "lastUsedAt", "userAgent"],
            "{s:#}"
        );
        for t in ["createdAt", "lastUsedAt"] {
            assert!(
                s[t].as_str().and_then(parse_rfc3339_utc).is_some(),
                "{t}: {s:#}"
            );
        }
    }
    let current: Vec<&Value> = sessions.iter().filter(|s| s["current"] == true).collect();
    assert_eq!(current.len(), 1, "exactly one current: {sessions:#?}");
    assert_eq!(current[0]["id"], b.sid(), "{sessions:#?}");
    assert_eq!(current[0]["userAgent"], ua_b.as_str(), "{sessions:#?}");
    let of_a = sessions
        .iter()
        .find(|s| s["id"] == a.sid())
        .unwrap_or_else(|| panic!("session of login A missing: {sessions:#?}"));
    assert_eq!(of_a["userAgent"], ua_a.as_str());
    assert_eq!(of_a["current"], false);
    assert!(sessions.iter().any(|s| s["id"] == first.sid()));
    // Seen from A, A is the current one.
    let from_a = list(&a.access);
    let current_a: Vec<&Value> = from_a.iter().filter(|s| s["current"] == true).collect();
    assert_eq!(current_a.len(), 1);
    assert_eq!(current_a[0]["id"], a.sid());

    // B revokes A.
    let reply = bearer_request(
        stack,
        "DELETE",
        &format!("/auth/sessions/{}", a.sid()),
        &b.access,
    )
    .send();
    let body = reply.json();
    assert_eq!(assert_mutation(&reply, &body, 200), Value::Null, "{body:#}");
    assert_me_refused(stack, &a.access, "AUTH_TOKEN_REVOKED");
    assert_refresh_refused(stack, &a.refresh, 401, "AUTH_TOKEN_REVOKED");
    me_ok(stack, &b.access);
    let left = list(&b.access);
    assert_eq!(left.len(), 2, "{left:#?}");
    assert!(left.iter().all(|s| s["id"] != a.sid()), "{left:#?}");

    // A session that is not the caller's live one: 404.
    let stranger = new_member(stack, "sessions-stranger");
    for id in [a.sid(), "no-such-session".to_owned(), stranger.sid()] {
        bearer_request(stack, "DELETE", &format!("/auth/sessions/{id}"), &b.access)
            .send()
            .assert_error(404, "NOT_FOUND");
    }
    // The stranger's session was not touched.
    me_ok(stack, &stranger.access);
}

pub(super) fn password_change_checks_the_current_password_and_ends_other_sessions(stack: &Stack) {
    let current = new_member(stack, "password");
    let other = login(stack, &current.email, &current.password);
    let new_password = strong_password();
    let change = |body: Value| sealed_bearer_post(stack, "/auth/password", &current.access, &body);

    let (reply, inner) =
        change(json!({"currentPassword": "not-my-password", "newPassword": new_password}));
    assert_error(&reply, &inner, 401, "AUTH_INVALID_CREDENTIALS");
    for (body, field) in [
        (
            json!({"currentPassword": current.password, "newPassword": "password1"}),
            "newPassword",
        ),
        (
            json!({"currentPassword": current.password, "newPassword": "Sh0rt!x"}),
            "newPassword",
        ),
        (
            json!({"currentPassword": current.password, "newPassword": current.email}),
            "newPassword",
        ),
        (
            json!({"currentPassword": current.password, "newPassword": current.password}),
            "newPassword",
        ),
        (json!({"currentPassword": current.password}), "newPassword"),
        (
            json!({"currentPassword": current.password, "newPassword": new_password, "x": 1}),
            "x",
        ),
    ] {
        let (reply, inner) = change(body);
        assert_validation(&reply, &inner, field);
    }
    // Nothing changed so far.
    me_ok(stack, &other.access);

    let (reply, inner) =
        change(json!({"currentPassword": current.password, "newPassword": new_password}));
    assert_eq!(
        assert_mutation(&reply, &inner, 200),
        Value::Null,
        "{inner:#}"
    );
    // Every other session ends; this one lives.
    assert_me_refused(stack, &other.access, "AUTH_TOKEN_REVOKED");
    assert_refresh_refused(stack, &other.refresh, 401, "AUTH_TOKEN_REVOKED");
    me_ok(stack, &current.access);
    let renewed = refreshed(stack, &current);
    me_ok(stack, &renewed.access);
    // The old password no longer logs in; the new one does.
    let (reply, inner) = try_login(stack, &current.email, &current.password);
    assert_error(&reply, &inner, 401, "AUTH_INVALID_CREDENTIALS");
    login(stack, &current.email, &new_password);
}
