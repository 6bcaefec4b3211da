//! Auth clients for the e2e scenarios: signup, login (with and without a
//! second factor), refresh, bearer calls, TOTP enrolment, and a shared admin
//! that logged in with its second factor (every `/admin/*` route needs one).
//!
//! Sealed routes go through the real edge-seal envelope ([`sealed_call`]);
//! bearer tokens ride on the outer HTTP request. Every helper that expects a
//! success asserts it and shows the whole answer when it is not one.
use std::panic::{self, AssertUnwindSafe};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use sealpost_auth_core::totp::{base32_decode, code_at};
use sealpost_seal::unb64;

use crate::sealed::{self, envelope, first_key};
use crate::{ADMIN_EMAIL, Call, Reply, Stack, Value, json, random_hex, repo_root, unix_now};

/// Seconds per TOTP step (RFC 6238, what the server uses).
pub const TOTP_STEP_SECS: u64 = 30;
/// `expiresIn` of every token pair, and `exp - iat` of an access token.
pub const ACCESS_TTL_SECS: i64 = 900;

/// A unique e-mail address for scenario `name`.
pub fn unique_email(name: &str) -> String {
    format!("{name}-{}@e2e.test", random_hex(4))
}

/// A fresh password that passes the policy (not common, not the e-mail).
pub fn strong_password() -> String {
    format!("E2e-pass-{}", random_hex(8))
}

/// How a call is sent besides its body: client address, user agent, bearer.
#[derive(Debug, Clone, Copy, Default)]
pub struct Via<'a> {
    /// `CF-Connecting-IP`; a fresh unique address when `None`.
    pub ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    /// The access token for `Authorization: Bearer …`.
    pub bearer: Option<&'a str>,
}

impl<'a> Via<'a> {
    pub fn ip(ip: &'a str) -> Self {
        Via {
            ip: Some(ip),
            ..Via::default()
        }
    }

    pub fn bearer(token: &'a str) -> Self {
        Via {
            bearer: Some(token),
            ..Via::default()
        }
    }

    fn apply(self, mut call: Call) -> Call {
        if let Some(ip) = self.ip {
            call = call.client_ip(ip);
        }
        if let Some(ua) = self.user_agent {
            call = call.header("User-Agent", ua);
        }
        if let Some(token) = self.bearer {
            call = call.header("Authorization", &format!("Bearer {token}"));
        }
        call
    }
}

/// Whether an outer body is a sealed response (`{"success","data":{v,nonce,ct}}`).
pub fn is_sealed(reply: &Reply) -> bool {
    serde_json::from_slice::<Value>(&reply.body)
        .ok()
        .and_then(|b| {
            let d = b.get("data")?;
            Some(d.get("ct")?.is_string() && d.get("nonce")?.is_string())
        })
        .unwrap_or(false)
}

/// Seals `inner` for `POST path`, sends it as `via` says, and opens the
/// sealed answer: `(outer reply, inner envelope)`. Panics when the answer is
/// not sealed (every answer to a request that opened is).
pub fn sealed_call(stack: &Stack, path: &str, inner: &Value, via: Via<'_>) -> (Reply, Value) {
    let key = first_key(stack);
    let now = i64::try_from(unix_now()).expect("time fits");
    let (env, opener) = envelope(&key, path, inner, now);
    let reply = via.apply(stack.request("POST", path)).json(&env).send();
    let opened = sealed::open(&opener, &reply);
    (reply, opened)
}

/// Like [`sealed_call`], but an unsealed answer (a refusal made before the
/// request was opened, which SEAL.md allows) is returned as is.
pub fn sealed_call_any(stack: &Stack, path: &str, inner: &Value, via: Via<'_>) -> (Reply, Value) {
    let key = first_key(stack);
    let now = i64::try_from(unix_now()).expect("time fits");
    let (env, opener) = envelope(&key, path, inner, now);
    let reply = via.apply(stack.request("POST", path)).json(&env).send();
    let body = if is_sealed(&reply) {
        sealed::open(&opener, &reply)
    } else {
        reply.json()
    };
    (reply, body)
}

/// A sealed route that also needs the bearer `token` (TOTP, password).
pub fn sealed_bearer_post(stack: &Stack, path: &str, token: &str, inner: &Value) -> (Reply, Value) {
    sealed_call(stack, path, inner, Via::bearer(token))
}

/// A bearer request being built (`method path` with `Authorization`).
pub fn bearer_request(stack: &Stack, method: &str, path: &str, token: &str) -> Call {
    stack
        .request(method, path)
        .header("Authorization", &format!("Bearer {token}"))
}

/// `GET path` with the bearer `token`.
pub fn bearer_get(stack: &Stack, path: &str, token: &str) -> Reply {
    bearer_request(stack, "GET", path, token).send()
}

/// `GET /auth/me` with `token`.
pub fn me(stack: &Stack, token: &str) -> Reply {
    bearer_get(stack, "/auth/me", token)
}

/// Asserts an inner (or plain) error envelope with `status` and `code`.
#[track_caller]
pub fn assert_error(reply: &Reply, inner: &Value, status: u16, code: &str) {
    assert_eq!(reply.status, status, "{inner:#}\n{reply}");
    assert_eq!(inner["success"], json!(false), "{inner:#}");
    assert!(
        inner["message"].as_str().is_some_and(|m| !m.is_empty()),
        "an error without a message: {inner:#}"
    );
    assert_eq!(inner["error"]["code"], json!(code), "{inner:#}");
}

/// Asserts a 400 `VALIDATION_FAILED` naming `field` in `errors[].field`.
#[track_caller]
pub fn assert_validation(reply: &Reply, inner: &Value, field: &str) {
    assert_error(reply, inner, 400, "VALIDATION_FAILED");
    crate::assert_validation_body(inner, field);
}

/// Asserts a mutation envelope `{"success":true,"message":"…","data":…}`
/// with `status`; returns `data`.
#[track_caller]
pub fn assert_mutation(reply: &Reply, inner: &Value, status: u16) -> Value {
    assert_eq!(reply.status, status, "{inner:#}\n{reply}");
    assert_eq!(inner["success"], json!(true), "{inner:#}");
    assert!(
        inner["message"].as_str().is_some_and(|m| !m.is_empty()),
        "a mutation without a message: {inner:#}"
    );
    inner
        .get("data")
        .cloned()
        .unwrap_or_else(|| panic!("a mutation without data: {inner:#}"))
}

/// The header and payload of a JWT, decoded (not verified).
pub fn jwt_parts(token: &str) -> (Value, Value) {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "a JWT has three parts: {token:.40}…");
    let decode = |part: &str, what: &str| -> Value {
        let bytes = unb64(part).unwrap_or_else(|_| panic!("JWT {what} is not base64url"));
        serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("JWT {what} is not JSON: {e}"))
    };
    (decode(parts[0], "header"), decode(parts[1], "payload"))
}

/// The claims (payload) of an access token.
pub fn claims(token: &str) -> Value {
    jwt_parts(token).1
}

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
fn session_from(data: &Value, email: &str, password: &str) -> Session {
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

/// The TOTP code of `secret` at `unix_secs`.
pub fn totp_code(secret: &[u8], unix_secs: u64) -> String {
    code_at(secret, unix_secs)
}

/// A TOTP code the server will accept once: of a step after `last_step`
/// and within ±1 step of now (waits for the clock only when `last_step` is
/// already the next step). Records the step it used in `last_step`.
pub fn fresh_code(secret: &[u8], last_step: &mut Option<u64>) -> String {
    loop {
        let now_step = unix_now() / TOTP_STEP_SECS;
        let step = last_step.map_or(now_step, |last| (last + 1).max(now_step));
        if step <= now_step + 1 {
            *last_step = Some(step);
            return code_at(secret, step * TOTP_STEP_SECS);
        }
        // Only `now + 1` is accepted ahead of time: wait for the next step.
        let wait = (step - 1) * TOTP_STEP_SECS - unix_now() + 1;
        eprintln!("e2e: waiting {wait} s for a fresh TOTP step");
        std::thread::sleep(Duration::from_secs(wait));
    }
}

/// What TOTP enrolment gave.
#[derive(Debug, Clone)]
pub struct Totp {
    pub secret: Vec<u8>,
    /// The base32 text of `secret`, as the server sent it.
    pub secret_text: String,
    pub otpauth_uri: String,
    pub recovery_codes: Vec<String>,
    /// The last step whose code was used (codes are single-use per step).
    pub last_step: Option<u64>,
}

impl Totp {
    /// A code the server accepts once (see [`fresh_code`]).
    pub fn code(&mut self) -> String {
        fresh_code(&self.secret, &mut self.last_step)
    }
}

/// `POST /auth/mfa/totp/setup` for `session`; asserts 200 `{secret, otpauthUri}`.
pub fn setup_totp(stack: &Stack, session: &Session) -> (String, String) {
    let (reply, inner) =
        sealed_bearer_post(stack, "/auth/mfa/totp/setup", &session.access, &json!({}));
    let data = assert_mutation(&reply, &inner, 200);
    let secret = data["secret"]
        .as_str()
        .unwrap_or_else(|| panic!("no secret: {data:#}"))
        .to_owned();
    let uri = data["otpauthUri"]
        .as_str()
        .unwrap_or_else(|| panic!("no otpauthUri: {data:#}"))
        .to_owned();
    (secret, uri)
}

/// Sets up and enables TOTP for `session`; asserts both succeed.
pub fn enable_totp(stack: &Stack, session: &Session) -> Totp {
    let (secret_text, otpauth_uri) = setup_totp(stack, session);
    let secret = base32_decode(&secret_text)
        .unwrap_or_else(|| panic!("the TOTP secret is not base32: {secret_text:?}"));
    let mut totp = Totp {
        secret,
        secret_text,
        otpauth_uri,
        recovery_codes: Vec::new(),
        last_step: None,
    };
    let code = totp.code();
    let (reply, inner) = sealed_bearer_post(
        stack,
        "/auth/mfa/totp/enable",
        &session.access,
        &json!({"code": code}),
    );
    let data = assert_mutation(&reply, &inner, 200);
    totp.recovery_codes = data["recoveryCodes"]
        .as_array()
        .unwrap_or_else(|| panic!("no recoveryCodes: {data:#}"))
        .iter()
        .map(|c| c.as_str().expect("a recovery code string").to_owned())
        .collect();
    totp
}

/// Logs in an account with TOTP using a fresh code; asserts amr pwd+otp.
pub fn login_with_totp(stack: &Stack, email: &str, password: &str, totp: &mut Totp) -> Session {
    let mfa_token = login_for_mfa_token(stack, email, password);
    let code = totp.code();
    let session = login_mfa(stack, email, password, &mfa_token, &code);
    assert_eq!(session.amr(), json!(["pwd", "otp"]));
    session
}

/// What the shared admin setup learnt and holds.
#[derive(Debug, Clone)]
pub struct AdminInfo {
    /// The seeded admin with `amr: ["pwd","otp"]`.
    pub session: Session,
    /// What `GET /admin/users` answered the seeded admin logged in with its
    /// password only, before it enrolled.
    pub pwd_only: Option<PwdOnlyView>,
}

/// The seeded admin's password-only session and what `/admin/users` said to it.
#[derive(Debug, Clone)]
pub struct PwdOnlyView {
    pub amr: Value,
    pub status: u16,
    pub code: Option<String>,
}

#[derive(Debug, Default)]
struct AdminCache {
    info: Option<AdminInfo>,
    /// Why the setup failed, if it did.
    failed: Option<String>,
}

static ADMIN: Mutex<AdminCache> = Mutex::new(AdminCache {
    info: None,
    failed: None,
});

/// Makes sure the seeded admin exists: `scripts/serve` applies the
/// migrations but seeds no account, so when [`ADMIN_EMAIL`] cannot log in
/// with [`Stack::admin_password`], the project's own command creates it
/// (`scripts/admin --local`, which refuses an address that already has an
/// account, writing nothing). Returns the password login.
fn seeded_admin_login(stack: &Stack) -> Session {
    let password = stack.admin_password();
    let (reply, inner) = try_login(stack, ADMIN_EMAIL, password);
    if reply.status == 200 {
        let data = assert_mutation(&reply, &inner, 200);
        return session_from(&data, ADMIN_EMAIL, password);
    }
    assert_eq!(
        inner["error"]["code"], "AUTH_INVALID_CREDENTIALS",
        "the seeded admin's login: {inner:#}"
    );
    eprintln!("e2e: {ADMIN_EMAIL} is not seeded; creating it with scripts/admin --local");
    let out = Command::new(repo_root().join("scripts/admin"))
        .args(["--local", "--persist-to"])
        .arg(stack.state_dir())
        .current_dir(repo_root())
        .env("SEALPOST_ADMIN_EMAIL", ADMIN_EMAIL)
        .env("SEALPOST_ADMIN_PASSWORD", password)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("running scripts/admin: {e}"));
    assert!(
        out.status.success(),
        "scripts/admin --local failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    login(stack, ADMIN_EMAIL, password)
}

/// The seeded admin logged in with its second factor, made once per process
/// and shared by every scenario (its TOTP can be enabled only once). The
/// first call logs in with the password, records what `/admin/users` says
/// to that session, enrols TOTP and logs in again with a code. When that
/// fails, every later call fails at once with the same reason (retrying
/// would only lock the account).
pub fn admin_with_mfa(stack: &Stack) -> AdminInfo {
    let mut cache = ADMIN.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(info) = &cache.info {
        return info.clone();
    }
    if let Some(why) = &cache.failed {
        panic!("the shared admin could not be set up earlier: {why}");
    }
    let setup = panic::catch_unwind(AssertUnwindSafe(|| {
        let password = stack.admin_password().to_owned();
        let pwd = seeded_admin_login(stack);
        assert!(
            pwd.user["roles"]
                .as_array()
                .is_some_and(|r| r.contains(&json!("admin"))),
            "the seeded admin has role admin: {:#}",
            pwd.user
        );
        let users = bearer_get(stack, "/admin/users", &pwd.access);
        let pwd_only = Some(PwdOnlyView {
            amr: pwd.amr(),
            status: users.status,
            code: users.error_code(),
        });
        let mut totp = enable_totp(stack, &pwd);
        let session = login_with_totp(stack, ADMIN_EMAIL, &password, &mut totp);
        AdminInfo { session, pwd_only }
    }));
    match setup {
        Ok(info) => {
            cache.info = Some(info.clone());
            info
        }
        Err(payload) => {
            let why = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_else(|| "a panic".to_owned());
            cache.failed = Some(why.chars().take(2000).collect());
            drop(cache);
            panic::resume_unwind(payload)
        }
    }
}

/// `GET path` as the shared admin; asserts 200 and returns the body.
pub fn admin_get(stack: &Stack, path: &str) -> Value {
    let admin = admin_with_mfa(stack);
    let reply = bearer_get(stack, path, &admin.session.access);
    assert_eq!(reply.status, 200, "GET {path} as admin: {reply}");
    reply.json()
}

/// `PUT /admin/users/{id}/roles` as the shared admin.
pub fn admin_set_roles(stack: &Stack, user_id: &str, roles: &Value) -> Reply {
    let admin = admin_with_mfa(stack);
    bearer_request(
        stack,
        "PUT",
        &format!("/admin/users/{user_id}/roles"),
        &admin.session.access,
    )
    .json(&json!({"roles": roles}))
    .send()
}
