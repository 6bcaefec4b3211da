//! Accounts and their sessions: signup, login (the password step, and the
//! second step with a code), refresh, and the [`Session`] each gives.
use super::{Via, assert_mutation, claims, sealed_call, strong_password, unique_email};
use crate::{Reply, Stack, Value, json};

/// `expiresIn` of every token pair, and `exp - iat` of an access token.
pub const ACCESS_TTL_SECS: i64 = 900;

/// What a login or signup gave: the account and its token pair.
#[derive(Debug, Clone)]
pub struct Session {
    pub user: Value,
    pub access: String,
    pub refresh: String,
    pub email: String,
    pub password: String,
}

impl Session {
    /// The user id.
    pub fn user_id(&self) -> String {
        self.user["id"].as_str().expect("user.id").to_owned()
    }

    /// The session id (`sid` of the access token).
    pub fn sid(&self) -> String {
        claims(&self.access)["sid"]
            .as_str()
            .expect("sid")
            .to_owned()
    }

    /// The access token's `amr`.
    pub fn amr(&self) -> Value {
        claims(&self.access)["amr"].clone()
    }

    /// Takes a refreshed token pair (`data.tokens` of `POST /auth/refresh`).
    pub fn with_tokens(&self, tokens: &Value) -> Session {
        Session {
            access: tokens["accessToken"]
                .as_str()
                .expect("accessToken")
                .to_owned(),
            refresh: tokens["refreshToken"]
                .as_str()
                .expect("refreshToken")
                .to_owned(),
            ..self.clone()
        }
    }
}

/// Asserts `tokens` = `{accessToken, refreshToken, expiresIn: 900}`.
#[track_caller]
pub fn assert_tokens(tokens: &Value) {
    assert!(
        tokens["accessToken"]
            .as_str()
            .is_some_and(|t| !t.is_empty()),
        "{tokens:#}"
    );
    assert!(
        tokens["refreshToken"]
            .as_str()
            .is_some_and(|t| !t.is_empty()),
        "{tokens:#}"
    );
    assert_eq!(tokens["expiresIn"], json!(ACCESS_TTL_SECS), "{tokens:#}");
}

/// A session from `data: {user, tokens}`.
#[track_caller]
pub(super) fn session_from(data: &Value, email: &str, password: &str) -> Session {
    let tokens = &data["tokens"];
    assert_tokens(tokens);
    assert!(data["user"]["id"].is_string(), "{data:#}");
    Session {
        user: data["user"].clone(),
        access: tokens["accessToken"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        refresh: tokens["refreshToken"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        email: email.to_owned(),
        password: password.to_owned(),
    }
}

/// `POST /auth/signup` with `body`, from a fresh address.
pub fn try_signup(stack: &Stack, body: &Value) -> (Reply, Value) {
    sealed_call(stack, "/auth/signup", body, Via::default())
}

/// Signs up `email` with `password`; asserts 201 `{user, tokens}`.
pub fn signup(stack: &Stack, email: &str, password: &str) -> Session {
    let (reply, inner) = try_signup(stack, &json!({"email": email, "password": password}));
    let data = assert_mutation(&reply, &inner, 201);
    session_from(&data, email, password)
}

/// A fresh member account for scenario `name`.
pub fn new_member(stack: &Stack, name: &str) -> Session {
    signup(stack, &unique_email(name), &strong_password())
}

/// `POST /auth/login` as `via` says.
pub fn try_login_via(stack: &Stack, email: &str, password: &str, via: Via<'_>) -> (Reply, Value) {
    sealed_call(
        stack,
        "/auth/login",
        &json!({"email": email, "password": password}),
        via,
    )
}

/// `POST /auth/login` from a fresh address.
pub fn try_login(stack: &Stack, email: &str, password: &str) -> (Reply, Value) {
    try_login_via(stack, email, password, Via::default())
}

/// Logs in (no second factor); asserts 200 `{user, tokens}`.
pub fn login_via(stack: &Stack, email: &str, password: &str, via: Via<'_>) -> Session {
    let (reply, inner) = try_login_via(stack, email, password, via);
    let data = assert_mutation(&reply, &inner, 200);
    assert!(data.get("mfaRequired").is_none(), "{data:#}");
    session_from(&data, email, password)
}

/// [`login_via`] from a fresh address.
pub fn login(stack: &Stack, email: &str, password: &str) -> Session {
    login_via(stack, email, password, Via::default())
}

/// Logs in an account with TOTP; asserts 200 `{mfaRequired: true, mfaToken}`
/// and returns the `mfaToken`.
pub fn login_for_mfa_token(stack: &Stack, email: &str, password: &str) -> String {
    let (reply, inner) = try_login(stack, email, password);
    let data = assert_mutation(&reply, &inner, 200);
    assert_eq!(data["mfaRequired"], json!(true), "{data:#}");
    assert!(data.get("tokens").is_none(), "{data:#}");
    data["mfaToken"]
        .as_str()
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| panic!("no mfaToken: {data:#}"))
        .to_owned()
}

/// `POST /auth/login/mfa`.
pub fn try_login_mfa(stack: &Stack, mfa_token: &str, code: &str) -> (Reply, Value) {
    sealed_call(
        stack,
        "/auth/login/mfa",
        &json!({"mfaToken": mfa_token, "code": code}),
        Via::default(),
    )
}

/// Completes a second-factor login; asserts 200 `{user, tokens}`.
pub fn login_mfa(
    stack: &Stack,
    email: &str,
    password: &str,
    mfa_token: &str,
    code: &str,
) -> Session {
    let (reply, inner) = try_login_mfa(stack, mfa_token, code);
    let data = assert_mutation(&reply, &inner, 200);
    session_from(&data, email, password)
}

/// `POST /auth/refresh` with `refresh_token`.
pub fn refresh(stack: &Stack, refresh_token: &str) -> (Reply, Value) {
    sealed_call(
        stack,
        "/auth/refresh",
        &json!({"refreshToken": refresh_token}),
        Via::default(),
    )
}

/// Refreshes `session`; asserts 200 `{tokens}` and returns the new session.
pub fn refreshed(stack: &Stack, session: &Session) -> Session {
    let (reply, inner) = refresh(stack, &session.refresh);
    let data = assert_mutation(&reply, &inner, 200);
    assert_tokens(&data["tokens"]);
    session.with_tokens(&data["tokens"])
}
