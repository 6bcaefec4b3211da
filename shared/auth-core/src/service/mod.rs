//! The auth routes on the opened request (sealed routes arrive here as their
//! plaintext): the dispatch, the shared steps of every route (limits, audit,
//! tokens, sessions), and the sign-in, account, second-factor and admin
//! routes in their own modules. Platform-free: everything goes through the
//! ports, so the whole flow runs natively against SQLite in tests.
//! Decisions where the API contract is silent: docs/api.md (Auth).
use sealpost_api::account::{SignedIn, Tokens};
use sealpost_api::body::parse_json;
use sealpost_api::routes::RouteId;
use sealpost_api::{ApiError, ApiRequest, ApiResponse, ErrorCode};
use sealpost_ports::{Clock, PortError, Rng, SiteDb, Sql};
use serde::Deserialize;

use crate::accounts::UserRow;
use crate::audit::{self, Event, Origin};
use crate::limits::{self};
use crate::mfa::Code;
use crate::password::PasswordPolicy;
use crate::secrets::AuthSecrets;
use crate::sessions::{self};
use crate::tokens::{self};

mod account;
mod admin;
mod second_factor;
mod sign_in;

pub use sealpost_api::Failure;

type Answer = Result<ApiResponse, Failure>;

/// The auth service for one request.
pub struct Auth<'a, S: Sql, C: Clock, R: Rng> {
    pub db: SiteDb<'a, S>,
    pub clock: &'a C,
    pub rng: &'a R,
    pub secrets: &'a AuthSecrets,
    pub origin: Origin,
    pub policy: PasswordPolicy,
}

impl<S: Sql, C: Clock, R: Rng> std::fmt::Debug for Auth<'_, S, C, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth")
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Empty {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct MfaLoginInput {
    mfa_token: String,
    code: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RefreshInput {
    refresh_token: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CodeInput {
    code: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct PasswordInput {
    current_password: String,
    new_password: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RolesInput {
    roles: Vec<String>,
}

/// Longest token (`mfaToken`, `refreshToken`) looked up.
const MAX_TOKEN_CHARS: usize = 256;
/// Longest code field accepted.
const MAX_CODE_CHARS: usize = 32;
/// Longest admin search.
const MAX_QUERY_CHARS: usize = 100;

fn token_invalid() -> Failure {
    ApiError::new(ErrorCode::AuthTokenInvalid).into()
}

fn mfa_invalid() -> Failure {
    ApiError::new(ErrorCode::AuthMfaInvalid).into()
}

fn invalid_credentials() -> Failure {
    ApiError::new(ErrorCode::AuthInvalidCredentials).into()
}

fn conflict(message: &str) -> Failure {
    ApiError::new(ErrorCode::Conflict)
        .with_message(message)
        .into()
}

/// A second-factor code field: six digits, or (where accepted) a recovery
/// code; anything else is a validation error, not a wrong code.
fn parse_code(raw: &str, allow_recovery: bool) -> Result<Code, ApiError> {
    if raw.chars().count() <= MAX_CODE_CHARS
        && let Some(code) = Code::parse(raw, allow_recovery)
    {
        return Ok(code);
    }
    Err(ApiError::field(
        "code",
        if allow_recovery {
            "Must be six digits or a recovery code"
        } else {
            "Must be six digits"
        },
    ))
}

/// Whether `token` could be one we issued (non-empty, not absurdly long);
/// anything else is simply an invalid token.
fn plausible_token(token: &str) -> bool {
    !token.is_empty() && token.len() <= MAX_TOKEN_CHARS
}

/// A body that must be `{}` or absent.
fn empty_body(body: &[u8]) -> Result<(), ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(());
    }
    parse_json::<Empty>(body).map(|_| ())
}

impl<S: Sql, C: Clock, R: Rng> Auth<'_, S, C, R> {
    /// Serves `input`.
    pub async fn handle(&self, input: &ApiRequest) -> Answer {
        match input.id() {
            RouteId::AuthSignup => self.signup(&input.body).await,
            RouteId::AuthLogin => self.login(&input.body).await,
            RouteId::AuthLoginMfa => self.login_mfa(&input.body).await,
            RouteId::AuthRefresh => self.refresh(&input.body).await,
            RouteId::AuthLogout => self.logout(input).await,
            RouteId::AuthMe => self.me(input).await,
            RouteId::AuthSessions => self.sessions(input).await,
            RouteId::AuthSessionRevoke => self.revoke_session(input).await,
            RouteId::AuthTotpSetup => self.totp_setup(input).await,
            RouteId::AuthTotpEnable => self.totp_enable(input).await,
            RouteId::AuthTotpDisable => self.totp_disable(input).await,
            RouteId::AuthPassword => self.change_password(input).await,
            RouteId::AdminUsers => self.admin_users(input).await,
            RouteId::AdminUserRoles => self.admin_roles(input).await,
            RouteId::AdminAudit => self.admin_audit(input).await,
            _ => Err(ApiError::not_found().into()),
        }
    }

    pub(super) fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    pub(super) fn ip_hash(&self) -> &str {
        &self.origin.ip_hash
    }

    pub(super) async fn limit(&self, limit: limits::Limit) -> Result<(), Failure> {
        // Without an address (never through the gateway) the limit keys on "".
        limits::hit(&self.db, limit, self.ip_hash(), self.now())
            .await?
            .map_err(Failure::Api)
    }

    pub(super) async fn limit_user(
        &self,
        limit: limits::Limit,
        user_id: &str,
    ) -> Result<(), Failure> {
        limits::hit(&self.db, limit, user_id, self.now())
            .await?
            .map_err(Failure::Api)
    }

    pub(super) fn audit(&self, event: &Event) -> Result<sealpost_ports::Statement, PortError> {
        audit::statement(&self.db, self.rng, self.now(), &self.origin, event)
    }

    pub(super) async fn record(&self, event: &Event) -> Result<(), PortError> {
        audit::record(&self.db, self.rng, self.now(), &self.origin, event).await
    }

    /// `{accessToken, refreshToken, expiresIn}` for `user` in `session_id`.
    pub(super) fn tokens(
        &self,
        user: &UserRow,
        session_id: &str,
        amr: &[&str],
        refresh_token: &str,
    ) -> Result<Tokens, Failure> {
        let claims = tokens::access_claims(
            &user.id,
            session_id,
            &self.rng.id()?,
            &user.roles(),
            amr,
            self.now() / 1000,
        );
        let access = tokens::issue(&claims, &self.secrets.signing)
            .map_err(|e| Failure::Crypto(format!("access token: {e}")))?;
        Ok(Tokens {
            access_token: access,
            refresh_token: refresh_token.to_owned(),
            // A positive constant: its magnitude is its value.
            expires_in: tokens::ACCESS_TTL_SECS.unsigned_abs(),
        })
    }

    /// Opens a session for `user` and answers `{user, tokens}`; `extra`
    /// statements (audit, counter reset, rehash) commit with it.
    pub(super) async fn start_session(
        &self,
        user: &UserRow,
        amr: &[&str],
        mut extra: Vec<sealpost_ports::Statement>,
        status: u16,
        message: &str,
    ) -> Answer {
        let session = sessions::open(&self.db, self.rng, self.now(), &user.id, amr, &self.origin)?;
        let mut batch = session.statements;
        batch.append(&mut extra);
        self.db.batch(&batch).await?;
        let tokens = self.tokens(user, &session.id, amr, &session.refresh_token)?;
        Ok(ApiResponse::mutation(
            status,
            message,
            &SignedIn {
                user: user.view(),
                tokens,
            },
        ))
    }
}
