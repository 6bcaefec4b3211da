//! Signup: the user and tokens it gives, e-mail normalisation and
//! uniqueness, input validation, the seal it requires, and the per-address
//! signup limit.
use sealpost_e2e::auth::{
    ACCESS_TTL_SECS, Via, assert_error, assert_mutation, assert_tokens, assert_validation, claims,
    jwt_parts, login, sealed_call, sealed_call_any, signup, strong_password, try_signup,
    unique_email,
};
use sealpost_e2e::{Stack, Value, json, random_hex, unique_ip, unix_now};

use super::{assert_retry_after, assert_user_shape, me_ok, sorted_keys};

pub(super) fn signup_returns_the_user_and_tokens_that_work_on_me(stack: &Stack) {
    let email = unique_email("signup");
    let password = strong_password();
    let before = i64::try_from(unix_now()).expect("time");
    let (reply, inner) = try_signup(stack, &json!({"email": email, "password": password}));
    let data = assert_mutation(&reply, &inner, 201);
    assert_eq!(sorted_keys(&data), ["tokens", "user"], "{data:#}");
    let user = &data["user"];
    assert_user_shape(user);
    assert_eq!(user["email"], email.as_str());
    assert_eq!(user["roles"], json!(["member"]));
    assert_eq!(user["mfaEnabled"], json!(false));
    assert_eq!(user["locale"], "en", "the default locale");
    let local = email.split('@').next().unwrap_or_default();
    assert_eq!(user["displayName"], local, "the default display name");
    let tokens = &data["tokens"];
    assert_tokens(tokens);
    assert_eq!(
        sorted_keys(tokens),
        ["accessToken", "expiresIn", "refreshToken"]
    );

    // The access token: an ES256 JWT under a published kid, with the claims.
    let access = tokens["accessToken"].as_str().unwrap_or_default();
    let (header, payload) = jwt_parts(access);
    assert_eq!(header["alg"], "ES256", "{header}");
    let jwks_reply = stack.get("/auth/jwks");
    assert_eq!(jwks_reply.status, 200, "{jwks_reply}");
    let jwks = jwks_reply.json()["data"].clone();
    let kids: Vec<&Value> = jwks["keys"]
        .as_array()
        .expect("keys[]")
        .iter()
        .map(|k| &k["kid"])
        .collect();
    assert!(
        header["kid"].is_string() && kids.contains(&&header["kid"]),
        "kid {} not in the JWKS {jwks}",
        header["kid"]
    );
    assert_eq!(payload["sub"], user["id"], "{payload:#}");
    for claim in ["sid", "jti"] {
        assert!(
            payload[claim].as_str().is_some_and(|s| !s.is_empty()),
            "{claim}: {payload:#}"
        );
    }
    assert_eq!(payload["roles"], json!(["member"]), "{payload:#}");
    assert_eq!(payload["amr"], json!(["pwd"]), "{payload:#}");
    let (iat, exp) = (
        payload["iat"].as_i64().expect("iat"),
        payload["exp"].as_i64().expect("exp"),
    );
    assert_eq!(exp - iat, ACCESS_TTL_SECS, "{payload:#}");
    assert!(
        (before - 5..=before + 65).contains(&iat),
        "iat {iat} is not now ({before})"
    );
    // The guard every worker uses accepts it with the published keys.
    let verifier = sealpost_guard::Verifier::from_jwks(&jwks).expect("the JWKS loads");
    let verified = verifier
        .verify(access, i64::try_from(unix_now()).expect("time"))
        .unwrap_or_else(|e| panic!("the guard refuses the token: {e:?}"));
    assert_eq!(json!(verified.sub), user["id"]);

    // It works on /auth/me, which answers the same user.
    assert_eq!(me_ok(stack, access), *user);

    // Display name and locale when given: trimmed, and `vi`.
    let (reply, inner) = try_signup(
        stack,
        &json!({
            "email": unique_email("signup-vi"),
            "password": strong_password(),
            "displayName": "  Ada Lovelace  ",
            "locale": "vi",
        }),
    );
    let data = assert_mutation(&reply, &inner, 201);
    assert_eq!(data["user"]["displayName"], "Ada Lovelace", "{data:#}");
    assert_eq!(data["user"]["locale"], "vi", "{data:#}");
    // Another account, another session and token.
    let other = claims(data["tokens"]["accessToken"].as_str().unwrap_or_default());
    assert_ne!(other["sid"], payload["sid"]);
    assert_ne!(other["jti"], payload["jti"]);
    assert_ne!(data["user"]["id"], user["id"]);
}

pub(super) fn signup_normalises_the_email_and_a_case_variant_is_email_taken(stack: &Stack) {
    let tag = random_hex(4);
    let password = strong_password();
    let (reply, inner) = try_signup(
        stack,
        &json!({"email": format!(" Foo-{tag}@Example.COM "), "password": password}),
    );
    let data = assert_mutation(&reply, &inner, 201);
    let normal = format!("foo-{tag}@example.com");
    assert_eq!(data["user"]["email"], normal.as_str(), "{data:#}");

    let (reply, inner) = try_signup(
        stack,
        &json!({"email": format!("FOO-{tag}@example.Com"), "password": strong_password()}),
    );
    assert_error(&reply, &inner, 409, "EMAIL_TAKEN");

    // Login normalises the same way.
    let session = login(stack, &format!("  FOO-{tag}@EXAMPLE.com"), &password);
    assert_eq!(session.user["email"], normal.as_str());
    assert_eq!(session.user["id"], data["user"]["id"]);
}

pub(super) fn signup_refuses_bad_input_with_validation_failed_naming_the_field(stack: &Stack) {
    let email = unique_email("validation");
    let local = email.split('@').next().unwrap_or_default().to_owned();
    let pw = strong_password();
    let cases = [
        (json!({"email": "not-an-email", "password": pw}), "email"),
        (json!({"email": "a@localhost", "password": pw}), "email"),
        (json!({"email": "a b@e2e.test", "password": pw}), "email"),
        (json!({"email": "a@@e2e.test", "password": pw}), "email"),
        (
            json!({"email": format!("{}@e2e.test", "x".repeat(65)), "password": pw}),
            "email",
        ),
        (json!({"password": pw}), "email"),
        (json!({"email": 42, "password": pw}), "email"),
        (json!({"email": email}), "password"),
        (json!({"email": email, "password": "Sh0rt!x"}), "password"),
        (
            json!({"email": email, "password": "x".repeat(129)}),
            "password",
        ),
        (json!({"email": email, "password": "password1"}), "password"),
        (json!({"email": email, "password": "Iloveyou"}), "password"),
        (json!({"email": email, "password": email}), "password"),
        (json!({"email": email, "password": local}), "password"),
        (
            json!({"email": email, "password": pw, "isAdmin": true}),
            "isAdmin",
        ),
        (
            json!({"email": email, "password": pw, "displayName": "x".repeat(81)}),
            "displayName",
        ),
        (
            json!({"email": email, "password": pw, "displayName": "   "}),
            "displayName",
        ),
        (
            json!({"email": email, "password": pw, "displayName": "a\u{7}b"}),
            "displayName",
        ),
        (
            json!({"email": email, "password": pw, "locale": "fr"}),
            "locale",
        ),
    ];
    for (body, field) in &cases {
        let (reply, inner) = try_signup(stack, body);
        assert_validation(&reply, &inner, field);
    }
    // None of them made the account: it can still sign up.
    let session = signup(stack, &email, &pw);
    assert_eq!(session.user["email"], email.as_str());
    // Exactly 80 characters of display name pass.
    let (reply, inner) = try_signup(
        stack,
        &json!({"email": unique_email("validation80"), "password": pw, "displayName": "é".repeat(80)}),
    );
    assert_mutation(&reply, &inner, 201);
}

pub(super) fn an_unsealed_signup_is_seal_required(stack: &Stack) {
    let email = unique_email("plain");
    let reply = stack
        .request("POST", "/auth/signup")
        .json(&json!({"email": email, "password": strong_password()}))
        .send();
    reply.assert_error(400, "SEAL_REQUIRED");
    // Nothing was created: the address is still free.
    signup(stack, &email, &strong_password());
}

pub(super) fn the_eleventh_signup_from_one_address_within_an_hour_is_rate_limited(stack: &Stack) {
    let ip = unique_ip();
    for _ in 0..10 {
        let (reply, inner) = sealed_call(
            stack,
            "/auth/signup",
            &json!({"email": unique_email("ratelimit"), "password": strong_password()}),
            Via::ip(&ip),
        );
        assert_mutation(&reply, &inner, 201);
    }
    let email = unique_email("ratelimit-11");
    let (reply, inner) = sealed_call_any(
        stack,
        "/auth/signup",
        &json!({"email": email, "password": strong_password()}),
        Via::ip(&ip),
    );
    assert_error(&reply, &inner, 429, "RATE_LIMITED");
    assert_retry_after(&reply, 3600);
    // Another address is not limited, and the refused signup made nothing.
    signup(stack, &email, &strong_password());
}
