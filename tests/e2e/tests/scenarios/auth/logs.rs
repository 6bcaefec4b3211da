//! No password, token, code or secret reaches the worker logs.
use sealpost_e2e::auth::{
    Session, Via, assert_error, assert_mutation, bearer_request, enable_totp, login_via, refreshed,
    sealed_call, strong_password, totp_code, try_login_via, unique_email,
};
use sealpost_e2e::{Stack, json, random_hex};

use super::me_ok;

/// Whether `needle` occurs in `hay` as a whole token (not inside a longer
/// run of letters and digits) — for short secrets such as six-digit codes.
fn contains_token(hay: &str, needle: &str) -> bool {
    hay.match_indices(needle).any(|(at, _)| {
        let before = hay[..at].chars().next_back();
        let after = hay[at + needle.len()..].chars().next();
        !before.is_some_and(|c| c.is_ascii_alphanumeric())
            && !after.is_some_and(|c| c.is_ascii_alphanumeric())
    })
}

pub(super) fn no_password_token_code_or_secret_reaches_the_worker_logs(stack: &Stack) {
    let mut secrets: Vec<(&'static str, String)> = Vec::new();
    // An address of its own (the documentation prefix), to look for in the logs.
    let r = sealpost_e2e::random_bytes(3);
    let ip_prefix = format!(
        "2001:db8:{:x}:{:x}",
        0xff00 | u16::from(r[0]),
        u16::from_be_bytes([r[1], r[2]]) | 1
    );
    let ip = format!("{ip_prefix}::7");
    let via = Via::ip(&ip);
    let email = unique_email("secrets");
    let password = strong_password();
    secrets.push(("password", password.clone()));

    let (reply, inner) = sealed_call(
        stack,
        "/auth/signup",
        &json!({"email": email, "password": password}),
        via,
    );
    let data = assert_mutation(&reply, &inner, 201);
    let first = Session {
        user: data["user"].clone(),
        access: String::new(),
        refresh: String::new(),
        email: email.clone(),
        password: password.clone(),
    }
    .with_tokens(&data["tokens"]);
    secrets.push(("access token", first.access.clone()));
    secrets.push(("refresh token", first.refresh.clone()));

    let wrong = format!("Wrong-pass-{}", random_hex(6));
    secrets.push(("wrong password", wrong.clone()));
    let (reply, inner) = try_login_via(stack, &email, &wrong, via);
    assert_error(&reply, &inner, 401, "AUTH_INVALID_CREDENTIALS");
    let second = login_via(stack, &email, &password, via);
    secrets.push(("access token", second.access.clone()));
    secrets.push(("refresh token", second.refresh.clone()));
    let rotated = refreshed(stack, &second);
    secrets.push(("access token", rotated.access.clone()));
    secrets.push(("refresh token", rotated.refresh.clone()));
    me_ok(stack, &rotated.access);

    let mut totp = enable_totp(stack, &rotated);
    secrets.push(("TOTP secret", totp.secret_text.clone()));
    secrets.push(("otpauth URI", totp.otpauth_uri.clone()));
    for code in &totp.recovery_codes {
        secrets.push(("recovery code", code.clone()));
        secrets.push(("recovery code", code.replace('-', "")));
    }
    if let Some(step) = totp.last_step {
        secrets.push(("TOTP code", totp_code(&totp.secret, step * 30)));
    }
    let (reply, inner) = sealed_call(
        stack,
        "/auth/login",
        &json!({"email": email, "password": password}),
        via,
    );
    let mfa_token = assert_mutation(&reply, &inner, 200)["mfaToken"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    secrets.push(("mfaToken", mfa_token.clone()));
    let code = totp.code();
    secrets.push(("TOTP code", code.clone()));
    let (reply, inner) = sealed_call(
        stack,
        "/auth/login/mfa",
        &json!({"mfaToken": mfa_token, "code": code}),
        via,
    );
    let mfa = first.with_tokens(&assert_mutation(&reply, &inner, 200)["tokens"]);
    secrets.push(("access token", mfa.access.clone()));
    secrets.push(("refresh token", mfa.refresh.clone()));

    let new_password = strong_password();
    secrets.push(("password", new_password.clone()));
    let (reply, inner) = sealed_call(
        stack,
        "/auth/password",
        &json!({"currentPassword": password, "newPassword": new_password}),
        Via {
            bearer: Some(&mfa.access),
            ..via
        },
    );
    assert_mutation(&reply, &inner, 200);
    let reply = bearer_request(stack, "POST", "/auth/logout", &mfa.access)
        .client_ip(&ip)
        .json(&json!({}))
        .send();
    assert_eq!(reply.status, 200, "{reply}");

    let mut logs: Vec<std::path::PathBuf> = std::fs::read_dir(stack.run_dir())
        .expect("the run directory")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "log"))
        .collect();
    logs.sort();
    assert!(
        !logs.is_empty(),
        "no *.log in {}",
        stack.run_dir().display()
    );
    let mut leaks = Vec::new();
    let mut auth_lines = 0;
    for log in &logs {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        let name = log.file_name().map(|n| n.to_string_lossy().into_owned());
        let name = name.unwrap_or_default();
        auth_lines += text.lines().filter(|l| l.contains("/auth/")).count();
        for (kind, secret) in &secrets {
            let found = if secret.len() <= 8 {
                contains_token(&text, secret)
            } else {
                text.contains(secret.as_str())
            };
            if found {
                let shown: String = secret.chars().take(4).collect();
                leaks.push(format!("a {kind} ({shown}…) in {name}"));
            }
        }
        if text.contains("$argon2id$") {
            leaks.push(format!("a password hash ($argon2id$…) in {name}"));
        }
        if text.contains(&ip_prefix) {
            leaks.push(format!("the client address ({ip_prefix}…) in {name}"));
        }
    }
    assert!(
        auth_lines > 0,
        "no log line names an /auth/ path: are these the workers' logs? {logs:?}"
    );
    assert!(leaks.is_empty(), "secrets in the worker logs: {leaks:#?}");
}
