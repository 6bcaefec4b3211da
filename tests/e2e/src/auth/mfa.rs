//! TOTP enrolment and second-factor logins: the codes come from the suite's
//! own generator ([`crate::totp`]), each step used at most once as the
//! server requires.
use std::time::Duration;

use super::session::{Session, login_for_mfa_token, login_mfa};
use super::{assert_mutation, sealed_bearer_post};
use crate::totp::{base32_decode, code_at};
use crate::{Stack, json, unix_now};

/// Seconds per TOTP step (RFC 6238, what the server uses).
pub use crate::totp::STEP_SECS as TOTP_STEP_SECS;

/// The TOTP code of `secret` at `unix_secs`.
pub use crate::totp::code_at as totp_code;

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
